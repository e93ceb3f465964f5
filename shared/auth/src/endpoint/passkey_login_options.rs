use super::App;
use super::description::{Description, Guard, Needs};
use super::passkey_ceremony::{self as ceremony, OPEN_CEREMONY};
use crate::http::error::ApiError;
use crate::http::request::{client_address, json_body};
use crate::http::response::{Reply, plain};
use crate::store::access::{Access, Items};
use crate::store::{CeremonyKind, Store};
use crate::throttle;
use lambda_http::{Body, Request, http::StatusCode};
use serde::Deserialize;
use serde_json::Value;
use webauthn_rs::prelude::DiscoverableAuthentication;

pub const DESCRIPTION: Description = Description {
    function: "passkey-login-options",
    method: "POST",
    route: "/auth/passkeys/login/options",
    guard: Guard::Public,
    needs: Needs::App,
    storage: &[
        // The source address's hourly count: each call writes a ceremony.
        &[Access::users("UpdateItem", &[Items::CeremonyCounts])],
        // With an email: its account, and its passkeys for the allow list.
        &[
            Access::users("BatchGetItem", &[Items::Email]),
            Access::users("Query", &[Items::Passkeys]),
        ],
        OPEN_CEREMONY,
    ],
    example_body: Some(r#"{"email": "someone@example.com"}"#),
};

#[derive(Deserialize)]
struct OptionsBody {
    email: Option<Value>,
}

/// `POST /auth/passkeys/login/options` (no auth, optional `{"email"}`): the
/// request options of a passkey sign-in and its `ceremony_id`. With no email
/// the allow list is empty (discoverable credentials, usernameless); with
/// one, it lists that account's passkeys (none for an unknown address).
/// Limited per source address and hour: each call writes a ceremony item.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let webauthn = ceremony::relying_party(app)?;
    let empty = match request.body() {
        Body::Empty => true,
        Body::Text(text) => text.trim().is_empty(),
        Body::Binary(bytes) => bytes.iter().all(u8::is_ascii_whitespace),
        _ => true,
    };
    let email = if empty {
        None
    } else {
        let body: OptionsBody = json_body(request)?;
        match body.email {
            None | Some(Value::Null) => None,
            Some(Value::String(email)) => Some(crate::credentials::normalize_email(&email)?),
            Some(_) => return Err(ApiError::bad_request("email must be a string.")),
        }
    };
    let now = crate::now();
    let window = client_address(request, app.config.trusted_proxy)
        .and_then(|ip| {
            throttle::ceremony_counter(ip, app.config.source_passkey_sign_ins_per_hour, now)
        });
    if let Some((counter, window_end)) = window
        && !app.store.count_in_window(&counter, window_end).await?
    {
        let retry_after = window_end.saturating_sub(now).max(1);
        return Err(ApiError::TooManyCeremonies { retry_after });
    }
    let mut user_id = None;
    let mut allowed = Vec::new();
    if let Some(email) = &email {
        let read = app.store.login_attempt(email, &[], crate::now_millis()).await?;
        if let Some(record) = read.record {
            for stored in app.store.passkeys(&record.user_id).await? {
                let passkey = ceremony::passkey_of(&stored)?;
                allowed.push(serde_json::json!({
                    "type": "public-key",
                    "id": ceremony::credential_key(passkey.cred_id()),
                }));
            }
            user_id = Some(record.user_id);
        }
    }
    // The discoverable ceremony for both: it refuses a credential whose
    // backup eligibility changed (the other one lets it grow).
    let (options, state): (_, DiscoverableAuthentication) = webauthn
        .start_discoverable_authentication()
        .map_err(|_| ApiError::Unavailable("the sign-in did not start".into()))?;
    let kind = CeremonyKind::SignIn;
    let id = ceremony::open(app, kind, &state, (user_id.as_deref(), None)).await?;
    let mut body = serde_json::to_value(&options).unwrap_or_default();
    // Modal or conditional is the page's choice, not ours.
    if let Some(fields) = body.as_object_mut() {
        fields.remove("mediation");
    }
    body["publicKey"]["allowCredentials"] = Value::Array(allowed);
    body["ceremony_id"] = id.into();
    Ok(plain(StatusCode::OK, &body))
}
