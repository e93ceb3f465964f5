//! `GET /account`: the handler is [`auth::Endpoint::AccountPage`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::AccountPage).await
}
