//! `bench-dynamo-floor OP COUNT [ARGS]`: issues the DynamoDB call(s) of one
//! endpoint COUNT times (at most 10 000) with a bare SDK client and prints each
//! call's duration in milliseconds, one a line. The first line is the client's
//! first call, which opens the connection: the cold floor.
//!
//!   status USER_ID JTI   BatchGetItem of USER#<id> and a revoked-token key, consistent
//!   login EMAIL          GetItem of EMAIL#<email>, consistent
//!   logout               conditional PutItem of a new revoked-token entry
//!   register             TransactWriteItems of two conditional puts (new keys)
//!
//! Tables from USERS_TABLE and REVOKED_TOKENS_TABLE; endpoint, region and
//! credentials from the environment, as for the functions.

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem};
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

fn put_new(table: &str, item: HashMap<String, AttributeValue>) -> Result<TransactWriteItem, Error> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .build()?;
    Ok(TransactWriteItem::builder().put(put).build())
}

async fn call(client: &Client, op: &str, args: &[String], i: u32) -> Result<(), Error> {
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
                    consistent(HashMap::from([(
                        "pk".into(),
                        s(&format!("USER#{}", args[0])),
                    )]))?,
                )
                .request_items(
                    &revoked,
                    consistent(HashMap::from([("jti".into(), s(&args[1]))]))?,
                )
                .send()
                .await?;
        }
        "login" => {
            client
                .get_item()
                .table_name(&users)
                .key("pk", s(&format!("EMAIL#{}", args[0])))
                .consistent_read(true)
                .send()
                .await?;
        }
        "logout" => {
            client
                .put_item()
                .table_name(&revoked)
                .item("jti", s(&unique(i)))
                .item("expires_at", n(now() + 3600))
                .condition_expression("attribute_not_exists(jti) OR expires_at <= :now")
                .expression_attribute_values(":now", n(now()))
                .send()
                .await?;
        }
        "register" => {
            let id = unique(i);
            let profile = HashMap::from([
                ("pk".to_owned(), s(&format!("USER#{id}"))),
                ("user_id".to_owned(), s(&id)),
                ("email".to_owned(), s(&format!("{id}@example.com"))),
                ("admin".to_owned(), AttributeValue::Bool(false)),
                ("registered_on".to_owned(), s("2026-01-01T00:00:00Z")),
            ]);
            let login = HashMap::from([
                ("pk".to_owned(), s(&format!("EMAIL#{id}@example.com"))),
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
                .client_request_token(token)
                .send()
                .await?;
        }
        other => return Err(format!("unknown operation {other}").into()),
    }
    Ok(())
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
        call(&client, op, &args[2..], i).await?;
        println!("{:.3}", start.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(())
}
