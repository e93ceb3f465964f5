//! Erasing an account, for an admin's `DELETE /admin/users/{id}` and the
//! owner's `DELETE /auth/account` alike.

use super::App;
use crate::http::error::ApiError;
use crate::store::access::{Access, Items};
use crate::store::{Erasure, Profile, Store, Verified};

/// Erasing an account's own items: profile, email claim, codes, failed
/// logins, second factor, and its passkeys with their credential ids'
/// claims, and its identities at other providers with their claims (listed
/// first; its sessions are swept apart).
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

/// Erases `profile`'s account: its sessions, its passkeys, then in one transaction its
/// profile, email claim, pending codes, second factor and failed-login counter, then any
/// session a login opened meanwhile. Its tokens fail their next check (no
/// profile), its refresh tokens are dead (no session), and the email can
/// register again. A 503 part-way leaves the account in place, to be erased
/// by a retry. `verified`: the owner's password check, which must still hold.
/// `false`: the account was gone, or its password changed, meanwhile.
pub async fn erase<S: Store>(
    app: &App<S>,
    profile: &Profile,
    verified: Option<&Verified<'_>>,
) -> Result<bool, ApiError> {
    let account = crate::throttle::account_counter(
        &profile.email,
        app.config.account_login_failures_before_delay,
    );
    app.store.delete_sessions(&profile.user_id, None).await?;
    // Passkeys first: a retry after a 503 finds the account still there.
    app.store.delete_passkeys(&profile.user_id).await?;
    // Its links to other providers, so the identities can sign up again.
    for identity in app.store.identities(&profile.user_id).await? {
        app.store
            .unlink_identity(&profile.user_id, &identity)
            .await?;
    }
    let erasure = Erasure {
        user_id: &profile.user_id,
        email: &profile.email,
        account: &account,
        verified,
    };
    if !app.store.erase_account(&erasure).await? {
        return Ok(false);
    }
    app.store.delete_sessions(&profile.user_id, None).await?;
    Ok(true)
}
