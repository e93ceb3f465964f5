//! Recovery codes: the way back in after losing the phone that holds the
//! TOTP secret. Ten at a time, shown once.
//!
//! - 12 characters from a 32-letter alphabet each: 60 bits, drawn from the OS
//!   generator without bias (a byte's low five bits), far past guessing
//!   within the throttle; shown as `xxxx-xxxx-xxxx`, read back ignoring case,
//!   dashes and spaces.
//! - Stored only as keyed hashes ([`RecoveryKey`], derived from
//!   `REFRESH_TOKEN_SECRET` like the mailed codes' key), bound to the
//!   account: a dump of the table reverses none of them.
//! - Single use: the store deletes a code's hash from the set under a
//!   condition that it is still there, so of parallel uses one wins.

use crate::config::Secret;
use crate::http::error::ApiError;
use aws_lc_rs::hmac;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// Codes in a set.
pub const CODES_PER_SET: usize = 10;
/// Letters in a code (5 bits each).
const LETTERS: usize = 12;
// 12 letters of 32: 60 bits a code, at least the 50 asked for.
const _: () = assert!(LETTERS * 5 >= 50);
/// No `i`, `l`, `o`, `u`: nothing to misread as `1`, `0` or `v`.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A new set of codes, as shown to the user.
pub fn new_set() -> Result<Vec<String>, ApiError> {
    let mut bytes = [0u8; CODES_PER_SET * LETTERS];
    getrandom::fill(&mut bytes)
        .map_err(|_| ApiError::Unavailable("no randomness for recovery codes".into()))?;
    Ok(bytes
        .chunks(LETTERS)
        .map(|chunk| {
            let letters: Vec<char> = chunk
                .iter()
                .map(|byte| char::from(ALPHABET[usize::from(byte & 31)]))
                .collect();
            letters
                .chunks(4)
                .map(|group| group.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect())
}

/// A code as typed, in the form it was issued in without dashes: `None` if
/// it cannot be one of ours.
pub fn normalized(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == LETTERS && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// The key recovery codes are hashed with.
pub struct RecoveryKey(hmac::Key);

impl RecoveryKey {
    pub fn new(secret: &Secret) -> Self {
        let master = hmac::Key::new(hmac::HMAC_SHA256, secret.expose());
        let derived = hmac::sign(&master, b"token-auth recovery code v1");
        Self(hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()))
    }

    /// What the store keeps of `user_id`'s code `code` (either form: as
    /// shown or as typed).
    pub fn hash(&self, user_id: &str, code: &str) -> Option<String> {
        let code = normalized(code)?;
        let tag = hmac::sign(&self.0, format!("{user_id}\0{code}").as_bytes());
        Some(URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_codes_of_sixty_bits_each_all_different() {
        let set = new_set().unwrap();
        assert_eq!(set.len(), CODES_PER_SET);
        for code in &set {
            assert_eq!(code.len(), 14, "{code}");
            assert_eq!(normalized(code).unwrap().len(), LETTERS);
        }
        let distinct: std::collections::HashSet<_> = set.iter().collect();
        assert_eq!(distinct.len(), CODES_PER_SET);
    }

    #[test]
    fn a_code_hashes_the_same_however_typed_and_differently_per_account() {
        let key = RecoveryKey::new(&Secret::new(b"a service secret".to_vec()));
        let code = &new_set().unwrap()[0];
        let typed = format!(" {} ", code.to_uppercase().replace('-', " "));
        assert_eq!(key.hash("u1", code), key.hash("u1", &typed));
        assert_ne!(key.hash("u1", code), key.hash("u2", code));
        assert_eq!(key.hash("u1", "not a code"), None);
        assert_eq!(key.hash("u1", "iiii-iiii-iiii"), None);
    }
}
