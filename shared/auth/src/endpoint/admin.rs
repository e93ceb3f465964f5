//! What the admin endpoints share: the admin check, the user a route names,
//! how a user is shown, and the audit line every admin action writes.

use super::App;
use super::authenticate::{Caller, authenticate};
use crate::http::error::ApiError;
use crate::http::request::path_param;
use crate::http::response::Reply;
use crate::store::access::{Access, Items};
use crate::store::{AccountChange, Profile, Store};
use lambda_http::Request;
use serde_json::{Value, json};
use std::future::Future;

/// Reading the user an admin call names (its profile).
pub const NAMED_USER: &[Access] = &[Access::users("GetItem", &[Items::User])];

/// Runs one admin `action` for an admin caller: the token check reads the
/// caller's role from storage in its one read, so a token issued before a
/// demotion grants nothing. Then `run`, given the caller. Every caller the
/// token check lets through gets the action's audit line ([`audit`]),
/// whatever its outcome: a non-admin's attempt is logged as refused.
pub async fn admin_action<'a, S, F, Fut>(
    app: &'a App<S>,
    request: &'a Request,
    action: &'static str,
    run: F,
) -> Result<Reply, ApiError>
where
    S: Store,
    F: FnOnce(Caller) -> Fut,
    Fut: Future<Output = Result<Reply, ApiError>>,
{
    let nothing = async { Ok(()) };
    admin_action_with(app, request, action, nothing, |caller, _| run(caller)).await
}

/// [`admin_action`], with `alongside` (the reads of the user the route
/// names, which need nothing from the caller) sent together with the token
/// check (issue 29), and its outcome given to `run`: an error in it is
/// `run`'s to answer, after the admin check, so a caller who is not an
/// admin is refused as before, however the reads went.
pub async fn admin_action_with<'a, S, T, A, F, Fut>(
    app: &'a App<S>,
    request: &'a Request,
    action: &'static str,
    alongside: A,
    run: F,
) -> Result<Reply, ApiError>
where
    S: Store,
    A: Future<Output = Result<T, ApiError>>,
    F: FnOnce(Caller, Result<T, ApiError>) -> Fut,
    Fut: Future<Output = Result<Reply, ApiError>>,
{
    let (caller, got) = futures_util::future::join(authenticate(app, request), alongside).await;
    let caller = caller?;
    let caller_id = caller.profile.user_id.clone();
    let result = if !caller.profile.roles.is_admin() {
        Err(ApiError::AdminRequired)
    } else if app.config.require_mfa_for_admins && !caller.claims.has_mfa() {
        Err(ApiError::SecondFactorRequired)
    } else {
        run(caller, got).await
    };
    audit(&caller_id, action, named_user(request).ok(), &result);
    result
}

/// The id a route `/admin/users/{id}…` names, if it is one of ours (any
/// other is a 404, like an unknown one).
pub fn named_user(request: &Request) -> Result<&str, ApiError> {
    path_param(request, "id")
        .filter(|id| crate::ids::is_user_id(id))
        .ok_or(ApiError::UserNotFound)
}

/// The profile of the user the route names, or 404.
pub async fn named_profile<S: Store>(app: &App<S>, request: &Request) -> Result<Profile, ApiError> {
    let user_id = named_user(request)?;
    app.store
        .profile(user_id)
        .await?
        .ok_or(ApiError::UserNotFound)
}

/// A user as the admin endpoints show one.
pub fn user_json(profile: &Profile) -> Value {
    json!({
        "id": profile.user_id,
        "email": profile.email,
        "admin": profile.roles.is_admin(),
        "roles": profile.roles.names(),
        "user_metadata": profile.user_metadata,
        "app_metadata": profile.app_metadata,
        "disabled": profile.disabled,
        "email_verified": profile.email_verified,
        "registered_on": profile.registered_on,
    })
}

/// One structured log line per admin action: who (`admin_id`, the caller's
/// id, also when a non-admin was refused), what, on whom, and how it ended;
/// ids only, never an email address or a secret. With the functions'
/// JSON log format these are fields CloudWatch Logs Insights can filter on
/// (the README has the query).
fn audit(admin_id: &str, action: &str, target_id: Option<&str>, result: &Result<Reply, ApiError>) {
    let outcome = match result {
        Ok(_) => "done",
        Err(ApiError::UserNotFound) => "user_not_found",
        Err(ApiError::AdminRequired) => "refused_not_admin",
        Err(ApiError::OwnAdminAccount) => "refused_own_account",
        Err(ApiError::BadRequest(_)) => "bad_request",
        Err(ApiError::Unavailable(_)) => "storage_unavailable",
        Err(_) => "refused",
    };
    tracing::info!(
        audit = "admin",
        admin_id,
        action,
        target_id = target_id.unwrap_or("-"),
        outcome,
        "admin action"
    );
}

/// Applies `change` to the user an admin call names (profile and login
/// record together); 404 for an account gone meanwhile.
pub async fn change_user<S: Store>(
    app: &App<S>,
    profile: &Profile,
    change: AccountChange,
) -> Result<(), ApiError> {
    let changed = app
        .store
        .change_account(&profile.user_id, &profile.email, change)
        .await?;
    changed.then_some(()).ok_or(ApiError::UserNotFound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// Where the test's log lines go.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_audit_line_is_json_with_ids_action_and_outcome_only() {
        let lines = Lines::default();
        let writer = lines.clone();
        // The functions' JSON format in Lambda (lambda.rs's init_logging).
        let subscriber = lambda_http::tracing::subscriber::fmt()
            .json()
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let refused = Err(ApiError::OwnAdminAccount);
            audit("admin-1", "disable_user", Some("user-2"), &refused);
            audit("admin-1", "list_users", None, &Ok(Reply::default()));
            audit(
                "user-3",
                "delete_user",
                Some("user-2"),
                &Err(ApiError::AdminRequired),
            );
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let logged: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let fields: Vec<&Value> = logged.iter().map(|line| &line["fields"]).collect();
        assert_eq!(
            fields,
            [
                &json!({"message": "admin action", "audit": "admin", "admin_id": "admin-1",
                        "action": "disable_user", "target_id": "user-2",
                        "outcome": "refused_own_account"}),
                &json!({"message": "admin action", "audit": "admin", "admin_id": "admin-1",
                        "action": "list_users", "target_id": "-", "outcome": "done"}),
                &json!({"message": "admin action", "audit": "admin", "admin_id": "user-3",
                        "action": "delete_user", "target_id": "user-2",
                        "outcome": "refused_not_admin"}),
            ]
        );
    }
}
