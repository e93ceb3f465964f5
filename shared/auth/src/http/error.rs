//! The one error type of the API, and the one place it becomes an HTTP answer.

use crate::http::response::{Reply, fail_with};
use lambda_http::http::{HeaderValue, StatusCode, header};

/// Why a bearer token was not accepted. Each reason has its own fixed message,
/// taken from the tutorial's API so existing clients keep working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    /// No `Authorization` header, or an empty token.
    Missing,
    /// A header that is not `Bearer <token>`.
    Malformed,
    Expired,
    /// Bad signature, other algorithm, garbage, a missing claim, an unknown user.
    Invalid,
    /// Revoked by logout, or its session ended.
    Revoked,
}

impl TokenRejection {
    /// The rejection's stable error code ([`ApiError::code`]).
    pub fn code(self) -> &'static str {
        match self {
            Self::Missing => "token_missing",
            Self::Malformed => "token_malformed",
            Self::Expired => "token_expired",
            Self::Invalid => "token_invalid",
            Self::Revoked => "token_revoked",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::Missing => "Provide a valid auth token.",
            Self::Malformed => "Bearer token malformed.",
            Self::Expired => "Signature expired. Please log in again.",
            Self::Invalid => "Invalid token. Please log in again.",
            Self::Revoked => "Token blacklisted. Please log in again.",
        }
    }
}

#[derive(Debug)]
pub enum ApiError {
    /// The request itself is wrong; the message says how, and never echoes a secret.
    BadRequest(String),
    PayloadTooLarge,
    /// Registration of an email that already has an account.
    UserExists,
    /// Unknown email or wrong password: one answer for both, so it tells nobody
    /// which emails have accounts.
    LoginFailed,
    Token(TokenRejection),
    /// Logout without any token: the tutorial answers 403 here, not 401.
    LogoutWithoutToken,
    /// A refresh token that is not ours, or whose session is gone.
    RefreshRejected,
    /// A refresh token already rotated away, used again: the session is ended.
    RefreshReused,
    /// No such session among the caller's (someone else's looks the same).
    SessionNotFound,
    /// A password change whose current password is wrong.
    WrongPassword,
    /// Another password change won the race; nothing was changed.
    PasswordConflict,
    /// Too many failed logins for this account or from this source: the next
    /// attempt must wait this many seconds (see [`crate::throttle`]).
    TooManyLogins {
        retry_after: u64,
    },
    /// Too many registrations from this source address in this hour.
    TooManyRegistrations {
        retry_after: u64,
    },
    /// Too many code mails for this address, or from this source, this hour.
    TooManyMails {
        retry_after: u64,
    },
    /// A one-time code that is wrong, expired, used up, or for no account:
    /// one answer for all.
    InvalidCode,
    /// Login with the right password to an account whose address is not
    /// verified, when `REQUIRE_VERIFIED_EMAIL` is on.
    EmailNotVerified,
    /// A verification code asked for an address that is already verified.
    EmailAlreadyVerified,
    /// Login with the right password to an account an admin has disabled.
    AccountDisabled,
    /// An admin route, called by someone who is not an admin now.
    AdminRequired,
    /// No such user (or an id not of our shape: the same answer).
    UserNotFound,
    /// An admin about to disable or delete their own account: never, so that
    /// a deployment cannot lose its last admin by accident.
    OwnAdminAccount,
    /// An admin about to take `admin` from their own roles: never, for the
    /// same reason.
    OwnAdminRole,
    /// The password was right, and the account has a second factor: the
    /// login goes on at `POST /auth/login/mfa` with this token.
    SecondFactorChallenge {
        mfa_token: String,
    },
    /// An `mfa_token` that is not ours, used up, expired or out of tries.
    InvalidChallenge,
    /// Enrolling in TOTP, or confirming it, when it is on already.
    TotpAlreadyOn,
    /// A TOTP confirmation with no enrolment pending.
    NoTotpPending,
    /// Turning TOTP off, or new recovery codes, for an account without it.
    TotpNotOn,
    /// Step-up: a sensitive call for an account with a second factor, with
    /// a token whose sign-in did not use it (or an admin call, with
    /// `REQUIRE_MFA_FOR_ADMINS`, by a token without it).
    SecondFactorRequired,
    /// A change of address to one that got an account since the request.
    EmailTaken,
    /// A passwordless account's sensitive change, its sign-in too old.
    RecentSignInRequired,
    /// A passkey sign-in that failed for any reason: unknown credential,
    /// bad signature, wrong origin or RP ID, user not verified, a counter
    /// that did not grow, a used or expired ceremony. One answer for all.
    InvalidPasskey,
    /// A passkey registration the authenticator's answer does not complete.
    PasskeyRejected,
    /// A credential id registered already (to anyone).
    PasskeyExists,
    /// No such passkey among the caller's.
    PasskeyNotFound,
    /// Deleting an account's last way to sign in.
    LastSignInMethod,
    /// Too many passkey sign-ins started from this source address this hour.
    TooManyCeremonies {
        retry_after: u64,
    },
    /// Too many sign-ins with a provider started from this address this hour.
    TooManyOauthStarts {
        retry_after: u64,
    },
    /// No provider of that name is configured.
    UnknownProvider,
    /// A `redirect_to` not on `ALLOWED_REDIRECT_URLS`.
    RedirectNotAllowed,
    /// A sign-in's `state` unknown, used, expired or of another provider.
    InvalidOauthState,
    /// A one-time code from a provider sign-in unknown, used or expired.
    InvalidOauthCode,
    /// A `code_verifier` that does not match the app's `code_challenge`.
    CodeVerifierMismatch,
    /// No such identity among the caller's.
    IdentityNotFound,
    /// Storage could not answer. The detail is logged, never sent.
    Unavailable(String),
    /// The token hook failed, and its policy is to deny ([`crate::hook`]).
    /// The fault is logged by the hook, never sent.
    TokenHookFailed(String),
}

impl From<TokenRejection> for ApiError {
    fn from(rejection: TokenRejection) -> Self {
        Self::Token(rejection)
    }
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    /// The answer's stable, machine-readable `code` (snake_case), beside the
    /// seed's `status` and `message`: clients tell errors apart by it, never
    /// by the English message. Listed in openapi.yaml (`ErrorCode`) and
    /// docs/api.md; a test keeps the three equal.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "validation_failed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UserExists => "user_exists",
            Self::LoginFailed => "invalid_credentials",
            Self::Token(rejection) => rejection.code(),
            Self::LogoutWithoutToken => TokenRejection::Missing.code(),
            Self::RefreshRejected => "refresh_token_invalid",
            Self::RefreshReused => "refresh_token_reused",
            Self::SessionNotFound => "session_not_found",
            Self::WrongPassword => "wrong_password",
            Self::PasswordConflict => "password_changed_meanwhile",
            Self::TooManyLogins { .. }
            | Self::TooManyRegistrations { .. }
            | Self::TooManyMails { .. }
            | Self::TooManyCeremonies { .. }
            | Self::TooManyOauthStarts { .. } => "rate_limited",
            Self::UnknownProvider => "unknown_provider",
            Self::RedirectNotAllowed => "redirect_not_allowed",
            Self::InvalidOauthState => "invalid_state",
            Self::InvalidOauthCode => "invalid_oauth_code",
            Self::CodeVerifierMismatch => "code_verifier_mismatch",
            Self::IdentityNotFound => "identity_not_found",
            Self::InvalidPasskey => "invalid_passkey",
            Self::PasskeyRejected => "passkey_rejected",
            Self::PasskeyExists => "passkey_exists",
            Self::PasskeyNotFound => "passkey_not_found",
            Self::LastSignInMethod => "last_sign_in_method",

            Self::InvalidCode => "invalid_code",
            Self::EmailNotVerified => "email_not_verified",
            Self::EmailAlreadyVerified => "email_already_verified",
            Self::AccountDisabled => "account_disabled",
            Self::AdminRequired => "admin_required",
            Self::UserNotFound => "user_not_found",
            Self::OwnAdminAccount => "own_admin_account",
            Self::OwnAdminRole => "own_admin_role",
            Self::SecondFactorChallenge { .. } => "mfa_required",
            Self::InvalidChallenge => "mfa_attempt_invalid",
            Self::TotpAlreadyOn => "totp_already_on",
            Self::TotpNotOn => "totp_not_on",
            Self::SecondFactorRequired => "step_up_required",
            Self::NoTotpPending => "totp_not_pending",
            Self::EmailTaken => "email_taken",
            Self::RecentSignInRequired => "recent_sign_in_required",
            Self::Unavailable(_) => "service_unavailable",
            Self::TokenHookFailed(_) => "token_hook_failed",
        }
    }

    fn status_and_message(&self) -> (StatusCode, &str) {
        match self {
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, message),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large."),
            Self::UserExists => (StatusCode::ACCEPTED, "User already exists. Please Log in."),
            Self::LoginFailed => (StatusCode::NOT_FOUND, "User does not exist."),
            Self::Token(rejection) => (StatusCode::UNAUTHORIZED, rejection.message()),
            Self::LogoutWithoutToken => (StatusCode::FORBIDDEN, TokenRejection::Missing.message()),
            Self::RefreshRejected => (
                StatusCode::UNAUTHORIZED,
                "Invalid refresh token. Please log in again.",
            ),
            Self::RefreshReused => (
                StatusCode::UNAUTHORIZED,
                "Refresh token already used; the session has been ended. Please log in again.",
            ),
            Self::SessionNotFound => (StatusCode::NOT_FOUND, "Session not found."),
            Self::WrongPassword => (StatusCode::FORBIDDEN, "Current password is incorrect."),
            Self::PasswordConflict => (
                StatusCode::CONFLICT,
                "The password was changed meanwhile. Please try again.",
            ),
            Self::TooManyLogins { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many failed logins. Please try again later.",
            ),
            Self::TooManyRegistrations { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many registrations from this address. Please try again later.",
            ),
            Self::TooManyMails { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many codes requested. Please try again later.",
            ),
            Self::InvalidCode => (StatusCode::BAD_REQUEST, "Invalid or expired code."),
            Self::EmailNotVerified => (StatusCode::FORBIDDEN, "Email not verified."),
            Self::EmailAlreadyVerified => (StatusCode::CONFLICT, "Email already verified."),
            Self::AccountDisabled => (StatusCode::FORBIDDEN, "Account disabled."),
            Self::AdminRequired => (StatusCode::FORBIDDEN, "Admin rights required."),
            Self::UserNotFound => (StatusCode::NOT_FOUND, "User not found."),
            Self::OwnAdminAccount => (
                StatusCode::CONFLICT,
                "Admins cannot disable or delete their own account.",
            ),
            Self::OwnAdminRole => (
                StatusCode::CONFLICT,
                "Admins cannot remove their own admin role.",
            ),
            Self::SecondFactorChallenge { .. } => {
                (StatusCode::UNAUTHORIZED, "Second factor required.")
            }
            Self::InvalidChallenge => (
                StatusCode::UNAUTHORIZED,
                "Invalid or expired sign-in attempt.",
            ),
            Self::TotpAlreadyOn => (StatusCode::CONFLICT, "Two-step sign-in is already on."),
            Self::TotpNotOn => (StatusCode::CONFLICT, "Two-step sign-in is not on."),
            Self::SecondFactorRequired => (StatusCode::FORBIDDEN, "Second factor required."),
            Self::NoTotpPending => (
                StatusCode::CONFLICT,
                "Two-step sign-in is not being set up. Please enroll first.",
            ),
            Self::EmailTaken => (StatusCode::CONFLICT, "That email address is taken now."),
            Self::RecentSignInRequired => (StatusCode::FORBIDDEN, "Please sign in again first."),
            Self::InvalidPasskey => (StatusCode::UNAUTHORIZED, "Invalid passkey."),
            Self::PasskeyRejected => (
                StatusCode::BAD_REQUEST,
                "The passkey could not be registered.",
            ),
            Self::PasskeyExists => (StatusCode::CONFLICT, "This passkey is registered already."),
            Self::PasskeyNotFound => (StatusCode::NOT_FOUND, "Passkey not found."),
            Self::LastSignInMethod => (
                StatusCode::CONFLICT,
                "This is the account's last way to sign in.",
            ),
            Self::TooManyCeremonies { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many passkey sign-ins started from this address. Please try again later.",
            ),
            Self::TooManyOauthStarts { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many sign-ins started from this address. Please try again later.",
            ),
            Self::UnknownProvider => (StatusCode::BAD_REQUEST, "Unknown provider."),
            Self::RedirectNotAllowed => (
                StatusCode::BAD_REQUEST,
                "redirect_to is not an allowed URL.",
            ),
            Self::InvalidOauthState => (
                StatusCode::BAD_REQUEST,
                "Invalid, used or expired sign-in state.",
            ),
            Self::InvalidOauthCode => (StatusCode::BAD_REQUEST, "Invalid, used or expired code."),
            Self::CodeVerifierMismatch => (
                StatusCode::BAD_REQUEST,
                "code_verifier does not match the code_challenge.",
            ),
            Self::IdentityNotFound => (StatusCode::NOT_FOUND, "Identity not found."),
            // The detail is for the log, which the caller writes.
            Self::Unavailable(_) | Self::TokenHookFailed(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable. Please try again.",
            ),
        }
    }

    /// The error's HTTP answer: `{"status": "fail", "message", "code"}`, the
    /// challenge's fields beside them, `Retry-After` on a 429.
    pub fn into_reply(self) -> Reply {
        let (status, message) = self.status_and_message();
        let mut fields = serde_json::json!({ "code": self.code() });
        if let Self::SecondFactorChallenge { mfa_token } = &self {
            fields["mfa_token"] = mfa_token.as_str().into();
            fields["methods"] = serde_json::json!(["totp", "recovery_code"]);
        }
        let mut reply = fail_with(status, message, fields);
        if let Self::TooManyLogins { retry_after }
        | Self::TooManyRegistrations { retry_after }
        | Self::TooManyMails { retry_after }
        | Self::TooManyCeremonies { retry_after }
        | Self::TooManyOauthStarts { retry_after } = self
        {
            reply
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        reply
    }
}

#[cfg(test)]
mod tests;
