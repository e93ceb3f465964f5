//! The items of the transactions [`super::operations`] writes: a put, a
//! mail or a webhook event into the outbox, and the writes that use a code up.

use super::retry::built;
use super::schema::{self, n, s};
use super::*;
use crate::credentials::one_time_code::MAX_WRONG_TRIES;
use crate::mail::outbox::OutboxMail;
use crate::webhooks::Event;
use aws_sdk_dynamodb::types::AttributeValue;

impl DynamoStore {
    /// A put without a condition, for a transaction.
    pub(super) fn put(&self, item: Item) -> StoreResult<TransactWriteItem> {
        let put = built(
            Put::builder()
                .table_name(&self.users_table)
                .set_item(Some(item))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A mail into the outbox, for the transaction that stores its code.
    pub(super) fn put_mail(&self, mail: &OutboxMail) -> StoreResult<TransactWriteItem> {
        let put = built(
            Put::builder()
                .table_name(&self.outbox_table)
                .set_item(Some(schema::outbox_item(mail)))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The events of a change into the outbox, for the transaction that
    /// makes the change: written with it or not at all (issue 27). None for
    /// a store without the outbox table ([`DynamoStore::users_only`]).
    pub(super) fn put_events(&self, events: &[Event]) -> StoreResult<Vec<TransactWriteItem>> {
        if self.outbox_table.is_empty() {
            return Ok(Vec::new());
        }
        let put = |event| {
            let put = built(
                Put::builder()
                    .table_name(&self.outbox_table)
                    .set_item(Some(schema::event_item(event)))
                    .build(),
            )?;
            Ok(TransactWriteItem::builder().put(put).build())
        };
        events.iter().map(put).collect()
    }

    /// The writes that use a code up: its deletion, only while it is the
    /// matched one, with tries left and unexpired; and the address marked
    /// verified on the login record (with `new_hash` as the password, for a
    /// reset) and on the profile, only while the email is still this user's.
    pub(super) fn redeem(
        &self,
        redemption: &Redemption<'_>,
        new_hash: Option<&str>,
    ) -> StoreResult<Vec<TransactWriteItem>> {
        let use_up = built(
            Delete::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::code_key(redemption.kind, redemption.email)))
                .condition_expression(
                    "code_hash = :hash AND wrong_tries < :tries AND expires_at > :now",
                )
                .expression_attribute_values(":hash", s(redemption.code_hash))
                .expression_attribute_values(":tries", n(u64::from(MAX_WRONG_TRIES)))
                .expression_attribute_values(":now", n(redemption.now))
                .build(),
        )?;
        let mut login = Update::builder()
            .table_name(&self.users_table)
            .set_key(Some(schema::login_key(redemption.email)))
            .update_expression("SET email_verified = :true")
            .condition_expression("user_id = :user")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":user", s(redemption.user_id));
        if let Some(new_hash) = new_hash {
            login = login
                .update_expression("SET email_verified = :true, password_hash = :new")
                .expression_attribute_values(":new", s(new_hash));
        }
        let profile = built(
            Update::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::profile_key(redemption.user_id)))
                .update_expression("SET email_verified = :true")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .build(),
        )?;
        Ok(vec![
            TransactWriteItem::builder().delete(use_up).build(),
            TransactWriteItem::builder()
                .update(built(login.build())?)
                .build(),
            TransactWriteItem::builder().update(profile).build(),
        ])
    }
}
