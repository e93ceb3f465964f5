//! Unit tests of the endpoints over the in-memory store.

use super::*;
use crate::Config;
use crate::http::error::TokenRejection;
use crate::store::memory::MemoryStore;
use lambda_http::Body;
use serde_json::Value;

pub(crate) fn app() -> App<MemoryStore> {
    let config = Config::from_lookup(|name| match name {
        "REFRESH_TOKEN_SECRET" => Some("0123456789abcdef0123456789abcdef".into()),
        "SIGNING_KEYS" => Some(crate::tokens::keys::TEST_KEY_SET.into()),
        "PUBLIC_BASE_URL" => Some("https://auth.example.com".into()),
        "USERS_TABLE" | "REVOKED_TOKENS_TABLE" | "OUTBOX_TABLE" => Some("t".into()),
        "BCRYPT_COST" => Some("4".into()),
        _ => None,
    })
    .unwrap();
    App::new(config, MemoryStore::default())
}

pub(crate) async fn call(
    app: &App<MemoryStore>,
    endpoint: Endpoint,
    token: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let mut request = Request::new(Body::Text(body.into()));
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().unwrap();
        request.headers_mut().insert("authorization", value);
    }
    let response = endpoint.handle(app, request).await;
    let status = response.status().as_u16();
    (status, serde_json::from_slice(response.body()).unwrap())
}

/// Registers `credentials` and returns the access token.
pub(crate) async fn registered(app: &App<MemoryStore>, credentials: &str) -> String {
    let (code, body) = call(app, Endpoint::Register, None, credentials).await;
    assert_eq!(code, 201, "{body}");
    body["auth_token"].as_str().unwrap().to_owned()
}

pub(crate) const JOE: &str = r#"{"email": "joe@example.com", "password": "correct horse"}"#;

#[tokio::test]
async fn register_status_logout_round_trip() {
    let app = app();
    let (code, body) = call(&app, Endpoint::Register, None, JOE).await;
    assert_eq!(code, 201, "{body}");
    let token = body["auth_token"].as_str().unwrap().to_owned();
    let (code, body) = call(&app, Endpoint::Status, Some(&token), "").await;
    assert_eq!(
        (code, body["data"]["email"].as_str()),
        (200, Some("joe@example.com"))
    );
    assert_eq!(call(&app, Endpoint::Logout, Some(&token), "").await.0, 200);
    let (code, body) = call(&app, Endpoint::Status, Some(&token), "").await;
    assert_eq!(
        (code, body["message"].as_str()),
        (401, Some(TokenRejection::Revoked.message()))
    );
}

#[tokio::test]
async fn storage_failure_is_a_generic_503_and_accepts_nothing() {
    let app = app();
    let token = registered(&app, JOE).await;
    app.store.set_unavailable(true);
    for (endpoint, token, body) in [
        (Endpoint::Register, None, JOE),
        (Endpoint::Login, None, JOE),
        (Endpoint::Status, Some(token.as_str()), ""),
        (Endpoint::Logout, Some(token.as_str()), ""),
    ] {
        let (code, body) = call(&app, endpoint, token, body).await;
        assert_eq!(code, 503, "{endpoint:?}");
        assert_eq!(
            body,
            serde_json::json!({
                "status": "fail",
                "message": "Service unavailable. Please try again.",
                "code": "service_unavailable",
            })
        );
    }
    app.store.set_unavailable(false);
    assert_eq!(call(&app, Endpoint::Status, Some(&token), "").await.0, 200);
}

#[tokio::test]
async fn a_token_outlives_its_user_only_as_an_invalid_token() {
    let app = app();
    let token = registered(&app, JOE).await;
    let issuer = "https://auth.example.com";
    let user_id = app.tokens.verify(&token, issuer, crate::now()).unwrap().sub;
    app.store.delete_user(&user_id);
    let (code, body) = call(&app, Endpoint::Status, Some(&token), "").await;
    assert_eq!(
        (code, body["message"].as_str()),
        (401, Some(TokenRejection::Invalid.message()))
    );
}

/// Answers to 16 wrong passwords sent together, counted by status code.
async fn burst(
    app: &App<MemoryStore>,
    endpoint: Endpoint,
    token: Option<&str>,
    body: &str,
) -> Vec<u16> {
    let calls = (0..16).map(|_| call(app, endpoint, token, body));
    let mut codes: Vec<u16> = futures_util::future::join_all(calls)
        .await
        .into_iter()
        .map(|(code, _)| code)
        .collect();
    codes.sort_unstable();
    codes
}

#[tokio::test]
async fn a_burst_of_wrong_passwords_gets_exactly_the_free_checks() {
    let app = app();
    let token = registered(&app, JOE).await;
    let wrong = r#"{"email": "joe@example.com", "password": "wrong horse"}"#;
    let mut expected = vec![404; 5];
    expected.extend([429; 11]);
    assert_eq!(burst(&app, Endpoint::Login, None, wrong).await, expected);

    // Password change on another account: five 403s, then 429s.
    let ann = r#"{"email": "ann@example.com", "password": "correct horse"}"#;
    let ann_token = registered(&app, ann).await;
    let change = r#"{"current_password": "wrong horse", "new_password": "new horse 1"}"#;
    let mut expected = vec![403; 5];
    expected.extend([429; 11]);
    let codes = burst(&app, Endpoint::ChangePassword, Some(&ann_token), change).await;
    assert_eq!(codes, expected);
    assert_eq!(call(&app, Endpoint::Status, Some(&token), "").await.0, 200);
}

#[tokio::test]
async fn a_wrong_current_password_is_no_second_guess() {
    let app = app();
    let token = registered(&app, JOE).await;
    // The real password sent as the "new" one confirms nothing.
    let probe = r#"{"current_password": "wrong horse", "new_password": "correct horse"}"#;
    let (code, body) = call(&app, Endpoint::ChangePassword, Some(&token), probe).await;
    assert_eq!(
        (code, body["message"].as_str()),
        (403, Some("Current password is incorrect."))
    );
}

#[tokio::test]
async fn a_password_change_clears_the_account_counter() {
    let app = app();
    let token = registered(&app, JOE).await;
    let wrong = r#"{"email": "joe@example.com", "password": "wrong horse"}"#;
    for _ in 0..4 {
        assert_eq!(call(&app, Endpoint::Login, None, wrong).await.0, 404);
    }
    let change = r#"{"current_password": "correct horse", "new_password": "new horse 1"}"#;
    assert_eq!(
        call(&app, Endpoint::ChangePassword, Some(&token), change)
            .await
            .0,
        200
    );
    // Four more typos are free again, and the fifth login is checked.
    for _ in 0..4 {
        assert_eq!(call(&app, Endpoint::Login, None, wrong).await.0, 404);
    }
    let right = r#"{"email": "joe@example.com", "password": "new horse 1"}"#;
    assert_eq!(call(&app, Endpoint::Login, None, right).await.0, 200);
}

#[tokio::test]
async fn the_published_keys_and_where_to_find_them() {
    let app = app();
    let response = Endpoint::Jwks.handle(&app, Request::default()).await;
    let cache = response.headers()["cache-control"].to_str().unwrap();
    assert_eq!(cache, "public, max-age=300");
    let jwks: Value = serde_json::from_slice(response.body()).unwrap();
    let kids: Vec<_> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["kid"])
        .collect();
    assert_eq!(kids, ["test-current", "test-next"]);
    assert!(jwks["keys"][0].get("d").is_none(), "no private exponent");
    let (code, discovery) = call(&app, Endpoint::OpenidConfiguration, None, "").await;
    assert_eq!(code, 200);
    assert_eq!(discovery["issuer"], "https://auth.example.com");
    assert_eq!(
        discovery["jwks_uri"],
        "https://auth.example.com/.well-known/jwks.json"
    );
}

#[tokio::test]
async fn the_example_route_serves_nobody_without_an_authorizer() {
    let app = app();
    let (code, body) = call(&app, Endpoint::ExampleProtected, None, "").await;
    assert_eq!(
        (code, body["message"].as_str()),
        (401, Some(TokenRejection::Missing.message()))
    );
    let reply = Endpoint::ExampleProtected.handle_without_app(&Request::default(), None);
    assert_eq!(reply.status(), 401);
}

#[test]
fn discovery_needs_no_keys_only_the_issuer() {
    assert!(!Endpoint::OpenidConfiguration.needs_app());
    let endpoint = Endpoint::OpenidConfiguration;
    let reply = endpoint.handle_without_app(&Request::default(), Some("https://id.example"));
    let body: Value = serde_json::from_slice(reply.body()).unwrap();
    assert_eq!(
        (reply.status().as_u16(), &body["issuer"]),
        (200, &"https://id.example".into())
    );
    // No configured URL and no API domain: nothing to name, so no document.
    let reply = endpoint.handle_without_app(&Request::default(), None);
    assert_eq!(reply.status(), 503);
}

#[test]
fn routes_and_function_names_are_distinct() {
    let routes: std::collections::HashSet<_> = Endpoint::ALL.iter().map(|e| e.route()).collect();
    let names: std::collections::HashSet<_> =
        Endpoint::ALL.iter().map(|e| e.function_name()).collect();
    assert_eq!(routes.len(), Endpoint::ALL.len());
    assert_eq!(names.len(), Endpoint::ALL.len());
}

/// The code of the newest mail of `kind` in the in-memory outbox.
fn mailed_code(app: &App<MemoryStore>, kind: crate::mail::outbox::MailKind) -> String {
    let mails = app.store.outbox();
    let mail = mails.iter().rev().find(|mail| mail.kind == kind).unwrap();
    mail.code.clone()
}

#[tokio::test]
async fn a_reset_code_is_mailed_used_once_and_ends_every_session() {
    use crate::mail::outbox::MailKind::ResetPassword;
    let app = app();
    let token = registered(&app, JOE).await;
    let forgot = r#"{"email": "Joe@Example.com"}"#;
    let (code, body) = call(&app, Endpoint::ForgotPassword, None, forgot).await;
    assert_eq!(code, 202, "{body}");
    let mailed = mailed_code(&app, ResetPassword);
    assert!(crate::credentials::one_time_code::is_code_shaped(&mailed));
    let reset = format!(
        r#"{{"email": "joe@example.com", "code": "{mailed}", "new_password": "another horse"}}"#
    );
    let (code, body) = call(&app, Endpoint::ResetPassword, None, &reset).await;
    assert_eq!(
        (code, body["message"].as_str()),
        (200, Some("Password reset."))
    );
    let (code, _) = call(&app, Endpoint::Status, Some(&token), "").await;
    assert_eq!(code, 401, "the session ended with the reset");
    let (code, body) = call(&app, Endpoint::ResetPassword, None, &reset).await;
    assert_eq!(
        (code, body["message"].as_str()),
        (400, Some("Invalid or expired code."))
    );
}

#[tokio::test]
async fn an_email_change_moves_the_account_in_the_memory_store_too() {
    use crate::mail::outbox::MailKind::{EmailChange, EmailChangeRequested};
    let app = app();
    let token = registered(&app, JOE).await;
    registered(
        &app,
        r#"{"email": "bob@example.com", "password": "correct horse"}"#,
    )
    .await;
    let change = |to: &str| format!(r#"{{"new_email": "{to}", "password": "correct horse"}}"#);
    let taken = call(
        &app,
        Endpoint::ChangeEmail,
        Some(&token),
        &change("Bob@example.com"),
    )
    .await;
    let free = call(
        &app,
        Endpoint::ChangeEmail,
        Some(&token),
        &change("ann@example.com"),
    )
    .await;
    assert_eq!((taken.0, &taken.1), (202, &free.1), "no enumeration");
    let mails = app.store.outbox();
    let to = |kind| mails.iter().filter(move |mail| mail.kind == kind);
    assert_eq!(
        to(EmailChange).map(|m| m.to.as_str()).collect::<Vec<_>>(),
        ["ann@example.com"]
    );
    assert_eq!(to(EmailChangeRequested).count(), 2);
    let confirm = format!(r#"{{"code": "{}"}}"#, mailed_code(&app, EmailChange));
    let (code, body) = call(&app, Endpoint::ConfirmEmailChange, Some(&token), &confirm).await;
    assert_eq!(
        (code, body["data"]["email"].as_str()),
        (200, Some("ann@example.com"))
    );
    assert_eq!(body["data"]["email_verified"], true);
    let (code, _) = call(&app, Endpoint::ConfirmEmailChange, Some(&token), &confirm).await;
    assert_eq!(code, 400, "used up");
    assert_eq!(call(&app, Endpoint::Login, None, JOE).await.0, 404);
    registered(&app, JOE).await;
}

#[tokio::test]
async fn an_unknown_address_gets_the_same_202_and_no_mail() {
    let app = app();
    let known = registered(&app, JOE).await;
    assert!(!known.is_empty());
    let mails_before = app.store.outbox().len();
    let (known_code, known_body) = call(
        &app,
        Endpoint::ForgotPassword,
        None,
        r#"{"email": "joe@example.com"}"#,
    )
    .await;
    let (unknown_code, unknown_body) = call(
        &app,
        Endpoint::ForgotPassword,
        None,
        r#"{"email": "ann@example.com"}"#,
    )
    .await;
    assert_eq!((known_code, &known_body), (unknown_code, &unknown_body));
    assert_eq!(known_code, 202);
    let mails = app.store.outbox();
    assert_eq!(mails.len(), mails_before + 1);
    assert_eq!(mails.last().unwrap().to, "joe@example.com");
}

#[tokio::test]
async fn code_endpoints_fail_closed_when_storage_is_down() {
    let app = app();
    registered(&app, JOE).await;
    app.store.set_unavailable(true);
    for (endpoint, body) in [
        (Endpoint::ForgotPassword, r#"{"email": "joe@example.com"}"#),
        (
            Endpoint::ResetPassword,
            r#"{"email": "joe@example.com", "code": "12345678", "new_password": "another horse"}"#,
        ),
        (
            Endpoint::VerifyEmail,
            r#"{"email": "joe@example.com", "code": "12345678"}"#,
        ),
    ] {
        let (code, body) = call(&app, endpoint, None, body).await;
        assert_eq!(code, 503, "{endpoint:?}: {body}");
    }
}

#[test]
fn every_endpoint_served_without_the_app_is_answered_without_it() {
    for endpoint in Endpoint::ALL.iter().filter(|e| !e.needs_app()) {
        let reply =
            endpoint.handle_without_app(&Request::default(), Some("https://auth.example.com"));
        assert_ne!(reply.status().as_u16(), 503, "{endpoint:?}");
    }
}
