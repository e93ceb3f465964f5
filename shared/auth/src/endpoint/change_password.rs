use super::App;
use super::authenticate::{Caller, authenticate};
use crate::credentials::{check_password, required_string};
use crate::http::error::{ApiError, TokenRejection};
use crate::credentials::password;
use crate::http::request::json_body;
use crate::http::response::{Reply, success};
use crate::store::{Ending, Store};
use super::session_tokens::ended_with_the_change;
use super::password_attempt::PasswordAttempt;
use crate::throttle;
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use super::description::{Description, Guard, Needs};
use crate::store::access::{Access, Items};

pub const DESCRIPTION: Description = Description {
    function: "password",
    method: "POST",
    route: "/auth/password",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        // The hash with the account's counter; the claim on it.
        &[
            Access::users("BatchGetItem", &[Items::Email, Items::AccountFailures]),
            Access::users("UpdateItem", &[Items::AccountFailures]),
        ],
        // The new hash, the counter cleared and the other sessions (listed
        // with the first read) ended, in one transaction: the sessions'
        // DeleteItem is the sweep's, below.
        &[
            Access::users("UpdateItem", &[Items::Email]),
            Access::users("DeleteItem", &[Items::AccountFailures]),
            Access::outbox("PutItem"),
        ],
        // The sweep after it, for a session opened in between (and before
        // it, for more sessions than one transaction holds).

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
/// and the client's retry works; a sweep after it ends any session a login
/// opened between the listing and the change. (Past
/// [`crate::store::MAX_ENDED_WITH_A_CHANGE`] they are swept before it.)
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct PasswordBody {
        current_password: Option<Value>,
        new_password: Option<Value>,
    }
    let Caller { claims, profile } = authenticate(app, request).await?;
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
    // Boxed: the handler's future is deep, and this adds to it.
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
    let ending = Ending { ids: &ids, keep };
    let verified = attempt.verified(&profile.email, &record.password_hash);
    let changed = app.store.set_password_hash(&claims.sub, &verified, &new_hash, ending);
    if !changed.await? {
        return Err(ApiError::PasswordConflict);
    }
    app.store.delete_sessions(&claims.sub, keep).await?;
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Password changed." }),
    ))
}
