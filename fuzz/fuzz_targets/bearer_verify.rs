//! Any bytes as the `Authorization` header value, through `bearer_token` and
//! then `Tokens::verify`, as every protected endpoint does. Never panics; what
//! `bearer_token` returns is a clean token taken from the header; what `verify`
//! accepts is a token the current key signed, for us (see `check_accepted_token`).
#![no_main]

use auth::http::error::TokenRejection;
use auth::http::request::{MAX_TOKEN_BYTES, bearer_token};
use auth_fuzz::{ISSUER, TOKENS, check_accepted_token, request_with_authorization};
use libfuzzer_sys::{Corpus, fuzz_target};

fuzz_target!(|data: &[u8]| -> Corpus {
    let Some(request) = request_with_authorization(data) else {
        return Corpus::Reject;
    };
    let token = match bearer_token(&request) {
        Ok(token) => token,
        Err(TokenRejection::Missing | TokenRejection::Malformed | TokenRejection::Invalid) => {
            return Corpus::Keep;
        }
        Err(other) => panic!("bearer_token answered {other:?}"),
    };
    assert!(!token.is_empty(), "an empty token was accepted");
    assert!(
        token.len() <= MAX_TOKEN_BYTES,
        "an oversized token was accepted"
    );
    assert!(
        !token.contains(char::is_whitespace),
        "a token with whitespace"
    );
    let header = std::str::from_utf8(data).expect("bearer_token read a non-UTF-8 header");
    assert!(header.contains(token), "the token is not from the header");

    let now = auth::now();
    match TOKENS.verify(token, ISSUER, now) {
        Ok(claims) => check_accepted_token(token, &claims, now),
        Err(TokenRejection::Expired | TokenRejection::Invalid) => {}
        Err(other) => panic!("verify answered {other:?}"),
    }
    Corpus::Keep
});
