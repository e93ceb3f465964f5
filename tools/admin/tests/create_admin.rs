//! `admin create-admin` and `admin demote`, the binary itself, against the
//! DynamoDB Local that `make test` names in the environment (skipped without
//! one): creating, running again, demoting and promoting an account, and
//! refusing a password the API would refuse.

use auth::store::dynamo::{DynamoStore, sdk_config};
use auth::store::{NewUser, Registration, Session, Store};
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
    assert!(record.roles.is_admin() && record.email_verified && !record.disabled);
    assert!(
        auth::credentials::password::verify(
            "a long enough password",
            Some(&record.password_hash),
            4
        )
        .await
    );
    let profile = store.profile(&id).await.unwrap().unwrap();
    assert!(profile.roles.is_admin() && profile.email_verified);

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
    assert!(!store.profile(&id).await.unwrap().unwrap().roles.is_admin());
    // An existing account is promoted for its own password; the email's
    // spelling does not matter.
    let (ok, promoted, errors) = admin(&["create-admin", &email.to_uppercase()], password);
    assert!(ok, "{errors}");
    assert_eq!(
        promoted.trim(),
        format!("promoted {id} (its sessions ended)")
    );
    assert!(store.profile(&id).await.unwrap().unwrap().roles.is_admin());
}

fn store() -> DynamoStore {
    let sdk =
        tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(sdk_config()));
    DynamoStore::users_only(
        aws_sdk_dynamodb::Client::new(&sdk),
        std::env::var("USERS_TABLE").unwrap(),
    )
}

/// An account registered as the API registers one (unverified, not admin),
/// with one session open.
async fn registered_with_a_session(store: &DynamoStore, email: &str, password: &str) -> String {
    let user = NewUser {
        user_id: auth::ids::new_user_id(),
        email: email.to_owned(),
        password_hash: auth::credentials::password::hash(password, 4)
            .await
            .unwrap(),
        registered_on: auth::rfc3339(auth::now()),
        roles: auth::roles::Roles::default(),
        email_verified: false,
    };
    let now = auth::now();
    let session = Session {
        user_id: user.user_id.clone(),
        session_id: auth::ids::new_random_id().unwrap(),
        device: "attacker's laptop".to_owned(),
        created_at: now,
        last_used_at: now,
        expires_at: now + 3600,
        refresh_hash: "0".repeat(64),
        previous_hash: None,
        rotated_at: now,
        sign_in: auth::store::SignIn::password(now),
    };
    let created = store
        .create_user(&user, Some(&session), None)
        .await
        .unwrap();
    assert_eq!(created, Registration::Created);
    user.user_id
}

#[tokio::test(flavor = "multi_thread")]
async fn an_address_registered_first_by_someone_else_is_not_promoted_by_the_operators_password() {
    if std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_err() {
        eprintln!("skipped: needs make test's DynamoDB Local");
        return;
    }
    let store = store();
    let email = unique_email();
    // The attacker registers the address the operator will use, first.
    let id = registered_with_a_session(&store, &email, "the attacker's password").await;
    let before = store.sessions(&id, auth::now()).await.unwrap();
    assert_eq!(before.len(), 1);

    let (ok, out, errors) = admin(&["create-admin", &email], "operator passphrase\n");
    assert!(
        !ok,
        "promoted for a password that is not the account's: {out}"
    );
    assert!(errors.contains("not the password of"), "{errors}");
    let profile = store.profile(&id).await.unwrap().unwrap();
    assert!(
        !profile.roles.is_admin(),
        "the attacker's account became admin"
    );
    assert_eq!(store.sessions(&id, auth::now()).await.unwrap().len(), 1);

    // Counted like a login: past the free failures, even the right password waits.
    for _ in 0..5 {
        let (ok, _, _) = admin(&["create-admin", &email], "another guess\n");
        assert!(!ok);
    }
    let (ok, _, errors) = admin(&["create-admin", &email], "the attacker's password\n");
    assert!(
        !ok && errors.contains("too many wrong passwords"),
        "{errors}"
    );
    assert!(!store.profile(&id).await.unwrap().unwrap().roles.is_admin());
}

#[tokio::test(flavor = "multi_thread")]
async fn promoting_an_account_with_its_password_ends_its_sessions() {
    if std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_err() {
        eprintln!("skipped: needs make test's DynamoDB Local");
        return;
    }
    let store = store();
    let email = unique_email();
    let id = registered_with_a_session(&store, &email, "the owner's password").await;
    // One typo first: counted, as a login's would be.
    let (ok, _, _) = admin(&["create-admin", &email], "the owners password\n");
    assert!(!ok);
    assert_eq!(account_failures(&store, &email).await, 1);
    let (ok, out, errors) = admin(&["create-admin", &email], "the owner's password\n");
    assert!(ok, "{errors}");
    assert_eq!(out.trim(), format!("promoted {id} (its sessions ended)"));
    assert!(store.profile(&id).await.unwrap().unwrap().roles.is_admin());
    assert!(store.sessions(&id, auth::now()).await.unwrap().is_empty());
    // The success settled the account's counter, as a login's does.
    assert_eq!(account_failures(&store, &email).await, 0);
}

/// The failed logins counted on `email`'s account now.
async fn account_failures(store: &DynamoStore, email: &str) -> u32 {
    let counter = auth::throttle::account_counter(email, 5);
    let attempt = store
        .login_attempt(email, &[counter], auth::now_millis())
        .await
        .unwrap();
    attempt.failures[0].count
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
