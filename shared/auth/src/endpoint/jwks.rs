use super::App;
use crate::error::ApiError;
use crate::response::{Reply, document};

/// How long caches may keep the key set: far shorter than the rotation
/// period, which is how long a `next` key is published before it signs.
pub const JWKS_MAX_AGE_SECONDS: u64 = 300;

/// `GET /.well-known/jwks.json`: the public half of every key in the set,
/// `next` ones included, so that caches have a key before it signs.
pub async fn jwks<S>(app: &App<S>) -> Result<Reply, ApiError> {
    Ok(document(&app.tokens.keys().jwks(), JWKS_MAX_AGE_SECONDS))
}
