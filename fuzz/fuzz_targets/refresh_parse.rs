//! Any string as a refresh token through `RefreshKeys::parse`. Never panics,
//! and whatever it accepts encodes back to exactly the string given: only
//! tokens we issued get through.
#![no_main]

use auth_fuzz::REFRESH_KEYS;
use libfuzzer_sys::{Corpus, fuzz_target};

fuzz_target!(|data: &[u8]| -> Corpus {
    // The token reaches parse as a JSON string, so always as UTF-8.
    let Ok(raw) = std::str::from_utf8(data) else {
        return Corpus::Reject;
    };
    if let Some(token) = REFRESH_KEYS.parse(raw) {
        assert_eq!(
            REFRESH_KEYS.encode(&token),
            raw,
            "accepted a refresh token we did not issue"
        );
        assert!(!token.user_id.contains(':') && !token.session_id.contains(':'));
    }
    Corpus::Keep
});
