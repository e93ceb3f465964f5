//! `POST /auth/register`: the handler is [`auth::Endpoint::Register`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::Register).await
}
