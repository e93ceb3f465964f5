use super::App;
use super::mailed_codes::{check_code, email_and_code};
use crate::http::error::ApiError;
use crate::mail::outbox::MailKind;
use crate::http::request::json_body;
use crate::http::response::{Reply, success};
use crate::store::Store;
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use super::description::{Description, Guard, Needs};
use crate::store::access::{Access, Items};

pub const DESCRIPTION: Description = Description {
    function: "verify-email",
    method: "POST",
    route: "/auth/email/verify",
    guard: Guard::Public,
    needs: Needs::App,
    storage: &[
        super::mailed_codes::REDEEM_A_CODE,
        &[
            Access::users("DeleteItem", &[Items::Code]),
            Access::outbox("PutItem"),
        ],
    ],
    example_body: Some(r#"{"email": "someone@example.com", "code": "12345678"}"#),
};

/// `POST /auth/email/verify` `{"email", "code"}`: with the code mailed at
/// registration (or on request), marks the address verified. One read, one
/// transaction. No bearer token: the link in the mail may open on another
/// device than the one signed in.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct VerifyBody {
        email: Option<Value>,
        code: Option<Value>,
    }
    let body: VerifyBody = json_body(request)?;
    let (email, code) = email_and_code(body.email, body.code)?;
    let now = crate::now();
    let matched = check_code(app, MailKind::VerifyEmail, &email, &code, now).await?;
    if !app.store.verify_email(&matched.redemption()).await? {
        return Err(ApiError::InvalidCode);
    }
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Email verified." }),
    ))
}
