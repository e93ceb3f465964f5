use super::App;
use crate::store::AccountChange;
use super::admin::{admin_action, named_profile, change_user};
use super::description::{Description, Guard, Needs};
use crate::http::error::ApiError;
use crate::http::response::{Reply, success};
use crate::store::Store;
use crate::store::access::{Access, Items};
use lambda_http::{Request, http::StatusCode};
use serde_json::json;

pub const DESCRIPTION: Description = Description {
    function: "enable-user",
    method: "POST",
    route: "/admin/users/{id}/enable",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        super::admin::NAMED_USER,
        &[
            Access::users("UpdateItem", &[Items::User, Items::Email]),
            Access::outbox("PutItem"),
        ],
    ],
    example_body: None,
};

/// `POST /admin/users/{id}/enable`: undoes a disabling; the sessions it
/// ended stay ended.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    admin_action(app, request, "enable_user", |_| async {
        let profile = named_profile(app, request).await?;
        change_user(app, &profile, AccountChange::Disabled(false)).await?;
        Ok(success(
            StatusCode::OK,
            json!({ "message": "User enabled." }),
        ))
    })
    .await
}
