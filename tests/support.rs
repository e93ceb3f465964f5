//! What the end-to-end tests share: the app wired to DynamoDB Local exactly as a
//! Lambda wires it to DynamoDB, and a way to call it by method and path.
//!
//! `make test` starts DynamoDB Local, creates the tables from template.yaml and
//! sets the environment these read; run the tests through it.

use auth::store::dynamo::{DynamoStore, sdk_config};
use auth::{App, Config, Endpoint};
use aws_sdk_dynamodb::Client;
use lambda_http::http::{HeaderMap, Method, StatusCode};
use lambda_http::{Body, Request};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};

pub type TestApp = App<DynamoStore>;

pub fn config() -> Config {
    Config::from_env().unwrap_or_else(|error| {
        panic!("{error}: run these tests through `make test`, which sets up DynamoDB Local")
    })
}

pub async fn client() -> Client {
    Client::new(&sdk_config().await)
}

pub async fn app() -> TestApp {
    let config = config();
    App::new(config.clone(), DynamoStore::new(client().await, &config))
}

/// The app pointed at a port where nothing listens: storage is down.
pub async fn app_without_storage() -> TestApp {
    let config = config();
    let sdk = sdk_config().await;
    let client = Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .endpoint_url("http://127.0.0.1:9")
            .build(),
    );
    App::new(config.clone(), DynamoStore::new(client, &config))
}

/// An email no other test uses, so tests can share one database.
pub fn unique_email() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("user{}-{n}-{}@example.com", std::process::id(), auth::now())
}

pub const PASSWORD: &str = "correct horse battery";

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    pub fn token(&self) -> String {
        self.body["auth_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no auth_token in {}", self.body))
            .to_owned()
    }

    /// Asserts a `fail` answer with this code and message.
    #[track_caller]
    pub fn assert_fail(&self, status: u16, message: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["status"], "fail", "body: {}", self.body);
        assert_eq!(self.message(), message, "body: {}", self.body);
    }
}

/// Routes `method path` to its endpoint as API Gateway would, and answers.
pub async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: Option<&str>,
) -> Answer {
    let endpoint = Endpoint::ALL
        .into_iter()
        .find(|endpoint| endpoint.route() == (method, path))
        .unwrap_or_else(|| panic!("no route for {method} {path}"));
    let mut request = Request::new(body.map_or(Body::Empty, |b| Body::Text(b.to_owned())));
    *request.method_mut() = Method::from_bytes(method.as_bytes()).unwrap();
    *request.uri_mut() = path.parse().unwrap();
    if let Some(value) = authorization {
        request
            .headers_mut()
            .insert("authorization", value.parse().unwrap());
    }
    let response = endpoint.handle(app, request).await;
    let (parts, body) = response.into_parts();
    assert_eq!(
        parts.headers["content-type"], "application/json",
        "every answer is JSON"
    );
    let body: Value = serde_json::from_slice(body.as_ref()).expect("every body is JSON");
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

pub fn credentials(email: &str, password: &str) -> String {
    serde_json::json!({ "email": email, "password": password }).to_string()
}

pub async fn register(app: &TestApp, email: &str) -> Answer {
    call(
        app,
        "POST",
        "/auth/register",
        None,
        Some(&credentials(email, PASSWORD)),
    )
    .await
}

pub async fn login(app: &TestApp, email: &str, password: &str) -> Answer {
    call(
        app,
        "POST",
        "/auth/login",
        None,
        Some(&credentials(email, password)),
    )
    .await
}

pub async fn status(app: &TestApp, token: &str) -> Answer {
    call(
        app,
        "GET",
        "/auth/status",
        Some(&format!("Bearer {token}")),
        None,
    )
    .await
}

pub async fn logout(app: &TestApp, token: &str) -> Answer {
    call(
        app,
        "POST",
        "/auth/logout",
        Some(&format!("Bearer {token}")),
        None,
    )
    .await
}

/// Signs arbitrary claims with the service's own secret, to forge the tokens
/// an attacker or a clock could produce.
pub fn sign(claims: &Value, algorithm: jsonwebtoken::Algorithm, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(algorithm),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// The claims of a token (trusting it: only for tests).
pub fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}
