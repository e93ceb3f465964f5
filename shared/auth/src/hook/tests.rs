use super::*;
use std::collections::HashMap;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn settings(pairs: &[(&str, &str)]) -> Result<Option<HookSettings>, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    HookSettings::from_lookup(&|name: &str| map.get(name).cloned())
}

#[test]
fn no_url_is_no_hook() {
    assert!(settings(&[]).unwrap().is_none());
    assert!(
        settings(&[("TOKEN_HOOK_URL", " "), ("TOKEN_HOOK_SECRET", SECRET)])
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_hook_denies_within_a_second_by_default() {
    let hook = settings(&[
        ("TOKEN_HOOK_URL", "https://hooks.example/claims"),
        ("TOKEN_HOOK_SECRET", SECRET),
    ])
    .unwrap()
    .unwrap();
    assert_eq!(hook.url, "https://hooks.example/claims");
    assert_eq!(hook.timeout, Duration::from_millis(1000));
    assert_eq!(hook.on_failure, OnFailure::Deny);
}

#[test]
fn the_budget_and_the_policy_are_settings() {
    let hook = settings(&[
        ("TOKEN_HOOK_URL", "http://127.0.0.1:9/claims"),
        ("TOKEN_HOOK_SECRET", SECRET),
        ("TOKEN_HOOK_TIMEOUT_MS", "250"),
        ("TOKEN_HOOK_FAILURE", "skip"),
    ])
    .unwrap()
    .unwrap();
    assert_eq!(hook.timeout, Duration::from_millis(250));
    assert_eq!(hook.on_failure, OnFailure::Skip);
}

#[test]
fn bad_settings_stop_the_cold_start_with_a_reason() {
    let url = ("TOKEN_HOOK_URL", "https://hooks.example/claims");
    let secret = ("TOKEN_HOOK_SECRET", SECRET);
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[url], "TOKEN_HOOK_SECRET is required"),
        (
            &[("TOKEN_HOOK_URL", "hooks.example"), secret],
            "TOKEN_HOOK_URL must be",
        ),
        (
            &[url, ("TOKEN_HOOK_SECRET", "plain")],
            "TOKEN_HOOK_SECRET must",
        ),
        (
            &[url, secret, ("TOKEN_HOOK_TIMEOUT_MS", "0")],
            "TOKEN_HOOK_TIMEOUT_MS must",
        ),
        (
            &[url, secret, ("TOKEN_HOOK_FAILURE", "allow")],
            "TOKEN_HOOK_FAILURE must",
        ),
    ];
    for (pairs, expected) in cases {
        let error = settings(pairs).unwrap_err();
        assert!(error.0.starts_with(expected), "{error}");
    }
}

#[test]
fn the_settings_never_show_the_secret() {
    let hook = settings(&[
        ("TOKEN_HOOK_URL", "https://hooks.example/claims"),
        ("TOKEN_HOOK_SECRET", SECRET),
    ])
    .unwrap()
    .unwrap();
    assert!(!format!("{hook:?}").contains("MfKQ9r8"));
}

#[test]
fn the_subject_is_sent_as_its_fields() {
    let user_metadata = Metadata::from_iter([("plan".to_owned(), json!("pro"))]);
    let subject = HookSubject {
        user_id: "u-1",
        email: "ann@example.com",
        roles: &["admin".to_owned()],
        user_metadata: &user_metadata,
        app_metadata: &Metadata::new(),
        amr: &["pwd".to_owned()],
    };
    assert_eq!(
        serde_json::to_value(&subject).unwrap(),
        json!({"user_id": "u-1", "email": "ann@example.com", "roles": ["admin"],
               "user_metadata": {"plan": "pro"}, "app_metadata": {}, "amr": ["pwd"]})
    );
}
