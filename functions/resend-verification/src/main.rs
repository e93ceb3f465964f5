//! `POST /auth/email/verify/resend`: the handler is [`auth::Endpoint::ResendVerification`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::ResendVerification).await
}
