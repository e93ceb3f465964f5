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

/// `POST /admin/users/{id}/mfa/reset`: two-step sign-in off for a user who
/// lost their device (and their recovery codes); audited like every admin
/// call, and the user told by mail. Their next login asks for the password
/// alone.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    admin_action(app, request, "reset_user_mfa", |_admin| async move {
        let profile = named_profile(app, request).await?;
        let notice = OutboxMail::notice(MailKind::TotpReset, &profile.email, crate::now());
        let reset = app
            .store
            .turn_off_totp(&profile.user_id, &profile.email, None, &notice)
            .await?;
        if !reset {
            return Err(ApiError::TotpNotOn);
        }
        Ok(success(
            StatusCode::OK,
            json!({ "message": "Two-step sign-in reset." }),
        ))
    })
    .await
}
