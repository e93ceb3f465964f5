//! The Lambda authorizer of the HTTP API: [`auth::authorizer`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve_authorizer().await
}
