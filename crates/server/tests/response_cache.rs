//! Query answers are reused while nothing was written, and never across a write, a user or a
//! session.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{code, start_with, Client};
use serde_json::json;

const LIST: &str = "{ clients(first: 10) { totalCount edges { node { displayName } } } }";

#[tokio::test]
async fn answers_are_reused_until_a_write() {
    let server = start_with(&[("GRAPHQL_CACHE_MS", "300")]).await;
    let c = Client::new(&server);
    c.login_admin().await;
    c.ok(
        "mutation { createClient(input: { displayName: \"Анна\" }) { id } }",
        json!({}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    let first = c.ok(LIST, json!({})).await;
    assert_eq!(first["clients"]["totalCount"], 1);

    // Served again without running the query, and the session checked a moment ago is known:
    // not one statement.
    let before = server.core.db().statement_count();
    let again = c.ok(LIST, json!({})).await;
    assert_eq!(again, first);
    assert_eq!(server.core.db().statement_count() - before, 0);

    // A write invalidates it at once.
    c.ok(
        "mutation { createClient(input: { displayName: \"Борис\" }) { id } }",
        json!({}),
    )
    .await;
    assert_eq!(c.ok(LIST, json!({})).await["clients"]["totalCount"], 2);

    // Other variables are another answer.
    tokio::time::sleep(Duration::from_millis(350)).await;
    let q = "query($n: Int) { clients(first: $n) { edges { node { displayName } } } }";
    let one = c.ok(q, json!({ "n": 1 })).await;
    let two = c.ok(q, json!({ "n": 2 })).await;
    assert_eq!(one["clients"]["edges"].as_array().unwrap().len(), 1);
    assert_eq!(two["clients"]["edges"].as_array().unwrap().len(), 2);

    // A signed-out caller never gets the cached answer.
    c.ok("mutation { logout }", json!({})).await;
    let body = c.gql(LIST, json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn zero_turns_reuse_off() {
    let server = start_with(&[("GRAPHQL_CACHE_MS", "0")]).await;
    let c = Client::new(&server);
    c.login_admin().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    c.ok(LIST, json!({})).await;
    let before = server.core.db().statement_count();
    c.ok(LIST, json!({})).await;
    assert!(server.core.db().statement_count() - before > 1);
    server.stop().await.unwrap();
}
