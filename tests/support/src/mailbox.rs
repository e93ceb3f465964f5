//! The mails the service sent, or owes: where a test finds the code a
//! verification or password-reset mail carries.
//!
//! - Over HTTP with `SES_URL` set (`make test-e2e`: cargo lambda watch, the stream pump
//!   and the mailer in front of the SES emulator), the mails the emulator
//!   holds (`GET /store`): the code is read from the mail's text, as a person
//!   would.
//! - Otherwise (in-process: no mailer runs), the outbox table in DynamoDB
//!   Local, read through the service's codec.
//!
//! Each code found is recorded for the log check (kind `code`, see
//! [`crate::secrets`]).

use crate::backstage::backstage;
use auth::mail::outbox::{MailKind, OutboxMail};
use auth::store::dynamo::schema::outbox_mail_from;
use serde_json::Value;
use std::time::{Duration, Instant};

/// How long a mail may take to arrive (stream, pump, mailer, SES).
const PATIENCE: Duration = Duration::from_secs(15);

/// The SES emulator's address, when the mails go through it.
pub fn ses_url() -> Option<String> {
    std::env::var("SES_URL").ok().filter(|url| !url.is_empty())
}

/// One mail the SES emulator holds.
#[derive(Debug, Clone)]
pub struct SentMail {
    pub to: Vec<String>,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Epoch seconds.
    pub at: u64,
}

impl SentMail {
    /// What the mail is for, from its link to the account page (a code's)
    /// or its subject (a notice's, as the service writes it).
    pub fn kind(&self) -> Option<MailKind> {
        if self.text.contains("/account#verify?") {
            Some(MailKind::VerifyEmail)
        } else if self.text.contains("/account#reset?") {
            Some(MailKind::ResetPassword)
        } else if self.text.contains("/account#change-email?") {
            Some(MailKind::EmailChange)
        } else {
            MailKind::NOTICES.into_iter().find(|kind| {
                let notice = OutboxMail::notice(*kind, "", 0);
                auth::mail::message::render(&notice, "").subject == self.subject
            })
        }
    }

    /// The 8-digit code of its text ("Your code: 12345678").
    pub fn code(&self) -> Option<String> {
        code_in(&self.text)
    }
}

/// The code after "Your code: " in a mail's text.
pub fn code_in(text: &str) -> Option<String> {
    let (_, after) = text.split_once("Your code: ")?;
    let code: String = after.chars().take_while(char::is_ascii_digit).collect();
    (code.len() == 8).then_some(code)
}

/// Every mail the SES emulator at `ses_url` holds, oldest first.
pub async fn sent_mails(ses_url: &str) -> Vec<SentMail> {
    let body = reqwest::get(format!("{ses_url}/store"))
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("the SES emulator answers GET /store")
        .text()
        .await
        .expect("a body");
    let store: Value = serde_json::from_str(&body).expect("GET /store is JSON");
    let strings = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|to| to.as_str().map(str::to_owned))
            .collect()
    };
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    store["emails"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|mail| SentMail {
            to: strings(&mail["destination"]["to"]),
            from: text(&mail["from"]),
            subject: text(&mail["subject"]),
            text: text(&mail["body"]["text"]),
            html: text(&mail["body"]["html"]),
            at: mail["at"].as_u64().unwrap_or_default(),
        })
        .collect()
}

/// The mails of `kind` sent to `to`, oldest first, once there is at least one
/// (waiting up to 15 s); empty if none came.
pub async fn mails_to(to: &str, kind: MailKind) -> Vec<SentMail> {
    let ses = ses_url().expect("mails_to reads the SES emulator: SES_URL");
    let started = Instant::now();
    loop {
        let mails: Vec<SentMail> = sent_mails(&ses)
            .await
            .into_iter()
            .filter(|mail| mail.to.iter().any(|address| address == to) && mail.kind() == Some(kind))
            .collect();
        if !mails.is_empty() || started.elapsed() > PATIENCE {
            return mails;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The code of the latest mail of `kind` to `to`: from the SES emulator over
/// HTTP with `SES_URL` set, else (in-process) from the outbox table. Panics if none comes within
/// 15 s.
pub async fn latest_code(to: &str, kind: MailKind) -> String {
    // In-process, no mailer runs: the mails stay in the outbox.
    let through_ses = crate::app::over_http() && ses_url().is_some();
    let code = if through_ses {
        mails_to(to, kind).await.last().and_then(SentMail::code)
    } else {
        latest_in_outbox(to, kind).await.map(|mail| mail.code)
    };
    let code = code.unwrap_or_else(|| panic!("no {} mail to {to} within 15 s", kind.as_str()));
    crate::secrets::record_secrets([("code", Some(code.as_str()))]);
    code
}

/// The code of the latest mail of `kind` to `to` once it is not `previous`:
/// the code of a mail sent after the one that carried `previous` (which may
/// still be on its way when this is called). In the outbox, two mails of one
/// second have the same `created_at`, so the newer is the one whose code
/// differs. Panics after 15 s.
pub async fn code_after(to: &str, kind: MailKind, previous: &str) -> String {
    let started = Instant::now();
    loop {
        let code = if crate::app::over_http() && ses_url().is_some() {
            Some(latest_code(to, kind).await)
        } else {
            in_outbox(to, kind)
                .await
                .into_iter()
                .filter(|mail| mail.code != previous)
                .max_by_key(|mail| mail.created_at)
                .map(|mail| mail.code)
        };
        if let Some(code) = code.filter(|code| code != previous) {
            crate::secrets::record_secrets([("code", Some(code.as_str()))]);
            return code;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "no new {} mail to {to} within 15 s",
            kind.as_str()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The latest mail of `kind` to `to` still in the outbox table, waiting up
/// to 15 s for one.
pub async fn latest_in_outbox(to: &str, kind: MailKind) -> Option<OutboxMail> {
    let started = Instant::now();
    loop {
        if let Some(latest) = in_outbox(to, kind)
            .await
            .into_iter()
            .max_by_key(|mail| mail.created_at)
        {
            return Some(latest);
        }
        if started.elapsed() > PATIENCE {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How many notices of `kind` went to `to`: sent through the SES emulator
/// over HTTP (waiting up to 15 s for a first one), else in the outbox table.
pub async fn notices_to(to: &str, kind: MailKind) -> usize {
    if crate::app::over_http() && ses_url().is_some() {
        mails_to(to, kind).await.len()
    } else {
        mails_in_outbox(to, kind).await
    }
}

/// How many mails of `kind` to `to` are in the outbox table now.
pub async fn mails_in_outbox(to: &str, kind: MailKind) -> usize {
    in_outbox(to, kind).await.len()
}

/// The mails of `kind` to `to` in the outbox table now.
async fn in_outbox(to: &str, kind: MailKind) -> Vec<OutboxMail> {
    let backstage = backstage()
        .await
        .expect("the outbox is read in DynamoDB Local: make test");
    let mut found = Vec::new();
    let mut start = None;
    loop {
        let page = backstage
            .client
            .scan()
            .table_name(&backstage.config.outbox_table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("the outbox table can be read");
        found.extend(
            page.items()
                .iter()
                .filter_map(|item| outbox_mail_from(item).ok())
                .filter(|mail| mail.to == to && mail.kind == kind),
        );
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return found;
        }
    }
}
