use super::App;
use super::authenticate::authenticate;
use super::description::{Description, Guard, Needs};
use super::status::status_data;
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
    function: "update-account",
    method: "PATCH",
    route: "/auth/user",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[&[Access::users("UpdateItem", &[Items::User])]],
    example_body: Some(r#"{"user_metadata": {"display_name": "Ann"}}"#),
};

/// `PATCH /auth/user` `{"user_metadata": {…}}`: the caller's own metadata,
/// replaced whole (a JSON object of at most 4 KB and 5 levels; 400 with the
/// reason otherwise). Answers what `GET /auth/status` shows.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct UpdateBody {
        user_metadata: Option<Value>,
    }
    let caller = authenticate(app, request).await?;
    let body: UpdateBody = json_body(request)?;
    let user_metadata = metadata::from_request("user_metadata", body.user_metadata)?;
    let profile = caller.profile;
    let change = AccountChange::UserMetadata(user_metadata.clone());
    let changed = app
        .store
        .change_account(&profile.user_id, &profile.email, change)
        .await?;
    if !changed {
        // Erased since the token check.
        return Err(ApiError::Token(crate::http::error::TokenRejection::Invalid));
    }
    let shown = Profile {
        user_metadata,
        ..profile
    };
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Account updated.", "data": status_data(&shown) }),
    ))
}
