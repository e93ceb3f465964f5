//! How a DynamoDB failure is read, and the one loop that retries a write which
//! lost to a concurrent one.

use crate::store::{StoreError, StoreResult};
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
pub async fn retry<S, T, F, Fut>(mut state: S, mut step: F) -> StoreResult<Option<T>>
where
    F: FnMut(S, u32) -> Fut,
    Fut: Future<Output = StoreResult<Step<S, T>>>,
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

/// A single-item write that met a transaction in flight on its item. The SDK
/// does not retry it, and a retry once the transaction settles succeeds.
fn met_transaction<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error_code(error) == Some("TransactionConflictException")
}

/// Sends a conditional write (`send` makes one try) until it settles: `true`
/// if it was made, `false` if its condition did not hold; a try that met a
/// transaction is sent again, and any other failure is storage being
/// unavailable.
pub async fn conditional<O, E, R, F, Fut>(send: F) -> StoreResult<bool>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<O, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    Ok(conditional_output(send).await?.is_some())
}

/// [`conditional`], with the write's answer if it was made (`None` if its
/// condition did not hold).
pub async fn conditional_output<O, E, R, F, Fut>(mut send: F) -> StoreResult<Option<O>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<O, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    retry((), |(), _| {
        let sent = send();
        async move {
            match sent.await {
                Ok(output) => Ok(Step::Done(Some(output))),
                Err(error) if condition_failed(&error) => Ok(Step::Done(None)),
                Err(error) if met_transaction(&error) => Ok(Step::Again(())),
                Err(error) => Err(unavailable(error)),
            }
        }
    })
    .await?
    .ok_or_else(|| StoreError("a write kept meeting transactions".into()))
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
pub fn built<T, E: std::fmt::Display>(result: Result<T, E>) -> StoreResult<T> {
    result.map_err(|e| StoreError(e.to_string()))
}
