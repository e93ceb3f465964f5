//! `GET /auth/status`: the handler is [`auth::Endpoint::Status`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::Status).await
}
