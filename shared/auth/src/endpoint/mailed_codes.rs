//! What the code endpoints share: mailing a fresh code (counted against the
//! hourly mail limits first) and checking one that came back.

use super::App;
use crate::credentials::one_time_code;
use crate::credentials::{normalize_email, required_string};
use crate::http::error::ApiError;
use crate::http::request::client_address;
use crate::mail::outbox::{MailKind, OutboxMail};
use crate::store::access::{Access, Items};
use crate::store::{CodeAttempt, LoginRecord, NewCode, Redemption, Store};
use crate::throttle;
use lambda_http::Request;
use serde_json::Value;

/// Mailing a code: the hourly mail counters, then the code and its mail in
/// one transaction, only if the address has an account.
pub const MAIL_A_CODE: &[Access] = &[
    Access::users("UpdateItem", &[Items::Mails]),
    Access::users("ConditionCheckItem", &[Items::Email]),
    Access::users("PutItem", &[Items::Code]),
    Access::outbox("PutItem"),
];

/// Using a code up: the account and the code read together; a wrong guess
/// counted on the code; or the code deleted with the address marked verified
/// (login record and profile) in one transaction.
pub const REDEEM_A_CODE: &[Access] = &[
    Access::users("BatchGetItem", &[Items::Email, Items::Code]),
    Access::users("UpdateItem", &[Items::Code]),
    Access::users("UpdateItem", &[Items::Email, Items::User]),
];

/// Counts a code mail to `email` against the address's and the source's
/// hourly limits, whether or not the address has an account: 429 once either
/// is full, the same for known and unknown addresses. Both counters are
/// written together, in one round trip.
pub async fn count_mail<S: Store>(
    app: &App<S>,
    email: &str,
    request: &Request,
    now: u64,
) -> Result<(), ApiError> {
    let client = client_address(request, app.config.trusted_proxy);
    let counters = throttle::mail_counters(email, client, &app.config, now);
    let counts = counters
        .iter()
        .map(|(counter, window_end)| app.store.count_in_window(counter, *window_end));
    let counted = futures_util::future::try_join_all(counts).await?;
    let full = counters
        .iter()
        .zip(counted)
        .filter(|(_, counted)| !counted)
        .map(|((_, window_end), _)| window_end.saturating_sub(now).max(1))
        .max();
    match full {
        Some(retry_after) => Err(ApiError::TooManyMails { retry_after }),
        None => Ok(()),
    }
}

/// A fresh code of `kind` for `email`, and the mail that carries it: what the
/// store writes together.
pub fn new_code<S>(
    app: &App<S>,
    kind: MailKind,
    email: &str,
    now: u64,
) -> Result<NewCode, ApiError> {
    let code = one_time_code::new_code()?;
    Ok(NewCode {
        code_hash: app.code_key.hash(kind, email, &code),
        mail: OutboxMail {
            id: uuid::Uuid::new_v4().to_string(),
            kind,
            to: email.to_owned(),
            code,
            created_at: now,
            expires_at: now + one_time_code::lifetime_seconds(kind),
        },
    })
}

/// The `{"email", "code"}` of a code sent back, the address normalised as
/// at registration. A code of the wrong shape is an invalid code, with no
/// detail.
pub fn email_and_code(
    email: Option<Value>,
    code: Option<Value>,
) -> Result<(String, String), ApiError> {
    let email = normalize_email(&required_string("email", email)?)?;
    let code = required_string("code", code)?;
    if !one_time_code::is_code_shaped(&code) {
        return Err(ApiError::InvalidCode);
    }
    Ok((email, code))
}

/// A code that matched its pending copy: the account, and what using it up
/// writes against.
pub struct MatchedCode {
    pub record: LoginRecord,
    kind: MailKind,
    email: String,
    code_hash: String,
    now: u64,
}

impl MatchedCode {
    /// The write that uses the code up, holding only while it is the one
    /// matched.
    pub fn redemption(&self) -> Redemption<'_> {
        Redemption {
            kind: self.kind,
            email: &self.email,
            user_id: &self.record.user_id,
            code_hash: &self.code_hash,
            now: self.now,
        }
    }
}

/// Checks `code` against `email`'s pending code of `kind` (one read): a
/// match when it is the code, unexpired, with tries left, for an account.
/// Anything else counts a wrong try against the pending code, if there is
/// one, and is [`ApiError::InvalidCode`].
pub async fn check_code<S: Store>(
    app: &App<S>,
    kind: MailKind,
    email: &str,
    code: &str,
    now: u64,
) -> Result<MatchedCode, ApiError> {
    let CodeAttempt {
        record,
        code: stored,
    } = app.store.code_attempt(kind, email).await?;
    let matched = stored.filter(|stored| {
        stored.expires_at > now
            && stored.wrong_tries < one_time_code::MAX_WRONG_TRIES
            && app.code_key.matches(kind, email, code, &stored.code_hash)
    });
    match (record, matched) {
        (Some(record), Some(stored)) => Ok(MatchedCode {
            record,
            kind,
            email: email.to_owned(),
            code_hash: stored.code_hash,
            now,
        }),
        _ => {
            app.store.count_wrong_code(kind, email).await?;
            Err(ApiError::InvalidCode)
        }
    }
}
