//! Reading and forging access tokens: what an attacker, a clock or a thief
//! could present, built here so each test says only what is wrong with it.
//!
//! The service signs RS256 with the current key of its set (`SIGNING_KEYS`),
//! naming it in the header (`kid`). A token bad only in its claims or header
//! is signed the same way ([`signed_with`]), with the service's own key from
//! the backstage configuration; an attacker's tokens are signed with keys of
//! the attacker's ([`attacker_keys`], [`raw_token`]), or with what an attacker
//! can read: the published public key ([`public_key_pem`]).

use auth::tokens::keys::{KeyEntry, KeySet, KeySetDocument, KeyState, SigningKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use std::sync::LazyLock;

/// Signs arbitrary claims with an HMAC algorithm keyed with `secret` (header
/// `{"typ": "JWT", "alg": …}`, no kid): an attacker's guess at a shared secret.
pub fn sign_hmac(claims: &Value, algorithm: Algorithm, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// `claims` as the service signs them with `key`: RS256, the key's `kid` in
/// the header.
pub fn signed_with(key: &SigningKey, claims: &Value) -> String {
    let header = json!({ "typ": "JWT", "alg": "RS256", "kid": key.kid });
    forge(&header, claims, Algorithm::RS256, &key.encoding)
}

/// `claims` as the service signs them: RS256 with the set's current key.
pub fn signed_by(keys: &KeySet, claims: &Value) -> String {
    signed_with(keys.current(), claims)
}

/// A token with exactly this header and these claims, signed with `key`
/// under `algorithm` over the two parts, whatever the header says.
pub fn forge(header: &Value, claims: &Value, algorithm: Algorithm, key: &EncodingKey) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, algorithm).unwrap();
    format!("{message}.{signature}")
}

/// A token with exactly this header and these claims, HS256 over the two
/// parts with `key` (an attacker's secret), whatever the header says.
pub fn raw_token(header: &Value, claims: &Value, key: &[u8]) -> String {
    forge(
        header,
        claims,
        Algorithm::HS256,
        &EncodingKey::from_secret(key),
    )
}

/// An RSA key of 2048 bits in a set of its own (kid `attacker`, current):
/// a well-formed RS256 key that the service has never listed. Made once per
/// test binary: generating one takes a noticeable fraction of a second.
pub fn attacker_keys() -> &'static KeySet {
    static ATTACKER: LazyLock<KeySet> = LazyLock::new(|| {
        let keys = vec![new_key("attacker", KeyState::Current)];
        KeySet::from_document(&KeySetDocument { keys }).unwrap()
    });
    &ATTACKER
}

/// A new RSA key of 2048 bits, as a key set lists it.
pub fn new_key(kid: &str, state: KeyState) -> KeyEntry {
    KeyEntry {
        kid: kid.to_owned(),
        state,
        private_key_pem: auth::tokens::keys::generate_private_key_pem(2048).unwrap(),
        changed_at: None,
    }
}

/// A published RSA key (a JWK with `n` and `e`) as the PEM of its
/// SubjectPublicKeyInfo: the `public.pem` an attacker hands a verifier as
/// an HMAC secret in the algorithm-confusion attack.
pub fn public_key_pem(jwk: &Value) -> String {
    let integer = |field: &str| {
        let mut bytes = URL_SAFE_NO_PAD
            .decode(jwk[field].as_str().expect("an RSA JWK has n and e"))
            .unwrap();
        // DER integers are signed: a leading bit set needs a zero before it.
        if bytes.first().is_some_and(|byte| byte & 0x80 != 0) {
            bytes.insert(0, 0);
        }
        der(0x02, &bytes)
    };
    let rsa_public_key = der(0x30, &[integer("n"), integer("e")].concat());
    // rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters.
    let algorithm = der(
        0x30,
        &[
            der(
                0x06,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
            ),
            der(0x05, &[]),
        ]
        .concat(),
    );
    let bit_string = der(0x03, &[&[0][..], &rsa_public_key].concat());
    let info = der(0x30, &[algorithm, bit_string].concat());
    let base64 = STANDARD.encode(info);
    let lines: Vec<&str> = base64
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    )
}

/// One DER element: tag, length (short or long form), content.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let length = content.len();
    let mut out = vec![tag];
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|&byte| byte == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A JSON value as a token part: base64url, unpadded.
pub fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// An unsigned token (`alg` none in any spelling) over an encoded payload,
/// with an empty signature part.
pub fn unsigned(alg: &str, payload: &str) -> String {
    format!("{}.{payload}.", b64(&json!({ "alg": alg, "typ": "JWT" })))
}

/// The same token with its payload changed to another user, signature kept.
pub fn tamper(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let other_user = with(&claims_of(token), "sub", json!("someone-else"));
    format!("{}.{}.{}", parts[0], b64(&other_user), parts[2])
}

/// A token part as JSON (trusting it: only for tests).
fn part_of(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a JWT has three parts");
    let bytes = URL_SAFE_NO_PAD.decode(part).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The header of a token.
pub fn header_of(token: &str) -> Value {
    part_of(token, 0)
}

/// The key a token names (`kid`).
pub fn kid_of(token: &str) -> String {
    header_of(token)["kid"]
        .as_str()
        .expect("our tokens name their key")
        .to_owned()
}

/// The claims of a token (trusting it: only for tests).
pub fn claims_of(token: &str) -> Value {
    part_of(token, 1)
}

/// The user id a token names (`sub`).
pub fn user_of(token: &str) -> String {
    claims_of(token)["sub"].as_str().unwrap().to_owned()
}

/// The session a token belongs to (`sid`).
pub fn session_of(token: &str) -> String {
    claims_of(token)["sid"].as_str().unwrap().to_owned()
}

/// The token's id (`jti`), the key of its revocation.
pub fn jti_of(token: &str) -> String {
    claims_of(token)["jti"].as_str().unwrap().to_owned()
}

/// The claims with one claim removed.
pub fn without(claims: &Value, name: &str) -> Value {
    let mut claims = claims.clone();
    claims.as_object_mut().unwrap().remove(name);
    claims
}

/// The claims with one claim set.
pub fn with(claims: &Value, name: &str, value: Value) -> Value {
    let mut claims = claims.clone();
    claims[name] = value;
    claims
}

/// The audience a verifier of our tokens is configured with: the service's
/// `TOKEN_AUDIENCE`, which every suite leaves at its default.
pub fn audience() -> String {
    std::env::var("TOKEN_AUDIENCE").unwrap_or_else(|_| "token-auth".to_owned())
}

/// One rotation as `make keys rotate` makes it (tools/keys/src/rotation.rs,
/// a binary's module, so its steps are repeated here): `next` → `current`,
/// `current` → `retired`, and `fresh` added as the new `next`.
pub fn rotate(document: &KeySetDocument, fresh: &KeyEntry) -> KeySetDocument {
    let mut keys: Vec<_> = (document.keys.iter().cloned())
        .map(|mut key| {
            key.state = match key.state {
                KeyState::Next => KeyState::Current,
                KeyState::Current | KeyState::Retired => KeyState::Retired,
            };
            key
        })
        .collect();
    keys.push(KeyEntry {
        state: KeyState::Next,
        ..fresh.clone()
    });
    KeySetDocument { keys }
}
