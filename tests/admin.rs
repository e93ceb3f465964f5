//! Admins and account owners (issue 15): the admin endpoints, each refused to
//! a non-admin (403) and to a demoted admin's old token; disabling, enabling,
//! signing out and erasing a user, with the effect on their existing tokens;
//! paging through the users; ids that are not one of ours; the rule that an
//! admin cannot disable or delete their own account; and an owner deleting
//! their own account. Runs in-process or over HTTP; admins are made behind the
//! service's back, as `make create-admin` does, so the tests skip against a
//! deployment.

use auth::store::{NewUser, PageCursor, Registration, Store};
use futures_util::StreamExt;
use serde_json::Value;
use std::collections::BTreeMap;
use test_support::*;

/// An admin's email and a fresh access token, logged in after the promotion.
async fn new_admin(app: &TestApp, backstage: &Backstage) -> (String, String) {
    let (email, registered) = new_account(app).await;
    registered.assert_success(201, REGISTERED);
    backstage.set_admin(&email, true).await;
    let token = login(app, &email, PASSWORD).await.token();
    (email, token)
}

#[tokio::test]
async fn a_non_admin_is_refused_every_admin_route_and_the_token_says_who_is_admin() {
    let Some((app, backstage)) = app_and_backstage_or_skip("non_admin").await else {
        return;
    };
    let (_, user) = new_account(&app).await;
    let token = user.token();
    assert_eq!(claims_of(&token)["admin"], false);
    let someone = user_of(&user.token());
    let answers = [
        list_users(&app, &token, "").await,
        get_user(&app, &token, &someone).await,
        admin_post(&app, &token, &someone, "disable").await,
        admin_post(&app, &token, &someone, "enable").await,
        admin_post(&app, &token, &someone, "sign-out").await,
        delete_user(&app, &token, &someone).await,
    ];
    for answer in answers {
        answer.assert_fail(403, ADMIN_REQUIRED);
    }
    // Nothing was done to the user on the way.
    assert_eq!(status(&app, &token).await.status, 200);
    // Without a token, the token check answers first.
    let anonymous = call(&app, "GET", "/admin/users", None, None).await;
    anonymous.assert_fail(401, NO_TOKEN);

    let (_, admin) = new_admin(&app, &backstage).await;
    assert_eq!(claims_of(&admin)["admin"], true);
}

#[tokio::test]
async fn the_role_in_storage_decides_whatever_the_token_says() {
    let Some((app, backstage)) = app_and_backstage_or_skip("role").await else {
        return;
    };
    // Promoted after the token was issued: it works at once.
    let (email, user) = new_account(&app).await;
    let before = user.token();
    backstage.set_admin(&email, true).await;
    assert_eq!(list_users(&app, &before, "?limit=1").await.status, 200);
    // Demoted: a token issued while admin (its claim says so) grants nothing.
    let while_admin = login(&app, &email, PASSWORD).await.token();
    assert_eq!(claims_of(&while_admin)["admin"], true);
    backstage.set_admin(&email, false).await;
    list_users(&app, &while_admin, "")
        .await
        .assert_fail(403, ADMIN_REQUIRED);
    // And a refreshed token carries the role as it is now.
    let refreshed = refresh(&app, &user.refresh_token()).await;
    assert_eq!(claims_of(&refreshed.token())["admin"], false);
}

#[tokio::test]
async fn a_disabled_user_is_shut_out_at_once_and_let_back_in_by_enable() {
    let Some((app, backstage)) = app_and_backstage_or_skip("disable").await else {
        return;
    };
    let (_, admin) = new_admin(&app, &backstage).await;
    let (email, laptop, phone) = on_laptop_and_phone(&app).await;
    let user_id = user_of(&laptop.token());

    admin_post(&app, &admin, &user_id, "disable")
        .await
        .assert_success(200, USER_DISABLED);
    // Existing access tokens and refresh tokens are refused from now on.
    assert_session_ended(&app, &laptop).await;
    assert_session_ended(&app, &phone).await;
    // Login says "disabled" only to someone who knows the password.
    login(&app, &email, PASSWORD)
        .await
        .assert_fail(403, ACCOUNT_DISABLED);
    login(&app, &email, "not the password")
        .await
        .assert_fail(404, USER_DOES_NOT_EXIST);
    let shown = get_user(&app, &admin, &user_id).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.body["data"]["user"]["disabled"], true);
    assert_eq!(shown.body["data"]["sessions"], serde_json::json!([]));
    // Twice is the same as once.
    admin_post(&app, &admin, &user_id, "disable")
        .await
        .assert_success(200, USER_DISABLED);

    admin_post(&app, &admin, &user_id, "enable")
        .await
        .assert_success(200, USER_ENABLED);
    let back = login(&app, &email, PASSWORD).await;
    back.assert_success(200, LOGGED_IN);
    assert_eq!(status(&app, &back.token()).await.status, 200);
    // The sessions the disabling ended stay ended.
    assert_session_ended(&app, &laptop).await;
}

#[tokio::test]
async fn the_disabled_flag_alone_refuses_access_and_refresh_tokens() {
    let Some((app, backstage)) = app_and_backstage_or_skip("disabled_flag").await else {
        return;
    };
    // The flag without the disable's session sweep, as after a sweep that
    // failed or a login that raced it: the token check reads the flag.
    let (email, laptop, phone) = on_laptop_and_phone(&app).await;
    backstage.set_disabled(&email, true).await;
    assert_session_ended(&app, &laptop).await;
    // The sessions were there all along: cleared, the flag lets them back.
    backstage.set_disabled(&email, false).await;
    assert_session_works(&app, &phone).await;
}

#[tokio::test]
async fn sign_out_ends_every_session_of_the_user_and_nothing_else() {
    let Some((app, backstage)) = app_and_backstage_or_skip("sign_out").await else {
        return;
    };
    let (_, admin) = new_admin(&app, &backstage).await;
    let (email, laptop, phone) = on_laptop_and_phone(&app).await;
    let (_, bystander, _) = on_laptop_and_phone(&app).await;
    admin_post(&app, &admin, &user_of(&laptop.token()), "sign-out")
        .await
        .assert_success(200, USER_SIGNED_OUT);
    assert_session_ended(&app, &laptop).await;
    assert_session_ended(&app, &phone).await;
    assert_session_works(&app, &bystander).await;
    // The account itself is untouched.
    login(&app, &email, PASSWORD)
        .await
        .assert_success(200, LOGGED_IN);
}

#[tokio::test]
async fn a_deleted_user_is_erased_their_tokens_die_and_the_email_registers_again() {
    let Some((app, backstage)) = app_and_backstage_or_skip("delete").await else {
        return;
    };
    let (_, admin) = new_admin(&app, &backstage).await;
    let (email, laptop, _) = on_laptop_and_phone(&app).await;
    let user_id = user_of(&laptop.token());
    // A failed login (a counter) and a pending reset code: erased too.
    login(&app, &email, "not the password").await;
    forgot_password(&app, &email).await;
    assert!(backstage.items_of_account(&user_id, &email).await >= 5);

    delete_user(&app, &admin, &user_id)
        .await
        .assert_success(200, USER_DELETED);
    assert_eq!(backstage.items_of_account(&user_id, &email).await, 0);
    assert_session_ended(&app, &laptop).await;
    get_user(&app, &admin, &user_id)
        .await
        .assert_fail(404, USER_NOT_FOUND);
    delete_user(&app, &admin, &user_id)
        .await
        .assert_fail(404, USER_NOT_FOUND);
    register(&app, &email).await.assert_success(201, REGISTERED);
}

#[tokio::test]
async fn unknown_and_malformed_ids_get_the_same_404_on_every_route() {
    let Some((app, backstage)) = app_and_backstage_or_skip("ids").await else {
        return;
    };
    let (_, admin) = new_admin(&app, &backstage).await;
    let (_, user) = new_account(&app).await;
    let real = user_of(&user.token());
    let ids = [
        uuid::Uuid::new_v4().to_string(),
        "not-a-user".to_owned(),
        real.to_uppercase(),
        format!("{real}0"),
        "9".repeat(65),
    ];
    for id in &ids {
        let answers = [
            get_user(&app, &admin, id).await,
            admin_post(&app, &admin, id, "disable").await,
            admin_post(&app, &admin, id, "enable").await,
            admin_post(&app, &admin, id, "sign-out").await,
            delete_user(&app, &admin, id).await,
        ];
        for answer in answers {
            answer.assert_fail(404, USER_NOT_FOUND);
        }
    }
    // The real one was not touched by its look-alikes.
    assert_eq!(status(&app, &user.token()).await.status, 200);
}

#[tokio::test]
async fn an_admin_cannot_disable_or_delete_their_own_account() {
    let Some((app, backstage)) = app_and_backstage_or_skip("self").await else {
        return;
    };
    let (_, admin) = new_admin(&app, &backstage).await;
    let own = user_of(&admin);
    admin_post(&app, &admin, &own, "disable")
        .await
        .assert_fail(409, OWN_ADMIN_ACCOUNT);
    delete_user(&app, &admin, &own)
        .await
        .assert_fail(409, OWN_ADMIN_ACCOUNT);
    delete_account(&app, &admin, PASSWORD)
        .await
        .assert_fail(409, OWN_ADMIN_ACCOUNT);
    // Still an admin, still in.
    assert_eq!(list_users(&app, &admin, "?limit=1").await.status, 200);
}

#[tokio::test]
async fn paging_through_250_users_by_100_shows_each_exactly_once_newest_first() {
    let Some((app, backstage)) = app_and_backstage_or_skip("paging").await else {
        return;
    };
    let (_, admin) = new_admin(&app, &backstage).await;
    // 250 accounts straight into the table (the paging, not registration,
    // is under test here), all with one registration second, so that the
    // order within it comes from the ids.
    let store = backstage.users_store();
    // A fixed day long past: the listing test's admin, registered now, stays
    // among the newest 100 while these are written.
    let registered_on = "2000-01-01T00:00:00Z".to_owned();
    let ours: Vec<String> = (0..250).map(|_| auth::ids::new_user_id()).collect();
    let writes = ours.iter().map(|user_id| {
        let user = NewUser {
            user_id: user_id.clone(),
            email: unique_email(),
            password_hash: "$2b$04$not-a-real-hash-not-a-real-hash-not-a-real-ha".to_owned(),
            registered_on: registered_on.clone(),
            roles: auth::roles::Roles::default(),
            email_verified: false,
        };
        let store = &store;
        async move { store.create_user(&user, None, None).await.unwrap() }
    });
    // Sixteen at a time: 250 at once outran the SDK's 2 s attempt timeout
    // on DynamoDB Local when the CI machine was busy.
    let registrations: Vec<Registration> = futures_util::stream::iter(writes)
        .buffer_unordered(16)
        .collect()
        .await;
    for registration in registrations {
        assert_eq!(registration, Registration::Created);
    }

    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    let mut query = "?limit=100".to_owned();
    loop {
        let page = list_users(&app, &admin, &query).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let users = page.body["data"]["users"].as_array().unwrap().clone();
        assert!(users.len() <= 100);
        for user in &users {
            let id = user["id"].as_str().unwrap().to_owned();
            *seen.entry(id.clone()).or_default() += 1;
            order.push((user["registered_on"].as_str().unwrap().to_owned(), id));
        }
        match &page.body["data"]["next_cursor"] {
            Value::String(cursor) => query = format!("?limit=100&cursor={cursor}"),
            Value::Null => break,
            other => panic!("next_cursor {other}"),
        }
    }
    for id in &ours {
        assert_eq!(seen.get(id), Some(&1), "user {id} listed once");
    }
    // Newest first (within a second, by id), across the pages.
    let mut sorted = order.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(order, sorted);
}

#[tokio::test]
async fn a_full_last_page_has_no_next_cursor() {
    let Some(backstage) = backstage_or_skip("last_page").await else {
        return;
    };
    let store = backstage.users_store();
    // Three accounts older than any other in the table, however often the
    // suite has run against it: each run's are older than the last run's.
    let oldest = 2_000_000_000 - auth::now();
    let ours: Vec<String> = (0..3).map(|_| auth::ids::new_user_id()).collect();
    for (user_id, registered) in ours.iter().zip([oldest + 1, oldest, oldest]) {
        let user = NewUser {
            user_id: user_id.clone(),
            email: unique_email(),
            password_hash: "$2b$04$not-a-real-hash-not-a-real-hash-not-a-real-ha".to_owned(),
            registered_on: auth::rfc3339(registered),
            roles: auth::roles::Roles::default(),
            email_verified: false,
        };
        let created = store.create_user(&user, None, None).await.unwrap();
        assert_eq!(created, Registration::Created);
    }
    // After the newest of the three, a page of two holds the other two and
    // ends the listing.
    let newest = store.profile(&ours[0]).await.unwrap().unwrap();
    let page = store
        .users_page(2, Some(&PageCursor::after(&newest)))
        .await
        .unwrap();
    let mut listed: Vec<String> = page.users.into_iter().map(|user| user.user_id).collect();
    listed.sort();
    let mut older = ours[1..].to_vec();
    older.sort();
    assert_eq!(listed, older);
    assert_eq!(page.next, None, "the last page says there is no next one");
}

#[tokio::test]
async fn a_listed_user_shows_exactly_its_fields_and_bad_limits_or_cursors_are_400() {
    let Some((app, backstage)) = app_and_backstage_or_skip("listing").await else {
        return;
    };
    let (admin_email, admin) = new_admin(&app, &backstage).await;
    let page = list_users(&app, &admin, "?limit=100").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let users = page.body["data"]["users"].as_array().unwrap();
    let me = users
        .iter()
        .find(|user| user["email"] == admin_email.as_str())
        .expect("the newest users include the admin just made");
    let fields: Vec<&str> = me.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        [
            "admin",
            "app_metadata",
            "disabled",
            "email",
            "email_verified",
            "id",
            "registered_on",
            "roles",
            "user_metadata"
        ]
    );
    assert_eq!(me["admin"], true);
    assert_eq!(me["roles"], serde_json::json!(["admin"]));
    assert_eq!(me["disabled"], false);

    for limit in ["0", "101", "-1", "ten", "1.5", ""] {
        list_users(&app, &admin, &format!("?limit={limit}"))
            .await
            .assert_fail(400, BAD_LIMIT);
    }
    for cursor in ["", "bm90LWEtY3Vyc29y", "%27%20OR%201=1"] {
        list_users(&app, &admin, &format!("?cursor={cursor}"))
            .await
            .assert_fail(400, BAD_CURSOR);
    }
}

#[tokio::test]
async fn an_admin_sees_a_users_sessions_as_the_owner_does_without_secrets() {
    let Some((app, backstage)) = app_and_backstage_or_skip("get_user").await else {
        return;
    };
    let (_, admin) = new_admin(&app, &backstage).await;
    let (email, laptop, _) = on_laptop_and_phone(&app).await;
    let shown = get_user(&app, &admin, &user_of(&laptop.token())).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.body["data"]["user"]["email"], email.as_str());
    let sessions = shown.body["data"]["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3, "registration, laptop, phone");
    let owners_view = list_sessions(&app, &laptop.token()).await;
    for session in sessions {
        let fields: Vec<&str> = session
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            fields,
            ["created_at", "device", "expires_at", "id", "last_used_at"]
        );
        let same = owners_view.iter().find(|own| own["id"] == session["id"]);
        assert_eq!(same.unwrap()["device"], session["device"]);
    }
}

#[tokio::test]
async fn an_owner_deletes_their_account_with_its_password_only() {
    let Some((app, backstage)) = app_and_backstage_or_skip("delete_account").await else {
        return;
    };
    let (email, laptop, phone) = on_laptop_and_phone(&app).await;
    let user_id = user_of(&laptop.token());
    // A wrong password deletes nothing, and counts as a failed login would.
    delete_account(&app, &laptop.token(), "not the password")
        .await
        .assert_fail(403, WRONG_CURRENT_PASSWORD);
    assert_eq!(backstage.stored_failures(&email).await, Some(1));
    assert_session_works(&app, &phone).await;
    let missing = call_with_token(&app, "DELETE", "/auth/account", &laptop.token(), None).await;
    assert_eq!(missing.status, 400, "{}", missing.body);

    delete_account(&app, &laptop.token(), PASSWORD)
        .await
        .assert_success(200, ACCOUNT_DELETED);
    assert_eq!(backstage.items_of_account(&user_id, &email).await, 0);
    assert_session_ended(&app, &laptop).await;
    assert_session_ended(&app, &phone).await;
    register(&app, &email).await.assert_success(201, REGISTERED);
}

#[tokio::test]
async fn guessing_the_password_to_delete_an_account_is_throttled_like_a_login() {
    let Some((app, backstage)) = app_and_backstage_or_skip("delete_account_throttled").await else {
        return;
    };
    // A stolen access token is not enough: the guesses count on the
    // account's failed-login counter, and past the free ones even the right
    // password waits and erases nothing.
    let (email, laptop, phone) = on_laptop_and_phone(&app).await;
    let user_id = user_of(&laptop.token());
    for guess in 1..=ACCOUNT_FREE_FAILURES {
        let answer = delete_account(&app, &laptop.token(), "a wrong guess").await;
        assert_eq!(answer.status, 403, "guess {guess}: {}", answer.body);
    }
    delete_account(&app, &laptop.token(), PASSWORD)
        .await
        .assert_fail(429, THROTTLED);
    assert!(backstage.items_of_account(&user_id, &email).await >= 3);
    assert_session_works(&app, &phone).await;
}

#[tokio::test]
async fn an_admin_sets_roles_that_tokens_status_and_the_admin_view_carry() {
    let Some((app, backstage)) = app_and_backstage_or_skip("roles").await else {
        return;
    };
    let (_, admin) = new_admin(&app, &backstage).await;
    let (email, registered) = new_account(&app).await;
    let user_id = user_of(&registered.token());
    let path = format!("/admin/users/{user_id}/roles");
    let put = |token: &str, body: &str| {
        let (app, token, path, body) = (&app, token.to_owned(), path.clone(), body.to_owned());
        async move { call_with_token(app, "PUT", &path, &token, Some(&body)).await }
    };

    // Not an admin: refused, whatever the body.
    put(&registered.token(), r#"{"roles": ["admin"]}"#)
        .await
        .assert_fail(403, ADMIN_REQUIRED);
    // Bad roles: 400, with the reason and the code.
    for bad in [
        r#"{"roles": "support"}"#,
        r#"{"roles": ["Support"]}"#,
        r#"{"roles": [1]}"#,
        r#"{}"#,
    ] {
        let answer = put(&admin, bad).await;
        assert_eq!(answer.status, 400, "{bad}: {}", answer.body);
        assert_eq!(answer.body["code"], "validation_failed", "{bad}");
    }
    let too_many: Vec<String> = (0..21).map(|i| format!("r{i}")).collect();
    let body = serde_json::json!({ "roles": too_many }).to_string();
    assert_eq!(put(&admin, &body).await.status, 400);

    let answer = put(
        &admin,
        r#"{"roles": ["support", "billing:read", "support"]}"#,
    )
    .await;
    answer.assert_success(200, "Roles updated.");
    assert_eq!(
        answer.body["data"]["roles"],
        serde_json::json!(["billing:read", "support"])
    );
    assert_eq!(answer.body["data"]["admin"], false);
    // Status shows them at once; the next tokens carry them.
    let shown = status(&app, &registered.token()).await;
    assert_eq!(
        shown.body["data"]["roles"],
        serde_json::json!(["billing:read", "support"])
    );
    let renewed = login(&app, &email, PASSWORD).await;
    let claims = claims_of(&renewed.token());
    assert_eq!(
        claims["roles"],
        serde_json::json!(["billing:read", "support"])
    );
    assert_eq!(claims["admin"], false);

    // The role admin makes an admin, as create-admin's flag did.
    put(&admin, r#"{"roles": ["admin"]}"#)
        .await
        .assert_success(200, "Roles updated.");
    assert_eq!(
        list_users(&app, &renewed.token(), "?limit=1").await.status,
        200
    );
    // No admin takes admin from themselves; with it kept, other roles change.
    let own = format!("/admin/users/{}/roles", user_of(&admin));
    let body = r#"{"roles": ["support"]}"#;
    let refused = call_with_token(&app, "PUT", &own, &admin, Some(body)).await;
    refused.assert_fail(409, "Admins cannot remove their own admin role.");
    assert_eq!(refused.body["code"], "own_admin_role");
    let body = r#"{"roles": ["admin", "support"]}"#;
    call_with_token(&app, "PUT", &own, &admin, Some(body))
        .await
        .assert_success(200, "Roles updated.");
    // Unknown user: 404.
    let nobody = format!("/admin/users/{}/roles", auth::ids::new_user_id());
    call_with_token(&app, "PUT", &nobody, &admin, Some(body))
        .await
        .assert_fail(404, USER_NOT_FOUND);
}

#[tokio::test]
async fn only_an_admin_writes_app_metadata_which_status_and_the_admin_view_show() {
    let Some((app, backstage)) = app_and_backstage_or_skip("app_metadata").await else {
        return;
    };
    let (_, admin) = new_admin(&app, &backstage).await;
    let (_, registered) = new_account(&app).await;
    let user_id = user_of(&registered.token());
    let path = format!("/admin/users/{user_id}");
    let body = r#"{"app_metadata": {"plan": "pro", "seats": 5}}"#;
    call_with_token(&app, "PATCH", &path, &registered.token(), Some(body))
        .await
        .assert_fail(403, ADMIN_REQUIRED);
    let answer = call_with_token(&app, "PATCH", &path, &admin, Some(body)).await;
    answer.assert_success(200, "User updated.");
    let expected = serde_json::json!({"plan": "pro", "seats": 5});
    assert_eq!(answer.body["data"]["app_metadata"], expected);
    let shown = status(&app, &registered.token()).await;
    assert_eq!(shown.body["data"]["app_metadata"], expected);
    let viewed = call_with_token(&app, "GET", &path, &admin, None).await;
    assert_eq!(viewed.body["data"]["user"]["app_metadata"], expected);
    let bad = call_with_token(&app, "PATCH", &path, &admin, Some(r#"{"app_metadata": 1}"#)).await;
    bad.assert_fail(400, "app_metadata must be a JSON object.");
    let nobody = format!("/admin/users/{}", auth::ids::new_user_id());
    call_with_token(&app, "PATCH", &nobody, &admin, Some(body))
        .await
        .assert_fail(404, USER_NOT_FOUND);
}
