use super::App;
use super::authenticate::authenticate;
use super::description::{Description, Guard, Needs};
use super::mailed_codes::{count_mail, new_code};
use super::password_attempt::{PASSWORD_CHECK, confirm_caller};
use crate::credentials::{check_password, normalize_email, required_string};
use crate::http::error::ApiError;
use crate::http::request::json_body;
use crate::http::response::{Reply, success};
use crate::mail::outbox::{MailKind, OutboxMail};
use crate::store::access::{Access, Items};
use crate::store::{EmailChangeRequest, Store};
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

/// The one answer, whether or not the new address has an account.
pub const EMAIL_CHANGE_MESSAGE: &str = "A code is on its way to the new address.";

pub const DESCRIPTION: Description = Description {
    function: "change-email",
    method: "POST",
    route: "/auth/email/change",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        // The hourly mail counters (counters, as the password's); the
        // password checked and throttled as login's; whether the new address
        // has an account (its login record, read as login reads it).
        PASSWORD_CHECK,
        // One transaction: the account (and the checked password) still
        // there, the pending change replaced (or dropped), the code to the
        // new address, the notice to the old one, the check settled.
        &[
            Access::users("ConditionCheckItem", &[Items::Email]),
            Access::users("PutItem", &[Items::Code]),
            Access::users("DeleteItem", &[Items::Code, Items::AccountFailures]),
            Access::outbox("PutItem"),
        ],
    ],
    example_body: Some(r#"{"new_email": "someone.else@example.com", "password": "{password}"}"#),
};

/// `POST /auth/email/change` `{"new_email", "password"}`: mails a code to
/// the new address, and a notice to the current one; the change waits for
/// the code (`confirm-email-change`). Step-up, and the password asked again,
/// checked and throttled as at login (an account without a password: a
/// sign-in under 5 minutes old instead). The mails count against the hourly
/// limits of `forgot` (the new address's, the source's).
///
/// An address that already has an account answers the same 202, and gets no
/// mail: the call tells nobody which addresses have accounts. (The notice
/// still goes to the current address; the pending change, if any, is
/// dropped.) Both ways take the same steps: the counters, the password, one
/// read of the new address, one transaction.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct ChangeBody {
        new_email: Option<Value>,
        password: Option<Value>,
    }
    let caller = authenticate(app, request).await?;
    let body: ChangeBody = json_body(request)?;
    let new_email = new_address(body.new_email)?;
    let given = match body.password {
        None | Some(Value::Null) => None,
        password => Some(required_string("password", password)?),
    };
    if let Some(given) = &given {
        check_password(given)?;
    }
    let email = &caller.profile.email;
    if new_email == *email {
        return Err(ApiError::bad_request(
            "new_email is already the account's address.",
        ));
    }
    let now = crate::now();
    count_mail(app, &new_email, request, now).await?;
    let (record, attempt) = confirm_caller(app, request, &caller, given.as_deref()).await?;
    let taken = app
        .store
        .login_attempt(&new_email, &[], crate::now_millis())
        .await?
        .record
        .is_some();
    let code = match taken {
        true => None,
        false => Some(new_code(app, MailKind::EmailChange, &new_email, now)?),
    };
    let notice = OutboxMail::notice(MailKind::EmailChangeRequested, email, now);
    let verified = attempt
        .as_ref()
        .map(|attempt| attempt.verified(email, &record.password_hash));
    let change = EmailChangeRequest {
        user_id: &caller.claims.sub,
        email,
        code: code.as_ref(),
        notice: &notice,
        verified: verified.as_ref(),
    };
    if !app.store.start_email_change(&change).await? {
        // The password changed under the check (or the account went).
        return Err(ApiError::PasswordConflict);
    }
    Ok(success(
        StatusCode::ACCEPTED,
        json!({ "message": EMAIL_CHANGE_MESSAGE }),
    ))
}

/// The new address, normalised as at registration; its errors name the field.
fn new_address(value: Option<Value>) -> Result<String, ApiError> {
    let raw = required_string("new_email", value)?;
    normalize_email(&raw).map_err(|error| match error {
        ApiError::BadRequest(message) => match message.strip_prefix("email ") {
            Some(rest) => ApiError::BadRequest(format!("new_email {rest}")),
            None => ApiError::BadRequest(message),
        },
        other => other,
    })
}
