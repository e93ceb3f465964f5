//! Passkeys (issue 24, docs/passkeys.md): a software authenticator
//! (test_support::soft_passkey) registers and signs in against
//! the API, in-process or over HTTP (`cargo lambda watch`): the options'
//! shape, usernameless and email sign-ins with `amr`, TOTP accounts signing
//! in with a passkey alone, single-use ceremonies (replays, parallel calls),
//! tampered assertions, a counter that did not grow (refused, owner told),
//! list/rename/delete, a disabled account, erasure, throttling.

use auth::mail::outbox::MailKind;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::sync::Arc;
use test_support::mailbox::notices_to;
use test_support::soft_passkey::SoftPasskey;
use test_support::*;

const INVALID: &str = "Invalid passkey.";

fn origin() -> String {
    support_rp_origin()
}

/// A software passkey that verifies its user (test_support::soft_passkey).
fn authenticator() -> SoftPasskey {
    SoftPasskey::new()
}

async fn register_options(app: &TestApp, token: &str) -> Answer {
    call_with_token(app, "POST", "/auth/passkeys/register/options", token, None).await
}

fn ceremony_of(body: &Value) -> String {
    record_ceremony(body);
    body["ceremony_id"]
        .as_str()
        .expect("a ceremony_id")
        .to_owned()
}

async fn register_with(app: &TestApp, token: &str, key: &mut SoftPasskey, name: &str) -> Answer {
    let options = register_options(app, token).await;
    assert_eq!(options.status, 200, "{}", options.body);
    let credential = key.register(&origin(), &options.body);
    let body = json!({
        "ceremony_id": ceremony_of(&options.body),
        "credential": credential,
        "name": name,
    });
    call_with_token(
        app,
        "POST",
        "/auth/passkeys/register",
        token,
        Some(&body.to_string()),
    )
    .await
}

/// Registers a passkey and answers its id.
async fn registered(app: &TestApp, token: &str, key: &mut SoftPasskey) -> String {
    let answer = register_with(app, token, key, "Laptop").await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body["id"].as_str().unwrap().to_owned()
}

async fn login_options(app: &TestApp, email: Option<&str>) -> Answer {
    let body = email.map(|email| json!({ "email": email }).to_string());
    call(
        app,
        "POST",
        "/auth/passkeys/login/options",
        None,
        body.as_deref(),
    )
    .await
}

/// A signed assertion for a fresh sign-in ceremony: (ceremony id, credential).
async fn assertion(app: &TestApp, key: &mut SoftPasskey, email: Option<&str>) -> (String, Value) {
    let options = login_options(app, email).await;
    assert_eq!(options.status, 200, "{}", options.body);
    let credential = key.sign(&origin(), &options.body);
    (ceremony_of(&options.body), credential)
}

async fn passkey_login(app: &TestApp, ceremony_id: &str, credential: &Value) -> Answer {
    let body = json!({
        "ceremony_id": ceremony_id,
        "credential": credential,
        "device_name": "Soft passkey",
    });
    call(
        app,
        "POST",
        "/auth/passkeys/login",
        None,
        Some(&body.to_string()),
    )
    .await
}

async fn list(app: &TestApp, token: &str) -> Vec<Value> {
    let answer = call_with_token(app, "GET", "/auth/passkeys", token, None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body.as_array().expect("a list").clone()
}

fn amr_of(answer: &Answer) -> Vec<String> {
    serde_json::from_value(claims_of(&answer.token())["amr"].clone()).unwrap()
}

#[tokio::test]
async fn register_options_ask_for_a_resident_verified_key_with_a_random_handle() {
    let app = app().await;
    let (email, session) = new_account(&app).await;
    let token = session.token();
    let options = register_options(&app, &token).await;
    assert_eq!(options.status, 200, "{}", options.body);
    assert!(
        options.body["ceremony_id"]
            .as_str()
            .is_some_and(|id| id.len() >= 20)
    );
    let public_key = &options.body["publicKey"];
    let selection = &public_key["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required");
    assert_eq!(selection["requireResidentKey"], true);
    assert_eq!(selection["userVerification"], "required");
    let handle = public_key["user"]["id"].as_str().unwrap();
    let handle = URL_SAFE_NO_PAD.decode(handle).unwrap();
    assert_eq!(handle.len(), 16, "a random UUID");
    assert!(!String::from_utf8_lossy(&handle).contains(&email));
    assert_eq!(public_key["rp"]["id"], "localhost");
    assert!(
        public_key["excludeCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty)
    );

    // Once one is registered, it is excluded, and the handle stays.
    let id = registered(&app, &token, &mut authenticator()).await;
    let again = register_options(&app, &token).await;
    let excluded = again.body["publicKey"]["excludeCredentials"]
        .as_array()
        .unwrap();
    assert_eq!(excluded.len(), 1);
    assert_eq!(excluded[0]["id"], id.as_str());
    let third = register_options(&app, &token).await;
    let handle_of = |answer: &Answer| answer.body["publicKey"]["user"]["id"].clone();
    assert_eq!(handle_of(&third), handle_of(&again));
}

#[tokio::test]
async fn a_passkey_registers_then_signs_in_with_and_without_the_email() {
    let app = app().await;
    let (email, session) = new_account(&app).await;
    let token = session.token();
    let mut key = authenticator();
    let answer = register_with(&app, &token, &mut key, "My laptop").await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(
        field_names(&answer.body),
        ["created_at", "id", "name"].into()
    );
    assert_eq!(answer.body["name"], "My laptop");
    let id = answer.body["id"].as_str().unwrap().to_owned();

    let listed = list(&app, &token).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        field_names(&listed[0]),
        ["backed_up", "created_at", "id", "last_used_at", "name"].into()
    );
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["last_used_at"], Value::Null);

    // With the email: the allow list names the passkey.
    let options = login_options(&app, Some(&email)).await;
    let allowed = options.body["publicKey"]["allowCredentials"]
        .as_array()
        .unwrap();
    assert_eq!(allowed.len(), 1);
    assert_eq!(allowed[0]["id"], id.as_str());
    assert_eq!(options.body["publicKey"]["userVerification"], "required");
    let (ceremony, credential) = assertion(&app, &mut key, Some(&email)).await;
    let signed_in = passkey_login(&app, &ceremony, &credential).await;
    signed_in.assert_success(200, "Successfully logged in.");
    assert!(signed_in.body["refresh_token"].is_string());
    let amr = amr_of(&signed_in);
    assert!(amr.contains(&"mfa".to_owned()), "{amr:?}");
    assert!(
        amr.contains(&"hwk".to_owned()) || amr.contains(&"swk".to_owned()),
        "{amr:?}"
    );
    assert_eq!(
        claims_of(&signed_in.token())["sub"],
        claims_of(&token)["sub"]
    );

    // Usernameless: an empty allow list.
    let options = login_options(&app, None).await;
    assert_eq!(options.body["publicKey"]["allowCredentials"], json!([]));
    let (ceremony, credential) = assertion(&app, &mut key, None).await;
    passkey_login(&app, &ceremony, &credential)
        .await
        .assert_success(200, "Successfully logged in.");
    let listed = list(&app, &token).await;
    assert!(listed[0]["last_used_at"].is_string());
}

#[tokio::test]
async fn an_account_with_totp_on_signs_in_with_a_passkey_alone() {
    let app = app().await;
    let (email, session) = new_account(&app).await;
    let token = enable_totp(&app, &session.token()).await;
    let mut key = authenticator();
    let id = registered(&app, &token, &mut key).await;
    if let TestApp::InProcess(in_process) = &app {
        // Step-up: a token of this session whose sign-in used no second
        // factor may neither register nor delete a passkey.
        let user = user_of(&token);
        let password_only = access_token(in_process, &user, &session_of(&token));
        for answer in [
            register_options(&app, &password_only).await,
            call_with_token(
                &app,
                "DELETE",
                &format!("/auth/passkeys/{id}"),
                &password_only,
                None,
            )
            .await,
        ] {
            answer.assert_fail(403, "Second factor required.");
        }
    }
    // Its password alone now asks for the second factor...
    let password = login(&app, &email, PASSWORD).await;
    assert_eq!(password.status, 401, "{}", password.body);
    // ...the passkey alone signs in.
    let (ceremony, credential) = assertion(&app, &mut key, Some(&email)).await;
    let signed_in = passkey_login(&app, &ceremony, &credential).await;
    signed_in.assert_success(200, "Successfully logged in.");
    assert!(amr_of(&signed_in).contains(&"mfa".to_owned()));
}

/// Turns TOTP on for the account and answers the token of the session that
/// confirmed it (its sign-in used the factor).
async fn enable_totp(app: &TestApp, token: &str) -> String {
    let body = json!({ "password": PASSWORD }).to_string();
    let (_, confirmed) = turn_totp_on(app, token, &body).await;
    confirmed.body["auth_token"]
        .as_str()
        .map_or_else(|| token.to_owned(), str::to_owned)
}

#[tokio::test]
async fn a_ceremony_is_used_once_whatever_the_race() {
    let app = Arc::new(app().await);
    let (email, session) = new_account(&app).await;
    let mut key = authenticator();
    registered(&app, &session.token(), &mut key).await;

    // Replayed: the second time, the ceremony is gone.
    let (ceremony, credential) = assertion(&app, &mut key, Some(&email)).await;
    passkey_login(&app, &ceremony, &credential)
        .await
        .assert_success(200, "Successfully logged in.");
    passkey_login(&app, &ceremony, &credential)
        .await
        .assert_fail(401, INVALID);
    // The same assertion under a new ceremony: the challenge differs.
    let (other, _) = (login_options(&app, Some(&email)).await, ());
    passkey_login(&app, &ceremony_of(&other.body), &credential)
        .await
        .assert_fail(401, INVALID);

    // Sent to parallel calls: one succeeds.
    let (ceremony, credential) = assertion(&app, &mut key, Some(&email)).await;
    let arg = (ceremony, credential);
    let answers = at_once(&app, 6, &arg, |app, (ceremony, credential)| async move {
        passkey_login(&app, &ceremony, &credential)
            .await
            .code_and_message()
    })
    .await;
    assert_eq!(
        count_of(&answers, 200, "Successfully logged in."),
        1,
        "{answers:?}"
    );
    // The others: the ceremony gone, or held back by the credential's
    // failure counter, which parallel claims move (as for passwords).
    let throttled = "Too many failed logins. Please try again later.";
    let refused = count_of(&answers, 401, INVALID) + count_of(&answers, 429, throttled);
    assert_eq!(refused, 5, "{answers:?}");
}

#[tokio::test]
async fn tampered_assertions_and_unknown_credentials_are_refused_and_change_nothing() {
    let app = app().await;
    let (email, session) = new_account(&app).await;
    let token = session.token();
    let mut key = authenticator();
    registered(&app, &token, &mut key).await;
    let before = list(&app, &token).await;

    // A bad signature.
    let (ceremony, mut credential) = assertion(&app, &mut key, Some(&email)).await;
    let signature = credential["response"]["signature"].as_str().unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    credential["response"]["signature"] = URL_SAFE_NO_PAD.encode(&bytes).into();
    passkey_login(&app, &ceremony, &credential)
        .await
        .assert_fail(401, INVALID);

    // Another origin (the browser reports where the page was): the same
    // host on another port, which the soft passkey signs for.
    let options = login_options(&app, Some(&email)).await;
    let (host, port) = origin()
        .rsplit_once(':')
        .map(|(h, p)| (h.to_owned(), p.parse::<u16>().unwrap()))
        .unwrap();
    let elsewhere = format!("{host}:{}", port + 1);
    let credential = key.sign(&elsewhere, &options.body);
    passkey_login(&app, &ceremony_of(&options.body), &credential)
        .await
        .assert_fail(401, INVALID);

    // A credential this service never registered.
    let (ceremony, credential) = assertion(&app, &mut key, Some(&email)).await;
    let mut stranger = authenticator();
    let (_, other_account) = new_account(&app).await;
    registered(&app, &other_account.token(), &mut stranger).await;
    let mut unknown = credential.clone();
    let made_up = URL_SAFE_NO_PAD.encode([7u8; 32]);
    unknown["id"] = made_up.clone().into();
    unknown["rawId"] = made_up.into();
    passkey_login(&app, &ceremony, &unknown)
        .await
        .assert_fail(401, INVALID);

    // Nothing changed: never used, no session opened by any of them.
    assert_eq!(list(&app, &token).await, before);
}

#[tokio::test]
async fn a_counter_that_did_not_grow_is_refused_and_the_owner_told() {
    let app = app().await;
    let (email, session) = new_account(&app).await;
    let mut key = authenticator();
    registered(&app, &session.token(), &mut key).await;
    // Two ceremonies signed in order (counters 1 and 2), sent in the other
    // order: the second one sent shows a counter that went back.
    let (first, older) = assertion(&app, &mut key, Some(&email)).await;
    let (second, newer) = assertion(&app, &mut key, Some(&email)).await;
    passkey_login(&app, &second, &newer)
        .await
        .assert_success(200, "Successfully logged in.");
    assert_eq!(notices_to(&email, MailKind::PasskeyCloned).await, 0);
    passkey_login(&app, &first, &older)
        .await
        .assert_fail(401, INVALID);
    assert_eq!(notices_to(&email, MailKind::PasskeyCloned).await, 1);
}

#[tokio::test]
async fn passkeys_are_renamed_and_deleted_and_the_last_way_in_stays() {
    let app = app().await;
    let (_, session) = new_account(&app).await;
    let token = session.token();
    let id = registered(&app, &token, &mut authenticator()).await;
    let second = registered(&app, &token, &mut authenticator()).await;
    let path = format!("/auth/passkeys/{id}");
    let body = json!({ "name": "  Work key\u{202e} " }).to_string();
    let renamed = call_with_token(&app, "PATCH", &path, &token, Some(&body)).await;
    renamed.assert_success(200, "Passkey renamed.");
    let listed = list(&app, &token).await;
    let shown = listed.iter().find(|p| p["id"] == id.as_str()).unwrap();
    assert_eq!(shown["name"], "Work key");

    let missing = format!("/auth/passkeys/{}", URL_SAFE_NO_PAD.encode([1u8; 16]));
    call_with_token(&app, "PATCH", &missing, &token, Some(&body))
        .await
        .assert_fail(404, "Passkey not found.");
    call_with_token(&app, "DELETE", &missing, &token, None)
        .await
        .assert_fail(404, "Passkey not found.");
    // Another account's passkey is not found either.
    let (_, stranger) = new_account(&app).await;
    call_with_token(&app, "DELETE", &path, &stranger.token(), None)
        .await
        .assert_fail(404, "Passkey not found.");

    call_with_token(&app, "DELETE", &path, &token, None)
        .await
        .assert_success(200, "Passkey deleted.");
    // With a password, the last passkey may go too.
    call_with_token(
        &app,
        "DELETE",
        &format!("/auth/passkeys/{second}"),
        &token,
        None,
    )
    .await
    .assert_success(200, "Passkey deleted.");
    assert!(list(&app, &token).await.is_empty());
}

#[tokio::test]
async fn a_deleted_passkey_no_longer_signs_in_and_its_id_may_not_be_claimed_twice() {
    let app = app().await;
    let (email, session) = new_account(&app).await;
    let token = session.token();
    let mut key = authenticator();
    let id = registered(&app, &token, &mut key).await;
    if let TestApp::InProcess(app) = &app {
        // The claim is the credential id's, whoever asks.
        use auth::store::{Passkeys, StoredPasskey};
        let (other, _) = some_user_and_session();
        let copy = StoredPasskey {
            user_id: other,
            credential_id: id.clone(),
            name: "copy".into(),
            passkey: "{}".into(),
            user_handle: "h".into(),
            created_at: 0,
            last_used_at: None,
            backed_up: false,
            backup_eligible: false,
            counter: 0,
        };
        assert!(!app.store.add_passkey(&copy).await.unwrap());
    }
    call_with_token(
        &app,
        "DELETE",
        &format!("/auth/passkeys/{id}"),
        &token,
        None,
    )
    .await
    .assert_success(200, "Passkey deleted.");
    let (ceremony, credential) = assertion(&app, &mut key, Some(&email)).await;
    passkey_login(&app, &ceremony, &credential)
        .await
        .assert_fail(401, INVALID);
}

#[tokio::test]
async fn a_disabled_account_is_refused_and_an_erased_one_leaves_no_passkey() {
    let Some((app, backstage)) = app_and_backstage_or_skip("passkeys_disabled").await else {
        return;
    };
    let (email, session) = new_account(&app).await;
    let mut key = authenticator();
    registered(&app, &session.token(), &mut key).await;
    backstage.set_disabled(&email, true).await;
    let (ceremony, credential) = assertion(&app, &mut key, None).await;
    passkey_login(&app, &ceremony, &credential)
        .await
        .assert_fail(403, "Account disabled.");
    backstage.set_disabled(&email, false).await;

    let user_id = user_of(&session.token());
    delete_account(&app, &session.token(), PASSWORD)
        .await
        .assert_success(200, "Account deleted.");
    use auth::store::Passkeys;
    assert!(
        backstage
            .users_store()
            .passkeys(&user_id)
            .await
            .unwrap()
            .is_empty()
    );
    let (ceremony, credential) = assertion(&app, &mut key, None).await;
    passkey_login(&app, &ceremony, &credential)
        .await
        .assert_fail(401, INVALID);
}

#[tokio::test]
async fn bad_bodies_are_refused_with_a_400() {
    let app = app().await;
    let (_, session) = new_account(&app).await;
    let token = session.token();
    for body in [
        "[]",
        "{}",
        r#"{"ceremony_id": 1, "credential": {}}"#,
        r#"{"ceremony_id": "x", "credential": "x"}"#,
        r#"{"ceremony_id": "x", "credential": {"id": 1}}"#,
    ] {
        let answer = call(&app, "POST", "/auth/passkeys/login", None, Some(body)).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.body);
        let answer =
            call_with_token(&app, "POST", "/auth/passkeys/register", &token, Some(body)).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.body);
    }
    let answer = call(
        &app,
        "POST",
        "/auth/passkeys/login/options",
        None,
        Some(r#"{"email": 3}"#),
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    // A made-up ceremony: the registration is refused.
    let mut key = authenticator();
    let options = register_options(&app, &token).await;
    let credential = key.register(&origin(), &options.body);
    let body = json!({ "ceremony_id": "A".repeat(43), "credential": credential });
    let answer = call_with_token(
        &app,
        "POST",
        "/auth/passkeys/register",
        &token,
        Some(&body.to_string()),
    )
    .await;
    answer.assert_fail(400, "The passkey could not be registered.");
}

#[tokio::test]
async fn failed_assertions_are_throttled_per_credential_and_options_per_address() {
    let app = app().await;
    let (email, session) = new_account(&app).await;
    let mut key = authenticator();
    registered(&app, &session.token(), &mut key).await;
    let mut throttled = None;
    for attempt in 0..12 {
        let (ceremony, mut credential) = assertion(&app, &mut key, Some(&email)).await;
        credential["response"]["signature"] = URL_SAFE_NO_PAD.encode([0u8; 70]).into();
        let answer = passkey_login(&app, &ceremony, &credential).await;
        if answer.status == 429 {
            throttled = Some(attempt);
            assert_eq!(answer.body["code"], "rate_limited");
            break;
        }
        answer.assert_fail(401, INVALID);
    }
    assert!(throttled.is_some_and(|n| n >= 5), "{throttled:?}");

    // The anonymous options call, per source address and hour (in-process:
    // only there can a test pick the address).
    if let TestApp::InProcess(app) = &app {
        let ip = format!("198.51.100.{}", 1 + auth::now() % 250);
        let limit = app.config.source_passkey_sign_ins_per_hour;
        let endpoint = auth::Endpoint::PasskeyLoginOptions;
        for _ in 0..limit {
            let answer = call_from(app, &ip, endpoint, "{}").await;
            assert_eq!(answer.status, 200, "{}", answer.body);
        }
        let answer = call_from(app, &ip, endpoint, "{}").await;
        assert_eq!(answer.status, 429, "{}", answer.body);
        assert_eq!(answer.body["code"], "rate_limited");
        assert!(answer.headers.contains_key("retry-after"));
    }
}

#[tokio::test]
async fn an_assertion_without_user_verification_is_refused() {
    let app = app().await;
    let (email, session) = new_account(&app).await;
    let mut key = authenticator();
    registered(&app, &session.token(), &mut key).await;
    // A valid signature over flags that say the user was present, not
    // verified.
    key.verifies_user = false;
    let (ceremony, unverified) = assertion(&app, &mut key, Some(&email)).await;
    passkey_login(&app, &ceremony, &unverified)
        .await
        .assert_fail(401, INVALID);
    // Nothing changed: the same passkey, verified, signs in.
    key.verifies_user = true;
    let (ceremony, credential) = assertion(&app, &mut key, Some(&email)).await;
    assert_eq!(
        passkey_login(&app, &ceremony, &credential).await.status,
        200
    );
}

#[tokio::test]
async fn an_admin_reset_removes_passkeys_only_when_asked() {
    let Some((app, backstage)) = app_and_backstage_or_skip("passkeys_admin_reset").await else {
        return;
    };
    let (admin_email, _) = new_account(&app).await;
    backstage.set_admin(&admin_email, true).await;
    let admin = login(&app, &admin_email, PASSWORD).await.token();
    let (email, session) = new_account(&app).await;
    let mut key = authenticator();
    registered(&app, &session.token(), &mut key).await;
    let path = format!("/admin/users/{}/mfa/reset", user_of(&session.token()));

    // Without the body: TOTP alone, which is off, so nothing to reset.
    call_with_token(&app, "POST", &path, &admin, None)
        .await
        .assert_fail(409, "Two-step sign-in is not on.");
    assert_eq!(list(&app, &session.token()).await.len(), 1);
    let body = json!({ "passkeys": true }).to_string();
    call_with_token(&app, "POST", &path, &admin, Some(&body))
        .await
        .assert_success(200, "Two-step sign-in reset.");
    assert!(list(&app, &session.token()).await.is_empty());
    let (ceremony, credential) = assertion(&app, &mut key, Some(&email)).await;
    passkey_login(&app, &ceremony, &credential)
        .await
        .assert_fail(401, INVALID);
    // Nothing left to reset.
    call_with_token(&app, "POST", &path, &admin, Some(&body))
        .await
        .assert_fail(409, "Two-step sign-in is not on.");
}

#[tokio::test]
async fn a_synced_passkey_says_swk_and_one_whose_backup_eligibility_changed_is_refused() {
    let app = app().await;
    let (email, session) = new_account(&app).await;
    let mut synced = authenticator();
    synced.synced = true;
    registered(&app, &session.token(), &mut synced).await;
    assert_eq!(list(&app, &session.token()).await[0]["backed_up"], true);
    let (ceremony, credential) = assertion(&app, &mut synced, Some(&email)).await;
    let signed_in = passkey_login(&app, &ceremony, &credential).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert_eq!(amr_of(&signed_in), ["swk", "mfa"]);

    // A device-bound passkey that later claims to be backup eligible.
    let (_, other) = new_account(&app).await;
    let mut bound = authenticator();
    registered(&app, &other.token(), &mut bound).await;
    bound.synced = true;
    let (ceremony, credential) = assertion(&app, &mut bound, None).await;
    passkey_login(&app, &ceremony, &credential)
        .await
        .assert_fail(401, INVALID);
}
