//! Refresh tokens: opaque to clients, `<user id>:<session id>:<secret>`.
//!
//! Only a SHA-256 of the secret is stored, with the session. Each refresh
//! replaces the secret by its *successor*, an HMAC of the old secret under a
//! key derived from the signing secret: so a client that retries a refresh
//! whose answer it lost can be handed the very same successor again, without
//! the successor ever being stored.

use crate::config::Secret;
use crate::error::ApiError;
use crate::token::random_token;
use aws_lc_rs::{digest, hmac};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// 32 random bytes: 256 bits, far past guessing.
const SECRET_BYTES: usize = 32;
/// A refresh token we issue is under 150 bytes; anything much longer is not ours.
const MAX_REFRESH_TOKEN_BYTES: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub user_id: String,
    pub session_id: String,
    secret: String,
}

impl RefreshToken {
    /// A fresh token for a new session.
    pub fn new(user_id: &str, session_id: &str) -> Result<Self, ApiError> {
        Ok(Self {
            user_id: user_id.to_owned(),
            session_id: session_id.to_owned(),
            secret: random_token(SECRET_BYTES)?,
        })
    }

    /// Reads a token a client sent; `None` for anything not of our shape.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.len() > MAX_REFRESH_TOKEN_BYTES {
            return None;
        }
        let mut parts = raw.split(':');
        let (user_id, session_id, secret) = (parts.next()?, parts.next()?, parts.next()?);
        let well_formed = |part: &str| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if parts.next().is_some() || ![user_id, session_id, secret].into_iter().all(well_formed) {
            return None;
        }
        Some(Self {
            user_id: user_id.to_owned(),
            session_id: session_id.to_owned(),
            secret: secret.to_owned(),
        })
    }

    pub fn encode(&self) -> String {
        format!("{}:{}:{}", self.user_id, self.session_id, self.secret)
    }

    /// What the store keeps: the SHA-256 of the secret, never the secret.
    pub fn hash(&self) -> String {
        URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, self.secret.as_bytes()))
    }
}

/// Computes successors; holds a key of its own, derived from the signing
/// secret, so successor values are useless as signatures and the reverse.
pub struct Successors {
    key: hmac::Key,
}

impl Successors {
    pub fn new(secret: &Secret) -> Self {
        let master = hmac::Key::new(hmac::HMAC_SHA256, secret.expose());
        let derived = hmac::sign(&master, b"token-auth refresh successor v1");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    pub fn of(&self, token: &RefreshToken) -> RefreshToken {
        let tag = hmac::sign(&self.key, token.secret.as_bytes());
        RefreshToken {
            user_id: token.user_id.clone(),
            session_id: token.session_id.clone(),
            secret: URL_SAFE_NO_PAD.encode(tag.as_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn successors(secret: &str) -> Successors {
        let config = crate::Config::from_lookup(|name| match name {
            "JWT_SECRET" => Some(secret.into()),
            "USERS_TABLE" | "REVOKED_TOKENS_TABLE" => Some("t".into()),
            _ => None,
        })
        .unwrap();
        Successors::new(&config.jwt_secret)
    }

    #[test]
    fn a_token_survives_encoding_and_parsing() {
        let token = RefreshToken::new("user-1", "session-1").unwrap();
        assert_eq!(RefreshToken::parse(&token.encode()), Some(token.clone()));
        assert!(token.encode().len() < 150);
    }

    #[test]
    fn secrets_are_random_and_only_their_hash_is_stable() {
        let a = RefreshToken::new("u", "s").unwrap();
        let b = RefreshToken::new("u", "s").unwrap();
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.hash(), a.clone().hash());
        assert_ne!(a.hash(), b.hash());
        assert!(!a.hash().contains(&a.secret));
    }

    #[test]
    fn successors_are_deterministic_per_key_and_differ_from_their_parent() {
        let token = RefreshToken::new("u", "s").unwrap();
        let one = successors("0123456789abcdef0123456789abcdef");
        let other = successors("fedcba9876543210fedcba9876543210");
        assert_eq!(one.of(&token), one.of(&token));
        assert_ne!(one.of(&token).secret, token.secret);
        assert_ne!(one.of(&token), other.of(&token));
        assert_eq!(one.of(&token).session_id, "s");
    }

    #[test]
    fn foreign_shapes_do_not_parse() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln";
        for raw in [
            "",
            "a:b",
            "a:b:c:d",
            "a::c",
            "a:b:c d",
            jwt,
            &"a:b:".repeat(200),
        ] {
            assert_eq!(RefreshToken::parse(raw), None, "{raw}");
        }
    }
}
