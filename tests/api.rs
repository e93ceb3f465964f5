//! The API contract, end to end: every row of the contract in issue #2, and
//! the clean answers where the tutorial crashed. Runs in-process over DynamoDB
//! Local (make test), or over HTTP against `API_URL` (make test-e2e).

mod support;

use aws_sdk_dynamodb::types::AttributeValue;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use support::*;

// ---- register --------------------------------------------------------------

#[tokio::test]
async fn register_creates_an_account_and_returns_a_working_token() {
    let app = app().await;
    let email = unique_email();
    let answer = register(&app, &email).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["status"], "success");
    assert_eq!(answer.message(), "Successfully registered.");
    assert_eq!(answer.headers["cache-control"], "no-store");
    let status = status(&app, &answer.token()).await;
    assert_eq!(status.status, 200);
    assert_eq!(status.body["data"]["email"], email.as_str());
}

#[tokio::test]
async fn register_twice_answers_202_even_with_case_and_spaces() {
    let app = app().await;
    let email = unique_email();
    assert_eq!(register(&app, &email).await.status, 201);
    register(&app, &email)
        .await
        .assert_fail(202, "User already exists. Please Log in.");
    let look_alike = format!("  {}\t", email.to_uppercase());
    register(&app, &look_alike)
        .await
        .assert_fail(202, "User already exists. Please Log in.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_simultaneous_registrations_of_one_email_create_exactly_one_account() {
    let app = Arc::new(app().await);
    let email = unique_email();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (app, email) = (app.clone(), email.clone());
        tasks.spawn(async move {
            let answer = register(&app, &email).await;
            (answer.status.as_u16(), answer.message().to_owned())
        });
    }
    let answers = tasks.join_all().await;
    let created = answers.iter().filter(|(code, _)| *code == 201).count();
    let exists = answers
        .iter()
        .filter(|answer| *answer == &(202, "User already exists. Please Log in.".to_owned()))
        .count();
    assert_eq!((created, exists), (1, 49), "{answers:?}");
    if let Some(backstage) = backstage().await {
        assert_eq!(accounts_with_email(&backstage, &email).await, 1);
        assert_eq!(login_records_of(&backstage, &email).await, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_simultaneous_logouts_of_one_token_succeed_once_and_never_fail_the_server() {
    let app = Arc::new(app().await);
    let token = register(&app, &unique_email()).await.token();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (app, token) = (app.clone(), token.clone());
        tasks.spawn(async move {
            let answer = logout(&app, &token).await;
            (answer.status.as_u16(), answer.message().to_owned())
        });
    }
    let answers = tasks.join_all().await;
    assert!(
        answers.iter().all(|(code, _)| *code < 500),
        "a server error: {answers:?}"
    );
    let done = answers
        .iter()
        .filter(|answer| *answer == &(200, "Successfully logged out.".to_owned()))
        .count();
    let blacklisted = answers
        .iter()
        .filter(|answer| *answer == &(401, "Token blacklisted. Please log in again.".to_owned()))
        .count();
    assert_eq!((done, blacklisted), (1, 19), "{answers:?}");
    status(&app, &token)
        .await
        .assert_fail(401, "Token blacklisted. Please log in again.");
}

#[tokio::test]
async fn a_registration_that_fails_half_way_writes_nothing() {
    // The email is claimed already, so the second of the two writes fails;
    // the first (the profile) must not be left behind.
    let Some(backstage) = backstage_or_skip("half-written registration").await else {
        return;
    };
    let email = unique_email();
    backstage
        .client
        .put_item()
        .table_name(&backstage.config.users_table)
        .item("pk", s(&format!("EMAIL#{email}")))
        .item("sk", s("LOGIN"))
        .item("user_id", s("someone-else"))
        .item("password_hash", s("x"))
        .send()
        .await
        .unwrap();
    let app = app().await;
    register(&app, &email)
        .await
        .assert_fail(202, "User already exists. Please Log in.");
    assert_eq!(
        accounts_with_email(&backstage, &email).await,
        0,
        "a profile was left behind"
    );
}

// ---- login -----------------------------------------------------------------

#[tokio::test]
async fn login_returns_a_new_token_each_time() {
    let app = app().await;
    let email = unique_email();
    let registered = register(&app, &email).await.token();
    let first = login(&app, &email, PASSWORD).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["status"], "success");
    assert_eq!(first.message(), "Successfully logged in.");
    let second = login(&app, &format!(" {} ", email.to_uppercase()), PASSWORD).await;
    assert_eq!(second.status, 200);
    let tokens = [registered, first.token(), second.token()];
    assert_ne!(tokens[0], tokens[1]);
    assert_ne!(tokens[1], tokens[2]);
    for token in &tokens {
        assert_eq!(status(&app, token).await.status, 200);
    }
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_identical_answers() {
    let app = app().await;
    let email = unique_email();
    register(&app, &email).await;
    let wrong_password = login(&app, &email, "not the password").await;
    let unknown_email = login(&app, &unique_email(), PASSWORD).await;
    wrong_password.assert_fail(404, "User does not exist.");
    assert_eq!(wrong_password.status, unknown_email.status);
    assert_eq!(wrong_password.own_headers(), unknown_email.own_headers());
    assert_eq!(wrong_password.body, unknown_email.body);
}

// ---- status ----------------------------------------------------------------

#[tokio::test]
async fn status_shows_the_user() {
    let app = app().await;
    let email = unique_email();
    let token = register(&app, &email).await.token();
    let answer = status(&app, &token).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["status"], "success");
    let data = &answer.body["data"];
    assert_eq!(data["user_id"], claims_of(&token)["sub"]);
    assert_eq!(data["email"], email.as_str());
    assert_eq!(data["admin"], false);
    let registered_on = data["registered_on"].as_str().unwrap();
    let parsed = aws_sdk_dynamodb::primitives::DateTime::from_str(
        registered_on,
        aws_sdk_dynamodb::primitives::DateTimeFormat::DateTime,
    )
    .unwrap_or_else(|e| panic!("{registered_on} is not RFC 3339: {e}"));
    assert!((parsed.secs() - auth::now() as i64).abs() < 60);
    assert_eq!(
        answer.body.as_object().unwrap().len(),
        2,
        "only status and data"
    );
}

#[tokio::test]
async fn status_without_a_token_asks_for_one() {
    let app = app().await;
    for header in [None, Some(""), Some("Bearer"), Some("Bearer   ")] {
        call(&app, "GET", "/auth/status", header, None)
            .await
            .assert_fail(401, "Provide a valid auth token.");
    }
}

#[tokio::test]
async fn status_with_a_header_not_of_the_bearer_form_is_malformed() {
    let app = app().await;
    let token = register(&app, &unique_email()).await.token();
    for header in [
        token.clone(),
        format!("Token {token}"),
        format!("Bearer {token} extra"),
    ] {
        call(&app, "GET", "/auth/status", Some(&header), None)
            .await
            .assert_fail(401, "Bearer token malformed.");
    }
}

#[tokio::test]
async fn an_expired_token_is_refused_as_expired() {
    let Some(backstage) = backstage_or_skip("expired token").await else {
        return;
    };
    let app = app().await;
    let token = register(&app, &unique_email()).await.token();
    let mut claims = claims_of(&token);
    let now = auth::now();
    claims["iat"] = json!(now - 120);
    claims["exp"] = json!(now - 1);
    let secret = backstage.config.jwt_secret.expose();
    let expired = sign(&claims, Algorithm::HS256, secret);
    status(&app, &expired)
        .await
        .assert_fail(401, "Signature expired. Please log in again.");
}

#[tokio::test]
async fn forged_and_broken_tokens_are_invalid() {
    let app = app().await;
    let token = register(&app, &unique_email()).await.token();
    let claims = claims_of(&token);
    let other_secret = b"another-secret-of-32-bytes-at-least";
    let mut forged = vec![
        (
            "another secret",
            sign(&claims, Algorithm::HS256, other_secret),
        ),
        ("alg none", alg_none(&claims)),
        ("garbage", "garbage".to_owned()),
        ("tampered", tamper(&token)),
    ];
    // Forgeries only the holder of the real secret could make.
    if let Some(backstage) = backstage_or_skip("forgeries with the real secret").await {
        let secret = backstage.config.jwt_secret.expose();
        let mut without_jti = claims.clone();
        without_jti.as_object_mut().unwrap().remove("jti");
        forged.push(("HS512", sign(&claims, Algorithm::HS512, secret)));
        forged.push((
            "missing claim",
            sign(&without_jti, Algorithm::HS256, secret),
        ));
    }
    for (what, bad) in forged {
        let answer = status(&app, &bad).await;
        assert_eq!(
            answer.message(),
            "Invalid token. Please log in again.",
            "{what}"
        );
        answer.assert_fail(401, "Invalid token. Please log in again.");
    }
}

#[tokio::test]
async fn a_token_for_a_deleted_user_is_invalid() {
    let Some(backstage) = backstage_or_skip("deleted user").await else {
        return;
    };
    let app = app().await;
    let token = register(&app, &unique_email()).await.token();
    let user_id = claims_of(&token)["sub"].as_str().unwrap().to_owned();
    backstage
        .client
        .delete_item()
        .table_name(&backstage.config.users_table)
        .key("pk", s(&format!("USER#{user_id}")))
        .key("sk", s("PROFILE"))
        .send()
        .await
        .unwrap();
    status(&app, &token)
        .await
        .assert_fail(401, "Invalid token. Please log in again.");
}

// ---- logout ----------------------------------------------------------------

#[tokio::test]
async fn logout_revokes_that_token_and_no_other() {
    let app = app().await;
    let email = unique_email();
    let first = register(&app, &email).await.token();
    let second = login(&app, &email, PASSWORD).await.token();
    let answer = logout(&app, &first).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["status"], "success");
    assert_eq!(answer.message(), "Successfully logged out.");
    status(&app, &first)
        .await
        .assert_fail(401, "Token blacklisted. Please log in again.");
    assert_eq!(status(&app, &second).await.status, 200);
    logout(&app, &first)
        .await
        .assert_fail(401, "Token blacklisted. Please log in again.");
}

#[tokio::test]
async fn logout_without_a_token_is_forbidden() {
    let app = app().await;
    for header in [None, Some("Bearer "), Some("")] {
        call(&app, "POST", "/auth/logout", header, None)
            .await
            .assert_fail(403, "Provide a valid auth token.");
    }
}

#[tokio::test]
async fn a_revocation_without_a_readable_expiry_still_revokes() {
    // Fail closed: an entry we cannot date is taken as a live revocation.
    let Some(backstage) = backstage_or_skip("undated revocation").await else {
        return;
    };
    let app = app().await;
    let token = register(&app, &unique_email()).await.token();
    let jti = claims_of(&token)["jti"].as_str().unwrap().to_owned();
    revoke_directly(&backstage, &jti, None).await;
    status(&app, &token)
        .await
        .assert_fail(401, "Token blacklisted. Please log in again.");
}

#[tokio::test]
async fn logout_with_a_bad_token_gives_the_status_messages() {
    let app = app().await;
    let token = register(&app, &unique_email()).await.token();
    call(
        &app,
        "POST",
        "/auth/logout",
        Some(&format!("Token {token}")),
        None,
    )
    .await
    .assert_fail(401, "Bearer token malformed.");
    if let Some(backstage) = backstage_or_skip("logout with an expired token").await {
        let mut claims = claims_of(&token);
        claims["exp"] = json!(auth::now() - 1);
        let secret = backstage.config.jwt_secret.expose();
        let expired = sign(&claims, Algorithm::HS256, secret);
        logout(&app, &expired)
            .await
            .assert_fail(401, "Signature expired. Please log in again.");
    }
    logout(&app, "garbage")
        .await
        .assert_fail(401, "Invalid token. Please log in again.");
}

#[tokio::test]
async fn a_revocation_past_its_expiry_no_longer_counts() {
    // DynamoDB deletes expired items up to days late: a lingering entry whose
    // `expires_at` has passed must be ignored, and may be written over.
    let Some(backstage) = backstage_or_skip("lingering revocation").await else {
        return;
    };
    let app = app().await;
    let token = register(&app, &unique_email()).await.token();
    let jti = claims_of(&token)["jti"].as_str().unwrap().to_owned();
    revoke_directly(&backstage, &jti, Some(auth::now() - 10)).await;
    assert_eq!(status(&app, &token).await.status, 200);
    assert_eq!(logout(&app, &token).await.status, 200);
    status(&app, &token)
        .await
        .assert_fail(401, "Token blacklisted. Please log in again.");
}

// ---- bad input -------------------------------------------------------------

#[tokio::test]
async fn bad_bodies_get_a_400_that_names_the_problem() {
    let app = app().await;
    let email = unique_email();
    let long = "a".repeat(73);
    let cases: Vec<(String, &str)> = vec![
        ("{\"email\": ".into(), "Malformed JSON body."),
        ("".into(), "Request body must be a JSON object."),
        ("[1, 2]".into(), "Request body must be a JSON object."),
        (
            json!([email, PASSWORD]).to_string(),
            "Request body must be a JSON object.",
        ),
        (
            "\"just a string\"".into(),
            "Request body must be a JSON object.",
        ),
        (
            json!({ "password": PASSWORD }).to_string(),
            "email is required.",
        ),
        (
            json!({ "email": email }).to_string(),
            "password is required.",
        ),
        (credentials("", PASSWORD), "email is required."),
        (credentials("   ", PASSWORD), "email is required."),
        (
            json!({ "email": 42, "password": PASSWORD }).to_string(),
            "email must be a string.",
        ),
        (
            json!({ "email": email, "password": 12345678 }).to_string(),
            "password must be a string.",
        ),
        (
            format!(
                r#"{{"email": "{email}", "email": "other@example.com", "password": "{PASSWORD}"}}"#
            ),
            "duplicate field `email`",
        ),
        (
            json!({ "email": email, "password": ["x"] }).to_string(),
            "password must be a string.",
        ),
        (
            json!({ "email": null, "password": PASSWORD }).to_string(),
            "email is required.",
        ),
        (
            credentials("not-an-email", PASSWORD),
            "email is not a valid email address.",
        ),
        (
            credentials(&email, ""),
            "password must be 8 to 72 bytes long.",
        ),
        (
            credentials(&email, "short"),
            "password must be 8 to 72 bytes long.",
        ),
        (
            credentials(&email, &long),
            "password must be 8 to 72 bytes long.",
        ),
        (
            credentials(&email, "abcdefgh\u{0}ijk"),
            "password must not contain NUL characters.",
        ),
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
        assert_eq!(accounts_with_email(&backstage, &email).await, 0);
    }
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = app().await;
    let body = credentials(&unique_email(), &"a".repeat(64 * 1024));
    call(&app, "POST", "/auth/register", None, Some(&body))
        .await
        .assert_fail(413, "Request body is too large.");
}

// ---- storage down ----------------------------------------------------------

#[tokio::test]
async fn with_storage_down_every_endpoint_answers_503_and_accepts_nothing() {
    // In-process whatever the target, since it takes the app's storage away.
    let Some(backstage) = backstage_or_skip("storage down").await else {
        return;
    };
    let good = TestApp::InProcess(Box::new(in_process_app().await));
    let email = unique_email();
    let token = register(&good, &email).await.token();

    let without_storage = app_without_storage(&backstage.config).await;
    let down = TestApp::InProcess(Box::new(without_storage));
    let unavailable = "Service unavailable. Please try again.";
    register(&down, &unique_email())
        .await
        .assert_fail(503, unavailable);
    login(&down, &email, PASSWORD)
        .await
        .assert_fail(503, unavailable);
    status(&down, &token).await.assert_fail(503, unavailable);
    logout(&down, &token).await.assert_fail(503, unavailable);
    // The logout that failed did not revoke anything.
    assert_eq!(status(&good, &token).await.status, 200);
}

// ---- helpers ---------------------------------------------------------------

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// Writes a revocation entry behind the service's back, with this expiry or none.
async fn revoke_directly(backstage: &Backstage, jti: &str, expires_at: Option<u64>) {
    let mut item = HashMap::from([("jti".to_owned(), s(jti))]);
    if let Some(expires_at) = expires_at {
        item.insert(
            "expires_at".to_owned(),
            AttributeValue::N(expires_at.to_string()),
        );
    }
    backstage
        .client
        .put_item()
        .table_name(&backstage.config.revoked_tokens_table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

/// Login records (`EMAIL#` items) of this email: one key, so at most one.
async fn login_records_of(backstage: &Backstage, email: &str) -> usize {
    let output = backstage
        .client
        .get_item()
        .table_name(&backstage.config.users_table)
        .key("pk", s(&format!("EMAIL#{email}")))
        .key("sk", s("LOGIN"))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    usize::from(output.item().is_some())
}

/// Profiles stored with this email (a scan: fine for a test table).
async fn accounts_with_email(backstage: &Backstage, email: &str) -> usize {
    let mut count = 0;
    let mut pages = backstage
        .client
        .scan()
        .table_name(&backstage.config.users_table)
        .filter_expression("email = :email AND sk = :profile")
        .expression_attribute_values(":email", s(email))
        .expression_attribute_values(":profile", s("PROFILE"))
        .consistent_read(true)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        count += page.unwrap().items().len();
    }
    count
}

fn alg_none(claims: &Value) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "typ": "JWT" }).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}

/// The same token with its payload changed to another user, signature kept.
fn tamper(token: &str) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = claims_of(token);
    claims["sub"] = json!("someone-else");
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{}.{payload}.{}", parts[0], parts[2])
}
