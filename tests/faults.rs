//! Storage faults, in-process: storage that is down, and the faults DynamoDB
//! Local cannot stage, injected through a fake DynamoDB
//! (`test_support::fake_dynamo`): a database that hangs, one that throttles
//! every request or answers 500, transactions cancelled for a conflict,
//! writes that fail, and the Lambda deadline. Every endpoint that touches
//! storage (by its description: `auth::endpoint::Description`) must fail closed
//! with the generic 503, in bounded time, after a bounded number of attempts.
//! Only the storage-down test needs the environment (DynamoDB Local); the
//! fake needs nothing.

use auth::Endpoint;
use auth::endpoint::Guard;
use auth::store::dynamo::schema::{self, Item};
use auth::tokens::refresh::RefreshToken;
use std::sync::Arc;
use std::time::Duration;
use test_support::fake_dynamo::{
    self, FakeDynamo, Reply, batch_get_answer, cancelled, get_item_answer, internal_error,
    query_answer, transaction_conflict, written,
};
use test_support::stored::{
    account_counter_item, live_session_item, login_record_item, profile_item,
};
use test_support::*;

/// The SDK settings of `sdk_config`: at most 3 attempts per operation, and
/// 5 s for all of them together. A call has a handful of operations, but
/// the first failing one ends it, so this bound is generous: a call still
/// running after it hangs.
const HANG_BOUND: Duration = Duration::from_secs(30);
const MAX_ATTEMPTS: usize = 3;

/// One call of each endpoint that touches storage (and each logout scope),
/// taken from the endpoints' descriptions, with everything it needs to get
/// as far as storage: the description's example body, a validly signed
/// access token, a refresh token of ours. A new endpoint is covered here
/// without a line of its own.
struct Call {
    name: &'static str,
    method: &'static str,
    path: String,
    bearer: Option<String>,
    body: Option<String>,
}

fn every_call() -> Vec<Call> {
    let config = local_config();
    let keys = auth::tokens::refresh::RefreshKeys::new(&config.refresh_token_secret);
    let (user_id, session_id) = some_user_and_session();
    let access = access_token_for(&config, &user_id, &session_id);
    let refresh = keys.encode(&RefreshToken::new(&user_id, &session_id).unwrap());
    let bearer = format!("Bearer {access}");
    let mut calls: Vec<Call> = (Endpoint::ALL.iter())
        .map(|endpoint| endpoint.description())
        .filter(|description| description.touches_storage())
        .map(|description| {
            // A path's `{id}` names a session under /auth/sessions, else a user.
            let id = if description.route.starts_with("/auth/sessions/") {
                some_session()
            } else {
                auth::ids::new_user_id()
            };
            Call {
                name: description.function,
                method: description.method,
                path: description
                    .route
                    .replace("{id}", &id)
                    .replace("{provider}", "mock")
                    + match description.function {
                        // What gets a sign-in with a provider to storage.
                        "oauth-start" => OAUTH_START_QUERY,
                        "oauth-callback" => "?code=x&state=AAAAAAAAAAAAAAAAAAAAAA",
                        _ => "",
                    },
                bearer: (description.guard == Guard::Bearer).then(|| bearer.clone()),
                body: description.example_body.map(|body| {
                    body.replace("{refresh_token}", &refresh)
                        .replace("{password}", PASSWORD)
                }),
            }
        })
        .collect();
    // 19 endpoints touched storage when this was written: a filter gone
    // wrong must not pass by testing nothing.
    assert!(
        calls.len() >= 19,
        "only {} endpoints touch storage",
        calls.len()
    );
    // Logout's other scopes end sessions by other requests.
    for (name, scope) in [("logout others", "others"), ("logout global", "global")] {
        calls.push(Call {
            name,
            method: "POST",
            path: format!("/auth/logout?scope={scope}"),
            bearer: Some(bearer.clone()),
            body: None,
        });
    }
    calls
}

/// A start's query: a redirect_to [`local_config`] allows, a challenge.
const OAUTH_START_QUERY: &str = "?redirect_to=http%3A%2F%2Flocalhost%3A9000%2Faccount&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// The in-process app over a fake DynamoDB.
async fn app_over(fake: &FakeDynamo) -> TestApp {
    app_with_storage_at(&local_config(), &fake.url).await.into()
}

/// Makes every call, each against a fake DynamoDB of its own from `fake`, all
/// at once; asserts each ends, within [`HANG_BOUND`], in the generic 503.
/// Returns, per call, the operations the fake received.
async fn every_call_answers_503<F, Fut>(fake: F) -> Vec<(&'static str, Vec<String>)>
where
    F: Fn() -> Fut,
    Fut: Future<Output = FakeDynamo> + Send + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    for (index, call_) in every_call().into_iter().enumerate() {
        let fake = fake();
        tasks.spawn(async move {
            let fake = fake.await;
            let app = app_over(&fake).await;
            let answer = tokio::time::timeout(
                HANG_BOUND,
                call(
                    &app,
                    call_.method,
                    &call_.path,
                    call_.bearer.as_deref(),
                    call_.body.as_deref(),
                ),
            )
            .await
            .unwrap_or_else(|_| panic!("{} still running after {HANG_BOUND:?}", call_.name));
            assert_eq!(answer.status, 503, "{}: {}", call_.name, answer.body);
            answer.assert_fail(503, UNAVAILABLE);
            (index, call_.name, fake.operations())
        });
    }
    let mut seen = tasks.join_all().await;
    seen.sort_by_key(|(index, _, _)| *index);
    let seen: Vec<_> = seen.into_iter().map(|(_, name, ops)| (name, ops)).collect();
    for (name, operations) in &seen {
        eprintln!("{name}: {} request(s): {operations:?}", operations.len());
    }
    seen
}

/// The requests a call sends together in its first round trip, for a call
/// that starts with more than one (issue 29: login's read goes with its
/// claims, one per counter: the account's (or the passkey's) and the
/// address's; an admin's disabling or deletion reads the user it names, and
/// lists their sessions (and passkeys), with the token check).
fn sent_together_first(name: &str) -> &'static [&'static str] {
    match name {
        "login" | "passkey-login" => &["BatchGetItem", "UpdateItem", "UpdateItem"],
        // The token check, and the account's last sign-in (issue 29).
        "password" => &["BatchGetItem", "GetItem"],
        "disable-user" => &["BatchGetItem", "GetItem", "Query"],
        "delete-user" => &["BatchGetItem", "GetItem", "Query", "Query", "Query"],
        _ => &[],
    }
}

/// Every request of a call is attempts at one operation (or at the few its
/// first round trip sends together, [`sent_together_first`]): the first
/// that fails ends the call, and nothing after it is tried. The attempts
/// at the most tried of them.
fn attempts_of_one_operation(name: &str, operations: &[String]) -> usize {
    assert!(!operations.is_empty(), "{name}: storage was never asked");
    let together = sent_together_first(name);
    if together.is_empty() {
        assert!(
            operations.iter().all(|op| *op == operations[0]),
            "{name}: went on after a failed operation: {operations:?}"
        );
        return operations.len();
    }
    assert!(
        operations.iter().all(|op| together.contains(&op.as_str())),
        "{name}: went on after a failed operation: {operations:?}"
    );
    let attempts = |first: &&str| {
        let sent = operations.iter().filter(|op| op == first).count();
        let copies = together.iter().filter(|op| *op == first).count();
        sent.div_ceil(copies)
    };
    together.iter().map(attempts).max().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hanging_database_gets_a_503_from_every_endpoint_in_bounded_time() {
    let seen = every_call_answers_503(FakeDynamo::silent).await;
    for (name, operations) in &seen {
        let attempts = attempts_of_one_operation(name, operations);
        // 2 s per attempt within 5 s in all: 2 or 3 attempts start.
        assert!(
            (1..=MAX_ATTEMPTS).contains(&attempts),
            "{name}: {attempts} attempts"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_throttling_database_gets_a_503_from_every_endpoint_after_bounded_retries() {
    for error in [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
    ] {
        eprintln!("-- every request answered with {error}");
        let seen = every_call_answers_503(move || FakeDynamo::failing_with(error)).await;
        for (name, operations) in &seen {
            let attempts = attempts_of_one_operation(name, operations);
            // Throttling is retried (more than one attempt), up to the bound.
            assert!(
                (2..=MAX_ATTEMPTS).contains(&attempts),
                "{name}: {attempts} attempts under {error}"
            );
        }
    }
}

#[tokio::test]
async fn a_database_answering_500_gets_a_503_from_every_endpoint() {
    let seen = every_call_answers_503(|| {
        FakeDynamo::start(Arc::new(|_: &str, _: usize| Some(internal_error())))
    })
    .await;
    for (name, operations) in &seen {
        let attempts = attempts_of_one_operation(name, operations);
        assert!((1..=MAX_ATTEMPTS).contains(&attempts), "{name}: {attempts}");
    }
}

// ---- storage down ----------------------------------------------------------

#[tokio::test]
async fn with_storage_down_every_endpoint_answers_503_and_accepts_nothing() {
    // In-process whatever the target, since it takes the app's storage away.
    let Some(backstage) = backstage_or_skip("storage down").await else {
        return;
    };
    let good = TestApp::from(in_process_app().await);
    let email = unique_email();
    let token = register(&good, &email).await.token();

    let down = TestApp::from(app_without_storage(&backstage.config).await);
    register(&down, &unique_email())
        .await
        .assert_fail(503, UNAVAILABLE);
    login(&down, &email, PASSWORD)
        .await
        .assert_fail(503, UNAVAILABLE);
    status(&down, &token).await.assert_fail(503, UNAVAILABLE);
    logout(&down, &token).await.assert_fail(503, UNAVAILABLE);
    // The logout that failed did not revoke anything.
    assert_eq!(status(&good, &token).await.status, 200);
}

// ---- transactions cancelled for a conflict ---------------------------------
//
// DynamoDB cancels a transaction with `TransactionConflict` when another
// transaction is writing one of its items at the time; DynamoDB Local runs
// transactions one at a time and never does. The caller is to retry: the
// conflict says nothing about the request itself.

/// A fake that answers each operation named in `answers` from its list, in
/// turn (the last one for ever after); any other operation is a test's
/// mistake, answered with an error the service does not retry.
async fn fake_answering(answers: Vec<(&'static str, Vec<Reply>)>) -> FakeDynamo {
    FakeDynamo::start(Arc::new(move |operation: &str, n: usize| {
        let replies = answers.iter().find(|(listed, _)| *listed == operation);
        Some(match replies {
            Some((_, replies)) => replies[n.min(replies.len() - 1)].clone(),
            None => fake_dynamo::error("ValidationException", "unexpected", ""),
        })
    }))
    .await
}

/// A fake that answers `TransactWriteItems` from `transactions` in turn (the
/// last one for ever after), `BatchGetItem` with the users-table `item` if
/// any, and `UpdateItem` as written: since issue 11 every login attempt
/// claims its failure with a conditional UpdateItem before bcrypt, and here
/// the claim holds.
async fn fake_with(transactions: Vec<Reply>, item: Option<Item>) -> FakeDynamo {
    let batch = batch_get_answer(&local_config().users_table, item.as_slice());
    fake_answering(vec![
        ("TransactWriteItems", transactions),
        ("BatchGetItem", vec![batch]),
        ("UpdateItem", vec![written()]),
    ])
    .await
}

fn transactions(operations: &[String]) -> usize {
    operations
        .iter()
        .filter(|op| *op == "TransactWriteItems")
        .count()
}

#[tokio::test]
async fn a_registration_cancelled_for_a_conflict_is_retried() {
    let fake = fake_with(
        vec![
            cancelled(&["None", "TransactionConflict", "None"]),
            written(),
        ],
        None,
    )
    .await;
    let app = app_over(&fake).await;
    let answer = register(&app, &unique_email()).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(transactions(&fake.operations()), 2);
}

#[tokio::test]
async fn a_logout_that_conflicts_with_a_concurrent_logout_is_told_the_token_is_revoked() {
    // The first attempt meets the other logout's transaction; once that has
    // committed, the token is revoked and its session gone.
    let fake = fake_with(
        vec![
            cancelled(&["TransactionConflict", "None"]),
            cancelled(&["ConditionalCheckFailed", "ConditionalCheckFailed"]),
        ],
        None,
    )
    .await;
    let app = app_with_storage_at(&local_config(), &fake.url).await;
    let token = token_signed_by(&app);
    let app = TestApp::from(app);
    let answer = logout(&app, &token).await;
    eprintln!("operations: {:?}", fake.operations());
    answer.assert_fail(401, BLACKLISTED);
}

#[tokio::test]
async fn a_login_that_conflicts_with_another_transaction_on_the_account_is_retried() {
    // Two logins of one account both condition their session on the login
    // record, so each can meet the other's transaction.
    let email = unique_email();
    let hash = auth::credentials::password::hash(PASSWORD, 4)
        .await
        .unwrap();
    let item = login_record_item(&email, &auth::ids::new_user_id(), &hash);
    // The session's transaction: the login record's condition check, the
    // session, and (since issue 11) the account counter's deletion that
    // settles the attempt's claim.
    let fake = fake_with(
        vec![
            cancelled(&["TransactionConflict", "None", "None"]),
            written(),
        ],
        Some(item),
    )
    .await;
    let app = app_over(&fake).await;
    let answer = login(&app, &email, PASSWORD).await;
    let operations = fake.operations();
    eprintln!("operations: {operations:?}");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(transactions(&operations), 2, "one retry: {operations:?}");
}

// ---- single-item writes that meet a transaction ------------------------------
//
// A single-item write (UpdateItem, DeleteItem) that meets a transaction in
// flight on its item fails with `TransactionConflictException`, which the SDK
// does not retry; nor does it retry a transaction cancelled for a
// `TransactionConflict`. Neither says anything about the request itself, so
// the service retries them (issue 11; `retry.rs`), as it already did for
// register, login and logout above. Each test below: the fake answers the
// conflict once, then the write; the call succeeds, and the fake saw exactly
// one retry of that write and nothing else more than the design's once.

/// A user signed in on one session, as a fake DynamoDB holds them: the tokens
/// the in-process app (of [`local_config`]) issued, and the items.
struct SignedIn {
    email: String,
    access: String,
    refresh: String,
    /// The profile, the access token's session (live, holding the refresh
    /// token's hash) and the login record (with [`PASSWORD`]'s hash): what the
    /// token check and the password check read.
    items: Vec<Item>,
    session: Item,
}

async fn signed_in() -> SignedIn {
    let config = local_config();
    let keys = auth::tokens::refresh::RefreshKeys::new(&config.refresh_token_secret);
    let (user_id, session_id) = some_user_and_session();
    let email = unique_email();
    let access = access_token_for(&config, &user_id, &session_id);
    let refresh = RefreshToken::new(&user_id, &session_id).unwrap();
    let session = live_session_item(&user_id, &session_id, &refresh.hash());
    let hash = auth::credentials::password::hash(PASSWORD, config.bcrypt_cost)
        .await
        .unwrap();
    let items = vec![
        profile_item(&user_id, &email),
        session.clone(),
        login_record_item(&email, &user_id, &hash),
    ];
    SignedIn {
        email,
        access,
        refresh: keys.encode(&refresh),
        items,
        session,
    }
}

impl SignedIn {
    /// Another live session of this user, as a `Query` of its sessions finds it.
    fn another_session(&self) -> Item {
        live_session_item(&user_of(&self.access), &some_session(), "another")
    }

    /// A fake that holds this user: every `BatchGetItem` finds the user's
    /// items (whichever it asks for), and `answers` answer the rest, as in
    /// [`fake_answering`]; and the in-process app over it.
    async fn in_fake(&self, answers: Vec<(&'static str, Vec<Reply>)>) -> (FakeDynamo, TestApp) {
        let batch = batch_get_answer(&local_config().users_table, &self.items);
        let mut answers = answers;
        answers.push(("BatchGetItem", vec![batch]));
        let fake = fake_answering(answers).await;
        let app = app_over(&fake).await;
        (fake, app)
    }
}

/// A single-item write's answers: the conflict once, then the write made.
fn conflict_once() -> Vec<Reply> {
    vec![transaction_conflict(), written()]
}

#[tokio::test]
async fn a_refresh_rotation_that_meets_a_transaction_is_retried() {
    let user = signed_in().await;
    // The session and its user come in the one BatchGetItem the fake answers.
    let (fake, app) = user.in_fake(vec![("UpdateItem", conflict_once())]).await;
    refresh(&app, &user.refresh)
        .await
        .assert_success(200, REFRESHED);
    assert_eq!(
        fake.operations(),
        ["BatchGetItem", "UpdateItem", "UpdateItem"]
    );
}

#[tokio::test]
async fn a_session_deletion_that_meets_a_transaction_is_retried() {
    // One transaction: the session deleted, its webhook event written.
    let user = signed_in().await;
    let conflict = cancelled(&["TransactionConflict", "None"]);
    let answers = vec![("TransactWriteItems", vec![conflict, written()])];
    let (fake, app) = user.in_fake(answers).await;
    revoke_session(&app, &user.access, &some_session())
        .await
        .assert_success(200, SESSION_REVOKED);
    let operations = fake.operations();
    assert_eq!(
        operations,
        ["BatchGetItem", "TransactWriteItems", "TransactWriteItems"]
    );
}

#[tokio::test]
async fn ending_the_other_sessions_retries_a_deletion_that_meets_a_transaction() {
    // The same retry where logout (scope=others) and password change end a
    // user's other sessions, one DeleteItem each.
    // Of two other sessions, the first goes by DeleteItem, the last in a
    // transaction with the webhook event: each retried.
    let user = signed_in().await;
    let third = live_session_item(&user_of(&user.access), &some_session(), "a third");
    let sessions = query_answer(&[user.session.clone(), user.another_session(), third]);
    let conflict = cancelled(&["TransactionConflict", "None"]);
    let (fake, app) = user
        .in_fake(vec![
            ("Query", vec![sessions]),
            ("DeleteItem", conflict_once()),
            ("TransactWriteItems", vec![conflict, written()]),
        ])
        .await;
    logout_scope(&app, &user.access, "others")
        .await
        .assert_success(200, LOGGED_OUT);
    let mut operations = fake.operations();
    // The two deletions are sent together: their order is either.
    operations[2..].sort();
    assert_eq!(
        operations,
        [
            "BatchGetItem",
            "Query",
            "DeleteItem",
            "DeleteItem",
            "TransactWriteItems",
            "TransactWriteItems"
        ]
    );
}

#[tokio::test]
async fn a_password_update_cancelled_for_a_conflict_is_retried() {
    // Its transaction: the new hash (conditional on the old one), the check
    // of the last sign-in and the account counter's deletion.
    let user = signed_in().await;
    let only_this_session = query_answer(std::slice::from_ref(&user.session));
    let conflict = cancelled(&["TransactionConflict", "None", "None"]);
    let (fake, app) = user
        .in_fake(vec![
            // No last sign-in recorded.
            ("GetItem", vec![written()]),
            ("UpdateItem", vec![written()]),
            ("Query", vec![only_this_session]),
            ("TransactWriteItems", vec![conflict, written()]),
        ])
        .await;
    change_password(&app, Some(&user.access), PASSWORD, "a brand new password")
        .await
        .assert_success(200, PASSWORD_CHANGED);
    // The token check with the last sign-in; the hash with its counter, the
    // claim on it and the sessions' listing (issue 29: each round sent
    // together, so in any order); the change (with the sessions listed)
    // twice, and no sweep after it: the last sign-in was still the one read.
    let mut operations = fake.operations();
    operations[..2].sort();
    operations[2..5].sort();
    let expected = [
        "BatchGetItem",
        "GetItem",
        "BatchGetItem",
        "Query",
        "UpdateItem",
        "TransactWriteItems",
        "TransactWriteItems",
    ];
    assert_eq!(operations, expected);
}

#[tokio::test]
async fn a_sign_in_since_the_listing_fails_the_password_change_and_is_swept_after() {
    // Issue 29: the change holds only while the last sign-in read with the
    // token is still the last. Here a login opened a session after it was
    // read (the transaction fails on that check): the change is written
    // again without it, and the sweep after ends the new session.
    let user = signed_in().await;
    let last = schema::last_opened_item(&schema::session_from(&user.session).unwrap());
    let only_this_session = query_answer(std::slice::from_ref(&user.session));
    let opened_since = query_answer(&[user.session.clone(), user.another_session()]);
    let signed_in_since = cancelled(&["None", "ConditionalCheckFailed", "None"]);
    let (fake, app) = user
        .in_fake(vec![
            ("GetItem", vec![get_item_answer(&last)]),
            ("UpdateItem", vec![written()]),
            ("Query", vec![only_this_session, opened_since]),
            ("TransactWriteItems", vec![signed_in_since, written()]),
        ])
        .await;
    change_password(&app, Some(&user.access), PASSWORD, "a brand new password")
        .await
        .assert_success(200, PASSWORD_CHANGED);
    let mut operations = fake.operations();
    operations[..2].sort();
    operations[2..5].sort();
    let expected = [
        "BatchGetItem",
        "GetItem",
        "BatchGetItem",
        "Query",
        "UpdateItem",
        // Refused for the sign-in; written without the check.
        "TransactWriteItems",
        "TransactWriteItems",
        // The sweep: the new session's delete, with its event.
        "Query",
        "TransactWriteItems",
    ];
    assert_eq!(operations, expected);
}

#[tokio::test]
async fn a_login_claim_that_meets_a_transaction_is_retried() {
    // The claim's counter can be in another login's settling transaction.
    let user = signed_in().await;
    let (fake, app) = user
        .in_fake(vec![
            ("UpdateItem", conflict_once()),
            ("TransactWriteItems", vec![written()]),
        ])
        .await;
    login(&app, &user.email, PASSWORD)
        .await
        .assert_success(200, LOGGED_IN);
    let expected = [
        "BatchGetItem",
        "UpdateItem",
        "UpdateItem",
        "TransactWriteItems",
    ];
    assert_eq!(fake.operations(), expected);
}

// ---- the invocation's deadline -----------------------------------------------

#[tokio::test]
async fn a_call_still_waiting_at_the_lambda_deadline_gets_our_503_first() {
    use lambda_http::{Body, Request, RequestExt, lambda_runtime::Context};
    let fake = FakeDynamo::silent().await;
    let app = app_with_storage_at(&local_config(), &fake.url).await;
    let token = token_signed_by(&app);
    // One second to go: less than one 2 s SDK attempt, so without the deadline
    // the call would go on to a second attempt and past the deadline.
    let mut context = Context::default();
    context.deadline = auth::now_millis() + 1_500;
    let mut request = Request::new(Body::Empty).with_lambda_context(context);
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let reply = tokio::time::timeout(HANG_BOUND, auth::Endpoint::Status.handle(&app, request))
        .await
        .expect("the call ends");
    assert_eq!(reply.status(), 503);
    let body: serde_json::Value = serde_json::from_slice(reply.body()).unwrap();
    assert_eq!(body["message"], UNAVAILABLE);
    assert_eq!(fake.operations().len(), 1, "{:?}", fake.operations());
}

// ---- failed logins that cannot be counted -----------------------------------
//
// A failure the service cannot count would be a free guess for an attacker, so
// when the counting write fails, login fails closed: 503, never the 404 that
// would confirm the guess was wrong.

/// A fake whose reads find `items` in the users table and whose every write
/// fails with a 500.
async fn fake_failing_writes(items: &[Item]) -> FakeDynamo {
    let batch = batch_get_answer(&local_config().users_table, items);
    FakeDynamo::start(Arc::new(move |operation: &str, _| match operation {
        "BatchGetItem" => Some(batch.clone()),
        _ => Some(internal_error()),
    }))
    .await
}

#[tokio::test]
async fn a_failure_that_cannot_be_counted_gets_a_503_not_a_404() {
    let fake = fake_failing_writes(&[]).await;
    let app = app_over(&fake).await;
    login(&app, &unique_email(), PASSWORD)
        .await
        .assert_fail(503, UNAVAILABLE);
    assert!(
        fake.operations().contains(&"UpdateItem".to_owned()),
        "the count was attempted: {:?}",
        fake.operations()
    );
}

#[tokio::test]
async fn an_attempt_whose_claim_cannot_be_written_gets_a_503_before_bcrypt() {
    // The account is at its last free failure, so this attempt's claim is the
    // one that would use it up. Since issue 11 every attempt claims, with a
    // conditional UpdateItem (before, only this last free one did, with a
    // transaction): the read, then the claim's attempts, and nothing after
    // them: no bcrypt-and-session transaction, no second read.
    let email = unique_email();
    let counter = account_counter_item(&email, 4, auth::now_millis(), auth::now() + 3600);
    let fake = fake_failing_writes(&[counter]).await;
    let app = app_over(&fake).await;
    login(&app, &email, PASSWORD)
        .await
        .assert_fail(503, UNAVAILABLE);
    let operations = fake.operations();
    let (read, claims) = operations.split_at(1.min(operations.len()));
    assert_eq!(read, ["BatchGetItem"], "{operations:?}");
    let claims = attempts_of_one_operation("the claim", claims);
    assert_eq!(operations[1], "UpdateItem", "{operations:?}");
    assert!(claims <= MAX_ATTEMPTS, "{operations:?}");
}
