//! The [`super::MemoryStore`]'s account listing and changes.

use super::super::*;
use super::state::State;
use crate::store::events;

impl State {
    pub(super) fn users_page(&self, limit: u32, after: Option<&PageCursor>) -> UsersPage {
        let place = |profile: &Profile| (profile.registered_on.clone(), profile.user_id.clone());
        let mut users: Vec<Profile> = self
            .users
            .keys()
            .filter_map(|id| self.profile(id))
            .filter(|profile| {
                after.is_none_or(|cursor| {
                    place(profile) < (cursor.registered_on.clone(), cursor.user_id.clone())
                })
            })
            .collect();
        users.sort_by_key(|profile| std::cmp::Reverse(place(profile)));
        UsersPage::first(users, limit)
    }

    pub(super) fn change_account(
        &mut self,
        user_id: &str,
        email: &str,
        change: AccountChange,
    ) -> bool {
        if self.user_id_by_email.get(email).map(String::as_str) != Some(user_id) {
            return false;
        }
        match change {
            AccountChange::Roles(roles) => {
                if let Some(user) = self.users.get_mut(user_id) {
                    user.roles = roles;
                }
            }
            AccountChange::Disabled(disabled) => {
                match disabled {
                    true => self.disabled.insert(user_id.to_owned()),
                    false => self.disabled.remove(user_id),
                };
                let kind = events::disabled_or_enabled(disabled);
                self.events.push(events::plain(kind, user_id, crate::now()));
            }
            AccountChange::UserMetadata(object) => {
                self.metadata.entry(user_id.to_owned()).or_default().0 = object;
            }
            AccountChange::AppMetadata(object) => {
                self.metadata.entry(user_id.to_owned()).or_default().1 = object;
            }
        }
        true
    }
}

impl State {
    /// [`Store::erase_account`]: everything under the id and the email, with
    /// the `user.deleted` event.
    pub(super) fn erase(&mut self, erasure: &Erasure<'_>) -> bool {
        let (user_id, email) = (erasure.user_id, erasure.email);
        if self.user_id_by_email.get(email).map(String::as_str) != Some(user_id) {
            return false;
        }
        if let Some(verified) = erasure.verified
            && !self.settle_if_verified(verified)
        {
            return false;
        }
        self.users.remove(user_id);
        self.user_id_by_email.remove(email);
        self.verified.remove(user_id);
        self.disabled.remove(user_id);
        self.codes.retain(|(_, address), _| address != email);
        self.failures.remove(&erasure.account.key);
        self.second_factors.remove(user_id);
        self.end_listed(user_id, erasure.ending);
        let kind = crate::webhooks::EventType::UserDeleted;
        self.events.push(events::plain(kind, user_id, crate::now()));
        true
    }
}
