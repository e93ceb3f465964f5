//! Any bytes as a request body, through the parsers every endpoint with a body
//! uses: `request::json_body`, `Credentials::from_request` (register, login)
//! and the refresh endpoint's body down to `RefreshKeys::parse`. Never panics;
//! only the 400 and 413 answers come out; a 400 never echoes the password;
//! accepted credentials obey the rules for emails, passwords and devices.
#![no_main]

use auth::ApiError;
use auth::credentials::{Credentials, MAX_PASSWORD_BYTES, MIN_PASSWORD_BYTES, required_string};
use auth::http::request::{MAX_BODY_BYTES, json_body};
use auth_fuzz::{REFRESH_KEYS, request_with_body};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The messages a body can get, but for serde's own ("Invalid request body: …").
const MESSAGES: &[&str] = &[
    "Request body must be a JSON object.",
    "Malformed JSON body.",
    "email is required.",
    "email must be a string.",
    "email is not a valid email address.",
    auth::credentials::LOCAL_PART_RULE,
    "password is required.",
    "password must be a string.",
    "password must be 8 to 72 bytes long.",
    "password must not contain NUL characters.",
    "device must be a string.",
    "refresh_token is required.",
    "refresh_token must be a string.",
];

/// The message of a 400 (a 413 for a body over the limit); anything else is a bug.
fn message(error: ApiError, body: &[u8]) -> Option<String> {
    match error {
        ApiError::PayloadTooLarge => {
            assert!(body.len() > MAX_BODY_BYTES, "413 for {} bytes", body.len());
            None
        }
        ApiError::BadRequest(message) => {
            assert!(
                body.len() <= MAX_BODY_BYTES,
                "a body over the limit was parsed"
            );
            assert!(
                MESSAGES.contains(&message.as_str())
                    || message.starts_with("Invalid request body: "),
                "unexpected message {message:?}"
            );
            Some(message)
        }
        other => panic!("a body parser answered {other:?}"),
    }
}

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: Option<Value>,
}

fuzz_target!(|body: &[u8]| {
    // Parsed independently, to check what the service read against.
    let object = serde_json::from_slice::<Map<String, Value>>(body).ok();
    let field = |name: &str| object.as_ref().and_then(|o| o.get(name)).cloned();

    match json_body::<Map<String, Value>>(&request_with_body(body)) {
        Ok(parsed) => {
            assert!(body.len() <= MAX_BODY_BYTES);
            assert_eq!(
                Some(&parsed),
                object.as_ref(),
                "json_body read another object"
            );
        }
        Err(error) => {
            message(error, body);
        }
    }

    match Credentials::from_request(&request_with_body(body)) {
        Ok(credentials) => {
            // serde_json skips the fields the service ignores without checking
            // them for UTF-8, so the service reads some bodies that a strict
            // parser refuses; the fields it does read are compared where both read.
            if object.is_some() {
                let Some(Value::String(email)) = field("email") else {
                    panic!("credentials without an email string in the body");
                };
                // The local part as typed (trimmed, lower-cased; NFC may
                // compose it further), the domain in its ASCII form.
                let typed = email.trim().to_lowercase();
                let (typed_local, _) = typed.rsplit_once('@').expect("an accepted email has an @");
                let (local, _) = credentials.email.rsplit_once('@').unwrap();
                assert!(typed_local.len() >= local.len(), "the local part grew");
                assert_eq!(
                    field("password"),
                    Some(Value::String(credentials.password.clone()))
                );
            }
            assert_eq!(credentials.email.matches('@').count(), 1);
            let (local, domain) = credentials.email.split_once('@').unwrap();
            assert!(domain.is_ascii(), "a domain not in its ASCII form");
            assert!(
                !local.contains(['<', '>', '(', ')', ',', ';', ':', '\\', '[', ']', '"', ' ']),
                "a local part that is not a dot-atom"
            );
            assert_eq!(
                auth::credentials::normalize_email(&credentials.email).ok().as_deref(),
                Some(credentials.email.as_str()),
                "an accepted email that normalises again to another"
            );
            assert!(credentials.email.len() <= 254);
            assert_eq!(credentials.email, credentials.email.trim().to_lowercase());
            let length = credentials.password.len();
            assert!((MIN_PASSWORD_BYTES..=MAX_PASSWORD_BYTES).contains(&length));
            assert!(!credentials.password.contains('\0'));
            if let Some(device) = &credentials.device {
                assert!(device.chars().count() <= 100);
                assert!(!device.chars().any(char::is_control));
                assert_eq!(
                    device.trim(),
                    device,
                    "a device name with whitespace around"
                );
            }
        }
        Err(error) => {
            if let (Some(message), Some(Value::String(password))) =
                (message(error, body), field("password"))
            {
                if password.len() >= MIN_PASSWORD_BYTES && !MESSAGES.contains(&message.as_str()) {
                    assert!(!message.contains(&password), "a 400 echoed the password");
                }
            }
        }
    }

    match json_body::<RefreshBody>(&request_with_body(body))
        .and_then(|body| required_string("refresh_token", body.refresh_token))
    {
        Ok(raw) => {
            if let Some(token) = REFRESH_KEYS.parse(&raw) {
                assert_eq!(
                    REFRESH_KEYS.encode(&token),
                    raw,
                    "accepted a forged refresh token"
                );
            }
        }
        Err(error) => {
            message(error, body);
        }
    }
});
