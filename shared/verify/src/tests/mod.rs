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

mod caching;
mod checks;
#[cfg(feature = "axum")]
mod extractor;
