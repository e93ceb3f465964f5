//! `make migrate`: every item of the users table brought to today's format
//! ([`super::formats`]), a page of a `Scan` at a time, at a pace the operator
//! gives.
//!
//! Idempotent and resumable: each upgrade is a write conditional on the item
//! still being older than today's format (or, for a deletion, still there),
//! so a second run, or two at once, or the service writing beside it, upgrades
//! every item exactly once; a run stopped halfway (a crash, or `limit`) goes on
//! from the page it was in ([`Progress::resume_from`]) or, without that, from
//! the start, finding the items already done current.

use super::DynamoStore;
use super::formats::{Upgrade, upgrade};
use super::retry::{conditional, unavailable};
use super::schema::Item;
use crate::store::StoreResult;
use std::time::{Duration, Instant};

/// What a run is asked to do.
#[derive(Clone, Debug)]
pub struct Migration {
    /// Writes per second at most (at least 1): an upgrade is one write, a
    /// page of the scan counts as one too.
    pub rate: u32,
    /// Stop after this many writes (a first, partial run to watch), if set.
    pub limit: Option<u64>,
    /// Where a stopped run left off ([`Progress::resume_from`]).
    pub resume_from: Option<Item>,
}

/// What a run did, so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    /// Items read.
    pub scanned: u64,
    /// Items brought to today's format by this run.
    pub upgraded: u64,
    /// Format-1 sessions deleted by this run.
    pub deleted: u64,
    /// Items found older whose write found them upgraded, or gone, by then:
    /// another run, or the service, got there first.
    pub raced: u64,
    /// Where to go on from: the first key of the page not yet finished, or
    /// `None` once the whole table is done.
    pub resume_from: Option<Item>,
    /// Whether the whole table was scanned (`false` if `limit` stopped it).
    pub finished: bool,
}

impl Progress {
    fn writes(&self) -> u64 {
        self.upgraded + self.deleted + self.raced
    }
}

impl DynamoStore {
    /// Upgrades the users table's older items; `on_page` sees the progress
    /// after every page (a checkpoint to save).
    pub async fn migrate(
        &self,
        migration: &Migration,
        mut on_page: impl FnMut(&Progress),
    ) -> StoreResult<Progress> {
        let rate = f64::from(migration.rate.max(1));
        let page_size = i32::try_from(migration.rate.clamp(1, 1000)).unwrap_or(1000);
        let started = Instant::now();
        let mut paced = 0u64;
        let mut progress = Progress {
            resume_from: migration.resume_from.clone(),
            ..Progress::default()
        };
        loop {
            pace(started, &mut paced, rate).await;
            let page = self
                .client
                .scan()
                .table_name(&self.users_table)
                .set_exclusive_start_key(progress.resume_from.clone())
                .limit(page_size)
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items() {
                progress.scanned += 1;
                let Some(step) = upgrade(item)? else {
                    continue;
                };
                if migration
                    .limit
                    .is_some_and(|limit| progress.writes() >= limit)
                {
                    on_page(&progress);
                    return Ok(progress);
                }
                pace(started, &mut paced, rate).await;
                match (&step, self.apply(&step).await?) {
                    (_, false) => progress.raced += 1,
                    (Upgrade::Delete { .. }, true) => progress.deleted += 1,
                    (Upgrade::Set { .. }, true) => progress.upgraded += 1,
                }
            }
            progress.resume_from = page.last_evaluated_key().cloned();
            progress.finished = progress.resume_from.is_none();
            on_page(&progress);
            if progress.finished {
                return Ok(progress);
            }
        }
    }

    /// One upgrade, conditional: `false` if the item was already current, or
    /// gone, when it arrived.
    async fn apply(&self, step: &Upgrade) -> StoreResult<bool> {
        match step {
            Upgrade::Set {
                key,
                update,
                condition,
                names,
                values,
            } => {
                let update = self
                    .client
                    .update_item()
                    .table_name(&self.users_table)
                    .set_key(Some(key.clone()))
                    .update_expression(update)
                    .condition_expression(condition)
                    .set_expression_attribute_names(Some(names.clone()))
                    .set_expression_attribute_values(Some(values.clone()));
                conditional(|| update.clone().send()).await
            }
            Upgrade::Delete { key } => {
                let delete = self
                    .client
                    .delete_item()
                    .table_name(&self.users_table)
                    .set_key(Some(key.clone()))
                    .condition_expression("attribute_exists(pk)");
                conditional(|| delete.clone().send()).await
            }
        }
    }
}

/// Waits until one more write keeps the run within `rate` writes a second.
async fn pace(started: Instant, paced: &mut u64, rate: f64) {
    let due = Duration::from_secs_f64(*paced as f64 / rate);
    if let Some(wait) = due.checked_sub(started.elapsed()) {
        tokio::time::sleep(wait).await;
    }
    *paced += 1;
}
