//! A small service protected by the verifier: `GET /hello` answers the
//! caller's user id to a valid access token, 401 JSON to anything else.
//!
//! ```sh
//! TOKEN_ISSUER=https://<api-id>.execute-api.<region>.amazonaws.com \
//!   cargo run -p token-auth-verify --features axum --example axum_service
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/hello
//! ```
//!
//! `TOKEN_ISSUER` is the auth service's public base URL (its tokens' `iss`);
//! `TOKEN_AUDIENCE` its `TOKEN_AUDIENCE` (default `token-auth`); `JWKS_URL`
//! where to fetch the keys when not under the issuer; `LISTEN` the address.

use axum::{Router, routing::get};
use token_auth_verify::{VerifiedClaims, Verifier};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let mut builder = Verifier::builder(var("TOKEN_ISSUER", "http://127.0.0.1:9000"))
        .audience(var("TOKEN_AUDIENCE", "token-auth"));
    if let Ok(url) = std::env::var("JWKS_URL") {
        builder = builder.jwks_url(url);
    }
    let verifier = builder.build()?;
    let app = Router::new()
        .route("/hello", get(hello))
        .route("/health", get(|| async { "ok" }))
        .with_state(verifier);
    let listener = tokio::net::TcpListener::bind(var("LISTEN", "127.0.0.1:3000")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// Only reached with a verified token.
async fn hello(VerifiedClaims(claims): VerifiedClaims) -> String {
    format!(
        "hello {} (session {}, roles {:?}, mfa {})\n",
        claims.sub,
        claims.sid,
        claims.roles,
        claims.has_mfa()
    )
}
