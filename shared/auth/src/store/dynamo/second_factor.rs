//! [`SecondFactors`] on DynamoDB: the factor's item (`MFA#<user id>` /
//! `TOTP`) and its codec, and the writes that change it, each conditional so
//! that a step or a code is accepted once however many calls race.

use super::formats::{FORMAT, ITEM_FORMAT};
use super::retry::{built, unavailable};
use super::schema::{self, Item, n, number_of, s, string_of};
use super::*;
use crate::mail::outbox::OutboxMail;
use crate::store::events;
use crate::webhooks::EventType;
use aws_sdk_dynamodb::types::AttributeValue;

fn second_factor_from(item: &Item) -> StoreResult<SecondFactor> {
    Ok(SecondFactor {
        sealed_secret: string_of(item, "sealed_secret")?,
        on: matches!(item.get("on"), Some(AttributeValue::Bool(true))),
        // Unreadable: as if the latest possible step were used (fail closed).
        last_step: number_of(item, "last_step").unwrap_or(u64::MAX),
        recovery_hashes: match item.get("recovery") {
            Some(AttributeValue::Ss(hashes)) => hashes.clone(),
            _ => Vec::new(),
        },
    })
}

impl SecondFactors for DynamoStore {
    async fn second_factor(&self, user_id: &str) -> StoreResult<Option<SecondFactor>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.users_table)
            .set_key(Some(schema::second_factor_key(user_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output.item().map(second_factor_from).transpose()
    }

    async fn begin_totp(
        &self,
        user_id: &str,
        sealed_secret: &str,
        verified: &Verified<'_>,
    ) -> StoreResult<bool> {
        let mut item = schema::second_factor_key(user_id);
        item.extend([
            ("sealed_secret".to_owned(), s(sealed_secret)),
            ("on".to_owned(), AttributeValue::Bool(false)),
            ("last_step".to_owned(), n(0)),
            (FORMAT.to_owned(), n(ITEM_FORMAT)),
        ]);
        let pending = built(
            Put::builder()
                .table_name(&self.users_table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk) OR #on = :false")
                .expression_attribute_names("#on", "on")
                .expression_attribute_values(":false", AttributeValue::Bool(false))
                .build(),
        )?;
        let same_password = self.same_password(verified)?;
        let items = vec![
            TransactWriteItem::builder().put(pending).build(),
            TransactWriteItem::builder()
                .condition_check(same_password)
                .build(),
        ];
        self.write_settled(items, verified.settlement).await
    }

    async fn confirm_totp(&self, confirmation: &TotpConfirmation<'_>) -> StoreResult<bool> {
        let factor = built(
            Update::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::second_factor_key(confirmation.user_id)))
                .update_expression("SET #on = :true, last_step = :step, recovery = :codes")
                .condition_expression(
                    "sealed_secret = :sealed AND #on = :false AND last_step < :step",
                )
                .expression_attribute_names("#on", "on")
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .expression_attribute_values(":false", AttributeValue::Bool(false))
                .expression_attribute_values(":step", n(confirmation.step))
                .expression_attribute_values(
                    ":codes",
                    AttributeValue::Ss(confirmation.recovery_hashes.to_vec()),
                )
                .expression_attribute_values(":sealed", s(confirmation.sealed_secret))
                .build(),
        )?;
        let login = built(
            Update::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::login_key(confirmation.email)))
                .update_expression("SET mfa = :true")
                .condition_expression("user_id = :user")
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .expression_attribute_values(":user", s(confirmation.user_id))
                .build(),
        )?;
        let amr = confirmation.sign_in.amr.iter().map(s).collect();
        let session = built(
            Update::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::session_key(
                    confirmation.user_id,
                    confirmation.session_id,
                )))
                .update_expression(
                    "SET amr = :amr, auth_time = :auth_time, refresh_hash = :hash, \
                     rotated_at = :now REMOVE previous_hash",
                )
                .condition_expression("expires_at > :now")
                .expression_attribute_values(":amr", AttributeValue::L(amr))
                .expression_attribute_values(":auth_time", n(confirmation.sign_in.auth_time))
                .expression_attribute_values(":hash", s(confirmation.refresh_hash))
                .expression_attribute_values(":now", n(confirmation.now))
                .build(),
        )?;
        let (user_id, now) = (confirmation.user_id, confirmation.now);
        let mut items = vec![
            TransactWriteItem::builder().update(factor).build(),
            TransactWriteItem::builder().update(login).build(),
            TransactWriteItem::builder().update(session).build(),
            self.put_mail(confirmation.notice)?,
        ];
        items.extend(self.put_events(&[events::plain(EventType::TotpEnabled, user_id, now)])?);
        self.conditional_transaction(items).await
    }

    async fn open_challenge(
        &self,
        challenge: &Challenge,
        challenge_hash: &str,
        verified: &Verified<'_>,
    ) -> StoreResult<bool> {
        let mut item = schema::challenge_key(&challenge.user_id, challenge_hash);
        item.extend([
            ("user_id".to_owned(), s(&challenge.user_id)),
            ("email".to_owned(), s(&challenge.email)),
            ("device".to_owned(), s(&challenge.device)),
            ("wrong_tries".to_owned(), n(0)),
            ("expires_at".to_owned(), n(challenge.expires_at)),
        ]);
        // One check of the login record (a transaction takes one action per
        // item): the password still the one checked, the account not disabled.
        let account = built(
            ConditionCheck::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::login_key(verified.email)))
                .condition_expression(
                    "password_hash = :verified \
                     AND (attribute_not_exists(disabled) OR disabled = :false)",
                )
                .expression_attribute_values(":verified", s(verified.password_hash))
                .expression_attribute_values(":false", AttributeValue::Bool(false))
                .build(),
        )?;
        let items = vec![
            self.put(item)?,
            TransactWriteItem::builder()
                .condition_check(account)
                .build(),
        ];
        // The source counters' claims are taken back; the account's stays.
        let take_back = verified
            .settlement
            .release
            .iter()
            .map(|claim| self.take_back(claim));
        let (written, _) = futures_util::future::try_join(
            self.conditional_transaction(items),
            futures_util::future::try_join_all(take_back),
        )
        .await?;
        Ok(written)
    }

    async fn challenge_attempt(
        &self,
        user_id: &str,
        challenge_hash: &str,
    ) -> StoreResult<(Option<Challenge>, Option<SecondFactor>)> {
        let challenge_key = schema::challenge_key(user_id, challenge_hash);
        let factor_key = schema::second_factor_key(user_id);
        let (items, _) = self
            .batch_read(vec![challenge_key.clone(), factor_key.clone()], None)
            .await?;
        let find = |key: &Item| items.iter().find(|item| schema::has_key(item, key));
        Ok((
            find(&challenge_key).map(challenge_from).transpose()?,
            find(&factor_key).map(second_factor_from).transpose()?,
        ))
    }

    async fn count_wrong_factor(&self, user_id: &str, challenge_hash: &str) -> StoreResult<()> {
        let update = self
            .client
            .update_item()
            .table_name(&self.users_table)
            .set_key(Some(schema::challenge_key(user_id, challenge_hash)))
            .update_expression("SET wrong_tries = wrong_tries + :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":one", n(1));
        super::retry::conditional(|| update.clone().send()).await?;
        Ok(())
    }

    async fn pass_challenge(&self, pass: &ChallengePass<'_>) -> StoreResult<bool> {
        use crate::credentials::one_time_code::MAX_WRONG_TRIES;
        let user_id = pass.session.user_id.as_str();
        let use_up = built(
            Delete::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::challenge_key(user_id, pass.challenge_hash)))
                .condition_expression("wrong_tries < :tries AND expires_at > :now")
                .expression_attribute_values(":tries", n(u64::from(MAX_WRONG_TRIES)))
                .expression_attribute_values(":now", n(pass.now))
                .build(),
        )?;
        let factor = Update::builder()
            .table_name(&self.users_table)
            .set_key(Some(schema::second_factor_key(user_id)))
            .expression_attribute_names("#on", "on")
            .expression_attribute_values(":true", AttributeValue::Bool(true));
        let factor = match &pass.used {
            FactorUsed::Step(step) => factor
                .update_expression("SET last_step = :step")
                .condition_expression("#on = :true AND last_step < :step")
                .expression_attribute_values(":step", n(*step)),
            FactorUsed::RecoveryCode(hash) => factor
                .update_expression("DELETE recovery :used")
                .condition_expression("#on = :true AND contains(recovery, :hash)")
                .expression_attribute_values(":used", AttributeValue::Ss(vec![hash.clone()]))
                .expression_attribute_values(":hash", s(hash)),
        };
        let session = schema::session_item(pass.session);
        let mut items = vec![
            TransactWriteItem::builder().delete(use_up).build(),
            TransactWriteItem::builder()
                .update(built(factor.build())?)
                .build(),
            self.put(session)?,
            self.put(schema::last_opened_item(pass.session))?,
            TransactWriteItem::builder()
                .condition_check(self.not_disabled(pass.email, user_id)?)
                .build(),
        ];
        if let Some(notice) = pass.notice {
            items.push(self.put_mail(notice)?);
        }
        let mut told = vec![events::session_created(pass.session)];
        if let FactorUsed::RecoveryCode(_) = pass.used {
            told.push(events::plain(
                EventType::RecoveryCodeUsed,
                user_id,
                pass.now,
            ));
        }
        items.extend(self.put_events(&told)?);
        self.write_settled(items, pass.settlement).await
    }

    async fn turn_off_totp(
        &self,
        user_id: &str,
        email: &str,
        verified: Option<&Verified<'_>>,
        notice: &OutboxMail,
    ) -> StoreResult<bool> {
        let factor = built(
            Delete::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::second_factor_key(user_id)))
                .condition_expression("#on = :true")
                .expression_attribute_names("#on", "on")
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .build(),
        )?;
        let mut login = Update::builder()
            .table_name(&self.users_table)
            .set_key(Some(schema::login_key(email)))
            .update_expression("SET mfa = :false")
            .condition_expression("user_id = :user")
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":user", s(user_id));
        if let Some(verified) = verified {
            login = login
                .condition_expression("user_id = :user AND password_hash = :verified")
                .expression_attribute_values(":verified", s(verified.password_hash));
        }
        let mut items = vec![
            TransactWriteItem::builder().delete(factor).build(),
            TransactWriteItem::builder()
                .update(built(login.build())?)
                .build(),
            self.put_mail(notice)?,
        ];
        let off = events::plain(EventType::TotpDisabled, user_id, crate::now());
        items.extend(self.put_events(&[off])?);
        match verified {
            Some(verified) => self.write_settled(items, verified.settlement).await,
            None => self.conditional_transaction(items).await,
        }
    }

    async fn replace_recovery_codes(&self, user_id: &str, hashes: &[String]) -> StoreResult<bool> {
        let update = built(
            Update::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::second_factor_key(user_id)))
                .update_expression("SET recovery = :codes")
                .condition_expression("#on = :true")
                .expression_attribute_names("#on", "on")
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .expression_attribute_values(":codes", AttributeValue::Ss(hashes.to_vec()))
                .build(),
        )?;
        // A transaction, still one request: the event is written with the codes.
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        let kind = EventType::RecoveryCodesRegenerated;
        items.extend(self.put_events(&[events::plain(kind, user_id, crate::now())])?);
        self.conditional_transaction(items).await
    }
}

fn challenge_from(item: &Item) -> StoreResult<Challenge> {
    Ok(Challenge {
        user_id: string_of(item, "user_id")?,
        email: string_of(item, "email")?,
        device: string_of(item, "device")?,
        // Unreadable: no tries left, and expired (fail closed).
        wrong_tries: number_of(item, "wrong_tries")
            .map_or(u32::MAX, |tries| u32::try_from(tries).unwrap_or(u32::MAX)),
        expires_at: number_of(item, "expires_at").unwrap_or(0),
    })
}

impl DynamoStore {
    /// The login record's check that the account is not disabled.
    fn not_disabled(&self, email: &str, user_id: &str) -> StoreResult<ConditionCheck> {
        built(
            ConditionCheck::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::login_key(email)))
                .condition_expression(
                    "user_id = :user AND (attribute_not_exists(disabled) OR disabled = :false)",
                )
                .expression_attribute_values(":user", s(user_id))
                .expression_attribute_values(":false", AttributeValue::Bool(false))
                .build(),
        )
    }

    /// A transaction's check that the password hash a call verified is still
    /// the account's.
    pub(super) fn same_password(&self, verified: &Verified<'_>) -> StoreResult<ConditionCheck> {
        built(
            ConditionCheck::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::login_key(verified.email)))
                .condition_expression("password_hash = :verified")
                .expression_attribute_values(":verified", s(verified.password_hash))
                .build(),
        )
    }
}
