//! What the fuzz targets share: the service objects under test, built from
//! fixed throwaway keys (fuzz/test-keys/), and the checks that tell a wrong
//! answer from a right one.
//!
//! Besides "never panics", every target checks that whatever the service
//! accepts is something it really issued: an accepted JWT carries exactly the
//! RS256 signature of its first two segments by the fuzz key set's current key
//! (checked here with aws-lc-rs, independently of jsonwebtoken), and an
//! accepted refresh token encodes back to itself.

use auth::Config;
use auth::tokens::access::{Claims, Tokens};
use auth::tokens::keys::KeySet;
use auth::tokens::refresh::RefreshKeys;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::{
    KeyPair as _, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use lambda_http::http::{HeaderValue, header};
use lambda_http::{Body, Request};
use serde_json::json;
use std::sync::LazyLock;

/// The fuzz key set's only key, the one that signs (PKCS#8 PEM, made with
/// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`). The
/// committed corpus has tokens signed with it.
pub const CURRENT_KEY_PEM: &str = include_str!("../test-keys/current.pem");
pub const CURRENT_KID: &str = "fuzz-current";
/// Another RSA key, in no key set: what an attacker with a key of their own signs with.
pub const OTHER_KEY_PEM: &str = include_str!("../test-keys/other.pem");

/// The refresh tokens' secret, for fuzzing only (the committed corpus has
/// refresh tokens made with it).
pub const REFRESH_SECRET: &str = "fuzz-only-refresh-secret-not-a-secret-0123456789";
/// Our tokens' `iss` (`PUBLIC_BASE_URL`) and `aud` (`TOKEN_AUDIENCE`).
pub const ISSUER: &str = "https://auth.fuzz.example";
pub const AUDIENCE: &str = "token-auth-fuzz";

pub static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    let signing_keys = json!({"keys": [
        {"kid": CURRENT_KID, "state": "current", "private_key_pem": CURRENT_KEY_PEM},
    ]})
    .to_string();
    let config = Config::from_lookup(|name| match name {
        "SIGNING_KEYS" => Some(signing_keys.clone()),
        "REFRESH_TOKEN_SECRET" => Some(REFRESH_SECRET.into()),
        "PUBLIC_BASE_URL" => Some(ISSUER.into()),
        "TOKEN_AUDIENCE" => Some(AUDIENCE.into()),
        "USERS_TABLE" | "REVOKED_TOKENS_TABLE" | "OUTBOX_TABLE" => Some("fuzz".into()),
        _ => None,
    })
    .expect("the fuzz configuration is valid");
    assert_eq!(config.public_base_url.as_deref(), Some(ISSUER));
    assert_eq!(config.token_audience, AUDIENCE);
    config
});

/// The service's tokens, checked once to issue what verifies and what
/// [`check_accepted_token`] passes: an oracle that refused our own tokens
/// would make every "accepted" branch dead code.
pub static TOKENS: LazyLock<Tokens> = LazyLock::new(|| {
    let tokens = Tokens::new(
        CONFIG.signing_keys.clone(),
        &CONFIG.token_audience,
        CONFIG.access_token_ttl_seconds,
    );
    let now = auth::now();
    let (token, claims) = tokens
        .issue(
            "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e",
            "AAAAAAAAAAAAAAAAAAAAAA",
            &auth::roles::Roles::default(),
            &auth::store::SignIn::password(now),
            ISSUER,
            now,
        )
        .expect("the fuzz key signs");
    assert_eq!(tokens.verify(&token, ISSUER, now).as_ref(), Ok(&claims));
    check_accepted_token(&token, &claims, now);
    tokens
});

pub static REFRESH_KEYS: LazyLock<RefreshKeys> =
    LazyLock::new(|| RefreshKeys::new(&CONFIG.refresh_token_secret));

/// The current key's pair, read from the PEM by aws-lc-rs itself (not through
/// `KeySet`), and checked to be the key the set publishes.
pub static CURRENT_KEY: LazyLock<KeyPair> = LazyLock::new(|| {
    let pair = key_pair(CURRENT_KEY_PEM);
    let keys: &KeySet = &CONFIG.signing_keys;
    let jwk = &keys.current().jwk;
    assert_eq!(keys.current().kid, CURRENT_KID);
    let public = pair.public_key();
    assert_eq!(
        jwk["n"],
        URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        "the key set's current key is not fuzz/test-keys/current.pem"
    );
    assert_eq!(
        jwk["e"],
        URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero())
    );
    pair
});

pub static OTHER_KEY: LazyLock<KeyPair> = LazyLock::new(|| key_pair(OTHER_KEY_PEM));

/// The current key's public half (RFC 8017 `RSAPublicKey` DER), for verifying.
static CURRENT_PUBLIC: LazyLock<UnparsedPublicKey<Vec<u8>>> = LazyLock::new(|| {
    UnparsedPublicKey::new(
        &RSA_PKCS1_2048_8192_SHA256,
        CURRENT_KEY.public_key().as_ref().to_vec(),
    )
});

/// The current key's public half as a SPKI PEM file, as `openssl pkey -pubout`
/// writes it.
pub static CURRENT_PUBLIC_PEM: LazyLock<String> = LazyLock::new(|| {
    use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
    let der: PublicKeyX509Der = CURRENT_KEY.public_key().as_der().expect("a public key");
    let base64 = STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = base64
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    )
});

fn key_pair(pem: &str) -> KeyPair {
    let base64: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(base64).expect("a PEM file");
    KeyPair::from_pkcs8(&der).expect("an RSA PKCS#8 key")
}

/// The RS256 signature (RSASSA-PKCS1-v1_5 with SHA-256, deterministic) of
/// `signing_input` by `key`, raw bytes.
pub fn rs256_sign(key: &KeyPair, signing_input: &[u8]) -> Vec<u8> {
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signing_input,
        &mut signature,
    )
    .expect("RSA signing works");
    signature
}

/// The URL-safe, unpadded RS256 signature of `signing_input` by the current key.
pub fn rs256(signing_input: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(rs256_sign(&CURRENT_KEY, signing_input))
}

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

/// Panics unless a token that `Tokens::verify` accepted at `now` is one we
/// could have issued: three segments, an RS256 header naming a listed key and
/// no critical extension, exactly a valid signature by the current key, our
/// issuer and audience, and claims within their bounds.
pub fn check_accepted_token(token: &str, claims: &Claims, now: u64) {
    let segments: Vec<&str> = token.split('.').collect();
    assert_eq!(segments.len(), 3, "accepted a token without 3 segments");
    let signing_input = &token[..segments[0].len() + 1 + segments[1].len()];
    let signature = URL_SAFE_NO_PAD
        .decode(segments[2])
        .expect("accepted a signature that is not unpadded base64url");
    // The decoder refuses non-zero trailing bits; this refuses any other spelling.
    assert_eq!(
        URL_SAFE_NO_PAD.encode(&signature),
        segments[2],
        "accepted a signature spelled another way"
    );
    CURRENT_PUBLIC
        .verify(signing_input.as_bytes(), &signature)
        .expect("accepted a token whose signature is not the current key's");
    let header = URL_SAFE_NO_PAD
        .decode(segments[0])
        .expect("accepted a token whose header is not base64url");
    let header: serde_json::Value =
        serde_json::from_slice(&header).expect("accepted a token whose header is not JSON");
    assert_eq!(header["alg"], "RS256", "accepted another algorithm");
    let kid = header["kid"]
        .as_str()
        .expect("accepted a token without a kid");
    assert!(
        CONFIG.signing_keys.get(kid).is_some(),
        "accepted a token naming an unlisted key"
    );
    assert_eq!(kid, CURRENT_KID, "accepted a token naming another key");
    assert!(
        header.get("crit").is_none(),
        "accepted a critical extension"
    );
    assert!(
        auth::ids::is_user_id(&claims.sub),
        "accepted a sub of another shape"
    );
    assert!(
        auth::ids::is_random_id(&claims.sid),
        "accepted a sid of another shape"
    );
    assert!(
        auth::ids::is_random_id(&claims.jti),
        "accepted a jti of another shape"
    );
    assert!(claims.exp > now, "accepted an expired token");
    assert!(claims.iat <= now, "accepted a token issued in the future");
    assert_eq!(claims.iss, ISSUER, "accepted another issuer");
    assert_eq!(claims.aud, AUDIENCE, "accepted another audience");
}
