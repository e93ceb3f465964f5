use super::App;
use super::authenticate::authenticate;
use super::description::{Description, Guard, Needs};
use super::password_attempt::{PASSWORD_CHECK, confirm_caller, optional_password};
use crate::credentials::totp::{Totp, qr_svg};
use crate::http::error::ApiError;
use crate::http::request::json_body;
use crate::http::response::{Reply, success};
use crate::store::Store;
use crate::store::access::{Access, Items};
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

pub const DESCRIPTION: Description = Description {
    function: "totp-enroll",
    method: "POST",
    route: "/auth/mfa/totp/enroll",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        &[Access::users("GetItem", &[Items::SecondFactor])],
        // The password checked and throttled as login's; the pending secret
        // stored only while that password holds, the check settled with it.
        PASSWORD_CHECK,
        &[
            Access::users("PutItem", &[Items::SecondFactor]),
            Access::users("ConditionCheckItem", &[Items::Email]),
            Access::users("DeleteItem", &[Items::AccountFailures]),
        ],
    ],
    example_body: Some(r#"{"password": "{password}"}"#),
};

/// `POST /auth/mfa/totp/enroll` `{"password"}`: a new TOTP secret for the
/// caller, pending until a first code confirms it (`totp-confirm`); enrolling
/// again replaces a pending one. The secret is shown this once (base32, an
/// `otpauth://` URI and its QR code) and stored only sealed.
/// An account with no password (made through a provider) sends no
/// `password`: its token's sign-in must be under 5 minutes old instead.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct EnrollBody {
        password: Option<Value>,
    }
    let caller = authenticate(app, request).await?;
    let body: EnrollBody = json_body(request)?;
    let given = optional_password(body.password)?;
    let user_id = &caller.claims.sub;
    if let Some(factor) = app.store.second_factor(user_id).await?
        && factor.on
    {
        return Err(ApiError::TotpAlreadyOn);
    }
    // An account with no password confirms with a recent sign-in instead;
    // its write then holds while the account still has none.
    let (record, attempt) = confirm_caller(app, request, &caller, given.as_deref()).await?;
    let secret = Totp::new_secret()?;
    let sealed = app.sealing_keys.seal(&totp_context(user_id), &secret)?;
    let email = &caller.profile.email;
    let no_claims = crate::throttle::Settlement {
        clear: crate::throttle::account_counter(email, app.config.account_login_failures_before_delay),
        release: Vec::new(),
    };
    let verified = match &attempt {
        Some(attempt) => attempt.verified(email, &record.password_hash),
        None => crate::store::Verified { email, password_hash: &record.password_hash, settlement: &no_claims },
    };
    if !app.store.begin_totp(user_id, &sealed, &verified).await? {
        // Turned on meanwhile (another enrolment confirmed), or the password
        // changed under the check.
        return Err(match app.store.second_factor(user_id).await? {
            Some(factor) if factor.on => ApiError::TotpAlreadyOn,
            _ => ApiError::PasswordConflict,
        });
    }
    let totp = Totp::new(&secret)?;
    let uri = totp.otpauth_uri(&app.config.totp_issuer, &caller.profile.email);
    Ok(success(
        StatusCode::OK,
        json!({
            "secret": totp.secret_base32(),
            "qr_svg": qr_svg(&uri)?,
            "otpauth_uri": uri,
        }),
    ))
}

/// What a user's TOTP secret is sealed for: it opens for that user only.
pub fn totp_context(user_id: &str) -> String {
    format!("totp:{user_id}")
}
