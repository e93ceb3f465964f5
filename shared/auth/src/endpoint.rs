//! The API: one [`Endpoint`] per Lambda function, each with its route and handler.

use crate::credentials::{Credentials, check_password, device_name, required_string};
use crate::error::{ApiError, TokenRejection};
use crate::refresh::{RefreshKeys, RefreshToken};
use crate::request::{bearer_token, json_body, source_ip};
use crate::response::{Reply, success};
use crate::store::{LoginAttempt, NewUser, Profile, Registration, Revocation, Session, Store};
use crate::token::{Claims, Tokens, random_token};
use crate::{Config, password, throttle};
use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use lambda_http::{Request, RequestExt, http::StatusCode, http::header};
use serde::Deserialize;
use serde_json::{Value, json};

/// 16 random bytes name a session: unguessable, so one user cannot aim at
/// another's sessions even by id.
const SESSION_ID_BYTES: usize = 16;

/// What every handler needs, built once per cold start.
pub struct App<S> {
    pub config: Config,
    pub tokens: Tokens,
    pub refresh_keys: RefreshKeys,
    pub store: S,
}

impl<S: Store> App<S> {
    pub fn new(config: Config, store: S) -> Self {
        let tokens = Tokens::new(&config.jwt_secret, config.access_token_ttl_seconds);
        let refresh_keys = RefreshKeys::new(&config.jwt_secret);
        Self {
            config,
            tokens,
            refresh_keys,
            store,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Register,
    Login,
    Status,
    Logout,
    Refresh,
    Sessions,
    RevokeSession,
    ChangePassword,
}

impl Endpoint {
    pub const ALL: [Endpoint; 8] = [
        Self::Register,
        Self::Login,
        Self::Status,
        Self::Logout,
        Self::Refresh,
        Self::Sessions,
        Self::RevokeSession,
        Self::ChangePassword,
    ];

    /// The function's name: its package in `functions/`, its binary, and its
    /// name in the `cargo lambda watch` router.
    pub fn function_name(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Login => "login",
            Self::Status => "status",
            Self::Logout => "logout",
            Self::Refresh => "refresh",
            Self::Sessions => "sessions",
            Self::RevokeSession => "revoke-session",
            Self::ChangePassword => "password",
        }
    }

    /// Method and path, as API Gateway routes them (`{id}` is a path parameter).
    pub fn route(self) -> (&'static str, &'static str) {
        match self {
            Self::Register => ("POST", "/auth/register"),
            Self::Login => ("POST", "/auth/login"),
            Self::Status => ("GET", "/auth/status"),
            Self::Logout => ("POST", "/auth/logout"),
            Self::Refresh => ("POST", "/auth/refresh"),
            Self::Sessions => ("GET", "/auth/sessions"),
            Self::RevokeSession => ("DELETE", "/auth/sessions/{id}"),
            Self::ChangePassword => ("POST", "/auth/password"),
        }
    }

    /// Answers one request. Every error becomes its HTTP answer here, and
    /// nowhere else. Under Lambda the answer comes before the invocation's
    /// deadline: a call still waiting on storage then gets our 503, not the
    /// gateway's bare error after Lambda kills it.
    pub async fn handle<S: Store>(self, app: &App<S>, request: Request) -> Reply {
        let answer = self.answer(app, &request);
        let result = match time_left(&request) {
            Some(budget) => tokio::time::timeout(budget, answer)
                .await
                .unwrap_or_else(|_| {
                    Err(ApiError::Unavailable(
                        "the invocation's deadline came".into(),
                    ))
                }),
            None => answer.await,
        };
        result.unwrap_or_else(ApiError::into_reply)
    }

    async fn answer<S: Store>(self, app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
        match self {
            Self::Register => register(app, request).await,
            Self::Login => login(app, request).await,
            Self::Status => status(app, request).await,
            Self::Logout => logout(app, request).await,
            Self::Refresh => refresh(app, request).await,
            Self::Sessions => sessions(app, request).await,
            Self::RevokeSession => revoke_session(app, request).await,
            Self::ChangePassword => change_password(app, request).await,
        }
    }
}

/// Room left before the invocation's deadline for writing the 503 itself.
const DEADLINE_MARGIN_MS: u64 = 500;

/// How long the handler may take: up to the Lambda deadline less a margin;
/// `None` outside Lambda, or with a deadline too close or absent to go by.
fn time_left(request: &Request) -> Option<std::time::Duration> {
    let deadline = request.lambda_context_ref()?.deadline;
    let left = deadline
        .checked_sub(crate::now_millis())?
        .checked_sub(DEADLINE_MARGIN_MS)?;
    (left > 0).then(|| std::time::Duration::from_millis(left))
}

/// A caller whose access token passed every check.
struct Caller {
    claims: Claims,
    profile: Profile,
}

/// The token check of every protected endpoint: signature and claims, then one
/// storage read for the user, the token's session and its revocation together.
async fn authenticate<S: Store>(app: &App<S>, request: &Request) -> Result<Caller, ApiError> {
    let now = crate::now();
    let claims = app.tokens.verify(bearer_token(request)?, now)?;
    let subject = app
        .store
        .token_subject(&claims.sub, &claims.sid, &claims.jti, now)
        .await?;
    if subject.revoked || !subject.session_live {
        return Err(TokenRejection::Revoked.into());
    }
    // A valid signature for a user who no longer exists is still no valid token.
    let profile = subject.profile.ok_or(TokenRejection::Invalid)?;
    Ok(Caller { claims, profile })
}

/// A new session for a user signing in, and the refresh token that opens it.
fn new_session<S: Store>(
    app: &App<S>,
    user_id: &str,
    device: Option<String>,
    request: &Request,
    now: u64,
) -> Result<(Session, RefreshToken), ApiError> {
    let session_id = random_token(SESSION_ID_BYTES)?;
    let refresh = RefreshToken::new(user_id, &session_id)?;
    let device = device
        .or_else(|| {
            let agent = request.headers().get(header::USER_AGENT)?.to_str().ok()?;
            Some(device_name(agent))
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown device".to_owned());
    let session = Session {
        user_id: user_id.to_owned(),
        session_id,
        device,
        created_at: now,
        last_used_at: now,
        expires_at: now + app.config.refresh_token_ttl_seconds,
        refresh_hash: refresh.hash(),
        previous_hash: None,
        rotated_at: now,
    };
    Ok((session, refresh))
}

/// The answer that hands out tokens: an access token for the session, and its
/// refresh token.
fn tokens_reply<S: Store>(
    app: &App<S>,
    code: StatusCode,
    message: &str,
    refresh: &RefreshToken,
    now: u64,
) -> Result<Reply, ApiError> {
    let (auth_token, _) = app
        .tokens
        .issue(&refresh.user_id, &refresh.session_id, now)?;
    Ok(success(
        code,
        json!({
            "message": message,
            "auth_token": auth_token,
            "refresh_token": app.refresh_keys.encode(refresh),
            "expires_in": app.tokens.ttl_seconds(),
        }),
    ))
}

/// `POST /auth/register`: one transactional write (user, email, first session).
async fn register<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let Credentials {
        email,
        password,
        device,
    } = Credentials::from_request(request)?;
    // Hashing comes before the write even when the email turns out to be taken,
    // so "taken" and "created" cost the same time.
    let password_hash = password::hash(&password, app.config.bcrypt_cost).await?;
    let now = crate::now();
    let user = NewUser {
        user_id: uuid::Uuid::new_v4().to_string(),
        email,
        password_hash,
        registered_on: rfc3339(now),
    };
    let (session, refresh) = new_session(app, &user.user_id, device, request, now)?;
    if app.store.create_user(&user, &session).await? == Registration::EmailTaken {
        return Err(ApiError::UserExists);
    }
    tokens_reply(
        app,
        StatusCode::CREATED,
        "Successfully registered.",
        &refresh,
        now,
    )
}

/// A password check under the brute-force throttle ([`throttle`]), for login
/// and password change alike.
struct PasswordAttempt {
    /// The account's counter first, then the source address's, if known.
    counters: Vec<throttle::Counter>,
    failures: Vec<throttle::Failures>,
    /// Counters on which this attempt's failure is already counted (claimed).
    claimed: Vec<bool>,
}

impl PasswordAttempt {
    /// Reads the account's login record with its counters, then refuses the
    /// attempt while any counter makes it wait: before bcrypt, so waiting costs
    /// an attacker time and us nothing. From the last free failure on, the
    /// attempt claims its failure first, so of parallel attempts one goes on.
    async fn begin<S: Store>(
        app: &App<S>,
        email: &str,
        counters: Vec<throttle::Counter>,
    ) -> Result<(Option<crate::store::LoginRecord>, Self), ApiError> {
        let now_ms = crate::now_millis();
        let LoginAttempt { record, failures } =
            app.store.login_attempt(email, &counters, now_ms).await?;
        if let Some(retry_after) = throttle::wait(&counters, &failures, now_ms) {
            return Err(ApiError::TooManyLogins { retry_after });
        }
        let claimed: Vec<bool> = counters
            .iter()
            .zip(&failures)
            .map(|(counter, failures)| failures.at_edge(counter.free_failures))
            .collect();
        let claims: Vec<_> = counters
            .iter()
            .zip(&failures)
            .zip(&claimed)
            .filter(|(_, claimed)| **claimed)
            .map(|((counter, failures), _)| (counter, *failures))
            .collect();
        if !claims.is_empty() && !app.store.claim_login_attempt(&claims, now_ms).await? {
            // A parallel attempt claimed first: this one waits as if it had
            // failed as well.
            let retry_after = claims
                .iter()
                .filter_map(|(counter, seen)| {
                    seen.and_one_more(now_ms)
                        .wait(counter.free_failures, now_ms)
                })
                .max()
                .unwrap_or(1);
            return Err(ApiError::TooManyLogins { retry_after });
        }
        let attempt = Self {
            counters,
            failures,
            claimed,
        };
        Ok((record, attempt))
    }

    /// Counts the failure on every counter the claim has not counted already.
    /// A failure that cannot be counted fails closed (503): it would be a free
    /// guess.
    async fn failed<S: Store>(&self, app: &App<S>) -> Result<(), ApiError> {
        let unclaimed: Vec<_> = self
            .counters
            .iter()
            .zip(&self.claimed)
            .filter(|(_, claimed)| !**claimed)
            .map(|(counter, _)| counter.clone())
            .collect();
        if !unclaimed.is_empty() {
            app.store
                .record_login_failure(&unclaimed, crate::now_millis())
                .await?;
        }
        Ok(())
    }

    /// After a success the account's counter starts again from zero; the
    /// source's does not, so one good login cannot launder an address's
    /// failures on other accounts.
    fn reset(&self) -> Option<&throttle::Counter> {
        (self.failures[0].count > 0 || self.claimed[0]).then_some(&self.counters[0])
    }
}

/// `POST /auth/login`: one read (the account and its failed-login counters),
/// one bcrypt verify (also for unknown emails), then one write: the new session,
/// or the failure counted.
async fn login<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let Credentials {
        email,
        password,
        device,
    } = Credentials::from_request(request)?;
    let now = crate::now();
    let account = throttle::account_counter(&email, app.config.account_login_failures_before_delay);
    let counters: Vec<_> = std::iter::once(account)
        .chain(source_ip(request).and_then(|ip| {
            throttle::source_counter(ip, app.config.source_login_failures_before_delay)
        }))
        .collect();
    let (record, attempt) = PasswordAttempt::begin(app, &email, counters).await?;
    // bcrypt runs for unknown emails too (against a dummy hash), so both take
    // the same time.
    let stored_hash = record.as_ref().map(|r| r.password_hash.as_str());
    let verified = password::verify(&password, stored_hash, app.config.bcrypt_cost).await;
    let record = match record {
        Some(record) if verified => record,
        _ => {
            // Unknown emails are counted too, so counting tells nothing.
            attempt.failed(app).await?;
            return Err(ApiError::LoginFailed);
        }
    };
    let (session, refresh) = new_session(app, &record.user_id, device, request, now)?;
    if !app
        .store
        .create_session(&session, &email, &record.password_hash, attempt.reset())
        .await?
    {
        // The password changed while we checked it: the old one opens nothing.
        return Err(ApiError::LoginFailed);
    }
    tokens_reply(
        app,
        StatusCode::OK,
        "Successfully logged in.",
        &refresh,
        now,
    )
}

/// `GET /auth/status`: the token's user, read together with its session and
/// revocation.
async fn status<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let Caller { profile, .. } = authenticate(app, request).await?;
    Ok(success(
        StatusCode::OK,
        json!({ "data": {
            "user_id": profile.user_id,
            "email": profile.email,
            "admin": profile.admin,
            "registered_on": profile.registered_on,
        }}),
    ))
}

/// `POST /auth/logout[?scope=local|others|global]`.
/// - `local` (the default): one atomic write that revokes the token and ends its
///   session; no read.
/// - `others`: every other session of the user ends; this one stays.
/// - `global`: every session ends, this one too.
async fn logout<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let scope = query_param(request, "scope").unwrap_or("local");
    if !matches!(scope, "local" | "others" | "global") {
        return Err(ApiError::bad_request(
            "scope must be local, others or global.",
        ));
    }
    let token = bearer_token(request).map_err(|rejection| match rejection {
        TokenRejection::Missing => ApiError::LogoutWithoutToken,
        other => other.into(),
    })?;
    let done = || {
        success(
            StatusCode::OK,
            json!({ "message": "Successfully logged out." }),
        )
    };
    if scope == "local" {
        let now = crate::now();
        let claims = app.tokens.verify(token, now)?;
        return match app
            .store
            .end_token_session(&claims.sub, &claims.sid, &claims.jti, claims.exp, now)
            .await?
        {
            Revocation::Revoked => Ok(done()),
            Revocation::AlreadyRevoked => Err(TokenRejection::Revoked.into()),
        };
    }
    let Caller { claims, .. } = authenticate(app, request).await?;
    let keep = (scope == "others").then_some(claims.sid.as_str());
    app.store.delete_sessions(&claims.sub, keep).await?;
    Ok(done())
}

/// `POST /auth/refresh` `{"refresh_token"}`: rotates the refresh token and
/// issues a new access token for the same session.
async fn refresh<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct RefreshBody {
        refresh_token: Option<Value>,
    }
    let body: RefreshBody = json_body(request)?;
    let raw = required_string("refresh_token", body.refresh_token)?;
    let presented = app
        .refresh_keys
        .parse(&raw)
        .ok_or(ApiError::RefreshRejected)?;
    let (user_id, session_id) = (&presented.user_id, &presented.session_id);
    let now = crate::now();
    let read_live = || async {
        let session = app.store.session(user_id, session_id).await?;
        session
            .filter(|session| session.is_live(now))
            .ok_or(ApiError::RefreshRejected)
    };

    let session = read_live().await?;
    let presented_hash = presented.hash();
    let successor = app.refresh_keys.successor_of(&presented);
    if presented_hash == session.refresh_hash {
        let rotated = app
            .store
            .rotate_refresh(user_id, session_id, &presented_hash, &successor.hash(), now)
            .await?;
        if rotated {
            return tokens_reply(app, StatusCode::OK, "Token refreshed.", &successor, now);
        }
        // A concurrent refresh with the same token won the rotation: judge
        // this one as the retry it is, on the session as that one left it.
        let session = read_live().await?;
        return refresh_retired(app, &session, &presented_hash, &successor, now).await;
    }
    refresh_retired(app, &session, &presented_hash, &successor, now).await
}

/// A refresh token for a live session that is not its live one: within the
/// grace window after its own rotation it gets the same successor again.
/// Anything else is a retired (so copied) token, and ends the session.
///
/// No list of retired hashes is needed for that: the token's tag proves we
/// issued it, and a token we issued for this session that is neither the live
/// one nor the one just rotated can only be an older, retired one.
async fn refresh_retired<S: Store>(
    app: &App<S>,
    session: &Session,
    presented_hash: &str,
    successor: &RefreshToken,
    now: u64,
) -> Result<Reply, ApiError> {
    let just_rotated = session.previous_hash.as_deref() == Some(presented_hash)
        && now.saturating_sub(session.rotated_at) <= app.config.refresh_reuse_grace_seconds;
    if just_rotated {
        return tokens_reply(app, StatusCode::OK, "Token refreshed.", successor, now);
    }
    tracing::warn!(session = %session.session_id, "refresh token reused; session ended");
    app.store
        .delete_session(&session.user_id, &session.session_id, now)
        .await?;
    Err(ApiError::RefreshReused)
}

/// `GET /auth/sessions`: the caller's live sessions, never a token or a hash.
async fn sessions<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let Caller { claims, .. } = authenticate(app, request).await?;
    let mut sessions = app.store.sessions(&claims.sub, crate::now()).await?;
    sessions.sort_by_key(|session| std::cmp::Reverse(session.last_used_at));
    let listed: Vec<Value> = sessions
        .iter()
        .map(|session| {
            json!({
                "id": session.session_id,
                "device": session.device,
                "created_at": rfc3339(session.created_at),
                "last_used_at": rfc3339(session.last_used_at),
                "expires_at": rfc3339(session.expires_at),
                "current": session.session_id == claims.sid,
            })
        })
        .collect();
    Ok(success(
        StatusCode::OK,
        json!({ "data": { "sessions": listed } }),
    ))
}

/// `DELETE /auth/sessions/{id}`: ends one of the caller's sessions; its access
/// tokens fail their next check and its refresh token is dead.
async fn revoke_session<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let Caller { claims, .. } = authenticate(app, request).await?;
    let session_id = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .ok_or(ApiError::SessionNotFound)?;
    // The key holds the caller's own user id, so another user's session id
    // finds nothing, exactly like an unknown one.
    if !app
        .store
        .delete_session(&claims.sub, session_id, crate::now())
        .await?
    {
        return Err(ApiError::SessionNotFound);
    }
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Session revoked." }),
    ))
}

/// `POST /auth/password` `{"current_password","new_password"}`: changes the
/// password and ends every other session.
async fn change_password<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    #[derive(Deserialize)]
    struct PasswordBody {
        current_password: Option<Value>,
        new_password: Option<Value>,
    }
    let Caller { claims, profile } = authenticate(app, request).await?;
    let body: PasswordBody = json_body(request)?;
    let current = required_string("current_password", body.current_password)?;
    let new = required_string("new_password", body.new_password)?;
    check_password(&current)?;
    check_password(&new)?;

    let cost = app.config.bcrypt_cost;
    // A stolen access token must not buy unlimited guesses at the password
    // either: wrong current passwords count against the account like failed
    // logins, and wait like them.
    let account = throttle::account_counter(
        &profile.email,
        app.config.account_login_failures_before_delay,
    );
    let (record, attempt) = PasswordAttempt::begin(app, &profile.email, vec![account]).await?;
    let record = record
        .filter(|record| record.user_id == claims.sub)
        .ok_or(TokenRejection::Invalid)?;
    if !password::verify(&current, Some(&record.password_hash), cost).await {
        // Counted first, so the check below is no uncounted second guess.
        attempt.failed(app).await?;
        // A retry of a change whose session clean-up failed: the password is
        // already the new one, so finish the job instead of refusing forever.
        if password::verify(&new, Some(&record.password_hash), cost).await {
            app.store
                .delete_sessions(&claims.sub, Some(&claims.sid))
                .await?;
            return Ok(success(
                StatusCode::OK,
                json!({ "message": "Password changed." }),
            ));
        }
        return Err(ApiError::WrongPassword);
    }
    let new_hash = password::hash(&new, cost).await?;
    if !app
        .store
        .set_password_hash(&profile.email, &record.password_hash, &new_hash)
        .await?
    {
        return Err(ApiError::PasswordConflict);
    }
    app.store
        .delete_sessions(&claims.sub, Some(&claims.sid))
        .await?;
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Password changed." }),
    ))
}

/// One parameter of the query string (`?scope=others`), unescaped values not needed.
fn query_param<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.uri().query()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then_some(value)
    })
}

fn rfc3339(epoch_seconds: u64) -> String {
    DateTime::from_secs(epoch_seconds as i64)
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;
    use lambda_http::Body;
    use serde_json::Value;

    fn app() -> App<MemoryStore> {
        let config = Config::from_lookup(|name| match name {
            "JWT_SECRET" => Some("0123456789abcdef0123456789abcdef".into()),
            "USERS_TABLE" | "REVOKED_TOKENS_TABLE" => Some("t".into()),
            "BCRYPT_COST" => Some("4".into()),
            _ => None,
        })
        .unwrap();
        App::new(config, MemoryStore::default())
    }

    async fn call(
        app: &App<MemoryStore>,
        endpoint: Endpoint,
        token: Option<&str>,
        body: &str,
    ) -> (u16, Value) {
        let mut request = Request::new(Body::Text(body.into()));
        if let Some(token) = token {
            let value = format!("Bearer {token}").parse().unwrap();
            request.headers_mut().insert("authorization", value);
        }
        let response = endpoint.handle(app, request).await;
        let status = response.status().as_u16();
        (status, serde_json::from_slice(response.body()).unwrap())
    }

    const JOE: &str = r#"{"email": "joe@example.com", "password": "correct horse"}"#;

    #[tokio::test]
    async fn register_status_logout_round_trip() {
        let app = app();
        let (code, body) = call(&app, Endpoint::Register, None, JOE).await;
        assert_eq!(code, 201, "{body}");
        let token = body["auth_token"].as_str().unwrap().to_owned();
        let (code, body) = call(&app, Endpoint::Status, Some(&token), "").await;
        assert_eq!(
            (code, body["data"]["email"].as_str()),
            (200, Some("joe@example.com"))
        );
        assert_eq!(call(&app, Endpoint::Logout, Some(&token), "").await.0, 200);
        let (code, body) = call(&app, Endpoint::Status, Some(&token), "").await;
        assert_eq!(
            (code, body["message"].as_str()),
            (401, Some(TokenRejection::Revoked.message()))
        );
    }

    #[tokio::test]
    async fn storage_failure_is_a_generic_503_and_accepts_nothing() {
        let app = app();
        let token = call(&app, Endpoint::Register, None, JOE).await.1["auth_token"]
            .as_str()
            .unwrap()
            .to_owned();
        app.store.set_unavailable(true);
        for (endpoint, token, body) in [
            (Endpoint::Register, None, JOE),
            (Endpoint::Login, None, JOE),
            (Endpoint::Status, Some(token.as_str()), ""),
            (Endpoint::Logout, Some(token.as_str()), ""),
        ] {
            let (code, body) = call(&app, endpoint, token, body).await;
            assert_eq!(code, 503, "{endpoint:?}");
            assert_eq!(
                body,
                serde_json::json!({
                    "status": "fail",
                    "message": "Service unavailable. Please try again.",
                })
            );
        }
        app.store.set_unavailable(false);
        assert_eq!(call(&app, Endpoint::Status, Some(&token), "").await.0, 200);
    }

    #[tokio::test]
    async fn a_token_outlives_its_user_only_as_an_invalid_token() {
        let app = app();
        let token = call(&app, Endpoint::Register, None, JOE).await.1["auth_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let user_id = app.tokens.verify(&token, crate::now()).unwrap().sub;
        app.store.delete_user(&user_id);
        let (code, body) = call(&app, Endpoint::Status, Some(&token), "").await;
        assert_eq!(
            (code, body["message"].as_str()),
            (401, Some(TokenRejection::Invalid.message()))
        );
    }

    #[test]
    fn routes_and_function_names_are_distinct() {
        let routes: std::collections::HashSet<_> =
            Endpoint::ALL.iter().map(|e| e.route()).collect();
        let names: std::collections::HashSet<_> =
            Endpoint::ALL.iter().map(|e| e.function_name()).collect();
        assert_eq!(routes.len(), Endpoint::ALL.len());
        assert_eq!(names.len(), Endpoint::ALL.len());
    }
}
