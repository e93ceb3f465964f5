//! `POST /admin/users/{id}/disable` and `/enable`: one switch, two endpoints.

use super::App;
use super::admin::{admin_action, named_profile};
use crate::error::ApiError;
use crate::response::{Reply, success};
use crate::store::{AccountChange, Profile, Store};
use lambda_http::{Request, http::StatusCode};
use serde_json::json;

/// `POST /admin/users/{id}/disable`: the user can no longer log in (403 once
/// the password is right) or refresh; every session ends, and their access
/// tokens fail their next check (the token check reads the flag).
pub async fn disable_user<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    admin_action(app, request, "disable_user", |admin| async move {
        let profile = named_profile(app, request).await?;
        if profile.user_id == admin.profile.user_id {
            return Err(ApiError::OwnAdminAccount);
        }
        set_disabled(app, &profile, true).await?;
        // After the flag: a login racing this one cannot open a session
        // once the flag is set (its write checks it), and this sweep ends
        // any opened before.
        app.store.delete_sessions(&profile.user_id, None).await?;
        Ok(success(
            StatusCode::OK,
            json!({ "message": "User disabled." }),
        ))
    })
    .await
}

/// `POST /admin/users/{id}/enable`: undoes a disabling; the sessions it
/// ended stay ended.
pub async fn enable_user<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    admin_action(app, request, "enable_user", |_| async {
        let profile = named_profile(app, request).await?;
        set_disabled(app, &profile, false).await?;
        Ok(success(
            StatusCode::OK,
            json!({ "message": "User enabled." }),
        ))
    })
    .await
}

/// The flag on the account's profile and login record, together; 404 for an
/// account gone meanwhile.
async fn set_disabled<S: Store>(
    app: &App<S>,
    profile: &Profile,
    disabled: bool,
) -> Result<(), ApiError> {
    let change = AccountChange::Disabled(disabled);
    let changed = app
        .store
        .change_account(&profile.user_id, &profile.email, change)
        .await?;
    changed.then_some(()).ok_or(ApiError::UserNotFound)
}
