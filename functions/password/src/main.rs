//! `POST /auth/password`: the handler is [`auth::Endpoint::ChangePassword`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::ChangePassword).await
}
