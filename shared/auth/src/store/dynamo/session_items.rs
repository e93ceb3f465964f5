//! The users table's session and failed-login counter items, beside
//! [`super::schema`] (which re-exports them).

use super::formats::{FORMAT, ITEM_FORMAT};
use super::schema::{Item, key, n, number_of, s, session_key, sessions_pk, string_of};
use crate::store::{Session, SignIn, StoreError, StoreResult};
use crate::throttle::Failures;
use aws_sdk_dynamodb::types::AttributeValue;

pub fn session_item(session: &Session) -> Item {
    let mut item = session_key(&session.user_id, &session.session_id);
    item.extend([
        ("user_id".to_owned(), s(&session.user_id)),
        ("session_id".to_owned(), s(&session.session_id)),
        ("device".to_owned(), s(&session.device)),
        ("created_at".to_owned(), n(session.created_at)),
        ("last_used_at".to_owned(), n(session.last_used_at)),
        ("expires_at".to_owned(), n(session.expires_at)),
        ("rotated_at".to_owned(), n(session.rotated_at)),
        ("refresh_hash".to_owned(), s(&session.refresh_hash)),
        (
            "amr".to_owned(),
            AttributeValue::L(session.sign_in.amr.iter().map(s).collect()),
        ),
        ("auth_time".to_owned(), n(session.sign_in.auth_time)),
        (FORMAT.to_owned(), n(ITEM_FORMAT)),
    ]);
    item
}

/// The sort key of an account's last sign-in, `SESSION#<user id>` / `#`
/// (`session_id`, `expires_at` the session's): in the sessions' partition,
/// which every sign-in may write, and below every session id (base64url, so
/// `-` at the least), so the sessions' query skips it by its key alone.
pub const LAST_OPENED: &str = "#";

pub fn last_opened_key(user_id: &str) -> Item {
    key(sessions_pk(user_id), LAST_OPENED.to_owned())
}

/// Written (replaced) with every session a sign-in opens: a change that
/// read it before listing the sessions it ends holds only while it stands.
/// Session ids are random, so it never comes back to a value once replaced.
pub fn last_opened_item(session: &Session) -> Item {
    let mut item = last_opened_key(&session.user_id);
    item.extend([
        ("session_id".to_owned(), s(&session.session_id)),
        ("expires_at".to_owned(), n(session.expires_at)),
    ]);
    item
}

pub fn session_from(item: &Item) -> StoreResult<Session> {
    let number =
        |name| number_of(item, name).ok_or_else(|| StoreError(format!("session lacks {name}")));
    Ok(Session {
        user_id: string_of(item, "user_id")?,
        session_id: string_of(item, "session_id")?,
        device: string_of(item, "device")?,
        created_at: number("created_at")?,
        last_used_at: number("last_used_at")?,
        expires_at: number("expires_at")?,
        refresh_hash: string_of(item, "refresh_hash")?,
        previous_hash: string_of(item, "previous_hash").ok(),
        rotated_at: number("rotated_at")?,
        sign_in: sign_in_from(item, number("created_at")?),
    })
}

/// How a session was signed in; one written before format 6 was by password
/// alone, when it was created.
fn sign_in_from(item: &Item, created_at: u64) -> SignIn {
    let amr = match item.get("amr") {
        Some(AttributeValue::L(methods)) => methods
            .iter()
            .filter_map(|method| method.as_s().ok().cloned())
            .collect(),
        _ => vec!["pwd".to_owned()],
    };
    SignIn {
        amr,
        auth_time: number_of(item, "auth_time").unwrap_or(created_at),
    }
}

/// A counter's failures as stored. A counter past its window that TTL has not
/// deleted yet is forgotten; one without a readable window is not (fail
/// closed), and an unreadable count counts as the most.
pub fn failures_from(item: Option<&Item>, now_ms: u64) -> Failures {
    let now = now_ms / 1000;
    item.filter(|item| number_of(item, "expires_at").is_none_or(|end| end > now))
        .map(|item| Failures {
            count: number_of(item, "failures")
                .map_or(u32::MAX, |count| u32::try_from(count).unwrap_or(u32::MAX)),
            last_at_ms: number_of(item, "last_failure_ms").unwrap_or(now_ms),
        })
        .unwrap_or_default()
}
