//! `GET /auth/status` and the token check every protected endpoint starts
//! with: the user shown; a missing, malformed, expired or forged token, and a
//! deleted user's, each with its contract message. The long table of hostile
//! tokens is hostile_tokens.rs. Runs in-process or over HTTP.

use jsonwebtoken::Algorithm;
use serde_json::json;
use test_support::*;

#[tokio::test]
async fn status_shows_the_user() {
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    let token = registered.token();
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
    let headers = [None, Some(""), Some("Bearer"), Some("Bearer   ")];
    assert_each_authorization_fails(&app, ("GET", "/auth/status"), &headers, 401, NO_TOKEN).await;
}

#[tokio::test]
async fn status_with_a_header_not_of_the_bearer_form_is_malformed() {
    let app = app().await;
    let token = new_account(&app).await.1.token();
    let headers = [
        token.clone(),
        format!("Token {token}"),
        format!("Bearer {token} extra"),
    ];
    let headers = headers.each_ref().map(|header| Some(header.as_str()));
    assert_each_authorization_fails(
        &app,
        ("GET", "/auth/status"),
        &headers,
        401,
        MALFORMED_BEARER,
    )
    .await;
}

#[tokio::test]
async fn an_expired_token_is_refused_as_expired() {
    let Some((app, backstage)) = app_and_backstage_or_skip("expired token").await else {
        return;
    };
    let token = new_account(&app).await.1.token();
    let now = auth::now();
    let claims = with(&claims_of(&token), "iat", json!(now - 120));
    let claims = with(&claims, "exp", json!(now - 1));
    let expired = backstage.sign(&claims);
    status(&app, &expired).await.assert_fail(401, EXPIRED_TOKEN);
}

#[tokio::test]
async fn forged_and_broken_tokens_are_invalid() {
    let app = app().await;
    let token = new_account(&app).await.1.token();
    let claims = claims_of(&token);
    let other_secret = b"another-secret-of-32-bytes-at-least";
    // The attacker's own RSA key, under the kid of the service's key.
    let attacker = attacker_keys().current();
    let under_our_kid = json!({ "typ": "JWT", "alg": "RS256", "kid": kid_of(&token) });
    let mut forged = vec![
        (
            "another secret",
            sign_hmac(&claims, Algorithm::HS256, other_secret),
        ),
        ("another RSA key", signed_with(attacker, &claims)),
        (
            "another RSA key under our kid",
            forge(
                &under_our_kid,
                &claims,
                Algorithm::RS256,
                &attacker.encoding,
            ),
        ),
        ("alg none", unsigned("none", &b64(&claims))),
        ("garbage", "garbage".to_owned()),
        ("tampered", tamper(&token)),
    ];
    // Forgeries only the holder of the real key could make.
    if let Some(backstage) = backstage_or_skip("forgeries with the real key").await {
        let current = backstage.config.signing_keys.current();
        let header = |alg: &str| json!({ "typ": "JWT", "alg": alg, "kid": current.kid });
        forged.push((
            "RS512 with the real key",
            forge(
                &header("RS512"),
                &claims,
                Algorithm::RS512,
                &current.encoding,
            ),
        ));
        forged.push(("missing claim", backstage.sign(&without(&claims, "jti"))));
    }
    for (what, bad) in forged {
        let answer = status(&app, &bad).await;
        assert_eq!(answer.message(), INVALID_TOKEN, "{what}");
        answer.assert_fail(401, INVALID_TOKEN);
    }
}

#[tokio::test]
async fn a_token_for_a_deleted_user_is_invalid() {
    let Some((app, backstage)) = app_and_backstage_or_skip("deleted user").await else {
        return;
    };
    let token = new_account(&app).await.1.token();
    backstage.delete_profile(&user_of(&token)).await;
    status(&app, &token).await.assert_fail(401, INVALID_TOKEN);
}

#[tokio::test]
async fn a_user_keeps_their_own_metadata_and_status_shows_it() {
    let app = app().await;
    let (_, registered) = new_account(&app).await;
    let token = registered.token();
    let shown = status(&app, &token).await;
    assert_eq!(shown.body["data"]["user_metadata"], serde_json::json!({}));
    assert_eq!(shown.body["data"]["app_metadata"], serde_json::json!({}));

    let patch = |body: String| {
        let (app, token) = (&app, token.clone());
        async move { call_with_token(app, "PATCH", "/auth/user", &token, Some(&body)).await }
    };
    let metadata = serde_json::json!({"display_name": "Ann", "prefs": {"theme": "dark"}});
    let body = serde_json::json!({ "user_metadata": metadata }).to_string();
    let answer = patch(body).await;
    answer.assert_success(200, "Account updated.");
    assert_eq!(answer.body["data"]["user_metadata"], metadata);
    assert_eq!(
        status(&app, &token).await.body["data"]["user_metadata"],
        metadata
    );

    // Anything but an object within the limits: 400 with the reason, nothing kept.
    let deep = serde_json::json!({"a": {"b": {"c": {"d": {"e": {}}}}}});
    let big = serde_json::json!({ "a": "x".repeat(4096) });
    for (bad, reason) in [
        (
            serde_json::json!([1]),
            "user_metadata must be a JSON object.",
        ),
        (
            serde_json::json!("Ann"),
            "user_metadata must be a JSON object.",
        ),
        (deep, "user_metadata must nest at most 5 levels."),
        (big, "user_metadata must be at most 4096 bytes as JSON."),
    ] {
        let answer = patch(serde_json::json!({ "user_metadata": bad }).to_string()).await;
        answer.assert_fail(400, reason);
        assert_eq!(answer.body["code"], "validation_failed");
    }
    assert_eq!(
        status(&app, &token).await.body["data"]["user_metadata"],
        metadata
    );
    // Its own key only: app_metadata is not the user's to write.
    let answer = patch(r#"{"app_metadata": {"plan": "pro"}}"#.to_owned()).await;
    answer.assert_fail(400, "user_metadata must be a JSON object.");
    // Replaced whole.
    patch(r#"{"user_metadata": {}}"#.to_owned())
        .await
        .assert_success(200, "Account updated.");
    assert_eq!(
        status(&app, &token).await.body["data"]["user_metadata"],
        serde_json::json!({})
    );
}
