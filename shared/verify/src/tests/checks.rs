//! What passes and what is refused.

use super::*;

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
