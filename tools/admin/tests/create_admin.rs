//! `admin create-admin` and `admin demote`, the binary itself, against the
//! DynamoDB Local that `make test` names in the environment (skipped without
//! one): creating, running again, demoting and promoting an account, and
//! refusing a password the API would refuse.

use auth::store::Store;
use auth::store::dynamo::{DynamoStore, sdk_config};
use std::io::Write;
use std::process::{Command, Stdio};

/// Runs the tool with `stdin` as its input: (success, stdout, stderr).
fn admin(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_admin"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn unique_email() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("admin-{nanos}@example.com")
}

#[tokio::test]
async fn create_admin_creates_once_then_changes_nothing_and_demote_undoes_it() {
    if std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_err() {
        eprintln!("skipped: needs make test's DynamoDB Local");
        return;
    }
    let email = unique_email();
    let password = "a long enough password\n";
    let (ok, created, errors) = admin(&["create-admin", &email], password);
    assert!(ok, "{errors}");
    let id = created
        .trim()
        .strip_prefix("created admin ")
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();

    let store = DynamoStore::users_only(
        aws_sdk_dynamodb::Client::new(&sdk_config().await),
        std::env::var("USERS_TABLE").unwrap(),
    );
    let stored = store.login_attempt(&email, &[], 0).await.unwrap().record;
    let record = stored.expect("the account exists");
    assert_eq!(record.user_id, id);
    assert!(record.admin && record.email_verified && !record.disabled);
    assert!(
        auth::credentials::password::verify(
            "a long enough password",
            Some(&record.password_hash),
            4
        )
        .await
    );
    let profile = store.profile(&id).await.unwrap().unwrap();
    assert!(profile.admin && profile.email_verified);

    // Again, with another password on stdin: nothing changes, the password
    // included.
    let (ok, again, _) = admin(&["create-admin", &email], "another password\n");
    assert!(ok);
    assert_eq!(again.trim(), format!("already admin {id}"));
    let unchanged = store.login_attempt(&email, &[], 0).await.unwrap().record;
    assert_eq!(unchanged.unwrap().password_hash, record.password_hash);

    let (ok, demoted, _) = admin(&["demote", &email], "");
    assert!(ok);
    assert_eq!(demoted.trim(), format!("demoted {id}"));
    assert!(!store.profile(&id).await.unwrap().unwrap().admin);
    // An existing account is promoted; the email's spelling does not matter.
    let (ok, promoted, _) = admin(&["create-admin", &email.to_uppercase()], "");
    assert!(ok);
    assert_eq!(promoted.trim(), format!("promoted {id}"));
    assert!(store.profile(&id).await.unwrap().unwrap().admin);
}

#[test]
fn a_password_or_an_email_the_api_would_refuse_creates_nothing() {
    if std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_err() {
        eprintln!("skipped: needs make test's DynamoDB Local");
        return;
    }
    let (ok, _, errors) = admin(&["create-admin", &unique_email()], "short\n");
    assert!(!ok);
    assert!(
        errors.contains("password must be 8 to 72 bytes long."),
        "{errors}"
    );
    let (ok, _, errors) = admin(
        &["create-admin", "not an address"],
        "a long enough password\n",
    );
    assert!(!ok);
    assert!(errors.contains("not a valid email address"), "{errors}");
    let (ok, _, errors) = admin(&["demote", &unique_email()], "");
    assert!(!ok);
    assert!(errors.contains("no account"), "{errors}");
    let (ok, _, usage) = admin(&["create-admin"], "");
    assert!(!ok && usage.contains("usage:"));
}
