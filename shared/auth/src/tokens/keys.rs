//! The access tokens' signing keys: a set of RSA keys, each `next` (published,
//! not yet signing), `current` (the one that signs) or `retired` (still
//! verifying tokens it signed), read from the `SIGNING_KEYS` document
//! `{"keys": [{"kid", "state", "private_key_pem", "created_at"?}]}`.
//!
//! Every listed key verifies; exactly one signs. The public halves are
//! published as RFC 7517 JWKs, built from the modulus and exponent only, so
//! nothing private can slip into the JWKS.
//!
//! Two depths of checking, because a cold start pays for them. Every function
//! reads the set's structure at init: the JSON, each PEM and its PKCS#8 and
//! RSA private-key DER down to the modulus and exponent (a few microseconds a
//! key, RustCrypto's `pkcs8` and `pkcs1`), which is all a verifier uses.
//! Only a key that signs needs its private half checked for consistency
//! (aws-lc's `RSA_check_key`, about 0.15 ms a 2048-bit key): the functions
//! that issue tokens do that for the current key at init
//! ([`KeySet::check_signer`]), the key tool for every key of each set it
//! writes ([`KeySet::check_private_keys`]), so a `next` key that cannot sign
//! never gets to be current. A verifier (status, the Lambda authorizer…)
//! never parses a private key.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, EncodingKey};
use rustls_pki_types::{PrivatePkcs8KeyDer, pem::PemObject};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

/// RSA keys shorter than this are refused (NIST SP 800-131A, and API
/// Gateway's JWT authorizer).
pub const MIN_RSA_BITS: usize = 2048;
/// aws-lc's own upper bound, for signing and for RS256 verification alike.
pub const MAX_RSA_BITS: usize = 8192;

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

/// One key, ready to verify; ready to sign once [`SigningKey::signer`] has
/// checked its private half.
pub struct SigningKey {
    pub kid: String,
    pub state: KeyState,
    /// The private key (RSA private-key DER) as jsonwebtoken takes it,
    /// unchecked: see [`SigningKey::signer`].
    pub encoding: EncodingKey,
    /// The public half (modulus and exponent).
    pub decoding: DecodingKey,
    /// The public half as a JWK.
    pub jwk: Value,
    /// The private key parsed and checked by aws-lc, on first use.
    signer: OnceLock<Result<aws_lc_rs::rsa::KeyPair, String>>,
}

impl SigningKey {
    /// The private key, parsed and checked for consistency by aws-lc the
    /// first time (then kept: jsonwebtoken would parse it again for every
    /// token). The error names the fault, never the key.
    pub fn signer(&self) -> Result<&aws_lc_rs::rsa::KeyPair, String> {
        self.signer
            .get_or_init(|| {
                aws_lc_rs::rsa::KeyPair::from_der(self.encoding.as_bytes()).map_err(|_| {
                    format!(
                        "SIGNING_KEYS key {:?}: private_key_pem is not a usable RSA private key",
                        self.kid
                    )
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
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

    /// Checks the current key's private half (see the module's header): what
    /// a function that issues tokens runs at init, and before it puts a
    /// refreshed set in force.
    pub fn check_signer(&self) -> Result<(), String> {
        self.current().signer().map(|_| ())
    }

    /// Checks every key's private half, as the key tool does before it
    /// writes a set: any of them may become current.
    pub fn check_private_keys(&self) -> Result<(), String> {
        self.keys
            .iter()
            .try_for_each(|key| key.signer().map(|_| ()))
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
    let rsa = rsa_private_key(der.secret_pkcs8_der())
        .ok_or_else(|| fault("private_key_pem is not an RSA private key in PKCS#8"))?;
    let bits = rsa.modulus_bits();
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(fault(&format!(
            "a {bits}-bit key; RSA keys of 2048 bits or more (up to {MAX_RSA_BITS}) are needed"
        )));
    }
    // An even exponent, or 1, is no RSA key (and aws-lc refuses it).
    if rsa.e.last().is_none_or(|last| last & 1 == 0) || rsa.e == [1] {
        return Err(fault("the public exponent is unusable"));
    }
    let n = URL_SAFE_NO_PAD.encode(rsa.n);
    let e = URL_SAFE_NO_PAD.encode(rsa.e);
    Ok(SigningKey {
        kid: kid.to_owned(),
        state: entry.state,
        encoding: EncodingKey::from_rsa_der(rsa.der),
        decoding: DecodingKey::from_rsa_raw_components(rsa.n, rsa.e),
        jwk: json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": n, "e": e}),
        signer: OnceLock::new(),
    })
}

/// What a verifier needs of an RSA private key, read from its DER without
/// any arithmetic.
struct RsaPrivateKey<'a> {
    /// The whole `RSAPrivateKey` (RFC 8017 A.1.2).
    der: &'a [u8],
    /// Modulus and public exponent, big-endian without leading zeros.
    n: &'a [u8],
    e: &'a [u8],
}

impl RsaPrivateKey<'_> {
    fn modulus_bits(&self) -> usize {
        self.n.first().map_or(0, |&top| {
            (self.n.len() - 1) * 8 + (8 - top.leading_zeros() as usize)
        })
    }
}

/// The RSA key of a PKCS#8 `PrivateKeyInfo` (RFC 5208 §5): version 1 (no
/// public key attached), the rsaEncryption algorithm with NULL parameters,
/// and a two-prime `RSAPrivateKey`, all strict DER, read by RustCrypto's
/// `pkcs8` and `pkcs1`. `None` for anything else, trailing bytes included.
fn rsa_private_key(pkcs8: &[u8]) -> Option<RsaPrivateKey<'_>> {
    let info = pkcs8::PrivateKeyInfoRef::try_from(pkcs8).ok()?;
    let parameters = info.algorithm.parameters.as_ref();
    if info.algorithm.oid != pkcs1::ALGORITHM_OID
        || !parameters.is_some_and(|parameters| parameters.is_null())
        || info.public_key.is_some()
    {
        return None;
    }
    let der = info.private_key.as_bytes();
    let key = pkcs1::RsaPrivateKeyRef::try_from(der).ok()?;
    let (n, e) = (key.modulus.as_bytes(), key.public_exponent.as_bytes());
    Some(RsaPrivateKey { der, n, e })
}

/// A key set for unit tests: throwaway keys that sign nothing anywhere else.
#[cfg(test)]
pub const TEST_KEY_SET: &str = concat!(
    r#"{"keys": [{"kid": "test-current", "state": "current", "private_key_pem": ""#,
    include_str!("../../tests-data/rsa-2048.json-pem"),
    r#""}, {"kid": "test-next", "state": "next", "private_key_pem": ""#,
    include_str!("../../tests-data/rsa-2048-b.json-pem"),
    r#""}]}"#
);

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
mod tests;
