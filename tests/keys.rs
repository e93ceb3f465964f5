//! Published keys, rotation and the Lambda authorizer (issue 12):
//!
//! - a token verified as a third party would, with nothing but the discovery
//!   URL: `/.well-known/openid-configuration` → `jwks_uri` → the key by the
//!   token's `kid` → RS256, `iss`, `aud` and `exp` checked by `jsonwebtoken`;
//!   the JWKS holds public keys only, and caches may keep it a while;
//! - the rotation cycle over real calls (in-process: it swaps the running
//!   app's key set): the `next` key published before it signs, tokens signed
//!   before a rotation still good after it, new ones under the new `kid`, and
//!   those of a dropped key, or of an unknown `kid`, refused;
//! - the Lambda authorizer over DynamoDB Local (in-process): a live token
//!   allowed with its context, which the example route answers with; no
//!   token, an expired, logged-out, forged or unknown user's token, and
//!   storage down all denied;
//! - the example route without an authorizer's context (in-process, and over
//!   HTTP: `cargo lambda watch` runs no authorizer): 401.

use auth::tokens::keys::{KeySet, KeySetDocument, KeyState};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayV2httpRequestContext,
};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use test_support::*;

/// The `max-age` of a `Cache-Control: public, max-age=N` answer.
#[track_caller]
fn public_max_age(answer: &Answer) -> u64 {
    let cache = answer
        .headers
        .get("cache-control")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let max_age = cache
        .strip_prefix("public, max-age=")
        .unwrap_or_else(|| panic!("Cache-Control: {cache:?}"));
    max_age.parse().unwrap()
}

#[tokio::test]
async fn a_token_verifies_with_nothing_but_the_discovery_url() {
    let app = app().await;
    let token = new_account(&app).await.1.token();

    let discovery = openid_configuration(&app).await;
    assert_eq!(discovery.status, 200, "{}", discovery.body);
    assert!(public_max_age(&discovery) > 0);
    let document = &discovery.body;
    let issuer = document["issuer"].as_str().expect("an issuer").to_owned();
    let jwks_uri = document["jwks_uri"].as_str().expect("a jwks_uri");
    assert_eq!(jwks_uri, format!("{issuer}/.well-known/jwks.json"));
    for (field, includes) in [
        ("id_token_signing_alg_values_supported", "RS256"),
        ("subject_types_supported", "public"),
        ("response_types_supported", "token"),
        ("claims_supported", "amr"),
        ("claims_supported", "auth_time"),
    ] {
        let values = document[field].as_array().expect(field);
        assert!(values.contains(&json!(includes)), "{field}: {values:?}");
    }

    let published = follow(&app, jwks_uri, &issuer).await;
    assert_eq!(published.status, 200, "{}", published.body);
    // Shorter than a rotation's lead time (README: a day at least), so that
    // a cache has the next key long before it signs.
    let max_age = public_max_age(&published);
    assert!((1..=3600).contains(&max_age), "max-age={max_age}");
    let keys = published.body["keys"].as_array().expect("a JWKS");
    assert!(keys.len() >= 2, "the next key is published too: {keys:?}");
    for key in keys {
        assert_eq!(
            field_names(key),
            BTreeSet::from(["kty", "kid", "use", "alg", "n", "e"]),
            "public parts only"
        );
        assert_eq!(
            (&key["kty"], &key["use"], &key["alg"]),
            (&json!("RSA"), &json!("sig"), &json!("RS256"))
        );
    }

    // A standard library's checks, fed from the discovery document alone.
    let set: JwkSet = serde_json::from_value(published.body.clone()).unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    let kid = header.kid.expect("the token names its key");
    let jwk = set.find(&kid).expect("the token's key is published");
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&issuer]);
    validation.set_audience(&[audience()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let verified = jsonwebtoken::decode::<Value>(&token, &key, &validation)
        .unwrap_or_else(|e| panic!("a third party cannot verify the token: {e}"));
    assert_eq!(verified.claims["sub"], claims_of(&token)["sub"]);

    // The same checks refuse what they should.
    let mut other_issuer = validation.clone();
    other_issuer.set_issuer(&["https://someone-else.example"]);
    let mut other_audience = validation.clone();
    other_audience.set_audience(&["another-api"]);
    for (what, token, validation) in [
        ("tampered", tamper(&token), &validation),
        ("expecting another issuer", token.clone(), &other_issuer),
        ("expecting another audience", token.clone(), &other_audience),
    ] {
        let refused = jsonwebtoken::decode::<Value>(&token, &key, validation);
        assert!(refused.is_err(), "{what}");
    }
}

#[tokio::test]
async fn the_example_route_serves_nobody_without_an_authorizer_context() {
    let app = app().await;
    let token = new_account(&app).await.1.token();
    let without = call(&app, "GET", "/example/protected", None, None).await;
    assert_eq!(without.status, 401, "{}", without.body);
    let with_token = call_with_token(&app, "GET", "/example/protected", &token, None).await;
    if backstage().await.is_some() {
        // In-process or under `cargo lambda watch`: no authorizer ran, so
        // the route has no context, whatever the request carries.
        with_token.assert_fail(401, NO_TOKEN);
        without.assert_fail(401, NO_TOKEN);
    } else {
        // A deployment: the gateway's authorizer ran and passed the caller on.
        assert_eq!(with_token.status, 200, "{}", with_token.body);
        assert_eq!(with_token.body["data"]["user_id"], claims_of(&token)["sub"]);
    }
}

/// A key set of these keys, each in its state.
fn key_set(keys: &[(&auth::tokens::keys::KeyEntry, KeyState)]) -> (KeySetDocument, Arc<KeySet>) {
    let keys = keys
        .iter()
        .map(|(key, state)| auth::tokens::keys::KeyEntry {
            state: *state,
            ..(*key).clone()
        })
        .collect();
    let document = KeySetDocument { keys };
    let set = Arc::new(KeySet::from_document(&document).unwrap());
    (document, set)
}

/// The kids the app publishes, in order.
async fn published_kids(app: &TestApp) -> Vec<String> {
    let answer = jwks(app).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let keys = answer.body["keys"].as_array().unwrap();
    (keys.iter())
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_rotation_keeps_earlier_tokens_and_dropping_their_key_ends_them() {
    if over_http() {
        eprintln!("rotation: skipped over HTTP, it swaps the running app's keys");
        return;
    }
    let [a, b, c] =
        ["rotation-a", "rotation-b", "rotation-c"].map(|kid| new_key(kid, KeyState::Next));
    let (document, keys) = key_set(&[(&a, KeyState::Current), (&b, KeyState::Next)]);
    let app = TestApp::from(in_process_app_with(|config| config.signing_keys = keys).await);
    let put_in_force = |document: &KeySetDocument| {
        let keys = KeySet::from_document(document).unwrap();
        app.in_process().tokens.replace_keys(Arc::new(keys));
    };

    let (email, registered) = new_account(&app).await;
    let before = registered.token();
    assert_eq!(kid_of(&before), "rotation-a");
    // B is published before it signs anything.
    assert_eq!(published_kids(&app).await, ["rotation-a", "rotation-b"]);

    // The rotation: B signs, A verifies what it signed, C is published.
    let rotated = rotate(&document, &c);
    put_in_force(&rotated);
    assert_eq!(
        published_kids(&app).await,
        ["rotation-a", "rotation-b", "rotation-c"]
    );
    assert_eq!(status(&app, &before).await.status, 200, "signed before");
    let after = login(&app, &email, PASSWORD).await.token();
    assert_eq!(kid_of(&after), "rotation-b");
    assert_eq!(status(&app, &after).await.status, 200);
    let refreshed = refresh(&app, &registered.refresh_token()).await.token();
    assert_eq!(kid_of(&refreshed), "rotation-b", "refresh signs with B too");

    // A dropped (its tokens' lifetime is over): its tokens are refused.
    let mut dropped = rotated.clone();
    dropped.keys.retain(|key| key.state != KeyState::Retired);
    put_in_force(&dropped);
    assert_eq!(published_kids(&app).await, ["rotation-b", "rotation-c"]);
    status(&app, &before).await.assert_fail(401, INVALID_TOKEN);
    logout(&app, &before).await.assert_fail(401, INVALID_TOKEN);
    assert_eq!(status(&app, &after).await.status, 200);

    // B's own signature under a kid the set does not know: refused too.
    let signer = KeySet::from_document(&dropped).unwrap();
    let signer = signer.get("rotation-b").unwrap();
    let unknown = json!({ "typ": "JWT", "alg": "RS256", "kid": "rotation-unknown" });
    let unknown = forge(
        &unknown,
        &claims_of(&after),
        Algorithm::RS256,
        &signer.encoding,
    );
    status(&app, &unknown).await.assert_fail(401, INVALID_TOKEN);
    assert_eq!(status(&app, &after).await.status, 200, "nothing revoked");
}

/// Whether the authorizer lets a request with this bearer token through.
async fn allowed(app: &auth::App<auth::store::dynamo::DynamoStore>, token: &str) -> bool {
    let bearer = format!("Bearer {token}");
    authorize(app, Some(&bearer)).await.is_authorized
}

#[tokio::test]
async fn the_authorizer_allows_a_live_token_with_its_context_and_denies_every_other() {
    if over_http() {
        eprintln!("authorizer: skipped over HTTP, cargo lambda watch runs no authorizer");
        return;
    }
    let app = TestApp::from(in_process_app().await);
    let inner = app.in_process();
    let (email, registered) = new_account(&app).await;
    let token = registered.token();
    let claims = claims_of(&token);

    let answer = authorize(inner, Some(&format!("Bearer {token}"))).await;
    assert!(answer.is_authorized);
    assert_eq!(
        answer.context,
        json!({
            "user_id": claims["sub"],
            "session_id": claims["sid"],
            "email": email,
            "admin": false,
            "roles": "",
            "mfa": "false",
            "amr": "pwd",
        })
    );

    // The route behind it answers with the context the authorizer gave.
    let mut context = ApiGatewayV2httpRequestContext::default();
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.fields = serde_json::from_value(answer.context.clone()).unwrap();
    context.authorizer = Some(authorizer);
    let request =
        Request::new(Body::Empty).with_request_context(RequestContext::ApiGatewayV2(context));
    let reply = auth::Endpoint::ExampleProtected.handle_without_app(&request, None);
    assert_eq!(reply.status(), 200);
    let body: Value = serde_json::from_slice(reply.body()).unwrap();
    assert_eq!(body["data"], answer.context);

    // No token, or not a bearer one.
    for header in [
        None,
        Some("Bearer"),
        Some("Basic abc"),
        Some(token.as_str()),
    ] {
        let answer = authorize(inner, header).await;
        assert!(!answer.is_authorized, "{header:?}");
        assert_eq!(answer.context, Value::Null, "nothing passed on");
    }
    // Expired, forged, and an unknown user's (validly signed).
    let now = auth::now();
    let expired = with(
        &with(&claims, "exp", json!(now - 1)),
        "iat",
        json!(now - 60),
    );
    let expired = signed_by(&inner.config.signing_keys, &expired);
    let forged = signed_with(attacker_keys().current(), &claims);
    for (what, bad) in [
        ("expired", expired),
        ("forged", forged),
        ("tampered", tamper(&token)),
        ("unknown user", token_signed_by(inner)),
    ] {
        assert!(!allowed(inner, &bad).await, "{what}");
    }

    // Storage down: denied (fail closed), though the token is live.
    let down = app_without_storage(&inner.config).await;
    assert!(!allowed(&down, &token).await, "storage down");
    assert!(allowed(inner, &token).await, "the token is live");

    // Logged out: denied at once.
    logout(&app, &token).await.assert_success(200, LOGGED_OUT);
    assert!(!allowed(inner, &token).await, "logged out");
}

/// The modulus (upper-case hex) and public exponent of a PEM private key, as
/// `openssl` itself prints them.
fn openssl_public_numbers(pem: &str) -> (String, u64) {
    let path = std::env::temp_dir().join(format!("key-{}.pem", uuid::Uuid::new_v4()));
    std::fs::write(&path, pem).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .arg(&path)
            .output()
            .expect("openssl on the PATH");
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let modulus = run(&["rsa", "-noout", "-modulus", "-in"]);
    let text = run(&["pkey", "-noout", "-text_pub", "-in"]);
    std::fs::remove_file(&path).unwrap();
    let modulus = modulus.trim().strip_prefix("Modulus=").unwrap().to_owned();
    let exponent = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Exponent: "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("openssl prints the exponent")
        .parse()
        .unwrap();
    (modulus, exponent)
}

#[test]
fn keys_from_the_key_tool_and_from_openssl_publish_the_n_and_e_openssl_prints() {
    use base64::Engine;
    let openssl_key = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .output()
        .expect("openssl on the PATH");
    assert!(openssl_key.status.success(), "{openssl_key:?}");
    let keys = [
        (
            "tools/keys",
            auth::tokens::keys::generate_private_key_pem(2048).unwrap(),
        ),
        (
            "openssl genpkey",
            String::from_utf8(openssl_key.stdout).unwrap(),
        ),
    ];
    for (made_by, pem) in keys {
        let document = json!({"keys": [
            {"kid": "k", "state": "current", "private_key_pem": pem}
        ]});
        let set = KeySet::from_json(&document.to_string())
            .unwrap_or_else(|error| panic!("{made_by}: {error}"));
        set.check_signer()
            .unwrap_or_else(|error| panic!("{made_by}: {error}"));
        let jwk = &set.jwks()["keys"][0];
        let decode = |field: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(jwk[field].as_str().unwrap())
                .unwrap()
        };
        let n: String = decode("n")
            .iter()
            .map(|byte| format!("{byte:02X}"))
            .collect();
        let e = decode("e")
            .iter()
            .fold(0u64, |e, byte| e << 8 | u64::from(*byte));
        assert_eq!((n, e), openssl_public_numbers(&pem), "{made_by}");
    }
}
