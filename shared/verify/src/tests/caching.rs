//! The key set's cache: max-age, refetches, rotation, an issuer down.

use super::*;

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
