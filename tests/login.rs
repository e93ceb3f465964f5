//! `POST /auth/login`: a fresh token every time; a wrong password and an
//! unknown email answered alike; passwords compared whole, never silently
//! truncated (bcrypt reads at most 72 bytes). Brute-force delays are in
//! throttle.rs, devices and refresh tokens in sessions.rs and refresh.rs.
//! Runs in-process or over HTTP, like every file `make test-e2e` names.

use test_support::*;

#[tokio::test]
async fn login_returns_a_new_token_each_time() {
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    let first = login(&app, &email, PASSWORD).await;
    first.assert_success(200, LOGGED_IN);
    let second = login(&app, &format!(" {} ", email.to_uppercase()), PASSWORD).await;
    assert_eq!(second.status, 200);
    let tokens = [registered.token(), first.token(), second.token()];
    assert_ne!(tokens[0], tokens[1]);
    assert_ne!(tokens[1], tokens[2]);
    for token in &tokens {
        assert_eq!(status(&app, token).await.status, 200);
    }
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_identical_answers() {
    let app = app().await;
    let (email, _) = new_account(&app).await;
    let wrong_password = login(&app, &email, "not the password").await;
    let unknown_email = login(&app, &unique_email(), PASSWORD).await;
    wrong_password.assert_fail(404, USER_DOES_NOT_EXIST);
    wrong_password.assert_same_as(&unknown_email);
}

#[tokio::test]
async fn passwords_are_never_silently_truncated() {
    let app = app().await;
    // 71 and 72 bytes are whole passwords: every byte counts, the last one too.
    for length in [71, 72] {
        let email = unique_email();
        let password = "p".repeat(length);
        assert_eq!(register_with(&app, &email, &password).await.status, 201);
        assert_eq!(
            login(&app, &email, &password).await.status,
            200,
            "{length} bytes"
        );
        let last_byte_changed = format!("{}q", &password[..length - 1]);
        assert_eq!(
            login(&app, &email, &last_byte_changed).await.status,
            404,
            "{length} bytes"
        );
    }
    // 73 bytes, and two long ones equal in their first 72: refused, never cut to 72.
    let email = unique_email();
    for password in [
        "p".repeat(73),
        format!("{}A", "p".repeat(80)),
        format!("{}B", "p".repeat(80)),
    ] {
        register_with(&app, &email, &password)
            .await
            .assert_fail(400, PASSWORD_LENGTH);
        login(&app, &email, &password)
            .await
            .assert_fail(400, PASSWORD_LENGTH);
    }
    // Multi-byte characters count in bytes: 18 emoji are 72 bytes, 64 are 256.
    let email = unique_email();
    let eighteen = "😀".repeat(18);
    assert_eq!(register_with(&app, &email, &eighteen).await.status, 201);
    assert_eq!(login(&app, &email, &eighteen).await.status, 200);
    for too_long in ["😀".repeat(64), "😀".repeat(19)] {
        login(&app, &email, &too_long)
            .await
            .assert_fail(400, PASSWORD_LENGTH);
    }
    // A NUL would end the password inside bcrypt: refused.
    login(&app, &email, "abcdefgh\0ijk")
        .await
        .assert_fail(400, PASSWORD_NUL);
}
