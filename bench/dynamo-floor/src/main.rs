//! `bench-dynamo-floor OP COUNT [ARGS]`: issues the DynamoDB call(s) of one
//! endpoint COUNT times (at most 10 000) with a bare SDK client and prints each
//! call's duration in milliseconds, one a line. The first line is the client's
//! first call, which opens the connection: the cold floor.
//!
//!   status USER_ID JTI   BatchGetItem of the profile, a session and a revoked-token key, consistent
//!   login EMAIL          BatchGetItem of EMAIL#<email> and its two failed-login counters,
//!                        consistent, then a transaction: a check that its hash is
//!                        unchanged and the put of a new session
//!   logout               TransactWriteItems: conditional put of a revoked-token entry and
//!                        conditional delete of a session (both succeed)
//!   register             TransactWriteItems of three conditional puts (new keys)
//!
//! Tables from USERS_TABLE and REVOKED_TOKENS_TABLE; endpoint, region and
//! credentials from the environment, as for the functions.

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, TransactWriteItem,
};
use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

type Error = Box<dyn std::error::Error>;

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

/// A key no earlier run used: the process id, the clock and a counter.
fn unique(i: u32) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("floor-{}-{nanos}-{i}", std::process::id())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn key(pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

/// A session item shaped like the functions' (see shared/auth/src/store/dynamo.rs).
fn session(user_id: &str, session_id: &str) -> HashMap<String, AttributeValue> {
    let mut item = key(&format!("USER#{user_id}"), &format!("SESSION#{session_id}"));
    item.extend([
        ("user_id".to_owned(), s(user_id)),
        ("session_id".to_owned(), s(session_id)),
        ("device".to_owned(), s("bench")),
        ("created_at".to_owned(), n(now())),
        ("last_used_at".to_owned(), n(now())),
        ("expires_at".to_owned(), n(now() + 3600)),
        ("rotated_at".to_owned(), n(now())),
        ("refresh_hash".to_owned(), s("not-a-real-hash")),
    ]);
    item
}

fn put_new(table: &str, item: HashMap<String, AttributeValue>) -> Result<TransactWriteItem, Error> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .build()?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// Issues one operation; returns its own duration where setup had to come first.
async fn call(
    client: &Client,
    op: &str,
    args: &[String],
    i: u32,
) -> Result<Option<std::time::Duration>, Error> {
    let users = env("USERS_TABLE");
    let revoked = env("REVOKED_TOKENS_TABLE");
    match op {
        "status" => {
            let consistent = |key: HashMap<String, AttributeValue>| {
                KeysAndAttributes::builder()
                    .keys(key)
                    .consistent_read(true)
                    .build()
            };
            client
                .batch_get_item()
                .request_items(
                    &users,
                    KeysAndAttributes::builder()
                        .keys(key(&format!("USER#{}", args[0]), "PROFILE"))
                        .keys(key(&format!("USER#{}", args[0]), "SESSION#bench"))
                        .consistent_read(true)
                        .build()?,
                )
                .request_items(
                    &revoked,
                    consistent(HashMap::from([("jti".into(), s(&args[1]))]))?,
                )
                .send()
                .await?;
        }
        "login" => {
            // The login record with the account's and the address's
            // failed-login counters, in one read, as login does.
            let login_key = key(&format!("EMAIL#{}", args[0]), "LOGIN");
            let read = client
                .batch_get_item()
                .request_items(
                    &users,
                    KeysAndAttributes::builder()
                        .keys(login_key.clone())
                        .keys(key(&format!("FAILED#account:{}", args[0]), "LOGIN"))
                        .keys(key("FAILED#source:192.0.2.1", "LOGIN"))
                        .consistent_read(true)
                        .build()?,
                )
                .send()
                .await?;
            let hash = read
                .responses()
                .and_then(|responses| responses.get(&users))
                .into_iter()
                .flatten()
                .find(|item| item.get("pk") == login_key.get("pk"))
                .and_then(|item| item.get("password_hash"))
                .cloned()
                .ok_or("no login record for that email")?;
            // The session is written only if the verified hash is still current.
            let check = ConditionCheck::builder()
                .table_name(&users)
                .set_key(Some(login_key))
                .condition_expression("password_hash = :verified")
                .expression_attribute_values(":verified", hash)
                .build()?;
            let put = Put::builder()
                .table_name(&users)
                .set_item(Some(session("floor", &unique(i))))
                .build()?;
            client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().condition_check(check).build())
                .transact_items(TransactWriteItem::builder().put(put).build())
                .send()
                .await?;
        }
        "logout" => {
            // The session to end is written first, outside the timed call.
            let session_id = unique(i);
            client
                .put_item()
                .table_name(&users)
                .set_item(Some(session("floor", &session_id)))
                .send()
                .await?;
            let start = Instant::now();
            let revoke = Put::builder()
                .table_name(&revoked)
                .item("jti", s(&unique(i)))
                .item("expires_at", n(now() + 3600))
                .condition_expression("attribute_not_exists(jti) OR expires_at <= :now")
                .expression_attribute_values(":now", n(now()))
                .build()?;
            let end = Delete::builder()
                .table_name(&users)
                .set_key(Some(key("USER#floor", &format!("SESSION#{session_id}"))))
                .condition_expression("attribute_exists(pk) AND expires_at > :now")
                .expression_attribute_values(":now", n(now()))
                .build()?;
            client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().put(revoke).build())
                .transact_items(TransactWriteItem::builder().delete(end).build())
                .send()
                .await?;
            return Ok(Some(start.elapsed()));
        }
        "register" => {
            let id = unique(i);
            let mut profile = key(&format!("USER#{id}"), "PROFILE");
            profile.extend([
                ("user_id".to_owned(), s(&id)),
                ("email".to_owned(), s(&format!("{id}@example.com"))),
                ("admin".to_owned(), AttributeValue::Bool(false)),
                ("registered_on".to_owned(), s("2026-01-01T00:00:00Z")),
            ]);
            let mut login = key(&format!("EMAIL#{id}@example.com"), "LOGIN");
            login.extend([
                ("user_id".to_owned(), s(&id)),
                ("password_hash".to_owned(), s("$2b$12$not-a-real-hash")),
            ]);
            let token: String = id
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .rev()
                .take(36)
                .collect();
            client
                .transact_write_items()
                .transact_items(put_new(&users, profile)?)
                .transact_items(put_new(&users, login)?)
                .transact_items(put_new(&users, session(&id, "first"))?)
                .client_request_token(token)
                .send()
                .await?;
        }
        other => return Err(format!("unknown operation {other}").into()),
    }
    Ok(None)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (op, count) = match (
        args.first(),
        args.get(1).and_then(|c| c.parse::<u32>().ok()),
    ) {
        (Some(op), Some(count)) => (op.as_str(), count.min(10_000)),
        _ => {
            eprintln!("usage: bench-dynamo-floor status|login|logout|register COUNT [ARGS]");
            std::process::exit(2);
        }
    };
    let client = Client::new(&aws_config::defaults(BehaviorVersion::latest()).load().await);
    for i in 0..count {
        let start = Instant::now();
        let own = call(&client, op, &args[2..], i).await?;
        let elapsed = own.unwrap_or_else(|| start.elapsed());
        println!("{:.3}", elapsed.as_secs_f64() * 1000.0);
    }
    Ok(())
}
