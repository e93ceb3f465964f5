//! `GET /auth/sessions`: the handler is [`auth::Endpoint::Sessions`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::Sessions).await
}
