use super::App;
use super::authenticate::{Caller, authenticate};
use crate::http::error::ApiError;
use crate::http::response::{Reply, serialized};
use crate::metadata::Metadata;
use crate::store::{Profile, Store};
use lambda_http::{Request, http::StatusCode};
use serde::Serialize;
use serde_json::json;
use super::description::{Description, Guard, Needs};

pub const DESCRIPTION: Description = Description {
    function: "status",
    method: "GET",
    route: "/auth/status",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[],
    example_body: None,
};

/// `GET /auth/status`: the token's user, read together with its session and
/// revocation.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let Caller { profile, .. } = authenticate(app, request).await?;
    Ok(status_reply(&profile))
}

/// Status's answer for the token's user (also timed alone by bench/ledger):
/// `success(OK, {"data": status_data(profile)})`, the same JSON, serialized
/// straight from the profile rather than built as a `Value` first (issue 29
/// target 5). serde_json's maps sort their keys, so the fields here are in
/// that order, and the bytes are the same.
pub fn status_reply(profile: &Profile) -> Reply {
    #[derive(Serialize)]
    struct Answer<'a> {
        data: StatusData<'a>,
        status: &'static str,
    }
    let data = StatusData::of(profile);
    serialized(StatusCode::OK, &Answer { data, status: "success" })
}

/// What status shows of a user (and `PATCH /auth/user` answers with).
pub fn status_data(profile: &Profile) -> serde_json::Value {
    json!(StatusData::of(profile))
}

/// What status shows of a user, borrowed from the profile; fields in
/// alphabetical order, as a `serde_json::Map` would write them.
#[derive(Serialize)]
struct StatusData<'a> {
    admin: bool,
    app_metadata: &'a Metadata,
    email: &'a str,
    email_verified: bool,
    registered_on: &'a str,
    roles: &'a [String],
    user_id: &'a str,
    user_metadata: &'a Metadata,
}

impl<'a> StatusData<'a> {
    fn of(profile: &'a Profile) -> Self {
        StatusData {
            admin: profile.roles.is_admin(),
            app_metadata: &profile.app_metadata,
            email: &profile.email,
            email_verified: profile.email_verified,
            registered_on: &profile.registered_on,
            roles: profile.roles.names(),
            user_id: &profile.user_id,
            user_metadata: &profile.user_metadata,
        }
    }
}
