//! A lambda_http hello-world: what any Rust function pays before its own code.
//! Like cargo lambda's template it sets up the default tracing subscriber,
//! which the real functions do too.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    lambda_http::run(service_fn(|_request: Request| async {
        Ok::<_, Error>(Response::new(Body::from("hello")))
    }))
    .await
}
