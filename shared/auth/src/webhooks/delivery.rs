//! The `webhooks` function's second half: from the delivery queue to the
//! receivers, signed per Standard Webhooks, retried with backoff, and
//! dead-lettered after the last try.
//!
//! - `webhook-id` is `msg_` and the event's id: the same on every try and at
//!   every receiver, so a receiver drops a repeat (delivery is at least once).
//! - A failed try (no 2xx within the timeout) holds the message back for the
//!   next wait of `WEBHOOK_RETRY_SECONDS` (its visibility timeout) and is
//!   reported to Lambda as failed, so SQS keeps it and the rest of its group
//!   (the same user at the same receiver) waits behind it: order per user.
//! - After the last try it goes to the dead-letter queue, whose depth raises
//!   an alarm, and leaves the delivery queue.
//!
//! Logs name the event and the receiver's position, never the body.

use super::fan_out::Queue;
use super::settings::{Receiver, WebhookSettings};
use crate::metrics::Metric;
use crate::store::dynamo::schema::OutboxEvent;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;
use std::future::Future;

/// One event for one receiver: the delivery queue's message body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The receiver's position in `WEBHOOK_URLS`.
    pub receiver: usize,
    /// The event's id.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub user_id: String,
    /// The body sent, as the event wrote it.
    pub body: String,
}

impl Delivery {
    pub fn of(event: &OutboxEvent, receiver: usize) -> Self {
        Self {
            receiver,
            id: event.id.clone(),
            kind: event.kind.clone(),
            user_id: event.user_id.clone(),
            body: event.body.clone(),
        }
    }

    /// The FIFO group: SQS hands out one message of a group at a time, in order.
    pub fn group(&self) -> String {
        format!("{}.{}", self.receiver, self.user_id)
    }

    /// SQS drops a message sent again with this id within five minutes.
    pub fn deduplication_id(&self) -> String {
        format!("{}.{}", self.id, self.receiver)
    }

    /// The `webhook-id` header.
    pub fn webhook_id(&self) -> String {
        format!("msg_{}", self.id)
    }
}

/// What sends a delivery to its receiver: HTTPS in Lambda ([`HttpPoster`]),
/// a scripted fake in unit tests. The error says why, for the log.
pub trait Poster: Sync {
    fn post(
        &self,
        receiver: &Receiver,
        delivery: &Delivery,
        now: u64,
    ) -> impl Future<Output = Result<(), String>> + Send;
}

/// Signed POSTs over reqwest (rustls), with the settings' timeout, no redirects.
pub struct HttpPoster {
    pub client: reqwest::Client,
}

impl HttpPoster {
    pub fn new(settings: &WebhookSettings) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            // A receiver that redirects is misconfigured: do not follow it elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| format!("no HTTP client: {error}"))?;
        Ok(Self { client })
    }
}

impl Poster for HttpPoster {
    async fn post(&self, receiver: &Receiver, delivery: &Delivery, now: u64) -> Result<(), String> {
        let signed = receiver
            .secret
            .sign(&delivery.webhook_id(), now, delivery.body.as_bytes());
        let response = self
            .client
            .post(&receiver.url)
            .header("content-type", "application/json")
            .header("webhook-id", signed.id)
            .header("webhook-timestamp", signed.timestamp)
            .header("webhook-signature", signed.signature)
            .body(delivery.body.clone())
            .send()
            .await
            // reqwest's errors name the URL and the kind of failure, not the body.
            .map_err(|error| format!("no answer: {}", error.without_url()))?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status => Err(format!("answered {}", status.as_u16())),
        }
    }
}

/// Handles one batch of the delivery queue, as Lambda's SQS event source
/// mapping sends it; the answer lists the messages SQS must keep.
pub async fn deliver_batch(
    event: &Value,
    settings: &WebhookSettings,
    queue: &impl Queue,
    poster: &impl Poster,
    now: u64,
) -> SqsBatchResponse {
    let mut answer = SqsBatchResponse::default();
    // A group with a message kept: its later messages wait, not overtake.
    let mut held_groups = HashSet::new();
    let records = event["Records"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for record in records {
        let message_id = record["messageId"].as_str().unwrap_or_default();
        let group = record["attributes"]["MessageGroupId"]
            .as_str()
            .unwrap_or_default();
        let delivered = !held_groups.contains(group)
            && deliver_record(record, settings, queue, poster, now).await;
        if !delivered {
            held_groups.insert(group.to_owned());
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id.to_owned();
            answer.batch_item_failures.push(failure);
        }
    }
    answer
}

/// `true` when the message is done with: delivered, dead-lettered, or for a
/// receiver no longer configured.
async fn deliver_record(
    record: &Value,
    settings: &WebhookSettings,
    queue: &impl Queue,
    poster: &impl Poster,
    now: u64,
) -> bool {
    let body = record["body"].as_str().unwrap_or_default();
    let Ok(delivery) = serde_json::from_str::<Delivery>(body) else {
        // Never readable: kept until the queue's redrive policy dead-letters it.
        tracing::error!(
            message = record["messageId"].as_str(),
            "unreadable delivery"
        );
        return false;
    };
    let (id, kind, position) = (
        delivery.id.as_str(),
        delivery.kind.as_str(),
        delivery.receiver,
    );
    let Some(receiver) = settings.receivers.get(position) else {
        tracing::warn!(
            id,
            kind,
            position,
            "delivery dropped: no such receiver in WEBHOOK_URLS any more"
        );
        return true;
    };
    let tries: u32 = record["attributes"]["ApproximateReceiveCount"]
        .as_str()
        .and_then(|count| count.parse().ok())
        .unwrap_or(1);
    let fault = match poster.post(receiver, &delivery, now).await {
        Ok(()) => {
            tracing::info!(id, kind, position, tries, "event delivered");
            crate::metrics::emit(&[Metric::WebhooksDelivered]);
            return true;
        }
        Err(fault) => fault,
    };
    crate::metrics::emit(&[Metric::WebhooksFailed]);
    if tries >= settings.tries() {
        return match queue.dead_letter(&delivery).await {
            Ok(()) => {
                tracing::error!(id, kind, position, tries, %fault, "event dead-lettered after its last try");
                crate::metrics::emit(&[Metric::WebhooksDeadLettered]);
                true
            }
            Err(error) => {
                tracing::error!(
                    id,
                    kind,
                    position,
                    tries,
                    "event not dead-lettered, kept: {error}"
                );
                false
            }
        };
    }
    let wait = settings.retry_delays[usize::try_from(tries.saturating_sub(1)).unwrap_or(0)];
    let receipt = record["receiptHandle"].as_str().unwrap_or_default();
    if let Err(error) = queue.retry_later(receipt, wait).await {
        // Kept all the same: it comes back after the queue's visibility timeout.
        tracing::warn!(id, kind, position, "retry not scheduled: {error}");
    }
    tracing::warn!(id, kind, position, tries, wait, %fault, "event not delivered, to be retried");
    false
}
