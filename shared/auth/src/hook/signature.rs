//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): what
//! the token hook's requests carry, so a receiver can tell them from a
//! forgery or a replay with any of the spec's libraries.
//!
//! - the secret is `whsec_` and the base64 of 24 to 64 random bytes;
//! - `webhook-id` names the message (the same on every retry of it),
//!   `webhook-timestamp` is when it was signed (epoch seconds; receivers
//!   refuse old ones), and `webhook-signature` is `v1,` and the base64 of the
//!   HMAC-SHA256 of `<id>.<timestamp>.<body>`.

use crate::config::{ConfigError, Secret};
use aws_lc_rs::hmac;
use base64::{Engine, engine::general_purpose::STANDARD};

const PREFIX: &str = "whsec_";
/// The spec's bounds on the key's length, in bytes.
const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;

/// A Standard Webhooks signing secret.
#[derive(Clone, Debug)]
pub struct WebhookSecret(Secret);

/// The three headers of a signed message.
pub struct SignedHeaders {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
}

impl WebhookSecret {
    /// A secret in the spec's `whsec_…` form. `name` is the setting's, for
    /// the error (which never shows the value).
    pub fn parse(name: &str, text: &str) -> Result<Self, ConfigError> {
        let fault = |what: &str| ConfigError(format!("{name} {what}"));
        let encoded = text
            .trim()
            .strip_prefix(PREFIX)
            .ok_or_else(|| fault("must start with whsec_"))?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| fault("must be whsec_ and base64"))?;
        if !KEY_BYTES.contains(&key.len()) {
            return Err(fault("must hold 24 to 64 bytes"));
        }
        Ok(Self(Secret::new(key)))
    }

    /// The headers that sign `body` as message `id` at `timestamp`.
    pub fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> SignedHeaders {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.0.expose());
        let mut context = hmac::Context::with_key(&key);
        context.update(format!("{id}.{timestamp}.").as_bytes());
        context.update(body);
        let tag = context.sign();
        SignedHeaders {
            id: id.to_owned(),
            timestamp: timestamp.to_string(),
            signature: format!("v1,{}", STANDARD.encode(tag.as_ref())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Standard Webhooks reference libraries' own test vector
    // (standard-webhooks, libraries/python/tests): this secret, id, timestamp
    // and payload sign to this signature.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: u64 = 1614265330;
    const PAYLOAD: &str = r#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_as_the_reference_libraries_do() {
        let secret = WebhookSecret::parse("TOKEN_HOOK_SECRET", SECRET).unwrap();
        let headers = secret.sign(ID, TIMESTAMP, PAYLOAD.as_bytes());
        assert_eq!(headers.signature, SIGNATURE);
        assert_eq!(headers.timestamp, "1614265330");
        assert_eq!(headers.id, ID);
    }

    #[test]
    fn refuses_secrets_not_in_the_whsec_form_without_showing_them() {
        for bad in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_not base64!",
            "whsec_c2hvcnQ=",
        ] {
            let error = WebhookSecret::parse("TOKEN_HOOK_SECRET", bad).unwrap_err();
            assert!(error.0.starts_with("TOKEN_HOOK_SECRET must"), "{error}");
            assert!(!error.0.contains(bad), "{error}");
        }
    }
}
