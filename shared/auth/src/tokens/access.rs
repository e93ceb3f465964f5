//! Access tokens: RS256 JWTs whose header names the signing key (`kid`), with
//! the algorithm pinned, every claim we issue (`iss` and `aud` included)
//! required on the way back in, and no leeway. Anyone can check them with the
//! published keys (`GET /.well-known/jwks.json`); only we can sign them.

use crate::http::error::{ApiError, TokenRejection};
use crate::metadata::Metadata;
use crate::roles::Roles;
use crate::store::SignIn;
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
    /// The user's roles when the token was issued (sorted; `admin` among
    /// them for an admin), for other services to act on. Like `admin`, the
    /// service's own admin calls go by the roles in storage. (Empty in
    /// tokens issued before the claim existed.)
    #[serde(default)]
    pub roles: Vec<String>,
    /// How the session was signed in (RFC 8176): `["pwd"]`, or `["pwd",
    /// "otp", "mfa"]` with a second factor; carried unchanged by refresh.
    /// (Empty in tokens issued before the claim existed: no second factor.)
    #[serde(default)]
    pub amr: Vec<String>,
    /// When the user signed in (OIDC's `auth_time`), not when this token was
    /// issued: refresh carries it unchanged. (0 before the claim existed.)
    #[serde(default)]
    pub auth_time: u64,
    /// The token hook's custom claims, when a hook is set and answered
    /// ([`crate::hook`]); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Metadata>,
}

impl Claims {
    /// Whether the sign-in behind the token took a second factor.
    pub fn has_mfa(&self) -> bool {
        self.amr.iter().any(|method| method == "mfa")
    }
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

    /// A token with no custom claims.
    pub fn issue(
        &self,
        user_id: &str,
        session_id: &str,
        roles: &Roles,
        sign_in: &SignIn,
        issuer: &str,
        now: u64,
    ) -> Result<(String, Claims), ApiError> {
        self.issue_with(user_id, session_id, (roles, sign_in, None), issuer, now)
    }

    /// A token for the session, with the hook's `custom` claims if any.
    pub fn issue_with(
        &self,
        user_id: &str,
        session_id: &str,
        (roles, sign_in, custom): (&Roles, &SignIn, Option<Metadata>),
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
            admin: roles.is_admin(),
            roles: roles.names().to_vec(),
            amr: sign_in.amr.clone(),
            auth_time: sign_in.auth_time,
            claims: custom,
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
/// The signature takes random blinding values from aws-lc's generator, whose
/// first use in a process used to cost 30 to 50 ms of CPU-jitter seeding: the
/// build seeds it from the OS instead (.cargo/config.toml).
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
mod tests;
