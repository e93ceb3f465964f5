//! Access tokens: HS256 JWTs with the algorithm pinned, every claim we issue
//! required on the way back in, and no leeway.

use crate::config::Secret;
use crate::error::{ApiError, TokenRejection};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

/// The `iss` of every token we issue; a token signed with the same key for
/// another purpose is refused.
pub const ISSUER: &str = "token-auth";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    /// The token's own id, the key under which logout revokes it.
    pub jti: String,
    pub iss: String,
    /// The session (device) the token belongs to; revoking the session kills it.
    pub sid: String,
}

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_seconds: u64,
}

impl Tokens {
    pub fn new(secret: &Secret, ttl_seconds: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // `iat` and `jti` are not on jsonwebtoken's list of spec claims; they are
        // required all the same, by `Claims` having no default for them.
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 0;
        validation.validate_nbf = true;
        Self {
            encoding: EncodingKey::from_secret(secret.expose()),
            decoding: DecodingKey::from_secret(secret.expose()),
            validation,
            ttl_seconds,
        }
    }

    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    pub fn issue(
        &self,
        user_id: &str,
        session_id: &str,
        now: u64,
    ) -> Result<(String, Claims), ApiError> {
        let claims = Claims {
            sub: user_id.to_owned(),
            iat: now,
            exp: now + self.ttl_seconds,
            jti: crate::ids::new_random_id()?,
            iss: ISSUER.to_owned(),
            sid: session_id.to_owned(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Unavailable(format!("signing failed: {e}")))?;
        Ok((token, claims))
    }

    /// Checks signature, algorithm, issuer and expiry; storage checks (revoked,
    /// user still there) come after, in the endpoint.
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, TokenRejection> {
        // RFC 7515 §4.1.11: a token naming critical extensions must be refused
        // by a verifier that does not understand them, and we understand none.
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRejection::Invalid)?;
        if header.crit.is_some() {
            return Err(TokenRejection::Invalid);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use serde_json::json;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn tokens() -> Tokens {
        let config = Config::from_lookup(|name| match name {
            "JWT_SECRET" => Some(SECRET.into()),
            "USERS_TABLE" | "REVOKED_TOKENS_TABLE" => Some("t".into()),
            _ => None,
        })
        .unwrap();
        Tokens::new(&config.jwt_secret, 3600)
    }

    fn sign(header: &Header, claims: &serde_json::Value, secret: &str) -> String {
        jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    }

    /// Ids of the shapes we issue.
    const USER: &str = "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e";
    const SID: &str = "AAAAAAAAAAAAAAAAAAAAAA";
    const JTI: &str = "QUJDREVGR0hJSktMTU5PUA";

    fn good_claims(now: u64) -> serde_json::Value {
        json!({"sub": USER, "iat": now, "exp": now + 60, "jti": JTI, "iss": ISSUER, "sid": SID})
    }

    #[test]
    fn an_issued_token_verifies_with_its_claims() {
        let tokens = tokens();
        let now = crate::now();
        let (token, claims) = tokens.issue(USER, SID, now).unwrap();
        assert_eq!(tokens.verify(&token, now).unwrap(), claims);
        assert_eq!(claims.exp, now + 3600);
        assert_eq!(claims.jti.len(), 22, "128 bits in unpadded base64");
    }

    #[test]
    fn each_token_gets_its_own_jti() {
        let tokens = tokens();
        let now = crate::now();
        let (_, a) = tokens.issue("u", "s", now).unwrap();
        let (_, b) = tokens.issue("u", "s", now).unwrap();
        assert_ne!(a.jti, b.jti);
    }

    #[test]
    fn expiry_is_exact_with_no_leeway() {
        let tokens = tokens();
        let now = crate::now();
        let mut claims = good_claims(now);
        claims["exp"] = json!(now - 1);
        let expired = sign(&Header::new(Algorithm::HS256), &claims, SECRET);
        assert_eq!(tokens.verify(&expired, now), Err(TokenRejection::Expired));
        claims["exp"] = json!(now);
        let expiring_now = sign(&Header::new(Algorithm::HS256), &claims, SECRET);
        assert_eq!(
            tokens.verify(&expiring_now, now),
            Err(TokenRejection::Expired)
        );
    }

    #[test]
    fn other_secret_other_algorithm_and_garbage_are_invalid() {
        let tokens = tokens();
        let now = crate::now();
        let claims = good_claims(now);
        let cases = [
            sign(
                &Header::new(Algorithm::HS256),
                &claims,
                "another-secret-another-secret-xx",
            ),
            sign(&Header::new(Algorithm::HS512), &claims, SECRET),
            sign(&Header::new(Algorithm::HS384), &claims, SECRET),
            "garbage".to_owned(),
            "a.b.c".to_owned(),
        ];
        for token in cases {
            assert_eq!(
                tokens.verify(&token, now),
                Err(TokenRejection::Invalid),
                "{token}"
            );
        }
    }

    #[test]
    fn alg_none_is_invalid() {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let tokens = tokens();
        let now = crate::now();
        for alg in ["none", "None", "NONE"] {
            let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "typ": "JWT"}).to_string());
            let payload = URL_SAFE_NO_PAD.encode(good_claims(now).to_string());
            let token = format!("{header}.{payload}.");
            assert_eq!(
                tokens.verify(&token, now),
                Err(TokenRejection::Invalid),
                "{alg}"
            );
        }
    }

    #[test]
    fn a_crit_header_is_refused_whatever_it_names() {
        let tokens = tokens();
        let now = crate::now();
        for crit in [vec!["exp".to_owned()], vec!["b64".to_owned()], vec![]] {
            let mut header = Header::new(Algorithm::HS256);
            header.crit = Some(crit.clone());
            let token = sign(&header, &good_claims(now), SECRET);
            assert_eq!(
                tokens.verify(&token, now),
                Err(TokenRejection::Invalid),
                "{crit:?}"
            );
        }
        let plain = sign(&Header::new(Algorithm::HS256), &good_claims(now), SECRET);
        assert!(tokens.verify(&plain, now).is_ok());
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
            let token = sign(&Header::new(Algorithm::HS256), &claims, SECRET);
            assert_eq!(
                tokens.verify(&token, now),
                Err(TokenRejection::Invalid),
                "{claim} = {value:.40}"
            );
        }
    }

    #[test]
    fn every_issued_claim_is_required() {
        let tokens = tokens();
        let now = crate::now();
        for missing in ["sub", "iat", "exp", "jti", "iss", "sid"] {
            let mut claims = good_claims(now);
            claims.as_object_mut().unwrap().remove(missing);
            let token = sign(&Header::new(Algorithm::HS256), &claims, SECRET);
            assert_eq!(
                tokens.verify(&token, now),
                Err(TokenRejection::Invalid),
                "without {missing}"
            );
        }
    }

    #[test]
    fn wrong_issuer_future_dates_and_mistyped_claims_are_invalid() {
        let tokens = tokens();
        let now = crate::now();
        let mut other_issuer = good_claims(now);
        other_issuer["iss"] = json!("someone-else");
        let mut not_yet = good_claims(now);
        not_yet["nbf"] = json!(now + 30);
        let mut issued_later = good_claims(now);
        issued_later["iat"] = json!(now + 30);
        let mut iat_as_string = good_claims(now);
        iat_as_string["iat"] = json!(now.to_string());
        for claims in [other_issuer, not_yet, issued_later, iat_as_string] {
            let token = sign(&Header::new(Algorithm::HS256), &claims, SECRET);
            assert_eq!(
                tokens.verify(&token, now),
                Err(TokenRejection::Invalid),
                "{claims}"
            );
        }
    }
}
