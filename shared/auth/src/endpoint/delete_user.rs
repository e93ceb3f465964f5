use super::App;
use super::admin::{admin_action_with, named_profile, named_user};
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
    // The profile, and the sessions and passkeys to erase, read alongside
    // the token check. Boxed: the handler's future is deep.
    let listing = async { listed(app, named_user(request)?).await };
    let reads = Box::pin(futures_util::future::try_join(named_profile(app, request), listing));
    admin_action_with(app, request, "delete_user", reads, |admin, read| async move {
        let (profile, listed) = read?;
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
