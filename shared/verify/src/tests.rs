//! The verifier against a key set served from a local HTTP server, with
//! RSA keys made here: no service running.

use crate::{Verifier, VerifyError};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const ISSUER: &str = "https://auth.example.test";
const AUDIENCE: &str = "token-auth";

/// An RSA key of 2048 bits and its kid.
struct Key {
    kid: &'static str,
    pair: KeyPair,
}

impl Key {
    fn jwk(&self) -> Value {
        let public = self.pair.public_key();
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        json!({"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256", "n": n, "e": e})
    }

    /// `claims` signed RS256 under this key's kid.
    fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(
            &json!({"typ": "JWT", "alg": "RS256", "kid": self.kid}),
            claims,
        )
    }

    fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let message = format!("{}.{}", b64(header), b64(claims));
        let mut signature = vec![0; self.pair.public_modulus_len()];
        (self.pair)
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message.as_bytes(),
                &mut signature,
            )
            .unwrap();
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// Three keys, made once per test binary (a key takes a moment).
static KEYS: LazyLock<[Key; 3]> = LazyLock::new(|| {
    ["key-a", "key-b", "key-c"].map(|kid| Key {
        kid,
        pair: KeyPair::generate(KeySize::Rsa2048).unwrap(),
    })
});

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn now() -> u64 {
    crate::now()
}

/// Claims as the service issues them.
fn claims() -> Value {
    let now = now();
    json!({
        "sub": "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e", "sid": "AAAAAAAAAAAAAAAAAAAAAA",
        "jti": "QUJDREVGR0hJSktMTU5PUA", "iss": ISSUER, "aud": AUDIENCE,
        "iat": now, "exp": now + 600, "admin": false, "roles": ["editor"],
        "amr": ["pwd", "otp", "mfa"], "auth_time": now,
    })
}

fn with(claims: &Value, name: &str, value: Value) -> Value {
    let mut claims = claims.clone();
    claims[name] = value;
    claims
}

/// A local issuer serving a JWKS document (with a `Cache-Control` of its
/// choosing, or a status), counting its requests.
#[derive(Clone)]
struct Issuer {
    url: String,
    requests: Arc<AtomicU64>,
    answer: Arc<Mutex<Answer>>,
}

struct Answer {
    status: u16,
    body: String,
    cache_control: Option<String>,
}

impl Issuer {
    async fn serving(keys: &[&Key], cache_control: Option<&str>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = Issuer {
            url: format!(
                "http://{}/.well-known/jwks.json",
                listener.local_addr().unwrap()
            ),
            requests: Arc::new(AtomicU64::new(0)),
            answer: Arc::new(Mutex::new(Answer {
                status: 200,
                body: String::new(),
                cache_control: None,
            })),
        };
        issuer.publish(keys, cache_control);
        let served = issuer.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let served = served.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0; 1024];
                    while !request.windows(4).any(|end| end == b"\r\n\r\n") {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(read) => request.extend_from_slice(&buffer[..read]),
                        }
                    }
                    served.requests.fetch_add(1, Ordering::SeqCst);
                    let response = {
                        let answer = served.answer.lock().unwrap();
                        let cache = (answer.cache_control.as_ref())
                            .map(|value| format!("cache-control: {value}\r\n"))
                            .unwrap_or_default();
                        format!(
                            "HTTP/1.1 {} X\r\ncontent-type: application/json\r\n{cache}content-length: {}\r\nconnection: close\r\n\r\n{}",
                            answer.status,
                            answer.body.len(),
                            answer.body
                        )
                    };
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        issuer
    }

    fn publish(&self, keys: &[&Key], cache_control: Option<&str>) {
        let mut answer = self.answer.lock().unwrap();
        answer.status = 200;
        answer.body =
            json!({"keys": keys.iter().map(|key| key.jwk()).collect::<Vec<_>>()}).to_string();
        answer.cache_control = cache_control.map(str::to_owned);
    }

    fn fail_with(&self, status: u16) {
        self.answer.lock().unwrap().status = status;
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    fn verifier(&self) -> crate::VerifierBuilder {
        Verifier::builder(ISSUER).jwks_url(&self.url)
    }
}

#[tokio::test]
async fn a_token_of_the_issuer_verifies_with_its_claims_typed() {
    let [a, b, _] = &*KEYS;
    let issuer = Issuer::serving(&[a, b], Some("public, max-age=300")).await;
    let verifier = issuer.verifier().audience(AUDIENCE).build().unwrap();
    let hooked = with(&claims(), "claims", json!({"plan": "pro"}));
    let hooked = with(&hooked, "email", json!("joe@example.com"));
    let verified = verifier.verify(&a.sign(&hooked)).await.unwrap();
    assert_eq!(verified.sub, "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e");
    assert_eq!(verified.sid, "AAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(verified.roles, ["editor"]);
    assert!(verified.has_mfa() && verified.has_role("editor") && !verified.admin);
    assert_eq!(verified.email.as_deref(), Some("joe@example.com"));
    assert_eq!(verified.claims.unwrap()["plan"], "pro");
    // A token of today's service: no email, no custom claims.
    let plain = verifier.verify(&b.sign(&claims())).await.unwrap();
    assert_eq!((plain.email, plain.claims), (None, None));
    // A token from before roles, amr and auth_time.
    let mut old = claims();
    for name in ["roles", "amr", "auth_time", "admin"] {
        old.as_object_mut().unwrap().remove(name);
    }
    let old = verifier.verify(&a.sign(&old)).await.unwrap();
    assert!(old.roles.is_empty() && old.amr.is_empty() && !old.has_mfa());
    assert_eq!(issuer.requests(), 1, "one fetch, then the cache");
    assert_eq!(verifier.jwks_fetches(), 1);
}

#[tokio::test]
async fn only_rs256_from_a_published_key_with_our_claims_passes() {
    let [a, _, c] = &*KEYS;
    let issuer = Issuer::serving(&[a], None).await;
    let verifier = issuer.verifier().build().unwrap();
    let good = claims();
    let token = a.sign(&good);
    assert!(verifier.verify(&token).await.is_ok());
    let payload = token.split('.').nth(1).unwrap();
    let jwk = a.jwk();
    let public_key_bytes = jwk["n"].as_str().unwrap().as_bytes();
    let hmac = |secret: &[u8]| {
        let header = b64(&json!({"typ": "JWT", "alg": "HS256", "kid": "key-a"}));
        let message = format!("{header}.{payload}");
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
        let tag = aws_lc_rs::hmac::sign(&key, message.as_bytes());
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    };
    let now = now();
    let cases: Vec<(&str, String, VerifyError)> = vec![
        (
            "alg none",
            format!(
                "{}.{payload}.",
                b64(&json!({"alg": "none", "kid": "key-a"}))
            ),
            VerifyError::WrongAlgorithm,
        ),
        (
            "alg None",
            format!("{}.{payload}.", b64(&json!({"alg": "None"}))),
            VerifyError::WrongAlgorithm,
        ),
        (
            "HS256 keyed with the public key",
            hmac(public_key_bytes),
            VerifyError::WrongAlgorithm,
        ),
        (
            "HS256 keyed with the JWK",
            hmac(jwk.to_string().as_bytes()),
            VerifyError::WrongAlgorithm,
        ),
        (
            "RS512 header",
            a.sign_with_header(&json!({"alg": "RS512", "kid": "key-a"}), &good),
            VerifyError::WrongAlgorithm,
        ),
        (
            "no kid",
            a.sign_with_header(&json!({"alg": "RS256"}), &good),
            VerifyError::UnknownKey,
        ),
        (
            "crit",
            a.sign_with_header(
                &json!({"alg": "RS256", "kid": "key-a", "crit": ["exp"]}),
                &good,
            ),
            VerifyError::Invalid("a crit header".into()),
        ),
        (
            "another key under our kid",
            c.sign_with_header(&json!({"alg": "RS256", "kid": "key-a"}), &good),
            VerifyError::BadSignature,
        ),
        (
            "tampered",
            format!(
                "{}.{}.{}",
                token.split('.').next().unwrap(),
                b64(&with(&good, "sub", json!("someone-else"))),
                token.split('.').nth(2).unwrap()
            ),
            VerifyError::BadSignature,
        ),
        (
            "wrong aud",
            a.sign(&with(&good, "aud", json!("another-api"))),
            VerifyError::WrongAudience,
        ),
        (
            "wrong iss",
            a.sign(&with(&good, "iss", json!("https://evil.example"))),
            VerifyError::WrongIssuer,
        ),
        (
            "expired",
            a.sign(&with(&good, "exp", json!(now - 10))),
            VerifyError::Expired,
        ),
        (
            "expiring this second",
            a.sign(&with(&good, "exp", json!(now))),
            VerifyError::Expired,
        ),
        (
            "nbf in the future",
            a.sign(&with(&good, "nbf", json!(now + 60))),
            VerifyError::NotYetValid,
        ),
        (
            "iat in the future",
            a.sign(&with(&good, "iat", json!(now + 60))),
            VerifyError::NotYetValid,
        ),
        (
            "no sid",
            a.sign(&{
                let mut c = good.clone();
                c.as_object_mut().unwrap().remove("sid");
                c
            }),
            VerifyError::Invalid(String::new()),
        ),
        (
            "no exp",
            a.sign(&{
                let mut c = good.clone();
                c.as_object_mut().unwrap().remove("exp");
                c
            }),
            VerifyError::Invalid(String::new()),
        ),
        ("two parts", "a.b".into(), VerifyError::Malformed),
        (
            "garbage header",
            "!!.e30.sig".into(),
            VerifyError::Malformed,
        ),
    ];
    for (what, token, expected) in cases {
        let refused = verifier.verify(&token).await.expect_err(what);
        match (&refused, &expected) {
            (VerifyError::Invalid(_), VerifyError::Invalid(why)) if why.is_empty() => {}
            _ => assert_eq!(refused, expected, "{what}"),
        }
    }
    // A verifier expecting another audience or issuer refuses our token.
    let other = issuer.verifier().audience("another-api").build().unwrap();
    assert_eq!(other.verify(&token).await, Err(VerifyError::WrongAudience));
    let other = Verifier::builder("https://other.example")
        .jwks_url(&issuer.url)
        .build()
        .unwrap();
    assert_eq!(other.verify(&token).await, Err(VerifyError::WrongIssuer));
    // A leeway lets a token that just expired through.
    let lenient = issuer.verifier().leeway(30).build().unwrap();
    assert!(
        lenient
            .verify(&a.sign(&with(&good, "exp", json!(now - 10))))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn an_unknown_kid_costs_one_refetch_per_interval_not_one_per_request() {
    let [a, b, _] = &*KEYS;
    let issuer = Issuer::serving(&[a], Some("public, max-age=300")).await;
    let verifier = (issuer.verifier())
        .refetch_interval(Duration::from_millis(400))
        .build()
        .unwrap();
    assert!(verifier.verify(&a.sign(&claims())).await.is_ok());
    assert_eq!(issuer.requests(), 1);
    // b is not published: 50 requests, 25 of them at once, one refetch.
    let unknown = b.sign(&claims());
    for _ in 0..25 {
        assert_eq!(
            verifier.verify(&unknown).await,
            Err(VerifyError::UnknownKey)
        );
    }
    let at_once = (0..25).map(|_| {
        let (verifier, unknown) = (verifier.clone(), unknown.clone());
        tokio::spawn(async move { verifier.verify(&unknown).await })
    });
    for answer in at_once {
        assert_eq!(answer.await.unwrap(), Err(VerifyError::UnknownKey));
    }
    // The fetch at first use was less than the interval ago: none at all.
    assert_eq!(issuer.requests(), 1, "no refetch within the interval");
    tokio::time::sleep(Duration::from_millis(450)).await;
    let at_once = (0..25).map(|_| {
        let (verifier, unknown) = (verifier.clone(), unknown.clone());
        tokio::spawn(async move { verifier.verify(&unknown).await })
    });
    for answer in at_once {
        assert_eq!(answer.await.unwrap(), Err(VerifyError::UnknownKey));
    }
    assert_eq!(issuer.requests(), 2, "one refetch for 25 callers");
    assert_eq!(verifier.jwks_fetches(), 2);
    assert!(
        verifier.verify(&a.sign(&claims())).await.is_ok(),
        "the known key still works"
    );
    assert_eq!(issuer.requests(), 2);
}

#[tokio::test]
async fn a_rotation_is_picked_up_without_a_restart() {
    // What `keys rotate` does to the published set: [A current, B next] →
    // [A retired, B current, C next] → (A's tokens expired) [B, C].
    let [a, b, c] = &*KEYS;
    let issuer = Issuer::serving(&[a, b], Some("public, max-age=300")).await;
    let verifier = (issuer.verifier())
        .refetch_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    let before = a.sign(&claims());
    assert!(verifier.verify(&before).await.is_ok());
    issuer.publish(&[a, b, c], Some("public, max-age=300"));
    // B was published before it signed: its tokens pass from the cache.
    assert!(verifier.verify(&b.sign(&claims())).await.is_ok());
    assert_eq!(issuer.requests(), 1, "the next key was already cached");
    // C signs before the cache's max-age is up: its unknown kid refetches.
    issuer.publish(&[b, c], Some("public, max-age=300"));
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(verifier.verify(&c.sign(&claims())).await.is_ok());
    assert_eq!(issuer.requests(), 2);
    // A, dropped, no longer verifies.
    assert_eq!(verifier.verify(&before).await, Err(VerifyError::UnknownKey));
}

#[tokio::test]
async fn the_key_set_is_kept_for_its_max_age() {
    let [a, _, _] = &*KEYS;
    let token = a.sign(&claims());
    let issuer = Issuer::serving(&[a], Some("public, max-age=1")).await;
    let verifier = (issuer.verifier())
        .refetch_interval(Duration::from_millis(10))
        .build()
        .unwrap();
    for _ in 0..10 {
        assert!(verifier.verify(&token).await.is_ok());
    }
    assert_eq!(issuer.requests(), 1, "kept while fresh");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(issuer.requests(), 2, "fetched again once max-age was up");

    // No Cache-Control: the default max-age.
    let issuer = Issuer::serving(&[a], None).await;
    let verifier = (issuer.verifier())
        .refetch_interval(Duration::from_millis(10))
        .default_max_age(Duration::from_millis(200))
        .build()
        .unwrap();
    assert!(verifier.verify(&token).await.is_ok());
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(issuer.requests(), 1);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(issuer.requests(), 2);

    // no-store, or max-age=0: still not more than once per refetch interval.
    let issuer = Issuer::serving(&[a], Some("no-store")).await;
    let verifier = issuer.verifier().build().unwrap();
    for _ in 0..10 {
        assert!(verifier.verify(&token).await.is_ok());
    }
    assert_eq!(issuer.requests(), 1);
}

#[tokio::test]
async fn keys_that_cannot_be_fetched_fail_closed_without_a_storm() {
    let [a, _, _] = &*KEYS;
    let token = a.sign(&claims());
    let issuer = Issuer::serving(&[a], Some("max-age=1")).await;
    issuer.fail_with(503);
    let verifier = (issuer.verifier())
        .refetch_interval(Duration::from_millis(300))
        .build()
        .unwrap();
    for _ in 0..10 {
        let refused = verifier.verify(&token).await.unwrap_err();
        assert!(
            matches!(refused, VerifyError::KeysUnavailable(_)),
            "{refused}"
        );
        assert!(refused.is_unavailable());
    }
    assert_eq!(issuer.requests(), 1, "one try per refetch interval");
    // Back: the next try after the interval works.
    issuer.publish(&[a], Some("max-age=1"));
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(verifier.verify(&token).await.is_ok());
    // Gone again once the set is stale: refused, not served stale.
    issuer.fail_with(500);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(matches!(
        verifier.verify(&token).await,
        Err(VerifyError::KeysUnavailable(_))
    ));
    // Nobody listening at all.
    let nowhere = Verifier::builder("http://127.0.0.1:9").build().unwrap();
    assert!(matches!(
        nowhere.verify(&token).await,
        Err(VerifyError::KeysUnavailable(_))
    ));
}

#[cfg(feature = "axum")]
mod extractor {
    use super::*;
    use crate::VerifiedClaims;
    use axum::extract::FromRequestParts;
    use axum::response::IntoResponse;

    async fn extract(
        verifier: &Verifier,
        authorization: Option<&str>,
    ) -> Result<VerifiedClaims, u16> {
        let mut request = axum::http::Request::builder();
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        VerifiedClaims::from_request_parts(&mut parts, verifier)
            .await
            .map_err(|rejection| rejection.into_response().status().as_u16())
    }

    #[tokio::test]
    async fn the_extractor_passes_a_bearer_token_and_answers_401_otherwise() {
        let [a, _, _] = &*KEYS;
        let issuer = Issuer::serving(&[a], None).await;
        let verifier = issuer.verifier().build().unwrap();
        let token = a.sign(&claims());
        let claims = extract(&verifier, Some(&format!("Bearer {token}")))
            .await
            .unwrap();
        assert_eq!(claims.sub, "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e");
        assert!(
            extract(&verifier, Some(&format!("bearer {token}")))
                .await
                .is_ok()
        );
        for refused in [
            None,
            Some("Bearer"),
            Some("Basic abc"),
            Some("Bearer x.y.z"),
            Some(&*format!("Token {token}")),
        ] {
            assert_eq!(
                extract(&verifier, refused).await.unwrap_err(),
                401,
                "{refused:?}"
            );
        }
        let expired = a.sign(&with(&super::claims(), "exp", json!(now() - 1)));
        let rejection = {
            let (mut parts, ()) = axum::http::Request::builder()
                .header("authorization", format!("Bearer {expired}"))
                .body(())
                .unwrap()
                .into_parts();
            VerifiedClaims::from_request_parts(&mut parts, &verifier)
                .await
                .unwrap_err()
        };
        let response = rejection.into_response();
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        // Optional: no header is None, a bad one still 401.
        let optional = async |authorization: Option<&str>| {
            let mut request = axum::http::Request::builder();
            if let Some(value) = authorization {
                request = request.header("authorization", value);
            }
            let (mut parts, ()) = request.body(()).unwrap().into_parts();
            <VerifiedClaims as axum::extract::OptionalFromRequestParts<Verifier>>::from_request_parts(
                &mut parts, &verifier,
            )
            .await
            .map(|claims| claims.map(|claims| claims.0.sub))
            .map_err(|rejection| rejection.into_response().status().as_u16())
        };
        assert_eq!(optional(None).await, Ok(None));
        assert!(
            optional(Some(&format!("Bearer {token}")))
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(optional(Some("Bearer x.y.z")).await, Err(401));
        // Keys out of reach: 503, not 401.
        let nowhere = Verifier::builder("http://127.0.0.1:9").build().unwrap();
        assert_eq!(
            extract(&nowhere, Some(&format!("Bearer {token}")))
                .await
                .unwrap_err(),
            503
        );
    }
}
