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
    caller_of(claims, subject)
}

/// [`authenticate`], with `alongside` (a read of the token's user, by the
/// verified token's `sub`, that the call needs next) sent together with the
/// token check's read and awaited with it: no round trip of its own (issue
/// 29). Its answer is used only once the check has passed.
pub async fn authenticate_with<S: Store, T, F>(
    app: &App<S>,
    request: &Request,
    alongside: impl FnOnce(String) -> F,
) -> Result<(Caller, T), ApiError>
where
    F: std::future::Future<Output = Result<T, ApiError>>,
{
    let issuer = app.issuer(crate::http::request::domain_name(request))?;
    let now = crate::now();
    let claims = app.tokens.verify(bearer_token(request)?, &issuer, now)?;
    let subject = async { Ok(app.store.token_subject(&claims, now).await?) };
    let (subject, got) =
        futures_util::future::try_join(subject, alongside(claims.sub.clone())).await?;
    Ok((caller_of(claims, subject)?, got))
}

/// The caller, if the token's subject as storage has it lets it in.
fn caller_of(claims: Claims, subject: crate::store::TokenSubject) -> Result<Caller, ApiError> {
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
