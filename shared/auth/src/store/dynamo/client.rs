//! The SDK's shared settings and its HTTPS client, built once per cold start.

use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::{BehaviorVersion, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_dynamodb::config::{Credentials, Region, SharedCredentialsProvider, SharedHttpClient};
use std::time::Duration;

/// Shared SDK settings, built from what a Lambda sandbox always sets rather
/// than through aws-config's default provider chains (profile files, SSO, web
/// identity, IMDS…), which a function never needs and which cost init time and
/// binary size: the region from `AWS_REGION`, the credentials from
/// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, and
/// `AWS_ENDPOINT_URL_DYNAMODB` (or `AWS_ENDPOINT_URL`) for DynamoDB Local.
/// TLS trusts only the Amazon Trust Services roots DynamoDB's certificates
/// chain to, so a cold start does not load and parse the system's whole CA
/// store. Explicit bounds, so an unreachable or slow database ends in a 503
/// well inside the function's timeout instead of hanging.
pub async fn sdk_config() -> SdkConfig {
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(
            env("AWS_REGION")
                .or_else(|| env("AWS_DEFAULT_REGION"))
                .map(Region::new),
        )
        .http_client(amazon_https_client())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        // Stalled-stream protection watches a body's throughput through a
        // wrapper and a timer on every poll; our bodies are a few hundred
        // bytes, and the attempt timeout above already bounds a request that
        // stalls (issue 29 target 5, docs/performance.md).
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
    if let (Some(id), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        let credentials =
            Credentials::new(id, secret, env("AWS_SESSION_TOKEN"), None, "Environment");
        config = config.credentials_provider(SharedCredentialsProvider::new(credentials));
    }
    if let Some(url) = env("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| env("AWS_ENDPOINT_URL")) {
        config = config.endpoint_url(url);
    }
    config.build()
}

/// A Secrets Manager client on the same settings, but its own endpoint:
/// `AWS_ENDPOINT_URL_SECRETS_MANAGER` (a local one), else AWS's.
pub fn secrets_client(sdk: &SdkConfig) -> aws_sdk_secretsmanager::Client {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SECRETS_MANAGER")
        .ok()
        .filter(|url| !url.is_empty());
    let mut config = aws_sdk_secretsmanager::config::Builder::from(sdk);
    config.set_endpoint_url(endpoint);
    aws_sdk_secretsmanager::Client::from_conf(config.build())
}

/// Amazon Root CA 1–4 and Starfield Services Root CA G2: the roots AWS
/// documents for its service endpoints.
const AMAZON_ROOT_CAS: &[u8] = include_bytes!("amazon-root-cas.pem");

fn amazon_https_client() -> SharedHttpClient {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
    let trust = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(AMAZON_ROOT_CAS);
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("the TLS context takes the bundled roots");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
}

#[cfg(test)]
mod tests {
    use super::AMAZON_ROOT_CAS;
    use rustls_pki_types::{CertificateDer, pem::PemObject};

    /// DynamoDB Local is plain HTTP, so no test goes through TLS: this at
    /// least proves the bundled trust store parses, and holds all five roots.
    #[test]
    fn the_bundled_trust_store_holds_the_five_amazon_roots() {
        let certificates: Vec<_> = CertificateDer::pem_slice_iter(AMAZON_ROOT_CAS)
            .collect::<Result<_, _>>()
            .expect("the bundled PEM parses");
        assert_eq!(certificates.len(), 5);
        assert!(certificates.iter().all(|der| der.len() > 300));
    }
}
