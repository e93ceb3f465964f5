use super::App;
use super::authenticate::authenticate;
use super::erasure::{erase, listed};
use super::password_attempt::{confirm_caller_with, optional_password};
use crate::http::error::ApiError;
use crate::http::request::json_body;
use crate::http::response::{Reply, success};
use crate::store::Store;
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use super::description::{Description, Guard, Needs};

pub const DESCRIPTION: Description = Description {
    function: "delete-account",
    method: "DELETE",
    route: "/auth/account",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        // The password checked and throttled as login's.
        super::password_attempt::PASSWORD_CHECK,
        super::session_tokens::SESSION_SWEEP,
        super::erasure::ERASURE,
    ],
    example_body: Some(r#"{"password": "{password}"}"#),
};

/// `DELETE /auth/account` `{"password"}`: the owner erases their account
/// ([`erase`]), as an admin's delete does. The password is checked and
/// throttled like a login's, so a stolen access token alone erases nothing.
/// An admin is refused (409): demoted first (`make demote-admin`), so that
/// no deployment loses its last admin by accident.
/// An account with no password (made through a provider) sends no
/// `password`: its token's sign-in must be under 5 minutes old instead.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct DeleteBody {
        password: Option<Value>,
    }
    let caller = authenticate(app, request).await?;
    let body: DeleteBody = json_body(request)?;
    let given = optional_password(body.password)?;
    let profile = &caller.profile;
    if profile.roles.is_admin() {
        return Err(ApiError::OwnAdminAccount);
    }
    // The sessions and passkeys to erase, listed alongside the password
    // check (or, for an account with no password, the recent sign-in's).
    let listing = listed(app, &profile.user_id);
    // Boxed: the handler's future is deep, and this adds to it.
    let check = confirm_caller_with(app, request, &caller, given.as_deref(), listing);
    let (record, attempt, listed) = Box::pin(check).await?;
    let verified = (attempt.as_ref())
        .map(|attempt| attempt.verified(&profile.email, &record.password_hash));
    if !Box::pin(erase(app, profile, verified.as_ref(), listed)).await? {
        // The password changed while we checked it (or the account went).
        return Err(ApiError::PasswordConflict);
    }
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Account deleted." }),
    ))
}
