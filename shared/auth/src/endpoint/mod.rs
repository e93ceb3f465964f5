//! The API: one [`Endpoint`] per Lambda function, each with its route, and
//! one file per handler, in the style of mini-redis's `cmd/`. This file only
//! routes: [`App`] (what every handler needs), [`Endpoint`] (name, route,
//! dispatch) and the invocation's deadline.
//!
//! - [`authenticate`]: the token check every protected endpoint (and the
//!   Lambda authorizer) starts with;
//! - [`session_tokens`]: a new session and the answer that hands out tokens;
//! - one file per endpoint, named after it: [`register`], [`login`],
//!   [`status`], [`logout`], [`refresh`], [`sessions`], [`revoke_session`],
//!   [`password`], [`jwks`], [`openid_configuration`],
//!   [`example_protected`] (a route of "your own API" behind the authorizer),
//!   and the account-recovery ones: [`forgot_password`], [`reset_password`],
//!   [`verify_email`] and [`resend_verification`];
//! - [`one_time_codes`]: mailing a code and checking one, for those four and
//!   registration;
//! - the admin ones, behind [`admin`]'s check and audit line:
//!   [`list_users`], [`get_user`], [`user_access`] (disable and enable),
//!   [`sign_out_user`] and [`delete_user`]; and the owner's own
//!   [`delete_account`], which shares [`erasure`] with `delete_user`.
//!
//! A new endpoint is one new file, plus one line in each table below.

mod admin;
mod authenticate;
mod delete_account;
mod delete_user;
mod erasure;
mod example_protected;
mod forgot_password;
mod get_user;
mod jwks;
mod list_users;
mod login;
mod logout;
mod one_time_codes;
mod openid_configuration;
mod password;
mod refresh;
mod register;
mod resend_verification;
mod reset_password;
mod revoke_session;
mod session_tokens;
mod sessions;
mod sign_out_user;
mod status;
mod user_access;
mod verify_email;

pub use authenticate::{Caller, check_token};
pub use forgot_password::FORGOT_MESSAGE;
pub use jwks::JWKS_MAX_AGE_SECONDS;
pub use status::status_reply;

use crate::Config;
use crate::codes::CodeKey;
use crate::error::ApiError;
use crate::refresh::RefreshKeys;
use crate::response::Reply;
use crate::secrets::SecretSource;
use crate::store::Store;
use crate::token::Tokens;
use lambda_http::{Request, RequestExt};

/// What every handler needs, built once per cold start.
pub struct App<S> {
    pub config: Config,
    pub tokens: Tokens,
    pub refresh_keys: RefreshKeys,
    /// One-time codes' hashing key ([`crate::codes`]).
    pub code_key: CodeKey,
    pub store: S,
    /// Deployed: where the keys come from, to read them again.
    pub secrets: Option<SecretSource>,
}

impl<S: Store> App<S> {
    pub fn new(config: Config, store: S) -> Self {
        let tokens = Tokens::new(
            config.signing_keys.clone(),
            &config.token_audience,
            config.access_token_ttl_seconds,
        );
        let refresh_keys = RefreshKeys::new(&config.refresh_token_secret);
        let code_key = CodeKey::new(&config.refresh_token_secret);
        Self {
            config,
            tokens,
            refresh_keys,
            code_key,
            store,
            secrets: None,
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
    Jwks,
    OpenidConfiguration,
    ExampleProtected,
    ForgotPassword,
    ResetPassword,
    VerifyEmail,
    ResendVerification,
    AccountPage,
    ListUsers,
    GetUser,
    DisableUser,
    EnableUser,
    SignOutUser,
    DeleteUser,
    DeleteAccount,
}

impl Endpoint {
    pub const ALL: [Endpoint; 23] = [
        Self::Register,
        Self::Login,
        Self::Status,
        Self::Logout,
        Self::Refresh,
        Self::Sessions,
        Self::RevokeSession,
        Self::ChangePassword,
        Self::Jwks,
        Self::OpenidConfiguration,
        Self::ExampleProtected,
        Self::ForgotPassword,
        Self::ResetPassword,
        Self::VerifyEmail,
        Self::ResendVerification,
        Self::AccountPage,
        Self::ListUsers,
        Self::GetUser,
        Self::DisableUser,
        Self::EnableUser,
        Self::SignOutUser,
        Self::DeleteUser,
        Self::DeleteAccount,
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
            Self::Jwks => "jwks",
            Self::OpenidConfiguration => "openid-configuration",
            Self::ExampleProtected => "example-protected",
            Self::ForgotPassword => "forgot-password",
            Self::ResetPassword => "reset-password",
            Self::VerifyEmail => "verify-email",
            Self::ResendVerification => "resend-verification",
            Self::AccountPage => "account-page",
            Self::ListUsers => "list-users",
            Self::GetUser => "get-user",
            Self::DisableUser => "disable-user",
            Self::EnableUser => "enable-user",
            Self::SignOutUser => "sign-out-user",
            Self::DeleteUser => "delete-user",
            Self::DeleteAccount => "delete-account",
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
            Self::Jwks => ("GET", "/.well-known/jwks.json"),
            Self::OpenidConfiguration => ("GET", "/.well-known/openid-configuration"),
            Self::ExampleProtected => ("GET", "/example/protected"),
            Self::ForgotPassword => ("POST", "/auth/password/forgot"),
            Self::ResetPassword => ("POST", "/auth/password/reset"),
            Self::VerifyEmail => ("POST", "/auth/email/verify"),
            Self::ResendVerification => ("POST", "/auth/email/verify/resend"),
            Self::AccountPage => ("GET", "/account"),
            Self::ListUsers => ("GET", "/admin/users"),
            Self::GetUser => ("GET", "/admin/users/{id}"),
            Self::DisableUser => ("POST", "/admin/users/{id}/disable"),
            Self::EnableUser => ("POST", "/admin/users/{id}/enable"),
            Self::SignOutUser => ("POST", "/admin/users/{id}/sign-out"),
            Self::DeleteUser => ("DELETE", "/admin/users/{id}"),
            Self::DeleteAccount => ("DELETE", "/auth/account"),
        }
    }

    /// Whether the endpoint issues access tokens, and so needs the current
    /// key's private half (checked at init) rather than only the public ones.
    pub fn signs(self) -> bool {
        matches!(self, Self::Register | Self::Login | Self::Refresh)
    }

    /// Whether the route sits behind the Lambda authorizer in the template.
    pub fn behind_authorizer(self) -> bool {
        self == Self::ExampleProtected
    }

    /// Answers one request. Every error becomes its HTTP answer here, and
    /// nowhere else. Under Lambda the answer comes before the invocation's
    /// deadline: a call still waiting on storage then gets our 503, not the
    /// gateway's bare error after Lambda kills it.
    pub async fn handle<S: Store>(self, app: &App<S>, request: Request) -> Reply {
        app.refresh_keys().await;
        let deadline = request.lambda_context_ref().map(|context| context.deadline);
        let result = within_deadline(deadline, self.answer(app, &request)).await;
        result.unwrap_or_else(|error| {
            // The reply says nothing of the cause; the log does.
            if let ApiError::Unavailable(detail) = &error {
                tracing::error!(%detail, "storage unavailable");
            }
            error.into_reply()
        })
    }

    /// Whether the endpoint needs the [`App`] (keys, tables). Those that do
    /// not read no secret at init, and their IAM policy grants none.
    pub fn needs_app(self) -> bool {
        !matches!(
            self,
            Self::ExampleProtected | Self::OpenidConfiguration | Self::AccountPage
        )
    }

    /// Answers a request of an endpoint that needs no [`App`] (see
    /// [`Endpoint::needs_app`]), given the `PUBLIC_BASE_URL` setting.
    pub fn handle_without_app(self, request: &Request, public_base_url: Option<&str>) -> Reply {
        let answer = match self {
            Self::ExampleProtected => example_protected::example_protected(request),
            Self::OpenidConfiguration => {
                openid_configuration::openid_configuration(public_base_url, request)
            }
            Self::AccountPage => Ok(crate::account_page::account_page()),
            _ => Err(ApiError::Unavailable(format!("{self:?} needs the app"))),
        };
        answer.unwrap_or_else(ApiError::into_reply)
    }

    async fn answer<S: Store>(self, app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
        match self {
            Self::Register => register::register(app, request).await,
            Self::Login => login::login(app, request).await,
            Self::Status => status::status(app, request).await,
            Self::Logout => logout::logout(app, request).await,
            Self::Refresh => refresh::refresh(app, request).await,
            Self::Sessions => sessions::sessions(app, request).await,
            Self::RevokeSession => revoke_session::revoke_session(app, request).await,
            Self::ChangePassword => password::change_password(app, request).await,
            Self::Jwks => jwks::jwks(app).await,
            Self::OpenidConfiguration => openid_configuration::openid_configuration(
                app.config.public_base_url.as_deref(),
                request,
            ),
            Self::ExampleProtected => example_protected::example_protected(request),
            Self::ForgotPassword => forgot_password::forgot_password(app, request).await,
            Self::ResetPassword => reset_password::reset_password(app, request).await,
            Self::VerifyEmail => verify_email::verify_email(app, request).await,
            Self::ResendVerification => {
                resend_verification::resend_verification(app, request).await
            }
            Self::AccountPage => Ok(crate::account_page::account_page()),
            Self::ListUsers => list_users::list_users(app, request).await,
            Self::GetUser => get_user::get_user(app, request).await,
            Self::DisableUser => user_access::disable_user(app, request).await,
            Self::EnableUser => user_access::enable_user(app, request).await,
            Self::SignOutUser => sign_out_user::sign_out_user(app, request).await,
            Self::DeleteUser => delete_user::delete_user(app, request).await,
            Self::DeleteAccount => delete_account::delete_account(app, request).await,
        }
    }
}

impl<S> App<S> {
    /// The `iss` of tokens issued or checked for a request API Gateway
    /// received on `domain` (see [`issuer`]).
    pub fn issuer(&self, domain: Option<&str>) -> Result<String, ApiError> {
        issuer(self.config.public_base_url.as_deref(), domain)
    }

    /// Deployed, reads the secret again once this instance's copy is stale
    /// and puts its key set in force ([`crate::secrets`]). A failed read keeps
    /// the keys in force and is logged; the next try waits for the next
    /// stale moment, so an outage of Secrets Manager costs each instance one
    /// call per [`crate::secrets::KEY_SET_MAX_AGE_SECONDS`].
    pub async fn refresh_keys(&self) {
        let Some(source) = &self.secrets else {
            return;
        };
        if !source.claim_refresh(crate::now()) {
            return;
        }
        let keys = source.read().await.and_then(|settings| {
            let json = settings
                .into_iter()
                .find_map(|(name, value)| (name == "SIGNING_KEYS").then_some(value))
                .unwrap_or_default();
            // Checked as deeply as at a signer's init, in every function: a
            // set whose current key cannot sign is never put in force.
            crate::keys::KeySet::from_json(&json)
                .and_then(|keys| keys.check_signer().map(|()| keys))
                .map_err(crate::config::ConfigError)
        });
        match keys {
            Ok(keys) => self.tokens.replace_keys(std::sync::Arc::new(keys)),
            Err(error) => tracing::error!("could not refresh the signing keys: {error}"),
        }
    }
}

/// The tokens' `iss`: the configured public base URL, else `https://` and the
/// domain API Gateway received the request on (API Gateway's, never a header
/// the client wrote).
pub fn issuer(public_base_url: Option<&str>, domain: Option<&str>) -> Result<String, ApiError> {
    match (public_base_url, domain) {
        (Some(url), _) => Ok(url.to_owned()),
        (None, Some(domain)) => Ok(format!("https://{domain}")),
        (None, None) => Err(ApiError::Unavailable(
            "no PUBLIC_BASE_URL and no domain name".into(),
        )),
    }
}

/// Room left before the invocation's deadline for writing the 503 itself.
const DEADLINE_MARGIN_MS: u64 = 500;

/// Runs `answer` until the invocation's `deadline` (epoch ms) less a margin,
/// then gives up with our 503 (`None` outside Lambda, or with a deadline
/// too close to go by: no limit).
pub async fn within_deadline<T>(
    deadline: Option<u64>,
    answer: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    let left = deadline
        .and_then(|deadline| deadline.checked_sub(crate::now_millis()))
        .and_then(|left| left.checked_sub(DEADLINE_MARGIN_MS))
        .filter(|&left| left > 0);
    match left {
        Some(left) => tokio::time::timeout(std::time::Duration::from_millis(left), answer)
            .await
            .unwrap_or_else(|_| {
                Err(ApiError::Unavailable(
                    "the invocation's deadline came".into(),
                ))
            }),
        None => answer.await,
    }
}

#[cfg(test)]
pub(crate) mod tests;
