//! `DELETE /auth/sessions/{id}`: the handler is [`auth::Endpoint::RevokeSession`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::RevokeSession).await
}
