//! The rules of security.md that the transport and auth tests do not already cover, through the
//! real server: the audit log (same transaction as the change, the chain, `ai-crm audit-verify`),
//! login throttling under parallel and spoofed attempts, sessions ending everywhere (websockets
//! included) at logout, password change, disable and role change, `__Host-` cookies, the
//! websocket's limits, the production configuration, `/metrics` behind a token, panics and
//! timeouts. On SQLite, and on PostgreSQL with `TEST_DATABASE_URL`.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use std::time::{Duration, Instant};

use common::{code, codes, start, start_with, Client};
use crm_server::testkit::{TestServer, ADMIN, ADMIN_PASSWORD};
use futures_util::{SinkExt, StreamExt};
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { user { id } } }";

/// Logs in without a cookie store; returns the `Set-Cookie` value and the body.
async fn login_raw(server: &TestServer, user: &str, password: &str) -> (Option<String>, Value) {
    let res = reqwest::Client::new()
        .post(server.url("/graphql"))
        .json(&json!({ "query": LOGIN, "variables": { "u": user, "p": password } }))
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned());
    (cookie, res.json().await.unwrap())
}

/// `name=value` of a successful login.
async fn session_cookie(server: &TestServer, user: &str, password: &str) -> String {
    let (cookie, body) = login_raw(server, user, password).await;
    assert!(body.get("errors").is_none(), "login {user}: {body}");
    cookie.unwrap().split(';').next().unwrap().to_owned()
}

async fn gql_cookie(server: &TestServer, cookie: &str, query: &str, variables: Value) -> Value {
    reqwest::Client::new()
        .post(server.url("/graphql"))
        .header("cookie", cookie)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn ws_request(
    server: &TestServer,
    cookie: &str,
    protocol: &str,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut req = format!("ws://{}/graphql/ws", server.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().unwrap());
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    req
}

/// An initialised graphql-transport-ws connection.
async fn open_ws(server: &TestServer, cookie: &str) -> Ws {
    let (mut ws, _) =
        tokio_tungstenite::connect_async(ws_request(server, cookie, "graphql-transport-ws"))
            .await
            .unwrap();
    send(&mut ws, json!({ "type": "connection_init" })).await;
    let ack = next(&mut ws).await;
    assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack:?}");
    ws
}

async fn send(ws: &mut Ws, msg: Value) {
    ws.send(Message::Text(msg.to_string().into()))
        .await
        .unwrap();
}

async fn next(ws: &mut Ws) -> Message {
    tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("a message in time")
        .expect("open")
        .expect("ok")
}

/// The `next` message of subscription `id` (skipping others, such as an earlier `complete`).
async fn next_for(ws: &mut Ws, id: &str) -> String {
    for _ in 0..20 {
        let text = next(ws).await.to_text().unwrap().to_owned();
        let msg: Value = serde_json::from_str(&text).unwrap();
        if msg["type"] == "next" && msg["id"] == id {
            return text;
        }
    }
    panic!("no reply for {id}");
}

/// Reads until the server closes; returns the close code.
async fn close_code(ws: &mut Ws) -> Option<u16> {
    for _ in 0..50 {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("the socket closes in time")
        {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
    None
}

fn subscribe(id: &str) -> Value {
    json!({ "type": "subscribe", "id": id, "payload": { "query": "subscription { syncProgress { kind } }" } })
}

async fn audit_actions(server: &TestServer) -> Vec<String> {
    let mut rows = server.core.audit().recent_audit(1000).await.unwrap();
    rows.reverse();
    rows.into_iter().map(|r| r.action).collect()
}

async fn exec(server: &TestServer, sql: &str) {
    server
        .core
        .db()
        .conn()
        .execute_unprepared(sql)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_change_and_its_audit_row_commit_together_or_not_at_all() {
    let server = start().await;
    let c = Client::new(&server);
    c.login_admin().await;
    let create = "mutation { createClient(input: { displayName: \"Audited\" }) { id } }";
    // The audit log cannot be written: the change it would record must not happen either.
    exec(&server, "ALTER TABLE audit_log RENAME TO audit_log_away").await;
    let body = c.gql(create, json!({})).await;
    assert_eq!(code(&body), "INTERNAL", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("id ") && !message.to_lowercase().contains("audit_log"),
        "masked with an id, no SQL: {message}"
    );
    exec(&server, "ALTER TABLE audit_log_away RENAME TO audit_log").await;
    assert_eq!(
        c.ok("{ clients { totalCount } }", json!({})).await["clients"]["totalCount"],
        0,
        "the client was created without its audit row"
    );
    let id = c.ok(create, json!({})).await["createClient"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rows = server.core.audit().recent_audit(5).await.unwrap();
    assert_eq!(rows[0].action, "client.create");
    assert_eq!(rows[0].entity_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        server
            .core
            .audit()
            .verify_audit_chain()
            .await
            .unwrap()
            .first_broken,
        None
    );
    server.stop().await.unwrap();
}

fn audit_verify(server: &TestServer) -> std::process::Output {
    let dir = std::env::temp_dir().join(format!("crm-audit-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ai-crm"))
        .arg("audit-verify")
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", server.database_url().unwrap())
        .env("SANDBOX", "off")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(dir);
    out
}

#[tokio::test]
async fn the_audit_chain_records_what_happened_and_audit_verify_checks_it() {
    let server = start_with(&[("AUDIT_VIEW_WINDOW_SECS", "0"), ("GRAPHQL_CACHE_MS", "0")]).await;
    let c = Client::new(&server);
    assert_eq!(
        code(&c.login(ADMIN, "not-the-password-at-all").await),
        "UNAUTHENTICATED"
    );
    c.login_admin().await;
    let id = c
        .ok(
            "mutation { createClient(input: { displayName: \"Chain\" }) { id } }",
            json!({}),
        )
        .await["createClient"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.ok(
        "mutation($id: ID!) { updateClient(id: $id, input: { email: \"c@example.ru\" }) { id } }",
        json!({ "id": id }),
    )
    .await;
    for _ in 0..2 {
        c.ok(
            "query($id: ID!) { client(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    }
    c.ok("mutation { logout }", json!({})).await;
    let actions = audit_actions(&server).await;
    for want in [
        "login.failed",
        "login",
        "client.create",
        "client.update",
        "client.view",
        "logout",
    ] {
        assert!(actions.iter().any(|a| a == want), "{want} in {actions:?}");
    }
    assert_eq!(
        actions.iter().filter(|a| *a == "client.view").count(),
        2,
        "AUDIT_VIEW_WINDOW_SECS=0 audits every view: {actions:?}"
    );
    let ok = audit_verify(&server);
    assert!(ok.status.success(), "{ok:?}");
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(stdout.contains("intact"), "{stdout}");

    // Editing one row breaks the chain at that row, and the command says so.
    let second = server.core.audit().recent_audit(1000).await.unwrap();
    let target = second[second.len() - 2].id;
    exec(
        &server,
        &format!("UPDATE audit_log SET username = 'someone-else' WHERE id = {target}"),
    )
    .await;
    assert_eq!(
        server
            .core
            .audit()
            .verify_audit_chain()
            .await
            .unwrap()
            .first_broken,
        Some(target)
    );
    let broken = audit_verify(&server);
    assert!(!broken.status.success(), "{broken:?}");
    assert!(
        String::from_utf8_lossy(&broken.stderr).contains(&format!("row {target}")),
        "{broken:?}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn client_views_within_the_window_are_audited_once() {
    let server = start().await;
    let c = Client::new(&server);
    c.login_admin().await;
    let id = c
        .ok(
            "mutation { createClient(input: { displayName: \"Viewed\" }) { id } }",
            json!({}),
        )
        .await["createClient"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..3 {
        c.ok(
            "query($id: ID!) { client(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    }
    let actions = audit_actions(&server).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "client.view").count(),
        1,
        "{actions:?}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn parallel_login_attempts_get_no_more_guesses_than_the_limit() {
    let server = start_with(&[("LOGIN_MAX_FAILURES", "3")]).await;
    let attempts = (0..12).map(|i| {
        let server = &server;
        async move {
            login_raw(server, ADMIN, &format!("parallel-guess-{i:04}"))
                .await
                .1
        }
    });
    let bodies = futures_util::future::join_all(attempts).await;
    let all: Vec<String> = bodies.iter().map(code).collect();
    let guesses = all.iter().filter(|c| *c == "UNAUTHENTICATED").count();
    assert!(guesses <= 3, "{guesses} passwords were tried: {all:?}");
    assert_eq!(
        all.iter().filter(|c| *c == "RATE_LIMITED").count(),
        12 - guesses,
        "{all:?}"
    );
    let (_, right) = login_raw(&server, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(code(&right), "RATE_LIMITED", "{right}");
    server.stop().await.unwrap();
}

async fn login_via(server: &TestServer, forwarded: &str, user: &str, password: &str) -> Value {
    reqwest::Client::new()
        .post(server.url("/graphql"))
        .header("x-forwarded-for", forwarded)
        .json(&json!({ "query": LOGIN, "variables": { "u": user, "p": password } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_address_limit_is_not_reset_by_a_spoofed_forwarded_for() {
    let server = start_with(&[
        ("LOGIN_MAX_FAILURES", "50"),
        ("LOGIN_MAX_FAILURES_PER_ADDRESS", "4"),
    ])
    .await;
    for i in 0..4 {
        let body = login_via(
            &server,
            &format!("203.0.113.{i}"),
            &format!("user{i}"),
            "a-wrong-password",
        )
        .await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    }
    // Another account, another claimed address, the right password: still this address.
    let body = login_via(&server, "198.51.100.7", ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(code(&body), "RATE_LIMITED", "{body}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn behind_a_trusted_proxy_only_the_hop_it_appended_counts() {
    let server = start_with(&[
        ("TRUST_PROXY", "true"),
        ("LOGIN_MAX_FAILURES", "50"),
        ("LOGIN_MAX_FAILURES_PER_ADDRESS", "3"),
    ])
    .await;
    for i in 0..3 {
        let spoofed = format!("6.6.6.{i}, 10.0.0.1");
        let body = login_via(&server, &spoofed, &format!("u{i}"), "a-wrong-password").await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    }
    let body = login_via(&server, "7.7.7.7, 10.0.0.1", ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(code(&body), "RATE_LIMITED", "{body}");
    let other = login_via(&server, "10.0.0.2", ADMIN, ADMIN_PASSWORD).await;
    assert!(other.get("errors").is_none(), "{other}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn huge_passwords_are_refused_without_work_and_new_ones_need_twelve_characters() {
    let server = start().await;
    let huge = "p".repeat(100_000);
    let started = Instant::now();
    let (_, body) = login_raw(&server, ADMIN, &huge).await;
    // Over the length any text input may have: refused before the resolver runs.
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let (_, body) = login_raw(&server, ADMIN, &"p".repeat(10_000)).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert!(started.elapsed() < Duration::from_secs(5));

    let c = Client::new(&server);
    c.login_admin().await;
    let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { user { id } } }";
    for short in ["elevenchars", &"q".repeat(129)] {
        let body = c
            .gql(change, json!({ "c": ADMIN_PASSWORD, "n": short }))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    }
    let create = "mutation($p: String!) { createUser(input: { username: \"short\", password: $p, role: VIEWER }) { id } }";
    let body = c.gql(create, json!({ "p": "elevenchars" })).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("12"),
        "{body}"
    );
    c.ok(create, json!({ "p": "twelve-chars" })).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_unknown_user_takes_as_long_as_a_wrong_password() {
    let server = start_with(&[
        ("LOGIN_MAX_FAILURES", "100"),
        ("LOGIN_MAX_FAILURES_PER_ADDRESS", "100"),
    ])
    .await;
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..5 {
        let t = Instant::now();
        let (_, a) = login_raw(&server, ADMIN, "not-the-password-at-all").await;
        wrong.push(t.elapsed());
        let t = Instant::now();
        let (_, b) = login_raw(&server, &format!("nobody{i}"), "not-the-password-at-all").await;
        unknown.push(t.elapsed());
        assert_eq!(a["errors"][0]["message"], b["errors"][0]["message"]);
    }
    wrong.sort();
    unknown.sort();
    let (w, u) = (wrong[2].as_secs_f64(), unknown[2].as_secs_f64());
    // The unknown user's attempt verifies a real hash too: within a factor of two (the machine
    // is shared, so not tighter).
    assert!(u > w / 2.0 && u < w * 2.0, "wrong {w:.3}s, unknown {u:.3}s");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn logout_ends_every_session_of_the_user_and_their_websockets() {
    let server = start().await;
    let first = session_cookie(&server, ADMIN, ADMIN_PASSWORD).await;
    let second = session_cookie(&server, ADMIN, ADMIN_PASSWORD).await;
    let mut ws = open_ws(&server, &second).await;
    let body = gql_cookie(&server, &first, "mutation { logout }", json!({})).await;
    assert_eq!(body["data"]["logout"], true, "{body}");
    assert_eq!(close_code(&mut ws).await, Some(4401));
    let me = gql_cookie(&server, &second, "{ me { id } }", json!({})).await;
    assert_eq!(
        code(&me),
        "UNAUTHENTICATED",
        "the other browser is signed out too"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_password_change_ends_every_session_and_gives_a_new_one() {
    let server = start().await;
    let other = session_cookie(&server, ADMIN, ADMIN_PASSWORD).await;
    let mut ws = open_ws(&server, &other).await;
    let c = Client::new(&server);
    c.login_admin().await;
    let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { user { username } } }";
    let wrong = c
        .gql(
            change,
            json!({ "c": "not-my-password", "n": "a-brand-new-password" }),
        )
        .await;
    assert_eq!(code(&wrong), "BAD_USER_INPUT", "{wrong}");
    let res = c
        .http
        .post(server.url("/graphql"))
        .json(&json!({ "query": change, "variables": { "c": ADMIN_PASSWORD, "n": "a-brand-new-password" } }))
        .send()
        .await
        .unwrap();
    let set = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = res.json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(close_code(&mut ws).await, Some(4401));
    let old = gql_cookie(&server, &other, "{ me { id } }", json!({})).await;
    assert_eq!(code(&old), "UNAUTHENTICATED");
    let new_cookie = set.split(';').next().unwrap().to_owned();
    assert_ne!(new_cookie, other);
    assert_eq!(
        c.ok("{ me { username } }", json!({})).await["me"]["username"],
        ADMIN,
        "the browser that changed it stays signed in, under a new id"
    );
    assert_eq!(
        code(&login_raw(&server, ADMIN, ADMIN_PASSWORD).await.1),
        "UNAUTHENTICATED"
    );
    login_raw(&server, ADMIN, "a-brand-new-password").await;
    assert!(audit_actions(&server)
        .await
        .contains(&"user.password_change".to_owned()));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn disabling_a_user_or_changing_their_role_ends_their_sessions() {
    let server = start().await;
    let admin = Client::new(&server);
    admin.login_admin().await;
    let create = "mutation($u: String!, $r: Role!) { createUser(input: { username: $u, password: \"a-long-password-1\", role: $r }) { id role disabled } }";
    let manager = admin
        .ok(create, json!({ "u": "manager1", "r": "MANAGER" }))
        .await["createUser"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let viewer = admin
        .ok(create, json!({ "u": "viewer1", "r": "VIEWER" }))
        .await["createUser"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let users = admin.ok("{ users { username role } }", json!({})).await;
    assert_eq!(users["users"].as_array().unwrap().len(), 3, "{users}");

    // Only administrators manage users, and not themselves.
    let m = session_cookie(&server, "manager1", "a-long-password-1").await;
    let refused = gql_cookie(&server, &m, create, json!({ "u": "x1", "r": "ADMIN" })).await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    assert_eq!(
        code(&gql_cookie(&server, &m, "{ users { id } }", json!({})).await),
        "FORBIDDEN"
    );
    let me = admin.ok("{ me { id } }", json!({})).await["me"]["id"].clone();
    let update = "mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { role disabled } }";
    let own = admin
        .gql(update, json!({ "id": me, "input": { "disabled": true } }))
        .await;
    assert_eq!(code(&own), "BAD_USER_INPUT", "{own}");

    // A role change (a privilege change) ends the manager's sessions, websocket included.
    let mut ws = open_ws(&server, &m).await;
    let demoted = admin
        .ok(
            update,
            json!({ "id": manager, "input": { "role": "VIEWER" } }),
        )
        .await;
    assert_eq!(demoted["updateUser"]["role"], "VIEWER");
    assert_eq!(close_code(&mut ws).await, Some(4401));
    assert_eq!(
        code(&gql_cookie(&server, &m, "{ me { id } }", json!({})).await),
        "UNAUTHENTICATED"
    );
    let again = session_cookie(&server, "manager1", "a-long-password-1").await;
    assert_ne!(again, m);
    let me = gql_cookie(&server, &again, "{ me { role } }", json!({})).await;
    assert_eq!(me["data"]["me"]["role"], "VIEWER");

    // Disabling ends the viewer's sessions and refuses their logins like a wrong password.
    let v = session_cookie(&server, "viewer1", "a-long-password-1").await;
    let mut ws = open_ws(&server, &v).await;
    let disabled = admin
        .ok(
            update,
            json!({ "id": viewer, "input": { "disabled": true } }),
        )
        .await;
    assert_eq!(disabled["updateUser"]["disabled"], true);
    assert_eq!(close_code(&mut ws).await, Some(4401));
    assert_eq!(
        code(&gql_cookie(&server, &v, "{ me { id } }", json!({})).await),
        "UNAUTHENTICATED"
    );
    let (_, body) = login_raw(&server, "viewer1", "a-long-password-1").await;
    assert_eq!(code(&body), "UNAUTHENTICATED");
    let actions = audit_actions(&server).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "user.update").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| *a == "user.create").count(),
        2,
        "{actions:?}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn over_https_the_cookie_is_host_prefixed_and_secure() {
    let server = start_with(&[("PUBLIC_URL", "https://crm.example.ru")]).await;
    let (cookie, body) = login_raw(&server, ADMIN, ADMIN_PASSWORD).await;
    assert!(body.get("errors").is_none(), "{body}");
    let cookie = cookie.unwrap();
    assert!(cookie.starts_with("__Host-crm_session="), "{cookie}");
    for attr in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{attr}: {cookie}");
    }
    assert!(!cookie.contains("Domain="), "{cookie}");
    let pair = cookie.split(';').next().unwrap();
    let me = gql_cookie(&server, pair, "{ me { username } }", json!({})).await;
    assert_eq!(me["data"]["me"]["username"], ADMIN);
    // The unprefixed name is not read when the prefix is in force.
    let plain = pair.replacen("__Host-", "", 1);
    assert_eq!(
        code(&gql_cookie(&server, &plain, "{ me { id } }", json!({})).await),
        "UNAUTHENTICATED"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn websockets_refuse_duplicates_too_many_subscriptions_other_protocols_and_big_queries() {
    let server = start_with(&[("BODY_LIMIT_BYTES", "16384")]).await;
    let cookie = session_cookie(&server, ADMIN, ADMIN_PASSWORD).await;

    let legacy = tokio_tungstenite::connect_async(ws_request(&server, &cookie, "graphql-ws")).await;
    assert!(legacy.is_err(), "only graphql-transport-ws is spoken");

    let mut ws = open_ws(&server, &cookie).await;
    send(&mut ws, subscribe("same")).await;
    send(&mut ws, subscribe("same")).await;
    assert_eq!(close_code(&mut ws).await, Some(4409));

    let mut ws = open_ws(&server, &cookie).await;
    for i in 0..16 {
        send(&mut ws, subscribe(&format!("s{i}"))).await;
    }
    send(&mut ws, subscribe("one-too-many")).await;
    assert_eq!(close_code(&mut ws).await, Some(4429));

    // The limits of HTTP hold on the socket: depth, fields, and the message size.
    let mut ws = open_ws(&server, &cookie).await;
    let mut deep = String::from("id");
    for _ in 0..4 {
        deep = format!("transactions(first: 1) {{ edges {{ node {{ account {{ {deep} }} }} }} }}");
    }
    let q = format!("{{ clients(first: 1) {{ edges {{ node {{ {deep} }} }} }} }}");
    send(
        &mut ws,
        json!({ "type": "subscribe", "id": "deep", "payload": { "query": q } }),
    )
    .await;
    let reply = next_for(&mut ws, "deep").await;
    assert!(
        reply.contains("errors") && reply.to_lowercase().contains("nested too deep"),
        "{reply}"
    );
    let aliases: String = (0..600).map(|i| format!("a{i}: __typename ")).collect();
    send(&mut ws, json!({ "type": "subscribe", "id": "wide", "payload": { "query": format!("{{ {aliases} }}") } })).await;
    let reply = next_for(&mut ws, "wide").await;
    assert!(reply.contains("GRAPHQL_MAX_FIELDS"), "{reply}");
    let huge = "x".repeat(20_000);
    send(
        &mut ws,
        json!({ "type": "subscribe", "id": "huge", "payload": { "query": huge } }),
    )
    .await;
    assert_eq!(
        close_code(&mut ws).await,
        Some(1009),
        "an oversized message ends the socket with Message Too Big"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn http_refuses_oversized_bodies_wide_documents_and_complex_queries() {
    let server = start().await;
    let c = Client::new(&server);
    c.login_admin().await;
    // 256 KiB by default.
    let big = format!("{{ me {{ id }} }} #{}", "x".repeat(300 * 1024));
    let (status, _) = c.post_raw(json!({ "query": big })).await;
    assert_eq!(status, 413);
    let fits = format!("{{ me {{ id }} }} #{}", "x".repeat(200 * 1024));
    let (status, body) = c.post_raw(json!({ "query": fits })).await;
    assert_eq!(status, 200, "{body}");

    let aliases: String = (0..600).map(|i| format!("a{i}: __typename ")).collect();
    let body = c.gql(&format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert!(body.to_string().contains("600 fields"), "{body}");

    let pages: String = (0..10)
        .map(|i| {
            format!("p{i}: clients(first: 100) {{ edges {{ node {{ id displayName email }} }} }} ")
        })
        .collect();
    let body = c.gql(&format!("{{ {pages} }}"), json!({})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("complex"),
        "{body}"
    );
    c.ok("{ me { id } }", json!({})).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn same_site_requests_need_an_allow_listed_origin() {
    let server = start_with(&[("ALLOWED_ORIGINS", "https://admin.example.ru")]).await;
    let c = Client::new(&server);
    c.login_admin().await;
    let post = |site: &'static str, origin: Option<&'static str>| {
        let mut req = c
            .http
            .post(server.url("/graphql"))
            .header("sec-fetch-site", site)
            .json(&json!({ "query": "{ me { id } }" }));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    assert_eq!(
        post("same-site", None).await.unwrap().status().as_u16(),
        403
    );
    assert_eq!(
        post("same-site", Some("https://sub.evil.example"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        post("same-site", Some("https://admin.example.ru"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        post("same-origin", None).await.unwrap().status().as_u16(),
        200
    );
    assert_eq!(post("none", None).await.unwrap().status().as_u16(), 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn metrics_ask_for_the_token_and_production_keeps_them_off_without_one() {
    let token = "metrics-token-0123456789";
    let server = start_with(&[("METRICS_TOKEN", token)]).await;
    let http = reqwest::Client::new();
    let none = http.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(none.status().as_u16(), 401);
    let wrong = http
        .get(server.url("/metrics"))
        .bearer_auth("metrics-token-0123456780")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let right = http
        .get(server.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status().as_u16(), 200);
    assert!(right.text().await.unwrap().contains("http_requests_total"));
    server.stop().await.unwrap();

    let key = "k".repeat(40);
    let prod = start_with(&[
        ("APP_ENV", "production"),
        ("SECRET_KEY", &key),
        ("PUBLIC_URL", "https://crm.example.ru"),
        ("AUTH_PASSWORD", ""),
    ])
    .await;
    let off = http.get(prod.url("/metrics")).send().await.unwrap();
    assert_eq!(off.status().as_u16(), 403);
    prod.stop().await.unwrap();
}

/// A second server over the same application with extra routes behind the same layers.
async fn serve_with(
    server: &TestServer,
    extra: axum::Router<crm_server::http::AppState>,
) -> (String, tokio::task::JoinHandle<()>) {
    let router = crm_server::http::router_with(server.app_state.clone(), extra);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let app = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), task)
}

#[tokio::test]
async fn a_panicking_handler_answers_500_with_an_id_and_the_server_keeps_serving() {
    let server = start_with(&[("REQUEST_TIMEOUT_SECS", "1")]).await;
    async fn boom() -> &'static str {
        panic!("a bug with a secret in its message")
    }
    async fn slow() -> &'static str {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "late"
    }
    let extra = axum::Router::new()
        .route("/test/panic", axum::routing::get(boom))
        .route("/test/slow", axum::routing::get(slow));
    let (base, task) = serve_with(&server, extra).await;
    let http = reqwest::Client::new();
    for _ in 0..2 {
        let res = http.get(format!("{base}/test/panic")).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 500);
        assert!(res.headers().get("content-security-policy").is_some());
        let body: Value = res.json().await.unwrap();
        assert_eq!(code(&body), "INTERNAL");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("id ") && !message.contains("secret"),
            "{message}"
        );
    }
    let started = Instant::now();
    let res = http.get(format!("{base}/test/slow")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 408);
    assert!(started.elapsed() < Duration::from_secs(4));
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let body: Value = http
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["__typename"], "Query");
    task.abort();
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_batch_of_aliased_logins_is_refused_before_it_spends_the_address_budget() {
    let server = start_with(&[
        ("LOGIN_MAX_FAILURES", "100"),
        ("LOGIN_MAX_FAILURES_PER_ADDRESS", "3"),
    ])
    .await;
    let c = Client::new(&server);
    let flood: String = (0..5)
        .map(|i| format!("a{i}: login(username: \"user{i}\", password: \"guess-number-{i}\") {{ user {{ id }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let body = c.gql(&format!("mutation {{ {flood} }}"), json!({})).await;
    assert_eq!(codes(&body), vec!["BAD_USER_INPUT"], "{body}");
    // The address still has its three attempts; the fourth is refused.
    let mut all = Vec::new();
    for i in 0..4 {
        all.push(code(&c.login(&format!("user{i}"), "guess-number").await));
    }
    assert_eq!(
        all,
        vec![
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
            "RATE_LIMITED"
        ]
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn idle_and_absolute_timeouts_are_enforced_on_the_server() {
    use crm_core::entity::sessions;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

    let server = start().await;
    let idle = session_cookie(&server, ADMIN, ADMIN_PASSWORD).await;
    let old = session_cookie(&server, ADMIN, ADMIN_PASSWORD).await;
    let fresh = session_cookie(&server, ADMIN, ADMIN_PASSWORD).await;
    let ids: Vec<i64> = sessions::Entity::find()
        .order_by_asc(sessions::Column::Id)
        .all(server.core.db().conn())
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids.len(), 3);
    let now = chrono::Utc::now();
    // The first: unused for 31 minutes (idle limit 30). The second: past its 12 hours.
    sessions::Entity::update_many()
        .col_expr(
            sessions::Column::LastSeenAt,
            Expr::value(now - chrono::Duration::minutes(31)),
        )
        .filter(sessions::Column::Id.eq(ids[0]))
        .exec(server.core.db().conn())
        .await
        .unwrap();
    sessions::Entity::update_many()
        .col_expr(
            sessions::Column::ExpiresAt,
            Expr::value(now - chrono::Duration::seconds(1)),
        )
        .filter(sessions::Column::Id.eq(ids[1]))
        .exec(server.core.db().conn())
        .await
        .unwrap();
    for cookie in [&idle, &old] {
        let body = gql_cookie(&server, cookie, "{ me { id } }", json!({})).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    }
    let body = gql_cookie(&server, &fresh, "{ me { username } }", json!({})).await;
    assert_eq!(body["data"]["me"]["username"], ADMIN);
    server.stop().await.unwrap();
}
