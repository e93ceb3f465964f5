//! `POST /auth/password/reset`: the handler is [`auth::Endpoint::ResetPassword`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::ResetPassword).await
}
