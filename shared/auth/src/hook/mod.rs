//! The token hook: custom claims from the team's own code, with no fork.
//!
//! With `TOKEN_HOOK_URL` set, every access token the service is about to
//! issue (registration, login, its second step, TOTP confirmation, refresh)
//! first costs one POST to that URL, signed per Standard Webhooks
//! ([`signature`]), carrying who is signing in: `{"type": "token.issuing",
//! "timestamp", "data": {"user_id", "email", "roles", "user_metadata",
//! "app_metadata", "amr"}}`. The JSON object it answers (at most 4 KB, 5
//! levels) goes into the token as its `claims` claim; the names the service
//! itself sets in a token are dropped from it ([`RESERVED`]), so nothing
//! downstream can be fooled into reading a hook's `sub` as ours.
//!
//! The hook is called before anything is written, so a hook that fails
//! leaves nothing behind. It gets `TOKEN_HOOK_TIMEOUT_MS` (1,000 by default)
//! for the whole exchange; a hook that is slower, answers anything but a 2xx
//! with a JSON object, or cannot be reached has failed, and
//! `TOKEN_HOOK_FAILURE` says what then: `deny` (the default: a 503, no
//! token, as a team whose authorisation depends on those claims needs) or
//! `skip` (the token without `claims`). Either way one warning line names
//! the fault (never the body) and the `TokenHookFailed` metric counts it.

pub mod signature;

use crate::config::ConfigError;
use crate::http::error::ApiError;
use crate::metadata::{self, Metadata};
use crate::metrics::{self, Metric};
use serde::Serialize;
use serde_json::{Value, json};
use signature::WebhookSecret;
use std::sync::OnceLock;
use std::time::Duration;

/// Names the service sets in every token: a hook's answer cannot carry them.
pub const RESERVED: [&str; 13] = [
    "sub",
    "iss",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "sid",
    "amr",
    "roles",
    "admin",
    "auth_time",
    "claims",
];
const DEFAULT_TIMEOUT_MS: u64 = 1000;
const TIMEOUTS_MS: std::ops::RangeInclusive<u64> = 10..=10_000;
/// An answer longer than this is not read to its end: a 4 KB object with
/// generous whitespace fits.
const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// What a failed hook means for the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// No token: 503.
    Deny,
    /// The token, without custom claims.
    Skip,
}

/// The hook's settings (`TOKEN_HOOK_URL`, `TOKEN_HOOK_SECRET`,
/// `TOKEN_HOOK_TIMEOUT_MS`, `TOKEN_HOOK_FAILURE`).
#[derive(Clone, Debug)]
pub struct HookSettings {
    pub url: String,
    pub secret: WebhookSecret,
    pub timeout: Duration,
    pub on_failure: OnFailure,
}

impl HookSettings {
    /// `None` when `TOKEN_HOOK_URL` is unset or empty: no hook.
    pub fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let set = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let Some(url) = set("TOKEN_HOOK_URL").map(|url| url.trim().to_owned()) else {
            return Ok(None);
        };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ConfigError(format!(
                "TOKEN_HOOK_URL must be an http(s) URL, got {url:?}"
            )));
        }
        let secret = set("TOKEN_HOOK_SECRET").ok_or_else(|| {
            ConfigError("TOKEN_HOOK_SECRET is required with TOKEN_HOOK_URL".into())
        })?;
        let secret = WebhookSecret::parse("TOKEN_HOOK_SECRET", &secret)?;
        let timeout_ms = match set("TOKEN_HOOK_TIMEOUT_MS") {
            None => DEFAULT_TIMEOUT_MS,
            Some(raw) => raw
                .trim()
                .parse()
                .ok()
                .filter(|ms| TIMEOUTS_MS.contains(ms))
                .ok_or_else(|| {
                    ConfigError(format!(
                        "TOKEN_HOOK_TIMEOUT_MS must be 10 to 10000, got {raw:?}"
                    ))
                })?,
        };
        let on_failure = match set("TOKEN_HOOK_FAILURE").as_deref().map(str::trim) {
            None | Some("deny") => OnFailure::Deny,
            Some("skip") => OnFailure::Skip,
            Some(other) => {
                return Err(ConfigError(format!(
                    "TOKEN_HOOK_FAILURE must be deny or skip, got {other:?}"
                )));
            }
        };
        Ok(Some(Self {
            url,
            secret,
            timeout: Duration::from_millis(timeout_ms),
            on_failure,
        }))
    }
}

/// Who a token is about to be issued to: what the hook is sent.
#[derive(Debug, Serialize)]
pub struct HookSubject<'a> {
    pub user_id: &'a str,
    pub email: &'a str,
    pub roles: &'a [String],
    pub user_metadata: &'a Metadata,
    pub app_metadata: &'a Metadata,
    pub amr: &'a [String],
}

/// The hook and the HTTP client that calls it: made at the first token,
/// not at init (the functions that never sign one never make it), then kept
/// with its connections warm for the instance's later requests.
pub struct TokenHook {
    settings: HookSettings,
    client: OnceLock<reqwest::Client>,
}

impl TokenHook {
    pub fn new(settings: HookSettings) -> Self {
        Self {
            settings,
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> Result<&reqwest::Client, String> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .timeout(self.settings.timeout)
            // A hook that redirects is misconfigured: do not follow it elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("no HTTP client: {e}"))?;
        Ok(self.client.get_or_init(|| client))
    }

    /// The custom claims for `subject`'s next token: `None` when the hook
    /// failed and the policy is to skip it; a 503 when it is to deny.
    pub async fn claims(
        &self,
        subject: &HookSubject<'_>,
        now: u64,
    ) -> Result<Option<Metadata>, ApiError> {
        let asked = tokio::time::timeout(self.settings.timeout, self.ask(subject, now)).await;
        let fault = match asked {
            Ok(Ok(claims)) => return Ok(Some(claims)),
            Ok(Err(fault)) => fault,
            Err(_) => format!("no answer within {} ms", self.settings.timeout.as_millis()),
        };
        metrics::emit(&[Metric::TokenHookFailed]);
        let policy = self.settings.on_failure;
        tracing::warn!(%fault, ?policy, "token hook failed");
        match policy {
            OnFailure::Deny => Err(ApiError::TokenHookFailed(fault)),
            OnFailure::Skip => Ok(None),
        }
    }

    /// One signed POST and its answer, checked. The fault names what went
    /// wrong, never the answer's content.
    async fn ask(&self, subject: &HookSubject<'_>, now: u64) -> Result<Metadata, String> {
        let body =
            json!({"type": "token.issuing", "timestamp": crate::rfc3339(now), "data": subject});
        let body = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
        let id = crate::ids::new_random_id().map_err(|_| "no randomness".to_owned())?;
        let signed = self.settings.secret.sign(&format!("msg_{id}"), now, &body);
        let mut response = self
            .client()?
            .post(&self.settings.url)
            .header("content-type", "application/json")
            .header("webhook-id", signed.id)
            .header("webhook-timestamp", signed.timestamp)
            .header("webhook-signature", signed.signature)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("request failed: {}", without_url(e)))?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status().as_u16()));
        }
        let mut answer = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("answer cut: {}", without_url(e)))?
        {
            answer.extend_from_slice(&chunk);
            if answer.len() > MAX_ANSWER_BYTES {
                return Err(format!("answer over {MAX_ANSWER_BYTES} bytes"));
            }
        }
        let value: Value =
            serde_json::from_slice(&answer).map_err(|_| "answer is not JSON".to_owned())?;
        let mut claims =
            metadata::from_request("the answer", Some(value)).map_err(|error| match error {
                ApiError::BadRequest(reason) => reason,
                _ => "answer refused".to_owned(),
            })?;
        let dropped: Vec<&str> = RESERVED
            .into_iter()
            .filter(|name| claims.remove(*name).is_some())
            .collect();
        if !dropped.is_empty() {
            tracing::warn!(?dropped, "token hook answered reserved claims; dropped");
        }
        Ok(claims)
    }
}

/// A client error's text without the URL, which may carry a credential in
/// its query.
fn without_url(error: reqwest::Error) -> String {
    error.without_url().to_string()
}

#[cfg(test)]
mod tests;
