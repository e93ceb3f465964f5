//! `shared/verify` (the `token-auth-verify` crate, issue 27) against the
//! service: what another Rust service sees when it checks our tokens with it.
//!
//! - a fresh token passes with its claims; `alg: none`, HS256 keyed with the
//!   published public key, a key of someone else's under our kid, a wrong
//!   `aud` or `iss` all fail;
//! - a logged-out token (and a disabled user's) fails with the revocation
//!   check on, and passes with it off, until its `exp`;
//! - an unknown `kid` costs one refetch of the JWKS, not one per request;
//! - a token signed by the `next` key, as it signs after `keys rotate`,
//!   passes from the cache without a restart; in-process, a whole rotation
//!   cycle (the running app's key set swapped, as `keys rotate` and a
//!   function's reload do) is followed by the same verifier.
//!
//! Over HTTP (`make test-e2e`) the verifier fetches the service's own
//! `/.well-known/jwks.json`; in-process, a small local server answers with
//! what the in-process app's JWKS endpoint answers (body and
//! `Cache-Control`), since the in-process suite has no HTTP server.

use auth::tokens::keys::{KeySet, KeySetDocument, KeyState};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use test_support::*;
use token_auth_verify::{RevocationCheck, Verifier, VerifyError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the in-process stand-in answers (JWKS body, `Cache-Control`), and
/// the requests it answered.
type LocalJwks = (Arc<Mutex<(String, String)>>, Arc<AtomicU64>);

/// Where a verifier finds the app's keys: the service's JWKS over HTTP, or,
/// in-process, a local server publishing the in-process app's answer.
struct Published {
    issuer: String,
    jwks_url: String,
    /// In-process: what the local server answers, and its requests.
    local: Option<LocalJwks>,
}

impl Published {
    async fn of(app: &TestApp) -> Self {
        let discovery = openid_configuration(app).await;
        assert_eq!(discovery.status, 200, "{}", discovery.body);
        let issuer = discovery.body["issuer"].as_str().unwrap().to_owned();
        let jwks_url = discovery.body["jwks_uri"].as_str().unwrap().to_owned();
        let TestApp::Http { base, .. } = app else {
            let published = Self::local(issuer).await;
            published.republish(app).await;
            return published;
        };
        // cargo lambda watch answers on API_URL whatever the issuer says.
        let path = jwks_url
            .strip_prefix(&issuer)
            .unwrap_or("/.well-known/jwks.json");
        Self {
            jwks_url: format!("{base}{path}"),
            issuer,
            local: None,
        }
    }

    async fn local(issuer: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let jwks_url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let answer = Arc::new(Mutex::new((String::new(), String::new())));
        let requests = Arc::new(AtomicU64::new(0));
        let (served, counted) = (answer.clone(), requests.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (served, counted) = (served.clone(), counted.clone());
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0; 1024];
                    while !request.windows(4).any(|end| end == b"\r\n\r\n") {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(read) => request.extend_from_slice(&buffer[..read]),
                        }
                    }
                    counted.fetch_add(1, Ordering::SeqCst);
                    let (body, cache) = served.lock().unwrap().clone();
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: {cache}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self {
            issuer,
            jwks_url,
            local: Some((answer, requests)),
        }
    }

    /// In-process: publishes what the app's JWKS endpoint answers now.
    async fn republish(&self, app: &TestApp) {
        if let Some((answer, _)) = &self.local {
            let published = jwks(app).await;
            assert_eq!(published.status, 200, "{}", published.body);
            let cache = (published.headers.get("cache-control"))
                .and_then(|value| value.to_str().ok())
                .expect("the JWKS says how long to keep it")
                .to_owned();
            *answer.lock().unwrap() = (published.body.to_string(), cache);
        }
    }

    fn verifier(&self) -> token_auth_verify::VerifierBuilder {
        Verifier::builder(&self.issuer)
            .jwks_url(&self.jwks_url)
            .audience(audience())
    }

    /// The requests the local server answered (in-process), for a check
    /// beside the verifier's own count.
    fn requests(&self) -> Option<u64> {
        (self.local.as_ref()).map(|(_, requests)| requests.load(Ordering::SeqCst))
    }
}

#[tokio::test]
async fn a_fresh_token_passes_and_forgeries_fail() {
    let app = app().await;
    let token = new_account(&app).await.1.token();
    let published = Published::of(&app).await;
    let verifier = published.verifier().build().unwrap();

    let claims = verifier.verify(&token).await.expect("a fresh token passes");
    let issued = claims_of(&token);
    assert_eq!(claims.sub, issued["sub"].as_str().unwrap());
    assert_eq!(claims.sid, issued["sid"].as_str().unwrap());
    assert_eq!(claims.jti, issued["jti"].as_str().unwrap());
    assert_eq!(
        (claims.iss.as_str(), claims.aud),
        (published.issuer.as_str(), audience())
    );
    assert_eq!(claims.amr, ["pwd"]);
    assert!(!claims.admin && claims.roles.is_empty() && claims.email.is_none());
    assert_eq!(verifier.jwks_fetches(), 1);

    let payload = token.split('.').nth(1).unwrap();
    let kid = kid_of(&token);
    let public_pem = public_key_pem(&published_key_of(&app, &token).await);
    let hmac_header = json!({ "typ": "JWT", "alg": "HS256", "kid": kid });
    let attacker = attacker_keys().current();
    let foreign_under_our_kid = json!({ "typ": "JWT", "alg": "RS256", "kid": kid });
    for (what, forged, expected) in [
        (
            "alg none",
            unsigned("none", payload),
            VerifyError::WrongAlgorithm,
        ),
        (
            "HS256 keyed with the public key",
            raw_token(&hmac_header, &issued, public_pem.as_bytes()),
            VerifyError::WrongAlgorithm,
        ),
        (
            "another key under our kid",
            forge(
                &foreign_under_our_kid,
                &issued,
                jsonwebtoken::Algorithm::RS256,
                &attacker.encoding,
            ),
            VerifyError::BadSignature,
        ),
        ("tampered", tamper(&token), VerifyError::BadSignature),
    ] {
        assert_eq!(verifier.verify(&forged).await, Err(expected), "{what}");
    }
    let other_audience = published
        .verifier()
        .audience("another-api")
        .build()
        .unwrap();
    assert_eq!(
        other_audience.verify(&token).await,
        Err(VerifyError::WrongAudience)
    );
    let other_issuer = Verifier::builder("https://someone-else.example")
        .jwks_url(&published.jwks_url)
        .audience(audience())
        .build()
        .unwrap();
    assert_eq!(
        other_issuer.verify(&token).await,
        Err(VerifyError::WrongIssuer)
    );
}

/// The revocation check over the service's tables, or `None` (the test
/// skips) against a deployment.
async fn revocation_or_skip(test: &str) -> Option<(Backstage, RevocationCheck)> {
    let backstage = backstage_or_skip(test).await?;
    let check = RevocationCheck::new(
        backstage.client.clone(),
        &backstage.config.users_table,
        &backstage.config.revoked_tokens_table,
    );
    Some((backstage, check))
}

#[tokio::test]
async fn a_logged_out_token_fails_with_revocation_and_passes_without() {
    let Some((backstage, check)) = revocation_or_skip("revocation").await else {
        return;
    };
    let app = app().await;
    let published = Published::of(&app).await;
    let signature_only = published.verifier().build().unwrap();
    let revocation = published.verifier().revocation(check).build().unwrap();

    let (email, registered) = new_account(&app).await;
    let token = registered.token();
    assert!(signature_only.verify(&token).await.is_ok());
    assert!(revocation.verify(&token).await.is_ok(), "live: passes both");

    assert_eq!(logout(&app, &token).await.status, 200);
    assert_eq!(revocation.verify(&token).await, Err(VerifyError::Revoked));
    let claims = signature_only.verify(&token).await;
    assert!(claims.is_ok(), "without revocation: passes until exp");
    assert_eq!(
        revocation.verify_signed(&token).await,
        claims,
        "verify_signed skips the check"
    );

    // Another session of the user's, the account disabled behind the
    // service's back (as an admin's disable whose session sweep failed).
    let other = login(&app, &email, PASSWORD).await.token();
    assert!(revocation.verify(&other).await.is_ok());
    backstage.set_disabled(&email, true).await;
    assert_eq!(revocation.verify(&other).await, Err(VerifyError::Revoked));
    assert!(signature_only.verify(&other).await.is_ok());
    backstage.set_disabled(&email, false).await;
    assert!(revocation.verify(&other).await.is_ok());

    // A session revoked (DELETE /auth/sessions/{id}): its tokens end too.
    let third = sign_in(&app, &email, "verify-test").await.token();
    let revoked = revoke_session(&app, &other, &session_of(&third)).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(revocation.verify(&third).await, Err(VerifyError::Revoked));
    assert!(signature_only.verify(&third).await.is_ok());
}

#[tokio::test]
async fn an_unknown_kid_costs_one_refetch_not_one_per_request() {
    let app = app().await;
    let token = new_account(&app).await.1.token();
    let published = Published::of(&app).await;
    let verifier = (published.verifier())
        .refetch_interval(Duration::from_millis(500))
        .build()
        .unwrap();
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(verifier.jwks_fetches(), 1);
    // A well-formed RS256 token under a kid the service never published.
    let unknown = signed_by(attacker_keys(), &claims_of(&token));
    tokio::time::sleep(Duration::from_millis(600)).await;
    for _ in 0..20 {
        assert_eq!(
            verifier.verify(&unknown).await,
            Err(VerifyError::UnknownKey)
        );
    }
    let at_once: Vec<_> = (0..20)
        .map(|_| {
            let (verifier, unknown) = (verifier.clone(), unknown.clone());
            tokio::spawn(async move { verifier.verify(&unknown).await })
        })
        .collect();
    for answer in at_once {
        assert_eq!(answer.await.unwrap(), Err(VerifyError::UnknownKey));
    }
    assert_eq!(verifier.jwks_fetches(), 2, "40 requests, one refetch");
    if let Some(requests) = published.requests() {
        assert_eq!(requests, 2);
    }
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(verifier.jwks_fetches(), 2);
}

#[tokio::test]
async fn the_next_key_signs_after_a_rotation_and_its_tokens_pass_without_a_restart() {
    // The service's next key (published, not yet signing) signs every token
    // after `keys rotate`: a verifier that fetched the set before has it.
    let Some(backstage) = backstage_or_skip("rotation: the next key").await else {
        return;
    };
    let app = app().await;
    let token = new_account(&app).await.1.token();
    let published = Published::of(&app).await;
    let verifier = published.verifier().build().unwrap();
    assert!(verifier.verify(&token).await.is_ok());
    let keys = &backstage.config.signing_keys;
    let next = (keys.jwks()["keys"].as_array().unwrap().iter())
        .map(|jwk| jwk["kid"].as_str().unwrap().to_owned())
        .find(|kid| *kid != keys.current().kid)
        .expect("the service publishes a next key");
    let by_next = signed_with(keys.get(&next).unwrap(), &claims_of(&token));
    assert_eq!(kid_of(&by_next), next);
    assert!(verifier.verify(&by_next).await.is_ok());
    assert_eq!(verifier.jwks_fetches(), 1, "from the cache, no refetch");
}

#[tokio::test]
async fn a_verifier_follows_rotations_of_the_running_service() {
    if over_http() {
        eprintln!("rotation cycle: skipped over HTTP, it swaps the running app's keys");
        return;
    }
    let [a, b, c, d] =
        ["verify-a", "verify-b", "verify-c", "verify-d"].map(|kid| new_key(kid, KeyState::Next));
    let mut a_current = a.clone();
    a_current.state = KeyState::Current;
    let document = KeySetDocument {
        keys: vec![a_current, b],
    };
    let keys = Arc::new(KeySet::from_document(&document).unwrap());
    let app = TestApp::from(in_process_app_with(|config| config.signing_keys = keys).await);
    let published = Published::of(&app).await;
    let verifier = (published.verifier())
        .refetch_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    let put_in_force = async |document: &KeySetDocument| {
        let keys = KeySet::from_document(document).unwrap();
        app.in_process().tokens.replace_keys(Arc::new(keys));
        published.republish(&app).await;
    };

    let (email, registered) = new_account(&app).await;
    let by_a = registered.token();
    assert!(verifier.verify(&by_a).await.is_ok());

    // First rotation: B signs. It was published before: no refetch.
    let first = rotate(&document, &c);
    put_in_force(&first).await;
    let by_b = login(&app, &email, PASSWORD).await.token();
    assert_eq!(kid_of(&by_b), "verify-b");
    assert!(verifier.verify(&by_b).await.is_ok());
    assert!(verifier.verify(&by_a).await.is_ok(), "A still verifies");
    assert_eq!(verifier.jwks_fetches(), 1);

    // Second rotation, within the cache's max-age: C signs, a kid the
    // cached set lacks: one refetch, then it passes.
    let mut second = rotate(&first, &d);
    second.keys.retain(|key| key.kid != "verify-a");
    put_in_force(&second).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let by_c = login(&app, &email, PASSWORD).await.token();
    assert_eq!(kid_of(&by_c), "verify-c");
    assert!(verifier.verify(&by_c).await.is_ok());
    assert_eq!(verifier.jwks_fetches(), 2);
    assert_eq!(published.requests(), Some(2));
    // A, dropped from the set, is refused with the set refetched.
    assert_eq!(verifier.verify(&by_a).await, Err(VerifyError::UnknownKey));
}
