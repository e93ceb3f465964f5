//! What the passkey calls share (docs/passkeys.md): the relying party
//! (webauthn-rs, kanidm's), the ceremonies stored server-side under a random
//! id and used once, and the stored credential's codec.
//!
//! Nothing here logs a credential, a challenge or a ceremony id.

use super::App;
use crate::http::error::ApiError;
use crate::store::access::{Access, Items};
use crate::store::{Ceremony, CeremonyKind, LoginRecord, Store, StoredPasskey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use webauthn_rs::prelude::{Passkey, Url, Webauthn, WebauthnBuilder};

/// A ceremony's life: five minutes, checked in code (the item's TTL deletes
/// it later).
pub const CEREMONY_SECONDS: u64 = 300;

/// Taking a ceremony: a `DeleteItem` that must find it and returns it.
pub const TAKE_CEREMONY: &[Access] = &[Access::users("DeleteItem", &[Items::Ceremonies])];

/// Opening one.
pub const OPEN_CEREMONY: &[Access] = &[Access::users("PutItem", &[Items::Ceremonies])];

/// The relying party of `RP_ID` and `RP_ORIGIN`; unset: 503.
pub fn relying_party<S: Store>(app: &App<S>) -> Result<Webauthn, ApiError> {
    let off = || ApiError::Unavailable("passkeys need RP_ID and RP_ORIGIN".into());
    let rp = app.config.relying_party.as_ref().ok_or_else(off)?;
    let origin = Url::parse(&rp.origin).map_err(|_| off())?;
    WebauthnBuilder::new(&rp.id, &origin)
        .and_then(|builder| builder.rp_name("token-auth").build())
        .map_err(|_| off())
}

/// A credential id as the store keys it: base64url, no padding.
pub fn credential_key(credential_id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(credential_id)
}

/// Stores a ceremony under a new random id, which the client gets back.
pub async fn open<S: Store>(
    app: &App<S>,
    kind: CeremonyKind,
    state: &impl serde::Serialize,
    user: (Option<&str>, Option<&str>),
) -> Result<String, ApiError> {
    let id = crate::ids::new_random_id()?;
    let ceremony = Ceremony {
        kind,
        state: serde_json::to_string(state)
            .map_err(|_| ApiError::Unavailable("a ceremony state did not serialise".into()))?,
        user_id: user.0.map(str::to_owned),
        user_handle: user.1.map(str::to_owned),
        expires_at: crate::now() + CEREMONY_SECONDS,
    };
    app.store.open_ceremony(&id, &ceremony).await?;
    Ok(id)
}

/// Takes the ceremony `id` of `kind` away, used: `None` for one unknown,
/// used already, of another kind or expired. Of parallel calls with one id,
/// one at most gets it.
pub async fn take<S: Store>(
    app: &App<S>,
    id: &str,
    kind: CeremonyKind,
) -> Result<Option<Ceremony>, ApiError> {
    if !crate::ids::is_random_id(id) {
        return Ok(None);
    }
    let ceremony = app.store.take_ceremony(id).await?;
    Ok(ceremony.filter(|c| c.kind == kind && c.expires_at > crate::now()))
}

/// The library's state of a ceremony.
pub fn state_of<T: serde::de::DeserializeOwned>(ceremony: &Ceremony) -> Option<T> {
    serde_json::from_str(&ceremony.state).ok()
}

/// A stored passkey's credential, as the library reads it.
pub fn passkey_of(stored: &StoredPasskey) -> Result<Passkey, ApiError> {
    serde_json::from_str(&stored.passkey)
        .map_err(|_| ApiError::Unavailable("a stored passkey did not parse".into()))
}

/// The credential's flags and counter, read from the library's own
/// serialisation (its fields are not public): (backed up, backup eligible,
/// counter).
pub fn flags_of(passkey: &Passkey) -> (bool, bool, u32) {
    let value = serde_json::to_value(passkey).unwrap_or_default();
    let cred = &value["cred"];
    let flag = |name: &str| cred[name].as_bool().unwrap_or(false);
    let counter = cred["counter"].as_u64().unwrap_or(0);
    (
        flag("backup_state"),
        flag("backup_eligible"),
        u32::try_from(counter).unwrap_or(u32::MAX),
    )
}

/// The passkey as its owner sees it (never the key or the counter).
pub fn passkey_json(passkey: &StoredPasskey) -> serde_json::Value {
    serde_json::json!({
        "id": passkey.credential_id,
        "name": passkey.name,
        "created_at": crate::rfc3339(passkey.created_at),
        "last_used_at": passkey.last_used_at.map(crate::rfc3339),
        "backed_up": passkey.backed_up,
    })
}

/// A passkey's name: trimmed, visible characters only, at most 64; empty
/// (or none): "Passkey".
pub fn passkey_name(raw: Option<&str>) -> String {
    let name = crate::credentials::device_name(raw.unwrap_or_default());
    let name: String = name.chars().take(64).collect();
    let name = name.trim_end();
    if name.is_empty() {
        "Passkey".to_owned()
    } else {
        name.to_owned()
    }
}

/// The caller's login record (one read), for step-up and for the rule that
/// an account keeps a way to sign in.
pub async fn callers_record<S: Store>(
    app: &App<S>,
    caller: &super::authenticate::Caller,
) -> Result<LoginRecord, ApiError> {
    let read = app
        .store
        .login_attempt(&caller.profile.email, &[], crate::now_millis())
        .await?;
    read.record
        .filter(|record| record.user_id == caller.claims.sub)
        .ok_or(ApiError::Token(crate::http::error::TokenRejection::Invalid))
}

/// Reading the caller's login record ([`callers_record`]).
pub const CALLERS_RECORD: &[Access] = &[Access::users("BatchGetItem", &[Items::Email])];
