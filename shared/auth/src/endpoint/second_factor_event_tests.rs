//! The second factor's webhook events (issue 27) over the in-memory store:
//! `totp.enabled`, `recovery_code.used` (with the session it opened),
//! `recovery_codes.regenerated` and `totp.disabled`, once each, and none for
//! a refused call.

use super::tests::{JOE, app, call, registered};
use super::*;
use crate::credentials::totp::Totp;

fn kinds_since(app: &App<crate::store::memory::MemoryStore>, before: usize) -> Vec<&'static str> {
    let events = app.store.events();
    events[before..]
        .iter()
        .map(|event| event.kind.as_str())
        .collect()
}

#[tokio::test]
async fn each_second_factor_change_writes_its_event_once() {
    let app = app();
    let token = registered(&app, JOE).await;
    let password = r#"{"password": "correct horse"}"#;
    let (status, enrolled) = call(&app, Endpoint::TotpEnroll, Some(&token), password).await;
    assert_eq!(status, 200, "{enrolled}");
    let totp = Totp::from_base32(enrolled["secret"].as_str().unwrap()).unwrap();

    let before = app.store.events().len();
    let wrong = r#"{"code": "000000"}"#;
    let refused = call(&app, Endpoint::TotpConfirm, Some(&token), wrong).await;
    assert_eq!(refused.0, 400, "{}", refused.1);
    let code = serde_json::json!({ "code": totp.code_at(crate::now()) }).to_string();
    let (status, confirmed) = call(&app, Endpoint::TotpConfirm, Some(&token), &code).await;
    assert_eq!(status, 200, "{confirmed}");
    assert_eq!(kinds_since(&app, before), ["totp.enabled"]);

    // A sign-in with a recovery code: its session and the code's use.
    let (status, challenge) = call(&app, Endpoint::Login, None, JOE).await;
    assert_eq!(status, 401, "{challenge}");
    let answer = serde_json::json!({
        "mfa_token": challenge["mfa_token"],
        "recovery_code": confirmed["recovery_codes"][0],
    });
    let before = app.store.events().len();
    let (status, signed_in) = call(&app, Endpoint::LoginMfa, None, &answer.to_string()).await;
    assert_eq!(status, 200, "{signed_in}");
    let mut kinds = kinds_since(&app, before);
    kinds.sort_unstable();
    assert_eq!(kinds, ["recovery_code.used", "session.created"]);

    let strong = signed_in["auth_token"].as_str().unwrap();
    let before = app.store.events().len();
    let (status, body) = call(&app, Endpoint::NewRecoveryCodes, Some(strong), "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(kinds_since(&app, before), ["recovery_codes.regenerated"]);

    let before = app.store.events().len();
    let wrong = r#"{"password": "not the password"}"#;
    let refused = call(&app, Endpoint::TotpDisable, Some(strong), wrong).await;
    assert_eq!(refused.0, 403, "{}", refused.1);
    let (status, body) = call(&app, Endpoint::TotpDisable, Some(strong), password).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(kinds_since(&app, before), ["totp.disabled"]);
}
