use super::App;
use super::one_time_codes::{check_code, email_and_code};
use crate::error::ApiError;
use crate::outbox::MailKind;
use crate::request::json_body;
use crate::response::{Reply, success};
use crate::store::Store;
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

/// `POST /auth/email/verify` `{"email", "code"}`: with the code mailed at
/// registration (or on request), marks the address verified. One read, one
/// transaction. No bearer token: the link in the mail may open on another
/// device than the one signed in.
pub async fn verify_email<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
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
