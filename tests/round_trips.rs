//! DynamoDB requests per API call, counted (not assumed): the app runs
//! in-process over DynamoDB Local with an SDK interceptor that records the
//! operation of every request it sends, retries included. The counts are the
//! design's, exactly: a change here changes the cost of every call.
//!
//! `cargo test --test round_trips -- --nocapture` prints the table.

mod support;

use auth::store::dynamo::{DynamoStore, sdk_config};
use auth::{App, Endpoint};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use lambda_http::Body;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use support::{PASSWORD, credentials, request_from, unique_email};

/// Records the DynamoDB operation of each request sent (`X-Amz-Target`).
#[derive(Debug, Default, Clone)]
struct RequestLog(Arc<Mutex<Vec<String>>>);

impl Intercept for RequestLog {
    fn name(&self) -> &'static str {
        "RequestLog"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or("?");
        let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
        self.0.lock().unwrap().push(operation);
        Ok(())
    }
}

impl RequestLog {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

struct Counted {
    app: App<DynamoStore>,
    log: RequestLog,
}

impl Counted {
    async fn new() -> Self {
        let config =
            auth::Config::from_env().expect("run through make test, which sets up DynamoDB Local");
        let log = RequestLog::default();
        let sdk = sdk_config().await;
        let client = Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk)
                .interceptor(log.clone())
                .build(),
        );
        let store = DynamoStore::new(client, &config);
        Self {
            app: App::new(config, store),
            log,
        }
    }

    /// One call as API Gateway delivers it (with a client address), and the
    /// DynamoDB requests it made.
    async fn call(
        &self,
        endpoint: Endpoint,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> (u16, Value, Vec<String>) {
        let mut request = request_from("192.0.2.10", body.map_or(Body::Empty, Body::Text));
        *request.uri_mut() = path.parse().unwrap();
        if let Some(token) = token {
            let value = format!("Bearer {token}").parse().unwrap();
            request.headers_mut().insert("authorization", value);
        }
        self.log.take();
        let response = Endpoint::handle(endpoint, &self.app, request).await;
        let status = response.status().as_u16();
        let body = serde_json::from_slice(response.body()).unwrap();
        (status, body, self.log.take())
    }
}

#[tokio::test]
async fn each_call_costs_the_dynamodb_requests_it_is_designed_to() {
    let api = Counted::new().await;
    let email = unique_email();
    let login_body = || Some(credentials(&email, PASSWORD));
    let mut table = Vec::new();
    let mut record =
        |what: &str, expected_status: u16, answer: (u16, Value, Vec<String>), expected: usize| {
            let (status, body, requests) = answer;
            assert_eq!(status, expected_status, "{what}: {body}");
            assert_eq!(requests.len(), expected, "{what}: {requests:?}");
            table.push(format!(
                "| {what} | {} | {} |",
                requests.len(),
                requests.join(", ")
            ));
            body
        };

    let registered = record(
        "register",
        201,
        api.call(Endpoint::Register, "/auth/register", None, login_body())
            .await,
        1,
    );
    let token = registered["auth_token"].as_str().unwrap().to_owned();
    let refresh_token = registered["refresh_token"].as_str().unwrap().to_owned();
    record(
        "login",
        200,
        api.call(Endpoint::Login, "/auth/login", None, login_body())
            .await,
        2,
    );
    let wrong = Some(credentials(&email, "not the password"));
    record(
        "login, wrong password",
        404,
        api.call(Endpoint::Login, "/auth/login", None, wrong).await,
        3,
    );
    let unknown = Some(credentials(&unique_email(), PASSWORD));
    record(
        "login, unknown email",
        404,
        api.call(Endpoint::Login, "/auth/login", None, unknown)
            .await,
        3,
    );
    // The failure above is cleared by the next success, in the same write.
    record(
        "login after a failure",
        200,
        api.call(Endpoint::Login, "/auth/login", None, login_body())
            .await,
        2,
    );
    record(
        "status",
        200,
        api.call(Endpoint::Status, "/auth/status", Some(&token), None)
            .await,
        1,
    );
    record(
        "status, bad token",
        401,
        api.call(Endpoint::Status, "/auth/status", Some("x.y.z"), None)
            .await,
        0,
    );
    let refresh = Some(json!({ "refresh_token": refresh_token }).to_string());
    let refreshed = record(
        "refresh",
        200,
        api.call(Endpoint::Refresh, "/auth/refresh", None, refresh)
            .await,
        2,
    );
    let token = refreshed["auth_token"].as_str().unwrap().to_owned();
    let listed = record(
        "sessions",
        200,
        api.call(Endpoint::Sessions, "/auth/sessions", Some(&token), None)
            .await,
        2,
    );
    let other = listed["data"]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|session| session["current"] == false)
        .expect("the login's session")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/auth/sessions/{other}");
    record(
        "revoke-session",
        200,
        api.call(Endpoint::RevokeSession, &path, Some(&token), None)
            .await,
        2,
    );
    let change = Some(
        json!({ "current_password": PASSWORD, "new_password": "a brand new password" }).to_string(),
    );
    record(
        "password",
        200,
        api.call(
            Endpoint::ChangePassword,
            "/auth/password",
            Some(&token),
            change,
        )
        .await,
        5,
    );
    record(
        "logout, scope=others",
        200,
        api.call(
            Endpoint::Logout,
            "/auth/logout?scope=others",
            Some(&token),
            None,
        )
        .await,
        // A query and no deletes: the password change already ended the others.
        2,
    );
    record(
        "logout",
        200,
        api.call(Endpoint::Logout, "/auth/logout", Some(&token), None)
            .await,
        1,
    );
    record(
        "logout, already revoked",
        401,
        api.call(Endpoint::Logout, "/auth/logout", Some(&token), None)
            .await,
        1,
    );

    eprintln!("| call | DynamoDB requests | operations |\n|---|---|---|");
    for row in &table {
        eprintln!("{row}");
    }
}
