use super::App;
use super::session_tokens::{HOOK_PROFILE, hook_claims, new_session, tokens_reply};
use crate::credentials::Credentials;
use crate::http::error::ApiError;
use crate::credentials::password;
use crate::http::response::Reply;
use super::session_tokens::device_of;
use crate::credentials::mfa_token::{self, MfaToken};
use crate::store::{Challenge, LoginRecord, SignIn, Store};
use super::password_attempt::PasswordAttempt;
use lambda_http::{Request, http::StatusCode};
use super::description::{Description, Guard, Needs};
use crate::store::access::{Access, Items};

pub const DESCRIPTION: Description = Description {
    function: "login",
    method: "POST",
    route: "/auth/login",
    guard: Guard::Public,
    needs: Needs::Signer,
    storage: &[
        super::password_attempt::PASSWORD_CHECK,
        // With a token hook: the profile it is sent.
        HOOK_PROFILE,
        // The session opens only if the verified hash still holds; a
        // success clears the account's counter.
        &[
            Access::users("ConditionCheckItem", &[Items::Email]),
            Access::users("PutItem", &[Items::Sessions]),
            Access::users("DeleteItem", &[Items::AccountFailures]),
            Access::outbox("PutItem"),
        ],
        // With a second factor on: the challenge, instead of the session.
        &[Access::users("PutItem", &[Items::SecondFactor])],
    ],
    example_body: Some(r#"{"email": "someone@example.com", "password": "{password}"}"#),
};

/// `POST /auth/login`: one read (the account and its failed-login counters)
/// with the writes claiming the attempt on the counters, sent together
/// (issue 29; past the free failures the claims follow the read), one bcrypt
/// verify (also for unknown emails), then on success one write: the new
/// session, with the attempt settled.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let credentials = Credentials::from_request(request)?;
    let email = &credentials.email;
    let now = crate::now();
    let (record, attempt) = PasswordAttempt::for_request(app, email, request).await?;
    // bcrypt runs for unknown emails too (against a dummy hash), so both take
    // the same time.
    // An account with no password (made through a provider) gets the dummy
    // hash too: refused like a wrong password, in the same time.
    let stored_hash = record
        .as_ref()
        .filter(|r| r.has_password())
        .map(|r| r.password_hash.as_str());
    let verified =
        password::verify(&credentials.password, stored_hash, app.config.bcrypt_cost).await;
    let record = match record {
        Some(record) if verified => record,
        // Already counted by the claim, unknown emails too, so counting
        // tells nothing.
        _ => return Err(ApiError::LoginFailed),
    };
    // Only now, after the password: before it, an unverified account must
    // look like any other.
    if record.disabled {
        return Err(ApiError::AccountDisabled);
    }
    if app.config.require_verified_email && !record.email_verified {
        return Err(ApiError::EmailNotVerified);
    }
    if record.mfa {
        return Err(challenge(app, &record, (email, credentials.device), &attempt, request, now).await);
    }
    let sign_in = (credentials.device, SignIn::password(now));
    let (session, refresh) = new_session(app, &record.user_id, sign_in, request, now)?;
    let claims = match hook_claims(app, &record.user_id, None, &session.sign_in.amr, now).await {
        Ok(claims) => claims,
        Err(error) => {
            attempt.give_back(&app.store).await?;
            return Err(error);
        }
    };
    if !app
        .store
        .create_session(&session, &attempt.verified(email, &record.password_hash))
        .await?
    {
        // The password changed while we checked it: the old one opens nothing.
        return Err(ApiError::LoginFailed);
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

/// The right password for an account with a second factor: no token yet, a
/// challenge to answer at `POST /auth/login/mfa` within five minutes. Its
/// `mfa_token` comes back as the error a client must handle.
async fn challenge<S: Store>(
    app: &App<S>,
    record: &LoginRecord,
    (email, device): (&str, Option<String>),
    attempt: &PasswordAttempt,
    request: &Request,
    now: u64,
) -> ApiError {
    let opened = async {
        let token = MfaToken::new(&record.user_id)?;
        let challenge = Challenge {
            user_id: record.user_id.clone(),
            email: email.to_owned(),
            device: device_of(device, request),
            wrong_tries: 0,
            expires_at: now + mfa_token::LIFETIME_SECONDS,
        };
        let verified = attempt.verified(email, &record.password_hash);
        let opened = app
            .store
            .open_challenge(&challenge, &token.hash(), &verified)
            .await?;
        Ok::<_, ApiError>(opened.then(|| token.encode()))
    };
    match opened.await {
        Ok(Some(mfa_token)) => ApiError::SecondFactorChallenge { mfa_token },
        // The password changed, or the account was disabled, meanwhile.
        Ok(None) => ApiError::LoginFailed,
        Err(error) => error,
    }
}
