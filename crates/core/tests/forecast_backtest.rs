//! The forecast's back-test on the sandbox world (the demo's banks, people and seed): every
//! person linked at every bank that knows them and synced through the real connectors, then for
//! each client the forecast made 30 days before the end of the data (from the money then and the
//! patterns of the rows before then) is compared with the money at the end. The mean absolute
//! error of the end balance is printed (absolute and relative to the mean end balance) with the
//! naive forecast's ("the balance stays flat"), and the forecast must beat it. On SQLite and,
//! with `TEST_DATABASE_URL`, PostgreSQL.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod support;

use chrono::Duration;
use crm_core::accounts::total_by_currency;
use crm_core::CoreSettings;
use rust_decimal::Decimal;
use support::{anchor, synced_sandbox};

/// One client's money in one currency: at the end, at the cut, and as forecast for the end.
#[derive(Debug)]
struct Case {
    client: i64,
    currency: String,
    actual: i64,
    flat: i64,
    forecast: i64,
    /// The flat balance plus the expected items, without the everyday flow.
    items_only: i64,
}

/// Minor units as an exact amount (kopecks → rubles).
fn money(minor: i64) -> Decimal {
    Decimal::new(minor, 2)
}

/// The mean absolute error in rubles, exactly (rounded to kopecks).
fn mae(cases: &[&Case], pick: impl Fn(&Case) -> i64) -> Decimal {
    let sum: Decimal = cases
        .iter()
        .map(|c| money((pick(c) - c.actual).abs()))
        .sum();
    (sum / Decimal::from(cases.len().max(1))).round_dp(2)
}

#[tokio::test]
async fn forecasting_the_last_30_days_beats_a_flat_balance_on_the_sandbox() {
    let support::Synced {
        tdb,
        sandbox,
        core,
        clients,
    } = synced_sandbox(CoreSettings::default()).await;
    let clients: Vec<i64> = clients.into_iter().map(|(_, c)| c).collect();

    let end = anchor();
    let cut = end - Duration::days(30);
    let accounts = core.accounts_of_clients(&clients).await.unwrap();
    let mut cases = Vec::new();
    let mut items = std::collections::BTreeMap::<&str, usize>::new();
    for client in &clients {
        let money = total_by_currency(accounts.get(client).into_iter().flatten());
        // The money "as of" the end is today's money: nothing was booked after the data ends.
        let now = core.forecast(*client, 30, end).await.unwrap();
        for m in &money {
            let c = now.currencies.iter().find(|c| c.currency == m.currency);
            assert_eq!(c.map(|c| c.start.minor), Some(m.minor), "client {client}");
        }
        let past = core.forecast(*client, 30, cut).await.unwrap();
        for i in &past.items {
            *items.entry(i.kind.as_str()).or_default() += 1;
        }
        for m in &money {
            let Some(c) = past.currencies.iter().find(|c| c.currency == m.currency) else {
                continue;
            };
            assert_eq!(c.points.len(), 31);
            assert_eq!(c.end.at, end);
            cases.push(Case {
                client: *client,
                currency: m.currency.to_string(),
                actual: m.minor,
                flat: c.start.minor,
                forecast: c.end.balance.minor,
                items_only: c.start.minor
                    + past
                        .items
                        .iter()
                        .filter(|i| i.amount.currency == m.currency)
                        .map(|i| i.amount.minor)
                        .sum::<i64>(),
            });
        }
    }
    let rub: Vec<&Case> = cases.iter().filter(|c| c.currency == "RUB").collect();
    assert!(rub.len() >= 15, "clients with roubles: {}", rub.len());
    let mean_actual = (rub.iter().map(|c| money(c.actual.abs())).sum::<Decimal>()
        / Decimal::from(rub.len()))
    .round_dp(2);
    let hundred = Decimal::from(100);
    let (forecast, flat) = (mae(&rub, |c| c.forecast), mae(&rub, |c| c.flat));
    let items_only = mae(&rub, |c| c.items_only);
    let better = rub
        .iter()
        .filter(|c| (c.forecast - c.actual).abs() < (c.flat - c.actual).abs())
        .count();
    println!(
        "forecast back-test, {} clients in RUB (expected items {items:?}), cut {cut}, end {end}:\n  \
         forecast MAE {forecast} RUB ({} % of the mean end balance {mean_actual}; \
         {} of the flat MAE)\n  \
         flat     MAE {flat} RUB ({} %; the mean absolute change over the 30 days)\n  \
         items without the everyday flow: MAE {items_only} RUB\n  \
         forecast closer for {better} of {} clients",
        rub.len(),
        (forecast / mean_actual * hundred).round_dp(1),
        (forecast / flat).round_dp(2),
        (flat / mean_actual * hundred).round_dp(1),
        rub.len()
    );
    for c in cases.iter().filter(|c| c.currency != "RUB") {
        println!(
            "  {} client {}: actual {} flat {} forecast {}",
            c.currency, c.client, c.actual, c.flat, c.forecast
        );
    }
    for c in &rub {
        println!(
            "  client {:>3}: actual {:>14} flat {:>14} forecast {:>14}",
            c.client,
            money(c.actual),
            money(c.flat),
            money(c.forecast)
        );
    }
    assert!(
        items.get("SALARY").is_some_and(|n| *n > 0)
            && items.get("RECURRING").is_some_and(|n| *n > 0),
        "the sandbox's salaries and payments are expected: {items:?}"
    );
    // The data are fixed (seed and anchor), so are the figures: the forecast must err by well
    // under the movement a flat balance misses.
    assert!(
        forecast < Decimal::new(6, 1) * flat,
        "the forecast's MAE ({forecast}) must be well under the flat balance's ({flat})"
    );
    assert!(
        better * 2 > rub.len(),
        "closer for {better} of {}",
        rub.len()
    );
    sandbox.stop().await;
    tdb.cleanup().await.unwrap();
}
