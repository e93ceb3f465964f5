use super::App;
use super::admin::{admin_action, named_profile};
use crate::error::ApiError;
use crate::response::{Reply, success};
use crate::store::Store;
use lambda_http::{Request, http::StatusCode};
use serde_json::json;

/// `POST /admin/users/{id}/sign-out`: ends every session of the user (an
/// admin's own too, if they name themselves): their refresh tokens are dead
/// and their access tokens fail their next check.
pub async fn sign_out_user<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    admin_action(app, request, "sign_out_user", |_| async {
        let profile = named_profile(app, request).await?;
        app.store.delete_sessions(&profile.user_id, None).await?;
        Ok(success(
            StatusCode::OK,
            json!({ "message": "User signed out." }),
        ))
    })
    .await
}
