use super::App;
use super::oauth::code_hash;
use super::session_tokens::{HOOK_PROFILE, hook_claims, new_session, tokens_reply};
use super::description::{Description, Guard, Needs};
use crate::credentials::mfa_token::{self, MfaToken};
use crate::http::error::ApiError;
use crate::http::request::json_body;
use crate::http::response::Reply;
use crate::oidc::pkce;
use crate::store::access::{Access, Items};
use crate::store::{Challenge, Store, Verified};
use crate::throttle::Settlement;
use crate::tokens::refresh::RefreshToken;
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::Value;

pub const DESCRIPTION: Description = Description {
    function: "oauth-token",
    method: "POST",
    route: "/auth/oauth/token",
    guard: Guard::Public,
    needs: Needs::Signer,
    storage: &[
        // The code, taken once.
        &[Access::users("DeleteItem", &[Items::AppCodes])],
        // The account, and its session if the sign-in made it.
        &[Access::users("GetItem", &[Items::User])],
        &[Access::users("BatchGetItem", &[Items::User, Items::Sessions, Items::Email])],
        HOOK_PROFILE,
        // A new account's session: its first refresh token.
        &[Access::users("UpdateItem", &[Items::Sessions])],
        // Else a session, only while the account is as read; or with TOTP
        // on, the challenge.
        &[
            Access::users("ConditionCheckItem", &[Items::Email]),
            Access::users("PutItem", &[Items::Sessions, Items::SecondFactor]),
            Access::users("DeleteItem", &[Items::AccountFailures]),
            Access::outbox("PutItem"),
        ],
    ],
    example_body: Some(
        r#"{"code": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"}"#,
    ),
};

#[derive(Deserialize)]
struct TokenBody {
    code: Option<Value>,
    code_verifier: Option<Value>,
}

/// `POST /auth/oauth/token` `{"code", "code_verifier"}`: redeems the
/// one-time code of a sign-in with a provider. The code is used up by the
/// first try, right or wrong. 200 with the login's body, `amr` `["fed"]`;
/// for an account with TOTP on, 401 with an `mfa_token` exactly as `POST
/// /auth/login` answers, finished at `POST /auth/login/mfa`. A hosted
/// sign-in's code (`POST /auth/oauth/code`) carries the page's sign-in: its
/// `amr` and `auth_time`, and no second challenge.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let body: TokenBody = json_body(request)?;
    let code = crate::credentials::required_string("code", body.code)?;
    let verifier = crate::credentials::required_string("code_verifier", body.code_verifier)?;
    if code.len() > 128 {
        return Err(ApiError::InvalidOauthCode);
    }
    let now = crate::now();
    let stored = app.store.take_app_code(&code_hash(&code)).await?;
    let stored = stored
        .filter(|stored| stored.expires_at > now)
        .ok_or(ApiError::InvalidOauthCode)?;
    if !pkce::verify(&stored.code_challenge, &verifier) {
        return Err(ApiError::CodeVerifierMismatch);
    }
    let user_id = &stored.user_id;
    if let Some(session_id) = &stored.session_id {
        // A new account: its session opened with it.
        let (session, profile) = app.store.session_and_profile(user_id, session_id).await?;
        let (Some(session), Some(profile)) = (session, profile) else {
            return Err(ApiError::InvalidOauthCode);
        };
        if profile.disabled {
            return Err(ApiError::AccountDisabled);
        }
        if app.config.require_verified_email && !profile.email_verified {
            return Err(ApiError::EmailNotVerified);
        }
        let refresh = RefreshToken::new(user_id, session_id)?;
        let claims = hook_claims(app, user_id, Some(&profile), &session.sign_in.amr, now).await?;
        if !app.store.rotate_refresh(&session, &refresh.hash(), now).await? {
            return Err(ApiError::InvalidOauthCode);
        }
        let grant = (&refresh, &profile.roles, &session.sign_in, claims);
        return tokens_reply(app, StatusCode::OK, "Successfully logged in.", grant, request, now);
    }
    let profile = app.store.profile(user_id).await?.ok_or(ApiError::InvalidOauthCode)?;
    let read = app.store.login_attempt(&profile.email, &[], crate::now_millis()).await?;
    let record = read
        .record
        .filter(|record| record.user_id == *user_id)
        .ok_or(ApiError::InvalidOauthCode)?;
    if record.disabled {
        return Err(ApiError::AccountDisabled);
    }
    if app.config.require_verified_email && !record.email_verified {
        return Err(ApiError::EmailNotVerified);
    }
    let account = crate::throttle::account_counter(
        &profile.email,
        app.config.account_login_failures_before_delay,
    );
    let settlement = Settlement {
        clear: account,
        release: Vec::new(),
    };
    // Holds only while the account is as read (its password, not disabled).
    let verified = Verified {
        email: &profile.email,
        password_hash: &record.password_hash,
        settlement: &settlement,
    };
    // A hosted sign-in's code: the page already asked for the second factor.
    if record.mfa && stored.sign_in.is_none() {
        let token = MfaToken::new(user_id)?;
        let challenge = Challenge {
            user_id: user_id.clone(),
            email: profile.email.clone(),
            device: stored.device.clone(),
            wrong_tries: 0,
            expires_at: now + mfa_token::LIFETIME_SECONDS,
        };
        if !app.store.open_challenge(&challenge, &token.hash(), &verified).await? {
            return Err(ApiError::InvalidOauthCode);
        }
        return Err(ApiError::SecondFactorChallenge { mfa_token: token.encode() });
    }
    let how = (stored.sign_in.clone()).unwrap_or_else(|| crate::store::SignIn::federated(now));
    let sign_in = (Some(stored.device.clone()), how);
    let (session, refresh) = new_session(app, user_id, sign_in, request, now)?;
    let claims = hook_claims(app, user_id, Some(&profile), &session.sign_in.amr, now).await?;
    if !app.store.create_session(&session, &verified).await? {
        return Err(ApiError::InvalidOauthCode);
    }
    let grant = (&refresh, &record.roles, &session.sign_in, claims);
    tokens_reply(app, StatusCode::OK, "Successfully logged in.", grant, request, now)
}
