use super::App;
use super::authenticate::authenticate;
use super::description::{Description, Guard, Needs};
use super::passkey_ceremony::passkey_name;
use crate::credentials::required_string;
use crate::http::error::ApiError;
use crate::http::request::{json_body, path_param};
use crate::http::response::{Reply, success};
use crate::store::Store;
use crate::store::access::{Access, Items};
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

pub const DESCRIPTION: Description = Description {
    function: "rename-passkey",
    method: "PATCH",
    route: "/auth/passkeys/{id}",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[&[Access::users("UpdateItem", &[Items::Passkeys])]],
    example_body: Some(r#"{"name": "Phone"}"#),
};

/// `PATCH /auth/passkeys/{id}` `{"name"}`: renames one of the caller's
/// passkeys (another's, or none: 404).
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct RenameBody {
        name: Option<Value>,
    }
    let caller = authenticate(app, request).await?;
    let body: RenameBody = json_body(request)?;
    let name = passkey_name(Some(&required_string("name", body.name)?));
    let id = path_param(request, "id")
        .filter(|id| is_credential_key(id))
        .ok_or(ApiError::PasskeyNotFound)?;
    if !app.store.rename_passkey(&caller.claims.sub, id, &name).await? {
        return Err(ApiError::PasskeyNotFound);
    }
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Passkey renamed.", "name": name }),
    ))
}

/// Whether `id` can be a credential id as we store it (base64url, at most
/// 1023 bytes decoded: WebAuthn's limit).
pub(super) fn is_credential_key(id: &str) -> bool {
    (1..=1364).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
