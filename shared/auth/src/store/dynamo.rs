//! The DynamoDB adapter.
//!
//! Users table (partition key `pk`, sort key `sk`; TTL attribute `expires_at`):
//! - `USER#<id>` / `PROFILE`: the profile (`user_id`, `email`, `admin`, `registered_on`);
//! - `EMAIL#<email>` / `LOGIN`: the login record (`user_id`, `password_hash`). Its
//!   key makes the email unique, and login finds all it needs in this one item;
//! - `USER#<id>` / `SESSION#<session id>`: one signed-in device, with the hash of
//!   its live refresh token. A user's sessions are one `Query` away, and a token
//!   check reads profile and session in the same `BatchGetItem`.
//! - `FAILED#<counter key>` / `LOGIN`: failed logins of an account or a source
//!   address (`failures`, `last_failure_ms`), read together with the login
//!   record; `expires_at` forgets them after the failure window.
//!
//! Revoked-tokens table (partition key `jti`): one item per revoked token, with
//! `expires_at` (epoch seconds, the table's TTL attribute) set to the token's
//! `exp`, after which the entry is meaningless and DynamoDB may delete it.
//!
//! DynamoDB deletes expired items up to days late, so every read checks
//! `expires_at` itself.

use super::*;
use crate::throttle::FAILURE_WINDOW_SECONDS;
use aws_config::{BehaviorVersion, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_dynamodb::config::{Credentials, Region, SharedCredentialsProvider};
use aws_sdk_dynamodb::{
    Client,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
    operation::transact_write_items::TransactWriteItemsError,
    types::{
        AttributeValue, ConditionCheck, Delete, DeleteRequest, KeysAndAttributes, Put, ReturnValue,
        TransactWriteItem, Update, WriteRequest,
    },
};
use std::collections::HashMap;
use std::time::Duration;

type Item = HashMap<String, AttributeValue>;

/// How often a registration is retried when DynamoDB cancels it for a
/// conflict with a concurrent transaction on the same items.
const TRANSACTION_ATTEMPTS: u32 = 6;

/// Shared SDK settings, built from what a Lambda sandbox always sets rather
/// than through aws-config's default provider chains (profile files, SSO, web
/// identity, IMDS…), which a function never needs and which cost init time and
/// binary size: the region from `AWS_REGION`, the credentials from
/// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, and
/// `AWS_ENDPOINT_URL_DYNAMODB` (or `AWS_ENDPOINT_URL`) for DynamoDB Local.
/// TLS trusts only the Amazon Trust Services roots DynamoDB's certificates
/// chain to, so a cold start does not load and parse the system's whole CA
/// store. Explicit bounds, so an unreachable or slow database ends in a 503
/// well inside the function's timeout instead of hanging.
pub async fn sdk_config() -> SdkConfig {
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(
            env("AWS_REGION")
                .or_else(|| env("AWS_DEFAULT_REGION"))
                .map(Region::new),
        )
        .http_client(amazon_https_client())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3));
    if let (Some(id), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        let credentials =
            Credentials::new(id, secret, env("AWS_SESSION_TOKEN"), None, "Environment");
        config = config.credentials_provider(SharedCredentialsProvider::new(credentials));
    }
    if let Some(url) = env("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| env("AWS_ENDPOINT_URL")) {
        config = config.endpoint_url(url);
    }
    config.build()
}

/// Amazon Root CA 1–4 and Starfield Services Root CA G2: the roots AWS
/// documents for its service endpoints.
const AMAZON_ROOT_CAS: &[u8] = include_bytes!("amazon-root-cas.pem");

fn amazon_https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
    let trust = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(AMAZON_ROOT_CAS);
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("the TLS context takes the bundled roots");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
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

    /// Writes a transaction with conditions: `true` if it was written, `false`
    /// if any condition did not hold; any other failure is storage being
    /// unavailable. A cancellation for a conflict with a concurrent transaction
    /// on the same items says nothing about this one, so it is retried, and
    /// the retry sees the items as the other transaction left them.
    async fn conditional_transaction(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<bool, StoreError> {
        for attempt in 1.. {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let error = match result {
                Ok(_) => return Ok(true),
                Err(error) => error,
            };
            match cancellation_codes(&error) {
                Some(codes) if codes.iter().any(|code| code == "ConditionalCheckFailed") => {
                    return Ok(false);
                }
                Some(codes)
                    if codes.iter().any(|code| code == "TransactionConflict")
                        && attempt < TRANSACTION_ATTEMPTS =>
                {
                    tokio::time::sleep(backoff(attempt)).await;
                }
                _ => return Err(unavailable(error)),
            }
        }
        unreachable!("the attempts end in a return")
    }

    /// The account registered under a normalised email, read consistently.
    async fn login_record(&self, email: &str) -> Result<Option<LoginRecord>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.users_table)
            .set_key(Some(item_key(email_pk(email), s(LOGIN))))
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

    /// Counts one failed login against `counter`: an atomic increment, unless
    /// the counter outlived its window (TTL deletes late), when it starts
    /// again from one. A failure that is not counted would be a free guess, so
    /// conflicts with a login's transaction on the counter are retried.
    async fn count_failure(&self, counter: &Counter, now_ms: u64) -> Result<(), StoreError> {
        let now = now_ms / 1000;
        let key = failures_key(counter);
        let live = "attribute_not_exists(pk) OR expires_at > :now";
        for attempt in 1..=TRANSACTION_ATTEMPTS {
            let incremented = self
                .client
                .update_item()
                .table_name(&self.users_table)
                .set_key(Some(key.clone()))
                .update_expression(
                    "SET failures = if_not_exists(failures, :zero) + :one, \
                     last_failure_ms = :now_ms, expires_at = :expires",
                )
                .condition_expression(live)
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":now_ms", n(now_ms))
                .expression_attribute_values(":expires", n(now + FAILURE_WINDOW_SECONDS))
                .send()
                .await;
            let error = match incremented {
                Ok(_) => return Ok(()),
                Err(error) => error,
            };
            match error_code(&error) {
                // Expired: start again from one, unless a concurrent failure
                // just did (then the next round increments theirs).
                Some("ConditionalCheckFailedException") => {
                    let mut item = key.clone();
                    item.extend([
                        ("failures".to_owned(), n(1)),
                        ("last_failure_ms".to_owned(), n(now_ms)),
                        ("expires_at".to_owned(), n(now + FAILURE_WINDOW_SECONDS)),
                    ]);
                    let restarted = self
                        .client
                        .put_item()
                        .table_name(&self.users_table)
                        .set_item(Some(item))
                        .condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
                        .expression_attribute_values(":now", n(now))
                        .send()
                        .await;
                    match restarted {
                        Ok(_) => return Ok(()),
                        Err(error) if is_retryable_conflict(&error) => {}
                        Err(error) => return Err(unavailable(error)),
                    }
                }
                _ if is_retryable_conflict(&error) => {}
                _ => return Err(unavailable(error)),
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
        Err(StoreError("a failed login could not be counted".into()))
    }
}

const PROFILE: &str = "PROFILE";
const LOGIN: &str = "LOGIN";
const SESSION_PREFIX: &str = "SESSION#";
/// BatchWriteItem takes at most 25 requests.
const BATCH_WRITE_LIMIT: usize = 25;

fn user_pk(user_id: &str) -> AttributeValue {
    s(&format!("USER#{user_id}"))
}

fn email_pk(email: &str) -> AttributeValue {
    s(&format!("EMAIL#{email}"))
}

fn failures_key(counter: &Counter) -> Item {
    item_key(s(&format!("FAILED#{}", counter.key)), s(LOGIN))
}

fn session_sk(session_id: &str) -> AttributeValue {
    s(&format!("{SESSION_PREFIX}{session_id}"))
}

fn item_key(pk: AttributeValue, sk: AttributeValue) -> Item {
    HashMap::from([("pk".to_owned(), pk), ("sk".to_owned(), sk)])
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

fn built<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T, StoreError> {
    result.map_err(|e| StoreError(e.to_string()))
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

fn session_item(session: &Session) -> Item {
    let mut item = item_key(user_pk(&session.user_id), session_sk(&session.session_id));
    item.extend([
        ("user_id".to_owned(), s(&session.user_id)),
        ("session_id".to_owned(), s(&session.session_id)),
        ("device".to_owned(), s(&session.device)),
        ("created_at".to_owned(), n(session.created_at)),
        ("last_used_at".to_owned(), n(session.last_used_at)),
        ("expires_at".to_owned(), n(session.expires_at)),
        ("rotated_at".to_owned(), n(session.rotated_at)),
        ("refresh_hash".to_owned(), s(&session.refresh_hash)),
    ]);
    item
}

fn session_from(item: &Item) -> Result<Session, StoreError> {
    let number =
        |name| number_of(item, name).ok_or_else(|| StoreError(format!("session lacks {name}")));
    Ok(Session {
        user_id: string_of(item, "user_id")?,
        session_id: string_of(item, "session_id")?,
        device: string_of(item, "device")?,
        created_at: number("created_at")?,
        last_used_at: number("last_used_at")?,
        expires_at: number("expires_at")?,
        refresh_hash: string_of(item, "refresh_hash")?,
        previous_hash: string_of(item, "previous_hash").ok(),
        rotated_at: number("rotated_at")?,
    })
}

fn error_code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    error
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
}

/// A write that lost to a concurrent one on the same item, and may be retried:
/// its condition failed (the caller re-reads by retrying), or it met a
/// transaction in flight.
fn is_retryable_conflict<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    matches!(
        error_code(error),
        Some("ConditionalCheckFailedException" | "TransactionConflictException")
    )
}

/// The outcome of a conditional write: `true` if it was made, `false` if its
/// condition did not hold; any other failure is storage being unavailable.
fn conditional<O, E, R>(result: Result<O, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(error)
            if error.as_service_error().and_then(|e| e.code())
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(false)
        }
        Err(error) => Err(unavailable(error)),
    }
}

/// A `Put` that only succeeds if no item has this key yet.
fn put_new(table: &str, item: Item) -> Result<TransactWriteItem, StoreError> {
    let put = built(
        Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build(),
    )?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// The cancellation codes of a cancelled transaction, in the order of its
/// items; `None` for any other failure.
fn cancellation_codes(
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
    async fn create_user(
        &self,
        user: &NewUser,
        session: &Session,
    ) -> Result<Registration, StoreError> {
        let mut profile = item_key(user_pk(&user.user_id), s(PROFILE));
        profile.extend([
            ("user_id".to_owned(), s(&user.user_id)),
            ("email".to_owned(), s(&user.email)),
            ("admin".to_owned(), AttributeValue::Bool(false)),
            ("registered_on".to_owned(), s(&user.registered_on)),
        ]);
        let mut login = item_key(email_pk(&user.email), s(LOGIN));
        login.extend([
            ("user_id".to_owned(), s(&user.user_id)),
            ("password_hash".to_owned(), s(&user.password_hash)),
        ]);
        let items = vec![
            put_new(&self.users_table, profile)?,
            put_new(&self.users_table, login)?,
            put_new(&self.users_table, session_item(session))?,
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
            let Some(reasons) = cancellation_codes(&error) else {
                return Err(unavailable(error));
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

    async fn login_attempt(
        &self,
        email: &str,
        counters: &[Counter],
        now_ms: u64,
    ) -> Result<LoginAttempt, StoreError> {
        let now = now_ms / 1000;
        let login_key = item_key(email_pk(email), s(LOGIN));
        let keys = built(
            KeysAndAttributes::builder()
                .set_keys(Some(
                    [login_key.clone()]
                        .into_iter()
                        .chain(counters.iter().map(failures_key))
                        .collect(),
                ))
                .consistent_read(true)
                .build(),
        )?;
        let output = self
            .client
            .batch_get_item()
            .request_items(&self.users_table, keys)
            .send()
            .await
            .map_err(unavailable)?;
        // Unread counters could let an attacker past the throttle: fail closed.
        if output
            .unprocessed_keys()
            .is_some_and(|unprocessed| !unprocessed.is_empty())
        {
            return Err(StoreError("batch read left keys unprocessed".into()));
        }
        let items = output
            .responses()
            .and_then(|responses| responses.get(&self.users_table))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let find = |key: &Item| {
            items
                .iter()
                .find(|item| item.get("pk") == key.get("pk") && item.get("sk") == key.get("sk"))
        };
        let record = find(&login_key)
            .map(|item| {
                Ok::<_, StoreError>(LoginRecord {
                    user_id: string_of(item, "user_id")?,
                    password_hash: string_of(item, "password_hash")?,
                })
            })
            .transpose()?;
        let failures = counters
            .iter()
            .map(|counter| {
                find(&failures_key(counter))
                    // A counter past its window that TTL has not deleted yet is
                    // forgotten; one without a readable window is not (fail closed).
                    .filter(|item| number_of(item, "expires_at").is_none_or(|end| end > now))
                    .map(|item| Failures {
                        count: number_of(item, "failures")
                            .map_or(u32::MAX, |count| u32::try_from(count).unwrap_or(u32::MAX)),
                        last_at_ms: number_of(item, "last_failure_ms").unwrap_or(now_ms),
                    })
                    .unwrap_or_default()
            })
            .collect();
        Ok(LoginAttempt { record, failures })
    }

    async fn record_login_failure(
        &self,
        counters: &[Counter],
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let count_each = counters
            .iter()
            .map(|counter| self.count_failure(counter, now_ms));
        futures_util::future::try_join_all(count_each).await?;
        Ok(())
    }

    async fn claim_login_attempt(
        &self,
        claims: &[(&Counter, Failures)],
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        let now = now_ms / 1000;
        let items = claims
            .iter()
            .map(|(counter, seen)| {
                let update = Update::builder()
                    .table_name(&self.users_table)
                    .set_key(Some(failures_key(counter)))
                    .update_expression(
                        "SET failures = :claimed, last_failure_ms = :now_ms, expires_at = :expires",
                    )
                    .expression_attribute_values(":claimed", n(u64::from(seen.count) + 1))
                    .expression_attribute_values(":now_ms", n(now_ms))
                    .expression_attribute_values(":expires", n(now + FAILURE_WINDOW_SECONDS))
                    .expression_attribute_values(":now", n(now));
                // Only on the counts read: a parallel attempt that claimed
                // first has changed them.
                let update = if seen.count == 0 {
                    update.condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
                } else {
                    update
                        .condition_expression(
                            "failures = :seen AND last_failure_ms = :seen_at AND expires_at > :now",
                        )
                        .expression_attribute_values(":seen", n(u64::from(seen.count)))
                        .expression_attribute_values(":seen_at", n(seen.last_at_ms))
                };
                Ok(TransactWriteItem::builder()
                    .update(built(update.build())?)
                    .build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.conditional_transaction(items).await
    }

    async fn create_session(
        &self,
        session: &Session,
        email: &str,
        verified_hash: &str,
        reset: Option<&Counter>,
    ) -> Result<bool, StoreError> {
        let check = built(
            ConditionCheck::builder()
                .table_name(&self.users_table)
                .set_key(Some(item_key(email_pk(email), s(LOGIN))))
                .condition_expression("password_hash = :verified")
                .expression_attribute_values(":verified", s(verified_hash))
                .build(),
        )?;
        let put = built(
            Put::builder()
                .table_name(&self.users_table)
                .set_item(Some(session_item(session)))
                .build(),
        )?;
        let mut items = vec![
            TransactWriteItem::builder().condition_check(check).build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        if let Some(counter) = reset {
            let delete = built(
                Delete::builder()
                    .table_name(&self.users_table)
                    .set_key(Some(failures_key(counter)))
                    .build(),
            )?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        self.conditional_transaction(items).await
    }

    async fn token_subject(
        &self,
        user_id: &str,
        session_id: &str,
        jti: &str,
        now: u64,
    ) -> Result<TokenSubject, StoreError> {
        let users_keys = built(
            KeysAndAttributes::builder()
                .keys(item_key(user_pk(user_id), s(PROFILE)))
                .keys(item_key(user_pk(user_id), session_sk(session_id)))
                .consistent_read(true)
                .build(),
        )?;
        let revoked_keys = built(
            KeysAndAttributes::builder()
                .keys(HashMap::from([("jti".to_owned(), s(jti))]))
                .consistent_read(true)
                .build(),
        )?;
        let output = self
            .client
            .batch_get_item()
            .request_items(&self.users_table, users_keys)
            .request_items(&self.revoked_tokens_table, revoked_keys)
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
        let items = |table: &str| {
            output
                .responses()
                .and_then(|responses| responses.get(table))
                .map(Vec::as_slice)
                .unwrap_or_default()
        };
        let mut subject = TokenSubject {
            profile: None,
            session_live: false,
            revoked: false,
        };
        for item in items(&self.users_table) {
            if item.get("sk") == Some(&s(PROFILE)) {
                subject.profile = Some(Profile {
                    user_id: string_of(item, "user_id")?,
                    email: string_of(item, "email")?,
                    admin: matches!(item.get("admin"), Some(AttributeValue::Bool(true))),
                    registered_on: string_of(item, "registered_on")?,
                });
            } else {
                subject.session_live = number_of(item, "expires_at").is_some_and(|end| end > now);
            }
        }
        // An entry without a readable expiry is treated as revoked: fail closed.
        subject.revoked = items(&self.revoked_tokens_table)
            .iter()
            .any(|item| number_of(item, "expires_at").is_none_or(|until| until > now));
        Ok(subject)
    }

    async fn end_token_session(
        &self,
        user_id: &str,
        session_id: &str,
        jti: &str,
        expires_at: u64,
        now: u64,
    ) -> Result<Revocation, StoreError> {
        let revoke = built(
            Put::builder()
                .table_name(&self.revoked_tokens_table)
                .item("jti", s(jti))
                .item("expires_at", n(expires_at))
                // An expired entry not yet deleted by TTL may be overwritten.
                .condition_expression("attribute_not_exists(jti) OR expires_at <= :now")
                .expression_attribute_values(":now", n(now))
                .build(),
        )?;
        // A session already ended (revoked, or logged out) means the token
        // was dead already: the whole logout is then "already revoked".
        let end_session = built(
            Delete::builder()
                .table_name(&self.users_table)
                .set_key(Some(item_key(user_pk(user_id), session_sk(session_id))))
                .condition_expression("attribute_exists(pk) AND expires_at > :now")
                .expression_attribute_values(":now", n(now))
                .build(),
        )?;
        let written = self
            .conditional_transaction(vec![
                TransactWriteItem::builder().put(revoke).build(),
                TransactWriteItem::builder().delete(end_session).build(),
            ])
            .await?;
        Ok(if written {
            Revocation::Revoked
        } else {
            Revocation::AlreadyRevoked
        })
    }

    async fn session(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<Option<Session>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.users_table)
            .set_key(Some(item_key(user_pk(user_id), session_sk(session_id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output.item().map(session_from).transpose()
    }

    async fn sessions(&self, user_id: &str, now: u64) -> Result<Vec<Session>, StoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.users_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :session)")
            .expression_attribute_values(":pk", user_pk(user_id))
            .expression_attribute_values(":session", s(SESSION_PREFIX))
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut sessions = Vec::new();
        while let Some(page) = pages.next().await {
            for item in page.map_err(unavailable)?.items() {
                let session = session_from(item)?;
                if session.is_live(now) {
                    sessions.push(session);
                }
            }
        }
        Ok(sessions)
    }

    async fn rotate_refresh(
        &self,
        user_id: &str,
        session_id: &str,
        old_hash: &str,
        new_hash: &str,
        now: u64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.users_table)
            .set_key(Some(item_key(user_pk(user_id), session_sk(session_id))))
            .update_expression(
                "SET refresh_hash = :new, previous_hash = :old, rotated_at = :now, \
                 last_used_at = :now",
            )
            .condition_expression("refresh_hash = :old")
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":old", s(old_hash))
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::None)
            .send()
            .await;
        conditional(result)
    }

    async fn delete_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: u64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.users_table)
            .set_key(Some(item_key(user_pk(user_id), session_sk(session_id))))
            .condition_expression("attribute_exists(pk) AND expires_at > :now")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        conditional(result)
    }

    async fn delete_sessions(&self, user_id: &str, keep: Option<&str>) -> Result<(), StoreError> {
        // Expired sessions too: 0 as "now" lists every one still stored.
        let doomed: Vec<WriteRequest> = self
            .sessions(user_id, 0)
            .await?
            .into_iter()
            .filter(|session| Some(session.session_id.as_str()) != keep)
            .map(|session| {
                let key = item_key(user_pk(user_id), session_sk(&session.session_id));
                let delete = built(DeleteRequest::builder().set_key(Some(key)).build())?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<_, StoreError>>()?;
        for chunk in doomed.chunks(BATCH_WRITE_LIMIT) {
            let mut pending = chunk.to_vec();
            for attempt in 1..=TRANSACTION_ATTEMPTS {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.users_table, pending)
                    .send()
                    .await
                    .map_err(unavailable)?;
                pending = output
                    .unprocessed_items()
                    .and_then(|items| items.get(&self.users_table))
                    .cloned()
                    .unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                if attempt == TRANSACTION_ATTEMPTS {
                    return Err(StoreError("sessions left undeleted after retries".into()));
                }
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        Ok(())
    }

    async fn set_password_hash(
        &self,
        email: &str,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.users_table)
            .set_key(Some(item_key(email_pk(email), s(LOGIN))))
            .update_expression("SET password_hash = :new")
            .condition_expression("password_hash = :old")
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":old", s(old_hash))
            .send()
            .await;
        conditional(result)
    }
}

#[cfg(test)]
mod tests {
    use super::AMAZON_ROOT_CAS;
    use rustls_pki_types::{CertificateDer, pem::PemObject};

    /// DynamoDB Local is plain HTTP, so no test goes through TLS: this at
    /// least proves the bundled trust store parses, and holds all five roots.
    #[test]
    fn the_bundled_trust_store_holds_the_five_amazon_roots() {
        let certificates: Vec<_> = CertificateDer::pem_slice_iter(AMAZON_ROOT_CAS)
            .collect::<Result<_, _>>()
            .expect("the bundled PEM parses");
        assert_eq!(certificates.len(), 5);
        assert!(certificates.iter().all(|der| der.len() > 300));
    }
}
