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
    // The second factor, and the login record (a password?), read together.
    storage: &[&[
        Access::users("GetItem", &[Items::SecondFactor]),
        Access::users("BatchGetItem", &[Items::Email]),
    ]],
    example_body: None,
};

/// `GET /auth/mfa`: whether the caller's TOTP is on (a pending enrolment is
/// not), how many recovery codes are left, and whether the account has a
/// password (one without confirms changes with a recent sign-in instead).
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let caller = authenticate(app, request).await?;
    let user_id = &caller.claims.sub;
    let (factor, login) = futures_util::future::try_join(
        app.store.second_factor(user_id),
        app.store
            .login_attempt(&caller.profile.email, &[], crate::now_millis()),
    )
    .await?;
    let has_password = login
        .record
        .filter(|record| record.user_id == *user_id)
        .is_some_and(|record| record.has_password());
    let on = factor.as_ref().is_some_and(|factor| factor.on);
    let left = factor
        .filter(|factor| factor.on)
        .map_or(0, |factor| factor.recovery_hashes.len());
    Ok(success(
        StatusCode::OK,
        json!({ "totp": on, "recovery_codes_left": left, "has_password": has_password }),
    ))
}
