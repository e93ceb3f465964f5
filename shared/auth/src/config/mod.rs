//! Settings, read from the environment (or, deployed, partly from Secrets
//! Manager: see [`crate::config::secrets`]) and validated once per cold start.

pub mod relying_party;
pub mod secrets;

use crate::tokens::keys::KeySet;
use std::fmt;
use std::sync::Arc;

/// A refresh-token secret shorter than this is refused: its HMAC keys want at
/// least the 256 bits of their output (RFC 2104 §3).
pub const MIN_SECRET_BYTES: usize = 32;
/// The `aud` of our tokens unless `TOKEN_AUDIENCE` names another.
const DEFAULT_TOKEN_AUDIENCE: &str = "token-auth";
/// What authenticator apps call the account's TOTP entry by default.
const DEFAULT_TOTP_ISSUER: &str = "token-auth";
const DEFAULT_BCRYPT_COST: u32 = 12;
/// bcrypt's own bounds on the cost (log2 of the rounds).
const BCRYPT_COSTS: std::ops::RangeInclusive<u32> = 4..=31;
const DEFAULT_ACCESS_TOKEN_TTL_SECONDS: u64 = 3600;
/// Access tokens are bearer credentials that only logout can revoke; a month
/// is already far longer than a careful deployment would choose.
const MAX_ACCESS_TOKEN_TTL_SECONDS: u64 = 30 * 24 * 3600;
const DEFAULT_REFRESH_TOKEN_TTL_SECONDS: u64 = 30 * 24 * 3600;
const MAX_REFRESH_TOKEN_TTL_SECONDS: u64 = 365 * 24 * 3600;
const DEFAULT_REFRESH_REUSE_GRACE_SECONDS: u64 = 10;
const MAX_REFRESH_REUSE_GRACE_SECONDS: u64 = 300;
/// Cognito's threshold: the sixth failed login in a row waits.
pub const DEFAULT_ACCOUNT_LOGIN_FAILURES_BEFORE_DELAY: u64 = 5;
/// Many users can share one address (offices, mobile carriers' NAT), so a
/// source gets far more failures than an account before its logins wait.
const DEFAULT_SOURCE_LOGIN_FAILURES_BEFORE_DELAY: u64 = 100;
const LOGIN_FAILURES_BEFORE_DELAY: std::ops::RangeInclusive<u64> = 1..=100_000;
/// Each registration costs a bcrypt hash; an office or a carrier's NAT shares
/// one address, so the limit leaves room for a room full of sign-ups.
const DEFAULT_SOURCE_REGISTRATIONS_PER_HOUR: u64 = 100;
/// Each passkey sign-in started writes a ceremony item: enough for a room of
/// people behind one address, too few for a bot to fill the table.
const DEFAULT_SOURCE_PASSKEY_SIGN_INS_PER_HOUR: u64 = 60;
/// Each sign-in with a provider started writes a state item: the same room.
const DEFAULT_SOURCE_OAUTH_STARTS_PER_HOUR: u64 = 60;
/// Code mails one address may be sent per hour, whether or not it has an
/// account (so the limit says nothing about which do).
const DEFAULT_MAILS_PER_EMAIL_PER_HOUR: u64 = 5;
/// Code mails requested from one source address per hour, over all addresses.
const DEFAULT_SOURCE_MAILS_PER_HOUR: u64 = 50;

#[derive(Clone)]
pub struct Config {
    /// The access tokens' RSA keys (`SIGNING_KEYS`).
    pub signing_keys: Arc<KeySet>,
    /// The refresh tokens' HMAC secret (`REFRESH_TOKEN_SECRET`).
    pub refresh_token_secret: Secret,
    /// The tokens' `aud` (`TOKEN_AUDIENCE`).
    pub token_audience: String,
    /// The tokens' `iss`: the API's public base URL (`PUBLIC_BASE_URL`), or
    /// `None` for `https://` and the domain name API Gateway received the
    /// request on (see [`crate::App::issuer`]).
    pub public_base_url: Option<String>,
    pub users_table: String,
    pub revoked_tokens_table: String,
    /// Mails waiting to be sent ([`crate::mail::outbox`]).
    pub outbox_table: String,
    pub bcrypt_cost: u32,
    pub access_token_ttl_seconds: u64,
    /// A session's whole life: its refresh tokens die with it.
    pub refresh_token_ttl_seconds: u64,
    /// How long after a rotation the previous refresh token still gets the same
    /// successor, for clients that retry a refresh whose answer they lost.
    pub refresh_reuse_grace_seconds: u64,
    /// Failed logins of one account (any source) before its logins must wait.
    pub account_login_failures_before_delay: u32,
    /// Failed logins from one source address (any account) before its logins
    /// must wait.
    pub source_login_failures_before_delay: u32,
    /// Registrations from one source address per hour before it gets 429.
    pub source_registrations_per_hour: u32,
    /// Passkey sign-ins started (`POST /auth/passkeys/login/options`) from
    /// one source address per hour before it gets 429.
    pub source_passkey_sign_ins_per_hour: u32,
    /// `GET /auth/oauth/{provider}/start` per source address and hour.
    pub source_oauth_starts_per_hour: u32,
    /// Sign-in with other providers (`OIDC_PROVIDERS`, `ALLOWED_REDIRECT_URLS`).
    pub oidc: crate::oidc::OidcSettings,
    /// Code mails per address per hour (`MAILS_PER_EMAIL_PER_HOUR`).
    pub mails_per_email_per_hour: u32,
    /// Code mails requested per source address per hour (`SOURCE_MAILS_PER_HOUR`).
    pub source_mails_per_hour: u32,
    /// Login refuses an account whose address is not verified
    /// (`REQUIRE_VERIFIED_EMAIL`, off by default).
    pub require_verified_email: bool,
    /// Every admin call needs a token whose sign-in used a second factor
    /// (`REQUIRE_MFA_FOR_ADMINS`; the template's default is on, `make run`'s
    /// off).
    pub require_mfa_for_admins: bool,
    /// The name authenticator apps show beside a TOTP entry (`TOTP_ISSUER`).
    pub totp_issuer: String,
    /// Who may name the client's address (`TRUSTED_PROXY`: `none`, the
    /// default, or `cloudfront`): see [`crate::http::request::client_address`].
    pub trusted_proxy: TrustedProxy,
    /// The token hook, if `TOKEN_HOOK_URL` names one ([`crate::hook`]).
    pub token_hook: Option<crate::hook::HookSettings>,
    /// The passkeys' relying party (`RP_ID`, `RP_ORIGIN`), if any.
    pub relying_party: Option<relying_party::RelyingParty>,
}

/// A proxy in front of API Gateway that names the client's address, trusted
/// only when the deployment says it stands there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrustedProxy {
    /// The connection's address (API Gateway's `sourceIp`) is the client's.
    #[default]
    None,
    /// Amazon CloudFront: its `CloudFront-Viewer-Address` header names the
    /// viewer; `sourceIp` is one of CloudFront's edges.
    CloudFront,
}

/// A secret. Its `Debug` never shows the bytes, so a logged `Config`
/// cannot leak it.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("signing_keys", &self.signing_keys.summary())
            .field("refresh_token_secret", &self.refresh_token_secret)
            .field("token_audience", &self.token_audience)
            .field("totp_issuer", &self.totp_issuer)
            .field("require_mfa_for_admins", &self.require_mfa_for_admins)
            .field("public_base_url", &self.public_base_url)
            .field("users_table", &self.users_table)
            .field("revoked_tokens_table", &self.revoked_tokens_table)
            .field("outbox_table", &self.outbox_table)
            .field("bcrypt_cost", &self.bcrypt_cost)
            .field("access_token_ttl_seconds", &self.access_token_ttl_seconds)
            .field("refresh_token_ttl_seconds", &self.refresh_token_ttl_seconds)
            .field(
                "refresh_reuse_grace_seconds",
                &self.refresh_reuse_grace_seconds,
            )
            .field(
                "account_login_failures_before_delay",
                &self.account_login_failures_before_delay,
            )
            .field(
                "source_login_failures_before_delay",
                &self.source_login_failures_before_delay,
            )
            .field(
                "source_registrations_per_hour",
                &self.source_registrations_per_hour,
            )
            .field(
                "source_passkey_sign_ins_per_hour",
                &self.source_passkey_sign_ins_per_hour,
            )
            .field("mails_per_email_per_hour", &self.mails_per_email_per_hour)
            .field("source_mails_per_hour", &self.source_mails_per_hour)
            .field("require_verified_email", &self.require_verified_email)
            .field("token_hook", &self.token_hook)
            .field("relying_party", &self.relying_party)
            .field("oidc", &self.oidc)
            .finish()
    }
}

/// What is wrong with the environment, worded for the one log line a failed
/// cold start writes.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &str| {
            lookup(name)
                .filter(|value| !value.trim().is_empty())
                .ok_or_else(|| ConfigError(format!("{name} is required but not set")))
        };

        let signing_keys = KeySet::from_json(&required("SIGNING_KEYS")?).map_err(ConfigError)?;
        let refresh_token_secret = required("REFRESH_TOKEN_SECRET")?.into_bytes();
        if refresh_token_secret.len() < MIN_SECRET_BYTES {
            return Err(ConfigError(format!(
                "REFRESH_TOKEN_SECRET must be at least {MIN_SECRET_BYTES} bytes, got {}",
                refresh_token_secret.len()
            )));
        }
        let public_base_url = public_base_url(&lookup)?;
        let relying_party =
            relying_party::RelyingParty::from_lookup(&lookup, public_base_url.as_deref())?;
        let token_audience = lookup("TOKEN_AUDIENCE")
            .map(|audience| audience.trim().to_owned())
            .filter(|audience| !audience.is_empty())
            .unwrap_or_else(|| DEFAULT_TOKEN_AUDIENCE.to_owned());

        let bcrypt_cost = bcrypt_cost(&lookup)?;

        let access_token_ttl_seconds = bounded(
            &lookup,
            "ACCESS_TOKEN_TTL_SECONDS",
            DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
            1..=MAX_ACCESS_TOKEN_TTL_SECONDS,
        )?;
        let refresh_token_ttl_seconds = bounded(
            &lookup,
            "REFRESH_TOKEN_TTL_SECONDS",
            DEFAULT_REFRESH_TOKEN_TTL_SECONDS,
            1..=MAX_REFRESH_TOKEN_TTL_SECONDS,
        )?;
        let refresh_reuse_grace_seconds = bounded(
            &lookup,
            "REFRESH_REUSE_GRACE_SECONDS",
            DEFAULT_REFRESH_REUSE_GRACE_SECONDS,
            0..=MAX_REFRESH_REUSE_GRACE_SECONDS,
        )?;

        let failures_before_delay = |name, default| {
            bounded(&lookup, name, default, LOGIN_FAILURES_BEFORE_DELAY)
                .map(|value| u32::try_from(value).unwrap_or(u32::MAX))
        };
        let account_login_failures_before_delay = failures_before_delay(
            "ACCOUNT_LOGIN_FAILURES_BEFORE_DELAY",
            DEFAULT_ACCOUNT_LOGIN_FAILURES_BEFORE_DELAY,
        )?;
        let source_login_failures_before_delay = failures_before_delay(
            "SOURCE_LOGIN_FAILURES_BEFORE_DELAY",
            DEFAULT_SOURCE_LOGIN_FAILURES_BEFORE_DELAY,
        )?;

        let source_registrations_per_hour = failures_before_delay(
            "SOURCE_REGISTRATIONS_PER_HOUR",
            DEFAULT_SOURCE_REGISTRATIONS_PER_HOUR,
        )?;
        let source_passkey_sign_ins_per_hour = failures_before_delay(
            "SOURCE_PASSKEY_SIGN_INS_PER_HOUR",
            DEFAULT_SOURCE_PASSKEY_SIGN_INS_PER_HOUR,
        )?;

        let source_oauth_starts_per_hour = failures_before_delay(
            "SOURCE_OAUTH_STARTS_PER_HOUR",
            DEFAULT_SOURCE_OAUTH_STARTS_PER_HOUR,
        )?;
        let mails_per_email_per_hour =
            failures_before_delay("MAILS_PER_EMAIL_PER_HOUR", DEFAULT_MAILS_PER_EMAIL_PER_HOUR)?;
        let source_mails_per_hour =
            failures_before_delay("SOURCE_MAILS_PER_HOUR", DEFAULT_SOURCE_MAILS_PER_HOUR)?;
        let switch = |name: &str| match lookup(name).as_deref().map(str::trim) {
            None | Some("" | "false" | "0") => Ok(false),
            Some("true" | "1") => Ok(true),
            Some(other) => Err(ConfigError(format!(
                "{name} must be true or false, got {other:?}"
            ))),
        };
        let require_verified_email = switch("REQUIRE_VERIFIED_EMAIL")?;
        let require_mfa_for_admins = switch("REQUIRE_MFA_FOR_ADMINS")?;
        let trusted_proxy = match lookup("TRUSTED_PROXY").as_deref().map(str::trim) {
            None | Some("" | "none" | "false" | "0") => TrustedProxy::None,
            // CloudFront is the one proxy known: "on" means it.
            Some("cloudfront" | "true" | "1") => TrustedProxy::CloudFront,
            Some(other) => {
                return Err(ConfigError(format!(
                    "TRUSTED_PROXY must be none or cloudfront, got {other:?}"
                )));
            }
        };

        Ok(Self {
            signing_keys: Arc::new(signing_keys),
            refresh_token_secret: Secret(refresh_token_secret),
            token_audience,
            public_base_url,
            users_table: required("USERS_TABLE")?,
            revoked_tokens_table: required("REVOKED_TOKENS_TABLE")?,
            outbox_table: required("OUTBOX_TABLE")?,
            bcrypt_cost,
            access_token_ttl_seconds,
            refresh_token_ttl_seconds,
            refresh_reuse_grace_seconds,
            account_login_failures_before_delay,
            source_login_failures_before_delay,
            source_registrations_per_hour,
            source_passkey_sign_ins_per_hour,
            source_oauth_starts_per_hour,
            oidc: crate::oidc::OidcSettings::from_lookup(&lookup)?,
            mails_per_email_per_hour,
            source_mails_per_hour,
            require_verified_email,
            require_mfa_for_admins,
            totp_issuer: lookup("TOTP_ISSUER")
                .filter(|name| !name.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_TOTP_ISSUER.to_owned()),
            trusted_proxy,
            token_hook: crate::hook::HookSettings::from_lookup(&lookup)?,
            relying_party,
        })
    }
}

/// `PUBLIC_BASE_URL`, without a trailing slash; `None` when unset or empty.
/// Read apart from the rest by the functions that need nothing else.
pub fn public_base_url(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, ConfigError> {
    let url = lookup("PUBLIC_BASE_URL")
        .map(|url| url.trim().trim_end_matches('/').to_owned())
        .filter(|url| !url.is_empty());
    match url {
        Some(url) if !(url.starts_with("https://") || url.starts_with("http://")) => {
            Err(ConfigError(format!(
                "PUBLIC_BASE_URL must be an http(s) URL, got {url:?}"
            )))
        }
        url => Ok(url),
    }
}

/// A whole number of seconds from `name`, `default` when unset, within `range`.
fn bounded(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let value = parse_or(lookup, name, default)?;
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError(format!(
            "{name} must be between {} and {}, got {value}",
            range.start(),
            range.end()
        )))
    }
}

/// `BCRYPT_COST` (default 12), for the functions and `make create-admin` alike.
pub fn bcrypt_cost(lookup: &impl Fn(&str) -> Option<String>) -> Result<u32, ConfigError> {
    let bcrypt_cost = parse_or(lookup, "BCRYPT_COST", DEFAULT_BCRYPT_COST)?;
    if !BCRYPT_COSTS.contains(&bcrypt_cost) {
        return Err(ConfigError(format!(
            "BCRYPT_COST must be between {} and {}, got {bcrypt_cost}",
            BCRYPT_COSTS.start(),
            BCRYPT_COSTS.end()
        )));
    }
    Ok(bcrypt_cost)
}

fn parse_or<T: std::str::FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
) -> Result<T, ConfigError> {
    match lookup(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|_| ConfigError(format!("{name} must be a whole number, got {raw:?}"))),
    }
}

#[cfg(test)]
mod tests;
