//! `Client.forecast` through the real server over HTTP: the figures are core's forecast of the
//! same moment and the database's money; a horizon other than 30, 60 or 90 days is refused; a
//! client outside a manager's book is not found.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use common::{code, start, Client};
use crm_core::accounts::total_by_currency;
use crm_core::forecast::ItemKind;
use crm_core::testing::{seed_portfolio, SeedSpec};
use rust_decimal::Decimal;
use serde_json::{json, Value};

const PASSWORD: &str = "a-long-test-password";

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

/// Day `day` at `hour` of the month `back` months before this one.
fn months_ago(back: i32, day: u32, hour: u32) -> DateTime<Utc> {
    let now = Utc::now();
    let total = now.year() * 12 + now.month0() as i32 - back;
    Utc.with_ymd_and_hms(total / 12, (total % 12) as u32 + 1, day, hour, 0, 0)
        .single()
        .unwrap()
}

const FORECAST: &str = "query($id: ID!, $days: Int!) {
  client(id: $id) {
    totalBalance { amount currency }
    income { typicalAmount { amount } }
    recurringPayments { key typicalAmount { amount } }
    forecast(days: $days) {
      days from
      currencies { currency start { amount currency } end { date balance { amount } }
        lowest { date balance { amount } } everydayPerDay { amount } lookbackDays
        points { date at balance { amount currency } } }
      items { date expectedAt amount { amount currency } kind label
        evidence { label payeeKey agreementId interval dayOfMonth typicalAmount { amount }
          monthlyAmount { amount } occurrences lastSeenAt nextExpectedAt } }
    }
  }
}";

#[tokio::test]
async fn the_forecast_is_cores_from_the_clients_money_refused_for_other_horizons_and_books() {
    let server = start().await;
    let ids = seed_portfolio(
        server.core.db(),
        &SeedSpec {
            clients: 1,
            transactions_per_client: 60,
            months: 3,
        },
    )
    .await
    .unwrap();
    let id = ids[0].to_string();
    let c = Client::new(&server);
    c.login_admin().await;
    // Six months of a salary and a subscription, both on the 5th.
    for back in 1..=6 {
        for (hour, amount, direction, description, merchant) in [
            (9, "120000.00", "CREDIT", "Заработная плата", "ООО Василёк"),
            (12, "799.00", "DEBIT", "Подписка", "Кинопоиск"),
        ] {
            c.ok(
                "mutation($input: CreateTransactionInput!) { createTransaction(input: $input) { id } }",
                json!({ "input": { "clientId": id, "bookedAt": months_ago(back, 5, hour).to_rfc3339(),
                    "amount": amount, "currency": "RUB", "direction": direction,
                    "description": description, "merchant": merchant } }),
            )
            .await;
        }
    }

    for days in [30, 60, 90] {
        let data = c.ok(FORECAST, json!({ "id": id, "days": days })).await;
        let client = &data["client"];
        let f = &client["forecast"];
        assert_eq!(f["days"], days);
        let from: DateTime<Utc> = f["from"].as_str().unwrap().parse().unwrap();
        let core = server.core.forecast(ids[0], days, from).await.unwrap();

        // Starts from the client's money as the database holds it (open accounts, no debts).
        let accounts = server.core.accounts_of_clients(&ids).await.unwrap();
        let money = total_by_currency(accounts.get(&ids[0]).into_iter().flatten());
        let currencies = f["currencies"].as_array().unwrap();
        assert_eq!(currencies.len(), 1, "{f}");
        let rub = &currencies[0];
        assert_eq!(rub["currency"], "RUB");
        assert_eq!(dec(&rub["start"]["amount"]), money[0].amount());
        assert_eq!(
            dec(&rub["start"]["amount"]),
            dec(&client["totalBalance"][0]["amount"])
        );
        // Every point is core's.
        let points = rub["points"].as_array().unwrap();
        assert_eq!(points.len(), days as usize + 1);
        let expected = &core.currencies[0];
        for (p, e) in points.iter().zip(&expected.points) {
            assert_eq!(dec(&p["balance"]["amount"]), e.balance.amount());
            assert_eq!(p["date"].as_str().unwrap(), e.date.to_string());
        }
        assert_eq!(
            dec(&rub["end"]["balance"]["amount"]),
            expected.end.balance.amount()
        );
        assert_eq!(
            dec(&rub["lowest"]["balance"]["amount"]),
            expected.lowest.balance.amount()
        );
        assert_eq!(
            dec(&rub["everydayPerDay"]["amount"]),
            expected.everyday_per_day().amount()
        );

        // The items: the salary and the subscription every month, with their patterns' figures.
        let items = f["items"].as_array().unwrap();
        assert_eq!(items.len(), core.items.len());
        let months = [30, 60, 90].iter().position(|d| *d == days).unwrap() + 1;
        let salaries: Vec<&Value> = items.iter().filter(|i| i["kind"] == "SALARY").collect();
        let subscriptions: Vec<&Value> = items
            .iter()
            .filter(|i| i["kind"] == "RECURRING" && i["evidence"]["payeeKey"] == "кинопоиск")
            .collect();
        assert!(
            (months..=months + 1).contains(&salaries.len()),
            "{days} days: {salaries:?}"
        );
        assert_eq!(salaries.len(), subscriptions.len());
        let salary = dec(&client["income"]["typicalAmount"]["amount"]);
        assert_eq!(salary, "120000.00".parse::<Decimal>().unwrap());
        for s in &salaries {
            assert_eq!(dec(&s["amount"]["amount"]), salary);
            assert_eq!(s["label"], "ООО Василёк");
            assert_eq!(s["evidence"]["interval"], "MONTHLY");
            assert_eq!(s["evidence"]["dayOfMonth"], 5);
            assert_eq!(s["evidence"]["occurrences"], 6);
        }
        let sub = client["recurringPayments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == "кинопоиск")
            .unwrap();
        for s in &subscriptions {
            assert_eq!(
                dec(&s["amount"]["amount"]),
                -dec(&sub["typicalAmount"]["amount"])
            );
        }
        for (i, e) in items.iter().zip(&core.items) {
            assert_eq!(dec(&i["amount"]["amount"]), e.amount.amount());
            assert_eq!(i["kind"], e.kind.as_str());
            let at: DateTime<Utc> = i["expectedAt"].as_str().unwrap().parse().unwrap();
            assert_eq!(at, e.at);
        }
        assert!(core.items.iter().any(|i| i.kind == ItemKind::Salary));
    }

    // Other horizons are refused with the reason.
    for days in [45, 0, -30, 365] {
        let body = c.gql(FORECAST, json!({ "id": id, "days": days })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{days}: {body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("30, 60 or 90"),
            "{body}"
        );
    }
    // The default horizon is 30 days.
    let data = c
        .ok(
            "query($id: ID!) { client(id: $id) { forecast { days currencies { points { date } } } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data["client"]["forecast"]["days"], 30);

    // A manager whose book is empty does not find the client.
    common::create_user(&c, "nina", "MANAGER", PASSWORD).await;
    let nina = common::signed_in_as(&server, "nina", PASSWORD).await;
    let body = nina
        .gql(
            "query($id: ID!) { client(id: $id) { forecast(days: 30) { days } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    assert!(body["data"]["client"].is_null(), "{body}");
}
