//! TOTP, the second factor (issue 23): enrolment behind the password (counted
//! like a login), confirmation by a first code, which turns it on, shows ten
//! recovery codes once, signs this session in with the factor (`amr`) and
//! ends every other; `GET /auth/mfa`; parallel confirmations with one code;
//! the secret never stored in clear. Runs in-process or over HTTP.

use auth::credentials::totp::Totp;
use auth::mail::outbox::MailKind;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use test_support::mailbox::notices_to;
use test_support::*;

const ALREADY_ON: &str = "Two-step sign-in is already on.";

async fn enroll(app: &TestApp, token: &str, password: &str) -> Answer {
    let body = json!({ "password": password }).to_string();
    call_with_token(app, "POST", "/auth/mfa/totp/enroll", token, Some(&body)).await
}

async fn confirm(app: &TestApp, token: &str, code: &str) -> Answer {
    let body = json!({ "code": code }).to_string();
    call_with_token(app, "POST", "/auth/mfa/totp/confirm", token, Some(&body)).await
}

async fn mfa_state(app: &TestApp, token: &str) -> Value {
    let answer = call_with_token(app, "GET", "/auth/mfa", token, None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

/// Enrols with the account's password, checking the answer's shape: the
/// authenticator app's generator.
async fn enrolled(app: &TestApp, email: &str, token: &str) -> Totp {
    let answer = enroll(app, token, PASSWORD).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        field_names(&answer.body),
        BTreeSet::from(["status", "secret", "otpauth_uri", "qr_svg"])
    );
    let secret = answer.body["secret"].as_str().unwrap();
    record_second_factor(Some(secret), &[]);
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let uri = answer.body["otpauth_uri"].as_str().unwrap();
    let label = email.replace('@', "%40");
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(
        uri.contains(&format!(":{label}?secret={secret}&issuer=")),
        "{uri}"
    );
    assert!(uri.ends_with("&algorithm=SHA1&digits=6&period=30"), "{uri}");
    let svg = answer.body["qr_svg"].as_str().unwrap();
    assert!(svg.contains("<svg"), "{svg:.100}");
    Totp::from_base32(secret).expect("the secret is base32")
}

#[tokio::test]
async fn a_first_code_turns_totp_on_with_ten_recovery_codes_and_ends_the_other_sessions() {
    let app = app().await;
    let (email, laptop, phone) = on_laptop_and_phone(&app).await;
    let token = laptop.token();
    assert_eq!(
        mfa_state(&app, &token).await,
        json!({ "status": "success", "totp": false, "recovery_codes_left": 0, "has_password": true })
    );

    enroll(&app, &token, "not the password")
        .await
        .assert_fail(403, "Current password is incorrect.");
    let totp = enrolled(&app, &email, &token).await;
    // Pending: not on yet.
    assert_eq!(mfa_state(&app, &token).await["totp"], false);
    confirm(&app, &token, "000000")
        .await
        .assert_fail(400, "Invalid or expired code.");

    let answer = confirm(&app, &token, &totp.code_at(auth::now())).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.message(), "Two-step sign-in is on.");
    let codes: Vec<String> = serde_json::from_value(answer.body["recovery_codes"].clone()).unwrap();
    record_second_factor(None, &codes);
    assert_eq!(codes.iter().collect::<BTreeSet<_>>().len(), 10, "{codes:?}");
    let claims = claims_of(&answer.token());
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims["sid"], claims_of(&token)["sid"], "the same session");
    assert_eq!(
        mfa_state(&app, &answer.token()).await,
        json!({ "status": "success", "totp": true, "recovery_codes_left": 10, "has_password": true })
    );
    assert_eq!(notices_to(&email, MailKind::TotpOn).await, 1, "a notice");

    // The phone signed in without the factor: its session ended.
    assert_session_ended(&app, &phone).await;
    // A refresh of the upgraded session keeps the factor in `amr`.
    let refreshed = refresh(&app, &answer.refresh_token()).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(
        claims_of(&refreshed.token())["amr"],
        json!(["pwd", "otp", "mfa"])
    );

    // On is on: neither enrolment nor confirmation again.
    let live = refreshed.token();
    enroll(&app, &live, PASSWORD)
        .await
        .assert_fail(409, ALREADY_ON);
    confirm(&app, &live, &totp.code_at(auth::now()))
        .await
        .assert_fail(409, ALREADY_ON);
}

#[tokio::test]
async fn confirming_without_an_enrolment_and_enrolling_twice() {
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    let token = registered.token();
    confirm(&app, &token, "123456").await.assert_fail(
        409,
        "Two-step sign-in is not being set up. Please enroll first.",
    );
    // A second enrolment replaces the first: the first secret's codes fail.
    let first = enrolled(&app, &email, &token).await;
    let second = enrolled(&app, &email, &token).await;
    let now = auth::now();
    if first.code_at(now) != second.code_at(now) {
        confirm(&app, &token, &first.code_at(now))
            .await
            .assert_fail(400, "Invalid or expired code.");
    }
    let answer = confirm(&app, &token, &second.code_at(now)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn of_parallel_confirmations_with_one_code_exactly_one_turns_totp_on() {
    let app = Arc::new(app().await);
    let (email, registered) = new_account(&app).await;
    let token = registered.token();
    let totp = enrolled(&app, &email, &token).await;
    let code = totp.code_at(auth::now());
    let answers = at_once(&app, 6, &(token, code), |app, (token, code)| async move {
        confirm(&app, &token, &code).await.code_and_message()
    })
    .await;
    let on = count_of(&answers, 200, "Two-step sign-in is on.");
    assert_eq!(on, 1, "{answers:?}");
    let refused = answers.len() - on;
    assert_eq!(count_of(&answers, 409, ALREADY_ON), refused, "{answers:?}");
}

#[tokio::test]
async fn the_secret_is_stored_sealed_and_goes_with_the_account() {
    let Some(backstage) = backstage_or_skip("the stored TOTP secret").await else {
        return;
    };
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    let token = registered.token();
    let answer = enroll(&app, &token, PASSWORD).await;
    let secret = answer.body["secret"].as_str().unwrap().to_owned();
    let user_id = user_of(&token);
    let key = auth::store::dynamo::schema::second_factor_key(&user_id);
    let item = backstage
        .client
        .get_item()
        .table_name(&backstage.config.users_table)
        .set_key(Some(key.clone()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("the pending factor is stored");
    let stored = format!("{item:?}");
    assert!(
        !stored.contains(&secret),
        "the base32 secret is stored: {stored}"
    );
    let sealed = item["sealed_secret"].as_s().unwrap();
    assert!(sealed.len() > 40, "{sealed}");

    // Deleting the account takes the factor with it.
    delete_account(&app, &token, PASSWORD)
        .await
        .assert_success(200, "Account deleted.");
    let gone = backstage
        .client
        .get_item()
        .table_name(&backstage.config.users_table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert!(gone.item.is_none(), "{email}'s factor outlived the account");
}

const SECOND_FACTOR_REQUIRED: &str = "Second factor required.";
const INVALID_ATTEMPT: &str = "Invalid or expired sign-in attempt.";

/// An account with TOTP on (its first code used at this step): its email,
/// its generator, and its recovery codes.
async fn account_with_totp(app: &TestApp) -> (String, Totp, Vec<String>) {
    let (email, registered) = new_account(app).await;
    let totp = enrolled(app, &email, &registered.token()).await;
    let answer = confirm(app, &registered.token(), &totp.code_at(auth::now())).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let codes: Vec<String> = serde_json::from_value(answer.body["recovery_codes"].clone()).unwrap();
    record_second_factor(None, &codes);
    (email, totp, codes)
}

/// Logs in with the right password, asserting the challenge: its token.
async fn challenged(app: &TestApp, email: &str, device: &str) -> String {
    let body = json!({ "email": email, "password": PASSWORD, "device": device }).to_string();
    let answer = call(app, "POST", "/auth/login", None, Some(&body)).await;
    answer.assert_fail(401, SECOND_FACTOR_REQUIRED);
    assert_eq!(
        field_names(&answer.body),
        BTreeSet::from(["status", "message", "code", "mfa_token", "methods"])
    );
    assert_eq!(answer.body["code"], "mfa_required");
    assert_eq!(answer.body["methods"], json!(["totp", "recovery_code"]));
    answer.body["mfa_token"].as_str().unwrap().to_owned()
}

async fn answer_challenge(app: &TestApp, mfa_token: &str, field: &str, code: &str) -> Answer {
    let body = json!({ "mfa_token": mfa_token, field: code }).to_string();
    call(app, "POST", "/auth/login/mfa", None, Some(&body)).await
}

/// The code of the step after this one: good now (one step of skew), and
/// later than the step confirmation used.
fn next_code(totp: &Totp) -> String {
    totp.code_at(auth::now() + 30)
}

#[tokio::test]
async fn a_login_asks_for_the_code_and_each_step_is_accepted_once() {
    let app = app().await;
    let (email, totp, _) = account_with_totp(&app).await;
    // A wrong password answers as it always has.
    login(&app, &email, "not the password")
        .await
        .assert_fail(404, USER_DOES_NOT_EXIST);

    let mfa_token = challenged(&app, &email, "tablet").await;
    let code = next_code(&totp);
    let answer = answer_challenge(&app, &mfa_token, "code", &code).await;
    answer.assert_success(200, LOGGED_IN);
    let claims = claims_of(&answer.token());
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    let sessions = list_sessions(&app, &answer.token()).await;
    let own = sessions.iter().find(|s| s["current"] == true).unwrap();
    assert_eq!(own["device"], "tablet", "{own}");

    // The token is used up; the same code on a new login is a replay.
    answer_challenge(&app, &mfa_token, "code", &code)
        .await
        .assert_fail(401, INVALID_ATTEMPT);
    let again = challenged(&app, &email, "tablet").await;
    answer_challenge(&app, &again, "code", &code)
        .await
        .assert_fail(400, INVALID_CODE);
    answer_challenge(&app, "not a token", "code", &code)
        .await
        .assert_fail(401, INVALID_ATTEMPT);
}

#[tokio::test]
async fn a_recovery_code_signs_in_once_and_is_counted_down() {
    let app = app().await;
    let (email, _, codes) = account_with_totp(&app).await;
    let mfa_token = challenged(&app, &email, "borrowed laptop").await;
    // As typed from paper: upper case, spaces for dashes.
    let typed = codes[3].to_uppercase().replace('-', " ");
    let answer = answer_challenge(&app, &mfa_token, "recovery_code", &typed).await;
    answer.assert_success(200, LOGGED_IN);
    assert_eq!(
        claims_of(&answer.token())["amr"],
        json!(["pwd", "otp", "mfa"])
    );
    assert_eq!(
        mfa_state(&app, &answer.token()).await["recovery_codes_left"],
        9
    );
    assert_eq!(notices_to(&email, MailKind::RecoveryCodeUsed).await, 1);

    let again = challenged(&app, &email, "borrowed laptop").await;
    answer_challenge(&app, &again, "recovery_code", &codes[3])
        .await
        .assert_fail(400, INVALID_CODE);
    answer_challenge(&app, &again, "recovery_code", &codes[4])
        .await
        .assert_success(200, LOGGED_IN);
}

#[tokio::test]
async fn wrong_codes_count_like_wrong_passwords() {
    let app = app().await;
    let (email, _, _) = account_with_totp(&app).await;
    let mfa_token = challenged(&app, &email, "phone").await;
    // The right password counts until the code passes, so four wrong codes
    // use the account's free failures up.
    for _ in 1..ACCOUNT_FREE_FAILURES {
        answer_challenge(&app, &mfa_token, "code", "000000")
            .await
            .assert_fail(400, INVALID_CODE);
    }
    let waiting = answer_challenge(&app, &mfa_token, "code", "000000").await;
    assert_eq!(waiting.status, 429, "{}", waiting.body);
    assert!(waiting.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn of_parallel_answers_with_one_code_exactly_one_signs_in() {
    let app = Arc::new(app().await);
    let (email, totp, _) = account_with_totp(&app).await;
    let mfa_token = challenged(&app, &email, "phone").await;
    let code = next_code(&totp);
    let answers = at_once(
        &app,
        4,
        &(mfa_token, code),
        |app, (token, code)| async move {
            answer_challenge(&app, &token, "code", &code)
                .await
                .code_and_message()
        },
    )
    .await;
    assert_eq!(count_of(&answers, 200, LOGGED_IN), 1, "{answers:?}");
}

#[tokio::test]
async fn a_password_reset_by_mail_leaves_the_second_factor_on() {
    let app = app().await;
    let (email, _, _) = account_with_totp(&app).await;
    forgot_password(&app, &email).await;
    let code =
        test_support::mailbox::latest_code(&email, auth::mail::outbox::MailKind::ResetPassword)
            .await;
    reset_password(&app, &email, &code, "a brand new password")
        .await
        .assert_success(200, PASSWORD_RESET);
    let body = json!({ "email": email, "password": "a brand new password" }).to_string();
    call(&app, "POST", "/auth/login", None, Some(&body))
        .await
        .assert_fail(401, SECOND_FACTOR_REQUIRED);
}

/// Logs in with the password and a code of the next step: a token whose
/// sign-in used the factor.
async fn signed_in_with_factor(app: &TestApp, email: &str, totp: &Totp) -> Answer {
    let mfa_token = challenged(app, email, "laptop").await;
    let answer = answer_challenge(app, &mfa_token, "code", &next_code(totp)).await;
    answer.assert_success(200, LOGGED_IN);
    answer
}

#[tokio::test]
async fn sensitive_calls_need_a_token_signed_in_with_the_factor() {
    if over_http() {
        eprintln!("step-up: skipped over HTTP (it mints a token without the factor)");
        return;
    }
    let app = app().await;
    let (email, totp, _) = account_with_totp(&app).await;
    let with_factor = signed_in_with_factor(&app, &email, &totp).await.token();
    // The same live session, but a token of a password-only sign-in (as one
    // issued before the factor was turned on would be).
    let claims = claims_of(&with_factor);
    let (user, session) = (
        claims["sub"].as_str().unwrap(),
        claims["sid"].as_str().unwrap(),
    );
    let without = access_token(app.in_process(), user, session);
    assert_eq!(status(&app, &without).await.status, 200, "a live token");

    let refused = [
        change_password(&app, Some(&without), PASSWORD, "a brand new password").await,
        delete_account(&app, &without, PASSWORD).await,
        call_with_token(
            &app,
            "DELETE",
            "/auth/mfa/totp",
            &without,
            Some(&json!({ "password": PASSWORD }).to_string()),
        )
        .await,
        call_with_token(&app, "POST", "/auth/mfa/recovery-codes", &without, None).await,
    ];
    for answer in refused {
        answer.assert_fail(403, SECOND_FACTOR_REQUIRED);
    }
    assert_eq!(mfa_state(&app, &with_factor).await["totp"], true);
}

#[tokio::test]
async fn new_recovery_codes_void_the_old_and_turning_totp_off_needs_the_password() {
    let app = app().await;
    let (email, totp, old_codes) = account_with_totp(&app).await;
    let token = signed_in_with_factor(&app, &email, &totp).await.token();
    let answer = call_with_token(&app, "POST", "/auth/mfa/recovery-codes", &token, None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let new_codes: Vec<String> =
        serde_json::from_value(answer.body["recovery_codes"].clone()).unwrap();
    record_second_factor(None, &new_codes);
    assert_eq!(new_codes.len(), 10);
    let mfa_token = challenged(&app, &email, "laptop").await;
    answer_challenge(&app, &mfa_token, "recovery_code", &old_codes[0])
        .await
        .assert_fail(400, INVALID_CODE);
    answer_challenge(&app, &mfa_token, "recovery_code", &new_codes[0])
        .await
        .assert_success(200, LOGGED_IN);

    let off = |password: &'static str| {
        let body = json!({ "password": password }).to_string();
        let (app, token) = (&app, token.clone());
        async move { call_with_token(app, "DELETE", "/auth/mfa/totp", &token, Some(&body)).await }
    };
    off("not the password")
        .await
        .assert_fail(403, WRONG_CURRENT_PASSWORD);
    off(PASSWORD)
        .await
        .assert_success(200, "Two-step sign-in is off.");
    assert_eq!(notices_to(&email, MailKind::TotpOff).await, 1);
    assert_eq!(
        mfa_state(&app, &token).await,
        json!({ "status": "success", "totp": false, "recovery_codes_left": 0, "has_password": true })
    );
    login(&app, &email, PASSWORD)
        .await
        .assert_success(200, LOGGED_IN);
    off(PASSWORD)
        .await
        .assert_fail(409, "Two-step sign-in is not on.");
}

#[tokio::test]
async fn an_admin_resets_a_lost_device_and_admins_may_be_required_to_use_the_factor() {
    let Some((app, backstage)) = app_and_backstage_or_skip("admin mfa reset").await else {
        return;
    };
    let (admin_email, _) = new_account(&app).await;
    backstage.set_admin(&admin_email, true).await;
    let admin = login(&app, &admin_email, PASSWORD).await.token();
    let (email, _, _) = account_with_totp(&app).await;
    // The user's id: an mfa_token starts with it (`<user id>:<secret>`).
    let mfa_token = challenged(&app, &email, "phone").await;
    let user_id = mfa_token.split(':').next().unwrap().to_owned();
    let path = format!("/admin/users/{user_id}/mfa/reset");
    call_with_token(&app, "POST", &path, &admin, None)
        .await
        .assert_success(200, "Two-step sign-in reset.");
    assert_eq!(notices_to(&email, MailKind::TotpReset).await, 1);
    login(&app, &email, PASSWORD)
        .await
        .assert_success(200, LOGGED_IN);
    call_with_token(&app, "POST", &path, &admin, None)
        .await
        .assert_fail(409, "Two-step sign-in is not on.");

    // With REQUIRE_MFA_FOR_ADMINS, the same admin's password-only token is
    // refused every admin call, and one signed in with the factor is not.
    if app.is_http() {
        return;
    }
    let strict: TestApp = in_process_app_with(|config| config.require_mfa_for_admins = true)
        .await
        .into();
    list_users(&strict, &admin, "")
        .await
        .assert_fail(403, SECOND_FACTOR_REQUIRED);
    let totp = enrolled(&strict, &admin_email, &admin).await;
    let confirmed = confirm(&strict, &admin, &totp.code_at(auth::now())).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert_eq!(
        list_users(&strict, &confirmed.token(), "").await.status,
        200
    );
}
