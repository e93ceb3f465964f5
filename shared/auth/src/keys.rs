//! The access tokens' signing keys: a set of RSA keys, each `next` (published,
//! not yet signing), `current` (the one that signs) or `retired` (still
//! verifying tokens it signed), read from the `SIGNING_KEYS` document
//! `{"keys": [{"kid", "state", "private_key_pem", "created_at"?}]}`.
//!
//! Every listed key verifies; exactly one signs. The public halves are
//! published as RFC 7517 JWKs, built from the modulus and exponent only, so
//! nothing private can slip into the JWKS.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, EncodingKey};
use rustls_pki_types::{PrivatePkcs8KeyDer, pem::PemObject};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt;

/// RSA keys shorter than this are refused (NIST SP 800-131A, and API
/// Gateway's JWT authorizer).
pub const MIN_RSA_BITS: usize = 2048;

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Published in the JWKS, so caches have it before it signs.
    Next,
    /// Signs every new token.
    Current,
    /// Signs nothing; verifies the tokens it signed until they expire.
    Retired,
}

/// The `SIGNING_KEYS` document, as stored (environment or Secrets Manager).
#[derive(Clone, Serialize, Deserialize)]
pub struct KeySetDocument {
    pub keys: Vec<KeyEntry>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct KeyEntry {
    pub kid: String,
    pub state: KeyState,
    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub private_key_pem: String,
    /// When the key last changed state (epoch seconds): rotation drops a
    /// retired key once every token it signed has expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<u64>,
}

// Never show a private key, even in a debug print.
impl fmt::Debug for KeyEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyEntry")
            .field("kid", &self.kid)
            .field("state", &self.state)
            .field("changed_at", &self.changed_at)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for KeySetDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySetDocument")
            .field("keys", &self.keys)
            .finish()
    }
}

/// One key, ready to sign or verify.
pub struct SigningKey {
    pub kid: String,
    pub state: KeyState,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    /// The public half as a JWK.
    pub jwk: Value,
}

/// The validated key set.
pub struct KeySet {
    current: usize,
    keys: Vec<SigningKey>,
    by_kid: HashMap<String, usize>,
}

impl KeySet {
    /// Parses and checks a `SIGNING_KEYS` document: every key an RSA key of at
    /// least [`MIN_RSA_BITS`] bits in PKCS#8 PEM, ids distinct and non-empty,
    /// exactly one `current`. The error names the fault, never a key.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let document: KeySetDocument = serde_json::from_str(json)
            .map_err(|e| format!("SIGNING_KEYS is not a key set document: {e}"))?;
        Self::from_document(&document)
    }

    pub fn from_document(document: &KeySetDocument) -> Result<Self, String> {
        let mut keys = Vec::with_capacity(document.keys.len());
        let mut by_kid = HashMap::new();
        for entry in &document.keys {
            let key = signing_key(entry)?;
            if by_kid.insert(key.kid.clone(), keys.len()).is_some() {
                return Err(format!("SIGNING_KEYS lists key {:?} twice", key.kid));
            }
            keys.push(key);
        }
        let current: Vec<usize> = (0..keys.len())
            .filter(|&i| keys[i].state == KeyState::Current)
            .collect();
        match current[..] {
            [current] => Ok(Self {
                current,
                keys,
                by_kid,
            }),
            [] => Err("SIGNING_KEYS has no current key".into()),
            _ => Err(format!(
                "SIGNING_KEYS has {} current keys; exactly one signs",
                current.len()
            )),
        }
    }

    /// The key that signs.
    pub fn current(&self) -> &SigningKey {
        &self.keys[self.current]
    }

    /// The key a token names, if it is in the set.
    pub fn get(&self, kid: &str) -> Option<&SigningKey> {
        self.by_kid.get(kid).map(|&i| &self.keys[i])
    }

    /// Key ids with their states, for a log line or `make run`'s banner.
    pub fn summary(&self) -> String {
        self.keys
            .iter()
            .map(|key| format!("{} ({:?})", key.kid, key.state).to_lowercase())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The JWKS document (RFC 7517 §5): every key's public half.
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.keys.iter().map(|key| key.jwk.clone()).collect::<Vec<_>>() })
    }
}

fn signing_key(entry: &KeyEntry) -> Result<SigningKey, String> {
    let kid = entry.kid.trim();
    if kid.is_empty() || kid.len() > 64 || kid != entry.kid {
        return Err("SIGNING_KEYS has a key without a usable kid (1 to 64 characters)".into());
    }
    let fault = |what: &str| format!("SIGNING_KEYS key {kid:?}: {what}");
    let der = PrivatePkcs8KeyDer::from_pem_slice(entry.private_key_pem.as_bytes())
        .map_err(|_| fault("private_key_pem is not a PKCS#8 PEM private key"))?;
    let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(der.secret_pkcs8_der())
        // aws-lc-rs itself refuses RSA keys under 2048 bits.
        .map_err(|_| fault("not an RSA private key of 2048 bits or more"))?;
    let bits = pair.public_modulus_len() * 8;
    if bits < MIN_RSA_BITS {
        return Err(fault(&format!(
            "{bits}-bit key; at least {MIN_RSA_BITS} bits are needed"
        )));
    }
    use aws_lc_rs::signature::KeyPair;
    let public = pair.public_key();
    let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
    let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
    let encoding = EncodingKey::from_rsa_pem(entry.private_key_pem.as_bytes())
        .map_err(|_| fault("private_key_pem cannot sign"))?;
    let decoding =
        DecodingKey::from_rsa_components(&n, &e).map_err(|_| fault("public half unusable"))?;
    Ok(SigningKey {
        kid: kid.to_owned(),
        state: entry.state,
        encoding,
        decoding,
        jwk: json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": n, "e": e}),
    })
}

/// A new RSA key of `bits` bits as PKCS#8 PEM: for `make keys` and for tests.
pub fn generate_private_key_pem(bits: usize) -> Result<String, String> {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    let size = match bits {
        2048 => KeySize::Rsa2048,
        3072 => KeySize::Rsa3072,
        4096 => KeySize::Rsa4096,
        _ => {
            return Err(format!(
                "{bits}-bit keys are not offered: 2048, 3072 or 4096"
            ));
        }
    };
    let pair = KeyPair::generate(size).map_err(|_| "key generation failed".to_owned())?;
    let der = pair
        .as_der()
        .map_err(|_| "key encoding failed".to_owned())?;
    let base64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = base64
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).unwrap_or_default())
        .collect();
    Ok(format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kid: &str, state: KeyState, pem: &str) -> KeyEntry {
        KeyEntry {
            kid: kid.into(),
            state,
            private_key_pem: pem.into(),
            changed_at: None,
        }
    }

    #[test]
    fn a_set_needs_exactly_one_current_key_of_2048_bits_or_more() {
        let pem = generate_private_key_pem(2048).unwrap();
        let set = |keys: Vec<KeyEntry>| KeySet::from_document(&KeySetDocument { keys });
        let good = set(vec![
            entry("a", KeyState::Retired, &pem),
            entry("b", KeyState::Current, &pem),
            entry("c", KeyState::Next, &pem),
        ])
        .unwrap();
        assert_eq!(good.current().kid, "b");
        assert!(good.get("a").is_some() && good.get("z").is_none());
        let jwks = good.jwks();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 3);
        let jwk = &jwks["keys"][0];
        let mut fields: Vec<_> = jwk.as_object().unwrap().keys().cloned().collect();
        fields.sort();
        assert_eq!(
            fields,
            ["alg", "e", "kid", "kty", "n", "use"],
            "nothing private"
        );
        assert_eq!(
            (jwk["e"].as_str(), jwk["alg"].as_str()),
            (Some("AQAB"), Some("RS256"))
        );

        let none = set(vec![entry("a", KeyState::Next, &pem)]).err().unwrap();
        assert!(none.contains("no current key"), "{none}");
        let two = set(vec![
            entry("a", KeyState::Current, &pem),
            entry("b", KeyState::Current, &pem),
        ]);
        assert!(two.err().unwrap().contains("2 current keys"));
        let twice = set(vec![
            entry("a", KeyState::Current, &pem),
            entry("a", KeyState::Next, &pem),
        ]);
        assert!(twice.err().unwrap().contains("twice"));
        let garbage = set(vec![entry("a", KeyState::Current, "not a key")]);
        let message = garbage.err().unwrap();
        assert!(
            message.contains("PKCS#8") && !message.contains("not a key"),
            "{message}"
        );
        assert!(KeySet::from_json("{").is_err());
        assert!(KeySet::from_json(r#"{"keys": [{"kid": "a", "state": "on"}]}"#).is_err());
    }

    #[test]
    fn a_short_key_is_refused_without_showing_it() {
        // A 1024-bit RSA key in PKCS#8: aws-lc-rs only generates 2048 and up.
        let short = include_str!("../tests-data/rsa-1024.pem");
        let result = KeySet::from_document(&KeySetDocument {
            keys: vec![entry("old", KeyState::Current, short)],
        });
        let message = result.err().unwrap();
        assert!(message.contains("2048 bits or more"), "{message}");
        assert!(!message.contains("BEGIN"));
    }
}
