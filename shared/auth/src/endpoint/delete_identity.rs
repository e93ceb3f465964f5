use super::App;
use super::authenticate::authenticate;
use super::description::{Description, Guard, Needs};
use super::password_attempt::step_up;
use crate::http::error::{ApiError, TokenRejection};
use crate::http::request::path_param;
use crate::http::response::{Reply, success};
use crate::store::Store;
use crate::store::access::{Access, Items};
use lambda_http::{Request, http::StatusCode};
use serde_json::json;

pub const DESCRIPTION: Description = Description {
    function: "delete-identity",
    method: "DELETE",
    route: "/auth/identities/{id}",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        // The caller's login record (a password?), identities and passkeys.
        &[Access::users("BatchGetItem", &[Items::Email])],
        &[Access::users("Query", &[Items::Identities, Items::Passkeys])],
        // One transaction: the record and the claim.
        &[Access::users("DeleteItem", &[Items::Identities, Items::IdentityOwners])],
    ],
    example_body: None,
};

/// `DELETE /auth/identities/{id}` (Bearer): unlinks one of the caller's
/// identities (step-up where TOTP is on). 404 for an id not the caller's;
/// 409 `last_sign_in_method` when the account would keep no way to sign
/// in (no password, no passkey, no other identity).
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let caller = authenticate(app, request).await?;
    let user_id = &caller.claims.sub;
    let id = path_param(request, "id").ok_or(ApiError::IdentityNotFound)?;
    let read = app
        .store
        .login_attempt(&caller.profile.email, &[], crate::now_millis())
        .await?;
    let record = read
        .record
        .filter(|record| record.user_id == *user_id)
        .ok_or(ApiError::Token(TokenRejection::Invalid))?;
    step_up(&record, &caller.claims)?;
    let identities = app.store.identities(user_id).await?;
    let identity = identities
        .iter()
        .find(|identity| identity.id == id)
        .ok_or(ApiError::IdentityNotFound)?;
    if !record.has_password()
        && identities.len() <= 1
        && app.store.passkeys(user_id).await?.is_empty()
    {
        return Err(ApiError::LastSignInMethod);
    }
    if !app.store.unlink_identity(user_id, identity).await? {
        return Err(ApiError::IdentityNotFound);
    }
    Ok(success(StatusCode::OK, json!({ "message": "Identity unlinked." })))
}
