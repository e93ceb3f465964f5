//! The users and revoked-tokens tables' key schema and item codecs: the one
//! place where a key prefix or an attribute name is spelled.
//!
//! Users table (partition key `pk`, sort key `sk`; TTL attribute `expires_at`):
//! - `USER#<id>` / `PROFILE`: the profile (`user_id`, `email`, `admin`,
//!   `disabled`, `registered_on`, `email_verified`), and its place in the
//!   listing index [`USERS_INDEX`] (`listing`, `registration`);
//! - `EMAIL#<email>` / `LOGIN`: the login record (`user_id`, `password_hash`,
//!   `email_verified`, `admin`, `disabled`). Its
//!   key makes the email unique, and login finds all it needs in this one item;
//! - `SESSION#<user id>` / `<session id>`: one signed-in device, with the hash
//!   of its live refresh token. A user's sessions are one `Query` away, and a
//!   token check reads profile and session in the same `BatchGetItem`. They
//!   have a partition prefix of their own so that IAM can let login and
//!   refresh write sessions without letting them write profiles (`admin`).
//!   `SESSION#<user id>` / `#` ([`LAST_OPENED`]): the last session a sign-in
//!   opened, which a change that ends sessions checks (issue 29);
//! - `CODE#<email>` / `<kind>` (`verify_email`, `reset_password`,
//!   `email_change`): the address's pending one-time code of that kind
//!   (`code_hash`, `wrong_tries`, `expires_at`), read together with the login
//!   record when it is used; a pending change of address adds `new_email`
//!   and `user_id` (see `email_change.rs`);
//! - `MFA#<user id>` / `TOTP`: the second factor (`sealed_secret`, `on`,
//!   `last_step`, `recovery` hashes), see [`super::second_factor`]; the
//!   login record's `mfa` copies `on`;
//! - `PASSKEYS#<user id>` / `<credential id>`: one passkey (`name`,
//!   `passkey` as webauthn-rs serialised it, `user_handle`, `created_at`,
//!   `last_used_at`, `backed_up`, `backup_eligible`, `counter`): an account's
//!   passkeys are one `Query`; `PASSKEY#<credential id>` / `OWNER`
//!   (`user_id`), written with it under `attribute_not_exists`, makes a
//!   credential id unique to anyone and finds a usernameless sign-in's
//!   account; `CEREMONY#<ceremony id>` / `PASSKEY` (`kind`, `state`,
//!   `user_id`, `user_handle`, `expires_at`): a ceremony in progress, taken
//!   by a conditional delete (see `passkeys.rs`);
//! - `FAILED#<counter key>` / `LOGIN`: failed logins of an account or a source
//!   address (`failures`, `last_failure_ms`), read together with the login
//!   record; `expires_at` forgets them after the failure window.
//!
//! Outbox table (partition key `id`): one item per mail owed, see
//! [`crate::mail::outbox`] ([`outbox_item`]), and one per webhook event
//! owed (`kind` `event`, [`event_item`]), see [`crate::webhooks::event`].
//!
//! Revoked-tokens table (partition key `jti`): one item per revoked token, with
//! `expires_at` (epoch seconds, the table's TTL attribute) set to the token's
//! `exp`, after which the entry is meaningless and DynamoDB may delete it.
//!
//! The profile, the login record and the sessions carry `format`: see
//! [`super::formats`] for what older versions wrote.
//!
//! DynamoDB deletes expired items up to days late, so every read checks
//! `expires_at` itself.

use super::federation;
use super::formats::{FORMAT, ITEM_FORMAT};
pub use super::outbox_items::{
    EVENT_KIND, OutboxEvent, event_item, is_event_item, outbox_event_from, outbox_item, outbox_key,
    outbox_mail_from,
};
pub use super::session_items::{
    LAST_OPENED, failures_from, last_opened_item, last_opened_key, session_from, session_item,
};
use crate::mail::outbox::MailKind;
use crate::metadata;
use crate::roles::Roles;
use crate::store::access::Items;
use crate::store::{
    LoginRecord, NewCode, NewUser, PageCursor, Profile, StoreError, StoreResult, StoredCode,
};
use crate::throttle::{self, Counter};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// One item, or one key, as the SDK sends it.
pub type Item = HashMap<String, AttributeValue>;

const USER_PREFIX: &str = "USER#";
const EMAIL_PREFIX: &str = "EMAIL#";
const FAILED_PREFIX: &str = "FAILED#";
const SESSION_PREFIX: &str = "SESSION#";
const CODE_PREFIX: &str = "CODE#";
const MFA_PREFIX: &str = "MFA#";
const PASSKEYS_PREFIX: &str = "PASSKEYS#";
const PASSKEY_OWNER_PREFIX: &str = "PASSKEY#";
const CEREMONY_PREFIX: &str = "CEREMONY#";
pub const PROFILE: &str = "PROFILE";
pub const LOGIN: &str = "LOGIN";

/// The users table's index of the profiles in registration order, for
/// `GET /admin/users`: partition key `listing` (one value, [`LISTED`], that
/// only profiles carry), sort key `registration` ([`registration`]).
pub const USERS_INDEX: &str = "UsersByRegistration";
pub const LISTED: &str = "USER";

/// A profile's sort key in [`USERS_INDEX`]: RFC 3339 UTC times of one width
/// sort as text in time order, and the id breaks ties.
pub fn registration(registered_on: &str, user_id: &str) -> String {
    format!("{registered_on}#{user_id}")
}

pub fn user_pk(user_id: &str) -> String {
    format!("{USER_PREFIX}{user_id}")
}

pub fn email_pk(email: &str) -> String {
    format!("{EMAIL_PREFIX}{email}")
}

/// The partition of a user's sessions.
pub fn sessions_pk(user_id: &str) -> String {
    format!("{SESSION_PREFIX}{user_id}")
}

/// The partition of a user's passkeys.
pub fn passkeys_pk(user_id: &str) -> String {
    format!("{PASSKEYS_PREFIX}{user_id}")
}

pub fn passkey_key(user_id: &str, credential_id: &str) -> Item {
    key(passkeys_pk(user_id), credential_id.to_owned())
}

/// The claim of a credential id, whoever owns it.
pub fn passkey_owner_key(credential_id: &str) -> Item {
    key(
        format!("{PASSKEY_OWNER_PREFIX}{credential_id}"),
        "OWNER".to_owned(),
    )
}

pub fn ceremony_key(ceremony_id: &str) -> Item {
    key(
        format!("{CEREMONY_PREFIX}{ceremony_id}"),
        "PASSKEY".to_owned(),
    )
}

pub fn failures_pk(counter: &Counter) -> String {
    format!("{FAILED_PREFIX}{}", counter.key)
}

/// The `dynamodb:LeadingKeys` pattern of every item of a kind, as
/// template.yaml's policies write it.
pub fn leading_keys(items: Items) -> String {
    let counters = |kind: &str| format!("{FAILED_PREFIX}{kind}:*");
    match items {
        Items::User => user_pk("*"),
        Items::Email => email_pk("*"),
        Items::Sessions => sessions_pk("*"),
        Items::Code => code_pk("*"),
        Items::AccountFailures => counters(throttle::ACCOUNT_KIND),
        Items::Registrations => counters(throttle::REGISTRATION_KIND),
        Items::Mails => counters(throttle::MAIL_KIND),
        Items::AnyCounter => format!("{FAILED_PREFIX}*"),
        Items::Listed => LISTED.to_owned(),
        Items::SecondFactor => format!("{MFA_PREFIX}*"),
        Items::Passkeys => passkeys_pk("*"),
        Items::PasskeyOwners => format!("{PASSKEY_OWNER_PREFIX}*"),
        Items::Ceremonies => format!("{CEREMONY_PREFIX}*"),
        Items::PasskeyFailures => counters(throttle::PASSKEY_KIND),
        Items::CeremonyCounts => counters(throttle::CEREMONY_KIND),
        Items::OauthStates => format!("{}*", federation::STATE_PREFIX),
        Items::AppCodes => format!("{}*", federation::APP_CODE_PREFIX),
        Items::IdentityOwners => format!("{}*", federation::OWNER_PREFIX),
        Items::Identities => format!("{}*", federation::IDENTITIES_PREFIX),
        Items::OauthStartCounts => counters(throttle::OAUTH_KIND),
    }
}

/// The user id of a profile item's partition key (`None` for any other item).
pub fn user_id_of_pk(pk: &str) -> Option<&str> {
    pk.strip_prefix(USER_PREFIX)
}

/// The email of a login record's partition key (`None` for any other item).
pub fn email_of_pk(pk: &str) -> Option<&str> {
    pk.strip_prefix(EMAIL_PREFIX)
}

pub fn key(pk: String, sk: String) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

pub fn profile_key(user_id: &str) -> Item {
    key(user_pk(user_id), PROFILE.to_owned())
}

pub fn login_key(email: &str) -> Item {
    key(email_pk(email), LOGIN.to_owned())
}

pub fn session_key(user_id: &str, session_id: &str) -> Item {
    key(sessions_pk(user_id), session_id.to_owned())
}

pub fn failures_key(counter: &Counter) -> Item {
    key(failures_pk(counter), LOGIN.to_owned())
}

/// The partition of an address's pending codes.
pub fn code_pk(email: &str) -> String {
    format!("{CODE_PREFIX}{email}")
}

pub fn code_key(kind: MailKind, email: &str) -> Item {
    key(code_pk(email), kind.as_str().to_owned())
}

/// The key of an account's second factor ([`super::second_factor`]).
pub fn second_factor_key(user_id: &str) -> Item {
    key(format!("{MFA_PREFIX}{user_id}"), "TOTP".to_owned())
}

/// The key of a sign-in waiting for its second factor, by the hash of its
/// token's secret.
pub fn challenge_key(user_id: &str, challenge_hash: &str) -> Item {
    key(
        format!("{MFA_PREFIX}{user_id}"),
        format!("CHALLENGE#{challenge_hash}"),
    )
}

/// The revoked-tokens table's key.
pub fn revoked_key(jti: &str) -> Item {
    HashMap::from([("jti".to_owned(), s(jti))])
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn string_of(item: &Item, name: &str) -> StoreResult<String> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(StoreError(format!("stored item lacks string {name}"))),
    }
}

pub fn number_of(item: &Item, name: &str) -> Option<u64> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().ok(),
        _ => None,
    }
}

/// Whether `item` has the key `key` (both of its attributes).
pub fn has_key(item: &Item, key: &Item) -> bool {
    key.iter()
        .all(|(name, value)| item.get(name) == Some(value))
}

pub fn profile_item(user: &NewUser) -> Item {
    let mut item = profile_key(&user.user_id);
    item.extend([
        ("user_id".to_owned(), s(&user.user_id)),
        ("email".to_owned(), s(&user.email)),
        ("disabled".to_owned(), AttributeValue::Bool(false)),
        ("registered_on".to_owned(), s(&user.registered_on)),
        (
            "email_verified".to_owned(),
            AttributeValue::Bool(user.email_verified),
        ),
        ("listing".to_owned(), s(LISTED)),
        (
            "registration".to_owned(),
            s(registration(&user.registered_on, &user.user_id)),
        ),
        (FORMAT.to_owned(), n(ITEM_FORMAT)),
    ]);
    item.extend(roles_attributes(&user.roles));
    item
}

/// The key [`USERS_INDEX`] continues a query after: the index's key and the
/// table's key of the cursor's profile.
pub fn page_start(cursor: &PageCursor) -> Item {
    let mut item = profile_key(&cursor.user_id);
    item.extend([
        ("listing".to_owned(), s(LISTED)),
        (
            "registration".to_owned(),
            s(registration(&cursor.registered_on, &cursor.user_id)),
        ),
    ]);
    item
}

/// The roles of a profile or login record: `roles` (a string set), or for
/// an item written before roles, its `admin` flag.
fn roles_of(item: &Item) -> Roles {
    match item.get("roles") {
        Some(AttributeValue::Ss(names)) => Roles::from_stored(names.iter().cloned()),
        _ => Roles::from_admin_flag(flag(item, "admin")),
    }
}

/// How roles are stored: `roles` (a string set, absent when empty: DynamoDB
/// has no empty set) and, for code of earlier releases running beside
/// this one during a deploy, the `admin` flag they read.
pub fn roles_attributes(roles: &Roles) -> Vec<(String, AttributeValue)> {
    let mut attributes = vec![("admin".to_owned(), AttributeValue::Bool(roles.is_admin()))];
    if !roles.names().is_empty() {
        attributes.push((
            "roles".to_owned(),
            AttributeValue::Ss(roles.names().to_vec()),
        ));
    }
    attributes
}

/// Whether a boolean attribute is there and true (absent: false, as for
/// accounts stored before the attribute existed).
fn flag(item: &Item, name: &str) -> bool {
    matches!(item.get(name), Some(AttributeValue::Bool(true)))
}

pub fn profile_from(item: &Item) -> StoreResult<Profile> {
    Ok(Profile {
        user_id: string_of(item, "user_id")?,
        email: string_of(item, "email")?,
        roles: roles_of(item),
        registered_on: string_of(item, "registered_on")?,
        email_verified: flag(item, "email_verified"),
        disabled: flag(item, "disabled"),
        user_metadata: metadata::from_stored(string_of(item, "user_metadata").ok().as_deref()),
        app_metadata: metadata::from_stored(string_of(item, "app_metadata").ok().as_deref()),
    })
}

pub fn login_item(user: &NewUser) -> Item {
    let mut item = login_key(&user.email);
    item.extend([
        ("user_id".to_owned(), s(&user.user_id)),
        ("password_hash".to_owned(), s(&user.password_hash)),
        (
            "email_verified".to_owned(),
            AttributeValue::Bool(user.email_verified),
        ),
        ("disabled".to_owned(), AttributeValue::Bool(false)),
        (FORMAT.to_owned(), n(ITEM_FORMAT)),
    ]);
    item.extend(roles_attributes(&user.roles));
    item
}

pub fn login_record_from(item: &Item) -> StoreResult<LoginRecord> {
    Ok(LoginRecord {
        user_id: string_of(item, "user_id")?,
        password_hash: string_of(item, "password_hash")?,
        email_verified: flag(item, "email_verified"),
        roles: roles_of(item),
        disabled: flag(item, "disabled"),
        mfa: flag(item, "mfa"),
    })
}

pub fn code_item(code: &NewCode) -> Item {
    let mut item = code_key(code.mail.kind, &code.mail.to);
    item.extend([
        ("code_hash".to_owned(), s(&code.code_hash)),
        ("wrong_tries".to_owned(), n(0)),
        ("expires_at".to_owned(), n(code.mail.expires_at)),
    ]);
    item
}

/// A stored code; one without a readable expiry is treated as expired, and
/// unreadable tries as all used up (fail closed).
pub fn stored_code_from(item: &Item) -> StoreResult<StoredCode> {
    Ok(StoredCode {
        code_hash: string_of(item, "code_hash")?,
        wrong_tries: number_of(item, "wrong_tries")
            .map_or(u32::MAX, |tries| u32::try_from(tries).unwrap_or(u32::MAX)),
        expires_at: number_of(item, "expires_at").unwrap_or(0),
    })
}
