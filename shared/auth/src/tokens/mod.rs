//! What the service issues and checks: access tokens (RS256 JWTs) signed by
//! the key set, the key set itself (published as JWKS, rotated), and the
//! opaque refresh tokens.

pub mod access;
pub mod keys;
pub mod refresh;
