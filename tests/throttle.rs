//! Brute force: failed logins are counted per account and per source address
//! in DynamoDB, and past the free failures further attempts get 429 with
//! `Retry-After`, on Cognito's schedule (see `auth::throttle`). Since issue 11
//! every attempt claims its failure before bcrypt, so a burst of parallel
//! guesses gets exactly the free password checks, however many instances
//! serve it; a success settles the claim. Registrations are limited per
//! address too.
//!
//! Run in-process over DynamoDB Local by `make test`, and over HTTP by
//! `make test-e2e`; the tests that pick the client's address or write counters
//! directly need the in-process app or the service's database, and skip
//! otherwise.

use auth::store::dynamo::DynamoStore;
use auth::throttle::{MAX_DELAY_SECONDS, REGISTRATION_WINDOW_SECONDS};
use auth::{App, Endpoint};
use std::sync::Arc;
use std::time::Duration;
use test_support::*;

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
async fn login_from(app: &App<DynamoStore>, ip: &str, email: &str, password: &str) -> u16 {
    let body = credentials(email, password);
    call_from(app, ip, Endpoint::Login, &body)
        .await
        .status
        .as_u16()
}

/// Whether a test that must choose the client's address can run: not over
/// HTTP, where every request here comes from one address (it says so then).
fn in_process_or_skip(test: &str) -> bool {
    if over_http() {
        eprintln!("{test}: skipped over HTTP, it needs to choose the client's address");
        return false;
    }
    true
}

#[tokio::test]
async fn a_source_address_waits_after_many_failures_on_any_accounts() {
    if !in_process_or_skip("source throttle") {
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

// ---- bursts: the limit holds whatever the interleaving (issue 11) ----------

/// Parallel attempts in a burst: more than the instances `cargo lambda watch`
/// runs per function (make test-e2e starts it with 4), so that over HTTP the
/// burst is spread over all of them, as over Lambda instances.
const BURST: usize = 16;

/// Has every instance of a function served a request before a burst, by
/// sending a burst of `warm_up` first: over HTTP, a cold instance would start
/// (and, the first time, build) while the others answer, so the burst's
/// requests would not really run together. In-process it changes nothing.
async fn warm_every_instance<F, Fut>(app: &Arc<TestApp>, warm_up: F)
where
    F: Fn(Arc<TestApp>, ()) -> Fut,
    Fut: Future<Output = u16> + Send + 'static,
{
    let codes = at_once(app, BURST, &(), warm_up).await;
    assert!(codes.iter().all(|code| *code < 500), "warm-up: {codes:?}");
}

/// How many of a burst's answers were password checks (`code` with
/// `message`); asserts that every other one was refused before any check,
/// with 429 and the wait the last free failure imposes: 2^0 s from its claim,
/// which an attempt that read the clock a moment before the claim was stamped
/// sees as a little over one second, rounded up to 2.
fn password_checks(answers: &[Answer], code: u16, message: &str) -> usize {
    let mut checked = 0;
    for answer in answers {
        if answer.status == code {
            answer.assert_fail(code, message);
            checked += 1;
        } else {
            answer.assert_fail(429, THROTTLED);
            let wait = retry_after(answer);
            assert!((1..=2).contains(&wait), "Retry-After {wait}");
        }
    }
    checked
}

/// Asserts that of a burst's `answers` on the account of `email`, exactly its
/// free failures were password checks (`checks`: their code and message) and
/// the rest waits; that its counter holds exactly those; and that now even
/// the right password waits.
async fn assert_the_free_checks_and_then_a_wait(
    app: &TestApp,
    email: &str,
    answers: &[Answer],
    (code, message): (u16, &str),
) {
    let checked = password_checks(answers, code, message);
    assert_eq!(checked, ACCOUNT_FREE_FAILURES, "of {}", answers.len());
    if let Some(backstage) = backstage().await {
        let counted = backstage.stored_failures(email).await;
        assert_eq!(counted, Some(ACCOUNT_FREE_FAILURES as u64));
    }
    right_password_waits(app, email).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_wrong_logins_gets_exactly_the_free_password_checks() {
    let app = Arc::new(app().await);
    warm_every_instance(&app, |app, ()| async move {
        // Unknown emails of their own: no counter this test reads.
        let answer = login(&app, &unique_email(), "a warm-up guess").await;
        answer.status.as_u16()
    })
    .await;
    let email = registered_email(&app).await;

    let answers = at_once(&app, BURST, &email, |app, email| async move {
        login(&app, &email, "not the password").await
    })
    .await;
    // Before issue 11, requests that read the same low count all got a
    // check: six or more 404s.
    let checks = (404, USER_DOES_NOT_EXIST);
    assert_the_free_checks_and_then_a_wait(&app, &email, &answers, checks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_wrong_current_passwords_gets_exactly_the_free_password_checks() {
    let app = Arc::new(app().await);
    let warm_up_token = new_account(&app).await.1.token();
    warm_every_instance(&app, move |app, ()| {
        let token = warm_up_token.clone();
        async move {
            // The token check reaches storage, then the new password is
            // refused (400) before any password is checked or counted.
            let answer = change_password(&app, Some(&token), PASSWORD, "short").await;
            answer.status.as_u16()
        }
    })
    .await;
    let (email, registered) = new_account(&app).await;

    let answers = at_once(&app, BURST, &registered.token(), |app, token| async move {
        change_password(&app, Some(&token), "a wrong guess", "a brand new password").await
    })
    .await;
    // One counter for both: the login waits too.
    let checks = (403, WRONG_CURRENT_PASSWORD);
    assert_the_free_checks_and_then_a_wait(&app, &email, &answers, checks).await;
}

/// Free failed logins per address in the tests below that lower it: few, so
/// that a burst is many times more.
const LOW_SOURCE_FREE_FAILURES: u32 = 3;

/// The in-process app with [`LOW_SOURCE_FREE_FAILURES`] per address.
async fn app_with_low_source_limit() -> App<DynamoStore> {
    in_process_app_with(|config| {
        config.source_login_failures_before_delay = LOW_SOURCE_FREE_FAILURES;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_wrong_logins_from_one_address_gets_exactly_its_free_password_checks() {
    if !in_process_or_skip("address burst") {
        return;
    }
    let app = Arc::new(app_with_low_source_limit().await);
    let ip = unique_ip();
    // A different unknown email each: no account counter comes near its limit.
    let answers = at_once(&app, BURST, &ip, |app, ip| async move {
        let body = credentials(&unique_email(), "a wrong guess");
        call_from(&app, &ip, Endpoint::Login, &body).await
    })
    .await;
    let checked = password_checks(&answers, 404, USER_DOES_NOT_EXIST);
    assert_eq!(checked, LOW_SOURCE_FREE_FAILURES as usize, "of {BURST}");
    let backstage = backstage()
        .await
        .expect("in-process, the database is at hand");
    let counted = backstage.stored_source_failures(&ip).await;
    assert_eq!(counted, Some(u64::from(LOW_SOURCE_FREE_FAILURES)));
}

/// An address that has used its free failures and waited its wait out: the
/// app with the low limit, the address, and an account's email.
async fn address_past_its_limit_whose_wait_is_over() -> (App<DynamoStore>, String, String) {
    let app = app_with_low_source_limit().await;
    let ip = unique_ip();
    let email = registered_email(&TestApp::from(in_process_app().await)).await;
    for guess in 1..=LOW_SOURCE_FREE_FAILURES {
        let code = login_from(&app, &ip, &unique_email(), "a wrong guess").await;
        assert_eq!(code, 404, "guess {guess}");
    }
    assert_eq!(login_from(&app, &ip, &email, PASSWORD).await, 429);
    wait_out(1).await;
    (app, ip, email)
}

#[tokio::test]
async fn a_success_from_an_address_past_its_limit_does_not_grow_its_counter() {
    if !in_process_or_skip("success past the address limit") {
        return;
    }
    let (app, ip, email) = address_past_its_limit_whose_wait_is_over().await;
    let backstage = backstage()
        .await
        .expect("in-process, the database is at hand");
    let limit = Some(u64::from(LOW_SOURCE_FREE_FAILURES));
    assert_eq!(backstage.stored_source_failures(&ip).await, limit);

    // Its claim counted one more before bcrypt; the success took it back.
    assert_eq!(login_from(&app, &ip, &email, PASSWORD).await, 200);
    assert_eq!(backstage.stored_source_failures(&ip).await, limit);
}

#[tokio::test]
async fn a_success_from_an_address_past_its_limit_does_not_restart_its_wait() {
    // A success is no failure: an office behind one address, past its limit
    // and with its wait over, must not wait again because someone there
    // signed in. The claim on the address's counter stamps `last_failure_ms`;
    // taking it back restores the stamp before it, unless another attempt
    // stamped the counter since.
    if !in_process_or_skip("success past the address limit, twice") {
        return;
    }
    let (app, ip, email) = address_past_its_limit_whose_wait_is_over().await;
    assert_eq!(login_from(&app, &ip, &email, PASSWORD).await, 200);
    assert_eq!(login_from(&app, &ip, &email, PASSWORD).await, 200);
}

// ---- registrations per address ----------------------------------------------

/// Registrations per address per hour in the test below.
const LOW_REGISTRATION_LIMIT: u32 = 3;

/// Registrations are counted in fixed hourly windows: a test that must stay in
/// one waits for the next if the current one is about to end.
async fn within_one_registration_window() {
    let left = REGISTRATION_WINDOW_SECONDS - auth::now() % REGISTRATION_WINDOW_SECONDS;
    if left < 30 {
        wait_out(left).await;
    }
}

#[tokio::test]
async fn an_address_past_its_registrations_this_hour_gets_429_whatever_the_email() {
    if !in_process_or_skip("registration limit") {
        return;
    }
    let app = in_process_app_with(|config| {
        config.source_registrations_per_hour = LOW_REGISTRATION_LIMIT;
    })
    .await;
    let (ip, elsewhere) = (unique_ip(), unique_ip());
    let register_from = |ip: &str, email: &str| {
        let body = credentials(email, PASSWORD);
        let ip = ip.to_owned();
        let app = &app;
        async move { call_from(app, &ip, Endpoint::Register, &body).await }
    };
    within_one_registration_window().await;

    // Below the limit the contract is as ever, and a taken email counts too
    // (counted before bcrypt, so 201 and 202 cost the same).
    let known = unique_email();
    let below_the_limit = [
        (known.clone(), 201, REGISTERED),
        (known.clone(), 202, USER_EXISTS),
        (unique_email(), 201, REGISTERED),
    ];
    for (email, code, message) in below_the_limit {
        let answer = register_from(&ip, &email).await;
        assert_eq!(answer.code_and_message(), (code, message.to_owned()));
    }

    let for_known = register_from(&ip, &known).await;
    let for_unknown = register_from(&ip, &unique_email()).await;
    for_known.assert_fail(429, TOO_MANY_REGISTRATIONS);
    // The same answer: a 429 says nothing about which emails have accounts.
    assert_eq!(
        (for_unknown.status, &for_unknown.body),
        (for_known.status, &for_known.body)
    );
    // Retry-After is the rest of the hour (the two calls may straddle a second).
    let left = REGISTRATION_WINDOW_SECONDS - auth::now() % REGISTRATION_WINDOW_SECONDS;
    for answer in [&for_known, &for_unknown] {
        let wait = retry_after(answer);
        assert!(wait <= REGISTRATION_WINDOW_SECONDS, "Retry-After {wait}");
        assert!(
            wait.abs_diff(left) <= 1,
            "Retry-After {wait}, {left} s left"
        );
    }
    // Another address is not affected.
    register_from(&elsewhere, &unique_email())
        .await
        .assert_success(201, REGISTERED);
}
