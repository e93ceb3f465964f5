use super::App;
use super::admin::{admin_action, named_profile, named_user};
use super::erasure::{erase, listed};
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
        // The sessions and passkeys to erase, listed alongside the profile.
        let listing = listed(app, named_user(request)?);
        let reads = futures_util::future::try_join(named_profile(app, request), listing);
        // Boxed: the handler's future is deep, and this adds to it.
        let (profile, listed) = Box::pin(reads).await?;
        if profile.user_id == admin.profile.user_id {
            return Err(ApiError::OwnAdminAccount);
        }
        if !Box::pin(erase(app, &profile, None, listed)).await? {
            return Err(ApiError::UserNotFound);
        }
        Ok(success(
            StatusCode::OK,
            json!({ "message": "User deleted." }),
        ))
    })
    .await
}
