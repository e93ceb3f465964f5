//! Bad and hostile request bodies on register and login: each refused with
//! its 4xx and a message that names the problem, never a 5xx, never echoing
//! a password. The raw-byte cases (invalid UTF-8, deep nesting, NUL bytes)
//! need the in-process app, since no HTTP client sends them as they are, and
//! skip over HTTP; the count is printed for the record
//! (`cargo test --test hostile_bodies -- --nocapture`).

use lambda_http::{Body, Request};
use serde_json::{Value, json};
use test_support::*;

#[tokio::test]
async fn bad_bodies_get_a_400_that_names_the_problem() {
    let app = app().await;
    let email = unique_email();
    let long = "a".repeat(73);
    let cases: Vec<(String, &str)> = vec![
        ("{\"email\": ".into(), MALFORMED_JSON),
        ("".into(), NOT_AN_OBJECT),
        ("[1, 2]".into(), NOT_AN_OBJECT),
        (json!([email, PASSWORD]).to_string(), NOT_AN_OBJECT),
        ("\"just a string\"".into(), NOT_AN_OBJECT),
        (json!({ "password": PASSWORD }).to_string(), EMAIL_REQUIRED),
        (json!({ "email": email }).to_string(), PASSWORD_REQUIRED),
        (credentials("", PASSWORD), EMAIL_REQUIRED),
        (credentials("   ", PASSWORD), EMAIL_REQUIRED),
        (
            json!({ "email": 42, "password": PASSWORD }).to_string(),
            EMAIL_NOT_A_STRING,
        ),
        (
            json!({ "email": email, "password": 12345678 }).to_string(),
            PASSWORD_NOT_A_STRING,
        ),
        (
            format!(
                r#"{{"email": "{email}", "email": "other@example.com", "password": "{PASSWORD}"}}"#
            ),
            "duplicate field `email`",
        ),
        (
            json!({ "email": email, "password": ["x"] }).to_string(),
            PASSWORD_NOT_A_STRING,
        ),
        (
            json!({ "email": null, "password": PASSWORD }).to_string(),
            EMAIL_REQUIRED,
        ),
        (credentials("not-an-email", PASSWORD), EMAIL_INVALID),
        (credentials(&email, ""), PASSWORD_LENGTH),
        (credentials(&email, "short"), PASSWORD_LENGTH),
        (credentials(&email, &long), PASSWORD_LENGTH),
        (credentials(&email, "abcdefgh\u{0}ijk"), PASSWORD_NUL),
    ];
    for path in ["/auth/register", "/auth/login"] {
        for (body, expected) in &cases {
            let answer = call(&app, "POST", path, None, Some(body)).await;
            assert_eq!(answer.status, 400, "{path} {body}: {}", answer.body);
            assert_eq!(answer.body["status"], "fail");
            assert!(
                answer.message().contains(expected),
                "{path} {body}: {:?} lacks {expected:?}",
                answer.message()
            );
            assert!(
                !answer.message().contains("12345678"),
                "a password was echoed"
            );
        }
    }
    // None of those created the account.
    if let Some(backstage) = backstage().await {
        assert_eq!(backstage.accounts_with_email(&email).await, 0);
    }
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = app().await;
    let body = credentials(&unique_email(), &"a".repeat(64 * 1024));
    call(&app, "POST", "/auth/register", None, Some(&body))
        .await
        .assert_fail(413, TOO_LARGE);
}

/// Sends raw bytes as a body, which no HTTP client test helper would: in-process only.
async fn post_bytes(endpoint: auth::Endpoint, bytes: Vec<u8>) -> Option<(u16, Value)> {
    if over_http() {
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
            MALFORMED_JSON,
        ),
        (
            "a lone surrogate escape",
            format!(r#"{{"email": "{email}", "password": "\ud800abcdefgh"}}"#).into_bytes(),
            400,
            MALFORMED_JSON,
        ),
        (
            "nesting 3000 deep",
            nested(3000).into_bytes(),
            400,
            MALFORMED_JSON,
        ),
        (
            "nesting 100 deep",
            nested(100).into_bytes(),
            400,
            EMAIL_NOT_A_STRING,
        ),
        (
            "a number for the email",
            json!({"email": 1e300, "password": PASSWORD})
                .to_string()
                .into_bytes(),
            400,
            EMAIL_NOT_A_STRING,
        ),
        (
            "an object for the password",
            json!({"email": email, "password": {"a": 1}})
                .to_string()
                .into_bytes(),
            400,
            PASSWORD_NOT_A_STRING,
        ),
        (
            "a body over 8 KiB",
            credentials(&email, &"a".repeat(9 * 1024)).into_bytes(),
            413,
            TOO_LARGE,
        ),
        (
            "a body over 8 KiB of whitespace",
            vec![b' '; 9 * 1024],
            413,
            TOO_LARGE,
        ),
        (
            "a NUL byte outside strings",
            b"{\"email\"\0: 1}".to_vec(),
            400,
            MALFORMED_JSON,
        ),
        (
            "trailing garbage",
            format!("{} trailing", credentials(&email, PASSWORD)).into_bytes(),
            400,
            MALFORMED_JSON,
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
