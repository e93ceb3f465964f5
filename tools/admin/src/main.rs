//! `admin`: makes an account an admin, creating it if need be, or takes the
//! role away: the seed tutorial's `flask create-admin`, for the users table
//! in DynamoDB. See `admin --help`.
//!
//! The password never comes from the command line or the environment (both
//! show in `ps` and shell history): from a prompt without echo, or one line
//! of stdin when stdin is not a terminal. It is checked as the API checks it.

use auth::credentials::{check_password, normalize_email};
use auth::store::dynamo::{DynamoStore, sdk_config};
use auth::store::{AccountChange, LoginRecord, NewUser, Registration, Store};
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

const USAGE: &str = "\
usage: admin create-admin EMAIL
       admin demote EMAIL

  create-admin  makes EMAIL's account an admin; with no account yet, creates
                one (email verified, no session) after asking for its
                password, or reading one line of stdin when it is not a
                terminal. Running it again changes nothing.
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
        (_, Some(record)) if record.admin => Ok(format!("already admin {}", record.user_id)),
        (_, Some(record)) => {
            set_admin(&store, &record, &email, true).await?;
            Ok(format!("promoted {}", record.user_id))
        }
        (_, None) => create_admin(&store, &email).await,
    }
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
    let changed = store
        .change_account(&record.user_id, email, AccountChange::Admin(admin))
        .await
        .map_err(|error| error.0)?;
    changed
        .then_some(())
        .ok_or_else(|| format!("the account of {email} changed meanwhile; run again"))
}

async fn create_admin(store: &DynamoStore, email: &str) -> Result<String, String> {
    let password = read_password(email)?;
    check_password(&password).map_err(message)?;
    let cost = auth::config::bcrypt_cost(&|name| std::env::var(name).ok()).map_err(|e| e.0)?;
    let user = NewUser {
        user_id: auth::ids::new_user_id(),
        email: email.to_owned(),
        password_hash: auth::credentials::password::hash(&password, cost)
            .await
            .map_err(message)?,
        registered_on: auth::rfc3339(auth::now()),
        admin: true,
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
        // Registered between our read and our write: promote that account.
        Registration::EmailTaken => Box::pin(run("create-admin", email)).await,
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
