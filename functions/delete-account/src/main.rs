//! `DELETE /auth/account`: the handler is [`auth::Endpoint::DeleteAccount`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::DeleteAccount).await
}
