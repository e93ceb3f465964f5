//! The auth service's one shared crate: every Lambda in `functions/` is a thin
//! `main.rs` over [`lambda::serve`], and everything they have in common lives here.
//!
//! Layout, from the outside in:
//! - [`endpoint`]: the routes (method + path) and their handlers, which turn a
//!   `lambda_http::Request` into a `Response` through the domain modules below.
//! - [`error`]: the one error type, and the one place it becomes an HTTP answer.
//! - [`request`] / [`response`]: reading bodies and bearer tokens; the JSON envelope.
//! - [`credentials`], [`password`], [`token`], [`refresh`], [`ids`]: the rules
//!   for emails and passwords, bcrypt, access tokens (JWTs), refresh tokens, and
//!   the one shape of each id we issue.
//! - [`store`]: the storage trait, with a DynamoDB adapter and an in-memory one
//!   for unit tests.
//! - [`throttle`]: brute-force delays for password logins.
//! - [`config`] and [`lambda`]: settings read once per cold start, and the runtime glue.

pub mod authorizer;
pub mod config;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod ids;
pub mod keys;
pub mod lambda;
pub mod password;
pub mod refresh;
pub mod request;
pub mod response;
pub mod secrets;
pub mod store;
pub mod throttle;
pub mod token;

pub use config::Config;
pub use endpoint::{App, Endpoint};
pub use error::ApiError;

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
