//! A stand-in for DynamoDB on a local port, to inject the faults DynamoDB Local
//! cannot produce: it speaks just enough HTTP/1.1 to take the SDK's requests,
//! records the operation of each (its `X-Amz-Target`), and answers as told.

use auth::store::dynamo::schema::Item;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// An answer: HTTP status and a JSON body.
pub type Reply = (u16, String);

/// Chooses the answer to the `n`th request (from 0) for `operation`
/// (`GetItem`, `TransactWriteItems`, ...); `None` never answers.
pub type Script = dyn Fn(&str, usize) -> Option<Reply> + Send + Sync;

pub struct FakeDynamo {
    pub url: String,
    operations: Arc<Mutex<Vec<String>>>,
    server: JoinHandle<()>,
}

impl FakeDynamo {
    /// Accepts connections and reads requests, but never answers one: a
    /// DynamoDB that hangs.
    pub async fn silent() -> Self {
        Self::start(Arc::new(|_: &str, _: usize| None)).await
    }

    /// Answers every request with this DynamoDB error (`__type` without its
    /// namespace, e.g. `ThrottlingException`), with HTTP 400 as DynamoDB does.
    pub async fn failing_with(error_type: &str) -> Self {
        let reply = error(error_type, "injected by the test", "");
        Self::start(Arc::new(move |_: &str, _: usize| Some(reply.clone()))).await
    }

    pub async fn start(script: Arc<Script>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let operations = Arc::new(Mutex::new(Vec::new()));
        let seen = operations.clone();
        let server = tokio::spawn(async move {
            // Connections live in this set, so stopping the server drops them.
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                connections.spawn(serve(stream, script.clone(), seen.clone()));
            }
        });
        Self {
            url,
            operations,
            server,
        }
    }

    /// The operation of every request received so far, in order.
    pub fn operations(&self) -> Vec<String> {
        self.operations.lock().unwrap().clone()
    }
}

impl Drop for FakeDynamo {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A DynamoDB error answer. `extra` is more JSON members, each with a leading
/// comma, e.g. `,"CancellationReasons":[…]`.
pub fn error(error_type: &str, message: &str, extra: &str) -> Reply {
    let body = format!(
        r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{error_type}","message":"{message}"{extra}}}"#
    );
    (400, body)
}

/// A DynamoDB `InternalServerError`: HTTP 500, which the SDK retries.
pub fn internal_error() -> Reply {
    let (_, body) = error("InternalServerError", "injected", "");
    (500, body)
}

/// An item in DynamoDB's JSON, as a `GetItem` or `BatchGetItem` answer holds
/// it (the attribute types items here use: strings, numbers, booleans, lists).
pub fn item_json(item: &Item) -> Value {
    let attributes = item
        .iter()
        .map(|(name, value)| (name.clone(), attribute_json(name, value)));
    Value::Object(attributes.collect())
}

fn attribute_json(name: &str, value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(text) => json!({ "S": text }),
        AttributeValue::N(number) => json!({ "N": number }),
        AttributeValue::Bool(flag) => json!({ "BOOL": flag }),
        AttributeValue::L(values) => {
            let values: Vec<Value> = values.iter().map(|v| attribute_json(name, v)).collect();
            json!({ "L": values })
        }
        other => panic!("{name}: no JSON here for {other:?}"),
    }
}

/// A `BatchGetItem` answer that finds `items` in `table` and leaves nothing
/// unprocessed.
pub fn batch_get_answer(table: &str, items: &[Item]) -> Reply {
    let items: Vec<Value> = items.iter().map(item_json).collect();
    let body = json!({ "Responses": { table: items }, "UnprocessedKeys": {} });
    (200, body.to_string())
}

/// A `GetItem` answer that finds `item`.
pub fn get_item_answer(item: &Item) -> Reply {
    (200, json!({ "Item": item_json(item) }).to_string())
}

/// A `Query` answer of one page holding `items`.
pub fn query_answer(items: &[Item]) -> Reply {
    let found: Vec<Value> = items.iter().map(item_json).collect();
    let body = json!({ "Items": found, "Count": items.len(), "ScannedCount": items.len() });
    (200, body.to_string())
}

/// The answer to a write that was made (`UpdateItem`, `DeleteItem`,
/// `TransactWriteItems` asked for no return values).
pub fn written() -> Reply {
    (200, "{}".into())
}

/// What DynamoDB answers a single-item write that meets a transaction in
/// flight on its item. The SDK does not retry it; the service must.
pub fn transaction_conflict() -> Reply {
    error(
        "TransactionConflictException",
        "Transaction is ongoing for the item",
        "",
    )
}

/// A `TransactionCanceledException` with these cancellation reason codes, in
/// the order of the transaction's items.
pub fn cancelled(codes: &[&str]) -> Reply {
    let reasons: Vec<String> = codes
        .iter()
        .map(|code| format!(r#"{{"Code":"{code}"}}"#))
        .collect();
    let message = format!(
        "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
        codes.join(", ")
    );
    let extra = format!(r#","CancellationReasons":[{}]"#, reasons.join(","));
    error("TransactionCanceledException", &message, &extra)
}

/// Serves one connection: request after request until the client closes it.
async fn serve(mut stream: TcpStream, script: Arc<Script>, seen: Arc<Mutex<Vec<String>>>) {
    let mut buffer = Vec::new();
    loop {
        let Some((operation, consumed)) = read_request(&mut stream, &mut buffer).await else {
            return;
        };
        buffer.drain(..consumed);
        let n = {
            let mut seen = seen.lock().unwrap();
            let n = seen.iter().filter(|op| **op == operation).count();
            seen.push(operation.clone());
            n
        };
        let Some((status, body)) = script(&operation, n) else {
            // Hold the connection open, answering nothing, until dropped.
            std::future::pending::<()>().await;
            return;
        };
        let response = format!(
            "HTTP/1.1 {status} Fake\r\ncontent-type: application/x-amz-json-1.0\r\n\
             content-length: {}\r\nx-amzn-requestid: fake-{n}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Reads one whole request (head and `content-length` body) into `buffer`;
/// returns its operation and how many bytes of `buffer` it took.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<(String, usize)> {
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(head_end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
            let header = |name: &str| {
                head.lines().find_map(|line| {
                    let (key, value) = line.split_once(':')?;
                    key.trim()
                        .eq_ignore_ascii_case(name)
                        .then(|| value.trim().to_owned())
                })
            };
            let length: usize = header("content-length").map_or(0, |v| v.parse().unwrap_or(0));
            let total = head_end + 4 + length;
            if buffer.len() >= total {
                let target = header("x-amz-target").unwrap_or_default();
                let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
                return Some((operation, total));
            }
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}
