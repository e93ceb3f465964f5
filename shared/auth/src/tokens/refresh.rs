//! Refresh tokens: opaque to clients, `<user id>:<session id>:<secret>:<tag>`.
//!
//! - Only a SHA-256 of the secret is stored, with the session.
//! - The tag is an HMAC of the rest, so a token we did not issue is refused
//!   before any storage work: user and session ids are no secret (every access
//!   token carries them), and without the tag anyone who saw one could forge a
//!   "reused" refresh token and end that session.
//! - Each refresh replaces the secret by its *successor*, an HMAC of the old
//!   secret: a client that retries a refresh whose answer it lost can be handed
//!   the very same successor again, without the successor ever being stored.

use crate::config::Secret;
use crate::http::error::ApiError;
use crate::ids::{is_random_id, is_user_id, random_base64};
use aws_lc_rs::{digest, hmac};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// 32 random bytes: 256 bits, far past guessing.
const SECRET_BYTES: usize = 32;
/// A refresh token we issue is under 200 bytes; anything much longer is not ours.
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
            secret: random_base64(SECRET_BYTES)?,
        })
    }

    /// What the store keeps: the SHA-256 of the secret, never the secret.
    pub fn hash(&self) -> String {
        URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, self.secret.as_bytes()))
    }

    fn body(&self) -> String {
        format!("{}:{}:{}", self.user_id, self.session_id, self.secret)
    }
}

/// The keys refresh tokens need, both derived from `REFRESH_TOKEN_SECRET`.
pub struct RefreshKeys {
    successor: hmac::Key,
    tag: hmac::Key,
}

impl RefreshKeys {
    pub fn new(secret: &Secret) -> Self {
        let master = hmac::Key::new(hmac::HMAC_SHA256, secret.expose());
        let derive = |purpose: &[u8]| {
            hmac::Key::new(hmac::HMAC_SHA256, hmac::sign(&master, purpose).as_ref())
        };
        Self {
            successor: derive(b"token-auth refresh successor v1"),
            tag: derive(b"token-auth refresh tag v1"),
        }
    }

    /// The token that replaces `token` when it is rotated.
    pub fn successor_of(&self, token: &RefreshToken) -> RefreshToken {
        let next = hmac::sign(&self.successor, token.secret.as_bytes());
        RefreshToken {
            user_id: token.user_id.clone(),
            session_id: token.session_id.clone(),
            secret: URL_SAFE_NO_PAD.encode(next.as_ref()),
        }
    }

    /// The token as handed to the client.
    pub fn encode(&self, token: &RefreshToken) -> String {
        let body = token.body();
        let tag = hmac::sign(&self.tag, body.as_bytes());
        format!("{body}:{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// Reads a token a client sent; `None` for anything we did not issue.
    pub fn parse(&self, raw: &str) -> Option<RefreshToken> {
        if raw.len() > MAX_REFRESH_TOKEN_BYTES {
            return None;
        }
        let (body, tag) = raw.rsplit_once(':')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        hmac::verify(&self.tag, body.as_bytes(), &tag).ok()?;
        let mut parts = body.split(':');
        let (user_id, session_id, secret) = (parts.next()?, parts.next()?, parts.next()?);
        // The tag proves we issued it; the shapes keep a token issued under
        // a leaked key from aiming odd keys at storage all the same.
        if parts.next().is_some() || !is_user_id(user_id) || !is_random_id(session_id) {
            return None;
        }
        Some(RefreshToken {
            user_id: user_id.to_owned(),
            session_id: session_id.to_owned(),
            secret: secret.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> RefreshKeys {
        let config = crate::Config::from_lookup(|name| match name {
            "REFRESH_TOKEN_SECRET" => Some(secret.into()),
            "SIGNING_KEYS" => Some(crate::tokens::keys::TEST_KEY_SET.into()),
            "USERS_TABLE" | "REVOKED_TOKENS_TABLE" | "OUTBOX_TABLE" => Some("t".into()),
            _ => None,
        })
        .unwrap();
        RefreshKeys::new(&config.refresh_token_secret)
    }

    const ONE: &str = "0123456789abcdef0123456789abcdef";
    const OTHER: &str = "fedcba9876543210fedcba9876543210";

    #[test]
    fn a_token_survives_encoding_and_parsing() {
        let keys = keys(ONE);
        let user = crate::ids::new_user_id();
        let token = RefreshToken::new(&user, &crate::ids::new_random_id().unwrap()).unwrap();
        let encoded = keys.encode(&token);
        assert_eq!(keys.parse(&encoded), Some(token));
        assert!(encoded.len() < 200);
        // Signed with the right key, but not with ids of our shape.
        let odd = RefreshToken::new(&user, "session-1").unwrap();
        assert_eq!(keys.parse(&keys.encode(&odd)), None);
    }

    #[test]
    fn secrets_are_random_and_only_their_hash_is_stored() {
        let a = RefreshToken::new("u", "s").unwrap();
        let b = RefreshToken::new("u", "s").unwrap();
        assert_ne!(a.secret, b.secret);
        assert_ne!(a.hash(), b.hash());
        assert!(!a.hash().contains(&a.secret));
    }

    #[test]
    fn successors_are_deterministic_per_key_and_differ_from_their_parent() {
        let token = RefreshToken::new("u", "s").unwrap();
        let (one, other) = (keys(ONE), keys(OTHER));
        assert_eq!(one.successor_of(&token), one.successor_of(&token));
        assert_ne!(one.successor_of(&token).secret, token.secret);
        assert_ne!(one.successor_of(&token), other.successor_of(&token));
        assert_eq!(one.successor_of(&token).session_id, "s");
    }

    #[test]
    fn forged_altered_and_foreign_tokens_do_not_parse() {
        let keys = keys(ONE);
        let token = RefreshToken::new("u", "s").unwrap();
        let genuine = keys.encode(&token);
        let (body, tag) = genuine.rsplit_once(':').unwrap();
        let forged_secret = format!("u:s:{}:{tag}", "A".repeat(43));
        let other_key = self::keys(OTHER).encode(&token);
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln";
        for raw in [
            "",
            "a:b:c",
            body,
            &forged_secret,
            &other_key,
            jwt,
            &format!("{genuine}x"),
            &"a:b:".repeat(200),
        ] {
            assert_eq!(keys.parse(raw), None, "{raw}");
        }
    }
}
