//! Ratings, analytics, insights, offers and the aggregates behind them, on SQLite and (with
//! `TEST_DATABASE_URL`) PostgreSQL. Expected values are computed here, independently, from the
//! rows the tests insert.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]
// Amounts are written as rubles_kopecks (90_000_00) on purpose.
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use crm_core::analytics::Interval;
use crm_core::auth::Actor;
use crm_core::clients::{ClientFilter, ClientOrder, NewClient};
use crm_core::domain::{Category, Currency, Grade, Role};
use crm_core::entity::{accounts, products, transactions};
use crm_core::testing::TestDatabase;
use crm_core::{Core, CoreSettings};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
};

fn admin() -> Actor {
    Actor {
        user_id: 1,
        username: "admin".into(),
        role: Role::Admin,
        session_id: 0,
        password_change_required: false,
    }
}

async fn setup() -> (Core, TestDatabase) {
    let pg = std::env::var("TEST_DATABASE_URL").ok();
    let tdb = TestDatabase::create(pg.as_deref()).await.unwrap();
    let core = Core::new(tdb.db.clone(), CoreSettings::default(), Default::default()).unwrap();
    (core, tdb)
}

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap()
}

/// The rating moment of the crafted clients: the window is July 2024 to June 2025, exactly.
fn now() -> DateTime<Utc> {
    at(2025, 7, 1, 0)
}

/// The twelve months of the window: (year, month).
fn window_months() -> Vec<(i32, u32)> {
    (0..12)
        .map(|i| {
            let m0 = 6 + i; // July 2024 = month index 6 of 2024
            (2024 + m0 / 12, (m0 % 12 + 1) as u32)
        })
        .collect()
}

/// A row to insert: what the test knows about it.
#[derive(Clone, Debug)]
struct Row {
    at: DateTime<Utc>,
    minor: i64,
    credit: bool,
    category: Category,
    description: String,
    merchant: Option<String>,
    counterparty: Option<String>,
    raw_status: Option<String>,
    currency: &'static str,
}

fn debit(at: DateTime<Utc>, minor: i64, category: Category, description: &str) -> Row {
    Row {
        at,
        minor,
        credit: false,
        category,
        description: description.into(),
        merchant: None,
        counterparty: None,
        raw_status: None,
        currency: "RUB",
    }
}

fn credit(at: DateTime<Utc>, minor: i64, category: Category, payer: &str) -> Row {
    Row {
        at,
        minor,
        credit: true,
        category,
        description: "Поступление".into(),
        merchant: None,
        counterparty: Some(payer.into()),
        raw_status: None,
        currency: "RUB",
    }
}

fn with_merchant(mut r: Row, merchant: &str) -> Row {
    r.merchant = Some(merchant.into());
    r
}

struct Crafted {
    id: i64,
    rows: Vec<Row>,
}

async fn new_client(core: &Core, name: &str) -> i64 {
    core.create_client(
        &admin(),
        NewClient {
            display_name: name.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

async fn new_account(core: &Core, client: i64, ext: &str, currency: &str, balance: i64) -> i64 {
    let now = now();
    accounts::ActiveModel {
        client_id: Set(client),
        link_id: Set(None),
        bank_code: Set("abank".into()),
        external_id: Set(ext.into()),
        name: Set(format!("Счёт {ext}")),
        account_type: Set("Personal".into()),
        account_subtype: Set(None),
        currency: Set(currency.into()),
        status: Set("OPEN".into()),
        number: Set(None),
        number_masked: Set(None),
        balance_minor: Set(Some(balance)),
        balance_type: Set(Some("InterimAvailable".into())),
        balance_at: Set(Some(now)),
        opened_on: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(core.db().conn())
    .await
    .unwrap()
    .id
}

/// Inserts rows straight through the entity and rebuilds the client's aggregates (the bulk path).
async fn insert_rows(core: &Core, client: i64, account: i64, rows: &[Row]) {
    let conn = core.db().conn();
    for (i, r) in rows.iter().enumerate() {
        let search = [
            Some(r.description.as_str()),
            r.merchant.as_deref(),
            r.counterparty.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        transactions::ActiveModel {
            client_id: Set(client),
            account_id: Set(account),
            external_id: Set(format!("t-{account}-{i}")),
            booked_at: Set(r.at),
            booked_month: Set(r.at.year() * 100 + r.at.month() as i32),
            value_at: Set(None),
            amount_minor: Set(r.minor),
            currency: Set(r.currency.into()),
            direction: Set(if r.credit { "CREDIT" } else { "DEBIT" }.into()),
            status: Set("BOOKED".into()),
            raw_status: Set(r.raw_status.clone()),
            description: Set(r.description.clone()),
            merchant: Set(r.merchant.clone()),
            mcc: Set(None),
            bank_tx_code: Set(None),
            counterparty: Set(r.counterparty.clone()),
            card_masked: Set(None),
            search_text: Set(crm_core::domain::normalize_for_search(&search)),
            category: Set(r.category.as_str().into()),
            category_source: Set("MCC".into()),
            replaced_by_id: Set(None),
            created_at: Set(now()),
            updated_at: Set(now()),
            ..Default::default()
        }
        .insert(conn)
        .await
        .unwrap();
    }
    crm_core::testing::rebuild_aggregates(conn, Some(client))
        .await
        .unwrap();
}

/// A: salary 90 000 on the 5th from one employer; spending 54 000 a month (rent 30 000 on the
/// 1st, loan 9 000 on the 10th, a 1 000 subscription on the 15th, groceries 3 000 + 5 000 +
/// 6 000 on the 3rd, 12th and 25th); 240 000 on the account.
async fn client_a(core: &Core) -> Crafted {
    let id = new_client(core, "Анна Образцова").await;
    let acc = new_account(core, id, "a-1", "RUB", 240_000_00).await;
    let mut rows = Vec::new();
    for (y, m) in window_months() {
        rows.push(credit(
            at(y, m, 5, 9),
            90_000_00,
            Category::Salary,
            "ООО Ромашка",
        ));
        let mut rent = debit(at(y, m, 1, 10), 30_000_00, Category::TransfersOut, "Аренда");
        rent.counterparty = Some("ИП Сидоров".into());
        rows.push(rent);
        rows.push(debit(
            at(y, m, 10, 11),
            9_000_00,
            Category::LoanPayments,
            "Погашение кредита",
        ));
        rows.push(with_merchant(
            debit(
                at(y, m, 15, 12),
                1_000_00,
                Category::Subscriptions,
                "Оплата подписки",
            ),
            "Яндекс Плюс",
        ));
        for (day, amount) in [(3, 3_000_00), (12, 5_000_00), (25, 6_000_00)] {
            rows.push(with_merchant(
                debit(at(y, m, day, 18), amount, Category::Groceries, "Покупка"),
                "Пятёрочка",
            ));
        }
    }
    insert_rows(core, id, acc, &rows).await;
    Crafted { id, rows }
}

/// B: income 50 000 a month from a different customer each month (no salary); spending 47 500
/// (loan 12 500, cash 14 250, groceries 20 750); 47 500 on the account.
async fn client_b(core: &Core) -> Crafted {
    let id = new_client(core, "Борис Средний").await;
    let acc = new_account(core, id, "b-1", "RUB", 47_500_00).await;
    let mut rows = Vec::new();
    for (i, (y, m)) in window_months().into_iter().enumerate() {
        let day = [1, 17, 9, 28, 14, 6, 21, 11, 26, 3, 19, 8][i];
        rows.push(credit(
            at(y, m, day, 15),
            50_000_00,
            Category::OtherIncome,
            &format!("Заказчик {}", i + 1),
        ));
        rows.push(debit(
            at(y, m, 20, 11),
            12_500_00,
            Category::LoanPayments,
            "Кредит",
        ));
        rows.push(debit(
            at(y, m, 7, 13),
            14_250_00,
            Category::Cash,
            "Снятие наличных",
        ));
        rows.push(with_merchant(
            debit(
                at(y, m, 4 + (i as u32 % 20), 19),
                20_750_00,
                Category::Groceries,
                "Покупка",
            ),
            "Магнит",
        ));
    }
    insert_rows(core, id, acc, &rows).await;
    Crafted { id, rows }
}

/// C: income 40 000 in six of twelve months on shifting days (20 000 a month on average, no
/// salary); spending 26 000 (loan 4 000, groceries 12 000, utilities 10 000, one utility
/// payment refused by the bank); one account at -5 000, another at 0.
async fn client_c(core: &Core) -> Crafted {
    let id = new_client(core, "Виктор Рискованный").await;
    let overdrawn = new_account(core, id, "c-1", "RUB", -5_000_00).await;
    let mut rows = Vec::new();
    for (i, (y, m)) in window_months().into_iter().enumerate() {
        if i % 2 == 0 {
            let day = [1, 27, 12, 20, 8, 16][i / 2];
            rows.push(credit(
                at(y, m, day, 10),
                40_000_00,
                Category::Salary,
                "ООО Вектор",
            ));
        }
        rows.push(debit(
            at(y, m, 12, 10),
            4_000_00,
            Category::LoanPayments,
            "Кредит",
        ));
        rows.push(debit(
            at(y, m, 9, 16),
            12_000_00,
            Category::Groceries,
            "Покупка",
        ));
        let mut utility = debit(
            at(y, m, 18, 9),
            10_000_00,
            Category::Utilities,
            "Оплата ЖКХ",
        );
        if i == 7 {
            utility.raw_status = Some("Rejected".into());
        }
        rows.push(utility);
    }
    insert_rows(core, id, overdrawn, &rows).await;
    new_account(core, id, "c-2", "RUB", 0).await;
    Crafted { id, rows }
}

fn assert_factor(r: &crm_core::ratings::Rating, code: &str, value: &str, impact: f64) {
    let f = r
        .factor(code)
        .unwrap_or_else(|| panic!("factor {code} missing: {:?}", r.factors));
    assert_eq!(f.value, value, "value of {code}");
    assert!(
        (f.impact - impact).abs() < 1e-9,
        "impact of {code}: {} != {impact}",
        f.impact
    );
}

#[tokio::test]
async fn crafted_a_b_and_c_clients_have_known_factors() {
    let (core, tdb) = setup().await;
    let (a, b, c) = (
        client_a(&core).await,
        client_b(&core).await,
        client_c(&core).await,
    );

    let ra = core.rate_client(a.id, now()).await.unwrap().unwrap();
    assert_factor(&ra, "income_level", "90\u{a0}000\u{a0}₽/мес", 7.5);
    assert_factor(
        &ra,
        "income_regularity",
        "зарплата: ООО Ромашка, 12 из 12 мес.",
        10.0,
    );
    assert_factor(&ra, "savings_rate", "40%", 10.0);
    assert_factor(&ra, "liquidity_buffer", "4,4 мес.", 7.9);
    assert_factor(&ra, "debt_service", "10%", 3.3);
    assert_factor(&ra, "overdrafts", "нет", 0.0);
    assert_factor(&ra, "returned_payments", "нет", 0.0);
    assert_factor(&ra, "cash_share", "0%", 0.0);
    assert!(ra.factor("history").is_none() && ra.factor("other_currencies").is_none());
    assert_eq!(ra.factors.len(), 8);
    assert_eq!(ra.factor("savings_rate").unwrap().value_en, "40%");
    assert_eq!(ra.factor("income_level").unwrap().value_en, "₽90,000/month");
    // 50 + 7.5 + 10 + 10 + 7.9 + 3.3 = 88.7
    assert_eq!((ra.score, ra.grade), (89, Grade::A));

    let rb = core.rate_client(b.id, now()).await.unwrap().unwrap();
    assert_factor(&rb, "income_level", "50\u{a0}000\u{a0}₽/мес", 2.5);
    assert_factor(
        &rb,
        "income_regularity",
        "зарплата не найдена; доход в 12 из 12 мес.",
        0.0,
    );
    assert_factor(&rb, "savings_rate", "5%", 0.0);
    assert_factor(&rb, "liquidity_buffer", "1 мес.", 0.0);
    assert_factor(&rb, "debt_service", "25%", 0.8);
    assert_factor(&rb, "cash_share", "30%", -2.0);
    assert_factor(&rb, "overdrafts", "нет", 0.0);
    // 50 + 2.5 + 0 + 0 + 0 + 0.8 - 2 = 51.3
    assert_eq!((rb.score, rb.grade), (51, Grade::B));

    let rc = core.rate_client(c.id, now()).await.unwrap().unwrap();
    assert_factor(&rc, "income_level", "20\u{a0}000\u{a0}₽/мес", -3.3);
    assert_factor(
        &rc,
        "income_regularity",
        "зарплата не найдена; доход в 6 из 12 мес.",
        -5.0,
    );
    assert_factor(&rc, "savings_rate", "-30%", -8.0);
    assert_factor(&rc, "liquidity_buffer", "-0,2 мес.", -8.0);
    assert_factor(&rc, "debt_service", "20%", 1.7);
    assert_factor(&rc, "overdrafts", "1 счёт", -5.0);
    assert_factor(&rc, "returned_payments", "1 платёж", -4.0);
    assert_factor(&rc, "cash_share", "0%", 0.0);
    // 50 - 3.3 - 5 - 8 - 8 + 1.7 - 5 - 4 = 18.4
    assert_eq!((rc.score, rc.grade), (18, Grade::C));

    // Stored, filtered and ordered.
    assert_eq!(core.rating(b.id).await.unwrap().unwrap().score, 51);
    let only_a = ClientFilter {
        rating: Some(Grade::A),
        ..Default::default()
    };
    let page = core
        .list_clients(&crm_core::testing::admin(), &only_a, 10, None)
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![a.id]
    );
    let d = new_client(&core, "Аарон Безданных").await;
    let by_score = core
        .list_clients_ordered(
            &crm_core::testing::admin(),
            &ClientFilter::default(),
            ClientOrder::ScoreDesc,
            10,
            None,
        )
        .await
        .unwrap();
    let ids: Vec<i64> = by_score.items.iter().map(|c| c.client.id).collect();
    assert_eq!(ids, vec![a.id, b.id, c.id, d], "unrated last");
    // Paging by cursor gives the same order.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let p = core
            .list_clients_ordered(
                &crm_core::testing::admin(),
                &ClientFilter::default(),
                ClientOrder::BalanceDesc,
                1,
                after.as_ref(),
            )
            .await
            .unwrap();
        let last = p.items.last().unwrap();
        after = Some(crm_core::clients::ClientPosition {
            key: last.key,
            name: last.client.sort_name.clone(),
            id: last.client.id,
        });
        paged.extend(p.items.iter().map(|c| (c.client.id, c.key)));
        if !p.has_next {
            break;
        }
    }
    assert_eq!(
        paged,
        vec![
            (a.id, 240_000_00),
            (b.id, 47_500_00),
            // An overdraft is a debt, not negative money: C's balance counts as nothing, and
            // ties go by name.
            (d, 0),
            (c.id, 0)
        ]
    );

    let stats = core.stats(&crm_core::testing::admin()).await.unwrap();
    // C's overdraft is owed money in the headline figures, not a smaller balance.
    assert_eq!(
        stats
            .debts
            .iter()
            .map(|m| (m.minor, m.currency.as_str()))
            .collect::<Vec<_>>(),
        vec![(5_000_00, "RUB")]
    );
    // The headline figures carry the same averages as the portfolio, from the stored scores.
    assert_eq!(
        stats
            .grades
            .iter()
            .map(|g| (g.grade, g.count, g.average_score))
            .collect::<Vec<_>>(),
        vec![
            (Some(Grade::A), 1, 89),
            (Some(Grade::B), 1, 51),
            (Some(Grade::C), 1, 18)
        ]
    );
    let grades = core
        .grade_distribution(&crm_core::testing::admin())
        .await
        .unwrap();
    assert_eq!(
        grades
            .iter()
            .map(|g| (g.grade, g.count, g.average_score))
            .collect::<Vec<_>>(),
        vec![
            (Some(Grade::A), 1, 89),
            (Some(Grade::B), 1, 51),
            (Some(Grade::C), 1, 18),
            (None, 1, 0)
        ]
    );
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn short_history_other_currencies_and_no_data() {
    let (core, tdb) = setup().await;
    let id = new_client(&core, "Новичок").await;
    let acc = new_account(&core, id, "n-1", "RUB", 10_000_00).await;
    let usd = new_account(&core, id, "n-2", "USD", 500_00).await;
    // Data from 1 April 2025: 91 days before `now`.
    let rows = vec![
        credit(at(2025, 4, 1, 9), 60_000_00, Category::Salary, "ООО Старт"),
        debit(at(2025, 5, 3, 9), 30_000_00, Category::Groceries, "Покупка"),
    ];
    insert_rows(&core, id, acc, &rows).await;
    let mut dollars = debit(at(2025, 5, 3, 9), 100_00, Category::Shopping, "Amazon");
    dollars.currency = "USD";
    insert_rows(&core, id, usd, &[dollars]).await;
    let r = core.rate_client(id, now()).await.unwrap().unwrap();
    let months: f64 = 91.0 / (365.25 / 12.0);
    let history = r.factor("history").unwrap();
    assert_eq!(history.value, "3 мес.");
    assert!((history.impact - ((-2.0 * (6.0 - months)) * 10.0).round() / 10.0).abs() < 1e-9);
    let income = (6_000_000.0_f64 / months / 100.0).round() as i64;
    assert_eq!(
        r.factor("income_level").unwrap().value,
        format!("{}\u{a0}{:03}\u{a0}₽/мес", income / 1000, income % 1000)
    );
    assert_eq!(
        r.factor("other_currencies").unwrap().value,
        "USD не учтены: рейтинг по RUB"
    );
    assert_eq!(r.factor("other_currencies").unwrap().impact, 0.0);

    // Nothing in the window: no rating, and a stored one goes away.
    assert!(core
        .rate_client(id, at(2027, 1, 1, 0))
        .await
        .unwrap()
        .is_none());
    assert!(core.rating(id).await.unwrap().is_none());
    let empty = new_client(&core, "Пустой").await;
    assert!(core.rate_client(empty, now()).await.unwrap().is_none());
    let insights = core.insights(empty, now()).await.unwrap();
    assert_eq!(insights.len(), 1);
    assert_eq!(insights[0].kind, "NO_DATA");
    assert!(core.offers(empty, now()).await.unwrap().is_empty());
    tdb.cleanup().await.unwrap();
}

/// Independent sums over the test's own rows.
fn spent(rows: &[Row], from: DateTime<Utc>, to: DateTime<Utc>) -> BTreeMap<Category, (i64, u64)> {
    let mut out: BTreeMap<Category, (i64, u64)> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| !r.credit && r.currency == "RUB" && r.at >= from && r.at < to)
    {
        let e = out.entry(r.category).or_default();
        e.0 += r.minor;
        e.1 += 1;
    }
    out
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
    fn moment(&mut self, base: DateTime<Utc>, span_days: u64) -> DateTime<Utc> {
        let day = self.next(span_days) as i64;
        match self.next(4) {
            0 => (base + Duration::days(day))
                .date_naive()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc(),
            1 => {
                let d = (base + Duration::days(day)).date_naive();
                d.with_day(1)
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap()
                    .and_utc()
            }
            _ => base + Duration::days(day) + Duration::seconds(self.next(86_400) as i64),
        }
    }
}

#[tokio::test]
async fn analytics_match_sums_computed_from_the_rows() {
    let (core, tdb) = setup().await;
    let a = client_a(&core).await;
    let b = client_b(&core).await;
    let rub = Currency::rub();
    let mut rng = Lcg(7);
    let start = at(2024, 5, 1, 0);
    for _ in 0..40 {
        let (x, y) = (rng.moment(start, 460), rng.moment(start, 460));
        let (from, to) = if x < y { (x, y) } else { (y, x) };
        if from == to {
            continue;
        }
        for c in [&a, &b] {
            let got = core
                .spending_by_category(c.id, from, to, &rub)
                .await
                .unwrap();
            let want = spent(&c.rows, from, to);
            let got_map: BTreeMap<Category, (i64, u64)> = got
                .iter()
                .map(|s| (s.category, (s.amount.minor, s.count)))
                .collect();
            assert_eq!(got_map, want, "range {from} .. {to}");
            let total: i64 = want.values().map(|v| v.0).sum();
            if total > 0 {
                let share: f64 = got.iter().map(|s| s.share).sum();
                assert!((share - 1.0).abs() < 1e-9);
                for s in &got {
                    assert!((s.share - s.amount.minor as f64 / total as f64).abs() < 1e-12);
                }
                assert!(got
                    .windows(2)
                    .all(|w| w[0].amount.minor >= w[1].amount.minor));
            }
        }
        // The portfolio adds the clients up.
        let portfolio = core
            .portfolio_spending_by_category(&crm_core::testing::admin(), from, to, &rub)
            .await
            .unwrap();
        let mut want = spent(&a.rows, from, to);
        for (k, v) in spent(&b.rows, from, to) {
            let e = want.entry(k).or_default();
            e.0 += v.0;
            e.1 += v.1;
        }
        let got: BTreeMap<Category, (i64, u64)> = portfolio
            .iter()
            .map(|s| (s.category, (s.amount.minor, s.count)))
            .collect();
        assert_eq!(got, want);
    }

    // Cashflow per month.
    let flow = core
        .cashflow(a.id, 12, &rub, at(2025, 6, 30, 12))
        .await
        .unwrap();
    assert_eq!(flow.len(), 12);
    for (m, (y, mo)) in flow.iter().zip(window_months()) {
        assert_eq!(m.month, format!("{y:04}-{mo:02}"));
        let of = |credit: bool| -> i64 {
            a.rows
                .iter()
                .filter(|r| r.credit == credit && r.at.year() == y && r.at.month() == mo)
                .map(|r| r.minor)
                .sum()
        };
        assert_eq!(m.income.minor, of(true));
        assert_eq!(m.expense.minor, of(false));
        assert_eq!(m.net.minor, of(true) - of(false));
    }

    // Top merchants of the window, with shares of all spending.
    let (from, to) = (at(2024, 7, 1, 0), now());
    let top = core.top_merchants(a.id, from, to, &rub, 10).await.unwrap();
    let mut by_name: BTreeMap<String, (i64, u64)> = BTreeMap::new();
    for r in a.rows.iter().filter(|r| !r.credit) {
        if let Some(name) = r.merchant.clone().or(r.counterparty.clone()) {
            let e = by_name.entry(name).or_default();
            e.0 += r.minor;
            e.1 += 1;
        }
    }
    let total: i64 = a.rows.iter().filter(|r| !r.credit).map(|r| r.minor).sum();
    let mut want: Vec<(String, i64, u64)> =
        by_name.into_iter().map(|(k, v)| (k, v.0, v.1)).collect();
    want.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    assert_eq!(
        top.iter()
            .map(|m| (m.merchant.clone(), m.amount.minor, m.count))
            .collect::<Vec<_>>(),
        want
    );
    assert!((top[0].share - want[0].1 as f64 / total as f64).abs() < 1e-12);
    assert_eq!(top[0].merchant, "ИП Сидоров");
    assert_eq!(
        core.top_merchants(a.id, from, to, &rub, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(core.top_merchants(a.id, to, from, &rub, 5).await.is_err());

    // Portfolio banks: every booked row counted once.
    let banks = core.bank_totals(&crm_core::testing::admin()).await.unwrap();
    let abank = banks.iter().find(|b| b.bank_code == "abank").unwrap();
    assert_eq!(abank.transactions, (a.rows.len() + b.rows.len()) as u64);
    assert_eq!((abank.clients, abank.accounts), (2, 2));
    assert_eq!(abank.balances[0].minor, 240_000_00 + 47_500_00);
    let income: i64 = a
        .rows
        .iter()
        .chain(&b.rows)
        .filter(|r| r.credit)
        .map(|r| r.minor)
        .sum();
    assert_eq!(abank.income.minor, income);
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn recurring_payments_and_salary_are_detected() {
    let (core, tdb) = setup().await;
    let a = client_a(&core).await;
    let b = client_b(&core).await;
    let found = core.recurring_payments(a.id, now()).await.unwrap();
    type Summary = (String, Interval, i64, Option<u32>, DateTime<Utc>, u32);
    let summary: Vec<Summary> = found
        .iter()
        .map(|p| {
            (
                p.merchant.clone(),
                p.interval,
                p.typical_amount.minor,
                p.day_of_month,
                p.next_expected_at,
                p.occurrences,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "ИП Сидоров".into(),
                Interval::Monthly,
                30_000_00,
                Some(1),
                at(2025, 7, 1, 10),
                12
            ),
            (
                "Погашение кредита".into(),
                Interval::Monthly,
                9_000_00,
                Some(10),
                at(2025, 7, 10, 11),
                12
            ),
            (
                "Яндекс Плюс".into(),
                Interval::Monthly,
                1_000_00,
                Some(15),
                at(2025, 7, 15, 12),
                12
            ),
        ],
        "groceries on shifting days and amounts are not recurring"
    );
    assert_eq!(found[1].category, Category::LoanPayments);

    let income = core.income_profile(a.id, now()).await.unwrap();
    assert!(income.salary_detected);
    assert_eq!(income.employer.as_deref(), Some("ООО Ромашка"));
    assert_eq!(income.typical_amount.unwrap().minor, 90_000_00);
    assert_eq!(income.typical_day, Some(5));
    assert_eq!((income.months_paid, income.months_expected), (12, 12));
    assert_eq!(income.next_expected_at, Some(at(2025, 7, 5, 9)));
    assert_eq!(income.monthly_average_income.minor, 90_000_00);

    let income = core.income_profile(b.id, now()).await.unwrap();
    assert!(!income.salary_detected, "a different payer every month");
    assert_eq!(income.monthly_average_income.minor, 50_000_00);
    tdb.cleanup().await.unwrap();
}

async fn add_product(core: &Core, id: &str, kind: &str, name: &str, rate: &str, min: Option<i64>) {
    products::ActiveModel {
        bank_code: Set("abank".into()),
        external_id: Set(id.into()),
        product_type: Set(kind.into()),
        name: Set(name.into()),
        description: Set(None),
        interest_rate: Set(Some(rate.into())),
        min_amount_minor: Set(min),
        max_amount_minor: Set(None),
        term_months: Set(Some(12)),
        currency: Set(None),
        updated_at: Set(now()),
        ..Default::default()
    }
    .insert(core.db().conn())
    .await
    .unwrap();
}

#[tokio::test]
async fn insights_and_offers_say_why_with_numbers() {
    let (core, tdb) = setup().await;
    let a = client_a(&core).await;
    let b = client_b(&core).await;
    let c = client_c(&core).await;
    add_product(
        &core,
        "dep-1",
        "deposit",
        "Надёжный вклад",
        "16.5",
        Some(50_000_00),
    )
    .await;
    add_product(
        &core,
        "dep-2",
        "deposit",
        "Премиум",
        "18",
        Some(1_000_000_00),
    )
    .await;
    add_product(&core, "loan-1", "loan", "Рефинансирование", "14.9", None).await;
    add_product(&core, "loan-2", "loan", "Потребительский", "21", None).await;
    add_product(
        &core,
        "cc-1",
        "credit_card",
        "Кредитная карта",
        "29.9",
        None,
    )
    .await;
    add_product(&core, "card-1", "card", "Дебетовая с кешбэком", "0", None).await;

    let ins = core.insights(a.id, now()).await.unwrap();
    let kinds: Vec<&str> = ins.iter().map(|i| i.kind).collect();
    for k in [
        "SALARY",
        "SAVINGS",
        "IDLE_BALANCE",
        "RECURRING",
        "TOP_CATEGORY",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let idle = ins.iter().find(|i| i.kind == "IDLE_BALANCE").unwrap();
    // 240 000 - 3 × 54 000
    assert!(
        idle.text.ru.contains("78\u{a0}000\u{a0}₽"),
        "{}",
        idle.text.ru
    );
    assert!(idle.text.en.contains("₽78,000"), "{}", idle.text.en);
    let salary = ins.iter().find(|i| i.kind == "SALARY").unwrap();
    assert!(
        salary.text.ru.contains("ООО Ромашка") && salary.text.ru.contains("90\u{a0}000\u{a0}₽")
    );
    assert!(salary.text.ru.contains("05.07.2025"));
    let savings = ins.iter().find(|i| i.kind == "SAVINGS").unwrap();
    assert!(savings.text.ru.contains("40%"));

    let offers = core.offers(a.id, now()).await.unwrap();
    let codes: Vec<(&str, &str)> = offers
        .iter()
        .map(|o| (o.reason_code, o.product.id.as_str()))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("IDLE_BALANCE", "dep-1"),
            ("REGULAR_INCOME_LOW_DEBT", "cc-1")
        ]
    );
    // 78 000 × 16.5% a year
    assert!(
        offers[0].reason.ru.contains("12\u{a0}870\u{a0}₽"),
        "{}",
        offers[0].reason.ru
    );
    assert_eq!(offers[0].product.rate.unwrap().to_string(), "16.5");

    // B: cash-heavy → a debit card; no salary → no credit card.
    let offers = core.offers(b.id, now()).await.unwrap();
    assert_eq!(
        offers.iter().map(|o| o.reason_code).collect::<Vec<_>>(),
        vec!["CASH_HEAVY"]
    );
    let ins = core.insights(b.id, now()).await.unwrap();
    assert!(ins
        .iter()
        .any(|i| i.kind == "CASH_HEAVY" && i.text.ru.starts_with("30%")));
    assert!(ins.iter().any(|i| i.kind == "NO_SALARY"));

    // C: warnings first; no credit card for an overdrawn client.
    let ins = core.insights(c.id, now()).await.unwrap();
    assert_eq!(ins[0].severity, crm_core::insights::Severity::Warning);
    for k in ["SAVINGS", "LOW_BUFFER", "OVERDRAFT", "RETURNED_PAYMENTS"] {
        assert!(ins.iter().any(|i| i.kind == k), "{k}");
    }
    let offers = core.offers(c.id, now()).await.unwrap();
    assert!(offers
        .iter()
        .all(|o| o.reason_code != "REGULAR_INCOME_LOW_DEBT"));
    tdb.cleanup().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Aggregates stay equal to the rows through every writer
// ---------------------------------------------------------------------------------------------

mod bank {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use chrono::{DateTime, Duration, Utc};
    use crm_connector::*;
    use rust_decimal::Decimal;

    pub struct Fake {
        pub identity: BankIdentity,
        pub rows: Mutex<Vec<TransactionData>>,
    }

    pub fn account(id: &str) -> AccountData {
        AccountData {
            id: id.into(),
            status: AccountStatus::Enabled,
            currency: "RUB".into(),
            account_type: "Personal".into(),
            account_subtype: None,
            kind: AccountKind::Current,
            nickname: None,
            number: None,
            holder_name: None,
            opened_on: None,
        }
    }

    pub fn tx(
        id: String,
        account: &str,
        minor: i64,
        credit: bool,
        at: DateTime<Utc>,
        pending: bool,
        description: &str,
    ) -> TransactionData {
        TransactionData {
            id,
            account_id: account.into(),
            amount: Decimal::new(minor, 2),
            currency: "RUB".into(),
            direction: if credit {
                Direction::Credit
            } else {
                Direction::Debit
            },
            status: if pending {
                BookingStatus::Pending
            } else {
                BookingStatus::Booked
            },
            raw_status: None,
            booked_at: at,
            value_at: None,
            description: description.into(),
            bank_transaction_code: None,
            merchant: None,
            card_masked: None,
            card_id: None,
            counterparty: None,
            counterparty_account: None,
            counterparty_bank: None,
        }
    }

    #[async_trait]
    impl BankConnector for Fake {
        fn identity(&self) -> &BankIdentity {
            &self.identity
        }
        async fn request_consent(&self, _client_id: &str) -> ConnectorResult<Consent> {
            Ok(Consent {
                status: ConsentStatus::Authorized,
                consent_id: Some("consent-1".into()),
                request_id: None,
                expires_at: Some(Utc::now() + Duration::days(365)),
                message: None,
            })
        }
        async fn consent_status(&self, _c: &str, consent: &Consent) -> ConnectorResult<Consent> {
            Ok(consent.clone())
        }
        async fn revoke_consent(&self, _id: &str) -> ConnectorResult<()> {
            Ok(())
        }
        async fn accounts(&self, _access: &Access<'_>) -> ConnectorResult<Vec<AccountData>> {
            Ok(vec![account("acc-1"), account("acc-2")])
        }
        async fn balances(&self, _a: &Access<'_>, _acc: &str) -> ConnectorResult<Vec<BalanceData>> {
            Ok(vec![BalanceData {
                kind: BalanceKind::InterimAvailable,
                amount: Decimal::new(1_000_00, 2),
                currency: "RUB".into(),
                at: None,
            }])
        }
        async fn transactions(
            &self,
            _a: &Access<'_>,
            account: &str,
            from: DateTime<Utc>,
            to: DateTime<Utc>,
        ) -> ConnectorResult<TransactionBatch> {
            let rows: Vec<TransactionData> = self
                .rows
                .lock()
                .unwrap()
                .iter()
                .filter(|t| t.account_id == account && t.booked_at >= from && t.booked_at <= to)
                .cloned()
                .collect();
            Ok(TransactionBatch {
                reported_total: None,
                transactions: rows,
                shortfall: 0,
                rejected: vec![],
            })
        }
        async fn products(&self) -> ConnectorResult<Vec<ProductData>> {
            Ok(vec![])
        }
    }
}

type AggregateRows = (
    Vec<(i64, String, String, i32, String, String, i64, i64)>,
    Vec<(i64, String, String, i32, String, i64, i64)>,
);

async fn aggregate_tables(core: &Core) -> AggregateRows {
    use crm_core::entity::{client_day_totals as d, client_month_totals as m};
    let mut months: Vec<_> = m::Entity::find()
        .all(core.db().conn())
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.client_id,
                r.currency,
                r.direction,
                r.month,
                r.category,
                r.bank_code,
                r.amount_minor,
                r.tx_count,
            )
        })
        .collect();
    months.sort();
    let mut days: Vec<_> = d::Entity::find()
        .all(core.db().conn())
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.client_id,
                r.currency,
                r.direction,
                r.day,
                r.category,
                r.amount_minor,
                r.tx_count,
            )
        })
        .collect();
    days.sort();
    (months, days)
}

/// The aggregates equal a rebuild from the rows, and range reads equal a direct SUM.
async fn check_consistent(core: &Core, client: i64, rng: &mut Lcg, step: &str) {
    let incremental = aggregate_tables(core).await;
    crm_core::testing::rebuild_aggregates(core.db().conn(), None)
        .await
        .unwrap();
    let rebuilt = aggregate_tables(core).await;
    assert_eq!(incremental, rebuilt, "aggregates drifted after {step}");
    // The per-client counters, recomputed from the rows: every row not replaced nor reversed
    // counts, booked ones move income or expense, unless they moved money between the client's
    // own accounts.
    let mut want: BTreeMap<(i64, String), (i64, i64, i64)> = BTreeMap::new();
    for t in transactions::Entity::find()
        .filter(transactions::Column::ReplacedById.is_null())
        .filter(transactions::Column::Status.ne("REVERSED"))
        .all(core.db().conn())
        .await
        .unwrap()
    {
        let e = want.entry((t.client_id, t.currency.clone())).or_default();
        e.0 += 1;
        if t.status == "BOOKED" && t.category != "OWN_TRANSFER" {
            match t.direction.as_str() {
                "CREDIT" => e.1 += t.amount_minor,
                _ => e.2 += t.amount_minor,
            }
        }
    }
    let got: BTreeMap<(i64, String), (i64, i64, i64)> =
        crm_core::entity::client_totals::Entity::find()
            .all(core.db().conn())
            .await
            .unwrap()
            .into_iter()
            .filter(|r| (r.tx_count, r.income_minor, r.expense_minor) != (0, 0, 0))
            .map(|r| {
                (
                    (r.client_id, r.currency),
                    (r.tx_count, r.income_minor, r.expense_minor),
                )
            })
            .collect();
    assert_eq!(got, want, "client_totals drifted after {step}");
    let rub = Currency::rub();
    let start = Utc::now() - Duration::days(400);
    for _ in 0..6 {
        let (x, y) = (rng.moment(start, 402), rng.moment(start, 402));
        let (from, to) = if x < y { (x, y) } else { (y, x) };
        if from == to {
            continue;
        }
        let got: BTreeMap<String, (i64, i64)> = core
            .spending_by_category(client, from, to, &rub)
            .await
            .unwrap()
            .into_iter()
            .map(|s| {
                (
                    s.category.as_str().to_owned(),
                    (s.amount.minor, s.count as i64),
                )
            })
            .collect();
        use transactions::Column as T;
        let rows: Vec<(String, i64)> = transactions::Entity::find()
            .select_only()
            .columns([T::Category, T::AmountMinor])
            .filter(T::ClientId.eq(client))
            .filter(T::Currency.eq("RUB"))
            .filter(T::Direction.eq("DEBIT"))
            .filter(T::Status.eq("BOOKED"))
            .filter(T::ReplacedById.is_null())
            .filter(T::BookedAt.gte(from))
            .filter(T::BookedAt.lt(to))
            .into_tuple()
            .all(core.db().conn())
            .await
            .unwrap();
        let mut want: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for (c, a) in rows {
            let e = want.entry(c).or_default();
            e.0 += a;
            e.1 += 1;
        }
        assert_eq!(got, want, "{step}: range {from} .. {to}");
    }
}

#[tokio::test]
async fn aggregates_stay_equal_to_the_rows_through_every_writer() {
    use std::sync::{Arc, Mutex};
    let pg = std::env::var("TEST_DATABASE_URL").ok();
    let tdb = TestDatabase::create(pg.as_deref()).await.unwrap();
    let fake = Arc::new(bank::Fake {
        identity: crm_connector::BankIdentity {
            code: "fake".into(),
            name: "Fake".into(),
        },
        rows: Mutex::new(Vec::new()),
    });
    let registry = crm_core::banks::BankRegistry::new(vec![
        fake.clone() as Arc<dyn crm_connector::BankConnector>
    ]);
    let mut settings = CoreSettings::default();
    settings.sync.overlap_days = 400; // every sync re-reads everything: every row can change
    let core = Arc::new(Core::new(tdb.db.clone(), settings, registry).unwrap());
    crm_core::testing::spawn_job_runner(&core);
    let client = new_client(&core, "team200-1").await;
    core.sync()
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();

    let user = core
        .auth()
        .create_user("rules", "rules-password-123", Role::Admin)
        .await
        .unwrap();
    let rule_maker = Actor {
        user_id: user.id,
        username: "rules".into(),
        ..admin()
    };
    let mut rng = Lcg(42);
    let descriptions = [
        "Оплата: Пятёрочка",
        "Яндекс Такси",
        "Перевод по СБП",
        "Аптека",
        "Снятие наличных",
    ];
    let base = Utc::now() - Duration::days(300);
    let mut next_id = 0;
    {
        let mut rows = fake.rows.lock().unwrap();
        for _ in 0..150 {
            next_id += 1;
            let at = base + Duration::seconds(rng.next(300 * 86_400) as i64);
            rows.push(bank::tx(
                format!("b-{next_id}"),
                ["acc-1", "acc-2"][rng.next(2) as usize],
                1_00 + rng.next(50_000_00) as i64,
                rng.next(5) == 0,
                at,
                rng.next(6) == 0,
                descriptions[rng.next(5) as usize],
            ));
        }
        // The bank lists one row twice.
        let dup = rows[0].clone();
        rows.push(dup);
    }
    let scope = crm_core::sync::SyncScope {
        bank: None,
        client_id: Some(client),
    };
    let run = core
        .sync()
        .run(&scope, crm_core::sync::SyncTrigger::Manual)
        .await
        .unwrap();
    assert!(run.errors.is_empty() && run.added == 150, "{run:?}");
    check_consistent(&core, client, &mut rng, "the first sync").await;
    let rated_after_sync = core
        .rating(client)
        .await
        .unwrap()
        .expect("rated by the sync");

    let mut taken = None;
    for round in 0..6 {
        {
            let mut rows = fake.rows.lock().unwrap();
            let n = rows.len() as u64;
            for _ in 0..12 {
                let i = rng.next(n) as usize;
                let t = &mut rows[i];
                match rng.next(5) {
                    0 => t.amount = Decimal::new(1_00 + rng.next(90_000_00) as i64, 2),
                    1 => t.status = crm_connector::BookingStatus::Booked,
                    // Across day and month boundaries, within the read window.
                    2 => {
                        let moved = t.booked_at + Duration::hours(rng.next(24 * 40) as i64)
                            - Duration::days(20);
                        t.booked_at = moved.min(Utc::now() - Duration::minutes(5));
                    }
                    3 => {
                        t.direction = match t.direction {
                            crm_connector::Direction::Credit => crm_connector::Direction::Debit,
                            crm_connector::Direction::Debit => crm_connector::Direction::Credit,
                        }
                    }
                    _ => t.description = descriptions[rng.next(5) as usize].into(),
                }
            }
            // Pending rows the bank no longer lists (cancelled, or booked under a new id).
            let pending: Vec<usize> = rows
                .iter()
                .enumerate()
                .filter(|(_, t)| t.status == crm_connector::BookingStatus::Pending)
                .map(|(i, _)| i)
                .take(2)
                .collect();
            for (k, i) in pending.into_iter().enumerate().rev() {
                let gone = rows.remove(i);
                if k == 0 {
                    next_id += 1;
                    let mut booked = gone.clone();
                    booked.id = format!("b-{next_id}");
                    booked.status = crm_connector::BookingStatus::Booked;
                    rows.push(booked);
                }
            }
            // The bank takes back its newest booked row (inside the read window: the sync
            // reverses it), and lists the one it took back the round before again.
            let newest = rows
                .iter()
                .enumerate()
                .filter(|(_, t)| t.status == crm_connector::BookingStatus::Booked)
                .max_by_key(|(_, t)| t.booked_at)
                .map(|(i, _)| i);
            let back = taken.take();
            taken = newest.map(|i| rows.remove(i));
            rows.extend(back);
            for _ in 0..10 {
                next_id += 1;
                rows.push(bank::tx(
                    format!("b-{next_id}"),
                    "acc-1",
                    1_00 + rng.next(20_000_00) as i64,
                    rng.next(4) == 0,
                    Utc::now() - Duration::seconds(rng.next(250 * 86_400) as i64),
                    rng.next(5) == 0,
                    descriptions[rng.next(5) as usize],
                ));
            }
        }
        let run = core
            .sync()
            .run(&scope, crm_core::sync::SyncTrigger::Manual)
            .await
            .unwrap();
        assert!(run.errors.is_empty() && run.updated > 0, "{run:?}");
        check_consistent(&core, client, &mut rng, &format!("sync round {round}")).await;
        let reversed = transactions::Entity::find()
            .filter(transactions::Column::Status.eq("REVERSED"))
            .count(core.db().conn())
            .await
            .unwrap();
        assert!(
            reversed >= 1,
            "round {round}: the row taken back is reversed"
        );

        // Manual entries and recategorisations.
        for _ in 0..2 {
            core.create_manual_transaction(
                &admin(),
                crm_core::transactions::NewManualTransaction {
                    client_id: client,
                    account_id: None,
                    booked_at: Utc::now() - Duration::seconds(rng.next(200 * 86_400) as i64),
                    amount: Decimal::new(1_00 + rng.next(10_000_00) as i64, 2),
                    currency: "RUB".into(),
                    direction: if rng.next(3) == 0 {
                        crm_core::domain::Direction::Credit
                    } else {
                        crm_core::domain::Direction::Debit
                    },
                    description: "Ручная запись".into(),
                    merchant: None,
                    mcc: None,
                },
            )
            .await
            .unwrap();
        }
        let debits: Vec<(i64, String)> = transactions::Entity::find()
            .select_only()
            .columns([transactions::Column::Id, transactions::Column::Status])
            .filter(transactions::Column::ClientId.eq(client))
            .filter(transactions::Column::Direction.eq("DEBIT"))
            .into_tuple()
            .all(core.db().conn())
            .await
            .unwrap();
        for _ in 0..4 {
            let (id, _) = &debits[rng.next(debits.len() as u64) as usize];
            let to = [
                Category::Travel,
                Category::Groceries,
                Category::Cash,
                Category::Health,
            ][rng.next(4) as usize];
            core.set_transaction_category(&admin(), *id, to)
                .await
                .unwrap();
        }
        if let Some((id, _)) = debits.iter().find(|d| d.1 == "PENDING") {
            core.set_transaction_category(&admin(), *id, Category::Education)
                .await
                .unwrap();
        }
        check_consistent(&core, client, &mut rng, &format!("manual writes {round}")).await;

        // User rules re-categorise in the background: a rule made, then (a round later) gone.
        let rated_before = core.rating(client).await.unwrap().unwrap();
        let pattern = ["Аптека", "Такси", "Пятёрочка"][round % 3];
        let (rule, run) = core
            .create_category_rule(
                &rule_maker,
                crm_core::category_rules::NewCategoryRule {
                    pattern: pattern.into(),
                    field: crm_core::categorize::RuleField::Any,
                    category: if round < 3 {
                        Category::Entertainment
                    } else {
                        Category::Education
                    },
                    priority: Some(round as i32),
                },
            )
            .await
            .unwrap();
        let done = core.wait_for_recategorisation(run.id).await.unwrap();
        assert_eq!(
            done.status,
            crm_core::category_rules::RecategorisationStatus::Finished,
            "{done:?}"
        );
        assert!(done.rows_changed > 0, "{pattern}: {done:?}");
        check_consistent(&core, client, &mut rng, &format!("rule {pattern} made")).await;
        let rated = core.rating(client).await.unwrap().unwrap();
        assert!(
            rated.computed_at > rated_before.computed_at,
            "a re-categorisation that moved the client's rows rates the client again"
        );
        if round % 2 == 1 {
            let run = core
                .delete_category_rule(&rule_maker, rule.id)
                .await
                .unwrap();
            let done = core.wait_for_recategorisation(run.id).await.unwrap();
            assert!(done.rows_changed > 0, "{pattern} deleted: {done:?}");
            check_consistent(&core, client, &mut rng, &format!("rule {pattern} deleted")).await;
        }
    }
    let rated_after_writes = core.rating(client).await.unwrap().unwrap();
    assert!(
        rated_after_writes.computed_at > rated_after_sync.computed_at,
        "manual entries and recategorisations recompute the rating"
    );

    // The counters agree too.
    let stats = core.stats(&crm_core::testing::admin()).await.unwrap();
    let booked_debits: i64 = transactions::Entity::find()
        .filter(transactions::Column::Direction.eq("DEBIT"))
        .filter(transactions::Column::Status.eq("BOOKED"))
        .filter(transactions::Column::ReplacedById.is_null())
        .all(core.db().conn())
        .await
        .unwrap()
        .iter()
        .map(|t| t.amount_minor)
        .sum();
    assert_eq!(stats.expense.minor, booked_debits);

    // Deleting the client takes its aggregates along.
    core.delete_client(&admin(), client).await.unwrap();
    assert_eq!(aggregate_tables(&core).await, (vec![], vec![]));
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn the_first_migration_fills_aggregates_from_existing_rows() {
    use crm_migration::sea_orm_migration::MigratorTrait;
    use crm_migration::Migrator;
    let (core, tdb) = setup().await;
    let id = new_client(&core, "Старые данные").await;
    let acc = new_account(&core, id, "o-1", "RUB", 0).await;
    let rows = vec![
        debit(at(2025, 3, 4, 10), 1_000_00, Category::Groceries, "x"),
        debit(at(2025, 3, 31, 23), 2_000_00, Category::Groceries, "y"),
        credit(at(2025, 4, 2, 8), 5_000_00, Category::Salary, "z"),
    ];
    insert_rows(&core, id, acc, &rows).await;
    // Back to the schema before the aggregates (this and every later migration rolled back).
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let position = names
        .iter()
        .position(|n| n == crm_migration::ANALYTICS_AGGREGATES)
        .unwrap();
    Migrator::down(core.db().conn(), Some((names.len() - position) as u32))
        .await
        .unwrap();
    // Rows written while the aggregates did not exist.
    let late = debit(at(2025, 3, 31, 20), 500_00, Category::Health, "w");
    let late_row = transactions::ActiveModel {
        client_id: Set(id),
        account_id: Set(acc),
        external_id: Set("late".into()),
        booked_at: Set(late.at),
        booked_month: Set(202503),
        value_at: Set(None),
        amount_minor: Set(late.minor),
        currency: Set("RUB".into()),
        direction: Set("DEBIT".into()),
        status: Set("BOOKED".into()),
        raw_status: Set(None),
        description: Set(late.description.clone()),
        merchant: Set(None),
        mcc: Set(None),
        bank_tx_code: Set(None),
        counterparty: Set(None),
        card_masked: Set(None),
        search_text: Set("w".into()),
        category: Set("HEALTH".into()),
        category_source: Set("MCC".into()),
        replaced_by_id: Set(None),
        created_at: Set(now()),
        updated_at: Set(now()),
        ..Default::default()
    };
    // Without reading the row back: the schema of that time lacks later columns.
    transactions::Entity::insert(late_row)
        .exec_without_returning(core.db().conn())
        .await
        .unwrap();
    crm_core::migrate(core.db()).await.unwrap();
    let spend = core
        .spending_by_category(id, at(2025, 3, 1, 0), at(2025, 4, 1, 0), &Currency::rub())
        .await
        .unwrap();
    let got: Vec<(Category, i64, u64)> = spend
        .iter()
        .map(|s| (s.category, s.amount.minor, s.count))
        .collect();
    assert_eq!(
        got,
        vec![
            (Category::Groceries, 3_000_00, 2),
            (Category::Health, 500_00, 1)
        ]
    );
    let flow = core
        .cashflow(id, 2, &Currency::rub(), at(2025, 4, 10, 0))
        .await
        .unwrap();
    assert_eq!(flow[1].income.minor, 5_000_00);
    tdb.cleanup().await.unwrap();
}
