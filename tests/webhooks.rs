//! Webhooks over their real parts (issue 27), as `make test-e2e` runs them:
//! the endpoints under cargo lambda watch write events to the outbox in
//! DynamoDB Local; the local stream pump hands them to the `webhooks`
//! function, which fans them out to the delivery queue (moto's SQS, FIFO);
//! the local queue pump hands those back to it, and it POSTs each, signed,
//! to scripts/local/webhook-receiver.py, which checks every signature with
//! the `standardwebhooks` package and answers 503 on demand (`/_fail`).
//!
//! Elsewhere it skips: it needs WEBHOOK_RECEIVER_URL (lib.sh's use_webhooks).

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use test_support::*;

struct Receiver {
    url: String,
    http: reqwest::Client,
}

fn receiver_or_skip(test: &str) -> Option<Receiver> {
    let url = std::env::var("WEBHOOK_RECEIVER_URL")
        .ok()
        .filter(|url| !url.is_empty());
    if url.is_none() || !over_http() {
        eprintln!("{test}: skipped, it needs make test-e2e's webhook stack");
    }
    Some(Receiver {
        url: url.filter(|_| over_http())?,
        http: reqwest::Client::new(),
    })
}

impl Receiver {
    /// Every delivery attempt the receiver saw for `user_id`, in arrival order.
    async fn attempts(&self, user_id: &str) -> Vec<Value> {
        let url = format!("{}/_received?user_id={user_id}", self.url);
        let answer = self.http.get(url).send().await.unwrap();
        serde_json::from_str(&answer.text().await.unwrap()).unwrap()
    }

    /// The attempts for `user_id` once `done` holds of them (polled for up
    /// to 60 s: each delivery crosses two local pumps).
    async fn attempts_until(&self, user_id: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let attempts = self.attempts(user_id).await;
            if done(&attempts) {
                return attempts;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "waited 60 s; the receiver saw: {attempts:#?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The delivered (204) events' types for `user_id` once there are `count`.
    async fn delivered(&self, user_id: &str, count: usize) -> Vec<Value> {
        let attempts = self
            .attempts_until(user_id, |attempts| delivered(attempts).len() >= count)
            .await;
        delivered(&attempts)
    }

    /// The next `times` deliveries of `user_id`'s events answer 503.
    async fn fail(&self, user_id: &str, times: u32) {
        let body = json!({"user_id": user_id, "times": times});
        let url = format!("{}/_fail", self.url);
        let answer = self.http.post(url).body(body.to_string()).send().await;
        assert!(answer.unwrap().status().is_success());
    }
}

fn delivered(attempts: &[Value]) -> Vec<Value> {
    attempts
        .iter()
        .filter(|attempt| attempt["status"] == 204)
        .cloned()
        .collect()
}

fn types(attempts: &[Value]) -> Vec<&str> {
    attempts
        .iter()
        .map(|attempt| attempt["type"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn every_change_is_told_once_in_order_and_without_secrets() {
    let Some(receiver) = receiver_or_skip("every_change_is_told_once") else {
        return;
    };
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    let token = registered.token();
    let user_id = user_of(&token);
    let phone = sign_in(&app, &email, "phone").await;
    let new_password = "another horse battery";
    let changed = change_password(&app, Some(&token), PASSWORD, new_password).await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    delete_account(&app, &token, new_password)
        .await
        .assert_success(200, "Account deleted.");

    let attempts = receiver
        .attempts_until(&user_id, |attempts| {
            types(&delivered(attempts)).contains(&"user.deleted")
        })
        .await;
    let events = delivered(&attempts);
    let kinds = types(&events);
    assert_eq!(kinds.first(), Some(&"user.created"), "{kinds:?}");
    for (kind, times) in [
        ("user.created", 1),
        ("user.password_changed", 1),
        ("user.deleted", 1),
    ] {
        assert_eq!(
            kinds.iter().filter(|k| **k == kind).count(),
            times,
            "{kind}: {kinds:?}"
        );
    }
    assert!(kinds.contains(&"session.created"), "{kinds:?}");
    let position = |kind| kinds.iter().position(|k| *k == kind).unwrap();
    assert!(position("user.password_changed") < position("user.deleted"));
    // One webhook-id per event: none told twice.
    let mut ids: Vec<&str> = events
        .iter()
        .map(|e| e["webhook_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), events.len(), "{events:#?}");
    // The bodies name the user, never a password or a token.
    let text = serde_json::to_string(&events).unwrap();
    for secret in [
        PASSWORD,
        new_password,
        &token,
        &phone.token(),
        &phone.refresh_token(),
    ] {
        assert!(!text.contains(secret), "a body carries a secret: {text}");
    }
    assert!(
        events
            .iter()
            .all(|event| event["data"]["user_id"] == user_id.as_str())
    );
    assert_eq!(events[0]["data"]["email"], email.as_str());
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_same_id_three_times_and_order_holds() {
    let Some(receiver) = receiver_or_skip("a_receiver_failing_twice") else {
        return;
    };
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    let user_id = user_of(&registered.token());
    let laptop = sign_in(&app, &email, "laptop").await;
    let phone = sign_in(&app, &email, "phone").await;
    // The registration's and sign-ins' events first, so the failures hit the next.
    let before = receiver.delivered(&user_id, 4).await.len();
    receiver.fail(&user_id, 2).await;
    logout(&app, &laptop.token())
        .await
        .assert_success(200, LOGGED_OUT);
    logout(&app, &phone.token())
        .await
        .assert_success(200, LOGGED_OUT);

    let attempts = receiver
        .attempts_until(&user_id, |attempts| delivered(attempts).len() >= before + 2)
        .await;
    let later = &attempts[attempts.len() - 4..];
    let statuses: Vec<i64> = later
        .iter()
        .map(|a| a["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [503, 503, 204, 204], "{later:#?}");
    let first_id = &later[0]["webhook_id"];
    assert!(
        later[..3]
            .iter()
            .all(|attempt| &attempt["webhook_id"] == first_id),
        "{later:#?}"
    );
    // The second logout's event waited behind the first: told after it, once.
    assert_ne!(&later[3]["webhook_id"], first_id);
    assert_eq!(types(later), ["session.revoked"; 4]);
    let sessions: Vec<&Value> = later.iter().map(|a| &a["data"]["session_id"]).collect();
    assert_eq!(sessions[0], &json!(session_of(&laptop.token())));
    assert_eq!(sessions[3], &json!(session_of(&phone.token())));
}

#[tokio::test]
async fn a_receiver_down_for_every_try_leaves_the_event_in_the_dead_letters() {
    let Some(receiver) = receiver_or_skip("a_receiver_down_for_every_try") else {
        return;
    };
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    let user_id = user_of(&registered.token());
    let laptop = sign_in(&app, &email, "laptop").await;
    let before = receiver.delivered(&user_id, 3).await.len();
    receiver.fail(&user_id, 1000).await;
    logout(&app, &laptop.token())
        .await
        .assert_success(200, LOGGED_OUT);

    // WEBHOOK_RETRY_SECONDS' waits, and one more try.
    let tries = std::env::var("WEBHOOK_RETRY_SECONDS")
        .unwrap()
        .split(',')
        .count()
        + 1;
    let attempts = receiver
        .attempts_until(&user_id, |attempts| attempts.len() >= before + tries)
        .await;
    let failed = &attempts[before..];
    assert!(
        failed.iter().all(|attempt| attempt["status"] == 503),
        "{failed:#?}"
    );
    let id = failed[0]["webhook_id"]
        .as_str()
        .unwrap()
        .trim_start_matches("msg_")
        .to_owned();

    let dead = dead_letter_with(&id).await;
    assert_eq!(dead["type"], "session.revoked");
    assert_eq!(dead["user_id"], user_id.as_str());
    // And no try after the last.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.attempts(&user_id).await.len(), before + tries);
}

/// The dead-lettered delivery of event `id`, looked for in the dead-letter
/// queue for up to 30 s (without taking the others' messages from view).
async fn dead_letter_with(id: &str) -> Value {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SQS").unwrap();
    let queue_url = std::env::var("WEBHOOK_DEAD_LETTER_QUEUE_URL").unwrap();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .load()
        .await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let started = Instant::now();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
        for message in received.messages() {
            let body: Value = serde_json::from_str(message.body().unwrap_or("{}")).unwrap();
            if body["id"] == id {
                return body;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{id} not dead-lettered"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn a_change_that_did_not_happen_is_not_told() {
    let Some(receiver) = receiver_or_skip("a_change_that_did_not_happen") else {
        return;
    };
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    let token = registered.token();
    let user_id = user_of(&token);
    // Refused: the address is taken; the current password is wrong.
    assert_eq!(register(&app, &email).await.status, 202);
    let refused = change_password(
        &app,
        Some(&token),
        "not the password",
        "another horse battery",
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    // A change that did happen, told after them if they had been.
    logout(&app, &token).await.assert_success(200, LOGGED_OUT);
    let events = receiver.delivered(&user_id, 3).await;
    assert_eq!(
        types(&events),
        ["user.created", "session.created", "session.revoked"]
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(delivered(&receiver.attempts(&user_id).await).len(), 3);
}

#[tokio::test]
async fn a_passkey_added_then_removed_is_told_by_its_id() {
    let Some(receiver) = receiver_or_skip("a_passkey_added_then_removed") else {
        return;
    };
    let app = app().await;
    let (_, registered) = new_account(&app).await;
    let token = registered.token();
    let user_id = user_of(&token);
    let options = call_with_token(
        &app,
        "POST",
        "/auth/passkeys/register/options",
        &token,
        None,
    )
    .await;
    assert_eq!(options.status, 200, "{}", options.body);
    record_ceremony(&options.body);
    let credential = soft_passkey::SoftPasskey::new().register(&support_rp_origin(), &options.body);
    let body = json!({
        "ceremony_id": options.body["ceremony_id"],
        "credential": credential,
        "name": "Laptop",
    });
    let path = "/auth/passkeys/register";
    let added = call_with_token(&app, "POST", path, &token, Some(&body.to_string())).await;
    assert_eq!(added.status, 201, "{}", added.body);
    let passkey_id = added.body["id"].as_str().unwrap().to_owned();
    // A refused removal (no such passkey) is not told.
    let missing = "/auth/passkeys/AQEBAQEBAQEBAQEBAQEBAQ";
    call_with_token(&app, "DELETE", missing, &token, None)
        .await
        .assert_fail(404, "Passkey not found.");
    call_with_token(
        &app,
        "DELETE",
        &format!("/auth/passkeys/{passkey_id}"),
        &token,
        None,
    )
    .await
    .assert_success(200, "Passkey deleted.");

    let events = receiver.delivered(&user_id, 4).await;
    let passkey_events: Vec<&Value> = events
        .iter()
        .filter(|event| event["type"].as_str().unwrap().starts_with("passkey."))
        .collect();
    let kinds: Vec<&str> = passkey_events
        .iter()
        .map(|event| event["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["passkey.added", "passkey.removed"], "{events:#?}");
    for event in passkey_events {
        assert_eq!(event["data"]["passkey_id"], passkey_id.as_str());
        assert_eq!(event["data"]["user_id"], user_id.as_str());
    }
}
