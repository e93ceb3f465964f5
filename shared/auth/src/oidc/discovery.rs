//! What a provider publishes about itself: its discovery document (OpenID
//! Connect Discovery 1.0), checked against the settings, and its JWKS.

use super::OidcError;
use super::id_token;
use super::settings::{ProviderSettings, is_loopback};
use jsonwebtoken::jwk::Jwk;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

/// The discovery document's fields we use.
#[derive(Clone, Debug, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
}

/// How the client authenticates at the token endpoint (OIDC Core §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// HTTP Basic, id and secret form-encoded first (RFC 6749 §2.3.1).
    Basic,
    /// `client_id` and `client_secret` in the form.
    Post,
}

impl Metadata {
    /// Basic unless the provider lists `client_secret_post` and not
    /// `client_secret_basic` (Basic is the default the spec names).
    pub fn client_auth(&self) -> ClientAuth {
        let methods = self.token_endpoint_auth_methods_supported.as_deref();
        let lists = |name: &str| methods.is_some_and(|methods| methods.iter().any(|m| m == name));
        if lists("client_secret_post") && !lists("client_secret_basic") {
            ClientAuth::Post
        } else {
            ClientAuth::Basic
        }
    }

    /// The document checked for `settings`: its `issuer` exactly the one
    /// configured (OIDC Discovery §4.3; a mix-up otherwise), its endpoints
    /// https (http only for a local issuer, on a loopback host), PKCE S256
    /// offered when the methods are listed.
    pub fn check(&self, settings: &ProviderSettings) -> Result<(), OidcError> {
        if self.issuer != settings.issuer {
            return Err(unavailable(format!(
                "discovery names the issuer {:?}, configured {:?}",
                self.issuer, settings.issuer
            )));
        }
        for (field, value) in [
            ("authorization_endpoint", &self.authorization_endpoint),
            ("token_endpoint", &self.token_endpoint),
            ("jwks_uri", &self.jwks_uri),
        ] {
            let url =
                Url::parse(value).map_err(|_| unavailable(format!("{field} is not a URL")))?;
            let scheme_ok = match url.scheme() {
                "https" => true,
                "http" => settings.is_local() && is_loopback(&url),
                _ => false,
            };
            if !scheme_ok || url.fragment().is_some() || !url.username().is_empty() {
                return Err(unavailable(format!("{field} is not an https URL")));
            }
        }
        if let Some(methods) = &self.code_challenge_methods_supported
            && !methods.iter().any(|method| method == "S256")
        {
            return Err(unavailable("the provider does not offer PKCE S256"));
        }
        Ok(())
    }
}

/// A JWKS document's keys, those we cannot read skipped (a key type we do
/// not know must not hide the others); none at all is a broken provider.
pub fn parse_jwks(body: &[u8]) -> Result<Vec<Jwk>, OidcError> {
    let document: Value =
        serde_json::from_slice(body).map_err(|_| unavailable("jwks: not JSON"))?;
    let listed = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| unavailable("jwks: no keys list"))?;
    let keys: Vec<Jwk> = listed
        .iter()
        .filter_map(|key| serde_json::from_value::<Jwk>(key.clone()).ok())
        .filter(|key| id_token::key_algorithm(key).is_some())
        .collect();
    if keys.is_empty() {
        return Err(unavailable("jwks: no RS256 or ES256 key"));
    }
    Ok(keys)
}

fn unavailable(reason: impl Into<String>) -> OidcError {
    OidcError::ProviderUnavailable(reason.into())
}
