//! Unit tests of [`super`].

use super::*;

fn entry(kid: &str, state: KeyState, pem: &str) -> KeyEntry {
    KeyEntry {
        kid: kid.into(),
        state,
        private_key_pem: pem.into(),
        changed_at: None,
    }
}

#[test]
fn a_set_needs_exactly_one_current_key_of_2048_bits_or_more() {
    let pem = generate_private_key_pem(2048).unwrap();
    let set = |keys: Vec<KeyEntry>| KeySet::from_document(&KeySetDocument { keys });
    let good = set(vec![
        entry("a", KeyState::Retired, &pem),
        entry("b", KeyState::Current, &pem),
        entry("c", KeyState::Next, &pem),
    ])
    .unwrap();
    assert_eq!(good.current().kid, "b");
    assert!(good.get("a").is_some() && good.get("z").is_none());
    let jwks = good.jwks();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 3);
    let jwk = &jwks["keys"][0];
    let mut fields: Vec<_> = jwk.as_object().unwrap().keys().cloned().collect();
    fields.sort();
    assert_eq!(
        fields,
        ["alg", "e", "kid", "kty", "n", "use"],
        "nothing private"
    );
    assert_eq!(
        (jwk["e"].as_str(), jwk["alg"].as_str()),
        (Some("AQAB"), Some("RS256"))
    );

    let none = set(vec![entry("a", KeyState::Next, &pem)]).err().unwrap();
    assert!(none.contains("no current key"), "{none}");
    let two = set(vec![
        entry("a", KeyState::Current, &pem),
        entry("b", KeyState::Current, &pem),
    ]);
    assert!(two.err().unwrap().contains("2 current keys"));
    let twice = set(vec![
        entry("a", KeyState::Current, &pem),
        entry("a", KeyState::Next, &pem),
    ]);
    assert!(twice.err().unwrap().contains("twice"));
    let garbage = set(vec![entry("a", KeyState::Current, "not a key")]);
    let message = garbage.err().unwrap();
    assert!(
        message.contains("PKCS#8") && !message.contains("not a key"),
        "{message}"
    );
    assert!(KeySet::from_json("{").is_err());
    assert!(KeySet::from_json(r#"{"keys": [{"kid": "a", "state": "on"}]}"#).is_err());
}

/// A PKCS#8 PEM of these DER bytes.
fn pem_of(der: &[u8]) -> String {
    let base64 = base64::engine::general_purpose::STANDARD.encode(der);
    format!("-----BEGIN PRIVATE KEY-----\n{base64}\n-----END PRIVATE KEY-----\n")
}

fn der_of(pem: &str) -> Vec<u8> {
    PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .secret_pkcs8_der()
        .to_vec()
}

#[test]
fn the_structural_parse_reads_the_public_half_aws_lc_reads() {
    use aws_lc_rs::signature::KeyPair as _;
    let test_keys: Value = serde_json::from_str(TEST_KEY_SET).unwrap();
    let mut pems: Vec<String> = test_keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["private_key_pem"].as_str().unwrap().to_owned())
        .collect();
    pems.push(generate_private_key_pem(2048).unwrap());
    pems.push(generate_private_key_pem(3072).unwrap());
    for pem in pems {
        let der = der_of(&pem);
        let rsa = rsa_private_key(&der).expect("an RSA PKCS#8 key");
        let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(&der).unwrap();
        let public = pair.public_key();
        assert_eq!(rsa.n, public.modulus().big_endian_without_leading_zero());
        assert_eq!(rsa.e, public.exponent().big_endian_without_leading_zero());
        assert_eq!(rsa.modulus_bits(), pair.public_modulus_len() * 8);
        let key = signing_key(&entry("k", KeyState::Current, &pem)).unwrap();
        assert!(key.signer().is_ok());
        // Every truncation, and a trailing byte, is refused (and nothing
        // panics).
        for end in 0..der.len() {
            assert!(rsa_private_key(&der[..end]).is_none(), "cut at {end}");
        }
        let mut longer = der.clone();
        longer.push(0);
        assert!(rsa_private_key(&longer).is_none());
    }
}

#[test]
fn a_key_whose_private_half_is_broken_verifies_but_never_signs() {
    // The last byte of the PKCS#8 is the CRT coefficient's: the structure
    // holds, the key does not.
    let pem = generate_private_key_pem(2048).unwrap();
    let mut der = der_of(&pem);
    *der.last_mut().unwrap() ^= 1;
    let broken = pem_of(&der);
    let set = KeySet::from_document(&KeySetDocument {
        keys: vec![
            entry("good", KeyState::Current, &pem),
            entry("broken", KeyState::Next, &broken),
        ],
    })
    .expect("a verifier takes the set: it reads the public halves only");
    assert!(set.get("broken").is_some());
    assert!(set.check_signer().is_ok(), "the current key signs");
    let message = set.check_private_keys().err().unwrap();
    assert!(
        message.contains("\"broken\"") && !message.contains("BEGIN"),
        "{message}"
    );

    let current_broken = KeySet::from_document(&KeySetDocument {
        keys: vec![entry("broken", KeyState::Current, &broken)],
    })
    .unwrap();
    let message = current_broken.check_signer().err().unwrap();
    assert!(
        message.contains("not a usable RSA private key"),
        "{message}"
    );
}

#[test]
fn a_short_key_is_refused_without_showing_it() {
    // A 1024-bit RSA key in PKCS#8: aws-lc-rs only generates 2048 and up.
    let short = include_str!("../../../tests-data/rsa-1024.pem");
    let result = KeySet::from_document(&KeySetDocument {
        keys: vec![entry("old", KeyState::Current, short)],
    });
    let message = result.err().unwrap();
    assert!(message.contains("2048 bits or more"), "{message}");
    assert!(!message.contains("BEGIN"));
}
