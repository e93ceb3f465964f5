//! Storage, behind one narrow trait: [`dynamo::DynamoStore`] in Lambda and in
//! the integration tests, [`memory::MemoryStore`] in unit tests.
//!
//! Each method is one DynamoDB round trip unless its comment says otherwise,
//! so a request's cost in storage calls can be read off the handler.

pub mod access;
pub mod dynamo;
pub mod memory;

use crate::http::error::ApiError;
use crate::mail::outbox::{MailKind, OutboxMail};
use crate::throttle::{Counter, Failures, Settlement};
use crate::tokens::access::Claims;
use std::future::Future;

/// A user about to be written; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user_id: String,
    pub email: String,
    pub password_hash: String,
    /// RFC 3339, UTC.
    pub registered_on: String,
    /// Registration makes neither; `make create-admin` makes both.
    pub admin: bool,
    pub email_verified: bool,
}

/// What `status` shows of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub user_id: String,
    pub email: String,
    pub admin: bool,
    pub registered_on: String,
    /// Whether a code mailed to the address has come back.
    pub email_verified: bool,
    /// Disabled by an admin: no login, no refresh, no token accepted.
    pub disabled: bool,
}

/// What login needs, found by email. `admin` and `disabled` are kept on
/// the login record as well as on the profile (written together), so that a
/// login finds them in the one item it reads.
#[derive(Debug, Clone)]
pub struct LoginRecord {
    pub user_id: String,
    pub password_hash: String,
    pub email_verified: bool,
    pub admin: bool,
    pub disabled: bool,
}

/// A change an admin (or `make create-admin`) makes to an account's role or
/// access, written to its profile and its login record together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChange {
    Admin(bool),
    Disabled(bool),
}

/// One page of the users, newest registration first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsersPage {
    pub users: Vec<Profile>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<PageCursor>,
}

impl UsersPage {
    /// The first `limit` of `users` (in the listing's order, read with at
    /// least one more than `limit` when more exist), with a cursor only if
    /// more follow: the last page's `next` is `None`.
    pub fn first(mut users: Vec<Profile>, limit: u32) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = users.len() > limit;
        users.truncate(limit);
        let next = users.last().filter(|_| more).map(PageCursor::after);
        Self { users, next }
    }
}

/// Where a page of users starts: just after the user registered at
/// `registered_on` with the id `user_id` (the listing's order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor {
    pub registered_on: String,
    pub user_id: String,
}

impl PageCursor {
    /// The next page's start: just after `last`, a page's last user.
    pub fn after(last: &Profile) -> Self {
        Self {
            registered_on: last.registered_on.clone(),
            user_id: last.user_id.clone(),
        }
    }
}

/// An account to erase: everything stored under its id and its email.
#[derive(Debug, Clone, Copy)]
pub struct Erasure<'a> {
    pub user_id: &'a str,
    pub email: &'a str,
    /// The account's failed-login counter.
    pub account: &'a Counter,
    /// The owner's own deletion: the password check that allowed it, which
    /// the erasure settles, and which holds only while that hash is still the
    /// account's.
    pub verified: Option<&'a Verified<'a>>,
}

/// A one-time code to be stored with the mail that carries it
/// ([`crate::credentials::one_time_code`]): both are written together, or neither.
#[derive(Debug, Clone)]
pub struct NewCode {
    /// The code's keyed hash: all the store ever keeps of it, but for the
    /// mail in the outbox.
    pub code_hash: String,
    /// The mail; its `kind`, `to` and `expires_at` are the code's.
    pub mail: OutboxMail,
}

/// A code as stored, for an address and a purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    pub code_hash: String,
    /// Wrong guesses so far.
    pub wrong_tries: u32,
    /// Epoch seconds: the item's TTL, and checked on every read.
    pub expires_at: u64,
}

/// What redeeming a code reads first, in one round trip: the address's
/// account and its pending code of the kind.
#[derive(Debug, Clone)]
pub struct CodeAttempt {
    pub record: Option<LoginRecord>,
    pub code: Option<StoredCode>,
}

/// A code that matched, about to be used up: the write holds only while
/// the code is still the one stored, with tries left, and unexpired.
#[derive(Debug, Clone, Copy)]
pub struct Redemption<'a> {
    pub kind: MailKind,
    pub email: &'a str,
    pub user_id: &'a str,
    pub code_hash: &'a str,
    pub now: u64,
}

/// What a login reads before it checks a password, in one round trip.
#[derive(Debug, Clone)]
pub struct LoginAttempt {
    /// `None` for an email without an account.
    pub record: Option<LoginRecord>,
    /// The failures counted against each of the attempt's counters, in their
    /// order (zero for a counter past its window).
    pub failures: Vec<Failures>,
}

/// One signed-in device. Times are epoch seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_id: String,
    pub session_id: String,
    pub device: String,
    pub created_at: u64,
    pub last_used_at: u64,
    /// The session's end; its TTL in DynamoDB, and checked on every read.
    pub expires_at: u64,
    /// SHA-256 of the live refresh token's secret.
    pub refresh_hash: String,
    /// The refresh token the last rotation replaced, and when: within the grace
    /// window it still gets the same successor.
    pub previous_hash: Option<String>,
    pub rotated_at: u64,
}

impl Session {
    pub fn is_live(&self, now: u64) -> bool {
        self.expires_at > now
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    Created,
    EmailTaken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    Revoked,
    AlreadyRevoked,
}

/// Everything a token check needs from storage, read together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSubject {
    /// `None` when the user no longer exists.
    pub profile: Option<Profile>,
    /// Whether the token's session exists and has not expired.
    pub session_live: bool,
    /// True only for a revocation that has not expired: an entry past its TTL
    /// that DynamoDB has not deleted yet does not count.
    pub revoked: bool,
}

/// A password check that passed: the account (by its email), the hash the
/// password matched, and how to settle the attempt. A write made on its
/// strength holds only while that hash is still the account's.
#[derive(Debug, Clone, Copy)]
pub struct Verified<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub settlement: &'a Settlement,
}

/// What every storage call answers.
pub type StoreResult<T> = Result<T, StoreError>;

/// Storage could not answer. The text is for the log, never for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::Unavailable(error.0)
    }
}

pub trait Store: Send + Sync {
    /// Writes the user, claims the email and opens the first session (if
    /// any) in one atomic step: all or nothing, and of concurrent
    /// registrations of one email exactly one is `Created`. Also stores the
    /// address's verification code with its mail (if any).
    fn create_user(
        &self,
        user: &NewUser,
        session: Option<&Session>,
        verification: Option<&NewCode>,
    ) -> impl Future<Output = StoreResult<Registration>> + Send;

    /// The account registered under a normalised email and the failed-login
    /// counts of `counters`, read consistently together.
    fn login_attempt(
        &self,
        email: &str,
        counters: &[Counter],
        now_ms: u64,
    ) -> impl Future<Output = StoreResult<LoginAttempt>> + Send;

    /// Claims one attempt on each of `claims`' counters before a password
    /// is checked, counting it as a failure in advance: on each, only while
    /// the counter still admits it ([`Failures::admits`], given the `seen`
    /// failures its read found). `false`: some counter had moved on (a
    /// parallel attempt), and nothing stays claimed. One write per counter,
    /// sent together: one round trip (two when one is refused).
    fn claim_attempt(
        &self,
        claims: &[(&Counter, Failures)],
        now_ms: u64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Opens a session for a login, only if the password hash it verified is
    /// still the account's (`false` otherwise): a login that raced a password
    /// change must not leave a session the change meant to end. Settles the
    /// login's attempt in the same write.
    fn create_session(
        &self,
        session: &Session,
        verified: &Verified<'_>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Counts one event (a registration, a code mail) on `counter`, for one
    /// window ending at `window_end`, only while it holds fewer than its limit
    /// (`free_failures`): `false`, and nothing counted, once it is full.
    fn count_in_window(
        &self,
        counter: &Counter,
        window_end: u64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// The user behind a token, its session, and whether the token is revoked,
    /// in one read.
    fn token_subject(
        &self,
        claims: &Claims,
        now: u64,
    ) -> impl Future<Output = StoreResult<TokenSubject>> + Send;

    /// Logs one token out: revokes it until `expires_at` (its own `exp`) and
    /// ends its session, in one atomic write. `AlreadyRevoked` if the token was.
    fn end_token_session(
        &self,
        claims: &Claims,
        now: u64,
    ) -> impl Future<Output = StoreResult<Revocation>> + Send;

    /// One session and its user's profile, read consistently together
    /// (expired sessions too: the caller decides).
    fn session_and_profile(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> impl Future<Output = StoreResult<(Option<Session>, Option<Profile>)>> + Send;

    /// A user's profile, read consistently.
    fn profile(&self, user_id: &str) -> impl Future<Output = StoreResult<Option<Profile>>> + Send;

    /// Up to `limit` users, newest registration first, after `after`.
    /// (One query of the listing index.)
    fn users_page(
        &self,
        limit: u32,
        after: Option<&PageCursor>,
    ) -> impl Future<Output = StoreResult<UsersPage>> + Send;

    /// Applies `change` to the account's profile and login record together,
    /// only while both are still this user's: `false` (nothing written)
    /// for an account gone meanwhile.
    fn change_account(
        &self,
        user_id: &str,
        email: &str,
        change: AccountChange,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Erases the account's profile, email claim, pending codes and failed
    /// logins in one transaction: `false` (nothing written) if it is gone, or
    /// for an owner's deletion whose verified password is no longer the
    /// account's. The sessions are the caller's ([`Store::delete_sessions`]).
    fn erase_account(
        &self,
        erasure: &Erasure<'_>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// The user's sessions that have not expired.
    fn sessions(
        &self,
        user_id: &str,
        now: u64,
    ) -> impl Future<Output = StoreResult<Vec<Session>>> + Send;

    /// Swaps the session's refresh hash from `old_hash` to `new_hash`, only if
    /// `old_hash` is still the live one: of concurrent rotations one wins
    /// (`true`), the others see `false`.
    fn rotate_refresh(
        &self,
        session: &Session,
        new_hash: &str,
        now: u64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Ends one live session; `false` if there was none, or only an expired one.
    fn delete_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: u64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Ends every session of the user but `keep`. (A query, then batched
    /// deletes: a few round trips.)
    fn delete_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Replaces the password hash, only if it is still `old_hash` (so of two
    /// concurrent changes, one fails rather than both "succeeding"), and
    /// settles the password check that allowed it, in one write.
    fn set_password_hash(
        &self,
        verified: &Verified<'_>,
        new_hash: &str,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Stores a code and its mail, replacing the address's pending code of the
    /// kind, only if the address has an account: `false` (and nothing
    /// written) otherwise. The same one transaction either way, so that both
    /// cost the same time.
    fn issue_code(&self, code: &NewCode) -> impl Future<Output = StoreResult<bool>> + Send;

    /// The account registered under `email` and its pending code of `kind`,
    /// read consistently together (an expired code too: the caller decides).
    fn code_attempt(
        &self,
        kind: MailKind,
        email: &str,
    ) -> impl Future<Output = StoreResult<CodeAttempt>> + Send;

    /// Counts a wrong guess against the address's pending code of `kind`
    /// (nothing if there is none).
    fn count_wrong_code(
        &self,
        kind: MailKind,
        email: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Uses up a reset code and, in the same transaction, sets the new
    /// password hash, marks the address verified (the code came through it)
    /// and clears `account`'s failed logins. `false`, and nothing written, if
    /// the code was used or changed meanwhile. The sessions are the caller's.
    fn reset_password(
        &self,
        redemption: &Redemption<'_>,
        new_hash: &str,
        account: &Counter,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Uses up a verification code and marks the address verified, in one
    /// transaction; `false` if the code was used or changed meanwhile.
    fn verify_email(
        &self,
        redemption: &Redemption<'_>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
}
