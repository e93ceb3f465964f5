use super::App;
use super::authenticate::{Caller, authenticate};
use crate::http::error::ApiError;
use crate::http::response::{Reply, success};
use crate::store::{Session, Store};
use lambda_http::{Request, http::StatusCode};
use serde_json::{Value, json};
use super::description::{Description, Guard, Needs};
use crate::store::access::{Access, Items};

pub const DESCRIPTION: Description = Description {
    function: "sessions",
    method: "GET",
    route: "/auth/sessions",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        &[Access::users("Query", &[Items::Sessions])],
    ],
    example_body: None,
};

/// `GET /auth/sessions`: the caller's live sessions, never a token or a hash.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let Caller { claims, .. } = authenticate(app, request).await?;
    let mut sessions = app.store.sessions(&claims.sub, crate::now()).await?;
    sessions.sort_by_key(|session| std::cmp::Reverse(session.last_used_at));
    let listed: Vec<Value> = sessions
        .iter()
        .map(|session| {
            let mut shown = session_json(session);
            shown["current"] = json!(session.session_id == claims.sid);
            shown
        })
        .collect();
    Ok(success(
        StatusCode::OK,
        json!({ "data": { "sessions": listed } }),
    ))
}

/// A session as its owner sees it (and an admin, in `GET /admin/users/{id}`):
/// never a token or a hash.
pub(super) fn session_json(session: &Session) -> Value {
    json!({
        "id": session.session_id,
        "device": session.device,
        "created_at": crate::rfc3339(session.created_at),
        "last_used_at": crate::rfc3339(session.last_used_at),
        "expires_at": crate::rfc3339(session.expires_at),
    })
}
