//! The JSON envelope every answer uses: `{"status": "success" | "fail", ...}`.

use lambda_http::{
    Body, Response,
    http::{HeaderValue, StatusCode, header},
};
use serde_json::{Map, Value};

pub type Reply = Response<Body>;

/// A success answer: `fields` (a JSON object) with `"status": "success"` added.
pub fn success(status: StatusCode, fields: Value) -> Reply {
    let mut body = match fields {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    body.insert("status".into(), "success".into());
    reply(status, &Value::Object(body))
}

/// A failure: `{"status": "fail", "message"}` with `fields` beside them
/// (every error's `code`, a login's second-factor challenge).
pub fn fail_with(status: StatusCode, message: &str, fields: Value) -> Reply {
    let mut body = match fields {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    body.insert("status".into(), "fail".into());
    body.insert("message".into(), message.into());
    reply(status, &Value::Object(body))
}

/// A public document (a JWKS, a discovery document): the JSON itself, no
/// envelope, and cacheable by anyone for `max_age` seconds.
pub fn document(body: &Value, max_age: u64) -> Reply {
    let mut response = reply(StatusCode::OK, body);
    let cache = format!("public, max-age={max_age}");
    if let Ok(value) = HeaderValue::from_str(&cache) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}

fn reply(status: StatusCode, body: &Value) -> Reply {
    text_reply(status, body.to_string())
}

/// An answer whose body is `body` serialized as it is (a struct's fields in
/// their order): for an answer built straight from what it shows, without a
/// `Value` made first (status's, issue 29 target 5).
pub fn serialized(status: StatusCode, body: &impl serde::Serialize) -> Reply {
    match serde_json::to_string(body) {
        Ok(text) => text_reply(status, text),
        Err(error) => {
            crate::http::error::ApiError::Unavailable(format!("answer not serialized: {error}"))
                .into_reply()
        }
    }
}

fn text_reply(status: StatusCode, text: String) -> Reply {
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // Answers carry tokens and account data: no cache may keep them (RFC 6749 §5.1).
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An answer whose body is `body` exactly, with no `status` field added (a
/// bare list, WebAuthn options).
pub fn plain(status: StatusCode, body: &Value) -> Reply {
    reply(status, body)
}
