//! A user's roles: the names a team gives its own permissions (`admin`,
//! `support`, `billing:read`…), carried in every access token (`roles`) and
//! in the authorizer's context, set by an admin (`PUT /admin/users/{id}/roles`).
//! `admin` is the one role the service itself acts on.

use crate::http::error::ApiError;
use serde_json::Value;

/// The role the admin calls require.
pub const ADMIN: &str = "admin";
/// At most this many roles per user.
pub const MAX_ROLES: usize = 20;

/// A user's roles: sorted, without repeats, each a valid name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Roles(Vec<String>);

impl Roles {
    /// `admin` alone, or none: what `make create-admin` gives and what an
    /// item written before roles existed holds (its `admin` flag).
    pub fn from_admin_flag(admin: bool) -> Self {
        if admin {
            Self(vec![ADMIN.to_owned()])
        } else {
            Self::default()
        }
    }

    /// Roles as stored: names that pass [`is_role_name`], sorted, once each
    /// (anything else is dropped, never trusted).
    pub fn from_stored(names: impl IntoIterator<Item = String>) -> Self {
        let mut names: Vec<String> = names
            .into_iter()
            .filter(|name| is_role_name(name))
            .collect();
        names.sort();
        names.dedup();
        names.truncate(MAX_ROLES);
        Self(names)
    }

    /// `{"roles": […]}`'s value: an array of at most [`MAX_ROLES`] valid
    /// names (a repeat counts once), else 400 with the reason.
    pub fn from_request(value: Option<Value>) -> Result<Self, ApiError> {
        let Some(Value::Array(items)) = value else {
            return Err(ApiError::bad_request(
                "roles must be an array of role names.",
            ));
        };
        let mut names = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::String(name) if is_role_name(&name) => names.push(name),
                _ => {
                    return Err(ApiError::bad_request(
                        "each role must match ^[a-z][a-z0-9_:-]{0,63}$.",
                    ));
                }
            }
        }
        names.sort();
        names.dedup();
        if names.len() > MAX_ROLES {
            return Err(ApiError::bad_request("at most 20 roles."));
        }
        Ok(Self(names))
    }

    pub fn is_admin(&self) -> bool {
        self.0.iter().any(|role| role == ADMIN)
    }

    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// These roles with `role` added or taken away.
    pub fn with(&self, role: &str, present: bool) -> Self {
        let others = self.0.iter().filter(|name| *name != role).cloned();
        let added = present.then(|| role.to_owned());
        Self::from_stored(others.chain(added))
    }
}

/// `^[a-z][a-z0-9_:-]{0,63}$`: the names a role may have.
pub fn is_role_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 64
        && chars.next().is_some_and(|first| first.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_:-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_follow_the_pattern() {
        for good in [
            "admin",
            "a",
            "billing:read",
            "support_2",
            "x-y",
            &"a".repeat(64),
        ] {
            assert!(is_role_name(good), "{good}");
        }
        for bad in ["", "Admin", "1st", "_x", "a b", "é", &"a".repeat(65), "a.b"] {
            assert!(!is_role_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_request_gets_sorted_unique_roles_or_a_reason() {
        let roles = Roles::from_request(Some(json!(["support", "admin", "support"]))).unwrap();
        assert_eq!(roles.names(), ["admin", "support"]);
        assert!(roles.is_admin());
        assert_eq!(
            Roles::from_request(Some(json!([]))).unwrap(),
            Roles::default()
        );
        let too_many: Vec<String> = (0..21).map(|i| format!("r{i}")).collect();
        for bad in [
            json!("admin"),
            json!([1]),
            json!(["Admin"]),
            json!(too_many),
        ] {
            assert!(Roles::from_request(Some(bad.clone())).is_err(), "{bad}");
        }
        assert!(Roles::from_request(None).is_err());
    }

    #[test]
    fn admin_is_added_and_taken_away() {
        let roles = Roles::from_stored(vec!["support".into()]);
        assert_eq!(roles.with(ADMIN, true).names(), ["admin", "support"]);
        assert_eq!(roles.with(ADMIN, true).with(ADMIN, false), roles);
        assert_eq!(Roles::from_admin_flag(true).names(), ["admin"]);
    }
}
