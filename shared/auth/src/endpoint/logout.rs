use super::App;
use super::authenticate::{Caller, authenticate};
use crate::http::error::{ApiError, TokenRejection};
use crate::http::request::{bearer_token, query_param};
use crate::http::response::{Reply, success};
use crate::store::{Revocation, Store};
use lambda_http::{Request, http::StatusCode};
use serde_json::json;
use super::description::{Description, Guard, Needs};
use crate::store::access::{Access, Items};

pub const DESCRIPTION: Description = Description {
    function: "logout",
    method: "POST",
    route: "/auth/logout",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        // Revoke the token; end its session, or every (other) one.
        &[
            Access::revoked("PutItem"),
            Access::users("DeleteItem", &[Items::Sessions]),
            Access::users("Query", &[Items::Sessions]),
            // The `session.revoked` event.
            Access::outbox("PutItem"),
        ],
    ],
    example_body: None,
};

/// `POST /auth/logout[?scope=local|others|global]`.
/// - `local` (the default): one atomic write that revokes the token and ends its
///   session; no read.
/// - `others`: every other session of the user ends; this one stays.
/// - `global`: every session ends, this one too.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let scope = query_param(request, "scope").unwrap_or("local");
    if !matches!(scope, "local" | "others" | "global") {
        return Err(ApiError::bad_request(
            "scope must be local, others or global.",
        ));
    }
    let token = bearer_token(request).map_err(|rejection| match rejection {
        TokenRejection::Missing => ApiError::LogoutWithoutToken,
        other => other.into(),
    })?;
    let done = || {
        success(
            StatusCode::OK,
            json!({ "message": "Successfully logged out." }),
        )
    };
    if scope == "local" {
        let now = crate::now();
        let issuer = app.issuer(crate::http::request::domain_name(request))?;
        let claims = app.tokens.verify(token, &issuer, now)?;
        return match app.store.end_token_session(&claims, now).await? {
            Revocation::Revoked => Ok(done()),
            Revocation::AlreadyRevoked => Err(TokenRejection::Revoked.into()),
        };
    }
    let Caller { claims, .. } = authenticate(app, request).await?;
    let keep = (scope == "others").then_some(claims.sid.as_str());
    app.store.delete_sessions(&claims.sub, keep).await?;
    Ok(done())
}
