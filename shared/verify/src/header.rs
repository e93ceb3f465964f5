//! A token's header, read before jsonwebtoken sees the token.

use crate::VerifyError;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

/// A token longer than this is refused unread.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The `kid` of a token whose header pins RS256 and names no critical
/// extension: read here, before jsonwebtoken, so that `alg: none` and
/// unknown algorithms are refused as such, and nothing else in the header
/// (`jku`, `jwk`, `x5u`) is ever looked at.
pub(crate) fn checked_header(token: &str) -> Result<String, VerifyError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(VerifyError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed);
    };
    let header: Map<String, Value> = (URL_SAFE_NO_PAD.decode(header).ok())
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or(VerifyError::Malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(VerifyError::WrongAlgorithm);
    }
    // RFC 7515 §4.1.11: critical extensions a verifier does not understand
    // must be refused, and this one understands none.
    if header.contains_key("crit") {
        return Err(VerifyError::Invalid("a crit header".into()));
    }
    match header.get("kid").and_then(Value::as_str) {
        Some(kid) if !kid.is_empty() => Ok(kid.to_owned()),
        _ => Err(VerifyError::UnknownKey),
    }
}
