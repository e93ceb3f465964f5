//! One-time codes, mailed to prove control of an address: to confirm it
//! (24 hours) or to reset a forgotten password (15 minutes).
//!
//! - 8 digits from the OS generator, drawn without modulo bias.
//! - Stored only as a keyed hash ([`CodeKey`], derived from
//!   `REFRESH_TOKEN_SECRET`): a plain hash of 8 digits is reversed offline in
//!   a second from a table dump; the keyed one is not, without the secret.
//!   The hash binds the code to its purpose and address, so a verification
//!   code is no reset code.
//! - Single use: redeeming deletes the stored code under a condition on its
//!   hash and tries, so of two racing uses one wins.
//! - [`MAX_WRONG_TRIES`] wrong guesses kill it; a new code replaces the old one.

use crate::config::Secret;
use crate::http::error::ApiError;
use crate::mail::outbox::MailKind;
use aws_lc_rs::hmac;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

pub const CODE_DIGITS: usize = 8;
/// Wrong guesses a code survives; at this many it is dead.
pub const MAX_WRONG_TRIES: u32 = 5;

/// How long a code of this kind lives, in seconds.
pub fn lifetime_seconds(kind: MailKind) -> u64 {
    match kind {
        MailKind::VerifyEmail => 24 * 60 * 60,
        // A change of address: as short-lived as a reset.
        MailKind::ResetPassword | MailKind::EmailChange => 15 * 60,
        _notice => crate::mail::outbox::NOTICE_LIFETIME_SECONDS,
    }
}

/// A fresh code: [`CODE_DIGITS`] uniformly random digits.
pub fn new_code() -> Result<String, ApiError> {
    const SPACE: u32 = 100_000_000;
    // The largest multiple of SPACE that fits: draws above it are redrawn, so
    // every code is equally likely.
    const LIMIT: u32 = u32::MAX - u32::MAX % SPACE;
    loop {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes)
            .map_err(|e| ApiError::Unavailable(format!("no randomness: {e}")))?;
        let draw = u32::from_le_bytes(bytes);
        if draw < LIMIT {
            return Ok(format!("{:08}", draw % SPACE));
        }
    }
}

/// Whether `code` has the shape of one we issue (the value is checked later).
pub fn is_code_shaped(code: &str) -> bool {
    code.len() == CODE_DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// The key codes are hashed under.
pub struct CodeKey(hmac::Key);

impl CodeKey {
    pub fn new(secret: &Secret) -> Self {
        let master = hmac::Key::new(hmac::HMAC_SHA256, secret.expose());
        let derived = hmac::sign(&master, b"token-auth one-time code v1");
        Self(hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()))
    }

    /// What the store keeps of `code`, issued for `kind` to `email`.
    pub fn hash(&self, kind: MailKind, email: &str, code: &str) -> String {
        let tag = hmac::sign(&self.0, message(kind, email, code).as_bytes());
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    }

    /// Whether `code` is the one whose hash is `stored`, in constant time.
    pub fn matches(&self, kind: MailKind, email: &str, code: &str, stored: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(stored) else {
            return false;
        };
        hmac::verify(&self.0, message(kind, email, code).as_bytes(), &tag).is_ok()
    }
}

fn message(kind: MailKind, email: &str, code: &str) -> String {
    // No field can contain a NUL (emails with one are refused), so this
    // spelling is unambiguous.
    format!("{}\0{email}\0{code}", kind.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CodeKey {
        CodeKey::new(&Secret::new("a-test-refresh-secret-of-at-least-32-bytes"))
    }

    #[test]
    fn codes_are_eight_digits_and_vary() {
        let codes: Vec<String> = (0..50).map(|_| new_code().unwrap()).collect();
        assert!(codes.iter().all(|code| is_code_shaped(code)));
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert!(distinct.len() > 45, "{distinct:?}");
    }

    #[test]
    fn a_code_matches_only_its_purpose_and_address() {
        let key = key();
        let stored = key.hash(MailKind::ResetPassword, "joe@example.com", "12345678");
        assert!(key.matches(
            MailKind::ResetPassword,
            "joe@example.com",
            "12345678",
            &stored
        ));
        assert!(!key.matches(
            MailKind::ResetPassword,
            "joe@example.com",
            "12345679",
            &stored
        ));
        assert!(!key.matches(
            MailKind::VerifyEmail,
            "joe@example.com",
            "12345678",
            &stored
        ));
        assert!(!key.matches(
            MailKind::ResetPassword,
            "ann@example.com",
            "12345678",
            &stored
        ));
        assert!(!key.matches(MailKind::ResetPassword, "joe@example.com", "12345678", "x"));
    }

    #[test]
    fn the_stored_hash_is_not_a_plain_hash() {
        let stored = key().hash(MailKind::VerifyEmail, "joe@example.com", "00000000");
        let other = CodeKey::new(&Secret::new("another-secret-of-at-least-32-bytes-long")).hash(
            MailKind::VerifyEmail,
            "joe@example.com",
            "00000000",
        );
        assert_ne!(stored, other);
        assert!(!stored.contains("00000000"));
    }

    #[test]
    fn shapes() {
        assert!(is_code_shaped("01234567"));
        for bad in ["1234567", "123456789", "1234567a", "", "١٢٣٤٥٦٧٨"] {
            assert!(!is_code_shaped(bad), "{bad}");
        }
    }
}
