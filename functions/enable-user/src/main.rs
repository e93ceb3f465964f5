//! `POST /admin/users/{id}/enable`: the handler is [`auth::Endpoint::EnableUser`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::EnableUser).await
}
