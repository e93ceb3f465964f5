//! DynamoDB requests per API call, counted (not assumed): the app runs
//! in-process over DynamoDB Local with an SDK interceptor that records the
//! operation of every request it sends, retries included. The counts are the
//! design's, exactly: a change here changes the cost of every call.
//!
//! `cargo test --test round_trips -- --nocapture` prints the table.

use auth::App;
use auth::Endpoint::{self, *};
use auth::store::dynamo::{DynamoStore, sdk_config};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use lambda_http::Body;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use test_support::{
    PASSWORD, credentials, password_change, refresh_body, request_from, unique_email,
};

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
    /// The table's rows, one per call made.
    table: Vec<String>,
}

/// One call to make: an endpoint at its route (or at `path`), with a bearer
/// token and a body if any.
struct Call<'a> {
    endpoint: Endpoint,
    path: String,
    token: Option<&'a str>,
    body: Option<String>,
}

fn to<'a>(endpoint: Endpoint) -> Call<'a> {
    Call {
        endpoint,
        path: endpoint.route().1.to_owned(),
        token: None,
        body: None,
    }
}

impl<'a> Call<'a> {
    fn at(self, path: &str) -> Self {
        let path = path.to_owned();
        Self { path, ..self }
    }

    fn token(self, token: &'a str) -> Self {
        let token = Some(token);
        Self { token, ..self }
    }

    fn body(self, body: String) -> Self {
        let body = Some(body);
        Self { body, ..self }
    }
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
            table: Vec::new(),
        }
    }

    /// Makes one call as API Gateway delivers it (with a client address),
    /// asserts its status and the number of DynamoDB requests it made, and
    /// adds a row to the table. Returns the answer's body.
    async fn expect(&mut self, what: &str, call: Call<'_>, status: u16, expected: usize) -> Value {
        let mut request = request_from("192.0.2.10", call.body.map_or(Body::Empty, Body::Text));
        *request.uri_mut() = call.path.parse().unwrap();
        if let Some(token) = call.token {
            let value = format!("Bearer {token}").parse().unwrap();
            request.headers_mut().insert("authorization", value);
        }
        self.log.take();
        let response = Endpoint::handle(call.endpoint, &self.app, request).await;
        let body: Value = serde_json::from_slice(response.body()).unwrap();
        let requests = self.log.take();
        assert_eq!(response.status().as_u16(), status, "{what}: {body}");
        assert_eq!(requests.len(), expected, "{what}: {requests:?}");
        self.table.push(format!(
            "| {what} | {} | {} |",
            requests.len(),
            requests.join(", ")
        ));
        body
    }
}

#[tokio::test]
async fn each_call_costs_the_dynamodb_requests_it_is_designed_to() {
    let mut api = Counted::new().await;
    let email = unique_email();
    let login = || to(Login).body(credentials(&email, PASSWORD));

    let registered = api
        .expect(
            "register",
            to(Register).body(credentials(&email, PASSWORD)),
            201,
            1,
        )
        .await;
    let token = registered["auth_token"].as_str().unwrap().to_owned();
    let refresh_token = registered["refresh_token"].as_str().unwrap().to_owned();
    api.expect("login", login(), 200, 2).await;
    let wrong = to(Login).body(credentials(&email, "not the password"));
    api.expect("login, wrong password", wrong, 404, 3).await;
    let unknown = to(Login).body(credentials(&unique_email(), PASSWORD));
    api.expect("login, unknown email", unknown, 404, 3).await;
    // The failure above is cleared by the next success, in the same write.
    api.expect("login after a failure", login(), 200, 2).await;
    api.expect("status", to(Status).token(&token), 200, 1).await;
    api.expect("status, bad token", to(Status).token("x.y.z"), 401, 0)
        .await;
    let refresh = to(Refresh).body(refresh_body(&refresh_token));
    let refreshed = api.expect("refresh", refresh, 200, 2).await;
    let token = refreshed["auth_token"].as_str().unwrap().to_owned();
    let listed = api
        .expect("sessions", to(Sessions).token(&token), 200, 2)
        .await;
    let other = listed["data"]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|session| session["current"] == false)
        .expect("the login's session")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = to(RevokeSession)
        .at(&format!("/auth/sessions/{other}"))
        .token(&token);
    api.expect("revoke-session", revoke, 200, 2).await;
    let change = to(ChangePassword)
        .token(&token)
        .body(password_change(PASSWORD, "a brand new password"));
    api.expect("password", change, 200, 5).await;
    let others = to(Logout).at("/auth/logout?scope=others").token(&token);
    // A query and no deletes: the password change already ended the others.
    api.expect("logout, scope=others", others, 200, 2).await;
    api.expect("logout", to(Logout).token(&token), 200, 1).await;
    let again = to(Logout).token(&token);
    api.expect("logout, already revoked", again, 401, 1).await;

    eprintln!("| call | DynamoDB requests | operations |\n|---|---|---|");
    for row in &api.table {
        eprintln!("{row}");
    }
}
