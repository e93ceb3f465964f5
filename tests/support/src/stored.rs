//! Items as the service stores them, built with its own key schema
//! (`auth::store::dynamo::schema`) so that no test spells a key prefix: for
//! writing behind the service's back ([`crate::backstage`]) and for a fake
//! DynamoDB to hand out ([`crate::fake_dynamo`]).

use auth::store::dynamo::schema::{self, Item, failures_key, login_key, n, s};
use auth::store::{NewUser, Session, SignIn};
use auth::throttle::{account_counter, source_counter};
use aws_sdk_dynamodb::types::AttributeValue;

/// `key` with more attributes.
pub fn item_with(
    key: Item,
    attributes: impl IntoIterator<Item = (&'static str, AttributeValue)>,
) -> Item {
    let mut item = key;
    item.extend(
        attributes
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value)),
    );
    item
}

/// The account failure counter's key for `email`: the counter itself says
/// how the service names it (the number of free failures is not in the key).
pub fn account_failures_key(email: &str) -> Item {
    failures_key(&account_counter(email, 0))
}

/// The failure counter's key of the source address `ip` (an IPv6 address
/// names its /64).
pub fn source_failures_key(ip: &str) -> Item {
    let counter = source_counter(ip, 0).unwrap_or_else(|| panic!("{ip} is no address"));
    failures_key(&counter)
}

/// An account's failure counter.
pub fn account_counter_item(email: &str, failures: u64, last_at_ms: u64, expires_at: u64) -> Item {
    item_with(
        account_failures_key(email),
        [
            ("failures", n(failures)),
            ("last_failure_ms", n(last_at_ms)),
            ("expires_at", n(expires_at)),
        ],
    )
}

/// A login record: `email` claimed by `user_id`, with this password hash.
pub fn login_record_item(email: &str, user_id: &str, password_hash: &str) -> Item {
    item_with(
        login_key(email),
        [("user_id", s(user_id)), ("password_hash", s(password_hash))],
    )
}

/// A user's profile, as registration writes it (registered now).
pub fn profile_item(user_id: &str, email: &str) -> Item {
    schema::profile_item(&NewUser {
        user_id: user_id.to_owned(),
        email: email.to_owned(),
        password_hash: String::new(),
        registered_on: auth::rfc3339(auth::now()),
        roles: auth::roles::Roles::default(),
        email_verified: false,
    })
}

/// A session of `user_id` signed in now, with an hour to live, whose live
/// refresh token has the hash `refresh_hash`.
pub fn live_session_item(user_id: &str, session_id: &str, refresh_hash: &str) -> Item {
    let now = auth::now();
    schema::session_item(&Session {
        user_id: user_id.to_owned(),
        session_id: session_id.to_owned(),
        device: "test".to_owned(),
        created_at: now,
        last_used_at: now,
        expires_at: now + 3600,
        refresh_hash: refresh_hash.to_owned(),
        previous_hash: None,
        rotated_at: now,
        sign_in: SignIn::password(now),
    })
}
