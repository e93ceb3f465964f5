//! The `webhooks` function's settings, read by it alone.

use crate::config::ConfigError;
use crate::hook::signature::WebhookSecret;
use std::time::Duration;

/// At most this many receivers: one SQS batch (10 entries) fans an event out.
pub const MAX_RECEIVERS: usize = 10;
/// Deployed, retries minutes to hours apart: six tries over about seven
/// hours before the dead letters.
pub const DEFAULT_RETRY_SECONDS: &str = "30,120,600,3600,21600";
/// SQS holds a message back at most 12 hours at a time.
const MAX_DELAY_SECONDS: u32 = 12 * 60 * 60;
const DEFAULT_TIMEOUT_MS: u64 = 5_000;

/// One receiver: where events go, and the secret that signs them there.
#[derive(Clone, Debug)]
pub struct Receiver {
    pub url: String,
    pub secret: WebhookSecret,
}

#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// `WEBHOOK_URLS` (comma-separated), each with its `WEBHOOK_SECRET`: one
    /// `whsec_…` for all, or one per URL in the same order.
    pub receivers: Vec<Receiver>,
    /// `WEBHOOK_RETRY_SECONDS`: the waits before each retry; the tries are
    /// one more than the waits, and then the event is dead-lettered.
    pub retry_delays: Vec<u32>,
    /// `WEBHOOK_QUEUE_URL`: the FIFO queue of deliveries.
    pub queue_url: String,
    /// `WEBHOOK_DEAD_LETTER_QUEUE_URL`: where a delivery goes after its last try.
    pub dead_letter_queue_url: String,
    /// `WEBHOOK_TIMEOUT_MS`: how long one try may take.
    pub timeout: Duration,
}

impl WebhookSettings {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let list = |text: &str| -> Vec<String> {
            text.split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let urls = set("WEBHOOK_URLS")
            .map(|urls| list(&urls))
            .unwrap_or_default();
        if urls.len() > MAX_RECEIVERS {
            return Err(ConfigError(format!(
                "WEBHOOK_URLS holds at most {MAX_RECEIVERS} URLs"
            )));
        }
        if let Some(url) = urls
            .iter()
            .find(|url| !(url.starts_with("https://") || url.starts_with("http://")))
        {
            return Err(ConfigError(format!(
                "WEBHOOK_URLS must be http(s) URLs, got {url:?}"
            )));
        }
        let secrets = match set("WEBHOOK_SECRET") {
            Some(text) => list(&text)
                .iter()
                .map(|secret| WebhookSecret::parse("WEBHOOK_SECRET", secret))
                .collect::<Result<Vec<_>, _>>()?,
            None if urls.is_empty() => Vec::new(),
            None => {
                return Err(ConfigError(
                    "WEBHOOK_SECRET is required with WEBHOOK_URLS".into(),
                ));
            }
        };
        if !urls.is_empty() && secrets.len() != 1 && secrets.len() != urls.len() {
            return Err(ConfigError(
                "WEBHOOK_SECRET must be one secret, or one per URL of WEBHOOK_URLS".into(),
            ));
        }
        let receivers = urls
            .into_iter()
            .enumerate()
            .map(|(index, url)| Receiver {
                url,
                secret: secrets[index.min(secrets.len() - 1)].clone(),
            })
            .collect();
        let retry_text =
            set("WEBHOOK_RETRY_SECONDS").unwrap_or_else(|| DEFAULT_RETRY_SECONDS.into());
        let retry_delays = list(&retry_text)
            .iter()
            .map(|delay| delay.parse().ok().filter(|delay| *delay <= MAX_DELAY_SECONDS))
            .collect::<Option<Vec<u32>>>()
            .ok_or_else(|| {
                ConfigError(format!(
                    "WEBHOOK_RETRY_SECONDS must be seconds (0 to {MAX_DELAY_SECONDS}), comma-separated, got {retry_text:?}"
                ))
            })?;
        let required = |name: &str| {
            set(name)
                .map(|value| value.trim().to_owned())
                .ok_or_else(|| ConfigError(format!("{name} is required but not set")))
        };
        let timeout_ms = match set("WEBHOOK_TIMEOUT_MS") {
            None => DEFAULT_TIMEOUT_MS,
            Some(raw) => raw
                .trim()
                .parse()
                .ok()
                .filter(|ms| (100..=30_000).contains(ms))
                .ok_or_else(|| {
                    ConfigError(format!(
                        "WEBHOOK_TIMEOUT_MS must be 100 to 30000, got {raw:?}"
                    ))
                })?,
        };
        Ok(Self {
            receivers,
            retry_delays,
            queue_url: required("WEBHOOK_QUEUE_URL")?,
            dead_letter_queue_url: required("WEBHOOK_DEAD_LETTER_QUEUE_URL")?,
            timeout: Duration::from_millis(timeout_ms),
        })
    }

    /// How many times a delivery is tried before it is dead-lettered.
    pub fn tries(&self) -> u32 {
        u32::try_from(self.retry_delays.len()).map_or(u32::MAX, |delays| delays + 1)
    }
}

/// The receivers' secret from Secrets Manager when `WEBHOOK_SECRET_ID` names
/// one (deployed): its value is what `WEBHOOK_SECRET` would hold. `None`
/// otherwise (locally, the environment's `WEBHOOK_SECRET`). The error names
/// the secret, never its value.
pub async fn read_secret(sdk: &aws_config::SdkConfig) -> Result<Option<String>, ConfigError> {
    let Some(secret_id) = std::env::var("WEBHOOK_SECRET_ID")
        .ok()
        .filter(|id| !id.trim().is_empty())
    else {
        return Ok(None);
    };
    let fault = |what: String| ConfigError(format!("secret {secret_id}: {what}"));
    let output = crate::store::dynamo::secrets_client(sdk)
        .get_secret_value()
        .secret_id(&secret_id)
        .send()
        .await
        .map_err(|e| fault(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string()))?;
    let value = output
        .secret_string()
        .ok_or_else(|| fault("has no string value".into()))?;
    Ok(Some(value.trim().to_owned()))
}
