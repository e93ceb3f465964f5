//! `GET /admin/users/{id}`: the handler is [`auth::Endpoint::GetUser`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::GetUser).await
}
