//! One password check under the throttle, for login and password change alike.

use super::{Counter, Failures};
use crate::App;
use crate::error::ApiError;
use crate::store::{LoginAttempt, LoginRecord, Store};

/// A password check under the brute-force throttle ([`super`]).
pub struct PasswordAttempt {
    /// The account's counter first, then the source address's, if known.
    counters: Vec<Counter>,
    failures: Vec<Failures>,
    /// Counters on which this attempt's failure is already counted (claimed).
    claimed: Vec<bool>,
}

impl PasswordAttempt {
    /// Reads the account's login record with its counters, then refuses the
    /// attempt while any counter makes it wait: before bcrypt, so waiting costs
    /// an attacker time and us nothing. From the last free failure on, the
    /// attempt claims its failure first, so of parallel attempts one goes on.
    pub async fn begin<S: Store>(
        app: &App<S>,
        email: &str,
        counters: Vec<Counter>,
    ) -> Result<(Option<LoginRecord>, Self), ApiError> {
        let now_ms = crate::now_millis();
        let LoginAttempt { record, failures } =
            app.store.login_attempt(email, &counters, now_ms).await?;
        if let Some(retry_after) = super::wait(&counters, &failures, now_ms) {
            return Err(ApiError::TooManyLogins { retry_after });
        }
        let claimed: Vec<bool> = counters
            .iter()
            .zip(&failures)
            .map(|(counter, failures)| failures.at_edge(counter.free_failures))
            .collect();
        let claims: Vec<_> = counters
            .iter()
            .zip(&failures)
            .zip(&claimed)
            .filter(|(_, claimed)| **claimed)
            .map(|((counter, failures), _)| (counter, *failures))
            .collect();
        if !claims.is_empty() && !app.store.claim_login_attempt(&claims, now_ms).await? {
            // A parallel attempt claimed first: this one waits as if it had
            // failed as well.
            let retry_after = claims
                .iter()
                .filter_map(|(counter, seen)| {
                    seen.and_one_more(now_ms)
                        .wait(counter.free_failures, now_ms)
                })
                .max()
                .unwrap_or(1);
            return Err(ApiError::TooManyLogins { retry_after });
        }
        let attempt = Self {
            counters,
            failures,
            claimed,
        };
        Ok((record, attempt))
    }

    /// Counts the failure on every counter the claim has not counted already.
    /// A failure that cannot be counted fails closed (503): it would be a free
    /// guess.
    pub async fn failed<S: Store>(&self, app: &App<S>) -> Result<(), ApiError> {
        let unclaimed: Vec<_> = self
            .counters
            .iter()
            .zip(&self.claimed)
            .filter(|(_, claimed)| !**claimed)
            .map(|(counter, _)| counter.clone())
            .collect();
        if !unclaimed.is_empty() {
            app.store
                .record_login_failure(&unclaimed, crate::now_millis())
                .await?;
        }
        Ok(())
    }

    /// After a success the account's counter starts again from zero; the
    /// source's does not, so one good login cannot launder an address's
    /// failures on other accounts.
    pub fn reset(&self) -> Option<&Counter> {
        (self.failures[0].count > 0 || self.claimed[0]).then_some(&self.counters[0])
    }
}
