//! Sign-in with another provider (issue 28), end to end through the local
//! provider (`scripts/local/oidc-provider.js`, provider `mock`, started by
//! `use_oidc_provider` in scripts/lib.sh): the redirects followed by hand
//! with a plain HTTP client, the person at the provider chosen by adding
//! `sub`, `email` and `email_verified` to its authorize URL. The linking
//! rules, the TOTP challenge, replayed and foreign states, the app's PKCE
//! verifier, single-use codes, `redirect_to` variations, links, unlinking,
//! disabled and erased accounts. Skips, saying so, when `OIDC_PROVIDERS`
//! is unset.

use auth::mail::outbox::MailKind;
use auth::oidc::pkce::Verifier;
use lambda_http::http::{HeaderMap, StatusCode};
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use test_support::mailbox::latest_code;
use test_support::*;
use url::Url;

/// Whether the flow can run here; if not, says why.
fn configured(test: &str) -> bool {
    let set = std::env::var("OIDC_PROVIDERS").is_ok_and(|value| !value.trim().is_empty());
    if !set {
        eprintln!("{test}: skipped: OIDC_PROVIDERS is unset (use_oidc_provider in scripts/lib.sh)");
    }
    set
}

/// The app URL sign-ins come back to: the first of `ALLOWED_REDIRECT_URLS`.
fn app_url() -> String {
    let list = std::env::var("ALLOWED_REDIRECT_URLS").unwrap_or_default();
    list.split(',').next().unwrap_or_default().trim().to_owned()
}

fn enc(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// An answer whatever its body (a redirect has none).
struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Raw {
    fn location(&self) -> Url {
        let location = self
            .headers
            .get("location")
            .unwrap_or_else(|| panic!("a redirect ({}), not {}", self.status, self.body));
        Url::parse(location.to_str().unwrap()).unwrap()
    }

    fn param(&self, name: &str) -> Option<String> {
        let location = self.location();
        let found = location.query_pairs().find(|(key, _)| key == name);
        found.map(|(_, value)| value.into_owned())
    }
}

/// Calls the API, following no redirect: in-process through the endpoint
/// of the route, or over HTTP.
async fn raw(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Raw {
    let (status, headers, bytes) = match app {
        TestApp::InProcess(app) => {
            let endpoint = auth::Endpoint::ALL
                .iter()
                .copied()
                .find(|endpoint| {
                    let (m, route) = endpoint.route();
                    m == method && same_shape(route, path)
                })
                .unwrap_or_else(|| panic!("no route for {method} {path}"));
            let body = body.map_or(Body::Empty, |b| Body::Text(b.to_owned()));
            let mut request = routed(Request::new(body), endpoint.route(), path);
            *request.method_mut() = method.parse().unwrap();
            if let Some(token) = token {
                let bearer = format!("Bearer {token}");
                request
                    .headers_mut()
                    .insert("authorization", bearer.parse().unwrap());
            }
            let (parts, body) = Box::pin(endpoint.handle(app, request)).await.into_parts();
            (parts.status, parts.headers, body.to_vec())
        }
        TestApp::Http { base, .. } => {
            let client = no_redirects();
            let mut request = client.request(method.parse().unwrap(), format!("{base}{path}"));
            if let Some(token) = token {
                request = request.header("authorization", format!("Bearer {token}"));
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
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Raw {
        status,
        headers,
        body,
    }
}

fn same_shape(route: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    let (want, got): (Vec<_>, Vec<_>) = (route.split('/').collect(), path.split('/').collect());
    want.len() == got.len()
        && want
            .iter()
            .zip(&got)
            .all(|(w, g)| (w.starts_with('{') && !g.is_empty()) || w == g)
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Who signs in at the provider.
#[derive(Clone)]
struct Person {
    sub: String,
    email: String,
    verified: bool,
}

impl Person {
    fn new(verified: bool) -> Self {
        let email = unique_email();
        Self {
            sub: format!("sub-{}", email.split('@').next().unwrap()),
            email,
            verified,
        }
    }

    fn with_email(email: &str, verified: bool) -> Self {
        Self {
            email: email.to_owned(),
            ..Self::new(verified)
        }
    }
}

/// Starts a sign-in: the 302 to the provider (or the failure).
async fn start(app: &TestApp, redirect_to: &str, challenge: &str) -> Raw {
    let path = format!(
        "/auth/oauth/mock/start?redirect_to={}&code_challenge={challenge}",
        enc(redirect_to)
    );
    raw(app, "GET", &path, None, None).await
}

/// At the provider: `person` signs in; answers the callback's path and query.
async fn at_provider(authorize: &Url, person: &Person) -> String {
    let mut url = authorize.clone();
    url.query_pairs_mut()
        .append_pair("sub", &person.sub)
        .append_pair("email", &person.email)
        .append_pair(
            "email_verified",
            if person.verified { "true" } else { "false" },
        );
    let response = no_redirects()
        .get(url)
        .send()
        .await
        .expect("the provider answers");
    assert_eq!(response.status(), 302, "the provider redirects back");
    let back = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert!(back.path().ends_with("/auth/oauth/mock/callback"), "{back}");
    format!("{}?{}", back.path(), back.query().unwrap_or_default())
}

/// A whole sign-in up to the app's redirect: the callback's answer, and
/// the app's verifier.
async fn through_provider(app: &TestApp, person: &Person) -> (Raw, Verifier) {
    let verifier = Verifier::generate().unwrap();
    let started = start(app, &app_url(), &verifier.challenge()).await;
    assert_eq!(started.status, 302, "{}", started.body);
    let callback = at_provider(&started.location(), person).await;
    let back = raw(app, "GET", &callback, None, None).await;
    assert_eq!(back.status, 302, "{}", back.body);
    let location = back.location();
    assert_eq!(
        format!(
            "{}{}",
            location.origin().ascii_serialization(),
            location.path()
        ),
        app_url(),
        "back at the app"
    );
    (back, verifier)
}

async fn redeem(app: &TestApp, code: &str, verifier: &str) -> Answer {
    let body = json!({ "code": code, "code_verifier": verifier }).to_string();
    call(app, "POST", "/auth/oauth/token", None, Some(&body)).await
}

/// Signs `person` in through the provider: the token answer.
async fn signed_in(app: &TestApp, person: &Person) -> Answer {
    let (back, verifier) = through_provider(app, person).await;
    let code = back
        .param("code")
        .unwrap_or_else(|| panic!("a code: {}", back.location()));
    redeem(app, &code, verifier.as_str()).await
}

async fn identities(app: &TestApp, token: &str) -> Vec<Value> {
    let answer = call_with_token(app, "GET", "/auth/identities", token, None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["identities"].as_array().unwrap().clone()
}

/// A password account whose address is verified.
async fn verified_account(app: &TestApp) -> (String, Answer) {
    let (email, session) = new_account(app).await;
    let code = latest_code(&email, MailKind::VerifyEmail).await;
    let verified = verify_email(app, &email, &code).await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    (email, session)
}

#[tokio::test]
async fn a_new_person_gets_an_account_whose_tokens_work_with_amr_fed() {
    if !configured("oidc") {
        return;
    }
    let app = app().await;
    let person = Person::new(true);
    let tokens = signed_in(&app, &person).await;
    tokens.assert_success(200, "Successfully logged in.");
    let claims = claims_of(&tokens.token());
    assert_eq!(claims["amr"], json!(["fed"]));
    let status = status(&app, &tokens.token()).await;
    assert_eq!(status.status, 200, "{}", status.body);
    assert!(
        status.body.to_string().contains(&person.email),
        "{}",
        status.body
    );
    let listed = identities(&app, &tokens.token()).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["provider"], "mock");
    assert_eq!(listed[0]["email"], person.email.as_str());
    // The refresh token works too.
    let refreshed = refresh(&app, &tokens.refresh_token()).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    // The same person again: the same account.
    let again = signed_in(&app, &person).await;
    assert_eq!(claims_of(&again.token())["sub"], claims["sub"]);
    // No password: a password login fails as a wrong password does.
    let password = login(&app, &person.email, PASSWORD).await;
    let unknown = login(&app, &unique_email(), PASSWORD).await;
    password.assert_same_as(&unknown);
}

#[tokio::test]
async fn an_unverified_address_at_the_provider_makes_an_unverified_account() {
    if !configured("oidc") {
        return;
    }
    let app = app().await;
    let tokens = signed_in(&app, &Person::new(false)).await;
    tokens.assert_success(200, "Successfully logged in.");
    let status = status(&app, &tokens.token()).await;
    assert!(
        status.body.to_string().contains("\"email_verified\":false"),
        "{}",
        status.body
    );
}

#[tokio::test]
async fn an_existing_account_is_linked_only_when_both_vouch_for_the_address() {
    if !configured("oidc") {
        return;
    }
    let app = app().await;
    // Verified here and at the provider: linked, the same account.
    let (email, session) = verified_account(&app).await;
    let tokens = signed_in(&app, &Person::with_email(&email, true)).await;
    tokens.assert_success(200, "Successfully logged in.");
    assert_eq!(
        claims_of(&tokens.token())["sub"],
        claims_of(&session.token())["sub"]
    );
    assert_eq!(identities(&app, &session.token()).await.len(), 1);

    // Verified here, not at the provider: refused, nothing written.
    let (email, session) = verified_account(&app).await;
    let (back, _) = through_provider(&app, &Person::with_email(&email, false)).await;
    assert_eq!(
        back.param("error").as_deref(),
        Some("account_exists_sign_in_to_link")
    );
    assert_eq!(back.param("code"), None);
    assert!(identities(&app, &session.token()).await.is_empty());

    // Not verified here (pre-registered by anyone): refused, nothing written.
    let (email, session) = new_account(&app).await;
    let (back, _) = through_provider(&app, &Person::with_email(&email, true)).await;
    assert_eq!(
        back.param("error").as_deref(),
        Some("account_exists_sign_in_to_link")
    );
    assert!(identities(&app, &session.token()).await.is_empty());
}

#[tokio::test]
async fn an_account_with_totp_on_gets_the_second_factor_challenge() {
    if !configured("oidc") {
        return;
    }
    let app = app().await;
    let (email, session) = verified_account(&app).await;
    let body = json!({ "password": PASSWORD }).to_string();
    let token = session.token();
    let (totp, _) = turn_totp_on(&app, &token, &body).await;

    let answer = signed_in(&app, &Person::with_email(&email, true)).await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(answer.body["code"], "mfa_required");
    let mfa_token = answer.body["mfa_token"].as_str().unwrap();
    let login = login(&app, &email, PASSWORD).await;
    assert_eq!(
        field_names(&answer.body),
        field_names(&login.body),
        "as login answers"
    );
    let step = json!({ "mfa_token": mfa_token, "code": totp.code_at(auth::now() + 30) });
    let finished = call(
        &app,
        "POST",
        "/auth/login/mfa",
        None,
        Some(&step.to_string()),
    )
    .await;
    assert_eq!(finished.status, 200, "{}", finished.body);
    // The second factor's `amr`, as for any (docs/oidc.md): `mfa` from this
    // service's TOTP, never from the provider's word; no token before it.
    assert_eq!(
        claims_of(&finished.token())["amr"],
        json!(["pwd", "otp", "mfa"])
    );
    assert!(answer.body.get("auth_token").is_none());
}

#[tokio::test]
async fn a_state_is_used_once_and_only_at_its_provider() {
    if !configured("oidc") {
        return;
    }
    let app = app().await;
    let verifier = Verifier::generate().unwrap();
    let started = start(&app, &app_url(), &verifier.challenge()).await;
    let callback = at_provider(&started.location(), &Person::new(true)).await;
    let first = raw(&app, "GET", &callback, None, None).await;
    assert_eq!(first.status, 302);
    let replayed = raw(&app, "GET", &callback, None, None).await;
    assert_eq!(replayed.status, 400, "{}", replayed.body);
    assert_eq!(replayed.body["code"], "invalid_state");
    assert!(replayed.headers.get("location").is_none());
    // Unknown and missing states.
    for path in [
        "/auth/oauth/mock/callback?code=x&state=AAAAAAAAAAAAAAAAAAAAAA",
        "/auth/oauth/mock/callback?code=x",
        "/auth/oauth/nope/callback?code=x&state=y",
    ] {
        let answer = raw(&app, "GET", path, None, None).await;
        assert_eq!(answer.status, 400, "{path}: {}", answer.body);
        assert!(answer.headers.get("location").is_none(), "{path}");
    }
    if over_http() {
        return;
    }
    // A state of `mock` at another provider's callback: refused (in-process,
    // with a second provider configured).
    let mut other = None;
    let app: TestApp = in_process_app_with(|config| {
        let mut second = config.oidc.providers[0].clone();
        second.name = "other".into();
        other = Some(second.clone());
        config.oidc.providers.push(second);
    })
    .await
    .into();
    let started = start(&app, &app_url(), &verifier.challenge()).await;
    let callback = at_provider(&started.location(), &Person::new(true)).await;
    let elsewhere = callback.replace("/mock/", "/other/");
    let answer = raw(&app, "GET", &elsewhere, None, None).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["code"], "invalid_state");
}

#[tokio::test]
async fn the_code_needs_the_apps_verifier_and_is_used_once() {
    if !configured("oidc") {
        return;
    }
    let app = app().await;
    let (back, verifier) = through_provider(&app, &Person::new(true)).await;
    let code = back.param("code").unwrap();
    // No verifier: a bad body.
    let body = json!({ "code": code }).to_string();
    let missing = call(&app, "POST", "/auth/oauth/token", None, Some(&body)).await;
    assert_eq!(missing.status, 400, "{}", missing.body);
    // The wrong verifier: refused, and the code is used up.
    let wrong = Verifier::generate().unwrap();
    let answer = redeem(&app, &code, wrong.as_str()).await;
    assert_eq!(
        answer.body["code"], "code_verifier_mismatch",
        "{}",
        answer.body
    );
    let answer = redeem(&app, &code, verifier.as_str()).await;
    assert_eq!(answer.body["code"], "invalid_oauth_code", "{}", answer.body);

    // Right: once.
    let (back, verifier) = through_provider(&app, &Person::new(true)).await;
    let code = back.param("code").unwrap();
    assert_eq!(redeem(&app, &code, verifier.as_str()).await.status, 200);
    let twice = redeem(&app, &code, verifier.as_str()).await;
    assert_eq!(twice.status, 400);
    assert_eq!(twice.body["code"], "invalid_oauth_code");
}

#[tokio::test]
async fn only_an_allowed_redirect_to_starts_a_sign_in() {
    if !configured("oidc") {
        return;
    }
    let app = app().await;
    let allowed = Url::parse(&app_url()).unwrap();
    let (host, port, path) = (
        allowed.host_str().unwrap().to_owned(),
        allowed.port_or_known_default().unwrap(),
        allowed.path().to_owned(),
    );
    let scheme = allowed.scheme();
    let challenge = Verifier::generate().unwrap().challenge();
    for variant in [
        format!("{scheme}://evil.example:{port}{path}"),
        format!("{scheme}://{host}:{}{path}", port + 1),
        format!("{scheme}://{host}:{port}{path}x"),
        format!("{scheme}://{host}:{port}{path}/../admin"),
        format!("{scheme}://{host}:{port}/x/..{path}"),
        format!("{scheme}://user@{host}:{port}{path}"),
        format!("{scheme}://{host}:{port}{path}%2e%2e"),
        format!("{scheme}://{host}%2eevil.example:{port}{path}"),
        format!("{scheme}://{host}:{port}{path}#x"),
        format!("//{host}:{port}{path}"),
        String::new(),
    ] {
        let answer = start(&app, &variant, &challenge).await;
        assert_eq!(answer.status, 400, "{variant:?}: {}", answer.body);
        assert!(answer.headers.get("location").is_none(), "{variant:?}");
    }
    // A missing or malformed code_challenge.
    for challenge in ["", "short", &"!".repeat(43)] {
        let answer = start(&app, &app_url(), challenge).await;
        assert_eq!(answer.status, 400, "{challenge:?}: {}", answer.body);
    }
    // An unknown provider.
    let path = format!(
        "/auth/oauth/nope/start?redirect_to={}&code_challenge={challenge}",
        enc(&app_url())
    );
    let answer = raw(&app, "GET", &path, None, None).await;
    assert_eq!(answer.body["code"], "unknown_provider", "{}", answer.body);
}

#[tokio::test]
async fn a_signed_in_account_links_lists_and_unlinks_identities() {
    if !configured("oidc") {
        return;
    }
    let app = app().await;
    let (_, session) = new_account(&app).await;
    let token = session.token();
    // Linked whatever the provider's address.
    let body = json!({ "redirect_to": app_url() }).to_string();
    let link = raw(
        &app,
        "POST",
        "/auth/oauth/mock/link",
        Some(&token),
        Some(&body),
    )
    .await;
    assert_eq!(link.status, 200, "{}", link.body);
    let authorize = Url::parse(link.body["authorize_url"].as_str().unwrap()).unwrap();
    let someone = Person::new(false);
    let callback = at_provider(&authorize, &someone).await;
    let back = raw(&app, "GET", &callback, None, None).await;
    assert_eq!(
        back.param("linked").as_deref(),
        Some("mock"),
        "{}",
        back.location()
    );
    assert_eq!(back.param("code"), None);
    let listed = identities(&app, &token).await;
    assert_eq!(listed.len(), 1);
    // That identity now signs in to this account.
    let tokens = signed_in(&app, &someone).await;
    assert_eq!(claims_of(&tokens.token())["sub"], claims_of(&token)["sub"]);

    // Another account cannot link it.
    let (_, other) = new_account(&app).await;
    let link = raw(
        &app,
        "POST",
        "/auth/oauth/mock/link",
        Some(&other.token()),
        Some(&body),
    )
    .await;
    let authorize = Url::parse(link.body["authorize_url"].as_str().unwrap()).unwrap();
    let callback = at_provider(&authorize, &someone).await;
    let back = raw(&app, "GET", &callback, None, None).await;
    assert_eq!(back.param("error").as_deref(), Some("identity_in_use"));

    // A redirect_to not allowed: 400.
    let bad = json!({ "redirect_to": "https://evil.example/account" }).to_string();
    let refused = raw(
        &app,
        "POST",
        "/auth/oauth/mock/link",
        Some(&token),
        Some(&bad),
    )
    .await;
    assert_eq!(refused.status, 400);

    // Unlinked (the account has its password); unknown ids: 404.
    let id = listed[0]["id"].as_str().unwrap();
    let unknown = call_with_token(&app, "DELETE", "/auth/identities/nope", &token, None).await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    let not_theirs = call_with_token(
        &app,
        "DELETE",
        &format!("/auth/identities/{id}"),
        &other.token(),
        None,
    )
    .await;
    assert_eq!(not_theirs.status, 404, "{}", not_theirs.body);
    let unlinked = call_with_token(
        &app,
        "DELETE",
        &format!("/auth/identities/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(unlinked.status, 200, "{}", unlinked.body);
    assert!(identities(&app, &token).await.is_empty());

    // A provider-only account keeps its one identity.
    let tokens = signed_in(&app, &Person::new(true)).await;
    let listed = identities(&app, &tokens.token()).await;
    let id = listed[0]["id"].as_str().unwrap();
    let last = call_with_token(
        &app,
        "DELETE",
        &format!("/auth/identities/{id}"),
        &tokens.token(),
        None,
    )
    .await;
    assert_eq!(last.status, 409, "{}", last.body);
    assert_eq!(last.body["code"], "last_sign_in_method");
}

#[tokio::test]
async fn disabled_accounts_are_refused_and_erased_accounts_lose_their_links() {
    if !configured("oidc") {
        return;
    }
    let Some((app, backstage)) = app_and_backstage_or_skip("oidc").await else {
        return;
    };
    let person = Person::new(true);
    let tokens = signed_in(&app, &person).await;
    tokens.assert_success(200, "Successfully logged in.");
    backstage.set_disabled(&person.email, true).await;
    let (back, _) = through_provider(&app, &person).await;
    assert_eq!(back.param("error").as_deref(), Some("account_disabled"));
    assert_eq!(back.param("code"), None);
    backstage.set_disabled(&person.email, false).await;

    // Erased (a fresh sign-in confirms it: no password): the identity is
    // free, and signs up anew.
    let tokens = signed_in(&app, &person).await;
    let user_id = claims_of(&tokens.token())["sub"].clone();
    let erased =
        call_with_token(&app, "DELETE", "/auth/account", &tokens.token(), Some("{}")).await;
    assert_eq!(erased.status, 200, "{}", erased.body);
    let again = signed_in(&app, &person).await;
    again.assert_success(200, "Successfully logged in.");
    assert_ne!(claims_of(&again.token())["sub"], user_id);
}

#[tokio::test]
async fn the_second_factor_status_says_whether_the_account_has_a_password() {
    if !configured("oidc") {
        return;
    }
    let app = app().await;
    let has_password = |token: String| {
        let app = &app;
        async move {
            let answer = call_with_token(app, "GET", "/auth/mfa", &token, None).await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            answer.body["has_password"].clone()
        }
    };
    // Made through a provider: none.
    let tokens = signed_in(&app, &Person::new(true)).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(has_password(tokens.token()).await, json!(false));
    // Registered with a password: one.
    let (_, session) = verified_account(&app).await;
    assert_eq!(has_password(session.token()).await, json!(true));
}

#[tokio::test]
async fn an_account_without_a_password_confirms_with_a_fresh_sign_in() {
    if !configured("oidc") {
        return;
    }
    let app = app().await;
    let person = Person::new(true);
    let tokens = signed_in(&app, &person).await;
    let token = tokens.token();
    // TOTP enrolment with no password: the fresh token stands in for it.
    turn_totp_on(&app, &token, "{}").await;
    // Now the provider's sign-in asks the second factor too.
    let challenged = signed_in(&app, &person).await;
    assert_eq!(challenged.status, 401, "{}", challenged.body);
    assert!(challenged.body["mfa_token"].is_string());
}

#[tokio::test]
async fn a_provider_error_or_a_foreign_issuer_goes_back_with_an_error_and_writes_nothing() {
    if !configured("oidc") {
        return;
    }
    let app = app().await;
    for (extra, error) in [
        ("&error=access_denied", "provider_error"),
        ("&iss=https%3A%2F%2Fevil.example", "issuer_mismatch"),
        ("&code=not-a-code-the-provider-issued", "provider_error"),
    ] {
        let verifier = Verifier::generate().unwrap();
        let started = start(&app, &app_url(), &verifier.challenge()).await;
        let authorize = started.location();
        let state = authorize
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        let path = format!("/auth/oauth/mock/callback?state={}{extra}", enc(&state));
        let back = raw(&app, "GET", &path, None, None).await;
        assert_eq!(back.status, 302, "{extra}: {}", back.body);
        assert_eq!(back.param("error").as_deref(), Some(error), "{extra}");
        assert_eq!(back.param("code"), None);
        // The state is used up all the same.
        let again = raw(&app, "GET", &path, None, None).await;
        assert_eq!(again.status, 400, "{extra}");
    }
}

#[tokio::test]
async fn starts_are_limited_per_source_address() {
    if !configured("oidc") || over_http() {
        return;
    }
    let app = in_process_app_with(|config| config.source_oauth_starts_per_hour = 2).await;
    let ip = unique_ip();
    let challenge = Verifier::generate().unwrap().challenge();
    let path = format!(
        "/auth/oauth/mock/start?redirect_to={}&code_challenge={challenge}",
        enc(&app_url())
    );
    let route = auth::Endpoint::OauthStart.route();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let request = routed(request_from(&ip, Body::Empty), route, &path);
        let answer = Box::pin(auth::Endpoint::OauthStart.handle(&app, request)).await;
        statuses.push(answer.status().as_u16());
        if answer.status() == 429 {
            assert!(answer.headers().contains_key("retry-after"));
        }
    }
    assert_eq!(statuses, [302, 302, 429]);
}

/// A code past its 60 s is refused: the stored code's expiry set in the
/// past by hand (no clock to move), as DynamoDB's TTL may not have deleted
/// it yet. In-process: the test reaches the store.
#[tokio::test]
async fn a_code_after_its_60_seconds_is_refused() {
    if !configured("oidc") || over_http() {
        return;
    }
    use auth::store::Federation;
    let app = in_process_app_with(|_| {}).await;
    let test_app: TestApp = in_process_app_with(|_| {}).await.into();
    let (back, verifier) = through_provider(&test_app, &Person::new(true)).await;
    let code = back.param("code").unwrap();
    let hash = auth::endpoint::code_hash(&code);
    let mut stored = app.store.take_app_code(&hash).await.unwrap().unwrap();
    assert_eq!(
        stored.expires_at,
        auth::now() + 60,
        "60 s from now, give or take"
    );
    stored.expires_at = auth::now() - 1;
    app.store.put_app_code(&hash, &stored).await.unwrap();
    let answer = redeem(&test_app, &code, verifier.as_str()).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["code"], "invalid_oauth_code");
}

/// What the stand-in provider below does at its token endpoint.
#[derive(Clone, Copy)]
enum Misbehaving {
    /// Answers after the 5 s budget.
    Slow,
    /// Answers 200 with a body that is not JSON.
    Garbage,
}

/// A provider that discovers fine and then misbehaves at its token
/// endpoint, on a local port: `http://127.0.0.1:P/slow` and
/// `…/garbage` are its issuers (the mock provider cannot be made slow).
async fn misbehaving_provider() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = base.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let base = served.clone();
            tokio::spawn(async move {
                let mut head = vec![0_u8; 8192];
                let read = socket.read(&mut head).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&head[..read]).into_owned();
                let path = head.split(' ').nth(1).unwrap_or_default().to_owned();
                let mode = if path.starts_with("/slow/") {
                    Misbehaving::Slow
                } else {
                    Misbehaving::Garbage
                };
                let issuer = format!(
                    "{base}{}",
                    if path.starts_with("/slow/") {
                        "/slow"
                    } else {
                        "/garbage"
                    }
                );
                let body = if path.ends_with("/.well-known/openid-configuration") {
                    json!({
                        "issuer": issuer,
                        "authorization_endpoint": format!("{issuer}/authorize"),
                        "token_endpoint": format!("{issuer}/token"),
                        "jwks_uri": format!("{issuer}/jwks"),
                        "code_challenge_methods_supported": ["S256"],
                    })
                    .to_string()
                } else {
                    if let Misbehaving::Slow = mode {
                        let late = auth::oidc::provider::BUDGET + std::time::Duration::from_secs(2);
                        tokio::time::sleep(late).await;
                    }
                    "<html>this is not JSON".to_owned()
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    base
}

/// A provider slower than the 5 s budget, or answering garbage at its
/// token endpoint: the callback, its state consumed, goes back to the app
/// with `error=provider_unavailable` and no code, and makes no account.
/// In-process: the providers are configured here.
#[tokio::test]
async fn a_slow_or_garbled_provider_goes_back_with_an_error_and_writes_nothing() {
    if !configured("oidc") || over_http() {
        return;
    }
    let base = misbehaving_provider().await;
    let app: TestApp = in_process_app_with(|config| {
        for name in ["slow", "garbage"] {
            let mut provider = config.oidc.providers[0].clone();
            provider.name = name.into();
            provider.issuer = format!("{base}/{name}");
            config.oidc.providers.push(provider);
        }
    })
    .await
    .into();
    for name in ["slow", "garbage"] {
        let verifier = Verifier::generate().unwrap();
        let path = format!(
            "/auth/oauth/{name}/start?redirect_to={}&code_challenge={}",
            enc(&app_url()),
            verifier.challenge()
        );
        let started = raw(&app, "GET", &path, None, None).await;
        assert_eq!(started.status, 302, "{name}: {}", started.body);
        let state = started.param("state").unwrap();
        let callback = format!(
            "/auth/oauth/{name}/callback?code=a-code&state={}",
            enc(&state)
        );
        let began = std::time::Instant::now();
        let back = raw(&app, "GET", &callback, None, None).await;
        assert_eq!(back.status, 302, "{name}: {}", back.body);
        assert!(back.location().as_str().starts_with(&app_url()), "{name}");
        assert_eq!(
            back.param("error").as_deref(),
            Some("provider_unavailable"),
            "{name}"
        );
        assert_eq!(back.param("code"), None, "{name}");
        // Within the budget, and a little: the slow answer was not awaited.
        assert!(began.elapsed() < auth::oidc::provider::BUDGET + std::time::Duration::from_secs(2));
        // The state is used up all the same.
        let again = raw(&app, "GET", &callback, None, None).await;
        assert_eq!(again.status, 400, "{name}");
    }
}

/// The account page as an app's hosted sign-in (`POST /auth/oauth/code`):
/// a person signed in by password (and TOTP, when on) gets the app a code
/// that the app redeems with its verifier for that sign-in's session: its
/// `amr`, no second challenge. A redirect not allowed, a bad challenge, no
/// token: refused. The page itself refuses to serve a hosted sign-in for a
/// redirect not allowed.
#[tokio::test]
async fn the_page_as_hosted_sign_in_hands_the_app_a_code_for_its_sign_in() {
    if !configured("oidc") {
        return;
    }
    let app = app().await;
    let (email, session) = verified_account(&app).await;
    let token = session.token();
    let verifier = Verifier::generate().unwrap();
    let mint = |redirect_to: &str, challenge: &str| {
        json!({ "redirect_to": redirect_to, "code_challenge": challenge }).to_string()
    };
    let body = mint(&app_url(), &verifier.challenge());
    let minted = call_with_token(&app, "POST", "/auth/oauth/code", &token, Some(&body)).await;
    assert_eq!(minted.status, 200, "{}", minted.body);
    let url = Url::parse(minted.body["redirect_url"].as_str().unwrap()).unwrap();
    assert_eq!(
        format!("{}{}", url.origin().ascii_serialization(), url.path()),
        app_url()
    );
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens = redeem(&app, &code, verifier.as_str()).await;
    tokens.assert_success(200, "Successfully logged in.");
    let claims = claims_of(&tokens.token());
    assert_eq!(claims["sub"], claims_of(&token)["sub"]);
    assert_eq!(
        claims["amr"],
        json!(["pwd"]),
        "the page's sign-in, not a provider's"
    );
    assert_eq!(
        redeem(&app, &code, verifier.as_str()).await.status,
        400,
        "once"
    );

    // Refused: a redirect not allowed, a malformed challenge, no token.
    let evil = mint("https://evil.example/cb", &verifier.challenge());
    let answer = call_with_token(&app, "POST", "/auth/oauth/code", &token, Some(&evil)).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["code"], "redirect_not_allowed");
    let plain = mint(&app_url(), "plain-is-not-a-challenge");
    let answer = call_with_token(&app, "POST", "/auth/oauth/code", &token, Some(&plain)).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    let answer = call(&app, "POST", "/auth/oauth/code", None, Some(&body)).await;
    assert!(
        matches!(answer.status.as_u16(), 401 | 403),
        "{}",
        answer.body
    );

    // An account with TOTP on: the page asked for the code; the app's
    // session carries it and is not challenged again.
    let enroll = json!({ "password": PASSWORD }).to_string();
    let (totp, _) = turn_totp_on(&app, &token, &enroll).await;
    let challenged = login(&app, &email, PASSWORD).await;
    let step = json!({
        "mfa_token": challenged.body["mfa_token"],
        "code": totp.code_at(auth::now() + 30),
    });
    let finished = call(
        &app,
        "POST",
        "/auth/login/mfa",
        None,
        Some(&step.to_string()),
    )
    .await;
    assert_eq!(finished.status, 200, "{}", finished.body);
    let minted = call_with_token(
        &app,
        "POST",
        "/auth/oauth/code",
        &finished.token(),
        Some(&body),
    )
    .await;
    assert_eq!(minted.status, 200, "{}", minted.body);
    let url = Url::parse(minted.body["redirect_url"].as_str().unwrap()).unwrap();
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens = redeem(&app, &code, verifier.as_str()).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(
        claims_of(&tokens.token())["amr"],
        json!(["pwd", "otp", "mfa"])
    );

    // The page: a hosted sign-in only for an allowed redirect.
    let page = |redirect_to: &str| {
        format!(
            "/account?redirect_to={}&code_challenge={}",
            enc(redirect_to),
            verifier.challenge()
        )
    };
    assert_eq!(
        raw(&app, "GET", &page(&app_url()), None, None).await.status,
        200
    );
    for refused in [
        page("https://evil.example/cb"),
        page(&format!("{}/../x", app_url())),
        format!("/account?redirect_to={}", enc(&app_url())),
    ] {
        let answer = raw(&app, "GET", &refused, None, None).await;
        assert_eq!(answer.status, 400, "{refused}");
        assert!(answer.headers.get("location").is_none(), "{refused}");
    }
}
