use super::App;
use super::admin::{admin_action, named_profile, user_json};
use super::sessions::session_json;
use crate::http::error::ApiError;
use crate::http::response::{Reply, success};
use crate::store::Store;
use lambda_http::{Request, http::StatusCode};
use serde_json::{Value, json};
use super::description::{Description, Guard, Needs};
use crate::store::access::{Access, Items};

pub const DESCRIPTION: Description = Description {
    function: "get-user",
    method: "GET",
    route: "/admin/users/{id}",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        super::admin::NAMED_USER,
        &[Access::users("Query", &[Items::Sessions])],
    ],
    example_body: None,
};

/// `GET /admin/users/{id}`: the user, with their live sessions as the owner
/// sees them in `GET /auth/sessions` (no `current`: the admin has none of them).
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    admin_action(app, request, "get_user", |_| async {
        // The profile and the sessions together: one round trip.
        let user_id = super::admin::named_user(request)?;
        let (profile, mut sessions) =
            futures_util::future::try_join(named_profile(app, request), async {
                Ok(app.store.sessions(user_id, crate::now()).await?)
            })
            .await?;
        sessions.sort_by_key(|session| std::cmp::Reverse(session.last_used_at));
        let sessions: Vec<Value> = sessions.iter().map(session_json).collect();
        Ok(success(
            StatusCode::OK,
            json!({ "data": { "user": user_json(&profile), "sessions": sessions } }),
        ))
    })
    .await
}
