//! Unit tests of [`super`].

use super::*;
use std::collections::HashMap;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn complete() -> Vec<(&'static str, &'static str)> {
    vec![
        ("REFRESH_TOKEN_SECRET", SECRET),
        ("USERS_TABLE", "users"),
        ("REVOKED_TOKENS_TABLE", "revoked"),
        ("OUTBOX_TABLE", "outbox"),
        ("SIGNING_KEYS", crate::tokens::keys::TEST_KEY_SET),
    ]
}

#[test]
fn require_verified_email_is_a_strict_flag() {
    for (raw, expected) in [("true", true), ("1", true), ("false", false), ("0", false)] {
        let mut settings = complete();
        settings.push(("REQUIRE_VERIFIED_EMAIL", raw));
        let config = Config::from_lookup(env(&settings)).unwrap();
        assert_eq!(config.require_verified_email, expected, "{raw}");
    }
    let mut settings = complete();
    settings.push(("REQUIRE_VERIFIED_EMAIL", "yes"));
    let error = Config::from_lookup(env(&settings)).unwrap_err();
    assert!(error.0.contains("REQUIRE_VERIFIED_EMAIL"), "{error}");
}

#[test]
fn defaults_apply_when_optional_settings_are_absent() {
    let config = Config::from_lookup(env(&complete())).unwrap();
    assert_eq!(config.bcrypt_cost, 12);
    assert_eq!(config.access_token_ttl_seconds, 3600);
    assert_eq!(config.users_table, "users");
    assert_eq!(config.account_login_failures_before_delay, 5);
    assert_eq!(config.source_login_failures_before_delay, 100);
    assert_eq!(config.source_registrations_per_hour, 100);
    assert_eq!(config.mails_per_email_per_hour, 5);
    assert_eq!(config.source_mails_per_hour, 50);
    assert!(!config.require_verified_email);
    assert_eq!(config.token_audience, "token-auth");
    assert_eq!(config.public_base_url, None);
}

#[test]
fn a_short_secret_is_refused() {
    let mut pairs = complete();
    pairs[0] = ("REFRESH_TOKEN_SECRET", "too-short");
    let err = Config::from_lookup(env(&pairs)).unwrap_err();
    assert!(err.0.contains("at least 32 bytes"), "{err}");
}

#[test]
fn a_missing_secret_is_refused_and_named() {
    let err = Config::from_lookup(env(&complete()[1..])).unwrap_err();
    assert_eq!(err.0, "REFRESH_TOKEN_SECRET is required but not set");
    let err = Config::from_lookup(env(&complete()[..3])).unwrap_err();
    assert_eq!(err.0, "SIGNING_KEYS is required but not set");
}

#[test]
fn bad_numbers_are_refused() {
    for (name, value) in [
        ("BCRYPT_COST", "twelve"),
        ("BCRYPT_COST", "3"),
        ("BCRYPT_COST", "32"),
        ("ACCESS_TOKEN_TTL_SECONDS", "-1"),
        ("ACCESS_TOKEN_TTL_SECONDS", "0"),
        ("ACCESS_TOKEN_TTL_SECONDS", "18446744073709551615"),
        ("REFRESH_TOKEN_TTL_SECONDS", "0"),
        ("REFRESH_REUSE_GRACE_SECONDS", "301"),
        ("ACCOUNT_LOGIN_FAILURES_BEFORE_DELAY", "0"),
        ("SOURCE_LOGIN_FAILURES_BEFORE_DELAY", "100001"),
    ] {
        let mut pairs = complete();
        pairs.push((name, value));
        let err = Config::from_lookup(env(&pairs)).unwrap_err();
        assert!(err.0.starts_with(name), "{name}={value}: {err}");
    }
}

#[test]
fn debug_output_never_shows_the_secret() {
    let config = Config::from_lookup(env(&complete())).unwrap();
    let shown = format!("{config:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    assert!(shown.contains("test-current (current)"), "{shown}");
    assert!(shown.contains("32 bytes"));
}

#[test]
fn a_trusted_proxy_is_named_or_refused() {
    let with = |value: &'static str| {
        let mut pairs = complete();
        pairs.push(("TRUSTED_PROXY", value));
        Config::from_lookup(env(&pairs)).map(|config| config.trusted_proxy)
    };
    let absent = Config::from_lookup(env(&complete())).unwrap();
    assert_eq!(absent.trusted_proxy, TrustedProxy::None);
    assert_eq!(with("none").unwrap(), TrustedProxy::None);
    assert_eq!(with("cloudfront").unwrap(), TrustedProxy::CloudFront);
    assert_eq!(with("true").unwrap(), TrustedProxy::CloudFront);
    assert_eq!(with("false").unwrap(), TrustedProxy::None);
    let error = with("x-forwarded-for").unwrap_err();
    assert!(error.0.contains("TRUSTED_PROXY"), "{}", error.0);
}

#[test]
fn oidc_settings_are_read_with_the_rest() {
    let config = Config::from_lookup(env(&complete())).unwrap();
    assert!(config.oidc.providers.is_empty());
    assert_eq!(config.source_oauth_starts_per_hour, 60);
    let mut settings = complete();
    let providers = r#"[{"name":"mock","issuer":"http://127.0.0.1:9400","client_id":"c","client_secret":"s","label":"Mock"}]"#;
    settings.push(("OIDC_PROVIDERS", providers));
    settings.push(("ALLOWED_REDIRECT_URLS", "http://localhost:9000/account"));
    settings.push(("SOURCE_OAUTH_STARTS_PER_HOUR", "7"));
    let config = Config::from_lookup(env(&settings)).unwrap();
    assert_eq!(config.oidc.providers[0].name, "mock");
    assert!(
        config
            .oidc
            .redirects
            .allows("http://localhost:9000/account")
            .is_some()
    );
    assert_eq!(config.source_oauth_starts_per_hour, 7);
    assert!(
        !format!("{config:?}").contains("\"s\""),
        "the client secret stays hidden"
    );
    let app = crate::App::new(config, crate::store::memory::MemoryStore::default());
    assert!(app.provider("mock").is_some() && app.provider("other").is_none());
    // Providers without a redirect list: refused at init.
    settings.retain(|(name, _)| *name != "ALLOWED_REDIRECT_URLS");
    assert!(Config::from_lookup(env(&settings)).is_err());
}
