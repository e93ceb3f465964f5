//! The outbox table's stream consumer: sends each new mail through Amazon SES
//! (no route; see [`auth::mailer`]).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    auth::lambda::serve_mailer().await
}
