use super::App;
use super::admin::{admin_action, change_user, named_profile, user_json};
use super::description::{Description, Guard, Needs};
use crate::http::error::ApiError;
use crate::http::request::json_body;
use crate::http::response::{Reply, success};
use crate::roles::Roles;
use crate::store::access::{Access, Items};
use crate::store::{AccountChange, Store};
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

pub const DESCRIPTION: Description = Description {
    function: "set-user-roles",
    method: "PUT",
    route: "/admin/users/{id}/roles",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        // The roles on profile and login record, together.
        super::admin::NAMED_USER,
        &[Access::users("UpdateItem", &[Items::User, Items::Email])],
    ],
    example_body: Some(r#"{"roles": ["admin", "support"]}"#),
};

/// `PUT /admin/users/{id}/roles` `{"roles": […]}`: the user's roles, replaced
/// whole (at most 20 names of `^[a-z][a-z0-9_:-]{0,63}$`; 400 otherwise).
/// An admin cannot take `admin` from themselves (409): the last admin could
/// lock everyone out. Their tokens carry the new roles from their next
/// refresh; the admin calls and the authorizer read them from storage at once.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct RolesBody {
        roles: Option<Value>,
    }
    admin_action(app, request, "set_user_roles", |admin| async move {
        let body: RolesBody = json_body(request)?;
        let roles = Roles::from_request(body.roles)?;
        let profile = named_profile(app, request).await?;
        if profile.user_id == admin.profile.user_id && !roles.is_admin() {
            return Err(ApiError::OwnAdminRole);
        }
        let change = AccountChange::Roles(roles.clone());
        change_user(app, &profile, change).await?;
        let shown = crate::store::Profile { roles, ..profile };
        Ok(success(
            StatusCode::OK,
            json!({ "message": "Roles updated.", "data": user_json(&shown) }),
        ))
    })
    .await
}
