use super::App;
use super::description::{Description, Guard, Needs};
use super::oauth::{OPEN_STATE, allowed_redirect, open_state, provider_of, redirect};
use crate::http::error::ApiError;
use crate::http::request::{client_address, query_param};
use crate::http::response::Reply;
use crate::oidc::pkce;
use crate::store::Store;
use crate::store::access::{Access, Items};
use crate::throttle;
use lambda_http::Request;

pub const DESCRIPTION: Description = Description {
    function: "oauth-start",
    method: "GET",
    route: "/auth/oauth/{provider}/start",
    guard: Guard::Public,
    needs: Needs::App,
    storage: &[
        // The source address's hourly count: each call writes a state.
        &[Access::users("UpdateItem", &[Items::OauthStartCounts])],
        OPEN_STATE,
    ],
    example_body: None,
};

/// `GET /auth/oauth/{provider}/start?redirect_to=…&code_challenge=…`: a 302
/// to the provider's authorization endpoint with `state`, `nonce` and PKCE
/// S256 of this service's own verifier; the state (5 minutes) keeps them
/// with the app's `code_challenge` and `redirect_to`. An unknown provider,
/// a `redirect_to` not on the list, a missing or malformed `code_challenge`
/// (S256: 43 characters of base64url): 400, no redirect. Limited per source
/// address and hour (`SOURCE_OAUTH_STARTS_PER_HOUR`).
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let provider = provider_of(app, request)?;
    let redirect_to = allowed_redirect(app, query_param(request, "redirect_to"))?;
    let code_challenge = query_param(request, "code_challenge")
        .filter(|challenge| pkce::is_valid_challenge(challenge))
        .ok_or_else(|| ApiError::bad_request("code_challenge must be the S256 of a verifier."))?;
    if query_param(request, "code_challenge_method").is_some_and(|method| method != "S256") {
        return Err(ApiError::bad_request("code_challenge_method must be S256."));
    }
    let now = crate::now();
    let window = client_address(request, app.config.trusted_proxy)
        .and_then(|ip| throttle::oauth_start_counter(ip, app.config.source_oauth_starts_per_hour, now));
    if let Some((counter, window_end)) = window
        && !app.store.count_in_window(&counter, window_end).await?
    {
        let retry_after = window_end.saturating_sub(now).max(1);
        return Err(ApiError::TooManyOauthStarts { retry_after });
    }
    let opened = (&redirect_to, Some(code_challenge.to_owned()), None);
    let url = open_state(app, request, provider, opened).await?;
    Ok(redirect(url.as_str()))
}
