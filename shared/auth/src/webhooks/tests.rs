//! The webhooks function's two halves with a recording queue and a scripted
//! receiver; the real SQS, pumps and receiver are tests/webhooks.rs's.

use super::delivery::{Delivery, Poster, deliver_batch};
use super::fan_out::{Queue, fan_out};
use super::settings::{Receiver, WebhookSettings};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn settings_from(pairs: &[(&str, &str)]) -> Result<WebhookSettings, String> {
    let map: HashMap<&str, &str> = pairs.iter().copied().collect();
    WebhookSettings::from_lookup(|name| map.get(name).map(|value| (*value).to_owned()))
        .map_err(|error| error.0)
}

const QUEUES: [(&str, &str); 2] = [
    ("WEBHOOK_QUEUE_URL", "http://sqs/q.fifo"),
    ("WEBHOOK_DEAD_LETTER_QUEUE_URL", "http://sqs/dlq.fifo"),
];

fn two_receivers() -> WebhookSettings {
    let mut pairs = QUEUES.to_vec();
    pairs.extend([
        (
            "WEBHOOK_URLS",
            "https://a.example/hook, https://b.example/hook",
        ),
        ("WEBHOOK_SECRET", SECRET),
        ("WEBHOOK_RETRY_SECONDS", "5,60"),
    ]);
    settings_from(&pairs).unwrap()
}

#[test]
fn settings_read_receivers_secrets_and_the_retry_schedule() {
    let settings = two_receivers();
    assert_eq!(settings.receivers.len(), 2);
    assert_eq!(settings.receivers[1].url, "https://b.example/hook");
    assert_eq!(settings.retry_delays, [5, 60]);
    assert_eq!(settings.tries(), 3);
    // None configured: nothing to deliver, and no secret needed.
    let none = settings_from(&QUEUES).unwrap();
    assert!(none.receivers.is_empty());
    assert_eq!(none.retry_delays, [30, 120, 600, 3600, 21600]);
}

#[test]
fn bad_settings_are_refused_without_showing_the_secret() {
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = QUEUES.to_vec();
        pairs.extend_from_slice(extra);
        settings_from(&pairs).unwrap_err()
    };
    let url = ("WEBHOOK_URLS", "https://a.example/hook");
    assert!(with(&[url]).contains("WEBHOOK_SECRET is required"));
    let error = with(&[url, ("WEBHOOK_SECRET", "plain-secret-value")]);
    assert!(
        error.contains("whsec_") && !error.contains("plain-secret-value"),
        "{error}"
    );
    let two_secrets = (
        "WEBHOOK_SECRET",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    );
    assert!(with(&[url, two_secrets]).contains("one per URL"));
    assert!(with(&[("WEBHOOK_URLS", "ftp://a.example")]).contains("http(s)"));
    let secret = ("WEBHOOK_SECRET", SECRET);
    assert!(
        with(&[url, secret, ("WEBHOOK_RETRY_SECONDS", "5,soon")]).contains("WEBHOOK_RETRY_SECONDS")
    );
    assert!(with(&[url, secret, ("WEBHOOK_RETRY_SECONDS", "50000")]).contains("43200"));
    assert!(
        settings_from(&[url, secret])
            .unwrap_err()
            .contains("WEBHOOK_QUEUE_URL")
    );
}

/// Records what reaches the queue; refuses to enqueue while `down`.
#[derive(Default)]
struct FakeQueue {
    down: bool,
    enqueued: Mutex<Vec<Delivery>>,
    held: Mutex<Vec<(String, u32)>>,
    dead: Mutex<Vec<Delivery>>,
}

impl Queue for FakeQueue {
    async fn enqueue(&self, deliveries: &[Delivery]) -> Result<(), String> {
        if self.down {
            return Err("SQS unreachable".into());
        }
        self.enqueued.lock().unwrap().extend_from_slice(deliveries);
        Ok(())
    }
    async fn retry_later(&self, receipt_handle: &str, seconds: u32) -> Result<(), String> {
        self.held
            .lock()
            .unwrap()
            .push((receipt_handle.to_owned(), seconds));
        Ok(())
    }
    async fn dead_letter(&self, delivery: &Delivery) -> Result<(), String> {
        self.dead.lock().unwrap().push(delivery.clone());
        Ok(())
    }
}

/// Answers per receiver URL, and records each try.
#[derive(Default)]
struct FakeReceivers {
    failing: Vec<String>,
    tries: Mutex<Vec<(String, String)>>,
}

impl Poster for FakeReceivers {
    async fn post(
        &self,
        receiver: &Receiver,
        delivery: &Delivery,
        _now: u64,
    ) -> Result<(), String> {
        self.tries
            .lock()
            .unwrap()
            .push((receiver.url.clone(), delivery.webhook_id()));
        match self.failing.contains(&receiver.url) {
            true => Err("answered 503".into()),
            false => Ok(()),
        }
    }
}

fn stream_record(sequence: &str, image: Value) -> Value {
    json!({"eventID": sequence, "eventName": "INSERT", "eventVersion": "1.1",
           "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
           "eventSourceARN": "arn:aws:dynamodb:us-east-1:1:table/OutboxTable/stream/1",
           "dynamodb": {"ApproximateCreationDateTime": 1, "Keys": {"id": image["id"]},
                        "NewImage": image, "SequenceNumber": sequence, "SizeBytes": 1,
                        "StreamViewType": "NEW_IMAGE"}})
}

fn event_image(id: &str, user_id: &str) -> Value {
    json!({"id": {"S": id}, "kind": {"S": "event"}, "type": {"S": "user.created"},
           "user_id": {"S": user_id}, "body": {"S": "{\"type\":\"user.created\"}"},
           "created_at": {"N": "1"}, "expires_at": {"N": "86401"}})
}

#[tokio::test]
async fn each_event_is_enqueued_once_per_receiver_grouped_by_receiver_and_user() {
    let queue = FakeQueue::default();
    let mail = json!({"id": {"S": "m1"}, "kind": {"S": "verify_email"}});
    let batch = json!({"Records": [
        stream_record("1", event_image("e1", "u1")),
        stream_record("2", mail),
        stream_record("3", event_image("e2", "u2")),
    ]});
    let answer = fan_out(&batch, &two_receivers(), &queue).await;
    assert!(answer.batch_item_failures.is_empty());
    let enqueued = queue.enqueued.lock().unwrap();
    let groups: Vec<String> = enqueued.iter().map(Delivery::group).collect();
    assert_eq!(groups, ["0.u1", "1.u1", "0.u2", "1.u2"]);
    let dedup: Vec<String> = enqueued.iter().map(Delivery::deduplication_id).collect();
    assert_eq!(dedup, ["e1.0", "e1.1", "e2.0", "e2.1"]);
}

#[tokio::test]
async fn a_queue_that_refuses_fails_that_record_and_every_one_after_it() {
    let queue = FakeQueue {
        down: true,
        ..FakeQueue::default()
    };
    let batch = json!({"Records": [
        stream_record("7", event_image("e1", "u1")),
        stream_record("8", event_image("e2", "u1")),
    ]});
    let answer = fan_out(&batch, &two_receivers(), &queue).await;
    let failed: Vec<_> = (answer.batch_item_failures.iter())
        .map(|failure| failure.item_identifier.clone().unwrap())
        .collect();
    assert_eq!(failed, ["7", "8"]);
}

fn queue_record(message_id: &str, delivery: &Delivery, receive_count: u32) -> Value {
    json!({"messageId": message_id, "receiptHandle": format!("receipt-{message_id}"),
           "eventSource": "aws:sqs", "body": serde_json::to_string(delivery).unwrap(),
           "attributes": {"ApproximateReceiveCount": receive_count.to_string(),
                          "MessageGroupId": delivery.group()}})
}

fn delivery(receiver: usize, id: &str, user_id: &str) -> Delivery {
    Delivery {
        receiver,
        id: id.into(),
        kind: "session.revoked".into(),
        user_id: user_id.into(),
        body: "{}".into(),
    }
}

fn failed_ids(answer: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<&str> {
    (answer.batch_item_failures.iter())
        .map(|failure| failure.item_identifier.as_str())
        .collect()
}

#[tokio::test]
async fn a_failed_try_is_held_back_for_its_wait_and_its_group_waits_behind_it() {
    let settings = two_receivers();
    let queue = FakeQueue::default();
    let receivers = FakeReceivers {
        failing: vec!["https://b.example/hook".into()],
        ..Default::default()
    };
    let batch = json!({"Records": [
        queue_record("m1", &delivery(1, "e1", "u1"), 2),
        queue_record("m2", &delivery(1, "e2", "u1"), 1),
        queue_record("m3", &delivery(0, "e1", "u1"), 1),
    ]});
    let answer = deliver_batch(&batch, &settings, &queue, &receivers, 0).await;
    // m1 failed on its second try: held 60 s; m2, same group, not tried.
    assert_eq!(failed_ids(&answer), ["m1", "m2"]);
    assert_eq!(*queue.held.lock().unwrap(), [("receipt-m1".to_owned(), 60)]);
    let tries = receivers.tries.lock().unwrap();
    assert_eq!(
        *tries,
        [
            ("https://b.example/hook".to_owned(), "msg_e1".to_owned()),
            ("https://a.example/hook".to_owned(), "msg_e1".to_owned()),
        ]
    );
    assert!(queue.dead.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_last_try_that_fails_goes_to_the_dead_letters_and_leaves_the_queue() {
    let settings = two_receivers();
    let queue = FakeQueue::default();
    let receivers = FakeReceivers {
        failing: vec!["https://a.example/hook".into()],
        ..Default::default()
    };
    let last = delivery(0, "e9", "u1");
    let batch = json!({"Records": [queue_record("m1", &last, settings.tries())]});
    let answer = deliver_batch(&batch, &settings, &queue, &receivers, 0).await;
    assert!(answer.batch_item_failures.is_empty());
    assert_eq!(*queue.dead.lock().unwrap(), [last]);
    assert!(queue.held.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_delivery_for_a_receiver_no_longer_configured_is_dropped() {
    let queue = FakeQueue::default();
    let receivers = FakeReceivers::default();
    let batch = json!({"Records": [queue_record("m1", &delivery(5, "e1", "u1"), 1)]});
    let answer = deliver_batch(&batch, &two_receivers(), &queue, &receivers, 0).await;
    assert!(answer.batch_item_failures.is_empty());
    assert!(receivers.tries.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_unreadable_message_is_kept_for_the_redrive_policy() {
    let queue = FakeQueue::default();
    let batch = json!({"Records": [{"messageId": "m1", "eventSource": "aws:sqs", "body": "not json",
                                    "attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": "0.u1"}}]});
    let answer = deliver_batch(
        &batch,
        &two_receivers(),
        &queue,
        &FakeReceivers::default(),
        0,
    )
    .await;
    assert_eq!(failed_ids(&answer), ["m1"]);
}

#[test]
fn a_batch_says_which_half_it_is_for() {
    assert!(super::is_queue_batch(
        &json!({"Records": [{"eventSource": "aws:sqs"}]})
    ));
    assert!(!super::is_queue_batch(
        &json!({"Records": [{"eventSource": "aws:dynamodb"}]})
    ));
    assert!(!super::is_queue_batch(&json!({"Records": []})));
}
