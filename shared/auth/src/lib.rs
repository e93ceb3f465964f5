//! The auth service's one shared crate: every Lambda in `functions/` is a
//! one-line binary over [`runtime`], and everything they have in common lives
//! here, one folder per concern (the map mirrors the folders):
//! - [`endpoint`]: one file per handler, each starting with its
//!   [`endpoint::Description`]; `mod.rs` holds the one table of endpoints, from
//!   which [`Endpoint`] and its lists are derived; the shared steps (the token
//!   check, sessions and tokens, password attempts, mailed codes, admin
//!   checks, erasure) and the Lambda authorizer sit beside the handlers.
//! - [`http`]: reading requests, the JSON envelope and public documents, and
//!   the one error type with the one place it becomes an HTTP answer.
//! - [`tokens`]: access tokens (RS256 JWTs), the signing key set (JWKS,
//!   rotation), refresh tokens.
//! - [`credentials`]: emails, passwords and bcrypt, one-time codes.
//! - [`mail`]: the outbox item, the message, and the `mailer` function that
//!   sends it through Amazon SES.
//! - [`store`]: the storage trait and its records, what a call may touch
//!   ([`store::access`]), the DynamoDB store and an in-memory one for tests.
//! - [`throttle`]: the brute-force counters and their waits (used by the
//!   store and the endpoints; it uses neither).
//! - [`config`]: settings read once per cold start, and the Secrets Manager
//!   secret deployed functions read them from.
//! - [`runtime`]: the Lambda glue, [`lambda_main!`] and logging.
//! - [`metrics`]: counts of what happened, as CloudWatch embedded-metric lines.
//! - [`roles`]: a user's roles, `admin` among them; [`metadata`]: the JSON a
//!   team keeps beside an account.
//! - [`hook`]: the token hook, custom claims from the team's own code,
//!   signed per Standard Webhooks.
//! - [`ids`]: the one shape of each id we issue.
//! - [`webhooks`]: what happened to an account, told to the team's other
//!   systems: events written with each change, signed deliveries.
//! - [`oidc`]: sign-in with another provider (OpenID Connect, PKCE): the
//!   settings, the provider client and the ID token's checks.

pub mod config;
pub mod credentials;
pub mod endpoint;
pub mod hook;
pub mod http;
pub mod ids;
pub mod mail;
pub mod metadata;
pub mod metrics;
pub mod oidc;
pub mod roles;
pub mod runtime;
pub mod store;
pub mod throttle;
pub mod tokens;
pub mod webhooks;

pub use config::Config;
pub use endpoint::{App, Endpoint};
pub use http::error::ApiError;

/// Seconds since the Unix epoch: the unit of JWT `iat`/`exp` and of DynamoDB TTLs.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Milliseconds since the Unix epoch: the brute-force waits' clock.
pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

/// An epoch time as RFC 3339 in UTC, to the second (`2026-11-30T16:05:00Z`):
/// how the API shows every date.
pub fn rfc3339(epoch_seconds: u64) -> String {
    i64::try_from(epoch_seconds)
        .ok()
        .and_then(|seconds| time::OffsetDateTime::from_unix_timestamp(seconds).ok())
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
