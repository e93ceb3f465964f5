use super::App;
use super::authenticate::{Caller, authenticate_with};
use super::description::{Description, Guard, Needs};
use super::password_attempt::PasswordAttempt;
use super::session_tokens::ended_with_the_change;
use crate::credentials::password;
use crate::credentials::{check_password, required_string};
use crate::http::error::{ApiError, TokenRejection};
use crate::http::request::json_body;
use crate::http::response::{Reply, success};
use crate::store::access::{Access, Items};
use crate::store::{Ending, OpenedSince, Store};
use crate::throttle;
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

pub const DESCRIPTION: Description = Description {
    function: "password",
    method: "POST",
    route: "/auth/password",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        // With the token check: the account's last sign-in.
        &[Access::users("GetItem", &[Items::Sessions])],
        // The hash with the account's counter; the claim on it.
        &[
            Access::users("BatchGetItem", &[Items::Email, Items::AccountFailures]),
            Access::users("UpdateItem", &[Items::AccountFailures]),
        ],
        // The new hash, the counter cleared and the other sessions (listed
        // with the first read) ended, in one transaction, while the last
        // sign-in is still the one read: the sessions' DeleteItem is the
        // sweep's, below.
        &[
            Access::users("UpdateItem", &[Items::Email]),
            Access::users("DeleteItem", &[Items::AccountFailures]),
            Access::users("ConditionCheckItem", &[Items::Sessions]),
            Access::outbox("PutItem"),
        ],
        // The sweep after a sign-in in between (and before the change, for
        // more sessions than one transaction holds).
        super::session_tokens::SESSION_SWEEP,
    ],
    example_body: Some(r#"{"current_password": "{password}", "new_password": "a new password"}"#),
};

/// `POST /auth/password` `{"current_password","new_password"}`: changes the
/// password and ends every other session.
///
/// A wrong current password is a counted failure and nothing else: no second
/// check of the new one, which would make each counted failure two guesses.
/// The other sessions end in the change's own transaction (issue 29), so a
/// change that fails (503) leaves the old password and the sessions in force
/// and the client's retry works. That transaction also checks that the
/// account's last sign-in, read with the token before the sessions were
/// listed, is still the last: a sign-in in between (a login that checked the
/// old password just before the change) fails it, and only then is the
/// change written without the check and followed by a sweep, so none
/// outlives it. (Past [`crate::store::MAX_ENDED_WITH_A_CHANGE`] they are
/// swept before it.)
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct PasswordBody {
        current_password: Option<Value>,
        new_password: Option<Value>,
    }
    let last_opened = |user_id: String| async move { Ok(app.store.last_opened(&user_id).await?) };
    // Boxed: the handler's future is deep, and this adds to it.
    let (Caller { claims, profile }, last_opened) =
        Box::pin(authenticate_with(app, request, last_opened)).await?;
    let body: PasswordBody = json_body(request)?;
    let current = required_string("current_password", body.current_password)?;
    let new = required_string("new_password", body.new_password)?;
    check_password(&current)?;
    check_password(&new)?;

    let cost = app.config.bcrypt_cost;
    // A stolen access token must not buy unlimited guesses at the password
    // either: wrong current passwords count against the account like failed
    // logins, and wait like them.
    let account = throttle::account_counter(
        &profile.email,
        app.config.account_login_failures_before_delay,
    );
    // The sessions to end with the change, listed alongside the password
    // check's first read (expired ones too: 0 as "now").
    let listed = async { Ok(app.store.sessions(&claims.sub, 0).await?) };
    let check = PasswordAttempt::begin_with(&app.store, &profile.email, account, Vec::new(), listed);
    let (record, attempt, listed) = Box::pin(check).await?;
    let record = record
        .filter(|record| record.user_id == claims.sub)
        .ok_or(TokenRejection::Invalid)?;
    super::password_attempt::step_up(&record, &claims)?;
    if !password::verify(&current, Some(&record.password_hash), cost).await {
        return Err(ApiError::WrongPassword);
    }
    let new_hash = password::hash(&new, cost).await?;
    let keep = Some(claims.sid.as_str());
    let ids = ended_with_the_change(app, &claims.sub, listed, keep).await?;
    let since = OpenedSince::LastWas(last_opened.as_deref());
    let ending = Ending { ids: &ids, keep, since };
    let verified = attempt.verified(&profile.email, &record.password_hash);
    let store = &app.store;
    if !Box::pin(store.set_password_hash(&claims.sub, &verified, &new_hash, ending)).await? {
        // A sign-in since the listing, or another change of the hash: the
        // same write without the check tells which (nothing was written).
        let ending = Ending { since: OpenedSince::Unchecked, ..ending };
        if !Box::pin(store.set_password_hash(&claims.sub, &verified, &new_hash, ending)).await? {
            return Err(ApiError::PasswordConflict);
        }
        store.delete_sessions(&claims.sub, keep).await?;
    }
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Password changed." }),
    ))
}
