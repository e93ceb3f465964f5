//! The `webhooks` function's first half: from the outbox table's stream to
//! the delivery queue, one message per event and receiver.
//!
//! The stream has one reader per function (the mailer has its own event
//! source mapping), so a receiver that is down never holds up the mails. Nor
//! does it hold up the other receivers: each delivery is a message of its own
//! in a FIFO queue, grouped by receiver and user (`<receiver>.<user_id>`), so
//! SQS keeps each user's events in order at each receiver while a failing
//! group waits alone. The deduplication id (`<event id>.<receiver>`) makes a
//! stream batch that is retried after a partial send enqueue nothing twice
//! (SQS drops a repeat within five minutes).

use super::delivery::Delivery;
use super::settings::WebhookSettings;
use crate::store::dynamo::schema::{Item, outbox_event_from};
use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde_json::Value;
use std::future::Future;

/// Where deliveries wait their turn: the FIFO queue in Lambda
/// ([`super::queue::SqsQueue`]), a recording fake in unit tests.
pub trait Queue: Sync {
    /// Enqueues one event's deliveries together; an error if any was refused.
    fn enqueue(&self, deliveries: &[Delivery]) -> impl Future<Output = Result<(), String>> + Send;
    /// Holds a received delivery back for `seconds` before its next try.
    fn retry_later(
        &self,
        receipt_handle: &str,
        seconds: u32,
    ) -> impl Future<Output = Result<(), String>> + Send;
    /// Moves a delivery that used up its tries to the dead letters.
    fn dead_letter(&self, delivery: &Delivery) -> impl Future<Output = Result<(), String>> + Send;
}

/// Handles one stream batch: every new event, enqueued once per receiver.
/// The answer names the first record that could not be enqueued and every
/// one after it (Lambda resumes there), so that events keep their order.
pub async fn fan_out(
    event: &Value,
    settings: &WebhookSettings,
    queue: &impl Queue,
) -> DynamoDbEventResponse {
    let mut answer = DynamoDbEventResponse::default();
    let records = event["Records"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut failed = false;
    for record in records {
        let sequence = record["dynamodb"]["SequenceNumber"]
            .as_str()
            .unwrap_or_default();
        if !failed && !enqueue_record(record, settings, queue).await {
            failed = true;
        }
        if failed {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(sequence.to_owned());
            answer.batch_item_failures.push(failure);
        }
    }
    answer
}

/// `false` if the record must be tried again.
async fn enqueue_record(record: &Value, settings: &WebhookSettings, queue: &impl Queue) -> bool {
    let sequence = record["dynamodb"]["SequenceNumber"].as_str().unwrap_or("?");
    let record: EventRecord = match serde_json::from_value(record.clone()) {
        Ok(record) => record,
        Err(error) => {
            tracing::error!(sequence, "unreadable stream record: {error}");
            return false;
        }
    };
    let item: Item = record.change.new_image.into();
    // Mails share the table; the template's filter keeps them away deployed.
    if record.event_name != "INSERT" || !super::is_event(&item) {
        return true;
    }
    let event = match outbox_event_from(&item) {
        Ok(event) => event,
        Err(error) => {
            tracing::error!(sequence, "unreadable outbox event: {}", error.0);
            return false;
        }
    };
    let deliveries: Vec<Delivery> = (0..settings.receivers.len())
        .map(|receiver| Delivery::of(&event, receiver))
        .collect();
    if deliveries.is_empty() {
        return true;
    }
    match queue.enqueue(&deliveries).await {
        Ok(()) => {
            tracing::info!(id = %event.id, kind = %event.kind, receivers = deliveries.len(), "event enqueued");
            true
        }
        Err(error) => {
            tracing::error!(id = %event.id, kind = %event.kind, "event not enqueued, to be retried: {error}");
            false
        }
    }
}
