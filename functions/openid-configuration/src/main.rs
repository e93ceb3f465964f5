//! `GET /.well-known/openid-configuration`: the handler is [`auth::Endpoint::OpenidConfiguration`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::OpenidConfiguration).await
}
