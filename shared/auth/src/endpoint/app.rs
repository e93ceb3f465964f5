//! [`App`]: what every handler needs, built once per cold start, and the
//! tokens' issuer.

use crate::Config;
use crate::config::secrets::SecretSource;
use crate::credentials::one_time_code::CodeKey;
use crate::credentials::recovery_codes::RecoveryKey;
use crate::credentials::sealed::SealingKeys;
use crate::hook::TokenHook;
use crate::http::error::ApiError;
use crate::oidc::Provider;
use crate::store::Store;
use crate::tokens::access::Tokens;
use crate::tokens::refresh::RefreshKeys;

/// What every handler needs, built once per cold start.
pub struct App<S> {
    pub config: Config,
    pub tokens: Tokens,
    /// The refresh tokens' HMAC keys.
    pub refresh_token_keys: RefreshKeys,
    /// One-time codes' hashing key ([`crate::credentials::one_time_code`]).
    pub code_key: CodeKey,
    /// Seals the TOTP secrets ([`crate::credentials::sealed`]).
    pub sealing_keys: SealingKeys,
    /// Recovery codes' hashing key ([`crate::credentials::recovery_codes`]).
    pub recovery_key: RecoveryKey,
    pub store: S,
    /// Deployed: where the keys come from, to read them again.
    pub secrets: Option<SecretSource>,
    /// Custom claims for every token, if a hook is set ([`crate::hook`]).
    pub token_hook: Option<TokenHook>,
    /// One client per configured provider (`OIDC_PROVIDERS`), kept for the
    /// instance's life so that discovery and JWKS are fetched once.
    pub providers: Vec<Provider>,
}

impl<S: Store> App<S> {
    pub fn new(config: Config, store: S) -> Self {
        let tokens = Tokens::new(
            config.signing_keys.clone(),
            &config.token_audience,
            config.access_token_ttl_seconds,
        );
        let refresh_token_keys = RefreshKeys::new(&config.refresh_token_secret);
        let code_key = CodeKey::new(&config.refresh_token_secret);
        let sealing_keys = SealingKeys::new(&config.refresh_token_secret, &[]);
        let recovery_key = RecoveryKey::new(&config.refresh_token_secret);
        let token_hook = config.token_hook.clone().map(TokenHook::new);
        let providers = config
            .oidc
            .providers
            .iter()
            .cloned()
            .map(Provider::new)
            .collect();
        Self {
            config,
            tokens,
            refresh_token_keys,
            code_key,
            sealing_keys,
            recovery_key,
            store,
            secrets: None,
            token_hook,
            providers,
        }
    }
}

impl<S> App<S> {
    /// The configured provider called `name`, if any.
    pub fn provider(&self, name: &str) -> Option<&Provider> {
        self.providers
            .iter()
            .find(|provider| provider.settings().name == name)
    }

    /// The `iss` of tokens issued or checked for a request API Gateway
    /// received on `domain` (see [`issuer`]).
    pub fn issuer(&self, domain: Option<&str>) -> Result<String, ApiError> {
        issuer(self.config.public_base_url.as_deref(), domain)
    }

    /// Deployed, reads the secret again once this instance's copy is stale
    /// and puts its key set in force ([`crate::config::secrets`]). A failed read keeps
    /// the keys in force and is logged; the next try waits for the next
    /// stale moment, so an outage of Secrets Manager costs each instance one
    /// call per [`crate::config::secrets::KEY_SET_MAX_AGE_SECONDS`].
    pub async fn reload_signing_keys(&self) {
        let Some(source) = &self.secrets else {
            return;
        };
        if !source.claim_refresh(crate::now()) {
            return;
        }
        let keys = source.read().await.and_then(|settings| {
            let json = settings
                .into_iter()
                .find_map(|(name, value)| (name == "SIGNING_KEYS").then_some(value))
                .unwrap_or_default();
            // Checked as deeply as at a signer's init, in every function: a
            // set whose current key cannot sign is never put in force.
            crate::tokens::keys::KeySet::from_json(&json)
                .and_then(|keys| keys.check_signer().map(|()| keys))
                .map_err(crate::config::ConfigError)
        });
        match keys {
            Ok(keys) => self.tokens.replace_keys(std::sync::Arc::new(keys)),
            Err(error) => tracing::error!("could not refresh the signing keys: {error}"),
        }
    }
}

/// The tokens' `iss`: the configured public base URL, else `https://` and the
/// domain API Gateway received the request on (API Gateway's, never a header
/// the client wrote).
pub fn issuer(public_base_url: Option<&str>, domain: Option<&str>) -> Result<String, ApiError> {
    match (public_base_url, domain) {
        (Some(url), _) => Ok(url.to_owned()),
        (None, Some(domain)) => Ok(format!("https://{domain}")),
        (None, None) => Err(ApiError::Unavailable(
            "no PUBLIC_BASE_URL and no domain name".into(),
        )),
    }
}
