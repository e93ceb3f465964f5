use super::App;
use super::admin::{admin_action, named_profile};
use crate::http::error::ApiError;
use crate::http::response::{Reply, success};
use crate::store::Store;
use lambda_http::{Request, http::StatusCode};
use serde_json::json;
use super::description::{Description, Guard, Needs};

pub const DESCRIPTION: Description = Description {
    function: "sign-out-user",
    method: "POST",
    route: "/admin/users/{id}/sign-out",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        super::admin::NAMED_USER,
        super::session_tokens::SESSION_SWEEP,
    ],
    example_body: None,
};

/// `POST /admin/users/{id}/sign-out`: ends every session of the user (an
/// admin's own too, if they name themselves): their refresh tokens are dead
/// and their access tokens fail their next check.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
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
