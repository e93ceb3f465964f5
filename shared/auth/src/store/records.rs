//! The records the [`super::Store`] reads and writes: users, sessions,
//! codes, and what each call reads together.

use crate::mail::outbox::{MailKind, OutboxMail};
use crate::metadata::Metadata;
use crate::roles::Roles;
use crate::throttle::{Counter, Failures, Settlement};

/// A user about to be written; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user_id: String,
    pub email: String,
    pub password_hash: String,
    /// RFC 3339, UTC.
    pub registered_on: String,
    /// Registration gives none; `make create-admin` gives `admin`.
    pub roles: Roles,
    pub email_verified: bool,
}

impl NewUser {
    /// The profile the account starts with (no metadata yet).
    pub fn profile(&self) -> Profile {
        Profile {
            user_id: self.user_id.clone(),
            email: self.email.clone(),
            roles: self.roles.clone(),
            registered_on: self.registered_on.clone(),
            email_verified: self.email_verified,
            disabled: false,
            user_metadata: Metadata::new(),
            app_metadata: Metadata::new(),
        }
    }
}

/// What `status` shows of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub user_id: String,
    pub email: String,
    pub roles: Roles,
    pub registered_on: String,
    /// Whether a code mailed to the address has come back.
    pub email_verified: bool,
    /// Disabled by an admin: no login, no refresh, no token accepted.
    pub disabled: bool,
    /// The user's own metadata ([`crate::metadata`]).
    pub user_metadata: Metadata,
    /// What only admins write.
    pub app_metadata: Metadata,
}

/// What login needs, found by email. The roles and `disabled` are kept on
/// the login record as well as on the profile (written together), so that a
/// login finds them in the one item it reads.
#[derive(Debug, Clone)]
pub struct LoginRecord {
    pub user_id: String,
    pub password_hash: String,
    pub email_verified: bool,
    pub roles: Roles,
    pub disabled: bool,
    /// Whether TOTP is on: login asks for a code before any token.
    pub mfa: bool,
}

impl LoginRecord {
    /// Whether the account signs in with a password (every account does
    /// today; passkeys and OIDC will add accounts that do not).
    pub fn has_password(&self) -> bool {
        !self.password_hash.is_empty()
    }
}

/// A change an admin (or `make create-admin`) makes to an account's roles or
/// access, written to its profile and its login record together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChange {
    Roles(Roles),
    Disabled(bool),
    /// The profile's metadata, replaced whole (the login record has none).
    UserMetadata(Metadata),
    AppMetadata(Metadata),
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
    /// The sessions listed before, ended in the erasure's own transaction.
    pub ending: Ending<'a>,
}

/// Sessions a change ends in its own transaction (issue 29): `ids`, of the
/// change's user, listed before it, all but `keep`; with them the
/// `session.revoked` event of that scope. Ending nothing: no event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ending<'a> {
    pub ids: &'a [String],
    pub keep: Option<&'a str>,
    /// What the change knows of sessions opened after `ids` were listed.
    pub since: OpenedSince<'a>,
}

/// Sessions opened between a change's listing and its write (issue 29).
#[derive(Debug, Clone, Copy, Default)]
pub enum OpenedSince<'a> {
    #[default] // The caller sweeps after the change.
    Unchecked,
    /// The account's last sign-in was this session (`None`: none recorded)
    /// when read before the listing ([`super::Store::last_opened`]); the
    /// change holds only while it still is, so a sign-in in between fails
    /// the change (`false`, nothing written) rather than outliving it.
    LastWas(Option<&'a str>),
}

/// The most sessions a change ends in its own transaction: DynamoDB takes
/// 100 items in one, and the change writes up to ten of its own. Past them
/// the sessions are swept apart, in batches, before the change.
pub const MAX_ENDED_WITH_A_CHANGE: usize = 90;

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

/// How a session was signed in: OIDC's `amr` (RFC 8176's method references)
/// and `auth_time`, carried unchanged into every access token of the session,
/// refreshed ones included, so a protected API can ask for a second factor or
/// a recent sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    /// `["pwd"]` for a password alone; `["pwd", "otp", "mfa"]` with a second
    /// factor.
    pub amr: Vec<String>,
    /// When the user signed in (epoch seconds), not when a token was issued.
    pub auth_time: u64,
}

impl SignIn {
    /// A sign-in with a password alone, now.
    pub fn password(now: u64) -> Self {
        Self {
            amr: vec!["pwd".to_owned()],
            auth_time: now,
        }
    }

    /// A sign-in with a passkey alone, which verified its user (RFC 8176:
    /// `swk` for a synced, backup-eligible one, else `hwk`; `mfa`, since
    /// user verification was required: something held and a PIN or a
    /// biometric).
    pub fn passkey(now: u64, synced: bool) -> Self {
        let key = if synced { "swk" } else { "hwk" };
        Self {
            amr: [key, "mfa"].map(str::to_owned).to_vec(),
            auth_time: now,
        }
    }

    /// A sign-in through another provider (OpenID Connect): RFC 8176's
    /// `fed`, never `mfa` (the provider's own factors are not taken on trust).
    pub fn federated(now: u64) -> Self {
        Self {
            amr: vec!["fed".to_owned()],
            auth_time: now,
        }
    }

    /// A sign-in with a password and a second factor (a TOTP code, or a
    /// recovery code: RFC 8176's `otp`, a one-time password either way).
    pub fn with_second_factor(now: u64) -> Self {
        Self {
            amr: ["pwd", "otp", "mfa"].map(str::to_owned).to_vec(),
            auth_time: now,
        }
    }
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
    /// How the session was signed in.
    pub sign_in: SignIn,
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

/// Why one session ends ([`super::Store::delete_session`]), which is the
/// event written with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// Its owner (or an admin) ended it: `session.revoked`, scope `session`.
    Revoked,
    /// A retired refresh token of it came back: `refresh_token.reuse_detected`.
    RefreshReused,
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

/// A change of the account's address, pending until the code mailed to the
/// new address comes back: stored under the current address's codes (kind
/// [`MailKind::EmailChange`]), so a new request replaces it, and erasing
/// the account erases it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEmailChange {
    pub user_id: String,
    /// The normalised new address: the code's hash is bound to it.
    pub new_email: String,
    pub code: StoredCode,
}

/// What confirming a change reads first, in one round trip: the account's
/// login record and its pending change.
#[derive(Debug, Clone)]
pub struct EmailChangeAttempt {
    pub record: Option<LoginRecord>,
    pub pending: Option<PendingEmailChange>,
}

/// A change of address asked for, to store with its mails: the code to the
/// new address (`None` when that address already has an account: nothing
/// goes to it, and any earlier pending change is dropped), and the notice to
/// the current one.
#[derive(Debug, Clone, Copy)]
pub struct EmailChangeRequest<'a> {
    pub user_id: &'a str,
    /// The current address.
    pub email: &'a str,
    pub code: Option<&'a NewCode>,
    pub notice: &'a OutboxMail,
    /// The password check that allowed it (settled in the same write, which
    /// holds only while that hash is the account's); `None` for an account
    /// without a password, allowed by a recent sign-in.
    pub verified: Option<&'a Verified<'a>>,
}

/// A pending change whose code matched, about to be made.
#[derive(Debug, Clone, Copy)]
pub struct EmailChangeConfirmation<'a> {
    pub user_id: &'a str,
    pub email: &'a str,
    pub new_email: &'a str,
    pub code_hash: &'a str,
    pub now: u64,
}

/// How confirming a change ended; nothing is written but for `Changed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailChangeOutcome {
    Changed,
    /// The code was used, replaced, killed or expired meanwhile.
    CodeGone,
    /// The new address got an account meanwhile.
    AddressTaken,
    /// The account (or its address) is no longer what the token says.
    AccountGone,
}
