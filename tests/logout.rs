//! `POST /auth/logout`: the token revoked, and no other; its scopes (`local`,
//! `others`, `global`); a missing or bad token; revocation entries DynamoDB
//! has not deleted yet or cannot date; simultaneous logouts of one token.
//! Runs in-process or over HTTP.

use serde_json::json;
use std::sync::Arc;
use test_support::*;

#[tokio::test]
async fn logout_revokes_that_token_and_no_other() {
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    let first = registered.token();
    let second = login(&app, &email, PASSWORD).await.token();
    logout(&app, &first).await.assert_success(200, LOGGED_OUT);
    status(&app, &first).await.assert_fail(401, BLACKLISTED);
    assert_eq!(status(&app, &second).await.status, 200);
    logout(&app, &first).await.assert_fail(401, BLACKLISTED);
}

#[tokio::test]
async fn logout_without_a_token_is_forbidden() {
    let app = app().await;
    let headers = [None, Some("Bearer "), Some("")];
    assert_each_authorization_fails(&app, ("POST", "/auth/logout"), &headers, 403, NO_TOKEN).await;
}

#[tokio::test]
async fn logout_with_a_bad_token_gives_the_status_messages() {
    let app = app().await;
    let token = new_account(&app).await.1.token();
    call(
        &app,
        "POST",
        "/auth/logout",
        Some(&format!("Token {token}")),
        None,
    )
    .await
    .assert_fail(401, MALFORMED_BEARER);
    if let Some(backstage) = backstage_or_skip("logout with an expired token").await {
        let claims = with(&claims_of(&token), "exp", json!(auth::now() - 1));
        let expired = backstage.sign(&claims);
        logout(&app, &expired).await.assert_fail(401, EXPIRED_TOKEN);
    }
    logout(&app, "garbage")
        .await
        .assert_fail(401, INVALID_TOKEN);
}

/// A new account's token, with a revocation entry for it written behind the
/// service's back, with this expiry or none; `None` when the test skips.
async fn token_revoked_directly(test: &str, expires_at: Option<u64>) -> Option<(TestApp, String)> {
    let (app, backstage) = app_and_backstage_or_skip(test).await?;
    let token = new_account(&app).await.1.token();
    backstage.revoke_directly(&jti_of(&token), expires_at).await;
    Some((app, token))
}

#[tokio::test]
async fn a_revocation_without_a_readable_expiry_still_revokes() {
    // Fail closed: an entry we cannot date is taken as a live revocation.
    let Some((app, token)) = token_revoked_directly("undated revocation", None).await else {
        return;
    };
    status(&app, &token).await.assert_fail(401, BLACKLISTED);
}

#[tokio::test]
async fn a_revocation_past_its_expiry_no_longer_counts() {
    // DynamoDB deletes expired items up to days late: a lingering entry whose
    // `expires_at` has passed must be ignored, and may be written over.
    let expired = Some(auth::now() - 10);
    let Some((app, token)) = token_revoked_directly("lingering revocation", expired).await else {
        return;
    };
    assert_eq!(status(&app, &token).await.status, 200);
    assert_eq!(logout(&app, &token).await.status, 200);
    status(&app, &token).await.assert_fail(401, BLACKLISTED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_simultaneous_logouts_of_one_token_succeed_once_and_never_fail_the_server() {
    let app = Arc::new(app().await);
    let token = new_account(&app).await.1.token();
    let answers = at_once(&app, 20, &token, |app, token| async move {
        logout(&app, &token).await.code_and_message()
    })
    .await;
    assert!(
        answers.iter().all(|(code, _)| *code < 500),
        "a server error: {answers:?}"
    );
    let done = count_of(&answers, 200, LOGGED_OUT);
    let blacklisted = count_of(&answers, 401, BLACKLISTED);
    assert_eq!((done, blacklisted), (1, 19), "{answers:?}");
    status(&app, &token).await.assert_fail(401, BLACKLISTED);
}

#[tokio::test]
async fn logout_scopes_local_others_and_global() {
    let app = app().await;
    let (email, laptop, phone) = on_laptop_and_phone(&app).await;
    let phone = phone.token();
    let tablet = sign_in(&app, &email, "tablet").await.token();

    logout_scope(&app, &phone, "everything")
        .await
        .assert_fail(400, BAD_SCOPE);

    assert_eq!(logout_scope(&app, &phone, "others").await.status, 200);
    assert_eq!(status(&app, &phone).await.status, 200);
    assert_session_ended(&app, &laptop).await;
    status(&app, &tablet).await.assert_fail(401, BLACKLISTED);
    assert_eq!(list_sessions(&app, &phone).await.len(), 1);

    let desktop = sign_in(&app, &email, "desktop").await.token();
    assert_eq!(logout_scope(&app, &desktop, "global").await.status, 200);
    status(&app, &desktop).await.assert_fail(401, BLACKLISTED);
    status(&app, &phone).await.assert_fail(401, BLACKLISTED);

    let again = sign_in(&app, &email, "again").await;
    assert_eq!(
        logout_scope(&app, &again.token(), "local").await.status,
        200
    );
    assert_session_ended(&app, &again).await;
}
