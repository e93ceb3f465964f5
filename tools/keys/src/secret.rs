//! The Secrets Manager secret the deployed functions read at init. One secret
//! carries both things they need, so one read (and one IAM grant) covers them:
//!
//! `{"signing_keys": <SIGNING_KEYS document>, "refresh_token_secret": "<base64url>"}`
//!
//! Writes go through PutSecretValue, which moves the AWSCURRENT label to the
//! new version and AWSPREVIOUS to the one it replaces: a rotation can be
//! undone by moving the label back.

use auth::tokens::keys::KeySetDocument;
use aws_config::BehaviorVersion;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Random bytes in a new refresh-token secret: 384 bits, as `make run`'s
/// throwaway secrets (`secrets.token_urlsafe(48)`).
const REFRESH_SECRET_BYTES: usize = 48;

/// The secret's JSON. Deliberately no `Debug`: it holds private keys.
#[derive(Serialize, Deserialize)]
pub struct SecretDocument {
    pub signing_keys: KeySetDocument,
    pub refresh_token_secret: String,
    /// Fields this tool does not know survive a rotation untouched.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl SecretDocument {
    /// A new secret: the given key set and a fresh refresh-token secret.
    pub fn new(signing_keys: KeySetDocument) -> Result<Self, String> {
        let mut random = [0u8; REFRESH_SECRET_BYTES];
        getrandom::fill(&mut random)
            .map_err(|e| format!("no randomness for the refresh secret: {e}"))?;
        Ok(Self {
            signing_keys,
            refresh_token_secret: URL_SAFE_NO_PAD.encode(random),
            other: Map::new(),
        })
    }

    fn to_json(&self) -> Result<String, String> {
        serde_json::to_string(self).map_err(|e| format!("cannot encode the secret: {e}"))
    }
}

/// A client from the standard AWS configuration: AWS_REGION (or a profile's
/// region), credentials from the environment or a profile, and
/// AWS_ENDPOINT_URL_SECRETS_MANAGER for a local Secrets Manager.
pub async fn client() -> Result<Client, String> {
    let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    if config.region().is_none() {
        return Err("no AWS region: set AWS_REGION (or a profile's region)".into());
    }
    Ok(Client::new(&config))
}

fn aws_error(action: &str, secret_id: &str, error: impl std::error::Error) -> String {
    // DisplayErrorContext shows the whole chain (e.g. "dispatch failure: …
    // connection refused"); errors name the secret, never carry its value.
    format!("{action} {secret_id:?}: {}", DisplayErrorContext(error))
}

/// The secret's current value, or None when there is no secret or it has no
/// value yet (Secrets Manager answers both with ResourceNotFoundException).
async fn current_value(client: &Client, secret_id: &str) -> Result<Option<String>, String> {
    match client.get_secret_value().secret_id(secret_id).send().await {
        Ok(output) => match output.secret_string {
            Some(value) => Ok(Some(value)),
            None => Err(format!(
                "secret {secret_id:?} holds binary data, not the JSON this tool writes"
            )),
        },
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(error) => Err(aws_error("cannot read secret", secret_id, error)),
    }
}

/// Reads the secret for a rotation or a listing.
pub async fn read(client: &Client, secret_id: &str) -> Result<SecretDocument, String> {
    let value = current_value(client, secret_id).await?.ok_or_else(|| {
        format!("secret {secret_id:?} does not exist or has no value: make one with `keys create --secret {secret_id}`")
    })?;
    serde_json::from_str(&value)
        .map_err(|e| crate::json_error(&format!("secret {secret_id:?} is not a key secret"), &e))
}

/// Writes a new version of an existing secret.
pub async fn write(
    client: &Client,
    secret_id: &str,
    secret: &SecretDocument,
) -> Result<(), String> {
    client
        .put_secret_value()
        .secret_id(secret_id)
        .secret_string(secret.to_json()?)
        .send()
        .await
        .map_err(|e| aws_error("cannot write secret", secret_id, e))?;
    Ok(())
}

/// Stores a new secret: CreateSecret when there is none; a new version of a
/// secret that exists without a key set (say, one the stack made empty). A
/// secret that already holds a key set is refused unless `force`: replacing
/// its keys would fail every token they signed, i.e. log everyone out.
pub async fn create(
    client: &Client,
    secret_id: &str,
    secret: &SecretDocument,
    force: bool,
) -> Result<(), String> {
    match current_value(client, secret_id).await? {
        Some(value) => {
            let holds_keys = serde_json::from_str::<Map<String, Value>>(&value)
                .is_ok_and(|fields| fields.contains_key("signing_keys"));
            if holds_keys && !force {
                return Err(format!(
                    "secret {secret_id:?} already holds a key set: rotate it (`keys rotate --secret {secret_id}`), \
                     or pass --force to replace it and invalidate every token it signed"
                ));
            }
            write(client, secret_id, secret).await
        }
        None => {
            let created = client
                .create_secret()
                .name(secret_id)
                .description("token-auth: access-token signing keys and the refresh-token secret (tools/keys)")
                .secret_string(secret.to_json()?)
                .send()
                .await;
            match created {
                Ok(_) => Ok(()),
                // It exists, but without a value yet.
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_exists_exception()) =>
                {
                    write(client, secret_id, secret).await
                }
                Err(error) => Err(aws_error("cannot create secret", secret_id, error)),
            }
        }
    }
}
