//! The Lambda authorizer of the HTTP API: [`auth::authorizer`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve_authorizer().await
}
