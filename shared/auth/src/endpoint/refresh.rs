use super::App;
use super::session_tokens::{hook_claims, tokens_reply};
use crate::credentials::required_string;
use crate::http::error::ApiError;
use crate::tokens::refresh::RefreshToken;
use crate::http::request::json_body;
use crate::http::response::Reply;
use crate::store::{Profile, Session, SessionEnd, Store};
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::Value;
use super::description::{Description, Guard, Needs};
use crate::store::access::{Access, Items};

pub const DESCRIPTION: Description = Description {
    function: "refresh",
    method: "POST",
    route: "/auth/refresh",
    guard: Guard::Public,
    needs: Needs::Signer,
    storage: &[
        // Read the session with its user; rotate, or (on reuse) end the
        // session with its event; nothing else.
        &[
            Access::users("BatchGetItem", &[Items::User, Items::Sessions]),
            Access::users("UpdateItem", &[Items::Sessions]),
            Access::users("DeleteItem", &[Items::Sessions]),
            Access::outbox("PutItem"),
        ],
    ],
    example_body: Some(r#"{"refresh_token": "{refresh_token}"}"#),
};

/// `POST /auth/refresh` `{"refresh_token"}`: rotates the refresh token and
/// issues a new access token for the same session.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct RefreshBody {
        refresh_token: Option<Value>,
    }
    let body: RefreshBody = json_body(request)?;
    let raw = required_string("refresh_token", body.refresh_token)?;
    let presented = app
        .refresh_token_keys
        .parse(&raw)
        .ok_or(ApiError::RefreshRejected)?;
    let (user_id, session_id) = (&presented.user_id, &presented.session_id);
    let now = crate::now();
    // The session with its user: a deleted or disabled account refreshes
    // nothing, and the new access token carries the role the user has now.
    let read_live = || async {
        let (session, profile) = app.store.session_and_profile(user_id, session_id).await?;
        let profile = profile.filter(|profile| !profile.disabled);
        session
            .filter(|session| session.is_live(now))
            .zip(profile)
            .ok_or(ApiError::RefreshRejected)
    };

    let (session, profile) = read_live().await?;
    let presented_hash = presented.hash();
    let successor = app.refresh_token_keys.successor_of(&presented);
    // If it is not the live token: what judging it as a retry needs.
    let retry = Presented {
        hash: &presented_hash,
        successor: &successor,
        profile: &profile,
    };
    if presented_hash == session.refresh_hash {
        // Asked before the rotation, which it can still refuse.
        let claims = hook_claims(app, user_id, Some(&profile), &session.sign_in.amr, now).await?;
        let rotated = app
            .store
            .rotate_refresh(&session, &successor.hash(), now)
            .await?;
        if rotated {
            return tokens_reply(
                app,
                StatusCode::OK,
                "Token refreshed.",
                (&successor, &profile.roles, &session.sign_in, claims),
                request,
                now,
            );
        }
        // A concurrent refresh with the same token won the rotation: judge
        // this one as the retry it is, on the session as that one left it.
        let (session, _) = read_live().await?;
        return refresh_retired(app, request, &session, &retry, now).await;
    }
    refresh_retired(app, request, &session, &retry, now).await
}

/// A refresh token for a live session that is not its live one: within the
/// grace window after its own rotation it gets the same successor again.
/// Anything else is a retired (so copied) token, and ends the session.
///
/// No list of retired hashes is needed for that: the token's tag proves we
/// issued it, and a token we issued for this session that is neither the live
/// one nor the one just rotated can only be an older, retired one.
async fn refresh_retired<S: Store>(
    app: &App<S>,
    request: &Request,
    session: &Session,
    presented: &Presented<'_>,
    now: u64,
) -> Result<Reply, ApiError> {
    let just_rotated = session.previous_hash.as_deref() == Some(presented.hash)
        && now.saturating_sub(session.rotated_at) <= app.config.refresh_reuse_grace_seconds;
    if just_rotated {
        let (user_id, profile) = (&session.user_id, presented.profile);
        let claims = hook_claims(app, user_id, Some(profile), &session.sign_in.amr, now).await?;
        return tokens_reply(
            app,
            StatusCode::OK,
            "Token refreshed.",
            (presented.successor, &profile.roles, &session.sign_in, claims),
            request,
            now,
        );
    }
    tracing::warn!(session = %session.session_id, "refresh token reused; session ended");
    app.store
        .delete_session(&session.user_id, &session.session_id, now, SessionEnd::RefreshReused)
        .await?;
    Err(ApiError::RefreshReused)
}

/// A presented refresh token: its hash, the successor it would rotate to,
/// and its user's profile.
struct Presented<'a> {
    hash: &'a str,
    successor: &'a RefreshToken,
    profile: &'a Profile,
}
