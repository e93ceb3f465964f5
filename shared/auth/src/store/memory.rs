//! An in-memory [`Store`] for unit tests, with the same semantics as DynamoDB's,
//! and a switch that makes every call fail like an unreachable database.

use super::*;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    unavailable: AtomicBool,
}

#[derive(Default)]
struct State {
    users: HashMap<String, NewUser>,
    user_id_by_email: HashMap<String, String>,
    revoked_until: HashMap<String, u64>,
}

impl MemoryStore {
    /// From now on every call fails, as when DynamoDB cannot be reached.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    pub fn delete_user(&self, user_id: &str) {
        let mut state = self.lock();
        if let Some(user) = state.users.remove(user_id) {
            state.user_id_by_email.remove(&user.email);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock means a test already panicked; its state is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.unavailable.load(Ordering::SeqCst) {
            Err(StoreError("memory store switched off".into()))
        } else {
            Ok(())
        }
    }
}

impl Store for MemoryStore {
    async fn create_user(&self, user: &NewUser) -> Result<Registration, StoreError> {
        self.check()?;
        let mut state = self.lock();
        if state.user_id_by_email.contains_key(&user.email) {
            return Ok(Registration::EmailTaken);
        }
        state
            .user_id_by_email
            .insert(user.email.clone(), user.user_id.clone());
        state.users.insert(user.user_id.clone(), user.clone());
        Ok(Registration::Created)
    }

    async fn login_record(&self, email: &str) -> Result<Option<LoginRecord>, StoreError> {
        self.check()?;
        let state = self.lock();
        Ok(state
            .user_id_by_email
            .get(email)
            .and_then(|id| state.users.get(id))
            .map(|user| LoginRecord {
                user_id: user.user_id.clone(),
                password_hash: user.password_hash.clone(),
            }))
    }

    async fn token_subject(
        &self,
        user_id: &str,
        jti: &str,
        now: u64,
    ) -> Result<TokenSubject, StoreError> {
        self.check()?;
        let state = self.lock();
        Ok(TokenSubject {
            profile: state.users.get(user_id).map(|user| Profile {
                user_id: user.user_id.clone(),
                email: user.email.clone(),
                admin: false,
                registered_on: user.registered_on.clone(),
            }),
            revoked: state
                .revoked_until
                .get(jti)
                .is_some_and(|&until| until > now),
        })
    }

    async fn revoke(&self, jti: &str, expires_at: u64, now: u64) -> Result<Revocation, StoreError> {
        self.check()?;
        let mut state = self.lock();
        if state
            .revoked_until
            .get(jti)
            .is_some_and(|&until| until > now)
        {
            return Ok(Revocation::AlreadyRevoked);
        }
        state.revoked_until.insert(jti.to_owned(), expires_at);
        Ok(Revocation::Revoked)
    }
}
