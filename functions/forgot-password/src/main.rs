//! `POST /auth/password/forgot`: the handler is [`auth::Endpoint::ForgotPassword`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::ForgotPassword).await
}
