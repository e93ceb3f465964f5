use super::App;
use super::admin::{admin_action, named_profile};
use super::erasure::erase;
use crate::http::error::ApiError;
use crate::http::response::{Reply, success};
use crate::store::Store;
use lambda_http::{Request, http::StatusCode};
use serde_json::json;
use super::description::{Description, Guard, Needs};

pub const DESCRIPTION: Description = Description {
    function: "delete-user",
    method: "DELETE",
    route: "/admin/users/{id}",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        super::admin::NAMED_USER,
        super::session_tokens::SESSION_SWEEP,
        super::erasure::ERASURE,
    ],
    example_body: None,
};

/// `DELETE /admin/users/{id}`: erases the user ([`erase`]); the email can
/// register again.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    admin_action(app, request, "delete_user", |admin| async move {
        let profile = named_profile(app, request).await?;
        if profile.user_id == admin.profile.user_id {
            return Err(ApiError::OwnAdminAccount);
        }
        if !erase(app, &profile, None).await? {
            return Err(ApiError::UserNotFound);
        }
        Ok(success(
            StatusCode::OK,
            json!({ "message": "User deleted." }),
        ))
    })
    .await
}
