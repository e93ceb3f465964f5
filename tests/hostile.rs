//! Hostile tokens and hostile inputs, each tried against the real app: every
//! one is refused with its 4xx and the contract message, never a 5xx, never a
//! silent truncation. The counts are printed for the record
//! (`cargo test --test hostile -- --nocapture`).
//!
//! Cases that need the real secret (to sign a token that is bad only in its
//! claims) or the in-process app (to send bytes HTTP clients won't) skip when
//! those are not at hand, saying so.

mod support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::*;

const INVALID: &str = "Invalid token. Please log in again.";
const EXPIRED: &str = "Signature expired. Please log in again.";
const MALFORMED: &str = "Bearer token malformed.";
const ATTACKER_KEY: &[u8] = b"the attacker's own key, 32 bytes or more";

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// A token with exactly this header and these claims, signed with `key` (HS256
/// over the two parts, whatever the header says).
fn raw_token(header: &Value, claims: &Value, key: &[u8]) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(key),
        Algorithm::HS256,
    )
    .unwrap();
    format!("{message}.{signature}")
}

fn without(claims: &Value, name: &str) -> Value {
    let mut claims = claims.clone();
    claims.as_object_mut().unwrap().remove(name);
    claims
}

fn with(claims: &Value, name: &str, value: Value) -> Value {
    let mut claims = claims.clone();
    claims[name] = value;
    claims
}

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
    let registered = register(&app, &unique_email()).await;
    let token = registered.token();
    let claims = claims_of(&token);
    let parts: Vec<&str> = token.split('.').collect();
    let (header, payload) = (parts[0], parts[1]);
    let now = auth::now();
    let (key_url, fetches) = key_server().await;

    let none = |alg: &str| format!("{}.{payload}.", b64(&json!({ "alg": alg, "typ": "JWT" })));
    let other_user = with(&claims, "sub", json!("someone-else"));
    let attacker_headers = [
        json!({ "alg": "HS256", "kid": "attacker" }),
        json!({ "alg": "HS256", "jku": key_url }),
        json!({ "alg": "HS256", "x5u": key_url }),
        json!({ "alg": "HS256", "jwk": { "kty": "oct", "k": URL_SAFE_NO_PAD.encode(ATTACKER_KEY) } }),
    ];

    let mut cases: Vec<(String, String, &str)> = vec![
        ("alg none".into(), none("none"), INVALID),
        ("alg None".into(), none("None"), INVALID),
        ("alg NONE".into(), none("NONE"), INVALID),
        (
            "alg none, no signature part".into(),
            none("none").trim_end_matches('.').into(),
            INVALID,
        ),
        (
            "payload tampered".into(),
            format!("{header}.{}.{}", b64(&other_user), parts[2]),
            INVALID,
        ),
        (
            "signature stripped".into(),
            format!("{header}.{payload}"),
            INVALID,
        ),
        (
            "signature emptied".into(),
            format!("{header}.{payload}."),
            INVALID,
        ),
        (
            "signature of another key".into(),
            raw_token(&json!({"alg": "HS256"}), &claims, ATTACKER_KEY),
            INVALID,
        ),
        (
            "refresh token as bearer".into(),
            registered.body["refresh_token"].as_str().unwrap().into(),
            INVALID,
        ),
        (
            "100 KB token".into(),
            format!("{header}.{}.{}", "A".repeat(100 * 1024), parts[2]),
            INVALID,
        ),
        (
            "four parts".into(),
            format!("{token}.{}", parts[2]),
            INVALID,
        ),
        ("garbage".into(), "not-a-token".into(), INVALID),
    ];
    for header in &attacker_headers {
        let name = format!(
            "attacker-signed with {}",
            header.as_object().unwrap().keys().next_back().unwrap()
        );
        cases.push((name, raw_token(header, &claims, ATTACKER_KEY), INVALID));
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
                INVALID,
            ),
            (
                "HS512 with the right secret",
                sign(&claims, Algorithm::HS512, secret),
                INVALID,
            ),
            (
                "exp as a string",
                hs(&with(&claims, "exp", json!((now + 600).to_string()))),
                INVALID,
            ),
            (
                "iat as a string",
                hs(&with(&claims, "iat", json!(now.to_string()))),
                INVALID,
            ),
            (
                "nbf as a string",
                hs(&with(&claims, "nbf", json!(now.to_string()))),
                INVALID,
            ),
            (
                "nbf in the future",
                hs(&with(&claims, "nbf", json!(now + 600))),
                INVALID,
            ),
            (
                "iat in the future",
                hs(&with(&claims, "iat", json!(now + 600))),
                INVALID,
            ),
            ("exp missing", hs(&without(&claims, "exp")), INVALID),
            ("sub missing", hs(&without(&claims, "sub")), INVALID),
            ("jti missing", hs(&without(&claims, "jti")), INVALID),
            ("iss missing", hs(&without(&claims, "iss")), INVALID),
            (
                "another issuer",
                hs(&with(&claims, "iss", json!("someone-else"))),
                INVALID,
            ),
            (
                "expired by one second",
                hs(&with(
                    &with(&claims, "exp", json!(now - 1)),
                    "iat",
                    json!(now - 60),
                )),
                EXPIRED,
            ),
            (
                "expiring this very second",
                hs(&with(&claims, "exp", json!(now))),
                EXPIRED,
            ),
        ];
        cases.extend(signed_cases.map(|(what, token, message)| (what.to_owned(), token, message)));
    }

    for (what, bad, message) in &cases {
        let answer = status(&app, bad).await;
        if what == "100 KB token" && matches!(app, TestApp::Http { .. }) {
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
    answer.assert_fail(401, MALFORMED);

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

/// Sends raw bytes as a body, which no HTTP client test helper would: in-process only.
async fn post_bytes(endpoint: auth::Endpoint, bytes: Vec<u8>) -> Option<(u16, Value)> {
    if std::env::var("API_URL").is_ok() {
        return None;
    }
    let app = in_process_app().await;
    let response = endpoint
        .handle(&app, Request::new(Body::Binary(bytes)))
        .await;
    let status = response.status().as_u16();
    Some((
        status,
        serde_json::from_slice(response.body()).expect("a JSON answer"),
    ))
}

#[tokio::test]
async fn hostile_bodies_get_a_clear_4xx() {
    let email = unique_email();
    let nested = |depth: usize| {
        format!(
            r#"{{"email": {}1{}, "password": "{PASSWORD}"}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        )
    };
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "invalid UTF-8",
            [
                b"{\"email\": \"".as_slice(),
                &[0xff, 0xfe],
                b"@example.com\", \"password\": \"12345678\"}",
            ]
            .concat(),
            400,
            "Malformed JSON body.",
        ),
        (
            "a lone surrogate escape",
            format!(r#"{{"email": "{email}", "password": "\ud800abcdefgh"}}"#).into_bytes(),
            400,
            "Malformed JSON body.",
        ),
        (
            "nesting 3000 deep",
            nested(3000).into_bytes(),
            400,
            "Malformed JSON body.",
        ),
        (
            "nesting 100 deep",
            nested(100).into_bytes(),
            400,
            "email must be a string.",
        ),
        (
            "a number for the email",
            json!({"email": 1e300, "password": PASSWORD})
                .to_string()
                .into_bytes(),
            400,
            "email must be a string.",
        ),
        (
            "an object for the password",
            json!({"email": email, "password": {"a": 1}})
                .to_string()
                .into_bytes(),
            400,
            "password must be a string.",
        ),
        (
            "a body over 8 KiB",
            credentials(&email, &"a".repeat(9 * 1024)).into_bytes(),
            413,
            "Request body is too large.",
        ),
        (
            "a body over 8 KiB of whitespace",
            vec![b' '; 9 * 1024],
            413,
            "Request body is too large.",
        ),
        (
            "a NUL byte outside strings",
            b"{\"email\"\0: 1}".to_vec(),
            400,
            "Malformed JSON body.",
        ),
        (
            "trailing garbage",
            format!("{} trailing", credentials(&email, PASSWORD)).into_bytes(),
            400,
            "Malformed JSON body.",
        ),
    ];
    let mut tried = 0;
    for endpoint in [auth::Endpoint::Register, auth::Endpoint::Login] {
        for (what, bytes, code, message) in &cases {
            let Some((status, body)) = post_bytes(endpoint, bytes.clone()).await else {
                eprintln!("hostile bodies: skipped over HTTP, they need the in-process app");
                return;
            };
            assert_eq!(status, *code, "{endpoint:?}, {what}: {body}");
            assert_eq!(body["status"], "fail", "{endpoint:?}, {what}");
            assert!(
                body["message"].as_str().unwrap().contains(message),
                "{endpoint:?}, {what}: {body}"
            );
            tried += 1;
        }
    }
    eprintln!("hostile bodies: {tried} tried, all refused with a 4xx");
}

#[tokio::test]
async fn passwords_are_never_silently_truncated() {
    let app = app().await;
    let too_long = "password must be 8 to 72 bytes long.";
    // 71 and 72 bytes are whole passwords: every byte counts, the last one too.
    for length in [71, 72] {
        let email = unique_email();
        let password = "p".repeat(length);
        let body = credentials(&email, &password);
        assert_eq!(
            call(&app, "POST", "/auth/register", None, Some(&body))
                .await
                .status,
            201
        );
        assert_eq!(
            login(&app, &email, &password).await.status,
            200,
            "{length} bytes"
        );
        let last_byte_changed = format!("{}q", &password[..length - 1]);
        assert_eq!(
            login(&app, &email, &last_byte_changed).await.status,
            404,
            "{length} bytes"
        );
    }
    // 73 bytes, and two long ones equal in their first 72: refused, never cut to 72.
    let email = unique_email();
    for password in [
        "p".repeat(73),
        format!("{}A", "p".repeat(80)),
        format!("{}B", "p".repeat(80)),
    ] {
        let body = credentials(&email, &password);
        call(&app, "POST", "/auth/register", None, Some(&body))
            .await
            .assert_fail(400, too_long);
        login(&app, &email, &password)
            .await
            .assert_fail(400, too_long);
    }
    // Multi-byte characters count in bytes: 18 emoji are 72 bytes, 64 are 256.
    let email = unique_email();
    let eighteen = "😀".repeat(18);
    let body = credentials(&email, &eighteen);
    assert_eq!(
        call(&app, "POST", "/auth/register", None, Some(&body))
            .await
            .status,
        201
    );
    assert_eq!(login(&app, &email, &eighteen).await.status, 200);
    let sixty_four = "😀".repeat(64);
    login(&app, &email, &sixty_four)
        .await
        .assert_fail(400, too_long);
    let nineteen = "😀".repeat(19);
    login(&app, &email, &nineteen)
        .await
        .assert_fail(400, too_long);
    // A NUL would end the password inside bcrypt: refused.
    login(&app, &email, "abcdefgh\0ijk")
        .await
        .assert_fail(400, "password must not contain NUL characters.");
}

#[tokio::test]
async fn email_look_alikes_in_case_and_whitespace_are_one_account() {
    let app = app().await;
    let email = unique_email();
    assert_eq!(register(&app, &email).await.status, 201);
    let look_alikes = [
        email.to_uppercase(),
        format!("  {email}\t"),
        format!("\n{}", email.replace("example", "EXAMPLE")),
    ];
    for look_alike in &look_alikes {
        call(
            &app,
            "POST",
            "/auth/register",
            None,
            Some(&credentials(look_alike, PASSWORD)),
        )
        .await
        .assert_fail(202, "User already exists. Please Log in.");
        let answer = login(&app, look_alike, PASSWORD).await;
        assert_eq!(answer.status, 200, "{look_alike:?}: {}", answer.body);
        let me = status(&app, &answer.token()).await;
        assert_eq!(
            me.body["data"]["email"],
            email.as_str(),
            "one account, shown normalised"
        );
    }
    // A different character is a different address, not a look-alike we merge.
    let cyrillic = email.replacen('e', "е", 1);
    assert_eq!(login(&app, &cyrillic, PASSWORD).await.status, 404);
}
