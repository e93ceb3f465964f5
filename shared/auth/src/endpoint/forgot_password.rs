use super::App;
use super::mailed_codes::{count_mail, new_code};
use crate::credentials::{normalize_email, required_string};
use crate::http::error::ApiError;
use crate::mail::outbox::MailKind;
use crate::http::request::json_body;
use crate::http::response::{Reply, success};
use crate::store::Store;
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use super::description::{Description, Guard, Needs};

/// The one answer, for addresses with an account and without.
pub const FORGOT_MESSAGE: &str = "If the address has an account, a code is on its way.";

pub const DESCRIPTION: Description = Description {
    function: "forgot-password",
    method: "POST",
    route: "/auth/password/forgot",
    guard: Guard::Public,
    needs: Needs::App,
    storage: &[
        super::mailed_codes::MAIL_A_CODE,
    ],
    example_body: Some(r#"{"email": "someone@example.com"}"#),
};

/// `POST /auth/password/forgot` `{"email"}`: mails a reset code if the address
/// has an account, and answers 202 with the same body either way. Both ways
/// take the same steps: the mail counted (one round trip), then one
/// transaction that stores the code and its mail only if the account exists.
/// The mail is sent later, from the outbox ([`crate::mail::outbox`]).
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
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
