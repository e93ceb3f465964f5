//! `POST /auth/password` (issue #4): a wrong current password, a new one
//! that breaks the rules and a missing token change nothing; a change ends
//! every session but the caller's, and the old password no longer logs in.
//! Wrong current passwords counting as failed logins is in throttle.rs.
//! Runs in-process or over HTTP.

use test_support::*;

#[tokio::test]
async fn a_password_change_ends_every_other_session() {
    let app = app().await;
    let (email, laptop, phone) = on_laptop_and_phone(&app).await;
    let laptop_token = laptop.token();
    let from_laptop = Some(laptop_token.as_str());
    let new_password = "a brand new passphrase";

    change_password(&app, from_laptop, "wrong password", new_password)
        .await
        .assert_fail(403, WRONG_CURRENT_PASSWORD);
    change_password(&app, from_laptop, PASSWORD, "short")
        .await
        .assert_fail(400, PASSWORD_LENGTH);
    change_password(&app, None, PASSWORD, new_password)
        .await
        .assert_fail(401, NO_TOKEN);
    assert_eq!(
        status(&app, &phone.token()).await.status,
        200,
        "failed attempts change nothing"
    );

    let changed = change_password(&app, from_laptop, PASSWORD, new_password).await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.message(), PASSWORD_CHANGED);
    assert_session_ended(&app, &phone).await;
    assert_eq!(status(&app, &laptop.token()).await.status, 200);
    login(&app, &email, PASSWORD)
        .await
        .assert_fail(404, USER_DOES_NOT_EXIST);
    assert_eq!(login(&app, &email, new_password).await.status, 200);
}
