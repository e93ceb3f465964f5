//! `bench-dynamo-floor secret COUNT SECRET_ID`: reads a Secrets Manager secret
//! COUNT times (see `secret_floor`).
//!
//! `bench-dynamo-floor OP COUNT USER_ID SESSION_ID EMAIL`: issues the DynamoDB
//! requests of one endpoint COUNT times (at most 10 000) with a bare SDK client
//! and prints each call's duration in milliseconds, one a line. The first line
//! is the client's first call, which opens the connection: the cold floor.
//!
//! USER_ID, SESSION_ID and EMAIL name the caller: a user, the session of its
//! access token and its email (register ignores them). Keys and items come
//! from `auth::store::dynamo::schema` and the counters from `auth::throttle`,
//! the functions' own. The requests are those of a successful call, in order
//! (`make bench` shows the functions' own, counted by the round-trips test):
//!
//!   status          the token check: BatchGetItem of the profile, the token's
//!                   session and a revoked-token key, consistent
//!   login           BatchGetItem of the login record and its two failed-login
//!                   counters; an UpdateItem claiming each counter, both at
//!                   once; a transaction: the hash unchanged, the new session,
//!                   the account's counter cleared, the address's released
//!   (every change's transaction also puts its webhook event in the outbox
//!   table, as the functions do: login, logout, register, revoke-session)
//!   logout          TransactWriteItems: conditional put of a revoked-token
//!                   entry and conditional delete of the session
//!   register        UpdateItem counting the address's registration, then
//!                   TransactWriteItems of five puts: profile, login record and
//!                   session (conditional: new keys), the verification code
//!                   and its mail in the outbox table
//!   refresh         GetItem of the session, consistent, then an UpdateItem
//!                   rotating its refresh hash if it is the one read
//!   sessions        the token check, then a Query of the user's sessions
//!   revoke-session  the token check, then TransactWriteItems: a conditional
//!                   delete of a session and its webhook event
//!   password        the token check; BatchGetItem of the login record and the
//!                   account's counter; an UpdateItem claiming the counter; the
//!                   other sessions ended (a Query, a DeleteItem each); a
//!                   transaction: the new hash if the old is current, the
//!                   counter cleared; the sessions swept again (a Query)
//!   forgot-password the code mail counted: a conditional UpdateItem on the
//!                   address's and the source's hourly counters, both at once;
//!                   then TransactWriteItems: the login record's existence
//!                   checked, the reset code put, its mail put in the outbox
//!                   (EMAIL is a known address: the transaction goes through)
//!   reset-password  a wrong code: BatchGetItem of the login record and the
//!                   pending reset code, consistent, then an UpdateItem
//!                   counting the wrong try on the code, if there is one
//!   verify-email    the same for the pending verification code
//!   resend-verification the token check, then forgot-password's requests for
//!                   a verification code
//!
//! Logout, revoke-session and password end a session that a second client
//! writes before each timed call (its own connection: the timed client's first
//! call still opens one). Refresh and password overwrite hashes, so give them a
//! session and a user of their own.
//!
//! Tables, mail limits and the code key from the functions' own settings
//! (`auth::Config::from_env`: USERS_TABLE, REVOKED_TOKENS_TABLE, OUTBOX_TABLE,
//! MAILS_PER_EMAIL_PER_HOUR, SOURCE_MAILS_PER_HOUR, REFRESH_TOKEN_SECRET, and
//! the SIGNING_KEYS every function needs); endpoint, region and credentials
//! from the environment, as for the functions. A mail counter that is full
//! stops the floor with an error: it measures the mail sent, never a 429.

use auth::Config;
use auth::credentials::one_time_code::{self, CodeKey};
use auth::mail::outbox::{MailKind, OutboxMail};
use auth::store::SessionEnd;
use auth::store::dynamo::schema::{self, Item, n, s};
use auth::store::events;
use auth::store::{NewCode, NewUser, Session};
use auth::throttle::{self, Counter, FAILURE_WINDOW_SECONDS};
use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, KeysAndAttributes, Put, TransactWriteItem, Update,
};
use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

type Error = Box<dyn std::error::Error>;

const OPERATIONS: &str = "status|login|logout|register|refresh|sessions|revoke-session|password|\
forgot-password|reset-password|verify-email|resend-verification";
/// The address of the events in events/: login's and the code mails' per-address counters.
const SOURCE_IP: &str = "203.0.113.10";
/// The functions' default thresholds; a counter's key does not depend on them.
const ACCOUNT_FAILURES: u32 = 5;
const SOURCE_FAILURES: u32 = 100;
const REGISTRATIONS_PER_HOUR: u32 = 100;
/// The condition on a session that logout and revoke-session end: still live.
const LIVE_SESSION: &str = "attribute_exists(pk) AND expires_at > :now";

fn now_ms() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    u64::try_from(since.as_millis()).unwrap()
}

fn now() -> u64 {
    now_ms() / 1000
}

/// A key no earlier run used: the process id, the clock and a counter.
fn unique(i: u32) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("floor-{}-{nanos}-{i}", std::process::id())
}

/// An address of the benchmarking range (RFC 2544) per call, so that no
/// address reaches the registration limit.
fn source_of(i: u32) -> String {
    format!("198.19.{}.{}", i / 250 % 256, i % 250 + 1)
}

/// A string attribute of a stored item.
fn string_of(item: &Item, name: &str) -> Result<String, Error> {
    schema::string_of(item, name).map_err(|error| error.0.into())
}

/// A session as login writes it.
fn session(user_id: &str, session_id: &str) -> Session {
    Session {
        user_id: user_id.to_owned(),
        session_id: session_id.to_owned(),
        device: "bench".to_owned(),
        created_at: now(),
        last_used_at: now(),
        expires_at: now() + 3600,
        refresh_hash: "not-a-real-hash".to_owned(),
        previous_hash: None,
        rotated_at: now(),
        sign_in: auth::store::SignIn::password(now()),
    }
}

fn account(email: &str) -> Counter {
    throttle::account_counter(email, ACCOUNT_FAILURES)
}

fn source() -> Result<Counter, Error> {
    Ok(throttle::source_counter(SOURCE_IP, SOURCE_FAILURES).ok_or("not an address")?)
}

/// Sends `requests` at once, as the functions do where they can; the first error.
async fn all<R, E>(requests: impl IntoIterator<Item = R>) -> Result<(), Error>
where
    R: Future<Output = Result<(), E>> + Send + 'static,
    E: std::error::Error + Send + 'static,
{
    let mut sent = tokio::task::JoinSet::new();
    for request in requests {
        sent.spawn(request);
    }
    while let Some(done) = sent.join_next().await {
        done?.map_err(|error| Box::new(error) as Error)?;
    }
    Ok(())
}

async fn timed(call: impl Future<Output = Result<(), Error>>) -> Result<Duration, Error> {
    let start = Instant::now();
    call.await?;
    Ok(start.elapsed())
}

/// The caller of every operation, and the clients it uses.
struct Floor {
    /// Issues the timed calls.
    client: Client,
    /// Writes what a timed call needs beforehand, over a connection of its own.
    setup: Client,
    users: String,
    revoked: String,
    outbox: String,
    /// The functions' settings: the mail limits.
    config: Config,
    /// What the functions hash codes with.
    code_key: CodeKey,
    user_id: String,
    session_id: String,
    email: String,
}

impl Floor {
    /// A consistent BatchGetItem of `keys` in the users table and, if given, one
    /// key in the revoked-tokens table; the users table's items found.
    async fn read(&self, keys: Vec<Item>, revoked: Option<Item>) -> Result<Vec<Item>, Error> {
        let consistent = |keys: Vec<Item>| {
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
        };
        let mut request = self
            .client
            .batch_get_item()
            .request_items(&self.users, consistent(keys)?);
        if let Some(key) = revoked {
            request = request.request_items(&self.revoked, consistent(vec![key])?);
        }
        let output = request.send().await?;
        let found = output
            .responses()
            .and_then(|responses| responses.get(&self.users))
            .cloned()
            .unwrap_or_default();
        Ok(found)
    }

    /// What every endpoint behind a token reads first: the profile, the token's
    /// session and the token's entry among the revoked, in one request.
    async fn authenticate(&self, i: u32) -> Result<(), Error> {
        let keys = vec![
            schema::profile_key(&self.user_id),
            schema::session_key(&self.user_id, &self.session_id),
        ];
        self.read(keys, Some(schema::revoked_key(&unique(i))))
            .await?;
        Ok(())
    }

    /// A password check's storage before bcrypt: the login record read with
    /// `counters`, then a claim on each, all at once. The record's hash.
    async fn begin_attempt(&self, counters: &[Counter]) -> Result<String, Error> {
        let login_key = schema::login_key(&self.email);
        let keys = std::iter::once(login_key.clone())
            .chain(counters.iter().map(schema::failures_key))
            .collect();
        let items = self.read(keys, None).await?;
        let record = items
            .iter()
            .find(|item| schema::has_key(item, &login_key))
            .ok_or("no login record for that email")?;
        let claims = counters.iter().map(|counter| {
            let claim = self
                .client
                .update_item()
                .table_name(&self.users)
                .set_key(Some(schema::failures_key(counter)))
                .update_expression(
                    "SET failures = if_not_exists(failures, :zero) + :one, \
                     last_failure_ms = :now_ms, expires_at = :expires",
                )
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now_ms", n(now_ms()))
                .expression_attribute_values(":expires", n(now() + FAILURE_WINDOW_SECONDS));
            async move { claim.send().await.map(drop) }
        });
        all(claims).await?;
        string_of(record, "password_hash")
    }

    /// The delete of a counter that a successful check settles.
    fn clear(&self, counter: &Counter) -> Result<TransactWriteItem, Error> {
        let delete = Delete::builder()
            .table_name(&self.users)
            .set_key(Some(schema::failures_key(counter)))
            .build()?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Every stored session of the user (a paginated, consistent Query): their ids.
    async fn session_ids(&self) -> Result<Vec<String>, Error> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.users)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(schema::sessions_pk(&self.user_id)))
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut ids = Vec::new();
        while let Some(page) = pages.next().await {
            for item in page?.items() {
                ids.push(string_of(item, "session_id")?);
            }
        }
        Ok(ids)
    }

    /// Ends every session of the user but the caller's, one DeleteItem each, at once.
    async fn end_other_sessions(&self) -> Result<(), Error> {
        let ids = self.session_ids().await?;
        let deletes = ids.iter().filter(|id| **id != self.session_id).map(|id| {
            let delete = self
                .client
                .delete_item()
                .table_name(&self.users)
                .set_key(Some(schema::session_key(&self.user_id, id)));
            async move { delete.send().await.map(drop) }
        });
        all(deletes).await
    }

    /// A session of the user written ahead of a timed call that ends it.
    async fn prepare_session(&self, i: u32) -> Result<String, Error> {
        let session_id = unique(i);
        let item = schema::session_item(&session(&self.user_id, &session_id));
        self.setup
            .put_item()
            .table_name(&self.users)
            .set_item(Some(item))
            .send()
            .await?;
        Ok(session_id)
    }

    fn put_new(&self, item: Item) -> Result<TransactWriteItem, Error> {
        let put = Put::builder()
            .table_name(&self.users)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A put without a condition (the code item: a new code replaces the old).
    fn put(&self, item: Item) -> Result<TransactWriteItem, Error> {
        let put = Put::builder()
            .table_name(&self.users)
            .set_item(Some(item))
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A mail put in the outbox table.
    fn put_mail(&self, mail: &OutboxMail) -> Result<TransactWriteItem, Error> {
        let put = Put::builder()
            .table_name(&self.outbox)
            .set_item(Some(schema::outbox_item(mail)))
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A webhook event put in the outbox table, as every account change's
    /// transaction carries one (issue 27).
    fn put_event(&self, event: &auth::webhooks::Event) -> Result<TransactWriteItem, Error> {
        let put = Put::builder()
            .table_name(&self.outbox)
            .set_item(Some(schema::event_item(event)))
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A fresh code of `kind` for `email` and its mail, as the functions make them.
    fn new_code(&self, kind: MailKind, email: &str) -> Result<NewCode, Error> {
        let code = one_time_code::new_code().map_err(|error| format!("{error:?}"))?;
        Ok(NewCode {
            code_hash: self.code_key.hash(kind, email, &code),
            mail: OutboxMail {
                id: auth::ids::new_user_id(),
                kind,
                to: email.to_owned(),
                code,
                created_at: now(),
                expires_at: now() + one_time_code::lifetime_seconds(kind),
            },
        })
    }

    /// A code mail of `kind` to the caller's address: counted on the address's
    /// and the source's hourly counters (conditional UpdateItems, at once),
    /// then the code and its mail written if the address has an account.
    async fn mail_code(&self, kind: MailKind) -> Result<(), Error> {
        let counters = throttle::mail_counters(&self.email, Some(SOURCE_IP), &self.config, now());
        let counts = counters.iter().map(|(counter, window_end)| {
            let count = self
                .client
                .update_item()
                .table_name(&self.users)
                .set_key(Some(schema::failures_key(counter)))
                .update_expression(
                    "SET failures = if_not_exists(failures, :zero) + :one, expires_at = :expires",
                )
                .condition_expression("attribute_not_exists(failures) OR failures < :limit")
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":limit", n(u64::from(counter.free_failures)))
                .expression_attribute_values(":expires", n(*window_end));
            async move { count.send().await.map(drop) }
        });
        all(counts).await?;
        let code = self.new_code(kind, &self.email)?;
        let account = ConditionCheck::builder()
            .table_name(&self.users)
            .set_key(Some(schema::login_key(&self.email)))
            .condition_expression("attribute_exists(pk)")
            .build()?;
        self.client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .condition_check(account)
                    .build(),
            )
            .transact_items(self.put(schema::code_item(&code))?)
            .transact_items(self.put_mail(&code.mail)?)
            .send()
            .await?;
        Ok(())
    }

    /// A wrong code of `kind` sent back: the login record and the pending code
    /// read together, then the wrong try counted on the code. Without a
    /// pending code the count's condition fails, which the functions take as
    /// nothing to count (the same one request).
    async fn wrong_code(&self, kind: MailKind) -> Result<(), Error> {
        let code_key = schema::code_key(kind, &self.email);
        self.read(vec![schema::login_key(&self.email), code_key.clone()], None)
            .await?;
        let counted = self
            .client
            .update_item()
            .table_name(&self.users)
            .set_key(Some(code_key))
            .update_expression("SET wrong_tries = if_not_exists(wrong_tries, :zero) + :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        match counted {
            Err(error)
                if !error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(error.into())
            }
            _ => Ok(()),
        }
    }

    async fn resend_verification(&self, i: u32) -> Result<(), Error> {
        self.authenticate(i).await?;
        self.mail_code(MailKind::VerifyEmail).await
    }

    async fn login(&self, i: u32) -> Result<(), Error> {
        let (account, source) = (account(&self.email), source()?);
        let hash = self
            .begin_attempt(&[account.clone(), source.clone()])
            .await?;
        // The session is written only if the verified hash is still current.
        let check = ConditionCheck::builder()
            .table_name(&self.users)
            .set_key(Some(schema::login_key(&self.email)))
            .condition_expression("password_hash = :verified")
            .expression_attribute_values(":verified", s(hash))
            .build()?;
        let opened = session(&self.user_id, &unique(i));
        let put = Put::builder()
            .table_name(&self.users)
            .set_item(Some(schema::session_item(&opened)))
            .build()?;
        let release = Update::builder()
            .table_name(&self.users)
            .set_key(Some(schema::failures_key(&source)))
            .update_expression("SET failures = failures - :one")
            .expression_attribute_values(":one", n(1))
            .build()?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().condition_check(check).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(self.clear(&account)?)
            .transact_items(TransactWriteItem::builder().update(release).build())
            .transact_items(self.put_event(&events::session_created(&opened))?)
            .send()
            .await?;
        Ok(())
    }

    async fn logout(&self, i: u32, session_id: &str) -> Result<(), Error> {
        let mut entry = schema::revoked_key(&unique(i));
        entry.insert("expires_at".to_owned(), n(now() + 3600));
        let revoke = Put::builder()
            .table_name(&self.revoked)
            .set_item(Some(entry))
            .condition_expression("attribute_not_exists(jti) OR expires_at <= :now")
            .expression_attribute_values(":now", n(now()))
            .build()?;
        let end = Delete::builder()
            .table_name(&self.users)
            .set_key(Some(schema::session_key(&self.user_id, session_id)))
            .condition_expression(LIVE_SESSION)
            .expression_attribute_values(":now", n(now()))
            .build()?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(revoke).build())
            .transact_items(TransactWriteItem::builder().delete(end).build())
            .transact_items(self.put_event(&events::session_ended(
                &self.user_id,
                session_id,
                SessionEnd::Revoked,
                now(),
            ))?)
            .send()
            .await?;
        Ok(())
    }

    async fn register(&self, i: u32) -> Result<(), Error> {
        let (counter, window_end) =
            throttle::registration_counter(&source_of(i), REGISTRATIONS_PER_HOUR, now())
                .ok_or("not an address")?;
        self.client
            .update_item()
            .table_name(&self.users)
            .set_key(Some(schema::failures_key(&counter)))
            .update_expression(
                "SET failures = if_not_exists(failures, :zero) + :one, expires_at = :expires",
            )
            .condition_expression("attribute_not_exists(failures) OR failures < :limit")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(u64::from(REGISTRATIONS_PER_HOUR)))
            .expression_attribute_values(":expires", n(window_end))
            .send()
            .await?;
        let id = unique(i);
        let email = format!("{id}@example.com");
        let code = self.new_code(MailKind::VerifyEmail, &email)?;
        let user = NewUser {
            user_id: id.clone(),
            email,
            password_hash: "$2b$12$not-a-real-hash".to_owned(),
            registered_on: "2026-01-01T00:00:00Z".to_owned(),
            roles: auth::roles::Roles::default(),
            email_verified: false,
        };
        let first = session(&id, "first");
        // A client request token is at most 36 characters.
        let token: String = id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .rev()
            .take(36)
            .collect();
        self.client
            .transact_write_items()
            .transact_items(self.put_new(schema::profile_item(&user))?)
            .transact_items(self.put_new(schema::login_item(&user))?)
            .transact_items(self.put_new(schema::session_item(&first))?)
            .transact_items(self.put(schema::code_item(&code))?)
            .transact_items(self.put_mail(&code.mail)?)
            .transact_items(self.put_event(&events::user_created(&user, now()))?)
            .transact_items(self.put_event(&events::session_created(&first))?)
            .client_request_token(token)
            .send()
            .await?;
        Ok(())
    }

    async fn sessions(&self, i: u32) -> Result<(), Error> {
        self.authenticate(i).await?;
        self.session_ids().await?;
        Ok(())
    }

    async fn revoke_session(&self, i: u32, session_id: &str) -> Result<(), Error> {
        self.authenticate(i).await?;
        let end = Delete::builder()
            .table_name(&self.users)
            .set_key(Some(schema::session_key(&self.user_id, session_id)))
            .condition_expression(LIVE_SESSION)
            .expression_attribute_values(":now", n(now()))
            .build()?;
        let ended = events::session_ended(&self.user_id, session_id, SessionEnd::Revoked, now());
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(end).build())
            .transact_items(self.put_event(&ended)?)
            .send()
            .await?;
        Ok(())
    }

    async fn password(&self, i: u32) -> Result<(), Error> {
        self.authenticate(i).await?;
        let account = account(&self.email);
        let old = self.begin_attempt(std::slice::from_ref(&account)).await?;
        self.end_other_sessions().await?;
        let update = Update::builder()
            .table_name(&self.users)
            .set_key(Some(schema::login_key(&self.email)))
            .update_expression("SET password_hash = :new")
            .condition_expression("password_hash = :old")
            .expression_attribute_values(":new", s(unique(i)))
            .expression_attribute_values(":old", s(old))
            .build()?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(self.clear(&account)?)
            .send()
            .await?;
        // The second sweep, for a session a login opened meanwhile.
        self.end_other_sessions().await
    }

    async fn refresh(&self, i: u32) -> Result<(), Error> {
        let key = schema::session_key(&self.user_id, &self.session_id);
        let read = self
            .client
            .get_item()
            .table_name(&self.users)
            .set_key(Some(key.clone()))
            .consistent_read(true)
            .send()
            .await?;
        let old = string_of(read.item().ok_or("no such session")?, "refresh_hash")?;
        self.client
            .update_item()
            .table_name(&self.users)
            .set_key(Some(key))
            .update_expression(
                "SET refresh_hash = :new, previous_hash = :old, rotated_at = :now, \
                 last_used_at = :now",
            )
            .condition_expression("refresh_hash = :old")
            .expression_attribute_values(":new", s(unique(i)))
            .expression_attribute_values(":old", s(old))
            .expression_attribute_values(":now", n(now()))
            .send()
            .await?;
        Ok(())
    }

    /// One operation, timed without what has to be written before it.
    async fn call(&self, op: &str, i: u32) -> Result<Duration, Error> {
        match op {
            "status" => timed(self.authenticate(i)).await,
            "login" => timed(self.login(i)).await,
            "register" => timed(self.register(i)).await,
            "refresh" => timed(self.refresh(i)).await,
            "sessions" => timed(self.sessions(i)).await,
            "forgot-password" => timed(self.mail_code(MailKind::ResetPassword)).await,
            "reset-password" => timed(self.wrong_code(MailKind::ResetPassword)).await,
            "verify-email" => timed(self.wrong_code(MailKind::VerifyEmail)).await,
            "resend-verification" => timed(self.resend_verification(i)).await,
            "logout" => {
                let session_id = self.prepare_session(i).await?;
                timed(self.logout(i, &session_id)).await
            }
            "revoke-session" => {
                let session_id = self.prepare_session(i).await?;
                timed(self.revoke_session(i, &session_id)).await
            }
            "password" => {
                // Another device's session, for the change to end.
                self.prepare_session(i).await?;
                timed(self.password(i)).await
            }
            other => Err(format!("unknown operation {other}; one of {OPERATIONS}").into()),
        }
    }
}

async fn client() -> Client {
    // A config of its own each: clients of one config share its connections.
    Client::new(&aws_config::defaults(BehaviorVersion::latest()).load().await)
}

/// `secret COUNT SECRET_ID`: GetSecretValue of SECRET_ID, COUNT times, on a
/// client of its own (endpoint from AWS_ENDPOINT_URL_SECRETS_MANAGER, as for
/// the functions): the first line is what a cold start's read of the keys
/// costs at the least, its connection included.
async fn secret_floor(count: u32, secret_id: &str) -> Result<(), Error> {
    let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    for _ in 0..count {
        let started = std::time::Instant::now();
        client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await?;
        println!("{:.3}", started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let (Some("secret"), Some(count), Some(secret_id)) = (
        args.first().map(String::as_str),
        args.get(1).and_then(|c| c.parse::<u32>().ok()),
        args.get(2),
    ) {
        return secret_floor(count.min(10_000), secret_id).await;
    }
    let (op, count, [user_id, session_id, email]) = match (
        args.first(),
        args.get(1).and_then(|c| c.parse::<u32>().ok()),
        args.get(2..5),
    ) {
        (Some(op), Some(count), Some([user_id, session_id, email])) => (
            op.as_str(),
            count.min(10_000),
            [user_id, session_id, email].map(String::clone),
        ),
        _ => {
            eprintln!("usage: bench-dynamo-floor {OPERATIONS} COUNT USER_ID SESSION_ID EMAIL");
            std::process::exit(2);
        }
    };
    let config = Config::from_env()?;
    let floor = Floor {
        client: client().await,
        setup: client().await,
        users: config.users_table.clone(),
        revoked: config.revoked_tokens_table.clone(),
        outbox: config.outbox_table.clone(),
        code_key: CodeKey::new(&config.refresh_token_secret),
        config,
        user_id,
        session_id,
        email,
    };
    for i in 0..count {
        let elapsed = floor.call(op, i).await?;
        println!("{:.3}", elapsed.as_secs_f64() * 1000.0);
    }
    Ok(())
}
