use crate::http::error::ApiError;
use crate::http::response::{Reply, document};
use lambda_http::Request;
use serde_json::json;
use super::description::{Description, Guard, Needs};

/// The discovery document changes only with the API's address.
const MAX_AGE_SECONDS: u64 = 3600;

pub const DESCRIPTION: Description = Description {
    function: "openid-configuration",
    method: "GET",
    route: "/.well-known/openid-configuration",
    guard: Guard::Public,
    needs: Needs::Settings,
    storage: &[],
    example_body: None,
};

/// `GET /.well-known/openid-configuration`: where the keys are, for API
/// Gateway's JWT authorizer and the usual JWT libraries. We issue access
/// tokens, not OpenID ID tokens; the required fields say what we can.
pub fn handle(
    public_base_url: Option<&str>,
    request: &Request,
) -> Result<Reply, ApiError> {
    let issuer = super::issuer(public_base_url, crate::http::request::domain_name(request))?;
    Ok(document(
        &json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
            "response_types_supported": ["token"],
            "claims_supported": [
                "sub", "iss", "aud", "exp", "iat", "jti", "sid", "amr", "auth_time"
            ],
        }),
        MAX_AGE_SECONDS,
    ))
}
