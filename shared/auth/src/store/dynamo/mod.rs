//! The DynamoDB adapter, in the style of aws-samples/serverless-rust-demo's
//! `store/dynamodb/`:
//! - [`client`]: the SDK's settings and TLS, built once per cold start;
//! - [`schema`]: the tables' keys and item codecs (the only place a key
//!   prefix is spelled); [`formats`]: what older versions wrote, and
//!   [`migrate`]: `make migrate`, which brings their items up to date;
//! - [`retry`]: how a failure is read, and the one loop that retries a write
//!   lost to a concurrent one;
//! - this file: [`DynamoStore`] and the steps its operations share;
//! - [`operations`]: the [`Store`] implementation, one method per operation.

mod accounts;
mod client;
mod email_change;
mod federation;
pub mod formats;
pub mod migrate;
mod operations;
mod outbox_items;
mod passkeys;
mod retry;
pub mod schema;
mod second_factor;
mod session_items;
mod sessions;
mod transaction_items;

pub use client::{sdk_config, secrets_client};

use super::*;
use crate::throttle::FAILURE_WINDOW_SECONDS;
use crate::throttle::{Claim, Settlement};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, KeysAndAttributes, Put, TransactWriteItem, Update,
};
use retry::{Step, built, cancellation_codes, conditional, retry, unavailable};
use schema::{Item, n};

pub struct DynamoStore {
    client: Client,
    users_table: String,
    revoked_tokens_table: String,
    outbox_table: String,
}

impl DynamoStore {
    pub fn new(client: Client, config: &crate::Config) -> Self {
        Self {
            client,
            users_table: config.users_table.clone(),
            revoked_tokens_table: config.revoked_tokens_table.clone(),
            outbox_table: config.outbox_table.clone(),
        }
    }

    /// The mailer's store: the outbox table alone, so that the mailer needs
    /// no [`crate::Config`] (no keys, no other table).
    pub fn outbox_only(client: Client, outbox_table: String) -> Self {
        Self {
            client,
            users_table: String::new(),
            revoked_tokens_table: String::new(),
            outbox_table,
        }
    }

    /// The users table alone, for `make create-admin` (no keys, no other
    /// table): creating an account without a session or a code, and changing
    /// an account's role. Without the outbox it writes no webhook event: an
    /// operator's account is not told to the receivers.
    pub fn users_only(client: Client, users_table: String) -> Self {
        Self {
            client,
            users_table,
            revoked_tokens_table: String::new(),
            outbox_table: String::new(),
        }
    }

    /// Deletes a mail from the outbox once it is sent (the mailer's only
    /// write), so its code waits there no longer than it must.
    pub async fn forget_mail(&self, id: &str) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.outbox_table)
            .set_key(Some(schema::outbox_key(id)))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Writes a transaction with conditions: `true` if it was written, `false`
    /// if any condition did not hold; any other failure is storage being
    /// unavailable.
    async fn conditional_transaction(&self, items: Vec<TransactWriteItem>) -> StoreResult<bool> {
        Ok(self.transaction_cancellation(items).await?.is_none())
    }

    /// Writes a transaction with conditions: `None` if it was written, else
    /// the cancellation's codes, in the order of `items` (which condition
    /// failed). A cancellation for a conflict with a concurrent transaction
    /// on the same items says nothing about this one, so it is retried, and
    /// the retry sees the items as the other transaction left them.
    async fn transaction_cancellation(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> StoreResult<Option<Vec<String>>> {
        let items = &items;
        retry((), |(), _| async move {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let Err(error) = result else {
                return Ok(Step::Done(None));
            };
            match cancellation_codes(&error) {
                Some(codes) if codes.iter().any(|code| code == "ConditionalCheckFailed") => {
                    Ok(Step::Done(Some(codes)))
                }
                Some(codes) if codes.iter().any(|code| code == "TransactionConflict") => {
                    Ok(Step::Again(()))
                }
                _ => Err(unavailable(error)),
            }
        })
        .await?
        .ok_or_else(|| StoreError("a transaction kept conflicting".into()))
    }

    /// Reads `keys` of the users table consistently, in one `BatchGetItem`
    /// (with the revoked-tokens table's `revoked` keys, if any).
    async fn batch_read(
        &self,
        keys: Vec<Item>,
        revoked: Option<Item>,
    ) -> Result<(Vec<Item>, Vec<Item>), StoreError> {
        let users_keys = built(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build(),
        )?;
        let mut request = self
            .client
            .batch_get_item()
            .request_items(&self.users_table, users_keys);
        if let Some(key) = revoked {
            let revoked_keys = built(
                KeysAndAttributes::builder()
                    .keys(key)
                    .consistent_read(true)
                    .build(),
            )?;
            request = request.request_items(&self.revoked_tokens_table, revoked_keys);
        }
        let output = request.send().await.map_err(unavailable)?;
        // DynamoDB may leave keys unread under throttling. Guessing would mean
        // accepting a token or an attempt we could not check: fail closed.
        if output
            .unprocessed_keys()
            .is_some_and(|unprocessed| !unprocessed.is_empty())
        {
            return Err(StoreError("batch read left keys unprocessed".into()));
        }
        let mut responses = output.responses.unwrap_or_default();
        let mut take = |table: &str| responses.remove(table).unwrap_or_default();
        Ok((take(&self.users_table), take(&self.revoked_tokens_table)))
    }

    /// Claims one attempt on `counter` if it still admits one
    /// ([`Failures::admits`]): an increment on the count `seen` read, or a
    /// fresh count of one where no live counter was read.
    async fn claim_one(
        &self,
        counter: &Counter,
        seen: &Failures,
        now_ms: u64,
    ) -> StoreResult<bool> {
        let now = now_ms / 1000;
        let update = self
            .client
            .update_item()
            .table_name(&self.users_table)
            .set_key(Some(schema::failures_key(counter)))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":now_ms", n(now_ms))
            .expression_attribute_values(":expires", n(now + FAILURE_WINDOW_SECONDS));
        let update = if *seen == Failures::default() {
            // TTL deletes late: an expired counter starts again from one, and
            // so does one whose every claim was taken back.
            update
                .update_expression(
                    "SET failures = :one, last_failure_ms = :now_ms, expires_at = :expires",
                )
                .condition_expression(
                    "attribute_not_exists(pk) OR expires_at <= :now OR failures = :zero",
                )
                .expression_attribute_values(":zero", n(0))
        } else {
            update
                .update_expression(
                    "SET failures = failures + :one, last_failure_ms = :now_ms, \
                     expires_at = :expires",
                )
                .condition_expression(
                    "expires_at > :now AND (failures < :free \
                     OR (failures = :seen AND last_failure_ms = :seen_at))",
                )
                .expression_attribute_values(":free", n(u64::from(counter.free_failures)))
                .expression_attribute_values(":seen", n(u64::from(seen.count)))
                .expression_attribute_values(":seen_at", n(seen.last_at_ms))
        };
        conditional(|| update.clone().send()).await
    }

    /// [`Store::claim_below_free`]: every claim sent together; if one is
    /// refused, the others are taken back.
    async fn claim_all_below_free(
        &self,
        counters: &[Counter],
        now_ms: u64,
    ) -> StoreResult<Option<Vec<Failures>>> {
        let each = (counters.iter()).map(|counter| self.claim_one_below_free(counter, now_ms));
        let claimed = futures_util::future::join_all(each).await;
        let held = |claim: &StoreResult<Option<Failures>>| claim.as_ref().ok().copied().flatten();
        if let Some(seen) = claimed.iter().map(held).collect::<Option<Vec<_>>>() {
            return Ok(Some(seen));
        }
        let taken: Vec<Claim> = (counters.iter().zip(&claimed))
            .filter_map(|(counter, claim)| {
                held(claim).map(|seen| Claim {
                    counter: counter.clone(),
                    seen,
                    at_ms: now_ms,
                })
            })
            .collect();
        futures_util::future::try_join_all(taken.iter().map(|claim| self.take_back(claim))).await?;
        claimed.into_iter().try_for_each(|claim| claim.map(drop))?;
        Ok(None)
    }

    /// Claims one attempt on `counter` without a read first
    /// ([`Store::claim_below_free`]): only while it has no item, or a live
    /// one below its free failures. The failures it held before, if it did.
    async fn claim_one_below_free(
        &self,
        counter: &Counter,
        now_ms: u64,
    ) -> StoreResult<Option<Failures>> {
        let now = now_ms / 1000;
        let update = self
            .client
            .update_item()
            .table_name(&self.users_table)
            .set_key(Some(schema::failures_key(counter)))
            .update_expression(
                "SET failures = if_not_exists(failures, :zero) + :one, \
                 last_failure_ms = :now_ms, expires_at = :expires",
            )
            // An expired item (TTL deletes late) is not counted on: the
            // caller's read-then-claim starts it again from one.
            .condition_expression(
                "attribute_not_exists(pk) OR (expires_at > :now AND failures < :free)",
            )
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":now_ms", n(now_ms))
            .expression_attribute_values(":expires", n(now + FAILURE_WINDOW_SECONDS))
            .expression_attribute_values(":free", n(u64::from(counter.free_failures)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld);
        let claimed = retry::conditional_output(|| update.clone().send()).await?;
        Ok(claimed.map(|output| schema::failures_from(output.attributes(), now_ms)))
    }

    /// Writes `items` (a success's transaction) with the account's counter
    /// cleared in it, and takes the other claims back at the same time: `true`
    /// if the transaction's conditions held.
    async fn write_settled(
        &self,
        mut items: Vec<TransactWriteItem>,
        settlement: &Settlement,
    ) -> StoreResult<bool> {
        let clear = built(
            Delete::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::failures_key(&settlement.clear)))
                .build(),
        )?;
        items.push(TransactWriteItem::builder().delete(clear).build());
        let take_back = settlement.release.iter().map(|claim| self.take_back(claim));
        let (written, _) = futures_util::future::try_join(
            self.conditional_transaction(items),
            futures_util::future::try_join_all(take_back),
        )
        .await?;
        Ok(written)
    }

    /// Takes one claim back: the count drops by one and, if ours is still
    /// the counter's last stamp, the stamp goes back to the one before, so a
    /// success does not restart the counter's wait. A later attempt's stamp
    /// stands; a counter gone or at zero has nothing to take back.
    async fn take_back(&self, claim: &Claim) -> StoreResult<()> {
        let update = self
            .client
            .update_item()
            .table_name(&self.users_table)
            .set_key(Some(schema::failures_key(&claim.counter)))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0));
        let restore = update
            .clone()
            .update_expression("SET failures = failures - :one, last_failure_ms = :previous")
            .condition_expression("failures > :zero AND last_failure_ms = :mine")
            .expression_attribute_values(":previous", n(claim.seen.last_at_ms))
            .expression_attribute_values(":mine", n(claim.at_ms));
        if conditional(|| restore.clone().send()).await? {
            return Ok(());
        }
        let count_only = update
            .update_expression("SET failures = failures - :one")
            .condition_expression("failures > :zero");
        conditional(|| count_only.clone().send()).await?;
        Ok(())
    }
}
