//! A page of clients with accounts, balances, links and ratings costs the same number of SQL
//! statements whatever the page size: data loaders batch each relation into one query.
#![allow(clippy::unwrap_used)]

mod common;

use common::{start, Client};
use crm_core::testing::{seed_portfolio, SeedSpec};
use serde_json::json;

const DASHBOARD: &str = "query Dashboard($first: Int) {
  stats { clients { total active inactive } transactions { count income expense balance } banks }
  clients(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id displayName status
      rating { grade score factors { name value impact } }
      totalBalance { amount currency }
      accounts { id name balance { amount currency } bank { code name } }
      links { bank { code name } externalClientId consentStatus }
    } }
  }
}";

#[tokio::test]
async fn dashboard_statement_count_does_not_grow_with_the_page() {
    let server = start().await;
    seed_portfolio(
        server.core.db(),
        &SeedSpec {
            clients: 12,
            transactions_per_client: 5,
            months: 2,
        },
    )
    .await
    .unwrap();
    let c = Client::new(&server);
    c.login_admin().await;
    // Warm up (session touch, pool connections).
    c.ok(DASHBOARD, json!({ "first": 1 })).await;

    let mut counts = Vec::new();
    for first in [2, 6, 12] {
        let before = server.core.db().statement_count();
        let data = c.ok(DASHBOARD, json!({ "first": first })).await;
        let after = server.core.db().statement_count();
        let edges = data["clients"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), first as usize);
        assert!(edges
            .iter()
            .all(|e| e["node"]["rating"]["grade"].is_string()));
        assert!(edges
            .iter()
            .all(|e| e["node"]["accounts"].as_array().unwrap().len() == 2));
        assert_eq!(data["stats"]["transactions"]["count"], 60);
        counts.push(after - before);
    }
    assert!(
        counts.windows(2).all(|w| w[0] == w[1]),
        "statements per page must not depend on its size: {counts:?}"
    );
    assert!(
        counts[0] <= 10,
        "statements per dashboard request: {counts:?}"
    );
    server.stop().await.unwrap();
}

use crm_server::testkit::BOOK_PAGE as BOOK;

const DETAIL: &str = "query Detail($id: ID!, $first: Int) { client(id: $id) {
  transactions(first: $first) { edges { node {
    id bookedAt amount currency direction description merchant mcc category } } } } }";

const AGGREGATE: &str = "query Aggregate($id: ID!, $from: DateTime!, $to: DateTime!) {
  client(id: $id) { spendingByCategory(from: $from, to: $to) { category amount count share } } }";

/// Statements one request costs, after a warm-up of the same request (the session checked,
/// the client's view audited).
async fn statements(
    server: &crm_server::testkit::TestServer,
    c: &Client,
    query: &str,
    vars: serde_json::Value,
) -> (u64, serde_json::Value) {
    let before = server.core.db().statement_count();
    let data = c.ok(query, vars).await;
    (server.core.db().statement_count() - before, data)
}

#[tokio::test]
async fn the_book_page_a_clients_latest_and_its_spending_cost_a_few_statements_at_any_size() {
    // Answers computed every time: reuse would hide the statements.
    let server = common::start_with(&[("GRAPHQL_CACHE_MS", "0")]).await;
    let ids = seed_portfolio(
        server.core.db(),
        &SeedSpec {
            clients: 12,
            transactions_per_client: 60,
            months: 2,
        },
    )
    .await
    .unwrap();
    let c = Client::new(&server);
    c.login_admin().await;
    c.ok(BOOK, json!({ "first": 1 })).await;

    let mut book = Vec::new();
    for first in [2, 6, 12] {
        let (n, data) = statements(&server, &c, BOOK, json!({ "first": first })).await;
        let edges = data["clients"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), first as usize);
        // The counts are each client's own, read from the counters in one batch.
        assert!(edges
            .iter()
            .all(|e| e["node"]["transactions"]["totalCount"] == 60));
        assert!(edges
            .iter()
            .all(|e| e["node"]["rating"]["grade"].is_string()));
        book.push(n);
    }
    assert!(
        book.iter().all(|n| *n <= 5),
        "book page: at most 5 statements at any size: {book:?}"
    );

    let id = ids[3].to_string();
    c.ok(DETAIL, json!({ "id": id, "first": 1 })).await;
    let mut detail = Vec::new();
    for first in [5, 50] {
        let (n, data) = statements(&server, &c, DETAIL, json!({ "id": id, "first": first })).await;
        let edges = data["client"]["transactions"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), first as usize);
        detail.push(n);
    }
    assert!(
        detail.iter().all(|n| *n <= 2),
        "a client's latest transactions: at most 2 statements: {detail:?}"
    );

    let now = chrono::Utc::now();
    let range = json!({ "id": id, "from": (now - chrono::Duration::days(90)).to_rfc3339(),
        "to": now.to_rfc3339() });
    c.ok(AGGREGATE, range.clone()).await;
    let (n, data) = statements(&server, &c, AGGREGATE, range).await;
    assert!(!data["client"]["spendingByCategory"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(n <= 3, "90-day spending by category: {n} statements");
    println!("statements: book page {book:?}, latest {detail:?}, spending {n}");

    // A filtered count is batched too: one statement per page of clients.
    let filtered = "query($first: Int) { clients(first: $first) { edges { node {
      transactions(first: 0, filter: { direction: CREDIT }) { totalCount } } } } }";
    let (two, _) = statements(&server, &c, filtered, json!({ "first": 2 })).await;
    let (twelve, data) = statements(&server, &c, filtered, json!({ "first": 12 })).await;
    assert_eq!(two, twelve, "filtered counts do not grow with the page");
    let total: u64 = data["clients"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["transactions"]["totalCount"].as_u64().unwrap())
        .sum();
    assert!(total > 0 && total < 12 * 60, "credits only: {total}");
    server.stop().await.unwrap();
}
