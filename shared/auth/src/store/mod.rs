//! Storage, behind one narrow trait: [`dynamo::DynamoStore`] in Lambda and in
//! the integration tests, [`memory::MemoryStore`] in unit tests.
//!
//! Each method is one DynamoDB round trip unless its comment says otherwise,
//! so a request's cost in storage calls can be read off the handler.

pub mod access;
pub mod dynamo;
pub mod events;
mod federation;
pub mod memory;
mod passkeys;
mod records;
mod second_factor;

pub use federation::{
    APP_CODE_LIFETIME_SECONDS, AppCode, FederatedSignUp, Federation, Identity, OauthState,
    STATE_LIFETIME_SECONDS,
};
pub use passkeys::{Ceremony, CeremonyKind, PasskeyUse, Passkeys, StoredPasskey};
pub use records::*;
pub use second_factor::{
    Challenge, ChallengePass, FactorUsed, SecondFactor, SecondFactors, TotpConfirmation,
};

use crate::http::error::ApiError;
use crate::mail::outbox::{MailKind, OutboxMail};
use crate::throttle::{Counter, Failures, Settlement};
use crate::tokens::access::Claims;
use std::future::Future;

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

pub trait Store: SecondFactors + Passkeys + Federation + Send + Sync {
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

    /// Claims one attempt on each of `counters` as [`Store::claim_attempt`]
    /// does, but without a read first (issue 29), so it can go with the read:
    /// only while each counter has no failures or fewer than its free ones,
    /// which impose no wait whatever they are. The failures each held before
    /// (what a read would have seen), if every claim held; `None`, and
    /// nothing stays claimed, if a counter was at or past its free failures
    /// (or expired, not yet deleted): the caller reads and claims as before.
    /// One write per counter, sent together: one round trip (two when one is
    /// refused).
    fn claim_below_free(
        &self,
        counters: &[Counter],
        now_ms: u64,
    ) -> impl Future<Output = StoreResult<Option<Vec<Failures>>>> + Send;

    /// Opens a session for a login, only if the password hash it verified is
    /// still the account's (`false` otherwise): a login that raced a password
    /// change must not leave a session the change meant to end. Settles the
    /// login's attempt in the same write.
    fn create_session(
        &self,
        session: &Session,
        verified: &Verified<'_>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Settles an attempt whose password was right but whose sign-in
    /// stopped on something else (the token hook): it counts as no failure.
    fn settle_attempt(
        &self,
        settlement: &Settlement,
    ) -> impl Future<Output = StoreResult<()>> + Send;

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

    /// Disables the account ([`AccountChange::Disabled`]) and ends the
    /// sessions `ending` lists, in one transaction: `false` (nothing
    /// written) for an account gone meanwhile.
    fn disable_account(
        &self,
        user_id: &str,
        email: &str,
        ending: Ending<'_>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Erases the account's profile, email claim, pending codes, failed
    /// logins and the sessions its `ending` lists in one transaction: `false`
    /// (nothing written) if it is gone, or for an owner's deletion whose
    /// verified password is no longer the account's. Sessions opened after
    /// the listing are the caller's ([`Store::delete_sessions`]).
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

    /// The session `user_id` signed in to last, as every sign-in records it
    /// with its session (`None`: none recorded): read before a change lists
    /// the sessions it ends ([`OpenedSince::LastWas`]).
    fn last_opened(
        &self,
        user_id: &str,
    ) -> impl Future<Output = StoreResult<Option<String>>> + Send;

    /// Swaps the session's refresh hash from `old_hash` to `new_hash`, only if
    /// `old_hash` is still the live one: of concurrent rotations one wins
    /// (`true`), the others see `false`.
    fn rotate_refresh(
        &self,
        session: &Session,
        new_hash: &str,
        now: u64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Ends one live session, and writes the event of `why` with it;
    /// `false` (and nothing written) if there was none, or only an expired one.
    fn delete_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: u64,
        why: SessionEnd,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Ends every session of the user but `keep`. (A query, then batched
    /// deletes: a few round trips.) If it ended any, a `session.revoked` of
    /// scope `others` (with `keep`) or `all` goes with the deletes.
    fn delete_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Replaces `user_id`'s password hash, only if it is still `old_hash` (so of two
    /// concurrent changes, one fails rather than both "succeeding"), settles
    /// the password check that allowed it and ends the sessions `ending`, in
    /// one write: all of it, or (on a failure, or a sign-in since `ending`'s
    /// listing) none.
    fn set_password_hash(
        &self,
        user_id: &str,
        verified: &Verified<'_>,
        new_hash: &str,
        ending: Ending<'_>,
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

    /// The account registered under `email` and its pending change of
    /// address, read consistently together (an expired one too).
    fn email_change_attempt(
        &self,
        email: &str,
    ) -> impl Future<Output = StoreResult<EmailChangeAttempt>> + Send;

    /// Stores a pending change of address with its mails, replacing any
    /// earlier one, only while `email` is still `user_id`'s (with the
    /// verified password, if any): `false`, and nothing written, otherwise.
    /// Settles the password check in the same transaction. (A wrong guess
    /// at its code is [`Store::count_wrong_code`] of
    /// [`MailKind::EmailChange`] on the current address.)
    fn start_email_change(
        &self,
        request: &EmailChangeRequest<'_>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Makes a confirmed change in one transaction: the pending change used
    /// up (only while it is the one matched), the login record moved whole to
    /// the new address (only while no account has it, and the old record is
    /// unchanged), the old address's pending codes dropped, the profile's
    /// address set and verified. Two round trips: the login record read
    /// whole, then the transaction (read again, up to a few times, if the
    /// record changed in between). The sessions are the caller's.
    fn confirm_email_change(
        &self,
        confirmation: &EmailChangeConfirmation<'_>,
    ) -> impl Future<Output = StoreResult<EmailChangeOutcome>> + Send;
}
