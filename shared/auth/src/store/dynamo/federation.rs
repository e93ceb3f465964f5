//! [`Federation`] on DynamoDB. Items of the users table:
//! - `OAUTHSTATE#<state>` / `STATE`: a sign-in at a provider in progress
//!   (`provider`, `nonce`, `verifier`, `code_challenge`, `redirect_to`,
//!   `link_user_id`, `created_at`, `expires_at`), taken by a conditional
//!   delete that returns it;
//! - `APPCODE#<SHA-256 of the code>` / `CODE`: the one-time code handed to
//!   the app (`user_id`, `session_id`, `device`, `code_challenge`,
//!   `expires_at`; `amr` and `auth_time` for a hosted sign-in's), taken the same way;
//! - `IDENTITY#<provider>#<sub>` / `OWNER` (`user_id`, `id`): the claim that
//!   makes an identity one account's, put under `attribute_not_exists`;
//! - `IDENTITIES#<user id>` / `<id>` (`provider`, `sub`, `email`,
//!   `linked_at`): an account's identities, one `Query`.

use super::retry::{built, cancellation_codes, condition_failed, unavailable};
use super::schema::{self, Item, key, n, number_of, s, string_of};
use super::*;
use crate::store::events;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

pub const STATE_PREFIX: &str = "OAUTHSTATE#";
pub const APP_CODE_PREFIX: &str = "APPCODE#";
pub const OWNER_PREFIX: &str = "IDENTITY#";
pub const IDENTITIES_PREFIX: &str = "IDENTITIES#";

fn state_key(state: &str) -> Item {
    key(format!("{STATE_PREFIX}{state}"), "STATE".to_owned())
}

fn app_code_key(code_hash: &str) -> Item {
    key(format!("{APP_CODE_PREFIX}{code_hash}"), "CODE".to_owned())
}

fn owner_key(provider: &str, sub: &str) -> Item {
    key(
        format!("{OWNER_PREFIX}{provider}#{sub}"),
        "OWNER".to_owned(),
    )
}

fn identity_key(user_id: &str, id: &str) -> Item {
    key(format!("{IDENTITIES_PREFIX}{user_id}"), id.to_owned())
}

fn optional(item: &mut Item, name: &str, value: Option<&String>) {
    if let Some(value) = value {
        item.insert(name.to_owned(), s(value));
    }
}

fn state_from(item: &Item) -> StoreResult<OauthState> {
    Ok(OauthState {
        provider: string_of(item, "provider")?,
        nonce: string_of(item, "nonce")?,
        verifier: string_of(item, "verifier")?,
        code_challenge: string_of(item, "code_challenge").ok(),
        redirect_to: string_of(item, "redirect_to")?,
        link_user_id: string_of(item, "link_user_id").ok(),
        created_at: number_of(item, "created_at").unwrap_or(0),
        // Unreadable: already expired (fail closed).
        expires_at: number_of(item, "expires_at").unwrap_or(0),
    })
}

fn app_code_from(item: &Item) -> StoreResult<AppCode> {
    Ok(AppCode {
        user_id: string_of(item, "user_id")?,
        session_id: string_of(item, "session_id").ok(),
        device: string_of(item, "device")?,
        code_challenge: string_of(item, "code_challenge")?,
        expires_at: number_of(item, "expires_at").unwrap_or(0),
        sign_in: sign_in_of(item),
    })
}

/// A hosted sign-in's `amr` and `auth_time`, if the code carries them.
fn sign_in_of(item: &Item) -> Option<SignIn> {
    let Some(AttributeValue::L(methods)) = item.get("amr") else {
        return None;
    };
    Some(SignIn {
        amr: methods
            .iter()
            .filter_map(|method| method.as_s().ok().cloned())
            .collect(),
        auth_time: number_of(item, "auth_time")?,
    })
}

fn identity_from(item: &Item) -> StoreResult<Identity> {
    let pk = string_of(item, "pk")?;
    Ok(Identity {
        id: string_of(item, "sk")?,
        user_id: pk
            .strip_prefix(IDENTITIES_PREFIX)
            .unwrap_or_default()
            .to_owned(),
        provider: string_of(item, "provider")?,
        sub: string_of(item, "sub")?,
        email: string_of(item, "email").ok(),
        linked_at: number_of(item, "linked_at").unwrap_or(0),
    })
}

impl DynamoStore {
    /// The claim and the record of an identity, for the transaction that links it.
    fn identity_items(&self, identity: &Identity) -> StoreResult<Vec<TransactWriteItem>> {
        let mut claim = owner_key(&identity.provider, &identity.sub);
        claim.insert("user_id".to_owned(), s(&identity.user_id));
        claim.insert("id".to_owned(), s(&identity.id));
        let claim = built(
            Put::builder()
                .table_name(&self.users_table)
                .set_item(Some(claim))
                .condition_expression("attribute_not_exists(pk)")
                .build(),
        )?;
        let mut record = identity_key(&identity.user_id, &identity.id);
        record.extend([
            ("provider".to_owned(), s(&identity.provider)),
            ("sub".to_owned(), s(&identity.sub)),
            ("linked_at".to_owned(), n(identity.linked_at)),
        ]);
        optional(&mut record, "email", identity.email.as_ref());
        Ok(vec![
            TransactWriteItem::builder().put(claim).build(),
            self.put(record)?,
        ])
    }

    /// A conditional delete that returns the item: of many calls, one gets it.
    async fn take(&self, key: Item) -> StoreResult<Option<Item>> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.users_table)
            .set_key(Some(key))
            .condition_expression("attribute_exists(pk)")
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => Ok(output.attributes().cloned()),
            Err(error) if condition_failed(&error) => Ok(None),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> StoreResult<Option<Vec<String>>> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(error) => match cancellation_codes(&error) {
                Some(reasons) => Ok(Some(reasons)),
                None => Err(unavailable(error)),
            },
        }
    }
}

impl Federation for DynamoStore {
    async fn open_oauth_state(&self, state: &str, opened: &OauthState) -> StoreResult<()> {
        let mut item = state_key(state);
        item.extend([
            ("provider".to_owned(), s(&opened.provider)),
            ("nonce".to_owned(), s(&opened.nonce)),
            ("verifier".to_owned(), s(&opened.verifier)),
            ("redirect_to".to_owned(), s(&opened.redirect_to)),
            ("created_at".to_owned(), n(opened.created_at)),
            ("expires_at".to_owned(), n(opened.expires_at)),
        ]);
        optional(&mut item, "code_challenge", opened.code_challenge.as_ref());
        optional(&mut item, "link_user_id", opened.link_user_id.as_ref());
        let put = self.client.put_item().table_name(&self.users_table);
        put.set_item(Some(item)).send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn take_oauth_state(&self, state: &str) -> StoreResult<Option<OauthState>> {
        self.take(state_key(state))
            .await?
            .as_ref()
            .map(state_from)
            .transpose()
    }

    async fn put_app_code(&self, code_hash: &str, code: &AppCode) -> StoreResult<()> {
        let mut item = app_code_key(code_hash);
        item.extend([
            ("user_id".to_owned(), s(&code.user_id)),
            ("device".to_owned(), s(&code.device)),
            ("code_challenge".to_owned(), s(&code.code_challenge)),
            ("expires_at".to_owned(), n(code.expires_at)),
        ]);
        optional(&mut item, "session_id", code.session_id.as_ref());
        if let Some(sign_in) = &code.sign_in {
            item.insert(
                "amr".to_owned(),
                AttributeValue::L(sign_in.amr.iter().map(s).collect()),
            );
            item.insert("auth_time".to_owned(), n(sign_in.auth_time));
        }
        let put = self.client.put_item().table_name(&self.users_table);
        put.set_item(Some(item)).send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn take_app_code(&self, code_hash: &str) -> StoreResult<Option<AppCode>> {
        let taken = self.take(app_code_key(code_hash)).await?;
        taken.as_ref().map(app_code_from).transpose()
    }

    async fn identity_owner(&self, provider: &str, sub: &str) -> StoreResult<Option<String>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.users_table)
            .set_key(Some(owner_key(provider, sub)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output
            .item()
            .and_then(|item| string_of(item, "user_id").ok()))
    }

    async fn create_federated_user(
        &self,
        user: &NewUser,
        session: &Session,
        identity: &Identity,
    ) -> StoreResult<FederatedSignUp> {
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
        // In this order: the reasons of a cancellation name the email claim
        // second, the identity claim third.
        let mut items = vec![
            put_new(schema::profile_item(user))?,
            put_new(schema::login_item(user))?,
        ];
        items.extend(self.identity_items(identity)?);
        items.push(put_new(schema::session_item(session))?);
        let told = [
            events::user_created(user, crate::now()),
            events::session_created(session),
        ];
        items.extend(self.put_events(&told)?);
        let Some(reasons) = self.transact(items).await? else {
            return Ok(FederatedSignUp::Created);
        };
        let failed =
            |index: usize| reasons.get(index).map(String::as_str) == Some("ConditionalCheckFailed");
        if failed(1) {
            Ok(FederatedSignUp::EmailTaken)
        } else if failed(2) {
            Ok(FederatedSignUp::IdentityTaken)
        } else {
            Err(StoreError(format!(
                "federated sign-up cancelled: {reasons:?}"
            )))
        }
    }

    async fn link_identity(&self, identity: &Identity) -> StoreResult<bool> {
        let profile = built(
            ConditionCheck::builder()
                .table_name(&self.users_table)
                .set_key(Some(schema::profile_key(&identity.user_id)))
                .condition_expression("attribute_exists(pk)")
                .build(),
        )?;
        let mut items = vec![
            TransactWriteItem::builder()
                .condition_check(profile)
                .build(),
        ];
        items.extend(self.identity_items(identity)?);
        Ok(self.transact(items).await?.is_none())
    }

    async fn identities(&self, user_id: &str) -> StoreResult<Vec<Identity>> {
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.users_table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(format!("{IDENTITIES_PREFIX}{user_id}")))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in output.items() {
                found.push(identity_from(item)?);
            }
            start = output.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    async fn unlink_identity(&self, user_id: &str, identity: &Identity) -> StoreResult<bool> {
        let delete = |key, condition: &str| {
            built(
                Delete::builder()
                    .table_name(&self.users_table)
                    .set_key(Some(key))
                    .condition_expression(condition)
                    .expression_attribute_values(":user", s(user_id))
                    .build(),
            )
            .map(|delete| TransactWriteItem::builder().delete(delete).build())
        };
        let record = built(
            Delete::builder()
                .table_name(&self.users_table)
                .set_key(Some(identity_key(user_id, &identity.id)))
                .condition_expression("attribute_exists(pk)")
                .build(),
        )?;
        let items = vec![
            TransactWriteItem::builder().delete(record).build(),
            delete(
                owner_key(&identity.provider, &identity.sub),
                "user_id = :user",
            )?,
        ];
        Ok(self.transact(items).await?.is_none())
    }
}
