use super::App;
use super::authenticate::{Caller, authenticate};
use super::erasure::erase;
use crate::credentials::{check_password, required_string};
use crate::error::{ApiError, TokenRejection};
use crate::password;
use crate::request::{json_body, source_ip};
use crate::response::{Reply, success};
use crate::store::Store;
use crate::throttle::{self, PasswordAttempt};
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

/// `DELETE /auth/account` `{"password"}`: the owner erases their account
/// ([`erase`]), as an admin's delete does. The password is checked and
/// throttled like a login's, so a stolen access token alone erases nothing.
/// An admin is refused (409): demoted first (`make demote-admin`), so that
/// no deployment loses its last admin by accident.
pub async fn delete_account<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct DeleteBody {
        password: Option<Value>,
    }
    let Caller { claims, profile } = authenticate(app, request).await?;
    let body: DeleteBody = json_body(request)?;
    let given = required_string("password", body.password)?;
    check_password(&given)?;
    if profile.admin {
        return Err(ApiError::OwnAdminAccount);
    }
    let account = throttle::account_counter(
        &profile.email,
        app.config.account_login_failures_before_delay,
    );
    let sources = source_ip(request)
        .and_then(|ip| throttle::source_counter(ip, app.config.source_login_failures_before_delay))
        .into_iter()
        .collect();
    let (record, attempt) = PasswordAttempt::begin(app, &profile.email, account, sources).await?;
    let record = record
        .filter(|record| record.user_id == claims.sub)
        .ok_or(TokenRejection::Invalid)?;
    if !password::verify(&given, Some(&record.password_hash), app.config.bcrypt_cost).await {
        return Err(ApiError::WrongPassword);
    }
    let verified = attempt.verified(&profile.email, &record.password_hash);
    if !erase(app, &profile, Some(&verified)).await? {
        // The password changed while we checked it (or the account went).
        return Err(ApiError::PasswordConflict);
    }
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Account deleted." }),
    ))
}
