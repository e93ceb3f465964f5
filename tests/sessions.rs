//! Sessions per device, refresh tokens with rotation and reuse detection,
//! logout scopes and password change (issue #4), end to end like tests/api.rs.

mod support;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use support::*;

async fn sign_in(app: &TestApp, email: &str, device: &str) -> Answer {
    let body = json!({ "email": email, "password": PASSWORD, "device": device }).to_string();
    let answer = call(app, "POST", "/auth/login", None, Some(&body)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer
}

async fn refresh(app: &TestApp, refresh_token: &str) -> Answer {
    let body = json!({ "refresh_token": refresh_token }).to_string();
    call(app, "POST", "/auth/refresh", None, Some(&body)).await
}

async fn list_sessions(app: &TestApp, token: &str) -> Vec<Value> {
    let bearer = format!("Bearer {token}");
    let answer = call(app, "GET", "/auth/sessions", Some(&bearer), None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["data"]["sessions"].as_array().unwrap().clone()
}

async fn revoke(app: &TestApp, token: &str, session_id: &str) -> Answer {
    let bearer = format!("Bearer {token}");
    let path = format!("/auth/sessions/{session_id}");
    call(app, "DELETE", &path, Some(&bearer), None).await
}

async fn logout_scope(app: &TestApp, token: &str, scope: &str) -> Answer {
    let bearer = format!("Bearer {token}");
    let path = format!("/auth/logout?scope={scope}");
    call(app, "POST", &path, Some(&bearer), None).await
}

fn refresh_token_of(answer: &Answer) -> String {
    answer.body["refresh_token"].as_str().unwrap().to_owned()
}

fn session_of(token: &str) -> String {
    claims_of(token)["sid"].as_str().unwrap().to_owned()
}

/// The reuse grace window the service runs with (the default when unknown).
async fn grace_seconds() -> u64 {
    backstage()
        .await
        .map_or(10, |b| b.config.refresh_reuse_grace_seconds)
}

const BLACKLISTED: &str = "Token blacklisted. Please log in again.";
const INVALID_REFRESH: &str = "Invalid refresh token. Please log in again.";
const REUSED: &str = "Refresh token already used; the session has been ended. Please log in again.";

#[tokio::test]
async fn login_and_register_hand_out_a_refresh_token_and_its_lifetime() {
    let app = app().await;
    let email = unique_email();
    let registered = register(&app, &email).await;
    let logged_in = sign_in(&app, &email, "laptop").await;
    for answer in [&registered, &logged_in] {
        let refresh_token = refresh_token_of(answer);
        assert!(refresh_token.len() > 43, "at least 256 bits of secret");
        assert_eq!(
            refresh_token.matches('.').count(),
            0,
            "not shaped like a JWT"
        );
        assert!(answer.body["expires_in"].as_u64().unwrap() > 0);
    }
    assert_ne!(
        session_of(&registered.token()),
        session_of(&logged_in.token())
    );
}

#[tokio::test]
async fn refresh_rotates_and_the_old_token_dies_after_the_grace_window() {
    let app = app().await;
    let email = unique_email();
    let first = register(&app, &email).await;
    let old_refresh = refresh_token_of(&first);

    let rotated = refresh(&app, &old_refresh).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    assert_eq!(rotated.message(), "Token refreshed.");
    let new_refresh = refresh_token_of(&rotated);
    assert_ne!(new_refresh, old_refresh);
    assert_eq!(session_of(&rotated.token()), session_of(&first.token()));
    assert_eq!(status(&app, &rotated.token()).await.status, 200);

    // Inside the grace window, the old token gets the same successor again.
    let retry = refresh(&app, &old_refresh).await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(refresh_token_of(&retry), new_refresh);

    // After it, using the old token again is theft: the whole session ends.
    tokio::time::sleep(std::time::Duration::from_secs(grace_seconds().await + 1)).await;
    refresh(&app, &old_refresh).await.assert_fail(401, REUSED);
    refresh(&app, &new_refresh)
        .await
        .assert_fail(401, INVALID_REFRESH);
    status(&app, &rotated.token())
        .await
        .assert_fail(401, BLACKLISTED);
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_rotate_once_and_agree() {
    let app = Arc::new(app().await);
    let first = register(&app, &unique_email()).await;
    let old_refresh = refresh_token_of(&first);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let (app, token) = (app.clone(), old_refresh.clone());
        tasks.spawn(async move {
            let answer = refresh(&app, &token).await;
            (answer.status.as_u16(), answer.body["refresh_token"].clone())
        });
    }
    let results = tasks.join_all().await;
    assert!(results.iter().all(|(code, _)| *code == 200), "{results:?}");
    let successors: BTreeSet<String> = results.iter().map(|(_, t)| t.to_string()).collect();
    assert_eq!(
        successors.len(),
        1,
        "one rotation, one successor: {successors:?}"
    );
    // The successor is the live token: it rotates on.
    let successor = results[0].1.as_str().unwrap();
    assert_eq!(refresh(&app, successor).await.status, 200);
}

#[tokio::test]
async fn refresh_and_access_tokens_are_never_taken_for_each_other() {
    let app = app().await;
    let answer = register(&app, &unique_email()).await;
    status(&app, &refresh_token_of(&answer))
        .await
        .assert_fail(401, "Invalid token. Please log in again.");
    refresh(&app, &answer.token())
        .await
        .assert_fail(401, INVALID_REFRESH);
    for bad in ["", "a:b:c", "not a token"] {
        let answer = refresh(&app, bad).await;
        assert!(
            matches!(answer.status.as_u16(), 400 | 401),
            "{bad}: {}",
            answer.body
        );
    }
    call(&app, "POST", "/auth/refresh", None, Some("{}"))
        .await
        .assert_fail(400, "refresh_token is required.");
}

#[tokio::test]
async fn a_forged_refresh_token_for_a_real_session_is_refused_and_ends_nothing() {
    // Session and user ids are in every access token; the tag keeps anyone who
    // saw one from forging a "reused" refresh token to end the session.
    let app = app().await;
    let answer = register(&app, &unique_email()).await;
    let genuine = refresh_token_of(&answer);
    let parts: Vec<&str> = genuine.split(':').collect();
    assert_eq!(parts.len(), 4, "user:session:secret:tag");
    let forged = format!("{}:{}:{}:{}", parts[0], parts[1], "A".repeat(43), parts[3]);
    refresh(&app, &forged)
        .await
        .assert_fail(401, INVALID_REFRESH);
    assert_eq!(status(&app, &answer.token()).await.status, 200);
    assert_eq!(refresh(&app, &genuine).await.status, 200);
}

#[tokio::test]
async fn sessions_lists_each_device_and_marks_the_callers_own() {
    let app = app().await;
    let email = unique_email();
    register(&app, &email).await;
    let laptop = sign_in(&app, &email, "  laptop\u{7}  ").await.token();
    let phone = sign_in(&app, &email, "phone").await.token();
    let sessions = list_sessions(&app, &laptop).await;
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    for session in &sessions {
        let keys: BTreeSet<&str> = session
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let expected = [
            "created_at",
            "current",
            "device",
            "expires_at",
            "id",
            "last_used_at",
        ];
        assert_eq!(
            keys,
            expected.into_iter().collect(),
            "nothing secret is listed"
        );
        assert_eq!(
            session["current"],
            session["id"] == session_of(&laptop).as_str()
        );
    }
    let devices: BTreeSet<&str> = sessions
        .iter()
        .map(|s| s["device"].as_str().unwrap())
        .collect();
    assert!(
        devices.contains("laptop") && devices.contains("phone"),
        "{devices:?}"
    );
    let current: Vec<_> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(list_sessions(&app, &phone).await.len(), 3);
}

#[tokio::test]
async fn revoking_a_session_ends_its_tokens_at_once_and_only_its_own() {
    let app = app().await;
    let email = unique_email();
    register(&app, &email).await;
    let laptop = sign_in(&app, &email, "laptop").await;
    let phone = sign_in(&app, &email, "phone").await;
    let answer = revoke(&app, &laptop.token(), &session_of(&phone.token())).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    status(&app, &phone.token())
        .await
        .assert_fail(401, BLACKLISTED);
    refresh(&app, &refresh_token_of(&phone))
        .await
        .assert_fail(401, INVALID_REFRESH);
    assert_eq!(status(&app, &laptop.token()).await.status, 200);
    assert_eq!(refresh(&app, &refresh_token_of(&laptop)).await.status, 200);
}

#[tokio::test]
async fn someone_elses_session_and_an_unknown_one_look_the_same() {
    let app = app().await;
    let mine = register(&app, &unique_email()).await.token();
    let theirs = register(&app, &unique_email()).await.token();
    let someone_elses = revoke(&app, &mine, &session_of(&theirs)).await;
    let unknown = revoke(&app, &mine, "no-such-session").await;
    someone_elses.assert_fail(404, "Session not found.");
    assert_eq!(someone_elses.body, unknown.body);
    assert_eq!(someone_elses.own_headers(), unknown.own_headers());
    assert_eq!(
        status(&app, &theirs).await.status,
        200,
        "theirs is untouched"
    );
    revoke(&app, "garbage", "x")
        .await
        .assert_fail(401, "Invalid token. Please log in again.");
}

#[tokio::test]
async fn logout_scopes_local_others_and_global() {
    let app = app().await;
    let email = unique_email();
    register(&app, &email).await;
    let laptop_answer = sign_in(&app, &email, "laptop").await;
    let laptop = laptop_answer.token();
    let phone = sign_in(&app, &email, "phone").await.token();
    let tablet = sign_in(&app, &email, "tablet").await.token();

    logout_scope(&app, &phone, "everything")
        .await
        .assert_fail(400, "scope must be local, others or global.");

    assert_eq!(logout_scope(&app, &phone, "others").await.status, 200);
    assert_eq!(status(&app, &phone).await.status, 200);
    status(&app, &laptop).await.assert_fail(401, BLACKLISTED);
    status(&app, &tablet).await.assert_fail(401, BLACKLISTED);
    refresh(&app, &refresh_token_of(&laptop_answer))
        .await
        .assert_fail(401, INVALID_REFRESH);
    assert_eq!(list_sessions(&app, &phone).await.len(), 1);

    let desktop = sign_in(&app, &email, "desktop").await.token();
    assert_eq!(logout_scope(&app, &desktop, "global").await.status, 200);
    status(&app, &desktop).await.assert_fail(401, BLACKLISTED);
    status(&app, &phone).await.assert_fail(401, BLACKLISTED);

    let again_answer = sign_in(&app, &email, "again").await;
    let again = again_answer.token();
    assert_eq!(logout_scope(&app, &again, "local").await.status, 200);
    status(&app, &again).await.assert_fail(401, BLACKLISTED);
    refresh(&app, &refresh_token_of(&again_answer))
        .await
        .assert_fail(401, INVALID_REFRESH);
}

#[tokio::test]
async fn a_password_change_ends_every_other_session() {
    let app = app().await;
    let email = unique_email();
    register(&app, &email).await;
    let laptop = sign_in(&app, &email, "laptop").await;
    let phone_answer = sign_in(&app, &email, "phone").await;
    let phone = phone_answer.token();
    let bearer = format!("Bearer {}", laptop.token());
    let change = |current: &str, new: &str| {
        json!({ "current_password": current, "new_password": new }).to_string()
    };
    let new_password = "a brand new passphrase";

    call(
        &app,
        "POST",
        "/auth/password",
        Some(&bearer),
        Some(&change("wrong password", new_password)),
    )
    .await
    .assert_fail(403, "Current password is incorrect.");
    call(
        &app,
        "POST",
        "/auth/password",
        Some(&bearer),
        Some(&change(PASSWORD, "short")),
    )
    .await
    .assert_fail(400, "password must be 8 to 72 bytes long.");
    call(
        &app,
        "POST",
        "/auth/password",
        None,
        Some(&change(PASSWORD, new_password)),
    )
    .await
    .assert_fail(401, "Provide a valid auth token.");
    assert_eq!(
        status(&app, &phone).await.status,
        200,
        "failed attempts change nothing"
    );

    let changed = call(
        &app,
        "POST",
        "/auth/password",
        Some(&bearer),
        Some(&change(PASSWORD, new_password)),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.message(), "Password changed.");
    status(&app, &phone).await.assert_fail(401, BLACKLISTED);
    refresh(&app, &refresh_token_of(&phone_answer))
        .await
        .assert_fail(401, INVALID_REFRESH);
    assert_eq!(status(&app, &laptop.token()).await.status, 200);
    login(&app, &email, PASSWORD)
        .await
        .assert_fail(404, "User does not exist.");
    assert_eq!(login(&app, &email, new_password).await.status, 200);
}

#[tokio::test]
async fn an_expired_session_not_yet_deleted_counts_for_nothing() {
    let Some(backstage) = backstage_or_skip("expired session").await else {
        return;
    };
    let app = app().await;
    let email = unique_email();
    let answer = register(&app, &email).await;
    let token = answer.token();
    let user_id = claims_of(&token)["sub"].as_str().unwrap().to_owned();
    backstage
        .client
        .update_item()
        .table_name(&backstage.config.users_table)
        .key("pk", AttributeValue::S(format!("USER#{user_id}")))
        .key(
            "sk",
            AttributeValue::S(format!("SESSION#{}", session_of(&token))),
        )
        .update_expression("SET expires_at = :past")
        .expression_attribute_values(":past", AttributeValue::N((auth::now() - 5).to_string()))
        .send()
        .await
        .unwrap();
    status(&app, &token).await.assert_fail(401, BLACKLISTED);
    refresh(&app, &refresh_token_of(&answer))
        .await
        .assert_fail(401, INVALID_REFRESH);
    let fresh = login(&app, &email, PASSWORD).await.token();
    revoke(&app, &fresh, &session_of(&token))
        .await
        .assert_fail(404, "Session not found.");
    let listed = list_sessions(&app, &fresh).await;
    assert_eq!(listed.len(), 1, "only the new session: {listed:?}");
}
