//! What happened to an account, told to the team's other systems: one
//! [`Event`] per committed change, written to the outbox in the same
//! DynamoDB transaction as the change (so none is lost and none is told of a
//! change that rolled back), then delivered by the `webhooks` function.
//!
//! The body each receiver gets is Standard Webhooks' shape:
//! `{"type": "user.created", "timestamp": "2026-12-07T20:30:00Z", "data": {…}}`,
//! `data` always holding `user_id`. No body carries a secret, password, code
//! or token: only ids, addresses and names of what changed.

use serde_json::{Map, Value, json};

/// How long an event waits in the outbox for the `webhooks` function, in
/// seconds (its TTL): a day, as long as the table's stream keeps a record.
pub const EVENT_LIFETIME_SECONDS: u64 = 24 * 60 * 60;

/// The kinds of event, named as receivers see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    UserCreated,
    UserEmailVerified,
    UserEmailChanged,
    UserPasswordChanged,
    UserPasswordReset,
    UserDisabled,
    UserEnabled,
    UserDeleted,
    SessionCreated,
    /// With `scope`: `session` (one), `others` (all but the caller's) or
    /// `all`.
    SessionRevoked,
    RefreshTokenReuseDetected,
    TotpEnabled,
    TotpDisabled,
    RecoveryCodesRegenerated,
    RecoveryCodeUsed,
    PasskeyAdded,
    PasskeyRemoved,
}

impl EventType {
    pub const ALL: [EventType; 17] = [
        Self::UserCreated,
        Self::UserEmailVerified,
        Self::UserEmailChanged,
        Self::UserPasswordChanged,
        Self::UserPasswordReset,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::UserDeleted,
        Self::SessionCreated,
        Self::SessionRevoked,
        Self::RefreshTokenReuseDetected,
        Self::TotpEnabled,
        Self::TotpDisabled,
        Self::RecoveryCodesRegenerated,
        Self::RecoveryCodeUsed,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
    ];

    /// The name in the body's `type` (and the outbox item's).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UserCreated => "user.created",
            Self::UserEmailVerified => "user.email_verified",
            Self::UserEmailChanged => "user.email_changed",
            Self::UserPasswordChanged => "user.password_changed",
            Self::UserPasswordReset => "user.password_reset",
            Self::UserDisabled => "user.disabled",
            Self::UserEnabled => "user.enabled",
            Self::UserDeleted => "user.deleted",
            Self::SessionCreated => "session.created",
            Self::SessionRevoked => "session.revoked",
            Self::RefreshTokenReuseDetected => "refresh_token.reuse_detected",
            Self::TotpEnabled => "totp.enabled",
            Self::TotpDisabled => "totp.disabled",
            Self::RecoveryCodesRegenerated => "recovery_codes.regenerated",
            Self::RecoveryCodeUsed => "recovery_code.used",
            Self::PasskeyAdded => "passkey.added",
            Self::PasskeyRemoved => "passkey.removed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// One event, as the outbox holds it until it is delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// A fresh UUID: the outbox item's key and every delivery's `webhook-id`
    /// (the same on each retry, so a receiver can drop a repeat).
    pub id: String,
    pub kind: EventType,
    /// Whose account: the order of delivery is kept per user.
    pub user_id: String,
    /// The body's `data`: `user_id` and the fields of the kind.
    pub data: Map<String, Value>,
    /// Epoch seconds.
    pub created_at: u64,
}

impl Event {
    /// An event of `kind` for `user_id` at `now`, with no more data than the
    /// user's id; add the kind's fields with [`Event::with`].
    pub fn new(kind: EventType, user_id: &str, now: u64) -> Self {
        let mut data = Map::new();
        data.insert("user_id".into(), Value::from(user_id));
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            kind,
            user_id: user_id.to_owned(),
            data,
            created_at: now,
        }
    }

    /// The event with one more field in its `data`.
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.data.insert(name.to_owned(), value.into());
        self
    }

    /// When its outbox item expires.
    pub fn expires_at(&self) -> u64 {
        self.created_at + EVENT_LIFETIME_SECONDS
    }

    /// The body every receiver gets, as JSON text (signed as it is sent).
    pub fn body(&self) -> String {
        json!({
            "type": self.kind.as_str(),
            "timestamp": crate::rfc3339(self.created_at),
            "data": self.data,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_parses_back_from_its_name() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventType::parse("user.hacked"), None);
    }

    #[test]
    fn the_body_has_the_standard_webhooks_shape() {
        let event = Event::new(EventType::SessionRevoked, "u1", 1_796_000_000).with("scope", "all");
        let body: Value = serde_json::from_str(&event.body()).unwrap();
        assert_eq!(
            body,
            json!({
                "type": "session.revoked",
                "timestamp": "2026-11-30T00:53:20Z",
                "data": {"user_id": "u1", "scope": "all"},
            })
        );
    }
}
