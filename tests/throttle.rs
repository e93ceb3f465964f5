//! Brute force: failed logins are counted per account and per source address
//! in DynamoDB, and past the free failures further attempts get 429 with
//! `Retry-After`, on Cognito's schedule (see `auth::throttle`).
//!
//! Run in-process over DynamoDB Local by `make test`, and over HTTP by
//! `make test-e2e`; the tests that pick the client's address or write counters
//! directly need the in-process app or the service's database, and skip
//! otherwise.

use auth::Endpoint;
use auth::store::dynamo::DynamoStore;
use auth::throttle::MAX_DELAY_SECONDS;
use lambda_http::Body;
use std::time::Duration;
use test_support::*;

/// The default number of failed logins an account gets before it must wait.
const ACCOUNT_FREE_FAILURES: usize = 5;
/// The default for a source address.
const SOURCE_FREE_FAILURES: usize = 100;

fn retry_after(answer: &Answer) -> u64 {
    answer
        .headers
        .get("retry-after")
        .unwrap_or_else(|| panic!("a 429 carries Retry-After: {}", answer.body))
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Registers a new account, asserting it is created: its email.
async fn registered_email(app: &TestApp) -> String {
    let email = unique_email();
    assert_eq!(register(app, &email).await.status, 201);
    email
}

/// A new account that has used its free failures: it must wait now.
async fn account_that_must_wait(app: &TestApp) -> String {
    let email = registered_email(app).await;
    fail_logins(app, &email, ACCOUNT_FREE_FAILURES).await;
    email
}

async fn fail_logins(app: &TestApp, email: &str, times: usize) {
    for attempt in 1..=times {
        let answer = login(app, email, "not the password").await;
        assert_eq!(answer.status, 404, "failure {attempt}: {}", answer.body);
    }
}

/// Logs in with the right password while the account must wait: asserts it
/// is refused with 429 (the password is not even checked), and returns the
/// answer for its `Retry-After`.
async fn right_password_waits(app: &TestApp, email: &str) -> Answer {
    let throttled = login(app, email, PASSWORD).await;
    throttled.assert_fail(429, THROTTLED);
    throttled
}

/// Waits out a `Retry-After` (whole seconds, so add a little for the clock).
async fn wait_out(seconds: u64) {
    tokio::time::sleep(Duration::from_millis(seconds * 1000 + 300)).await;
}

#[tokio::test]
async fn an_account_waits_after_five_failures_and_the_waits_double() {
    let app = app().await;
    let email = account_that_must_wait(&app).await;

    // Even the right password is not checked while the account waits.
    let throttled = right_password_waits(&app, &email).await;
    assert_eq!(retry_after(&throttled), 1, "2^0 s after the fifth failure");

    wait_out(1).await;
    fail_logins(&app, &email, 1).await;
    let throttled = right_password_waits(&app, &email).await;
    assert_eq!(retry_after(&throttled), 2, "2^1 s after the sixth failure");

    wait_out(2).await;
    let answer = login(&app, &email, PASSWORD).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    // The success reset the account: five free failures again.
    fail_logins(&app, &email, ACCOUNT_FREE_FAILURES).await;
    right_password_waits(&app, &email).await;
}

#[tokio::test]
async fn unknown_emails_are_throttled_exactly_like_known_ones() {
    let app = app().await;
    let known = registered_email(&app).await;
    let unknown = unique_email();
    // In turns, so each email's last failure is one call before its check:
    // both checks land well inside the first, one-second wait.
    for _ in 0..ACCOUNT_FREE_FAILURES {
        fail_logins(&app, &known, 1).await;
        fail_logins(&app, &unknown, 1).await;
    }

    let for_known = login(&app, &known, "not the password").await;
    let for_unknown = login(&app, &unknown, "not the password").await;
    for_known.assert_fail(429, THROTTLED);
    for_unknown.assert_same_as(&for_known);
}

#[tokio::test]
async fn a_throttled_account_keeps_its_open_sessions() {
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    fail_logins(&app, &email, ACCOUNT_FREE_FAILURES).await;
    right_password_waits(&app, &email).await;

    assert_eq!(status(&app, &registered.token()).await.status, 200);
    let refreshed = refresh(&app, &registered.refresh_token()).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
}

/// A login as API Gateway delivers it: with the client's address in the
/// request context.
async fn login_from(app: &auth::App<DynamoStore>, ip: &str, email: &str, password: &str) -> u16 {
    let request = request_from(ip, Body::Text(credentials(email, password)));
    Endpoint::Login.handle(app, request).await.status().as_u16()
}

/// A private address that no other test is likely to use.
fn unique_ip() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let [_, a, b, c] = nanos.to_be_bytes();
    format!("10.{a}.{b}.{}", c.max(1))
}

#[tokio::test]
async fn a_source_address_waits_after_many_failures_on_any_accounts() {
    if over_http() {
        eprintln!("source throttle: skipped over HTTP, it needs to choose the client's address");
        return;
    }
    let test_app = app().await;
    let TestApp::InProcess(app) = &test_app else {
        unreachable!("without API_URL the app runs in-process")
    };
    let (attacker, bystander) = (unique_ip(), "2001:db8:77::1");
    let victim = registered_email(&test_app).await;

    // Every guess on a different account: no account counter ever trips.
    for guess in 1..=SOURCE_FREE_FAILURES {
        let code = login_from(app, &attacker, &unique_email(), "a wrong guess").await;
        assert_eq!(code, 404, "guess {guess}");
    }
    assert_eq!(
        login_from(app, &attacker, &unique_email(), "a wrong guess").await,
        429
    );
    assert_eq!(login_from(app, &attacker, &victim, PASSWORD).await, 429);
    // Other addresses are not affected, nor is the victim's account.
    assert_eq!(login_from(app, bystander, &victim, PASSWORD).await, 200);
}

/// For tests that write an account's counter behind the service's back: the
/// app, the service's database, and a registered account's email; `None`
/// when the test skips.
async fn account_and_backstage_or_skip(test: &str) -> Option<(TestApp, Backstage, String)> {
    let (app, backstage) = app_and_backstage_or_skip(test).await?;
    let email = registered_email(&app).await;
    Some((app, backstage, email))
}

#[tokio::test]
async fn no_wait_is_longer_than_fifteen_minutes() {
    let Some((app, backstage, email)) = account_and_backstage_or_skip("wait cap").await else {
        return;
    };
    let now_ms = auth::now_millis();
    let now = now_ms / 1000;

    // A thousand failures ten seconds ago: the wait is the cap, from then.
    backstage
        .write_counter(&email, 1000, now_ms - 10_000, now + 3600)
        .await;
    let throttled = right_password_waits(&app, &email).await;
    let wait = retry_after(&throttled);
    assert!(
        (MAX_DELAY_SECONDS - 11..=MAX_DELAY_SECONDS - 9).contains(&wait),
        "Retry-After {wait}"
    );

    // The same failures, the cap ago: the victim gets in, and is reset.
    let cap_ago = now_ms - MAX_DELAY_SECONDS * 1000;
    backstage
        .write_counter(&email, 1000, cap_ago, now + 3600)
        .await;
    assert_eq!(login(&app, &email, PASSWORD).await.status, 200);
    assert_eq!(backstage.stored_failures(&email).await, None);
}

#[tokio::test]
async fn a_counter_past_its_window_is_forgotten_even_before_ttl_deletes_it() {
    let Some((app, backstage, email)) = account_and_backstage_or_skip("lingering counter").await
    else {
        return;
    };
    let now_ms = auth::now_millis();
    backstage
        .write_counter(&email, 50, now_ms - 5_000, now_ms / 1000 - 1)
        .await;

    assert_eq!(login(&app, &email, "not the password").await.status, 404);
    assert_eq!(backstage.stored_failures(&email).await, Some(1));
}

#[tokio::test]
async fn every_failure_is_counted_even_when_they_race() {
    let Some((app, backstage)) = app_and_backstage_or_skip("racing failures").await else {
        return;
    };
    let email = unique_email();
    let attempts = (0..4).map(|_| login(&app, &email, "not the password"));
    for answer in futures_util::future::join_all(attempts).await {
        assert_eq!(answer.status, 404, "{}", answer.body);
    }
    assert_eq!(backstage.stored_failures(&email).await, Some(4));
}

#[tokio::test]
async fn wrong_current_passwords_count_like_failed_logins() {
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    let token = registered.token();
    let new_password = "a brand new password";
    for attempt in 1..=ACCOUNT_FREE_FAILURES {
        let answer = change_password(&app, Some(&token), "a wrong guess", new_password).await;
        assert_eq!(answer.status, 403, "guess {attempt}: {}", answer.body);
    }
    // The right password now waits too, here and at login: one counter.
    change_password(&app, Some(&token), PASSWORD, new_password)
        .await
        .assert_fail(429, THROTTLED);
    right_password_waits(&app, &email).await;
}

#[tokio::test]
async fn a_burst_of_guesses_when_a_wait_ends_gets_one_guess_between_them() {
    let app = app().await;
    let email = account_that_must_wait(&app).await;
    wait_out(1).await;
    fail_logins(&app, &email, 1).await;
    wait_out(2).await;

    // Ten guesses the moment the 2 s wait ends: one claims the attempt and
    // is checked; the others read the same count, lose the claim, and wait
    // (4 s now, far longer than the burst takes).
    let guesses = (0..10).map(|_| login(&app, &email, "not the password"));
    let mut codes: Vec<u16> = futures_util::future::join_all(guesses)
        .await
        .iter()
        .map(|answer| answer.status.as_u16())
        .collect();
    codes.sort_unstable();
    assert_eq!(codes, [vec![404], vec![429; 9]].concat());
    if let Some(backstage) = backstage().await {
        let counted = backstage.stored_failures(&email).await;
        assert_eq!(counted, Some(ACCOUNT_FREE_FAILURES as u64 + 2));
    }
}
