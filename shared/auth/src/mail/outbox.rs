//! The transactional outbox: a mail the service owes someone, written in the
//! same DynamoDB transaction as the code it carries, so that an endpoint
//! answers without waiting on the mail service and no code is ever stored
//! without its mail (or the reverse).
//!
//! The outbox table (partition key `id`, TTL attribute `expires_at`, stream
//! with `NEW_IMAGE`) holds one item per mail:
//! `{id, kind, to, code, created_at, expires_at}`. The `mailer` function
//! consumes the table's stream, sends each new item through Amazon SES and then
//! deletes it. The code is in plain text here, because the mail must carry it;
//! that is why an item lives no longer than its code (`expires_at`) and is
//! deleted as soon as it is sent.

use serde::{Deserialize, Serialize};

/// What a mail is for; its wording and its link follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// Confirms the address: sent at registration and on request.
    VerifyEmail,
    /// Resets a forgotten password.
    ResetPassword,
}

impl MailKind {
    pub const ALL: [MailKind; 2] = [Self::VerifyEmail, Self::ResetPassword];

    /// As stored in the item's `kind` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }

    pub fn parse(kind: &str) -> Option<Self> {
        match kind {
            "verify_email" => Some(Self::VerifyEmail),
            "reset_password" => Some(Self::ResetPassword),
            _ => None,
        }
    }
}

/// One mail in the outbox.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboxMail {
    /// A fresh UUID: the item's key, and the SES message's idempotency anchor.
    pub id: String,
    pub kind: MailKind,
    /// The normalised address.
    pub to: String,
    /// The one-time code, 8 digits.
    pub code: String,
    /// Epoch seconds.
    pub created_at: u64,
    /// When the code expires (epoch seconds): the item's TTL, and a mail still
    /// unsent by then is not worth sending.
    pub expires_at: u64,
}

// Never show a code, even in a debug print.
impl std::fmt::Debug for OutboxMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxMail")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}
