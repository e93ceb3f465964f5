//! The webhook events ([`crate::webhooks::event`]) the stores write with
//! the changes they describe: built here once, so that DynamoDB's and the
//! memory store's events are the same. Only ids, addresses and names: never
//! a password, hash, code, token or secret.

use super::{NewUser, Session, SessionEnd};
use crate::webhooks::{Event, EventType};

/// Which sessions a revocation ended (`scope` in `session.revoked`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokedScope {
    /// All of the user's sessions but the caller's.
    Others,
    All,
}

impl RevokedScope {
    /// The scope of ending every session but `keep`.
    pub fn keeping(keep: Option<&str>) -> Self {
        match keep {
            Some(_) => Self::Others,
            None => Self::All,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Others => "others",
            Self::All => "all",
        }
    }
}

pub fn user_created(user: &NewUser, now: u64) -> Event {
    Event::new(EventType::UserCreated, &user.user_id, now)
        .with("email", user.email.as_str())
        .with("email_verified", user.email_verified)
}

/// A session opened, at its creation, with how it was signed in.
pub fn session_created(session: &Session) -> Event {
    Event::new(
        EventType::SessionCreated,
        &session.user_id,
        session.created_at,
    )
    .with("session_id", session.session_id.as_str())
    .with("amr", session.sign_in.amr.clone())
}

/// One session ended: revoked (a logout, a revocation), or for the reuse of
/// a retired refresh token, which is what its event tells.
pub fn session_ended(user_id: &str, session_id: &str, why: SessionEnd, now: u64) -> Event {
    match why {
        SessionEnd::Revoked => Event::new(EventType::SessionRevoked, user_id, now)
            .with("scope", "session")
            .with("session_id", session_id),
        SessionEnd::RefreshReused => Event::new(EventType::RefreshTokenReuseDetected, user_id, now)
            .with("session_id", session_id),
    }
}

pub fn sessions_revoked(user_id: &str, scope: RevokedScope, now: u64) -> Event {
    Event::new(EventType::SessionRevoked, user_id, now).with("scope", scope.as_str())
}

pub fn email_verified(user_id: &str, email: &str, now: u64) -> Event {
    Event::new(EventType::UserEmailVerified, user_id, now).with("email", email)
}

pub fn email_changed(user_id: &str, previous: &str, new: &str, now: u64) -> Event {
    Event::new(EventType::UserEmailChanged, user_id, now)
        .with("email", new)
        .with("previous_email", previous)
}

/// A passkey added or removed, by its credential id.
pub fn passkey(kind: EventType, user_id: &str, credential_id: &str, now: u64) -> Event {
    Event::new(kind, user_id, now).with("passkey_id", credential_id)
}

/// The event of an account's `disabled` flag set to `disabled`.
pub fn disabled_or_enabled(disabled: bool) -> EventType {
    match disabled {
        true => EventType::UserDisabled,
        false => EventType::UserEnabled,
    }
}

/// An event with no data but the user's id.
pub fn plain(kind: EventType, user_id: &str, now: u64) -> Event {
    Event::new(kind, user_id, now)
}
