use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The claims of a verified access token. `sub`, `sid`, `jti`, `iss`, `aud`,
/// `exp` and `iat` are always there (a token without one is refused); the
/// rest default when a token predates them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The session (device) the token belongs to.
    pub sid: String,
    /// The token's own id: logout revokes the token under it.
    pub jti: String,
    /// The issuer: the service's public base URL.
    pub iss: String,
    /// The audience the token was issued for.
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Not before, seconds since the epoch, when the token has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// The user's email, when the token carries it (the service's tokens do
    /// not today: the authorizer's context has it, read from storage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The user's roles when the token was issued (sorted).
    #[serde(default)]
    pub roles: Vec<String>,
    /// How the session signed in (RFC 8176): `["pwd"]`, or `["pwd", "otp",
    /// "mfa"]` with a second factor.
    #[serde(default)]
    pub amr: Vec<String>,
    /// When the user signed in (refresh keeps it), seconds since the epoch.
    #[serde(default)]
    pub auth_time: u64,
    /// Whether the user was an admin when the token was issued.
    #[serde(default)]
    pub admin: bool,
    /// The token hook's custom claims, when the service has a hook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Map<String, Value>>,
}

impl Claims {
    /// Whether the sign-in behind the token took a second factor.
    pub fn has_mfa(&self) -> bool {
        self.amr.iter().any(|method| method == "mfa")
    }

    /// Whether the token lists `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|held| held == role)
    }
}
