//! Ratings, analytics, insights, offers and the portfolio through the real server over HTTP.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use common::{code, start, Client};
use crm_core::testing::{seed_portfolio, SeedSpec};
use rust_decimal::Decimal;
use serde_json::{json, Value};

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

async fn add_tx(
    c: &Client,
    client: &str,
    at: DateTime<Utc>,
    amount: &str,
    direction: &str,
    description: &str,
    merchant: Option<&str>,
) -> Value {
    c.ok(
        "mutation($input: CreateTransactionInput!) { createTransaction(input: $input) { id category } }",
        json!({ "input": { "clientId": client, "bookedAt": at.to_rfc3339(), "amount": amount,
            "currency": "RUB", "direction": direction, "description": description, "merchant": merchant } }),
    )
    .await["createTransaction"]
        .clone()
}

/// The first of the month `back` months before this one, at `day` and `hour`.
fn months_ago(back: i32, day: u32, hour: u32) -> DateTime<Utc> {
    let now = Utc::now();
    let total = now.year() * 12 + now.month0() as i32 - back;
    Utc.with_ymd_and_hms(total / 12, (total % 12) as u32 + 1, day, hour, 0, 0)
        .single()
        .unwrap()
}

const CLIENT_PAGE: &str = "query($id: ID!, $from: DateTime!, $to: DateTime!, $lang: Lang) {
  client(id: $id) {
    rating { grade score factors { code name nameEn value valueEn impact } }
    spendingByCategory(from: $from, to: $to) { category amount currency count share }
    cashflow(months: 12) { month income expense net }
    topMerchants(from: $from, to: $to, first: 5) { merchant amount { amount currency } count share }
    recurringPayments { merchant category interval dayOfMonth nextExpectedAt occurrences typicalAmount { amount currency } }
    income { salaryDetected employer typicalAmount { amount } typicalDay monthsPaid monthlyAverageIncome { amount currency } }
    insights(lang: $lang) { kind severity text figures { name kind text money { amount } value } }
    offers(lang: $lang) { reasonCode reason product { id name type rate bank { code } } figures { name text } }
  }
}";

#[tokio::test]
async fn a_client_page_with_every_analytics_field() {
    let server = start().await;
    let c = Client::new(&server);
    c.login_admin().await;
    let id = c
        .ok(
            "mutation { createClient(input: { displayName: \"Ирина Аналитикова\" }) { id } }",
            json!({}),
        )
        .await["createClient"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Six months back: a salary on the 5th, a subscription on the 5th, groceries that vary.
    let mut debits: Vec<(DateTime<Utc>, Decimal, String)> = Vec::new();
    for back in 1..=6 {
        add_tx(
            &c,
            &id,
            months_ago(back, 5, 9),
            "120000.00",
            "CREDIT",
            "Заработная плата",
            Some("ООО Ромашка"),
        )
        .await;
        let sub = add_tx(
            &c,
            &id,
            months_ago(back, 5, 12),
            "299.00",
            "DEBIT",
            "Подписка",
            Some("Яндекс Плюс"),
        )
        .await;
        debits.push((
            months_ago(back, 5, 12),
            "299.00".parse().unwrap(),
            sub["category"].as_str().unwrap().into(),
        ));
        for (day, amount) in [
            (3, "1840.50"),
            (11, "4020.00"),
            (19, "960.10"),
            (26, "7310.00"),
        ] {
            let g = add_tx(
                &c,
                &id,
                months_ago(back, day, 18),
                amount,
                "DEBIT",
                "Покупка продуктов",
                Some("Пятёрочка"),
            )
            .await;
            debits.push((
                months_ago(back, day, 18),
                amount.parse().unwrap(),
                g["category"].as_str().unwrap().into(),
            ));
        }
    }
    let (from, to) = (months_ago(4, 10, 0), months_ago(1, 20, 0));
    let data = c
        .ok(
            CLIENT_PAGE,
            json!({ "id": id, "from": from.to_rfc3339(), "to": to.to_rfc3339(), "lang": "EN" }),
        )
        .await;
    let client = &data["client"];

    // Rated after the manual entries, with every factor explained.
    let rating = &client["rating"];
    assert!(rating["grade"].is_string(), "{rating}");
    let factors = rating["factors"].as_array().unwrap();
    let codes: Vec<&str> = factors
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    for code in [
        "income_level",
        "income_regularity",
        "savings_rate",
        "liquidity_buffer",
        "debt_service",
        "overdrafts",
        "returned_payments",
        "cash_share",
    ] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    let impacts: f64 = factors.iter().map(|f| f["impact"].as_f64().unwrap()).sum();
    assert_eq!(
        rating["score"].as_i64().unwrap(),
        ((50.0 + impacts).round() as i64).clamp(0, 100)
    );
    let regularity = factors
        .iter()
        .find(|f| f["code"] == "income_regularity")
        .unwrap();
    assert!(
        regularity["value"]
            .as_str()
            .unwrap()
            .starts_with("зарплата: ООО Ромашка"),
        "{regularity}"
    );
    assert!(regularity["valueEn"]
        .as_str()
        .unwrap()
        .starts_with("salary: ООО Ромашка"));

    // Spending by category equals the sums of what was entered in the range.
    let mut want: BTreeMap<String, (Decimal, u64)> = BTreeMap::new();
    for (at, amount, category) in &debits {
        if *at >= from && *at < to {
            let e = want.entry(category.clone()).or_default();
            e.0 += *amount;
            e.1 += 1;
        }
    }
    let got: BTreeMap<String, (Decimal, u64)> = client["spendingByCategory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["category"].as_str().unwrap().to_owned(),
                (dec(&s["amount"]), s["count"].as_u64().unwrap()),
            )
        })
        .collect();
    assert_eq!(got, want);

    // Cashflow: twelve months, each equal to the month's entries.
    let flow = client["cashflow"].as_array().unwrap();
    assert_eq!(flow.len(), 12);
    let last_month = months_ago(1, 1, 0);
    let key = format!("{:04}-{:02}", last_month.year(), last_month.month());
    let month = flow.iter().find(|m| m["month"] == key.as_str()).unwrap();
    assert_eq!(dec(&month["income"]), "120000".parse().unwrap());
    let spent: Decimal = debits
        .iter()
        .filter(|d| d.0.year() == last_month.year() && d.0.month() == last_month.month())
        .map(|d| d.1)
        .sum();
    assert_eq!(dec(&month["expense"]), spent);
    assert_eq!(dec(&month["net"]), dec(&month["income"]) - spent);

    // Top merchants.
    let top = client["topMerchants"].as_array().unwrap();
    assert_eq!(top[0]["merchant"], "Пятёрочка");
    let groceries: Decimal = debits
        .iter()
        .filter(|d| d.0 >= from && d.0 < to && d.1 != "299.00".parse::<Decimal>().unwrap())
        .map(|d| d.1)
        .sum();
    assert_eq!(dec(&top[0]["amount"]["amount"]), groceries);
    assert_eq!(top[0]["amount"]["currency"], "RUB");

    // The subscription recurs on the 5th; groceries on shifting days and amounts do not.
    let recurring = client["recurringPayments"].as_array().unwrap();
    assert_eq!(recurring.len(), 1, "{recurring:?}");
    assert_eq!(recurring[0]["merchant"], "Яндекс Плюс");
    assert_eq!(recurring[0]["interval"], "MONTHLY");
    assert_eq!(recurring[0]["dayOfMonth"], 5);
    assert_eq!(recurring[0]["occurrences"], 6);
    let next = months_ago(0, 5, 12);
    assert_eq!(
        DateTime::parse_from_rfc3339(recurring[0]["nextExpectedAt"].as_str().unwrap()).unwrap(),
        next
    );

    let income = &client["income"];
    assert_eq!(income["salaryDetected"], true);
    assert_eq!(income["employer"], "ООО Ромашка");
    assert_eq!(
        dec(&income["typicalAmount"]["amount"]),
        "120000".parse().unwrap()
    );
    assert_eq!(income["typicalDay"], 5);

    // Insights in English, with their figures.
    let insights = client["insights"].as_array().unwrap();
    let salary = insights.iter().find(|i| i["kind"] == "SALARY").unwrap();
    assert_eq!(salary["severity"], "POSITIVE");
    assert!(
        salary["text"].as_str().unwrap().contains("₽120,000"),
        "{salary}"
    );
    let typical = salary["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "typical_amount")
        .unwrap();
    assert_eq!(typical["kind"], "MONEY");
    assert_eq!(dec(&typical["money"]["amount"]), "120000".parse().unwrap());
    assert!(insights.iter().any(|i| i["kind"] == "RECURRING"));
    // No catalogue synced yet: nothing to offer.
    assert_eq!(client["offers"], json!([]));

    // Russian texts by default.
    let ru = c
        .ok(
            "query($id: ID!) { client(id: $id) { insights { kind text } } }",
            json!({ "id": id }),
        )
        .await;
    let salary = ru["client"]["insights"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "SALARY")
        .unwrap()
        .clone();
    assert!(
        salary["text"]
            .as_str()
            .unwrap()
            .contains("120\u{a0}000\u{a0}₽"),
        "{salary}"
    );

    // Bad input is refused with BAD_USER_INPUT.
    let bad = c
        .gql(
            "query($id: ID!, $t: DateTime!) { client(id: $id) { topMerchants(from: $t, to: $t, first: 500) { merchant } } }",
            json!({ "id": id, "t": Utc::now().to_rfc3339() }),
        )
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn ratings_filter_order_recompute_and_the_portfolio() {
    let server = start().await;
    let ids = seed_portfolio(
        server.core.db(),
        &SeedSpec {
            clients: 7,
            transactions_per_client: 120,
            months: 6,
        },
    )
    .await
    .unwrap();
    let c = Client::new(&server);
    c.login_admin().await;

    // Every order pages through every client once, in its order.
    for (order, field) in [
        ("SCORE_DESC", "score"),
        ("BALANCE_DESC", "balance"),
        ("NAME", "name"),
    ] {
        let mut seen: Vec<(i64, i64, String)> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let data = c
                .ok(
                    "query($after: String, $order: ClientOrder) { clients(first: 3, after: $after, orderBy: $order) {
                       pageInfo { hasNextPage endCursor }
                       edges { node { id displayName rating { score } totalBalance { amount currency } } } } }",
                    json!({ "after": after, "order": order }),
                )
                .await;
            for e in data["clients"]["edges"].as_array().unwrap() {
                let n = &e["node"];
                let balance = n["totalBalance"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|m| m["currency"] == "RUB")
                    .map_or(Decimal::ZERO, |m| dec(&m["amount"]));
                let balance: i64 = (balance * Decimal::from(100)).try_into().unwrap();
                seen.push((
                    n["rating"]["score"].as_i64().unwrap(),
                    balance,
                    n["displayName"].as_str().unwrap().to_owned(),
                ));
            }
            let info = &data["clients"]["pageInfo"];
            if info["hasNextPage"] != true {
                break;
            }
            after = Some(info["endCursor"].as_str().unwrap().to_owned());
        }
        assert_eq!(seen.len(), 7, "{order}");
        let ok = seen.windows(2).all(|w| match field {
            "score" => w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].2 <= w[1].2),
            "balance" => w[0].1 > w[1].1 || (w[0].1 == w[1].1 && w[0].2 <= w[1].2),
            _ => w[0].2 <= w[1].2,
        });
        assert!(ok, "{order}: {seen:?}");
    }

    // A cursor belongs to its order.
    let data = c
        .ok(
            "{ clients(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let name_cursor = data["clients"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong = c
        .gql(
            "query($a: String) { clients(first: 1, after: $a, orderBy: SCORE_DESC) { totalCount } }",
            json!({ "a": name_cursor }),
        )
        .await;
    assert_eq!(code(&wrong), "BAD_USER_INPUT");

    // Filtering by grade agrees with the stats and the portfolio.
    let data = c
        .ok(
            "{ stats { grades { grade count averageScore } }
               portfolio { grades { grade count averageScore }
                 banks { bank { code name } clients accounts balance { amount currency } transactions income { amount } expense { amount } } } }",
            json!({}),
        )
        .await;
    for grade in ["A", "B", "C"] {
        let filtered = c
            .ok(
                "query($g: Grade) { clients(filter: { rating: $g }) { totalCount edges { node { rating { grade } } } } }",
                json!({ "g": grade }),
            )
            .await;
        let total = filtered["clients"]["totalCount"].as_u64().unwrap();
        assert!(filtered["clients"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["node"]["rating"]["grade"] == grade));
        let stat = data["stats"]["grades"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["grade"] == grade)
            .unwrap();
        assert_eq!(stat["count"].as_u64().unwrap(), total, "{grade}");
        let p = data["portfolio"]["grades"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["grade"] == grade)
            .unwrap();
        assert_eq!(p["count"].as_u64().unwrap(), total);
        // The average is computed from the stored scores, the same in both places.
        let scores = c
            .ok(
                "query($g: Grade) { clients(first: 50, filter: { rating: $g }) { edges { node { rating { score } } } } }",
                json!({ "g": grade }),
            )
            .await;
        let scores: Vec<f64> = scores["clients"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["rating"]["score"].as_f64().unwrap())
            .collect();
        if !scores.is_empty() {
            let mean = (scores.iter().sum::<f64>() / scores.len() as f64).round();
            assert_eq!(
                stat["averageScore"].as_f64(),
                Some(mean),
                "{grade}: {scores:?}"
            );
            assert_eq!(
                p["averageScore"].as_f64(),
                Some(mean),
                "{grade}: {scores:?}"
            );
        }
    }
    let graded: Vec<u64> = data["stats"]["grades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["count"].as_u64().unwrap())
        .collect();
    assert_eq!(graded.iter().sum::<u64>(), 7);
    assert!(
        graded.iter().filter(|n| **n > 0).count() >= 2,
        "the seed spreads grades: {graded:?}"
    );
    let unrated = data["portfolio"]["grades"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["grade"].is_null())
        .unwrap();
    assert_eq!(unrated["count"], 0);
    let abank = &data["portfolio"]["banks"][0];
    assert_eq!(abank["bank"]["code"], "abank");
    assert_eq!(
        (abank["clients"].as_u64(), abank["accounts"].as_u64()),
        (Some(7), Some(14))
    );
    assert_eq!(abank["transactions"], 7 * 120);

    // Portfolio spending equals the clients' spending added up.
    let (from, to) = (
        Utc::now() - Duration::days(75),
        Utc::now() - Duration::days(3),
    );
    let vars = json!({ "from": from.to_rfc3339(), "to": to.to_rfc3339() });
    let portfolio = c
        .ok(
            "query($from: DateTime!, $to: DateTime!) { portfolio { categories(from: $from, to: $to) { category amount count } } }",
            vars.clone(),
        )
        .await;
    let mut want: BTreeMap<String, (Decimal, u64)> = BTreeMap::new();
    for id in &ids {
        let mut v = vars.clone();
        v["id"] = json!(id.to_string());
        let one = c
            .ok(
                "query($id: ID!, $from: DateTime!, $to: DateTime!) { client(id: $id) { spendingByCategory(from: $from, to: $to) { category amount count } } }",
                v,
            )
            .await;
        for s in one["client"]["spendingByCategory"].as_array().unwrap() {
            let e = want
                .entry(s["category"].as_str().unwrap().to_owned())
                .or_default();
            e.0 += dec(&s["amount"]);
            e.1 += s["count"].as_u64().unwrap();
        }
    }
    let got: BTreeMap<String, (Decimal, u64)> = portfolio["portfolio"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["category"].as_str().unwrap().to_owned(),
                (dec(&s["amount"]), s["count"].as_u64().unwrap()),
            )
        })
        .collect();
    assert_eq!(got, want);

    // Recompute on demand.
    let data = c
        .ok(
            "mutation($id: ID!) { recomputeRating(clientId: $id) { grade score factors { code impact } computedAt } }",
            json!({ "id": ids[0].to_string() }),
        )
        .await;
    assert!(data["recomputeRating"]["score"].is_i64());
    let missing = c
        .gql(
            "mutation { recomputeRating(clientId: \"999999\") { score } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&missing), "NOT_FOUND");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_dashboard_ordered_by_score_costs_a_constant_number_of_statements() {
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
    let q = "query($first: Int) { stats { grades { grade count } }
      clients(first: $first, orderBy: SCORE_DESC) { totalCount edges { cursor node {
        id displayName rating { grade score factors { code name value impact } }
        totalBalance { amount currency } links { bank { code } } } } } }";
    c.ok(q, json!({ "first": 1 })).await;
    let mut counts = Vec::new();
    for first in [2, 6, 12] {
        let before = server.core.db().statement_count();
        let data = c.ok(q, json!({ "first": first })).await;
        counts.push(server.core.db().statement_count() - before);
        assert_eq!(
            data["clients"]["edges"].as_array().unwrap().len(),
            first as usize
        );
    }
    assert!(counts.windows(2).all(|w| w[0] == w[1]), "{counts:?}");
    server.stop().await.unwrap();
}
