//! [`Store`] over DynamoDB: each method is one round trip unless its trait
//! documentation says otherwise.

use super::retry::{Step, built, cancellation_codes, conditional, retry, unavailable};
use super::schema::{self, has_key, n, s};
use super::*;

impl Store for DynamoStore {
    async fn create_user(
        &self,
        user: &NewUser,
        session: &Session,
    ) -> Result<Registration, StoreError> {
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
        let items = &vec![
            put_new(schema::profile_item(user))?,
            put_new(schema::login_item(user))?,
            put_new(schema::session_item(session))?,
        ];
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

    async fn login_attempt(
        &self,
        email: &str,
        counters: &[Counter],
        now_ms: u64,
    ) -> Result<LoginAttempt, StoreError> {
        let login_key = schema::login_key(email);
        let counter_keys: Vec<Item> = counters.iter().map(schema::failures_key).collect();
        let keys = std::iter::once(login_key.clone())
            .chain(counter_keys.iter().cloned())
            .collect();
        let (items, _) = self.batch_read(keys, None).await?;
        let find = |key: &Item| items.iter().find(|item| has_key(item, key));
        let record = find(&login_key)
            .map(schema::login_record_from)
            .transpose()?;
        let failures = counter_keys
            .iter()
            .map(|key| schema::failures_from(find(key), now_ms))
            .collect();
        Ok(LoginAttempt { record, failures })
    }

    async fn record_login_failure(
        &self,
        counters: &[Counter],
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let count_each = counters
            .iter()
            .map(|counter| self.count_failure(counter, now_ms));
        futures_util::future::try_join_all(count_each).await?;
        Ok(())
    }

    async fn claim_login_attempt(
        &self,
        claims: &[(&Counter, Failures)],
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        let now = now_ms / 1000;
        let items = claims
            .iter()
            .map(|(counter, seen)| {
                let update = Update::builder()
                    .table_name(&self.users_table)
                    .set_key(Some(schema::failures_key(counter)))
                    .update_expression(
                        "SET failures = :claimed, last_failure_ms = :now_ms, expires_at = :expires",
                    )
                    .expression_attribute_values(":claimed", n(u64::from(seen.count) + 1))
                    .expression_attribute_values(":now_ms", n(now_ms))
                    .expression_attribute_values(":expires", n(now + FAILURE_WINDOW_SECONDS))
                    .expression_attribute_values(":now", n(now));
                // Only on the counts read: a parallel attempt that claimed
                // first has changed them.
                let update = if seen.count == 0 {
                    update.condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
                } else {
                    update
                        .condition_expression(
                            "failures = :seen AND last_failure_ms = :seen_at AND expires_at > :now",
                        )
                        .expression_attribute_values(":seen", n(u64::from(seen.count)))
                        .expression_attribute_values(":seen_at", n(seen.last_at_ms))
                };
                Ok(TransactWriteItem::builder()
                    .update(built(update.build())?)
                    .build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.conditional_transaction(items).await
    }

    async fn create_session(
        &self,
        session: &Session,
        email: &str,
        verified_hash: &str,
        reset: Option<&Counter>,
    ) -> Result<bool, StoreError> {
        let check = built(
            ConditionCheck::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::login_key(email)))
                .condition_expression("password_hash = :verified")
                .expression_attribute_values(":verified", s(verified_hash))
                .build(),
        )?;
        let put = built(
            Put::builder()
                .table_name(&self.users_table)
                .set_item(Some(schema::session_item(session)))
                .build(),
        )?;
        let mut items = vec![
            TransactWriteItem::builder().condition_check(check).build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        if let Some(counter) = reset {
            let delete = built(
                Delete::builder()
                    .table_name(&self.users_table)
                    .set_key(Some(schema::failures_key(counter)))
                    .build(),
            )?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        self.conditional_transaction(items).await
    }

    async fn token_subject(
        &self,
        user_id: &str,
        session_id: &str,
        jti: &str,
        now: u64,
    ) -> Result<TokenSubject, StoreError> {
        let profile_key = schema::profile_key(user_id);
        let session_key = schema::session_key(user_id, session_id);
        let (users, revoked) = self
            .batch_read(
                vec![profile_key.clone(), session_key.clone()],
                Some(schema::revoked_key(jti)),
            )
            .await?;
        let find = |key: &Item| users.iter().find(|item| has_key(item, key));
        Ok(TokenSubject {
            profile: find(&profile_key).map(schema::profile_from).transpose()?,
            session_live: find(&session_key)
                .and_then(|item| schema::number_of(item, "expires_at"))
                .is_some_and(|end| end > now),
            // An entry without a readable expiry is treated as revoked: fail closed.
            revoked: revoked
                .iter()
                .any(|item| schema::number_of(item, "expires_at").is_none_or(|until| until > now)),
        })
    }

    async fn end_token_session(
        &self,
        user_id: &str,
        session_id: &str,
        jti: &str,
        expires_at: u64,
        now: u64,
    ) -> Result<Revocation, StoreError> {
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
        let written = self
            .conditional_transaction(vec![
                TransactWriteItem::builder().put(revoke).build(),
                TransactWriteItem::builder().delete(end_session).build(),
            ])
            .await?;
        Ok(if written {
            Revocation::Revoked
        } else {
            Revocation::AlreadyRevoked
        })
    }

    async fn session(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<Option<Session>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.users_table)
            .set_key(Some(schema::session_key(user_id, session_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output.item().map(schema::session_from).transpose()
    }

    async fn sessions(&self, user_id: &str, now: u64) -> Result<Vec<Session>, StoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.users_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :session)")
            .expression_attribute_values(":pk", s(schema::user_pk(user_id)))
            .expression_attribute_values(":session", s(schema::SESSION_PREFIX))
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

    async fn rotate_refresh(
        &self,
        user_id: &str,
        session_id: &str,
        old_hash: &str,
        new_hash: &str,
        now: u64,
    ) -> Result<bool, StoreError> {
        let result = self
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
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        conditional(result)
    }

    async fn delete_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: u64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.users_table)
            .set_key(Some(schema::session_key(user_id, session_id)))
            .condition_expression("attribute_exists(pk) AND expires_at > :now")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        conditional(result)
    }

    async fn delete_sessions(&self, user_id: &str, keep: Option<&str>) -> Result<(), StoreError> {
        // Expired sessions too: 0 as "now" lists every one still stored.
        let doomed: Vec<WriteRequest> = self
            .sessions(user_id, 0)
            .await?
            .into_iter()
            .filter(|session| Some(session.session_id.as_str()) != keep)
            .map(|session| {
                let key = schema::session_key(user_id, &session.session_id);
                let delete = built(DeleteRequest::builder().set_key(Some(key)).build())?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<_, StoreError>>()?;
        for chunk in doomed.chunks(BATCH_WRITE_LIMIT) {
            // What DynamoDB leaves unprocessed (under throttling) is sent again.
            let deleted = retry(chunk.to_vec(), |pending, _| async move {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.users_table, pending)
                    .send()
                    .await
                    .map_err(unavailable)?;
                let left = output
                    .unprocessed_items()
                    .and_then(|items| items.get(&self.users_table))
                    .cloned()
                    .unwrap_or_default();
                Ok(if left.is_empty() {
                    Step::Done(())
                } else {
                    Step::Again(left)
                })
            })
            .await?;
            if deleted.is_none() {
                return Err(StoreError("sessions left undeleted after retries".into()));
            }
        }
        Ok(())
    }

    async fn set_password_hash(
        &self,
        email: &str,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.users_table)
            .set_key(Some(schema::login_key(email)))
            .update_expression("SET password_hash = :new")
            .condition_expression("password_hash = :old")
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":old", s(old_hash))
            .send()
            .await;
        conditional(result)
    }
}
