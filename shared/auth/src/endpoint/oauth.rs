//! What the sign-in with another provider's endpoints share (issue 28): the
//! provider named in the path, the state stored before the redirect, the
//! callback's URL, redirects back to the app, the one-time code.

use super::App;
use crate::http::error::ApiError;
use crate::http::request::{domain_name, path_param};
use crate::http::response::Reply;
use crate::oidc::Provider;
use crate::oidc::pkce::Verifier;
use crate::store::access::{Access, Items};
use crate::store::{
    APP_CODE_LIFETIME_SECONDS, AppCode, OauthState, STATE_LIFETIME_SECONDS, SignIn, Store,
};
use aws_lc_rs::digest;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use url::Url;

/// Storing a state before the redirect to the provider.
pub const OPEN_STATE: &[Access] = &[Access::users("PutItem", &[Items::OauthStates])];
/// Storing the one-time code handed to the app.
pub const PUT_APP_CODE: &[Access] = &[Access::users("PutItem", &[Items::AppCodes])];

/// The provider the path names (`{provider}`), if configured.
pub fn provider_of<'a, S>(app: &'a App<S>, request: &Request) -> Result<&'a Provider, ApiError> {
    path_param(request, "provider")
        .and_then(|name| app.provider(name))
        .ok_or(ApiError::UnknownProvider)
}

/// `redirect_to`, if exactly one of `ALLOWED_REDIRECT_URLS`.
pub fn allowed_redirect<S>(app: &App<S>, redirect_to: Option<&str>) -> Result<Url, ApiError> {
    redirect_to
        .and_then(|url| app.config.oidc.redirects.allows(url))
        .ok_or(ApiError::RedirectNotAllowed)
}

/// This API's callback for `provider`: the `redirect_uri` registered with it.
pub fn callback_uri<S>(
    app: &App<S>,
    request: &Request,
    provider: &str,
) -> Result<String, ApiError> {
    let base = app.issuer(domain_name(request))?;
    Ok(format!("{base}/auth/oauth/{provider}/callback"))
}

/// Stores a new state and answers the provider's authorization URL for it.
pub async fn open_state<S: Store>(
    app: &App<S>,
    request: &Request,
    provider: &Provider,
    (redirect_to, code_challenge, link_user_id): (&Url, Option<String>, Option<String>),
) -> Result<Url, ApiError> {
    let name = &provider.settings().name;
    let state = crate::ids::random_base64(32)?;
    let nonce = crate::ids::random_base64(32)?;
    let verifier = Verifier::generate()
        .map_err(|error| ApiError::Unavailable(format!("no randomness: {error}")))?;
    let callback = callback_uri(app, request, name)?;
    let now = crate::now();
    let opened = OauthState {
        provider: name.clone(),
        nonce: nonce.clone(),
        verifier: verifier.as_str().to_owned(),
        code_challenge,
        redirect_to: redirect_to.as_str().to_owned(),
        link_user_id,
        created_at: now,
        expires_at: now + STATE_LIFETIME_SECONDS,
    };
    // Stored first: a provider that does not answer leaves a state its TTL
    // deletes, and no URL is handed out for a state never stored.
    app.store.open_oauth_state(&state, &opened).await?;
    provider
        .authorization_url(&callback, &state, &nonce, &verifier.challenge())
        .await
        .map_err(|error| ApiError::Unavailable(format!("provider {name}: {error}")))
}

/// A 302 to `to`, cached by no one.
pub fn redirect(to: &str) -> Reply {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::FOUND;
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(to) {
        headers.insert(header::LOCATION, location);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The app's `redirect_to` with `pairs` added to its query (the app's own
/// query kept).
pub fn app_url(redirect_to: &Url, pairs: &[(&str, &str)]) -> Url {
    let mut url = redirect_to.clone();
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
    }
    url
}

/// A 302 back to the app's `redirect_to` with `pairs` added to its query.
pub fn back_to_app(redirect_to: &Url, pairs: &[(&str, &str)]) -> Reply {
    redirect(app_url(redirect_to, pairs).as_str())
}

/// The key a one-time code is stored under: its SHA-256, hex.
pub fn code_hash(code: &str) -> String {
    let digest = digest::digest(&digest::SHA256, code.as_bytes());
    digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Stores a one-time code for `user_id` and answers it (60 s, single use).
/// `sign_in`: a person already signed in (hosted sign-in), else `None`.
pub async fn issue_app_code<S: Store>(
    app: &App<S>,
    (user_id, session_id): (&str, Option<String>),
    code_challenge: &str,
    device: String,
    sign_in: Option<SignIn>,
) -> Result<String, ApiError> {
    let code = crate::ids::random_base64(32)?;
    let stored = AppCode {
        user_id: user_id.to_owned(),
        session_id,
        device,
        code_challenge: code_challenge.to_owned(),
        expires_at: crate::now() + APP_CODE_LIFETIME_SECONDS,
        sign_in,
    };
    app.store.put_app_code(&code_hash(&code), &stored).await?;
    Ok(code)
}
