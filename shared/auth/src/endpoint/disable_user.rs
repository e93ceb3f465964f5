use super::App;
use crate::store::AccountChange;
use super::admin::{admin_action, named_profile, change_user};
use super::description::{Description, Guard, Needs};
use crate::http::error::ApiError;
use crate::http::response::{Reply, success};
use crate::store::Store;
use crate::store::access::{Access, Items};
use lambda_http::{Request, http::StatusCode};
use serde_json::json;

pub const DESCRIPTION: Description = Description {
    function: "disable-user",
    method: "POST",
    route: "/admin/users/{id}/disable",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        // The flag on profile and login record, then the sessions ended.
        super::admin::NAMED_USER,
        &[
            Access::users("UpdateItem", &[Items::User, Items::Email]),
            Access::outbox("PutItem"),
        ],
        super::session_tokens::SESSION_SWEEP,
    ],
    example_body: None,
};

/// `POST /admin/users/{id}/disable`: the user can no longer log in (403 once
/// the password is right) or refresh; every session ends, and their access
/// tokens fail their next check (the token check reads the flag).
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    admin_action(app, request, "disable_user", |admin| async move {
        let profile = named_profile(app, request).await?;
        if profile.user_id == admin.profile.user_id {
            return Err(ApiError::OwnAdminAccount);
        }
        change_user(app, &profile, AccountChange::Disabled(true)).await?;
        // After the flag: a login racing this one cannot open a session
        // once the flag is set (its write checks it), and this sweep ends
        // any opened before.
        app.store.delete_sessions(&profile.user_id, None).await?;
        Ok(success(
            StatusCode::OK,
            json!({ "message": "User disabled." }),
        ))
    })
    .await
}
