//! Unit tests of [`super`] that need no network (`tests/oidc_provider.rs`
//! runs the client against the local provider).

use super::super::id_token::tests::{CLIENT, ISSUER, NONCE, NOW, good_claims, rsa_key, sign};
use super::*;
use crate::config::Secret;
use jsonwebtoken::Algorithm;
use serde_json::json;

fn settings(issuer: &str) -> ProviderSettings {
    ProviderSettings {
        name: "example".into(),
        issuer: issuer.into(),
        client_id: CLIENT.into(),
        client_secret: Secret::new("a secret&with=odd:characters"),
        scopes: vec!["openid".into(), "email".into()],
        label: "Example".into(),
    }
}

fn metadata(issuer: &str) -> Metadata {
    Metadata {
        issuer: issuer.into(),
        authorization_endpoint: format!("{issuer}/authorize?tenant=1"),
        token_endpoint: format!("{issuer}/token"),
        jwks_uri: format!("{issuer}/jwks"),
        token_endpoint_auth_methods_supported: None,
        code_challenge_methods_supported: Some(vec!["S256".into()]),
    }
}

#[test]
fn discovery_must_name_the_configured_issuer_and_https_endpoints() {
    let ours = settings(ISSUER);
    assert_eq!(metadata(ISSUER).check(&ours), Ok(()));
    for issuer in [
        "https://evil.example.com",
        "https://accounts.example.com/",
        "HTTPS://accounts.example.com",
    ] {
        let error = metadata(issuer).check(&ours).unwrap_err();
        assert_eq!(error.code(), "provider_unavailable");
        assert!(error.to_string().contains("issuer"), "{error}");
    }
    let mut plain = metadata(ISSUER);
    plain.token_endpoint = "http://accounts.example.com/token".into();
    assert!(plain.check(&ours).is_err());
    let mut relative = metadata(ISSUER);
    relative.jwks_uri = "/jwks".into();
    assert!(relative.check(&ours).is_err());
    let mut no_s256 = metadata(ISSUER);
    no_s256.code_challenge_methods_supported = Some(vec!["plain".into()]);
    assert!(
        no_s256
            .check(&ours)
            .unwrap_err()
            .to_string()
            .contains("S256")
    );
    let mut unlisted = metadata(ISSUER);
    unlisted.code_challenge_methods_supported = None;
    assert_eq!(unlisted.check(&ours), Ok(()));
    // The local mock: http on a loopback host, and only there.
    let local = settings("http://127.0.0.1:8080");
    assert_eq!(metadata("http://127.0.0.1:8080").check(&local), Ok(()));
    let mut elsewhere = metadata("http://127.0.0.1:8080");
    elsewhere.token_endpoint = "http://10.0.0.1/token".into();
    assert!(elsewhere.check(&local).is_err());
}

#[test]
fn client_auth_is_basic_unless_only_post_is_offered() {
    let with = |methods: Option<&[&str]>| {
        Metadata {
            token_endpoint_auth_methods_supported: methods
                .map(|methods| methods.iter().map(|m| (*m).to_owned()).collect()),
            ..metadata(ISSUER)
        }
        .client_auth()
    };
    assert_eq!(with(None), ClientAuth::Basic);
    assert_eq!(with(Some(&["none"])), ClientAuth::Basic);
    assert_eq!(with(Some(&["client_secret_basic"])), ClientAuth::Basic);
    assert_eq!(
        with(Some(&["client_secret_basic", "client_secret_post"])),
        ClientAuth::Basic
    );
    assert_eq!(with(Some(&["client_secret_post"])), ClientAuth::Post);
    assert_eq!(
        with(Some(&["private_key_jwt", "client_secret_post"])),
        ClientAuth::Post
    );
}

#[tokio::test]
async fn the_authorization_url_carries_the_code_flow_and_pkce_s256() {
    let provider = Provider::new(settings(ISSUER)).with_metadata(metadata(ISSUER));
    let challenge =
        super::super::pkce::challenge("a-verifier-of-at-least-forty-three-characters-x");
    let url = provider
        .authorization_url(
            "https://api.example.com/auth/oauth/example/callback",
            "st&te",
            NONCE,
            &challenge,
        )
        .await
        .unwrap();
    assert_eq!(url.origin().ascii_serialization(), ISSUER);
    assert_eq!(url.path(), "/authorize");
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let expected = [
        ("tenant", "1"),
        ("response_type", "code"),
        ("client_id", CLIENT),
        (
            "redirect_uri",
            "https://api.example.com/auth/oauth/example/callback",
        ),
        ("scope", "openid email"),
        ("state", "st&te"),
        ("nonce", NONCE),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    assert_eq!(pairs, expected);
}

#[tokio::test]
async fn the_id_token_is_checked_by_the_cached_keys() {
    let (key, jwk) = rsa_key("test-current");
    let provider = Provider::new(settings(ISSUER))
        .with_metadata(metadata(ISSUER))
        .with_keys(vec![jwk], Instant::now());
    let token = sign(Algorithm::RS256, Some("test-current"), &good_claims(), &key);
    let claims = provider.check_id_token(&token, NONCE, NOW).await.unwrap();
    assert_eq!(
        (claims.sub.as_str(), claims.email_verified),
        ("alice", true)
    );
    assert_eq!(
        provider.check_id_token(&token, "another", NOW).await,
        Err(OidcError::NonceMismatch)
    );
    // An unknown kid within the minute: no refetch, refused.
    let (other, _) = rsa_key("test-next");
    let rotated = sign(Algorithm::RS256, Some("test-next"), &good_claims(), &other);
    let error = provider
        .check_id_token(&rotated, NONCE, NOW)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_id_token");
    assert!(error.to_string().contains("does not list"), "{error}");
    let hs = sign(
        Algorithm::HS256,
        Some("test-current"),
        &good_claims(),
        &jsonwebtoken::EncodingKey::from_secret(b"k"),
    );
    assert_eq!(
        provider
            .check_id_token(&hs, NONCE, NOW)
            .await
            .unwrap_err()
            .code(),
        "invalid_id_token"
    );
}

#[tokio::test]
async fn an_unknown_kid_after_a_minute_fetches_the_keys_again() {
    // The JWKS endpoint is a closed port: the refetch is tried, and fails
    // as the provider being unavailable.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let (_, jwk) = rsa_key("test-current");
    let long_ago = Instant::now()
        .checked_sub(JWKS_REFETCH_INTERVAL + Duration::from_secs(1))
        .unwrap_or_else(Instant::now);
    let provider = Provider::new(settings(&issuer))
        .with_metadata(metadata(&issuer))
        .with_keys(vec![jwk], long_ago)
        .with_budget(Duration::from_secs(2));
    let (other, _) = rsa_key("test-next");
    let mut claims = good_claims();
    claims["iss"] = json!(issuer);
    let rotated = sign(Algorithm::RS256, Some("test-next"), &claims, &other);
    let error = provider
        .check_id_token(&rotated, NONCE, NOW)
        .await
        .unwrap_err();
    if long_ago.elapsed() > JWKS_REFETCH_INTERVAL {
        assert_eq!(error.code(), "provider_unavailable", "{error}");
        assert!(error.to_string().contains("jwks"), "{error}");
    }
}

#[test]
fn jwks_documents_keep_the_keys_we_can_use() {
    let (_, jwk) = rsa_key("test-current");
    let good = serde_json::to_value(&jwk).unwrap();
    let document = json!({"keys": [
        {"kty": "OKP", "crv": "X25519", "x": "abc", "kid": "x"},
        {"kty": "weird"},
        {"kty": "oct", "k": "c2VjcmV0", "kid": "h"},
        good,
    ]});
    let keys = parse_jwks(document.to_string().as_bytes()).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].common.key_id.as_deref(), Some("test-current"));
    for garbage in [
        &b"not json"[..],
        b"{}",
        br#"{"keys": 1}"#,
        br#"{"keys": []}"#,
        br#"{"keys": [{"kty": "oct", "k": "AA"}]}"#,
    ] {
        let error = parse_jwks(garbage).unwrap_err();
        assert_eq!(error.code(), "provider_unavailable");
    }
}

#[test]
fn codes_are_stable() {
    assert_eq!(
        OidcError::ProviderUnavailable(String::new()).code(),
        "provider_unavailable"
    );
    assert_eq!(
        OidcError::ProviderError(String::new()).code(),
        "provider_error"
    );
    assert_eq!(
        OidcError::InvalidIdToken(String::new()).code(),
        "invalid_id_token"
    );
    assert_eq!(OidcError::NonceMismatch.code(), "nonce_mismatch");
    assert_eq!(OidcError::NonceMismatch.to_string(), "nonce_mismatch");
}
