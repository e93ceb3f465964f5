//! `POST /auth/password`: the handler is [`auth::Endpoint::ChangePassword`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::ChangePassword).await
}
