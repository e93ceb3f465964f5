use super::App;
use super::authenticate::authenticate;
use super::description::{Description, Guard, Needs};
use super::passkey_ceremony::{self as ceremony, TAKE_CEREMONY};
use crate::http::error::ApiError;
use crate::http::request::json_body;
use crate::http::response::{Reply, plain};
use crate::store::access::{Access, Items};
use crate::store::{CeremonyKind, Store, StoredPasskey};
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::Value;
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential};

pub const DESCRIPTION: Description = Description {
    function: "passkey-register",
    method: "POST",
    route: "/auth/passkeys/register",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        TAKE_CEREMONY,
        // One transaction: the credential id claimed (for anyone), the
        // passkey, the account still there.
        &[
            Access::users("PutItem", &[Items::PasskeyOwners, Items::Passkeys]),
            Access::users("ConditionCheckItem", &[Items::User]),
            Access::outbox("PutItem"),
        ],
    ],
    example_body: Some(
        r#"{"ceremony_id": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "credential": {}, "name": "Laptop"}"#,
    ),
};

#[derive(Deserialize)]
struct RegisterBody {
    ceremony_id: Option<Value>,
    credential: Option<Value>,
    name: Option<Value>,
}

/// `POST /auth/passkeys/register` `{"ceremony_id", "credential", "name"}`:
/// finishes the caller's registration (its ceremony used up either way).
/// 201 `{"id", "name", "created_at"}`; a credential id registered already,
/// to anyone: 409.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let webauthn = ceremony::relying_party(app)?;
    let caller = authenticate(app, request).await?;
    let body: RegisterBody = json_body(request)?;
    let ceremony_id = crate::credentials::required_string("ceremony_id", body.ceremony_id)?;
    let credential: RegisterPublicKeyCredential = match body.credential {
        Some(value @ Value::Object(_)) => serde_json::from_value(value)
            .map_err(|_| ApiError::bad_request("credential is not a registration credential."))?,
        _ => return Err(ApiError::bad_request("credential is required.")),
    };
    let name = match body.name {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name),
        Some(_) => return Err(ApiError::bad_request("name must be a string.")),
    };
    let user_id = &caller.claims.sub;
    let taken = ceremony::take(app, &ceremony_id, CeremonyKind::Registration).await?;
    let Some(taken) = taken.filter(|c| c.user_id.as_deref() == Some(user_id.as_str())) else {
        return Err(ApiError::PasskeyRejected);
    };
    let state: PasskeyRegistration =
        ceremony::state_of(&taken).ok_or(ApiError::PasskeyRejected)?;
    let passkey = webauthn
        .finish_passkey_registration(&credential, &state)
        .map_err(|_| ApiError::PasskeyRejected)?;
    let (backed_up, backup_eligible, counter) = ceremony::flags_of(&passkey);
    let now = crate::now();
    let stored = StoredPasskey {
        user_id: user_id.clone(),
        credential_id: ceremony::credential_key(passkey.cred_id()),
        name: ceremony::passkey_name(name.as_deref()),
        passkey: serde_json::to_string(&passkey)
            .map_err(|_| ApiError::Unavailable("a passkey did not serialise".into()))?,
        user_handle: taken.user_handle.unwrap_or_default(),
        created_at: now,
        last_used_at: None,
        backed_up,
        backup_eligible,
        counter,
    };
    if !app.store.add_passkey(&stored).await? {
        return Err(ApiError::PasskeyExists);
    }
    let shown = serde_json::json!({
        "id": stored.credential_id,
        "name": stored.name,
        "created_at": crate::rfc3339(now),
    });
    Ok(plain(StatusCode::CREATED, &shown))
}
