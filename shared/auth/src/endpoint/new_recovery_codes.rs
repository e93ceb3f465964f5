use super::App;
use super::authenticate::authenticate;
use super::description::{Description, Guard, Needs};
use super::totp_confirm::{factor_on_and_used, new_recovery_set};
use crate::http::error::ApiError;
use crate::http::response::{Reply, success};
use crate::store::Store;
use crate::store::access::{Access, Items};
use lambda_http::{Request, http::StatusCode};
use serde_json::json;

pub const DESCRIPTION: Description = Description {
    function: "new-recovery-codes",
    method: "POST",
    route: "/auth/mfa/recovery-codes",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[&[
        Access::users("GetItem", &[Items::SecondFactor]),
        Access::users("UpdateItem", &[Items::SecondFactor]),
        Access::outbox("PutItem"),
    ]],
    example_body: None,
};

/// `POST /auth/mfa/recovery-codes`: a new set of ten, shown this once; the
/// old set no longer works. Step-up: the token's sign-in must have used the
/// second factor.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let caller = authenticate(app, request).await?;
    let user_id = &caller.claims.sub;
    factor_on_and_used(app, &caller).await?;
    let (codes, hashes) = new_recovery_set(app, user_id)?;
    if !app.store.replace_recovery_codes(user_id, &hashes).await? {
        // Turned off meanwhile.
        return Err(ApiError::TotpNotOn);
    }
    Ok(success(
        StatusCode::OK,
        json!({ "message": "New recovery codes; the old ones no longer work.", "recovery_codes": codes }),
    ))
}
