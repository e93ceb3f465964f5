//! Unit tests of [`super`].

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
    image_of(outbox_item(mail))
}

/// Any outbox item in DynamoDB JSON.
fn image_of(item: Item) -> Value {
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
async fn a_webhook_event_is_left_to_the_webhooks_function_not_failed() {
    use crate::store::dynamo::schema::event_item;
    use crate::webhooks::{Event, EventType};
    let postman = FakePostman::default();
    let event = Event::new(EventType::UserCreated, "u1", NOW).with("email", "ann@example.com");
    let failures = run(
        &postman,
        vec![
            record("100", "INSERT", image_of(event_item(&event))),
            insert("200", &mail(1, "bob@example.com")),
        ],
    )
    .await;
    // Neither a failure (so no dead letter) nor a mail, and the mail after
    // it goes as usual.
    assert!(failures.is_empty(), "{failures:?}");
    let sent = postman.sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "bob@example.com");
    assert_eq!(*postman.forgotten.lock().unwrap(), [mail(1, "").id]);
}

#[tokio::test]
async fn an_address_stored_before_the_address_rule_is_never_handed_to_ses() {
    let postman = FakePostman::default();
    let failures = run(
        &postman,
        vec![
            insert("100", &mail(1, "victim(1)@example.com")),
            insert("200", &mail(2, "a<b@example.com>")),
        ],
    )
    .await;
    // Failed (so Lambda retries, then dead-letters them), never sent.
    assert_eq!(failures, ["100", "200"]);
    assert!(postman.sent.lock().unwrap().is_empty());
    assert!(postman.forgotten.lock().unwrap().is_empty());
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
    let err = MailSettings::from_lookup(lookup(&[("PUBLIC_BASE_URL", "https://a.b")])).unwrap_err();
    assert!(err.0.contains("MAIL_FROM"), "{err}");
    let err = MailSettings::from_lookup(lookup(&[("MAIL_FROM", "a@b.c")])).unwrap_err();
    assert!(err.0.contains("PUBLIC_BASE_URL"), "{err}");
}
