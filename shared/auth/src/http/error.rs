//! The one error type of the API, and the one place it becomes an HTTP answer.

use crate::http::response::{Reply, fail, fail_with};
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
    /// Storage could not answer. The detail is logged, never sent.
    Unavailable(String),
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

    pub fn into_reply(self) -> Reply {
        match self {
            Self::BadRequest(message) => fail(StatusCode::BAD_REQUEST, &message),
            Self::PayloadTooLarge => {
                fail(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large.")
            }
            Self::UserExists => fail(StatusCode::ACCEPTED, "User already exists. Please Log in."),
            Self::LoginFailed => fail(StatusCode::NOT_FOUND, "User does not exist."),
            Self::Token(rejection) => fail(StatusCode::UNAUTHORIZED, rejection.message()),
            Self::LogoutWithoutToken => {
                fail(StatusCode::FORBIDDEN, TokenRejection::Missing.message())
            }
            Self::RefreshRejected => fail(
                StatusCode::UNAUTHORIZED,
                "Invalid refresh token. Please log in again.",
            ),
            Self::RefreshReused => fail(
                StatusCode::UNAUTHORIZED,
                "Refresh token already used; the session has been ended. Please log in again.",
            ),
            Self::SessionNotFound => fail(StatusCode::NOT_FOUND, "Session not found."),
            Self::WrongPassword => fail(StatusCode::FORBIDDEN, "Current password is incorrect."),
            Self::PasswordConflict => fail(
                StatusCode::CONFLICT,
                "The password was changed meanwhile. Please try again.",
            ),
            Self::TooManyLogins { retry_after } => too_many(
                "Too many failed logins. Please try again later.",
                retry_after,
            ),
            Self::TooManyRegistrations { retry_after } => too_many(
                "Too many registrations from this address. Please try again later.",
                retry_after,
            ),
            Self::TooManyMails { retry_after } => too_many(
                "Too many codes requested. Please try again later.",
                retry_after,
            ),
            Self::InvalidCode => fail(StatusCode::BAD_REQUEST, "Invalid or expired code."),
            Self::EmailNotVerified => fail(StatusCode::FORBIDDEN, "Email not verified."),
            Self::EmailAlreadyVerified => fail(StatusCode::CONFLICT, "Email already verified."),
            Self::AccountDisabled => fail(StatusCode::FORBIDDEN, "Account disabled."),
            Self::AdminRequired => fail(StatusCode::FORBIDDEN, "Admin rights required."),
            Self::UserNotFound => fail(StatusCode::NOT_FOUND, "User not found."),
            Self::OwnAdminAccount => fail(
                StatusCode::CONFLICT,
                "Admins cannot disable or delete their own account.",
            ),
            Self::SecondFactorChallenge { mfa_token } => fail_with(
                StatusCode::UNAUTHORIZED,
                "Second factor required.",
                serde_json::json!({
                    "mfa_token": mfa_token,
                    "methods": ["totp", "recovery_code"],
                }),
            ),
            Self::InvalidChallenge => fail(
                StatusCode::UNAUTHORIZED,
                "Invalid or expired sign-in attempt.",
            ),
            Self::TotpAlreadyOn => fail(StatusCode::CONFLICT, "Two-step sign-in is already on."),
            Self::TotpNotOn => fail(StatusCode::CONFLICT, "Two-step sign-in is not on."),
            Self::SecondFactorRequired => fail(StatusCode::FORBIDDEN, "Second factor required."),
            Self::NoTotpPending => fail(
                StatusCode::CONFLICT,
                "Two-step sign-in is not being set up. Please enroll first.",
            ),
            // The detail is for the log, which the caller writes.
            Self::Unavailable(_) => fail(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable. Please try again.",
            ),
        }
    }
}

/// 429 with the seconds to wait in `Retry-After`.
fn too_many(message: &str, retry_after: u64) -> Reply {
    let mut reply = fail(StatusCode::TOO_MANY_REQUESTS, message);
    reply
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    reply
}
