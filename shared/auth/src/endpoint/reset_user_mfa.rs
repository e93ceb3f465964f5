use super::App;
use super::admin::{admin_action, named_profile};
use super::description::{Description, Guard, Needs};
use crate::http::error::ApiError;
use crate::mail::outbox::{MailKind, OutboxMail};
use crate::http::response::{Reply, success};
use crate::store::Store;
use crate::store::access::{Access, Items};
use lambda_http::{Request, http::StatusCode};
use serde_json::json;

pub const DESCRIPTION: Description = Description {
    function: "reset-user-mfa",
    method: "POST",
    route: "/admin/users/{id}/mfa/reset",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        super::admin::NAMED_USER,
        // With `{"passkeys": true}`: the user's passkeys listed, then each
        // deleted with its credential id's claim.
        &[
            Access::users("Query", &[Items::Passkeys]),
            Access::users("DeleteItem", &[Items::Passkeys, Items::PasskeyOwners]),
            Access::outbox("PutItem"),
        ],
        // One transaction: the factor deleted, the login record's copy
        // cleared, the notice to the user.
        &[
            Access::users("DeleteItem", &[Items::SecondFactor]),
            Access::users("UpdateItem", &[Items::Email]),
            Access::outbox("PutItem"),
        ],
    ],
    example_body: None,
};

/// The optional body: `{"passkeys": true}` removes the user's passkeys too.
#[derive(serde::Deserialize)]
struct ResetBody {
    passkeys: Option<serde_json::Value>,
}

/// Whether the request asks for the passkeys to go too.
fn passkeys_too(request: &Request) -> Result<bool, ApiError> {
    let empty = match request.body() {
        lambda_http::Body::Text(text) => text.trim().is_empty(),
        lambda_http::Body::Binary(bytes) => bytes.iter().all(u8::is_ascii_whitespace),
        _ => true,
    };
    if empty {
        return Ok(false);
    }
    let body: ResetBody = crate::http::request::json_body(request)?;
    match body.passkeys {
        None | Some(serde_json::Value::Null) => Ok(false),
        Some(serde_json::Value::Bool(passkeys)) => Ok(passkeys),
        Some(_) => Err(ApiError::bad_request("passkeys must be true or false.")),
    }
}

/// `POST /admin/users/{id}/mfa/reset`: two-step sign-in off for a user who
/// lost their device (and their recovery codes); audited like every admin
/// call, and the user told by mail. Their next login asks for the password
/// alone. With `{"passkeys": true}` their passkeys are deleted too (a lost
/// phone held both); then the call succeeds if either was there.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let passkeys = passkeys_too(request)?;
    admin_action(app, request, "reset_user_mfa", |_admin| async move {
        let profile = named_profile(app, request).await?;
        let removed = match passkeys {
            true => app.store.delete_passkeys(&profile.user_id).await?,
            false => 0,
        };
        let notice = OutboxMail::notice(MailKind::TotpReset, &profile.email, crate::now());
        let reset = app
            .store
            .turn_off_totp(&profile.user_id, &profile.email, None, &notice)
            .await?;
        if !reset && removed == 0 {
            return Err(ApiError::TotpNotOn);
        }
        Ok(success(
            StatusCode::OK,
            json!({ "message": "Two-step sign-in reset." }),
        ))
    })
    .await
}
