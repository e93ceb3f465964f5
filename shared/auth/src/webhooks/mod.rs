//! Webhooks: what happened to an account ([`event`]), written to the outbox
//! with the change, and delivered to the team's receivers, signed per
//! Standard Webhooks ([`crate::hook::signature`]).

pub mod event;

pub use event::{Event, EventType};
