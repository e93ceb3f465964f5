use super::App;
use super::description::{Description, Guard, Needs};
use super::password_attempt::{PASSWORD_CHECK, PasswordAttempt};
use super::session_tokens::{HOOK_PROFILE, hook_claims, new_session, tokens_reply};
use super::totp_enroll::totp_context;
use crate::credentials::mfa_token::MfaToken;
use crate::credentials::one_time_code::MAX_WRONG_TRIES;
use crate::credentials::required_string;
use crate::credentials::totp::Totp;
use crate::http::error::ApiError;
use crate::mail::outbox::{MailKind, OutboxMail};
use crate::http::request::json_body;
use crate::http::response::Reply;
use crate::store::access::{Access, Items};
use crate::store::{ChallengePass, FactorUsed, SecondFactor, SignIn, Store};
use lambda_http::{Request, http::StatusCode};
use serde::Deserialize;
use serde_json::Value;

pub const DESCRIPTION: Description = Description {
    function: "login-mfa",
    method: "POST",
    route: "/auth/login/mfa",
    guard: Guard::Public,
    needs: Needs::Signer,
    storage: &[
        // The challenge and the account's factor, in one read.
        &[Access::users("BatchGetItem", &[Items::SecondFactor])],
        // With a token hook: the profile it is sent.
        HOOK_PROFILE,
        // The code claimed and throttled like a password, on the same counters.
        PASSWORD_CHECK,
        // A wrong code: one try fewer on the challenge. A right one, in one
        // transaction: the challenge used up, the step (or recovery code)
        // used, the session, the account still enabled, the attempt settled
        // (and, for a recovery code, its notice).
        &[
            Access::users("UpdateItem", &[Items::SecondFactor]),
            Access::users("DeleteItem", &[Items::SecondFactor, Items::AccountFailures]),
            Access::users("PutItem", &[Items::Sessions]),
            Access::users("ConditionCheckItem", &[Items::Email]),
            Access::outbox("PutItem"),
        ],
    ],
    // A token of our shape (none is stored under it), so storage is asked.
    example_body: Some(
        r#"{"mfa_token": "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "code": "123456"}"#,
    ),
};

/// What the client answers a challenge with.
enum Given {
    Code(String),
    RecoveryCode(String),
}

/// `POST /auth/login/mfa` `{"mfa_token", "code"}` or `{"mfa_token",
/// "recovery_code"}`: the second half of a login to an account with a second
/// factor. A right code answers as login does; a TOTP step is accepted once,
/// a recovery code used once. Wrong codes count on the account like wrong
/// passwords (429 with `Retry-After` past the free ones) and on the
/// challenge, which dies after five, after one success, or after five
/// minutes.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct ChallengeAnswer {
        mfa_token: Option<Value>,
        code: Option<Value>,
        recovery_code: Option<Value>,
    }
    let body: ChallengeAnswer = json_body(request)?;
    let token = required_string("mfa_token", body.mfa_token)?;
    let given = match (body.code, body.recovery_code) {
        (Some(code), None) => Given::Code(required_string("code", Some(code))?),
        (None, Some(code)) => Given::RecoveryCode(required_string("recovery_code", Some(code))?),
        _ => return Err(ApiError::bad_request("Give either code or recovery_code.")),
    };
    let token = MfaToken::parse(&token).ok_or(ApiError::InvalidChallenge)?;
    let (user_id, hash) = (&token.user_id, token.hash());
    let now = crate::now();
    let (challenge, factor) = app.store.challenge_attempt(user_id, &hash).await?;
    let challenge = challenge
        .filter(|challenge| challenge.expires_at > now && challenge.wrong_tries < MAX_WRONG_TRIES)
        .ok_or(ApiError::InvalidChallenge)?;
    // Turned off (an admin's reset) since the password was checked.
    let factor = factor
        .filter(|factor| factor.on)
        .ok_or(ApiError::InvalidChallenge)?;
    let email = &challenge.email;
    let (record, attempt) = PasswordAttempt::for_request(app, email, request).await?;
    let record = record
        .filter(|record| record.user_id == *user_id)
        .ok_or(ApiError::InvalidChallenge)?;
    if record.disabled {
        return Err(ApiError::AccountDisabled);
    }
    let Some(used) = factor_used(app, user_id, &factor, &given, now)? else {
        app.store.count_wrong_factor(user_id, &hash).await?;
        return Err(ApiError::InvalidCode);
    };
    let device = Some(challenge.device.clone());
    let sign_in = (device, SignIn::with_second_factor(now));
    let (session, refresh) = new_session(app, user_id, sign_in, request, now)?;
    let claims = match hook_claims(app, user_id, None, &session.sign_in.amr, now).await {
        Ok(claims) => claims,
        Err(error) => {
            attempt.give_back(&app.store).await?;
            return Err(error);
        }
    };
    let notice = matches!(used, FactorUsed::RecoveryCode(_))
        .then(|| OutboxMail::notice(MailKind::RecoveryCodeUsed, email, now));
    let pass = ChallengePass {
        email,
        challenge_hash: &hash,
        used,
        session: &session,
        settlement: attempt.settlement(),
        notice: notice.as_ref(),
        now,
    };
    if !app.store.pass_challenge(&pass).await? {
        // A parallel answer with the same code (or challenge) won, or the
        // account was disabled meanwhile.
        return Err(ApiError::InvalidCode);
    }
    tokens_reply(
        app,
        StatusCode::OK,
        "Successfully logged in.",
        (&refresh, &record.roles, &session.sign_in, claims),
        request,
        now,
    )
}

/// What a right answer uses up: the TOTP step its code matched (only one
/// later than the last accepted), or the recovery code's hash (only one not
/// used yet); `None` for a wrong answer.
fn factor_used<S>(
    app: &App<S>,
    user_id: &str,
    factor: &SecondFactor,
    given: &Given,
    now: u64,
) -> Result<Option<FactorUsed>, ApiError> {
    Ok(match given {
        Given::Code(code) => {
            let secret = app
                .sealing_keys
                .open(&totp_context(user_id), &factor.sealed_secret)
                .ok_or_else(|| ApiError::Unavailable("a stored TOTP secret does not open".into()))?;
            Totp::new(&secret)?
                .matched_step(code, now)
                .filter(|step| *step > factor.last_step)
                .map(FactorUsed::Step)
        }
        Given::RecoveryCode(code) => app
            .recovery_key
            .hash(user_id, code)
            .filter(|hash| factor.recovery_hashes.contains(hash))
            .map(FactorUsed::RecoveryCode),
    })
}
