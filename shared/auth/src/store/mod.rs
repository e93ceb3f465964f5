//! Storage, behind one narrow trait: [`dynamo::DynamoStore`] in Lambda and in
//! the integration tests, [`memory::MemoryStore`] in unit tests.
//!
//! Each method is one DynamoDB round trip, so a request's cost in storage
//! calls can be read off the handler.

pub mod dynamo;
pub mod memory;

use crate::error::ApiError;
use std::future::Future;

/// A user about to be written; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user_id: String,
    pub email: String,
    pub password_hash: String,
    /// RFC 3339, UTC.
    pub registered_on: String,
}

/// What `status` shows of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub user_id: String,
    pub email: String,
    pub admin: bool,
    pub registered_on: String,
}

/// What login needs, found by email.
#[derive(Debug, Clone)]
pub struct LoginRecord {
    pub user_id: String,
    pub password_hash: String,
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
    /// True only for a revocation that has not expired: an entry past its TTL
    /// that DynamoDB has not deleted yet does not count.
    pub revoked: bool,
}

/// Storage could not answer. The text is for the log, never for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::Unavailable(error.0)
    }
}

pub trait Store: Send + Sync {
    /// Writes the user and claims the email in one atomic step: either both
    /// are written or neither, and of concurrent registrations of one email
    /// exactly one is `Created`.
    fn create_user(
        &self,
        user: &NewUser,
    ) -> impl Future<Output = Result<Registration, StoreError>> + Send;

    /// The account registered under a normalised email, read consistently.
    fn login_record(
        &self,
        email: &str,
    ) -> impl Future<Output = Result<Option<LoginRecord>, StoreError>> + Send;

    /// The user behind a token and whether the token is revoked, in one read.
    fn token_subject(
        &self,
        user_id: &str,
        jti: &str,
        now: u64,
    ) -> impl Future<Output = Result<TokenSubject, StoreError>> + Send;

    /// Revokes a token until `expires_at` (its own `exp`), unless it already is.
    fn revoke(
        &self,
        jti: &str,
        expires_at: u64,
        now: u64,
    ) -> impl Future<Output = Result<Revocation, StoreError>> + Send;
}
