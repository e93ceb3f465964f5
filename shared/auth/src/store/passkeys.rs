//! Passkeys (docs/passkeys.md) in storage: the credentials of an account,
//! the owner claim that makes a credential id unique to anyone, and the
//! ceremonies (a WebAuthn registration or sign-in in progress), each used once.
//!
//! Nothing here knows WebAuthn: the credential is stored as the relying-party
//! library serialised it (`passkey`), so only the passkey functions link it.

use super::StoreResult;
use crate::mail::outbox::OutboxMail;
use std::future::Future;

/// One registered passkey of an account. Times are epoch seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    pub user_id: String,
    /// The credential id, base64url without padding: the item's sort key.
    pub credential_id: String,
    pub name: String,
    /// The credential (public key, counter, flags) as the library wrote it.
    pub passkey: String,
    /// The WebAuthn user handle the credential was made for: random, the
    /// same for all of an account's passkeys, never the email.
    pub user_handle: String,
    pub created_at: u64,
    pub last_used_at: Option<u64>,
    /// Whether the credential is backed up (synced) now.
    pub backed_up: bool,
    /// Whether it may be (a synced passkey): `swk` rather than `hwk`.
    pub backup_eligible: bool,
    /// The signature counter as last seen (0: the authenticator keeps none).
    pub counter: u32,
}

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyKind {
    Registration,
    SignIn,
}

impl CeremonyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::SignIn => "sign_in",
        }
    }

    pub fn parse(kind: &str) -> Option<Self> {
        match kind {
            "registration" => Some(Self::Registration),
            "sign_in" => Some(Self::SignIn),
            _ => None,
        }
    }
}

/// A ceremony in progress, under a random id the client holds: the state
/// the library needs to finish it (its challenge), server-side only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ceremony {
    pub kind: CeremonyKind,
    /// The library's state, serialised.
    pub state: String,
    /// The account it is for: the registering user, or the email's account
    /// of a sign-in that named one (`None`: usernameless).
    pub user_id: Option<String>,
    /// A registration's user handle.
    pub user_handle: Option<String>,
    /// Checked in code; the item's TTL deletes it later.
    pub expires_at: u64,
}

/// A sign-in's update of the credential it used, with the session it opens:
/// only while its counter is still the one read, so of parallel assertions
/// with one credential one wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyUse<'a> {
    pub user_id: &'a str,
    pub credential_id: &'a str,
    pub read_counter: u32,
    pub counter: u32,
    pub passkey: &'a str,
    pub backed_up: bool,
    pub now: u64,
    pub session: &'a super::Session,
}

pub trait Passkeys {
    /// The account's passkeys (one query).
    fn passkeys(
        &self,
        user_id: &str,
    ) -> impl Future<Output = StoreResult<Vec<StoredPasskey>>> + Send;

    /// The passkey registered under `credential_id`, whoever owns it: the
    /// owner claim, then the credential (two reads).
    fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> impl Future<Output = StoreResult<Option<StoredPasskey>>> + Send;

    /// Stores a ceremony under `id`.
    fn open_ceremony(
        &self,
        id: &str,
        ceremony: &Ceremony,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Takes the ceremony `id` away (a conditional delete that returns it):
    /// of any number of calls with one id, one gets it. Expired or not: the
    /// caller checks `expires_at`.
    fn take_ceremony(&self, id: &str)
    -> impl Future<Output = StoreResult<Option<Ceremony>>> + Send;

    /// Adds a passkey and claims its credential id in one transaction:
    /// `false`, and nothing written, if the id is anyone's already.
    fn add_passkey(
        &self,
        passkey: &StoredPasskey,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Records a sign-in with a passkey and opens its session, in one
    /// transaction ([`PasskeyUse`]): `false`, and nothing written, if the
    /// counter moved (or the passkey went) meanwhile.
    fn use_passkey(&self, used: &PasskeyUse<'_>) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Renames one of the account's passkeys: `false` if it has none by that id.
    fn rename_passkey(
        &self,
        user_id: &str,
        credential_id: &str,
        name: &str,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Deletes one of the account's passkeys and its owner claim, in one
    /// transaction: `false` if it has none by that id.
    fn delete_passkey(
        &self,
        user_id: &str,
        credential_id: &str,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Deletes all of the account's passkeys and their owner claims (a
    /// query, then a transaction per passkey): when the account is erased, or
    /// an admin resets its sign-in factors. How many there were.
    fn delete_passkeys(&self, user_id: &str) -> impl Future<Output = StoreResult<usize>> + Send;

    /// Writes one notice to the outbox (a passkey that looks cloned).
    fn send_notice(&self, notice: &OutboxMail) -> impl Future<Output = StoreResult<()>> + Send;
}
