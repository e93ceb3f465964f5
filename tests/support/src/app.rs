//! The app under test: in-process (the app as a Lambda builds it) or, with
//! `API_URL` set, whatever answers at that address over HTTP.

use crate::tokens::new_key;
use auth::store::SignIn;
use auth::store::dynamo::{DynamoStore, sdk_config};
use auth::tokens::keys::{KeySetDocument, KeyState};
use auth::{App, Config};
use aws_sdk_dynamodb::Client;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

pub enum TestApp {
    InProcess(Box<App<DynamoStore>>),
    Http {
        base: String,
        client: reqwest::Client,
    },
}

impl From<App<DynamoStore>> for TestApp {
    fn from(app: App<DynamoStore>) -> Self {
        Self::InProcess(Box::new(app))
    }
}

impl TestApp {
    pub fn is_http(&self) -> bool {
        matches!(self, Self::Http { .. })
    }

    /// The in-process app itself, for tests that reach inside it (its key
    /// set, the authorizer); they run in-process only.
    pub fn in_process(&self) -> &App<DynamoStore> {
        match self {
            Self::InProcess(app) => app,
            Self::Http { .. } => panic!("this test needs the in-process app"),
        }
    }
}

/// Whether the tests run over HTTP (`make test-e2e`): tests that must pick
/// what no HTTP client sends (the client's address, raw bytes) skip then.
pub fn over_http() -> bool {
    std::env::var("API_URL").is_ok()
}

pub async fn app() -> TestApp {
    match std::env::var("API_URL") {
        Ok(base) => TestApp::Http {
            base: base.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
        },
        Err(_) => in_process_app().await.into(),
    }
}

/// The app as a Lambda builds it, over DynamoDB Local.
pub async fn in_process_app() -> App<DynamoStore> {
    in_process_app_with(|_| {}).await
}

/// The app as a Lambda builds it, over DynamoDB Local, with its settings
/// changed by `adjust` first: for tests of a limit they need lower than the
/// environment's (which the whole suite shares).
pub async fn in_process_app_with(adjust: impl FnOnce(&mut Config)) -> App<DynamoStore> {
    let mut config = Config::from_env().unwrap_or_else(|error| {
        panic!("{error}: run these tests through `make test`, which sets up DynamoDB Local")
    });
    adjust(&mut config);
    App::new(
        config.clone(),
        DynamoStore::new(Client::new(&sdk_config().await), &config),
    )
}

/// The in-process app pointed at a port where nothing listens: storage is down.
pub async fn app_without_storage(config: &Config) -> App<DynamoStore> {
    app_with_storage_at(config, "http://127.0.0.1:9").await
}

/// The in-process app over the DynamoDB at `url`, with the service's own SDK
/// settings (timeouts, retries). Region and credentials are fixed, so it needs
/// nothing from the environment: for a fake DynamoDB, or one a test started.
pub async fn app_with_storage_at(config: &Config, url: &str) -> App<DynamoStore> {
    App::new(
        config.clone(),
        DynamoStore::new(client_at(url).await, config),
    )
}

/// A DynamoDB client as the service builds one, for the DynamoDB at `url`.
pub async fn client_at(url: &str) -> Client {
    use aws_sdk_dynamodb::config::{Credentials, Region, retry::RetryPartition};
    // A retry budget of its own: the SDK's is shared per partition across the
    // process, and fault tests spend it on purpose.
    static CLIENTS: AtomicU64 = AtomicU64::new(0);
    let partition = format!("client-at-{}", CLIENTS.fetch_add(1, Ordering::SeqCst));
    let sdk = sdk_config().await;
    Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .retry_partition(RetryPartition::new(partition))
            .endpoint_url(url)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
            .build(),
    )
}

/// The `iss` of the tokens of [`local_config`]'s app.
pub const LOCAL_ISSUER: &str = "http://127.0.0.1";

/// A configuration of its own, for tests that bring their own storage: a key
/// set of two keys made once per test binary (one current, one next), so that
/// every app built from it signs and verifies alike.
pub fn local_config() -> Config {
    static KEYS: LazyLock<String> = LazyLock::new(|| {
        let keys = vec![
            new_key("local-current", KeyState::Current),
            new_key("local-next", KeyState::Next),
        ];
        serde_json::to_string(&KeySetDocument { keys }).unwrap()
    });
    Config::from_lookup(|name| match name {
        "SIGNING_KEYS" => Some(KEYS.clone()),
        "REFRESH_TOKEN_SECRET" => Some("a-test-refresh-secret-of-at-least-32-bytes".into()),
        "PUBLIC_BASE_URL" => Some(LOCAL_ISSUER.into()),
        "USERS_TABLE" => Some("UsersTable".into()),
        "REVOKED_TOKENS_TABLE" => Some("RevokedTokensTable".into()),
        "OUTBOX_TABLE" => Some("OutboxTable".into()),
        "BCRYPT_COST" => Some("4".into()),
        "RP_ID" => Some("localhost".into()),
        "RP_ORIGIN" => Some(support_rp_origin()),
        // A provider nothing answers for (the fault tests stop at storage).
        "OIDC_PROVIDERS" => Some(
            r#"[{"name":"mock","issuer":"http://127.0.0.1:9","client_id":"c","client_secret":"s","label":"Mock"}]"#.into(),
        ),
        "ALLOWED_REDIRECT_URLS" => Some("http://localhost:9000/account".into()),
        _ => None,
    })
    .unwrap()
}

/// A user id and a session id of the shapes the service issues, for a user
/// no database holds: the service refuses a token naming ids of any other
/// shape before it asks storage anything.
pub fn some_user_and_session() -> (String, String) {
    (auth::ids::new_user_id(), some_session())
}

/// A session id (or token id) of the shape the service issues.
pub fn some_session() -> String {
    auth::ids::new_random_id().unwrap()
}

/// An access token the in-process `app` signs itself, for a user and session
/// that need not exist: enough to get a call as far as storage.
pub fn token_signed_by(app: &App<DynamoStore>) -> String {
    let (user_id, session_id) = some_user_and_session();
    access_token(app, &user_id, &session_id)
}

/// An access token the in-process `app` issues for this user and session, as
/// login would (its issuer: the configured public base URL), with the keys
/// in force in it.
pub fn access_token(app: &App<DynamoStore>, user_id: &str, session_id: &str) -> String {
    let issuer = app
        .issuer(None)
        .expect("in-process apps run with PUBLIC_BASE_URL set");
    app.tokens
        .issue(
            user_id,
            session_id,
            &auth::roles::Roles::default(),
            &SignIn::password(auth::now()),
            &issuer,
            auth::now(),
        )
        .unwrap()
        .0
}

/// An access token an app of `config` issues for this user and session.
pub fn access_token_for(config: &Config, user_id: &str, session_id: &str) -> String {
    let tokens = auth::tokens::access::Tokens::new(
        config.signing_keys.clone(),
        &config.token_audience,
        config.access_token_ttl_seconds,
    );
    let issuer =
        (config.public_base_url.as_deref()).expect("in-process apps run with PUBLIC_BASE_URL set");
    tokens
        .issue(
            user_id,
            session_id,
            &auth::roles::Roles::default(),
            &SignIn::password(auth::now()),
            issuer,
            auth::now(),
        )
        .unwrap()
        .0
}

/// The passkeys' relying-party origin the service under test expects:
/// `RP_ORIGIN` when set (the HTTP runs set it for `cargo lambda watch`),
/// else `make run`'s.
pub fn support_rp_origin() -> String {
    std::env::var("RP_ORIGIN").unwrap_or_else(|_| "http://localhost:9000".to_owned())
}
