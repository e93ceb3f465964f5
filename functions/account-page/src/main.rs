//! `GET /account`: the handler is [`auth::Endpoint::AccountPage`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::AccountPage).await
}
