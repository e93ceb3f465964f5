//! What the in-process app sends DynamoDB, seen by an SDK interceptor on its
//! client: each request's operation and body, retries included, and the round
//! trips they took (requests in flight together are one round trip). For the
//! tests that count requests (round_trips.rs) and that check each against the
//! function's IAM policy (iam.rs).

use auth::store::dynamo::{DynamoStore, sdk_config};
use auth::{App, Config};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef as AttemptEnd,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents as Components};
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// One request as sent.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The DynamoDB operation (`X-Amz-Target`), e.g. `BatchGetItem`.
    pub operation: String,
    /// The request's JSON body.
    pub body: Value,
}

#[derive(Debug, Default)]
struct Traffic {
    sent: Vec<Sent>,
    /// Requests sent and not yet answered.
    in_flight: usize,
    /// Requests sent while none was in flight: each starts a round trip, and
    /// requests sent together (a `join_all`) share it.
    round_trips: usize,
}

/// The interceptor: a handle on what it has seen.
#[derive(Debug, Default, Clone)]
pub struct RequestLog(Arc<Mutex<Traffic>>);

/// What an interceptor's hook returns.
type Hook = Result<(), aws_sdk_dynamodb::error::BoxError>;

impl Intercept for RequestLog {
    fn name(&self) -> &'static str {
        "RequestLog"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &Components,
        _: &mut ConfigBag,
    ) -> Hook {
        let request = context.request();
        let target = request.headers().get("x-amz-target").unwrap_or("?");
        let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
        let body = request
            .body()
            .bytes()
            .and_then(|bytes| serde_json::from_slice(bytes).ok())
            .unwrap_or(Value::Null);
        let mut traffic = self.0.lock().unwrap();
        traffic.sent.push(Sent { operation, body });
        if traffic.in_flight == 0 {
            traffic.round_trips += 1;
        }
        traffic.in_flight += 1;
        Ok(())
    }

    /// Every attempt ends here, answered or not; against DynamoDB Local every
    /// attempt is transmitted, so each ends a request counted above.
    fn read_after_attempt(&self, _: &AttemptEnd<'_>, _: &Components, _: &mut ConfigBag) -> Hook {
        let mut traffic = self.0.lock().unwrap();
        traffic.in_flight = traffic.in_flight.saturating_sub(1);
        Ok(())
    }
}

impl RequestLog {
    /// The requests sent and the round trips they took since the last take.
    pub fn take(&self) -> (Vec<Sent>, usize) {
        let traffic = std::mem::take(&mut *self.0.lock().unwrap());
        assert_eq!(traffic.in_flight, 0, "a request still in flight");
        (traffic.sent, traffic.round_trips)
    }
}

/// The app as a Lambda builds it, over DynamoDB Local, with `log` on its
/// client; its configuration.
pub async fn app_watched_by(log: &RequestLog) -> (App<DynamoStore>, Config) {
    let config = Config::from_env().expect("run through make test, which sets up DynamoDB Local");
    let sdk = sdk_config().await;
    let client = Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .interceptor(log.clone())
            .build(),
    );
    let store = DynamoStore::new(client, &config);
    (App::new(config.clone(), store), config)
}
