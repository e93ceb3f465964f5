//! The Lambda authorizer for HTTP APIs (payload 2.0, simple responses): the
//! token check of `GET /auth/status` (signature, claims, user, session and
//! revocation in one DynamoDB read) in front of any route, this API's or
//! another's. A logged-out token is refused at the gateway.

use crate::endpoint::{App, check_token, within_deadline};
use crate::http::error::{ApiError, TokenRejection};
use crate::metrics::Metric;
use crate::store::Store;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use serde_json::json;

/// Allows with the caller's `user_id`, `session_id`, `email` and `admin` as
/// context, or denies. Every failed check denies, and so does storage that
/// cannot answer (fail closed), logged.
pub async fn authorize<S: Store>(
    app: &App<S>,
    event: &ApiGatewayV2CustomAuthorizerV2Request,
    deadline: Option<u64>,
) -> ApiGatewayV2CustomAuthorizerSimpleResponse {
    app.reload_signing_keys().await;
    let checked = within_deadline(deadline, async {
        let token = bearer(event)?;
        let issuer = app.issuer(event.request_context.domain_name.as_deref())?;
        check_token(app, token, &issuer).await
    })
    .await;
    let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
    crate::metrics::emit(&[match &checked {
        Ok(_) => Metric::AuthorizerAllowed,
        Err(ApiError::Unavailable(_)) => Metric::AuthorizerErrored,
        Err(_) => Metric::AuthorizerDenied,
    }]);
    match checked {
        Ok(caller) => {
            response.is_authorized = true;
            response.context = json!({
                "user_id": caller.claims.sub,
                "session_id": caller.claims.sid,
                "email": caller.profile.email,
                "admin": caller.profile.roles.is_admin(),
                // Space-separated, as `amr`: role names have no spaces.
                "roles": caller.profile.roles.names().join(" "),
                // Strings, as API Gateway passes them on to a route's
                // integration: "true"/"false", and the methods space-separated.
                "mfa": caller.claims.has_mfa().to_string(),
                "amr": caller.claims.amr.join(" "),
            });
        }
        Err(ApiError::Unavailable(detail)) => {
            tracing::error!(%detail, "storage unavailable: denied");
        }
        Err(_) => {}
    }
    response
}

/// The bearer token of the identity source (`$request.header.Authorization`),
/// read with the same rules as every endpoint's.
fn bearer(event: &ApiGatewayV2CustomAuthorizerV2Request) -> Result<&str, TokenRejection> {
    let header = event
        .headers
        .get(lambda_http::http::header::AUTHORIZATION)
        .ok_or(TokenRejection::Missing)?;
    crate::http::request::bearer_of(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::tests::{JOE, app, call, registered};
    use crate::{Endpoint, store::memory::MemoryStore};

    fn event(authorization: Option<&str>) -> ApiGatewayV2CustomAuthorizerV2Request {
        let mut event = ApiGatewayV2CustomAuthorizerV2Request::default();
        if let Some(value) = authorization {
            event
                .headers
                .insert("authorization", value.parse().unwrap());
        }
        event
    }

    async fn allowed(app: &App<MemoryStore>, authorization: Option<&str>) -> bool {
        authorize(app, &event(authorization), None)
            .await
            .is_authorized
    }

    #[tokio::test]
    async fn allows_a_live_token_with_its_context_and_denies_everything_else() {
        let app = app();
        let token = registered(&app, JOE).await;
        let bearer = format!("Bearer {token}");
        let answer = authorize(&app, &event(Some(&bearer)), None).await;
        assert!(answer.is_authorized);
        assert_eq!(answer.context["email"], "joe@example.com");
        assert_eq!(answer.context["admin"], false);
        assert!(answer.context["user_id"].is_string() && answer.context["session_id"].is_string());

        for refused in [
            None,
            Some("Bearer"),
            Some("Basic abc"),
            Some("Bearer x.y.z"),
        ] {
            assert!(!allowed(&app, refused).await, "{refused:?}");
        }
        app.store.set_unavailable(true);
        assert!(!allowed(&app, Some(&bearer)).await, "storage down: denied");
        app.store.set_unavailable(false);
        assert_eq!(call(&app, Endpoint::Logout, Some(&token), "").await.0, 200);
        assert!(!allowed(&app, Some(&bearer)).await, "logged out: denied");
    }
}
