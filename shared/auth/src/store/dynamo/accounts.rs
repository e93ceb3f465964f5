//! The longest of [`super::operations`]'s writes, each behind its `Store`
//! method: a new account, an account erased, a token revoked with its
//! session, a change of role or access.

use super::retry::{Step, built, cancellation_codes, retry, unavailable};
use super::schema::{self, n, s};
use super::*;
use crate::mail::outbox::MailKind;
use crate::store::events;
use crate::webhooks::EventType;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::builders::DeleteBuilder;

impl DynamoStore {
    /// A user's profile, read consistently ([`Store::profile`]).
    pub(super) async fn read_profile(&self, user_id: &str) -> StoreResult<Option<Profile>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.users_table)
            .set_key(Some(schema::profile_key(user_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output.item().map(schema::profile_from).transpose()
    }

    pub(super) async fn write_new_user(
        &self,
        user: &NewUser,
        session: Option<&Session>,
        verification: Option<&NewCode>,
    ) -> StoreResult<Registration> {
        let put_new = |item| {
            let put = built(
                Put::builder()
                    .table_name(&self.users_table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .build(),
            )?;
            Ok::<_, StoreError>(TransactWriteItem::builder().put(put).build())
        };
        let mut items = vec![
            put_new(schema::profile_item(user))?,
            put_new(schema::login_item(user))?,
        ];
        let mut told = vec![events::user_created(user, crate::now())];
        if let Some(session) = session {
            items.push(put_new(schema::session_item(session))?);
            told.push(events::session_created(session));
        }
        items.extend(self.put_events(&told)?);
        if let Some(code) = verification {
            items.push(self.put(schema::code_item(code))?);
            items.push(self.put_mail(&code.mail)?);
        }
        let items = &items;
        let settled = retry((), |(), attempt| async move {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                // Makes the SDK's own retries idempotent: if a commit succeeded
                // but its answer was lost, the retry reports success rather than
                // "email taken". (At most 36 characters.)
                .client_request_token(format!("{}-{attempt}", user.user_id.replace('-', "")))
                .send()
                .await;
            let Err(error) = result else {
                return Ok(Step::Done(Registration::Created));
            };
            let Some(reasons) = cancellation_codes(&error) else {
                return Err(unavailable(error));
            };
            // Reasons come in the order of `items`: the email claim is second.
            if reasons.get(1).map(String::as_str) == Some("ConditionalCheckFailed") {
                return Ok(Step::Done(Registration::EmailTaken));
            }
            if !reasons.iter().any(|code| code == "TransactionConflict") {
                return Err(StoreError(format!("registration cancelled: {reasons:?}")));
            }
            // Another registration of this email is in flight; once it
            // settles, the retry either wins or sees the email taken.
            Ok(Step::Again(()))
        })
        .await?;
        if let Some(registration) = settled {
            return Ok(registration);
        }
        // Still conflicting: if the email has an owner by now, that is the answer.
        let (items, _) = self
            .batch_read(vec![schema::login_key(&user.email)], None)
            .await?;
        match items.first() {
            Some(_) => Ok(Registration::EmailTaken),
            None => Err(StoreError("registration kept conflicting".into())),
        }
    }

    pub(super) async fn erase(&self, erasure: &Erasure<'_>) -> StoreResult<bool> {
        let (user_id, email) = (erasure.user_id, erasure.email);
        let delete = |key: Item| {
            Delete::builder()
                .table_name(&self.users_table)
                .set_key(Some(key))
        };
        let item = |delete: DeleteBuilder| {
            Ok::<_, StoreError>(
                TransactWriteItem::builder()
                    .delete(built(delete.build())?)
                    .build(),
            )
        };
        let mine = |delete: DeleteBuilder| {
            delete
                .condition_expression("user_id = :user")
                .expression_attribute_values(":user", s(user_id))
        };
        let mut login = mine(delete(schema::login_key(email)));
        if let Some(verified) = erasure.verified {
            login = login
                .condition_expression("user_id = :user AND password_hash = :verified")
                .expression_attribute_values(":verified", s(verified.password_hash));
        }
        let mut items = vec![
            item(mine(delete(schema::profile_key(user_id))))?,
            item(login)?,
        ];
        for kind in MailKind::WITH_CODE {
            items.push(item(delete(schema::code_key(kind, email)))?);
        }
        // The second factor: its sealed secret and recovery codes go too; and
        // the last sign-in's item, which the sessions' listing skips.
        items.push(item(delete(schema::second_factor_key(user_id)))?);
        items.push(item(delete(schema::last_opened_key(user_id)))?);
        let erased = events::plain(EventType::UserDeleted, user_id, crate::now());
        items.extend(self.put_events(&[erased])?);
        items.extend(self.ending(user_id, erasure.ending)?);
        match erasure.verified {
            // Settling the owner's password check clears the counter too.
            Some(verified) => self.write_settled(items, verified.settlement).await,
            None => {
                items.push(item(delete(schema::failures_key(erasure.account)))?);
                self.conditional_transaction(items).await
            }
        }
    }

    pub(super) async fn revoke_and_end_session(
        &self,
        claims: &Claims,
        now: u64,
    ) -> StoreResult<Revocation> {
        let (user_id, session_id, jti, expires_at) =
            (&claims.sub, &claims.sid, &claims.jti, claims.exp);
        let mut entry = schema::revoked_key(jti);
        entry.insert("expires_at".to_owned(), n(expires_at));
        let revoke = built(
            Put::builder()
                .table_name(&self.revoked_tokens_table)
                .set_item(Some(entry))
                // An expired entry not yet deleted by TTL may be overwritten.
                .condition_expression("attribute_not_exists(jti) OR expires_at <= :now")
                .expression_attribute_values(":now", n(now))
                .build(),
        )?;
        // A session already ended (revoked, or logged out) means the token
        // was dead already: the whole logout is then "already revoked".
        let end_session = built(
            Delete::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::session_key(user_id, session_id)))
                .condition_expression("attribute_exists(pk) AND expires_at > :now")
                .expression_attribute_values(":now", n(now))
                .build(),
        )?;
        let mut items = vec![
            TransactWriteItem::builder().put(revoke).build(),
            TransactWriteItem::builder().delete(end_session).build(),
        ];
        let ended = events::session_ended(user_id, session_id, SessionEnd::Revoked, now);
        items.extend(self.put_events(&[ended])?);
        let written = self.conditional_transaction(items).await?;
        Ok(if written {
            Revocation::Revoked
        } else {
            Revocation::AlreadyRevoked
        })
    }

    pub(super) async fn write_account_change(
        &self,
        user_id: &str,
        email: &str,
        change: AccountChange,
        ending: Vec<TransactWriteItem>,
    ) -> StoreResult<bool> {
        // What the change sets, and removes (roles: an empty set is no set).
        let (set, remove): (Vec<(String, AttributeValue)>, Option<&str>) = match &change {
            AccountChange::Roles(roles) => {
                let attributes = schema::roles_attributes(roles);
                let remove = (attributes.len() == 1).then_some("roles");
                (attributes, remove)
            }
            AccountChange::Disabled(disabled) => (
                vec![("disabled".to_owned(), AttributeValue::Bool(*disabled))],
                None,
            ),
            AccountChange::UserMetadata(object) => (
                vec![(
                    "user_metadata".to_owned(),
                    s(serde_json::Value::from(object.clone()).to_string()),
                )],
                None,
            ),
            AccountChange::AppMetadata(object) => (
                vec![(
                    "app_metadata".to_owned(),
                    s(serde_json::Value::from(object.clone()).to_string()),
                )],
                None,
            ),
        };
        // Metadata lives on the profile alone: the login record never shows it.
        let profile_only = matches!(
            change,
            AccountChange::UserMetadata(_) | AccountChange::AppMetadata(_)
        );
        let mut expression = (0..set.len())
            .map(|i| format!("#a{i} = :v{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        expression = format!("SET {expression}");
        if remove.is_some() {
            // Through a placeholder: `roles` is a reserved word.
            expression.push_str(" REMOVE #removed");
        }
        let update = |key: Item, condition: &str| {
            let mut update = Update::builder()
                .table_name(&self.users_table)
                .set_key(Some(key))
                .update_expression(&expression)
                .condition_expression(condition)
                .expression_attribute_values(":user", s(user_id));
            if let Some(name) = remove {
                update = update.expression_attribute_names("#removed", name);
            }
            for (i, (name, value)) in set.iter().enumerate() {
                update = update
                    .expression_attribute_names(format!("#a{i}"), name)
                    .expression_attribute_values(format!(":v{i}"), value.clone());
            }
            Ok::<_, StoreError>(
                TransactWriteItem::builder()
                    .update(built(update.build())?)
                    .build(),
            )
        };
        let mut items = vec![update(schema::profile_key(user_id), "user_id = :user")?];
        if !profile_only {
            items.push(update(schema::login_key(email), "user_id = :user")?);
        }
        if let AccountChange::Disabled(disabled) = change {
            let kind = events::disabled_or_enabled(disabled);
            items.extend(self.put_events(&[events::plain(kind, user_id, crate::now())])?);
        }
        items.extend(ending);
        self.conditional_transaction(items).await
    }
}
