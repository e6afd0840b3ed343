//! The held-away radar and the share of wallet on the sandbox world, whose truth is known: the
//! sandbox says which products each person holds where (`RunningSandbox::products_of`). With
//! ABank as the home bank, every product at VBank, SBank or a lender outside the sandbox is held
//! away. Precision and recall of the inference are printed (overall and per source) and
//! precision must be at least 0.9. The share of wallet's figures are checked against sums over
//! the stored rows and accounts, computed here independently, and the book's roll-up against the
//! sum of its clients. On SQLite and, with `TEST_DATABASE_URL`, PostgreSQL.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod support;

use std::collections::BTreeMap;

use chrono::{Datelike, TimeZone, Utc};
use crm_core::auth::Actor;
use crm_core::domain::{normalize_for_search, Category, HeldAwayKind, HeldAwaySource, Role};
use crm_core::entity::{accounts, transactions};
use crm_core::signals::SignalSettings;
use crm_core::wallet::HeldAwayProduct;
use crm_core::CoreSettings;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use support::{anchor, synced_sandbox, synced_sandbox_at};

const HOME: &str = "abank";

/// What a product is and where, comparable between the inference and the truth.
fn key(kind: &str, bank_code: Option<&str>, bank_name: &str) -> (String, String) {
    let bank = bank_code
        .map(str::to_owned)
        .unwrap_or_else(|| normalize_for_search(bank_name));
    (kind.to_owned(), bank)
}

fn inferred_key(p: &HeldAwayProduct) -> (String, String) {
    let kind = match p.kind {
        HeldAwayKind::Deposit => "deposit",
        HeldAwayKind::Savings => "savings",
        HeldAwayKind::Loan | HeldAwayKind::CreditLine => "loan",
        HeldAwayKind::CreditCard => "credit_card",
    };
    key(kind, p.bank_code.as_deref(), &p.bank_name)
}

fn home_settings() -> CoreSettings {
    CoreSettings {
        signals: SignalSettings {
            home_bank: Some(HOME.into()),
            ..SignalSettings::default()
        },
        ..CoreSettings::default()
    }
}

#[derive(Default, Debug)]
struct Score {
    predicted: usize,
    correct: usize,
}

#[tokio::test]
async fn the_radar_finds_what_the_sandbox_holds_elsewhere_and_the_shares_add_up() {
    let s = synced_sandbox(home_settings()).await;
    let now = anchor();
    let ids: Vec<i64> = s.clients.iter().map(|(_, c)| *c).collect();
    let held = s.core.held_away_of_clients(&ids, now).await.unwrap();

    // Precision and recall against the truth, as multisets of (kind, bank) per client.
    let mut truth_total = 0usize;
    let mut found = 0usize;
    let mut by_source: BTreeMap<&str, Score> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut false_alarms = Vec::new();
    for (person, client) in &s.clients {
        let mut truth: BTreeMap<(String, String), usize> = BTreeMap::new();
        for t in s.sandbox.products_of(person) {
            if t.bank_code.as_deref() == Some(HOME) {
                continue;
            }
            *truth
                .entry(key(t.kind, t.bank_code.as_deref(), &t.bank_name))
                .or_default() += 1;
            truth_total += 1;
        }
        let products = held.get(client).cloned().unwrap_or_default();
        for p in &products {
            let k = inferred_key(p);
            let score = by_source.entry(p.source.as_str()).or_default();
            score.predicted += 1;
            match truth.get_mut(&k).filter(|n| **n > 0) {
                Some(n) => {
                    *n -= 1;
                    score.correct += 1;
                    found += 1;
                }
                None => {
                    let rows = transactions::Entity::find()
                        .filter(transactions::Column::Id.is_in(p.transaction_ids.clone()))
                        .all(s.core.db().conn())
                        .await
                        .unwrap();
                    let texts: Vec<String> = rows
                        .iter()
                        .take(3)
                        .map(|r| {
                            format!("{} / {:?} / {}", r.category, r.counterparty, r.description)
                        })
                        .collect();
                    false_alarms.push((person.clone(), k, p.source, p.key.clone(), texts))
                }
            }
            // Every product names its evidence, and a product seen in the payments lists them.
            assert!(
                !(p.account_ids.is_empty() && p.agreement_ids.is_empty()),
                "{person}: {p:?}"
            );
            if p.source != HeldAwaySource::Listed {
                assert!(!p.transaction_ids.is_empty(), "{person}: {p:?}");
                assert!(p.paid_in.is_some(), "{person}: {p:?}");
                assert_eq!(
                    p.monthly_flow.is_some(),
                    p.months_seen >= 2,
                    "{person}: {p:?}"
                );
            }
            if p.source == HeldAwaySource::Flows {
                assert_eq!(p.amount, None, "payments alone give no balance: {p:?}");
            }
        }
        for (k, n) in truth {
            for _ in 0..n {
                misses.push((person.clone(), k.clone()));
            }
        }
    }
    let predicted: usize = by_source.values().map(|s| s.predicted).sum();
    let precision = found as f64 / predicted.max(1) as f64;
    let recall = found as f64 / truth_total.max(1) as f64;
    println!(
        "held-away radar on the sandbox (home {HOME}): {truth_total} products held away, \
         {predicted} inferred, {found} right: precision {precision:.3}, recall {recall:.3}"
    );
    for (source, score) in &by_source {
        println!(
            "  {source:<6} {} inferred, {} right",
            score.predicted, score.correct
        );
    }
    for m in &misses {
        println!("  missed: {m:?}");
    }
    for f in &false_alarms {
        println!("  false: {f:?}");
    }
    assert!(
        truth_total >= 10,
        "the sandbox holds products elsewhere: {truth_total}"
    );
    assert!(precision >= 0.9, "precision {precision:.3}");
    assert!(recall >= 0.8, "recall {recall:.3}");
    assert!(
        by_source.get("BOTH").is_some_and(|s| s.correct > 0)
            && by_source.get("FLOWS").is_some_and(|s| s.correct > 0),
        "both sources contribute: {by_source:?}"
    );

    // The share of wallet: balances from the accounts, income and spending from the rows of
    // August to October 2026 (the three whole months before the anchor), summed here.
    let from = Utc.with_ymd_and_hms(2026, 8, 1, 0, 0, 0).single().unwrap();
    let to = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().unwrap();
    let mut book = (0i64, 0i64, 0i64, 0i64, 0i64, 0i64);
    for (_, client) in &s.clients {
        let share = s.core.share_of_wallet(*client, now).await.unwrap().unwrap();
        assert_eq!((share.from.month(), share.to.month()), (8, 11));
        let accounts = accounts::Entity::find()
            .filter(accounts::Column::ClientId.eq(*client))
            .all(s.core.db().conn())
            .await
            .unwrap();
        let bank_of: BTreeMap<i64, String> = accounts
            .iter()
            .map(|a| (a.id, a.bank_code.clone()))
            .collect();
        let mut balances = (0i64, 0i64);
        for a in &accounts {
            let money = a.closed_at.is_none()
                && a.currency == "RUB"
                && !matches!(a.kind.as_deref(), Some("LOAN" | "CREDIT_CARD"))
                && a.balance_minor.is_some_and(|b| b >= 0);
            if money {
                let b = a.balance_minor.unwrap_or(0);
                balances.1 += b;
                if a.bank_code == HOME {
                    balances.0 += b;
                }
            }
        }
        let rows = transactions::Entity::find()
            .filter(transactions::Column::ClientId.eq(*client))
            .filter(transactions::Column::BookedAt.gte(from))
            .filter(transactions::Column::BookedAt.lt(to))
            .filter(transactions::Column::Status.eq("BOOKED"))
            .filter(transactions::Column::ReplacedById.is_null())
            .filter(transactions::Column::Currency.eq("RUB"))
            .all(s.core.db().conn())
            .await
            .unwrap();
        let (mut income, mut spending) = ((0i64, 0i64), (0i64, 0i64));
        for r in rows {
            if r.category == Category::OwnTransfer.as_str() {
                continue;
            }
            let home = bank_of.get(&r.account_id).map(String::as_str) == Some(HOME);
            let target = if r.direction == "CREDIT" {
                if r.category == Category::Refunds.as_str() {
                    continue;
                }
                &mut income
            } else {
                &mut spending
            };
            target.1 += r.amount_minor;
            if home {
                target.0 += r.amount_minor;
            }
        }
        let got = |w: &crm_core::wallet::WalletShare| (w.home.minor, w.total.minor);
        assert_eq!(got(&share.balances), balances, "client {client} balances");
        assert_eq!(got(&share.income), income, "client {client} income");
        assert_eq!(got(&share.spending), spending, "client {client} spending");
        for w in [&share.balances, &share.income, &share.spending] {
            assert_eq!(
                w.by_bank.iter().map(|b| b.amount.minor).sum::<i64>(),
                w.total.minor,
                "the parts add up"
            );
        }
        book.0 += balances.0;
        book.1 += balances.1;
        book.2 += income.0;
        book.3 += income.1;
        book.4 += spending.0;
        book.5 += spending.1;
    }

    // The book's roll-up is its clients' sum.
    let admin = Actor {
        user_id: 0,
        username: "admin".into(),
        role: Role::Admin,
        session_id: 0,
        password_change_required: false,
    };
    let wallet = s.core.book_wallet(&admin, now).await.unwrap();
    let share = wallet.share.unwrap();
    assert_eq!(
        (
            share.balances.home.minor,
            share.balances.total.minor,
            share.income.home.minor,
            share.income.total.minor,
            share.spending.home.minor,
            share.spending.total.minor
        ),
        book
    );
    assert_eq!(wallet.clients as usize, s.clients.len());
    let count: u64 = wallet.held_away.iter().map(|t| t.count).sum();
    assert_eq!(count as usize, predicted);
    println!(
        "book: balances {}% at home, income {}%, spending {}%; {} of {} clients hold products elsewhere",
        share.balances.percent.unwrap_or_default(),
        share.income.percent.unwrap_or_default(),
        share.spending.percent.unwrap_or_default(),
        wallet.clients_with_held_away,
        wallet.clients
    );

    // Consolidation offers state figures from the radar and the catalogue.
    let mut offers = 0;
    for (_, client) in &s.clients {
        let products = held.get(client).cloned().unwrap_or_default();
        for o in s.core.consolidation_offers(*client, now).await.unwrap() {
            offers += 1;
            if let Some(k) = &o.held_away_key {
                let p = products.iter().find(|p| &p.key == k).unwrap();
                assert_eq!(o.transaction_ids, p.transaction_ids);
                if let Some(amount) = &p.amount {
                    assert_eq!(o.money_at_stake.minor, amount.minor, "{o:?}");
                }
            }
            assert!(!o.reason.ru.is_empty() && !o.reason.en.is_empty());
        }
    }
    println!("consolidation offers: {offers}");
    assert!(offers > 0);
    s.sandbox.stop().await;
    s.tdb.cleanup().await.unwrap();
}

/// The payments alone: everyone linked at the home bank only, so nothing elsewhere is listed and
/// every product found comes from the home bank's rows (loan payments to a named lender, own
/// transfers naming a bank and a product). Printed with its precision and recall; precision
/// must stay at least 0.9 (a product claimed from payments must be real).
#[tokio::test]
async fn from_the_home_bank_alone_the_payments_still_show_loans_elsewhere() {
    let s = synced_sandbox_at(home_settings(), Some(HOME)).await;
    let now = anchor();
    let ids: Vec<i64> = s.clients.iter().map(|(_, c)| *c).collect();
    let held = s.core.held_away_of_clients(&ids, now).await.unwrap();
    let (mut truth_total, mut truth_loans, mut predicted, mut found) = (0, 0, 0, 0);
    for (person, client) in &s.clients {
        let mut truth: BTreeMap<(String, String), usize> = BTreeMap::new();
        for t in s.sandbox.products_of(person) {
            if t.bank_code.as_deref() != Some(HOME) {
                *truth
                    .entry(key(t.kind, t.bank_code.as_deref(), &t.bank_name))
                    .or_default() += 1;
                truth_total += 1;
                truth_loans += usize::from(t.kind == "loan");
            }
        }
        for p in held.get(client).into_iter().flatten() {
            assert_eq!(
                p.source,
                HeldAwaySource::Flows,
                "nothing elsewhere is linked: {p:?}"
            );
            predicted += 1;
            if let Some(n) = truth.get_mut(&inferred_key(p)).filter(|n| **n > 0) {
                *n -= 1;
                found += 1;
            }
        }
    }
    let precision = found as f64 / predicted.max(1) as f64;
    println!(
        "held-away radar from {HOME} alone ({} clients): {truth_total} products held away \
         ({truth_loans} loans), {predicted} inferred from payments, {found} right: precision \
         {precision:.3}, recall {:.3} (of the loans {:.3})",
        s.clients.len(),
        found as f64 / truth_total.max(1) as f64,
        found as f64 / truth_loans.max(1) as f64
    );
    assert!(predicted > 0, "the payments show some loans elsewhere");
    assert!(precision >= 0.9, "precision {precision:.3}");
    s.sandbox.stop().await;
    s.tdb.cleanup().await.unwrap();
}
