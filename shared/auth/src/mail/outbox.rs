//! The transactional outbox: a mail the service owes someone, written in the
//! same DynamoDB transaction as the code it carries, so that an endpoint
//! answers without waiting on the mail service and no code is ever stored
//! without its mail (or the reverse).
//!
//! Notices (two-step sign-in turned on or off, a recovery code used) travel
//! the same way, written in the transaction of the change they tell of, with
//! no code.
//!
//! The outbox table (partition key `id`, TTL attribute `expires_at`, stream
//! with `NEW_IMAGE`) holds one item per mail:
//! `{id, kind, to, code, created_at, expires_at}` (no `code` for a notice). The `mailer` function
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
    /// Notice: two-step sign-in turned on by its owner.
    TotpOn,
    /// Notice: two-step sign-in turned off by its owner.
    TotpOff,
    /// Notice: two-step sign-in turned off by an administrator.
    TotpReset,
    /// Notice: a recovery code signed someone in.
    RecoveryCodeUsed,
    /// Confirms a new address for the account: the code of an email change,
    /// sent to the new address.
    EmailChange,
    /// Notice, to the old address: a change of the account's address was
    /// asked for.
    EmailChangeRequested,
    /// Notice: a passkey's signature counter did not grow (a clone?), and
    /// the sign-in was refused.
    PasskeyCloned,
}

impl MailKind {
    /// The kinds that carry a one-time code (each with its code item).
    pub const WITH_CODE: [MailKind; 3] =
        [Self::VerifyEmail, Self::ResetPassword, Self::EmailChange];

    /// The kinds that tell the owner of a change, with no code.
    pub const NOTICES: [MailKind; 6] = [
        Self::TotpOn,
        Self::TotpOff,
        Self::TotpReset,
        Self::RecoveryCodeUsed,
        Self::EmailChangeRequested,
        Self::PasskeyCloned,
    ];

    pub fn carries_code(self) -> bool {
        Self::WITH_CODE.contains(&self)
    }

    /// As stored in the item's `kind` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::TotpOn => "totp_on",
            Self::TotpOff => "totp_off",
            Self::TotpReset => "totp_reset",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::EmailChange => "email_change",
            Self::EmailChangeRequested => "email_change_requested",
            Self::PasskeyCloned => "passkey_cloned",
        }
    }

    pub fn parse(kind: &str) -> Option<Self> {
        match kind {
            "verify_email" => Some(Self::VerifyEmail),
            "reset_password" => Some(Self::ResetPassword),
            "totp_on" => Some(Self::TotpOn),
            "totp_off" => Some(Self::TotpOff),
            "totp_reset" => Some(Self::TotpReset),
            "recovery_code_used" => Some(Self::RecoveryCodeUsed),
            "email_change" => Some(Self::EmailChange),
            "email_change_requested" => Some(Self::EmailChangeRequested),
            "passkey_cloned" => Some(Self::PasskeyCloned),
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
    /// The one-time code, 8 digits; empty for a notice.
    pub code: String,
    /// Epoch seconds.
    pub created_at: u64,
    /// When the code expires (epoch seconds): the item's TTL, and a mail still
    /// unsent by then is not worth sending.
    pub expires_at: u64,
}

/// How long a notice is worth sending, in seconds: a day.
pub const NOTICE_LIFETIME_SECONDS: u64 = 24 * 60 * 60;

impl OutboxMail {
    /// A notice of `kind` to `email`, written at `now`.
    pub fn notice(kind: MailKind, email: &str, now: u64) -> Self {
        debug_assert!(!kind.carries_code());
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            kind,
            to: email.to_owned(),
            code: String::new(),
            created_at: now,
            expires_at: now + NOTICE_LIFETIME_SECONDS,
        }
    }
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
