//! Unit tests of [`super`], with keys the tests make: the unit tests' RSA key
//! set (`tokens::keys::TEST_KEY_SET`) and a fresh P-256 key.

use super::*;
use crate::tokens::keys::{KeySet, TEST_KEY_SET};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

pub(crate) const ISSUER: &str = "https://accounts.example.com";
pub(crate) const CLIENT: &str = "our-client";
pub(crate) const NONCE: &str = "nonce-from-the-state";
pub(crate) const NOW: u64 = 1_900_000_000;

/// The RSA key `kid` of the test key set: its private half to sign, its JWK.
pub(crate) fn rsa_key(kid: &str) -> (EncodingKey, Jwk) {
    let set = KeySet::from_json(TEST_KEY_SET).unwrap();
    let key = set.get(kid).unwrap();
    (
        key.encoding.clone(),
        serde_json::from_value(key.jwk.clone()).unwrap(),
    )
}

/// A new P-256 key: its private half to sign, its JWK (no `alg`).
fn ec_key(kid: &str) -> (EncodingKey, Jwk) {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let der = pair.to_pkcs8v1().unwrap();
    let point = pair.public_key().as_ref().to_vec();
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])});
    (
        EncodingKey::from_ec_der(der.as_ref()),
        serde_json::from_value(jwk).unwrap(),
    )
}

pub(crate) fn good_claims() -> Value {
    json!({"iss": ISSUER, "sub": "alice", "aud": CLIENT, "exp": NOW + 600, "iat": NOW - 5,
        "nonce": NONCE, "email": "alice@example.com", "email_verified": true})
}

pub(crate) fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn expected() -> Expected<'static> {
    Expected {
        issuer: ISSUER,
        client_id: CLIENT,
        nonce: NONCE,
        now: NOW,
    }
}

fn check(claims: &Value) -> Result<IdClaims, OidcError> {
    let (key, jwk) = rsa_key("test-current");
    verify(
        &sign(Algorithm::RS256, Some("test-current"), claims, &key),
        &jwk,
        &expected(),
    )
}

fn with(field: &str, value: Value) -> Value {
    let mut claims = good_claims();
    claims[field] = value;
    claims
}

fn without(field: &str) -> Value {
    let mut claims = good_claims();
    claims.as_object_mut().unwrap().remove(field);
    claims
}

fn reason(result: Result<IdClaims, OidcError>) -> String {
    match result {
        Err(OidcError::InvalidIdToken(reason)) => reason,
        other => panic!("not refused as invalid: {other:?}"),
    }
}

#[test]
fn a_good_token_gives_its_claims() {
    let claims = check(&good_claims()).unwrap();
    assert_eq!(
        claims,
        IdClaims {
            sub: "alice".into(),
            email: Some("alice@example.com".into()),
            email_verified: true,
            iss: ISSUER.into(),
        }
    );
    // No email: none, unverified.
    let bare = check(&without("email")).unwrap();
    assert_eq!((bare.email, bare.email_verified), (None, true));
    // Several audiences with azp ours; azp alone, ours.
    let many = with("aud", json!([CLIENT, "another"]));
    let mut many_with_azp = many.clone();
    many_with_azp["azp"] = json!(CLIENT);
    assert!(check(&many_with_azp).is_ok());
    assert!(check(&with("azp", json!(CLIENT))).is_ok());
    // iat and nbf up to a minute ahead of our clock.
    assert!(check(&with("iat", json!(NOW + 60))).is_ok());
    assert!(check(&with("nbf", json!(NOW + 60))).is_ok());
}

#[test]
fn email_verified_is_true_only_for_the_json_true() {
    for value in [
        json!(false),
        json!("true"),
        json!("yes"),
        json!(1),
        json!(null),
    ] {
        let claims = check(&with("email_verified", value.clone())).unwrap();
        assert!(!claims.email_verified, "{value}");
    }
    assert!(!check(&without("email_verified")).unwrap().email_verified);
    assert!(check(&with("email", json!(["a@example.com"]))).is_err());
    assert_eq!(check(&with("email", json!(""))).unwrap().email, None);
}

#[test]
fn issuer_audience_and_times_are_checked() {
    assert!(reason(check(&with("iss", json!("https://evil.example.com")))).contains("issuer"));
    assert!(reason(check(&with("iss", json!(format!("{ISSUER}/"))))).contains("issuer"));
    assert!(reason(check(&with("aud", json!("another-client")))).contains("audience"));
    assert!(reason(check(&with("aud", json!(["a", "b"])))).contains("audience"));
    let many = with("aud", json!([CLIENT, "another"]));
    assert!(reason(check(&many)).contains("azp"));
    assert!(reason(check(&with("azp", json!("another")))).contains("another party"));
    assert!(reason(check(&with("exp", json!(NOW)))).contains("expired"));
    assert!(reason(check(&with("exp", json!(NOW - 3600)))).contains("expired"));
    assert!(reason(check(&with("iat", json!(NOW + 61)))).contains("future"));
    assert!(reason(check(&with("nbf", json!(NOW + 61)))).contains("future"));
    assert!(reason(check(&with("sub", json!("")))).contains("sub"));
    assert!(reason(check(&with("sub", json!("a".repeat(256))))).contains("sub"));
    for field in ["iss", "sub", "aud", "exp", "iat"] {
        assert!(check(&without(field)).is_err(), "{field} missing");
    }
    assert!(check(&with("exp", json!("tomorrow"))).is_err());
}

#[test]
fn the_nonce_must_be_the_stored_one() {
    assert_eq!(
        check(&with("nonce", json!("another"))),
        Err(OidcError::NonceMismatch)
    );
    assert_eq!(check(&without("nonce")), Err(OidcError::NonceMismatch));
    assert_eq!(
        check(&with("nonce", json!(null))),
        Err(OidcError::NonceMismatch)
    );
    let (key, jwk) = rsa_key("test-current");
    let token = sign(Algorithm::RS256, None, &with("nonce", json!("")), &key);
    let empty = Expected {
        nonce: "",
        ..expected()
    };
    assert_eq!(verify(&token, &jwk, &empty), Err(OidcError::NonceMismatch));
}

#[test]
fn the_signature_must_be_the_providers_key() {
    let (key, jwk) = rsa_key("test-current");
    let (other_key, other_jwk) = rsa_key("test-next");
    let by_other = sign(
        Algorithm::RS256,
        Some("test-current"),
        &good_claims(),
        &other_key,
    );
    assert!(reason(verify(&by_other, &jwk, &expected())).contains("signature"));
    // A claim changed after signing.
    let token = sign(Algorithm::RS256, Some("test-current"), &good_claims(), &key);
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(with("sub", json!("mallory")).to_string());
    assert!(verify(&parts.join("."), &jwk, &expected()).is_err());
    // Garbage of every shape, and no panic.
    for garbage in [
        "",
        ".",
        "..",
        "a.b.c",
        "not a token",
        &token[..token.len() - 3],
    ] {
        assert!(verify(garbage, &jwk, &expected()).is_err(), "{garbage}");
    }
    assert!(verify(&token, &other_jwk, &expected()).is_err());
}

#[test]
fn only_rs256_and_es256_as_the_key_says() {
    let (rsa, rsa_jwk) = rsa_key("test-current");
    // alg none: unsigned.
    let head = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(good_claims().to_string());
    assert!(verify(&format!("{head}.{body}."), &rsa_jwk, &expected()).is_err());
    assert!(header(&format!("{head}.{body}.")).is_err());
    // HS256 keyed with the public key's bytes (the classic confusion).
    let hmac = EncodingKey::from_secret(rsa_jwk.common.key_id.as_deref().unwrap().as_bytes());
    let hs = sign(
        Algorithm::HS256,
        Some("test-current"),
        &good_claims(),
        &hmac,
    );
    assert!(reason(verify(&hs, &rsa_jwk, &expected())).contains("not accepted"));
    // RS384/PS256 with the right key: not pinned, refused.
    for alg in [Algorithm::RS384, Algorithm::PS256] {
        let token = sign(alg, Some("test-current"), &good_claims(), &rsa);
        assert!(reason(verify(&token, &rsa_jwk, &expected())).contains("not accepted"));
    }
    // ES256 by a P-256 key.
    let (ec, ec_jwk) = ec_key("ec-1");
    let es = sign(Algorithm::ES256, Some("ec-1"), &good_claims(), &ec);
    assert_eq!(key_algorithm(&ec_jwk), Some(Algorithm::ES256));
    assert_eq!(verify(&es, &ec_jwk, &expected()).unwrap().sub, "alice");
    // A token's algorithm that is not its key's.
    assert!(reason(verify(&es, &rsa_jwk, &expected())).contains("the key is for"));
    let rs = sign(Algorithm::RS256, Some("ec-1"), &good_claims(), &rsa);
    assert!(reason(verify(&rs, &ec_jwk, &expected())).contains("the key is for"));
    // A key whose alg says another algorithm than its type gives: unusable.
    let mut mislabelled = rsa_jwk.clone();
    mislabelled.common.key_algorithm = Some(KeyAlgorithm::ES256);
    assert_eq!(key_algorithm(&mislabelled), None);
    mislabelled.common.key_algorithm = Some(KeyAlgorithm::HS256);
    assert_eq!(key_algorithm(&mislabelled), None);
}

#[test]
fn keys_are_selected_by_kid_or_alone() {
    let (_, current) = rsa_key("test-current");
    let (_, next) = rsa_key("test-next");
    let both = vec![current.clone(), next.clone()];
    assert_eq!(select_key(&both, Some("test-next")), Some(&next));
    assert_eq!(select_key(&both, Some("unknown")), None);
    assert_eq!(select_key(&both, None), None, "no kid among several keys");
    assert_eq!(select_key(&both[..1], None), Some(&current));
    let mut encryption = next.clone();
    encryption.common.public_key_use = Some(PublicKeyUse::Encryption);
    assert_eq!(select_key(&[encryption], Some("test-next")), None);
}
