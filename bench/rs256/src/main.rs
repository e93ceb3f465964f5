//! `bench-rs256 WHAT COUNT`: times COUNT runs of WHAT and prints their
//! durations in milliseconds, one a line. WHAT is `rs256-sign` or
//! `rs256-verify` (the service's `Tokens::issue` and `Tokens::verify`, with a
//! 2048-bit key generated here), or `hs256-sign` or `hs256-verify` (the same
//! claims through jsonwebtoken with a 48-byte secret, as the tokens were
//! signed before RS256). `verifier-verify` is shared/verify's
//! `Verifier::verify` on a token of `Tokens::issue`, warm (its key set
//! fetched once from a loopback server before the timing): what another
//! service pays per request, next to `rs256-verify`.

use auth::tokens::access::{Claims, Tokens};
use auth::tokens::keys::{KeySet, generate_private_key_pem};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use std::sync::Arc;
use std::time::Instant;

const ISSUER: &str = "https://abc123example.execute-api.us-east-1.amazonaws.com";
const AUDIENCE: &str = "token-auth";
/// Ids of the shapes the service issues (it refuses others on the way back).
const USER: &str = "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e";
const SESSION: &str = "AAAAAAAAAAAAAAAAAAAAAA";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (what, count) = match (args.get(1), args.get(2)) {
        (Some(what), Some(count)) => (
            what.as_str(),
            count.parse::<u32>().expect("COUNT is a number"),
        ),
        _ => usage(),
    };
    let mut run = runner(what);
    for _ in 0..count.min(100_000) {
        let start = Instant::now();
        run();
        println!("{:.4}", start.elapsed().as_secs_f64() * 1000.0);
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: bench-rs256 rs256-sign|rs256-verify|hs256-sign|hs256-verify|verifier-verify COUNT"
    );
    std::process::exit(2);
}

/// The timed work of WHAT; everything it needs (keys, a token to verify) is
/// made before, outside the timing.
fn runner(what: &str) -> Box<dyn FnMut()> {
    let now = auth::now();
    match what {
        "rs256-sign" | "rs256-verify" | "verifier-verify" => {
            let pem = generate_private_key_pem(2048).expect("key generation");
            let document = serde_json::json!({"keys": [
                {"kid": "bench", "state": "current", "private_key_pem": pem}
            ]});
            let keys = KeySet::from_json(&document.to_string()).expect("a valid key set");
            let tokens = Tokens::new(Arc::new(keys), AUDIENCE, 3600);
            let sign_in = auth::store::SignIn::password(now);
            let (token, _) = tokens
                .issue(
                    USER,
                    SESSION,
                    &auth::roles::Roles::default(),
                    &sign_in,
                    ISSUER,
                    now,
                )
                .expect("sign");
            if what == "verifier-verify" {
                return warm_verifier(&tokens, token);
            }
            if what == "rs256-sign" {
                Box::new(move || {
                    std::hint::black_box(
                        tokens
                            .issue(
                                USER,
                                SESSION,
                                &auth::roles::Roles::default(),
                                &sign_in,
                                ISSUER,
                                now,
                            )
                            .expect("sign"),
                    );
                })
            } else {
                Box::new(move || {
                    std::hint::black_box(tokens.verify(&token, ISSUER, now).expect("verify"));
                })
            }
        }
        "hs256-sign" | "hs256-verify" => {
            let secret = [7u8; 48];
            let encoding = EncodingKey::from_secret(&secret);
            let decoding = DecodingKey::from_secret(&secret);
            let claims = Claims {
                sub: USER.into(),
                iat: now,
                exp: now + 3600,
                jti: "QUJDREVGR0hJSktMTU5PUA".into(),
                iss: ISSUER.into(),
                aud: AUDIENCE.into(),
                sid: SESSION.into(),
                admin: false,
                roles: Vec::new(),
                amr: vec!["pwd".into()],
                auth_time: now,
                claims: None,
            };
            let header = Header::new(Algorithm::HS256);
            let token = jsonwebtoken::encode(&header, &claims, &encoding).expect("sign");
            // The checks Tokens::verify asks of jsonwebtoken, so that only the
            // algorithm differs.
            let mut validation = Validation::new(Algorithm::HS256);
            validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
            validation.set_issuer(&[ISSUER]);
            validation.set_audience(&[AUDIENCE]);
            validation.leeway = 0;
            validation.validate_nbf = true;
            if what == "hs256-sign" {
                Box::new(move || {
                    std::hint::black_box(
                        jsonwebtoken::encode(&header, &claims, &encoding).expect("sign"),
                    );
                })
            } else {
                Box::new(move || {
                    let decoded = jsonwebtoken::decode::<Claims>(&token, &decoding, &validation);
                    std::hint::black_box(decoded.expect("verify"));
                })
            }
        }
        _ => usage(),
    }
}

/// shared/verify's `Verifier::verify` of `token`, warm: the key set is
/// served once from a loopback server (a thread answering one request with
/// `tokens`' JWKS) and cached before the first timed call.
fn warm_verifier(tokens: &Tokens, token: String) -> Box<dyn FnMut()> {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().expect("an address")
    );
    let body = tokens.keys().jwks().to_string();
    std::thread::spawn(move || {
        for mut socket in listener.incoming().flatten() {
            let mut request = [0; 4096];
            let _ = socket.read(&mut request);
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: public, max-age=300\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes());
        }
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let verifier = token_auth_verify::Verifier::builder(ISSUER)
        .audience(AUDIENCE)
        .jwks_url(url)
        .build()
        .expect("a verifier");
    runtime
        .block_on(verifier.verify(&token))
        .expect("the first verify fetches the keys");
    assert_eq!(verifier.jwks_fetches(), 1);
    Box::new(move || {
        std::hint::black_box(runtime.block_on(verifier.verify(&token)).expect("verify"));
    })
}
