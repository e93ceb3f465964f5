//! Webhooks: what happened to an account ([`event`]), written to the outbox
//! with the change, and told to the team's receivers by the `webhooks`
//! function, signed per Standard Webhooks ([`crate::hook::signature`]):
//! - from the outbox table's stream, each new event becomes one message per
//!   receiver in a FIFO queue ([`fan_out`]);
//! - from that queue, each message is POSTed to its receiver, retried with
//!   backoff, dead-lettered after the last try ([`delivery`]).
//!
//! One function, two event sources: a batch's `eventSource` says which half.

pub mod delivery;
pub mod event;
pub mod fan_out;
pub mod queue;
pub mod settings;

pub use event::{Event, EventType};

use crate::store::dynamo::schema::Item;
use serde_json::Value;

/// An outbox item that is an event (not a mail).
pub fn is_event(item: &Item) -> bool {
    item.get("kind")
        .and_then(|kind| kind.as_s().ok())
        .is_some_and(|kind| kind == "event")
}

/// Which half a batch is for: `true` for the delivery queue's messages
/// (`aws:sqs`), `false` for the outbox table's stream records.
pub fn is_queue_batch(event: &Value) -> bool {
    event["Records"][0]["eventSource"].as_str() == Some("aws:sqs")
}

#[cfg(test)]
mod tests;
