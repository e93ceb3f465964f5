//! The API: one [`Endpoint`] per Lambda function, one file per handler named
//! after it (in the style of mini-redis's `cmd/`), each starting with its
//! [`Description`]. The [`endpoints!`] table below is the one list of them;
//! everything else is derived (see docs/adding-an-endpoint.md).
//!
//! Shared by the handlers:
//! - [`app`]: [`App`], what every handler needs, and the tokens' issuer;
//! - [`description`]: what an endpoint says of itself;
//! - [`authenticate`]: the token check every protected endpoint (and the
//!   Lambda [`authorizer`]) starts with;
//! - [`session_tokens`]: a new session and the answer that hands out tokens;
//! - [`password_attempt`]: one password check under the brute-force throttle;
//! - [`mailed_codes`]: mailing a one-time code and redeeming one;
//! - [`admin`]: the admin calls' check and audit line; [`erasure`]: erasing
//!   an account, for an admin and the owner alike.

mod admin;
pub mod app;
pub mod authenticate;
pub mod authorizer;
pub mod description;
mod erasure;
mod mailed_codes;
mod oauth;
#[cfg(feature = "passkeys")]
mod passkey_ceremony;
pub mod password_attempt;
mod session_tokens;

pub use app::{App, issuer};
pub use authenticate::{Caller, check_token};
pub use description::{Description, Guard, Needs};
pub use forgot_password::FORGOT_MESSAGE;
pub use jwks::JWKS_MAX_AGE_SECONDS;
/// The key a one-time code is stored under (the tests expire one by hand).
pub use oauth::code_hash;
pub use status::status_reply;

use crate::http::error::ApiError;
use crate::http::response::Reply;
use crate::store::Store;
use lambda_http::{Request, RequestExt};

/// The one table of endpoints: `Variant => module`. Each module is a file
/// of this folder with a `DESCRIPTION` and a `handle`; those that need no
/// [`App`] ([`Needs::Settings`]) are listed apart, and their `handle` takes
/// the `PUBLIC_BASE_URL` setting instead.
macro_rules! endpoints {
    (
        with_app { $($variant:ident => $module:ident,)* }
        without_app { $($bare_variant:ident => $bare_module:ident,)* }
        passkeys { $($passkey_variant:ident => $passkey_module:ident,)* }
    ) => {
        $(mod $module;)*
        $(mod $bare_module;)*
        $(#[cfg(feature = "passkeys")] mod $passkey_module;)*

        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub enum Endpoint {
            $($variant,)*
            $($bare_variant,)*
            $(#[cfg(feature = "passkeys")] $passkey_variant,)*
        }

        impl Endpoint {
            pub const ALL: &[Endpoint] = &[
                $(Self::$variant,)*
                $(Self::$bare_variant,)*
                $(#[cfg(feature = "passkeys")] Self::$passkey_variant,)*
            ];

            /// What the endpoint says of itself, beside its handler.
            pub const fn description(self) -> &'static Description {
                match self {
                    $(Self::$variant => &$module::DESCRIPTION,)*
                    $(Self::$bare_variant => &$bare_module::DESCRIPTION,)*
                    $(#[cfg(feature = "passkeys")] Self::$passkey_variant => &$passkey_module::DESCRIPTION,)*
                }
            }

            /// Answers a request of an endpoint that needs no [`App`], given
            /// the `PUBLIC_BASE_URL` setting (`None` for the others).
            fn answer_without_app(
                self,
                public_base_url: Option<&str>,
                request: &Request,
            ) -> Option<Result<Reply, ApiError>> {
                match self {
                    $(Self::$bare_variant => Some($bare_module::handle(public_base_url, request)),)*
                    _ => None,
                }
            }

            async fn answer<S: Store>(self, app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
                match self {
                    $(Self::$variant => $module::handle(app, request).await,)*
                    $(Self::$bare_variant => $bare_module::handle(app.config.public_base_url.as_deref(), request),)*
                    $(#[cfg(feature = "passkeys")] Self::$passkey_variant => $passkey_module::handle(app, request).await,)*
                }
            }
        }
    };
}

endpoints! {
    with_app {
        Register => register,
        Login => login,
        Status => status,
        Logout => logout,
        Refresh => refresh,
        Sessions => sessions,
        RevokeSession => revoke_session,
        ChangePassword => change_password,
        Jwks => jwks,
        ForgotPassword => forgot_password,
        ResetPassword => reset_password,
        VerifyEmail => verify_email,
        ResendVerification => resend_verification,
        ListUsers => list_users,
        GetUser => get_user,
        DisableUser => disable_user,
        EnableUser => enable_user,
        SignOutUser => sign_out_user,
        DeleteUser => delete_user,
        SetUserRoles => set_user_roles,
        UpdateUser => update_user,
        UpdateAccount => update_account,
        DeleteAccount => delete_account,
        TotpEnroll => totp_enroll,
        TotpConfirm => totp_confirm,
        MfaStatus => mfa_status,
        LoginMfa => login_mfa,
        TotpDisable => totp_disable,
        NewRecoveryCodes => new_recovery_codes,
        ResetUserMfa => reset_user_mfa,
        ChangeEmail => change_email,
        ConfirmEmailChange => confirm_email_change,
        OauthStart => oauth_start,
        OauthCallback => oauth_callback,
        OauthToken => oauth_token,
        OauthLink => oauth_link,
        ListIdentities => list_identities,
        DeleteIdentity => delete_identity,
        OauthCode => oauth_code,
        // Needs the providers (their buttons; OIDC_PROVIDERS is in the
        // secret) and the allowed redirects (the hosted sign-in's check).
        AccountPage => account_page,
    }
    without_app {
        OpenidConfiguration => openid_configuration,
        ExampleProtected => example_protected,
    }
    // Only with the `passkeys` feature (docs/passkeys.md): only the passkey
    // functions (the functions-passkeys package) link webauthn-rs and OpenSSL.
    passkeys {
        PasskeyRegisterOptions => passkey_register_options,
        PasskeyRegister => passkey_register,
        PasskeyLoginOptions => passkey_login_options,
        PasskeyLogin => passkey_login,
        ListPasskeys => list_passkeys,
        RenamePasskey => rename_passkey,
        DeletePasskey => delete_passkey,
    }
}

impl Endpoint {
    /// The function's name (see [`Description::function`]).
    pub const fn function_name(self) -> &'static str {
        self.description().function
    }

    /// Method and path, as API Gateway routes them.
    pub const fn route(self) -> (&'static str, &'static str) {
        (self.description().method, self.description().route)
    }

    /// Whether it issues access tokens, and so needs the current key's
    /// private half (checked at init) rather than only the public ones.
    pub fn signs(self) -> bool {
        self.description().needs == Needs::Signer
    }

    /// Whether the route sits behind the Lambda authorizer in the template.
    pub fn behind_authorizer(self) -> bool {
        self.description().guard == Guard::Authorizer
    }

    /// Whether the endpoint needs the [`App`] (keys, tables). Those that do
    /// not read no secret at init, and their IAM policy grants none.
    pub fn needs_app(self) -> bool {
        self.description().needs != Needs::Settings
    }

    /// The endpoint whose function is called `name`, if any: a `const fn`,
    /// so that a binary named after no endpoint fails to compile.
    pub const fn named(name: &str) -> Option<Endpoint> {
        let mut index = 0;
        while index < Self::ALL.len() {
            if same(Self::ALL[index].function_name(), name) {
                return Some(Self::ALL[index]);
            }
            index += 1;
        }
        None
    }

    /// Answers one request. Every error becomes its HTTP answer here, and
    /// nowhere else. Under Lambda the answer comes before the invocation's
    /// deadline: a call still waiting on storage then gets our 503, not the
    /// gateway's bare error after Lambda kills it.
    pub async fn handle<S: Store>(self, app: &App<S>, request: Request) -> Reply {
        app.reload_signing_keys().await;
        let deadline = request.lambda_context_ref().map(|context| context.deadline);
        let result = within_deadline(deadline, self.answer(app, &request)).await;
        let answer = result.as_ref().map(|reply| reply.status());
        crate::metrics::emit(&crate::metrics::of_answer(self, answer));
        result.unwrap_or_else(|error| {
            // The reply says nothing of the cause; the log does.
            if let ApiError::Unavailable(detail) = &error {
                tracing::error!(%detail, "storage unavailable");
            }
            error.into_reply()
        })
    }

    /// Answers a request of an endpoint that needs no [`App`] (see
    /// [`Endpoint::needs_app`]), given the `PUBLIC_BASE_URL` setting.
    pub fn handle_without_app(self, request: &Request, public_base_url: Option<&str>) -> Reply {
        let answer = self
            .answer_without_app(public_base_url, request)
            .unwrap_or_else(|| Err(ApiError::Unavailable(format!("{self:?} needs the app"))));
        answer.unwrap_or_else(ApiError::into_reply)
    }
}

/// Byte-wise string equality, in a `const fn`.
pub(crate) const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut index = 0;
    while index < a.len() {
        if a[index] != b[index] {
            return false;
        }
        index += 1;
    }
    true
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
mod event_tests;
#[cfg(test)]
mod second_factor_event_tests;
#[cfg(test)]
pub(crate) mod tests;
