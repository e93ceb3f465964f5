use super::App;
use super::mailed_codes::{check_code, email_and_code};
use crate::credentials::{check_password, required_string};
use crate::http::error::ApiError;
use crate::mail::outbox::MailKind;
use crate::credentials::password;
use crate::http::request::json_body;
use crate::http::response::{Reply, success};
use crate::store::Store;
use crate::throttle;
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use super::description::{Description, Guard, Needs};
use crate::store::access::{Access, Items};

pub const DESCRIPTION: Description = Description {
    function: "reset-password",
    method: "POST",
    route: "/auth/password/reset",
    guard: Guard::Public,
    needs: Needs::App,
    storage: &[
        super::mailed_codes::REDEEM_A_CODE,
        // The code used up, the account's failed logins cleared, and every
        // session ended.
        &[
            Access::users("DeleteItem", &[Items::Code, Items::AccountFailures]),
            Access::outbox("PutItem"),
        ],
        super::session_tokens::SESSION_SWEEP,
    ],
    example_body: Some(r#"{"email": "someone@example.com", "code": "12345678", "new_password": "a new password"}"#),
};

/// `POST /auth/password/reset` `{"email", "code", "new_password"}`: with the
/// code mailed by `forgot`, sets a new password and ends every session, so
/// every access and refresh token of the account is refused from then on.
///
/// One read (account and code), one bcrypt hash, one transaction (code used
/// up, password set, address verified, failed logins cleared: all or
/// nothing, and of two racing resets with one code one wins), then the
/// sessions' deletion. A reset that fails between the two (503) has used the
/// code; the user asks for another one, and the old sessions are no worse off
/// than before.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct ResetBody {
        email: Option<Value>,
        code: Option<Value>,
        new_password: Option<Value>,
    }
    let body: ResetBody = json_body(request)?;
    let (email, code) = email_and_code(body.email, body.code)?;
    let new_password = required_string("new_password", body.new_password)?;
    check_password(&new_password)?;
    let now = crate::now();
    let matched = check_code(app, MailKind::ResetPassword, &email, &code, now).await?;
    let new_hash = password::hash(&new_password, app.config.bcrypt_cost).await?;
    let account = throttle::account_counter(&email, app.config.account_login_failures_before_delay);
    if !app
        .store
        .reset_password(&matched.redemption(), &new_hash, &account)
        .await?
    {
        // Used by a racing reset (or replaced) between the read and the write.
        return Err(ApiError::InvalidCode);
    }
    app.store
        .delete_sessions(&matched.record.user_id, None)
        .await?;
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Password reset." }),
    ))
}
