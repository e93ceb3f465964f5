//! A user's metadata: `user_metadata`, which the user writes
//! (`PATCH /auth/user`), and `app_metadata`, which only admins write
//! (`PATCH /admin/users/{id}`): JSON objects a team keeps beside the
//! account without a table of its own, shown by `GET /auth/status` and the
//! admin calls. Each is replaced whole by a write.

use crate::http::error::ApiError;
use serde_json::{Map, Value};

/// The most one object may take, as compact JSON.
pub const MAX_BYTES: usize = 4096;
/// The deepest nesting of objects and arrays one may have (the object itself is 1).
pub const MAX_DEPTH: usize = 5;

pub type Metadata = Map<String, Value>;

/// The value of `field` in a request: a JSON object of at most
/// [`MAX_BYTES`] and [`MAX_DEPTH`] levels, else 400 with the reason.
pub fn from_request(field: &str, value: Option<Value>) -> Result<Metadata, ApiError> {
    let Some(Value::Object(object)) = value else {
        return Err(ApiError::bad_request(format!(
            "{field} must be a JSON object."
        )));
    };
    let value = Value::Object(object);
    if depth(&value) > MAX_DEPTH {
        return Err(ApiError::bad_request(format!(
            "{field} must nest at most {MAX_DEPTH} levels."
        )));
    }
    if value.to_string().len() > MAX_BYTES {
        return Err(ApiError::bad_request(format!(
            "{field} must be at most {MAX_BYTES} bytes as JSON."
        )));
    }
    match value {
        Value::Object(object) => Ok(object),
        _ => unreachable!("checked above"),
    }
}

/// Metadata as stored (compact JSON text); anything but an object reads as
/// none.
pub fn from_stored(text: Option<&str>) -> Metadata {
    match text.map(serde_json::from_str::<Value>) {
        Some(Ok(Value::Object(object))) => object,
        _ => Metadata::new(),
    }
}

/// Levels of objects and arrays: a scalar is 0, `{}` is 1.
fn depth(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_object_within_the_limits_passes_and_anything_else_says_why() {
        let ok = from_request(
            "user_metadata",
            Some(json!({"name": "Ann", "prefs": {"a": [1]}})),
        );
        assert_eq!(ok.unwrap()["name"], "Ann");
        for (value, reason) in [
            (json!([1]), "must be a JSON object"),
            (json!("x"), "must be a JSON object"),
            (
                json!({"a": {"b": {"c": {"d": {"e": {}}}}}}),
                "nest at most 5",
            ),
            (json!({"a": "x".repeat(MAX_BYTES)}), "at most 4096 bytes"),
        ] {
            let Err(ApiError::BadRequest(message)) = from_request("user_metadata", Some(value))
            else {
                panic!("{reason}: refused")
            };
            assert!(message.contains(reason), "{message}");
        }
        assert!(from_request("app_metadata", None).is_err());
        // Five levels exactly pass.
        assert!(from_request("m", Some(json!({"a": {"b": {"c": {"d": {}}}}}))).is_ok());
    }

    #[test]
    fn stored_text_reads_back_and_junk_reads_as_none() {
        assert_eq!(from_stored(Some(r#"{"a":1}"#))["a"], 1);
        assert!(from_stored(Some("[1]")).is_empty());
        assert!(from_stored(Some("{")).is_empty());
        assert!(from_stored(None).is_empty());
    }
}
