use super::*;
use std::collections::BTreeSet;

/// One of each error. `listed` below names every variant without a
/// wildcard, so a new variant fails to compile until it is added here.
fn one_of_each() -> Vec<ApiError> {
    let mut errors = vec![
        ApiError::BadRequest("x".into()),
        ApiError::PayloadTooLarge,
        ApiError::UserExists,
        ApiError::LoginFailed,
        ApiError::LogoutWithoutToken,
        ApiError::RefreshRejected,
        ApiError::RefreshReused,
        ApiError::SessionNotFound,
        ApiError::WrongPassword,
        ApiError::PasswordConflict,
        ApiError::TooManyLogins { retry_after: 1 },
        ApiError::TooManyRegistrations { retry_after: 1 },
        ApiError::TooManyMails { retry_after: 1 },
        ApiError::InvalidCode,
        ApiError::EmailNotVerified,
        ApiError::EmailAlreadyVerified,
        ApiError::AccountDisabled,
        ApiError::AdminRequired,
        ApiError::UserNotFound,
        ApiError::OwnAdminAccount,
        ApiError::OwnAdminRole,
        ApiError::SecondFactorChallenge {
            mfa_token: "t".into(),
        },
        ApiError::InvalidChallenge,
        ApiError::TotpAlreadyOn,
        ApiError::TotpNotOn,
        ApiError::SecondFactorRequired,
        ApiError::NoTotpPending,
        ApiError::EmailTaken,
        ApiError::RecentSignInRequired,
        ApiError::InvalidPasskey,
        ApiError::PasskeyRejected,
        ApiError::PasskeyExists,
        ApiError::PasskeyNotFound,
        ApiError::LastSignInMethod,
        ApiError::TooManyCeremonies { retry_after: 1 },
        ApiError::TooManyOauthStarts { retry_after: 1 },
        ApiError::UnknownProvider,
        ApiError::RedirectNotAllowed,
        ApiError::InvalidOauthState,
        ApiError::InvalidOauthCode,
        ApiError::CodeVerifierMismatch,
        ApiError::IdentityNotFound,
        ApiError::Unavailable("x".into()),
        ApiError::TokenHookFailed("x".into()),
    ];
    for rejection in [
        TokenRejection::Missing,
        TokenRejection::Malformed,
        TokenRejection::Expired,
        TokenRejection::Invalid,
        TokenRejection::Revoked,
    ] {
        errors.push(ApiError::Token(rejection));
    }
    errors.iter().for_each(listed);
    errors
}

fn listed(error: &ApiError) {
    use ApiError as E;
    match error {
        E::BadRequest(_) | E::PayloadTooLarge | E::UserExists | E::LoginFailed | E::Token(_) => {}
        E::LogoutWithoutToken | E::RefreshRejected | E::RefreshReused | E::SessionNotFound => {}
        E::WrongPassword | E::PasswordConflict | E::TooManyLogins { .. } => {}
        E::TooManyRegistrations { .. } | E::TooManyMails { .. } | E::InvalidCode => {}
        E::EmailNotVerified | E::EmailAlreadyVerified | E::AccountDisabled => {}
        E::AdminRequired | E::UserNotFound | E::OwnAdminAccount | E::OwnAdminRole => {}
        E::SecondFactorChallenge { .. } | E::InvalidChallenge | E::TotpAlreadyOn => {}
        E::TotpNotOn | E::SecondFactorRequired | E::NoTotpPending | E::Unavailable(_) => {}
        E::TokenHookFailed(_) => {}
        E::EmailTaken | E::RecentSignInRequired => {}
        E::InvalidPasskey | E::PasskeyRejected | E::PasskeyExists | E::PasskeyNotFound => {}
        E::LastSignInMethod | E::TooManyCeremonies { .. } => {}
        E::TooManyOauthStarts { .. } | E::UnknownProvider | E::RedirectNotAllowed => {}
        E::InvalidOauthState | E::InvalidOauthCode | E::CodeVerifierMismatch => {}
        E::IdentityNotFound => {}
    }
}

#[test]
fn every_error_answers_a_documented_code_beside_the_seeds_fields() {
    let openapi = include_str!("../../../../../openapi.yaml");
    let enum_start = openapi
        .find("    ErrorCode:")
        .expect("openapi.yaml's ErrorCode");
    let documented: BTreeSet<&str> = openapi[enum_start..]
        .lines()
        .skip_while(|line| line.trim() != "enum:")
        .skip(1)
        .map_while(|line| line.trim().strip_prefix("- "))
        .collect();
    let docs = include_str!("../../../../../docs/api.md");
    let mut answered = BTreeSet::new();
    for error in one_of_each() {
        let code = error.code();
        assert!(
            code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{code}"
        );
        assert!(documented.contains(code), "{code} is not in openapi.yaml");
        assert!(
            docs.contains(&format!("| `{code}` |")),
            "{code} is not in docs/api.md"
        );
        let reply = error.into_reply();
        let body: serde_json::Value = match reply.body() {
            lambda_http::Body::Text(text) => serde_json::from_str(text).unwrap(),
            _ => panic!("a text body"),
        };
        assert_eq!(body["status"], "fail");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(body["code"], code);
        answered.insert(code);
    }
    assert_eq!(
        answered, documented,
        "openapi.yaml lists exactly the codes answered"
    );
}

#[test]
fn the_seeds_messages_are_unchanged_and_429s_say_when() {
    let login = ApiError::LoginFailed.into_reply();
    assert_eq!(login.status(), StatusCode::NOT_FOUND);
    let throttled = ApiError::TooManyLogins { retry_after: 7 }.into_reply();
    assert_eq!(throttled.headers()[header::RETRY_AFTER], "7");
    let revoked = ApiError::Token(TokenRejection::Revoked).into_reply();
    let lambda_http::Body::Text(text) = revoked.body() else {
        panic!("a text body")
    };
    let body: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(body["message"], "Token blacklisted. Please log in again.");
    assert_eq!(body["code"], "token_revoked");
}
