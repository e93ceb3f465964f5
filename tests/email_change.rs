//! Changing the account's address (issue 26, part 4): `POST
//! /auth/email/change` mails a code to the new address and a notice to the
//! old one, behind the password (step-up with a second factor);
//! `POST /auth/email/change/confirm` switches the address atomically: unique
//! under racing changes and registrations, verified, the old address free
//! afterwards, the other sessions ended. Codes follow recovery's rules.
//! Runs in-process (codes read from the outbox table) or over HTTP (codes
//! read from the mails the SES emulator received).

use auth::credentials::totp::Totp;
use auth::mail::outbox::MailKind::{EmailChange, EmailChangeRequested};
use serde_json::json;
use std::sync::Arc;
use test_support::mailbox::{code_after, latest_code, mails_in_outbox, notices_to};
use test_support::*;

const ON_ITS_WAY: &str = "A code is on its way to the new address.";
const EMAIL_CHANGED: &str = "Email changed.";
const EMAIL_TAKEN: &str = "That email address is taken now.";
const SAME_ADDRESS: &str = "new_email is already the account's address.";
const SECOND_FACTOR_REQUIRED: &str = "Second factor required.";

async fn change_email(app: &TestApp, token: &str, new_email: &str, password: &str) -> Answer {
    let body = json!({ "new_email": new_email, "password": password }).to_string();
    change_email_with(app, token, &body).await
}

async fn change_email_with(app: &TestApp, token: &str, body: &str) -> Answer {
    call_with_token(app, "POST", "/auth/email/change", token, Some(body)).await
}

async fn confirm_change(app: &TestApp, token: &str, code: &str) -> Answer {
    let body = json!({ "code": code }).to_string();
    confirm_change_with(app, token, &body).await
}

async fn confirm_change_with(app: &TestApp, token: &str, body: &str) -> Answer {
    call_with_token(app, "POST", "/auth/email/change/confirm", token, Some(body)).await
}

/// A change asked for and answered 202: the code mailed to `new_email`.
async fn asked(app: &TestApp, token: &str, new_email: &str) -> String {
    change_email(app, token, new_email, PASSWORD)
        .await
        .assert_success(202, ON_ITS_WAY);
    latest_code(new_email, EmailChange).await
}

/// A code that is not `code`.
fn other_than(code: &str) -> &'static str {
    if code == "00000000" {
        "00000001"
    } else {
        "00000000"
    }
}

#[tokio::test]
async fn a_confirmed_change_moves_the_account_and_frees_the_old_address() {
    let app = app().await;
    let (old, laptop, phone) = on_laptop_and_phone(&app).await;
    let new = unique_email();
    // As the user types it: normalised as at registration.
    let typed = format!("  {}", new.to_uppercase());
    change_email(&app, &laptop.token(), &typed, PASSWORD)
        .await
        .assert_success(202, ON_ITS_WAY);
    let code = latest_code(&new, EmailChange).await;
    assert_eq!(notices_to(&old, EmailChangeRequested).await, 1, "a notice");
    // Nothing changes before the code comes back.
    let before = status(&app, &laptop.token()).await;
    assert_eq!(before.body["data"]["email"], old.as_str());

    let changed = confirm_change(&app, &laptop.token(), &code).await;
    changed.assert_success(200, EMAIL_CHANGED);
    assert_eq!(changed.body["data"]["email"], new.as_str());
    assert_eq!(changed.body["data"]["email_verified"], true);
    let shown = status(&app, &laptop.token()).await;
    assert_eq!(shown.status, 200, "the caller's session stays");
    assert_eq!(shown.body["data"]["email"], new.as_str(), "{}", shown.body);
    assert_eq!(shown.body["data"]["email_verified"], true);
    assert_eq!(shown.body["data"], changed.body["data"]);
    assert_session_ended(&app, &phone).await;

    login(&app, &old, PASSWORD)
        .await
        .assert_fail(404, USER_DOES_NOT_EXIST);
    let after = login(&app, &new, PASSWORD).await;
    after.assert_success(200, LOGGED_IN);
    assert_eq!(user_of(&after.token()), user_of(&laptop.token()));
    // The old address is free to register, as a new account.
    register(&app, &old).await.assert_success(201, REGISTERED);
    let newcomer = login(&app, &old, PASSWORD).await;
    assert_ne!(user_of(&newcomer.token()), user_of(&laptop.token()));
    // The code is used up.
    confirm_change(&app, &laptop.token(), &code)
        .await
        .assert_fail(400, INVALID_CODE);
}

#[tokio::test]
async fn a_wrong_password_changes_nothing_and_counts_as_a_failed_login() {
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    let new = unique_email();
    let answer = change_email(&app, &registered.token(), &new, "not the password").await;
    answer.assert_fail(403, WRONG_CURRENT_PASSWORD);
    assert_eq!(answer.body["code"], "wrong_password");
    if !over_http() {
        assert_eq!(mails_in_outbox(&new, EmailChange).await, 0);
        assert_eq!(mails_in_outbox(&email, EmailChangeRequested).await, 0);
    }
    if let Some(backstage) = backstage().await {
        assert!(backstage.stored_failures(&email).await.is_some());
    }
    confirm_change(&app, &registered.token(), "12345678")
        .await
        .assert_fail(400, INVALID_CODE);
}

#[tokio::test]
async fn with_two_step_sign_in_on_a_token_without_the_factor_is_refused() {
    let app = app().await;
    let (_, registered) = new_account(&app).await;
    let token = registered.token();
    let body = json!({ "password": PASSWORD }).to_string();
    let enrolled =
        call_with_token(&app, "POST", "/auth/mfa/totp/enroll", &token, Some(&body)).await;
    assert_eq!(enrolled.status, 200, "{}", enrolled.body);
    let secret = enrolled.body["secret"].as_str().unwrap();
    record_second_factor(Some(secret), &[]);
    let totp = Totp::from_base32(secret).unwrap();
    let code = json!({ "code": totp.code_at(auth::now()) }).to_string();
    let on = call_with_token(&app, "POST", "/auth/mfa/totp/confirm", &token, Some(&code)).await;
    assert_eq!(on.status, 200, "{}", on.body);
    let codes: Vec<String> = serde_json::from_value(on.body["recovery_codes"].clone()).unwrap();
    record_second_factor(None, &codes);
    // The registration's token: signed in with the password alone.
    let new = unique_email();
    let refused = change_email(&app, &token, &new, PASSWORD).await;
    refused.assert_fail(403, SECOND_FACTOR_REQUIRED);
    assert_eq!(refused.body["code"], "step_up_required");
    if !over_http() {
        assert_eq!(mails_in_outbox(&new, EmailChange).await, 0);
    }
}

#[tokio::test]
async fn five_wrong_codes_kill_the_change() {
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    let token = registered.token();
    let code = asked(&app, &token, &unique_email()).await;
    for _ in 0..5 {
        confirm_change(&app, &token, other_than(&code))
            .await
            .assert_fail(400, INVALID_CODE);
    }
    let dead = confirm_change(&app, &token, &code).await;
    dead.assert_fail(400, INVALID_CODE);
    assert_eq!(dead.body["code"], "invalid_code");
    assert_eq!(
        status(&app, &token).await.body["data"]["email"],
        email.as_str()
    );
}

#[tokio::test]
async fn a_new_request_replaces_the_pending_change() {
    let app = app().await;
    let (_, registered) = new_account(&app).await;
    let token = registered.token();
    let (first, second) = (unique_email(), unique_email());
    let first_code = asked(&app, &token, &first).await;
    let second_code = asked(&app, &token, &second).await;
    if first_code != second_code {
        confirm_change(&app, &token, &first_code)
            .await
            .assert_fail(400, INVALID_CODE);
    }
    confirm_change(&app, &token, &second_code)
        .await
        .assert_success(200, EMAIL_CHANGED);
    assert_eq!(
        status(&app, &token).await.body["data"]["email"],
        second.as_str()
    );
    login(&app, &first, PASSWORD)
        .await
        .assert_fail(404, USER_DOES_NOT_EXIST);
}

#[tokio::test]
async fn of_parallel_confirmations_one_succeeds() {
    let app = Arc::new(app().await);
    let (_, registered) = new_account(&app).await;
    let token = registered.token();
    let new = unique_email();
    let code = asked(&app, &token, &new).await;
    let answers =
        at_once(
            &app,
            6,
            &(token.clone(), code),
            |app, (token, code)| async move {
                confirm_change(&app, &token, &code).await.code_and_message()
            },
        )
        .await;
    assert_eq!(count_of(&answers, 200, EMAIL_CHANGED), 1, "{answers:?}");
    assert_eq!(count_of(&answers, 400, INVALID_CODE), 5, "{answers:?}");
    login(&app, &new, PASSWORD)
        .await
        .assert_success(200, LOGGED_IN);
}

#[tokio::test]
async fn an_address_registered_before_the_confirmation_wins_and_nothing_changes() {
    let app = app().await;
    let (old, registered) = new_account(&app).await;
    let token = registered.token();
    let new = unique_email();
    let code = asked(&app, &token, &new).await;
    register(&app, &new).await.assert_success(201, REGISTERED);
    let refused = confirm_change(&app, &token, &code).await;
    refused.assert_fail(409, EMAIL_TAKEN);
    assert_eq!(refused.body["code"], "email_taken");
    let shown = status(&app, &token).await;
    assert_eq!(shown.body["data"]["email"], old.as_str(), "{}", shown.body);
    login(&app, &old, PASSWORD)
        .await
        .assert_success(200, LOGGED_IN);
    let owner = login(&app, &new, PASSWORD).await;
    assert_ne!(user_of(&owner.token()), user_of(&token));
}

#[tokio::test]
async fn two_accounts_racing_for_one_address_get_it_once() {
    let app = Arc::new(app().await);
    let new = unique_email();
    let (_, registered) = new_account(&app).await;
    let first = registered.token();
    let first = (first.clone(), asked(&app, &first, &new).await);
    let (_, registered) = new_account(&app).await;
    let second = registered.token();
    change_email(&app, &second, &new, PASSWORD)
        .await
        .assert_success(202, ON_ITS_WAY);
    // Both codes went to one address: the second is the one that differs.
    let second = (second, code_after(&new, EmailChange, &first.1).await);
    let (a, b) = tokio::join!(
        confirm_change(&app, &first.0, &first.1),
        confirm_change(&app, &second.0, &second.1)
    );
    let answers = [a.code_and_message(), b.code_and_message()];
    // The second request's code replaced nothing of the first account's:
    // each account has its own pending change, and one wins the address.
    assert_eq!(count_of(&answers, 200, EMAIL_CHANGED), 1, "{answers:?}");
    assert_eq!(count_of(&answers, 409, EMAIL_TAKEN), 1, "{answers:?}");
}

#[tokio::test]
async fn an_address_with_an_account_gets_the_same_answer_and_no_mail() {
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    let token = registered.token();
    let (taken, _) = new_account(&app).await;
    let free = unique_email();
    let for_taken = change_email(&app, &token, &taken, PASSWORD).await;
    let for_free = change_email(&app, &token, &free, PASSWORD).await;
    for_taken.assert_success(202, ON_ITS_WAY);
    for_taken.assert_same_as(&for_free);
    latest_code(&free, EmailChange).await;
    if !over_http() {
        assert_eq!(mails_in_outbox(&taken, EmailChange).await, 0);
        assert_eq!(mails_in_outbox(&email, EmailChangeRequested).await, 2);
    }
    // A request for a taken address drops the pending change.
    let for_taken = change_email(&app, &token, &taken, PASSWORD).await;
    for_taken.assert_success(202, ON_ITS_WAY);
    let code = latest_code(&free, EmailChange).await;
    confirm_change(&app, &token, &code)
        .await
        .assert_fail(400, INVALID_CODE);
    assert_eq!(
        status(&app, &token).await.body["data"]["email"],
        email.as_str()
    );
}

#[tokio::test]
async fn mails_to_a_new_address_are_limited_as_forgot_is() {
    let app = app().await;
    let (_, registered) = new_account(&app).await;
    let token = registered.token();
    let new = unique_email();
    for _ in 0..5 {
        change_email(&app, &token, &new, PASSWORD)
            .await
            .assert_success(202, ON_ITS_WAY);
    }
    let limited = change_email(&app, &token, &new, PASSWORD).await;
    limited.assert_fail(429, TOO_MANY_CODES);
    assert_eq!(limited.body["code"], "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn bad_bodies_and_tokens_are_refused() {
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    let token = registered.token();
    let new = unique_email();
    let cases = [
        ("[]".to_owned(), NOT_AN_OBJECT),
        ("{".to_owned(), MALFORMED_JSON),
        (
            json!({ "password": PASSWORD }).to_string(),
            "new_email is required.",
        ),
        (
            json!({ "new_email": 7, "password": PASSWORD }).to_string(),
            "new_email must be a string.",
        ),
        (
            json!({ "new_email": "not an address", "password": PASSWORD }).to_string(),
            "new_email is not a valid email address.",
        ),
        (json!({ "new_email": new }).to_string(), PASSWORD_REQUIRED),
        (
            json!({ "new_email": new, "password": "short" }).to_string(),
            PASSWORD_LENGTH,
        ),
        (
            json!({ "new_email": email.to_uppercase(), "password": PASSWORD }).to_string(),
            SAME_ADDRESS,
        ),
    ];
    for (body, message) in cases {
        let answer = change_email_with(&app, &token, &body).await;
        answer.assert_fail(400, message);
        assert_eq!(answer.body["code"], "validation_failed", "{body}");
    }
    let cases = [
        ("[]".to_owned(), NOT_AN_OBJECT),
        ("{}".to_owned(), "code is required."),
        (
            json!({ "code": 12345678 }).to_string(),
            "code must be a string.",
        ),
        (json!({ "code": "1234" }).to_string(), INVALID_CODE),
    ];
    for (body, message) in cases {
        confirm_change_with(&app, &token, &body)
            .await
            .assert_fail(400, message);
    }
    for path in ["/auth/email/change", "/auth/email/change/confirm"] {
        call(&app, "POST", path, None, Some("{}"))
            .await
            .assert_fail(401, NO_TOKEN);
    }
    if !over_http() {
        assert_eq!(mails_in_outbox(&new, EmailChange).await, 0);
    }
}
