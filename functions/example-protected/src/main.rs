//! `GET /example/protected`: the handler is [`auth::Endpoint::ExampleProtected`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::ExampleProtected).await
}
