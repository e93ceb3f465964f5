//! [`SecondFactors`] in memory, with the conditions DynamoDB's writes have.

use super::super::*;
use super::MemoryStore;

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
        Ok(true)
    }
}
