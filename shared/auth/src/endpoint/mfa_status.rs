use super::App;
use super::authenticate::authenticate;
use super::description::{Description, Guard, Needs};
use crate::http::error::ApiError;
use crate::http::response::{Reply, success};
use crate::store::Store;
use crate::store::access::{Access, Items};
use lambda_http::{Request, http::StatusCode};
use serde_json::json;

pub const DESCRIPTION: Description = Description {
    function: "mfa-status",
    method: "GET",
    route: "/auth/mfa",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[&[Access::users("GetItem", &[Items::SecondFactor])]],
    example_body: None,
};

/// `GET /auth/mfa`: whether the caller's TOTP is on (a pending enrolment is
/// not), and how many recovery codes are left.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let caller = authenticate(app, request).await?;
    let factor = app.store.second_factor(&caller.claims.sub).await?;
    let on = factor.as_ref().is_some_and(|factor| factor.on);
    let left = factor
        .filter(|factor| factor.on)
        .map_or(0, |factor| factor.recovery_hashes.len());
    Ok(success(
        StatusCode::OK,
        json!({ "totp": on, "recovery_codes_left": left }),
    ))
}
