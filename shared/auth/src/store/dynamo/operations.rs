//! [`Store`] over DynamoDB: each method is one round trip unless its trait
//! documentation says otherwise.

use super::retry::{Step, built, cancellation_codes, conditional, retry, unavailable};
use super::schema::{self, has_key, n, s};
use super::*;
use crate::throttle::Claim;

impl Store for DynamoStore {
    async fn create_user(&self, user: &NewUser, session: &Session) -> StoreResult<Registration> {
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
    ) -> StoreResult<LoginAttempt> {
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

    async fn claim_attempt(
        &self,
        claims: &[(&Counter, Failures)],
        now_ms: u64,
    ) -> StoreResult<bool> {
        // Separate writes, not a transaction: parallel attempts on one counter
        // then queue on the item instead of cancelling each other.
        let each = claims
            .iter()
            .map(|(counter, seen)| self.claim_one(counter, seen, now_ms));
        let claimed = futures_util::future::join_all(each).await;
        if claimed.iter().all(|claim| matches!(claim, Ok(true))) {
            return Ok(true);
        }
        // Take back what this attempt did claim, then report why it stopped.
        let taken = claims
            .iter()
            .zip(&claimed)
            .filter(|(_, claim)| matches!(claim, Ok(true)))
            .map(|((counter, seen), _)| Claim {
                counter: (*counter).clone(),
                seen: *seen,
                at_ms: now_ms,
            })
            .collect::<Vec<_>>();
        let take_back = taken.iter().map(|claim| self.take_back(claim));
        futures_util::future::try_join_all(take_back).await?;
        claimed.into_iter().try_for_each(|claim| claim.map(drop))?;
        Ok(false)
    }

    async fn create_session(
        &self,
        session: &Session,
        verified: &Verified<'_>,
    ) -> StoreResult<bool> {
        let (email, verified_hash) = (verified.email, verified.password_hash);
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
        let items = vec![
            TransactWriteItem::builder().condition_check(check).build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        self.write_settled(items, verified.settlement).await
    }

    async fn count_registration(&self, counter: &Counter, window_end: u64) -> StoreResult<bool> {
        let write = self
            .client
            .update_item()
            .table_name(&self.users_table)
            .set_key(Some(schema::failures_key(counter)))
            .update_expression(
                "SET failures = if_not_exists(failures, :zero) + :one, expires_at = :expires",
            )
            .condition_expression("attribute_not_exists(failures) OR failures < :limit")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(u64::from(counter.free_failures)))
            .expression_attribute_values(":expires", n(window_end));
        conditional(|| write.clone().send()).await
    }

    async fn token_subject(&self, claims: &Claims, now: u64) -> StoreResult<TokenSubject> {
        let (user_id, session_id, jti) = (&claims.sub, &claims.sid, &claims.jti);
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

    async fn end_token_session(&self, claims: &Claims, now: u64) -> StoreResult<Revocation> {
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

    async fn session(&self, user_id: &str, session_id: &str) -> StoreResult<Option<Session>> {
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

    async fn sessions(&self, user_id: &str, now: u64) -> StoreResult<Vec<Session>> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.users_table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(schema::sessions_pk(user_id)))
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

    async fn delete_session(&self, user_id: &str, session_id: &str, now: u64) -> StoreResult<bool> {
        let write = self
            .client
            .delete_item()
            .table_name(&self.users_table)
            .set_key(Some(schema::session_key(user_id, session_id)))
            .condition_expression("attribute_exists(pk) AND expires_at > :now")
            .expression_attribute_values(":now", n(now));
        conditional(|| write.clone().send()).await
    }

    async fn delete_sessions(&self, user_id: &str, keep: Option<&str>) -> StoreResult<()> {
        // Expired sessions too: 0 as "now" lists every one still stored.
        let sessions = self.sessions(user_id, 0).await?;
        // One DeleteItem each, sent together, rather than BatchWriteItem, whose
        // permission would also allow puts: a user has a handful of sessions.
        let deletes = sessions
            .iter()
            .filter(|session| Some(session.session_id.as_str()) != keep)
            .map(|session| {
                let write = self
                    .client
                    .delete_item()
                    .table_name(&self.users_table)
                    .set_key(Some(schema::session_key(user_id, &session.session_id)));
                async move { conditional(|| write.clone().send()).await }
            });
        futures_util::future::try_join_all(deletes).await?;
        Ok(())
    }

    async fn set_password_hash(
        &self,
        verified: &Verified<'_>,
        new_hash: &str,
    ) -> StoreResult<bool> {
        let (email, old_hash) = (verified.email, verified.password_hash);
        let update = built(
            Update::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::login_key(email)))
                .update_expression("SET password_hash = :new")
                .condition_expression("password_hash = :old")
                .expression_attribute_values(":new", s(new_hash))
                .expression_attribute_values(":old", s(old_hash))
                .build(),
        )?;
        let items = vec![TransactWriteItem::builder().update(update).build()];
        self.write_settled(items, verified.settlement).await
    }
}
