use super::App;
use super::authenticate::authenticate;
use super::description::{Description, Guard, Needs};
use crate::http::error::ApiError;
use crate::http::response::{Reply, success};
use crate::store::Store;
use crate::store::access::{Access, Items};
use lambda_http::{Request, http::StatusCode};
use serde_json::json;

pub const DESCRIPTION: Description = Description {
    function: "identities",
    method: "GET",
    route: "/auth/identities",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[&[Access::users("Query", &[Items::Identities])]],
    example_body: None,
};

/// `GET /auth/identities` (Bearer): the identities at other providers
/// linked to the caller's account, `{"identities": [{"id", "provider",
/// "email", "linked_at"}]}` (`email` as the provider gave it when linked,
/// or null; `linked_at` RFC 3339).
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let caller = authenticate(app, request).await?;
    let identities = app.store.identities(&caller.claims.sub).await?;
    let listed: Vec<_> = identities
        .iter()
        .map(|identity| {
            json!({
                "id": identity.id,
                "provider": identity.provider,
                "email": identity.email,
                "linked_at": crate::rfc3339(identity.linked_at),
            })
        })
        .collect();
    Ok(success(StatusCode::OK, json!({ "identities": listed })))
}
