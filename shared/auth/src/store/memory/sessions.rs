//! The [`super::MemoryStore`]'s sessions ended, each with its webhook event,
//! as DynamoDB writes them: only when a session did end.

use super::super::*;
use super::state::{State, key};
use crate::store::events::{self, RevokedScope};

impl State {
    pub(super) fn end_token_session(&mut self, claims: &Claims, now: u64) -> Revocation {
        let (user_id, session_id, jti, expires_at) =
            (&claims.sub, &claims.sid, &claims.jti, claims.exp);
        let session_live = self
            .sessions
            .get(&key(user_id, session_id))
            .is_some_and(|session| session.is_live(now));
        if !session_live
            || self
                .revoked_until
                .get(jti)
                .is_some_and(|&until| until > now)
        {
            return Revocation::AlreadyRevoked;
        }
        self.revoked_until.insert(jti.to_owned(), expires_at);
        self.sessions.remove(&key(user_id, session_id));
        let ended = events::session_ended(user_id, session_id, SessionEnd::Revoked, now);
        self.events.push(ended);
        Revocation::Revoked
    }

    /// Ends the session if it is live (an expired one goes unannounced).
    pub(super) fn delete_session(
        &mut self,
        user_id: &str,
        session_id: &str,
        now: u64,
        why: SessionEnd,
    ) -> bool {
        let key = key(user_id, session_id);
        let live = self.sessions.get(&key).is_some_and(|s| s.is_live(now));
        self.sessions.remove(&key);
        if live {
            (self.events).push(events::session_ended(user_id, session_id, why, now));
        }
        live
    }

    pub(super) fn delete_sessions(&mut self, user_id: &str, keep: Option<&str>) {
        let before = self.sessions.len();
        self.sessions
            .retain(|(user, session), _| user != user_id || Some(session.as_str()) == keep);
        if self.sessions.len() < before {
            let scope = RevokedScope::keeping(keep);
            (self.events).push(events::sessions_revoked(user_id, scope, crate::now()));
        }
    }

    /// The user's live sessions at `now`, by id.
    pub(super) fn sessions_of(&self, user_id: &str, now: u64) -> Vec<Session> {
        let mut sessions: Vec<Session> = (self.sessions.values())
            .filter(|s| s.user_id == user_id && s.is_live(now))
            .cloned()
            .collect();
        sessions.sort_by(|a, b| a.session_id.cmp(&b.session_id));
        sessions
    }

    /// The sessions a change ends in its own write, with their event, as
    /// DynamoDB writes them: the event whenever any were listed. A change
    /// that checks for sessions opened since ([`OpenedSince::LastWas`])
    /// ends every other one: this write is atomic, so none was opened since
    /// unseen, and the one a sign-in in between opened ends with the rest.
    pub(super) fn end_listed(&mut self, user_id: &str, ending: Ending<'_>) {
        if let OpenedSince::LastWas(_) = ending.since {
            return self.delete_sessions(user_id, ending.keep);
        }
        if ending.ids.is_empty() {
            return;
        }
        for session_id in ending.ids {
            self.sessions.remove(&key(user_id, session_id));
        }
        let scope = RevokedScope::keeping(ending.keep);
        (self.events).push(events::sessions_revoked(user_id, scope, crate::now()));
    }
}
