//! The `mfa_token` of a login waiting for its second factor: opaque to the
//! client, `<user id>:<secret>`, 256 random bits of secret of which only a
//! SHA-256 is stored (with the challenge, five minutes), like a refresh
//! token's.

use crate::http::error::ApiError;
use crate::ids::{is_user_id, random_base64};
use aws_lc_rs::digest;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

const SECRET_BYTES: usize = 32;
/// Far longer than any token we issue: anything longer is not ours.
const MAX_BYTES: usize = 256;
/// How long a login waits for its second factor.
pub const LIFETIME_SECONDS: u64 = 5 * 60;

pub struct MfaToken {
    pub user_id: String,
    secret: String,
}

impl MfaToken {
    pub fn new(user_id: &str) -> Result<Self, ApiError> {
        Ok(Self {
            user_id: user_id.to_owned(),
            secret: random_base64(SECRET_BYTES)?,
        })
    }

    /// A token as a client sent it back; `None` if it cannot be ours.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() > MAX_BYTES {
            return None;
        }
        let (user_id, secret) = text.split_once(':')?;
        let secret_ok = URL_SAFE_NO_PAD
            .decode(secret)
            .is_ok_and(|bytes| bytes.len() == SECRET_BYTES);
        (is_user_id(user_id) && secret_ok).then(|| Self {
            user_id: user_id.to_owned(),
            secret: secret.to_owned(),
        })
    }

    /// What the store keeps: the SHA-256 of the secret.
    pub fn hash(&self) -> String {
        URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, self.secret.as_bytes()))
    }

    /// The token as handed to the client.
    pub fn encode(&self) -> String {
        format!("{}:{}", self.user_id, self.secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_parses_back_and_nothing_else_does() {
        let token = MfaToken::new(&crate::ids::new_user_id()).unwrap();
        let parsed = MfaToken::parse(&token.encode()).unwrap();
        assert_eq!(parsed.hash(), token.hash());
        assert_eq!(parsed.user_id, token.user_id);
        for bad in [
            "",
            "x:y",
            &format!("{}:short", token.user_id),
            &"a".repeat(300),
        ] {
            assert!(MfaToken::parse(bad).is_none(), "{bad}");
        }
        let no_user = token.encode().replacen(&token.user_id, "not-a-user", 1);
        assert!(MfaToken::parse(&no_user).is_none());
    }
}
