//! [`SecondFactors`] on DynamoDB: the factor's item (`MFA#<user id>` /
//! `TOTP`) and its codec, and the writes that change it, each conditional so
//! that a step or a code is accepted once however many calls race.

use super::formats::{FORMAT, ITEM_FORMAT};
use super::retry::{built, unavailable};
use super::schema::{self, Item, n, number_of, s, string_of};
use super::*;
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
        self.conditional_transaction(vec![
            TransactWriteItem::builder().update(factor).build(),
            TransactWriteItem::builder().update(login).build(),
            TransactWriteItem::builder().update(session).build(),
        ])
        .await
    }
}

impl DynamoStore {
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
