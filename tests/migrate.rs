//! `make migrate` (issue 21, item 5): a users table holding the items every
//! earlier version wrote (the formats of `store/dynamo/formats.rs`, the
//! attributes as each commit's schema wrote them) works before the migration
//! and after it; a run stopped halfway and run again upgrades every item
//! exactly once. In a table of its own, so that the whole-table scan sees
//! only this test's items. In-process only.

use auth::store::dynamo::formats::{FORMAT, ITEM_FORMAT, format_of};
use auth::store::dynamo::migrate::{Migration, Progress};
use auth::store::dynamo::schema::Item;
use auth::store::dynamo::{DynamoStore, sdk_config};
use auth::store::{NewUser, Store};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, GlobalSecondaryIndex, Projection};
use std::collections::HashMap;
use test_support::calls::{get_user, list_sessions, list_users, login, status};
use test_support::{PASSWORD, TestApp, in_process_app_with, unique_email};

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn flag(value: bool) -> AttributeValue {
    AttributeValue::Bool(value)
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A copy of make test's users table (keys, index) under a new name.
async fn table_of_its_own(client: &Client) -> String {
    let model = std::env::var("USERS_TABLE").unwrap();
    let described = client.describe_table().table_name(&model).send().await;
    let table = described.unwrap().table.unwrap();
    let name = format!("migrate-{}", auth::now_millis());
    let indexes = table.global_secondary_indexes().iter().map(|index| {
        GlobalSecondaryIndex::builder()
            .index_name(index.index_name().unwrap())
            .set_key_schema(Some(index.key_schema().to_vec()))
            .projection(
                index
                    .projection()
                    .cloned()
                    .unwrap_or(Projection::builder().build()),
            )
            .build()
            .unwrap()
    });
    client
        .create_table()
        .table_name(&name)
        .set_attribute_definitions(Some(table.attribute_definitions().to_vec()))
        .set_key_schema(Some(table.key_schema().to_vec()))
        .set_global_secondary_indexes(Some(indexes.collect()))
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    name
}

/// One account as the version of `format` wrote it: the profile, the login
/// record and a session (in the profile's partition in format 1). Format 5
/// is format 4 with `format` on each.
struct OldAccount {
    format: u64,
    email: String,
    user_id: String,
    session_id: String,
}

impl OldAccount {
    fn new(format: u64) -> Self {
        Self {
            format,
            email: unique_email(),
            user_id: auth::ids::new_user_id(),
            session_id: auth::ids::new_random_id().unwrap(),
        }
    }

    fn items(&self, password_hash: &str) -> Vec<Item> {
        let item = |pairs: Vec<(&str, AttributeValue)>| -> Item {
            pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
        };
        let user_pk = format!("USER#{}", self.user_id);
        let mut profile = item(vec![
            ("pk", s(&user_pk)),
            ("sk", s("PROFILE")),
            ("user_id", s(&self.user_id)),
            ("email", s(&self.email)),
            ("admin", flag(false)),
            ("registered_on", s("2026-11-26T09:00:00Z")),
        ]);
        let mut login = item(vec![
            ("pk", s(&format!("EMAIL#{}", self.email))),
            ("sk", s("LOGIN")),
            ("user_id", s(&self.user_id)),
            ("password_hash", s(password_hash)),
        ]);
        if self.format >= 3 {
            for record in [&mut profile, &mut login] {
                record.insert("email_verified".into(), flag(true));
            }
        }
        if self.format >= 5 {
            for record in [&mut profile, &mut login] {
                record.insert("format".into(), n(5));
            }
        }
        if self.format >= 4 {
            for record in [&mut profile, &mut login] {
                record.insert("disabled".into(), flag(false));
            }
            login.insert("admin".into(), flag(false));
            profile.insert("listing".into(), s("USER"));
            let registration = format!("2026-11-26T09:00:00Z#{}", self.user_id);
            profile.insert("registration".into(), s(&registration));
        }
        let (session_pk, session_sk) = if self.format == 1 {
            (user_pk, format!("SESSION#{}", self.session_id))
        } else {
            (format!("SESSION#{}", self.user_id), self.session_id.clone())
        };
        let now = auth::now();
        let session = item(vec![
            ("pk", s(&session_pk)),
            ("sk", s(&session_sk)),
            ("user_id", s(&self.user_id)),
            ("session_id", s(&self.session_id)),
            ("device", s(&format!("phone of format {}", self.format))),
            ("created_at", n(now)),
            ("last_used_at", n(now)),
            ("expires_at", n(now + 86_400)),
            ("rotated_at", n(now)),
            ("refresh_hash", s("a hash no token of this test matches")),
        ]);
        let mut session = session;
        if self.format >= 5 {
            session.insert("format".into(), n(5));
        }
        vec![profile, login, session]
    }
}

async fn scan(client: &Client, table: &str) -> Vec<Item> {
    let output = client.scan().table_name(table).send().await.unwrap();
    output.items().to_vec()
}

/// Logs in to each account and checks what its token reaches; the session
/// the old version wrote is listed unless it is in format 1's place.
async fn every_account_works(app: &TestApp, accounts: &[OldAccount]) {
    for account in accounts {
        let answer = login(app, &account.email, PASSWORD).await;
        assert_eq!(
            answer.status, 200,
            "format {}: {}",
            account.format, answer.body
        );
        let token = answer.token();
        assert_eq!(status(app, &token).await.status, 200);
        let sessions = list_sessions(app, &token).await;
        let listed = sessions
            .iter()
            .any(|s| s["id"] == account.session_id.as_str());
        assert_eq!(listed, account.format >= 2, "format {}", account.format);
    }
}

/// The ids `GET /admin/users` lists, on one page.
async fn listed_ids(app: &TestApp, admin_token: &str) -> Vec<String> {
    let answer = list_users(app, admin_token, "?limit=100").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let users = answer.body["data"]["users"].as_array().unwrap();
    users
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

fn migration(limit: Option<u64>, resume_from: Option<Item>) -> Migration {
    Migration {
        rate: 1000,
        limit,
        resume_from,
    }
}

#[tokio::test]
async fn every_older_format_works_before_and_after_a_migration_stopped_halfway() {
    let client = Client::new(&sdk_config().await);
    let table = table_of_its_own(&client).await;
    let app: TestApp = in_process_app_with(|config| config.users_table = table.clone())
        .await
        .into();
    let store = DynamoStore::users_only(client.clone(), table.clone());

    let hash = auth::credentials::password::hash(PASSWORD, 4)
        .await
        .unwrap();
    let accounts: Vec<OldAccount> = (1..=5).map(OldAccount::new).collect();
    for account in &accounts {
        for item in account.items(&hash) {
            let put = client.put_item().table_name(&table).set_item(Some(item));
            put.send().await.unwrap();
        }
    }
    let admin_email = unique_email();
    let admin = NewUser {
        user_id: auth::ids::new_user_id(),
        email: admin_email.clone(),
        password_hash: hash.clone(),
        registered_on: auth::rfc3339(auth::now()),
        roles: auth::roles::Roles::from_admin_flag(true),
        email_verified: true,
    };
    store.create_user(&admin, None, None).await.unwrap();
    let admin_token = login(&app, &admin_email, PASSWORD).await.token();

    // Before: every call works; the accounts written before the listing
    // index (formats 1 to 3) are missing from it, and one of them is found
    // by id all the same.
    every_account_works(&app, &accounts).await;
    let listed = listed_ids(&app, &admin_token).await;
    for account in &accounts {
        assert_eq!(listed.contains(&account.user_id), account.format >= 4);
    }
    assert_eq!(
        get_user(&app, &admin_token, &accounts[0].user_id)
            .await
            .status,
        200
    );

    // A first run stopped after three writes (a crash halfway, as far as the
    // table can tell), then a run from where it stopped, then one more.
    let mut checkpoints = 0;
    let first = store
        .migrate(&migration(Some(3), None), |_| checkpoints += 1)
        .await
        .unwrap();
    assert!(
        !first.finished && first.upgraded + first.deleted == 3,
        "{first:?}"
    );
    let second = store
        .migrate(&migration(None, first.resume_from.clone()), |_| {})
        .await
        .unwrap();
    let third = store.migrate(&migration(None, None), |_| {}).await.unwrap();
    assert!(second.finished && third.finished);
    // Each old account's profile and login record upgraded once; formats 2
    // to 5's sessions upgraded, format 1's deleted, once.
    let old_records = 2 * accounts.len() as u64 + 4;
    assert_eq!(first.upgraded + second.upgraded, old_records, "{second:?}");
    assert_eq!(first.deleted + second.deleted, 1);
    assert_eq!(
        third,
        Progress {
            scanned: third.scanned,
            finished: true,
            ..Progress::default()
        }
    );

    // After: every item that has a format has today's; no item lost a flag
    // an old version set (format 3's verified address stays verified).
    let items = scan(&client, &table).await;
    assert!(
        items
            .iter()
            .all(|item| format_of(item).is_none_or(|f| f == ITEM_FORMAT))
    );
    for item in &items {
        if format_of(item).is_some() {
            assert_eq!(item.get(FORMAT), Some(&n(ITEM_FORMAT)));
        }
    }
    let profiles: HashMap<String, &Item> = items
        .iter()
        .filter(|item| item.get("sk") == Some(&s("PROFILE")))
        .map(|item| (item["user_id"].as_s().unwrap().clone(), item))
        .collect();
    for account in &accounts {
        let verified = &profiles[&account.user_id]["email_verified"];
        assert_eq!(verified, &flag(account.format >= 3));
    }
    // Sessions signed in by password, when they were created.
    for session in items.iter().filter(|item| item.get("device").is_some()) {
        assert_eq!(session["amr"], AttributeValue::L(vec![s("pwd")]));
        assert_eq!(session["auth_time"], session["created_at"]);
    }
    every_account_works_after(&app, &accounts, &admin_token).await;
    client
        .delete_table()
        .table_name(&table)
        .send()
        .await
        .unwrap();
}

/// After: every account is listed, logs in and reaches its calls; format 1's
/// session is gone for good (deleted, not revived).
async fn every_account_works_after(app: &TestApp, accounts: &[OldAccount], admin_token: &str) {
    let listed = listed_ids(app, admin_token).await;
    for account in accounts {
        assert!(
            listed.contains(&account.user_id),
            "format {}",
            account.format
        );
        let answer = get_user(app, admin_token, &account.user_id).await;
        assert_eq!(answer.status, 200);
    }
    every_account_works(app, accounts).await;
}
