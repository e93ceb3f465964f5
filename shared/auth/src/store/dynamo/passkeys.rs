//! [`Passkeys`] on DynamoDB: the items are described in [`super::schema`].
//! A ceremony is used once by a `DeleteItem` that must find it and returns
//! it (one round trip); a sign-in's counter update holds only on the counter
//! it read.

use super::retry::{built, condition_failed, conditional, unavailable};
use super::schema::{self, Item, n, number_of, s, string_of};
use super::*;
use crate::mail::outbox::OutboxMail;
use crate::store::events;
use crate::store::passkeys::{Ceremony, CeremonyKind, PasskeyUse, Passkeys, StoredPasskey};
use crate::webhooks::EventType;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

fn flag(item: &Item, name: &str) -> bool {
    matches!(item.get(name), Some(AttributeValue::Bool(true)))
}

fn passkey_from(item: &Item) -> StoreResult<StoredPasskey> {
    let pk = string_of(item, "pk")?;
    Ok(StoredPasskey {
        user_id: pk.strip_prefix("PASSKEYS#").unwrap_or_default().to_owned(),
        credential_id: string_of(item, "sk")?,
        name: string_of(item, "name")?,
        passkey: string_of(item, "passkey")?,
        user_handle: string_of(item, "user_handle")?,
        created_at: number_of(item, "created_at").unwrap_or(0),
        last_used_at: number_of(item, "last_used_at"),
        backed_up: flag(item, "backed_up"),
        backup_eligible: flag(item, "backup_eligible"),
        counter: number_of(item, "counter")
            .and_then(|counter| u32::try_from(counter).ok())
            .unwrap_or(u32::MAX),
    })
}

fn passkey_item(passkey: &StoredPasskey) -> Item {
    let mut item = schema::passkey_key(&passkey.user_id, &passkey.credential_id);
    item.extend([
        ("name".to_owned(), s(&passkey.name)),
        ("passkey".to_owned(), s(&passkey.passkey)),
        ("user_handle".to_owned(), s(&passkey.user_handle)),
        ("created_at".to_owned(), n(passkey.created_at)),
        (
            "backed_up".to_owned(),
            AttributeValue::Bool(passkey.backed_up),
        ),
        (
            "backup_eligible".to_owned(),
            AttributeValue::Bool(passkey.backup_eligible),
        ),
        ("counter".to_owned(), n(u64::from(passkey.counter))),
    ]);
    if let Some(at) = passkey.last_used_at {
        item.insert("last_used_at".to_owned(), n(at));
    }
    item
}

fn ceremony_from(item: &Item) -> StoreResult<Ceremony> {
    let kind = string_of(item, "kind")?;
    Ok(Ceremony {
        kind: CeremonyKind::parse(&kind)
            .ok_or_else(|| StoreError(format!("unknown ceremony kind {kind}")))?,
        state: string_of(item, "state")?,
        user_id: string_of(item, "user_id").ok(),
        user_handle: string_of(item, "user_handle").ok(),
        // Unreadable: already expired (fail closed).
        expires_at: number_of(item, "expires_at").unwrap_or(0),
    })
}

impl DynamoStore {
    fn delete_passkey_items(
        &self,
        user_id: &str,
        credential_id: &str,
    ) -> StoreResult<Vec<TransactWriteItem>> {
        let passkey = built(
            Delete::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::passkey_key(user_id, credential_id)))
                .condition_expression("attribute_exists(pk)")
                .build(),
        )?;
        let owner = built(
            Delete::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::passkey_owner_key(credential_id)))
                .build(),
        )?;
        let kind = EventType::PasskeyRemoved;
        let removed = events::passkey(kind, user_id, credential_id, crate::now());
        let mut items = vec![
            TransactWriteItem::builder().delete(passkey).build(),
            TransactWriteItem::builder().delete(owner).build(),
        ];
        items.extend(self.put_events(&[removed])?);
        Ok(items)
    }
}

impl Passkeys for DynamoStore {
    async fn passkeys(&self, user_id: &str) -> StoreResult<Vec<StoredPasskey>> {
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.users_table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(schema::passkeys_pk(user_id)))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in output.items() {
                found.push(passkey_from(item)?);
            }
            start = output.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> StoreResult<Option<StoredPasskey>> {
        let owner = self
            .client
            .get_item()
            .table_name(&self.users_table)
            .set_key(Some(schema::passkey_owner_key(credential_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(user_id) = owner
            .item()
            .and_then(|item| string_of(item, "user_id").ok())
        else {
            return Ok(None);
        };
        let output = self
            .client
            .get_item()
            .table_name(&self.users_table)
            .set_key(Some(schema::passkey_key(&user_id, credential_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output.item().map(passkey_from).transpose()
    }

    async fn open_ceremony(&self, id: &str, ceremony: &Ceremony) -> StoreResult<()> {
        let mut item = schema::ceremony_key(id);
        item.extend([
            ("kind".to_owned(), s(ceremony.kind.as_str())),
            ("state".to_owned(), s(&ceremony.state)),
            ("expires_at".to_owned(), n(ceremony.expires_at)),
        ]);
        if let Some(user_id) = &ceremony.user_id {
            item.insert("user_id".to_owned(), s(user_id));
        }
        if let Some(handle) = &ceremony.user_handle {
            item.insert("user_handle".to_owned(), s(handle));
        }
        self.client
            .put_item()
            .table_name(&self.users_table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn take_ceremony(&self, id: &str) -> StoreResult<Option<Ceremony>> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.users_table)
            .set_key(Some(schema::ceremony_key(id)))
            .condition_expression("attribute_exists(pk)")
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => output.attributes().map(ceremony_from).transpose(),
            Err(error) if condition_failed(&error) => Ok(None),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn add_passkey(&self, passkey: &StoredPasskey) -> StoreResult<bool> {
        let mut owner = schema::passkey_owner_key(&passkey.credential_id);
        owner.insert("user_id".to_owned(), s(&passkey.user_id));
        let claim = built(
            Put::builder()
                .table_name(&self.users_table)
                .set_item(Some(owner))
                .condition_expression("attribute_not_exists(pk)")
                .build(),
        )?;
        let item = built(
            Put::builder()
                .table_name(&self.users_table)
                .set_item(Some(passkey_item(passkey)))
                .condition_expression("attribute_not_exists(pk)")
                .build(),
        )?;
        // The account must still be there (not erased meanwhile).
        let profile = built(
            ConditionCheck::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::profile_key(&passkey.user_id)))
                .condition_expression("attribute_exists(pk)")
                .build(),
        )?;
        let (user_id, id) = (&passkey.user_id, &passkey.credential_id);
        let added = events::passkey(EventType::PasskeyAdded, user_id, id, crate::now());
        let mut items = vec![
            TransactWriteItem::builder().put(claim).build(),
            TransactWriteItem::builder().put(item).build(),
            TransactWriteItem::builder()
                .condition_check(profile)
                .build(),
        ];
        items.extend(self.put_events(&[added])?);
        self.conditional_transaction(items).await
    }

    async fn use_passkey(&self, used: &PasskeyUse<'_>) -> StoreResult<bool> {
        let update = built(
            Update::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::passkey_key(used.user_id, used.credential_id)))
                .update_expression(
                    "SET #counter = :counter, passkey = :passkey, backed_up = :backed_up, \
                     last_used_at = :now",
                )
                .condition_expression("#counter = :read")
                .expression_attribute_names("#counter", "counter")
                .expression_attribute_values(":counter", n(u64::from(used.counter)))
                .expression_attribute_values(":read", n(u64::from(used.read_counter)))
                .expression_attribute_values(":passkey", s(used.passkey))
                .expression_attribute_values(":backed_up", AttributeValue::Bool(used.backed_up))
                .expression_attribute_values(":now", n(used.now))
                .build(),
        )?;
        let mut items = vec![
            TransactWriteItem::builder().update(update).build(),
            self.put(schema::session_item(used.session))?,
            self.put(schema::last_opened_item(used.session))?,
        ];
        items.extend(self.put_events(&[events::session_created(used.session)])?);
        self.conditional_transaction(items).await
    }

    async fn rename_passkey(
        &self,
        user_id: &str,
        credential_id: &str,
        name: &str,
    ) -> StoreResult<bool> {
        let key = schema::passkey_key(user_id, credential_id);
        conditional(|| {
            self.client
                .update_item()
                .table_name(&self.users_table)
                .set_key(Some(key.clone()))
                .update_expression("SET #name = :name")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_names("#name", "name")
                .expression_attribute_values(":name", s(name))
                .send()
        })
        .await
    }

    async fn delete_passkey(&self, user_id: &str, credential_id: &str) -> StoreResult<bool> {
        let items = self.delete_passkey_items(user_id, credential_id)?;
        self.conditional_transaction(items).await
    }

    async fn delete_passkeys(&self, user_id: &str) -> StoreResult<usize> {
        let passkeys = self.passkeys(user_id).await?;
        for passkey in &passkeys {
            let items = self.delete_passkey_items(user_id, &passkey.credential_id)?;
            // Gone meanwhile (a parallel deletion): nothing left to do.
            self.conditional_transaction(items).await?;
        }
        Ok(passkeys.len())
    }

    async fn send_notice(&self, notice: &OutboxMail) -> StoreResult<()> {
        self.client
            .put_item()
            .table_name(&self.outbox_table)
            .set_item(Some(schema::outbox_item(notice)))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
