//! Changes of address: the pending change (a code item of kind
//! [`MailKind::EmailChange`] under the current address, with `new_email`
//! and `user_id`), and the one transaction that moves the login record to
//! the new address.

use super::retry::built;
use super::schema::{self, has_key, n, s};
use super::*;
use crate::credentials::one_time_code::MAX_WRONG_TRIES;
use crate::mail::outbox::MailKind;
use aws_sdk_dynamodb::types::AttributeValue;

const KIND: MailKind = MailKind::EmailChange;

/// The login record's attributes, as any release writes them: a copy holds
/// only while the record still has exactly those it was read with.
const LOGIN_ATTRIBUTES: [&str; 8] = [
    "user_id",
    "password_hash",
    "email_verified",
    "admin",
    "roles",
    "disabled",
    "mfa",
    super::formats::FORMAT,
];

/// How often a confirmation reads the login record again when it changed
/// between the read and the transaction.
const READS: u32 = 3;

fn pending_item(user_id: &str, email: &str, code: &NewCode) -> Item {
    let mut item = schema::code_key(KIND, email);
    item.extend([
        ("code_hash".to_owned(), s(&code.code_hash)),
        ("wrong_tries".to_owned(), n(0)),
        ("expires_at".to_owned(), n(code.mail.expires_at)),
        ("new_email".to_owned(), s(&code.mail.to)),
        ("user_id".to_owned(), s(user_id)),
    ]);
    item
}

fn pending_from(item: &Item) -> StoreResult<PendingEmailChange> {
    Ok(PendingEmailChange {
        user_id: schema::string_of(item, "user_id")?,
        new_email: schema::string_of(item, "new_email")?,
        code: schema::stored_code_from(item)?,
    })
}

impl DynamoStore {
    pub(super) async fn read_email_change(&self, email: &str) -> StoreResult<EmailChangeAttempt> {
        let login_key = schema::login_key(email);
        let code_key = schema::code_key(KIND, email);
        let (items, _) = self
            .batch_read(vec![login_key.clone(), code_key.clone()], None)
            .await?;
        let find = |key: &Item| items.iter().find(|item| has_key(item, key));
        Ok(EmailChangeAttempt {
            record: find(&login_key)
                .map(schema::login_record_from)
                .transpose()?,
            pending: find(&code_key).map(pending_from).transpose()?,
        })
    }

    pub(super) async fn write_email_change_request(
        &self,
        request: &EmailChangeRequest<'_>,
    ) -> StoreResult<bool> {
        let mut account = ConditionCheck::builder()
            .table_name(&self.users_table)
            .set_key(Some(schema::login_key(request.email)))
            .condition_expression("user_id = :user")
            .expression_attribute_values(":user", s(request.user_id));
        if let Some(verified) = request.verified {
            account = account
                .condition_expression("user_id = :user AND password_hash = :verified")
                .expression_attribute_values(":verified", s(verified.password_hash));
        }
        let mut items = vec![
            TransactWriteItem::builder()
                .condition_check(built(account.build())?)
                .build(),
        ];
        match request.code {
            Some(code) => {
                items.push(self.put(pending_item(request.user_id, request.email, code))?);
                items.push(self.put_mail(&code.mail)?);
            }
            None => {
                // The new address has an account: nothing goes to it, and no
                // earlier change stays pending.
                let drop = Delete::builder()
                    .table_name(&self.users_table)
                    .set_key(Some(schema::code_key(KIND, request.email)));
                items.push(
                    TransactWriteItem::builder()
                        .delete(built(drop.build())?)
                        .build(),
                );
            }
        }
        items.push(self.put_mail(request.notice)?);
        match request.verified {
            Some(verified) => self.write_settled(items, verified.settlement).await,
            None => self.conditional_transaction(items).await,
        }
    }

    pub(super) async fn write_email_change(
        &self,
        confirmation: &EmailChangeConfirmation<'_>,
    ) -> StoreResult<EmailChangeOutcome> {
        for _ in 0..READS {
            let (read, _) = self
                .batch_read(vec![schema::login_key(confirmation.email)], None)
                .await?;
            let Some(record) = read.into_iter().next() else {
                return Ok(EmailChangeOutcome::AccountGone);
            };
            if schema::string_of(&record, "user_id")? != confirmation.user_id {
                return Ok(EmailChangeOutcome::AccountGone);
            }
            let mut items = self.email_change_items(confirmation, &record)?;
            let EmailChangeConfirmation {
                user_id,
                email,
                new_email,
                now,
                ..
            } = *confirmation;
            let changed = crate::store::events::email_changed(user_id, email, new_email, now);
            items.extend(self.put_events(&[changed])?);
            let Some(reasons) = self.transaction_cancellation(items).await? else {
                return Ok(EmailChangeOutcome::Changed);
            };
            // In the order of the items: the code, the new claim, the old
            // record, the profile.
            let failed = |index: usize| {
                reasons.get(index).map(String::as_str) == Some("ConditionalCheckFailed")
            };
            if failed(0) {
                return Ok(EmailChangeOutcome::CodeGone);
            }
            if failed(1) {
                return Ok(EmailChangeOutcome::AddressTaken);
            }
            if failed(3) {
                return Ok(EmailChangeOutcome::AccountGone);
            }
            if !failed(2) {
                return Err(StoreError(format!("email change cancelled: {reasons:?}")));
            }
            // The login record changed since the read (a password, a role,
            // the second factor): copy it again.
        }
        Err(StoreError("the login record kept changing".into()))
    }

    /// The change's transaction, the login record as `record` read it.
    fn email_change_items(
        &self,
        confirmation: &EmailChangeConfirmation<'_>,
        record: &Item,
    ) -> StoreResult<Vec<TransactWriteItem>> {
        let EmailChangeConfirmation {
            user_id,
            email,
            new_email,
            code_hash,
            now,
        } = *confirmation;
        let use_up = Delete::builder()
            .table_name(&self.users_table)
            .set_key(Some(schema::code_key(KIND, email)))
            .condition_expression(
                "code_hash = :hash AND wrong_tries < :tries AND expires_at > :now \
                 AND new_email = :new AND user_id = :user",
            )
            .expression_attribute_values(":hash", s(code_hash))
            .expression_attribute_values(":tries", n(u64::from(MAX_WRONG_TRIES)))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":new", s(new_email))
            .expression_attribute_values(":user", s(user_id));
        // The record whole under its new key: every attribute kept, the
        // address verified (the code came through it).
        let mut moved = record.clone();
        moved.extend(schema::login_key(new_email));
        moved.insert("email_verified".to_owned(), AttributeValue::Bool(true));
        let claim = Put::builder()
            .table_name(&self.users_table)
            .set_item(Some(moved))
            .condition_expression("attribute_not_exists(pk)");
        let mut unchanged = Vec::new();
        let mut old = Delete::builder()
            .table_name(&self.users_table)
            .set_key(Some(schema::login_key(email)));
        let attributes = record
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "pk" | "sk"));
        for (i, (name, value)) in attributes.enumerate() {
            unchanged.push(format!("#a{i} = :a{i}"));
            old = old
                .expression_attribute_names(format!("#a{i}"), name)
                .expression_attribute_values(format!(":a{i}"), value.clone());
        }
        let absent = LOGIN_ATTRIBUTES
            .iter()
            .filter(|name| !record.contains_key(**name));
        for (i, name) in absent.enumerate() {
            unchanged.push(format!("attribute_not_exists(#m{i})"));
            old = old.expression_attribute_names(format!("#m{i}"), *name);
        }
        let old = old.condition_expression(unchanged.join(" AND "));
        let profile = Update::builder()
            .table_name(&self.users_table)
            .set_key(Some(schema::profile_key(user_id)))
            .update_expression("SET email = :new, email_verified = :true")
            .condition_expression("email = :old AND user_id = :user")
            .expression_attribute_values(":new", s(new_email))
            .expression_attribute_values(":old", s(email))
            .expression_attribute_values(":user", s(user_id))
            .expression_attribute_values(":true", AttributeValue::Bool(true));
        let mut items = vec![
            TransactWriteItem::builder()
                .delete(built(use_up.build())?)
                .build(),
            TransactWriteItem::builder()
                .put(built(claim.build())?)
                .build(),
            TransactWriteItem::builder()
                .delete(built(old.build())?)
                .build(),
            TransactWriteItem::builder()
                .update(built(profile.build())?)
                .build(),
        ];
        // The old address's other codes: whoever registers it next must not
        // meet a code mailed to this account.
        for kind in MailKind::WITH_CODE.into_iter().filter(|kind| *kind != KIND) {
            let drop = Delete::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::code_key(kind, email)));
            items.push(
                TransactWriteItem::builder()
                    .delete(built(drop.build())?)
                    .build(),
            );
        }
        Ok(items)
    }
}
