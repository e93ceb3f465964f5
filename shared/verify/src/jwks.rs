//! The published key set: parsed into RS256 decoding keys, and how long it
//! may be kept (`Cache-Control`).

use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A key set larger than this is not ours (the service publishes two or
/// three keys of a few hundred bytes each).
pub(crate) const MAX_JWKS_BYTES: usize = 256 * 1024;

#[derive(Deserialize)]
struct Document {
    keys: Vec<Value>,
}

/// The RS256 signing keys of a JWKS document, by `kid`. Keys of another
/// type, algorithm or use are skipped; a document with no usable key at all
/// is an error, as is one that is not a JWKS.
pub(crate) fn parse(body: &[u8]) -> Result<HashMap<String, Arc<DecodingKey>>, String> {
    let document: Document =
        serde_json::from_slice(body).map_err(|e| format!("not a JWKS document: {e}"))?;
    let mut keys = HashMap::new();
    for jwk in &document.keys {
        let text = |name: &str| jwk.get(name).and_then(Value::as_str);
        let usable = text("kty") == Some("RSA")
            && text("alg").is_none_or(|alg| alg == "RS256")
            && text("use").is_none_or(|usage| usage == "sig");
        let (Some(kid), Some(n), Some(e)) = (text("kid"), text("n"), text("e")) else {
            continue;
        };
        if !usable || kid.is_empty() {
            continue;
        }
        if let Ok(key) = DecodingKey::from_rsa_components(n, e) {
            keys.insert(kid.to_owned(), Arc::new(key));
        }
    }
    if keys.is_empty() {
        return Err("the JWKS has no RS256 signing key".into());
    }
    Ok(keys)
}

/// The lifetime a `Cache-Control` value gives: `max-age=N` (RFC 9111
/// §5.2.2.1), zero for `no-store` or `no-cache`; `None` when it says neither.
pub(crate) fn max_age(cache_control: &str) -> Option<Duration> {
    let mut found = None;
    for directive in cache_control.split(',') {
        let directive = directive.trim();
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        match name.trim().to_ascii_lowercase().as_str() {
            "no-store" | "no-cache" => return Some(Duration::ZERO),
            "max-age" => {
                let seconds = value.trim().trim_matches('"').parse::<u64>().ok()?;
                found = Some(Duration::from_secs(seconds));
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_max_age_and_the_directives_that_forbid_caching() {
        let seconds = |value: &str| max_age(value).map(|age| age.as_secs());
        assert_eq!(seconds("public, max-age=300"), Some(300));
        assert_eq!(seconds("Max-Age=60"), Some(60));
        assert_eq!(seconds("max-age=\"7\", public"), Some(7));
        assert_eq!(seconds("no-store"), Some(0));
        assert_eq!(seconds("public, max-age=300, no-cache"), Some(0));
        assert_eq!(seconds("public"), None);
        assert_eq!(seconds("max-age=soon"), None);
        assert_eq!(seconds(""), None);
    }

    #[test]
    fn keeps_only_rs256_signing_keys() {
        let n = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";
        let document = serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "a", "alg": "RS256", "use": "sig", "n": n, "e": "AQAB"},
            {"kty": "RSA", "kid": "b", "n": n, "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": n, "e": "AQAB"},
            {"kty": "RSA", "kid": "ps", "alg": "PS256", "n": n, "e": "AQAB"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "", "n": n, "e": "AQAB"},
        ]});
        let keys = parse(document.to_string().as_bytes()).unwrap();
        let mut kids: Vec<_> = keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        assert_eq!(kids, ["a", "b"]);
        assert!(parse(br#"{"keys": []}"#).is_err());
        assert!(parse(b"<html>").is_err());
    }
}
