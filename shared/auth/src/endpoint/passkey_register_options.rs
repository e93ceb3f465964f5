use super::App;
use super::authenticate::authenticate;
use super::description::{Description, Guard, Needs};
use super::passkey_ceremony::{self as ceremony, CALLERS_RECORD, OPEN_CEREMONY};
use super::password_attempt::step_up;
use crate::http::error::ApiError;
use crate::http::response::{Reply, plain};
use crate::store::access::{Access, Items};
use crate::store::{CeremonyKind, Store};
use lambda_http::{Request, http::StatusCode};
use webauthn_rs::prelude::Uuid;

pub const DESCRIPTION: Description = Description {
    function: "passkey-register-options",
    method: "POST",
    route: "/auth/passkeys/register/options",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        CALLERS_RECORD,
        &[Access::users("Query", &[Items::Passkeys])],
        OPEN_CEREMONY,
    ],
    example_body: None,
};

/// `POST /auth/passkeys/register/options`: the creation options of a new
/// passkey for the caller (step-up where TOTP is on), and the `ceremony_id`
/// to finish it with at `POST /auth/passkeys/register` within five minutes.
/// The user handle is random (the account's first passkey draws it; the
/// others reuse it), never the email; the account's passkeys are excluded.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let webauthn = ceremony::relying_party(app)?;
    let caller = authenticate(app, request).await?;
    let record = ceremony::callers_record(app, &caller).await?;
    step_up(&record, &caller.claims)?;
    let user_id = &caller.claims.sub;
    let existing = app.store.passkeys(user_id).await?;
    let handle = existing
        .first()
        .and_then(|passkey| Uuid::parse_str(&passkey.user_handle).ok())
        .unwrap_or_else(Uuid::new_v4);
    let exclude = existing
        .iter()
        .map(|stored| ceremony::passkey_of(stored).map(|passkey| passkey.cred_id().clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let email = &caller.profile.email;
    let (options, state) = webauthn
        .start_passkey_registration(handle, email, email, Some(exclude))
        .map_err(|_| ApiError::Unavailable("the registration did not start".into()))?;
    let handle = handle.to_string();
    let kind = CeremonyKind::Registration;
    let id = ceremony::open(app, kind, &state, (Some(user_id), Some(&handle))).await?;
    let mut body = serde_json::to_value(&options).unwrap_or_default();
    // webauthn-rs asks for a resident key as "discouraged"/"preferred"
    // (requireResidentKey false); usernameless sign-in needs one, so the
    // options sent require it (the proto types are not re-exported, so the
    // JSON is set: the same fields).
    let selection = &mut body["publicKey"]["authenticatorSelection"];
    selection["residentKey"] = "required".into();
    selection["requireResidentKey"] = true.into();
    selection["userVerification"] = "required".into();
    body["ceremony_id"] = id.into();
    Ok(plain(StatusCode::OK, &body))
}
