//! The DynamoDB adapter.
//!
//! Users table (partition key `pk`), two items per user:
//! - `USER#<id>`: the profile (`user_id`, `email`, `admin`, `registered_on`);
//! - `EMAIL#<email>`: the login record (`user_id`, `password_hash`). Its key makes
//!   the email unique, and login finds everything it needs in this one item.
//!
//! Revoked-tokens table (partition key `jti`): one item per revoked token, with
//! `expires_at` (epoch seconds, the table's TTL attribute) set to the token's
//! `exp`, after which the entry is meaningless and DynamoDB may delete it.

use super::*;
use aws_config::{BehaviorVersion, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_dynamodb::{
    Client,
    error::{DisplayErrorContext, SdkError},
    operation::{put_item::PutItemError, transact_write_items::TransactWriteItemsError},
    types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem},
};
use std::collections::HashMap;
use std::time::Duration;

type Item = HashMap<String, AttributeValue>;

/// How often a registration is retried when DynamoDB cancels it for a
/// conflict with a concurrent transaction on the same items.
const TRANSACTION_ATTEMPTS: u32 = 6;

/// Shared SDK settings: region and credentials from the environment as usual
/// (`AWS_ENDPOINT_URL_DYNAMODB` points it at DynamoDB Local), plus explicit
/// bounds, so an unreachable or slow database ends in a 503 well inside the
/// function's timeout instead of hanging.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .load()
        .await
}

pub struct DynamoStore {
    client: Client,
    users_table: String,
    revoked_tokens_table: String,
}

impl DynamoStore {
    pub fn new(client: Client, config: &crate::Config) -> Self {
        Self {
            client,
            users_table: config.users_table.clone(),
            revoked_tokens_table: config.revoked_tokens_table.clone(),
        }
    }
}

fn user_key(user_id: &str) -> String {
    format!("USER#{user_id}")
}

fn email_key(email: &str) -> String {
    format!("EMAIL#{email}")
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn unavailable<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError(DisplayErrorContext(error).to_string())
}

fn string_of(item: &Item, name: &str) -> Result<String, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(StoreError(format!("stored item lacks string {name}"))),
    }
}

fn number_of(item: &Item, name: &str) -> Option<u64> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().ok(),
        _ => None,
    }
}

/// A `Put` that only succeeds if no item has this key yet.
fn put_new(table: &str, item: Item) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .map_err(|e| StoreError(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
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

impl Store for DynamoStore {
    async fn create_user(&self, user: &NewUser) -> Result<Registration, StoreError> {
        let profile = HashMap::from([
            ("pk".to_owned(), s(&user_key(&user.user_id))),
            ("user_id".to_owned(), s(&user.user_id)),
            ("email".to_owned(), s(&user.email)),
            ("admin".to_owned(), AttributeValue::Bool(false)),
            ("registered_on".to_owned(), s(&user.registered_on)),
        ]);
        let login = HashMap::from([
            ("pk".to_owned(), s(&email_key(&user.email))),
            ("user_id".to_owned(), s(&user.user_id)),
            ("password_hash".to_owned(), s(&user.password_hash)),
        ]);
        let items = vec![
            put_new(&self.users_table, profile)?,
            put_new(&self.users_table, login)?,
        ];

        for attempt in 1..=TRANSACTION_ATTEMPTS {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                // Makes the SDK's own retries idempotent: if a commit succeeded
                // but its answer was lost, the retry reports success rather than
                // "email taken". (At most 36 characters.)
                .client_request_token(format!("{}-{attempt}", user.user_id.replace('-', "")))
                .send()
                .await;
            let error = match result {
                Ok(_) => return Ok(Registration::Created),
                Err(error) => error,
            };
            let reasons: Vec<String> = match error.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
                    .cancellation_reasons()
                    .iter()
                    .map(|reason| reason.code().unwrap_or("None").to_owned())
                    .collect(),
                _ => return Err(unavailable(error)),
            };
            // Reasons come in the order of `items`: the email claim is second.
            if reasons.get(1).map(String::as_str) == Some("ConditionalCheckFailed") {
                return Ok(Registration::EmailTaken);
            }
            if !reasons.iter().any(|code| code == "TransactionConflict") {
                return Err(StoreError(format!("registration cancelled: {reasons:?}")));
            }
            // Another registration of this email is in flight; once it settles,
            // the retry either wins or sees the email taken. Jitter keeps the
            // losers of a race from colliding again in step.
            if attempt < TRANSACTION_ATTEMPTS {
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        // Still conflicting: if the email has an owner by now, that is the answer.
        match self.login_record(&user.email).await? {
            Some(_) => Ok(Registration::EmailTaken),
            None => Err(StoreError("registration kept conflicting".into())),
        }
    }

    async fn login_record(&self, email: &str) -> Result<Option<LoginRecord>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.users_table)
            .key("pk", s(&email_key(email)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output
            .item()
            .map(|item| {
                Ok(LoginRecord {
                    user_id: string_of(item, "user_id")?,
                    password_hash: string_of(item, "password_hash")?,
                })
            })
            .transpose()
    }

    async fn token_subject(
        &self,
        user_id: &str,
        jti: &str,
        now: u64,
    ) -> Result<TokenSubject, StoreError> {
        let consistent = |key: Item| {
            KeysAndAttributes::builder()
                .keys(key)
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError(e.to_string()))
        };
        let output = self
            .client
            .batch_get_item()
            .request_items(
                &self.users_table,
                consistent(HashMap::from([("pk".to_owned(), s(&user_key(user_id)))]))?,
            )
            .request_items(
                &self.revoked_tokens_table,
                consistent(HashMap::from([("jti".to_owned(), s(jti))]))?,
            )
            .send()
            .await
            .map_err(unavailable)?;
        // DynamoDB may leave keys unread under throttling. Guessing would mean
        // accepting a token we could not check, so that is a failure (fail closed).
        if output
            .unprocessed_keys()
            .is_some_and(|unprocessed| !unprocessed.is_empty())
        {
            return Err(StoreError("batch read left keys unprocessed".into()));
        }
        let first = |table: &str| {
            output
                .responses()
                .and_then(|responses| responses.get(table))
                .and_then(|items| items.first())
        };
        let profile = first(&self.users_table)
            .map(|item| {
                Ok::<_, StoreError>(Profile {
                    user_id: string_of(item, "user_id")?,
                    email: string_of(item, "email")?,
                    admin: matches!(item.get("admin"), Some(AttributeValue::Bool(true))),
                    registered_on: string_of(item, "registered_on")?,
                })
            })
            .transpose()?;
        // An entry without a readable expiry is treated as revoked: fail closed.
        let revoked = first(&self.revoked_tokens_table)
            .is_some_and(|item| number_of(item, "expires_at").is_none_or(|until| until > now));
        Ok(TokenSubject { profile, revoked })
    }

    async fn revoke(&self, jti: &str, expires_at: u64, now: u64) -> Result<Revocation, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.revoked_tokens_table)
            .item("jti", s(jti))
            .item("expires_at", n(expires_at))
            // An expired entry not yet deleted by TTL may be overwritten.
            .condition_expression("attribute_not_exists(jti) OR expires_at <= :now")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Revocation::Revoked),
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(PutItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(Revocation::AlreadyRevoked)
            }
            Err(error) => Err(unavailable(error)),
        }
    }
}
