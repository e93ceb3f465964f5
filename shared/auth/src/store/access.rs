//! What a call may do in storage, in the words both its endpoint's
//! description ([`crate::endpoint::Description`]) and template.yaml's IAM
//! policies use: an action, a table, and on the users table which items (by
//! their partition key's prefix, IAM's `dynamodb:LeadingKeys`).
//! `tests/iam.rs` holds each function's policy against its description.

/// A table (or index) as template.yaml names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Table {
    Users,
    /// The users table's listing index.
    UsersListing,
    RevokedTokens,
    Outbox,
}

/// A kind of item of the users table (or its listing index), by its
/// partition key: [`crate::store::dynamo::schema::leading_keys`] spells each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Items {
    /// Profiles.
    User,
    /// Login records (the email's claim with the password hash).
    Email,
    Sessions,
    /// Mailed one-time codes.
    Code,
    /// Failed-login counters of accounts.
    AccountFailures,
    /// Registrations counted per source address.
    Registrations,
    /// Code mails counted per address and source.
    Mails,
    /// Every counter: an account's or a source address's failures.
    AnyCounter,
    /// The listing index's one partition.
    Listed,
    /// Second factors (TOTP and recovery codes).
    SecondFactor,
    /// An account's passkeys.
    Passkeys,
    /// Credential ids' owner claims.
    PasskeyOwners,
    /// Passkey ceremonies in progress.
    Ceremonies,
    /// Failed passkey sign-ins counted per credential.
    PasskeyFailures,
    /// Passkey sign-ins started, counted per source address and hour.
    CeremonyCounts,
    /// Sign-ins at another provider in progress (their states).
    OauthStates,
    /// One-time codes handed to apps after such a sign-in.
    AppCodes,
    /// (provider, `sub`) claims: which account an identity belongs to.
    IdentityOwners,
    /// An account's linked identities.
    Identities,
    /// Sign-ins with a provider started, counted per source address and hour.
    OauthStartCounts,
}

/// One action on one table, for the items of `items` (empty: any item, on
/// the tables keyed by a random id, where no prefix could narrow it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// The DynamoDB action, as IAM names it without `dynamodb:`.
    pub action: &'static str,
    pub table: Table,
    pub items: &'static [Items],
}

impl Access {
    pub const fn users(action: &'static str, items: &'static [Items]) -> Self {
        Self {
            action,
            table: Table::Users,
            items,
        }
    }

    pub const fn revoked(action: &'static str) -> Self {
        Self {
            action,
            table: Table::RevokedTokens,
            items: &[],
        }
    }

    pub const fn outbox(action: &'static str) -> Self {
        Self {
            action,
            table: Table::Outbox,
            items: &[],
        }
    }

    pub const fn listing(action: &'static str) -> Self {
        Self {
            action,
            table: Table::UsersListing,
            items: &[Items::Listed],
        }
    }
}
