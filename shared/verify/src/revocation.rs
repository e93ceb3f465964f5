//! The authorizer's storage check (`token_subject` in the service's DynamoDB
//! store), for services that can read its tables: one consistent
//! `BatchGetItem` of the user's profile, the token's session and the
//! token's entry in the revoked-tokens table.
//!
//! The keys are the service's (`store/dynamo/schema.rs`), repeated here so
//! that this crate does not depend on the service's: profile `pk =
//! USER#<sub>`, `sk = PROFILE`; session `pk = SESSION#<sub>`, `sk = <sid>`;
//! revoked token `jti = <jti>`. The service's tests of this crate
//! (`tests/verify.rs`) check them against a running service.

use crate::{Claims, VerifyError};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use std::collections::HashMap;

type Item = HashMap<String, AttributeValue>;

/// The revocation check: give it to [`crate::VerifierBuilder::revocation`].
/// The client needs `dynamodb:BatchGetItem` on both tables.
#[derive(Clone, Debug)]
pub struct RevocationCheck {
    client: Client,
    users_table: String,
    revoked_tokens_table: String,
}

impl RevocationCheck {
    /// A check reading the service's users table (`UsersTable`) and
    /// revoked-tokens table (`RevokedTokensTable`) through `client`.
    pub fn new(
        client: Client,
        users_table: impl Into<String>,
        revoked_tokens_table: impl Into<String>,
    ) -> Self {
        Self {
            client,
            users_table: users_table.into(),
            revoked_tokens_table: revoked_tokens_table.into(),
        }
    }

    /// `Ok` if the token's user exists and is not disabled, its session is
    /// live and the token itself was not revoked (logout); [`VerifyError::Revoked`]
    /// otherwise, and [`VerifyError::RevocationUnavailable`] if storage did
    /// not answer in full (fail closed).
    pub async fn check(&self, claims: &Claims) -> Result<(), VerifyError> {
        self.check_at(claims, crate::now()).await
    }

    async fn check_at(&self, claims: &Claims, now: u64) -> Result<(), VerifyError> {
        let unavailable = |e: String| VerifyError::RevocationUnavailable(e);
        let profile_key = key(format!("USER#{}", claims.sub), "PROFILE".to_owned());
        let session_key = key(format!("SESSION#{}", claims.sub), claims.sid.clone());
        let revoked_key = HashMap::from([("jti".to_owned(), s(&claims.jti))]);
        let keys = |keys: Vec<Item>| {
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(|e| unavailable(e.to_string()))
        };
        let output = (self.client.batch_get_item())
            .request_items(
                &self.users_table,
                keys(vec![profile_key.clone(), session_key.clone()])?,
            )
            .request_items(&self.revoked_tokens_table, keys(vec![revoked_key])?)
            .send()
            .await
            .map_err(|e| {
                unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())
            })?;
        // DynamoDB may leave keys unread under throttling: not knowing is
        // not passing.
        if (output.unprocessed_keys()).is_some_and(|unprocessed| !unprocessed.is_empty()) {
            return Err(unavailable("the batch read left keys unprocessed".into()));
        }
        let mut responses = output.responses.unwrap_or_default();
        let users = responses.remove(&self.users_table).unwrap_or_default();
        let revoked = (responses.remove(&self.revoked_tokens_table)).unwrap_or_default();
        let find = |key: &Item| users.iter().find(|item| has_key(item, key));
        // An entry without a readable expiry counts as revoked: fail closed.
        let token_revoked = (revoked.iter())
            .any(|item| number_of(item, "expires_at").is_none_or(|until| until > now));
        let session_live = find(&session_key)
            .and_then(|item| number_of(item, "expires_at"))
            .is_some_and(|end| end > now);
        let user_enabled = find(&profile_key)
            .is_some_and(|item| !matches!(item.get("disabled"), Some(AttributeValue::Bool(true))));
        if token_revoked || !session_live || !user_enabled {
            return Err(VerifyError::Revoked);
        }
        Ok(())
    }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn key(pk: String, sk: String) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk)),
        ("sk".to_owned(), AttributeValue::S(sk)),
    ])
}

fn has_key(item: &Item, key: &Item) -> bool {
    key.iter()
        .all(|(name, value)| item.get(name) == Some(value))
}

fn number_of(item: &Item, name: &str) -> Option<u64> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().ok(),
        _ => None,
    }
}
