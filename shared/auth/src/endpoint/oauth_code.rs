use super::App;
use super::authenticate::authenticate;
use super::description::{Description, Guard, Needs};
use super::oauth::{PUT_APP_CODE, allowed_redirect, app_url, issue_app_code};
use super::password_attempt::recent_sign_in;
use super::session_tokens::device_of;
use crate::http::error::ApiError;
use crate::http::request::json_body;
use crate::http::response::{Reply, success};
use crate::oidc::pkce;
use crate::store::{SignIn, Store};
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

pub const DESCRIPTION: Description = Description {
    function: "oauth-code",
    method: "POST",
    route: "/auth/oauth/code",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[PUT_APP_CODE],
    example_body: Some(
        r#"{"redirect_to": "http://localhost:9000/account", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}"#,
    ),
};

#[derive(Deserialize)]
struct CodeBody {
    redirect_to: Option<Value>,
    code_challenge: Option<Value>,
}

/// `POST /auth/oauth/code` (Bearer) `{"redirect_to", "code_challenge"}`:
/// the account page as an app's hosted sign-in. Once the person has signed
/// in on the page (by any way), it asks here for the app's one-time code and
/// sends the browser to `{"redirect_url"}`: `redirect_to` with `code`,
/// redeemed at `POST /auth/oauth/token` with the app's verifier, as after a
/// provider's callback. The code carries the caller's `amr` and `auth_time`.
/// Only for a sign-in under 5 minutes old (403 `recent_sign_in_required`):
/// an access token alone, stolen, must not become a new long-lived session.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let caller = authenticate(app, request).await?;
    recent_sign_in(&caller.claims, crate::now())?;
    let body: CodeBody = json_body(request)?;
    let text = |value: &Option<Value>| match value {
        Some(Value::String(text)) => Some(text.clone()),
        _ => None,
    };
    let redirect_to = allowed_redirect(app, text(&body.redirect_to).as_deref())?;
    let code_challenge = text(&body.code_challenge)
        .filter(|challenge| pkce::is_valid_challenge(challenge))
        .ok_or_else(|| ApiError::bad_request("code_challenge must be the S256 of a verifier."))?;
    let sign_in = SignIn {
        amr: caller.claims.amr.clone(),
        auth_time: caller.claims.auth_time,
    };
    let device = device_of(None, request);
    let user = (caller.claims.sub.as_str(), None);
    let code = issue_app_code(app, user, &code_challenge, device, Some(sign_in)).await?;
    let url = app_url(&redirect_to, &[("code", &code)]);
    Ok(success(StatusCode::OK, json!({ "redirect_url": url.as_str() })))
}
