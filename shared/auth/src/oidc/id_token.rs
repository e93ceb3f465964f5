//! The ID token's checks (OpenID Connect Core §3.1.3.7), over `jsonwebtoken`:
//! the algorithm pinned by the provider's key (RS256 or ES256; `none`, HS*
//! and every other refused), the signature by the key its `kid` names, `iss`
//! equal to the configured issuer, `aud` holding our client id (`azp` ours
//! whenever present, required when there are several audiences), `exp` in
//! the future, `iat` and `nbf` not in the future beyond a minute, and `nonce`
//! the one stored with the state.

use super::OidcError;
use super::pkce::constant_time_eq;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

/// How far ahead of our clock a provider's `iat` or `nbf` may be.
pub const CLOCK_LEEWAY_SECONDS: u64 = 60;

/// What a checked ID token says about the person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdClaims {
    /// The provider's stable id of the person: with the provider's name, the
    /// identity's key.
    pub sub: String,
    /// As the provider sent it (not normalised).
    pub email: Option<String>,
    /// True only when the token says exactly `"email_verified": true` (a
    /// JSON boolean). The string `"true"`, which some providers send (older
    /// Amazon Cognito pools), counts as false: the flag decides whether an
    /// existing account is linked, so an odd spelling errs on the side of not
    /// linking, and the person can still link from the account page.
    pub email_verified: bool,
    pub iss: String,
}

/// What the token must match.
#[derive(Clone, Copy, Debug)]
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The nonce stored with the state at the start of the sign-in.
    pub nonce: &'a str,
    /// Seconds since the epoch.
    pub now: u64,
}

/// The header's algorithm (RS256 or ES256) and `kid`, read before any key is
/// looked up.
pub fn header(token: &str) -> Result<(Algorithm, Option<String>), OidcError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|error| invalid(format!("unreadable header: {error}")))?;
    match header.alg {
        Algorithm::RS256 | Algorithm::ES256 => Ok((header.alg, header.kid)),
        other => Err(invalid(format!("algorithm {other:?} is not accepted"))),
    }
}

/// The key of `keys` that `kid` names; without a `kid`, the only signing key
/// when there is exactly one.
pub fn select_key<'k>(keys: &'k [Jwk], kid: Option<&str>) -> Option<&'k Jwk> {
    let signing = keys.iter().filter(|key| {
        !matches!(
            key.common.public_key_use,
            Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
        )
    });
    match kid {
        Some(kid) => signing
            .clone()
            .find(|key| key.common.key_id.as_deref() == Some(kid)),
        None => {
            let mut all = signing;
            let only = all.next();
            if all.next().is_some() { None } else { only }
        }
    }
}

/// The one algorithm `key` verifies: its `alg` when it says one, else its
/// type's (RSA: RS256; EC P-256: ES256). `None` for any other key.
pub fn key_algorithm(key: &Jwk) -> Option<Algorithm> {
    let by_type = match &key.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        _ => return None,
    };
    match key.common.key_algorithm {
        None => Some(by_type),
        Some(KeyAlgorithm::RS256) if by_type == Algorithm::RS256 => Some(by_type),
        Some(KeyAlgorithm::ES256) if by_type == Algorithm::ES256 => Some(by_type),
        Some(_) => None,
    }
}

#[derive(Deserialize)]
struct RawClaims {
    iss: String,
    sub: String,
    aud: Audience,
    #[serde(default)]
    azp: Option<String>,
    exp: u64,
    iat: u64,
    #[serde(default)]
    nbf: Option<u64>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    email: Option<Value>,
    #[serde(default)]
    email_verified: Option<Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Checks `token`, signed with `key` (the one [`select_key`] found for its
/// header), against `expected`.
pub fn verify(token: &str, key: &Jwk, expected: &Expected<'_>) -> Result<IdClaims, OidcError> {
    let (alg, _) = header(token)?;
    let pinned = key_algorithm(key).ok_or_else(|| invalid("the provider's key is not usable"))?;
    if alg != pinned {
        return Err(invalid(format!(
            "signed with {alg:?}, the key is for {pinned:?}"
        )));
    }
    let decoding = DecodingKey::from_jwk(key).map_err(|_| invalid("unreadable key"))?;
    let mut validation = Validation::new(pinned);
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(&[expected.client_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 0;
    // nbf with the minute's leeway, below; exp strictly.
    validation.validate_nbf = false;
    let data =
        jsonwebtoken::decode::<RawClaims>(token, &decoding, &validation).map_err(|error| {
            use jsonwebtoken::errors::ErrorKind;
            invalid(match error.kind() {
                ErrorKind::ExpiredSignature => "expired".to_owned(),
                ErrorKind::InvalidIssuer => "another issuer".to_owned(),
                ErrorKind::InvalidAudience => "another audience".to_owned(),
                ErrorKind::InvalidSignature => "bad signature".to_owned(),
                other => format!("refused: {other:?}"),
            })
        })?;
    let claims = data.claims;
    // Checked again here, not only trusted to the library's options.
    if claims.iss != expected.issuer {
        return Err(invalid("another issuer"));
    }
    let audiences = match &claims.aud {
        Audience::One(one) => vec![one.as_str()],
        Audience::Many(many) => many.iter().map(String::as_str).collect(),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(invalid("another audience"));
    }
    match claims.azp.as_deref() {
        Some(azp) if azp != expected.client_id => {
            return Err(invalid("authorized for another party"));
        }
        None if audiences.len() > 1 => {
            return Err(invalid("several audiences and no azp"));
        }
        _ => {}
    }
    if claims.exp <= expected.now {
        return Err(invalid("expired"));
    }
    let ahead = expected.now + CLOCK_LEEWAY_SECONDS;
    if claims.iat > ahead || claims.nbf.is_some_and(|nbf| nbf > ahead) {
        return Err(invalid("issued in the future"));
    }
    if claims.sub.is_empty() || claims.sub.len() > 255 {
        return Err(invalid("sub is empty or over 255 bytes"));
    }
    let nonce_matches = claims
        .nonce
        .as_deref()
        .is_some_and(|nonce| constant_time_eq(nonce.as_bytes(), expected.nonce.as_bytes()));
    if !nonce_matches || expected.nonce.is_empty() {
        return Err(OidcError::NonceMismatch);
    }
    let email = match claims.email {
        Some(Value::String(email)) if !email.is_empty() => Some(email),
        Some(Value::String(_) | Value::Null) | None => None,
        Some(_) => return Err(invalid("email is not a string")),
    };
    Ok(IdClaims {
        sub: claims.sub,
        email,
        email_verified: claims.email_verified == Some(Value::Bool(true)),
        iss: claims.iss,
    })
}

fn invalid(reason: impl Into<String>) -> OidcError {
    OidcError::InvalidIdToken(reason.into())
}

#[cfg(test)]
pub(crate) mod tests;
