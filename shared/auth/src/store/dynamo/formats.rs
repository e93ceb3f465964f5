//! Item formats: what each version of the service wrote to the users table,
//! and the one step that brings an older item to today's ([`upgrade`]), for
//! `make migrate` ([`super::migrate`]).
//!
//! The long-lived items (the profile, the login record, the sessions) carry
//! their format in `format`, a number. The versions, each named by the commit
//! that changed what is written:
//!
//! | format | since   | what changed |
//! |--------|---------|--------------|
//! | 1      | 0c2485d | profile `user_id`, `email`, `admin`, `registered_on`; login `user_id`, `password_hash`; sessions in the profile's partition, `USER#<id>` / `SESSION#<session id>` |
//! | 2      | 7295d89 | sessions in a partition of their own, `SESSION#<id>` / `<session id>` |
//! | 3      | c31e7f7 | `email_verified` on the profile and the login record |
//! | 4      | 6c8a94d | `disabled` on both, `admin` on the login record, the listing index's `listing` and `registration` on the profile |
//! | 5      | 62ef148 | `format` itself, on all three |
//! | 6      | today   | `amr` and `auth_time` on the sessions (how they were signed in); the second factor's item (`MFA#<id>` / `TOTP`, new) and `mfa` on the login record (absent: off) |
//!
//! Before 0c2485d the table had no sort key: a table of that age cannot be
//! upgraded in place (DynamoDB cannot change a key schema).
//!
//! Items without `format` (1 to 4) are read as they are: every flag they lack
//! reads as false (not verified, not admin, not disabled, as those versions
//! knew no such thing), and a profile without `listing` is only missing from
//! `GET /admin/users` until migrated; a session without `amr` was signed in
//! by password alone, at its `created_at`. A format-1 session is not read at all:
//! its device signs in again. The migration deletes it rather than moving it:
//! a session the service could not see was not ended by a logout from every
//! device or a password change made since, and must not come back.
//!
//! Codes, failure counters, the outbox and the revoked tokens carry no format:
//! they live a day at most and their formats never changed; a change to one
//! waits out its life instead of migrating it.

use super::schema::{Item, LISTED, LOGIN, PROFILE, n, number_of, registration, s, string_of};
use crate::store::StoreResult;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// The format this version writes.
pub const ITEM_FORMAT: u64 = 6;

/// The attribute that holds an item's format.
pub const FORMAT: &str = "format";

/// What brings one item to [`ITEM_FORMAT`].
#[derive(Debug, PartialEq)]
pub enum Upgrade {
    /// Sets what the item lacks, in place: an `UpdateItem` whose condition
    /// holds only while the item exists and its format is older, so each
    /// item is upgraded once, whoever runs.
    Set {
        key: Item,
        update: String,
        condition: String,
        names: HashMap<String, String>,
        values: HashMap<String, AttributeValue>,
    },
    /// Deletes the item, while it exists (a format-1 session).
    Delete { key: Item },
}

/// The kinds of item that carry a format.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Profile,
    Login,
    Session,
    OldSession,
    /// Written first at format 6: nothing older to upgrade.
    SecondFactor,
}

fn kind_of(item: &Item) -> Option<Kind> {
    let pk = string_of(item, "pk").ok()?;
    let sk = string_of(item, "sk").ok()?;
    match (pk.split_once('#')?.0, sk.as_str()) {
        ("USER", PROFILE) => Some(Kind::Profile),
        ("EMAIL", LOGIN) => Some(Kind::Login),
        // The last sign-in's item carries no format: it lives as long as a session.
        ("SESSION", super::schema::LAST_OPENED) => None,
        ("SESSION", _) => Some(Kind::Session),
        ("MFA", "TOTP") => Some(Kind::SecondFactor),
        ("USER", sk) if sk.starts_with("SESSION#") => Some(Kind::OldSession),
        _ => None,
    }
}

/// The format of an item that carries one; `None` for the kinds that do not.
pub fn format_of(item: &Item) -> Option<u64> {
    kind_of(item)?;
    Some(number_of(item, FORMAT).unwrap_or(1))
}

/// The step that brings `item` to [`ITEM_FORMAT`], or `None` if it is
/// current or of a kind without a format. A profile without the attributes
/// its listing key is made of is an error: nothing to list it by.
pub fn upgrade(item: &Item) -> StoreResult<Option<Upgrade>> {
    let Some(kind) = kind_of(item) else {
        return Ok(None);
    };
    if number_of(item, FORMAT).is_some_and(|format| format >= ITEM_FORMAT) {
        return Ok(None);
    }
    let key = super::schema::key(string_of(item, "pk")?, string_of(item, "sk")?);
    let mut set = Set::default();
    match kind {
        Kind::OldSession => return Ok(Some(Upgrade::Delete { key })),
        Kind::SecondFactor => {}
        Kind::Session => {
            let created_at = number_of(item, "created_at")
                .ok_or_else(|| crate::store::StoreError("session lacks created_at".into()))?;
            let password = AttributeValue::L(vec![s("pwd")]);
            set.if_absent("amr", password);
            set.if_absent("auth_time", n(created_at));
        }
        Kind::Login => {
            set.flags(&["email_verified", "admin", "disabled"]);
        }
        Kind::Profile => {
            set.flags(&["email_verified", "admin", "disabled"]);
            let listed_as = registration(
                &string_of(item, "registered_on")?,
                &string_of(item, "user_id")?,
            );
            set.value("listing", s(LISTED));
            set.value("registration", s(listed_as));
        }
    }
    let (format, today) = set.value(FORMAT, n(ITEM_FORMAT));
    Ok(Some(Upgrade::Set {
        key,
        update: format!("SET {}", set.clauses.join(", ")),
        condition: format!(
            "attribute_exists(pk) AND (attribute_not_exists({format}) OR {format} < {today})"
        ),
        names: set.names,
        values: set.values,
    }))
}

/// An update's `SET` clauses, every name and value a placeholder (some of
/// ours, `format` among them, are DynamoDB reserved words).
#[derive(Default)]
struct Set {
    clauses: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Set {
    fn placeholders(&mut self, name: &str, value: AttributeValue) -> (String, String) {
        let index = self.names.len();
        let (name_ref, value_ref) = (format!("#a{index}"), format!(":v{index}"));
        self.names.insert(name_ref.clone(), name.to_owned());
        self.values.insert(value_ref.clone(), value);
        (name_ref, value_ref)
    }

    /// `name = value`; the two placeholders, for a condition on them.
    fn value(&mut self, name: &str, value: AttributeValue) -> (String, String) {
        let (name, value) = self.placeholders(name, value);
        self.clauses.push(format!("{name} = {value}"));
        (name, value)
    }

    /// `name = value` unless the item has `name`: what an older version did
    /// not write; one a newer call has written meanwhile stands.
    fn if_absent(&mut self, name: &str, value: AttributeValue) {
        let (name, value) = self.placeholders(name, value);
        self.clauses
            .push(format!("{name} = if_not_exists({name}, {value})"));
    }

    /// Flags an older version did not write, as false.
    fn flags(&mut self, flags: &[&str]) {
        for flag in flags {
            self.if_absent(flag, AttributeValue::Bool(false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect()
    }

    fn set_names(upgrade: &Upgrade) -> Vec<&str> {
        let Upgrade::Set { names, .. } = upgrade else {
            panic!("not a set: {upgrade:?}")
        };
        let mut names: Vec<&str> = names.values().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn a_format_one_profile_gains_its_flags_its_listing_and_a_format() {
        let profile = item(&[
            ("pk", s("USER#u1")),
            ("sk", s("PROFILE")),
            ("user_id", s("u1")),
            ("email", s("a@example.com")),
            ("admin", AttributeValue::Bool(false)),
            ("registered_on", s("2026-11-25T10:00:00Z")),
        ]);
        assert_eq!(format_of(&profile), Some(1));
        let upgrade = upgrade(&profile).unwrap().unwrap();
        assert_eq!(
            set_names(&upgrade),
            [
                "admin",
                "disabled",
                "email_verified",
                "format",
                "listing",
                "registration"
            ]
        );
        let Upgrade::Set { values, .. } = &upgrade else {
            unreachable!()
        };
        assert!(values.values().any(|v| *v == s("2026-11-25T10:00:00Z#u1")));
    }

    #[test]
    fn a_current_item_and_an_item_without_a_format_need_nothing() {
        let current = item(&[
            ("pk", s("EMAIL#a@example.com")),
            ("sk", s("LOGIN")),
            ("format", n(ITEM_FORMAT)),
        ]);
        assert_eq!(upgrade(&current).unwrap(), None);
        let counter = item(&[
            ("pk", s("FAILED#account:a@example.com")),
            ("sk", s("LOGIN")),
        ]);
        assert_eq!(format_of(&counter), None);
        assert_eq!(upgrade(&counter).unwrap(), None);
    }

    #[test]
    fn a_session_in_the_profiles_partition_is_deleted_and_a_later_one_marked() {
        let old = item(&[("pk", s("USER#u1")), ("sk", s("SESSION#s1"))]);
        assert_eq!(
            upgrade(&old).unwrap(),
            Some(Upgrade::Delete {
                key: super::super::schema::key("USER#u1".into(), "SESSION#s1".into())
            })
        );
        let later = item(&[
            ("pk", s("SESSION#u1")),
            ("sk", s("s1")),
            ("created_at", n(7)),
        ]);
        let upgrade = upgrade(&later).unwrap().unwrap();
        assert_eq!(set_names(&upgrade), ["amr", "auth_time", "format"]);
    }

    #[test]
    fn a_profile_without_its_registration_is_an_error_not_a_guess() {
        let broken = item(&[("pk", s("USER#u1")), ("sk", s("PROFILE"))]);
        assert!(upgrade(&broken).is_err());
    }
}
