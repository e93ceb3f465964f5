use std::fmt;

/// Why a token was refused, or could not be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// Not three base64url parts with a JSON header and claims.
    Malformed,
    /// The header names an algorithm other than RS256 (`none`, `HS256`…).
    WrongAlgorithm,
    /// No `kid`, or one the issuer does not publish (after a refetch).
    UnknownKey,
    /// The signature does not match the published key.
    BadSignature,
    /// Signed, but not a token of ours: a `crit` header, a missing or
    /// ill-typed claim.
    Invalid(String),
    /// `exp` is now or past.
    Expired,
    /// `nbf` (or `iat`) is in the future.
    NotYetValid,
    /// `iss` is not the configured issuer.
    WrongIssuer,
    /// `aud` is not the configured audience.
    WrongAudience,
    /// Logged out, its session revoked, or its user disabled or deleted
    /// (the `revocation` feature's check).
    Revoked,
    /// The key set could not be fetched, and no fresh copy is cached.
    KeysUnavailable(String),
    /// The revocation check could not read storage: refused (fail closed).
    RevocationUnavailable(String),
}

impl VerifyError {
    /// Whether the token was not judged at all (keys or storage
    /// unreachable): a 503 rather than a 401.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::KeysUnavailable(_) | Self::RevocationUnavailable(_)
        )
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("malformed token"),
            Self::WrongAlgorithm => f.write_str("token algorithm is not RS256"),
            Self::UnknownKey => f.write_str("token signed by an unknown key"),
            Self::BadSignature => f.write_str("token signature is invalid"),
            Self::Invalid(why) => write!(f, "invalid token: {why}"),
            Self::Expired => f.write_str("token has expired"),
            Self::NotYetValid => f.write_str("token is not valid yet"),
            Self::WrongIssuer => f.write_str("token issuer is not the expected one"),
            Self::WrongAudience => f.write_str("token audience is not the expected one"),
            Self::Revoked => f.write_str("token has been revoked"),
            Self::KeysUnavailable(why) => write!(f, "signing keys unavailable: {why}"),
            Self::RevocationUnavailable(why) => write!(f, "revocation check unavailable: {why}"),
        }
    }
}

impl std::error::Error for VerifyError {}
