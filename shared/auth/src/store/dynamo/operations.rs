//! [`Store`] over DynamoDB: each method is one round trip unless its trait
//! documentation says otherwise.

use super::retry::{built, conditional, unavailable};
use super::schema::{self, has_key, n, s};
use super::*;
use crate::mail::outbox::MailKind;
use crate::store::events;
use crate::throttle::{Claim, Settlement};
use crate::webhooks::EventType;
use aws_sdk_dynamodb::types::AttributeValue;

impl Store for DynamoStore {
    async fn create_user(
        &self,
        user: &NewUser,
        session: Option<&Session>,
        verification: Option<&NewCode>,
    ) -> StoreResult<Registration> {
        self.write_new_user(user, session, verification).await
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

    async fn claim_below_free(
        &self,
        counters: &[Counter],
        now_ms: u64,
    ) -> StoreResult<Option<Vec<Failures>>> {
        self.claim_all_below_free(counters, now_ms).await
    }

    async fn settle_attempt(&self, settlement: &Settlement) -> StoreResult<()> {
        self.write_settled(Vec::new(), settlement).await.map(|_| ())
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
                // Nor may a login that raced an admin's disabling open one.
                .condition_expression(
                    "password_hash = :verified \
                     AND (attribute_not_exists(disabled) OR disabled = :false)",
                )
                .expression_attribute_values(":verified", s(verified_hash))
                .expression_attribute_values(":false", AttributeValue::Bool(false))
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
            self.put(schema::last_opened_item(session))?,
        ];
        items.extend(self.put_events(&[events::session_created(session)])?);
        self.write_settled(items, verified.settlement).await
    }

    async fn count_in_window(&self, counter: &Counter, window_end: u64) -> StoreResult<bool> {
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
        self.revoke_and_end_session(claims, now).await
    }

    async fn session_and_profile(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> StoreResult<(Option<Session>, Option<Profile>)> {
        let profile_key = schema::profile_key(user_id);
        let session_key = schema::session_key(user_id, session_id);
        let (items, _) = self
            .batch_read(vec![profile_key.clone(), session_key.clone()], None)
            .await?;
        let find = |key: &Item| items.iter().find(|item| has_key(item, key));
        Ok((
            find(&session_key).map(schema::session_from).transpose()?,
            find(&profile_key).map(schema::profile_from).transpose()?,
        ))
    }

    async fn profile(&self, user_id: &str) -> StoreResult<Option<Profile>> {
        self.read_profile(user_id).await
    }

    async fn users_page(&self, limit: u32, after: Option<&PageCursor>) -> StoreResult<UsersPage> {
        // A global index is read eventually consistent only: a user who
        // registered a moment ago may show on the next listing. One user
        // more than the page: DynamoDB gives a LastEvaluatedKey whenever the
        // Limit is reached, even when nothing follows, and the last page
        // must say so (`next: None`).
        let output = self
            .client
            .query()
            .table_name(&self.users_table)
            .index_name(schema::USERS_INDEX)
            .key_condition_expression("listing = :listed")
            .expression_attribute_values(":listed", s(schema::LISTED))
            .scan_index_forward(false)
            .limit(i32::try_from(limit.saturating_add(1)).unwrap_or(i32::MAX))
            .set_exclusive_start_key(after.map(schema::page_start))
            .send()
            .await
            .map_err(unavailable)?;
        let users = output
            .items()
            .iter()
            .map(schema::profile_from)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(UsersPage::first(users, limit))
    }

    async fn change_account(
        &self,
        user_id: &str,
        email: &str,
        change: AccountChange,
    ) -> StoreResult<bool> {
        self.write_account_change(user_id, email, change, Vec::new())
            .await
    }

    async fn disable_account(
        &self,
        user_id: &str,
        email: &str,
        ending: Ending<'_>,
    ) -> StoreResult<bool> {
        let change = AccountChange::Disabled(true);
        let ending = self.ending(user_id, ending)?;
        self.write_account_change(user_id, email, change, ending)
            .await
    }

    async fn erase_account(&self, erasure: &Erasure<'_>) -> StoreResult<bool> {
        self.erase(erasure).await
    }

    async fn sessions(&self, user_id: &str, now: u64) -> StoreResult<Vec<Session>> {
        self.list_sessions(user_id, now).await
    }

    async fn last_opened(&self, user_id: &str) -> StoreResult<Option<String>> {
        self.read_last_opened(user_id).await
    }

    async fn rotate_refresh(
        &self,
        session: &Session,
        new_hash: &str,
        now: u64,
    ) -> StoreResult<bool> {
        self.rotate(session, new_hash, now).await
    }

    async fn delete_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: u64,
        why: SessionEnd,
    ) -> StoreResult<bool> {
        self.end_session(user_id, session_id, now, why).await
    }

    async fn delete_sessions(&self, user_id: &str, keep: Option<&str>) -> StoreResult<()> {
        self.end_sessions(user_id, keep).await
    }

    async fn set_password_hash(
        &self,
        user_id: &str,
        verified: &Verified<'_>,
        new_hash: &str,
        ending: Ending<'_>,
    ) -> StoreResult<bool> {
        let (email, old_hash) = (verified.email, verified.password_hash);
        let update = built(
            Update::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::login_key(email)))
                .update_expression("SET password_hash = :new")
                .condition_expression("password_hash = :old AND user_id = :user")
                .expression_attribute_values(":new", s(new_hash))
                .expression_attribute_values(":old", s(old_hash))
                .expression_attribute_values(":user", s(user_id))
                .build(),
        )?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        items.extend(self.ending(user_id, ending)?);
        let changed = events::plain(EventType::UserPasswordChanged, user_id, crate::now());
        items.extend(self.put_events(&[changed])?);
        self.write_settled(items, verified.settlement).await
    }

    async fn issue_code(&self, code: &NewCode) -> StoreResult<bool> {
        let account = built(
            ConditionCheck::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::login_key(&code.mail.to)))
                .condition_expression("attribute_exists(pk)")
                .build(),
        )?;
        let items = vec![
            TransactWriteItem::builder()
                .condition_check(account)
                .build(),
            self.put(schema::code_item(code))?,
            self.put_mail(&code.mail)?,
        ];
        self.conditional_transaction(items).await
    }

    async fn code_attempt(&self, kind: MailKind, email: &str) -> StoreResult<CodeAttempt> {
        let login_key = schema::login_key(email);
        let code_key = schema::code_key(kind, email);
        let (items, _) = self
            .batch_read(vec![login_key.clone(), code_key.clone()], None)
            .await?;
        let find = |key: &Item| items.iter().find(|item| has_key(item, key));
        Ok(CodeAttempt {
            record: find(&login_key)
                .map(schema::login_record_from)
                .transpose()?,
            code: find(&code_key).map(schema::stored_code_from).transpose()?,
        })
    }

    async fn count_wrong_code(&self, kind: MailKind, email: &str) -> StoreResult<()> {
        let write = self
            .client
            .update_item()
            .table_name(&self.users_table)
            .set_key(Some(schema::code_key(kind, email)))
            .update_expression("SET wrong_tries = if_not_exists(wrong_tries, :zero) + :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1));
        conditional(|| write.clone().send()).await.map(drop)
    }

    async fn reset_password(
        &self,
        redemption: &Redemption<'_>,
        new_hash: &str,
        account: &Counter,
    ) -> StoreResult<bool> {
        let clear = built(
            Delete::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::failures_key(account)))
                .build(),
        )?;
        let mut items = self.redeem(redemption, Some(new_hash))?;
        items.push(TransactWriteItem::builder().delete(clear).build());
        let (user_id, now) = (redemption.user_id, redemption.now);
        items.extend(self.put_events(&[events::plain(
            EventType::UserPasswordReset,
            user_id,
            now,
        )])?);
        self.conditional_transaction(items).await
    }

    async fn verify_email(&self, redemption: &Redemption<'_>) -> StoreResult<bool> {
        let mut items = self.redeem(redemption, None)?;
        let Redemption {
            user_id,
            email,
            now,
            ..
        } = *redemption;
        items.extend(self.put_events(&[events::email_verified(user_id, email, now)])?);
        self.conditional_transaction(items).await
    }

    async fn email_change_attempt(&self, email: &str) -> StoreResult<EmailChangeAttempt> {
        self.read_email_change(email).await
    }

    async fn start_email_change(&self, request: &EmailChangeRequest<'_>) -> StoreResult<bool> {
        self.write_email_change_request(request).await
    }

    async fn confirm_email_change(
        &self,
        confirmation: &EmailChangeConfirmation<'_>,
    ) -> StoreResult<EmailChangeOutcome> {
        self.write_email_change(confirmation).await
    }
}
