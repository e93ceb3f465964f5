//! DynamoDB requests per API call, counted (not assumed): the app runs
//! in-process over DynamoDB Local with an SDK interceptor that records the
//! operation of every request it sends, retries included, and the round trips
//! they took (requests in flight together are one round trip). The counts are
//! the design's, exactly: a change here changes the cost of every call.
//!
//! `cargo test --test round_trips -- --nocapture` prints the table.

use auth::App;
use auth::Endpoint::{self, *};
use auth::credentials::totp::Totp;
use auth::mail::outbox::MailKind;
use auth::store::dynamo::DynamoStore;
use lambda_http::Body;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use test_support::mailbox::{code_after, latest_code};
use test_support::traffic::{RequestLog, app_watched_by};
use test_support::{
    PASSWORD, credentials, password_change, refresh_body, request_from, routed, unique_email,
};

struct Counted {
    app: App<DynamoStore>,
    log: RequestLog,
    /// The table's rows, one per call made.
    table: Vec<String>,
    /// The endpoints called.
    covered: BTreeSet<Endpoint>,
}

/// One call to make: an endpoint at its route (or at `path`), with a bearer
/// token and a body if any.
struct Call<'a> {
    endpoint: Endpoint,
    path: String,
    token: Option<&'a str>,
    body: Option<String>,
}

fn to<'a>(endpoint: Endpoint) -> Call<'a> {
    Call {
        endpoint,
        path: endpoint.route().1.to_owned(),
        token: None,
        body: None,
    }
}

impl<'a> Call<'a> {
    fn at(self, path: &str) -> Self {
        let path = path.to_owned();
        Self { path, ..self }
    }

    fn token(self, token: &'a str) -> Self {
        let token = Some(token);
        Self { token, ..self }
    }

    fn body(self, body: String) -> Self {
        let body = Some(body);
        Self { body, ..self }
    }
}

impl Counted {
    async fn new() -> Self {
        let log = RequestLog::default();
        let (app, _) = app_watched_by(&log).await;
        Self {
            app,
            log,
            table: Vec::new(),
            covered: BTreeSet::new(),
        }
    }

    /// Makes one call as API Gateway delivers it (with a client address),
    /// asserts its status, the DynamoDB requests it made and the round trips
    /// they took, and adds a row to the table. Returns the answer's body.
    async fn expect(
        &mut self,
        what: &str,
        call: Call<'_>,
        status: u16,
        (requests, round_trips): (usize, usize),
    ) -> Value {
        let request = request_from("192.0.2.10", call.body.map_or(Body::Empty, Body::Text));
        let mut request = routed(request, call.endpoint.route(), &call.path);
        if let Some(token) = call.token {
            let value = format!("Bearer {token}").parse().unwrap();
            request.headers_mut().insert("authorization", value);
        }
        self.log.take();
        self.covered.insert(call.endpoint);
        // Boxed, as in test_support::call: the handler's future is deep.
        let response = Box::pin(Endpoint::handle(call.endpoint, &self.app, request)).await;
        let body: Value = serde_json::from_slice(response.body()).unwrap();
        let (sent, took) = self.log.take();
        let sent: Vec<String> = sent.into_iter().map(|sent| sent.operation).collect();
        assert_eq!(response.status().as_u16(), status, "{what}: {body}");
        assert_eq!(
            (sent.len(), took),
            (requests, round_trips),
            "{what}: (requests, round trips) of {sent:?}"
        );
        self.table.push(format!(
            "| {what} | {} | {took} | {} |",
            sent.len(),
            sent.join(", ")
        ));
        body
    }
}

// Every call comes from a client address (192.0.2.10), as through API
// Gateway, so login and register meet their per-address counters.
//
// Issue 11 ("Hardening, second pass") changed three rows:
// - register: the address's registration is counted before bcrypt (an
//   UpdateItem), then the one transaction: 2 requests, 2 round trips (was 1).
// - login: every attempt claims its failure before bcrypt, one conditional
//   UpdateItem per counter (the account's and the address's), sent together;
//   a success then settles the claim in the transaction that opens the
//   session (account counter deleted, the address's claim taken back). So a
//   success is read + claims + session: 4 requests in 3 round trips (was 2 in
//   2), and a failure is read + claims: 3 requests in 2 (was 3 in 2: the
//   failure used to be counted after bcrypt, now the claim is the count).
// - password: the claim on the account's counter (an UpdateItem), and the
//   other sessions ended before the new hash is written as well as after it
//   (a Query each; one DeleteItem for the one other session left here), with
//   the counter cleared in the hash's transaction: 7 requests in 7 round trips
//   (was 5).
//
// Issue 29 ("fewer round trips for account changes"):
// - Every password check (login, its second step, password, delete-account,
//   TOTP enrol and disable, change email, passkey login) sends its claims
//   with its read: a claim that holds only while the counter is below its
//   free failures needs no read first (past them, the read decides and the
//   claim follows, as before). One round trip less in each of those rows,
//   the same requests: login 5 in 2 (was 5 in 3), a failed login 3 in 1
//   (was 3 in 2), login's second step 6 in 3 (was 6 in 4), TOTP enrol and
//   disable 7 in 4 (was 7 in 5), change email 9 in 5 (was 9 in 6), passkey
//   login 10 in 7 (was 10 in 8), a refused one 6 in 4 (was 6 in 5).
// - The sessions a change ends are listed alongside the reads it makes
//   anyway and deleted in the change's own transaction (with their
//   `session.revoked` event), instead of a sweep (Query, then DeleteItems)
//   before it; the sweep after it stays, for a session a login opened in
//   between. (A read sent alongside another is awaited with it, so the
//   counts hold however long either takes.)
//   - password: the Query and the claim go with the hash's BatchGetItem, no
//     DeleteItem round trip: 6 requests in 4 round trips (was 7 in 7).
//   - admin: disable: the GetItem (the named user) and the Query go with
//     the token check: 5 in 3 (was 5 in 5).
//   - admin: delete user: the GetItem and both Queries (sessions, passkeys)
//     go with the token check: 6 in 3 (was 6 in 6).
//   - delete-account: both Queries and the claims go with the BatchGetItem,
//     the sweep's DeleteItem into the erasure: 9 in 4 (was 10 in 8).
// - Every sign-in (login, its second step, passkey login, the provider's
//   token exchange) records the session it opened as the account's last
//   (`SESSION#<id>` / `#`, a Put in the transaction it already sends), and
//   password change reads it with the token check (a GetItem beside the
//   BatchGetItem) and checks it in its transaction: a sign-in between the
//   listing and the change fails the change, which is then written without
//   the check and swept after (tests/faults.rs). The sweep after goes from
//   every change to that race alone: password 6 in 3 (was 6 in 4).
#[tokio::test]
async fn each_call_costs_the_dynamodb_requests_it_is_designed_to() {
    let mut api = Counted::new().await;
    let email = unique_email();
    let login = || to(Login).body(credentials(&email, PASSWORD));

    // UpdateItem (the address's registrations this hour), TransactWriteItems
    // (profile, email, first session, and the verification code with its mail).
    let register = to(Register).body(credentials(&email, PASSWORD));
    let registered = api.expect("register", register, 201, (2, 2)).await;
    let token = registered["auth_token"].as_str().unwrap().to_owned();
    let refresh_token = registered["refresh_token"].as_str().unwrap().to_owned();
    // BatchGetItem (login record and both counters) with UpdateItem x2 (the
    // claims), together; then together: TransactWriteItems (password
    // unchanged, session put, account counter deleted) and UpdateItem (the
    // address's claim taken back, its stamp restored).
    api.expect("login", login(), 200, (5, 2)).await;
    // BatchGetItem with UpdateItem x2: the claims are the failure's count.
    let wrong = to(Login).body(credentials(&email, "not the password"));
    api.expect("login, wrong password", wrong, 404, (3, 1))
        .await;
    let unknown = to(Login).body(credentials(&unique_email(), PASSWORD));
    api.expect("login, unknown email", unknown, 404, (3, 1))
        .await;
    // The failure above is cleared by the next success, in the same write.
    api.expect("login after a failure", login(), 200, (5, 2))
        .await;
    api.expect("status", to(Status).token(&token), 200, (1, 1))
        .await;
    api.expect("status, bad token", to(Status).token("x.y.z"), 401, (0, 0))
        .await;
    // The token check; TransactWriteItems (the profile's metadata).
    let metadata = r#"{"user_metadata": {"display_name": "Ann"}}"#.to_owned();
    let update = to(UpdateAccount).token(&token).body(metadata);
    api.expect("update account", update, 200, (2, 2)).await;
    // BatchGetItem (the session with its user), UpdateItem (the rotation).
    let refresh = to(Refresh).body(refresh_body(&refresh_token));
    let refreshed = api.expect("refresh", refresh, 200, (2, 2)).await;
    let token = refreshed["auth_token"].as_str().unwrap().to_owned();
    // BatchGetItem (the token check), Query.
    let listed = api
        .expect("sessions", to(Sessions).token(&token), 200, (2, 2))
        .await;
    let other = listed["data"]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|session| session["current"] == false)
        .expect("the login's session")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // BatchGetItem (the token check), DeleteItem.
    let revoke = to(RevokeSession)
        .at(&format!("/auth/sessions/{other}"))
        .token(&token);
    api.expect("revoke-session", revoke, 200, (2, 2)).await;
    // BatchGetItem (the token check) with GetItem (the last sign-in);
    // BatchGetItem (hash and counter) with UpdateItem (the claim) and Query
    // (the sessions), together; TransactWriteItems (new hash, counter
    // deleted, the one other session left ended: the second login's, the
    // last sign-in unchanged). No sweep after it.
    let change = to(ChangePassword)
        .token(&token)
        .body(password_change(PASSWORD, "a brand new password"));
    api.expect("password", change, 200, (6, 3)).await;
    let others = to(Logout).at("/auth/logout?scope=others").token(&token);
    // A token check and a query, and no deletes: the password change already
    // ended the others.
    api.expect("logout, scope=others", others, 200, (2, 2))
        .await;
    // One transaction (revoke the token, end its session), no read.
    api.expect("logout", to(Logout).token(&token), 200, (1, 1))
        .await;
    let again = to(Logout).token(&token);
    api.expect("logout, already revoked", again, 401, (1, 1))
        .await;

    // Issue 13. forgot, for an address with an account and without: the
    // same requests (UpdateItem x2: the address's and the source's mail
    // counters, together; TransactWriteItems: the code and its mail, only if
    // the account exists), so the two take the same time.
    let forgot = |email: &str| to(ForgotPassword).body(json!({ "email": email }).to_string());
    api.expect("forgot", forgot(&email), 202, (3, 2)).await;
    api.expect(
        "forgot, unknown email",
        forgot(&unique_email()),
        202,
        (3, 2),
    )
    .await;
    let [known, unknown] = [
        &api.table[api.table.len() - 2],
        &api.table[api.table.len() - 1],
    ]
    .map(|row| row.rsplit('|').nth(1).unwrap().to_owned());
    assert_eq!(known, unknown, "forgot's requests tell known from unknown");
    let new_password = to(Login).body(credentials(&email, "a brand new password"));
    let signed_in = api
        .expect("login (to resend)", new_password, 200, (5, 2))
        .await;
    let live = signed_in["auth_token"].as_str().unwrap().to_owned();
    // The token check; then as forgot: UpdateItem x2 (the mail counters,
    // together), TransactWriteItems (the new code and its mail).
    // Registration's code first: resend's mail may carry the same second.
    let registration_code = latest_code(&email, MailKind::VerifyEmail).await;
    let resend = to(ResendVerification).token(&live);
    api.expect("resend-verification", resend, 202, (4, 3)).await;
    // BatchGetItem (account and code), UpdateItem (a wrong try counted).
    let verify =
        |code: &str| to(VerifyEmail).body(json!({ "email": email, "code": code }).to_string());
    api.expect("verify-email, wrong code", verify("00000000"), 400, (2, 2))
        .await;
    // BatchGetItem, TransactWriteItems (code used up, address verified).
    let code = code_after(&email, MailKind::VerifyEmail, &registration_code).await;
    api.expect("verify-email", verify(&code), 200, (2, 2)).await;
    // BatchGetItem (account and code), TransactWriteItems (code used up, new
    // hash, counter cleared), Query + DeleteItem (the one live session: the
    // resend's login).
    let code = latest_code(&email, MailKind::ResetPassword).await;
    let reset = to(ResetPassword).body(
        json!({ "email": email, "code": code, "new_password": "a reset password" }).to_string(),
    );
    api.expect("reset-password", reset, 200, (4, 4)).await;

    // Issue 15. The admin check is the token check's own read (the role is
    // on the profile it reads); each admin call then reads the user it names.
    let admin_email = unique_email();
    let admin = to(Register).body(credentials(&admin_email, PASSWORD));
    api.expect("register (an admin-to-be)", admin, 201, (2, 2))
        .await;
    let backstage = test_support::backstage()
        .await
        .expect("make test's database");
    backstage.set_admin(&admin_email, true).await;
    let signed_in = api
        .expect(
            "login (the admin)",
            to(Login).body(credentials(&admin_email, PASSWORD)),
            200,
            (5, 2),
        )
        .await;
    let admin = signed_in["auth_token"].as_str().unwrap().to_owned();
    let target = api
        .expect(
            "register (a user)",
            to(Register).body(credentials(&unique_email(), PASSWORD)),
            201,
            (2, 2),
        )
        .await;
    let target_token = target["auth_token"].as_str().unwrap().to_owned();
    let target_id = test_support::claims_of(&target_token)["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = |endpoint: Endpoint, suffix: &str| {
        to(endpoint).at(&format!("/admin/users/{target_id}{suffix}"))
    };
    // BatchGetItem (the token check, the role with it), Query (the index).
    let listing = to(ListUsers).at("/admin/users?limit=10").token(&admin);
    api.expect("admin: list users", listing, 200, (2, 2)).await;
    // The token check; GetItem (the user) and Query (their sessions), together.
    api.expect(
        "admin: get user",
        user(GetUser, "").token(&admin),
        200,
        (3, 2),
    )
    .await;
    // The token check with GetItem and Query (their sessions), together;
    // TransactWriteItems (the flag on profile and login record, their one
    // session ended); Query (the sweep after: none).
    api.expect(
        "admin: disable",
        user(DisableUser, "/disable").token(&admin),
        200,
        (5, 3),
    )
    .await;
    // The token check; GetItem; TransactWriteItems.
    api.expect(
        "admin: enable",
        user(EnableUser, "/enable").token(&admin),
        200,
        (3, 3),
    )
    .await;
    // The token check; GetItem; TransactWriteItems (the roles on profile and
    // login record).
    // The token check; GetItem; TransactWriteItems (the profile's metadata).
    api.expect(
        "admin: update user",
        user(UpdateUser, "")
            .token(&admin)
            .body(r#"{"app_metadata": {"plan": "pro"}}"#.into()),
        200,
        (3, 3),
    )
    .await;
    api.expect(
        "admin: set roles",
        user(SetUserRoles, "/roles")
            .token(&admin)
            .body(r#"{"roles": ["support"]}"#.into()),
        200,
        (3, 3),
    )
    .await;
    // The token check; GetItem; Query (no session left: the disabling ended it).
    api.expect(
        "admin: sign-out",
        user(SignOutUser, "/sign-out").token(&admin),
        200,
        (3, 3),
    )
    .await;
    // The token check with GetItem, Query (the sessions: none left),
    // Query (the passkeys: none here) and Query (the linked identities:
    // none here), together; TransactWriteItems (profile, email claim, both
    // codes, the counter); Query (the sweep after).
    api.expect(
        "admin: delete user",
        user(DeleteUser, "").token(&admin),
        200,
        (7, 3),
    )
    .await;
    // The owner: the token check; BatchGetItem (hash and counters) with
    // UpdateItem x2 (the claims), Query (the sessions), Query (the
    // passkeys: none here) and Query (the linked identities: none here),
    // together; TransactWriteItems (the erasure, their one session and the
    // counter with it) with UpdateItem (the address's claim taken back)
    // together; Query (the sweep after).
    let owner = api
        .expect(
            "register (an owner)",
            to(Register).body(credentials(&unique_email(), PASSWORD)),
            201,
            (2, 2),
        )
        .await;
    let owner = owner["auth_token"].as_str().unwrap().to_owned();
    let erase = to(DeleteAccount)
        .token(&owner)
        .body(json!({ "password": PASSWORD }).to_string());
    api.expect("delete-account", erase, 200, (10, 4)).await;

    // The second factor (issue 23), on a new account.
    let totp_email = unique_email();
    let registered = to(Register).body(credentials(&totp_email, PASSWORD));
    let totp_owner = api.expect("register (TOTP)", registered, 201, (2, 2)).await;
    let totp_owner = totp_owner["auth_token"].as_str().unwrap().to_owned();
    // The token check; the factor (GetItem) beside the login record (BatchGetItem: a password?).
    api.expect("mfa status", to(MfaStatus).token(&totp_owner), 200, (3, 2))
        .await;
    // The token check; GetItem (the factor: not on); BatchGetItem (hash and
    // counters) with UpdateItem x2 (the claims), together; TransactWriteItems
    // (the pending secret, the password's check, the counter cleared) with
    // UpdateItem (the address's claim taken back) together.
    let enroll = to(TotpEnroll)
        .token(&totp_owner)
        .body(json!({ "password": PASSWORD }).to_string());
    let enrolled = api.expect("totp enroll", enroll, 200, (7, 4)).await;
    let secret = enrolled["secret"].as_str().unwrap();
    let code = Totp::from_base32(secret).unwrap().code_at(auth::now());
    // The token check; GetItem; TransactWriteItems (the factor on, the login
    // record's copy, this session); Query (the sweep: no other session).
    let confirm = to(TotpConfirm)
        .token(&totp_owner)
        .body(json!({ "code": code }).to_string());
    api.expect("totp confirm", confirm, 200, (4, 4)).await;
    // As a successful login, but the challenge where the session would be:
    // BatchGetItem with UpdateItem x2 (the claims), TransactWriteItems (the
    // challenge, the password's check) with UpdateItem (the address's claim
    // taken back).
    let login = to(Login).body(credentials(&totp_email, PASSWORD));
    let challenged = api
        .expect("login (second factor on)", login, 401, (5, 2))
        .await;
    let mfa_token = challenged["mfa_token"].as_str().unwrap();
    // BatchGetItem (challenge and factor); BatchGetItem (login record and
    // counters) with UpdateItem x2 (the claims); TransactWriteItems (challenge
    // used, step used, session, account checked, counter cleared) with
    // UpdateItem (the address's claim taken back).
    let next_step = (auth::now() / 30 + 1) * 30;
    let totp = Totp::from_base32(secret).unwrap();
    let answer = json!({ "mfa_token": mfa_token, "code": totp.code_at(next_step) });
    let login_mfa = to(LoginMfa).body(answer.to_string());
    let signed_in = api
        .expect("login, second factor", login_mfa, 200, (6, 3))
        .await;
    let with_factor = signed_in["auth_token"].as_str().unwrap().to_owned();
    // The token check; GetItem; UpdateItem.
    let new_codes = to(NewRecoveryCodes).token(&with_factor);
    api.expect("new recovery codes", new_codes, 200, (3, 3))
        .await;
    // As enrolment: the token check; GetItem; BatchGetItem with UpdateItem x2;
    // TransactWriteItems (factor deleted, login record, counter cleared) with
    // UpdateItem (the address's claim taken back).
    let disable = to(TotpDisable)
        .token(&with_factor)
        .body(json!({ "password": PASSWORD }).to_string());
    api.expect("totp disable", disable, 200, (7, 4)).await;
    // On again, for the admin's reset: the token check; GetItem (the named
    // user); TransactWriteItems (factor deleted, login record).
    let enroll = to(TotpEnroll)
        .token(&with_factor)
        .body(json!({ "password": PASSWORD }).to_string());
    let enrolled = api.expect("totp enroll (again)", enroll, 200, (7, 4)).await;
    let totp = Totp::from_base32(enrolled["secret"].as_str().unwrap()).unwrap();
    let confirm = to(TotpConfirm)
        .token(&with_factor)
        .body(json!({ "code": totp.code_at(auth::now()) }).to_string());
    // As the first confirmation, with one other session to end (the
    // registration's): one DeleteItem more.
    api.expect("totp confirm (again)", confirm, 200, (5, 5))
        .await;
    let user_id = test_support::claims_of(&with_factor)["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    let reset = to(ResetUserMfa)
        .at(&format!("/admin/users/{user_id}/mfa/reset"))
        .token(&admin);
    api.expect("admin: reset a user's TOTP", reset, 200, (3, 3))
        .await;

    // A change of address. The token check; UpdateItem x2 (the mail
    // counters: the new address's and the source's, together); BatchGetItem
    // (hash and counters) with UpdateItem x2 (the claims); BatchGetItem (whether
    // the new address has an account: the same steps when it has);
    // TransactWriteItems (the account and its password checked, the pending
    // change, the code's mail, the notice, the counter cleared) with
    // UpdateItem (the address's claim taken back) together.
    let mover_email = unique_email();
    let registered = to(Register).body(credentials(&mover_email, PASSWORD));
    let mover = api
        .expect("register (email change)", registered, 201, (2, 2))
        .await;
    let mover = mover["auth_token"].as_str().unwrap().to_owned();
    let new_address = unique_email();
    let change = json!({ "new_email": new_address, "password": PASSWORD }).to_string();
    let change = to(ChangeEmail).token(&mover).body(change);
    api.expect("change email", change, 202, (9, 5)).await;
    // The token check; BatchGetItem (login record and pending change);
    // UpdateItem (the wrong guess counted).
    let wrong = to(ConfirmEmailChange)
        .token(&mover)
        .body(json!({ "code": "00000000" }).to_string());
    api.expect("confirm email change, wrong code", wrong, 400, (3, 3))
        .await;
    // The token check; BatchGetItem; BatchGetItem (the login record again,
    // whole, to move it); TransactWriteItems (the change used up, the record
    // moved, the old address's codes deleted, the profile); Query (the sweep:
    // no other session).
    let code = latest_code(&new_address, MailKind::EmailChange).await;
    let confirm = to(ConfirmEmailChange)
        .token(&mover)
        .body(json!({ "code": code }).to_string());
    api.expect("confirm email change", confirm, 200, (5, 5))
        .await;

    passkeys(&mut api).await;
    oidc(&mut api).await;

    // Every endpoint that touches storage has its row (a new one fails
    // here, by name, until the walk calls it).
    let uncounted: Vec<&str> = (Endpoint::ALL.iter())
        .filter(|endpoint| endpoint.description().touches_storage())
        .filter(|endpoint| !api.covered.contains(endpoint))
        .map(|endpoint| endpoint.function_name())
        .collect();
    assert!(uncounted.is_empty(), "no round-trip row for {uncounted:?}");

    eprintln!("| call | DynamoDB requests | round trips | operations |\n|---|---|---|---|");
    for row in &api.table {
        eprintln!("{row}");
    }
}

/// Passkeys (issue 24), with the tests' soft passkey.
async fn passkeys(api: &mut Counted) {
    let origin = test_support::support_rp_origin();
    let email = unique_email();
    let registered = to(Register).body(credentials(&email, PASSWORD));
    let registered = api
        .expect("register (passkeys)", registered, 201, (2, 2))
        .await;
    let token = registered["auth_token"].as_str().unwrap().to_owned();
    // The token check; BatchGetItem (the login record: step-up); Query (the
    // passkeys, excluded); PutItem (the ceremony).
    let options = to(PasskeyRegisterOptions).token(&token);
    let options = api
        .expect("passkey register options", options, 200, (4, 4))
        .await;
    let mut key = test_support::soft_passkey::SoftPasskey::new();
    let credential = key.register(&origin, &options);
    let body = json!({
        "ceremony_id": options["ceremony_id"],
        "credential": credential,
        "name": "Laptop",
    });
    // The token check; DeleteItem (the ceremony, taken); TransactWriteItems
    // (the credential id's claim, the passkey, the account checked).
    let register = to(PasskeyRegister).token(&token).body(body.to_string());
    let added = api.expect("passkey register", register, 201, (3, 3)).await;
    let id = added["id"].as_str().unwrap().to_owned();
    // The token check; Query.
    api.expect("passkeys", to(ListPasskeys).token(&token), 200, (2, 2))
        .await;
    let rename = to(RenamePasskey)
        .at(&format!("/auth/passkeys/{id}"))
        .token(&token)
        .body(json!({ "name": "Work" }).to_string());
    // The token check; UpdateItem.
    api.expect("rename passkey", rename, 200, (2, 2)).await;
    // UpdateItem (the address's hourly count); BatchGetItem (the email's
    // account); Query (its passkeys); PutItem (the ceremony).
    let body = json!({ "email": email }).to_string();
    let options = to(PasskeyLoginOptions).body(body);
    let options = api
        .expect(
            "passkey login options, with the email",
            options,
            200,
            (4, 4),
        )
        .await;
    let assertion = key.sign(&origin, &options);
    let body = json!({ "ceremony_id": options["ceremony_id"], "credential": assertion });
    // BatchGetItem (the credential's and the address's counters) with
    // UpdateItem x2 (the claims), together; DeleteItem (the ceremony);
    // GetItem x2 (owner, credential); GetItem (profile); TransactWriteItems
    // (counter, session); the attempt settled (TransactWriteItems: the
    // credential's counter cleared; UpdateItem: the address's claim taken back).
    let login = to(PasskeyLogin).body(body.to_string());
    api.expect("passkey login", login, 200, (10, 7)).await;
    // UpdateItem (the count); PutItem (the ceremony).
    let options = to(PasskeyLoginOptions).body("{}".to_owned());
    let options = api
        .expect("passkey login options, usernameless", options, 200, (2, 2))
        .await;
    let assertion = key.sign(&origin, &options);
    let mut tampered = assertion;
    tampered["response"]["signature"] = "AAAA".into();
    let body = json!({ "ceremony_id": options["ceremony_id"], "credential": tampered });
    // The claims, the ceremony, the credential: then refused, the failure
    // counted by its claim.
    let login = to(PasskeyLogin).body(body.to_string());
    api.expect("passkey login, bad signature", login, 401, (6, 4))
        .await;
    // The token check; BatchGetItem (step-up); Query; TransactWriteItems.
    let delete = to(DeletePasskey)
        .at(&format!("/auth/passkeys/{id}"))
        .token(&token);
    api.expect("delete passkey", delete, 200, (4, 4)).await;
}

/// At the local provider (`OIDC_PROVIDERS`' `mock`): `sub` signs in with a
/// verified `email`; answers the callback's path and query.
async fn at_provider(authorize: &str, sub: &str, email: &str) -> String {
    let mut url = url::Url::parse(authorize).unwrap();
    url.query_pairs_mut()
        .append_pair("sub", sub)
        .append_pair("email", email)
        .append_pair("email_verified", "true");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(url).send().await.expect("the provider answers");
    let back = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    format!("{}?{}", back.path(), back.query().unwrap_or_default())
}

/// Sign-in with another provider (issue 28), through the local provider.
async fn oidc(api: &mut Counted) {
    use auth::oidc::pkce::Verifier;
    let Some(redirect_to) = std::env::var("ALLOWED_REDIRECT_URLS")
        .ok()
        .filter(|_| std::env::var("OIDC_PROVIDERS").is_ok())
        .and_then(|list| list.split(',').next().map(str::to_owned))
    else {
        eprintln!("round_trips: the sign-in with a provider skipped: OIDC_PROVIDERS is unset");
        for endpoint in [
            OauthStart,
            OauthCallback,
            OauthToken,
            OauthLink,
            OauthCode,
            ListIdentities,
            DeleteIdentity,
        ] {
            api.covered.insert(endpoint);
        }
        return;
    };
    let encoded: String = url::form_urlencoded::byte_serialize(redirect_to.as_bytes()).collect();
    let verifier = Verifier::generate().unwrap();
    let start_path = format!(
        "/auth/oauth/mock/start?redirect_to={encoded}&code_challenge={}",
        verifier.challenge()
    );
    // UpdateItem (the address's starts this hour); PutItem (the state).
    let started = api
        .expect_redirect("oauth start", to(OauthStart).at(&start_path), (2, 2))
        .await;
    let email = unique_email();
    let callback = at_provider(&started, &email, &email).await;
    // DeleteItem (the state, taken); GetItem (the identity's claim: none);
    // BatchGetItem (the address's account: none); TransactWriteItems (the
    // new account: profile, email claim, identity, session, events); PutItem
    // (the one-time code).
    let back = api
        .expect_redirect(
            "oauth callback, a new account",
            to(OauthCallback).at(&callback),
            (5, 5),
        )
        .await;
    let code = param(&back, "code");
    let body = json!({ "code": code, "code_verifier": verifier.as_str() }).to_string();
    // DeleteItem (the code, taken); BatchGetItem (the session and the
    // profile); UpdateItem (the session's first refresh token).
    let signed_in = api
        .expect(
            "oauth token, a new account",
            to(OauthToken).body(body),
            200,
            (3, 3),
        )
        .await;
    let token = signed_in["auth_token"].as_str().unwrap().to_owned();

    // Again: the identity's account.
    let started = api
        .expect_redirect(
            "oauth start (again)",
            to(OauthStart).at(&start_path),
            (2, 2),
        )
        .await;
    let callback = at_provider(&started, &email, &email).await;
    // DeleteItem (the state); GetItem (the identity's claim); GetItem (the
    // profile: not disabled); PutItem (the code).
    let back = api
        .expect_redirect(
            "oauth callback, a known identity",
            to(OauthCallback).at(&callback),
            (4, 4),
        )
        .await;
    let body =
        json!({ "code": param(&back, "code"), "code_verifier": verifier.as_str() }).to_string();
    // DeleteItem (the code); GetItem (the profile); BatchGetItem (the login
    // record: TOTP?); TransactWriteItems (the session, while the account is
    // as read; the counter cleared).
    api.expect(
        "oauth token, a known identity",
        to(OauthToken).body(body),
        200,
        (4, 4),
    )
    .await;

    // The token check; PutItem (the state).
    let link_body = json!({ "redirect_to": redirect_to }).to_string();
    let link = to(OauthLink)
        .at("/auth/oauth/mock/link")
        .token(&token)
        .body(link_body);
    api.expect("oauth link", link, 200, (2, 2)).await;
    // The token check; PutItem (the code): the account page as an app's
    // hosted sign-in.
    let mint_body =
        json!({ "redirect_to": redirect_to, "code_challenge": verifier.challenge() }).to_string();
    let mint = to(OauthCode).token(&token).body(mint_body);
    api.expect("oauth code", mint, 200, (2, 2)).await;
    // The token check; Query.
    let listed = api
        .expect("identities", to(ListIdentities).token(&token), 200, (2, 2))
        .await;
    let id = listed["identities"][0]["id"].as_str().unwrap().to_owned();
    // The token check; BatchGetItem (the login record: no password); Query
    // (the identities); Query (the passkeys: none): the last way in, 409.
    let last = to(DeleteIdentity)
        .at(&format!("/auth/identities/{id}"))
        .token(&token);
    api.expect("delete identity, the last way in", last, 409, (4, 4))
        .await;
}

fn param(location: &str, name: &str) -> String {
    let url = url::Url::parse(location).unwrap();
    let found = url.query_pairs().find(|(key, _)| key == name);
    found
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {location}"))
}

impl Counted {
    /// As [`Counted::expect`], for a call that answers a 302: its `Location`.
    async fn expect_redirect(
        &mut self,
        what: &str,
        call: Call<'_>,
        (requests, round_trips): (usize, usize),
    ) -> String {
        let request = request_from("192.0.2.10", Body::Empty);
        let request = routed(request, call.endpoint.route(), &call.path);
        self.log.take();
        self.covered.insert(call.endpoint);
        let response = Box::pin(Endpoint::handle(call.endpoint, &self.app, request)).await;
        let (sent, took) = self.log.take();
        let sent: Vec<String> = sent.into_iter().map(|sent| sent.operation).collect();
        assert_eq!(
            response.status().as_u16(),
            302,
            "{what}: {:?}",
            response.body()
        );
        assert_eq!(
            (sent.len(), took),
            (requests, round_trips),
            "{what}: (requests, round trips) of {sent:?}"
        );
        self.table.push(format!(
            "| {what} | {} | {took} | {} |",
            sent.len(),
            sent.join(", ")
        ));
        response.headers()["location"].to_str().unwrap().to_owned()
    }
}
