//! `GET /auth/sessions` and `DELETE /auth/sessions/{id}` (issue #4): one
//! session per signed-in device, listed without secrets and (issue 11) without
//! invisible characters in its name, revoked one at a time; someone else's
//! session, and an id not of our shape, look like none; an expired session
//! DynamoDB has not deleted yet counts for nothing; ids and query values are
//! read percent-decoded, as API Gateway delivers them (issue 21). Runs in-process or over
//! HTTP.

use std::collections::BTreeSet;
use test_support::*;

#[tokio::test]
async fn sessions_lists_each_device_and_marks_the_callers_own() {
    let app = app().await;
    let (email, _) = new_account(&app).await;
    let laptop = sign_in(&app, &email, "  laptop\u{7}  ").await.token();
    let phone = sign_in(&app, &email, "phone").await.token();
    let sessions = list_sessions(&app, &laptop).await;
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    for session in &sessions {
        let keys = field_names(session);
        let expected = [
            "created_at",
            "current",
            "device",
            "expires_at",
            "id",
            "last_used_at",
        ];
        assert_eq!(
            keys,
            expected.into_iter().collect(),
            "nothing secret is listed"
        );
        assert_eq!(
            session["current"],
            session["id"] == session_of(&laptop).as_str()
        );
    }
    let devices: BTreeSet<&str> = sessions
        .iter()
        .map(|s| s["device"].as_str().unwrap())
        .collect();
    assert!(
        devices.contains("laptop") && devices.contains("phone"),
        "{devices:?}"
    );
    let current: Vec<_> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(list_sessions(&app, &phone).await.len(), 3);
}

#[tokio::test]
async fn revoking_a_session_ends_its_tokens_at_once_and_only_its_own() {
    let app = app().await;
    let (_, laptop, phone) = on_laptop_and_phone(&app).await;
    let answer = revoke_session(&app, &laptop.token(), &session_of(&phone.token())).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_session_ended(&app, &phone).await;
    assert_session_works(&app, &laptop).await;
}

/// Every character of `text` as a `%XX` escape, as a client may send it.
fn escaped(text: &str) -> String {
    text.bytes().map(|byte| format!("%{byte:02X}")).collect()
}

#[tokio::test]
async fn a_percent_encoded_session_id_and_scope_are_read_as_api_gateway_decodes_them() {
    let app = app().await;
    // The id escaped: API Gateway hands the function the decoded segment;
    // `cargo lambda watch` hands it on as sent, so this half runs in-process.
    if !app.is_http() {
        let (_, laptop, phone) = on_laptop_and_phone(&app).await;
        let id = escaped(&session_of(&phone.token()));
        let answer = revoke_session(&app, &laptop.token(), &id).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_session_ended(&app, &phone).await;
    }
    // `?scope=others`, escaped: the laptop's other sessions end, not its own.
    let (_, laptop, phone) = on_laptop_and_phone(&app).await;
    let answer = logout_scope(&app, &laptop.token(), &escaped("others")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_session_ended(&app, &phone).await;
    assert_session_works(&app, &laptop).await;
}

#[tokio::test]
async fn someone_elses_session_and_an_unknown_one_look_the_same() {
    let app = app().await;
    let mine = new_account(&app).await.1.token();
    let theirs = new_account(&app).await.1.token();
    let someone_elses = revoke_session(&app, &mine, &session_of(&theirs)).await;
    let unknown = revoke_session(&app, &mine, "no-such-session").await;
    someone_elses.assert_fail(404, SESSION_NOT_FOUND);
    // Told apart by nothing the body or the service's headers say.
    assert_eq!(someone_elses.body, unknown.body);
    assert_eq!(someone_elses.own_headers(), unknown.own_headers());
    assert_eq!(
        status(&app, &theirs).await.status,
        200,
        "theirs is untouched"
    );
    revoke_session(&app, "garbage", "x")
        .await
        .assert_fail(401, INVALID_TOKEN);
}

#[tokio::test]
async fn an_expired_session_not_yet_deleted_counts_for_nothing() {
    let Some((app, backstage)) = app_and_backstage_or_skip("expired session").await else {
        return;
    };
    let (email, answer) = new_account(&app).await;
    let token = answer.token();
    backstage
        .expire_session(&user_of(&token), &session_of(&token), auth::now() - 5)
        .await;
    assert_session_ended(&app, &answer).await;
    let fresh = login(&app, &email, PASSWORD).await.token();
    revoke_session(&app, &fresh, &session_of(&token))
        .await
        .assert_fail(404, SESSION_NOT_FOUND);
    let listed = list_sessions(&app, &fresh).await;
    assert_eq!(listed.len(), 1, "only the new session: {listed:?}");
}

#[tokio::test]
async fn session_ids_not_of_our_shape_are_not_found() {
    // Refused before storage (issue 11): a 2 KB id would be past DynamoDB's
    // 1 KB sort key, a 503 had it been asked.
    let app = app().await;
    let (_, registered) = new_account(&app).await;
    let (token, mine) = (registered.token(), session_of(&registered.token()));
    for odd in [
        "-".to_owned(),
        "%20".to_owned(),
        "A".repeat(2048),
        mine[..21].to_owned(),
        format!("{mine}A"),
        mine.replace(|c: char| c.is_ascii_alphanumeric(), "!"),
        "%2B%2F%2B%2F%2B%2F%2B%2F%2B%2F%2B%2F%2B%2F%2B%2F%2B%2F%2B%2F%2B%2F".to_owned(),
    ] {
        let answer = revoke_session(&app, &token, &odd).await;
        let expected = (404, SESSION_NOT_FOUND.to_owned());
        assert_eq!(answer.code_and_message(), expected, "{odd:.40}");
    }
    assert_session_works(&app, &registered).await;
}

#[tokio::test]
async fn device_names_are_listed_without_invisible_characters() {
    // A bidi override would make "Joe's phone" + U+202E + "gnp.exe" show as
    // "Joe's phoneexe.png"; zero-width characters make look-alikes.
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    sign_in(&app, &email, "Joe's phone\u{202E}gnp.exe").await;
    sign_in(&app, &email, "i\u{200B}Pad\u{200D}\u{FEFF} \u{2066}").await;
    let sessions = list_sessions(&app, &registered.token()).await;
    let devices: BTreeSet<&str> = sessions
        .iter()
        .map(|s| s["device"].as_str().unwrap())
        .collect();
    assert!(devices.contains("Joe's phonegnp.exe"), "{devices:?}");
    assert!(devices.contains("iPad"), "{devices:?}");
}
