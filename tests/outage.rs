//! DynamoDB goes away in the middle of a run and comes back: the same app
//! object (one warm Lambda) fails closed while it is gone, recovers without a
//! restart, and no registration is left half-written.
//!
//! The test runs a DynamoDB Local of its own (scripts/dynamodb-local.sh, with
//! its data in files so they outlive the restart), so it needs the tools
//! `make test` installs, and nothing else from the environment.

use auth::store::dynamo::schema::{self, Item};
use aws_sdk_dynamodb::Client;
use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use test_support::*;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A DynamoDB Local on a port and a data directory of its own; killed (and
/// its files removed) when dropped.
struct DynamoLocal {
    port: u16,
    dir: PathBuf,
    pid: Option<u32>,
}

impl DynamoLocal {
    fn new() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("outage-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            port,
            dir,
            pid: None,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts it and waits until it listens (the script does).
    fn start(&mut self) {
        let log = self.dir.join("dynamodb-local.log");
        let output = Command::new("scripts/local/dynamodb-local.sh")
            .current_dir(repo_root())
            .arg(self.port.to_string())
            .arg(&log)
            .arg(self.dir.join("data"))
            .output()
            .expect("scripts/local/dynamodb-local.sh runs");
        assert!(
            output.status.success(),
            "DynamoDB Local did not start (run through `make test`, which installs it): {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let pid = String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .unwrap();
        self.pid = Some(pid);
    }

    /// Stops it and waits until the port is closed. SIGTERM, not SIGKILL: killed
    /// outright, DynamoDB Local loses writes it has already acknowledged (its
    /// files lag behind), which DynamoDB never does, so the test could not
    /// tell the service's losses from the emulator's.
    fn kill(&mut self) {
        let Some(pid) = self.pid.take() else { return };
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", self.port)).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("DynamoDB Local still listens on {} after kill", self.port);
    }

    fn create_tables(&self) {
        let status = Command::new(".tools/venv/bin/python")
            .current_dir(repo_root())
            .args(["scripts/local/create_tables.py", &self.url()])
            .status()
            .expect("scripts/local/create_tables.py runs");
        assert!(status.success(), "the tables were not created");
    }
}

impl Drop for DynamoLocal {
    fn drop(&mut self) {
        if let Some(pid) = self.pid.take() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_service_fails_closed_while_dynamodb_is_down_and_recovers_when_it_is_back() {
    let mut dynamo = DynamoLocal::new();
    dynamo.start();
    dynamo.create_tables();
    let config = local_config();
    // One app for the whole test, as one warm Lambda keeps it.
    let app = Arc::new(TestApp::from(
        app_with_storage_at(&config, &dynamo.url()).await,
    ));

    let email = unique_email();
    let registered = register(&app, &email).await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let token = registered.token();
    let refresh_token = registered.refresh_token();
    assert_eq!(status(&app, &token).await.status, 200);

    // Registrations in flight when DynamoDB dies: each either made it or
    // gets the 503, whatever the moment of the stop.
    let mut in_flight = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let app = app.clone();
        in_flight.spawn(async move {
            let email = unique_email();
            let answer = register(&app, &email).await;
            (email, answer.status.as_u16(), answer.message().to_owned())
        });
    }
    // The stop comes as soon as the first of them is answered.
    let first = in_flight.join_next().await.unwrap().unwrap();
    dynamo.kill();
    let mut in_flight = in_flight.join_all().await;
    in_flight.push(first.clone());
    for (_, code, message) in &in_flight {
        assert!(
            *code == 201 || (*code == 503 && message == UNAVAILABLE),
            "{code} {message}"
        );
    }
    let created: Vec<&String> = in_flight
        .iter()
        .filter(|(_, code, _)| *code == 201)
        .map(|(email, _, _)| email)
        .collect();
    eprintln!(
        "registrations in flight at the stop: {} created, {} answered 503",
        created.len(),
        in_flight.len() - created.len()
    );

    // Down: every endpoint fails closed.
    let newcomer = unique_email();
    status(&app, &token).await.assert_fail(503, UNAVAILABLE);
    login(&app, &email, PASSWORD)
        .await
        .assert_fail(503, UNAVAILABLE);
    register(&app, &newcomer)
        .await
        .assert_fail(503, UNAVAILABLE);
    logout(&app, &token).await.assert_fail(503, UNAVAILABLE);
    refresh(&app, &refresh_token)
        .await
        .assert_fail(503, UNAVAILABLE);

    // Back, on the same port and data: the same app answers as before.
    dynamo.start();
    // A JVM just started can take longer for its first answers than the
    // service's timeouts allow on a loaded machine (503s meanwhile, the
    // service failing closed): the same app gets a few seconds to see it back.
    let mut answer = status(&app, &token).await;
    for _ in 0..30 {
        if answer.status != 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        answer = status(&app, &token).await;
    }
    assert_eq!(
        answer.status, 200,
        "the old token after the restart: {}",
        answer.body
    );
    assert_eq!(answer.body["data"]["email"], email.as_str());
    let answer = login(&app, &email, PASSWORD).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer = refresh(&app, &refresh_token).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    // The registration refused during the outage left no trace: the email
    // is free, and takes a registration now.
    login(&app, &newcomer, PASSWORD)
        .await
        .assert_fail(404, USER_DOES_NOT_EXIST);

    let client = client_at(&dynamo.url()).await;
    let accounts = accounts(&client, &config.users_table).await;
    assert!(accounts.contains_key(&email));
    assert!(
        !accounts.contains_key(&newcomer),
        "a refused registration was written"
    );
    // A 201 answered before the stop began is never lost. One answered
    // while DynamoDB Local shuts down may be: under load it has dropped such
    // a write after acknowledging it (seen once in CI, with every item of
    // the transaction gone, so nothing half-written), which DynamoDB does
    // not do; so those are counted, not held against the service.
    if first.1 == 201 {
        assert!(
            accounts.contains_key(&first.0),
            "a 201 for {} was lost",
            first.0
        );
    }
    let dropped = created
        .iter()
        .filter(|email| !accounts.contains_key(**email))
        .count();
    eprintln!("201s answered during the shutdown and dropped by DynamoDB Local: {dropped}");
    let answer = register(&app, &newcomer).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
}

/// Every account in the table, by email, after checking that each is whole:
/// each login record has the profile it names, and each profile the login
/// record of its email.
async fn accounts(client: &Client, table: &str) -> BTreeMap<String, String> {
    let text = |item: &Item, name: &str| {
        item.get(name)
            .and_then(|value| value.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    let mut logins = BTreeMap::new(); // email -> user id
    let mut profiles = BTreeSet::new(); // (email, user id)
    let mut pages = client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for item in page.unwrap().items() {
            let (pk, sk) = (text(item, "pk"), text(item, "sk"));
            if let (Some(email), schema::LOGIN) = (schema::email_of_pk(&pk), sk.as_str()) {
                logins.insert(email.to_owned(), text(item, "user_id"));
            } else if sk == schema::PROFILE {
                assert_eq!(pk, schema::user_pk(&text(item, "user_id")));
                profiles.insert((text(item, "email"), text(item, "user_id")));
            }
        }
    }
    let from_logins: BTreeSet<(String, String)> = logins.clone().into_iter().collect();
    assert_eq!(
        from_logins
            .symmetric_difference(&profiles)
            .collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "half-written accounts"
    );
    logins
}
