use super::App;
use super::admin::{admin_action, named_profile};
use super::erasure::erase;
use crate::error::ApiError;
use crate::response::{Reply, success};
use crate::store::Store;
use lambda_http::{Request, http::StatusCode};
use serde_json::json;

/// `DELETE /admin/users/{id}`: erases the user ([`erase`]); the email can
/// register again.
pub async fn delete_user<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
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
