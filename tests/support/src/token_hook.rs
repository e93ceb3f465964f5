//! The local token hook (`scripts/local/token-hook.py`), started by the test
//! that needs it: a real HTTP server that checks each request's Standard
//! Webhooks signature with the spec's own Python library.

use auth::hook::HookSettings;
use auth::hook::signature::WebhookSecret;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The secret the hook is started with (`whsec_` and 32 random-looking bytes).
pub const HOOK_SECRET: &str = "whsec_dGVzdHMtdG9rZW4taG9vay1zZWNyZXQtMzItYnl0ZXM=";

/// The hook server, stopped when dropped.
pub struct TokenHookServer {
    pub base: String,
    child: Child,
}

impl TokenHookServer {
    /// Starts the hook on a free port and waits until it answers.
    pub async fn start() -> Self {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .unwrap();
        let child = Command::new(format!("{root}/.tools/venv/bin/python"))
            .arg(format!("{root}/scripts/local/token-hook.py"))
            .arg(port.to_string())
            .arg(HOOK_SECRET)
            .stdout(Stdio::null())
            .spawn()
            .expect("the token hook needs .tools/venv: run through make test");
        let server = Self {
            base: format!("http://127.0.0.1:{port}"),
            child,
        };
        for _ in 0..100 {
            if reqwest::get(format!("{}/health", server.base))
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the token hook did not start on {}", server.base);
    }

    /// Settings pointing at `path` of this hook, signed with `secret`.
    pub fn settings(
        &self,
        path: &str,
        secret: &str,
        failure: &str,
        timeout_ms: u64,
    ) -> HookSettings {
        let url = format!("{}{path}", self.base);
        let timeout = timeout_ms.to_string();
        let lookup = |name: &str| {
            Some(match name {
                "TOKEN_HOOK_URL" => url.clone(),
                "TOKEN_HOOK_SECRET" => secret.to_owned(),
                "TOKEN_HOOK_FAILURE" => failure.to_owned(),
                "TOKEN_HOOK_TIMEOUT_MS" => timeout.clone(),
                _ => return None,
            })
        };
        HookSettings::from_lookup(&lookup).unwrap().unwrap()
    }

    /// What the hook received so far, oldest first.
    pub async fn deliveries(&self) -> Vec<serde_json::Value> {
        let text = reqwest::get(format!("{}/deliveries", self.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

impl Drop for TokenHookServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Another valid secret, which the hook does not know.
pub fn other_secret() -> String {
    let secret = "whsec_b3RoZXItdG9rZW4taG9vay1zZWNyZXQtMzItYnl0ZXM=";
    WebhookSecret::parse("test", secret).unwrap();
    secret.to_owned()
}
