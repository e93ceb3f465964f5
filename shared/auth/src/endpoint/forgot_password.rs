use super::App;
use super::one_time_codes::{count_mail, new_code};
use crate::credentials::{normalize_email, required_string};
use crate::error::ApiError;
use crate::outbox::MailKind;
use crate::request::json_body;
use crate::response::{Reply, success};
use crate::store::Store;
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

/// The one answer, for addresses with an account and without.
pub const FORGOT_MESSAGE: &str = "If the address has an account, a code is on its way.";

/// `POST /auth/password/forgot` `{"email"}`: mails a reset code if the address
/// has an account, and answers 202 with the same body either way. Both ways
/// take the same steps: the mail counted (one round trip), then one
/// transaction that stores the code and its mail only if the account exists.
/// The mail is sent later, from the outbox ([`crate::outbox`]).
pub async fn forgot_password<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct ForgotBody {
        email: Option<Value>,
    }
    let body: ForgotBody = json_body(request)?;
    let email = normalize_email(&required_string("email", body.email)?)?;
    let now = crate::now();
    count_mail(app, &email, request, now).await?;
    let code = new_code(app, MailKind::ResetPassword, &email, now)?;
    // `false` for an address without an account: the same answer.
    app.store.issue_code(&code).await?;
    Ok(success(
        StatusCode::ACCEPTED,
        json!({ "message": FORGOT_MESSAGE }),
    ))
}
