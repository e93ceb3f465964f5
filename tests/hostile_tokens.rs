//! Hostile access tokens, each tried on status and logout against the real
//! app: every one is refused with 401 and the contract message, never a 5xx,
//! no key URL a token names is fetched, and the token they were all made from
//! still works. The count is printed for the record
//! (`cargo test --test hostile_tokens -- --nocapture`). The contract's own
//! token cases (missing, malformed, expired, forged) are in status.rs.
//!
//! An attacker's keys are tried every way a token can name them (HMAC
//! secrets, an RSA key of their own under our kid, a URL or an embedded
//! JWK), and so is the algorithm-confusion attack: HS256/384/512 keyed with
//! our published public key. Cases that need the real signing key (to sign a
//! token that is bad only in its claims or header: another algorithm, an
//! unknown or missing kid, another issuer or audience) skip when it is not
//! at hand, saying so. Among them (issue 11): ids
//! not of the shape we issue, empty or past DynamoDB's key limits, which must
//! be refused before storage (else DynamoDB refuses the key: a 503), and a
//! `crit` header, which RFC 7515 says a verifier that does not know the
//! extensions it names must refuse.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use test_support::*;

const ATTACKER_KEY: &[u8] = b"the attacker's own key, 32 bytes or more";

/// A local port that counts the connections made to it: a key URL a token
/// names, which the service must never fetch.
async fn key_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/keys.json", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    (url, connections)
}

#[tokio::test]
async fn hostile_tokens_are_all_refused_with_the_contract_message() {
    let app = app().await;
    let registered = new_account(&app).await.1;
    let token = registered.token();
    let claims = claims_of(&token);
    let parts: Vec<&str> = token.split('.').collect();
    let (header, payload) = (parts[0], parts[1]);
    let kid = kid_of(&token);
    let now = auth::now();
    let (key_url, fetches) = key_server().await;

    let none = |alg: &str| unsigned(alg, payload);
    let attacker_headers = [
        json!({ "alg": "HS256", "kid": "attacker" }),
        json!({ "alg": "HS256", "jku": key_url }),
        json!({ "alg": "HS256", "x5u": key_url }),
        json!({ "alg": "HS256", "jwk": { "kty": "oct", "k": URL_SAFE_NO_PAD.encode(ATTACKER_KEY) } }),
    ];
    // The attacker's own RSA key, named every way a token can name a key:
    // its own kid, ours, none, a URL to fetch it from, itself embedded.
    let attacker = attacker_keys().current();
    let attacker_jwk = &attacker.jwk;
    let attacker_rsa_headers = [
        json!({ "alg": "RS256", "kid": "attacker" }),
        json!({ "alg": "RS256", "kid": kid }),
        json!({ "alg": "RS256" }),
        json!({ "alg": "RS256", "kid": kid, "jku": key_url }),
        json!({ "alg": "RS256", "kid": kid, "x5u": key_url }),
        json!({ "alg": "RS256", "kid": kid, "jwk": attacker_jwk }),
    ];

    let mut cases: Vec<(String, String, &str)> = vec![
        ("alg none".into(), none("none"), INVALID_TOKEN),
        ("alg None".into(), none("None"), INVALID_TOKEN),
        ("alg NONE".into(), none("NONE"), INVALID_TOKEN),
        (
            "alg none, no signature part".into(),
            none("none").trim_end_matches('.').into(),
            INVALID_TOKEN,
        ),
        ("payload tampered".into(), tamper(&token), INVALID_TOKEN),
        (
            "signature stripped".into(),
            format!("{header}.{payload}"),
            INVALID_TOKEN,
        ),
        (
            "signature emptied".into(),
            format!("{header}.{payload}."),
            INVALID_TOKEN,
        ),
        (
            "signature of another key".into(),
            raw_token(&json!({"alg": "HS256"}), &claims, ATTACKER_KEY),
            INVALID_TOKEN,
        ),
        (
            "refresh token as bearer".into(),
            registered.refresh_token(),
            INVALID_TOKEN,
        ),
        (
            "100 KB token".into(),
            format!("{header}.{}.{}", "A".repeat(100 * 1024), parts[2]),
            INVALID_TOKEN,
        ),
        (
            "four parts".into(),
            format!("{token}.{}", parts[2]),
            INVALID_TOKEN,
        ),
        ("garbage".into(), "not-a-token".into(), INVALID_TOKEN),
    ];
    for header in &attacker_headers {
        let name = format!(
            "attacker-signed with {}",
            header.as_object().unwrap().keys().next_back().unwrap()
        );
        cases.push((
            name,
            raw_token(header, &claims, ATTACKER_KEY),
            INVALID_TOKEN,
        ));
    }
    for header in &attacker_rsa_headers {
        let name = format!("another RSA key, header {}", without(header, "jwk"));
        let forged = forge(header, &claims, Algorithm::RS256, &attacker.encoding);
        cases.push((name, forged, INVALID_TOKEN));
    }

    // Algorithm confusion: HMAC keyed with what anyone can read, the
    // published public key, in each form a verifier might hold it (the JWK
    // as served, the PEM a library builds from it, the raw modulus).
    let published = published_key_of(&app, &token).await;
    let pem = public_key_pem(&published);
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[claims["aud"].as_str().unwrap()]);
    let public = DecodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let pem_verifies = jsonwebtoken::decode::<Value>(&token, &public, &validation);
    assert!(pem_verifies.is_ok(), "the PEM is the published key's");
    let jwk_text = published.to_string();
    let modulus = URL_SAFE_NO_PAD
        .decode(published["n"].as_str().unwrap())
        .unwrap();
    let public_forms: [(&str, &[u8]); 3] = [
        ("PEM", pem.as_bytes()),
        ("JWK", jwk_text.as_bytes()),
        ("modulus", &modulus),
    ];
    for (form, secret) in public_forms {
        for algorithm in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let header = json!({ "typ": "JWT", "alg": format!("{algorithm:?}"), "kid": kid });
            let key = EncodingKey::from_secret(secret);
            cases.push((
                format!("{algorithm:?} keyed with the public key's {form}"),
                forge(&header, &claims, algorithm, &key),
                INVALID_TOKEN,
            ));
        }
    }

    // Bad only in their claims, header or algorithm: they need the real key.
    if let Some(backstage) = backstage_or_skip("hostile tokens signed with the real key").await {
        let keys = &backstage.config.signing_keys;
        let current = keys.current();
        let rs = |claims: &Value| backstage.sign(claims);
        let under =
            |header: Value, algorithm| forge(&header, &claims, algorithm, &current.encoding);
        let mut signed_cases = vec![
            (
                "RS384 with the right key",
                under(
                    json!({ "typ": "JWT", "alg": "RS384", "kid": kid }),
                    Algorithm::RS384,
                ),
                INVALID_TOKEN,
            ),
            (
                "RS512 with the right key",
                under(
                    json!({ "typ": "JWT", "alg": "RS512", "kid": kid }),
                    Algorithm::RS512,
                ),
                INVALID_TOKEN,
            ),
            (
                "PS256 with the right key",
                under(
                    json!({ "typ": "JWT", "alg": "PS256", "kid": kid }),
                    Algorithm::PS256,
                ),
                INVALID_TOKEN,
            ),
            (
                "unknown kid",
                under(
                    json!({ "typ": "JWT", "alg": "RS256", "kid": "gone" }),
                    Algorithm::RS256,
                ),
                INVALID_TOKEN,
            ),
            (
                "kid missing",
                under(json!({ "typ": "JWT", "alg": "RS256" }), Algorithm::RS256),
                INVALID_TOKEN,
            ),
            (
                "kid not a string",
                under(
                    json!({ "typ": "JWT", "alg": "RS256", "kid": 1 }),
                    Algorithm::RS256,
                ),
                INVALID_TOKEN,
            ),
            (
                "exp as a string",
                rs(&with(&claims, "exp", json!((now + 600).to_string()))),
                INVALID_TOKEN,
            ),
            (
                "iat as a string",
                rs(&with(&claims, "iat", json!(now.to_string()))),
                INVALID_TOKEN,
            ),
            (
                "nbf as a string",
                rs(&with(&claims, "nbf", json!(now.to_string()))),
                INVALID_TOKEN,
            ),
            (
                "nbf in the future",
                rs(&with(&claims, "nbf", json!(now + 600))),
                INVALID_TOKEN,
            ),
            (
                "iat in the future",
                rs(&with(&claims, "iat", json!(now + 600))),
                INVALID_TOKEN,
            ),
            ("exp missing", rs(&without(&claims, "exp")), INVALID_TOKEN),
            ("sub missing", rs(&without(&claims, "sub")), INVALID_TOKEN),
            ("jti missing", rs(&without(&claims, "jti")), INVALID_TOKEN),
            ("iss missing", rs(&without(&claims, "iss")), INVALID_TOKEN),
            ("aud missing", rs(&without(&claims, "aud")), INVALID_TOKEN),
            (
                "another issuer",
                rs(&with(&claims, "iss", json!("someone-else"))),
                INVALID_TOKEN,
            ),
            (
                "the issuer with a slash after it",
                rs(&with(
                    &claims,
                    "iss",
                    json!(format!("{}/", claims["iss"].as_str().unwrap())),
                )),
                INVALID_TOKEN,
            ),
            (
                "another audience",
                rs(&with(&claims, "aud", json!("another-api"))),
                INVALID_TOKEN,
            ),
            (
                "another audience, in a list",
                rs(&with(&claims, "aud", json!(["another-api"]))),
                INVALID_TOKEN,
            ),
            (
                "expired by one second",
                rs(&with(
                    &with(&claims, "exp", json!(now - 1)),
                    "iat",
                    json!(now - 60),
                )),
                EXPIRED_TOKEN,
            ),
            (
                "expiring this very second",
                rs(&with(&claims, "exp", json!(now))),
                EXPIRED_TOKEN,
            ),
        ];
        // The current key's signature under the name of another key of the set.
        let others = keys.jwks()["keys"].as_array().unwrap().clone();
        let other = others.iter().find(|key| key["kid"] != current.kid.as_str());
        if let Some(other) = other {
            let header = json!({ "typ": "JWT", "alg": "RS256", "kid": other["kid"] });
            signed_cases.push((
                "the kid of another key of the set",
                under(header, Algorithm::RS256),
                INVALID_TOKEN,
            ));
        }
        cases.extend(
            signed_cases
                .into_iter()
                .map(|(what, token, message)| (what.to_owned(), token, message)),
        );
    }

    for (what, bad, message) in &cases {
        let answer = status(&app, bad).await;
        if what == "100 KB token" && app.is_http() {
            // A proxy in front may refuse a header this large before we see it.
            assert!(answer.status.is_client_error(), "{what}: {}", answer.status);
            continue;
        }
        answer.assert_fail(401, message);
        let answer = logout(&app, bad).await;
        assert_eq!(answer.status, 401, "logout, {what}: {}", answer.body);
    }

    // Non-ASCII bytes in the header: not a token we could have issued.
    let answer = call(
        &app,
        "GET",
        "/auth/status",
        Some("Bearer ünïcödé.tökën.sïg"),
        None,
    )
    .await;
    answer.assert_fail(401, MALFORMED_BEARER);

    assert_eq!(
        fetches.load(Ordering::SeqCst),
        0,
        "a key URL from a token was fetched"
    );
    // The token they were all made from still works: nothing was revoked on the way.
    assert_eq!(status(&app, &token).await.status, 200);
    eprintln!(
        "hostile tokens: {} tried on status and logout, all refused",
        cases.len() + 1
    );
}

/// Asserts a token is refused as invalid on status and on logout: 401 and the
/// contract message, never the 503 of a key DynamoDB cannot take.
async fn assert_invalid_on_status_and_logout(app: &TestApp, what: &str, token: &str) {
    for (endpoint, answer) in [
        ("status", status(app, token).await),
        ("logout", logout(app, token).await),
    ] {
        let expected = (401, INVALID_TOKEN.to_owned());
        assert_eq!(answer.code_and_message(), expected, "{endpoint}, {what}");
    }
}

/// A new account's token and what is needed to forge its siblings with the
/// real key; `None` when the key is not at hand (the test then skips).
async fn token_and_real_key(test: &str) -> Option<(TestApp, String, Backstage)> {
    let (app, backstage) = app_and_backstage_or_skip(test).await?;
    let token = new_account(&app).await.1.token();
    Some((app, token, backstage))
}

#[tokio::test]
async fn validly_signed_tokens_with_ids_not_of_our_shape_are_invalid_never_unavailable() {
    let Some((app, token, backstage)) = token_and_real_key("ids not of our shape").await else {
        return;
    };
    let claims = claims_of(&token);
    let user = claims["sub"].as_str().unwrap().to_owned();
    // DynamoDB's key limits: 2048 bytes for a partition key (the user's, the
    // revocation's `jti`), 1024 for a sort key (the session's id).
    let cases = [
        ("jti", String::new()),
        ("jti", "j".repeat(3000)),
        ("jti", format!("{}=", jti_of(&token))),
        ("sid", String::new()),
        ("sid", "A".repeat(1100)),
        ("sid", "session-1".to_owned()),
        ("sub", String::new()),
        ("sub", "u".repeat(3000)),
        ("sub", user.to_uppercase()),
        ("sub", user.replace('-', "")),
        ("sub", "u1".to_owned()),
    ];
    for (claim, value) in &cases {
        let forged = backstage.sign(&with(&claims, claim, json!(value)));
        let what = format!("{claim} of {} chars: {value:.24}", value.chars().count());
        assert_invalid_on_status_and_logout(&app, &what, &forged).await;
    }
    // Nothing was revoked on the way.
    assert_eq!(status(&app, &token).await.status, 200);
    eprintln!("ids not of our shape: {} tokens refused", cases.len());
}

#[tokio::test]
async fn a_token_with_a_crit_header_is_invalid() {
    let Some((app, token, backstage)) = token_and_real_key("crit header").await else {
        return;
    };
    let claims = claims_of(&token);
    let current = backstage.config.signing_keys.current();
    let kid = current.kid.as_str();
    // Signed with the right key over the very claims of a working token: only
    // the header's `crit` differs, whatever it names (nothing, a registered
    // claim, RFC 7797's unencoded payload).
    for header in [
        json!({ "alg": "RS256", "typ": "JWT", "kid": kid, "crit": [] }),
        json!({ "alg": "RS256", "typ": "JWT", "kid": kid, "crit": ["exp"] }),
        json!({ "alg": "RS256", "typ": "JWT", "kid": kid, "b64": true, "crit": ["b64"] }),
    ] {
        let forged = forge(&header, &claims, Algorithm::RS256, &current.encoding);
        assert_invalid_on_status_and_logout(&app, &header.to_string(), &forged).await;
    }
    let plain = json!({ "alg": "RS256", "typ": "JWT", "kid": kid });
    let plain = forge(&plain, &claims, Algorithm::RS256, &current.encoding);
    assert_eq!(status(&app, &plain).await.status, 200, "only crit differs");
}
