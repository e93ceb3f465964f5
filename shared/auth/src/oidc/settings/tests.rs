//! Unit tests of [`super`].

use super::*;

fn list(text: &str) -> RedirectAllowList {
    RedirectAllowList::parse(text).unwrap()
}

fn app() -> RedirectAllowList {
    list("https://app.example.com/cb, http://localhost:9000/account")
}

#[test]
fn the_allowed_urls_themselves_are_allowed_with_a_query_of_the_apps_own() {
    let allowed = app();
    let url = allowed.allows("https://app.example.com/cb").unwrap();
    assert_eq!(url.as_str(), "https://app.example.com/cb");
    assert!(allowed.allows("http://localhost:9000/account").is_some());
    let with_query = allowed
        .allows("https://app.example.com/cb?from=home")
        .unwrap();
    assert_eq!(with_query.query(), Some("from=home"));
}

#[test]
fn other_hosts_ports_schemes_and_paths_are_refused() {
    let allowed = app();
    for candidate in [
        // Another host, and hosts that merely start or end alike.
        "https://evil.com/cb",
        "https://app.example.com.evil.com/cb",
        "https://evil-app.example.com/cb",
        "https://example.com/cb",
        // Another port, and a scheme change (with or without the port).
        "https://app.example.com:8443/cb",
        "http://app.example.com/cb",
        "https://localhost:9000/account",
        "http://localhost:9001/account",
        "http://127.0.0.1:9000/account",
        "javascript://app.example.com/cb",
        // Suffixes and prefixes of the path, a trailing slash, its case.
        "https://app.example.com/cbx",
        "https://app.example.com/cb/",
        "https://app.example.com/cb/x",
        "https://app.example.com/",
        "https://app.example.com",
        "https://app.example.com/CB",
        // A fragment (RFC 6749 §3.1.2), and nothing at all.
        "https://app.example.com/cb#x",
        "",
        "/cb",
        "//app.example.com/cb",
        "app.example.com/cb",
    ] {
        assert!(allowed.allows(candidate).is_none(), "{candidate}");
    }
}

#[test]
fn a_user_before_the_host_is_refused_whichever_side_the_app_is_on() {
    let allowed = app();
    for candidate in [
        "https://app.example.com@evil.com/cb",
        "https://evil.com@app.example.com/cb",
        "https://user:pass@app.example.com/cb",
        "https://@app.example.com/cb",
        "https://app.example.com%40evil.com/cb",
    ] {
        assert!(allowed.allows(candidate).is_none(), "{candidate}");
    }
}

#[test]
fn traversal_encodings_and_characters_the_parser_would_drop_are_refused() {
    let allowed = app();
    for candidate in [
        // Dot segments, even those that resolve to the allowed path.
        "https://app.example.com/cb/../admin",
        "https://app.example.com/x/../cb",
        "https://app.example.com/./cb",
        "https://app.example.com/cb/.",
        "https://app.example.com/x/%2e%2e/cb",
        "https://app.example.com/x/%2E%2E/cb",
        "https://app.example.com/x/.%2e/cb",
        "https://app.example.com/%2e/cb",
        // Escapes that are not decoded: a different path.
        "https://app.example.com/cb%2F",
        "https://app.example.com/cb%2Fadmin",
        "https://app.example.com/c%62",
        "https://app.example.com%2Fcb",
        "https://app%2Eexample.com/cb",
        // Backslashes, whitespace and controls (the parser drops or folds them).
        "https://app.example.com\\cb",
        "https:\\\\app.example.com/cb",
        "https://app.example.com/c\tb",
        "https://app.example.com/c\nb",
        " https://app.example.com/cb",
        "https://app.example.com/cb ",
        "https://app.example.com/cb\0",
        // Non-ASCII: a look-alike host (Cyrillic а).
        "https://\u{430}pp.example.com/cb",
    ] {
        assert!(allowed.allows(candidate).is_none(), "{candidate:?}");
    }
}

#[test]
fn case_in_the_scheme_and_host_and_a_default_port_are_the_same_place() {
    // Decided: the host and scheme are case-insensitive (RFC 3986), and `url`
    // lowercases both, so these name the allowed URL exactly; the URL handed
    // back is the lowercase one.
    let allowed = app();
    let upper = allowed.allows("HTTPS://APP.example.com/cb").unwrap();
    assert_eq!(upper.as_str(), "https://app.example.com/cb");
    let port = allowed.allows("https://app.example.com:443/cb").unwrap();
    assert_eq!(port.as_str(), "https://app.example.com/cb");
    assert!(allowed.allows("http://LOCALHOST:9000/account").is_some());
    // A default port for another scheme is a port.
    assert!(allowed.allows("https://app.example.com:80/cb").is_none());
    // And an allowed entry written with its default port matches without it.
    let explicit = list("https://app.example.com:443/cb");
    assert!(explicit.allows("https://app.example.com/cb").is_some());
}

#[test]
fn the_setting_refuses_entries_that_could_not_be_matched_plainly() {
    for (text, says) in [
        ("https://app.example.com/cb?x=1", "query"),
        ("https://app.example.com/cb#x", "query or fragment"),
        ("https://user@app.example.com/cb", "user"),
        ("http://app.example.com/cb", "https"),
        ("ftp://app.example.com/cb", "https"),
        ("app.example.com/cb", "not a URL"),
        ("https://app.example.com/x/../cb", "dot segment"),
        ("not a url", "not a URL"),
    ] {
        let error = RedirectAllowList::parse(text).err().unwrap().0;
        assert!(error.contains(says), "{text}: {error}");
    }
    assert!(list("").is_empty());
    assert!(list(" , ").is_empty());
    let many = ["https://a.example.com/cb"; 2].join(",");
    assert_eq!(list(&many).origins().len(), 1, "duplicates kept once");
}

#[test]
fn origins_are_the_allowed_urls_origins_each_once() {
    let allowed = list(
        "https://app.example.com/cb, https://app.example.com/other, \
         https://APP.example.com:443/x, http://localhost:9000/account, \
         http://127.0.0.1:9000/account, https://app.example.com:8443/cb",
    );
    assert_eq!(
        allowed.origins(),
        [
            "https://app.example.com",
            "http://localhost:9000",
            "http://127.0.0.1:9000",
            "https://app.example.com:8443",
        ]
    );
}

const GOOGLE: &str = r#"{"name": "google", "issuer": "https://accounts.google.com",
    "client_id": "id-1", "client_secret": "s3cret-value", "label": "Google"}"#;

fn settings(providers: &str, redirects: &str) -> Result<OidcSettings, ConfigError> {
    OidcSettings::from_lookup(|name| match name {
        "OIDC_PROVIDERS" => Some(providers.to_owned()),
        "ALLOWED_REDIRECT_URLS" => Some(redirects.to_owned()),
        _ => None,
    })
}

#[test]
fn providers_are_read_with_default_scopes_and_secrets_kept_out_of_logs() {
    let read = settings(&format!("[{GOOGLE}]"), "https://app.example.com/cb").unwrap();
    let google = read.provider("google").unwrap();
    assert_eq!(google.issuer, "https://accounts.google.com");
    assert_eq!(google.scopes, ["openid", "email", "profile"]);
    assert_eq!(google.client_secret(), "s3cret-value");
    assert!(!google.is_local());
    assert!(!format!("{read:?}").contains("s3cret"));
    assert!(read.provider("mock").is_none());

    let mock = r#"[{"name": "mock", "issuer": "http://127.0.0.1:8080", "client_id": "c",
        "client_secret": "s", "scopes": ["openid", "email"], "label": "Mock"}]"#;
    let mock = settings(mock, "http://localhost:9000/account").unwrap();
    assert!(mock.providers[0].is_local());
    assert_eq!(mock.providers[0].scopes, ["openid", "email"]);

    let none = OidcSettings::from_lookup(|_| None).unwrap();
    assert!(none.providers.is_empty() && none.redirects.is_empty());
}

#[test]
fn bad_provider_settings_are_refused_without_quoting_a_secret() {
    let with = |field: &str, value: &str| {
        let mut entry: serde_json::Value = serde_json::from_str(GOOGLE).unwrap();
        entry[field] = serde_json::from_str(value).unwrap();
        settings(&format!("[{entry}]"), "https://app.example.com/cb")
            .err()
            .map(|error| error.0)
            .unwrap_or_default()
    };
    assert!(with("name", r#""Google""#).contains("a-z"));
    assert!(with("name", r#""""#).contains("a-z"));
    assert!(with("name", &format!("\"{}\"", "a".repeat(33))).contains("a-z"));
    assert!(with("name", r#""goo/gle""#).contains("a-z"));
    assert!(with("issuer", r#""http://accounts.google.com""#).contains("https"));
    assert!(with("issuer", r#""http://127.0.0.2""#).contains("https"));
    assert!(with("issuer", r#""accounts.google.com""#).contains("not a URL"));
    assert!(with("issuer", r#""https://a@accounts.google.com""#).contains("user"));
    assert!(with("issuer", r#""https://accounts.google.com?x""#).contains("query"));
    assert!(with("client_id", r#""""#).contains("client_id is empty"));
    assert!(with("client_secret", r#"" ""#).contains("client_secret is empty"));
    assert!(with("label", r#""""#).contains("label is empty"));
    assert!(with("scopes", r#"["email"]"#).contains("openid"));
    assert!(with("scopes", r#"["openid", "a b"]"#).contains("scope"));
    let unknown = with("client_secret_typo", r#""s3cret-value""#);
    assert!(
        unknown.contains("line") && !unknown.contains("s3cret"),
        "{unknown}"
    );
    let wrong_type = with("client_secret", "42");
    assert!(
        !wrong_type.is_empty() && !wrong_type.contains("42"),
        "{wrong_type}"
    );

    let twice = settings(
        &format!("[{GOOGLE}, {GOOGLE}]"),
        "https://app.example.com/cb",
    );
    assert!(twice.err().unwrap().0.contains("used twice"));
    let no_redirects = settings(&format!("[{GOOGLE}]"), "");
    assert!(
        no_redirects
            .err()
            .unwrap()
            .0
            .contains("ALLOWED_REDIRECT_URLS")
    );
    assert!(settings("{}", "").is_err());
    let eleven = [GOOGLE; 11].join(",");
    assert!(settings(&format!("[{eleven}]"), "https://a.example.com/cb").is_err());
}
