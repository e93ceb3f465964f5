//! Sign-in with other providers (issue 28) in storage: a sign-in's state
//! while the person is at the provider, the one-time code the app redeems,
//! and the identities linked to accounts, each (provider, `sub`) claimed by
//! one account.

use super::{NewUser, Session, SignIn, StoreResult};
use std::future::Future;

/// How long a state lives: checked in code, the item's TTL deletes it later.
pub const STATE_LIFETIME_SECONDS: u64 = 5 * 60;
/// How long the one-time code handed to the app lives.
pub const APP_CODE_LIFETIME_SECONDS: u64 = 60;

/// A sign-in (or a link) in progress at a provider, stored under its random
/// `state`, taken once by the callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OauthState {
    pub provider: String,
    pub nonce: String,
    /// This service's own PKCE verifier, sent at the code exchange.
    pub verifier: String,
    /// The app's S256 challenge, checked at `POST /auth/oauth/token` (none
    /// for a link, which hands out no code).
    pub code_challenge: Option<String>,
    pub redirect_to: String,
    /// A link flow: the signed-in account the identity goes to.
    pub link_user_id: Option<String>,
    pub created_at: u64,
    pub expires_at: u64,
}

/// The one-time code handed to the app, stored under its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCode {
    pub user_id: String,
    /// The session an account made by this sign-in opened with it (its
    /// refresh token not yet handed out); `None`: opened at redemption.
    pub session_id: Option<String>,
    /// The device the session is listed under.
    pub device: String,
    pub code_challenge: String,
    pub expires_at: u64,
    /// A code minted for a person already signed in (the account page as an
    /// app's hosted sign-in, `POST /auth/oauth/code`): how they signed in,
    /// carried to the app's session, whose second factor was already asked.
    /// `None`: a provider's sign-in (`fed`; TOTP asked at redemption).
    pub sign_in: Option<SignIn>,
}

/// An identity at a provider, linked to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Random: what `GET /auth/identities` lists and `DELETE` names.
    pub id: String,
    pub user_id: String,
    pub provider: String,
    pub sub: String,
    /// The address the provider gave when it was linked.
    pub email: Option<String>,
    pub linked_at: u64,
}

/// What making an account through a provider came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FederatedSignUp {
    Created,
    /// The address is an account's already: nothing written.
    EmailTaken,
    /// A parallel callback claimed the identity first: nothing written.
    IdentityTaken,
}

pub trait Federation {
    /// Stores a state.
    fn open_oauth_state(
        &self,
        state: &str,
        opened: &OauthState,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Takes a state away (one conditional delete that returns it): of any
    /// number of callbacks with one state, one gets it. The caller checks
    /// `expires_at`.
    fn take_oauth_state(
        &self,
        state: &str,
    ) -> impl Future<Output = StoreResult<Option<OauthState>>> + Send;

    /// Stores a one-time code under its hash.
    fn put_app_code(
        &self,
        code_hash: &str,
        code: &AppCode,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Takes a one-time code away (a conditional delete that returns it).
    fn take_app_code(
        &self,
        code_hash: &str,
    ) -> impl Future<Output = StoreResult<Option<AppCode>>> + Send;

    /// The account linked to (provider, `sub`), if any.
    fn identity_owner(
        &self,
        provider: &str,
        sub: &str,
    ) -> impl Future<Output = StoreResult<Option<String>>> + Send;

    /// Makes an account through a provider in one transaction: the profile,
    /// the email claim (only if free), the identity claim (only if free),
    /// its record, the first session and their events.
    fn create_federated_user(
        &self,
        user: &NewUser,
        session: &Session,
        identity: &Identity,
    ) -> impl Future<Output = StoreResult<FederatedSignUp>> + Send;

    /// Links an identity to an existing account: the claim (only if free)
    /// and its record, only while the account exists. `false`: nothing written.
    fn link_identity(&self, identity: &Identity) -> impl Future<Output = StoreResult<bool>> + Send;

    /// The account's identities (one query).
    fn identities(&self, user_id: &str) -> impl Future<Output = StoreResult<Vec<Identity>>> + Send;

    /// Unlinks one of the account's identities (its record and its claim, in
    /// one transaction): `false` if it has none by that id.
    fn unlink_identity(
        &self,
        user_id: &str,
        identity: &Identity,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
}
