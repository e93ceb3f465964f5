//! Unit tests of [`super`].

use super::*;
use crate::roles::Roles;
use crate::store::SignIn;
use crate::tokens::keys::TEST_KEY_SET;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::EncodingKey;
use serde_json::{Value, json};

const ISSUER: &str = "https://auth.example.com";
const AUDIENCE: &str = "token-auth";
/// Ids of the shapes we issue.
const USER: &str = "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e";
const SID: &str = "AAAAAAAAAAAAAAAAAAAAAA";
const JTI: &str = "QUJDREVGR0hJSktMTU5PUA";

fn keys() -> Arc<KeySet> {
    Arc::new(KeySet::from_json(TEST_KEY_SET).unwrap())
}

fn tokens() -> Tokens {
    Tokens::new(keys(), AUDIENCE, 3600)
}

/// `claims` under `header` (RS256 with the current key's kid unless it
/// says otherwise), signed with the current key.
fn sign(header: Header, claims: &Value) -> String {
    let keys = keys();
    jsonwebtoken::encode(&header, claims, &keys.current().encoding).unwrap()
}

fn rs256(kid: &str) -> Header {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    header
}

fn current() -> Header {
    rs256("test-current")
}

fn good_claims(now: u64) -> Value {
    json!({"sub": USER, "iat": now, "exp": now + 60, "jti": JTI, "iss": ISSUER,
           "aud": AUDIENCE, "sid": SID})
}

fn refused(tokens: &Tokens, token: &str, now: u64) -> bool {
    tokens.verify(token, ISSUER, now) == Err(TokenRejection::Invalid)
}

#[test]
fn an_issued_token_verifies_with_its_claims_and_names_its_key() {
    let tokens = tokens();
    let now = crate::now();
    let (token, claims) = tokens
        .issue(
            USER,
            SID,
            &Roles::default(),
            &SignIn::password(now),
            ISSUER,
            now,
        )
        .unwrap();
    assert_eq!(tokens.verify(&token, ISSUER, now).unwrap(), claims);
    assert_eq!(claims.exp, now + 3600);
    assert_eq!(
        (claims.iss.as_str(), claims.aud.as_str()),
        (ISSUER, AUDIENCE)
    );
    assert_eq!(claims.jti.len(), 22, "128 bits in unpadded base64");
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), Some("test-current"));
}

#[test]
fn each_token_gets_its_own_jti() {
    let tokens = tokens();
    let now = crate::now();
    let (_, a) = tokens
        .issue(
            USER,
            SID,
            &Roles::default(),
            &SignIn::password(now),
            ISSUER,
            now,
        )
        .unwrap();
    let (_, b) = tokens
        .issue(
            USER,
            SID,
            &Roles::default(),
            &SignIn::password(now),
            ISSUER,
            now,
        )
        .unwrap();
    assert_ne!(a.jti, b.jti);
}

#[test]
fn every_listed_key_verifies_and_only_listed_ones() {
    let tokens = tokens();
    let now = crate::now();
    let keys = keys();
    let next = keys.get("test-next").unwrap();
    let by_next = jsonwebtoken::encode(&rs256("test-next"), &good_claims(now), &next.encoding);
    assert!(tokens.verify(&by_next.unwrap(), ISSUER, now).is_ok());
    // The current key's signature under the next key's name, an unknown
    // kid, and none at all.
    for header in [
        rs256("test-next"),
        rs256("gone"),
        Header::new(Algorithm::RS256),
    ] {
        assert!(refused(&tokens, &sign(header, &good_claims(now)), now));
    }
    // After a swap to a set without the signing key, its tokens fail.
    let (token, _) = tokens
        .issue(
            USER,
            SID,
            &Roles::default(),
            &SignIn::password(now),
            ISSUER,
            now,
        )
        .unwrap();
    let only_next = TEST_KEY_SET
        .replacen(r#""state": "current""#, r#""state": "retired""#, 1)
        .replacen(r#""state": "next""#, r#""state": "current""#, 1);
    let rotated = Arc::new(KeySet::from_json(&only_next).unwrap());
    tokens.replace_keys(rotated);
    assert!(
        tokens.verify(&token, ISSUER, now).is_ok(),
        "retired keys verify"
    );
    let (new, _) = tokens
        .issue(
            USER,
            SID,
            &Roles::default(),
            &SignIn::password(now),
            ISSUER,
            now,
        )
        .unwrap();
    let kid = jsonwebtoken::decode_header(&new).unwrap().kid;
    assert_eq!(kid.as_deref(), Some("test-next"));
}

#[test]
fn expiry_is_exact_with_no_leeway() {
    let tokens = tokens();
    let now = crate::now();
    let mut claims = good_claims(now);
    claims["exp"] = json!(now - 1);
    let expired = sign(current(), &claims);
    let result = tokens.verify(&expired, ISSUER, now);
    assert_eq!(result, Err(TokenRejection::Expired));
    claims["exp"] = json!(now);
    let expiring_now = sign(current(), &claims);
    let result = tokens.verify(&expiring_now, ISSUER, now);
    assert_eq!(result, Err(TokenRejection::Expired));
}

#[test]
fn hmac_with_the_public_key_other_algorithms_and_garbage_are_invalid() {
    let tokens = tokens();
    let now = crate::now();
    let claims = good_claims(now);
    // The classic confusion: HS256 keyed with what the JWKS publishes.
    let public = keys().current().jwk.to_string();
    let mut hs256 = Header::new(Algorithm::HS256);
    hs256.kid = Some("test-current".into());
    let confused = jsonwebtoken::encode(
        &hs256,
        &claims,
        &EncodingKey::from_secret(public.as_bytes()),
    );
    let mut ps256 = current();
    ps256.alg = Algorithm::PS256;
    for token in [
        confused.unwrap(),
        sign(ps256, &claims),
        "garbage".to_owned(),
        "a.b.c".to_owned(),
    ] {
        assert!(refused(&tokens, &token, now), "{token}");
    }
}

#[test]
fn alg_none_is_invalid() {
    let tokens = tokens();
    let now = crate::now();
    for alg in ["none", "None", "NONE"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": "test-current"});
        let header = URL_SAFE_NO_PAD.encode(header.to_string());
        let payload = URL_SAFE_NO_PAD.encode(good_claims(now).to_string());
        assert!(
            refused(&tokens, &format!("{header}.{payload}."), now),
            "{alg}"
        );
    }
}

#[test]
fn a_crit_header_is_refused_whatever_it_names() {
    let tokens = tokens();
    let now = crate::now();
    for crit in [vec!["exp".to_owned()], vec!["b64".to_owned()], vec![]] {
        let mut header = current();
        header.crit = Some(crit.clone());
        assert!(
            refused(&tokens, &sign(header, &good_claims(now)), now),
            "{crit:?}"
        );
    }
    let plain = sign(current(), &good_claims(now));
    assert!(tokens.verify(&plain, ISSUER, now).is_ok());
}

#[test]
fn ids_not_of_our_shape_are_refused_before_storage() {
    let tokens = tokens();
    let now = crate::now();
    for (claim, value) in [
        ("sub", String::new()),
        ("sub", "u1".to_owned()),
        ("sub", USER.to_uppercase()),
        ("sid", String::new()),
        ("sid", "x".repeat(2048)),
        ("jti", String::new()),
        ("jti", "j".repeat(3000)),
        ("jti", format!("{JTI}=")),
    ] {
        let mut claims = good_claims(now);
        claims[claim] = json!(value);
        let token = sign(current(), &claims);
        assert!(refused(&tokens, &token, now), "{claim} = {value:.40}");
    }
}

#[test]
fn every_issued_claim_is_required() {
    let tokens = tokens();
    let now = crate::now();
    for missing in ["sub", "iat", "exp", "jti", "iss", "aud", "sid"] {
        let mut claims = good_claims(now);
        claims.as_object_mut().unwrap().remove(missing);
        let token = sign(current(), &claims);
        assert!(refused(&tokens, &token, now), "without {missing}");
    }
}

#[test]
fn wrong_issuer_or_audience_future_dates_and_mistyped_claims_are_invalid() {
    let tokens = tokens();
    let now = crate::now();
    let with = |claim: &str, value: Value| {
        let mut claims = good_claims(now);
        claims[claim] = value;
        claims
    };
    for claims in [
        with("iss", json!("https://someone-else.example")),
        with("aud", json!("another-api")),
        with("aud", json!(["another-api"])),
        with("nbf", json!(now + 30)),
        with("iat", json!(now + 30)),
        with("iat", json!(now.to_string())),
    ] {
        assert!(refused(&tokens, &sign(current(), &claims), now), "{claims}");
    }
    // The issuer a token is checked against is the one it was issued for.
    let (token, _) = tokens
        .issue(
            USER,
            SID,
            &Roles::default(),
            &SignIn::password(now),
            ISSUER,
            now,
        )
        .unwrap();
    let elsewhere = tokens.verify(&token, "https://elsewhere.example", now);
    assert_eq!(elsewhere, Err(TokenRejection::Invalid));
}

/// The first signature of a cold start costs a signature, not 30 to 50 ms of
/// CPU-jitter sampling: aws-lc is built to seed from the OS (.cargo/config.toml,
/// issue 29). Fails when cargo ran without that file (from outside the
/// repository) or aws-lc-sys stopped reading the setting.
#[test]
fn aws_lc_seeds_from_the_os() {
    assert!(
        aws_lc_rs::try_fips_cpu_jitter_entropy().is_err(),
        "aws-lc was built with its CPU-jitter entropy source; see .cargo/config.toml"
    );
}
