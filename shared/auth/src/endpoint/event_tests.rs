//! The webhook events (issue 27) each call writes over the in-memory store:
//! exactly one per change made, none for a change refused.

use super::tests::{JOE, app, call, registered};
use super::*;
use crate::store::memory::MemoryStore;
use crate::store::{AccountChange, Store};
use crate::webhooks::Event;
use lambda_http::{Body, RequestExt};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The names of the events written so far, oldest first.
fn kinds(app: &App<MemoryStore>) -> Vec<&'static str> {
    app.store.events().iter().map(|e| e.kind.as_str()).collect()
}

/// The events written since `before` of them were.
fn since(app: &App<MemoryStore>, before: usize) -> Vec<Event> {
    app.store.events().split_off(before)
}

fn names(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

/// Parameters by name.
type Pairs<'a> = &'a [(&'a str, &'a str)];

/// Calls `endpoint` with query or path parameters.
async fn call_with(
    app: &App<MemoryStore>,
    endpoint: Endpoint,
    token: &str,
    (query, path): (Pairs<'_>, Pairs<'_>),
) -> u16 {
    let owned = |pairs: Pairs<'_>| -> HashMap<String, String> {
        (pairs.iter())
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let mut request = lambda_http::Request::new(Body::Empty)
        .with_query_string_parameters(owned(query))
        .with_path_parameters(owned(path));
    let value = format!("Bearer {token}").parse().unwrap();
    request.headers_mut().insert("authorization", value);
    endpoint.handle(app, request).await.status().as_u16()
}

fn claims(app: &App<MemoryStore>, token: &str) -> crate::tokens::access::Claims {
    let issuer = "https://auth.example.com";
    app.tokens.verify(token, issuer, crate::now()).unwrap()
}

#[tokio::test]
async fn registering_writes_one_user_created_and_one_session_created() {
    let app = app();
    let (code, body) = call(&app, Endpoint::Register, None, JOE).await;
    assert_eq!(code, 201, "{body}");
    let token = body["auth_token"].as_str().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();
    let claims = claims(&app, token);
    let events = app.store.events();
    assert_eq!(names(&events), ["user.created", "session.created"]);
    let data = |i: usize| Value::Object(events[i].data.clone());
    assert_eq!(
        data(0),
        json!({"user_id": claims.sub, "email": "joe@example.com", "email_verified": false})
    );
    assert_eq!(
        data(1),
        json!({"user_id": claims.sub, "session_id": claims.sid, "amr": ["pwd"]})
    );
    assert!(events.iter().all(|event| event.user_id == claims.sub));
    // No secret in any body: not the password, its hash, nor a token.
    let attempt = app
        .store
        .login_attempt("joe@example.com", &[], 0)
        .await
        .unwrap();
    let hash = attempt.record.unwrap().password_hash;
    for event in &events {
        let body = event.body();
        for secret in ["correct horse", hash.as_str(), token, refresh] {
            assert!(!body.contains(secret), "{body}");
        }
    }
    // The same address again (answered as if new): nothing written.
    assert_eq!(call(&app, Endpoint::Register, None, JOE).await.0, 202);
    assert_eq!(app.store.events().len(), 2);
}

#[tokio::test]
async fn a_login_writes_session_created_and_a_failed_one_nothing() {
    let app = app();
    registered(&app, JOE).await;
    let wrong = r#"{"email": "joe@example.com", "password": "wrong horse"}"#;
    assert_eq!(call(&app, Endpoint::Login, None, wrong).await.0, 404);
    let unknown = r#"{"email": "ann@example.com", "password": "correct horse"}"#;
    assert_eq!(call(&app, Endpoint::Login, None, unknown).await.0, 404);
    assert_eq!(app.store.events().len(), 2, "{:?}", kinds(&app));
    let (code, body) = call(&app, Endpoint::Login, None, JOE).await;
    assert_eq!(code, 200, "{body}");
    let events = since(&app, 2);
    assert_eq!(names(&events), ["session.created"]);
    let sid = claims(&app, body["auth_token"].as_str().unwrap()).sid;
    assert_eq!(events[0].data["session_id"], sid.as_str());
}

#[tokio::test]
async fn a_password_change_writes_its_event_and_a_refused_one_nothing() {
    let app = app();
    let token = registered(&app, JOE).await;
    let probe = r#"{"current_password": "wrong horse", "new_password": "new horse 1"}"#;
    assert_eq!(
        call(&app, Endpoint::ChangePassword, Some(&token), probe)
            .await
            .0,
        403
    );
    assert_eq!(app.store.events().len(), 2, "{:?}", kinds(&app));
    // A second session, which the change ends.
    assert_eq!(call(&app, Endpoint::Login, None, JOE).await.0, 200);
    let before = app.store.events().len();
    let change = r#"{"current_password": "correct horse", "new_password": "new horse 1"}"#;
    assert_eq!(
        call(&app, Endpoint::ChangePassword, Some(&token), change)
            .await
            .0,
        200
    );
    let events = since(&app, before);
    // The sweep after the new hash found nothing left: no second revocation.
    assert_eq!(names(&events), ["session.revoked", "user.password_changed"]);
    assert_eq!(events[0].data["scope"], "others");
    assert!(events.iter().all(|e| !e.body().contains("new horse 1")));
}

#[tokio::test]
async fn a_logout_writes_session_revoked_of_its_scope_once() {
    let app = app();
    let token = registered(&app, JOE).await;
    let sid = claims(&app, &token).sid;
    assert_eq!(call(&app, Endpoint::Logout, Some(&token), "").await.0, 200);
    let events = since(&app, 2);
    assert_eq!(names(&events), ["session.revoked"]);
    assert_eq!(
        Value::Object(events[0].data.clone()),
        json!({"user_id": events[0].user_id, "scope": "session", "session_id": sid})
    );
    // Already revoked: refused, nothing written.
    assert_eq!(call(&app, Endpoint::Logout, Some(&token), "").await.0, 401);
    assert_eq!(app.store.events().len(), 3);

    let (_, first) = call(&app, Endpoint::Login, None, JOE).await;
    let first = first["auth_token"].as_str().unwrap().to_owned();
    assert_eq!(call(&app, Endpoint::Login, None, JOE).await.0, 200);
    let before = app.store.events().len();
    let others = ([("scope", "others")].as_slice(), [].as_slice());
    assert_eq!(call_with(&app, Endpoint::Logout, &first, others).await, 200);
    // Nothing left to end: no event for a change that did not happen.
    assert_eq!(call_with(&app, Endpoint::Logout, &first, others).await, 200);
    let global = ([("scope", "global")].as_slice(), [].as_slice());
    assert_eq!(call_with(&app, Endpoint::Logout, &first, global).await, 200);
    let scopes: Vec<Value> = since(&app, before)
        .iter()
        .map(|e| json!([e.kind.as_str(), e.data["scope"]]))
        .collect();
    assert_eq!(
        scopes,
        [
            json!(["session.revoked", "others"]),
            json!(["session.revoked", "all"])
        ]
    );
}

#[tokio::test]
async fn revoking_a_session_writes_session_revoked_and_an_unknown_one_nothing() {
    let app = app();
    let token = registered(&app, JOE).await;
    let (_, other) = call(&app, Endpoint::Login, None, JOE).await;
    let other_sid = claims(&app, other["auth_token"].as_str().unwrap()).sid;
    let before = app.store.events().len();
    let path = |id: &str| vec![("id", id.to_owned())];
    for (id, status) in [(other_sid.clone(), 200), (other_sid.clone(), 404)] {
        let path = path(&id);
        let path: Vec<(&str, &str)> = path.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let got = call_with(&app, Endpoint::RevokeSession, &token, (&[], &path)).await;
        assert_eq!(got, status);
    }
    let events = since(&app, before);
    assert_eq!(names(&events), ["session.revoked"]);
    assert_eq!(events[0].data["session_id"], other_sid.as_str());
}

#[tokio::test]
async fn a_reused_refresh_token_writes_reuse_detected_and_no_revocation() {
    let app = app();
    let (_, body) = call(&app, Endpoint::Register, None, JOE).await;
    let sid = claims(&app, body["auth_token"].as_str().unwrap()).sid;
    let refresh = |token: &str| json!({ "refresh_token": token }).to_string();
    let first = body["refresh_token"].as_str().unwrap().to_owned();
    let (code, second) = call(&app, Endpoint::Refresh, None, &refresh(&first)).await;
    assert_eq!(code, 200, "{second}");
    let second = second["refresh_token"].as_str().unwrap().to_owned();
    let (code, _) = call(&app, Endpoint::Refresh, None, &refresh(&second)).await;
    assert_eq!(code, 200);
    assert_eq!(app.store.events().len(), 2, "rotations are no events");
    // The first token, two rotations old: a copy. The session ends.
    let (code, _) = call(&app, Endpoint::Refresh, None, &refresh(&first)).await;
    assert_eq!(code, 401);
    let events = since(&app, 2);
    assert_eq!(names(&events), ["refresh_token.reuse_detected"]);
    assert_eq!(events[0].data["session_id"], sid.as_str());
    assert!(!events[0].body().contains(&first));
    // The session is gone: the same copy again ends nothing more.
    call(&app, Endpoint::Refresh, None, &refresh(&first)).await;
    assert_eq!(app.store.events().len(), 3);
}

#[tokio::test]
async fn disabling_and_enabling_write_their_events_only_for_an_account_there() {
    let app = app();
    let token = registered(&app, JOE).await;
    let user_id = claims(&app, &token).sub;
    let (store, email) = (&app.store, "joe@example.com");
    assert!(
        store
            .change_account(&user_id, email, AccountChange::Disabled(true))
            .await
            .unwrap()
    );
    assert!(
        store
            .change_account(&user_id, email, AccountChange::Disabled(false))
            .await
            .unwrap()
    );
    // Roles and metadata are no events; another account's address changes nothing.
    let roles = AccountChange::Roles(crate::roles::Roles::default());
    assert!(store.change_account(&user_id, email, roles).await.unwrap());
    let wrong = AccountChange::Disabled(true);
    assert!(
        !store
            .change_account(&user_id, "ann@example.com", wrong)
            .await
            .unwrap()
    );
    assert_eq!(names(&since(&app, 2)), ["user.disabled", "user.enabled"]);
}

#[tokio::test]
async fn verifying_resetting_and_moving_the_address_write_their_events() {
    use crate::mail::outbox::MailKind::{EmailChange, ResetPassword, VerifyEmail};
    let app = app();
    let token = registered(&app, JOE).await;
    let code_of = |kind| {
        let mails = app.store.outbox();
        mails
            .iter()
            .rev()
            .find(|mail| mail.kind == kind)
            .unwrap()
            .code
            .clone()
    };
    let verify = |code: &str| json!({"email": "joe@example.com", "code": code}).to_string();
    assert_eq!(
        call(&app, Endpoint::VerifyEmail, None, &verify("00000000"))
            .await
            .0,
        400
    );
    assert_eq!(
        app.store.events().len(),
        2,
        "a wrong code: {:?}",
        kinds(&app)
    );
    let code = code_of(VerifyEmail);
    assert_eq!(
        call(&app, Endpoint::VerifyEmail, None, &verify(&code))
            .await
            .0,
        200
    );
    let events = since(&app, 2);
    assert_eq!(names(&events), ["user.email_verified"]);
    assert_eq!(events[0].data["email"], "joe@example.com");

    let forgot = r#"{"email": "joe@example.com"}"#;
    assert_eq!(
        call(&app, Endpoint::ForgotPassword, None, forgot).await.0,
        202
    );
    let reset = json!({
        "email": "joe@example.com", "code": code_of(ResetPassword), "new_password": "reset horse",
    });
    assert_eq!(
        call(&app, Endpoint::ResetPassword, None, &reset.to_string())
            .await
            .0,
        200
    );
    let events = since(&app, 3);
    assert_eq!(names(&events), ["user.password_reset", "session.revoked"]);
    assert_eq!(events[1].data["scope"], "all");

    let login = r#"{"email": "joe@example.com", "password": "reset horse"}"#;
    let (_, body) = call(&app, Endpoint::Login, None, login).await;
    let token2 = body["auth_token"].as_str().unwrap().to_owned();
    let change = r#"{"new_email": "ann@example.com", "password": "reset horse"}"#;
    assert_eq!(
        call(&app, Endpoint::ChangeEmail, Some(&token2), change)
            .await
            .0,
        202
    );
    let before = app.store.events().len();
    let confirm = json!({ "code": code_of(EmailChange) }).to_string();
    assert_eq!(
        call(&app, Endpoint::ConfirmEmailChange, Some(&token2), &confirm)
            .await
            .0,
        200
    );
    assert_eq!(
        call(&app, Endpoint::ConfirmEmailChange, Some(&token2), &confirm)
            .await
            .0,
        400
    );
    let events = since(&app, before);
    assert_eq!(names(&events), ["user.email_changed"]);
    assert_eq!(events[0].data["email"], "ann@example.com");
    assert_eq!(events[0].data["previous_email"], "joe@example.com");
    drop(token);
}
