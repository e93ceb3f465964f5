use super::App;
use super::authenticate::authenticate;
use super::description::{Description, Guard, Needs};
use super::status::status_data;
use crate::credentials::one_time_code::{self, MAX_WRONG_TRIES};
use crate::credentials::required_string;
use crate::http::error::ApiError;
use crate::http::request::json_body;
use crate::http::response::{Reply, success};
use crate::mail::outbox::MailKind;
use crate::store::access::{Access, Items};
use crate::store::{
    EmailChangeAttempt, EmailChangeConfirmation, EmailChangeOutcome, Profile, Store,
};
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

pub const DESCRIPTION: Description = Description {
    function: "confirm-email-change",
    method: "POST",
    route: "/auth/email/change/confirm",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        // The login record and the pending change read together (and the
        // record again, whole, to move it); a wrong guess counted on the
        // pending change.
        &[
            Access::users("BatchGetItem", &[Items::Email, Items::Code]),
            Access::users("UpdateItem", &[Items::Code]),
        ],
        // One transaction: the change used up, the login record moved to the
        // new address (the old one and the old address's codes deleted), the
        // profile's address set and verified; then the other sessions ended.
        &[
            Access::users("DeleteItem", &[Items::Code, Items::Email]),
            Access::users("PutItem", &[Items::Email]),
            Access::users("UpdateItem", &[Items::User]),
            Access::outbox("PutItem"),
        ],
        super::session_tokens::SESSION_SWEEP,
    ],
    example_body: Some(r#"{"code": "12345678"}"#),
};

/// `POST /auth/email/change/confirm` `{"code"}`: with the code mailed to the
/// new address, makes it the account's, verified, in one transaction: of
/// two racing confirmations one wins, and a registration of the new address
/// in the meantime wins over the change (409, nothing changed). The old
/// address is free afterwards. Every other session ends; the caller's stays.
/// Codes follow recovery's rules: single use, 15 minutes, five wrong tries.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct ConfirmBody {
        code: Option<Value>,
    }
    let caller = authenticate(app, request).await?;
    let body: ConfirmBody = json_body(request)?;
    let code = required_string("code", body.code)?;
    if !one_time_code::is_code_shaped(&code) {
        return Err(ApiError::InvalidCode);
    }
    let (user_id, email) = (&caller.claims.sub, &caller.profile.email);
    let now = crate::now();
    let EmailChangeAttempt { record, pending } = app.store.email_change_attempt(email).await?;
    // No login record under the caller's address: a racing confirmation
    // moved it (or the account is being erased). The code is no longer
    // usable either way, as in recovery's `check_code`.
    let ours = record.is_some_and(|record| record.user_id == *user_id);
    let matched = pending.filter(|pending| {
        ours && pending.user_id == *user_id
            && pending.code.expires_at > now
            && pending.code.wrong_tries < MAX_WRONG_TRIES
            && app.code_key.matches(
                MailKind::EmailChange,
                &pending.new_email,
                &code,
                &pending.code.code_hash,
            )
    });
    let Some(pending) = matched else {
        app.store
            .count_wrong_code(MailKind::EmailChange, email)
            .await?;
        return Err(ApiError::InvalidCode);
    };
    let confirmation = EmailChangeConfirmation {
        user_id,
        email,
        new_email: &pending.new_email,
        code_hash: &pending.code.code_hash,
        now,
    };
    match app.store.confirm_email_change(&confirmation).await? {
        EmailChangeOutcome::Changed => {}
        // A racing confirmation won (or the account went meanwhile).
        EmailChangeOutcome::CodeGone | EmailChangeOutcome::AccountGone => {
            return Err(ApiError::InvalidCode);
        }
        EmailChangeOutcome::AddressTaken => return Err(ApiError::EmailTaken),
    }
    app.store
        .delete_sessions(user_id, Some(caller.claims.sid.as_str()))
        .await?;
    let shown = Profile {
        email: pending.new_email,
        email_verified: true,
        ..caller.profile
    };
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Email changed.", "data": status_data(&shown) }),
    ))
}
