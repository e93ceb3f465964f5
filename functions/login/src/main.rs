//! `POST /auth/login`: the handler is [`auth::Endpoint::Login`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::Login).await
}
