use super::App;
use super::authenticate::{Caller, authenticate};
use super::one_time_codes::{count_mail, new_code};
use crate::error::{ApiError, TokenRejection};
use crate::outbox::MailKind;
use crate::response::{Reply, success};
use crate::store::Store;
use lambda_http::{Request, http::StatusCode};
use serde_json::json;

/// `POST /auth/email/verify/resend`, with a bearer token: mails a new
/// verification code to the caller's address (it replaces the pending one),
/// within the same hourly limits as `forgot`. 409 if the address is already
/// verified.
pub async fn resend_verification<S: Store>(
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
