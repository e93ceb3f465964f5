//! TOTP, the second factor (issue 23): enrolment behind the password (counted
//! like a login), confirmation by a first code, which turns it on, shows ten
//! recovery codes once, signs this session in with the factor (`amr`) and
//! ends every other; `GET /auth/mfa`; parallel confirmations with one code;
//! the secret never stored in clear. Runs in-process or over HTTP.

use auth::credentials::totp::Totp;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
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
        json!({ "status": "success", "totp": false, "recovery_codes_left": 0 })
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
        json!({ "status": "success", "totp": true, "recovery_codes_left": 10 })
    );

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
