use super::App;
use super::authenticate::authenticate;
use super::description::{Description, Guard, Needs};
use super::passkey_ceremony::{CALLERS_RECORD, callers_record};
use super::password_attempt::step_up;
use super::rename_passkey::is_credential_key;
use crate::http::error::ApiError;
use crate::http::request::path_param;
use crate::http::response::{Reply, success};
use crate::store::Store;
use crate::store::access::{Access, Items};
use lambda_http::{Request, http::StatusCode};
use serde_json::json;

pub const DESCRIPTION: Description = Description {
    function: "delete-passkey",
    method: "DELETE",
    route: "/auth/passkeys/{id}",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        CALLERS_RECORD,
        // Its passkeys; without a password, its linked identities too.
        &[Access::users("Query", &[Items::Passkeys, Items::Identities])],
        // One transaction: the passkey and its credential id's claim.
        &[
            Access::users("DeleteItem", &[Items::Passkeys, Items::PasskeyOwners]),
            Access::outbox("PutItem"),
        ],
    ],
    example_body: None,
};

/// `DELETE /auth/passkeys/{id}`: deletes one of the caller's passkeys
/// (step-up where TOTP is on). An account keeps at least one way to sign
/// in: its last passkey, with no password and no linked identity, is
/// refused with 409.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let caller = authenticate(app, request).await?;
    let id = path_param(request, "id")
        .filter(|id| is_credential_key(id))
        .ok_or(ApiError::PasskeyNotFound)?;
    let record = callers_record(app, &caller).await?;
    step_up(&record, &caller.claims)?;
    let user_id = &caller.claims.sub;
    let passkeys = app.store.passkeys(user_id).await?;
    if !passkeys.iter().any(|passkey| passkey.credential_id == id) {
        return Err(ApiError::PasskeyNotFound);
    }
    if !record.has_password()
        && passkeys.len() <= 1
        && app.store.identities(user_id).await?.is_empty()
    {
        return Err(ApiError::LastSignInMethod);
    }
    if !app.store.delete_passkey(user_id, id).await? {
        return Err(ApiError::PasskeyNotFound);
    }
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Passkey deleted." }),
    ))
}
