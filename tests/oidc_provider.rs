//! The OpenID Connect client (`auth::oidc`, issue 28) against a real local
//! provider: `scripts/local/oidc-provider.js` (npm's oauth2-mock-server),
//! started here on a free port. Discovery, the authorization redirect
//! followed by hand, the code exchanged with the PKCE verifier, the ID
//! token's claims; then the failures: a wrong or missing PKCE verifier, a
//! code used twice, a nonce mismatch, a token for another audience, a
//! provider that never answers (the 5 s budget), one that answers garbage
//! or a redirect. Skips, saying so, where node or the package is missing
//! (`scripts/setup/tools.sh` installs it).

use auth::config::Secret;
use auth::oidc::pkce::Verifier;
use auth::oidc::{OidcError, Provider, ProviderSettings};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REDIRECT: &str = "http://localhost:9000/auth/oauth/mock/callback";
const CLIENT: &str = "our-client";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The local provider, stopped (by its own id) when dropped.
struct Mock {
    child: Child,
    issuer: String,
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Mock {
    /// Started on a free port; `None`, with a message, when it cannot be.
    fn start() -> Option<Self> {
        let package = root().join(".tools/oidc/node_modules/oauth2-mock-server/package.json");
        if !package.exists() {
            eprintln!("skipped: oauth2-mock-server is not installed (run scripts/setup/tools.sh)");
            return None;
        }
        let spawned = Command::new("node")
            .arg(root().join("scripts/local/oidc-provider.js"))
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let Ok(mut child) = spawned else {
            eprintln!("skipped: node is not installed");
            return None;
        };
        let stdout = child.stdout.take().expect("piped");
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let mut mock = Self {
            child,
            issuer: String::new(),
        };
        let line = receiver
            .recv_timeout(Duration::from_secs(20))
            .expect("the provider says it listens");
        mock.issuer = line
            .trim()
            .strip_prefix("oidc-provider: listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Some(mock)
    }

    fn provider(&self, client_id: &str) -> Provider {
        Provider::new(settings(&self.issuer, client_id))
    }
}

fn settings(issuer: &str, client_id: &str) -> ProviderSettings {
    ProviderSettings {
        name: "mock".into(),
        issuer: issuer.into(),
        client_id: client_id.into(),
        client_secret: Secret::new("mock-secret"),
        scopes: vec!["openid".into(), "email".into()],
        label: "Mock".into(),
    }
}

/// Follows the authorization URL as the browser would, with who signs in
/// added to it; the `code` and `state` of the redirect back.
async fn authorize(url: &url::Url, who: &[(&str, &str)]) -> (String, String) {
    let mut url = url.clone();
    url.query_pairs_mut().extend_pairs(who);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = client.get(url.as_str()).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 302);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    let back = url::Url::parse(&location).unwrap();
    let param = |name: &str| {
        back.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    };
    (param("code"), param("state"))
}

const ALICE: [(&str, &str); 3] = [
    ("sub", "alice"),
    ("email", "alice@example.com"),
    ("email_verified", "true"),
];

/// A sign-in up to the code: the verifier, the nonce and the code.
async fn start(provider: &Provider, nonce: &str, who: &[(&str, &str)]) -> (Verifier, String) {
    let verifier = Verifier::generate().unwrap();
    let url = provider
        .authorization_url(REDIRECT, "state-1", nonce, &verifier.challenge())
        .await
        .unwrap();
    let (code, state) = authorize(&url, who).await;
    assert_eq!(state, "state-1");
    assert!(!code.is_empty());
    (verifier, code)
}

#[tokio::test]
async fn a_sign_in_through_the_local_provider() {
    let Some(mock) = Mock::start() else { return };
    let provider = mock.provider(CLIENT);
    let metadata = provider.metadata().await.unwrap();
    assert_eq!(metadata.issuer, mock.issuer);
    assert_eq!(metadata.token_endpoint, format!("{}/token", mock.issuer));

    let (verifier, code) = start(&provider, "nonce-1", &ALICE).await;
    let claims = provider
        .redeem(&code, REDIRECT, &verifier, "nonce-1", auth::now())
        .await
        .unwrap();
    assert_eq!(claims.sub, "alice");
    assert_eq!(claims.email.as_deref(), Some("alice@example.com"));
    assert!(claims.email_verified);
    assert_eq!(claims.iss, mock.issuer);

    // The code is single use.
    let again = provider.redeem(&code, REDIRECT, &verifier, "nonce-1", auth::now());
    assert_eq!(again.await.unwrap_err().code(), "provider_error");

    // Someone else, with an unverified address; and no email at all.
    let bob = [
        ("sub", "bob"),
        ("email", "bob@example.com"),
        ("email_verified", "false"),
    ];
    let (verifier, code) = start(&provider, "nonce-2", &bob).await;
    let claims = provider
        .redeem(&code, REDIRECT, &verifier, "nonce-2", auth::now())
        .await
        .unwrap();
    assert_eq!((claims.sub.as_str(), claims.email_verified), ("bob", false));
    let (verifier, code) = start(&provider, "nonce-3", &[("sub", "carol")]).await;
    let claims = provider
        .redeem(&code, REDIRECT, &verifier, "nonce-3", auth::now())
        .await
        .unwrap();
    assert_eq!((claims.email, claims.email_verified), (None, false));
}

#[tokio::test]
async fn wrong_verifiers_nonces_and_audiences_fail() {
    let Some(mock) = Mock::start() else { return };
    let provider = mock.provider(CLIENT);

    // A wrong PKCE verifier: the provider refuses the code.
    let (_, code) = start(&provider, "nonce-1", &ALICE).await;
    let wrong = Verifier::generate().unwrap();
    let error = provider
        .redeem(&code, REDIRECT, &wrong, "nonce-1", auth::now())
        .await
        .unwrap_err();
    assert!(matches!(error, OidcError::ProviderError(_)), "{error}");

    // No verifier at all (the wrapper refuses what the mock would let by).
    let (_, code) = start(&provider, "nonce-1", &ALICE).await;
    let answer = reqwest::Client::new()
        .post(format!("{}/token", mock.issuer))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=authorization_code&code={code}&client_id={CLIENT}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 400);
    assert!(answer.text().await.unwrap().contains("invalid_grant"));

    // The ID token of another sign-in: its nonce is not ours.
    let (verifier, code) = start(&provider, "nonce-of-that-sign-in", &ALICE).await;
    let error = provider
        .redeem(&code, REDIRECT, &verifier, "nonce-of-this-one", auth::now())
        .await
        .unwrap_err();
    assert_eq!(error, OidcError::NonceMismatch);
    assert_eq!(error.code(), "nonce_mismatch");

    // An ID token the provider issued to another client.
    let other = mock.provider("another-client");
    let (verifier, code) = start(&other, "nonce-1", &ALICE).await;
    let id_token = other
        .exchange_code(&code, REDIRECT, &verifier)
        .await
        .unwrap();
    assert!(
        other
            .check_id_token(&id_token, "nonce-1", auth::now())
            .await
            .is_ok()
    );
    let error = provider
        .check_id_token(&id_token, "nonce-1", auth::now())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_id_token");
    assert!(error.to_string().contains("audience"), "{error}");

    // Expired by the time it is checked.
    let (verifier, code) = start(&provider, "nonce-1", &ALICE).await;
    let id_token = provider
        .exchange_code(&code, REDIRECT, &verifier)
        .await
        .unwrap();
    let later = auth::now() + 2 * 3600;
    let error = provider
        .check_id_token(&id_token, "nonce-1", later)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid_id_token");
}

/// A server on a free port answering every connection with
/// `answer(its base URL, path)`, or (`None`) never answering at all. Runs
/// until the test ends. Its base URL.
fn serve(answer: impl Fn(&str, &str) -> Option<String> + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let base = issuer.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0_u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            let path = head.split(' ').nth(1).unwrap_or_default().to_owned();
            match answer(&base, &path) {
                Some(response) => {
                    let _ = stream.write_all(response.as_bytes());
                }
                None => held.push(stream),
            }
        }
    });
    issuer
}

fn http(status: &str, headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn a_provider_that_never_answers_fails_within_the_budget() {
    let issuer = serve(|_, _| None);
    let provider = Provider::new(settings(&issuer, CLIENT));
    let started = Instant::now();
    let error = provider.metadata().await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(error.code(), "provider_unavailable", "{error}");
    assert!(error.to_string().contains("5000 ms"), "{error}");
    assert!(
        took >= Duration::from_millis(4900) && took < Duration::from_secs(7),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_provider_answering_garbage_or_redirects_fails() {
    for answer in [
        http("200 OK", "content-type: application/json\r\n", "not json"),
        http("200 OK", "", "{\"issuer\": 42}"),
        http("500 Internal Server Error", "", "{}"),
        http("302 Found", "location: https://evil.example.com/\r\n", ""),
        "garbage, not HTTP at all\r\n\r\n".to_owned(),
    ] {
        let issuer = serve(move |_, _| Some(answer.clone()));
        let error = Provider::new(settings(&issuer, CLIENT))
            .metadata()
            .await
            .unwrap_err();
        assert_eq!(error.code(), "provider_unavailable", "{error}");
    }

    // Discovery is fine, but the token endpoint and the JWKS answer garbage.
    let discovery = |base: &str, issuer: &str| {
        let document = serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "jwks_uri": format!("{base}/jwks"),
        });
        http("200 OK", "", &document.to_string())
    };
    let issuer = serve(move |base, path| {
        Some(match path {
            "/.well-known/openid-configuration" => discovery(base, base),
            _ => http("200 OK", "content-type: application/json\r\n", "not json"),
        })
    });
    let provider = Provider::new(settings(&issuer, CLIENT));
    let verifier = Verifier::generate().unwrap();
    let error = provider
        .redeem("a-code", REDIRECT, &verifier, "nonce-1", auth::now())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "provider_unavailable", "{error}");
    assert!(error.to_string().contains("token"), "{error}");
    let token = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.e30.c2ln"; // {"alg":"RS256","kid":"k"}
    let error = provider
        .check_id_token(token, "nonce-1", auth::now())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "provider_unavailable", "{error}");
    assert!(error.to_string().contains("jwks"), "{error}");

    // A discovery document naming another issuer: a mix-up, refused.
    let issuer = serve(move |base, _| Some(discovery(base, "https://accounts.example.com")));
    let error = Provider::new(settings(&issuer, CLIENT))
        .metadata()
        .await
        .unwrap_err();
    assert_eq!(error.code(), "provider_unavailable");
    assert!(error.to_string().contains("issuer"), "{error}");
}
