use super::App;
use super::authenticate::authenticate;
use super::description::{Description, Guard, Needs};
use super::password_attempt::{PASSWORD_CHECK, confirm_caller, optional_password};
use super::totp_confirm::factor_on_and_used;
use crate::http::error::ApiError;
use crate::mail::outbox::{MailKind, OutboxMail};
use crate::http::request::json_body;
use crate::http::response::{Reply, success};
use crate::store::Store;
use crate::store::access::{Access, Items};
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

pub const DESCRIPTION: Description = Description {
    function: "totp-disable",
    method: "DELETE",
    route: "/auth/mfa/totp",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        &[Access::users("GetItem", &[Items::SecondFactor])],
        PASSWORD_CHECK,
        // One transaction: the factor deleted, the login record's copy
        // cleared (only while the checked password holds), the check
        // settled, the notice.
        &[
            Access::users("DeleteItem", &[Items::SecondFactor, Items::AccountFailures]),
            Access::users("UpdateItem", &[Items::Email]),
            Access::outbox("PutItem"),
        ],
    ],
    example_body: Some(r#"{"password": "{password}"}"#),
};

/// `DELETE /auth/mfa/totp` `{"password"}`: turns two-step sign-in off, its
/// secret and recovery codes deleted. Step-up: the token's sign-in must have
/// used the second factor (403 `Second factor required.`), and the password
/// is asked again, checked and throttled as at login.
/// An account with no password (made through a provider) sends no
/// `password`: its token's sign-in must be under 5 minutes old instead.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct DisableBody {
        password: Option<Value>,
    }
    let caller = authenticate(app, request).await?;
    let body: DisableBody = json_body(request)?;
    let given = optional_password(body.password)?;
    let user_id = &caller.claims.sub;
    factor_on_and_used(app, &caller).await?;
    // An account with no password confirms with a recent sign-in instead.
    let (record, attempt) = confirm_caller(app, request, &caller, given.as_deref()).await?;
    let email = &caller.profile.email;
    let verified = (attempt.as_ref()).map(|attempt| attempt.verified(email, &record.password_hash));
    let notice = OutboxMail::notice(MailKind::TotpOff, email, crate::now());
    let turned_off = app.store.turn_off_totp(user_id, email, verified.as_ref(), &notice);
    if !turned_off.await? {
        return Err(ApiError::PasswordConflict);
    }
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Two-step sign-in is off." }),
    ))
}
