//! The ids we issue, each with one fixed shape. A token whose ids have any
//! other shape is not ours, and is refused before it reaches storage: there an
//! empty or oversized key is a DynamoDB error (a 503), not a "not found".

use crate::http::error::ApiError;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// 16 random bytes (128 bits) name a session or a token: unguessable, and
/// never colliding in practice.
const RANDOM_ID_BYTES: usize = 16;
/// Their URL-safe base64, unpadded.
const RANDOM_ID_CHARS: usize = 22;

/// A user id: a random (v4) UUID in its canonical lower-case form.
pub fn new_user_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn is_user_id(id: &str) -> bool {
    id.len() == uuid::fmt::Hyphenated::LENGTH
        && uuid::Uuid::try_parse(id).is_ok_and(|uuid| uuid.hyphenated().to_string() == id)
}

/// A session id or a token id (`jti`).
pub fn new_random_id() -> Result<String, ApiError> {
    random_base64(RANDOM_ID_BYTES)
}

pub fn is_random_id(id: &str) -> bool {
    // The decoder refuses non-zero trailing bits, so each id has one spelling.
    id.len() == RANDOM_ID_CHARS
        && URL_SAFE_NO_PAD
            .decode(id)
            .is_ok_and(|bytes| bytes.len() == RANDOM_ID_BYTES)
}

/// `len` random bytes from the OS generator, URL-safe base64.
pub fn random_base64(len: usize) -> Result<String, ApiError> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::Unavailable(format!("no randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_ids_have_their_shape() {
        for _ in 0..100 {
            assert!(is_user_id(&new_user_id()));
            assert!(is_random_id(&new_random_id().unwrap()));
        }
    }

    #[test]
    fn anything_else_is_not_an_id_of_ours() {
        let user = new_user_id();
        let random = new_random_id().unwrap();
        for not_user in [
            String::new(),
            user.to_uppercase(),
            user.replace('-', ""),
            format!("{{{user}}}"),
            format!("{user} "),
            "x".repeat(2048),
            random.clone(),
        ] {
            assert!(!is_user_id(&not_user), "{not_user:?}");
        }
        let mut last_bits = random.clone();
        last_bits.pop();
        last_bits.push('B'); // 22 chars of which the last carries 4 spare bits
        for not_random in [
            String::new(),
            format!("{random}A"),
            random[..21].to_owned(),
            random.replace(|c: char| c.is_ascii_alphanumeric(), "+"),
            "A".repeat(2048),
            user,
        ] {
            assert!(!is_random_id(&not_random), "{not_random:?}");
        }
        assert_eq!(
            is_random_id(&last_bits),
            last_bits == random,
            "non-canonical trailing bits"
        );
    }
}
