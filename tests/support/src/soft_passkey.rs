//! A software passkey: what a platform authenticator and the browser send a
//! relying party, without the prompt. One ES256 key (aws-lc-rs, which the
//! service already links), "none" attestation, a counter that grows, and
//! flags a test may set: user verified, backup eligible, backed up.
//!
//! Why not webauthn-authenticator-rs's soft passkey, which the first tests
//! used: its tokio dependency turns on tokio's `test-util`, and Cargo's
//! feature unification then gave every test build a tokio (and everything on
//! it: hyper, the AWS SDK, lambda_http, auth) different from the functions'
//! build, so `make test` compiled the whole stack twice more. It also cannot
//! send an unverified or backed-up assertion, which the tests need; this can.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// Authenticator data flags (WebAuthn §6.1).
const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;
const BACKUP_ELIGIBLE: u8 = 0x08;
const BACKED_UP: u8 = 0x10;
const ATTESTED_CREDENTIAL: u8 = 0x40;

pub struct SoftPasskey {
    key: EcdsaKeyPair,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    counter: u32,
    /// The user verified (a PIN or a biometric): on unless a test says not.
    pub verifies_user: bool,
    /// Backup eligible and backed up: a synced passkey.
    pub synced: bool,
}

impl Default for SoftPasskey {
    fn default() -> Self {
        Self::new()
    }
}

impl SoftPasskey {
    pub fn new() -> Self {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).expect("a P-256 key");
        let mut credential_id = vec![0u8; 16];
        aws_lc_rs::rand::fill(&mut credential_id).expect("random bytes");
        Self {
            key,
            credential_id,
            user_handle: Vec::new(),
            counter: 0,
            verifies_user: true,
            synced: false,
        }
    }

    /// The credential id, base64url (as the API lists it).
    pub fn id(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.credential_id)
    }

    /// A second key claiming this one's credential id and user handle: an
    /// attacker's signature under a known id.
    pub fn impostor(&self) -> Self {
        Self {
            credential_id: self.credential_id.clone(),
            user_handle: self.user_handle.clone(),
            counter: self.counter + 1,
            ..Self::new()
        }
    }

    fn flags(&self) -> u8 {
        let mut flags = USER_PRESENT;
        if self.verifies_user {
            flags |= USER_VERIFIED;
        }
        if self.synced {
            flags |= BACKUP_ELIGIBLE | BACKED_UP;
        }
        flags
    }

    fn authenticator_data(&self, rp_id: &str, flags: u8) -> Vec<u8> {
        let mut data = digest(&SHA256, rp_id.as_bytes()).as_ref().to_vec();
        data.push(flags);
        data.extend(self.counter.to_be_bytes());
        data
    }

    /// The registration credential (`navigator.credentials.create`'s answer
    /// as JSON) for the API's options `body` (`{"publicKey": …}`), from a
    /// page at `origin`.
    pub fn register(&mut self, origin: &str, body: &Value) -> Value {
        let options = &body["publicKey"];
        let rp_id = options["rp"]["id"].as_str().expect("an RP ID");
        let handle = options["user"]["id"].as_str().expect("a user handle");
        self.user_handle = URL_SAFE_NO_PAD.decode(handle).expect("base64url");
        let point = self.key.public_key().as_ref(); // 0x04 || x || y
        let cose_key = cbor_map(&[
            (cbor_int(1), cbor_int(2)),  // kty: EC2
            (cbor_int(3), cbor_int(-7)), // alg: ES256
            (cbor_int(-1), cbor_int(1)), // crv: P-256
            (cbor_int(-2), cbor_bytes(&point[1..33])),
            (cbor_int(-3), cbor_bytes(&point[33..65])),
        ]);
        let mut data = self.authenticator_data(rp_id, self.flags() | ATTESTED_CREDENTIAL);
        data.extend([0u8; 16]); // AAGUID: none
        data.extend((self.credential_id.len() as u16).to_be_bytes());
        data.extend(&self.credential_id);
        data.extend(cose_key);
        let attestation = cbor_map(&[
            (cbor_text("fmt"), cbor_text("none")),
            (cbor_text("attStmt"), cbor_map(&[])),
            (cbor_text("authData"), cbor_bytes(&data)),
        ]);
        let client_data = client_data("webauthn.create", options, origin);
        json!({
            "id": self.id(),
            "rawId": self.id(),
            "type": "public-key",
            "response": {
                "attestationObject": URL_SAFE_NO_PAD.encode(attestation),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
            },
            "extensions": {},
        })
    }

    /// The assertion (`navigator.credentials.get`'s answer as JSON) for the
    /// API's request options `body`, from a page at `origin`; the counter
    /// grows by one.
    pub fn sign(&mut self, origin: &str, body: &Value) -> Value {
        let options = &body["publicKey"];
        let rp_id = options["rpId"].as_str().expect("an RP ID");
        self.counter += 1;
        let data = self.authenticator_data(rp_id, self.flags());
        let client_data = client_data("webauthn.get", options, origin);
        let mut signed = data.clone();
        signed.extend(digest(&SHA256, &client_data).as_ref());
        let signature = self
            .key
            .sign(&SystemRandom::new(), &signed)
            .expect("a signature");
        json!({
            "id": self.id(),
            "rawId": self.id(),
            "type": "public-key",
            "response": {
                "authenticatorData": URL_SAFE_NO_PAD.encode(&data),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
                "signature": URL_SAFE_NO_PAD.encode(signature.as_ref()),
                "userHandle": URL_SAFE_NO_PAD.encode(&self.user_handle),
            },
            "extensions": {},
        })
    }
}

/// The client data a browser hashes into the signature.
fn client_data(kind: &str, options: &Value, origin: &str) -> Vec<u8> {
    let challenge = options["challenge"].as_str().expect("a challenge");
    json!({ "type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false })
        .to_string()
        .into_bytes()
}

// CBOR (RFC 8949), the few shapes an attestation needs.

fn cbor_head(major: u8, n: u64) -> Vec<u8> {
    let major = major << 5;
    match n {
        0..=23 => vec![major | n as u8],
        24..=0xff => vec![major | 24, n as u8],
        0x100..=0xffff => [vec![major | 25], (n as u16).to_be_bytes().to_vec()].concat(),
        _ => [vec![major | 26], (n as u32).to_be_bytes().to_vec()].concat(),
    }
}

fn cbor_int(n: i64) -> Vec<u8> {
    if n >= 0 {
        cbor_head(0, n as u64)
    } else {
        cbor_head(1, (-1 - n) as u64)
    }
}

fn cbor_bytes(bytes: &[u8]) -> Vec<u8> {
    [cbor_head(2, bytes.len() as u64), bytes.to_vec()].concat()
}

fn cbor_text(text: &str) -> Vec<u8> {
    [cbor_head(3, text.len() as u64), text.as_bytes().to_vec()].concat()
}

fn cbor_map(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = cbor_head(5, pairs.len() as u64);
    for (key, value) in pairs {
        out.extend(key);
        out.extend(value);
    }
    out
}
