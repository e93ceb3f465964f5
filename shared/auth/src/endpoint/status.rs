use super::App;
use super::authenticate::{Caller, authenticate};
use crate::http::error::ApiError;
use crate::http::response::{Reply, success};
use crate::store::{Profile, Store};
use lambda_http::{Request, http::StatusCode};
use serde_json::json;
use super::description::{Description, Guard, Needs};

pub const DESCRIPTION: Description = Description {
    function: "status",
    method: "GET",
    route: "/auth/status",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[],
    example_body: None,
};

/// `GET /auth/status`: the token's user, read together with its session and
/// revocation.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let Caller { profile, .. } = authenticate(app, request).await?;
    Ok(status_reply(&profile))
}

/// Status's answer for the token's user (also timed alone by bench/ledger).
pub fn status_reply(profile: &Profile) -> Reply {
    success(StatusCode::OK, json!({ "data": status_data(profile) }))
}

/// What status shows of a user (and `PATCH /auth/user` answers with).
pub fn status_data(profile: &Profile) -> serde_json::Value {
    json!({
        "user_id": profile.user_id,
        "email": profile.email,
        "admin": profile.roles.is_admin(),
        "roles": profile.roles.names(),
        "registered_on": profile.registered_on,
        "email_verified": profile.email_verified,
        "user_metadata": profile.user_metadata,
        "app_metadata": profile.app_metadata,
    })
}
