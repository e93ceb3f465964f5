//! How a DynamoDB failure is read, and the one loop that retries a write which
//! lost to a concurrent one.

use crate::store::StoreError;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use std::future::Future;
use std::time::Duration;

/// Tries of a write that keeps meeting concurrent ones, before giving up.
/// The SDK retries throttling and 5xx itself; conflicts are ours to retry.
pub const ATTEMPTS: u32 = 6;

/// One try's outcome: settled, or worth another try with this state.
pub enum Step<S, T> {
    Done(T),
    Again(S),
}

/// Runs `step` (given the state the previous try left and the try's number,
/// from 1) until it settles, at most [`ATTEMPTS`] times, with a jittered
/// backoff between tries so that the losers of a race do not collide again in
/// step. `Ok(None)`: still unsettled after the last try.
pub async fn retry<S, T, F, Fut>(mut state: S, mut step: F) -> Result<Option<T>, StoreError>
where
    F: FnMut(S, u32) -> Fut,
    Fut: Future<Output = Result<Step<S, T>, StoreError>>,
{
    for attempt in 1..=ATTEMPTS {
        match step(state, attempt).await? {
            Step::Done(value) => return Ok(Some(value)),
            Step::Again(next) => state = next,
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(backoff(attempt)).await;
        }
    }
    Ok(None)
}

/// Exponential backoff from 20 ms, with up to as much again of random jitter.
fn backoff(attempt: u32) -> Duration {
    let base = 20u64 << attempt.min(6);
    let mut random = [0u8; 2];
    let jitter = match getrandom::fill(&mut random) {
        Ok(()) => u64::from(u16::from_le_bytes(random)) % base,
        Err(_) => base / 2,
    };
    Duration::from_millis(base + jitter)
}

/// The service's error code, if the service answered at all.
pub fn error_code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    error
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
}

pub fn condition_failed<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error_code(error) == Some("ConditionalCheckFailedException")
}

/// A write that lost to a concurrent one on the same item, and may be retried:
/// its condition failed (the caller re-reads by retrying), or it met a
/// transaction in flight.
pub fn is_retryable_conflict<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    condition_failed(error) || error_code(error) == Some("TransactionConflictException")
}

/// The outcome of a conditional write: `true` if it was made, `false` if its
/// condition did not hold; any other failure is storage being unavailable.
pub fn conditional<O, E, R>(result: Result<O, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(error) if condition_failed(&error) => Ok(false),
        Err(error) => Err(unavailable(error)),
    }
}

/// The cancellation codes of a cancelled transaction, in the order of its
/// items; `None` for any other failure.
pub fn cancellation_codes(
    error: &SdkError<TransactWriteItemsError, impl std::fmt::Debug>,
) -> Option<Vec<String>> {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => Some(
            cancelled
                .cancellation_reasons()
                .iter()
                .map(|reason| reason.code().unwrap_or("None").to_owned())
                .collect(),
        ),
        _ => None,
    }
}

pub fn unavailable<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError(DisplayErrorContext(error).to_string())
}

/// A request the SDK's builder refused (a required field missing): our bug,
/// but still answered as storage failing rather than a panic.
pub fn built<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T, StoreError> {
    result.map_err(|e| StoreError(e.to_string()))
}
