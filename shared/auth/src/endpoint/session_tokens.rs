//! What every sign-in shares (register, login, refresh): a new session, and
//! the answer that hands out its tokens.

use super::App;
use crate::credentials::device_name;
use crate::http::error::ApiError;
use crate::http::response::{Reply, success};
use crate::roles::Roles;
use crate::store::access::{Access, Items};
use crate::store::{Session, SignIn, Store};
use crate::tokens::refresh::RefreshToken;
use lambda_http::{Request, http::StatusCode, http::header};
use serde_json::json;

/// Ending every session (or every other one) of an account: its sessions
/// listed, then deleted one by one.
pub const SESSION_SWEEP: &[Access] = &[
    Access::users("Query", &[Items::Sessions]),
    Access::users("DeleteItem", &[Items::Sessions]),
];

/// A new session for a user signing in (as `sign_in` says), and the refresh
/// token that opens it.
pub fn new_session<S: Store>(
    app: &App<S>,
    user_id: &str,
    (device, sign_in): (Option<String>, SignIn),
    request: &Request,
    now: u64,
) -> Result<(Session, RefreshToken), ApiError> {
    // Unguessable, so one user cannot aim at another's sessions even by id.
    let session_id = crate::ids::new_random_id()?;
    let refresh = RefreshToken::new(user_id, &session_id)?;
    let device = device_of(device, request);
    let session = Session {
        user_id: user_id.to_owned(),
        session_id,
        device,
        created_at: now,
        last_used_at: now,
        expires_at: now + app.config.refresh_token_ttl_seconds,
        refresh_hash: refresh.hash(),
        previous_hash: None,
        rotated_at: now,
        sign_in,
    };
    Ok((session, refresh))
}

/// The name a session is listed under: the one the client gave, else its
/// user agent's, shortened.
pub fn device_of(device: Option<String>, request: &Request) -> String {
    device
        .or_else(|| {
            let agent = request.headers().get(header::USER_AGENT)?.to_str().ok()?;
            Some(device_name(agent))
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown device".to_owned())
}

/// The answer that hands out tokens: an access token for the session (with
/// the user's role as storage has it now, and how the session was signed
/// in), and its refresh token.
pub fn tokens_reply<S: Store>(
    app: &App<S>,
    code: StatusCode,
    message: &str,
    grant: (&RefreshToken, &Roles, &SignIn),
    request: &Request,
    now: u64,
) -> Result<Reply, ApiError> {
    let mut body = tokens_body(app, grant, request, now)?;
    body["message"] = message.into();
    Ok(success(code, body))
}

/// The tokens of an answer that hands them out (see [`tokens_reply`]), for
/// an answer that adds fields of its own.
pub fn tokens_body<S: Store>(
    app: &App<S>,
    (refresh, roles, sign_in): (&RefreshToken, &Roles, &SignIn),
    request: &Request,
    now: u64,
) -> Result<serde_json::Value, ApiError> {
    let issuer = app.issuer(crate::http::request::domain_name(request))?;
    let (auth_token, _) = app.tokens.issue(
        &refresh.user_id,
        &refresh.session_id,
        roles,
        sign_in,
        &issuer,
        now,
    )?;
    Ok(json!({
        "auth_token": auth_token,
        "refresh_token": app.refresh_token_keys.encode(refresh),
        "expires_in": app.tokens.ttl_seconds(),
    }))
}
