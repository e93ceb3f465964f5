//! What the fuzz targets share: the service objects under test, built from a
//! fixed throwaway key, and the checks that tell a wrong answer from a right one.
//!
//! Besides "never panics", every target checks that whatever the service
//! accepts is something it really issued: an accepted JWT carries exactly the
//! HS256 signature of its first two segments under the key, and an accepted
//! refresh token encodes back to itself.

use auth::token::{Claims, ISSUER, Tokens};
use auth::{Config, refresh::RefreshKeys};
use aws_lc_rs::hmac;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use lambda_http::http::{HeaderValue, header};
use lambda_http::{Body, Request};
use std::sync::LazyLock;

/// A key for fuzzing only (the committed corpus has tokens signed with it).
pub const SECRET: &str = "fuzz-only-key-not-a-secret-0123456789abcdef";

pub static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    Config::from_lookup(|name| match name {
        "JWT_SECRET" => Some(SECRET.into()),
        "USERS_TABLE" | "REVOKED_TOKENS_TABLE" => Some("fuzz".into()),
        _ => None,
    })
    .expect("the fuzz configuration is valid")
});

pub static TOKENS: LazyLock<Tokens> =
    LazyLock::new(|| Tokens::new(&CONFIG.jwt_secret, CONFIG.access_token_ttl_seconds));

pub static REFRESH_KEYS: LazyLock<RefreshKeys> =
    LazyLock::new(|| RefreshKeys::new(&CONFIG.jwt_secret));

/// A request with this Authorization header, or `None` for bytes that no HTTP
/// header can carry (the HTTP layer refuses them before any handler runs).
pub fn request_with_authorization(value: &[u8]) -> Option<Request> {
    let value = HeaderValue::from_bytes(value).ok()?;
    let mut request = Request::default();
    request.headers_mut().insert(header::AUTHORIZATION, value);
    Some(request)
}

/// A request with this body, as API Gateway hands it over: text when it is
/// UTF-8, else binary.
pub fn request_with_body(body: &[u8]) -> Request {
    match std::str::from_utf8(body) {
        Ok(text) => Request::new(Body::Text(text.to_owned())),
        Err(_) => Request::new(Body::Binary(body.to_vec())),
    }
}

/// The URL-safe, unpadded HS256 signature of `signing_input` under [`SECRET`].
pub fn hs256(signing_input: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes());
    URL_SAFE_NO_PAD.encode(hmac::sign(&key, signing_input).as_ref())
}

/// Panics unless a token that `Tokens::verify` accepted at `now` is one we
/// could have issued: three segments, an HS256 header, the exact signature, and
/// claims within their bounds.
pub fn check_accepted_token(token: &str, claims: &Claims, now: u64) {
    let segments: Vec<&str> = token.split('.').collect();
    assert_eq!(segments.len(), 3, "accepted a token without 3 segments");
    let signing_input = &token[..segments[0].len() + 1 + segments[1].len()];
    assert_eq!(
        segments[2],
        hs256(signing_input.as_bytes()),
        "accepted a token whose signature is not ours"
    );
    let header = URL_SAFE_NO_PAD
        .decode(segments[0])
        .expect("accepted a token whose header is not base64url");
    let header: serde_json::Value =
        serde_json::from_slice(&header).expect("accepted a token whose header is not JSON");
    assert_eq!(header["alg"], "HS256", "accepted another algorithm");
    assert!(header.get("crit").is_none(), "accepted a critical extension");
    assert!(auth::ids::is_user_id(&claims.sub), "accepted a sub of another shape");
    assert!(auth::ids::is_random_id(&claims.sid), "accepted a sid of another shape");
    assert!(auth::ids::is_random_id(&claims.jti), "accepted a jti of another shape");
    assert!(claims.exp > now, "accepted an expired token");
    assert!(claims.iat <= now, "accepted a token issued in the future");
    assert_eq!(claims.iss, ISSUER, "accepted another issuer");
}
