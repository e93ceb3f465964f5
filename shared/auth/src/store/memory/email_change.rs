//! The [`super::MemoryStore`]'s changes of address, with DynamoDB's
//! semantics: each call one atomic step under the lock.

use super::super::*;
use super::state::State;
use crate::credentials::one_time_code::MAX_WRONG_TRIES;
use crate::store::events;

const KIND: MailKind = MailKind::EmailChange;

impl State {
    pub(super) fn email_change_attempt(&self, email: &str) -> EmailChangeAttempt {
        let pending = self.codes.get(&(KIND, email.to_owned())).and_then(|code| {
            let (user_id, new_email) = self.email_changes.get(email)?;
            Some(PendingEmailChange {
                user_id: user_id.clone(),
                new_email: new_email.clone(),
                code: code.clone(),
            })
        });
        EmailChangeAttempt {
            record: self.login_record(email),
            pending,
        }
    }

    pub(super) fn start_email_change(&mut self, request: &EmailChangeRequest<'_>) -> bool {
        let (user_id, email) = (request.user_id, request.email);
        if self.user_id_by_email.get(email).map(String::as_str) != Some(user_id) {
            return false;
        }
        if let Some(verified) = request.verified
            && !self.settle_if_verified(verified)
        {
            return false;
        }
        let key = (KIND, email.to_owned());
        self.codes.remove(&key);
        self.email_changes.remove(email);
        if let Some(code) = request.code {
            let stored = StoredCode {
                code_hash: code.code_hash.clone(),
                wrong_tries: 0,
                expires_at: code.mail.expires_at,
            };
            self.codes.insert(key, stored);
            let change = (user_id.to_owned(), code.mail.to.clone());
            self.email_changes.insert(email.to_owned(), change);
            self.outbox.push(code.mail.clone());
        }
        self.outbox.push(request.notice.clone());
        true
    }

    pub(super) fn confirm_email_change(
        &mut self,
        confirmation: &EmailChangeConfirmation<'_>,
    ) -> EmailChangeOutcome {
        let EmailChangeConfirmation {
            user_id,
            email,
            new_email,
            code_hash,
            now,
        } = *confirmation;
        let key = (KIND, email.to_owned());
        let usable = self.codes.get(&key).is_some_and(|code| {
            code.code_hash == code_hash
                && code.wrong_tries < MAX_WRONG_TRIES
                && code.expires_at > now
        });
        let same = self
            .email_changes
            .get(email)
            .is_some_and(|(user, new)| user == user_id && new == new_email);
        if !usable || !same {
            return EmailChangeOutcome::CodeGone;
        }
        if self.user_id_by_email.contains_key(new_email) {
            return EmailChangeOutcome::AddressTaken;
        }
        if self.user_id_by_email.get(email).map(String::as_str) != Some(user_id) {
            return EmailChangeOutcome::AccountGone;
        }
        let Some(user) = self.users.get_mut(user_id) else {
            return EmailChangeOutcome::AccountGone;
        };
        user.email = new_email.to_owned();
        self.user_id_by_email.remove(email);
        self.user_id_by_email
            .insert(new_email.to_owned(), user_id.to_owned());
        self.verified.insert(user_id.to_owned());
        self.email_changes.remove(email);
        self.codes.retain(|(_, address), _| address != email);
        (self.events).push(events::email_changed(user_id, email, new_email, now));
        EmailChangeOutcome::Changed
    }
}
