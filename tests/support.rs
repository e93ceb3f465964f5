#![allow(dead_code)] // Each test file uses its own part of this module.

//! What the API tests share: one way to call the API, in-process or over HTTP,
//! and direct access to the service's database and secret where there is one.
//!
//! - In `make test`, the app runs in-process, wired to DynamoDB Local exactly
//!   as a Lambda wires it to DynamoDB.
//! - With `API_URL` set (`make test-e2e`), every call goes over HTTP: to
//!   `cargo lambda watch`, or to a deployed stack. Against a deployment the
//!   tests that need the database or the secret ([`backstage`]) skip, saying so.

use auth::store::dynamo::{DynamoStore, sdk_config};
use auth::{App, Config, Endpoint};
use aws_sdk_dynamodb::Client;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::http::{HeaderMap, Method, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};

pub enum TestApp {
    InProcess(Box<App<DynamoStore>>),
    Http {
        base: String,
        client: reqwest::Client,
    },
}

/// The service's own database client and configuration: present when the
/// environment names them (make test, make test-e2e), absent for a deployment.
pub struct Backstage {
    pub client: Client,
    pub config: Config,
}

pub async fn backstage() -> Option<Backstage> {
    let config = Config::from_env().ok()?;
    Some(Backstage {
        client: Client::new(&sdk_config().await),
        config,
    })
}

/// For tests that cannot run without [`backstage`]: prints why they skip.
pub async fn backstage_or_skip(test: &str) -> Option<Backstage> {
    let backstage = backstage().await;
    if backstage.is_none() {
        eprintln!("{test}: skipped, it needs the service's database and secret");
    }
    backstage
}

pub async fn app() -> TestApp {
    match std::env::var("API_URL") {
        Ok(base) => TestApp::Http {
            base: base.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
        },
        Err(_) => TestApp::InProcess(Box::new(in_process_app().await)),
    }
}

/// The app as a Lambda builds it, over DynamoDB Local.
pub async fn in_process_app() -> App<DynamoStore> {
    let config = Config::from_env().unwrap_or_else(|error| {
        panic!("{error}: run these tests through `make test`, which sets up DynamoDB Local")
    });
    App::new(
        config.clone(),
        DynamoStore::new(Client::new(&sdk_config().await), &config),
    )
}

/// The in-process app pointed at a port where nothing listens: storage is down.
pub async fn app_without_storage(config: &Config) -> App<DynamoStore> {
    app_with_storage_at(config, "http://127.0.0.1:9").await
}

/// The in-process app over the DynamoDB at `url`, with the service's own SDK
/// settings (timeouts, retries). Region and credentials are fixed, so it needs
/// nothing from the environment: for a fake DynamoDB, or one a test started.
pub async fn app_with_storage_at(config: &Config, url: &str) -> App<DynamoStore> {
    App::new(
        config.clone(),
        DynamoStore::new(client_at(url).await, config),
    )
}

/// A DynamoDB client as the service builds one, for the DynamoDB at `url`.
pub async fn client_at(url: &str) -> Client {
    use aws_sdk_dynamodb::config::{Credentials, Region, retry::RetryPartition};
    // A retry budget of its own: the SDK's is shared per partition across the
    // process, and fault tests spend it on purpose.
    static CLIENTS: AtomicU64 = AtomicU64::new(0);
    let partition = format!("client-at-{}", CLIENTS.fetch_add(1, Ordering::SeqCst));
    let sdk = sdk_config().await;
    Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .retry_partition(RetryPartition::new(partition))
            .endpoint_url(url)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
            .build(),
    )
}

/// A configuration of its own, for tests that bring their own storage.
pub fn local_config() -> Config {
    Config::from_lookup(|name| match name {
        "JWT_SECRET" => Some("a-test-secret-of-at-least-32-bytes-long".into()),
        "USERS_TABLE" => Some("UsersTable".into()),
        "REVOKED_TOKENS_TABLE" => Some("RevokedTokensTable".into()),
        "BCRYPT_COST" => Some("4".into()),
        _ => None,
    })
    .unwrap()
}

/// An email no other test uses, so tests can share one database.
pub fn unique_email() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("user{}-{n}-{nanos}@example.com", std::process::id())
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

    /// The headers the service chose, without those every hop adds per response
    /// (date, request ids, CORS), so two answers can be compared.
    pub fn own_headers(&self) -> Vec<(String, String)> {
        let mut own: Vec<_> = self
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    value.to_str().unwrap_or("").to_owned(),
                )
            })
            .filter(|(name, _)| {
                !matches!(name.as_str(), "date" | "vary" | "connection")
                    && !name.contains("request-id")
                    && !name.contains("requestid")
                    && !name.starts_with("access-control-")
                    && !name.starts_with("x-amzn")
            })
            .collect();
        own.sort();
        own
    }
}

/// Calls `method path`: in-process through the endpoint API Gateway would route
/// it to, or over HTTP.
pub async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: Option<&str>,
) -> Answer {
    record_secrets_sent(authorization, body);
    let (status, headers, bytes) = match app {
        TestApp::InProcess(app) => {
            let endpoint = Endpoint::ALL
                .into_iter()
                .find(|endpoint| routes_to(endpoint.route(), method, path))
                .unwrap_or_else(|| panic!("no route for {method} {path}"));
            let mut request = Request::new(body.map_or(Body::Empty, |b| Body::Text(b.to_owned())));
            *request.method_mut() = Method::from_bytes(method.as_bytes()).unwrap();
            *request.uri_mut() = path.parse().unwrap();
            if let Some(value) = authorization {
                request
                    .headers_mut()
                    .insert("authorization", value.parse().unwrap());
            }
            let (parts, body) = endpoint.handle(app, request).await.into_parts();
            (parts.status, parts.headers, body.to_vec())
        }
        TestApp::Http { base, client } => {
            let mut request = client.request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{base}{path}"),
            );
            if let Some(value) = authorization {
                request = request.header("authorization", value);
            }
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.to_owned());
            }
            let response = request.send().await.expect("the API answers");
            let (status, headers) = (response.status(), response.headers().clone());
            (status, headers, response.bytes().await.unwrap().to_vec())
        }
    };
    assert_eq!(
        headers.get("content-type").map(|v| v.to_str().unwrap()),
        Some("application/json"),
        "every answer is JSON"
    );
    let body: Value = serde_json::from_slice(&bytes).expect("every body is JSON");
    record_secrets(["auth_token", "refresh_token"].map(|field| ("token", body[field].as_str())));
    Answer {
        status,
        headers,
        body,
    }
}

/// With `SECRETS_SEEN_FILE` set (make test-e2e), every password a test sends
/// and every token it sends or receives is appended to that file, one
/// `kind<TAB>value` a line, so the function logs can be searched for them.
fn record_secrets_sent(authorization: Option<&str>, body: Option<&str>) {
    let bearer = authorization.and_then(|value| value.strip_prefix("Bearer "));
    record_secrets([("token", bearer)]);
    let Some(Ok(Value::Object(fields))) = body.map(serde_json::from_str::<Value>) else {
        return;
    };
    record_secrets(
        [
            ("password", "password"),
            ("password", "current_password"),
            ("password", "new_password"),
            ("token", "refresh_token"),
        ]
        .map(|(kind, field)| (kind, fields.get(field).and_then(Value::as_str))),
    );
}

fn record_secrets<'a>(values: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) {
    use std::io::Write;
    let Some(path) = std::env::var_os("SECRETS_SEEN_FILE") else {
        return;
    };
    let lines: String = values
        .into_iter()
        .filter_map(|(kind, value)| Some((kind, value?.trim())))
        // Too short to be told apart from ordinary log text ("short", "garbage"),
        // or not a value a line can hold: not worth searching for.
        .filter(|(_, value)| (8..=1024).contains(&value.len()))
        .filter(|(_, value)| !value.chars().any(char::is_control))
        .map(|(kind, value)| format!("{kind}\t{value}\n"))
        .collect();
    if lines.is_empty() {
        return;
    }
    // One append per call, so lines from parallel tests do not interleave.
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("SECRETS_SEEN_FILE can be opened");
    file.write_all(lines.as_bytes())
        .expect("SECRETS_SEEN_FILE can be written");
}

/// Whether API Gateway would route `method path` (query string ignored) to
/// `route`, where a `{name}` segment stands for any one segment.
fn routes_to(route: (&str, &str), method: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    let (pattern, given): (Vec<_>, Vec<_>) =
        (route.1.split('/').collect(), path.split('/').collect());
    route.0 == method
        && pattern.len() == given.len()
        && pattern
            .iter()
            .zip(&given)
            .all(|(want, got)| (want.starts_with('{') && !got.is_empty()) || want == got)
}

pub fn credentials(email: &str, password: &str) -> String {
    serde_json::json!({ "email": email, "password": password }).to_string()
}

pub async fn register(app: &TestApp, email: &str) -> Answer {
    let body = credentials(email, PASSWORD);
    call(app, "POST", "/auth/register", None, Some(&body)).await
}

pub async fn login(app: &TestApp, email: &str, password: &str) -> Answer {
    let body = credentials(email, password);
    call(app, "POST", "/auth/login", None, Some(&body)).await
}

pub async fn status(app: &TestApp, token: &str) -> Answer {
    let bearer = format!("Bearer {token}");
    call(app, "GET", "/auth/status", Some(&bearer), None).await
}

pub async fn logout(app: &TestApp, token: &str) -> Answer {
    let bearer = format!("Bearer {token}");
    call(app, "POST", "/auth/logout", Some(&bearer), None).await
}

/// Signs arbitrary claims, to forge the tokens an attacker or a clock could produce.
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

/// A request with `body` as API Gateway delivers it from the client address
/// `ip` (in the request context, where the throttle reads it).
pub fn request_from(ip: &str, body: Body) -> Request {
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http.source_ip = Some(ip.to_owned());
    Request::new(body).with_request_context(RequestContext::ApiGatewayV2(context))
}
