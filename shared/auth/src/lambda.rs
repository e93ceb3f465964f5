//! The glue every function's `main` shares: configuration and clients built
//! once per cold start, then the Lambda event loop.

use crate::store::dynamo::{DynamoStore, sdk_config};
use crate::{App, Config, Endpoint};
use lambda_http::service_fn;
use std::convert::Infallible;

/// Runs `endpoint` as a Lambda function until the runtime stops it.
pub async fn serve(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    init_logging();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            // One clear line, then stop: Lambda reports the failed init.
            tracing::error!("invalid configuration: {error}");
            std::process::exit(1);
        }
    };
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let store = DynamoStore::new(client, &config);
    // Borrowed by every invocation: it lives until `run` returns, which is
    // the process's end (awslabs' `examples/http-shared-resource`).
    let app = &App::new(config, store);
    lambda_http::run(service_fn(move |request| async move {
        Ok::<_, Infallible>(endpoint.handle(app, request).await)
    }))
    .await
}

/// `lambda_http`'s default subscriber (level from `AWS_LAMBDA_LOG_LEVEL`, else
/// `RUST_LOG`, else INFO; JSON if `AWS_LAMBDA_LOG_FORMAT=json`), with one cap
/// that no directive can lift: below INFO nothing is logged from the crates
/// that then write what a request carries. `lambda_runtime` logs every raw
/// event at TRACE (bodies with passwords, headers with tokens), and the SDK's
/// runtime logs request and response bodies (password hashes) at TRACE.
fn init_logging() {
    use lambda_http::tracing::subscriber::{
        EnvFilter, filter::LevelFilter, filter::filter_fn, layer::SubscriberExt,
        util::SubscriberInitExt,
    };
    use tracing::Level;
    const CAPPED: [&str; 3] = ["lambda_runtime", "aws_smithy_runtime", "aws_sigv4"];
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
