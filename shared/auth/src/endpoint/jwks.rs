use super::App;
use crate::http::error::ApiError;
use crate::http::response::{Reply, document};
use lambda_http::Request;
use super::description::{Description, Guard, Needs};

/// How long caches may keep the key set: far shorter than the rotation
/// period, which is how long a `next` key is published before it signs.
pub const JWKS_MAX_AGE_SECONDS: u64 = 300;

pub const DESCRIPTION: Description = Description {
    function: "jwks",
    method: "GET",
    route: "/.well-known/jwks.json",
    guard: Guard::Public,
    needs: Needs::App,
    storage: &[],
    example_body: None,
};

/// `GET /.well-known/jwks.json`: the public half of every key in the set,
/// `next` ones included, so that caches have a key before it signs.
pub async fn handle<S>(app: &App<S>, _request: &Request) -> Result<Reply, ApiError> {
    Ok(document(&app.tokens.keys().jwks(), JWKS_MAX_AGE_SECONDS))
}
