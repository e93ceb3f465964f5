//! The token check of every protected endpoint.

use super::App;
use crate::http::error::{ApiError, TokenRejection};
use crate::http::request::bearer_token;
use crate::store::access::{Access, Items};
use crate::store::{Profile, Store};
use crate::tokens::access::Claims;
use lambda_http::Request;

/// The token check's storage: the token's revocation, and its user's profile
/// and session, in one `BatchGetItem`.
pub const TOKEN_CHECK: &[Access] = &[
    Access::revoked("BatchGetItem"),
    Access::users("BatchGetItem", &[Items::User, Items::Sessions]),
];

/// A caller whose access token passed every check.
pub struct Caller {
    pub claims: Claims,
    pub profile: Profile,
}

/// The token check of every protected endpoint.
pub async fn authenticate<S: Store>(app: &App<S>, request: &Request) -> Result<Caller, ApiError> {
    let issuer = app.issuer(crate::http::request::domain_name(request))?;
    check_token(app, bearer_token(request)?, &issuer).await
}

/// The token check itself, for the endpoints and the Lambda authorizer alike:
/// signature and claims, then one storage read for the user, the token's
/// session and its revocation together.
pub async fn check_token<S: Store>(
    app: &App<S>,
    token: &str,
    issuer: &str,
) -> Result<Caller, ApiError> {
    let now = crate::now();
    let claims = app.tokens.verify(token, issuer, now)?;
    let subject = app.store.token_subject(&claims, now).await?;
    if subject.revoked || !subject.session_live {
        return Err(TokenRejection::Revoked.into());
    }
    // A valid signature for a user who no longer exists is still no valid token.
    let profile = subject.profile.ok_or(TokenRejection::Invalid)?;
    // Nor is one for an account an admin has disabled since.
    if profile.disabled {
        return Err(TokenRejection::Revoked.into());
    }
    Ok(Caller { claims, profile })
}
