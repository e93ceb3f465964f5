//! `admin`: makes an account an admin, creating it if need be, or takes the
//! role away: the seed tutorial's `flask create-admin`, for the users table
//! in DynamoDB. See `admin --help`.
//!
//! The password never comes from the command line or the environment (both
//! show in `ps` and shell history): from a prompt without echo, or one line
//! of stdin when stdin is not a terminal. It is checked as the API checks it.

use auth::config::DEFAULT_ACCOUNT_LOGIN_FAILURES_BEFORE_DELAY;
use auth::credentials::{check_password, normalize_email, password};
use auth::endpoint::password_attempt::PasswordAttempt;
use auth::store::dynamo::{DynamoStore, sdk_config};
use auth::store::{AccountChange, LoginRecord, NewUser, Registration, Store};
use auth::throttle::account_counter;
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

const USAGE: &str = "\
usage: admin create-admin EMAIL
       admin demote EMAIL

  create-admin  makes EMAIL's account an admin. Asks for its password (or
                reads one line of stdin when it is not a terminal). With no
                account yet, creates one (email verified, no session) with
                that password; with an account, the password must be the
                account's own (checked and throttled like a login), and every
                session of the account ends, so that only someone who knows
                the password holds admin tokens. Running it again on an admin
                changes nothing.
  demote        takes the admin role from EMAIL's account.

The users table is USERS_TABLE, with the standard AWS configuration
(AWS_REGION, credentials, AWS_ENDPOINT_URL_DYNAMODB for DynamoDB Local);
BCRYPT_COST as the functions have it (default 12).
";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, email) = match args.as_slice() {
        [command, email] if command == "create-admin" || command == "demote" => (command, email),
        [flag] if flag == "--help" || flag == "-h" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(command, email).await {
        Ok(done) => {
            println!("{done}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("admin: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: &str, email: &str) -> Result<String, String> {
    let email = normalize_email(email).map_err(message)?;
    let users_table = std::env::var("USERS_TABLE")
        .ok()
        .filter(|table| !table.trim().is_empty())
        .ok_or("USERS_TABLE is required but not set")?;
    let sdk = sdk_config().await;
    let store = DynamoStore::users_only(aws_sdk_dynamodb::Client::new(&sdk), users_table);
    match (command, account(&store, &email).await?) {
        ("demote", None) => Err(format!("no account for {email}")),
        ("demote", Some(record)) => {
            set_admin(&store, &record, &email, false).await?;
            Ok(format!("demoted {}", record.user_id))
        }
        (_, Some(record)) if record.roles.is_admin() => {
            Ok(format!("already admin {}", record.user_id))
        }
        (_, existing) => {
            let password = read_password(&email)?;
            check_password(&password).map_err(message)?;
            match existing {
                Some(record) => promote(&store, &record, &email, &password).await,
                None => create_admin(&store, &email, &password).await,
            }
        }
    }
}

/// Promotes an existing account, only for its own password: whoever
/// registered the address first (an attacker who guessed it, say) must not
/// become admin by the operator's run. The check is a login's: claimed on the
/// account's failed-login counter before bcrypt, refused while it makes
/// logins wait. Then every session of the account ends: a token taken before
/// the promotion, by whoever held the account, carries no admin role.
async fn promote(
    store: &DynamoStore,
    record: &LoginRecord,
    email: &str,
    password: &str,
) -> Result<String, String> {
    let free = std::env::var("ACCOUNT_LOGIN_FAILURES_BEFORE_DELAY")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(DEFAULT_ACCOUNT_LOGIN_FAILURES_BEFORE_DELAY);
    let account = account_counter(email, u32::try_from(free).unwrap_or(u32::MAX));
    let (checked, attempt) = PasswordAttempt::begin(store, email, account, Vec::new())
        .await
        .map_err(|error| match error {
            auth::ApiError::TooManyLogins { retry_after } => format!(
                "too many wrong passwords for {email}: try again in {retry_after} s; nothing changed"
            ),
            other => message(other),
        })?;
    let cost = auth::config::bcrypt_cost(&|name| std::env::var(name).ok()).map_err(|e| e.0)?;
    let hash = checked.as_ref().map(|record| record.password_hash.as_str());
    let same_account = checked.as_ref().map(|checked| &checked.user_id) == Some(&record.user_id);
    let (true, Some(hash)) = (same_account, hash) else {
        return Err(not_the_password(email));
    };
    if !password::verify(password, Some(hash), cost).await {
        return Err(not_the_password(email));
    }
    // Settled as a login's success is: the failure claimed before bcrypt is
    // taken back (the hash written over itself, only while it is still the
    // one checked), so a promotion never counts against the owner's logins.
    let settled = store
        .set_password_hash(
            &record.user_id,
            &attempt.verified(email, hash),
            hash,
            Default::default(),
        )
        .await
        .map_err(|error| error.0)?;
    if !settled {
        return Err(format!(
            "the password of {email} changed meanwhile; run again"
        ));
    }
    set_admin(store, record, email, true).await?;
    store
        .delete_sessions(&record.user_id, None)
        .await
        .map_err(|error| error.0)?;
    Ok(format!("promoted {} (its sessions ended)", record.user_id))
}

fn not_the_password(email: &str) -> String {
    format!(
        "that is not the password of {email}'s account: nothing changed \
         (an account registered by someone else must not be promoted; see docs/operating.md)"
    )
}

/// The account registered under `email`, if any.
async fn account(store: &DynamoStore, email: &str) -> Result<Option<LoginRecord>, String> {
    let attempt = store
        .login_attempt(email, &[], auth::now_millis())
        .await
        .map_err(|error| error.0)?;
    Ok(attempt.record)
}

async fn set_admin(
    store: &DynamoStore,
    record: &LoginRecord,
    email: &str,
    admin: bool,
) -> Result<(), String> {
    // The admin role added or taken away; any other roles stay.
    let roles = record.roles.with(auth::roles::ADMIN, admin);
    let changed = store
        .change_account(&record.user_id, email, AccountChange::Roles(roles))
        .await
        .map_err(|error| error.0)?;
    changed
        .then_some(())
        .ok_or_else(|| format!("the account of {email} changed meanwhile; run again"))
}

async fn create_admin(store: &DynamoStore, email: &str, password: &str) -> Result<String, String> {
    let cost = auth::config::bcrypt_cost(&|name| std::env::var(name).ok()).map_err(|e| e.0)?;
    let user = NewUser {
        user_id: auth::ids::new_user_id(),
        email: email.to_owned(),
        password_hash: password::hash(password, cost).await.map_err(message)?,
        registered_on: auth::rfc3339(auth::now()),
        roles: auth::roles::Roles::from_admin_flag(true),
        // The operator vouches for the address: the first admin must be able
        // to log in when REQUIRE_VERIFIED_EMAIL is on.
        email_verified: true,
    };
    let registration = store
        .create_user(&user, None, None)
        .await
        .map_err(|error| error.0)?;
    match registration {
        Registration::Created => Ok(format!("created admin {}", user.user_id)),
        // Registered between our read and our write: promote that account,
        // for its own password only.
        Registration::EmailTaken => match account(store, email).await? {
            Some(record) => promote(store, &record, email, password).await,
            None => Err(format!(
                "the account of {email} changed meanwhile; run again"
            )),
        },
    }
}

/// From a prompt without echo (twice, to catch a typo), else stdin's first line.
fn read_password(email: &str) -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        let prompt = format!("password for {email}: ");
        let first = rpassword::prompt_password(prompt).map_err(|e| e.to_string())?;
        let again = rpassword::prompt_password("again: ").map_err(|e| e.to_string())?;
        if first != again {
            return Err("the two passwords differ".into());
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// The API's own message for an input it refuses (400s and 503s alike).
fn message(error: auth::ApiError) -> String {
    match error {
        auth::ApiError::BadRequest(message) => message,
        auth::ApiError::Unavailable(detail) => detail,
        other => format!("{other:?}"),
    }
}
