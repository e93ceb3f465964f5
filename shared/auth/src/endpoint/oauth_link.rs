use super::App;
use super::authenticate::authenticate;
use super::description::{Description, Guard, Needs};
use super::oauth::{OPEN_STATE, allowed_redirect, open_state, provider_of};
use crate::http::error::ApiError;
use crate::http::request::json_body;
use crate::http::response::{Reply, success};
use crate::store::Store;
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

pub const DESCRIPTION: Description = Description {
    function: "oauth-link",
    method: "POST",
    route: "/auth/oauth/{provider}/link",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[OPEN_STATE],
    example_body: Some(r#"{"redirect_to": "http://localhost:9000/account"}"#),
};

#[derive(Deserialize)]
struct LinkBody {
    redirect_to: Option<Value>,
}

/// `POST /auth/oauth/{provider}/link` (Bearer) `{"redirect_to"}`: 200
/// `{"authorize_url"}`, the provider's page for a flow that ends at
/// `redirect_to` with `linked=<provider>`, the identity linked to the
/// caller's account whatever its email (or `error=identity_in_use` for an
/// identity linked to another account).
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let caller = authenticate(app, request).await?;
    let provider = provider_of(app, request)?;
    let body: LinkBody = json_body(request)?;
    let redirect_to = match &body.redirect_to {
        Some(Value::String(url)) => Some(url.as_str()),
        _ => None,
    };
    let redirect_to = allowed_redirect(app, redirect_to)?;
    let opened = (&redirect_to, None, Some(caller.claims.sub.clone()));
    let url = open_state(app, request, provider, opened).await?;
    Ok(success(StatusCode::OK, json!({ "authorize_url": url.as_str() })))
}
