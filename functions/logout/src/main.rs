//! `POST /auth/logout`: the handler is [`auth::Endpoint::Logout`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::Logout).await
}
