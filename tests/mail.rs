//! The mail pipeline over its real parts, as `make test-e2e` runs it: the
//! outbox table in DynamoDB Local, its stream read by the local stream pump
//! (scripts/stream-pump.py), the mailer under cargo lambda watch, and the SES
//! emulator. Mails are written to the outbox as the endpoints write them,
//! through the service's codec (`schema::outbox_item`).
//!
//! - SES down: `forgot` answers 202 at once; its mail is retried (the pump's
//!   log says so), and arrives once SES is back, with a code that works;
//!   nothing waits on SES but the mailer.
//! - A mail that keeps failing (an item the mailer cannot read) is retried a
//!   bounded number of times, then lands in the dead-letter file (the local
//!   MailDeadLetterQueue), and stays in the outbox: never lost silently.
//!
//! It stops and restarts the SES emulator every HTTP suite uses, so
//! scripts/test-e2e.sh runs it alone, after them. Elsewhere it skips: it needs
//! SES_URL, SES_PID_FILE, PUMP_LOG and MAIL_DEAD_LETTER_FILE (lib.sh's
//! use_ses and start_pump).

use auth::mail::outbox::{MailKind, OutboxMail};
use auth::store::dynamo::schema::{outbox_item, outbox_key, s};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use test_support::mailbox::{mails_to, sent_mails};
use test_support::*;

struct Stack {
    ses_url: String,
    ses_pid_file: PathBuf,
    pump_log: PathBuf,
    dead_letters: PathBuf,
}

fn stack_or_skip(test: &str) -> Option<Stack> {
    let var = |name| std::env::var(name).ok().filter(|value| !value.is_empty());
    let stack = (|| {
        Some(Stack {
            ses_url: var("SES_URL")?,
            ses_pid_file: var("SES_PID_FILE")?.into(),
            pump_log: var("PUMP_LOG")?.into(),
            dead_letters: var("MAIL_DEAD_LETTER_FILE")?.into(),
        })
    })();
    if stack.is_none() {
        eprintln!("{test}: skipped, it needs make test-e2e's mail stack");
    }
    stack
}

fn repo_root() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn port_of(url: &str) -> String {
    url.rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned()
}

fn answers(url: &str) -> bool {
    std::net::TcpStream::connect(url.trim_start_matches("http://")).is_ok()
}

impl Stack {
    fn stop_ses(&self) {
        let pid = std::fs::read_to_string(&self.ses_pid_file).unwrap();
        let status = std::process::Command::new("kill")
            .arg(pid.trim())
            .status()
            .unwrap();
        assert!(status.success(), "kill {pid}");
        let started = Instant::now();
        while answers(&self.ses_url) {
            assert!(started.elapsed() < Duration::from_secs(10), "SES still up");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The emulator again on its port (empty: it keeps mails in memory); its
    /// PID where lib.sh stops it on exit.
    fn start_ses(&self) {
        let port = port_of(&self.ses_url);
        let output = std::process::Command::new("setsid")
            .arg("scripts/local/ses-local.sh")
            .arg(&port)
            .arg(format!(".tools/ses-local-{port}.log"))
            .current_dir(repo_root())
            .stderr(std::process::Stdio::inherit())
            .output()
            .unwrap();
        assert!(output.status.success(), "the SES emulator restarts");
        std::fs::write(&self.ses_pid_file, &output.stdout).unwrap();
    }

    fn pump_lines(&self) -> usize {
        std::fs::read_to_string(&self.pump_log)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains("to retry"))
            .count()
    }

    fn dead_letters(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.dead_letters)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("a dead letter is JSON"))
            .collect()
    }

    async fn wait_for(&self, what: &str, seconds: u64, mut done: impl FnMut() -> bool) {
        let started = Instant::now();
        while !done() {
            assert!(
                started.elapsed() < Duration::from_secs(seconds),
                "{what}: not within {seconds} s; the pump's log:\n{}",
                std::fs::read_to_string(&self.pump_log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn new_mail(to: &str, kind: MailKind, code: &str) -> OutboxMail {
    let now = auth::now();
    OutboxMail {
        id: uuid(),
        kind,
        to: to.to_owned(),
        code: code.to_owned(),
        created_at: now,
        expires_at: now + 900,
    }
}

/// A fresh outbox item id, of the shape the endpoints write (a UUID v4).
fn uuid() -> String {
    auth::ids::new_user_id()
}

/// A fresh 8-digit code, recorded for the log check.
fn code() -> String {
    let code = format!("{:08}", uuid_digits());
    test_support::record_code(&code);
    code
}

fn uuid_digits() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    u64::try_from(nanos % 90_000_000).unwrap() + 10_000_000
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mails_survive_an_ses_outage_and_one_that_keeps_failing_is_dead_lettered() {
    let Some(stack) = stack_or_skip("mail") else {
        return;
    };
    let backstage = backstage().await.expect("the service's database");
    let outbox = backstage.config.outbox_table.clone();
    let write = |item| {
        let client = backstage.client.clone();
        let outbox = outbox.clone();
        async move {
            client
                .put_item()
                .table_name(outbox)
                .set_item(Some(item))
                .send()
                .await
                .unwrap();
        }
    };

    // SES up: a mail arrives, rendered, and leaves the outbox.
    let email = unique_email();
    let mail = new_mail(&email, MailKind::VerifyEmail, &code());
    write(outbox_item(&mail)).await;
    let arrived = mails_to(&email, MailKind::VerifyEmail).await;
    assert_eq!(arrived.len(), 1, "one mail to {email}");
    assert_eq!(arrived[0].code().as_deref(), Some(mail.code.as_str()));
    assert!(arrived[0].subject.contains("token-auth"));

    // SES down: `forgot` still answers at once (it only writes the outbox);
    // the mail waits in the stream, retried; SES back: it arrives, and its
    // code resets the password.
    let app = app().await;
    let (email, registered) = new_account(&app).await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    stack.stop_ses();
    let retries_before = stack.pump_lines();
    let asked = Instant::now();
    forgot_password(&app, &email)
        .await
        .assert_success(202, CODE_ON_ITS_WAY);
    let took = asked.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "forgot waited on SES: {took:?}"
    );
    stack
        .wait_for("a failed send, retried", 20, || {
            stack.pump_lines() > retries_before
        })
        .await;
    stack.start_ses();
    let arrived = mails_to(&email, MailKind::ResetPassword).await;
    assert_eq!(
        arrived.len(),
        1,
        "the mail asked for while SES was down, once"
    );
    let mailed = arrived[0].code().expect("a code in the mail");
    test_support::record_code(&mailed);
    reset_password(&app, &email, &mailed, "a fresh start passphrase")
        .await
        .assert_success(200, PASSWORD_RESET);

    // A mail the mailer cannot read (a kind it does not know) keeps failing:
    // after the bounded retries it is in the dead letters, and still in the
    // outbox, not dropped; the mails after it go on.
    let dead_before = stack.dead_letters().len();
    let poison = new_mail(&unique_email(), MailKind::VerifyEmail, &code());
    let mut item = outbox_item(&poison);
    item.insert("kind".into(), s("newsletter"));
    write(item).await;
    let email = unique_email();
    let after = new_mail(&email, MailKind::VerifyEmail, &code());
    write(outbox_item(&after)).await;
    stack
        .wait_for("the dead letter", 30, || {
            stack.dead_letters().len() > dead_before
        })
        .await;
    let letter = &stack.dead_letters()[dead_before];
    assert_eq!(
        letter["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    let info = &letter["DDBStreamBatchInfo"];
    assert_eq!(info["batchSize"], 1);
    assert!(
        info["streamArn"].as_str().unwrap().contains(&outbox),
        "{letter}"
    );
    assert!(
        !letter.to_string().contains(&poison.code),
        "no code in a dead letter"
    );
    let kept = backstage
        .client
        .get_item()
        .table_name(&outbox)
        .set_key(Some(outbox_key(&poison.id)))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert!(kept.item().is_some(), "the failed mail stays in the outbox");
    let arrived = mails_to(&email, MailKind::VerifyEmail).await;
    assert_eq!(arrived.len(), 1, "the mail after the failing one is sent");

    // Nothing else was sent.
    let ses = sent_mails(&stack.ses_url).await;
    assert!(ses.iter().all(|mail| !mail.to.contains(&poison.to)));
}
