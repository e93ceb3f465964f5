//! The auth service's one shared crate: every Lambda in `functions/` is a thin
//! `main.rs` over [`lambda::serve`], and everything they have in common lives here.
//!
//! Layout, from the outside in:
//! - [`endpoint`]: `mod.rs` routes (the [`Endpoint`] table, [`App`], the
//!   invocation's deadline); one file per handler, named after its endpoint
//!   (`login.rs`, `revoke_session.rs`, `jwks.rs`, …); `authenticate.rs` is the
//!   token check they share with the [`authorizer`], the Lambda authorizer
//!   that puts other APIs' routes behind that same check.
//! - [`error`]: the one error type, and the one place it becomes an HTTP
//!   answer (logging is the caller's).
//! - [`request`] / [`response`]: reading bodies and bearer tokens; the JSON
//!   envelope, and the public documents (JWKS, discovery).
//! - [`credentials`], [`password`], [`token`], [`refresh`], [`codes`], [`ids`]:
//!   emails and passwords, bcrypt, access tokens (RS256 JWTs), refresh
//!   tokens, the mailed one-time codes, and the one shape of each id we issue.
//! - [`keys`] and [`secrets`]: the signing key set, and reading it (with the
//!   refresh secret) from Secrets Manager when deployed.
//! - [`store`]: the storage trait; `store/dynamo/` (client, key schema and
//!   codecs, the retry loop, the operations) and an in-memory store for unit
//!   tests.
//! - [`throttle`]: brute-force limits on password checks (`attempt.rs`: the
//!   claim before bcrypt and its settlement), on registrations and on code
//!   mails.
//! - [`outbox`], [`mail`] and [`mailer`]: the mails owed (written with the
//!   codes they carry), what they say, and the `mailer` function that sends
//!   them from the outbox table's stream through Amazon SES.
//! - [`account_page`]: `GET /account`, the page for people, built into the
//!   binary.
//! - [`config`] and [`lambda`]: settings read once per cold start, and the
//!   runtime glue.

pub mod config;
pub mod credentials;
pub mod endpoint;
pub mod http;
pub mod ids;
pub mod mail;
pub mod runtime;
pub mod store;
pub mod throttle;
pub mod tokens;

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
