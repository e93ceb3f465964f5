//! `POST /admin/users/{id}/sign-out`: the handler is [`auth::Endpoint::SignOutUser`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::SignOutUser).await
}
