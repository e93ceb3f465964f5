//! Reading and forging access tokens: what an attacker, a clock or a thief
//! could present, built here so each test says only what is wrong with it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// Signs arbitrary claims, to forge the tokens an attacker or a clock could produce.
pub fn sign(claims: &Value, algorithm: Algorithm, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// A token with exactly this header and these claims, signed with `key` (HS256
/// over the two parts, whatever the header says).
pub fn raw_token(header: &Value, claims: &Value, key: &[u8]) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(key),
        Algorithm::HS256,
    )
    .unwrap();
    format!("{message}.{signature}")
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

/// The claims of a token (trusting it: only for tests).
pub fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = URL_SAFE_NO_PAD.decode(payload).unwrap();
    serde_json::from_slice(&bytes).unwrap()
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
