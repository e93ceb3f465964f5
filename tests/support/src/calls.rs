//! One way to call the API, whatever runs it ([`call`]), the answer it gives
//! ([`Answer`]), and one helper per endpoint so tests read as the contract does.

use crate::app::TestApp;
use crate::messages::{BLACKLISTED, INVALID_REFRESH};
use crate::secrets::{record_secrets, record_secrets_sent};
use auth::store::dynamo::DynamoStore;
use auth::{App, Endpoint};
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
    ApiGatewayV2httpRequestContext,
};
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::http::{HeaderMap, Method, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// The password every test account is registered with.
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

    pub fn refresh_token(&self) -> String {
        self.body["refresh_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no refresh_token in {}", self.body))
            .to_owned()
    }

    /// The code and message, to tell many answers apart by them.
    pub fn code_and_message(&self) -> (u16, String) {
        (self.status.as_u16(), self.message().to_owned())
    }

    /// Asserts a `fail` answer with this code and message.
    #[track_caller]
    pub fn assert_fail(&self, status: u16, message: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["status"], "fail", "body: {}", self.body);
        assert_eq!(self.message(), message, "body: {}", self.body);
    }

    /// Asserts a `success` answer with this code and message.
    #[track_caller]
    pub fn assert_success(&self, status: u16, message: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["status"], "success");
        assert_eq!(self.message(), message);
    }

    /// Asserts that two answers cannot be told apart: same code, body and
    /// headers of the service's own.
    #[track_caller]
    pub fn assert_same_as(&self, other: &Answer) {
        assert_eq!(self.status, other.status);
        assert_eq!(self.body, other.body);
        assert_eq!(self.own_headers(), other.own_headers());
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
                .iter()
                .copied()
                .find(|endpoint| routes_to(endpoint.route(), method, path))
                .unwrap_or_else(|| panic!("no route for {method} {path}"));
            let body = body.map_or(Body::Empty, |b| Body::Text(b.to_owned()));
            let mut request = routed(Request::new(body), endpoint.route(), path);
            *request.method_mut() = Method::from_bytes(method.as_bytes()).unwrap();
            if let Some(value) = authorization {
                request
                    .headers_mut()
                    .insert("authorization", value.parse().unwrap());
            }
            // Boxed: the handler's future is deep, and each helper over `call`
            // nests it once more; behind a box the tests' futures stay within
            // the depth the compiler computes layouts to.
            let (parts, body) = Box::pin(endpoint.handle(app, request)).await.into_parts();
            (parts.status, parts.headers, body.to_vec())
        }
        TestApp::Http { base, client } => {
            let send = || {
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
                async move {
                    let response = request.send().await.expect("the API answers");
                    let (status, headers) = (response.status(), response.headers().clone());
                    (status, headers, response.bytes().await.unwrap().to_vec())
                }
            };
            let mut answer = send().await;
            // `cargo lambda watch` now and then loses a function's large
            // answer (a page of users, 20 KB) and says so with a 500 of its
            // own (text/plain, where every answer of ours is JSON in our
            // envelope): GET /account's 18 KB about 3 times in 1,000 here,
            // none of 4,500 small answers. A GET changes nothing, so it is
            // sent again; anything else stands.
            for _ in 0..2 {
                let emulators_own = answer.0 == StatusCode::INTERNAL_SERVER_ERROR
                    && answer.1.get("content-type").is_some_and(|value| {
                        value.to_str().is_ok_and(|v| v.starts_with("text/plain"))
                    });
                if method != "GET" || !emulators_own {
                    break;
                }
                eprintln!(
                    "{method} {path}: cargo lambda watch's own 500, sent again: {}",
                    String::from_utf8_lossy(&answer.2)
                );
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                answer = send().await;
            }
            answer
        }
    };
    answer(status, headers, &bytes)
}

/// Follows an absolute URL the API handed out (a `jwks_uri`): over HTTP with
/// a GET as any client would; in-process through the endpoint its path
/// routes to, once the URL is checked to lie under `base`, the base URL the
/// in-process app believes it has (its issuer).
pub async fn follow(app: &TestApp, url: &str, base: &str) -> Answer {
    match app {
        TestApp::InProcess(_) => {
            let path = url
                .strip_prefix(base)
                .unwrap_or_else(|| panic!("{url} is not under {base}"));
            call(app, "GET", path, None, None).await
        }
        TestApp::Http { client, .. } => {
            let response = client.get(url).send().await.expect("the URL answers");
            let (status, headers) = (response.status(), response.headers().clone());
            answer(status, headers, &response.bytes().await.unwrap())
        }
    }
}

/// An answer as the client gets it, checked to be JSON; tokens in it are
/// recorded for the log check (make test-e2e).
fn answer(status: StatusCode, headers: HeaderMap, bytes: &[u8]) -> Answer {
    assert_eq!(
        headers.get("content-type").map(|v| v.to_str().unwrap()),
        Some("application/json"),
        "every answer is JSON; this one ({status}): {}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(600)])
    );
    let body: Value = serde_json::from_slice(bytes).expect("every body is JSON");
    record_secrets(["auth_token", "refresh_token"].map(|field| ("token", body[field].as_str())));
    Answer {
        status,
        headers,
        body,
    }
}

/// Calls `endpoint` of the in-process `app` with `body`, as API Gateway
/// delivers it from the client address `ip` (see [`request_from`]): for the
/// limits per address, which no HTTP client here can choose.
pub async fn call_from(app: &App<DynamoStore>, ip: &str, endpoint: Endpoint, body: &str) -> Answer {
    record_secrets_sent(None, Some(body));
    let request = request_from(ip, Body::Text(body.to_owned()));
    let (parts, body) = Box::pin(endpoint.handle(app, request)).await.into_parts();
    answer(parts.status, parts.headers, &body)
}

/// Calls `method path` with `token` as the bearer.
pub async fn call_with_token(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
) -> Answer {
    let bearer = format!("Bearer {token}");
    call(app, method, path, Some(&bearer), body).await
}

/// Asserts that `method path` fails with this code and message under each of
/// these `Authorization` headers (`None`: without one).
pub async fn assert_each_authorization_fails(
    app: &TestApp,
    (method, path): (&str, &str),
    headers: &[Option<&str>],
    status: u16,
    message: &str,
) {
    for header in headers {
        call(app, method, path, *header, None)
            .await
            .assert_fail(status, message);
    }
}

/// `request` for `path` as API Gateway hands it to the function of `route`:
/// with the path and the route's `{name}` segments and the query string's
/// parameters, percent-decoded (what lambda_http's accessors read).
pub fn routed(request: Request, route: (&str, &str), path: &str) -> Request {
    let (path_only, query) = path.split_once('?').unwrap_or((path, ""));
    let segments = route.1.split('/').zip(path_only.split('/'));
    let path_parameters: HashMap<String, String> = segments
        .filter_map(|(pattern, segment)| {
            let name = pattern.strip_prefix('{')?.strip_suffix('}')?;
            Some((name.to_owned(), percent_decoded(segment)))
        })
        .collect();
    let query: QueryMap = query.parse().unwrap();
    let mut request = request
        .with_path_parameters(path_parameters)
        .with_query_string_parameters(query);
    *request.uri_mut() = path.parse().unwrap();
    request
}

/// A path segment's `%XX` escapes decoded (a `+` stays a `+` in a path).
fn percent_decoded(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
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

/// A login or registration body.
pub fn credentials(email: &str, password: &str) -> String {
    json!({ "email": email, "password": password }).to_string()
}

/// A password change body.
pub fn password_change(current: &str, new: &str) -> String {
    json!({ "current_password": current, "new_password": new }).to_string()
}

/// A refresh body.
pub fn refresh_body(refresh_token: &str) -> String {
    json!({ "refresh_token": refresh_token }).to_string()
}

/// `POST /auth/password/forgot`.
pub async fn forgot_password(app: &TestApp, email: &str) -> Answer {
    let body = json!({ "email": email }).to_string();
    call(app, "POST", "/auth/password/forgot", None, Some(&body)).await
}

/// `POST /auth/password/reset`.
pub async fn reset_password(app: &TestApp, email: &str, code: &str, new_password: &str) -> Answer {
    let body = json!({ "email": email, "code": code, "new_password": new_password }).to_string();
    call(app, "POST", "/auth/password/reset", None, Some(&body)).await
}

/// `POST /auth/email/verify`.
pub async fn verify_email(app: &TestApp, email: &str, code: &str) -> Answer {
    let body = json!({ "email": email, "code": code }).to_string();
    call(app, "POST", "/auth/email/verify", None, Some(&body)).await
}

/// `POST /auth/email/verify/resend`.
pub async fn resend_verification(app: &TestApp, token: &str) -> Answer {
    call_with_token(app, "POST", "/auth/email/verify/resend", token, None).await
}

/// Registers `email` with [`PASSWORD`].
pub async fn register(app: &TestApp, email: &str) -> Answer {
    register_with(app, email, PASSWORD).await
}

pub async fn register_with(app: &TestApp, email: &str, password: &str) -> Answer {
    let body = credentials(email, password);
    call(app, "POST", "/auth/register", None, Some(&body)).await
}

/// Registers a new account (checking nothing): its email and the answer.
pub async fn new_account(app: &TestApp) -> (String, Answer) {
    let email = crate::unique_email();
    let answer = register(app, &email).await;
    (email, answer)
}

pub async fn login(app: &TestApp, email: &str, password: &str) -> Answer {
    let body = credentials(email, password);
    call(app, "POST", "/auth/login", None, Some(&body)).await
}

/// Logs in with [`PASSWORD`] from a named device, asserting it succeeds.
pub async fn sign_in(app: &TestApp, email: &str, device: &str) -> Answer {
    let body = json!({ "email": email, "password": PASSWORD, "device": device }).to_string();
    let answer = call(app, "POST", "/auth/login", None, Some(&body)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer
}

pub async fn status(app: &TestApp, token: &str) -> Answer {
    call_with_token(app, "GET", "/auth/status", token, None).await
}

pub async fn logout(app: &TestApp, token: &str) -> Answer {
    call_with_token(app, "POST", "/auth/logout", token, None).await
}

/// Logs out with `?scope=` `local`, `others` or `global`.
pub async fn logout_scope(app: &TestApp, token: &str, scope: &str) -> Answer {
    let path = format!("/auth/logout?scope={scope}");
    call_with_token(app, "POST", &path, token, None).await
}

pub async fn refresh(app: &TestApp, refresh_token: &str) -> Answer {
    let body = refresh_body(refresh_token);
    call(app, "POST", "/auth/refresh", None, Some(&body)).await
}

/// The caller's sessions, asserting the listing succeeds.
pub async fn list_sessions(app: &TestApp, token: &str) -> Vec<Value> {
    let answer = call_with_token(app, "GET", "/auth/sessions", token, None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["data"]["sessions"].as_array().unwrap().clone()
}

pub async fn revoke_session(app: &TestApp, token: &str, session_id: &str) -> Answer {
    let path = format!("/auth/sessions/{session_id}");
    call_with_token(app, "DELETE", &path, token, None).await
}

/// Changes the password, with `token` as the bearer if any.
pub async fn change_password(
    app: &TestApp,
    token: Option<&str>,
    current: &str,
    new: &str,
) -> Answer {
    let bearer = token.map(|token| format!("Bearer {token}"));
    let body = password_change(current, new);
    call(
        app,
        "POST",
        "/auth/password",
        bearer.as_deref(),
        Some(&body),
    )
    .await
}

/// `GET /admin/users` with a query string (`""`, `"?limit=100"`, …).
pub async fn list_users(app: &TestApp, token: &str, query: &str) -> Answer {
    let path = format!("/admin/users{query}");
    call_with_token(app, "GET", &path, token, None).await
}

pub async fn get_user(app: &TestApp, token: &str, user_id: &str) -> Answer {
    let path = format!("/admin/users/{user_id}");
    call_with_token(app, "GET", &path, token, None).await
}

/// `POST /admin/users/{id}/{action}`: `disable`, `enable` or `sign-out`.
pub async fn admin_post(app: &TestApp, token: &str, user_id: &str, action: &str) -> Answer {
    let path = format!("/admin/users/{user_id}/{action}");
    call_with_token(app, "POST", &path, token, None).await
}

pub async fn delete_user(app: &TestApp, token: &str, user_id: &str) -> Answer {
    let path = format!("/admin/users/{user_id}");
    call_with_token(app, "DELETE", &path, token, None).await
}

/// `DELETE /auth/account` with this password.
pub async fn delete_account(app: &TestApp, token: &str, password: &str) -> Answer {
    let body = json!({ "password": password }).to_string();
    call_with_token(app, "DELETE", "/auth/account", token, Some(&body)).await
}

/// `GET /.well-known/jwks.json`: the published keys.
pub async fn jwks(app: &TestApp) -> Answer {
    call(app, "GET", "/.well-known/jwks.json", None, None).await
}

/// `GET /.well-known/openid-configuration`: where the keys are.
pub async fn openid_configuration(app: &TestApp) -> Answer {
    call(app, "GET", "/.well-known/openid-configuration", None, None).await
}

/// The published key this token names (its `kid`), as a JWK.
pub async fn published_key_of(app: &TestApp, token: &str) -> Value {
    let kid = crate::tokens::kid_of(token);
    let answer = jwks(app).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let keys = answer.body["keys"].as_array().expect("a JWKS lists keys");
    (keys.iter())
        .find(|key| key["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("key {kid} is not published: {}", answer.body))
        .clone()
}

/// The Lambda authorizer's answer (payload 2.0, simple responses) to a
/// request with this `Authorization` header (`None`: without one), from the
/// in-process `app`, as API Gateway would ask it.
pub async fn authorize(
    app: &App<DynamoStore>,
    authorization: Option<&str>,
) -> ApiGatewayV2CustomAuthorizerSimpleResponse {
    record_secrets_sent(authorization, None);
    let mut event = ApiGatewayV2CustomAuthorizerV2Request::default();
    if let Some(value) = authorization {
        event
            .headers
            .insert("authorization", value.parse().unwrap());
    }
    Box::pin(auth::endpoint::authorizer::authorize(app, &event, None)).await
}

/// A request with `body` as API Gateway delivers it from the client address
/// `ip` (in the request context, where the throttle reads it).
pub fn request_from(ip: &str, body: Body) -> Request {
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http.source_ip = Some(ip.to_owned());
    Request::new(body).with_request_context(RequestContext::ApiGatewayV2(context))
}

/// Runs `times` calls at once, each a task of its own with its own handle on
/// the app (a [`TestApp`], or an in-process `App` for [`call_from`]) and its
/// own copy of `arg`, as simultaneous clients would; their results, in the
/// order they end.
pub async fn at_once<S, A, T, F, Fut>(app: &Arc<S>, times: usize, arg: &A, call: F) -> Vec<T>
where
    A: Clone,
    F: Fn(Arc<S>, A) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..times {
        tasks.spawn(call(app.clone(), arg.clone()));
    }
    tasks.join_all().await
}

/// How many of `answers` (code and message, see [`Answer::code_and_message`])
/// are this one.
pub fn count_of(answers: &[(u16, String)], code: u16, message: &str) -> usize {
    answers
        .iter()
        .filter(|(got_code, got_message)| *got_code == code && got_message == message)
        .count()
}

/// Asserts that the session an answer handed out tokens for still works:
/// its access token is accepted, and its refresh token refreshes.
pub async fn assert_session_works(app: &TestApp, session: &Answer) {
    assert_eq!(status(app, &session.token()).await.status, 200);
    assert_eq!(refresh(app, &session.refresh_token()).await.status, 200);
}

/// Asserts that the session an answer handed out tokens for has ended: its
/// access token is refused as revoked, its refresh token as invalid.
pub async fn assert_session_ended(app: &TestApp, session: &Answer) {
    status(app, &session.token())
        .await
        .assert_fail(401, BLACKLISTED);
    refresh(app, &session.refresh_token())
        .await
        .assert_fail(401, INVALID_REFRESH);
}

/// A new account signed in on two devices, "laptop" and "phone" (besides the
/// registration's own session): its email and the two logins' answers.
pub async fn on_laptop_and_phone(app: &TestApp) -> (String, Answer, Answer) {
    let (email, _) = new_account(app).await;
    let laptop = sign_in(app, &email, "laptop").await;
    let phone = sign_in(app, &email, "phone").await;
    (email, laptop, phone)
}

/// Turns TOTP on for the account behind `token`: enrols with `enroll_body`
/// (`{"password"}`, or `{}` for an account confirmed by a recent sign-in) and
/// confirms with the current code. The authenticator, and the confirmation's
/// answer (its token is that of a session which used the factor).
pub async fn turn_totp_on(
    app: &TestApp,
    token: &str,
    enroll_body: &str,
) -> (auth::credentials::totp::Totp, Answer) {
    let enroll = "/auth/mfa/totp/enroll";
    let enrolled = call_with_token(app, "POST", enroll, token, Some(enroll_body)).await;
    assert_eq!(enrolled.status, 200, "{}", enrolled.body);
    let secret = enrolled.body["secret"].as_str().unwrap();
    crate::record_second_factor(Some(secret), &[]);
    let totp = auth::credentials::totp::Totp::from_base32(secret).unwrap();
    let code = json!({ "code": totp.code_at(auth::now()) }).to_string();
    let confirm = "/auth/mfa/totp/confirm";
    let confirmed = call_with_token(app, "POST", confirm, token, Some(&code)).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    (totp, confirmed)
}
