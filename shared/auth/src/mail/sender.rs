//! The `mailer` function: it consumes the outbox table's DynamoDB stream
//! ([`crate::mail::outbox`]) and sends each new mail through Amazon SES (v2,
//! `SendEmail`), then deletes it from the outbox.
//!
//! Failures are reported per record (`ReportBatchItemFailures` in
//! template.yaml): Lambda resumes the batch at the lowest sequence number
//! reported, so the first record that cannot be sent is reported together with
//! every record after it, which are left unsent (they come again, and sending
//! them now would send them twice). With `BisectBatchOnFunctionError` Lambda
//! then splits the batch at that record and retries it alone, a bounded number
//! of times, after which the batch's description goes to the dead-letter queue
//! (`MailDeadLetterQueue`) and its alarm fires. Nothing is lost silently:
//! - a record whose image cannot be read is a failure too, so it reaches the
//!   dead-letter queue, not nowhere;
//! - a mail past its code's expiry is dropped, with a log line: its code would
//!   no longer work;
//! - a mail sent but not deleted afterwards is only logged (the item's TTL
//!   removes it): reporting it would send it again.
//!
//! Logs carry the outbox id and the kind of mail, never its address or code.

use crate::config::ConfigError;
use crate::mail::message::{Message, render};
use crate::mail::outbox::OutboxMail;
use crate::metrics::Metric;
use crate::store::dynamo::DynamoStore;
use crate::store::dynamo::schema::{Item, is_event_item, outbox_mail_from};
use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent};
use serde_json::Value;
use std::future::Future;

/// The mailer's settings: read by the mailer alone, so that no other function
/// needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    /// The sender (`MAIL_FROM`): an address of the SES identity the function
    /// may send as, optionally with a name (`token-auth <no-reply@example.com>`).
    pub from: String,
    /// Where the account page lives (`PUBLIC_BASE_URL`).
    pub base_url: String,
}

impl MailSettings {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let from = lookup("MAIL_FROM")
            .map(|from| from.trim().to_owned())
            .filter(|from| from.contains('@'))
            .ok_or_else(|| ConfigError("MAIL_FROM must be set to the sender's address".into()))?;
        let base_url = crate::config::public_base_url(&lookup)?.ok_or_else(|| {
            ConfigError("PUBLIC_BASE_URL is required by the mailer (the mails link to it)".into())
        })?;
        Ok(Self { from, base_url })
    }
}

/// What the mailer does with a mail: send it, and forget it once sent. SES and
/// the outbox table in Lambda ([`SesPostman`]); a recording fake in tests.
/// Errors are descriptions for the log, without address or code.
pub trait Postman: Sync {
    fn send(&self, to: &str, message: &Message) -> impl Future<Output = Result<(), String>> + Send;
    fn forget(&self, id: &str) -> impl Future<Output = Result<(), String>> + Send;
}

/// Sends through Amazon SES v2 and forgets in the outbox table.
pub struct SesPostman {
    pub ses: aws_sdk_sesv2::Client,
    pub store: DynamoStore,
    pub from: String,
}

impl Postman for SesPostman {
    async fn send(&self, to: &str, message: &Message) -> Result<(), String> {
        let content = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|error| format!("building the mail: {error}"))
        };
        let simple = aws_sdk_sesv2::types::Message::builder()
            .subject(content(&message.subject)?)
            .body(
                Body::builder()
                    .text(content(&message.text)?)
                    .html(content(&message.html)?)
                    .build(),
            )
            .build();
        self.ses
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(to).build())
            .content(EmailContent::builder().simple(simple).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|error| sdk_failure(&error))
    }

    async fn forget(&self, id: &str) -> Result<(), String> {
        self.store.forget_mail(id).await.map_err(|error| error.0)
    }
}

/// An SDK failure, told without the service's message: SES's messages can
/// name the recipient ("… failed the check …: ann@example.com").
fn sdk_failure<E, R>(error: &aws_sdk_sesv2::error::SdkError<E, R>) -> String
where
    E: aws_sdk_sesv2::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_sesv2::error::SdkError;
    match error {
        SdkError::ServiceError(service) => format!(
            "SES refused the mail: {}",
            service.err().code().unwrap_or("an unnamed error")
        ),
        SdkError::TimeoutError(_) => "SES did not answer in time".into(),
        SdkError::DispatchFailure(failure) if failure.is_io() => "SES unreachable".into(),
        SdkError::DispatchFailure(_) => "the request to SES failed".into(),
        SdkError::ResponseError(_) => "an unreadable answer from SES".into(),
        _ => "the mail could not be sent".into(),
    }
}

/// The SES v2 client on the shared SDK settings, but with its own endpoint:
/// `AWS_ENDPOINT_URL_SESV2` (a local emulator), else AWS's. The shared
/// settings may carry DynamoDB Local's endpoint, which must not apply here.
pub fn ses_client(sdk: &aws_config::SdkConfig) -> aws_sdk_sesv2::Client {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SESV2")
        .ok()
        .filter(|url| !url.is_empty());
    let mut config = aws_sdk_sesv2::config::Builder::from(sdk);
    config.set_endpoint_url(endpoint);
    aws_sdk_sesv2::Client::from_conf(config.build())
}

/// Why a batch could not be read at all: Lambda then retries it whole, and
/// bisects it, until the bad part reaches the dead-letter queue.
#[derive(Debug)]
pub struct UnreadableBatch(pub String);

impl std::fmt::Display for UnreadableBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unreadable stream batch: {}", self.0)
    }
}

impl std::error::Error for UnreadableBatch {}

/// What became of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Sent,
    /// Not an insert (the mailer's own delete, a TTL expiry), or not a mail
    /// (a webhook event): nothing to send.
    Ignored,
    Expired,
    Failed,
}

/// Handles one batch of the outbox stream, as Lambda's event source mapping
/// sends it (`{"Records": [...]}`): the answer lists the records to retry.
/// Each record is read on its own, so one unreadable record fails alone.
pub async fn handle_batch(
    event: &Value,
    settings: &MailSettings,
    postman: &impl Postman,
    now: u64,
) -> Result<DynamoDbEventResponse, UnreadableBatch> {
    let records = event
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| UnreadableBatch("no Records list".into()))?;
    let mut answer = DynamoDbEventResponse::default();
    let mut failed = false;
    for record in records {
        let Some(sequence) = record["dynamodb"]["SequenceNumber"].as_str() else {
            // Nothing to name it by: only the whole batch can fail.
            return Err(UnreadableBatch("a record without a sequence number".into()));
        };
        // After the first failure Lambda resumes at that record anyway: the
        // rest are left for then, so that none is sent twice.
        if failed || handle_record(record, settings, postman, now).await == Outcome::Failed {
            failed = true;
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(sequence.to_owned());
            answer.batch_item_failures.push(failure);
        }
    }
    Ok(answer)
}

async fn handle_record(
    record: &Value,
    settings: &MailSettings,
    postman: &impl Postman,
    now: u64,
) -> Outcome {
    let sequence = record["dynamodb"]["SequenceNumber"].as_str().unwrap_or("?");
    let record: EventRecord = match serde_json::from_value(record.clone()) {
        Ok(record) => record,
        Err(error) => {
            // serde_json's message names the field and the position, no value.
            tracing::error!(sequence, "unreadable stream record: {error}");
            return Outcome::Failed;
        }
    };
    if record.event_name != "INSERT" {
        tracing::debug!(sequence, event = %record.event_name, "not a new mail: ignored");
        return Outcome::Ignored;
    }
    let item: Item = record.change.new_image.into();
    // A webhook event shares the outbox (and its stream) with the mails:
    // the `webhooks` function delivers it, and it is no failure here.
    if is_event_item(&item) {
        tracing::debug!(sequence, "a webhook event, not a mail: ignored");
        return Outcome::Ignored;
    }
    let mail = match outbox_mail_from(&item) {
        Ok(mail) => mail,
        Err(error) => {
            // The codec's errors name attributes and kinds, never values.
            tracing::error!(sequence, "unreadable outbox item: {}", error.0);
            return Outcome::Failed;
        }
    };
    let outcome = send(&mail, settings, postman, now).await;
    crate::metrics::emit(match outcome {
        Outcome::Sent => &[Metric::MailsSent],
        Outcome::Expired => &[Metric::MailsExpired],
        Outcome::Failed => &[Metric::MailsFailed],
        Outcome::Ignored => &[],
    });
    outcome
}

async fn send(
    mail: &OutboxMail,
    settings: &MailSettings,
    postman: &impl Postman,
    now: u64,
) -> Outcome {
    let (id, kind) = (mail.id.as_str(), mail.kind.as_str());
    if mail.expires_at <= now {
        tracing::warn!(
            id,
            kind,
            late_seconds = now - mail.expires_at,
            "mail dropped unsent: too late to be of use"
        );
        return Outcome::Expired;
    }
    // An address stored before today's rule (a display name, a comment, a
    // second mailbox in it) is never handed to SES, which would read it as
    // RFC 5322 and mail someone else: the record fails until it is
    // dead-lettered. The log names the mail, not the address.
    if crate::credentials::normalize_email(&mail.to)
        .ok()
        .as_deref()
        != Some(mail.to.as_str())
    {
        tracing::error!(
            id,
            kind,
            "mail not sent: its address fails the address rule"
        );
        return Outcome::Failed;
    }
    let message = render(mail, &settings.base_url);
    if let Err(error) = postman.send(&mail.to, &message).await {
        tracing::error!(id, kind, "mail not sent, to be retried: {error}");
        return Outcome::Failed;
    }
    tracing::info!(id, kind, "mail sent");
    if let Err(error) = postman.forget(id).await {
        // Sent: a retry would send it again. Its TTL removes it.
        tracing::warn!(id, kind, "mail sent but left in the outbox: {error}");
    }
    Outcome::Sent
}

#[cfg(test)]
mod tests;
