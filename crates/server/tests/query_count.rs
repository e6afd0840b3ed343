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
