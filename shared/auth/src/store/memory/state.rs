//! What the [`super::MemoryStore`] holds, and the reads its calls share.

use super::super::*;
use crate::credentials::one_time_code::MAX_WRONG_TRIES;
use crate::metadata::Metadata;
use crate::throttle::{FAILURE_WINDOW_SECONDS, Settlement};
use std::collections::{HashMap, HashSet};

#[derive(Default)]
pub(super) struct State {
    pub(super) users: HashMap<String, NewUser>,
    pub(super) user_id_by_email: HashMap<String, String>,
    /// Keyed by (user id, session id).
    pub(super) sessions: HashMap<(String, String), Session>,
    pub(super) revoked_until: HashMap<String, u64>,
    /// Failed logins by counter key, with the window's end (epoch seconds).
    pub(super) failures: HashMap<String, (Failures, u64)>,
    /// Users whose address is verified.
    pub(super) verified: HashSet<String>,
    /// Users an admin disabled.
    pub(super) disabled: HashSet<String>,
    /// (user metadata, app metadata) by user id.
    pub(super) metadata: HashMap<String, (Metadata, Metadata)>,
    /// Pending codes by kind and address.
    pub(super) codes: HashMap<(MailKind, String), StoredCode>,
    /// The (user id, new address) of a pending change of address, by the
    /// current address (its code is in `codes`).
    pub(super) email_changes: HashMap<String, (String, String)>,
    /// Every mail written to the outbox, in order (nothing sends them here).
    pub(super) outbox: Vec<OutboxMail>,
    /// Second factors by user id.
    pub(super) second_factors: HashMap<String, SecondFactor>,
    /// Sign-ins waiting for their second factor, by (user id, token hash).
    pub(super) challenges: HashMap<(String, String), Challenge>,
    /// Passkeys by credential id (which makes it unique to anyone).
    pub(super) passkeys: HashMap<String, StoredPasskey>,
    /// Passkey ceremonies by id.
    pub(super) ceremonies: HashMap<String, Ceremony>,
    /// Sign-ins at a provider by state; one-time app codes by hash.
    pub(super) oauth_states: HashMap<String, OauthState>,
    pub(super) app_codes: HashMap<String, AppCode>,
    /// Linked identities by (provider, sub).
    pub(super) identities: HashMap<(String, String), Identity>,
    /// Every webhook event written to the outbox, in order: only with a
    /// change that was made, as DynamoDB writes them in its transaction.
    pub(super) events: Vec<crate::webhooks::Event>,
}

impl State {
    pub(super) fn profile(&self, user_id: &str) -> Option<Profile> {
        let user = self.users.get(user_id)?;
        Some(Profile {
            user_id: user.user_id.clone(),
            email: user.email.clone(),
            roles: user.roles.clone(),
            registered_on: user.registered_on.clone(),
            email_verified: self.verified.contains(&user.user_id),
            disabled: self.disabled.contains(&user.user_id),
            user_metadata: self
                .metadata
                .get(user_id)
                .map(|m| m.0.clone())
                .unwrap_or_default(),
            app_metadata: self
                .metadata
                .get(user_id)
                .map(|m| m.1.clone())
                .unwrap_or_default(),
        })
    }

    pub(super) fn login_record(&self, email: &str) -> Option<LoginRecord> {
        let user = self.users.get(self.user_id_by_email.get(email)?)?;
        Some(LoginRecord {
            user_id: user.user_id.clone(),
            password_hash: user.password_hash.clone(),
            email_verified: self.verified.contains(&user.user_id),
            roles: user.roles.clone(),
            disabled: self.disabled.contains(&user.user_id),
            mfa: self
                .second_factors
                .get(&user.user_id)
                .is_some_and(|factor| factor.on),
        })
    }

    pub(super) fn password_hash(&self, email: &str) -> Option<&str> {
        let user_id = self.user_id_by_email.get(email)?;
        Some(self.users.get(user_id)?.password_hash.as_str())
    }

    /// Settles the check's attempt if the hash it verified is still the
    /// account's: what both writes made on a verified password need first.
    pub(super) fn settle_if_verified(&mut self, verified: &Verified<'_>) -> bool {
        if self.password_hash(verified.email) != Some(verified.password_hash) {
            return false;
        }
        self.settle(verified.settlement);
        true
    }

    pub(super) fn store_code(&mut self, code: &NewCode) {
        let stored = StoredCode {
            code_hash: code.code_hash.clone(),
            wrong_tries: 0,
            expires_at: code.mail.expires_at,
        };
        self.codes
            .insert((code.mail.kind, code.mail.to.clone()), stored);
        self.outbox.push(code.mail.clone());
    }

    /// Uses the code up if it is still the matched one, with tries left and
    /// unexpired, and the email still the user's; then the address is verified.
    pub(super) fn redeem(&mut self, redemption: &Redemption<'_>) -> bool {
        let key = (redemption.kind, redemption.email.to_owned());
        let usable = self.codes.get(&key).is_some_and(|code| {
            code.code_hash == redemption.code_hash
                && code.wrong_tries < MAX_WRONG_TRIES
                && code.expires_at > redemption.now
        });
        let owner = self.user_id_by_email.get(redemption.email);
        if !usable || owner.map(String::as_str) != Some(redemption.user_id) {
            return false;
        }
        self.codes.remove(&key);
        self.verified.insert(redemption.user_id.to_owned());
        true
    }

    pub(super) fn settle(&mut self, settlement: &Settlement) {
        self.failures.remove(&settlement.clear.key);
        self.release(&settlement.release);
    }

    /// Takes claims back (see [`crate::throttle::Claim`]).
    pub(super) fn release(&mut self, claims: &[crate::throttle::Claim]) {
        for claim in claims {
            if let Some((failures, _)) = self.failures.get_mut(&claim.counter.key) {
                failures.count = failures.count.saturating_sub(1);
                if failures.last_at_ms == claim.at_ms {
                    failures.last_at_ms = claim.seen.last_at_ms;
                }
            }
        }
    }
}

/// A counter's failures, zero once its window has passed.
impl State {
    /// [`Store::claim_attempt`]: all of `claims` or none.
    pub(super) fn claim(&mut self, claims: &[(&Counter, Failures)], now_ms: u64) -> bool {
        let admitted = claims.iter().all(|(counter, seen)| {
            live_failures(self, &counter.key, now_ms).admits(seen, counter.free_failures)
        });
        if admitted {
            for (counter, _) in claims {
                let failures = live_failures(self, &counter.key, now_ms).and_one_more(now_ms);
                (self.failures).insert(counter.key.clone(), (failures, window_end(now_ms)));
            }
        }
        admitted
    }

    /// [`Store::claim_below_free`]: all of `counters` or none, each only
    /// while it has no failures or fewer than its free ones.
    pub(super) fn claim_below_free(
        &mut self,
        counters: &[Counter],
        now_ms: u64,
    ) -> Option<Vec<Failures>> {
        let seen: Vec<Failures> = (counters.iter())
            .map(|counter| live_failures(self, &counter.key, now_ms))
            .collect();
        let below = |(counter, seen): (&Counter, &Failures)| {
            *seen == Failures::default() || seen.count < counter.free_failures
        };
        if !counters.iter().zip(&seen).all(below) {
            return None;
        }
        let claims: Vec<(&Counter, Failures)> = counters.iter().zip(seen.clone()).collect();
        self.claim(&claims, now_ms).then_some(seen)
    }
}

pub(super) fn live_failures(state: &State, key: &str, now_ms: u64) -> Failures {
    match state.failures.get(key) {
        Some((failures, until)) if *until > now_ms / 1000 => *failures,
        _ => Failures::default(),
    }
}

pub(super) fn window_end(now_ms: u64) -> u64 {
    now_ms / 1000 + FAILURE_WINDOW_SECONDS
}

pub(super) fn key(user_id: &str, session_id: &str) -> (String, String) {
    (user_id.to_owned(), session_id.to_owned())
}
