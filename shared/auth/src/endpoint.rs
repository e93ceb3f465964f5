//! The API: one [`Endpoint`] per Lambda function, each with its route and handler.

use crate::credentials::Credentials;
use crate::error::{ApiError, TokenRejection};
use crate::request::bearer_token;
use crate::response::{Reply, success};
use crate::store::{NewUser, Registration, Revocation, Store};
use crate::token::Tokens;
use crate::{Config, password};
use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use lambda_http::{Request, http::StatusCode};
use serde_json::json;

/// What every handler needs, built once per cold start.
pub struct App<S> {
    pub config: Config,
    pub tokens: Tokens,
    pub store: S,
}

impl<S: Store> App<S> {
    pub fn new(config: Config, store: S) -> Self {
        let tokens = Tokens::new(&config.jwt_secret, config.access_token_ttl_seconds);
        Self {
            config,
            tokens,
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
}

impl Endpoint {
    pub const ALL: [Endpoint; 4] = [Self::Register, Self::Login, Self::Status, Self::Logout];

    /// The function's name: its package in `functions/`, its binary, and its
    /// name in the `cargo lambda watch` router.
    pub fn function_name(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Login => "login",
            Self::Status => "status",
            Self::Logout => "logout",
        }
    }

    /// Method and path, as API Gateway routes them.
    pub fn route(self) -> (&'static str, &'static str) {
        match self {
            Self::Register => ("POST", "/auth/register"),
            Self::Login => ("POST", "/auth/login"),
            Self::Status => ("GET", "/auth/status"),
            Self::Logout => ("POST", "/auth/logout"),
        }
    }

    /// Answers one request. Every error becomes its HTTP answer here, and
    /// nowhere else.
    pub async fn handle<S: Store>(self, app: &App<S>, request: Request) -> Reply {
        let result = match self {
            Self::Register => register(app, &request).await,
            Self::Login => login(app, &request).await,
            Self::Status => status(app, &request).await,
            Self::Logout => logout(app, &request).await,
        };
        result.unwrap_or_else(ApiError::into_reply)
    }
}

/// `POST /auth/register`: one transactional write, then a token.
async fn register<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let Credentials { email, password } = Credentials::from_request(request)?;
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
    if app.store.create_user(&user).await? == Registration::EmailTaken {
        return Err(ApiError::UserExists);
    }
    let (token, _) = app.tokens.issue(&user.user_id, now)?;
    Ok(success(
        StatusCode::CREATED,
        json!({ "message": "Successfully registered.", "auth_token": token }),
    ))
}

/// `POST /auth/login`: one read, one bcrypt verify (also for unknown emails).
async fn login<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let Credentials { email, password } = Credentials::from_request(request)?;
    let record = app.store.login_record(&email).await?;
    let stored_hash = record.as_ref().map(|r| r.password_hash.as_str());
    if !password::verify(&password, stored_hash, app.config.bcrypt_cost).await {
        return Err(ApiError::LoginFailed);
    }
    let Some(record) = record else {
        return Err(ApiError::LoginFailed);
    };
    let (token, _) = app.tokens.issue(&record.user_id, crate::now())?;
    Ok(success(
        StatusCode::OK,
        json!({ "message": "Successfully logged in.", "auth_token": token }),
    ))
}

/// `GET /auth/status`: the token's user, read together with its revocation.
async fn status<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let now = crate::now();
    let claims = app.tokens.verify(bearer_token(request)?, now)?;
    let subject = app
        .store
        .token_subject(&claims.sub, &claims.jti, now)
        .await?;
    if subject.revoked {
        return Err(TokenRejection::Revoked.into());
    }
    // A valid signature for a user who no longer exists is still no valid token.
    let profile = subject.profile.ok_or(TokenRejection::Invalid)?;
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

/// `POST /auth/logout`: one conditional write that revokes the token until it
/// would have expired anyway.
async fn logout<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let token = bearer_token(request).map_err(|rejection| match rejection {
        TokenRejection::Missing => ApiError::LogoutWithoutToken,
        other => other.into(),
    })?;
    let now = crate::now();
    let claims = app.tokens.verify(token, now)?;
    match app.store.revoke(&claims.jti, claims.exp, now).await? {
        Revocation::Revoked => Ok(success(
            StatusCode::OK,
            json!({ "message": "Successfully logged out." }),
        )),
        Revocation::AlreadyRevoked => Err(TokenRejection::Revoked.into()),
    }
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
    fn routes_are_distinct_and_named_after_their_functions() {
        let routes: std::collections::HashSet<_> =
            Endpoint::ALL.iter().map(|e| e.route()).collect();
        assert_eq!(routes.len(), Endpoint::ALL.len());
        for endpoint in Endpoint::ALL {
            assert!(endpoint.route().1.ends_with(endpoint.function_name()));
        }
    }
}
