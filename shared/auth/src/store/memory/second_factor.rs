//! [`SecondFactors`] in memory, with the conditions DynamoDB's writes have.

use super::super::*;
use super::MemoryStore;
use crate::mail::outbox::OutboxMail;
use crate::store::events;
use crate::webhooks::EventType;

impl SecondFactors for MemoryStore {
    async fn second_factor(&self, user_id: &str) -> StoreResult<Option<SecondFactor>> {
        self.check()?;
        Ok(self.lock().second_factors.get(user_id).cloned())
    }

    async fn begin_totp(
        &self,
        user_id: &str,
        sealed_secret: &str,
        verified: &Verified<'_>,
    ) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        let on = state.second_factors.get(user_id).is_some_and(|f| f.on);
        if on || !state.settle_if_verified(verified) {
            return Ok(false);
        }
        let pending = SecondFactor {
            sealed_secret: sealed_secret.to_owned(),
            on: false,
            last_step: 0,
            recovery_hashes: Vec::new(),
        };
        state.second_factors.insert(user_id.to_owned(), pending);
        Ok(true)
    }

    async fn confirm_totp(&self, confirmation: &TotpConfirmation<'_>) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        let session_key = (
            confirmation.user_id.to_owned(),
            confirmation.session_id.to_owned(),
        );
        let factor_holds = state
            .second_factors
            .get(confirmation.user_id)
            .is_some_and(|factor| {
                factor.sealed_secret == confirmation.sealed_secret
                    && !factor.on
                    && factor.last_step < confirmation.step
            });
        let session_holds = state
            .sessions
            .get(&session_key)
            .is_some_and(|session| session.is_live(confirmation.now));
        let account_holds = state
            .user_id_by_email
            .get(confirmation.email)
            .map(String::as_str)
            == Some(confirmation.user_id);
        if !(factor_holds && session_holds && account_holds) {
            return Ok(false);
        }
        let factor = state
            .second_factors
            .get_mut(confirmation.user_id)
            .expect("checked above");
        factor.on = true;
        factor.last_step = confirmation.step;
        factor.recovery_hashes = confirmation.recovery_hashes.to_vec();
        let session = state.sessions.get_mut(&session_key).expect("checked above");
        session.sign_in = confirmation.sign_in.clone();
        session.refresh_hash = confirmation.refresh_hash.to_owned();
        session.previous_hash = None;
        session.rotated_at = confirmation.now;
        state.outbox.push(confirmation.notice.clone());
        let on = events::plain(
            EventType::TotpEnabled,
            confirmation.user_id,
            confirmation.now,
        );
        state.events.push(on);
        Ok(true)
    }

    async fn open_challenge(
        &self,
        challenge: &Challenge,
        challenge_hash: &str,
        verified: &Verified<'_>,
    ) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        let holds = state.password_hash(verified.email) == Some(verified.password_hash)
            && !state.disabled.contains(&challenge.user_id);
        if !holds {
            return Ok(false);
        }
        state.release(&verified.settlement.release);
        let key = (challenge.user_id.clone(), challenge_hash.to_owned());
        state.challenges.insert(key, challenge.clone());
        Ok(true)
    }

    async fn challenge_attempt(
        &self,
        user_id: &str,
        challenge_hash: &str,
    ) -> StoreResult<(Option<Challenge>, Option<SecondFactor>)> {
        self.check()?;
        let state = self.lock();
        let key = (user_id.to_owned(), challenge_hash.to_owned());
        Ok((
            state.challenges.get(&key).cloned(),
            state.second_factors.get(user_id).cloned(),
        ))
    }

    async fn count_wrong_factor(&self, user_id: &str, challenge_hash: &str) -> StoreResult<()> {
        self.check()?;
        let key = (user_id.to_owned(), challenge_hash.to_owned());
        if let Some(challenge) = self.lock().challenges.get_mut(&key) {
            challenge.wrong_tries += 1;
        }
        Ok(())
    }

    async fn pass_challenge(&self, pass: &ChallengePass<'_>) -> StoreResult<bool> {
        use crate::credentials::one_time_code::MAX_WRONG_TRIES;
        self.check()?;
        let mut state = self.lock();
        let user_id = pass.session.user_id.clone();
        let key = (user_id.clone(), pass.challenge_hash.to_owned());
        let challenge_live = state.challenges.get(&key).is_some_and(|challenge| {
            challenge.wrong_tries < MAX_WRONG_TRIES && challenge.expires_at > pass.now
        });
        let factor_holds = state.second_factors.get(&user_id).is_some_and(|factor| {
            factor.on
                && match &pass.used {
                    FactorUsed::Step(step) => factor.last_step < *step,
                    FactorUsed::RecoveryCode(hash) => factor.recovery_hashes.contains(hash),
                }
        });
        if !(challenge_live && factor_holds) || state.disabled.contains(&user_id) {
            return Ok(false);
        }
        state.challenges.remove(&key);
        let factor = state
            .second_factors
            .get_mut(&user_id)
            .expect("checked above");
        match &pass.used {
            FactorUsed::Step(step) => factor.last_step = *step,
            FactorUsed::RecoveryCode(hash) => factor.recovery_hashes.retain(|h| h != hash),
        }
        if let FactorUsed::RecoveryCode(_) = pass.used {
            let used = events::plain(EventType::RecoveryCodeUsed, &user_id, pass.now);
            state.events.push(used);
        }
        let session_key = (user_id, pass.session.session_id.clone());
        state.sessions.insert(session_key, pass.session.clone());
        state.events.push(events::session_created(pass.session));
        state.settle(pass.settlement);
        state.outbox.extend(pass.notice.cloned());
        Ok(true)
    }

    async fn turn_off_totp(
        &self,
        user_id: &str,
        email: &str,
        verified: Option<&Verified<'_>>,
        notice: &OutboxMail,
    ) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        let on = state.second_factors.get(user_id).is_some_and(|f| f.on);
        let owner = state.user_id_by_email.get(email).map(String::as_str) == Some(user_id);
        if !(on && owner) {
            return Ok(false);
        }
        if let Some(verified) = verified
            && !state.settle_if_verified(verified)
        {
            return Ok(false);
        }
        state.second_factors.remove(user_id);
        state.outbox.push(notice.clone());
        let off = events::plain(EventType::TotpDisabled, user_id, crate::now());
        state.events.push(off);
        Ok(true)
    }

    async fn replace_recovery_codes(&self, user_id: &str, hashes: &[String]) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        match state.second_factors.get_mut(user_id) {
            Some(factor) if factor.on => {
                factor.recovery_hashes = hashes.to_vec();
                let kind = EventType::RecoveryCodesRegenerated;
                state
                    .events
                    .push(events::plain(kind, user_id, crate::now()));
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
