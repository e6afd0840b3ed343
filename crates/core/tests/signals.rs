//! Signals over stored data: every kind raised once (not again on a rerun, nor by two
//! computations at once), tasks for the owner, closed by their task, dismissed with a reason
//! and never raised again, conditions that stop holding closing themselves and opening again
//! when they return, a consent escalating, and a book that sees only its own. On SQLite and,
//! with `TEST_DATABASE_URL`, PostgreSQL. Time is fixed, so the dates are exact.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use crm_core::access::Need;
use crm_core::auth::Actor;
use crm_core::banks::BankRegistry;
use crm_core::clients::NewClient;
use crm_core::domain::{Category, Role, SignalKind, SignalSeverity, SignalState, TaskStatus};
use crm_core::entity::{accounts, bank_links, client_events, signals, tasks};
use crm_core::signals::{SignalFilter, SignalSettings};
use crm_core::testing::{add_bank_account, add_booked, BankAccountSpec, BookedRow, TestDatabase};
use crm_core::{Core, CoreError, CoreSettings};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 9, 0, 0).single().unwrap()
}

/// The moment every computation of these tests runs at.
fn now() -> DateTime<Utc> {
    at(2026, 12, 7) + Duration::hours(3)
}

fn settings() -> CoreSettings {
    CoreSettings {
        signals: SignalSettings {
            home_bank: Some("abank".into()),
            ..SignalSettings::default()
        },
        ..CoreSettings::default()
    }
}

async fn user(core: &Core, name: &str, role: Role) -> Actor {
    crm_core::testing::add_user(core.db(), name, role)
        .await
        .unwrap()
}

struct World {
    manager: Actor,
    other: Actor,
    /// Client → what it should raise.
    expected: BTreeMap<i64, Vec<SignalKind>>,
    overdraft_account: i64,
    expiring_link: i64,
}

async fn account(core: &Core, client: i64, bank: &str, number: &str, balance: i64) -> i64 {
    add_bank_account(
        core.db(),
        &BankAccountSpec {
            client_id: client,
            bank_code: bank,
            external_client_id: &format!("{bank}-{client}"),
            number,
            name: "Текущий",
            balance_minor: balance,
            currency: "RUB",
        },
    )
    .await
    .unwrap()
}

async fn agreement(
    core: &Core,
    client: i64,
    bank: &str,
    kind: &str,
    opened: DateTime<Utc>,
    ends: DateTime<Utc>,
) {
    crm_core::testing::add_agreement(core.db(), client, bank, kind, opened, ends)
        .await
        .unwrap();
}

fn salary(dates: &[DateTime<Utc>]) -> Vec<BookedRow<'static>> {
    dates
        .iter()
        .map(|d| BookedRow {
            at: *d,
            amount_minor: 80_000_00,
            party: "ООО Ромашка",
            category: Category::Salary,
        })
        .collect()
}

/// Five clients of one manager, each with facts of one or several kinds.
async fn world(core: &Core) -> World {
    let manager = user(core, "manager-a", Role::Manager).await;
    let other = user(core, "manager-b", Role::Manager).await;
    let client = |name: &'static str| {
        let manager = manager.clone();
        async move {
            core.create_client(
                &manager,
                NewClient {
                    display_name: name.into(),
                    email: None,
                    phone: None,
                    status: None,
                },
            )
            .await
            .unwrap()
            .id
        }
    };
    let mut expected = BTreeMap::new();

    // 1: links (a consent expiring in 5 days, one revoked), an overdraft, a deposit maturing
    // here, a loan just taken at another bank.
    let c1 = client("Иванов").await;
    let overdraft_account = account(core, c1, "abank", "40817810000000000001", -1_500_00).await;
    let expiring_link = bank_links::Entity::find()
        .filter(bank_links::Column::ClientId.eq(c1))
        .one(core.db().conn())
        .await
        .unwrap()
        .unwrap()
        .id;
    bank_links::Entity::update_many()
        .col_expr(
            bank_links::Column::ConsentExpiresAt,
            sea_orm::sea_query::Expr::value(Some(now() + Duration::days(5))),
        )
        .filter(bank_links::Column::Id.eq(expiring_link))
        .exec(core.db().conn())
        .await
        .unwrap();
    account(core, c1, "vbank", "40817810000000000002", 10_000_00).await;
    bank_links::Entity::update_many()
        .col_expr(
            bank_links::Column::ConsentStatus,
            sea_orm::sea_query::Expr::value("REVOKED"),
        )
        .filter(bank_links::Column::ClientId.eq(c1))
        .filter(bank_links::Column::BankCode.eq("vbank"))
        .exec(core.db().conn())
        .await
        .unwrap();
    agreement(
        core,
        c1,
        "abank",
        "DEPOSIT",
        at(2026, 6, 20),
        at(2026, 12, 20),
    )
    .await;
    agreement(
        core,
        c1,
        "vbank",
        "LOAN",
        at(2026, 11, 25),
        at(2029, 11, 25),
    )
    .await;
    expected.insert(
        c1,
        vec![
            SignalKind::ConsentExpiring,
            SignalKind::ConsentLost,
            SignalKind::DepositMaturing,
            SignalKind::Overdraft,
            SignalKind::NewExternalProduct,
        ],
    );

    // 2: a salary paid on the 10th of June to October, not in November: missing, and the
    // month's income dropped.
    let c2 = client("Петрова").await;
    let a2 = account(core, c2, "abank", "40817810000000000003", 50_000_00).await;
    let dates: Vec<_> = (6..=10).map(|m| at(2026, m, 10)).collect();
    add_booked(core.db(), c2, a2, "abank", &salary(&dates))
        .await
        .unwrap();
    expected.insert(c2, vec![SignalKind::SalaryMissing, SignalKind::IncomeDrop]);

    // 3: a salary at abank July to October, at vbank in November (moved), and a large credit
    // on 3 December (20× the usual credit).
    let c3 = client("Сидоров").await;
    let a3 = account(core, c3, "abank", "40817810000000000004", 50_000_00).await;
    let b3 = account(core, c3, "vbank", "40817810000000000005", 50_000_00).await;
    let dates: Vec<_> = (7..=10).map(|m| at(2026, m, 10)).collect();
    add_booked(core.db(), c3, a3, "abank", &salary(&dates))
        .await
        .unwrap();
    add_booked(core.db(), c3, b3, "vbank", &salary(&[at(2026, 11, 10)]))
        .await
        .unwrap();
    add_booked(
        core.db(),
        c3,
        b3,
        "vbank",
        &[BookedRow {
            at: at(2026, 12, 3),
            amount_minor: 1_600_000_00,
            party: "Продажа квартиры",
            category: Category::OtherIncome,
        }],
    )
    .await
    .unwrap();
    expected.insert(c3, vec![SignalKind::SalaryMoved, SignalKind::LargeInflow]);

    // 4: a rating downgrade recorded on the timeline, and a loan ending in 20 days.
    let c4 = client("Кузнецова").await;
    client_events::ActiveModel {
        client_id: Set(c4),
        kind: Set("RATING_CHANGED".into()),
        occurred_at: Set(at(2026, 12, 1)),
        recorded_at: Set(at(2026, 12, 1)),
        actor_id: Set(None),
        object_type: Set(None),
        object_id: Set(None),
        data: Set(r#"{"t":"rating","from":"A","to":"B","factor_ru":null,"factor_en":null}"#.into()),
        ..Default::default()
    }
    .insert(core.db().conn())
    .await
    .unwrap();
    agreement(
        core,
        c4,
        "abank",
        "LOAN",
        at(2024, 12, 27),
        at(2026, 12, 27),
    )
    .await;
    expected.insert(
        c4,
        vec![SignalKind::RatingDowngrade, SignalKind::LoanEnding],
    );

    // 5: 10 000 ₽ and the rent of 30 000 ₽ due on the 12th: the forecast goes below zero.
    let c5 = client("Смирнов").await;
    let a5 = account(core, c5, "abank", "40817810000000000006", 10_000_00).await;
    let rent: Vec<BookedRow> = (8..=11)
        .map(|m| BookedRow {
            at: at(2026, m, 12),
            amount_minor: -30_000_00,
            party: "ИП Арендодатель",
            category: Category::Home,
        })
        .collect();
    add_booked(core.db(), c5, a5, "abank", &rent).await.unwrap();
    expected.insert(c5, vec![SignalKind::LowBalanceAhead]);

    World {
        manager,
        other,
        expected,
        overdraft_account,
        expiring_link,
    }
}

async fn kinds_of(core: &Core, actor: &Actor, client: i64) -> Vec<SignalKind> {
    let filter = SignalFilter {
        client_id: Some(client),
        ..Default::default()
    };
    let mut kinds: Vec<SignalKind> = core
        .signals(actor, &filter, 100, None)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|s| s.kind)
        .collect();
    kinds.sort();
    kinds
}

async fn signal_of(core: &Core, client: i64, kind: SignalKind) -> signals::Model {
    signals::Entity::find()
        .filter(signals::Column::ClientId.eq(client))
        .filter(signals::Column::Kind.eq(kind.as_str()))
        .one(core.db().conn())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {kind:?} signal for client {client}"))
}

#[tokio::test]
async fn every_kind_is_raised_once_with_a_task_and_a_rerun_adds_nothing() {
    let url = crm_core::testing::test_database_url();
    let t = TestDatabase::create(url.as_deref()).await.unwrap();
    let core = Core::new(t.db.clone(), settings(), BankRegistry::new(vec![])).unwrap();
    let w = world(&core).await;
    let report = core.compute_signals(None, now()).await.unwrap();
    let total: usize = w.expected.values().map(Vec::len).sum();
    assert_eq!(report.raised, total, "{report:?}");
    assert_eq!(report.tasks, total, "every kind has a task by default");
    for (client, kinds) in &w.expected {
        let mut kinds = kinds.clone();
        kinds.sort();
        assert_eq!(
            kinds_of(&core, &w.manager, *client).await,
            kinds,
            "client {client}"
        );
    }
    // The figures are the stored ones.
    let inflow = core
        .signal(
            &w.manager,
            signal_of(
                &core,
                *w.expected.keys().nth(2).unwrap(),
                SignalKind::LargeInflow,
            )
            .await
            .id,
        )
        .await
        .unwrap();
    assert_eq!(
        inflow.evidence.money_of("amount").unwrap().minor,
        1_600_000_00
    );
    assert_eq!(
        inflow
            .evidence
            .money_of("usual_monthly_income")
            .unwrap()
            .minor,
        80_000_00
    );
    assert!(
        inflow.summary.ru.contains("1 600 000")
            || inflow.summary.ru.contains("1\u{a0}600\u{a0}000"),
        "{}",
        inflow.summary.ru
    );
    let low = core
        .signal(
            &w.manager,
            signal_of(
                &core,
                *w.expected.keys().nth(4).unwrap(),
                SignalKind::LowBalanceAhead,
            )
            .await
            .id,
        )
        .await
        .unwrap();
    assert_eq!(
        low.evidence.money_of("balance_today").unwrap().minor,
        10_000_00
    );
    // The forecast's own lowest point of the next 14 days: the rent on the 12th (30 000 ₽ out
    // of 10 000 ₽) and the forecast's everyday flow until then.
    let forecast = core.forecast(low.client_id, 30, now()).await.unwrap();
    let lowest = forecast.currencies[0]
        .points
        .iter()
        .filter(|p| p.at <= now() + Duration::days(14))
        .min_by_key(|p| p.balance.minor)
        .unwrap();
    assert_eq!(
        low.evidence.money_of("lowest_balance").unwrap().minor,
        lowest.balance.minor
    );
    assert!(
        (-20_500_00..=-20_000_00).contains(&lowest.balance.minor),
        "{lowest:?}"
    );
    assert_eq!(
        low.evidence.date_of("lowest_on").unwrap().date_naive(),
        lowest.date
    );
    assert_eq!(
        low.evidence.date_of("below_on").unwrap().date_naive(),
        at(2026, 12, 12).date_naive(),
        "the day the rent is due"
    );
    assert_eq!(low.severity, SignalSeverity::Critical);
    let moved = signal_of(
        &core,
        *w.expected.keys().nth(2).unwrap(),
        SignalKind::SalaryMoved,
    )
    .await;
    assert!(moved.evidence.contains("\"abank\"") && moved.evidence.contains("\"vbank\""));

    // Every task is the owner's, open, from its signal, due before the fact.
    let signal_tasks = tasks::Entity::find()
        .filter(tasks::Column::Source.eq("SIGNAL"))
        .all(core.db().conn())
        .await
        .unwrap();
    assert_eq!(signal_tasks.len(), total);
    for task in &signal_tasks {
        assert_eq!(task.assignee_id, Some(w.manager.user_id));
        assert_eq!(task.status, "OPEN");
        assert!(task.source_ref.as_deref().unwrap().starts_with("signal:"));
    }
    let deposit = signal_of(
        &core,
        *w.expected.keys().next().unwrap(),
        SignalKind::DepositMaturing,
    )
    .await;
    let deposit_task = tasks::Entity::find_by_id(deposit.task_id.unwrap())
        .one(core.db().conn())
        .await
        .unwrap()
        .unwrap();
    assert!(deposit_task.due_at.unwrap() < at(2026, 12, 20));
    // On the timeline: one entry per raised signal.
    let raised = client_events::Entity::find()
        .filter(client_events::Column::Kind.eq("SIGNAL_RAISED"))
        .count(core.db().conn())
        .await
        .unwrap();
    assert_eq!(raised as usize, total);

    // A rerun raises, escalates and closes nothing.
    let again = core.compute_signals(None, now()).await.unwrap();
    assert_eq!(
        (again.raised, again.escalated, again.closed, again.tasks),
        (0, 0, 0, 0)
    );
    assert_eq!(
        signals::Entity::find()
            .count(core.db().conn())
            .await
            .unwrap() as usize,
        total
    );

    // Another manager's book holds none of them, and asking by client is NOT_FOUND.
    let theirs = core
        .count_signals(&w.other, &SignalFilter::default())
        .await
        .unwrap();
    assert_eq!(theirs, 0);
    let first = *w.expected.keys().next().unwrap();
    let refused = core
        .signals(
            &w.other,
            &SignalFilter {
                client_id: Some(first),
                ..Default::default()
            },
            10,
            None,
        )
        .await;
    assert!(matches!(refused, Err(CoreError::NotFound { .. })));
    assert!(matches!(
        core.signal(&w.other, deposit.id).await,
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        core.dismiss_signal(&w.other, deposit.id, "не мой").await,
        Err(CoreError::NotFound { .. })
    ));
    t.cleanup().await.unwrap();
}

#[tokio::test]
async fn two_computations_at_once_store_each_fact_once() {
    let url = crm_core::testing::test_database_url();
    let t = TestDatabase::create(url.as_deref()).await.unwrap();
    let one = Core::new(t.db.clone(), settings(), BankRegistry::new(vec![])).unwrap();
    let two = Core::new(t.db.clone(), settings(), BankRegistry::new(vec![])).unwrap();
    let w = world(&one).await;
    let total: usize = w.expected.values().map(Vec::len).sum();
    let (a, b) = tokio::join!(
        one.compute_signals(None, now()),
        two.compute_signals(None, now())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.raised + b.raised, total, "{a:?} {b:?}");
    assert_eq!(a.tasks + b.tasks, total);
    assert_eq!(
        signals::Entity::find()
            .count(one.db().conn())
            .await
            .unwrap() as usize,
        total
    );
    assert_eq!(
        tasks::Entity::find().count(one.db().conn()).await.unwrap() as usize,
        total
    );
    t.cleanup().await.unwrap();
}

#[tokio::test]
async fn tasks_close_signals_dismissals_stick_and_conditions_come_and_go() {
    let url = crm_core::testing::test_database_url();
    let t = TestDatabase::create(url.as_deref()).await.unwrap();
    let core = Core::new(t.db.clone(), settings(), BankRegistry::new(vec![])).unwrap();
    let w = world(&core).await;
    let c1 = *w.expected.keys().next().unwrap();
    core.compute_signals(None, now()).await.unwrap();

    // Completing the task closes the signal; reopening it opens the signal again.
    let deposit = signal_of(&core, c1, SignalKind::DepositMaturing).await;
    let task_id = deposit.task_id.unwrap();
    core.complete_task(&w.manager, task_id).await.unwrap();
    let s = core.signal(&w.manager, deposit.id).await.unwrap();
    assert_eq!(s.state, SignalState::Done);
    assert_eq!(s.resolution.as_deref(), Some("TASK_DONE"));
    core.reopen_task(&w.manager, task_id).await.unwrap();
    assert_eq!(
        core.signal(&w.manager, deposit.id).await.unwrap().state,
        SignalState::Open
    );
    core.complete_task(&w.manager, task_id).await.unwrap();

    // Acknowledging keeps it listed; dismissing needs a reason, cancels the task and sticks.
    let lost = signal_of(&core, c1, SignalKind::ConsentLost).await;
    let acked = core.acknowledge_signal(&w.manager, lost.id).await.unwrap();
    assert_eq!(acked.state, SignalState::Acknowledged);
    assert!(matches!(
        core.dismiss_signal(&w.manager, lost.id, "   ").await,
        Err(CoreError::InvalidInput(_))
    ));
    let dismissed = core
        .dismiss_signal(
            &w.manager,
            lost.id,
            "Клиент сам отозвал согласие в этом банке",
        )
        .await
        .unwrap();
    assert_eq!(dismissed.state, SignalState::Dismissed);
    assert_eq!(
        dismissed.reason.as_deref(),
        Some("Клиент сам отозвал согласие в этом банке")
    );
    let task = tasks::Entity::find_by_id(lost.task_id.unwrap())
        .one(core.db().conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(task.status, TaskStatus::Cancelled.as_str());
    let again = core.compute_signals(None, now()).await.unwrap();
    assert_eq!(
        again.raised, 0,
        "a dismissed or done fact is not raised again"
    );
    let listed = kinds_of(&core, &w.manager, c1).await;
    assert!(!listed.contains(&SignalKind::ConsentLost));
    assert!(!listed.contains(&SignalKind::DepositMaturing));

    // An overdraft paid off closes itself; a new one opens the same signal again, with a task.
    let overdraft = signal_of(&core, c1, SignalKind::Overdraft).await;
    let account = w.overdraft_account;
    let db = core.db().clone();
    let set_balance = |minor: i64| {
        let db = db.clone();
        async move {
            accounts::Entity::update_many()
                .col_expr(
                    accounts::Column::BalanceMinor,
                    sea_orm::sea_query::Expr::value(Some(minor)),
                )
                .filter(accounts::Column::Id.eq(account))
                .exec(db.conn())
                .await
                .unwrap();
        }
    };
    set_balance(100_00).await;
    let closed = core.compute_signals(Some(&[c1]), now()).await.unwrap();
    assert_eq!(closed.closed, 1, "{closed:?}");
    let s = core.signal(&w.manager, overdraft.id).await.unwrap();
    assert_eq!(
        (s.state, s.resolution.as_deref()),
        (SignalState::Done, Some("NO_LONGER_APPLIES"))
    );
    set_balance(-5_00).await;
    let back = core.compute_signals(Some(&[c1]), now()).await.unwrap();
    assert_eq!((back.raised, back.tasks), (1, 1), "{back:?}");
    let s = core.signal(&w.manager, overdraft.id).await.unwrap();
    assert_eq!(s.state, SignalState::Open);
    assert_eq!(s.evidence.money_of("balance").unwrap().minor, -5_00);

    // The consent escalates as its expiry nears (one signal, a higher severity) and closes
    // when it is renewed.
    let expiring = signal_of(&core, c1, SignalKind::ConsentExpiring).await;
    assert_eq!(expiring.severity, SignalSeverity::Warning.as_str());
    let later = core
        .compute_signals(Some(&[c1]), now() + Duration::days(4))
        .await
        .unwrap();
    assert_eq!(later.escalated, 1, "{later:?}");
    assert_eq!(
        signal_of(&core, c1, SignalKind::ConsentExpiring)
            .await
            .severity,
        SignalSeverity::Critical.as_str()
    );
    bank_links::Entity::update_many()
        .col_expr(
            bank_links::Column::ConsentExpiresAt,
            sea_orm::sea_query::Expr::value(Some(now() + Duration::days(365))),
        )
        .filter(bank_links::Column::Id.eq(w.expiring_link))
        .exec(core.db().conn())
        .await
        .unwrap();
    core.compute_signals(Some(&[c1]), now()).await.unwrap();
    let renewed = core.signal(&w.manager, expiring.id).await.unwrap();
    assert_eq!(renewed.resolution.as_deref(), Some("NO_LONGER_APPLIES"));

    // A client given to another manager takes its open signal tasks along.
    let c2 = *w.expected.keys().nth(1).unwrap();
    let missing = signal_of(&core, c2, SignalKind::SalaryMissing).await;
    core.assign_client(&crm_core::testing::admin(), c2, w.other.user_id)
        .await
        .unwrap();
    let task = tasks::Entity::find_by_id(missing.task_id.unwrap())
        .one(core.db().conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(task.assignee_id, Some(w.other.user_id));
    assert_eq!(
        core.signal(&w.other, missing.id).await.unwrap().task_id,
        Some(task.id)
    );

    // A viewer changes nothing.
    let viewer = user(&core, "viewer", Role::Viewer).await;
    assert!(core.client_for(&viewer, c1, Need::Read).await.is_err());
    t.cleanup().await.unwrap();
}
