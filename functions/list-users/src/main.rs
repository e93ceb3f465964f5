//! `GET /admin/users`: the handler is [`auth::Endpoint::ListUsers`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::ListUsers).await
}
