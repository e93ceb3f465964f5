//! One provider's client: discovery, its JWKS, the authorization URL, the
//! code exchange and the ID token's check, over one `reqwest` client that
//! follows no redirect and gives each call 5 s in all. A provider that is
//! slower, or answers anything but the protocol, fails the sign-in
//! ([`OidcError::ProviderUnavailable`]); nothing it sends can panic.
//!
//! Hand-rolled over `jsonwebtoken` rather than the `openidconnect` crate: that
//! crate (4.x) verifies with RustCrypto's `rsa`, `p256`, `p384` and
//! `ed25519-dalek` beside our aws-lc-rs, and brings `oauth2` 5 (with
//! reqwest 0.12 unless its HTTP trait is implemented); the checks we need are
//! a page over the JWT library that already pins our own tokens' algorithm.

use super::OidcError;
pub use super::discovery::{ClientAuth, Metadata, parse_jwks};
use super::id_token::{self, Expected, IdClaims};
use super::pkce::Verifier;
use super::settings::ProviderSettings;
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use serde_json::Value;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};
use url::Url;

/// Each call to a provider, connection to last byte.
pub const BUDGET: Duration = Duration::from_secs(5);
/// The JWKS is fetched again for an unknown `kid` at most this often.
pub const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// A provider's answer larger than this is not one.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

struct CachedKeys {
    keys: Arc<Vec<Jwk>>,
    fetched_at: Instant,
}

/// One provider, kept for the warm instance's life: its discovery document
/// and JWKS are fetched at the first sign-in and cached.
pub struct Provider {
    settings: ProviderSettings,
    budget: Duration,
    client: OnceLock<reqwest::Client>,
    metadata: OnceLock<Arc<Metadata>>,
    keys: Mutex<Option<CachedKeys>>,
}

impl Provider {
    pub fn new(settings: ProviderSettings) -> Self {
        Self {
            settings,
            budget: BUDGET,
            client: OnceLock::new(),
            metadata: OnceLock::new(),
            keys: Mutex::new(None),
        }
    }

    /// Another budget per call than [`BUDGET`] (for tests).
    pub fn with_budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    pub fn settings(&self) -> &ProviderSettings {
        &self.settings
    }

    fn client(&self) -> Result<&reqwest::Client, OidcError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .timeout(self.budget)
            .connect_timeout(self.budget)
            // A redirect from a provider's endpoint is not followed anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| unavailable(format!("no HTTP client: {error}")))?;
        Ok(self.client.get_or_init(|| client))
    }

    /// The discovery document (`{issuer}/.well-known/openid-configuration`),
    /// checked, fetched once per instance.
    pub async fn metadata(&self) -> Result<Arc<Metadata>, OidcError> {
        if let Some(metadata) = self.metadata.get() {
            return Ok(metadata.clone());
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.settings.issuer.trim_end_matches('/')
        );
        let body = self.get(&url, "discovery").await?;
        let metadata: Metadata = serde_json::from_slice(&body)
            .map_err(|_| unavailable("discovery: not an OpenID configuration"))?;
        metadata.check(&self.settings)?;
        Ok(self.metadata.get_or_init(|| Arc::new(metadata)).clone())
    }

    /// Where to send the person: the provider's authorization endpoint with
    /// the code flow's parameters, PKCE S256 of `code_challenge`.
    pub async fn authorization_url(
        &self,
        redirect_uri: &str,
        state: &str,
        nonce: &str,
        code_challenge: &str,
    ) -> Result<Url, OidcError> {
        let metadata = self.metadata().await?;
        let mut url = Url::parse(&metadata.authorization_endpoint)
            .map_err(|_| unavailable("authorization_endpoint is not a URL"))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &self.settings.scopes.join(" "))
            .append_pair("state", state)
            .append_pair("nonce", nonce)
            .append_pair("code_challenge", code_challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(url)
    }

    /// Exchanges `code` at the token endpoint with the PKCE `verifier`; the
    /// ID token it answers, unchecked.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: &Verifier,
    ) -> Result<String, OidcError> {
        let metadata = self.metadata().await?;
        let settings = &self.settings;
        // Built in a block: the serializer is not `Send`, and must not live
        // across the request's await.
        let request = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "authorization_code")
                .append_pair("code", code)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("code_verifier", verifier.as_str());
            let mut request = self.client()?.post(&metadata.token_endpoint);
            match metadata.client_auth() {
                ClientAuth::Basic => {
                    let encode = |text: &str| {
                        url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
                    };
                    let pair = format!(
                        "{}:{}",
                        encode(&settings.client_id),
                        encode(settings.client_secret())
                    );
                    let basic = base64::engine::general_purpose::STANDARD.encode(pair);
                    request = request.header("authorization", format!("Basic {basic}"));
                }
                ClientAuth::Post => {
                    form.append_pair("client_id", &settings.client_id)
                        .append_pair("client_secret", settings.client_secret());
                }
            }
            request
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(form.finish())
        };
        let (status, body) = self.send(request, "token").await?;
        let answer: Option<Value> = serde_json::from_slice(&body).ok();
        if !status.is_success() {
            let error = answer
                .as_ref()
                .and_then(|answer| answer.get("error"))
                .and_then(Value::as_str)
                .map(|error| {
                    error
                        .chars()
                        .filter(char::is_ascii_graphic)
                        .take(64)
                        .collect::<String>()
                });
            return Err(match error {
                Some(error) if status.is_client_error() => {
                    OidcError::ProviderError(format!("token: {error}"))
                }
                _ => unavailable(format!("token: answered {}", status.as_u16())),
            });
        }
        let answer = answer.ok_or_else(|| unavailable("token: the answer is not JSON"))?;
        match answer.get("id_token").and_then(Value::as_str) {
            Some(id_token) if !id_token.is_empty() => Ok(id_token.to_owned()),
            _ => Err(OidcError::ProviderError("token: no id_token".into())),
        }
    }

    /// Checks `id_token` ([`id_token::verify`]) by the provider's JWKS, the
    /// JWKS fetched again once for a `kid` it does not hold (a rotation), at
    /// most once a minute.
    pub async fn check_id_token(
        &self,
        id_token: &str,
        nonce: &str,
        now: u64,
    ) -> Result<IdClaims, OidcError> {
        let (_, kid) = id_token::header(id_token)?;
        let mut keys = self.keys(false).await?;
        if id_token::select_key(&keys, kid.as_deref()).is_none() && self.may_refetch_keys() {
            keys = self.keys(true).await?;
        }
        let key = id_token::select_key(&keys, kid.as_deref()).ok_or_else(|| {
            OidcError::InvalidIdToken("signed by a key the provider does not list".into())
        })?;
        let expected = Expected {
            issuer: &self.settings.issuer,
            client_id: &self.settings.client_id,
            nonce,
            now,
        };
        id_token::verify(id_token, key, &expected)
    }

    /// The callback's whole exchange: the code for an ID token, checked.
    pub async fn redeem(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: &Verifier,
        nonce: &str,
        now: u64,
    ) -> Result<IdClaims, OidcError> {
        let id_token = self.exchange_code(code, redirect_uri, verifier).await?;
        self.check_id_token(&id_token, nonce, now).await
    }

    fn may_refetch_keys(&self) -> bool {
        let cached = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        cached
            .as_ref()
            .is_none_or(|cached| cached.fetched_at.elapsed() >= JWKS_REFETCH_INTERVAL)
    }

    /// The provider's signing keys: cached, or fetched (`refetch`: fetched
    /// whatever the cache holds).
    async fn keys(&self, refetch: bool) -> Result<Arc<Vec<Jwk>>, OidcError> {
        if !refetch {
            let cached = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(cached) = cached.as_ref() {
                return Ok(cached.keys.clone());
            }
        }
        let metadata = self.metadata().await?;
        let body = self.get(&metadata.jwks_uri, "jwks").await?;
        let keys = Arc::new(parse_jwks(&body)?);
        *self.keys.lock().unwrap_or_else(PoisonError::into_inner) = Some(CachedKeys {
            keys: keys.clone(),
            fetched_at: Instant::now(),
        });
        Ok(keys)
    }

    /// A GET's body, when it answered 200.
    async fn get(&self, url: &str, what: &str) -> Result<Vec<u8>, OidcError> {
        let request = self.client()?.get(url).header("accept", "application/json");
        let (status, body) = self.send(request, what).await?;
        if status != reqwest::StatusCode::OK {
            return Err(unavailable(format!("{what}: answered {}", status.as_u16())));
        }
        Ok(body)
    }

    /// One request within the budget: its status and at most
    /// [`MAX_ANSWER_BYTES`] of body.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<(reqwest::StatusCode, Vec<u8>), OidcError> {
        let failed = |error: reqwest::Error| {
            let error = error.without_url();
            if error.is_timeout() {
                unavailable(format!(
                    "{what}: no answer within {} ms",
                    self.budget.as_millis()
                ))
            } else {
                unavailable(format!("{what}: {error}"))
            }
        };
        let call = async {
            let mut response = request.send().await.map_err(failed)?;
            let status = response.status();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(failed)? {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_ANSWER_BYTES {
                    return Err(unavailable(format!(
                        "{what}: answer over {MAX_ANSWER_BYTES} bytes"
                    )));
                }
            }
            Ok((status, body))
        };
        tokio::time::timeout(self.budget, call).await.map_err(|_| {
            unavailable(format!(
                "{what}: no answer within {} ms",
                self.budget.as_millis()
            ))
        })?
    }

    /// A provider whose discovery document is already known (for tests).
    #[cfg(test)]
    fn with_metadata(self, metadata: Metadata) -> Self {
        let _ = self.metadata.set(Arc::new(metadata));
        self
    }

    /// A provider whose JWKS is already known (for tests).
    #[cfg(test)]
    fn with_keys(self, keys: Vec<Jwk>, fetched_at: Instant) -> Self {
        *self.keys.lock().unwrap_or_else(PoisonError::into_inner) = Some(CachedKeys {
            keys: Arc::new(keys),
            fetched_at,
        });
        self
    }
}

fn unavailable(reason: impl Into<String>) -> OidcError {
    OidcError::ProviderUnavailable(reason.into())
}

#[cfg(test)]
mod tests;
