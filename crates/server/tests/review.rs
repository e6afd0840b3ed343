//! The "needs review" list over GraphQL (`transactionsToReview`): the rows of a user's book
//! whose category the categoriser was unsure of, newest first, paged at a constant number of
//! statements; a person's choice (`setTransactionCategory`) takes a row off the list.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;

use common::{code, create_client, start_with, Client};
use crm_server::testkit::TestServer;
use serde_json::{json, Value};

const PASSWORD: &str = "a-long-test-password";

const REVIEW: &str = "query($first: Int, $after: String, $max: Int! = 60) {
  transactionsToReview(first: $first, after: $after, maxConfidence: $max) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id bookedAt category categorySource categoryConfidence description
                   client { id displayName } } }
  } }";

/// A manual entry on `day` of November 2026 (the categoriser decides as for a bank's row).
async fn add_tx(c: &Client, client: &str, day: u32, description: &str, merchant: Option<&str>) {
    c.ok(
        "mutation($input: CreateTransactionInput!) { createTransaction(input: $input) { id } }",
        json!({ "input": { "clientId": client, "bookedAt": format!("2026-11-{day:02}T10:00:00Z"),
                            "amount": "100.00", "currency": "RUB", "direction": "DEBIT",
                            "description": description, "merchant": merchant } }),
    )
    .await;
}

async fn review(c: &Client, first: i64, after: Option<&str>) -> Value {
    c.ok(REVIEW, json!({ "first": first, "after": after }))
        .await["transactionsToReview"]
        .clone()
}

fn nodes(page: &Value) -> Vec<Value> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn manager(server: &TestServer, admin: &Client, name: &str) -> Client {
    common::create_user(admin, name, "MANAGER", PASSWORD).await;
    common::signed_in_as(server, name, PASSWORD).await
}

#[tokio::test]
async fn a_manager_reviews_their_books_unsure_rows_page_by_page_and_a_choice_takes_one_off() {
    let server = start_with(&[("QUERY_RATE_PER_MINUTE", "0")]).await;
    let admin = Client::new(&server);
    admin.login_admin().await;
    let masha = manager(&server, &admin, "masha").await;
    let lev = manager(&server, &admin, "lev").await;

    // Two clients in masha's book, so a page's clients are several (read in one batch).
    let anna = create_client(&masha, "Анна Смирнова").await;
    let vera = create_client(&masha, "Вера Орлова").await;
    for day in 1..=25 {
        let client = if day % 2 == 0 { &vera } else { &anna };
        add_tx(&masha, client, day, &format!("Платёж XQZ-{day}"), None).await;
    }
    // A merchant the dictionary knows: sure, so never listed.
    add_tx(&masha, &anna, 26, "Покупка", Some("Пятёрочка")).await;
    let boris = create_client(&lev, "Борис Петров").await;
    for day in 1..=3 {
        add_tx(&lev, &boris, day, &format!("Оплата QWV-{day}"), None).await;
    }

    // Each manager sees their own book's rows; the administrator sees both books.
    let first = review(&masha, 10, None).await;
    assert_eq!(first["totalCount"], 25);
    assert_eq!(review(&lev, 10, None).await["totalCount"], 3);
    assert_eq!(review(&admin, 10, None).await["totalCount"], 28);
    for node in nodes(&review(&lev, 10, None).await) {
        assert_eq!(node["client"]["displayName"], "Борис Петров");
    }

    // Pages of 10, 10 and 5: every row once, newest first, each below the bar.
    let mut seen = Vec::new();
    let mut page = first;
    loop {
        for node in nodes(&page) {
            let client = node["client"]["id"].as_str().unwrap();
            assert!(client == anna || client == vera, "{node}");
            assert!(node["categoryConfidence"].as_i64().unwrap() < 60, "{node}");
            assert_ne!(node["categorySource"], "MANUAL");
            seen.push(node);
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        let after = page["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
        page = review(&masha, 10, Some(&after)).await;
    }
    assert_eq!(seen.len(), 25);
    let ids: HashSet<&str> = seen.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 25);
    let dates: Vec<&str> = seen
        .iter()
        .map(|n| n["bookedAt"].as_str().unwrap())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted, "newest first");

    // A lower bar lists fewer (the fallback's rows are at 10); a bar outside 0..=100 is refused.
    let none = masha.ok(REVIEW, json!({ "first": 5, "max": 10 })).await;
    assert_eq!(none["transactionsToReview"]["totalCount"], 0);
    let refused = masha.gql(REVIEW, json!({ "first": 5, "max": 101 })).await;
    assert_eq!(code(&refused), "BAD_USER_INPUT");

    // A page of 2 costs the statements a page of 20 does (its clients through a loader).
    let cost = |first: i64| {
        let masha = &masha;
        let server = &server;
        async move {
            review(masha, first, None).await;
            let before = server.core.db().statement_count();
            let page = review(masha, first, None).await;
            assert_eq!(nodes(&page).len() as i64, first);
            server.core.db().statement_count() - before
        }
    };
    let small = cost(2).await;
    let large = cost(20).await;
    assert_eq!(small, large, "statements for a page: {small} vs {large}");

    // Confirming (a person's choice of the same category) takes the row off the list.
    let top = &seen[0];
    let id = top["id"].as_str().unwrap();
    // Not from outside the book.
    let foreign = lev
        .gql(
            "mutation($id: ID!, $c: Category!) { setTransactionCategory(id: $id, category: $c) { id } }",
            json!({ "id": id, "c": top["category"] }),
        )
        .await;
    assert_eq!(code(&foreign), "NOT_FOUND");
    let confirmed = masha
        .ok(
            "mutation($id: ID!, $c: Category!) { setTransactionCategory(id: $id, category: $c) { category categorySource categoryConfidence } }",
            json!({ "id": id, "c": top["category"] }),
        )
        .await;
    assert_eq!(
        confirmed["setTransactionCategory"]["category"],
        top["category"]
    );
    assert_eq!(
        confirmed["setTransactionCategory"]["categorySource"],
        "MANUAL"
    );
    assert_eq!(
        confirmed["setTransactionCategory"]["categoryConfidence"],
        Value::Null
    );
    let after = review(&masha, 100, None).await;
    assert_eq!(after["totalCount"], 24);
    assert!(nodes(&after).iter().all(|n| n["id"] != id));
    assert_eq!(nodes(&after).len(), 24);
    assert_eq!(review(&admin, 10, None).await["totalCount"], 27);
    server.stop().await.unwrap();
}
