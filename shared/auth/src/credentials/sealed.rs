//! Secrets the service must read back (a TOTP secret), stored sealed:
//! AES-256-GCM (aws-lc-rs) under a key derived from the service's secret in
//! Secrets Manager (`REFRESH_TOKEN_SECRET`), never in clear.
//!
//! A sealed value is `<key id>.<base64url of nonce ‖ ciphertext ‖ tag>`. The
//! key id is a fingerprint of the key (not the key), so a value names the key
//! that opens it: after the service secret rotates, the previous secret's
//! key, kept in [`SealingKeys::retired`], still opens what it sealed. The
//! nonce is 96 random bits per value; the additional data binds a value to
//! its purpose and owner, so a sealed secret moved to another account or
//! purpose does not open.

use crate::config::Secret;
use crate::http::error::ApiError;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// One sealing key and its id.
struct SealingKey {
    id: String,
    key: LessSafeKey,
}

impl SealingKey {
    fn derive(secret: &Secret) -> Self {
        let master = hmac::Key::new(hmac::HMAC_SHA256, secret.expose());
        let derived = hmac::sign(&master, b"token-auth sealed secret v1");
        let fingerprint = hmac::sign(&master, b"token-auth sealed secret id v1");
        let unbound = UnboundKey::new(&AES_256_GCM, derived.as_ref())
            .expect("an HMAC-SHA256 tag is an AES-256 key's length");
        Self {
            id: URL_SAFE_NO_PAD.encode(&fingerprint.as_ref()[..6]),
            key: LessSafeKey::new(unbound),
        }
    }
}

/// The key that seals, and the retired ones that still open.
pub struct SealingKeys {
    current: SealingKey,
    retired: Vec<SealingKey>,
}

impl SealingKeys {
    /// Keys from the service secret, and from secrets it replaced.
    pub fn new(secret: &Secret, retired: &[Secret]) -> Self {
        Self {
            current: SealingKey::derive(secret),
            retired: retired.iter().map(SealingKey::derive).collect(),
        }
    }

    /// `plain` sealed for `context` (a purpose and an owner, such as
    /// `totp:<user id>`).
    pub fn seal(&self, context: &str, plain: &[u8]) -> Result<String, ApiError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|_| ApiError::Unavailable("no randomness for a nonce".into()))?;
        let mut sealed = plain.to_vec();
        self.current
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| ApiError::Unavailable("sealing failed".into()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        Ok(format!(
            "{}.{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(bytes)
        ))
    }

    /// The plain value of `sealed`, if one of our keys sealed it for
    /// `context`; `None` for anything else (another key, context or a
    /// changed byte), which the caller treats as storage it cannot trust.
    pub fn open(&self, context: &str, sealed: &str) -> Option<Vec<u8>> {
        let (id, body) = sealed.split_once('.')?;
        let key = std::iter::once(&self.current)
            .chain(&self.retired)
            .find(|key| key.id == id)?;
        let bytes = URL_SAFE_NO_PAD.decode(body).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut in_out = sealed.to_vec();
        let plain = key
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut in_out)
            .ok()?;
        Some(plain.to_vec())
    }

    /// Whether `sealed` was sealed by the current key (else a migration
    /// would seal it again).
    pub fn is_current(&self, sealed: &str) -> bool {
        sealed
            .split_once('.')
            .is_some_and(|(id, _)| id == self.current.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> Secret {
        Secret::new(text.as_bytes().to_vec())
    }

    #[test]
    fn a_sealed_value_opens_for_its_context_only_and_hides_the_plain_text() {
        let keys = SealingKeys::new(&secret("a service secret of some length"), &[]);
        let sealed = keys.seal("totp:u1", b"JBSWY3DPEHPK3PXP").unwrap();
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(keys.open("totp:u1", &sealed).unwrap(), b"JBSWY3DPEHPK3PXP");
        assert_eq!(keys.open("totp:u2", &sealed), None);
        // Two seals of one value differ (a nonce each).
        assert_ne!(
            keys.seal("totp:u1", b"x").unwrap(),
            keys.seal("totp:u1", b"x").unwrap()
        );
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            keys.open("totp:u1", &String::from_utf8(tampered).unwrap()),
            None
        );
    }

    #[test]
    fn after_a_rotation_the_retired_key_still_opens_and_only_new_seals_are_current() {
        let old = secret("the secret before the rotation");
        let sealed = SealingKeys::new(&old, &[])
            .seal("totp:u1", b"plain")
            .unwrap();
        let rotated = SealingKeys::new(&secret("the secret after the rotation"), &[old]);
        assert_eq!(rotated.open("totp:u1", &sealed).unwrap(), b"plain");
        assert!(!rotated.is_current(&sealed));
        let again = rotated.seal("totp:u1", b"plain").unwrap();
        assert!(rotated.is_current(&again));
        let without_old = SealingKeys::new(&secret("the secret after the rotation"), &[]);
        assert_eq!(without_old.open("totp:u1", &sealed), None);
    }
}
