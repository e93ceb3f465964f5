use super::App;
use super::authenticate::authenticate;
use super::description::{Description, Guard, Needs};
use super::passkey_ceremony::passkey_json;
use crate::http::error::ApiError;
use crate::http::response::{Reply, plain};
use crate::store::Store;
use crate::store::access::{Access, Items};
use lambda_http::{Request, http::StatusCode};
use serde_json::Value;

pub const DESCRIPTION: Description = Description {
    function: "passkeys",
    method: "GET",
    route: "/auth/passkeys",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[&[Access::users("Query", &[Items::Passkeys])]],
    example_body: None,
};

/// `GET /auth/passkeys`: the caller's passkeys, newest first:
/// `[{"id", "name", "created_at", "last_used_at", "backed_up"}]`.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let caller = authenticate(app, request).await?;
    let mut passkeys = app.store.passkeys(&caller.claims.sub).await?;
    passkeys.sort_by_key(|passkey| std::cmp::Reverse(passkey.created_at));
    let listed: Vec<Value> = passkeys.iter().map(passkey_json).collect();
    Ok(plain(StatusCode::OK, &Value::Array(listed)))
}
