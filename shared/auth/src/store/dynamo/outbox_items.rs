//! The outbox table's items ([`crate::mail::outbox`]), beside
//! [`super::schema`] (which re-exports them).

use super::schema::{Item, n, number_of, s, string_of};
use crate::mail::outbox::{MailKind, OutboxMail};
use crate::store::{StoreError, StoreResult};
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
