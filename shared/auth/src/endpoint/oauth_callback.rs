use super::App;
use super::description::{Description, Guard, Needs};
use super::oauth::{PUT_APP_CODE, back_to_app, callback_uri, issue_app_code, provider_of};
use super::session_tokens::{device_of, new_session};
use crate::http::error::ApiError;
use crate::http::request::query_param;
use crate::http::response::Reply;
use crate::oidc::{IdClaims, pkce::Verifier};
use crate::roles::Roles;
use crate::store::access::{Access, Items};
use crate::store::{FederatedSignUp, Identity, NewUser, SignIn, Store};
use lambda_http::Request;
use url::Url;

pub const DESCRIPTION: Description = Description {
    function: "oauth-callback",
    method: "GET",
    route: "/auth/oauth/{provider}/callback",
    guard: Guard::Public,
    needs: Needs::App,
    storage: &[
        // The state, taken once.
        &[Access::users("DeleteItem", &[Items::OauthStates])],
        // The identity's account, else the address's account.
        &[Access::users("GetItem", &[Items::IdentityOwners, Items::User])],
        &[Access::users("BatchGetItem", &[Items::Email])],
        // A link: the claim and the record (the PutItem below), while the
        // account exists.
        &[Access::users("ConditionCheckItem", &[Items::User])],
        // A new account: one transaction.
        &[
            Access::users(
                "PutItem",
                &[
                    Items::User,
                    Items::Email,
                    Items::IdentityOwners,
                    Items::Identities,
                    Items::Sessions,
                ],
            ),
            Access::outbox("PutItem"),
        ],
        PUT_APP_CODE,
    ],
    example_body: None,
};

/// How a callback that got past its state ends: at the app, with a code,
/// a link made, or an error code.
enum Outcome {
    Code(String),
    Linked,
    Error(&'static str),
}

/// `GET /auth/oauth/{provider}/callback?code&state[&iss][&error]`: the
/// state taken once (unknown, used, expired, of another provider: 400, no
/// redirect); then always a 302 to the state's `redirect_to`: with a
/// one-time `code` (60 s) for `POST /auth/oauth/token`, `linked=<provider>`
/// after a link, or `error=<code>` with nothing written.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let provider = provider_of(app, request)?;
    let name = provider.settings().name.as_str();
    let state_id = query_param(request, "state")
        .filter(|state| (1..=128).contains(&state.len()))
        .ok_or(ApiError::InvalidOauthState)?;
    let state = app.store.take_oauth_state(state_id).await?;
    let now = crate::now();
    let state = state
        .filter(|state| state.provider == name && state.expires_at > now)
        .ok_or(ApiError::InvalidOauthState)?;
    let redirect_to = Url::parse(&state.redirect_to).map_err(|_| ApiError::InvalidOauthState)?;
    let outcome = match signed_in(app, request, provider, &state, now).await {
        Ok(claims) => match &state.link_user_id {
            Some(user_id) => link(app, user_id, name, &claims, now).await?,
            None => {
                let challenge = state.code_challenge.as_deref().unwrap_or_default();
                sign_in(app, request, name, &claims, challenge, now).await?
            }
        },
        Err(code) => Outcome::Error(code),
    };
    Ok(match outcome {
        Outcome::Code(code) => back_to_app(&redirect_to, &[("code", &code)]),
        Outcome::Linked => back_to_app(&redirect_to, &[("linked", name)]),
        Outcome::Error(code) => back_to_app(&redirect_to, &[("error", code)]),
    })
}

/// The provider's answer, checked: its error, RFC 9207's `iss`, the code
/// exchanged with the state's verifier, the ID token's checks.
async fn signed_in<S: Store>(
    app: &App<S>,
    request: &Request,
    provider: &crate::oidc::Provider,
    state: &crate::store::OauthState,
    now: u64,
) -> Result<IdClaims, &'static str> {
    if query_param(request, "error").is_some() {
        return Err("provider_error");
    }
    if let Some(iss) = query_param(request, "iss")
        && iss != provider.settings().issuer
    {
        return Err("issuer_mismatch");
    }
    let code = query_param(request, "code").filter(|code| !code.is_empty());
    let code = code.ok_or("provider_error")?;
    let verifier = Verifier::parse(&state.verifier).ok_or("invalid_state")?;
    let name = &provider.settings().name;
    let callback = callback_uri(app, request, name).map_err(|_| "provider_unavailable")?;
    provider
        .redeem(code, &callback, &verifier, &state.nonce, now)
        .await
        .map_err(|error| {
            tracing::warn!(provider = %name, error = error.code(), "a provider sign-in failed");
            error.code()
        })
}

fn identity(user_id: &str, provider: &str, claims: &IdClaims, now: u64) -> Result<Identity, ApiError> {
    Ok(Identity {
        id: crate::ids::new_random_id()?,
        user_id: user_id.to_owned(),
        provider: provider.to_owned(),
        sub: claims.sub.clone(),
        email: claims.email.clone(),
        linked_at: now,
    })
}

/// A link flow: the identity goes to the signed-in account whatever its email.
async fn link<S: Store>(
    app: &App<S>,
    user_id: &str,
    provider: &str,
    claims: &IdClaims,
    now: u64,
) -> Result<Outcome, ApiError> {
    match app.store.identity_owner(provider, &claims.sub).await? {
        Some(owner) if owner == user_id => return Ok(Outcome::Linked),
        Some(_) => return Ok(Outcome::Error("identity_in_use")),
        None => {}
    }
    let linked = app.store.link_identity(&identity(user_id, provider, claims, now)?).await?;
    Ok(if linked { Outcome::Linked } else { Outcome::Error("identity_in_use") })
}

/// A sign-in: the identity's account, else the address's account linked
/// (only if both the provider and the account vouch for the address), else
/// a new account; then a one-time code for the app.
async fn sign_in<S: Store>(
    app: &App<S>,
    request: &Request,
    provider: &str,
    claims: &IdClaims,
    challenge: &str,
    now: u64,
) -> Result<Outcome, ApiError> {
    let device = device_of(None, request);
    if let Some(user_id) = app.store.identity_owner(provider, &claims.sub).await? {
        return existing(app, &user_id, challenge, device).await;
    }
    let Some(email) = claims.email.as_deref() else {
        return Ok(Outcome::Error("email_required"));
    };
    let Ok(email) = crate::credentials::normalize_email(email) else {
        return Ok(Outcome::Error("email_required"));
    };
    let read = app.store.login_attempt(&email, &[], crate::now_millis()).await?;
    if let Some(record) = read.record {
        // Linked by address only when both vouch for it: else anyone could
        // pre-register a victim's address, or claim it at a lax provider.
        if !(claims.email_verified && record.email_verified) {
            return Ok(Outcome::Error("account_exists_sign_in_to_link"));
        }
        if record.disabled {
            return Ok(Outcome::Error("account_disabled"));
        }
        let identity = identity(&record.user_id, provider, claims, now)?;
        if !app.store.link_identity(&identity).await? {
            return Ok(Outcome::Error("identity_in_use"));
        }
        return existing(app, &record.user_id, challenge, device).await;
    }
    let user = NewUser {
        user_id: crate::ids::new_user_id(),
        email,
        password_hash: String::new(),
        registered_on: crate::rfc3339(now),
        roles: Roles::default(),
        email_verified: claims.email_verified,
    };
    let opened = (Some(device.clone()), SignIn::federated(now));
    let (session, _) = new_session(app, &user.user_id, opened, request, now)?;
    let identity = identity(&user.user_id, provider, claims, now)?;
    match app.store.create_federated_user(&user, &session, &identity).await? {
        FederatedSignUp::Created => {
            let opened = (user.user_id.as_str(), Some(session.session_id));
            let code = issue_app_code(app, opened, challenge, device, None).await?;
            Ok(Outcome::Code(code))
        }
        FederatedSignUp::EmailTaken => Ok(Outcome::Error("account_exists_sign_in_to_link")),
        // A parallel callback of this identity made the account.
        FederatedSignUp::IdentityTaken => match app.store.identity_owner(provider, &claims.sub).await? {
            Some(user_id) => existing(app, &user_id, challenge, device).await,
            None => Ok(Outcome::Error("identity_in_use")),
        },
    }
}

/// An existing account: refused if disabled, else a code (its session
/// opens, or its second factor is asked, when the code is redeemed).
async fn existing<S: Store>(
    app: &App<S>,
    user_id: &str,
    challenge: &str,
    device: String,
) -> Result<Outcome, ApiError> {
    match app.store.profile(user_id).await? {
        None => Ok(Outcome::Error("account_not_found")),
        Some(profile) if profile.disabled => Ok(Outcome::Error("account_disabled")),
        Some(_) => {
            let code = issue_app_code(app, (user_id, None), challenge, device, None).await?;
            Ok(Outcome::Code(code))
        }
    }
}
