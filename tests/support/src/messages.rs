//! The contract's messages (openapi.yaml), as the tests expect them. Written
//! out here rather than taken from the service's code: the tests check the
//! contract, so a message changed in the code must fail them, not follow along.

// Successes.
pub const REGISTERED: &str = "Successfully registered.";
pub const LOGGED_IN: &str = "Successfully logged in.";
pub const LOGGED_OUT: &str = "Successfully logged out.";
pub const REFRESHED: &str = "Token refreshed.";
pub const PASSWORD_CHANGED: &str = "Password changed.";
pub const SESSION_REVOKED: &str = "Session revoked.";
pub const CODE_ON_ITS_WAY: &str = "If the address has an account, a code is on its way.";
pub const VERIFICATION_ON_ITS_WAY: &str = "A new verification code is on its way.";
pub const PASSWORD_RESET: &str = "Password reset.";
pub const EMAIL_VERIFIED: &str = "Email verified.";
pub const USER_DISABLED: &str = "User disabled.";
pub const USER_ENABLED: &str = "User enabled.";
pub const USER_SIGNED_OUT: &str = "User signed out.";
pub const USER_DELETED: &str = "User deleted.";
pub const ACCOUNT_DELETED: &str = "Account deleted.";

// Accounts and credentials.
pub const USER_EXISTS: &str = "User already exists. Please Log in.";
pub const USER_DOES_NOT_EXIST: &str = "User does not exist.";
pub const WRONG_CURRENT_PASSWORD: &str = "Current password is incorrect.";
pub const INVALID_CODE: &str = "Invalid or expired code.";
pub const EMAIL_NOT_VERIFIED: &str = "Email not verified.";
pub const ALREADY_VERIFIED: &str = "Email already verified.";
pub const ACCOUNT_DISABLED: &str = "Account disabled.";

// Admins.
pub const ADMIN_REQUIRED: &str = "Admin rights required.";
pub const USER_NOT_FOUND: &str = "User not found.";
pub const OWN_ADMIN_ACCOUNT: &str = "Admins cannot disable or delete their own account.";
pub const BAD_LIMIT: &str = "limit must be a whole number from 1 to 100.";
pub const BAD_CURSOR: &str = "Invalid cursor.";

// Access tokens.
pub const NO_TOKEN: &str = "Provide a valid auth token.";
pub const MALFORMED_BEARER: &str = "Bearer token malformed.";
pub const INVALID_TOKEN: &str = "Invalid token. Please log in again.";
pub const EXPIRED_TOKEN: &str = "Signature expired. Please log in again.";
pub const BLACKLISTED: &str = "Token blacklisted. Please log in again.";

// Limits per account and per address (429, with Retry-After).
pub const THROTTLED: &str = "Too many failed logins. Please try again later.";
pub const TOO_MANY_CODES: &str = "Too many codes requested. Please try again later.";
pub const TOO_MANY_REGISTRATIONS: &str =
    "Too many registrations from this address. Please try again later.";

// Refresh tokens and sessions.
pub const INVALID_REFRESH: &str = "Invalid refresh token. Please log in again.";
pub const REFRESH_REUSED: &str =
    "Refresh token already used; the session has been ended. Please log in again.";
pub const REFRESH_TOKEN_REQUIRED: &str = "refresh_token is required.";
pub const SESSION_NOT_FOUND: &str = "Session not found.";
pub const BAD_SCOPE: &str = "scope must be local, others or global.";

// Bodies.
pub const MALFORMED_JSON: &str = "Malformed JSON body.";
pub const NOT_AN_OBJECT: &str = "Request body must be a JSON object.";
pub const TOO_LARGE: &str = "Request body is too large.";
pub const EMAIL_REQUIRED: &str = "email is required.";
pub const PASSWORD_REQUIRED: &str = "password is required.";
pub const EMAIL_NOT_A_STRING: &str = "email must be a string.";
pub const PASSWORD_NOT_A_STRING: &str = "password must be a string.";
pub const EMAIL_INVALID: &str = "email is not a valid email address.";
pub const PASSWORD_LENGTH: &str = "password must be 8 to 72 bytes long.";
pub const PASSWORD_NUL: &str = "password must not contain NUL characters.";

// Storage.
pub const UNAVAILABLE: &str = "Service unavailable. Please try again.";
