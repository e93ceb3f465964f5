//! The glue every function's `main` shares: configuration and clients built
//! once per cold start, then the Lambda event loop.

use crate::store::dynamo::{DynamoStore, sdk_config};
use crate::{App, Config, Endpoint};
use lambda_http::service_fn;
use std::convert::Infallible;

/// Runs `endpoint` as a Lambda function until the runtime stops it.
pub async fn serve(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
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
    // The app lives as long as the process, so it is leaked on purpose: every
    // invocation borrows it without reference counting.
    let app: &'static App<DynamoStore> = Box::leak(Box::new(App::new(config, store)));
    lambda_http::run(service_fn(move |request| async move {
        Ok::<_, Infallible>(endpoint.handle(app, request).await)
    }))
    .await
}
