//! JWT-shaped tokens, `header.payload.signature`, built from arbitrary parts:
//! a header with a chosen or arbitrary `alg`, a `kid` naming the current key,
//! an unknown one or none, maybe a `crit`; claims each good, missing, out of
//! range or mistyped; several base64 flavours; and a signature that is right
//! (RS256 by the fuzz key set's current key), made with another key (HS256
//! keyed with arbitrary bytes or with the published public key, RS256 by a key
//! in no set), cut short or arbitrary. Sent as `Bearer <token>`
//! through `bearer_token` and `Tokens::verify`. Never panics; a token is
//! accepted only when it is exactly one we could have issued.
//!
//! Every enum lists its well-formed choice first, so an input of zero bytes
//! (fuzz/corpus/jwt_structured/valid-*) is a valid token.
#![no_main]

use auth::http::error::TokenRejection;
use auth::http::request::bearer_token;
use auth_fuzz::{
    AUDIENCE, CONFIG, CURRENT_KEY, CURRENT_KID, CURRENT_PUBLIC_PEM, ISSUER, OTHER_KEY, TOKENS,
    check_accepted_token, request_with_authorization, rs256, rs256_sign,
};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::{Corpus, fuzz_target};
use serde_json::{Map, Value, json};

#[derive(Debug, Arbitrary)]
struct Input {
    header: HeaderSpec,
    header_encoding: Encoding,
    claims: ClaimsSpec,
    payload_encoding: Encoding,
    signature: Signature,
    /// Extra `.segment`s after the signature.
    extra_segments: Vec<String>,
    /// Last: as the field that takes the rest of the input, it ignores trailing
    /// zero bytes, so zero-filled inputs of any length are the valid token.
    scheme: Scheme,
}

#[derive(Debug, Arbitrary)]
enum Scheme {
    Bearer,
    Lower,
    Upper,
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum HeaderSpec {
    Json {
        alg: Alg,
        typ: Option<String>,
        kid: Kid,
        /// A `crit` list (any, even empty, must be refused).
        crit: Option<Vec<String>>,
        extra: Vec<(String, Claim)>,
    },
    Raw(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
enum Alg {
    Rs256,
    Absent,
    /// One of [`ALGORITHMS`].
    Named(u8),
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum Kid {
    /// The current key's.
    Current,
    Absent,
    Other(String),
    Null,
}

#[derive(Debug, Arbitrary)]
struct ClaimsSpec {
    sub: Claim,
    iat: Claim,
    exp: Claim,
    jti: Claim,
    iss: Claim,
    aud: Claim,
    sid: Claim,
    nbf: Claim,
    extra: Vec<(String, Claim)>,
    /// The payload as these bytes instead of the JSON above.
    raw: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Arbitrary)]
enum Claim {
    /// The value a token we issue has (for `nbf`, which we never set: absent).
    Good,
    Absent,
    Null,
    /// now + this many seconds.
    Relative(i32),
    Number(u64),
    Negative(i64),
    Float(f64),
    Text(String),
    Bool(bool),
    List(Vec<u8>),
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Encoding {
    UrlSafeNoPad,
    UrlSafePadded,
    Standard,
    /// Not encoded at all.
    Raw,
}

#[derive(Debug, Arbitrary)]
enum Signature {
    Correct(Encoding),
    OtherKey(OtherKey),
    Truncated(u8),
    Empty,
    Bytes(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
enum OtherKey {
    /// HS256 keyed with these bytes.
    Hs256(Vec<u8>),
    /// HS256 keyed with what anyone can have: the published JWK, or the
    /// public key as a PEM file (the classic RS256/HS256 confusion).
    Hs256PublicJwk,
    Hs256PublicPem,
    /// RS256 by an RSA key in no key set.
    Rs256,
}

const ALGORITHMS: [&str; 12] = [
    "RS256", "RS384", "RS512", "HS256", "HS384", "HS512", "none", "None", "ES256", "PS256",
    "EdDSA", "rs256",
];

fn encode(bytes: &[u8], encoding: Encoding) -> String {
    match encoding {
        Encoding::UrlSafeNoPad => URL_SAFE_NO_PAD.encode(bytes),
        Encoding::UrlSafePadded => URL_SAFE.encode(bytes),
        Encoding::Standard => STANDARD.encode(bytes),
        Encoding::Raw => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn value(claim: &Claim, good: Value, now: u64) -> Option<Value> {
    Some(match claim {
        Claim::Good => return Some(good).filter(|v| !v.is_null()),
        Claim::Absent => return None,
        Claim::Null => Value::Null,
        Claim::Relative(offset) => json!(now as i64 + i64::from(*offset)),
        Claim::Number(n) => json!(n),
        Claim::Negative(n) => json!(n),
        Claim::Float(f) => json!(f),
        Claim::Text(text) => json!(text),
        Claim::Bool(b) => json!(b),
        Claim::List(bytes) => json!(bytes),
    })
}

fn insert(map: &mut Map<String, Value>, name: &str, claim: &Claim, good: Value, now: u64) {
    if let Some(value) = value(claim, good, now) {
        map.insert(name.to_owned(), value);
    }
}

fn header_bytes(spec: &HeaderSpec, now: u64) -> Vec<u8> {
    match spec {
        HeaderSpec::Raw(bytes) => bytes.clone(),
        HeaderSpec::Json {
            alg,
            typ,
            kid,
            crit,
            extra,
        } => {
            let mut map = Map::new();
            for (name, claim) in extra {
                insert(&mut map, name, claim, json!("x"), now);
            }
            let alg = match alg {
                Alg::Rs256 => Some("RS256"),
                Alg::Absent => None,
                Alg::Named(i) => Some(ALGORITHMS[usize::from(*i) % ALGORITHMS.len()]),
                Alg::Other(name) => Some(name.as_str()),
            };
            match alg {
                Some(alg) => map.insert("alg".into(), json!(alg)),
                None => map.remove("alg"),
            };
            map.insert("typ".into(), json!(typ.as_deref().unwrap_or("JWT")));
            match kid {
                Kid::Current => map.insert("kid".into(), json!(CURRENT_KID)),
                Kid::Absent => map.remove("kid"),
                Kid::Other(kid) => map.insert("kid".into(), json!(kid)),
                Kid::Null => map.insert("kid".into(), Value::Null),
            };
            if let Some(crit) = crit {
                map.insert("crit".into(), json!(crit));
            }
            Value::Object(map).to_string().into_bytes()
        }
    }
}

fn payload_bytes(spec: &ClaimsSpec, now: u64) -> Vec<u8> {
    if let Some(raw) = &spec.raw {
        return raw.clone();
    }
    let mut map = Map::new();
    for (name, claim) in &spec.extra {
        insert(&mut map, name, claim, json!("x"), now);
    }
    insert(
        &mut map,
        "sub",
        &spec.sub,
        json!("6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e"),
        now,
    );
    insert(&mut map, "iat", &spec.iat, json!(now), now);
    insert(&mut map, "exp", &spec.exp, json!(now + 3600), now);
    insert(
        &mut map,
        "jti",
        &spec.jti,
        json!("QUJDREVGR0hJSktMTU5PUA"),
        now,
    );
    insert(&mut map, "iss", &spec.iss, json!(ISSUER), now);
    insert(&mut map, "aud", &spec.aud, json!(AUDIENCE), now);
    insert(
        &mut map,
        "sid",
        &spec.sid,
        json!("AAAAAAAAAAAAAAAAAAAAAA"),
        now,
    );
    insert(&mut map, "nbf", &spec.nbf, Value::Null, now);
    Value::Object(map).to_string().into_bytes()
}

fuzz_target!(|input: Input| -> Corpus {
    let now = auth::now();
    let header = encode(&header_bytes(&input.header, now), input.header_encoding);
    let payload = encode(&payload_bytes(&input.claims, now), input.payload_encoding);
    let signing_input = format!("{header}.{payload}");
    let signature = match &input.signature {
        Signature::Correct(Encoding::UrlSafeNoPad) => rs256(signing_input.as_bytes()),
        Signature::Correct(encoding) => encode(
            &rs256_sign(&CURRENT_KEY, signing_input.as_bytes()),
            *encoding,
        ),
        Signature::OtherKey(other) => {
            let hs256 = |key: &[u8]| {
                let key = hmac::Key::new(hmac::HMAC_SHA256, key);
                hmac::sign(&key, signing_input.as_bytes()).as_ref().to_vec()
            };
            let signature = match other {
                OtherKey::Hs256(key) => hs256(key),
                OtherKey::Hs256PublicJwk => {
                    hs256(CONFIG.signing_keys.current().jwk.to_string().as_bytes())
                }
                OtherKey::Hs256PublicPem => hs256(CURRENT_PUBLIC_PEM.as_bytes()),
                OtherKey::Rs256 => rs256_sign(&OTHER_KEY, signing_input.as_bytes()),
            };
            URL_SAFE_NO_PAD.encode(signature)
        }
        Signature::Truncated(keep) => {
            let full = rs256(signing_input.as_bytes());
            full[..usize::from(*keep) % full.len()].to_owned()
        }
        Signature::Empty => String::new(),
        Signature::Bytes(bytes) => URL_SAFE_NO_PAD.encode(bytes),
    };
    let mut token = format!("{signing_input}.{signature}");
    for segment in &input.extra_segments {
        token.push('.');
        token.push_str(segment);
    }
    let scheme = match &input.scheme {
        Scheme::Bearer => "Bearer",
        Scheme::Lower => "bearer",
        Scheme::Upper => "BEARER",
        Scheme::Other(scheme) => scheme,
    };
    let Some(request) = request_with_authorization(format!("{scheme} {token}").as_bytes()) else {
        return Corpus::Reject;
    };
    let Ok(presented) = bearer_token(&request) else {
        return Corpus::Keep;
    };
    match TOKENS.verify(presented, ISSUER, now) {
        Ok(claims) => {
            check_accepted_token(presented, &claims, now);
            assert_eq!(presented, token, "bearer_token changed the token");
            assert!(input.extra_segments.is_empty());
        }
        Err(TokenRejection::Expired | TokenRejection::Invalid) => {}
        Err(other) => panic!("verify answered {other:?}"),
    }
    Corpus::Keep
});
