use super::App;
use super::authenticate::authenticate;
use super::description::{Description, Guard, Needs};
use crate::credentials::recovery_codes;
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
    ]],
    example_body: None,
};

/// `POST /auth/mfa/recovery-codes`: a new set of ten, shown this once; the
/// old set no longer works. Step-up: the token's sign-in must have used the
/// second factor.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let caller = authenticate(app, request).await?;
    let user_id = &caller.claims.sub;
    let on = app.store.second_factor(user_id).await?.is_some_and(|f| f.on);
    if !on {
        return Err(ApiError::TotpNotOn);
    }
    if !caller.claims.has_mfa() {
        return Err(ApiError::SecondFactorRequired);
    }
    let codes = recovery_codes::new_set()?;
    let hashes = codes
        .iter()
        .map(|code| app.recovery_key.hash(user_id, code))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| ApiError::Unavailable("a new recovery code does not parse".into()))?;
    if !app.store.replace_recovery_codes(user_id, &hashes).await? {
        // Turned off meanwhile.
        return Err(ApiError::TotpNotOn);
    }
    Ok(success(
        StatusCode::OK,
        json!({ "message": "New recovery codes; the old ones no longer work.", "recovery_codes": codes }),
    ))
}
