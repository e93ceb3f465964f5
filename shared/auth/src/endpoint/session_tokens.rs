//! What every sign-in shares (register, login, refresh): a new session, and
//! the answer that hands out its tokens.

use super::App;
use crate::credentials::device_name;
use crate::hook::HookSubject;
use crate::http::error::ApiError;
use crate::http::response::{Reply, success};
use crate::metadata::Metadata;
use crate::roles::Roles;
use crate::store::access::{Access, Items};
use crate::store::{Profile, Session, SignIn, Store};
use crate::tokens::refresh::RefreshToken;
use lambda_http::{Request, http::StatusCode, http::header};
use serde_json::json;

/// Ending every session (or every other one) of an account: its sessions
/// listed, then deleted one by one (or, for a change that ends them, in the
/// change's own transaction: [`ended_with_the_change`]).
pub const SESSION_SWEEP: &[Access] = &[
    Access::users("Query", &[Items::Sessions]),
    Access::users("DeleteItem", &[Items::Sessions]),
    // The `session.revoked` event, with the last delete.
    Access::outbox("PutItem"),
];

/// The ids of the sessions `listed` (of `user_id`) that a change ends in
/// its own transaction: all but `keep`. Past
/// [`crate::store::MAX_ENDED_WITH_A_CHANGE`], more than one transaction
/// holds: they are swept now, before the change ([`Store::delete_sessions`],
/// batched deletes), and none is left for it.
pub async fn ended_with_the_change<S: Store>(
    app: &App<S>,
    user_id: &str,
    listed: Vec<Session>,
    keep: Option<&str>,
) -> Result<Vec<String>, ApiError> {
    let ids: Vec<String> = (listed.into_iter())
        .map(|session| session.session_id)
        .filter(|id| Some(id.as_str()) != keep)
        .collect();
    if ids.len() <= crate::store::MAX_ENDED_WITH_A_CHANGE {
        return Ok(ids);
    }
    app.store.delete_sessions(user_id, keep).await?;
    Ok(Vec::new())
}

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

/// Reading the profile for the token hook, in the calls that do not read
/// it anyway (login, its second step): only when a hook is set.
pub const HOOK_PROFILE: &[Access] = &[Access::users("GetItem", &[Items::User])];

/// What a token is issued for: the session's refresh token, the user's roles
/// as storage has them now, how the session was signed in, and the token
/// hook's claims ([`hook_claims`]).
pub type Grant<'a> = (&'a RefreshToken, &'a Roles, &'a SignIn, Option<Metadata>);

/// The token hook's claims for `user_id`'s next token: `None` with no hook
/// (no request, no read), or for a failed hook whose policy is `skip`; a
/// 503 for one whose policy is `deny`. Asked before the call writes
/// anything, so a refusal leaves nothing behind. `known` is the user's
/// profile if the call has it; else it is read, one more round trip.
pub async fn hook_claims<S: Store>(
    app: &App<S>,
    user_id: &str,
    known: Option<&Profile>,
    amr: &[String],
    now: u64,
) -> Result<Option<Metadata>, ApiError> {
    let Some(hook) = &app.token_hook else {
        return Ok(None);
    };
    let read;
    let profile = match known {
        Some(profile) => profile,
        None => {
            // Erased since its login record was read.
            read = app
                .store
                .profile(user_id)
                .await?
                .ok_or(ApiError::LoginFailed)?;
            &read
        }
    };
    let subject = HookSubject {
        user_id,
        email: &profile.email,
        roles: profile.roles.names(),
        user_metadata: &profile.user_metadata,
        app_metadata: &profile.app_metadata,
        amr,
    };
    hook.claims(&subject, now).await
}

/// The answer that hands out tokens: an access token for the session, and
/// its refresh token.
pub fn tokens_reply<S: Store>(
    app: &App<S>,
    code: StatusCode,
    message: &str,
    grant: Grant<'_>,
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
    (refresh, roles, sign_in, claims): Grant<'_>,
    request: &Request,
    now: u64,
) -> Result<serde_json::Value, ApiError> {
    let issuer = app.issuer(crate::http::request::domain_name(request))?;
    let (auth_token, _) = app.tokens.issue_with(
        &refresh.user_id,
        &refresh.session_id,
        (roles, sign_in, claims),
        &issuer,
        now,
    )?;
    Ok(json!({
        "auth_token": auth_token,
        "refresh_token": app.refresh_token_keys.encode(refresh),
        "expires_in": app.tokens.ttl_seconds(),
    }))
}
