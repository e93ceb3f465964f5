use super::App;
use super::admin::{admin_action_with, named_profile, named_user};
use super::session_tokens::ended_with_the_change;
use super::description::{Description, Guard, Needs};
use crate::http::error::ApiError;
use crate::http::response::{Reply, success};
use crate::store::{Ending, Store};
use crate::store::access::{Access, Items};
use lambda_http::{Request, http::StatusCode};
use serde_json::json;

pub const DESCRIPTION: Description = Description {
    function: "disable-user",
    method: "POST",
    route: "/admin/users/{id}/disable",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        // The flag on profile and login record, and the sessions listed
        // with the named user ended, in one transaction; then the sweep.
        super::admin::NAMED_USER,
        &[
            Access::users("UpdateItem", &[Items::User, Items::Email]),
            Access::users("DeleteItem", &[Items::Sessions]),
            Access::outbox("PutItem"),
        ],
        super::session_tokens::SESSION_SWEEP,
    ],
    example_body: None,
};

/// `POST /admin/users/{id}/disable`: the user can no longer log in (403 once
/// the password is right) or refresh; every session ends, and their access
/// tokens fail their next check (the token check reads the flag).
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    // The profile, and the sessions to end with the flag, read alongside
    // the token check. Boxed: the handler's future is deep.
    let listing = async { Ok(app.store.sessions(named_user(request)?, 0).await?) };
    let reads = Box::pin(futures_util::future::try_join(named_profile(app, request), listing));
    admin_action_with(app, request, "disable_user", reads, |admin, read| async move {
        let (profile, listed) = read?;
        if profile.user_id == admin.profile.user_id {
            return Err(ApiError::OwnAdminAccount);
        }
        let ids = ended_with_the_change(app, &profile.user_id, listed, None).await?;
        let ending = Ending {
            ids: &ids,
            ..Ending::default()
        };
        let user_id = &profile.user_id;
        if !app.store.disable_account(user_id, &profile.email, ending).await? {
            return Err(ApiError::UserNotFound);
        }
        // After the flag: a login racing this one cannot open a session
        // once the flag is set (its write checks it), and this sweep ends
        // any opened between the listing and the flag.
        app.store.delete_sessions(user_id, None).await?;
        Ok(success(
            StatusCode::OK,
            json!({ "message": "User disabled." }),
        ))
    })
    .await
}
