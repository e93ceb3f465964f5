//! Reading what a client sent: the JSON body and the bearer token.
//! Every failure here is the client's, so every one is a 4xx with a message.

use crate::config::TrustedProxy;
use crate::http::error::{ApiError, TokenRejection};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, http::header};
use serde::de::DeserializeOwned;

/// Larger bodies are refused before any parsing. Credentials need a few hundred
/// bytes; 8 KiB leaves room for future fields without inviting abuse.
pub const MAX_BODY_BYTES: usize = 8 * 1024;

/// A JWT we issue is about 300 bytes; anything far larger is not ours and is
/// refused before any base64 or JSON work.
pub const MAX_TOKEN_BYTES: usize = 4 * 1024;

/// Parses the body as JSON into `T`, answering 400 or 413 with a message that
/// says what is wrong.
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    // Every body of this API is an object. serde would also read a struct from
    // an array (`["email", "password"]`), so anything else is refused up front.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::bad_request("Request body must be a JSON object."));
    }
    serde_json::from_slice(bytes).map_err(|error| {
        use serde_json::error::Category;
        match error.classify() {
            Category::Data => ApiError::bad_request(format!("Invalid request body: {error}.")),
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::bad_request("Malformed JSON body.")
            }
        }
    })
}

/// CloudFront's header naming the viewer: `<address>:<port>` (IPv6 unbracketed).
pub const VIEWER_ADDRESS: &str = "cloudfront-viewer-address";

/// The client's address, which the per-address limits count. By default the
/// connection's as API Gateway saw it ([`source_ip`]), never a header such as
/// `X-Forwarded-For` that a client writes itself. Behind CloudFront
/// (`TRUSTED_PROXY=cloudfront`) every connection comes from an edge, so the
/// viewer's address is read from `CloudFront-Viewer-Address`, which
/// CloudFront sets itself, overwriting the client's; a request without a
/// well-formed one (one that bypassed CloudFront) falls back to the
/// connection's address.
pub fn client_address(request: &Request, proxy: TrustedProxy) -> Option<&str> {
    let viewer = match proxy {
        TrustedProxy::None => None,
        TrustedProxy::CloudFront => request
            .headers()
            .get(VIEWER_ADDRESS)
            .and_then(|value| value.to_str().ok())
            .and_then(viewer_ip),
    };
    viewer.or_else(|| source_ip(request))
}

/// The address of a `CloudFront-Viewer-Address` value, if it is one.
fn viewer_ip(value: &str) -> Option<&str> {
    let (ip, port) = value.trim().rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    ip.parse::<std::net::IpAddr>().ok()?;
    Some(ip)
}

/// The client's address as API Gateway saw the connection: from its request
/// context. `None` outside API Gateway.
fn source_ip(request: &Request) -> Option<&str> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => context.http.source_ip.as_deref(),
        _ => None,
    }
}

/// The domain name API Gateway received the request on, from its request
/// context. `None` outside API Gateway.
pub fn domain_name(request: &Request) -> Option<&str> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => context.domain_name.as_deref(),
        _ => None,
    }
    .filter(|domain| !domain.is_empty())
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(request: &Request) -> Result<&str, TokenRejection> {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return Err(TokenRejection::Missing);
    };
    bearer_of(value)
}

/// The token of an `Authorization` header's value `Bearer <token>`.
pub fn bearer_of(value: &header::HeaderValue) -> Result<&str, TokenRejection> {
    let value = value
        .to_str()
        .map_err(|_| TokenRejection::Malformed)?
        .trim();
    if value.is_empty() {
        return Err(TokenRejection::Missing);
    }
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    // The scheme name is case-insensitive (RFC 7235 §2.1).
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(TokenRejection::Malformed);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(TokenRejection::Missing);
    }
    // `to_str` let through visible ASCII, space and tab only: no other
    // whitespace can be left, and bytes are scanned cheaper than chars.
    if token.bytes().any(|byte| byte == b' ' || byte == b'\t') {
        return Err(TokenRejection::Malformed);
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenRejection::Invalid);
    }
    Ok(token)
}

/// One parameter of the query string (`?scope=others`), percent-decoded as
/// API Gateway delivers it (lambda_http's accessor; absent when the request
/// has no query).
pub fn query_param<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.query_string_parameters_ref()?.first(name)
}

/// The segment of the route named `{name}`, percent-decoded as API Gateway
/// delivers it.
pub fn path_param<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.path_parameters_ref()?.first(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    fn with_auth(value: &[u8]) -> Request {
        let mut request = Request::default();
        request.headers_mut().insert(
            header::AUTHORIZATION,
            header::HeaderValue::from_bytes(value).unwrap(),
        );
        request
    }

    #[test]
    fn bearer_header_forms() {
        assert_eq!(
            bearer_token(&with_auth(b"Bearer abc.def.ghi")),
            Ok("abc.def.ghi")
        );
        assert_eq!(bearer_token(&with_auth(b"bearer abc")), Ok("abc"));
        assert_eq!(
            bearer_token(&Request::default()),
            Err(TokenRejection::Missing)
        );
        for missing in [&b""[..], b"   ", b"Bearer", b"Bearer    "] {
            assert_eq!(
                bearer_token(&with_auth(missing)),
                Err(TokenRejection::Missing)
            );
        }
        for malformed in [
            &b"abc.def.ghi"[..],
            b"Token abc",
            b"Bearer a b",
            b"Basic dXNlcg==",
        ] {
            assert_eq!(
                bearer_token(&with_auth(malformed)),
                Err(TokenRejection::Malformed)
            );
        }
        assert_eq!(
            bearer_token(&with_auth("Bearer \u{e9}t\u{e9}".as_bytes())),
            Err(TokenRejection::Malformed)
        );
        let huge = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES + 1));
        assert_eq!(
            bearer_token(&with_auth(huge.as_bytes())),
            Err(TokenRejection::Invalid)
        );
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Probe {
        name: String,
    }

    fn with_body(body: &str) -> Request {
        Request::new(Body::Text(body.into()))
    }

    fn message(error: ApiError) -> String {
        match error {
            ApiError::BadRequest(message) => message,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn bodies_that_are_not_json_objects_get_a_400_naming_the_problem() {
        assert_eq!(
            message(json_body::<Probe>(&with_body("")).unwrap_err()),
            "Request body must be a JSON object."
        );
        assert_eq!(
            message(json_body::<Probe>(&with_body("{\"name\":")).unwrap_err()),
            "Malformed JSON body."
        );
        assert_eq!(
            message(json_body::<Probe>(&with_body("[\"x\"]")).unwrap_err()),
            "Request body must be a JSON object."
        );
        let wrong_type = message(json_body::<Probe>(&with_body("{\"name\": 5}")).unwrap_err());
        assert!(wrong_type.contains("invalid type: integer"), "{wrong_type}");
    }

    #[test]
    fn oversized_bodies_are_refused_before_parsing() {
        let body = format!("{{\"name\":\"{}\"}}", "a".repeat(MAX_BODY_BYTES));
        assert!(matches!(
            json_body::<Probe>(&with_body(&body)),
            Err(ApiError::PayloadTooLarge)
        ));
    }

    fn from(ip: &str, viewer: Option<&str>) -> Request {
        use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
        let mut context = ApiGatewayV2httpRequestContext::default();
        context.http.source_ip = Some(ip.to_owned());
        let mut request =
            Request::default().with_request_context(RequestContext::ApiGatewayV2(context));
        if let Some(viewer) = viewer {
            let value = header::HeaderValue::from_str(viewer).unwrap();
            request.headers_mut().insert(VIEWER_ADDRESS, value);
        }
        request
    }

    #[test]
    fn the_client_address_is_the_connections_unless_cloudfront_is_trusted() {
        let edge = "130.176.0.1";
        // Not trusted: a header a client wrote is ignored (a forged one too).
        let forged = from(edge, Some("198.51.100.7:443"));
        assert_eq!(client_address(&forged, TrustedProxy::None), Some(edge));
        // Trusted: CloudFront's header names the viewer, IPv4 or IPv6.
        assert_eq!(
            client_address(&forged, TrustedProxy::CloudFront),
            Some("198.51.100.7")
        );
        let six = from(edge, Some("2001:db8::1:46532"));
        assert_eq!(
            client_address(&six, TrustedProxy::CloudFront),
            Some("2001:db8::1")
        );
        // Missing or malformed (a request that bypassed CloudFront): the connection's.
        for viewer in [
            None,
            Some("not an address"),
            Some("198.51.100.7"),
            Some("1.2.3.4:x"),
        ] {
            assert_eq!(
                client_address(&from(edge, viewer), TrustedProxy::CloudFront),
                Some(edge),
                "{viewer:?}"
            );
        }
    }
}
