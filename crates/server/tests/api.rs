//! Every query and mutation of the foundation, end to end through the real server.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Datelike;
use common::{code, start, Client};
use serde_json::{json, Value};

async fn create_client(c: &Client, name: &str, email: Option<&str>) -> String {
    let data = c
        .ok(
            "mutation($input: CreateClientInput!) { createClient(input: $input) { id displayName email phone } }",
            json!({ "input": { "displayName": name, "email": email, "phone": "+7 (900) 000-00-01" } }),
        )
        .await;
    assert_eq!(data["createClient"]["displayName"], name);
    data["createClient"]["id"].as_str().unwrap().to_owned()
}

async fn add_tx(
    c: &Client,
    client: &str,
    at: &str,
    amount: &str,
    currency: &str,
    direction: &str,
    description: &str,
) -> Value {
    c.ok(
        "mutation($input: CreateTransactionInput!) { createTransaction(input: $input) { id amount currency direction category categorySource account { id } } }",
        json!({ "input": { "clientId": client, "bookedAt": at, "amount": amount, "currency": currency,
                            "direction": direction, "description": description } }),
    )
    .await["createTransaction"]
        .clone()
}

#[tokio::test]
async fn clients_crud_filter_and_paginate() {
    let server = start().await;
    let c = Client::new(&server);
    c.login_admin().await;

    let names = [
        "Анна Смирнова",
        "Борис Ёлкин",
        "Вера Попова",
        "Глеб Орлов",
        "Дарья Белова",
    ];
    let mut ids = Vec::new();
    for (i, n) in names.iter().enumerate() {
        ids.push(create_client(&c, n, Some(&format!("c{i}@bank.ru"))).await);
    }
    let bad = c
        .gql(
            "mutation { createClient(input: { displayName: \"   \" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT");
    let bad_email = c
        .gql(
            "mutation { createClient(input: { displayName: \"X\", email: \"nope\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&bad_email), "BAD_USER_INPUT");

    // Pages of two, in name order, with stable cursors.
    let q = "query($after: String) { clients(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { displayName } } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = c.ok(q, json!({ "after": after })).await;
        assert_eq!(page["clients"]["totalCount"], 5);
        for e in page["clients"]["edges"].as_array().unwrap() {
            seen.push(e["node"]["displayName"].as_str().unwrap().to_owned());
        }
        if !page["clients"]["pageInfo"]["hasNextPage"]
            .as_bool()
            .unwrap()
        {
            break;
        }
        after = page["clients"]["pageInfo"]["endCursor"].clone();
    }
    let mut sorted = names.map(str::to_owned).to_vec();
    sorted.sort();
    assert_eq!(seen, sorted);
    let bad_cursor = c.gql(q, json!({ "after": "garbage" })).await;
    assert_eq!(code(&bad_cursor), "BAD_USER_INPUT");

    // Search ignores case and ё/е, and finds e-mails and phone digits.
    let search = "query($s: String) { clients(filter: { search: $s }) { totalCount edges { node { displayName } } } }";
    let r = c.ok(search, json!({ "s": "ЕЛКИН" })).await;
    assert_eq!(r["clients"]["totalCount"], 1);
    assert_eq!(
        r["clients"]["edges"][0]["node"]["displayName"],
        "Борис Ёлкин"
    );
    assert_eq!(
        c.ok(search, json!({ "s": "c3@bank" })).await["clients"]["totalCount"],
        1
    );
    assert_eq!(
        c.ok(search, json!({ "s": "9000000001" })).await["clients"]["totalCount"],
        5
    );
    assert_eq!(
        c.ok(search, json!({ "s": "100%" })).await["clients"]["totalCount"],
        0
    );

    // Update, status filter, delete.
    let upd = c
        .ok(
            "mutation($id: ID!) { updateClient(id: $id, input: { displayName: \"Вера Попова-Иванова\", status: INACTIVE, email: \"\" }) { id displayName status email } }",
            json!({ "id": ids[2] }),
        )
        .await;
    assert_eq!(upd["updateClient"]["status"], "INACTIVE");
    assert!(upd["updateClient"]["email"].is_null());
    let inactive = c
        .ok(
            "{ clients(filter: { status: INACTIVE }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(inactive["clients"]["totalCount"], 1);
    let stats = c
        .ok("{ stats { clients { total active inactive } } }", json!({}))
        .await;
    assert_eq!(
        stats["stats"]["clients"],
        json!({ "total": 5, "active": 4, "inactive": 1 })
    );

    assert_eq!(
        c.ok(
            "mutation($id: ID!) { deleteClient(id: $id) }",
            json!({ "id": ids[0] })
        )
        .await["deleteClient"],
        true
    );
    let gone = c
        .gql(
            "query($id: ID!) { client(id: $id) { id } }",
            json!({ "id": ids[0] }),
        )
        .await;
    assert_eq!(code(&gone), "NOT_FOUND");
    let again = c
        .gql(
            "mutation($id: ID!) { deleteClient(id: $id) }",
            json!({ "id": ids[0] }),
        )
        .await;
    assert_eq!(code(&again), "NOT_FOUND");
    let missing = c
        .gql(
            "mutation { updateClient(id: \"999999\", input: { displayName: \"x\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&missing), "NOT_FOUND");

    // No rating, no bank: filters that match nothing yet.
    assert_eq!(
        c.ok(
            "{ clients(filter: { rating: A }) { totalCount } }",
            json!({})
        )
        .await["clients"]["totalCount"],
        0
    );
    assert_eq!(
        c.ok(
            "{ clients(filter: { bank: \"abank\" }) { totalCount } }",
            json!({})
        )
        .await["clients"]["totalCount"],
        0
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn manual_transactions_analytics_and_stats_add_up() {
    let server = start().await;
    let c = Client::new(&server);
    c.login_admin().await;
    let client = create_client(&c, "Иван Петров", None).await;
    // Two calendar months: the previous one ("p") and the current one ("n").
    let now = chrono::Utc::now();
    let this_month = format!("{}", now.format("%Y-%m"));
    let prev = now.date_naive().with_day(1).unwrap() - chrono::Duration::days(1);
    let prev_month = format!("{}", prev.format("%Y-%m"));
    let at = |month: &str, rest: &str| format!("{month}-{rest}");

    let salary = add_tx(
        &c,
        &client,
        &at(&prev_month, "05T09:00:00Z"),
        "150000.00",
        "RUB",
        "CREDIT",
        "Заработная плата",
    )
    .await;
    // Categorised like an imported entry: the description's keyword decides.
    assert_eq!(salary["category"], "SALARY");
    assert_eq!(salary["categorySource"], "KEYWORD");
    let manual_account = salary["account"]["id"].as_str().unwrap().to_owned();
    let groceries = add_tx(
        &c,
        &client,
        &at(&prev_month, "10T18:30:00Z"),
        "1249.50",
        "RUB",
        "DEBIT",
        "Оплата: Пятёрочка",
    )
    .await;
    assert_eq!(
        groceries["account"]["id"], manual_account,
        "one manual account per client and currency"
    );
    add_tx(
        &c,
        &client,
        &at(&this_month, "01T00:10:00Z"),
        "350.00",
        "RUB",
        "DEBIT",
        "Кофейня <script>alert(1)</script>",
    )
    .await;
    add_tx(
        &c,
        &client,
        &at(&this_month, "01T00:20:00Z"),
        "20.00",
        "USD",
        "DEBIT",
        "Steam",
    )
    .await;

    // Recategorise: a spending category on a debit works, on a credit is refused.
    let gid = groceries["id"].as_str().unwrap();
    let set = c
        .ok("mutation($id: ID!) { setTransactionCategory(id: $id, category: GROCERIES) { id category categorySource } }", json!({ "id": gid }))
        .await;
    assert_eq!(set["setTransactionCategory"]["categorySource"], "MANUAL");
    let wrong = c
        .gql(
            "mutation($id: ID!) { setTransactionCategory(id: $id, category: GROCERIES) { id } }",
            json!({ "id": salary["id"] }),
        )
        .await;
    assert_eq!(code(&wrong), "BAD_USER_INPUT");

    // Bad entries are refused with reasons.
    for (amount, currency, at) in [
        ("-5", "RUB", "2026-10-01T00:00:00Z"),
        ("1.001", "RUB", "2026-10-01T00:00:00Z"),
        ("5", "RUBL", "2026-10-01T00:00:00Z"),
        ("5", "RUB", "2999-01-01T00:00:00Z"),
    ] {
        let body = c
            .gql(
                "mutation($input: CreateTransactionInput!) { createTransaction(input: $input) { id } }",
                json!({ "input": { "clientId": client, "bookedAt": at, "amount": amount, "currency": currency, "direction": "DEBIT", "description": "x" } }),
            )
            .await;
        assert_eq!(
            code(&body),
            "BAD_USER_INPUT",
            "{amount} {currency} {at}: {body}"
        );
    }

    let page = c
        .ok(
            "query($id: ID!, $from: DateTime!, $to: DateTime!) { client(id: $id) {
                totalBalance { amount currency }
                position { currency assets debts net }
                accounts { id bank { code name } name type currency status balance { amount currency } }
                transactions(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { description amount direction bookedAt } } }
                spendingByCategory(from: $from, to: $to) { category amount count share }
                cashflow(months: 3) { month income expense net }
            } }",
            json!({ "id": client, "from": at(&prev_month, "01T00:00:00Z"), "to": (now + chrono::Duration::days(1)).to_rfc3339() }),
        )
        .await;
    let cl = &page["client"];
    assert_eq!(
        cl["totalBalance"],
        json!([{ "amount": "148400.50", "currency": "RUB" }])
    );
    // The USD account is overdrawn: a debt, never negative money.
    assert_eq!(
        cl["position"],
        json!([
            { "currency": "RUB", "assets": "148400.50", "debts": "0.00", "net": "148400.50" },
            { "currency": "USD", "assets": "0.00", "debts": "20.00", "net": "-20.00" }
        ])
    );
    assert_eq!(cl["accounts"].as_array().unwrap().len(), 2);
    assert_eq!(cl["accounts"][0]["bank"]["code"], "manual");
    assert_eq!(cl["transactions"]["totalCount"], 4);
    assert_eq!(
        cl["transactions"]["edges"][0]["node"]["description"],
        "Steam"
    );
    assert_eq!(
        cl["transactions"]["edges"][1]["node"]["description"],
        "Кофейня <script>alert(1)</script>"
    );
    assert_eq!(
        cl["spendingByCategory"],
        json!([
            { "category": "GROCERIES", "amount": "1249.50", "count": 1, "share": 0.7812 },
            { "category": "RESTAURANTS", "amount": "350.00", "count": 1, "share": 0.2188 }
        ])
    );
    let flows = cl["cashflow"].as_array().unwrap();
    assert_eq!(flows.len(), 3);
    let by_month = |m: &str| flows.iter().find(|f| f["month"] == m).cloned();
    assert_eq!(
        by_month(&prev_month).unwrap(),
        json!({ "month": prev_month, "income": "150000.00", "expense": "1249.50", "net": "148750.50" })
    );
    assert_eq!(
        by_month(&this_month).unwrap()["expense"],
        "350.00",
        "USD stays out of the RUB flow"
    );
    assert_eq!(
        flows[0]["income"], "0.00",
        "a month without movement is present with zeros"
    );

    // Page two through the cursor, then filters.
    let after = cl["transactions"]["pageInfo"]["endCursor"].clone();
    let next = c
        .ok("query($id: ID!, $after: String) { client(id: $id) { transactions(first: 2, after: $after) { pageInfo { hasNextPage } edges { node { description } } } } }", json!({ "id": client, "after": after }))
        .await;
    let descs: Vec<&str> = next["client"]["transactions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["description"].as_str().unwrap())
        .collect();
    assert_eq!(descs, vec!["Оплата: Пятёрочка", "Заработная плата"]);
    assert_eq!(
        next["client"]["transactions"]["pageInfo"]["hasNextPage"],
        false
    );
    let filtered = c
        .ok("query($id: ID!) { client(id: $id) { transactions(filter: { direction: DEBIT, search: \"пятерочка\" }) { totalCount } } }", json!({ "id": client }))
        .await;
    assert_eq!(filtered["client"]["transactions"]["totalCount"], 1);
    let in_range = c
        .ok("query($id: ID!, $from: DateTime!, $to: DateTime!) { client(id: $id) { transactions(filter: { from: $from, to: $to }) { totalCount } } }", json!({ "id": client, "from": at(&this_month, "01T00:00:00Z"), "to": at(&this_month, "01T00:15:00Z") }))
        .await;
    assert_eq!(in_range["client"]["transactions"]["totalCount"], 1);

    let stats = c.ok("{ stats { transactions { count income expense balance currency } banks balances { amount currency } } }", json!({})).await;
    assert_eq!(
        stats["stats"]["transactions"],
        json!({ "count": 4, "income": "150000.00", "expense": "1599.50", "balance": "148400.50", "currency": "RUB" })
    );
    assert_eq!(stats["stats"]["banks"], 0);
    assert_eq!(
        stats["stats"]["balances"][0],
        json!({ "amount": "148400.50", "currency": "RUB" })
    );

    let cats = c
        .ok(
            "{ categories { code name nameEn direction } banks { code } }",
            json!({}),
        )
        .await;
    // The categoriser's 25, and OWN_TRANSFER (set by pairing or by a person).
    assert_eq!(cats["categories"].as_array().unwrap().len(), 26);
    assert_eq!(cats["banks"], json!([]));

    // The audit log recorded what happened, and its chain verifies.
    let verified = server.core.audit().verify_audit_chain().await.unwrap();
    assert!(verified.rows >= 8, "{verified:?}");
    assert_eq!(verified.first_broken, None);
    server.stop().await.unwrap();
}
