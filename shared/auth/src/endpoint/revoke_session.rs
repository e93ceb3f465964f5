use super::App;
use super::authenticate::{Caller, authenticate};
use crate::error::ApiError;
use crate::response::{Reply, success};
use crate::store::Store;
use lambda_http::{Request, http::StatusCode};
use serde_json::json;

/// `DELETE /auth/sessions/{id}`: ends one of the caller's sessions; its access
/// tokens fail their next check and its refresh token is dead.
pub async fn revoke_session<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let Caller { claims, .. } = authenticate(app, request).await?;
    let session_id = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .filter(|id| crate::ids::is_random_id(id))
        .ok_or(ApiError::SessionNotFound)?;
    // The key holds the caller's own user id, so another user's session id
    // finds nothing, exactly like an unknown one.
    if !app
        .store
        .delete_session(&claims.sub, session_id, crate::now())
        .await?
    {
        return Err(ApiError::SessionNotFound);
    }
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Session revoked." }),
    ))
}
