//! Erasing an account, for an admin's `DELETE /admin/users/{id}` and the
//! owner's `DELETE /auth/account` alike.

use super::App;
use super::session_tokens::ended_with_the_change;
use crate::http::error::ApiError;
use crate::store::access::{Access, Items};
use crate::store::{Ending, Erasure, Identity, Profile, Session, Store, Verified};

/// Erasing an account's own items: profile, email claim, codes, failed
/// logins, second factor, its passkeys with their credential ids' claims,
/// and its identities at other providers with their claims (listed first).
/// Its sessions, listed with them, end in the
/// erasure's transaction: their Query and DeleteItem are
/// [`super::session_tokens::SESSION_SWEEP`]'s, which the sweep after it
/// (and, past one transaction's worth, before it) needs anyway.
pub const ERASURE: &[Access] = &[
    Access::users("Query", &[Items::Passkeys, Items::Identities]),
    // The events: `passkey.removed` with each passkey, `user.deleted`.
    Access::outbox("PutItem"),
    Access::users(
        "DeleteItem",
        &[
            Items::User,
            Items::Email,
            Items::Code,
            Items::AccountFailures,
            Items::SecondFactor,
            Items::Passkeys,
            Items::PasskeyOwners,
            Items::Identities,
            Items::IdentityOwners,
        ],
    ),
];

/// What an erasure lists first, alongside the reads before it (issue 29):
/// the account's sessions, expired ones too, whether it has passkeys, and
/// its identities at other providers.
pub struct Listed {
    sessions: Vec<Session>,
    passkeys: bool,
    identities: Vec<Identity>,
}

/// [`Listed`] for `user_id`: three queries, sent together.
pub async fn listed<S: Store>(app: &App<S>, user_id: &str) -> Result<Listed, ApiError> {
    // Boxed: three SDK futures side by side are deep, and the handlers'
    // futures that hold this one are deep already.
    let (sessions, passkeys, identities) = Box::pin(futures_util::future::try_join3(
        app.store.sessions(user_id, 0),
        app.store.passkeys(user_id),
        app.store.identities(user_id),
    ))
    .await?;
    Ok(Listed {
        sessions,
        passkeys: !passkeys.is_empty(),
        identities,
    })
}

/// Erases `profile`'s account: its passkeys (if `listed` found any), then in
/// one transaction its profile, email claim, pending codes, second factor,
/// failed-login counter and the sessions `listed` found, then any session a
/// login opened meanwhile. Its tokens fail their next check (no profile),
/// its refresh tokens are dead (no session), and the email can register
/// again. A 503 part-way leaves the account in place, to be erased by a
/// retry. `verified`: the owner's password check, which must still hold.
/// `false`: the account was gone, or its password changed, meanwhile.
pub async fn erase<S: Store>(
    app: &App<S>,
    profile: &Profile,
    verified: Option<&Verified<'_>>,
    listed: Listed,
) -> Result<bool, ApiError> {
    let account = crate::throttle::account_counter(
        &profile.email,
        app.config.account_login_failures_before_delay,
    );
    let user_id = &profile.user_id;
    let ids = ended_with_the_change(app, user_id, listed.sessions, None).await?;
    // Passkeys first: a retry after a 503 finds the account still there.
    if listed.passkeys {
        app.store.delete_passkeys(user_id).await?;
    }
    // Its links to other providers, so the identities can sign up again.
    for identity in &listed.identities {
        Box::pin(app.store.unlink_identity(user_id, identity)).await?;
    }
    let erasure = Erasure {
        user_id,
        email: &profile.email,
        account: &account,
        verified,
        ending: Ending {
            ids: &ids,
            ..Ending::default()
        },
    };
    if !app.store.erase_account(&erasure).await? {
        return Ok(false);
    }
    app.store.delete_sessions(user_id, None).await?;
    Ok(true)
}
