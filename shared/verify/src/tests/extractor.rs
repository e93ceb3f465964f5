//! The axum extractor.

use super::*;
use crate::VerifiedClaims;
use axum::extract::FromRequestParts;
use axum::response::IntoResponse;

async fn extract(verifier: &Verifier, authorization: Option<&str>) -> Result<VerifiedClaims, u16> {
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
