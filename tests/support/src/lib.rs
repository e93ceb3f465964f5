//! What the API tests in `tests/` (the `api-tests` package) share: one way to
//! call the API, in-process or over HTTP, the contract's messages, direct
//! access to the service's database and secret where there is one, and a fake
//! DynamoDB for the faults DynamoDB Local cannot stage.
//!
//! - In `make test`, the app runs in-process, wired to DynamoDB Local exactly
//!   as a Lambda wires it to DynamoDB.
//! - With `API_URL` set (`make test-e2e`), every call goes over HTTP: to
//!   `cargo lambda watch`, or to a deployed stack. Against a deployment the
//!   tests that need the database or the secret ([`backstage`]) skip, saying
//!   so. `make test-e2e` runs the files marked *HTTP* below.
//!
//! Where each part of the service is tested, one binary per file in `tests/`
//! (*HTTP*: also run over HTTP by `make test-e2e`):
//!
//! - `register.rs` (HTTP): `POST /auth/register`: new accounts, a taken or
//!   look-alike email (case, spaces, NFC), invisible characters refused,
//!   racing registrations, nothing left half-written.
//! - `login.rs` (HTTP): `POST /auth/login`: a fresh token each time, one answer
//!   for a wrong password and an unknown email, passwords never truncated.
//! - `status.rs` (HTTP): `GET /auth/status` and the token check: the user
//!   shown; missing, malformed, expired and forged tokens, a deleted user's.
//! - `logout.rs` (HTTP): `POST /auth/logout` and its scopes (local, others,
//!   global), revocation entries, racing logouts.
//! - `refresh.rs` (HTTP): `POST /auth/refresh`: rotation, the reuse grace
//!   window, theft detection, forged refresh tokens and ids not of our shape.
//! - `sessions.rs` (HTTP): `GET /auth/sessions` and `DELETE
//!   /auth/sessions/{id}`: one session per device, listed (without invisible
//!   characters) and revoked; ids not of our shape not found.
//! - `password.rs` (HTTP): `POST /auth/password`: the change ends every other
//!   session and clears the failed-login counter; a wrong current password is
//!   one counted guess, never two.
//! - `passkeys.rs` (HTTP): passkeys (issue 24) with a soft authenticator:
//!   register and sign in (with and without an email), `amr`, TOTP accounts,
//!   single-use ceremonies, tampered assertions, clones, list/rename/delete,
//!   step-up, disabled and erased accounts, throttling.
//! - `email_change.rs` (HTTP): `POST /auth/email/change` and its
//!   confirmation (issue 26): the code to the new address, the notice to the
//!   old one, the switch (old address free, new one verified, other sessions
//!   ended), step-up, wrong and racing codes, an address taken meanwhile, no
//!   enumeration, the mail limits, bad bodies.
//! - `admin.rs` (HTTP): the admin endpoints (issue 15): 403 to non-admins
//!   and to a demoted admin's old token; disable, enable, sign-out and
//!   delete with their effect on the user's tokens; 250 users paged by 100;
//!   ids not of our shape; an admin's own account; `DELETE /auth/account`.
//!   Admins are made behind the service's back, so it skips against a
//!   deployment. (`tools/admin/tests/` runs the create-admin tool itself.)
//! - `throttle.rs` (HTTP): brute force: failed logins per account and per
//!   address, 429 with `Retry-After`; bursts of parallel guesses get exactly
//!   the free checks; a success past an address's limit; registrations per
//!   address.
//! - `hostile_tokens.rs` (HTTP): a table of hostile access tokens (alg none,
//!   foreign keys, key URLs, HMAC keyed with our public key, unknown or
//!   missing kids, bad claims, another issuer or audience) on status and
//!   logout; validly signed ones with ids not of our shape or a `crit` header.
//! - `hostile_bodies.rs` (HTTP): bad and hostile bodies on register and login,
//!   each with its 4xx and message.
//! - `faults.rs`: storage down, and faults through a fake DynamoDB
//!   ([`fake_dynamo`]): hangs, throttling, 500s, conflicts (transactions and
//!   single-item writes, each retried), failed writes, the Lambda deadline.
//! - `outage.rs`: DynamoDB Local stopped mid-run and started again.
//! - `round_trips.rs`: DynamoDB requests and round trips per call, counted
//!   (`cargo test -p api-tests --test round_trips -- --nocapture` prints them).
//! - `keys.rs` (HTTP): published keys, rotation, the Lambda authorizer: a
//!   token verified with nothing but the discovery URL; the rotation cycle
//!   over real calls (in-process); the authorizer over DynamoDB Local
//!   (in-process); the example route without an authorizer's context.
//! - `oidc_provider.rs`: the OpenID Connect client (`auth::oidc`, issue 28)
//!   against the local provider (`scripts/local/oidc-provider.js`): a sign-in
//!   through it; wrong or missing PKCE verifiers, nonce and audience
//!   mismatches; a provider that never answers or answers garbage.
//! - `oidc.rs` (HTTP): sign-in with another provider (issue 28) through
//!   the local provider: the whole flow with the redirects followed by hand,
//!   `amr` `fed`; the linking rules (new, verified on both sides, refused);
//!   the TOTP challenge; replayed and foreign states; the app's PKCE
//!   verifier and single-use codes; `redirect_to` variations; link, list,
//!   unlink (409 for the last way in); disabled and erased accounts. Skips
//!   without `OIDC_PROVIDERS` (`use_oidc_provider` sets it).
//! - `routes.rs`: template.yaml, the `cargo lambda watch` router, openapi.yaml
//!   and `auth::Endpoint` declare the same routes; exactly the routes behind
//!   the authorizer carry it.
//! - `mail.rs`: the mail pipeline over its real parts (the stream pump, the
//!   mailer under cargo lambda watch, the SES emulator): a mail written while
//!   SES is down arrives once it is back; a mail that keeps failing lands in
//!   the dead-letter file. Needs `make test-e2e`'s stack; skips elsewhere.
//! - `migrate.rs`: `make migrate`: a table of every earlier item format works
//!   before and after a migration stopped halfway and run again, each item
//!   upgraded once.
//! - `second_factor.rs` (HTTP): TOTP (issue 23): enrolment behind the
//!   password, confirmation by a first code (recovery codes, `amr`, other
//!   sessions ended), its state, parallel confirmations, the secret never
//!   stored in clear.
//! - `verify.rs` (HTTP): `shared/verify` (the `token-auth-verify` crate other
//!   services use, issue 27) against the service's JWKS: a fresh token
//!   passes; alg none, HS256 keyed with the public key, a wrong `aud` or
//!   `iss` fail; a logged-out token fails with the revocation check and
//!   passes without; an unknown `kid` costs one refetch; the next key's
//!   tokens pass from the cache; a rotation cycle followed (in-process).
//! - `iam.rs`: each function's DynamoDB permissions in template.yaml against
//!   a table in the test (actions, tables, key prefixes), and every request
//!   of a walk through the endpoints and the authorizer against them
//!   ([`traffic`]); the secret read by exactly the functions that sign or
//!   verify.
//!
//! This crate: [`app`] (the app under test), [`calls`] (requests, answers,
//! one helper per endpoint), [`messages`] (the contract's messages),
//! [`tokens`] (reading and forging tokens), [`backstage`] (the service's own
//! database and signing keys), [`stored`] (items as the service stores them, from
//! its key schema), [`mailbox`] (the mails sent or owed, and their codes), [`fake_dynamo`], [`traffic`] (the requests the app sends
//! DynamoDB, seen on its client).

pub mod app;
pub mod backstage;
pub mod calls;
pub mod fake_dynamo;
pub mod mailbox;
pub mod messages;
mod secrets;
pub mod soft_passkey;
pub mod stored;
pub mod token_hook;
pub mod tokens;
pub mod traffic;

pub use app::*;
pub use backstage::{
    Backstage, app_and_backstage_or_skip, backstage, backstage_or_skip, grace_seconds,
};
pub use calls::*;
pub use messages::*;
pub use tokens::*;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Failed logins (or wrong current passwords) an account gets before it must
/// wait: the service's default (`ACCOUNT_LOGIN_FAILURES_BEFORE_DELAY`), which
/// every suite runs with.
pub const ACCOUNT_FREE_FAILURES: usize = 5;

/// The field names of a JSON object, to compare with the fields it may have.
pub fn field_names(object: &serde_json::Value) -> std::collections::BTreeSet<&str> {
    let fields = object
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {object}"));
    fields.keys().map(String::as_str).collect()
}

/// Records a mail's code for the log check (kind `code`), as the calls
/// record passwords and tokens.
pub fn record_code(code: &str) {
    secrets::record_secrets([("code", Some(code))]);
}

/// Records what turning on a second factor showed (the TOTP secret, kind
/// `totp_secret`, and the recovery codes, kind `code`) for the log check.
pub fn record_second_factor(secret: Option<&str>, recovery_codes: &[String]) {
    secrets::record_secrets([("totp_secret", secret)]);
    secrets::record_secrets(
        recovery_codes
            .iter()
            .map(|code| ("code", Some(code.as_str()))),
    );
}

/// Records a passkey ceremony's id and challenge (kind `ceremony`) for the
/// log check: nothing may log either.
pub fn record_ceremony(options: &serde_json::Value) {
    let id = options["ceremony_id"].as_str();
    let challenge = options["publicKey"]["challenge"].as_str();
    secrets::record_secrets([("ceremony", id), ("ceremony", challenge)]);
}

/// An email no other test uses, so tests can share one database.
pub fn unique_email() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("user{}-{n}-{nanos}@example.com", std::process::id())
}

/// A private address that no other test is likely to use, for calls from a
/// client address ([`call_from`]): the clock's nanoseconds, and a count so
/// that two tests in one instant differ.
pub fn unique_ip() -> String {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let mixed = nanos
        ^ COUNT
            .fetch_add(1, Ordering::SeqCst)
            .wrapping_mul(0x9E37_79B9);
    let [_, a, b, c] = mixed.to_be_bytes();
    format!("10.{a}.{b}.{}", c.max(1))
}
