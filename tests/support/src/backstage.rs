//! Behind the service's back: its own database and secret, present when the
//! environment names them (make test, make test-e2e against cargo lambda
//! watch), absent against a deployment, where the tests that need them skip.
//! Items are read and written through the service's key schema
//! (`auth::store::dynamo::schema`), never with key prefixes of their own.

use crate::app::{TestApp, app};
use crate::stored::{
    account_counter_item, account_failures_key, item_with, login_record_item, source_failures_key,
};
use auth::Config;
use auth::store::dynamo::schema::{
    Item, PROFILE, login_key, n, profile_key, revoked_key, s, session_key,
};
use auth::store::dynamo::sdk_config;
use aws_sdk_dynamodb::Client;

/// The service's own database client and configuration.
pub struct Backstage {
    pub client: Client,
    pub config: Config,
}

pub async fn backstage() -> Option<Backstage> {
    let config = Config::from_env().ok()?;
    Some(Backstage {
        client: Client::new(&sdk_config().await),
        config,
    })
}

/// For tests that cannot run without [`backstage`]: the app under test with
/// it, or `None` once it has printed why the test skips.
pub async fn app_and_backstage_or_skip(test: &str) -> Option<(TestApp, Backstage)> {
    let backstage = backstage_or_skip(test).await?;
    Some((app().await, backstage))
}

/// For tests that cannot run without [`backstage`]: prints why they skip.
pub async fn backstage_or_skip(test: &str) -> Option<Backstage> {
    let backstage = backstage().await;
    if backstage.is_none() {
        eprintln!("{test}: skipped, it needs the service's database and secret");
    }
    backstage
}

impl Backstage {
    /// `claims` signed as the service signs them: RS256 with the current key
    /// of its set, named in the header.
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        crate::tokens::signed_by(&self.config.signing_keys, claims)
    }
}

/// The reuse grace window the service runs with (its default when unknown).
pub async fn grace_seconds() -> u64 {
    backstage()
        .await
        .map_or(10, |b| b.config.refresh_reuse_grace_seconds)
}

impl Backstage {
    async fn put(&self, table: &str, item: Item) {
        self.client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    }

    async fn put_user_item(&self, item: Item) {
        self.put(&self.config.users_table, item).await;
    }

    async fn get_user_item(&self, key: Item) -> Option<Item> {
        self.client
            .get_item()
            .table_name(&self.config.users_table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
    }

    /// Claims `email` with a login record of another user, as a registration
    /// that won a race would.
    pub async fn put_login_record(&self, email: &str, user_id: &str, password_hash: &str) {
        self.put_user_item(login_record_item(email, user_id, password_hash))
            .await;
    }

    /// Login records of this email: one key, so at most one.
    pub async fn login_records_of(&self, email: &str) -> usize {
        usize::from(self.get_user_item(login_key(email)).await.is_some())
    }

    /// Profiles stored with this email (a scan: fine for a test table).
    pub async fn accounts_with_email(&self, email: &str) -> usize {
        let mut count = 0;
        let mut pages = self
            .client
            .scan()
            .table_name(&self.config.users_table)
            .filter_expression("email = :email AND sk = :profile")
            .expression_attribute_values(":email", s(email))
            .expression_attribute_values(":profile", s(PROFILE))
            .consistent_read(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            count += page.unwrap().items().len();
        }
        count
    }

    /// Moves the address's pending code of `kind` to expire at `expires_at`,
    /// leaving the item in place as DynamoDB's late TTL deletion would.
    pub async fn expire_code(
        &self,
        kind: auth::mail::outbox::MailKind,
        email: &str,
        expires_at: u64,
    ) {
        self.client
            .update_item()
            .table_name(&self.config.users_table)
            .set_key(Some(auth::store::dynamo::schema::code_key(kind, email)))
            .update_expression("SET expires_at = :past")
            .expression_attribute_values(":past", n(expires_at))
            .send()
            .await
            .unwrap();
    }

    pub async fn delete_profile(&self, user_id: &str) {
        self.client
            .delete_item()
            .table_name(&self.config.users_table)
            .set_key(Some(profile_key(user_id)))
            .send()
            .await
            .unwrap();
    }

    /// Moves a session's expiry to `expires_at`, leaving the item in place as
    /// DynamoDB's late TTL deletion would.
    pub async fn expire_session(&self, user_id: &str, session_id: &str, expires_at: u64) {
        self.client
            .update_item()
            .table_name(&self.config.users_table)
            .set_key(Some(session_key(user_id, session_id)))
            .update_expression("SET expires_at = :past")
            .expression_attribute_values(":past", n(expires_at))
            .send()
            .await
            .unwrap();
    }

    /// Writes a revocation entry behind the service's back, with this expiry or none.
    pub async fn revoke_directly(&self, jti: &str, expires_at: Option<u64>) {
        let entry = item_with(
            revoked_key(jti),
            expires_at.map(|expires_at| ("expires_at", n(expires_at))),
        );
        self.put(&self.config.revoked_tokens_table, entry).await;
    }

    /// Writes an account's failure counter as the service stores it.
    pub async fn write_counter(
        &self,
        email: &str,
        failures: u64,
        last_at_ms: u64,
        expires_at: u64,
    ) {
        let counter = account_counter_item(email, failures, last_at_ms, expires_at);
        self.put_user_item(counter).await;
    }

    /// The failures stored in an account's counter, if it has one.
    pub async fn stored_failures(&self, email: &str) -> Option<u64> {
        self.failures_in(account_failures_key(email)).await
    }

    /// The failures stored in a source address's counter, if it has one.
    pub async fn stored_source_failures(&self, ip: &str) -> Option<u64> {
        self.failures_in(source_failures_key(ip)).await
    }

    /// Makes `email`'s account an admin, or takes the role away, as
    /// `make create-admin` and `make demote-admin` do.
    pub async fn set_admin(&self, email: &str, admin: bool) {
        let roles = |record: &auth::store::LoginRecord| {
            auth::store::AccountChange::Roles(record.roles.with(auth::roles::ADMIN, admin))
        };
        self.change_account(email, roles).await;
    }

    /// Sets or clears `email`'s disabled flag and nothing else: the sessions
    /// stay, as they would if the disable's session sweep had failed.
    pub async fn set_disabled(&self, email: &str, disabled: bool) {
        self.change_account(email, |_| auth::store::AccountChange::Disabled(disabled))
            .await;
    }

    async fn change_account(
        &self,
        email: &str,
        change: impl FnOnce(&auth::store::LoginRecord) -> auth::store::AccountChange,
    ) {
        use auth::store::Store;
        let store = self.users_store();
        let attempt = store.login_attempt(email, &[], auth::now_millis()).await;
        let record = attempt.unwrap().record.expect("an account for the email");
        let change = change(&record);
        let changed = store.change_account(&record.user_id, email, change).await;
        assert!(changed.unwrap(), "{email}'s account changed");
    }

    /// Puts `count` live sessions of `user_id` straight into the table, as
    /// that many logins would have opened them.
    pub async fn put_sessions(&self, user_id: &str, count: usize) {
        let now = auth::now();
        for at in 0..count {
            let session = auth::store::Session {
                user_id: user_id.to_owned(),
                session_id: format!("put-behind-the-back-{at}"),
                device: "backstage".to_owned(),
                created_at: now,
                last_used_at: now,
                expires_at: now + 3600,
                refresh_hash: format!("hash-{at}"),
                previous_hash: None,
                rotated_at: now,
                sign_in: auth::store::SignIn::password(now),
            };
            let item = auth::store::dynamo::schema::session_item(&session);
            self.put_user_item(item).await;
        }
    }

    /// How many sessions of `user_id` are stored, expired ones too.
    pub async fn stored_sessions(&self, user_id: &str) -> usize {
        use auth::store::Store;
        let store = self.users_store();
        store.sessions(user_id, 0).await.unwrap().len()
    }

    /// The service's store over the users table alone (profiles, login
    /// records, sessions), for writes behind the service's back.
    pub fn users_store(&self) -> auth::store::dynamo::DynamoStore {
        auth::store::dynamo::DynamoStore::users_only(
            self.client.clone(),
            self.config.users_table.clone(),
        )
    }

    /// How many items are stored under the account's id or email: profile,
    /// login record, sessions, pending codes, failed-login counter.
    pub async fn items_of_account(&self, user_id: &str, email: &str) -> usize {
        use auth::store::dynamo::schema::{code_pk, email_pk, sessions_pk, user_pk};
        let counter = account_failures_key(email);
        let counter_pk = counter["pk"].as_s().unwrap().clone();
        let partitions = [
            user_pk(user_id),
            email_pk(email),
            sessions_pk(user_id),
            code_pk(email),
            counter_pk,
        ];
        let mut count = 0;
        for pk in partitions {
            let page = self
                .client
                .query()
                .table_name(&self.config.users_table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk))
                .consistent_read(true)
                .send()
                .await
                .unwrap();
            count += page.items().len();
        }
        count
    }

    async fn failures_in(&self, counter_key: Item) -> Option<u64> {
        let item = self.get_user_item(counter_key).await.unwrap_or_default();
        item.get("failures")
            .and_then(|value| value.as_n().ok())
            .map(|count| count.parse().unwrap())
    }
}
