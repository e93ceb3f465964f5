//! The `axum` feature: [`VerifiedClaims`], an extractor that answers 401
//! with a JSON body when the request's bearer token does not verify.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use token_auth_verify::{Verifier, VerifiedClaims};
//!
//! async fn me(VerifiedClaims(claims): VerifiedClaims) -> String {
//!     claims.sub
//! }
//!
//! # fn app(verifier: Verifier) -> Router {
//! Router::new().route("/me", get(me)).with_state(verifier)
//! # }
//! ```

use crate::{Claims, Verifier, VerifyError};
use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};

/// The claims of the request's verified `Authorization: Bearer` token. The
/// [`Verifier`] comes from the router's state (`FromRef`).
#[derive(Debug, Clone)]
pub struct VerifiedClaims(pub Claims);

impl std::ops::Deref for VerifiedClaims {
    type Target = Claims;

    fn deref(&self) -> &Claims {
        &self.0
    }
}

/// Why [`VerifiedClaims`] refused a request: 401 with
/// `WWW-Authenticate: Bearer` and `{"error": …, "message": …}`, or 503 when
/// the keys or storage could not be reached.
#[derive(Debug, Clone)]
pub struct Rejection {
    /// `None` when the request had no bearer token.
    pub error: Option<VerifyError>,
}

impl<S> FromRequestParts<S> for VerifiedClaims
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = (parts.headers.get(header::AUTHORIZATION))
            .and_then(bearer)
            .ok_or(Rejection { error: None })?;
        let verifier = Verifier::from_ref(state);
        match verifier.verify(token).await {
            Ok(claims) => Ok(Self(claims)),
            Err(error) => Err(Rejection { error: Some(error) }),
        }
    }
}

/// `Option<VerifiedClaims>`: `None` for a request without an
/// `Authorization` header (a route open to everyone that says more to a
/// signed-in caller); a header whose token does not verify is still refused.
impl<S> OptionalFromRequestParts<S> for VerifiedClaims
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(None);
        }
        <Self as FromRequestParts<S>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

/// The token of `Bearer <token>` (the scheme in any case, RFC 9110 §11.1).
pub fn bearer(value: &HeaderValue) -> Option<&str> {
    let value = value.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
        .then_some(token)
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let (status, error, message) = match &self.error {
            None => (
                StatusCode::UNAUTHORIZED,
                "missing_token",
                "a bearer token is required".to_owned(),
            ),
            Some(error) if error.is_unavailable() => (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the token could not be checked; try again".to_owned(),
            ),
            Some(error) => (StatusCode::UNAUTHORIZED, "invalid_token", error.to_string()),
        };
        let body = serde_json::json!({ "error": error, "message": message }).to_string();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
