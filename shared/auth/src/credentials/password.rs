//! bcrypt, run off the async threads: a cost-12 hash is ~0.2 s of CPU.

use crate::http::error::ApiError;

/// Hashes a password already checked by [`crate::credentials::check_password`].
/// Within 72 bytes `bcrypt::hash` loses nothing; its `non_truncating_` twin
/// would refuse exactly 72 bytes (it counts the terminating NUL).
pub async fn hash(password: &str, cost: u32) -> Result<String, ApiError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || bcrypt::hash(password, cost))
        .await
        .map_err(|e| ApiError::Unavailable(format!("hashing task failed: {e}")))?
        .map_err(|e| ApiError::Unavailable(format!("bcrypt failed: {e}")))
}

/// Checks `password` against `stored`, or against a dummy hash of the same cost
/// when there is no account, so both cases take the same time.
pub async fn verify(password: &str, stored: Option<&str>, cost: u32) -> bool {
    let password = password.to_owned();
    let (hash, is_real) = match stored {
        Some(hash) => (hash.to_owned(), true),
        None => (dummy_hash(cost), false),
    };
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .unwrap_or(false)
        && is_real
}

/// A well-formed bcrypt hash at `cost` that no password matches in practice.
/// Built from a constant rather than hashed at start-up, since hashing would add
/// the whole bcrypt cost to every cold start; the cost is part of the string,
/// so verifying against it does the same work as against a real hash.
fn dummy_hash(cost: u32) -> String {
    // Salt and digest of a throwaway password; any valid 53 characters serve.
    const SALT_AND_DIGEST: &str = "zb4qJ2nqa0Uq4l8S2rA7uuXN1g6oY3n3BDXm0i0cQF0Eo0WZ4uBfe";
    format!("$2b${cost:02}${SALT_AND_DIGEST}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let stored = hash("correct horse", 4).await.unwrap();
        assert!(verify("correct horse", Some(&stored), 4).await);
        assert!(!verify("correct horsf", Some(&stored), 4).await);
    }

    #[tokio::test]
    async fn passwords_differing_only_at_byte_72_do_not_match() {
        let a = format!("{}a", "x".repeat(71));
        let b = format!("{}b", "x".repeat(71));
        let stored = hash(&a, 4).await.unwrap();
        assert!(verify(&a, Some(&stored), 4).await);
        assert!(!verify(&b, Some(&stored), 4).await);
    }

    #[test]
    fn the_dummy_hash_is_a_valid_hash_at_the_requested_cost() {
        for cost in [4, 12, 31] {
            let parts: bcrypt::HashParts = dummy_hash(cost).parse().unwrap();
            assert_eq!(parts.get_cost(), cost);
        }
        // Ok(false), not Err: an Err would return before doing bcrypt's work.
        assert!(matches!(
            bcrypt::verify("anything-at-all", &dummy_hash(4)),
            Ok(false)
        ));
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        assert!(!verify("anything-at-all", None, 4).await);
    }
}
