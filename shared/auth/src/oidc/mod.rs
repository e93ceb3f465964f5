//! Sign-in with another provider by OpenID Connect (issue 28): the
//! foundations, dormant until the endpoints (`/auth/oauth/{provider}/start`,
//! its `callback`, `POST /auth/oauth/token`, linking) are built on them in a
//! later change; nothing here is routed yet.
//! - [`settings`]: `OIDC_PROVIDERS` (each provider's issuer, client and
//!   button) and `ALLOWED_REDIRECT_URLS`, with the exact match of an app's
//!   `redirect_to` and the origins CORS allows.
//! - [`pkce`]: the S256 verifier and challenge (RFC 7636), towards the
//!   provider and for the app's one-time code.
//! - [`discovery`]: the provider's discovery document, checked, and its
//!   JWKS.
//! - [`provider`]: one provider's client: discovery and its JWKS, cached per
//!   warm instance; the authorization URL; the code exchange; all over one
//!   HTTP client with no redirects and a 5 s budget per call.
//! - [`id_token`]: the ID token's checks (signature, algorithm, `iss`, `aud`,
//!   `exp`, `iat`, `nonce`) and the claims kept from it.
//!
//! Locally the provider is `scripts/local/oidc-provider.js` (npm's
//! oauth2-mock-server); `tests/oidc_provider.rs` runs this client against it.

pub mod discovery;
pub mod id_token;
pub mod pkce;
pub mod provider;
pub mod settings;

pub use id_token::IdClaims;
pub use provider::Provider;
pub use settings::{OidcSettings, ProviderSettings, RedirectAllowList};

use std::fmt;

/// Why a sign-in through a provider failed. [`OidcError::code`] is what the
/// app sees (`error=<code>` on its redirect); the detail is for the log only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OidcError {
    /// The provider could not be asked: no answer within the budget, a
    /// connection refused, an HTTP error, or an answer that is not what the
    /// protocol says (not JSON, fields missing, an issuer not the configured
    /// one).
    ProviderUnavailable(String),
    /// The provider answered, and refused: an OAuth error at its token
    /// endpoint (`invalid_grant`: a wrong code or PKCE verifier), or on the
    /// callback.
    ProviderError(String),
    /// The ID token failed a check (signature, algorithm, issuer, audience,
    /// times, claims).
    InvalidIdToken(String),
    /// The ID token's `nonce` is not the one stored with the state: a token
    /// from another sign-in.
    NonceMismatch,
}

impl OidcError {
    /// The stable code for the `error=<code>` redirect.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ProviderUnavailable(_) => "provider_unavailable",
            Self::ProviderError(_) => "provider_error",
            Self::InvalidIdToken(_) => "invalid_id_token",
            Self::NonceMismatch => "nonce_mismatch",
        }
    }
}

impl fmt::Display for OidcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ProviderUnavailable(detail)
            | Self::ProviderError(detail)
            | Self::InvalidIdToken(detail) => write!(f, "{}: {detail}", self.code()),
            Self::NonceMismatch => f.write_str(self.code()),
        }
    }
}

impl std::error::Error for OidcError {}
