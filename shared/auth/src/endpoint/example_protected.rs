//! The pattern for a route of your own API behind the Lambda authorizer: it
//! never checks a token itself, it reads what the authorizer passed on.

use crate::http::error::{ApiError, TokenRejection};
use crate::http::response::{Reply, success};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt, http::StatusCode};
use serde_json::json;
use super::description::{Description, Guard, Needs};

pub const DESCRIPTION: Description = Description {
    function: "example-protected",
    method: "GET",
    route: "/example/protected",
    guard: Guard::Authorizer,
    needs: Needs::Settings,
    storage: &[],
    example_body: None,
};

/// `GET /example/protected`: who the authorizer let through. Without an
/// authorizer's context (`cargo lambda watch` runs none; a route left
/// unprotected by mistake) it serves nobody.
pub fn handle(_public_base_url: Option<&str>, request: &Request) -> Result<Reply, ApiError> {
    let context = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.authorizer.as_ref(),
        _ => None,
    }
    .map(|authorizer| &authorizer.fields)
    .filter(|fields| fields.get("user_id").is_some_and(|id| id.is_string()))
    .ok_or(TokenRejection::Missing)?;
    let field = |name: &str| context.get(name).cloned().unwrap_or_default();
    Ok(success(
        StatusCode::OK,
        json!({ "data": {
            "user_id": field("user_id"),
            "session_id": field("session_id"),
            "email": field("email"),
            "admin": field("admin"),
            "roles": field("roles"),
            "mfa": field("mfa"),
            "amr": field("amr"),
        }}),
    ))
}
