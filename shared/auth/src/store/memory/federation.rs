//! [`Federation`] in memory, with the conditions DynamoDB's writes have.

use super::super::*;
use super::MemoryStore;
use super::state::key;
use crate::store::events;

impl Federation for MemoryStore {
    async fn open_oauth_state(&self, state: &str, opened: &OauthState) -> StoreResult<()> {
        self.check()?;
        let mut stored = self.lock();
        stored.oauth_states.insert(state.to_owned(), opened.clone());
        Ok(())
    }

    async fn take_oauth_state(&self, state: &str) -> StoreResult<Option<OauthState>> {
        self.check()?;
        Ok(self.lock().oauth_states.remove(state))
    }

    async fn put_app_code(&self, code_hash: &str, code: &AppCode) -> StoreResult<()> {
        self.check()?;
        let mut state = self.lock();
        state.app_codes.insert(code_hash.to_owned(), code.clone());
        Ok(())
    }

    async fn take_app_code(&self, code_hash: &str) -> StoreResult<Option<AppCode>> {
        self.check()?;
        Ok(self.lock().app_codes.remove(code_hash))
    }

    async fn identity_owner(&self, provider: &str, sub: &str) -> StoreResult<Option<String>> {
        self.check()?;
        let state = self.lock();
        let claim = (provider.to_owned(), sub.to_owned());
        Ok(state
            .identities
            .get(&claim)
            .map(|identity| identity.user_id.clone()))
    }

    async fn create_federated_user(
        &self,
        user: &NewUser,
        session: &Session,
        identity: &Identity,
    ) -> StoreResult<FederatedSignUp> {
        self.check()?;
        let mut state = self.lock();
        if state.user_id_by_email.contains_key(&user.email) {
            return Ok(FederatedSignUp::EmailTaken);
        }
        let claim = (identity.provider.clone(), identity.sub.clone());
        if state.identities.contains_key(&claim) {
            return Ok(FederatedSignUp::IdentityTaken);
        }
        state.identities.insert(claim, identity.clone());
        state
            .user_id_by_email
            .insert(user.email.clone(), user.user_id.clone());
        state.users.insert(user.user_id.clone(), user.clone());
        if user.email_verified {
            state.verified.insert(user.user_id.clone());
        }
        state.events.push(events::user_created(user, crate::now()));
        state
            .sessions
            .insert(key(&session.user_id, &session.session_id), session.clone());
        state.events.push(events::session_created(session));
        Ok(FederatedSignUp::Created)
    }

    async fn link_identity(&self, identity: &Identity) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        let claim = (identity.provider.clone(), identity.sub.clone());
        if state.identities.contains_key(&claim) || !state.users.contains_key(&identity.user_id) {
            return Ok(false);
        }
        state.identities.insert(claim, identity.clone());
        Ok(true)
    }

    async fn identities(&self, user_id: &str) -> StoreResult<Vec<Identity>> {
        self.check()?;
        let mut found: Vec<Identity> = (self.lock().identities.values())
            .filter(|identity| identity.user_id == user_id)
            .cloned()
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(found)
    }

    async fn unlink_identity(&self, user_id: &str, identity: &Identity) -> StoreResult<bool> {
        self.check()?;
        let mut state = self.lock();
        let claim = (identity.provider.clone(), identity.sub.clone());
        let ours = state
            .identities
            .get(&claim)
            .is_some_and(|stored| stored.user_id == user_id && stored.id == identity.id);
        if ours {
            state.identities.remove(&claim);
        }
        Ok(ours)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Federation;

    fn identity(user_id: &str, sub: &str) -> Identity {
        Identity {
            id: format!("id-{sub}"),
            user_id: user_id.into(),
            provider: "mock".into(),
            sub: sub.into(),
            email: None,
            linked_at: 1,
        }
    }

    #[tokio::test]
    async fn states_and_codes_are_taken_once_and_identities_claimed_once() {
        let store = MemoryStore::default();
        let state = OauthState {
            provider: "mock".into(),
            nonce: "n".into(),
            verifier: "v".into(),
            code_challenge: None,
            redirect_to: "https://app.example/cb".into(),
            link_user_id: None,
            created_at: 1,
            expires_at: 2,
        };
        store.open_oauth_state("s", &state).await.unwrap();
        assert_eq!(store.take_oauth_state("s").await.unwrap(), Some(state));
        assert_eq!(store.take_oauth_state("s").await.unwrap(), None);
        let code = AppCode {
            user_id: "u".into(),
            session_id: None,
            device: "d".into(),
            code_challenge: "c".into(),
            expires_at: 2,
            sign_in: Some(SignIn::password(1)),
        };
        store.put_app_code("h", &code).await.unwrap();
        assert_eq!(store.take_app_code("h").await.unwrap(), Some(code));
        assert_eq!(store.take_app_code("h").await.unwrap(), None);
        // No account: nothing linked.
        assert!(!store.link_identity(&identity("nobody", "1")).await.unwrap());
        assert_eq!(store.identity_owner("mock", "1").await.unwrap(), None);
    }
}
