//! Items as the service stores them, built with its own key schema
//! (`auth::store::dynamo::schema`) so that no test spells a key prefix: for
//! writing behind the service's back ([`crate::backstage`]) and for a fake
//! DynamoDB to hand out ([`crate::fake_dynamo`]).

use auth::store::dynamo::schema::{Item, failures_key, login_key, n, s};
use auth::throttle::account_counter;
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
