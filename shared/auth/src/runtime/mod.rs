//! The glue every function's `main` shares: configuration and clients built
//! once per cold start, then the Lambda event loop.
//!
//! Every `main` ([`run`]) runs tokio's current-thread runtime. A function handles one
//! event at a time, so worker threads only add wake-ups across threads to
//! each await, and their start to init; bcrypt still runs off the loop, on
//! the blocking pool. Measured side by side against the multi-thread runtime
//! (`make bench`, bench/partial-runs.md): status warm p50 0.85×, the
//! authorizer's 0.89×, INIT 0.86× and 0.81×, login and password unchanged.

use crate::config::secrets::SecretSource;
use crate::store::dynamo::{DynamoStore, sdk_config};
use crate::{App, Config, Endpoint};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
use lambda_http::{LambdaEvent, service_fn};
use std::convert::Infallible;

/// A Lambda function of the service: an endpoint, or one of the two that
/// have no route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Endpoint(Endpoint),
    /// The Lambda authorizer of the HTTP API ([`crate::endpoint::authorizer`]).
    Authorizer,
    /// The outbox table's stream consumer ([`crate::mail::sender`]).
    Mailer,
    /// The webhooks' fan-out and delivery ([`crate::webhooks`]).
    Webhooks,
}

impl Function {
    /// The function called `name` (its binary's name). A `const fn` that
    /// panics on a name of no function, so that [`crate::lambda_main!`] in a
    /// binary named after none fails to compile.
    pub const fn named(name: &str) -> Function {
        match Endpoint::named(name) {
            Some(endpoint) => Function::Endpoint(endpoint),
            None if crate::endpoint::same(name, "authorizer") => Function::Authorizer,
            None if crate::endpoint::same(name, "mailer") => Function::Mailer,
            None if crate::endpoint::same(name, "webhooks") => Function::Webhooks,
            None => panic!("no endpoint, authorizer, mailer or webhooks has this binary's name"),
        }
    }
}

/// Every function's `main` ([`crate::lambda_main!`]): tokio's current-thread
/// runtime, running the function's event loop until the runtime stops it.
pub fn run(
    function: impl std::future::Future<Output = Result<(), lambda_http::Error>>,
) -> Result<(), lambda_http::Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(function)
}

/// The whole `main` of a function's binary, `functions/src/bin/<name>.rs`:
/// the function is the one its file (the binary) is named after. The match
/// is on a constant, in the binary itself, so that an endpoint's binary does
/// not link the authorizer's and the mailer's loops (the mailer's SES client
/// had made status's bootstrap 5% larger). Every endpoint's binary still
/// holds every handler, as before the functions were one package.
#[macro_export]
macro_rules! lambda_main {
    () => {
        // mimalloc rather than glibc's malloc: allocation was an eighth of a
        // status call's instructions (docs/performance.md, CPU per call).
        // Here, in the binaries, so that tests and tools keep the default.
        #[global_allocator]
        static ALLOCATOR: $crate::runtime::mimalloc::MiMalloc = $crate::runtime::mimalloc::MiMalloc;

        fn main() -> Result<(), $crate::runtime::lambda_http::Error> {
            use $crate::runtime::{
                Function, run, serve, serve_authorizer, serve_mailer, serve_webhooks,
            };
            const FUNCTION: Function = Function::named(env!("CARGO_BIN_NAME"));
            match FUNCTION {
                Function::Endpoint(endpoint) => run(serve(endpoint)),
                Function::Authorizer => run(serve_authorizer()),
                Function::Mailer => run(serve_mailer()),
                Function::Webhooks => run(serve_webhooks()),
            }
        }
    };
}

#[doc(hidden)]
pub use lambda_http;
#[doc(hidden)]
pub use mimalloc;

/// Runs `endpoint` as a Lambda function until the runtime stops it.
pub async fn serve(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    init_logging();
    if !endpoint.needs_app() {
        // No keys and no tables: nothing to read at init, no secret to be
        // allowed (the example route behind the authorizer, discovery).
        let env = |name: &str| std::env::var(name).ok();
        let base = &crate::config::public_base_url(&env).unwrap_or_else(|error| stop(&error));
        return lambda_http::run(service_fn(move |request| async move {
            Ok::<_, Infallible>(endpoint.handle_without_app(&request, base.as_deref()))
        }))
        .await;
    }
    // Borrowed by every invocation: it lives until `run` returns, which is
    // the process's end (awslabs' `examples/http-shared-resource`).
    let app = &app(endpoint.signs()).await;
    lambda_http::run(service_fn(move |request| async move {
        Ok::<_, Infallible>(endpoint.handle(app, request).await)
    }))
    .await
}

/// Runs the Lambda authorizer ([`crate::endpoint::authorizer`]), which only verifies.
pub async fn serve_authorizer() -> Result<(), lambda_http::Error> {
    init_logging();
    let app = &app(false).await;
    lambda_http::lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2CustomAuthorizerV2Request>| async move {
            let deadline = Some(event.context.deadline);
            let answer =
                crate::endpoint::authorizer::authorize(app, &event.payload, deadline).await;
            Ok::<_, Infallible>(answer)
        },
    ))
    .await
}

/// Runs the `mailer` ([`crate::mail::sender`]) on the outbox table's stream. It
/// needs no keys: only the outbox table, SES and its own settings.
pub async fn serve_mailer() -> Result<(), lambda_http::Error> {
    use crate::mail::sender::{MailSettings, SesPostman, handle_batch, ses_client};
    init_logging();
    let env = |name: &str| std::env::var(name).ok();
    let settings = &MailSettings::from_lookup(env).unwrap_or_else(|error| stop(&error));
    let outbox_table = env("OUTBOX_TABLE")
        .filter(|table| !table.trim().is_empty())
        .unwrap_or_else(|| {
            stop(&crate::config::ConfigError(
                "OUTBOX_TABLE is required but not set".into(),
            ))
        });
    let sdk = sdk_config().await;
    let postman = &SesPostman {
        ses: ses_client(&sdk),
        store: DynamoStore::outbox_only(aws_sdk_dynamodb::Client::new(&sdk), outbox_table),
        from: settings.from.clone(),
    };
    lambda_http::lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let answer = handle_batch(&event.payload, settings, postman, crate::now()).await;
            answer.map_err(|error| {
                // Lambda retries the batch whole, then bisects it.
                tracing::error!("{error}");
                lambda_http::Error::from(error)
            })
        },
    ))
    .await
}

/// Runs the `webhooks` function ([`crate::webhooks`]): the outbox table's
/// stream fanned out to the delivery queue, and that queue's messages
/// delivered. It needs no keys and no table: its settings, the queues, and
/// the receivers' secret, deployed in a secret of its own
/// (`WEBHOOK_SECRET_ID`, whose value is the `whsec_…`), so that it can read
/// no signing key.
pub async fn serve_webhooks() -> Result<(), lambda_http::Error> {
    use crate::webhooks::delivery::{HttpPoster, deliver_batch};
    use crate::webhooks::queue::{SqsQueue, sqs_client};
    use crate::webhooks::{fan_out::fan_out, is_queue_batch, settings::WebhookSettings};
    init_logging();
    let sdk = sdk_config().await;
    let secret = crate::webhooks::settings::read_secret(&sdk)
        .await
        .unwrap_or_else(|error| stop(&error));
    let settings = &WebhookSettings::from_lookup(|name| match name {
        "WEBHOOK_SECRET" if secret.is_some() => secret.clone(),
        _ => std::env::var(name).ok(),
    })
    .unwrap_or_else(|error| stop(&error));
    let queue = &SqsQueue {
        client: sqs_client(&sdk),
        queue_url: settings.queue_url.clone(),
        dead_letter_queue_url: settings.dead_letter_queue_url.clone(),
    };
    let poster =
        &HttpPoster::new(settings).unwrap_or_else(|error| stop(&crate::config::ConfigError(error)));
    lambda_http::lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let answer = if is_queue_batch(&event.payload) {
                serde_json::to_value(
                    deliver_batch(&event.payload, settings, queue, poster, crate::now()).await,
                )
            } else {
                serde_json::to_value(fan_out(&event.payload, settings, queue).await)
            };
            answer.map_err(lambda_http::Error::from)
        },
    ))
    .await
}

/// Settings and clients, once per cold start: the keys from Secrets Manager
/// when `AUTH_SECRET_ID` names a secret (deployed), else from the environment
/// (locally). Anything missing or invalid stops the function here, with one
/// clear log line that names no secret; a function that `signs` also has the
/// current key's private half checked (see [`crate::tokens::keys`]).
async fn app(signs: bool) -> App<DynamoStore> {
    let sdk = sdk_config().await;
    let secrets = SecretSource::from_env(&sdk);
    let read = async {
        match &secrets {
            Some(source) => source.read().await.unwrap_or_else(|error| stop(&error)),
            None => Vec::new(),
        }
    };
    // The read is a network round trip (deployed, the secret's first
    // request opens its connection too): the DynamoDB client is built while
    // it is in flight, not after (issue 29, INIT as deployed).
    let (from_secret, dynamodb) = tokio::join!(read, async { aws_sdk_dynamodb::Client::new(&sdk) });
    let config = Config::from_lookup(|name| {
        from_secret
            .iter()
            .find_map(|(setting, value)| (*setting == name).then(|| value.clone()))
            .or_else(|| std::env::var(name).ok())
    })
    .unwrap_or_else(|error| stop(&error));
    if signs {
        config
            .signing_keys
            .check_signer()
            .unwrap_or_else(|error| stop(&crate::config::ConfigError(error)));
    }
    tracing::info!(keys = %config.signing_keys.summary(), "signing keys loaded");
    let store = DynamoStore::new(dynamodb, &config);
    let mut app = App::new(config, store);
    app.secrets = secrets;
    app
}

fn stop(error: &crate::config::ConfigError) -> ! {
    // One clear line, then stop: Lambda reports the failed init.
    tracing::error!("invalid configuration: {error}");
    std::process::exit(1);
}

/// `lambda_http`'s default subscriber (level from `AWS_LAMBDA_LOG_LEVEL`, else
/// `RUST_LOG`, else INFO; JSON if `AWS_LAMBDA_LOG_FORMAT=json`), with one cap
/// that no directive can lift: below INFO nothing is logged from the crates
/// that then write what a request carries. `lambda_runtime` logs every raw
/// event at TRACE (bodies with passwords, headers with tokens), the SDK's
/// runtime logs request and response bodies (password hashes) at TRACE, and
/// webauthn-rs logs credentials at DEBUG.
pub fn init_logging() {
    use lambda_http::tracing::subscriber::{
        EnvFilter, filter::LevelFilter, filter::filter_fn, layer::SubscriberExt,
        util::SubscriberInitExt,
    };
    use tracing::Level;
    // webauthn-rs (webauthn_rs, webauthn_rs_core) logs credentials and
    // ceremony data at DEBUG: nothing of a passkey ceremony is logged.
    const CAPPED: [&str; 4] = [
        "lambda_runtime",
        "aws_smithy_runtime",
        "aws_sigv4",
        "webauthn_rs",
    ];
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG"));
    let level = level
        .as_deref()
        .unwrap_or("INFO")
        .parse::<LevelFilter>()
        .unwrap_or(LevelFilter::INFO);
    let filter = EnvFilter::builder()
        .with_default_directive(level.into())
        .from_env_lossy();
    let cap = filter_fn(|metadata| {
        *metadata.level() <= Level::INFO
            || !CAPPED
                .iter()
                .any(|target| metadata.target().starts_with(target))
    });
    let subscriber = lambda_http::tracing::subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT")
        .is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    if json {
        subscriber.json().finish().with(cap).init();
    } else {
        subscriber.finish().with(cap).init();
    }
}
