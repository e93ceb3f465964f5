//! The token hook (issue 26): custom claims from a team's own HTTP hook in
//! every access token, signed per Standard Webhooks and checked by the
//! spec's Python library in a real local server; reserved claims kept; a
//! slow, broken or forged hook denied (503, nothing written) or skipped, as
//! its policy says. In-process: the hook is a setting of the app.

use auth::{App, store::dynamo::DynamoStore};
use serde_json::{Value, json};
use test_support::token_hook::{HOOK_SECRET, TokenHookServer, other_secret};
use test_support::*;

async fn app_with_hook(
    hook: &TokenHookServer,
    path: &str,
    secret: &str,
    failure: &str,
    timeout_ms: u64,
) -> TestApp {
    let settings = hook.settings(path, secret, failure, timeout_ms);
    in_process_app_with(|config| config.token_hook = Some(settings))
        .await
        .into()
}

/// Sessions of the account, counted by a hook-less app.
async fn session_count(token: &str) -> usize {
    let plain: TestApp = in_process_app().await.into();
    list_sessions(&plain, token).await.len()
}

#[tokio::test]
async fn every_token_carries_the_hooks_claims_and_the_hook_sees_who_signs_in() {
    let hook = TokenHookServer::start().await;
    let app = app_with_hook(&hook, "/claims", HOOK_SECRET, "deny", 2000).await;
    let (email, registered) = new_account(&app).await;
    let token = registered.token();
    let registered_claims = claims_of(&token);
    assert_eq!(
        registered_claims["claims"]["signed_in_with"],
        json!(["pwd"])
    );

    let metadata = json!({"user_metadata": {"tenant": "acme"}}).to_string();
    call_with_token(&app, "PATCH", "/auth/user", &token, Some(&metadata))
        .await
        .assert_success(200, "Account updated.");
    let logged_in = login(&app, &email, PASSWORD).await;
    logged_in.assert_success(200, "Successfully logged in.");
    let claims = claims_of(&logged_in.token());
    // The hook's answer, under `claims`, without what it may not set.
    assert_eq!(
        claims["claims"],
        json!({"tenant": "acme", "plan": null, "signed_in_with": ["pwd"]})
    );
    assert_eq!(
        claims["sub"], registered_claims["sub"],
        "the hook's sub is dropped"
    );
    assert_eq!(claims["roles"], json!([]), "the hook's roles are dropped");

    let refreshed = refresh(&app, &logged_in.refresh_token()).await;
    assert_eq!(claims_of(&refreshed.token())["claims"]["tenant"], "acme");

    // What the hook received: signed, verified, and who is signing in.
    let deliveries = hook.deliveries().await;
    assert_eq!(
        deliveries.len(),
        3,
        "register, login, refresh: {deliveries:#?}"
    );
    for delivery in &deliveries {
        assert_eq!(delivery["verdict"], "verified", "{delivery}");
        let id = delivery["headers"]["webhook-id"].as_str().unwrap();
        assert!(id.starts_with("msg_"), "{id}");
        assert!(
            delivery["headers"]["webhook-signature"]
                .as_str()
                .unwrap()
                .starts_with("v1,")
        );
    }
    let ids: std::collections::BTreeSet<&str> = deliveries
        .iter()
        .map(|d| d["headers"]["webhook-id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "one id per message");
    let sent: Value = serde_json::from_str(deliveries[1]["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent["type"], "token.issuing");
    assert_eq!(
        sent["data"],
        json!({"user_id": registered_claims["sub"], "email": email, "roles": [],
               "user_metadata": {"tenant": "acme"}, "app_metadata": {}, "amr": ["pwd"]})
    );
}

#[tokio::test]
async fn with_deny_a_failing_hook_answers_503_and_opens_no_session() {
    let hook = TokenHookServer::start().await;
    let plain = app().await;
    let (email, registered) = new_account(&plain).await;
    let token = registered.token();
    let before = session_count(&token).await;
    let unreachable = TokenHookServer::start().await;
    let unreachable_settings = unreachable.settings("/claims", HOOK_SECRET, "deny", 1000);
    drop(unreachable);
    let mut apps: Vec<(&str, TestApp)> = vec![
        (
            "500",
            app_with_hook(&hook, "/error", HOOK_SECRET, "deny", 1000).await,
        ),
        (
            "not JSON",
            app_with_hook(&hook, "/garbage", HOOK_SECRET, "deny", 1000).await,
        ),
        (
            "an array",
            app_with_hook(&hook, "/list", HOOK_SECRET, "deny", 1000).await,
        ),
        (
            "over budget",
            app_with_hook(&hook, "/slow?ms=1500", HOOK_SECRET, "deny", 300).await,
        ),
        (
            "forged",
            app_with_hook(&hook, "/claims", &other_secret(), "deny", 1000).await,
        ),
    ];
    let down: App<DynamoStore> =
        in_process_app_with(|config| config.token_hook = Some(unreachable_settings)).await;
    apps.push(("unreachable", down.into()));
    // Six refusals of a right password, one account: none counts as a
    // failed login (the sixth would wait otherwise).
    for (fault, app) in &apps {
        let started = std::time::Instant::now();
        let answer = login(app, &email, PASSWORD).await;
        answer.assert_fail(503, "Service unavailable. Please try again.");
        assert_eq!(answer.body["code"], "token_hook_failed", "{fault}");
        assert!(
            started.elapsed().as_millis() < 1400,
            "{fault}: the budget holds"
        );
        let again = refresh(app, &registered.refresh_token()).await;
        assert_eq!(again.status.as_u16(), 503, "{fault}: refresh too");
    }
    assert_eq!(session_count(&token).await, before, "no session was opened");
    // The refresh token was not rotated by the refused refreshes.
    refresh(&plain, &registered.refresh_token())
        .await
        .assert_success(200, "Token refreshed.");
    let forged = hook
        .deliveries()
        .await
        .into_iter()
        .filter(|d| d["verdict"] != "verified");
    assert_eq!(
        forged.count(),
        2,
        "the receiver refused the foreign signature (login, refresh)"
    );
}

#[tokio::test]
async fn with_skip_a_failing_hook_gives_the_token_without_claims() {
    let hook = TokenHookServer::start().await;
    let app = app_with_hook(&hook, "/slow?ms=1500", HOOK_SECRET, "skip", 200).await;
    let (email, registered) = new_account(&app).await;
    assert!(claims_of(&registered.token()).get("claims").is_none());
    let answer = login(&app, &email, PASSWORD).await;
    answer.assert_success(200, "Successfully logged in.");
    assert!(claims_of(&answer.token()).get("claims").is_none());
}

#[tokio::test]
async fn without_a_hook_tokens_have_no_claims_claim() {
    let app = app().await;
    let (_, registered) = new_account(&app).await;
    assert!(claims_of(&registered.token()).get("claims").is_none());
}
