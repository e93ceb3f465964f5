//! Checks this service's access tokens from another Rust service.
//!
//! A [`Verifier`] fetches the issuer's `/.well-known/jwks.json`, keeps it as
//! long as its `Cache-Control: max-age` says, and checks a token the way the
//! service itself does: RS256 only (`none`, HMAC and every other `alg`
//! refused before any key is touched), no `crit` header, a `kid` naming a
//! published key, the signature, then `iss`, `aud`, `exp` (refused from the
//! second it names), `nbf` when present and `iat` not in the future, with no
//! leeway unless one is configured. A token naming a key the cache does not
//! hold triggers one refetch at most per [`VerifierBuilder::refetch_interval`]
//! (concurrent callers share it), so a key published by `keys rotate` is
//! picked up without a restart, and a flood of made-up `kid`s costs the
//! issuer one request per interval.
//!
//! What a signature cannot tell: whether the user logged out, the session
//! was revoked, or an admin disabled the account since the token was issued.
//! Without the `revocation` feature such a token passes until its `exp`
//! (minutes: the service's `ACCESS_TOKEN_TTL_SECONDS`). With it, and a
//! [`RevocationCheck`] given to the builder, every verify also makes the
//! authorizer's one DynamoDB read (profile, session and revoked-token entry
//! in one `BatchGetItem`) and refuses such tokens, failing closed when the
//! read fails.
//!
//! ```no_run
//! # async fn run(token: &str) -> Result<(), token_auth_verify::VerifyError> {
//! use token_auth_verify::Verifier;
//! let verifier = Verifier::builder("https://auth.example.com").audience("token-auth").build()?;
//! let claims = verifier.verify(token).await?;
//! println!("user {} (session {}), roles {:?}", claims.sub, claims.sid, claims.roles);
//! # Ok(()) }
//! ```

mod claims;
mod error;
mod header;
mod jwks;
mod verifier;

#[cfg(feature = "axum")]
pub mod extract;
#[cfg(feature = "revocation")]
mod revocation;

pub use claims::Claims;
pub use error::VerifyError;
#[cfg(feature = "axum")]
pub use extract::VerifiedClaims;
#[cfg(feature = "revocation")]
pub use revocation::RevocationCheck;
pub use verifier::{
    DEFAULT_AUDIENCE, DEFAULT_MAX_AGE, DEFAULT_REFETCH_INTERVAL, JWKS_PATH, Verifier,
    VerifierBuilder,
};

/// Seconds since the epoch.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[cfg(test)]
mod tests;
