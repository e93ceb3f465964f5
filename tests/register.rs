//! `POST /auth/register`: a new account and its first tokens; an email taken
//! already, whatever its case, spaces or (issue 11) Unicode composition;
//! emails with invisible characters refused; simultaneous registrations of one
//! email; and no account left half-written. Runs in-process over DynamoDB
//! Local (make test), or over HTTP against `API_URL` (make test-e2e).

use std::sync::Arc;
use test_support::*;

#[tokio::test]
async fn register_creates_an_account_and_returns_a_working_token() {
    let app = app().await;
    let (email, answer) = new_account(&app).await;
    answer.assert_success(201, REGISTERED);
    assert_eq!(answer.headers["cache-control"], "no-store");
    let status = status(&app, &answer.token()).await;
    assert_eq!(status.status, 200);
    assert_eq!(status.body["data"]["email"], email.as_str());
}

#[tokio::test]
async fn register_twice_answers_202_even_with_case_and_spaces() {
    let app = app().await;
    let email = unique_email();
    assert_eq!(register(&app, &email).await.status, 201);
    register(&app, &email).await.assert_fail(202, USER_EXISTS);
    let look_alike = format!("  {}\t", email.to_uppercase());
    register(&app, &look_alike)
        .await
        .assert_fail(202, USER_EXISTS);
}

#[tokio::test]
async fn email_look_alikes_in_case_and_whitespace_are_one_account() {
    let app = app().await;
    let email = unique_email();
    assert_eq!(register(&app, &email).await.status, 201);
    let look_alikes = [
        email.to_uppercase(),
        format!("  {email}\t"),
        format!("\n{}", email.replace("example", "EXAMPLE")),
    ];
    for look_alike in &look_alikes {
        register(&app, look_alike)
            .await
            .assert_fail(202, USER_EXISTS);
        let answer = login(&app, look_alike, PASSWORD).await;
        assert_eq!(answer.status, 200, "{look_alike:?}: {}", answer.body);
        let me = status(&app, &answer.token()).await;
        assert_eq!(
            me.body["data"]["email"],
            email.as_str(),
            "one account, shown normalised"
        );
    }
    // A different character is a different address, not a look-alike we merge.
    let cyrillic = email.replacen('e', "е", 1);
    assert_eq!(login(&app, &cyrillic, PASSWORD).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_simultaneous_registrations_of_one_email_create_exactly_one_account() {
    let app = Arc::new(app().await);
    let email = unique_email();
    let answers = at_once(&app, 50, &email, |app, email| async move {
        register(&app, &email).await.code_and_message()
    })
    .await;
    let created = answers.iter().filter(|(code, _)| *code == 201).count();
    let exists = count_of(&answers, 202, USER_EXISTS);
    assert_eq!((created, exists), (1, 49), "{answers:?}");
    if let Some(backstage) = backstage().await {
        assert_eq!(backstage.accounts_with_email(&email).await, 1);
        assert_eq!(backstage.login_records_of(&email).await, 1);
    }
}

#[tokio::test]
async fn a_registration_that_fails_half_way_writes_nothing() {
    // The email is claimed already, so the second of the two writes fails;
    // the first (the profile) must not be left behind.
    let Some((app, backstage)) = app_and_backstage_or_skip("half-written registration").await
    else {
        return;
    };
    let email = unique_email();
    backstage
        .put_login_record(&email, "someone-else", "x")
        .await;
    register(&app, &email).await.assert_fail(202, USER_EXISTS);
    assert_eq!(
        backstage.accounts_with_email(&email).await,
        0,
        "a profile was left behind"
    );
}

#[tokio::test]
async fn emails_with_invisible_characters_are_refused() {
    // Each would otherwise be a second account that looks like the first.
    let app = app().await;
    let email = unique_email();
    assert_eq!(register(&app, &email).await.status, 201);
    let (local, domain) = email.split_once('@').unwrap();
    let look_alikes = [
        ("zero-width space", format!("{local}\u{200B}@{domain}")),
        ("zero-width joiner", format!("{local}@exam\u{200D}ple.com")),
        ("soft hyphen", format!("us\u{AD}{}", &email[2..])),
        ("leading byte-order mark", format!("\u{FEFF}{email}")),
        (
            "right-to-left override",
            format!("{local}\u{202E}@{domain}"),
        ),
    ];
    for (what, look_alike) in &look_alikes {
        for path in ["/auth/register", "/auth/login"] {
            let body = credentials(look_alike, PASSWORD);
            let answer = call(&app, "POST", path, None, Some(&body)).await;
            let expected = (400, EMAIL_INVALID.to_owned());
            assert_eq!(answer.code_and_message(), expected, "{what} on {path}");
        }
    }
    if let Some(backstage) = backstage().await {
        assert_eq!(backstage.accounts_with_email(&email).await, 1);
    }
}

#[tokio::test]
async fn composed_and_decomposed_accents_are_one_account() {
    // NFC: "é" as one code point (U+00E9) and as "e" + U+0301 are one address.
    let app = app().await;
    let composed = format!("jos\u{E9}.{}", unique_email());
    let decomposed = composed.replace('\u{E9}', "e\u{301}");
    assert_ne!(composed, decomposed);
    assert_eq!(register(&app, &composed).await.status, 201);

    let answer = login(&app, &decomposed, PASSWORD).await;
    answer.assert_success(200, LOGGED_IN);
    let me = status(&app, &answer.token()).await;
    assert_eq!(
        me.body["data"]["email"],
        composed.as_str(),
        "shown composed"
    );
    register(&app, &decomposed)
        .await
        .assert_fail(202, USER_EXISTS);
    if let Some(backstage) = backstage().await {
        assert_eq!(backstage.accounts_with_email(&composed).await, 1);
        assert_eq!(backstage.accounts_with_email(&decomposed).await, 0);
    }
}
