use super::App;
use super::authenticate::{Caller, authenticate};
use crate::credentials::{check_password, required_string};
use crate::http::error::{ApiError, TokenRejection};
use crate::credentials::password;
use crate::http::request::json_body;
use crate::http::response::{Reply, success};
use crate::store::Store;
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
        // The new hash, and the counter cleared, in one transaction; the
        // other sessions ended.
        &[
            Access::users("UpdateItem", &[Items::Email]),
            Access::users("DeleteItem", &[Items::AccountFailures]),
            Access::outbox("PutItem"),
        ],
        super::session_tokens::SESSION_SWEEP,
    ],
    example_body: Some(r#"{"current_password": "{password}", "new_password": "a new password"}"#),
};

/// `POST /auth/password` `{"current_password","new_password"}`: changes the
/// password and ends every other session.
///
/// A wrong current password is a counted failure and nothing else: no second
/// check of the new one, which would make each counted failure two guesses.
/// The other sessions end before the change, so a change that fails half-way
/// (503) leaves the old password in force and the client's retry works; a
/// second sweep after it ends any session a login opened in between.
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
    let (record, attempt) =
        PasswordAttempt::begin(&app.store, &profile.email, account, Vec::new()).await?;
    let record = record
        .filter(|record| record.user_id == claims.sub)
        .ok_or(TokenRejection::Invalid)?;
    super::password_attempt::step_up(&record, &claims)?;
    if !password::verify(&current, Some(&record.password_hash), cost).await {
        return Err(ApiError::WrongPassword);
    }
    let new_hash = password::hash(&new, cost).await?;
    let keep = Some(claims.sid.as_str());
    app.store.delete_sessions(&claims.sub, keep).await?;
    if !app
        .store
        .set_password_hash(
            &claims.sub,
            &attempt.verified(&profile.email, &record.password_hash),
            &new_hash,
        )
        .await?
    {
        return Err(ApiError::PasswordConflict);
    }
    app.store.delete_sessions(&claims.sub, keep).await?;
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Password changed." }),
    ))
}
