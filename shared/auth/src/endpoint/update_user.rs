use super::App;
use super::admin::{admin_action, change_user, named_profile, user_json};
use super::description::{Description, Guard, Needs};
use crate::http::error::ApiError;
use crate::http::request::json_body;
use crate::http::response::{Reply, success};
use crate::metadata;
use crate::store::access::{Access, Items};
use crate::store::{AccountChange, Profile, Store};
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

pub const DESCRIPTION: Description = Description {
    function: "update-user",
    method: "PATCH",
    route: "/admin/users/{id}",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        super::admin::NAMED_USER,
        &[Access::users("UpdateItem", &[Items::User])],
    ],
    example_body: Some(r#"{"app_metadata": {"plan": "pro"}}"#),
};

/// `PATCH /admin/users/{id}` `{"app_metadata": {…}}`: the user's app
/// metadata, which only admins write, replaced whole (a JSON object of at
/// most 4 KB and 5 levels; 400 with the reason otherwise). Audited.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct UpdateBody {
        app_metadata: Option<Value>,
    }
    admin_action(app, request, "update_user", |_| async {
        let body: UpdateBody = json_body(request)?;
        let app_metadata = metadata::from_request("app_metadata", body.app_metadata)?;
        let profile = named_profile(app, request).await?;
        let change = AccountChange::AppMetadata(app_metadata.clone());
        change_user(app, &profile, change).await?;
        let shown = Profile {
            app_metadata,
            ..profile
        };
        Ok(success(
            StatusCode::OK,
            json!({ "message": "User updated.", "data": user_json(&shown) }),
        ))
    })
    .await
}
