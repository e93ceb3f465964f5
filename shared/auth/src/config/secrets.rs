//! Deployed, the signing keys and the refresh-token secret come from one
//! Secrets Manager secret (`AUTH_SECRET_ID`), read at init, never from the
//! function's configuration, where `lambda:GetFunctionConfiguration` would show
//! them. Its value: `{"signing_keys": <SIGNING_KEYS document>,
//! "refresh_token_secret": "…"}` (`make keys … --secret` writes it).
//!
//! A rotation reaches warm instances without a redeploy: each instance reads
//! the secret again once its copy is [`KEY_SET_MAX_AGE_SECONDS`] old (at the
//! next request), and puts the new key set in force. The runbook in the README
//! publishes a `next` key a whole rotation period before it signs, so by then
//! every instance verifies with it.

use crate::config::ConfigError;
use aws_sdk_secretsmanager::Client;
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// How old an instance's copy of the secret may get.
pub const KEY_SET_MAX_AGE_SECONDS: u64 = 300;

/// The settings the secret carries, by the environment variable each replaces.
pub type SecretSettings = Vec<(&'static str, String)>;

pub struct SecretSource {
    client: Client,
    secret_id: String,
    /// Epoch seconds of the last read.
    read_at: AtomicU64,
}

#[derive(Deserialize)]
struct SecretValue {
    signing_keys: serde_json::Value,
    refresh_token_secret: String,
    /// The token hook's `whsec_…` secret, for a deployment with a hook.
    #[serde(default)]
    token_hook_secret: Option<String>,
    /// The providers of `OIDC_PROVIDERS` (their client secrets): the list
    /// itself, or its JSON text.
    #[serde(default)]
    oidc_providers: Option<serde_json::Value>,
}

impl SecretSource {
    /// The secret named by `AUTH_SECRET_ID`, if set: the deployed path.
    pub fn from_env(sdk: &aws_config::SdkConfig) -> Option<Self> {
        let secret_id = std::env::var("AUTH_SECRET_ID")
            .ok()
            .filter(|id| !id.trim().is_empty())?;
        Some(Self {
            client: crate::store::dynamo::secrets_client(sdk),
            secret_id,
            // Read at init, right after this.
            read_at: AtomicU64::new(crate::now()),
        })
    }

    /// Reads the secret: `SIGNING_KEYS` and `REFRESH_TOKEN_SECRET`. The error
    /// names the secret and the fault, never a value.
    pub async fn read(&self) -> Result<SecretSettings, ConfigError> {
        let fault = |what: String| ConfigError(format!("secret {}: {what}", self.secret_id));
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| {
                fault(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string())
            })?;
        let text = output
            .secret_string()
            .ok_or_else(|| fault("has no string value".into()))?;
        let value: SecretValue = serde_json::from_str(text)
            .map_err(|_| fault("is not {\"signing_keys\", \"refresh_token_secret\"}".into()))?;
        let mut settings = vec![
            ("SIGNING_KEYS", value.signing_keys.to_string()),
            ("REFRESH_TOKEN_SECRET", value.refresh_token_secret),
        ];
        settings.extend(
            value
                .token_hook_secret
                .map(|secret| ("TOKEN_HOOK_SECRET", secret)),
        );
        settings.extend(value.oidc_providers.map(|providers| {
            let json = match providers {
                serde_json::Value::String(text) => text,
                other => other.to_string(),
            };
            ("OIDC_PROVIDERS", json)
        }));
        Ok(settings)
    }

    /// Whether this instance's copy is old enough to read again; if so, the
    /// caller is the one request that reads it (the others go on with the
    /// keys in force, and so does this one if the read fails).
    pub fn claim_refresh(&self, now: u64) -> bool {
        let read_at = self.read_at.load(Ordering::Relaxed);
        now.saturating_sub(read_at) >= KEY_SET_MAX_AGE_SECONDS
            && self
                .read_at
                .compare_exchange(read_at, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}
