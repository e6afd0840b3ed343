//! Sessions, login, logout, throttling and roles, through the real server.
#![allow(clippy::unwrap_used)]

mod common;

use common::{admin_token, code, codes, gql_with_token, start, start_with, Client};
use crm_core::domain::Role;
use crm_server::testkit::{ADMIN, ADMIN_PASSWORD};
use serde_json::json;

#[tokio::test]
async fn login_sets_a_strict_cookie_and_logout_ends_the_session() {
    let server = start().await;
    let c = Client::new(&server);

    let body = c.gql("{ me { id } }", json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED");

    let res = c
        .http
        .post(server.url("/graphql"))
        .json(&json!({ "query": "mutation { login(username: \"admin\", password: \"admin-password-for-tests\") { user { username role } expiresAt } }" }))
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("crm_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attr), "cookie lacks {attr}: {cookie}");
    }
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("crm_session=")
        .to_owned();
    assert!(
        token.len() >= 43,
        "256-bit token expected, got {} chars",
        token.len()
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["data"]["login"]["user"]["role"], "ADMIN");

    let me = c.ok("{ me { username role } }", json!({})).await;
    assert_eq!(me["me"]["username"], ADMIN);

    assert_eq!(c.ok("mutation { logout }", json!({})).await["logout"], true);
    assert_eq!(
        code(&c.gql("{ me { id } }", json!({})).await),
        "UNAUTHENTICATED"
    );

    // The old token is dead on the server, not just forgotten by this client.
    let replay = gql_with_token(&server, &token, "{ me { id } }").await;
    assert_eq!(code(&replay), "UNAUTHENTICATED");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn login_issues_a_new_session_id_and_ends_the_old_one() {
    let server = start().await;
    let first = admin_token(&server, None).await;
    assert_eq!(
        gql_with_token(&server, &first, "{ me { username } }").await["data"]["me"]["username"],
        ADMIN
    );
    let second = admin_token(&server, Some(&first)).await;
    assert_ne!(
        first, second,
        "a login must never keep the session id it came with"
    );
    assert_eq!(
        code(&gql_with_token(&server, &first, "{ me { username } }").await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        gql_with_token(&server, &second, "{ me { username } }").await["data"]["me"]["username"],
        ADMIN
    );
    // A made-up token is just "not signed in".
    assert_eq!(
        code(&gql_with_token(&server, "forged-token-value", "{ me { username } }").await),
        "UNAUTHENTICATED"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let server = start().await;
    let c = Client::new(&server);
    let wrong = c.login(ADMIN, "not-the-password-at-all").await;
    let unknown = c.login("nobody-here", "not-the-password-at-all").await;
    assert_eq!(code(&wrong), "UNAUTHENTICATED");
    assert_eq!(code(&unknown), "UNAUTHENTICATED");
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert!(wrong["data"].is_null(), "{wrong}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn repeated_failures_lock_the_account_even_for_the_right_password() {
    let server = start_with(&[("LOGIN_MAX_FAILURES", "3")]).await;
    let c = Client::new(&server);
    for _ in 0..3 {
        assert_eq!(
            code(&c.login(ADMIN, "wrong-password-guess").await),
            "UNAUTHENTICATED"
        );
    }
    let locked = c.login(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(code(&locked), "RATE_LIMITED", "{locked}");
    assert!(
        locked["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap()
            > 0
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn aliased_logins_in_one_request_are_refused_and_spend_nothing() {
    let server = start_with(&[("LOGIN_MAX_FAILURES", "3")]).await;
    let c = Client::new(&server);
    let flood: String = (0..6)
        .map(|i| format!("a{i}: login(username: \"admin\", password: \"guess-number-{i}\") {{ user {{ id }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let body = c.gql(&format!("mutation {{ {flood} }}"), json!({})).await;
    assert_eq!(codes(&body), vec!["BAD_USER_INPUT"], "{body}");
    // The refused document spent none of the account's three attempts.
    for _ in 0..3 {
        assert_eq!(
            code(&c.login(ADMIN, "a-wrong-password").await),
            "UNAUTHENTICATED"
        );
    }
    assert_eq!(code(&c.login(ADMIN, ADMIN_PASSWORD).await), "RATE_LIMITED");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_viewer_reads_but_may_not_change_anything() {
    let server = start().await;
    server
        .core
        .auth()
        .create_user("viewer", "viewer-password-123", Role::Viewer)
        .await
        .unwrap();
    let c = Client::new(&server);
    assert!(c
        .login("viewer", "viewer-password-123")
        .await
        .get("errors")
        .is_none());
    let me = c.ok("{ me { role } }", json!({})).await;
    assert_eq!(me["me"]["role"], "VIEWER");
    c.ok(
        "{ clients(first: 5) { totalCount } stats { clients { total } } }",
        json!({}),
    )
    .await;
    let body = c
        .gql(
            "mutation { createClient(input: { displayName: \"Иван\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    assert_eq!(
        c.ok("{ clients { totalCount } }", json!({})).await["clients"]["totalCount"],
        0
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn every_root_field_but_login_needs_a_session() {
    let server = start().await;
    let c = Client::new(&server);
    let operations = [
        "{ me { id } }",
        "{ clients { totalCount } }",
        "{ client(id: \"1\") { id } }",
        "{ stats { banks } }",
        "{ banks { code } }",
        "{ categories { code } }",
        "mutation { logout }",
        "mutation { createClient(input: { displayName: \"x\" }) { id } }",
        "mutation { updateClient(id: \"1\", input: { displayName: \"x\" }) { id } }",
        "mutation { deleteClient(id: \"1\") }",
        "mutation { setTransactionCategory(id: \"1\", category: GROCERIES) { id } }",
        "mutation { createTransaction(input: { clientId: \"1\", bookedAt: \"2025-01-01T00:00:00Z\", amount: \"1\", currency: \"RUB\", direction: DEBIT, description: \"x\" }) { id } }",
        // Hidden behind public fields, fragments and operation names.
        "{ __typename me { id } }",
        "{ ... on Query { me { id } } }",
        "{ ... { stats { banks } } }",
        "query { ...F } fragment F on Query { clients { totalCount } }",
        "query { ...F } fragment F on Query { ...G } fragment G on Query { me { id } ...F }",
    ];
    for op in operations {
        let body = c.gql(op, json!({})).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{op} -> {body}");
    }
    // A private field beside `login` is refused before anything runs: `login` goes alone.
    let beside = c
        .gql(
            "mutation { login(username: \"a\", password: \"b\") { user { id } } me: logout }",
            json!({}),
        )
        .await;
    assert_eq!(code(&beside), "BAD_USER_INPUT", "{beside}");
    assert!(beside["data"].is_null(), "{beside}");
    // The operation asked for by name is the one checked.
    let two = "query A { __typename } query B { me { id } }";
    let (_, body) = c
        .post_raw(json!({ "query": two, "operationName": "B" }))
        .await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let (_, body) = c
        .post_raw(json!({ "query": two, "operationName": "A" }))
        .await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    // The schema itself stays readable in development, for GraphiQL.
    c.ok("{ __schema { queryType { name } } }", json!({})).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn production_hides_the_schema() {
    let key = "k".repeat(40);
    let server = start_with(&[
        ("APP_ENV", "production"),
        ("SECRET_KEY", &key),
        ("ALLOW_PLAIN_HTTP", "true"),
        ("AUTH_PASSWORD", ""),
        ("AUTH_PASSWORD_HASH", ""),
    ])
    .await;
    let c = Client::new(&server);
    let body = c
        .gql("{ __schema { queryType { name } } }", json!({}))
        .await;
    assert!(
        body["data"]["__schema"].is_null(),
        "introspection must be off: {body}"
    );
    let suggest = c.gql("{ mee { id } }", json!({})).await;
    assert!(
        !suggest.to_string().contains("Did you mean"),
        "no field suggestions in production: {suggest}"
    );
    let res = c.http.get(server.url("/graphiql")).send().await.unwrap();
    assert_ne!(
        res.status().as_u16(),
        200,
        "GraphiQL must be off in production"
    );
    server.stop().await.unwrap();
}
