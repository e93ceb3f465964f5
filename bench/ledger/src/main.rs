//! `bench-ledger COUNT PAUSE_MS HELLO_EVENT STATUS_EVENT`: one `GET /auth/status` call,
//! split into its parts and timed in-process, COUNT times (at most 100 000),
//! through the functions' own code and settings (`auth::App` over the
//! DynamoDB that `AWS_ENDPOINT_URL_DYNAMODB` names, built as `lambda.rs`
//! builds it), PAUSE_MS apart, as invokes come (a hot loop would keep caches
//! and threads warm that an invoke finds cold). STATUS_EVENT is an API
//! Gateway event of `GET /auth/status` with a live token (`make bench` passes
//! its main user's), so that the first call is the process's first request;
//! or events/status-ok.json itself, whose token placeholder then becomes the
//! token of an account the ledger registers first (a standalone run).
//! HELLO_EVENT is the event the bench's hello-world gets, whose parse and
//! response are timed too, so that the bench can take them out of hello's
//! latency and keep the runtime's own share.
//!
//! Without arguments it is a Lambda bootstrap, status's handler path under
//! the emulator, that prints each invoke's parts from bearer to reply (see
//! [`serve`]): a first invoke timed where it happens, in a process the
//! emulator started, not in one of the ledger's own.
//!
//! The parts, in the order a call goes through them:
//!
//!   parse           the event's JSON into the `http::Request` lambda_http
//!                   hands the handler (`lambda_http::request::from_str`)
//!   bearer          the Authorization header to a token
//!   verify          the JWT: header, key, RS256 signature, claims
//!   sdk_build       the BatchGetItem's input into an HTTP request
//!                   (interceptor hooks: before execution to after serialization)
//!   sdk_prepare     retry loop, endpoint and identity (to before signing)
//!   sdk_sign        SigV4 (before to after signing)
//!   sdk_wire        the request out and the response's head in, connection
//!                   included (before to after transmit)
//!   sdk_parse       the response's body read and parsed (to after deserialization)
//!   sdk_finish      the attempt and the operation closed (to after execution)
//!   store           the store's own work around the SDK call: keys in, items out
//!   reply           status's answer, its JSON built
//!   respond         the answer into API Gateway's response JSON, as
//!                   lambda_http sends it to the runtime
//!
//! and, timed on their own: `handle` (`Endpoint::Status.handle` on the same
//! request: bearer to reply, one number) and `hello_parse` / `hello_respond`.
//!
//! Prints one JSON document: `first` (the process's first call, each part in
//! µs: the cold path's share of a first invoke) and `p50` (each part's median
//! over the COUNT calls after it, in µs).

use auth::store::Store;
use auth::{App, Config, Endpoint};
use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, service_fn};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

type Error = lambda_http::Error;
type Hook = Result<(), aws_sdk_dynamodb::error::BoxError>;

/// The SDK's interceptor hooks, in the order one request passes them.
const HOOKS: [&str; 7] = [
    "before_execution",
    "after_serialization",
    "before_signing",
    "after_signing",
    "after_transmit",
    "after_deserialization",
    "after_execution",
];
/// The request's parts between two hooks (`before_transmit` is at most a few
/// ns after `after_signing`: the wire starts at signing's end).
const SDK_PARTS: [&str; 6] = [
    "sdk_build",
    "sdk_prepare",
    "sdk_sign",
    "sdk_wire",
    "sdk_parse",
    "sdk_finish",
];

/// When each hook ran, for the one request in flight.
#[derive(Debug, Default, Clone)]
struct Stamps(Arc<Mutex<BTreeMap<&'static str, Instant>>>);

impl Stamps {
    fn stamp(&self, hook: &'static str) -> Hook {
        self.0.lock().unwrap().insert(hook, Instant::now());
        Ok(())
    }

    /// The parts between the hooks, in µs.
    fn take(&self) -> Result<Vec<f64>, Error> {
        let stamps = std::mem::take(&mut *self.0.lock().unwrap());
        let at = |hook| stamps.get(hook).copied().ok_or(format!("no {hook} hook"));
        let times = HOOKS.iter().map(at).collect::<Result<Vec<_>, _>>()?;
        Ok(times.windows(2).map(|w| micros(w[1] - w[0])).collect())
    }
}

impl Intercept for Stamps {
    fn name(&self) -> &'static str {
        "LedgerStamps"
    }

    fn read_before_execution(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        _: &mut ConfigBag,
    ) -> Hook {
        self.stamp("before_execution")
    }

    fn read_after_serialization(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Hook {
        self.stamp("after_serialization")
    }

    fn read_before_signing(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Hook {
        self.stamp("before_signing")
    }

    fn read_after_signing(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Hook {
        self.stamp("after_signing")
    }

    fn read_after_transmit(
        &self,
        _: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Hook {
        self.stamp("after_transmit")
    }

    fn read_after_deserialization(
        &self,
        _: &aws_sdk_dynamodb::config::interceptors::AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Hook {
        self.stamp("after_deserialization")
    }

    fn read_after_execution(
        &self,
        _: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Hook {
        self.stamp("after_execution")
    }
}

fn micros(elapsed: std::time::Duration) -> f64 {
    elapsed.as_secs_f64() * 1e6
}

/// Times `f`, in µs.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let started = Instant::now();
    let value = f();
    (value, micros(started.elapsed()))
}

/// The reply as lambda_http sends it to the runtime: API Gateway's response
/// document (lambda_http's own conversion is crate-private; this is its shape).
fn respond(reply: lambda_http::Response<Body>) -> Result<Vec<u8>, Error> {
    let (parts, body) = reply.into_parts();
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = i64::from(parts.status.as_u16());
    response.headers = parts.headers;
    response.body = Some(body);
    Ok(serde_json::to_vec(&response)?)
}

type Parts = BTreeMap<&'static str, f64>;

/// Status's own work on one request, part by part (bearer to reply): each
/// part's µs by name, and the reply.
async fn checked(
    app: &App<auth::store::dynamo::DynamoStore>,
    stamps: &Stamps,
    request: &Request,
) -> Result<(Parts, lambda_http::Response<Body>), Error> {
    let mut parts = BTreeMap::new();
    let (token, took) = timed(|| auth::http::request::bearer_token(request).map(str::to_owned));
    let token = token.map_err(|rejection| format!("{rejection:?}"))?;
    parts.insert("bearer", took);
    let issuer = app
        .issuer(auth::http::request::domain_name(request))
        .map_err(|error| format!("{error:?}"))?;
    let now = auth::now();
    let (claims, took) = timed(|| app.tokens.verify(&token, &issuer, now));
    let claims = claims.map_err(|rejection| format!("{rejection:?}"))?;
    parts.insert("verify", took);

    let started = Instant::now();
    let subject = app.store.token_subject(&claims, now).await;
    let subject = subject.map_err(|error| error.0)?;
    let whole = micros(started.elapsed());
    let sdk = stamps.take()?;
    let profile = subject.profile.ok_or("no profile for the token")?;
    for (name, took) in SDK_PARTS.iter().zip(&sdk) {
        parts.insert(name, *took);
    }
    // Before the first hook and after the last: the store's own work (and
    // the SDK's fluent builder, before its orchestrator starts).
    parts.insert("store", whole - sdk.iter().sum::<f64>());

    let (reply, took) = timed(|| auth::endpoint::status_reply(&profile));
    parts.insert("reply", took);
    Ok((parts, reply))
}

/// One status call in-process, part by part, from the event's parse to the
/// response document; then the handler whole, and hello's parse and response.
async fn one_call(
    app: &App<auth::store::dynamo::DynamoStore>,
    stamps: &Stamps,
    event: &str,
    hello: &str,
) -> Result<Parts, Error> {
    let (request, took) = timed(|| lambda_http::request::from_str(event));
    let request: Request = request?;
    let (mut parts, reply) = checked(app, stamps, &request).await?;
    parts.insert("parse", took);
    let (sent, took) = timed(|| respond(reply));
    sent?;
    parts.insert("respond", took);

    // The whole handler on its own, as the function runs it.
    let request = lambda_http::request::from_str(event)?;
    let started = Instant::now();
    let answer = Endpoint::Status.handle(app, request).await;
    parts.insert("handle", micros(started.elapsed()));
    stamps.take()?;
    if answer.status() != StatusCode::OK {
        return Err(format!("status answered {}", answer.status()).into());
    }

    // hello's own parse and response, for the bench to take out of its latency.
    let (request, took) = timed(|| lambda_http::request::from_str(hello));
    drop(request?);
    parts.insert("hello_parse", took);
    let (sent, took) = timed(|| respond(lambda_http::Response::new(Body::from("hello"))));
    sent?;
    parts.insert("hello_respond", took);
    Ok(parts)
}

/// As a Lambda bootstrap (started without arguments, as the emulator starts
/// one): status's handler path on the runtime's own events, so that a first
/// invoke is timed where it happens. Each invoke's parts (bearer to reply)
/// go to stderr as one line, `{"ledger": {...}}`, which the bench reads from
/// the emulator's log.
async fn serve() -> Result<(), Error> {
    auth::runtime::init_logging();
    let (app, stamps) = &ledger_app(Config::from_env()?).await;
    lambda_http::run(service_fn(move |request: Request| async move {
        let (parts, reply) = checked(app, stamps, &request).await?;
        eprintln!("{}", json!({ "ledger": parts }));
        Ok::<_, Error>(reply)
    }))
    .await
}

/// The functions' app (`lambda.rs` builds it so), its DynamoDB client with
/// the interceptor that stamps the SDK's hooks.
async fn ledger_app(config: Config) -> (App<auth::store::dynamo::DynamoStore>, Stamps) {
    let stamps = Stamps::default();
    let sdk = auth::store::dynamo::sdk_config().await;
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .interceptor(stamps.clone())
            .build(),
    );
    let store = auth::store::dynamo::DynamoStore::new(client, &config);
    (App::new(config, store), stamps)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The placeholder of events/ for an access token.
const TOKEN_PLACEHOLDER: &str = "REPLACE-WITH-A-TOKEN-FROM-LOGIN";

/// A new account's access token, from the register endpoint.
async fn registered_token(app: &App<auth::store::dynamo::DynamoStore>) -> Result<String, Error> {
    let email = format!(
        "ledger-{}-{}@example.com",
        std::process::id(),
        auth::now_millis()
    );
    let body = json!({ "email": email, "password": "the ledger's password" }).to_string();
    let mut request = Request::new(Body::Text(body));
    *request.method_mut() = lambda_http::http::Method::POST;
    *request.uri_mut() = "/auth/register".parse()?;
    let answer = Endpoint::Register.handle(app, request).await;
    let body: Value = serde_json::from_slice(answer.body())?;
    let token = body["auth_token"].as_str();
    Ok(token.ok_or(format!("register answered {body}"))?.to_owned())
}

async fn run(
    count: usize,
    pause: std::time::Duration,
    hello: &str,
    event: &str,
) -> Result<Value, Error> {
    // The functions' own log set-up: what a first call costs includes its
    // callsites' first registration with it.
    auth::runtime::init_logging();
    let config = Config::from_env()?;
    let (app, stamps) = ledger_app(config.clone()).await;
    let event = if event.contains(TOKEN_PLACEHOLDER) {
        // Registered through an app of its own (its own client and
        // connections), so that the ledger's first call is at least its
        // client's first.
        let registrar = App::new(
            config.clone(),
            auth::store::dynamo::DynamoStore::new(
                aws_sdk_dynamodb::Client::new(&auth::store::dynamo::sdk_config().await),
                &config,
            ),
        );
        event.replace(TOKEN_PLACEHOLDER, &registered_token(&registrar).await?)
    } else {
        event.to_owned()
    };
    let event = event.as_str();
    let first = one_call(&app, &stamps, event, hello).await?;
    let mut series: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for _ in 0..count {
        tokio::time::sleep(pause).await;
        for (part, took) in one_call(&app, &stamps, event, hello).await? {
            series.entry(part).or_default().push(took);
        }
    }
    // To a tenth of a µs: the clock's noise is far coarser.
    let tenth = |us: f64| json!((us * 10.0).round() / 10.0);
    let p50: Map<String, Value> = series
        .into_iter()
        .map(|(part, values)| (part.to_owned(), tenth(median(values))))
        .collect();
    let first: Map<String, Value> = first
        .into_iter()
        .map(|(part, us)| (part.to_owned(), tenth(us)))
        .collect();
    Ok(json!({ "count": count, "first": first, "p50": p50 }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        return serve().await;
    }
    let [count, pause_ms, hello, event] = args.as_slice() else {
        return Err("usage: bench-ledger COUNT PAUSE_MS HELLO_EVENT STATUS_EVENT".into());
    };
    let count: usize = count.parse()?;
    let pause = std::time::Duration::from_millis(pause_ms.parse()?);
    if count > 100_000 {
        return Err("COUNT is at most 100 000".into());
    }
    let hello = std::fs::read_to_string(hello)?;
    let event = std::fs::read_to_string(event)?;
    println!("{}", run(count, pause, &hello, &event).await?);
    Ok(())
}
