//! [`Passkeys`] in memory, with the conditions DynamoDB's writes have.

use super::super::*;
use super::MemoryStore;
use crate::mail::outbox::OutboxMail;
use crate::store::events;
use crate::webhooks::EventType;

impl Passkeys for MemoryStore {
    async fn passkeys(&self, user_id: &str) -> StoreResult<Vec<StoredPasskey>> {
        self.check()?;
        let mut found: Vec<_> = (self.lock().passkeys.values())
            .filter(|passkey| passkey.user_id == user_id)
            .cloned()
            .collect();
        found.sort_by(|a, b| a.credential_id.cmp(&b.credential_id));
        Ok(found)
    }

    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> StoreResult<Option<StoredPasskey>> {
        self.check()?;
        Ok(self.lock().passkeys.get(credential_id).cloned())
    }

    async fn open_ceremony(&self, id: &str, ceremony: &Ceremony) -> StoreResult<()> {
        self.check()?;
        self.lock()
            .ceremonies
            .insert(id.to_owned(), ceremony.clone());
        Ok(())
    }

    async fn take_ceremony(&self, id: &str) -> StoreResult<Option<Ceremony>> {
        self.check()?;
        Ok(self.lock().ceremonies.remove(id))
    }

    async fn add_passkey(&self, passkey: &StoredPasskey) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        if state.passkeys.contains_key(&passkey.credential_id)
            || !state.users.contains_key(&passkey.user_id)
        {
            return Ok(false);
        }
        state
            .passkeys
            .insert(passkey.credential_id.clone(), passkey.clone());
        let (user_id, id) = (&passkey.user_id, &passkey.credential_id);
        let added = events::passkey(EventType::PasskeyAdded, user_id, id, crate::now());
        state.events.push(added);
        Ok(true)
    }

    async fn use_passkey(&self, used: &PasskeyUse<'_>) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        let Some(passkey) = state.passkeys.get_mut(used.credential_id) else {
            return Ok(false);
        };
        if passkey.user_id != used.user_id || passkey.counter != used.read_counter {
            return Ok(false);
        }
        passkey.counter = used.counter;
        passkey.passkey = used.passkey.to_owned();
        passkey.backed_up = used.backed_up;
        passkey.last_used_at = Some(used.now);
        let session = used.session.clone();
        state
            .sessions
            .insert(super::key(&session.user_id, &session.session_id), session);
        state.events.push(events::session_created(used.session));
        Ok(true)
    }

    async fn rename_passkey(
        &self,
        user_id: &str,
        credential_id: &str,
        name: &str,
    ) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        match state.passkeys.get_mut(credential_id) {
            Some(passkey) if passkey.user_id == user_id => {
                passkey.name = name.to_owned();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn delete_passkey(&self, user_id: &str, credential_id: &str) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        let ours = (state.passkeys.get(credential_id)).is_some_and(|p| p.user_id == user_id);
        if ours {
            state.passkeys.remove(credential_id);
            let kind = EventType::PasskeyRemoved;
            let removed = events::passkey(kind, user_id, credential_id, crate::now());
            state.events.push(removed);
        }
        Ok(ours)
    }

    async fn delete_passkeys(&self, user_id: &str) -> StoreResult<usize> {
        self.check()?;
        let mut state = self.lock();
        let mut ids: Vec<String> = (state.passkeys.values())
            .filter(|passkey| passkey.user_id == user_id)
            .map(|passkey| passkey.credential_id.clone())
            .collect();
        ids.sort();
        let now = crate::now();
        for id in &ids {
            state.passkeys.remove(id);
            let removed = events::passkey(EventType::PasskeyRemoved, user_id, id, now);
            state.events.push(removed);
        }
        Ok(ids.len())
    }

    async fn send_notice(&self, notice: &OutboxMail) -> StoreResult<()> {
        self.check()?;
        self.lock().outbox.push(notice.clone());
        Ok(())
    }
}
