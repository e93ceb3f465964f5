//! `POST /auth/refresh` (issue #4): the refresh token every login hands out,
//! rotation, the reuse grace window and theft detection after it, concurrent
//! refreshes, and tokens that are not refresh tokens or are forged, or (issue
//! 11) tagged with the real key but naming ids not of our shape. Runs
//! in-process or over HTTP.

use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use test_support::*;

#[tokio::test]
async fn login_and_register_hand_out_a_refresh_token_and_its_lifetime() {
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    let logged_in = sign_in(&app, &email, "laptop").await;
    for answer in [&registered, &logged_in] {
        let refresh_token = answer.refresh_token();
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
async fn every_token_says_how_and_when_its_session_signed_in_and_refresh_keeps_both() {
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    let before = auth::now();
    let logged_in = sign_in(&app, &email, "laptop").await;
    for answer in [&registered, &logged_in] {
        let claims = claims_of(&answer.token());
        assert_eq!(claims["amr"], json!(["pwd"]), "{claims}");
        assert_eq!(claims["auth_time"], claims["iat"]);
    }
    // A refresh in a later second: a new `iat`, the sign-in's `auth_time`.
    let signed_in_at = claims_of(&logged_in.token())["auth_time"].clone();
    while auth::now() <= before + 1 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let refreshed = refresh(&app, &logged_in.refresh_token()).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let claims = claims_of(&refreshed.token());
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["auth_time"], signed_in_at);
    assert!(claims["iat"].as_u64() > signed_in_at.as_u64(), "{claims}");
}

#[tokio::test]
async fn refresh_rotates_and_the_old_token_dies_after_the_grace_window() {
    let app = app().await;
    let first = new_account(&app).await.1;
    let old_refresh = first.refresh_token();

    let rotated = refresh(&app, &old_refresh).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    assert_eq!(rotated.message(), REFRESHED);
    let new_refresh = rotated.refresh_token();
    assert_ne!(new_refresh, old_refresh);
    assert_eq!(session_of(&rotated.token()), session_of(&first.token()));
    assert_eq!(status(&app, &rotated.token()).await.status, 200);

    // Inside the grace window, the old token gets the same successor again.
    let retry = refresh(&app, &old_refresh).await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(retry.refresh_token(), new_refresh);

    // After it, using the old token again is theft: the whole session ends.
    tokio::time::sleep(std::time::Duration::from_secs(grace_seconds().await + 1)).await;
    refresh(&app, &old_refresh)
        .await
        .assert_fail(401, REFRESH_REUSED);
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
    let old_refresh = new_account(&app).await.1.refresh_token();
    let results = at_once(&app, 5, &old_refresh, |app, token| async move {
        let answer = refresh(&app, &token).await;
        (answer.status.as_u16(), answer.body["refresh_token"].clone())
    })
    .await;
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
    let answer = new_account(&app).await.1;
    status(&app, &answer.refresh_token())
        .await
        .assert_fail(401, INVALID_TOKEN);
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
        .assert_fail(400, REFRESH_TOKEN_REQUIRED);
}

#[tokio::test]
async fn a_forged_refresh_token_for_a_real_session_is_refused_and_ends_nothing() {
    // Session and user ids are in every access token; the tag keeps anyone who
    // saw one from forging a "reused" refresh token to end the session.
    let app = app().await;
    let answer = new_account(&app).await.1;
    let genuine = answer.refresh_token();
    let parts: Vec<&str> = genuine.split(':').collect();
    assert_eq!(parts.len(), 4, "user:session:secret:tag");
    let forged = format!("{}:{}:{}:{}", parts[0], parts[1], "A".repeat(43), parts[3]);
    refresh(&app, &forged)
        .await
        .assert_fail(401, INVALID_REFRESH);
    assert_session_works(&app, &answer).await;
}

#[tokio::test]
async fn refresh_tokens_naming_ids_not_of_our_shape_are_invalid() {
    // Tagged with the service's own key, so only the ids are wrong: refused
    // before any lookup, as a key DynamoDB cannot take would be a 503.
    let Some((app, backstage)) = app_and_backstage_or_skip("refresh ids not of our shape").await
    else {
        return;
    };
    let answer = new_account(&app).await.1;
    let (user, session) = (user_of(&answer.token()), session_of(&answer.token()));
    let keys = auth::tokens::refresh::RefreshKeys::new(&backstage.config.refresh_token_secret);
    let cases = [
        ("u1".to_owned(), session.clone()),
        (user.to_uppercase(), session.clone()),
        ("u".repeat(3000), session.clone()),
        (user.clone(), String::new()),
        (user.clone(), "session-1".to_owned()),
        (user.clone(), session[..21].to_owned()),
        (user.clone(), "A".repeat(1100)),
    ];
    for (user_id, session_id) in &cases {
        let odd = auth::tokens::refresh::RefreshToken::new(user_id, session_id).unwrap();
        let what = format!("user {user_id:.40}, session {session_id:.40}");
        let expected = (401, INVALID_REFRESH.to_owned());
        let answer = refresh(&app, &keys.encode(&odd)).await;
        assert_eq!(answer.code_and_message(), expected, "{what}");
    }
    assert_session_works(&app, &answer).await;
}
