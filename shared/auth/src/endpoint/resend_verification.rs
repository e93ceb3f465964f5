use super::App;
use super::authenticate::{Caller, authenticate};
use super::mailed_codes::{count_mail, new_code};
use crate::http::error::{ApiError, TokenRejection};
use crate::mail::outbox::MailKind;
use crate::http::response::{Reply, success};
use crate::store::Store;
use lambda_http::{Request, http::StatusCode};
use serde_json::json;
use super::description::{Description, Guard, Needs};

pub const DESCRIPTION: Description = Description {
    function: "resend-verification",
    method: "POST",
    route: "/auth/email/verify/resend",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        super::mailed_codes::MAIL_A_CODE,
    ],
    example_body: None,
};

/// `POST /auth/email/verify/resend`, with a bearer token: mails a new
/// verification code to the caller's address (it replaces the pending one),
/// within the same hourly limits as `forgot`. 409 if the address is already
/// verified.
pub async fn handle<S: Store>(
    app: &App<S>,
    request: &Request,
) -> Result<Reply, ApiError> {
    let Caller { profile, .. } = authenticate(app, request).await?;
    if profile.email_verified {
        return Err(ApiError::EmailAlreadyVerified);
    }
    let now = crate::now();
    count_mail(app, &profile.email, request, now).await?;
    let code = new_code(app, MailKind::VerifyEmail, &profile.email, now)?;
    if !app.store.issue_code(&code).await? {
        // The account went away since the token check.
        return Err(TokenRejection::Invalid.into());
    }
    Ok(success(
        StatusCode::ACCEPTED,
        json!({ "message": "A new verification code is on its way." }),
    ))
}
