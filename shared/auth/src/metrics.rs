//! What happened, counted: one line of CloudWatch's embedded metric format
//! (EMF) per answer that counts something, written to stdout, which Lambda
//! sends to the function's log group and CloudWatch turns into metrics. No
//! API call on the request path, nothing buffered to lose on a crash.
//!
//! A small writer rather than the `metrics` facade with an EMF recorder
//! (`metrics_cloudwatch_embedded`): the counts are a closed set known at
//! compile time ([`Metric::ALL`], which the template's alarms and the tests
//! name), at most two per request, and a global recorder with label maps and
//! a flush hook tied to one `lambda_runtime` version would add more than the
//! forty lines it saves.
//!
//! Every metric has one dimension, `Service` (the namespace's value), so
//! each name is one CloudWatch metric whatever the traffic: no per-user,
//! per-function or per-address dimension multiplies the bill. Per-function
//! errors, throttles and latency are AWS's own Lambda metrics, free.

use crate::Endpoint;
use crate::http::error::ApiError;
use lambda_http::http::StatusCode;
use serde_json::{Map, Value, json};
use std::sync::LazyLock;

/// A count the service emits: the metric's name is the variant's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// A session opened by login (or login's second step).
    LoginSucceeded,
    /// A login refused for its email or password (the seed's 404).
    LoginFailed,
    /// A login, or a second-factor answer, refused by the brute-force waits (429).
    LoginThrottled,
    /// A right password for an account with TOTP on: the code is asked for.
    LoginChallenged,
    SecondFactorPassed,
    SecondFactorFailed,
    Registrations,
    RegistrationsThrottled,
    RefreshRotated,
    /// A refresh token used again after its rotation: the session ended as a theft.
    RefreshReuseDetected,
    /// Logouts, a session ended by its owner or by an admin.
    SessionsRevoked,
    PasswordResetsRequested,
    PasswordResetsCompleted,
    MailsSent,
    /// A mail SES refused or failed: retried by the stream, then dead-lettered
    /// (the dead-letter queue's own metric counts those).
    MailsFailed,
    /// A mail whose code expired before it could be sent.
    MailsExpired,
    AuthorizerAllowed,
    AuthorizerDenied,
    /// The authorizer could not check (storage unavailable): denied, fail closed.
    AuthorizerErrored,
    /// Any call answered 503 because storage failed.
    StorageUnavailable,
    /// The token hook failed (slow, unreachable, or a bad answer): a 503
    /// under the `deny` policy, a token without custom claims under `skip`.
    TokenHookFailed,
    /// A webhook answered 2xx by its receiver.
    WebhooksDelivered,
    /// A webhook try that failed (retried, or dead-lettered after the last).
    WebhooksFailed,
    /// A webhook given up on after its last try (also the dead-letter
    /// queue's depth, which the template's alarm watches).
    WebhooksDeadLettered,
}

impl Metric {
    pub const ALL: [Metric; 24] = [
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::LoginThrottled,
        Self::LoginChallenged,
        Self::SecondFactorPassed,
        Self::SecondFactorFailed,
        Self::Registrations,
        Self::RegistrationsThrottled,
        Self::RefreshRotated,
        Self::RefreshReuseDetected,
        Self::SessionsRevoked,
        Self::PasswordResetsRequested,
        Self::PasswordResetsCompleted,
        Self::MailsSent,
        Self::MailsFailed,
        Self::MailsExpired,
        Self::AuthorizerAllowed,
        Self::AuthorizerDenied,
        Self::AuthorizerErrored,
        Self::StorageUnavailable,
        Self::TokenHookFailed,
        Self::WebhooksDelivered,
        Self::WebhooksFailed,
        Self::WebhooksDeadLettered,
    ];

    /// The metric's name in CloudWatch (and in the template's alarms).
    pub fn name(self) -> String {
        format!("{self:?}")
    }
}

/// What an endpoint's answer counts: the one table from answers to metrics.
pub fn of_answer(endpoint: Endpoint, answer: Result<StatusCode, &ApiError>) -> Vec<Metric> {
    use Endpoint as E;
    use Metric as M;
    let metric = match (endpoint, answer) {
        (_, Err(ApiError::Unavailable(_))) => M::StorageUnavailable,
        (E::Login | E::LoginMfa, Ok(_)) => {
            return match endpoint {
                E::LoginMfa => vec![M::SecondFactorPassed, M::LoginSucceeded],
                _ => vec![M::LoginSucceeded],
            };
        }
        (E::Login, Err(ApiError::LoginFailed)) => M::LoginFailed,
        (E::Login | E::LoginMfa, Err(ApiError::TooManyLogins { .. })) => M::LoginThrottled,
        (E::Login, Err(ApiError::SecondFactorChallenge { .. })) => M::LoginChallenged,
        (E::LoginMfa, Err(ApiError::InvalidCode | ApiError::InvalidChallenge)) => {
            M::SecondFactorFailed
        }
        (E::Register, Ok(_)) => M::Registrations,
        (E::Register, Err(ApiError::TooManyRegistrations { .. })) => M::RegistrationsThrottled,
        (E::Refresh, Ok(_)) => M::RefreshRotated,
        (E::Refresh, Err(ApiError::RefreshReused)) => M::RefreshReuseDetected,
        (E::Logout | E::RevokeSession | E::SignOutUser, Ok(_)) => M::SessionsRevoked,
        (E::ForgotPassword, Ok(_)) => M::PasswordResetsRequested,
        (E::ResetPassword, Ok(_)) => M::PasswordResetsCompleted,
        _ => return Vec::new(),
    };
    vec![metric]
}

/// The namespace of every metric: `METRICS_NAMESPACE` (the template's
/// `MetricsNamespace`), read once.
static NAMESPACE: LazyLock<String> = LazyLock::new(|| {
    std::env::var("METRICS_NAMESPACE")
        .ok()
        .filter(|namespace| !namespace.trim().is_empty())
        .unwrap_or_else(|| "token-auth".to_owned())
});

/// One EMF document counting each of `metrics` once (`None` for none).
pub fn line(metrics: &[Metric], namespace: &str, timestamp_ms: u64) -> Option<String> {
    if metrics.is_empty() {
        return None;
    }
    let mut document = Map::new();
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|metric| json!({ "Name": metric.name(), "Unit": "Count" }))
        .collect();
    document.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["Service"]],
                "Metrics": definitions,
            }],
        }),
    );
    document.insert("Service".into(), namespace.into());
    for metric in metrics {
        document.insert(metric.name(), 1.into());
    }
    Some(Value::Object(document).to_string())
}

/// Writes the line of `metrics` to stdout, where Lambda collects it.
pub fn emit(metrics: &[Metric]) {
    if let Some(line) = line(metrics, &NAMESPACE, crate::now_millis()) {
        println!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_emf_document_whose_metrics_are_on_its_root() {
        let line = line(
            &[Metric::SecondFactorPassed, Metric::LoginSucceeded],
            "TokenAuth",
            1_795_626_000_000,
        )
        .unwrap();
        assert!(!line.contains('\n'));
        let document: Value = serde_json::from_str(&line).unwrap();
        let directive = &document["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(document["_aws"]["Timestamp"], 1_795_626_000_000_u64);
        assert_eq!(directive["Namespace"], "TokenAuth");
        assert_eq!(directive["Dimensions"], json!([["Service"]]));
        assert_eq!(document["Service"], "TokenAuth");
        let names: Vec<&str> = directive["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|metric| metric["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["SecondFactorPassed", "LoginSucceeded"]);
        for name in names {
            assert_eq!(document[name], 1);
        }
        assert_eq!(super::line(&[], "TokenAuth", 0), None);
    }

    #[test]
    fn answers_count_what_they_did() {
        let ok = Ok(StatusCode::OK);
        assert_eq!(of_answer(Endpoint::Login, ok), [Metric::LoginSucceeded]);
        assert_eq!(
            of_answer(Endpoint::LoginMfa, ok),
            [Metric::SecondFactorPassed, Metric::LoginSucceeded]
        );
        let failed = ApiError::LoginFailed;
        assert_eq!(
            of_answer(Endpoint::Login, Err(&failed)),
            [Metric::LoginFailed]
        );
        let throttled = ApiError::TooManyLogins { retry_after: 1 };
        assert_eq!(
            of_answer(Endpoint::LoginMfa, Err(&throttled)),
            [Metric::LoginThrottled]
        );
        let down = ApiError::Unavailable("x".into());
        assert_eq!(
            of_answer(Endpoint::Status, Err(&down)),
            [Metric::StorageUnavailable]
        );
        assert_eq!(
            of_answer(Endpoint::Refresh, Err(&ApiError::RefreshReused)),
            [Metric::RefreshReuseDetected]
        );
        // Nothing counted for a status check or a bad request.
        assert!(of_answer(Endpoint::Status, ok).is_empty());
        let bad = ApiError::bad_request("x");
        assert!(of_answer(Endpoint::Login, Err(&bad)).is_empty());
    }

    #[test]
    fn every_name_is_distinct_and_a_cloudwatch_name() {
        let names: std::collections::BTreeSet<String> =
            Metric::ALL.iter().map(|metric| metric.name()).collect();
        assert_eq!(names.len(), Metric::ALL.len());
        assert!(
            names
                .iter()
                .all(|name| name.len() <= 255 && name.chars().all(|c| c.is_ascii_alphanumeric()))
        );
    }
}
