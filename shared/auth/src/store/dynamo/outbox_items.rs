//! The outbox table's items ([`crate::mail::outbox`]), beside
//! [`super::schema`] (which re-exports them).

use super::schema::{Item, n, number_of, s, string_of};
use crate::mail::outbox::{MailKind, OutboxMail};
use crate::store::{StoreError, StoreResult};
use crate::webhooks::Event;
use std::collections::HashMap;

/// An outbox item ([`crate::mail::outbox`]): the table's key is `id`.
pub fn outbox_item(mail: &OutboxMail) -> Item {
    let mut item = HashMap::from([
        ("id".to_owned(), s(&mail.id)),
        ("kind".to_owned(), s(mail.kind.as_str())),
        ("to".to_owned(), s(&mail.to)),
        ("created_at".to_owned(), n(mail.created_at)),
        ("expires_at".to_owned(), n(mail.expires_at)),
    ]);
    if mail.kind.carries_code() {
        item.insert("code".to_owned(), s(&mail.code));
    }
    item
}

pub fn outbox_key(id: &str) -> Item {
    HashMap::from([("id".to_owned(), s(id))])
}

pub fn outbox_mail_from(item: &Item) -> StoreResult<OutboxMail> {
    let number =
        |name| number_of(item, name).ok_or_else(|| StoreError(format!("outbox item lacks {name}")));
    let kind = string_of(item, "kind")?;
    let kind = MailKind::parse(&kind)
        .ok_or_else(|| StoreError(format!("outbox item of unknown kind {kind:?}")))?;
    Ok(OutboxMail {
        id: string_of(item, "id")?,
        kind,
        to: string_of(item, "to")?,
        code: match kind.carries_code() {
            true => string_of(item, "code")?,
            false => String::new(),
        },
        created_at: number("created_at")?,
        expires_at: number("expires_at")?,
    })
}

/// The `kind` of an event's outbox item: the mailer leaves these to the
/// `webhooks` function.
pub const EVENT_KIND: &str = "event";

/// A webhook event's outbox item ([`crate::webhooks::event`]), keyed by its
/// id like a mail: `type` is the event's name and `body` the JSON every
/// receiver gets, which holds no secret (see the event's documentation).
pub fn event_item(event: &Event) -> Item {
    HashMap::from([
        ("id".to_owned(), s(&event.id)),
        ("kind".to_owned(), s(EVENT_KIND)),
        ("type".to_owned(), s(event.kind.as_str())),
        ("user_id".to_owned(), s(&event.user_id)),
        ("body".to_owned(), s(event.body())),
        ("created_at".to_owned(), n(event.created_at)),
        ("expires_at".to_owned(), n(event.expires_at())),
    ])
}

/// An event as its outbox item holds it, for its delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub id: String,
    /// The event's name (`user.created`, ...): the item's `type`.
    pub kind: String,
    pub user_id: String,
    /// The body to sign and send, as written.
    pub body: String,
    pub created_at: u64,
}

/// Whether an outbox item (a stream image) is an event's rather than a mail's.
pub fn is_event_item(item: &Item) -> bool {
    string_of(item, "kind").is_ok_and(|kind| kind == EVENT_KIND)
}

pub fn outbox_event_from(item: &Item) -> StoreResult<OutboxEvent> {
    let kind = string_of(item, "kind")?;
    if kind != EVENT_KIND {
        return Err(StoreError(format!(
            "outbox item of kind {kind:?} is no event"
        )));
    }
    Ok(OutboxEvent {
        id: string_of(item, "id")?,
        kind: string_of(item, "type")?,
        user_id: string_of(item, "user_id")?,
        body: string_of(item, "body")?,
        created_at: number_of(item, "created_at")
            .ok_or_else(|| StoreError("outbox event lacks created_at".into()))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhooks::EventType;

    #[test]
    fn an_event_reads_back_from_its_outbox_item() {
        let event =
            Event::new(EventType::PasskeyAdded, "u1", 1_796_000_000).with("passkey_id", "k1");
        let item = event_item(&event);
        assert!(is_event_item(&item));
        assert_eq!(number_of(&item, "expires_at"), Some(event.expires_at()));
        assert_eq!(
            outbox_event_from(&item).unwrap(),
            OutboxEvent {
                id: event.id.clone(),
                kind: "passkey.added".into(),
                user_id: "u1".into(),
                body: event.body(),
                created_at: 1_796_000_000,
            }
        );
        // A mail's item is not an event's, nor read as one.
        let mail = OutboxMail::notice(MailKind::TotpOn, "a@example.com", 1);
        assert!(!is_event_item(&outbox_item(&mail)));
        assert!(outbox_event_from(&outbox_item(&mail)).is_err());
    }
}
