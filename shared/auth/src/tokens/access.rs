//! Access tokens: RS256 JWTs whose header names the signing key (`kid`), with
//! the algorithm pinned, every claim we issue (`iss` and `aud` included)
//! required on the way back in, and no leeway. Anyone can check them with the
//! published keys (`GET /.well-known/jwks.json`); only we can sign them.

use crate::http::error::{ApiError, TokenRejection};
use crate::tokens::keys::{KeySet, SigningKey};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    /// The token's own id, the key under which logout revokes it.
    pub jti: String,
    /// The API's public base URL.
    pub iss: String,
    /// Who the token is for (`TOKEN_AUDIENCE`).
    pub aud: String,
    /// The session (device) the token belongs to; revoking the session kills it.
    pub sid: String,
    /// Whether the user was an admin when the token was issued: for clients
    /// and other APIs to show or hide things. Admin endpoints and the
    /// authorizer go by the role in storage, read with the token check, so a
    /// demoted admin's token grants nothing more. (Absent in tokens issued
    /// before the claim existed: false.)
    #[serde(default)]
    pub admin: bool,
}

pub struct Tokens {
    /// Swapped whole when a new key set arrives (see [`crate::config::secrets`]).
    keys: RwLock<Arc<KeySet>>,
    audience: String,
    ttl_seconds: u64,
}

impl Tokens {
    pub fn new(keys: Arc<KeySet>, audience: &str, ttl_seconds: u64) -> Self {
        Self {
            keys: RwLock::new(keys),
            audience: audience.to_owned(),
            ttl_seconds,
        }
    }

    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    /// The key set in force.
    pub fn keys(&self) -> Arc<KeySet> {
        // A poisoned lock still holds a whole key set: swaps are one store.
        Arc::clone(
            &self
                .keys
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// Puts a new key set in force, for every token signed or checked after.
    pub fn replace_keys(&self, keys: Arc<KeySet>) {
        *self
            .keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = keys;
    }

    pub fn issue(
        &self,
        user_id: &str,
        session_id: &str,
        admin: bool,
        issuer: &str,
        now: u64,
    ) -> Result<(String, Claims), ApiError> {
        let claims = Claims {
            sub: user_id.to_owned(),
            iat: now,
            exp: now + self.ttl_seconds,
            jti: crate::ids::new_random_id()?,
            iss: issuer.to_owned(),
            aud: self.audience.clone(),
            sid: session_id.to_owned(),
            admin,
        };
        let keys = self.keys();
        let signer = keys.current();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(signer.kid.clone());
        let token = sign(&header, &claims, signer)
            .map_err(|e| ApiError::Unavailable(format!("signing failed: {e}")))?;
        Ok((token, claims))
    }

    /// Checks the key, signature, algorithm, issuer, audience and expiry;
    /// storage checks (revoked, user still there) come after, in the endpoint.
    pub fn verify(&self, token: &str, issuer: &str, now: u64) -> Result<Claims, TokenRejection> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRejection::Invalid)?;
        // RFC 7515 §4.1.11: a token naming critical extensions must be refused
        // by a verifier that does not understand them, and we understand none.
        if header.crit.is_some() || header.alg != Algorithm::RS256 {
            return Err(TokenRejection::Invalid);
        }
        // A token without a key id, or naming a key that is not (or no longer)
        // in the set, was not signed by a key we vouch for.
        let keys = self.keys();
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| keys.get(kid))
            .ok_or(TokenRejection::Invalid)?;
        let mut validation = Validation::new(Algorithm::RS256);
        // `iat` and `jti` are not on jsonwebtoken's list of spec claims; they are
        // required all the same, by `Claims` having no default for them.
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[&self.audience]);
        validation.leeway = 0;
        validation.validate_nbf = true;
        let claims = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => TokenRejection::Expired,
                _ => TokenRejection::Invalid,
            })?
            .claims;
        // jsonwebtoken accepts a token in the very second it expires; RFC 7519
        // §4.1.4 says "on or after" that time it must not be accepted.
        if claims.exp <= now {
            return Err(TokenRejection::Expired);
        }
        // We never issue a token dated in the future, nor ids of another
        // shape; a token that has them was not ours.
        if claims.iat > now
            || !crate::ids::is_user_id(&claims.sub)
            || !crate::ids::is_random_id(&claims.sid)
            || !crate::ids::is_random_id(&claims.jti)
        {
            return Err(TokenRejection::Invalid);
        }
        Ok(claims)
    }
}

/// What `jsonwebtoken::encode` does (RFC 7515's compact serialization: the
/// header's and the claims' JSON, then the RS256 signature of the two, each
/// base64url without padding), but with the key pair parsed once per key set
/// rather than once per token: jsonwebtoken keeps only the key's DER, and
/// aws-lc's parse and consistency check cost about a third of a signature.
fn sign(header: &Header, claims: &Claims, key: &SigningKey) -> Result<String, String> {
    fn part(value: &impl Serialize) -> Result<String, String> {
        let json = serde_json::to_vec(value).map_err(|e| e.to_string())?;
        Ok(URL_SAFE_NO_PAD.encode(json))
    }
    let message = format!("{}.{}", part(header)?, part(claims)?);
    let pair = key.signer()?;
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        message.as_bytes(),
        &mut signature,
    )
    .map_err(|_| "RS256 signing failed".to_owned())?;
    Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::keys::TEST_KEY_SET;
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use jsonwebtoken::EncodingKey;
    use serde_json::{Value, json};

    const ISSUER: &str = "https://auth.example.com";
    const AUDIENCE: &str = "token-auth";
    /// Ids of the shapes we issue.
    const USER: &str = "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e";
    const SID: &str = "AAAAAAAAAAAAAAAAAAAAAA";
    const JTI: &str = "QUJDREVGR0hJSktMTU5PUA";

    fn keys() -> Arc<KeySet> {
        Arc::new(KeySet::from_json(TEST_KEY_SET).unwrap())
    }

    fn tokens() -> Tokens {
        Tokens::new(keys(), AUDIENCE, 3600)
    }

    /// `claims` under `header` (RS256 with the current key's kid unless it
    /// says otherwise), signed with the current key.
    fn sign(header: Header, claims: &Value) -> String {
        let keys = keys();
        jsonwebtoken::encode(&header, claims, &keys.current().encoding).unwrap()
    }

    fn rs256(kid: &str) -> Header {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        header
    }

    fn current() -> Header {
        rs256("test-current")
    }

    fn good_claims(now: u64) -> Value {
        json!({"sub": USER, "iat": now, "exp": now + 60, "jti": JTI, "iss": ISSUER,
               "aud": AUDIENCE, "sid": SID})
    }

    fn refused(tokens: &Tokens, token: &str, now: u64) -> bool {
        tokens.verify(token, ISSUER, now) == Err(TokenRejection::Invalid)
    }

    #[test]
    fn an_issued_token_verifies_with_its_claims_and_names_its_key() {
        let tokens = tokens();
        let now = crate::now();
        let (token, claims) = tokens.issue(USER, SID, false, ISSUER, now).unwrap();
        assert_eq!(tokens.verify(&token, ISSUER, now).unwrap(), claims);
        assert_eq!(claims.exp, now + 3600);
        assert_eq!(
            (claims.iss.as_str(), claims.aud.as_str()),
            (ISSUER, AUDIENCE)
        );
        assert_eq!(claims.jti.len(), 22, "128 bits in unpadded base64");
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.kid.as_deref(), Some("test-current"));
    }

    #[test]
    fn each_token_gets_its_own_jti() {
        let tokens = tokens();
        let now = crate::now();
        let (_, a) = tokens.issue(USER, SID, false, ISSUER, now).unwrap();
        let (_, b) = tokens.issue(USER, SID, false, ISSUER, now).unwrap();
        assert_ne!(a.jti, b.jti);
    }

    #[test]
    fn every_listed_key_verifies_and_only_listed_ones() {
        let tokens = tokens();
        let now = crate::now();
        let keys = keys();
        let next = keys.get("test-next").unwrap();
        let by_next = jsonwebtoken::encode(&rs256("test-next"), &good_claims(now), &next.encoding);
        assert!(tokens.verify(&by_next.unwrap(), ISSUER, now).is_ok());
        // The current key's signature under the next key's name, an unknown
        // kid, and none at all.
        for header in [
            rs256("test-next"),
            rs256("gone"),
            Header::new(Algorithm::RS256),
        ] {
            assert!(refused(&tokens, &sign(header, &good_claims(now)), now));
        }
        // After a swap to a set without the signing key, its tokens fail.
        let (token, _) = tokens.issue(USER, SID, false, ISSUER, now).unwrap();
        let only_next = TEST_KEY_SET
            .replacen(r#""state": "current""#, r#""state": "retired""#, 1)
            .replacen(r#""state": "next""#, r#""state": "current""#, 1);
        let rotated = Arc::new(KeySet::from_json(&only_next).unwrap());
        tokens.replace_keys(rotated);
        assert!(
            tokens.verify(&token, ISSUER, now).is_ok(),
            "retired keys verify"
        );
        let (new, _) = tokens.issue(USER, SID, false, ISSUER, now).unwrap();
        let kid = jsonwebtoken::decode_header(&new).unwrap().kid;
        assert_eq!(kid.as_deref(), Some("test-next"));
    }

    #[test]
    fn expiry_is_exact_with_no_leeway() {
        let tokens = tokens();
        let now = crate::now();
        let mut claims = good_claims(now);
        claims["exp"] = json!(now - 1);
        let expired = sign(current(), &claims);
        let result = tokens.verify(&expired, ISSUER, now);
        assert_eq!(result, Err(TokenRejection::Expired));
        claims["exp"] = json!(now);
        let expiring_now = sign(current(), &claims);
        let result = tokens.verify(&expiring_now, ISSUER, now);
        assert_eq!(result, Err(TokenRejection::Expired));
    }

    #[test]
    fn hmac_with_the_public_key_other_algorithms_and_garbage_are_invalid() {
        let tokens = tokens();
        let now = crate::now();
        let claims = good_claims(now);
        // The classic confusion: HS256 keyed with what the JWKS publishes.
        let public = keys().current().jwk.to_string();
        let mut hs256 = Header::new(Algorithm::HS256);
        hs256.kid = Some("test-current".into());
        let confused = jsonwebtoken::encode(
            &hs256,
            &claims,
            &EncodingKey::from_secret(public.as_bytes()),
        );
        let mut ps256 = current();
        ps256.alg = Algorithm::PS256;
        for token in [
            confused.unwrap(),
            sign(ps256, &claims),
            "garbage".to_owned(),
            "a.b.c".to_owned(),
        ] {
            assert!(refused(&tokens, &token, now), "{token}");
        }
    }

    #[test]
    fn alg_none_is_invalid() {
        let tokens = tokens();
        let now = crate::now();
        for alg in ["none", "None", "NONE"] {
            let header = json!({"alg": alg, "typ": "JWT", "kid": "test-current"});
            let header = URL_SAFE_NO_PAD.encode(header.to_string());
            let payload = URL_SAFE_NO_PAD.encode(good_claims(now).to_string());
            assert!(
                refused(&tokens, &format!("{header}.{payload}."), now),
                "{alg}"
            );
        }
    }

    #[test]
    fn a_crit_header_is_refused_whatever_it_names() {
        let tokens = tokens();
        let now = crate::now();
        for crit in [vec!["exp".to_owned()], vec!["b64".to_owned()], vec![]] {
            let mut header = current();
            header.crit = Some(crit.clone());
            assert!(
                refused(&tokens, &sign(header, &good_claims(now)), now),
                "{crit:?}"
            );
        }
        let plain = sign(current(), &good_claims(now));
        assert!(tokens.verify(&plain, ISSUER, now).is_ok());
    }

    #[test]
    fn ids_not_of_our_shape_are_refused_before_storage() {
        let tokens = tokens();
        let now = crate::now();
        for (claim, value) in [
            ("sub", String::new()),
            ("sub", "u1".to_owned()),
            ("sub", USER.to_uppercase()),
            ("sid", String::new()),
            ("sid", "x".repeat(2048)),
            ("jti", String::new()),
            ("jti", "j".repeat(3000)),
            ("jti", format!("{JTI}=")),
        ] {
            let mut claims = good_claims(now);
            claims[claim] = json!(value);
            let token = sign(current(), &claims);
            assert!(refused(&tokens, &token, now), "{claim} = {value:.40}");
        }
    }

    #[test]
    fn every_issued_claim_is_required() {
        let tokens = tokens();
        let now = crate::now();
        for missing in ["sub", "iat", "exp", "jti", "iss", "aud", "sid"] {
            let mut claims = good_claims(now);
            claims.as_object_mut().unwrap().remove(missing);
            let token = sign(current(), &claims);
            assert!(refused(&tokens, &token, now), "without {missing}");
        }
    }

    #[test]
    fn wrong_issuer_or_audience_future_dates_and_mistyped_claims_are_invalid() {
        let tokens = tokens();
        let now = crate::now();
        let with = |claim: &str, value: Value| {
            let mut claims = good_claims(now);
            claims[claim] = value;
            claims
        };
        for claims in [
            with("iss", json!("https://someone-else.example")),
            with("aud", json!("another-api")),
            with("aud", json!(["another-api"])),
            with("nbf", json!(now + 30)),
            with("iat", json!(now + 30)),
            with("iat", json!(now.to_string())),
        ] {
            assert!(refused(&tokens, &sign(current(), &claims), now), "{claims}");
        }
        // The issuer a token is checked against is the one it was issued for.
        let (token, _) = tokens.issue(USER, SID, false, ISSUER, now).unwrap();
        let elsewhere = tokens.verify(&token, "https://elsewhere.example", now);
        assert_eq!(elsewhere, Err(TokenRejection::Invalid));
    }
}
