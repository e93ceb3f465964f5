//! `GET /.well-known/jwks.json`: the handler is [`auth::Endpoint::Jwks`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::Jwks).await
}
