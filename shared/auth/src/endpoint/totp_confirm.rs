use super::App;
use super::authenticate::{Caller, authenticate};
use super::description::{Description, Guard, Needs};
use super::session_tokens::{SESSION_SWEEP, hook_claims, tokens_body};
use super::totp_enroll::totp_context;
use crate::credentials::recovery_codes;
use crate::credentials::required_string;
use crate::credentials::totp::Totp;
use crate::http::error::ApiError;
use crate::mail::outbox::{MailKind, OutboxMail};
use crate::http::request::json_body;
use crate::http::response::{Reply, success};
use crate::store::access::{Access, Items};
use crate::store::{SignIn, Store, TotpConfirmation};
use crate::tokens::refresh::RefreshToken;
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

pub const DESCRIPTION: Description = Description {
    function: "totp-confirm",
    method: "POST",
    route: "/auth/mfa/totp/confirm",
    guard: Guard::Bearer,
    needs: Needs::Signer,
    storage: &[
        &[Access::users("GetItem", &[Items::SecondFactor])],
        // One transaction: the factor on, the login record's copy, the
        // caller's session signed in with the second factor, the notice.
        &[
            Access::users(
                "UpdateItem",
                &[Items::SecondFactor, Items::Email, Items::Sessions],
            ),
            Access::outbox("PutItem"),
        ],
        // Every other session ends: it was signed in without the factor.
        SESSION_SWEEP,
    ],
    example_body: Some(r#"{"code": "123456"}"#),
};

/// `POST /auth/mfa/totp/confirm` `{"code"}`: the first code from the
/// authenticator turns TOTP on. Answers the ten recovery codes (shown this
/// once, stored only as keyed hashes) and fresh tokens for this session,
/// signed in with the second factor now; every other session of the account
/// ends, since it was not.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct ConfirmBody {
        code: Option<Value>,
    }
    let caller = authenticate(app, request).await?;
    let body: ConfirmBody = json_body(request)?;
    let code = required_string("code", body.code)?;
    let user_id = &caller.claims.sub;
    let factor = match app.store.second_factor(user_id).await? {
        Some(factor) if factor.on => return Err(ApiError::TotpAlreadyOn),
        Some(factor) => factor,
        None => return Err(ApiError::NoTotpPending),
    };
    let secret = app
        .sealing_keys
        .open(&totp_context(user_id), &factor.sealed_secret)
        .ok_or_else(|| ApiError::Unavailable("a stored TOTP secret does not open".into()))?;
    let now = crate::now();
    let step = Totp::new(&secret)?
        .matched_step(&code, now)
        .filter(|step| *step > factor.last_step)
        .ok_or(ApiError::InvalidCode)?;
    let (codes, hashes) = new_recovery_set(app, user_id)?;
    let refresh = RefreshToken::new(user_id, &caller.claims.sid)?;
    let sign_in = SignIn::with_second_factor(now);
    let claims = hook_claims(app, user_id, Some(&caller.profile), &sign_in.amr, now).await?;
    let confirmation = TotpConfirmation {
        user_id,
        email: &caller.profile.email,
        sealed_secret: &factor.sealed_secret,
        step,
        recovery_hashes: &hashes,
        session_id: &caller.claims.sid,
        sign_in: &sign_in,
        refresh_hash: &refresh.hash(),
        notice: &OutboxMail::notice(MailKind::TotpOn, &caller.profile.email, now),
        now,
    };
    if !app.store.confirm_totp(&confirmation).await? {
        // A parallel confirmation won, or a new enrolment replaced the secret.
        return Err(match app.store.second_factor(user_id).await? {
            Some(factor) if factor.on => ApiError::TotpAlreadyOn,
            _ => ApiError::InvalidCode,
        });
    }
    app.store
        .delete_sessions(user_id, Some(&caller.claims.sid))
        .await?;
    let grant = (&refresh, &caller.profile.roles, &sign_in, claims);
    let mut answer = tokens_body(app, grant, request, now)?;
    answer["message"] = "Two-step sign-in is on.".into();
    answer["recovery_codes"] = json!(codes);
    Ok(success(StatusCode::OK, answer))
}

/// A new set of recovery codes for `user_id`: as shown once, and as stored.
pub fn new_recovery_set<S>(
    app: &App<S>,
    user_id: &str,
) -> Result<(Vec<String>, Vec<String>), ApiError> {
    let codes = recovery_codes::new_set()?;
    let hashes = codes
        .iter()
        .map(|code| app.recovery_key.hash(user_id, code))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| ApiError::Unavailable("a new recovery code does not parse".into()))?;
    Ok((codes, hashes))
}

/// The step-up of the factor's own calls (new recovery codes, turning it
/// off): the caller's TOTP is on (409 otherwise), and the token's sign-in
/// used it (403 otherwise).
pub async fn factor_on_and_used<S: Store>(app: &App<S>, caller: &Caller) -> Result<(), ApiError> {
    let on = app
        .store
        .second_factor(&caller.claims.sub)
        .await?
        .is_some_and(|factor| factor.on);
    if !on {
        return Err(ApiError::TotpNotOn);
    }
    if !caller.claims.has_mfa() {
        return Err(ApiError::SecondFactorRequired);
    }
    Ok(())
}
