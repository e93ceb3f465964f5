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
use crate::store::dynamo::DynamoStore;
use crate::store::dynamo::schema::{Item, outbox_mail_from};
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
    /// Not an insert (the mailer's own delete, a TTL expiry): nothing to send.
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
    let mail = match outbox_mail_from(&item) {
        Ok(mail) => mail,
        Err(error) => {
            // The codec's errors name attributes and kinds, never values.
            tracing::error!(sequence, "unreadable outbox item: {}", error.0);
            return Outcome::Failed;
        }
    };
    send(&mail, settings, postman, now).await
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
            "mail dropped unsent: its code has expired"
        );
        return Outcome::Expired;
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
mod tests {
    use super::*;
    use crate::mail::outbox::MailKind;
    use crate::store::dynamo::schema::outbox_item;
    use serde_json::json;
    use std::sync::Mutex;

    const NOW: u64 = 1_795_626_000;

    /// Sends what it is given unless the address is in `refuse`; records all.
    #[derive(Default)]
    struct FakePostman {
        refuse: Vec<String>,
        forget_fails: bool,
        sent: Mutex<Vec<(String, Message)>>,
        forgotten: Mutex<Vec<String>>,
    }

    impl Postman for FakePostman {
        async fn send(&self, to: &str, message: &Message) -> Result<(), String> {
            if self.refuse.iter().any(|refused| refused == to) {
                return Err("SES unreachable".into());
            }
            self.sent
                .lock()
                .unwrap()
                .push((to.to_owned(), message.clone()));
            Ok(())
        }

        async fn forget(&self, id: &str) -> Result<(), String> {
            self.forgotten.lock().unwrap().push(id.to_owned());
            if self.forget_fails {
                Err("DynamoDB unreachable".into())
            } else {
                Ok(())
            }
        }
    }

    fn settings() -> MailSettings {
        MailSettings {
            from: "no-reply@token-auth.local".into(),
            base_url: "https://auth.example.com".into(),
        }
    }

    fn mail(n: u32, to: &str) -> OutboxMail {
        OutboxMail {
            id: format!("00000000-0000-4000-8000-00000000000{n}"),
            kind: MailKind::ResetPassword,
            to: to.into(),
            code: format!("1234567{n}"),
            created_at: NOW - 60,
            expires_at: NOW + 840,
        }
    }

    /// A stream record as Lambda delivers it, the image in DynamoDB JSON.
    fn record(sequence: &str, event_name: &str, image: Value) -> Value {
        json!({
            "eventID": format!("event-{sequence}"),
            "eventName": event_name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/OutboxTable/stream/2026-11-30T00:00:00.000",
            "dynamodb": {
                "ApproximateCreationDateTime": NOW,
                "Keys": {"id": image.get("id").cloned().unwrap_or(json!({"S": "x"}))},
                "NewImage": image,
                "SequenceNumber": sequence,
                "SizeBytes": 200,
                "StreamViewType": "NEW_IMAGE"
            }
        })
    }

    /// An outbox item in DynamoDB JSON, written by the store's own codec.
    fn image(mail: &OutboxMail) -> Value {
        let item = outbox_item(mail);
        let mut image = serde_json::Map::new();
        for (name, value) in item {
            let value = match value {
                aws_sdk_dynamodb::types::AttributeValue::S(s) => json!({ "S": s }),
                aws_sdk_dynamodb::types::AttributeValue::N(n) => json!({ "N": n }),
                other => panic!("an outbox attribute of another type: {other:?}"),
            };
            image.insert(name, value);
        }
        Value::Object(image)
    }

    fn insert(sequence: &str, mail: &OutboxMail) -> Value {
        record(sequence, "INSERT", image(mail))
    }

    async fn run(postman: &FakePostman, records: Vec<Value>) -> Vec<String> {
        let event = json!({ "Records": records });
        let answer = handle_batch(&event, &settings(), postman, NOW)
            .await
            .unwrap();
        answer
            .batch_item_failures
            .into_iter()
            .map(|failure| failure.item_identifier.unwrap())
            .collect()
    }

    #[tokio::test]
    async fn each_new_mail_is_sent_rendered_then_forgotten() {
        let postman = FakePostman::default();
        let failures = run(
            &postman,
            vec![
                insert("100", &mail(1, "ann@example.com")),
                insert("200", &mail(2, "bob@example.com")),
            ],
        )
        .await;
        assert!(failures.is_empty(), "{failures:?}");
        let sent = postman.sent.lock().unwrap();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].0, "ann@example.com");
        assert!(sent[0].1.text.contains("12345671"));
        assert!(
            sent[0]
                .1
                .text
                .contains("/account#reset?email=ann%40example.com&code=12345671")
        );
        assert_eq!(
            *postman.forgotten.lock().unwrap(),
            [mail(1, "").id, mail(2, "").id]
        );
        // The answer Lambda reads: an empty list is a complete success.
        let answer = serde_json::to_value(DynamoDbEventResponse::default()).unwrap();
        assert_eq!(answer, json!({"batchItemFailures": []}));
    }

    #[tokio::test]
    async fn a_failed_send_is_reported_with_the_records_after_it_and_those_stay_unsent() {
        let postman = FakePostman {
            refuse: vec!["bad@example.com".into()],
            ..FakePostman::default()
        };
        let failures = run(
            &postman,
            vec![
                insert("100", &mail(1, "ann@example.com")),
                insert("200", &mail(2, "bad@example.com")),
                insert("300", &mail(3, "cid@example.com")),
            ],
        )
        .await;
        assert_eq!(failures, ["200", "300"]);
        let sent: Vec<String> = postman
            .sent
            .lock()
            .unwrap()
            .iter()
            .map(|(to, _)| to.clone())
            .collect();
        assert_eq!(sent, ["ann@example.com"]);
        assert_eq!(*postman.forgotten.lock().unwrap(), [mail(1, "").id]);
        let mut answer = DynamoDbEventResponse::default();
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some("200".into());
        answer.batch_item_failures.push(failure);
        assert_eq!(
            serde_json::to_value(answer).unwrap(),
            json!({"batchItemFailures": [{"itemIdentifier": "200"}]})
        );
    }

    #[tokio::test]
    async fn removals_and_updates_are_ignored() {
        let postman = FakePostman::default();
        let removed = record("100", "REMOVE", json!({}));
        // DynamoDB Local's TTL deletes.
        let expired_by_ttl = record("200", "UNKNOWN_TO_SDK_VERSION", json!({}));
        let modified = record("300", "MODIFY", image(&mail(1, "ann@example.com")));
        let failures = run(&postman, vec![removed, expired_by_ttl, modified]).await;
        assert!(failures.is_empty(), "{failures:?}");
        assert!(postman.sent.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_expired_mail_is_dropped_unsent_and_not_retried() {
        let postman = FakePostman::default();
        let mut late = mail(1, "ann@example.com");
        late.expires_at = NOW;
        let failures = run(&postman, vec![insert("100", &late)]).await;
        assert!(failures.is_empty(), "{failures:?}");
        assert!(postman.sent.lock().unwrap().is_empty());
        assert!(postman.forgotten.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_unreadable_record_is_a_failure_not_a_silent_drop() {
        let postman = FakePostman::default();
        let mut no_code = image(&mail(1, "ann@example.com"));
        no_code.as_object_mut().unwrap().remove("code");
        let mut odd_kind = image(&mail(2, "bob@example.com"));
        odd_kind["kind"] = json!({"S": "newsletter"});
        for bad in [
            record("100", "INSERT", no_code),
            record("100", "INSERT", odd_kind),
            // Not a stream record at all, but with a sequence number.
            json!({"eventName": "INSERT", "dynamodb": {"SequenceNumber": "100"}}),
        ] {
            let failures = run(
                &postman,
                vec![bad, insert("200", &mail(3, "cid@example.com"))],
            )
            .await;
            assert_eq!(failures, ["100", "200"]);
        }
        assert!(postman.sent.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_batch_that_cannot_be_read_fails_whole() {
        let postman = FakePostman::default();
        for event in [json!({}), json!({"Records": [{"eventName": "INSERT"}]})] {
            assert!(
                handle_batch(&event, &settings(), &postman, NOW)
                    .await
                    .is_err()
            );
        }
    }

    #[tokio::test]
    async fn a_sent_mail_that_cannot_be_forgotten_is_not_sent_again() {
        let postman = FakePostman {
            forget_fails: true,
            ..FakePostman::default()
        };
        let failures = run(&postman, vec![insert("100", &mail(1, "ann@example.com"))]).await;
        assert!(
            failures.is_empty(),
            "a retry would send it twice: {failures:?}"
        );
        assert_eq!(postman.sent.lock().unwrap().len(), 1);
    }

    #[test]
    fn the_mailer_needs_a_sender_and_a_base_url() {
        let lookup = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            }
        };
        let settings = MailSettings::from_lookup(lookup(&[
            ("MAIL_FROM", "token-auth <no-reply@example.com>"),
            ("PUBLIC_BASE_URL", "https://auth.example.com/"),
        ]))
        .unwrap();
        assert_eq!(settings.base_url, "https://auth.example.com");
        let err =
            MailSettings::from_lookup(lookup(&[("PUBLIC_BASE_URL", "https://a.b")])).unwrap_err();
        assert!(err.0.contains("MAIL_FROM"), "{err}");
        let err = MailSettings::from_lookup(lookup(&[("MAIL_FROM", "a@b.c")])).unwrap_err();
        assert!(err.0.contains("PUBLIC_BASE_URL"), "{err}");
    }
}
