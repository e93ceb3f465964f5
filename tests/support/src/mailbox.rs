//! The mails the service sends, read back: the one-time codes the recovery
//! tests need. In-process (`make test`) nothing sends the outbox, so its
//! items are read straight from DynamoDB Local.

use crate::backstage::backstage;
use auth::outbox::MailKind;
use auth::store::dynamo::schema::{outbox_mail_from, s};
use std::time::Duration;

/// The code of the newest mail of `kind` to `to`, waiting up to 15 s for it.
pub async fn latest_code(to: &str, kind: MailKind) -> String {
    for _ in 0..150 {
        if let Some(code) = newest_in_outbox(to, kind).await {
            crate::secrets::record_secrets([("code", Some(code.as_str()))]);
            return code;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {kind:?} mail to {to} arrived");
}

/// How many mails of `kind` to `to` are in the outbox.
pub async fn mails_in_outbox(to: &str, kind: MailKind) -> usize {
    outbox(to, kind).await.len()
}

async fn newest_in_outbox(to: &str, kind: MailKind) -> Option<String> {
    let mut mails = outbox(to, kind).await;
    mails.sort_by_key(|mail| mail.created_at);
    mails.pop().map(|mail| mail.code)
}

async fn outbox(to: &str, kind: MailKind) -> Vec<auth::outbox::OutboxMail> {
    let backstage = backstage().await.expect("the service's database");
    let mut pages = backstage
        .client
        .scan()
        .table_name(&backstage.config.outbox_table)
        .filter_expression("#to = :to AND kind = :kind")
        .expression_attribute_names("#to", "to")
        .expression_attribute_values(":to", s(to))
        .expression_attribute_values(":kind", s(kind.as_str()))
        .consistent_read(true)
        .into_paginator()
        .send();
    let mut mails = Vec::new();
    while let Some(page) = pages.next().await {
        for item in page.expect("the outbox scans").items() {
            mails.push(outbox_mail_from(item).expect("an outbox item"));
        }
    }
    mails
}
