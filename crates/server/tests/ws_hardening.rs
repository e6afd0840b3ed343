//! The websocket under attack and load, from the outside: every protocol mistake gets the
//! graphql-transport-ws close code with a reason that fits a close frame (4401, 4400, 1009), one
//! user cannot hold every socket (4429 past `WS_MAX_SOCKETS_PER_USER`), and a user's logout
//! closes that user's sockets without waking anybody else's.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{
    admin_cookie, connect_ws, gql_with_token, login_token, open_ws, start, start_with,
    ws_close_frame, ws_next, ws_send, Ws,
};
use crm_core::domain::Role;
use crm_server::testkit::TestServer;
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// The largest reason a close frame holds (125 bytes of payload, two of them the code).
const MAX_REASON: usize = 123;

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

#[tokio::test]
async fn subscribing_before_connection_init_closes_with_4401() {
    let server = start().await;
    let cookie = admin_cookie(&server).await;
    let mut ws = connect_ws(&server, &cookie).await;
    ws_send(&mut ws, me("early")).await;
    let (code, reason) = ws_close_frame(&mut ws).await.expect("a close frame");
    assert_eq!((code, reason.as_str()), (4401, "Unauthorized"));
    // After connection_init the same message is served.
    let mut ws = open_ws(&server, &cookie).await;
    assert_eq!(serves(&mut ws, "later").await, "admin");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn protocol_errors_close_with_4400_and_a_reason_that_fits_a_close_frame() {
    let server = start().await;
    let cookie = admin_cookie(&server).await;
    let long_ascii = "x".repeat(300);
    // Two-byte characters, placed so that byte 123 falls inside one.
    let long_cyrillic = format!("a{}", "я".repeat(200));
    let mistakes = [
        json!({ "type": long_ascii }),
        json!({ "type": long_cyrillic }),
        json!({ "type": "start", "id": "1", "payload": { "query": "{ me { id } }" } }),
        json!({ "type": "subscribe", "id": "1" }),
        json!({ "type": "subscribe", "payload": { "query": "{ me { id } }" } }),
        json!({ "id": "1" }),
        json!(["connection_init"]),
    ];
    for mistake in mistakes {
        let mut ws = open_ws(&server, &cookie).await;
        ws_send(&mut ws, mistake.clone()).await;
        let (code, reason) = ws_close_frame(&mut ws)
            .await
            .unwrap_or_else(|| panic!("a valid close frame for {mistake}"));
        assert_eq!(code, 4400, "{mistake}: {reason}");
        assert!(
            !reason.is_empty() && reason.len() <= MAX_REASON,
            "{mistake}: {} bytes: {reason}",
            reason.len()
        );
    }
    // Not JSON at all, and before connection_init.
    let mut ws = connect_ws(&server, &cookie).await;
    ws.send(Message::Text("hello".into())).await.unwrap();
    let (code, reason) = ws_close_frame(&mut ws).await.expect("a close frame");
    assert_eq!(code, 4400, "{reason}");
    assert!(reason.starts_with("Invalid message"), "{reason}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_oversized_message_closes_with_1009() {
    let server = start_with(&[("BODY_LIMIT_BYTES", "16384")]).await;
    let cookie = admin_cookie(&server).await;
    for size in [20_000, 200_000, 4_000_000] {
        let mut ws = open_ws(&server, &cookie).await;
        let huge = "x".repeat(size);
        let sent = ws
            .send(Message::Text(
                json!({ "type": "subscribe", "id": "huge", "payload": { "query": huge } })
                    .to_string()
                    .into(),
            ))
            .await;
        // Past the kernel's buffers the rest of the message meets a closed socket: the send
        // may end in a reset, and the close frame sent before it is still read.
        if let Err(e) = sent {
            assert!(
                matches!(e, tokio_tungstenite::tungstenite::Error::Io(_)),
                "{size} bytes: {e}"
            );
        }
        let (code, reason) = ws_close_frame(&mut ws)
            .await
            .unwrap_or_else(|| panic!("a close frame for {size} bytes"));
        assert_eq!(code, 1009, "{size} bytes: {reason}");
        assert!(
            reason.len() <= MAX_REASON && reason.contains("16384"),
            "{reason}"
        );
    }
    // A message within the limit is still served.
    let mut ws = open_ws(&server, &cookie).await;
    assert_eq!(serves(&mut ws, "small").await, "admin");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_users_ninth_socket_closes_with_4429_and_others_are_not_counted() {
    let server = start().await;
    let cookie = admin_cookie(&server).await;
    let mut eight = Vec::new();
    for _ in 0..8 {
        eight.push(open_ws(&server, &cookie).await);
    }
    let mut ninth = connect_ws(&server, &cookie).await;
    let (code, reason) = ws_close_frame(&mut ninth).await.expect("a close frame");
    assert_eq!(code, 4429, "{reason}");
    assert!(reason.contains("sockets"), "{reason}");
    // Another user has sockets of their own.
    let bob = user(&server, "bob").await;
    let mut bobs = open_ws(&server, &bob).await;
    assert_eq!(serves(&mut bobs, "b").await, "bob");
    // The eight still serve; closing one gives its place back.
    assert_eq!(serves(&mut eight[0], "a").await, "admin");
    let mut gone = eight.pop().unwrap();
    gone.close(None).await.unwrap();
    while ws_next(&mut gone).await.is_some() {}
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let mut again = connect_ws(&server, &cookie).await;
        ws_send(&mut again, json!({ "type": "connection_init" })).await;
        match tokio::time::timeout(Duration::from_secs(5), ws_next(&mut again)).await {
            Ok(Some(ack)) if ack["type"] == "connection_ack" => break,
            other => assert!(
                tokio::time::Instant::now() < deadline,
                "the freed place is not given back: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.stop().await.unwrap();
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
