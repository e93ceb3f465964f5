//! `DELETE /admin/users/{id}`: the handler is [`auth::Endpoint::DeleteUser`].

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve(auth::Endpoint::DeleteUser).await
}
