use super::App;
use super::description::{Description, Guard, Needs};
use super::passkey_ceremony::{self as ceremony, TAKE_CEREMONY};
use super::password_attempt::{PASSWORD_CHECK, PasswordAttempt};
use super::session_tokens::{HOOK_PROFILE, hook_claims, new_session, tokens_reply};
use crate::http::error::ApiError;
use crate::http::request::{client_address, json_body};
use crate::http::response::Reply;
use crate::mail::outbox::{MailKind, OutboxMail};
use crate::store::access::{Access, Items};
use crate::store::{CeremonyKind, PasskeyUse, SignIn, Store};
use crate::throttle;
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::Value;
use webauthn_rs::prelude::{DiscoverableAuthentication, PublicKeyCredential, WebauthnError};

pub const DESCRIPTION: Description = Description {
    function: "passkey-login",
    method: "POST",
    route: "/auth/passkeys/login",
    guard: Guard::Public,
    needs: Needs::Signer,
    storage: &[
        // The credential's and the source's failure counters, claimed as
        // a password's are (the login record read with them is none).
        PASSWORD_CHECK,
        TAKE_CEREMONY,
        // The credential's owner, then the credential.
        &[Access::users("GetItem", &[Items::PasskeyOwners, Items::Passkeys])],
        // The profile: disabled? verified? (and the token hook's subject).
        HOOK_PROFILE,
        // One transaction: the counter moved on (only from the one read),
        // the session opened; then the attempt settled.
        &[
            Access::users("UpdateItem", &[Items::Passkeys]),
            Access::users("PutItem", &[Items::Sessions]),
            Access::users("DeleteItem", &[Items::PasskeyFailures]),
            Access::outbox("PutItem"),
        ],
        // A counter that did not grow: the owner's notice.
        &[Access::outbox("PutItem")],
    ],
    example_body: Some(
        r#"{"ceremony_id": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "credential": {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {"authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA", "userHandle": null}, "extensions": {}}, "device_name": "Laptop"}"#,
    ),
};

#[derive(Deserialize)]
struct LoginBody {
    ceremony_id: Option<Value>,
    credential: Option<Value>,
    device_name: Option<Value>,
}

/// `POST /auth/passkeys/login` `{"ceremony_id", "credential",
/// "device_name"}`: a sign-in with a passkey alone. 200 with the login's
/// body and tokens, `amr` `["hwk"|"swk", "mfa"]` (user verification is
/// required), so an account with TOTP on needs nothing more. Anything wrong
/// with the assertion or its ceremony: 401 "Invalid passkey.", nothing
/// changed but the failure counted (per credential and per source address,
/// throttled as passwords are).
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let webauthn = ceremony::relying_party(app)?;
    let body: LoginBody = json_body(request)?;
    let ceremony_id = crate::credentials::required_string("ceremony_id", body.ceremony_id)?;
    let credential: PublicKeyCredential = match body.credential {
        Some(value @ Value::Object(_)) => serde_json::from_value(value)
            .map_err(|_| ApiError::bad_request("credential is not an assertion."))?,
        _ => return Err(ApiError::bad_request("credential is required.")),
    };
    let device = match body.device_name {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(crate::credentials::device_name(&name)),
        Some(_) => return Err(ApiError::bad_request("device_name must be a string.")),
    };
    let credential_id = ceremony::credential_key(credential.raw_id.as_ref());
    let config = &app.config;
    let counter = throttle::passkey_counter(&credential_id, config.account_login_failures_before_delay);
    let sources = client_address(request, config.trusted_proxy)
        .and_then(|ip| throttle::source_counter(ip, config.source_login_failures_before_delay))
        .into_iter()
        .collect();
    // No login record goes with a passkey: the empty address has none.
    let (_, attempt) = PasswordAttempt::begin(&app.store, "", counter, sources).await?;
    let taken = ceremony::take(app, &ceremony_id, CeremonyKind::SignIn).await?;
    let Some(taken) = taken else {
        return Err(ApiError::InvalidPasskey);
    };
    let Some(stored) = app.store.passkey_by_credential(&credential_id).await? else {
        return Err(ApiError::InvalidPasskey);
    };
    // A ceremony started for one account's email takes only its passkeys;
    // the user handle, when the authenticator sends one, must be the one
    // the credential was made for.
    let wrong_account = taken.user_id.as_ref().is_some_and(|id| *id != stored.user_id);
    let handle = credential.get_user_unique_id();
    let wrong_handle = handle.is_some_and(|h| h != stored_handle_bytes(&stored.user_handle));
    if wrong_account || wrong_handle {
        return Err(ApiError::InvalidPasskey);
    }
    let state: DiscoverableAuthentication =
        ceremony::state_of(&taken).ok_or(ApiError::InvalidPasskey)?;
    let mut passkey = ceremony::passkey_of(&stored)?;
    let result = match webauthn.finish_discoverable_authentication_v2(&credential, state, &passkey) {
        Ok(result) if result.user_verified() => result,
        Ok(_) => return Err(ApiError::InvalidPasskey),
        Err(WebauthnError::CredentialPossibleCompromise) => {
            // A counter that should have grown and did not: a clone, maybe.
            // The owner is told; the sign-in is refused like any other.
            if let Some(profile) = app.store.profile(&stored.user_id).await? {
                let notice = OutboxMail::notice(MailKind::PasskeyCloned, &profile.email, crate::now());
                app.store.send_notice(&notice).await?;
            }
            tracing::warn!("a passkey's signature counter did not grow");
            return Err(ApiError::InvalidPasskey);
        }
        Err(_) => return Err(ApiError::InvalidPasskey),
    };
    let user_id = &stored.user_id;
    let profile = app.store.profile(user_id).await?.ok_or(ApiError::InvalidPasskey)?;
    if profile.disabled {
        return Err(ApiError::AccountDisabled);
    }
    if config.require_verified_email && !profile.email_verified {
        return Err(ApiError::EmailNotVerified);
    }
    let now = crate::now();
    let sign_in = SignIn::passkey(now, stored.backup_eligible);
    let (session, refresh) = new_session(app, user_id, (device, sign_in), request, now)?;
    let claims = match hook_claims(app, user_id, Some(&profile), &session.sign_in.amr, now).await {
        Ok(claims) => claims,
        Err(error) => {
            // A verified passkey is no failure: the attempt is given back.
            attempt.give_back(&app.store).await?;
            return Err(error);
        }
    };
    passkey.update_credential(&result);
    let updated = serde_json::to_string(&passkey)
        .map_err(|_| ApiError::Unavailable("a passkey did not serialise".into()))?;
    let used = PasskeyUse {
        user_id,
        credential_id: &stored.credential_id,
        read_counter: stored.counter,
        counter: result.counter().max(stored.counter),
        passkey: &updated,
        backed_up: result.backup_state(),
        now,
        session: &session,
    };
    if !app.store.use_passkey(&used).await? {
        // A parallel sign-in with this credential won.
        return Err(ApiError::InvalidPasskey);
    }
    attempt.give_back(&app.store).await?;
    tokens_reply(
        app,
        StatusCode::OK,
        "Successfully logged in.",
        (&refresh, &profile.roles, &session.sign_in, claims),
        request,
        now,
    )
}

/// The bytes of a stored user handle (a UUID's text) as authenticators
/// return it.
fn stored_handle_bytes(handle: &str) -> Vec<u8> {
    webauthn_rs::prelude::Uuid::parse_str(handle)
        .map(|uuid| uuid.as_bytes().to_vec())
        .unwrap_or_default()
}
