//! The verifier: its configuration, its cache of the key set, and the checks.

use crate::header::checked_header;
use crate::{Claims, VerifyError, jwks};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// Where the issuer publishes its keys, under its base URL.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// The service's default `TOKEN_AUDIENCE`.
pub const DEFAULT_AUDIENCE: &str = "token-auth";
/// How long a key set is kept when its answer has no `Cache-Control: max-age`.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
/// The least time between two fetches of the key set, whatever their cause.
pub const DEFAULT_REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// A `max-age` longer than this is cut to it: a key dropped by the issuer
/// must not stay trusted for days because a proxy said so.
const LONGEST_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// Checks access tokens against the issuer's published keys. Cheap to clone
/// (one `Arc`): clones share the cache, so make one per process.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    jwks_url: String,
    leeway: u64,
    refetch_interval: Duration,
    default_max_age: Duration,
    http: reqwest::Client,
    validation: Validation,
    /// The key set last fetched, swapped whole.
    cache: RwLock<Option<Arc<Cached>>>,
    /// Held while fetching, so that concurrent callers share one fetch.
    fetching: tokio::sync::Mutex<()>,
    /// The last fetch, whether it worked or not.
    attempt: Mutex<Attempt>,
    /// Fetches started (successful or not).
    fetches: AtomicU64,
    #[cfg(feature = "revocation")]
    revocation: Option<crate::RevocationCheck>,
}

struct Cached {
    keys: HashMap<String, Arc<DecodingKey>>,
    /// Until when the set is used without asking the issuer again.
    fresh_until: Instant,
}

#[derive(Default)]
struct Attempt {
    at: Option<Instant>,
    /// Counts attempts, so that a caller who waited for another's fetch
    /// knows it happened.
    generation: u64,
    error: Option<String>,
}

/// Configures a [`Verifier`]; from [`Verifier::builder`].
#[must_use]
pub struct VerifierBuilder {
    issuer: String,
    audience: String,
    jwks_url: Option<String>,
    leeway: u64,
    refetch_interval: Duration,
    default_max_age: Duration,
    timeout: Duration,
    http: Option<reqwest::Client>,
    #[cfg(feature = "revocation")]
    revocation: Option<crate::RevocationCheck>,
}

impl VerifierBuilder {
    /// The `aud` tokens must carry: the service's `TOKEN_AUDIENCE`
    /// ([`DEFAULT_AUDIENCE`] unless set).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// Where to fetch the key set, when not at `{issuer}/.well-known/jwks.json`
    /// (a private address of the same service, say).
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = Some(url.into());
        self
    }

    /// The least time between two fetches of the key set
    /// ([`DEFAULT_REFETCH_INTERVAL`]): a token naming an unknown `kid`
    /// triggers a fetch only if none happened for this long, and a set whose
    /// `max-age` is shorter is kept this long all the same.
    pub fn refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }

    /// How long to keep a key set whose answer gives no `max-age`
    /// ([`DEFAULT_MAX_AGE`]).
    pub fn default_max_age(mut self, max_age: Duration) -> Self {
        self.default_max_age = max_age;
        self
    }

    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds (0, as the
    /// service itself allows).
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// The time limit of one fetch of the key set (5 seconds), when the
    /// builder makes its own HTTP client.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// An HTTP client of the caller's (proxies, roots, its own timeouts).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Checks every verified token against storage as the authorizer does.
    #[cfg(feature = "revocation")]
    pub fn revocation(mut self, check: crate::RevocationCheck) -> Self {
        self.revocation = Some(check);
        self
    }

    /// The verifier. Fetches nothing yet: the first verify does.
    pub fn build(self) -> Result<Verifier, VerifyError> {
        let issuer = self.issuer.trim_end_matches('/').to_owned();
        let http = match self.http {
            Some(client) => client,
            None => reqwest::Client::builder()
                .timeout(self.timeout)
                .build()
                .map_err(|e| VerifyError::KeysUnavailable(format!("no HTTP client: {e}")))?,
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&[&self.audience]);
        validation.leeway = self.leeway;
        validation.validate_nbf = true;
        let jwks_url = (self.jwks_url).unwrap_or_else(|| format!("{issuer}{JWKS_PATH}"));
        Ok(Verifier {
            inner: Arc::new(Inner {
                jwks_url,
                leeway: self.leeway,
                refetch_interval: self.refetch_interval,
                default_max_age: self.default_max_age,
                http,
                validation,
                cache: RwLock::new(None),
                fetching: tokio::sync::Mutex::new(()),
                attempt: Mutex::new(Attempt::default()),
                fetches: AtomicU64::new(0),
                #[cfg(feature = "revocation")]
                revocation: self.revocation,
            }),
        })
    }
}

impl Verifier {
    /// A verifier of the tokens `issuer` (the service's public base URL,
    /// which is also their `iss`) signs, with its keys fetched from
    /// `{issuer}/.well-known/jwks.json`.
    pub fn builder(issuer: impl Into<String>) -> VerifierBuilder {
        VerifierBuilder {
            issuer: issuer.into(),
            audience: DEFAULT_AUDIENCE.to_owned(),
            jwks_url: None,
            leeway: 0,
            refetch_interval: DEFAULT_REFETCH_INTERVAL,
            default_max_age: DEFAULT_MAX_AGE,
            timeout: Duration::from_secs(5),
            http: None,
            #[cfg(feature = "revocation")]
            revocation: None,
        }
    }

    /// The claims of `token` if it is a live access token of the issuer's
    /// (and, with a [`crate::RevocationCheck`], not revoked).
    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        let claims = self.verify_signed(token).await?;
        #[cfg(feature = "revocation")]
        if let Some(check) = &self.inner.revocation {
            check.check(&claims).await?;
        }
        Ok(claims)
    }

    /// The signature and claims checks alone, without the revocation check
    /// even when one is configured.
    pub async fn verify_signed(&self, token: &str) -> Result<Claims, VerifyError> {
        let kid = checked_header(token)?;
        let key = self.key(&kid).await?;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &self.inner.validation)
            .map_err(|error| match error.kind() {
                ErrorKind::InvalidSignature => VerifyError::BadSignature,
                ErrorKind::ExpiredSignature => VerifyError::Expired,
                ErrorKind::ImmatureSignature => VerifyError::NotYetValid,
                ErrorKind::InvalidIssuer => VerifyError::WrongIssuer,
                ErrorKind::InvalidAudience => VerifyError::WrongAudience,
                ErrorKind::InvalidAlgorithm => VerifyError::WrongAlgorithm,
                ErrorKind::MissingRequiredClaim(claim) => {
                    VerifyError::Invalid(format!("no {claim} claim"))
                }
                ErrorKind::Json(e) => VerifyError::Invalid(format!("claims: {e}")),
                ErrorKind::InvalidClaimFormat(claim) => {
                    VerifyError::Invalid(format!("{claim} claim of the wrong type"))
                }
                _ => VerifyError::Malformed,
            })?
            .claims;
        let now = crate::now();
        // jsonwebtoken accepts a token in the second it expires; RFC 7519
        // §4.1.4 says from that second on it must be refused.
        if claims.exp.saturating_add(self.inner.leeway) <= now {
            return Err(VerifyError::Expired);
        }
        // The service never issues a token dated in the future.
        if claims.iat > now.saturating_add(self.inner.leeway) {
            return Err(VerifyError::NotYetValid);
        }
        Ok(claims)
    }

    /// How many times the key set was fetched (or a fetch tried), for
    /// metrics and tests.
    pub fn jwks_fetches(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// The URL the key set is fetched from.
    pub fn jwks_url(&self) -> &str {
        &self.inner.jwks_url
    }

    /// The key `kid` names: from the cache while it is fresh; otherwise
    /// after a fetch, unless one happened within the refetch interval.
    async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, VerifyError> {
        let started = Instant::now();
        if let Some(cached) = self.cached().filter(|cached| started < cached.fresh_until) {
            if let Some(key) = cached.keys.get(kid) {
                return Ok(Arc::clone(key));
            }
            // A fresh set without the kid, refetched lately: no need to wait.
            if self
                .attempt()
                .at
                .is_some_and(|at| at.elapsed() < self.inner.refetch_interval)
            {
                return Err(VerifyError::UnknownKey);
            }
        }
        let seen = self.attempt().generation;
        let _fetching = self.inner.fetching.lock().await;
        let (generation, recent) = {
            let attempt = self.attempt();
            let recent = (attempt.at).is_some_and(|at| at.elapsed() < self.inner.refetch_interval);
            (attempt.generation, recent)
        };
        // Someone else fetched while this caller waited, or lately: their
        // answer is the answer.
        if generation == seen && !recent {
            self.fetch().await;
        }
        self.lookup(kid)
    }

    fn lookup(&self, kid: &str) -> Result<Arc<DecodingKey>, VerifyError> {
        match self.cached() {
            Some(cached) if Instant::now() < cached.fresh_until => {
                cached.keys.get(kid).cloned().ok_or(VerifyError::UnknownKey)
            }
            // Fail closed: a stale set is not used once its refetch failed.
            _ => Err(VerifyError::KeysUnavailable(
                (self.attempt().error.clone()).unwrap_or_else(|| "no key set fetched".into()),
            )),
        }
    }

    /// Fetches the key set, and puts it in force or records the failure.
    async fn fetch(&self) {
        self.inner.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = self.download().await;
        let now = Instant::now();
        let mut attempt = self.attempt();
        attempt.at = Some(now);
        attempt.generation += 1;
        match fetched {
            Ok((keys, max_age)) => {
                attempt.error = None;
                let keep = max_age
                    .unwrap_or(self.inner.default_max_age)
                    .min(LONGEST_MAX_AGE)
                    .max(self.inner.refetch_interval);
                let cached = Cached {
                    keys,
                    fresh_until: now + keep,
                };
                *self
                    .inner
                    .cache
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(cached));
            }
            Err(error) => attempt.error = Some(error),
        }
    }

    async fn download(
        &self,
    ) -> Result<(HashMap<String, Arc<DecodingKey>>, Option<Duration>), String> {
        let url = &self.inner.jwks_url;
        let mut response = (self.inner.http.get(url))
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: {}", response.status()));
        }
        let max_age = (response.headers().get("cache-control"))
            .and_then(|value| value.to_str().ok())
            .and_then(jwks::max_age);
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?
        {
            if body.len() + chunk.len() > jwks::MAX_JWKS_BYTES {
                return Err(format!(
                    "GET {url}: a key set over {} bytes",
                    jwks::MAX_JWKS_BYTES
                ));
            }
            body.extend_from_slice(&chunk);
        }
        let keys = jwks::parse(&body).map_err(|e| format!("GET {url}: {e}"))?;
        Ok((keys, max_age))
    }

    fn cached(&self) -> Option<Arc<Cached>> {
        (self
            .inner
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner))
        .clone()
    }

    fn attempt(&self) -> std::sync::MutexGuard<'_, Attempt> {
        self.inner
            .attempt
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("jwks_url", &self.inner.jwks_url)
            .field("jwks_fetches", &self.jwks_fetches())
            .finish_non_exhaustive()
    }
}
