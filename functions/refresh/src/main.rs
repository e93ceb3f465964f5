//! `POST /auth/refresh`: the handler is [`auth::Endpoint::Refresh`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::Refresh).await
}
