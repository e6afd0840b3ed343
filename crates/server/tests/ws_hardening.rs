//! The websocket under attack and load, from the outside: a user's logout closes that user's
//! sockets without waking anybody else's.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{gql_with_token, login_token, open_ws, start, ws_close_frame, ws_next, ws_send, Ws};
use crm_core::domain::Role;
use crm_server::testkit::TestServer;
use serde_json::{json, Value};

fn me(id: &str) -> Value {
    json!({ "type": "subscribe", "id": id, "payload": { "query": "{ me { username } }" } })
}

/// The answer to `me(id)`: the socket still serves.
async fn serves(ws: &mut Ws, id: &str) -> String {
    ws_send(ws, me(id)).await;
    let reply = tokio::time::timeout(Duration::from_secs(10), ws_next(ws))
        .await
        .expect("an answer in time")
        .expect("the socket is open");
    assert_eq!(
        (reply["type"].as_str(), reply["id"].as_str()),
        (Some("next"), Some(id)),
        "{reply}"
    );
    reply["payload"]["data"]["me"]["username"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn user(server: &TestServer, name: &str) -> String {
    let password = format!("{name}-password-for-tests");
    server
        .core
        .auth()
        .create_user(name, &password, Role::Manager)
        .await
        .unwrap();
    format!(
        "crm_session={}",
        login_token(server, name, &password, None).await
    )
}

/// `ws_session_checks_total` from `/metrics` (open in development).
async fn session_checks(server: &TestServer) -> u64 {
    let text = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("ws_session_checks_total "))
        .unwrap_or_else(|| panic!("no ws_session_checks_total in {text}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_logout_closes_that_users_sockets_and_wakes_no_one_else() {
    let server = start().await;
    let alice = user(&server, "alice").await;
    let bob = user(&server, "bob").await;
    let carol = user(&server, "carol").await;
    let mut alices = open_ws(&server, &alice).await;
    let mut bobs = Vec::new();
    for _ in 0..3 {
        bobs.push(open_ws(&server, &bob).await);
    }
    let before = session_checks(&server).await;

    // Carol signs in again over her old session (which ends it) and Alice logs out.
    let previous = carol.trim_start_matches("crm_session=");
    let _ = login_token(&server, "carol", "carol-password-for-tests", Some(previous)).await;
    let token = alice.trim_start_matches("crm_session=");
    let logout = gql_with_token(&server, token, "mutation { logout }").await;
    assert!(logout.get("errors").is_none(), "{logout}");
    let (code, _) = ws_close_frame(&mut alices).await.expect("a close frame");
    assert_eq!(code, 4401, "Alice's socket closes");

    // Bob's sockets stay open and did no session check (a database read) for Carol's login or
    // Alice's logout: only Alice's socket checked.
    for (i, ws) in bobs.iter_mut().enumerate() {
        assert_eq!(serves(ws, &format!("b{i}")).await, "bob");
    }
    assert_eq!(session_checks(&server).await - before, 1);
    server.stop().await.unwrap();
}
