//! Sessions ended, behind [`Store::delete_session`] and
//! [`Store::delete_sessions`], each with its webhook event.

use super::retry::{built, conditional, unavailable};
use super::schema::{self, n, s};
use super::*;
use crate::store::events::{self, RevokedScope};

impl DynamoStore {
    /// A refresh token rotated ([`Store::rotate_refresh`]).
    pub(super) async fn rotate(
        &self,
        session: &Session,
        new_hash: &str,
        now: u64,
    ) -> StoreResult<bool> {
        let (user_id, session_id, old_hash) =
            (&session.user_id, &session.session_id, &session.refresh_hash);
        let write = self
            .client
            .update_item()
            .table_name(&self.users_table)
            .set_key(Some(schema::session_key(user_id, session_id)))
            .update_expression(
                "SET refresh_hash = :new, previous_hash = :old, rotated_at = :now, \
                 last_used_at = :now",
            )
            .condition_expression("refresh_hash = :old")
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":old", s(old_hash))
            .expression_attribute_values(":now", n(now));
        conditional(|| write.clone().send()).await
    }

    /// The user's live sessions ([`Store::sessions`]), every page.
    pub(super) async fn list_sessions(&self, user_id: &str, now: u64) -> StoreResult<Vec<Session>> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.users_table)
            // Every session, and not the last sign-in's item below them.
            .key_condition_expression("pk = :pk AND sk > :below")
            .expression_attribute_values(":pk", s(schema::sessions_pk(user_id)))
            .expression_attribute_values(":below", s(schema::LAST_OPENED))
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut sessions = Vec::new();
        while let Some(page) = pages.next().await {
            for item in page.map_err(unavailable)?.items() {
                let session = schema::session_from(item)?;
                if session.is_live(now) {
                    sessions.push(session);
                }
            }
        }
        Ok(sessions)
    }

    /// The deletes of the sessions a change ends in its own transaction, with
    /// their event; none for none. Unconditional: a session gone meanwhile
    /// is no reason to refuse the change. With [`OpenedSince::LastWas`], a
    /// check that no sign-in opened a session since they were listed.
    pub(super) fn ending(
        &self,
        user_id: &str,
        ending: Ending<'_>,
    ) -> StoreResult<Vec<TransactWriteItem>> {
        let mut items = Vec::with_capacity(ending.ids.len() + 2);
        if let OpenedSince::LastWas(last) = ending.since {
            let check = ConditionCheck::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::last_opened_key(user_id)));
            let check = match last {
                Some(session_id) => check
                    .condition_expression("session_id = :last")
                    .expression_attribute_values(":last", s(session_id)),
                None => check.condition_expression("attribute_not_exists(pk)"),
            };
            items.push(
                TransactWriteItem::builder()
                    .condition_check(built(check.build())?)
                    .build(),
            );
        }
        if ending.ids.is_empty() {
            return Ok(items);
        }
        for session_id in ending.ids {
            let delete = built(
                Delete::builder()
                    .table_name(&self.users_table)
                    .set_key(Some(schema::session_key(user_id, session_id)))
                    .build(),
            )?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        let scope = RevokedScope::keeping(ending.keep);
        let revoked = events::sessions_revoked(user_id, scope, crate::now());
        items.extend(self.put_events(&[revoked])?);
        Ok(items)
    }

    /// The last sign-in's session ([`Store::last_opened`]), read
    /// consistently: a sign-in whose write succeeded before is seen.
    pub(super) async fn read_last_opened(&self, user_id: &str) -> StoreResult<Option<String>> {
        let read = self
            .client
            .get_item()
            .table_name(&self.users_table)
            .set_key(Some(schema::last_opened_key(user_id)))
            .consistent_read(true)
            .send();
        let item = read.await.map_err(unavailable)?;
        Ok(item
            .item()
            .and_then(|item| schema::string_of(item, "session_id").ok()))
    }

    /// One live session ended, and its event (of `why`) written with it, in
    /// one transaction: nothing at all if the session was gone or expired.
    pub(super) async fn end_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: u64,
        why: SessionEnd,
    ) -> StoreResult<bool> {
        let delete = built(
            Delete::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::session_key(user_id, session_id)))
                .condition_expression("attribute_exists(pk) AND expires_at > :now")
                .expression_attribute_values(":now", n(now))
                .build(),
        )?;
        let mut items = vec![TransactWriteItem::builder().delete(delete).build()];
        items.extend(self.put_events(&[events::session_ended(user_id, session_id, why, now)])?);
        self.conditional_transaction(items).await
    }

    /// Every session but `keep` ended.
    pub(super) async fn end_sessions(&self, user_id: &str, keep: Option<&str>) -> StoreResult<()> {
        // Expired sessions too: 0 as "now" lists every one still stored.
        let sessions = self.sessions(user_id, 0).await?;
        let ending: Vec<&Session> = sessions
            .iter()
            .filter(|session| Some(session.session_id.as_str()) != keep)
            .collect();
        let Some(last) = ending.len().checked_sub(1) else {
            // Nothing ended: nothing to tell.
            return Ok(());
        };
        let event = events::sessions_revoked(user_id, RevokedScope::keeping(keep), crate::now());
        let event = &event;
        // One DeleteItem each, sent together, rather than BatchWriteItem, whose
        // permission would also allow puts: a user has a handful of sessions.
        // The deletes are not one atomic step, so neither is the event's
        // write with them: it goes with the last one, in a transaction of
        // its own (no request more), and holds as long as that delete does.
        // A sweep that fails part-way answers 503 and may have told of it.
        let deletes = ending.iter().enumerate().map(|(at, session)| async move {
            let key = schema::session_key(user_id, &session.session_id);
            if at < last {
                let write = self
                    .client
                    .delete_item()
                    .table_name(&self.users_table)
                    .set_key(Some(key));
                return conditional(|| write.clone().send()).await;
            }
            let delete = built(
                Delete::builder()
                    .table_name(&self.users_table)
                    .set_key(Some(key))
                    .build(),
            )?;
            let mut items = vec![TransactWriteItem::builder().delete(delete).build()];
            items.extend(self.put_events(std::slice::from_ref(event))?);
            self.conditional_transaction(items).await
        });
        futures_util::future::try_join_all(deletes).await?;
        Ok(())
    }
}
