//! An in-memory [`Store`] for unit tests, with the same semantics as DynamoDB's,
//! and a switch that makes every call fail like an unreachable database.

mod accounts;
mod email_change;
mod federation;
mod passkeys;
mod second_factor;
mod sessions;
mod state;

use super::events;
use super::*;
use crate::webhooks::{Event, EventType};
use state::{State, key, live_failures};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    unavailable: AtomicBool,
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

    /// The mails written to the outbox so far, oldest first.
    pub fn outbox(&self) -> Vec<OutboxMail> {
        self.lock().outbox.clone()
    }

    /// The webhook events written to the outbox so far, oldest first.
    pub fn events(&self) -> Vec<Event> {
        self.lock().events.clone()
    }

    async fn login_record(&self, email: &str) -> StoreResult<Option<LoginRecord>> {
        self.check()?;
        Ok(self.lock().login_record(email))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock means a test already panicked; its state is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn check(&self) -> StoreResult<()> {
        if self.unavailable.load(Ordering::SeqCst) {
            Err(StoreError("memory store switched off".into()))
        } else {
            Ok(())
        }
    }
}

impl Store for MemoryStore {
    async fn create_user(
        &self,
        user: &NewUser,
        session: Option<&Session>,
        verification: Option<&NewCode>,
    ) -> StoreResult<Registration> {
        self.check()?;
        let mut state = self.lock();
        if state.user_id_by_email.contains_key(&user.email) {
            return Ok(Registration::EmailTaken);
        }
        state
            .user_id_by_email
            .insert(user.email.clone(), user.user_id.clone());
        state.users.insert(user.user_id.clone(), user.clone());
        if user.email_verified {
            state.verified.insert(user.user_id.clone());
        }
        state.events.push(events::user_created(user, crate::now()));
        if let Some(session) = session {
            state
                .sessions
                .insert(key(&session.user_id, &session.session_id), session.clone());
            state.events.push(events::session_created(session));
        }
        if let Some(code) = verification {
            state.store_code(code);
        }
        Ok(Registration::Created)
    }

    async fn login_attempt(
        &self,
        email: &str,
        counters: &[Counter],
        now_ms: u64,
    ) -> StoreResult<LoginAttempt> {
        let record = self.login_record(email).await?;
        let state = self.lock();
        let failures = counters
            .iter()
            .map(|counter| live_failures(&state, &counter.key, now_ms))
            .collect();
        Ok(LoginAttempt { record, failures })
    }

    async fn claim_attempt(
        &self,
        claims: &[(&Counter, Failures)],
        now_ms: u64,
    ) -> StoreResult<bool> {
        self.check()?;
        Ok(self.lock().claim(claims, now_ms))
    }

    async fn claim_below_free(
        &self,
        counters: &[Counter],
        now_ms: u64,
    ) -> StoreResult<Option<Vec<Failures>>> {
        self.check()?;
        Ok(self.lock().claim_below_free(counters, now_ms))
    }

    async fn create_session(
        &self,
        session: &Session,
        verified: &Verified<'_>,
    ) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        if state.disabled.contains(&session.user_id) || !state.settle_if_verified(verified) {
            return Ok(false);
        }
        state
            .sessions
            .insert(key(&session.user_id, &session.session_id), session.clone());
        state.events.push(events::session_created(session));
        Ok(true)
    }

    async fn settle_attempt(&self, settlement: &Settlement) -> StoreResult<()> {
        self.check()?;
        self.lock().settle(settlement);
        Ok(())
    }

    async fn count_in_window(&self, counter: &Counter, window_end: u64) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        let (counted, _) = state
            .failures
            .entry(counter.key.clone())
            .or_insert((Failures::default(), window_end));
        if counted.count >= counter.free_failures {
            return Ok(false);
        }
        counted.count += 1;
        Ok(true)
    }

    async fn token_subject(&self, claims: &Claims, now: u64) -> StoreResult<TokenSubject> {
        let (user_id, session_id, jti) = (&claims.sub, &claims.sid, &claims.jti);
        self.check()?;
        let state = self.lock();
        Ok(TokenSubject {
            profile: state.profile(user_id),
            session_live: state
                .sessions
                .get(&key(user_id, session_id))
                .is_some_and(|session| session.is_live(now)),
            revoked: state
                .revoked_until
                .get(jti)
                .is_some_and(|&until| until > now),
        })
    }

    async fn end_token_session(&self, claims: &Claims, now: u64) -> StoreResult<Revocation> {
        self.check()?;
        Ok(self.lock().end_token_session(claims, now))
    }

    async fn session_and_profile(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> StoreResult<(Option<Session>, Option<Profile>)> {
        self.check()?;
        let state = self.lock();
        let session = state.sessions.get(&key(user_id, session_id)).cloned();
        Ok((session, state.profile(user_id)))
    }

    async fn profile(&self, user_id: &str) -> StoreResult<Option<Profile>> {
        self.check()?;
        Ok(self.lock().profile(user_id))
    }

    async fn users_page(&self, limit: u32, after: Option<&PageCursor>) -> StoreResult<UsersPage> {
        self.check()?;
        Ok(self.lock().users_page(limit, after))
    }

    async fn change_account(
        &self,
        user_id: &str,
        email: &str,
        change: AccountChange,
    ) -> StoreResult<bool> {
        self.check()?;
        Ok(self.lock().change_account(user_id, email, change))
    }

    async fn disable_account(
        &self,
        user_id: &str,
        email: &str,
        ending: Ending<'_>,
    ) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        let disabled = state.change_account(user_id, email, AccountChange::Disabled(true));
        Ok(disabled && {
            state.end_listed(user_id, ending);
            true
        })
    }

    async fn erase_account(&self, erasure: &Erasure<'_>) -> StoreResult<bool> {
        self.check()?;
        Ok(self.lock().erase(erasure))
    }

    async fn sessions(&self, user_id: &str, now: u64) -> StoreResult<Vec<Session>> {
        self.check()?;
        Ok(self.lock().sessions_of(user_id, now))
    }

    async fn last_opened(&self, _user_id: &str) -> StoreResult<Option<String>> {
        // Nothing to record: a change here ends every other session when it
        // is written (`State::end_listed`), so none opened since can outlive it.
        self.check()?;
        Ok(None)
    }

    async fn rotate_refresh(
        &self,
        session: &Session,
        new_hash: &str,
        now: u64,
    ) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        let key = key(&session.user_id, &session.session_id);
        let Some(stored) = state.sessions.get_mut(&key) else {
            return Ok(false);
        };
        if stored.refresh_hash != session.refresh_hash {
            return Ok(false);
        }
        stored.previous_hash = Some(session.refresh_hash.clone());
        stored.refresh_hash = new_hash.to_owned();
        stored.rotated_at = now;
        stored.last_used_at = now;
        Ok(true)
    }

    async fn delete_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: u64,
        why: SessionEnd,
    ) -> StoreResult<bool> {
        self.check()?;
        Ok(self.lock().delete_session(user_id, session_id, now, why))
    }

    async fn delete_sessions(&self, user_id: &str, keep: Option<&str>) -> StoreResult<()> {
        self.check()?;
        self.lock().delete_sessions(user_id, keep);
        Ok(())
    }

    async fn set_password_hash(
        &self,
        user_id: &str,
        verified: &Verified<'_>,
        new_hash: &str,
        ending: Ending<'_>,
    ) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        let owner = state
            .user_id_by_email
            .get(verified.email)
            .map(String::as_str);
        if owner != Some(user_id) || !state.settle_if_verified(verified) {
            return Ok(false);
        }
        let user_id = user_id.to_owned();
        if let Some(user) = state.users.get_mut(&user_id) {
            user.password_hash = new_hash.to_owned();
        }
        state.end_listed(&user_id, ending);
        let changed = events::plain(EventType::UserPasswordChanged, &user_id, crate::now());
        state.events.push(changed);
        Ok(true)
    }

    async fn issue_code(&self, code: &NewCode) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        if !state.user_id_by_email.contains_key(&code.mail.to) {
            return Ok(false);
        }
        state.store_code(code);
        Ok(true)
    }

    async fn code_attempt(&self, kind: MailKind, email: &str) -> StoreResult<CodeAttempt> {
        let record = self.login_record(email).await?;
        let code = self.lock().codes.get(&(kind, email.to_owned())).cloned();
        Ok(CodeAttempt { record, code })
    }

    async fn count_wrong_code(&self, kind: MailKind, email: &str) -> StoreResult<()> {
        self.check()?;
        if let Some(code) = self.lock().codes.get_mut(&(kind, email.to_owned())) {
            code.wrong_tries = code.wrong_tries.saturating_add(1);
        }
        Ok(())
    }

    async fn reset_password(
        &self,
        redemption: &Redemption<'_>,
        new_hash: &str,
        account: &Counter,
    ) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        if !state.redeem(redemption) {
            return Ok(false);
        }
        if let Some(user) = state.users.get_mut(redemption.user_id) {
            user.password_hash = new_hash.to_owned();
        }
        state.failures.remove(&account.key);
        let reset = events::plain(
            EventType::UserPasswordReset,
            redemption.user_id,
            redemption.now,
        );
        state.events.push(reset);
        Ok(true)
    }

    async fn verify_email(&self, redemption: &Redemption<'_>) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        if !state.redeem(redemption) {
            return Ok(false);
        }
        let (user_id, email) = (redemption.user_id, redemption.email);
        (state.events).push(events::email_verified(user_id, email, redemption.now));
        Ok(true)
    }

    async fn email_change_attempt(&self, email: &str) -> StoreResult<EmailChangeAttempt> {
        self.check()?;
        Ok(self.lock().email_change_attempt(email))
    }

    async fn start_email_change(&self, request: &EmailChangeRequest<'_>) -> StoreResult<bool> {
        self.check()?;
        Ok(self.lock().start_email_change(request))
    }

    async fn confirm_email_change(
        &self,
        confirmation: &EmailChangeConfirmation<'_>,
    ) -> StoreResult<EmailChangeOutcome> {
        self.check()?;
        Ok(self.lock().confirm_email_change(confirmation))
    }
}
