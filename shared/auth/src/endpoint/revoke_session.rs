use super::App;
use super::authenticate::{Caller, authenticate};
use crate::http::error::ApiError;
use crate::http::request::path_param;
use crate::http::response::{Reply, success};
use crate::store::{SessionEnd, Store};
use lambda_http::{Request, http::StatusCode};
use serde_json::json;
use super::description::{Description, Guard, Needs};
use crate::store::access::{Access, Items};

pub const DESCRIPTION: Description = Description {
    function: "revoke-session",
    method: "DELETE",
    route: "/auth/sessions/{id}",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        &[
            Access::users("DeleteItem", &[Items::Sessions]),
            Access::outbox("PutItem"),
        ],
    ],
    example_body: None,
};

/// `DELETE /auth/sessions/{id}`: ends one of the caller's sessions; its access
/// tokens fail their next check and its refresh token is dead.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let Caller { claims, .. } = authenticate(app, request).await?;
    let session_id = path_param(request, "id")
        .filter(|id| crate::ids::is_random_id(id))
        .ok_or(ApiError::SessionNotFound)?;
    // The key holds the caller's own user id, so another user's session id
    // finds nothing, exactly like an unknown one.
    if !app
        .store
        .delete_session(&claims.sub, session_id, crate::now(), SessionEnd::Revoked)
        .await?
    {
        return Err(ApiError::SessionNotFound);
    }
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Session revoked." }),
    ))
}
