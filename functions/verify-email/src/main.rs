//! `POST /auth/email/verify`: the handler is [`auth::Endpoint::VerifyEmail`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::VerifyEmail).await
}
