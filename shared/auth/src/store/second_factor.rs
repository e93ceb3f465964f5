//! The second factor's storage, beside [`super::Store`] (which requires it):
//! one item per account, `MFA#<user id>` / `TOTP`, holding the sealed TOTP
//! secret, whether it is on, the last step a code was accepted for, and the
//! keyed hashes of the unused recovery codes; and a copy of "on" in the login
//! record (`mfa`), so that login knows to ask for a code from the one item it
//! reads already.

use super::{Session, SignIn, StoreResult, Verified};
use crate::mail::outbox::OutboxMail;
use crate::throttle::Settlement;
use std::future::Future;

/// An account's second factor as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactor {
    /// The TOTP secret, sealed ([`crate::credentials::sealed`]).
    pub sealed_secret: String,
    /// False from enrolment until a first code confirms it.
    pub on: bool,
    /// The last step (`time / 30`) a code was accepted for: a code of this
    /// step or an earlier one is refused, so each is accepted once.
    pub last_step: u64,
    /// Keyed hashes of the recovery codes not used yet.
    pub recovery_hashes: Vec<String>,
}

/// TOTP turned on by its first code: what [`SecondFactors::confirm_totp`]
/// writes in one transaction.
pub struct TotpConfirmation<'a> {
    pub user_id: &'a str,
    pub email: &'a str,
    /// The pending secret the code was checked against: it must still be the
    /// account's (not replaced by a second enrolment meanwhile).
    pub sealed_secret: &'a str,
    /// The step the code matched.
    pub step: u64,
    pub recovery_hashes: &'a [String],
    /// The caller's session, upgraded: signed in with the second factor now,
    /// with a new refresh token.
    pub session_id: &'a str,
    pub sign_in: &'a SignIn,
    pub refresh_hash: &'a str,
    /// The owner told: into the outbox in the same transaction.
    pub notice: &'a OutboxMail,
    pub now: u64,
}

/// A sign-in waiting for its second factor: the password was right, the
/// code is still to come (`POST /auth/login/mfa`). Stored under the account
/// by the hash of its `mfa_token`'s secret (`MFA#<user id>` /
/// `CHALLENGE#<hash>`), for five minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub user_id: String,
    pub email: String,
    /// The login's device name: the session it opens gets it.
    pub device: String,
    pub wrong_tries: u32,
    pub expires_at: u64,
}

/// What a passed challenge used: a TOTP step or a recovery code (its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactorUsed {
    Step(u64),
    RecoveryCode(String),
}

/// A challenge passed: what [`SecondFactors::pass_challenge`] writes at once.
pub struct ChallengePass<'a> {
    pub email: &'a str,
    pub challenge_hash: &'a str,
    pub used: FactorUsed,
    /// The new session, signed in with the second factor.
    pub session: &'a Session,
    /// The code check's attempt (claimed on the counters like a password's).
    pub settlement: &'a Settlement,
    /// The owner told (a recovery code was used), in the same transaction.
    pub notice: Option<&'a OutboxMail>,
    pub now: u64,
}

pub trait SecondFactors: Send + Sync {
    /// The account's second factor, if it has begun one (read consistently).
    fn second_factor(
        &self,
        user_id: &str,
    ) -> impl Future<Output = StoreResult<Option<SecondFactor>>> + Send;

    /// Stores a new TOTP secret, pending until confirmed (replacing a pending
    /// one), and settles the password check that allowed it, in one write.
    /// `false`, and nothing written, if TOTP is on already or the password
    /// changed meanwhile.
    fn begin_totp(
        &self,
        user_id: &str,
        sealed_secret: &str,
        verified: &Verified<'_>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Turns TOTP on ([`TotpConfirmation`]): the factor, its first step and
    /// its recovery codes, the login record's copy, and the caller's session,
    /// in one transaction. `false`, and nothing written, if the pending
    /// secret changed, TOTP is on already, the step was used, or the session
    /// has ended.
    fn confirm_totp(
        &self,
        confirmation: &TotpConfirmation<'_>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Stores a challenge for a login whose password was right, only while
    /// that password holds and the account is not disabled. The password's
    /// claims on the source counters are taken back, but not the account's:
    /// it stays counted until the second factor passes, so that the password
    /// alone buys no free guesses at the code.
    fn open_challenge(
        &self,
        challenge: &Challenge,
        challenge_hash: &str,
        verified: &Verified<'_>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// The challenge of `challenge_hash` and the account's factor, read
    /// consistently together (an expired challenge too: the caller decides).
    fn challenge_attempt(
        &self,
        user_id: &str,
        challenge_hash: &str,
    ) -> impl Future<Output = StoreResult<(Option<Challenge>, Option<SecondFactor>)>> + Send;

    /// Counts a wrong code against the challenge (nothing if it is gone).
    fn count_wrong_factor(
        &self,
        user_id: &str,
        challenge_hash: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Passes a challenge ([`ChallengePass`]): the challenge used up (only
    /// while it is live with tries left), the step accepted (only if later
    /// than the last one) or the recovery code used (only while unused), the
    /// session opened and the attempt settled, in one transaction. `false`,
    /// and nothing written, if any of it moved: of parallel passes with one
    /// code, one wins.
    fn pass_challenge(
        &self,
        pass: &ChallengePass<'_>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Turns TOTP off: the factor (secret and recovery codes) deleted, the
    /// login record's copy cleared and the `notice` put in the outbox, in one
    /// transaction, only while the email is still this user's. With `verified` (the owner's password, asked
    /// again), only while that password holds, and its check settled.
    /// `false`, and nothing written, if TOTP was not on or anything moved.
    fn turn_off_totp(
        &self,
        user_id: &str,
        email: &str,
        verified: Option<&Verified<'_>>,
        notice: &OutboxMail,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Replaces the recovery codes, only while TOTP is on.
    fn replace_recovery_codes(
        &self,
        user_id: &str,
        hashes: &[String],
    ) -> impl Future<Output = StoreResult<bool>> + Send;
}
