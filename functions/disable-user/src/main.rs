//! `POST /admin/users/{id}/disable`: the handler is [`auth::Endpoint::DisableUser`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::DisableUser).await
}
