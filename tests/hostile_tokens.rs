//! Hostile access tokens, each tried on status and logout against the real
//! app: every one is refused with 401 and the contract message, never a 5xx,
//! no key URL a token names is fetched, and the token they were all made from
//! still works. The count is printed for the record
//! (`cargo test --test hostile_tokens -- --nocapture`). The contract's own
//! token cases (missing, malformed, expired, forged) are in status.rs.
//!
//! Cases that need the real secret (to sign a token that is bad only in its
//! claims) skip when it is not at hand, saying so. Among them (issue 11): ids
//! not of the shape we issue, empty or past DynamoDB's key limits, which must
//! be refused before storage (else DynamoDB refuses the key: a 503), and a
//! `crit` header, which RFC 7515 says a verifier that does not know the
//! extensions it names must refuse.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
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
    let now = auth::now();
    let (key_url, fetches) = key_server().await;

    let none = |alg: &str| unsigned(alg, payload);
    let attacker_headers = [
        json!({ "alg": "HS256", "kid": "attacker" }),
        json!({ "alg": "HS256", "jku": key_url }),
        json!({ "alg": "HS256", "x5u": key_url }),
        json!({ "alg": "HS256", "jwk": { "kty": "oct", "k": URL_SAFE_NO_PAD.encode(ATTACKER_KEY) } }),
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

    // Bad only in their claims or algorithm: they need the real secret.
    if let Some(backstage) = backstage_or_skip("hostile tokens signed with the real secret").await {
        let secret = backstage.config.jwt_secret.expose();
        let hs =
            |claims: &Value| raw_token(&json!({ "alg": "HS256", "typ": "JWT" }), claims, secret);
        let signed_cases = [
            (
                "HS384 with the right secret",
                sign(&claims, Algorithm::HS384, secret),
                INVALID_TOKEN,
            ),
            (
                "HS512 with the right secret",
                sign(&claims, Algorithm::HS512, secret),
                INVALID_TOKEN,
            ),
            (
                "exp as a string",
                hs(&with(&claims, "exp", json!((now + 600).to_string()))),
                INVALID_TOKEN,
            ),
            (
                "iat as a string",
                hs(&with(&claims, "iat", json!(now.to_string()))),
                INVALID_TOKEN,
            ),
            (
                "nbf as a string",
                hs(&with(&claims, "nbf", json!(now.to_string()))),
                INVALID_TOKEN,
            ),
            (
                "nbf in the future",
                hs(&with(&claims, "nbf", json!(now + 600))),
                INVALID_TOKEN,
            ),
            (
                "iat in the future",
                hs(&with(&claims, "iat", json!(now + 600))),
                INVALID_TOKEN,
            ),
            ("exp missing", hs(&without(&claims, "exp")), INVALID_TOKEN),
            ("sub missing", hs(&without(&claims, "sub")), INVALID_TOKEN),
            ("jti missing", hs(&without(&claims, "jti")), INVALID_TOKEN),
            ("iss missing", hs(&without(&claims, "iss")), INVALID_TOKEN),
            (
                "another issuer",
                hs(&with(&claims, "iss", json!("someone-else"))),
                INVALID_TOKEN,
            ),
            (
                "expired by one second",
                hs(&with(
                    &with(&claims, "exp", json!(now - 1)),
                    "iat",
                    json!(now - 60),
                )),
                EXPIRED_TOKEN,
            ),
            (
                "expiring this very second",
                hs(&with(&claims, "exp", json!(now))),
                EXPIRED_TOKEN,
            ),
        ];
        cases.extend(signed_cases.map(|(what, token, message)| (what.to_owned(), token, message)));
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
/// real secret; `None` when the secret is not at hand (the test then skips).
async fn token_and_real_secret(test: &str) -> Option<(TestApp, String, Backstage)> {
    let (app, backstage) = app_and_backstage_or_skip(test).await?;
    let token = new_account(&app).await.1.token();
    Some((app, token, backstage))
}

#[tokio::test]
async fn validly_signed_tokens_with_ids_not_of_our_shape_are_invalid_never_unavailable() {
    let Some((app, token, backstage)) = token_and_real_secret("ids not of our shape").await else {
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
    let secret = backstage.config.jwt_secret.expose();
    for (claim, value) in &cases {
        let odd = with(&claims, claim, json!(value));
        let forged = raw_token(&json!({ "alg": "HS256", "typ": "JWT" }), &odd, secret);
        let what = format!("{claim} of {} chars: {value:.24}", value.chars().count());
        assert_invalid_on_status_and_logout(&app, &what, &forged).await;
    }
    // Nothing was revoked on the way.
    assert_eq!(status(&app, &token).await.status, 200);
    eprintln!("ids not of our shape: {} tokens refused", cases.len());
}

#[tokio::test]
async fn a_token_with_a_crit_header_is_invalid() {
    let Some((app, token, backstage)) = token_and_real_secret("crit header").await else {
        return;
    };
    let claims = claims_of(&token);
    let secret = backstage.config.jwt_secret.expose();
    // Signed with the right key over the very claims of a working token: only
    // the header's `crit` differs, whatever it names (nothing, a registered
    // claim, RFC 7797's unencoded payload).
    for header in [
        json!({ "alg": "HS256", "typ": "JWT", "crit": [] }),
        json!({ "alg": "HS256", "typ": "JWT", "crit": ["exp"] }),
        json!({ "alg": "HS256", "typ": "JWT", "b64": true, "crit": ["b64"] }),
    ] {
        let forged = raw_token(&header, &claims, secret);
        assert_invalid_on_status_and_logout(&app, &header.to_string(), &forged).await;
    }
    let plain = raw_token(&json!({ "alg": "HS256", "typ": "JWT" }), &claims, secret);
    assert_eq!(status(&app, &plain).await.status, 200, "only crit differs");
}
