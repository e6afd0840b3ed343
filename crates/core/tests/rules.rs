//! Category rules, re-categorisation and the export readers on SQLite and, with
//! `TEST_DATABASE_URL`, on PostgreSQL.
#![allow(
    clippy::inconsistent_digit_grouping,
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::too_many_arguments
)]

use std::sync::Arc;

use chrono::{Duration, Utc};
use crm_core::auth::Actor;
use crm_core::categorize::{confidence, RuleField};
use crm_core::category_rules::{NewCategoryRule, RecategorisationStatus};
use crm_core::clients::NewClient;
use crm_core::domain::{Category, CategorySource, Direction, Role};
use crm_core::entity::client_totals;
use crm_core::export::{ExportCursor, ExportRecord};
use crm_core::testing::TestDatabase;
use crm_core::transactions::{NewManualTransaction, Transaction};
use crm_core::{Core, CoreError, CoreSettings};
use rust_decimal::Decimal;
use sea_orm::EntityTrait;

async fn setup() -> (Arc<Core>, TestDatabase) {
    let pg = std::env::var("TEST_DATABASE_URL").ok();
    let tdb = TestDatabase::create(pg.as_deref()).await.unwrap();
    let settings = CoreSettings {
        secret_key: b"test-secret-key-of-sufficient-length".to_vec(),
        ..Default::default()
    };
    let core = Arc::new(Core::new(tdb.db.clone(), settings, Default::default()).unwrap());
    crm_core::testing::spawn_job_runner(&core);
    (core, tdb)
}

fn actor(role: Role) -> Actor {
    Actor {
        user_id: 1,
        username: "tester".into(),
        role,
        session_id: 0,
        password_change_required: false,
    }
}

/// A stored administrator (rules and runs name their author) and a client.
async fn admin_and_client(core: &Core, name: &str) -> (Actor, i64) {
    let user = core
        .auth()
        .create_user("tester", "tester-password-123", Role::Admin)
        .await
        .unwrap();
    let admin = Actor {
        user_id: user.id,
        ..actor(Role::Admin)
    };
    let client = core
        .create_client(
            &admin,
            NewClient {
                display_name: name.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
    (admin, client)
}

async fn add(
    core: &Core,
    client: i64,
    hours_ago: i64,
    amount: &str,
    direction: Direction,
    description: &str,
    merchant: Option<&str>,
    mcc: Option<&str>,
) -> Transaction {
    core.create_manual_transaction(
        &actor(Role::Admin),
        NewManualTransaction {
            client_id: client,
            account_id: None,
            booked_at: Utc::now() - Duration::hours(hours_ago),
            amount: amount.parse::<Decimal>().unwrap(),
            currency: "RUB".into(),
            direction,
            description: description.into(),
            merchant: merchant.map(str::to_owned),
            mcc: mcc.map(str::to_owned),
        },
    )
    .await
    .unwrap()
}

fn rule(pattern: &str, field: RuleField, category: Category, priority: i32) -> NewCategoryRule {
    NewCategoryRule {
        pattern: pattern.into(),
        field,
        category,
        priority: Some(priority),
    }
}

async fn totals(core: &Core) -> Vec<client_totals::Model> {
    let mut rows = client_totals::Entity::find()
        .all(core.db().conn())
        .await
        .unwrap();
    rows.sort_by_key(|r| (r.client_id, r.currency.clone()));
    rows
}

#[tokio::test]
async fn rules_recategorise_stored_transactions_but_not_manual_ones() {
    let (core, tdb) = setup().await;
    let (admin, client) = admin_and_client(&core, "Ирина Котова").await;
    let cafe = add(
        &core,
        client,
        5,
        "450.00",
        Direction::Debit,
        "Оплата: ООО Ромашка",
        Some("ООО Ромашка"),
        Some("5812"),
    )
    .await;
    assert_eq!(
        (
            cafe.category,
            cafe.category_source,
            cafe.category_confidence
        ),
        (
            Category::Restaurants,
            CategorySource::Mcc,
            Some(confidence::MCC)
        )
    );
    let cafe2 = add(
        &core,
        client,
        4,
        "300.00",
        Direction::Debit,
        "ROMASHKA CAFE",
        None,
        None,
    )
    .await;
    let refund = add(
        &core,
        client,
        3,
        "450.00",
        Direction::Credit,
        "Возврат: Ромашка",
        None,
        None,
    )
    .await;
    let manual = add(
        &core,
        client,
        2,
        "100.00",
        Direction::Debit,
        "Оплата: Ромашка",
        None,
        None,
    )
    .await;
    core.set_transaction_category(&admin, manual.id, Category::Health)
        .await
        .unwrap();
    let before = totals(&core).await;

    // Viewers may not change rules; bad input is refused with a reason.
    let viewer = actor(Role::Viewer);
    assert!(matches!(
        core.create_category_rule(
            &viewer,
            rule("ромашка", RuleField::Any, Category::Groceries, 0)
        )
        .await,
        Err(CoreError::Forbidden(_))
    ));
    for bad in [
        rule("   ", RuleField::Any, Category::Groceries, 0),
        rule("!!!", RuleField::Description, Category::Groceries, 0),
        rule(&"а".repeat(101), RuleField::Any, Category::Groceries, 0),
        rule("58x2", RuleField::Mcc, Category::Groceries, 0),
        rule("ромашка", RuleField::Any, Category::Groceries, 5000),
    ] {
        assert!(
            matches!(
                core.create_category_rule(&admin, bad.clone()).await,
                Err(CoreError::InvalidInput(_))
            ),
            "{bad:?}"
        );
    }

    let (created, run) = core
        .create_category_rule(
            &admin,
            rule("Ромашка", RuleField::Any, Category::Groceries, 10),
        )
        .await
        .unwrap();
    assert_eq!(created.created_by_name.as_deref(), Some("tester"));
    assert!(!run.status.is_done() || run.status == RecategorisationStatus::Finished);
    let done = core.wait_for_recategorisation(run.id).await.unwrap();
    assert_eq!(done.status, RecategorisationStatus::Finished, "{done:?}");
    assert_eq!(done.rows_scanned, 3, "the manual row is not looked at");
    assert_eq!(
        done.rows_changed, 2,
        "both debits move; the refund stays a refund"
    );
    for id in [cafe.id, cafe2.id] {
        let t = core.transaction(id).await.unwrap();
        assert_eq!(
            (t.category, t.category_source, t.category_confidence),
            (
                Category::Groceries,
                CategorySource::Rule,
                Some(confidence::RULE)
            )
        );
    }
    let r = core.transaction(refund.id).await.unwrap();
    assert_eq!(
        r.category,
        Category::Refunds,
        "a credit never gets a spending category"
    );
    let m = core.transaction(manual.id).await.unwrap();
    assert_eq!(
        (m.category, m.category_source, m.category_confidence),
        (Category::Health, CategorySource::Manual, None),
        "a person's choice carries no categoriser's confidence"
    );
    assert_eq!(
        totals(&core).await,
        before,
        "counters are untouched by category changes"
    );

    // The same rule twice is refused; a new entry is categorised by the rule at once.
    assert!(matches!(
        core.create_category_rule(
            &admin,
            rule("ромашка", RuleField::Any, Category::Groceries, 1)
        )
        .await,
        Err(CoreError::InvalidInput(_))
    ));
    let fresh = add(
        &core,
        client,
        1,
        "99.00",
        Direction::Debit,
        "Кафе Ромашка",
        None,
        None,
    )
    .await;
    assert_eq!(
        (fresh.category, fresh.category_source),
        (Category::Groceries, CategorySource::Rule)
    );

    // An MCC rule with a higher priority beats the text rule.
    let (_, run) = core
        .create_category_rule(
            &admin,
            rule("5811-5814", RuleField::Mcc, Category::Entertainment, 20),
        )
        .await
        .unwrap();
    let done = core.wait_for_recategorisation(run.id).await.unwrap();
    assert_eq!(done.rows_changed, 1);
    assert_eq!(
        core.transaction(cafe.id).await.unwrap().category,
        Category::Entertainment
    );

    let rules = core.category_rules().await.unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].priority, 20, "highest priority first");

    // Deleting the rules puts the built-in layers back.
    for r in &rules {
        assert!(matches!(
            core.delete_category_rule(&viewer, r.id).await,
            Err(CoreError::Forbidden(_))
        ));
        let run = core.delete_category_rule(&admin, r.id).await.unwrap();
        core.wait_for_recategorisation(run.id).await.unwrap();
    }
    assert!(matches!(
        core.delete_category_rule(&admin, rules[0].id).await,
        Err(CoreError::NotFound { .. })
    ));
    let t = core.transaction(cafe.id).await.unwrap();
    assert_eq!(
        (t.category, t.category_source, t.category_confidence),
        (
            Category::Restaurants,
            CategorySource::Mcc,
            Some(confidence::MCC)
        )
    );
    let m = core.transaction(manual.id).await.unwrap();
    assert_eq!(m.category_source, CategorySource::Manual);
    let latest = core.recategorisation(None).await.unwrap().unwrap();
    assert_eq!(latest.status, RecategorisationStatus::Finished);

    let audit = core.audit().recent_audit(100).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    for expected in [
        "category_rule.create",
        "category_rule.delete",
        "recategorisation.finish",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    assert_eq!(
        core.audit()
            .verify_audit_chain()
            .await
            .unwrap()
            .first_broken,
        None
    );
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn interrupted_recategorisations_are_run_again_at_start() {
    use crm_core::entity::{category_rules, recategorisations};
    use sea_orm::{ActiveModelTrait, Set, TransactionTrait};
    let (core, tdb) = setup().await;
    let (admin, client) = admin_and_client(&core, "Олег Рябов").await;
    let user_id = admin.user_id;
    let cafe = add(
        &core,
        client,
        5,
        "450.00",
        Direction::Debit,
        "Кафе Ромашка",
        None,
        Some("5812"),
    )
    .await;
    assert_eq!(cafe.category, Category::Restaurants);
    // What a process killed mid-run leaves: the rule stored, one run RUNNING, one QUEUED.
    let now = Utc::now();
    category_rules::ActiveModel {
        pattern: Set("Ромашка".into()),
        field: Set("ANY".into()),
        category: Set("GROCERIES".into()),
        priority: Set(0),
        created_by: Set(Some(user_id)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(core.db().conn())
    .await
    .unwrap();
    let mut stale = Vec::new();
    for status in ["RUNNING", "QUEUED"] {
        stale.push(
            recategorisations::ActiveModel {
                trigger: Set("RULE_CREATED".into()),
                rule_id: Set(None),
                status: Set(status.into()),
                rows_scanned: Set(0),
                rows_changed: Set(0),
                requested_by: Set(Some(user_id)),
                started_at: Set(now),
                finished_at: Set(None),
                message: Set(None),
                ..Default::default()
            }
            .insert(core.db().conn())
            .await
            .unwrap()
            .id,
        );
    }

    // The restarted process (a new `Core` over the same database).
    let restarted =
        Arc::new(Core::new(tdb.db.clone(), core.settings().clone(), Default::default()).unwrap());
    crm_core::testing::spawn_job_runner(&restarted);
    if tdb.is_postgres() {
        // Another replica's run is alive while it holds the lock: its rows are left alone.
        let holder = core.db().conn().begin().await.unwrap();
        crm_core::db::advisory_xact_lock(&holder, crm_core::category_rules::RUN_LOCK)
            .await
            .unwrap();
        assert!(restarted
            .resume_interrupted_recategorisations()
            .await
            .unwrap()
            .is_none());
        assert_eq!(
            restarted
                .recategorisation(Some(stale[0]))
                .await
                .unwrap()
                .unwrap()
                .status,
            RecategorisationStatus::Running
        );
        holder.rollback().await.unwrap();
    }
    let run = restarted
        .resume_interrupted_recategorisations()
        .await
        .unwrap()
        .expect("the interrupted runs are taken over");
    let done = restarted.wait_for_recategorisation(run.id).await.unwrap();
    assert_eq!(done.status, RecategorisationStatus::Finished, "{done:?}");
    assert_eq!(done.rows_changed, 1);
    assert_eq!(
        done.message.as_deref(),
        Some(
            format!(
                "resumes #{}, #{}, interrupted by a restart",
                stale[0], stale[1]
            )
            .as_str()
        )
    );
    for id in &stale {
        let old = restarted
            .recategorisation(Some(*id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(old.status, RecategorisationStatus::Failed, "{old:?}");
        assert!(old.finished_at.is_some());
        assert!(
            old.message
                .as_deref()
                .unwrap_or_default()
                .contains(&format!("#{}", run.id)),
            "{old:?}"
        );
    }
    let t = restarted.transaction(cafe.id).await.unwrap();
    assert_eq!(
        (t.category, t.category_source),
        (Category::Groceries, CategorySource::Rule)
    );
    // The money moved with the row.
    let spend = restarted
        .spending_by_category(
            client,
            now - Duration::days(1),
            now + Duration::days(1),
            &crm_core::domain::Currency::rub(),
        )
        .await
        .unwrap();
    let got: Vec<(Category, i64)> = spend.iter().map(|s| (s.category, s.amount.minor)).collect();
    assert_eq!(got, vec![(Category::Groceries, 450_00)]);
    // Nothing is left open: a second start does nothing.
    assert!(restarted
        .resume_interrupted_recategorisations()
        .await
        .unwrap()
        .is_none());
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn export_pages_run_oldest_first_and_the_portfolio_adds_up() {
    let (core, tdb) = setup().await;
    let admin = actor(Role::Admin);
    let client = core
        .create_client(
            &admin,
            NewClient {
                display_name: "Пётр Лебедев".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
    for i in 0..7 {
        add(
            &core,
            client,
            100 - i,
            "10.50",
            Direction::Debit,
            &format!("Оплата: Пятёрочка {i}"),
            None,
            Some("5411"),
        )
        .await;
    }
    add(
        &core,
        client,
        1,
        "1000.00",
        Direction::Credit,
        "Заработная плата",
        None,
        None,
    )
    .await;
    assert!(matches!(
        core.export_context(&crm_core::testing::admin(), 999_999)
            .await,
        Err(CoreError::NotFound { .. })
    ));
    let ctx = core
        .export_context(&crm_core::testing::admin(), client)
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = core
            .export_transactions_page(&ctx, client, None, None, after, 3)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|r| ExportCursor {
            booked_at: r.booked_at,
            id: r.id,
        });
        seen.extend(page);
    }
    assert_eq!(seen.len(), 8);
    assert!(seen.windows(2).all(|w| w[0].booked_at <= w[1].booked_at));
    assert_eq!(seen[0].description, "Оплата: Пятёрочка 0");
    assert_eq!(seen[0].bank, "Ручной ввод");
    assert_eq!(seen[7].category, Category::Salary);
    // A range keeps only its rows.
    let recent = core
        .export_transactions_page(
            &ctx,
            client,
            Some(Utc::now() - Duration::hours(50)),
            None,
            None,
            100,
        )
        .await
        .unwrap();
    assert_eq!(recent.len(), 1);
    core.record_export(
        &admin,
        ExportRecord {
            what: "client.transactions",
            format: "csv",
            client_id: Some(client),
            from: None,
            to: None,
            rows: None,
        },
    )
    .await
    .unwrap();

    let report = core
        .portfolio_report(&crm_core::testing::admin())
        .await
        .unwrap();
    assert_eq!(report.clients.len(), 1);
    let c = &report.clients[0];
    assert_eq!(c.transactions, 8);
    assert_eq!(c.expense[0].minor, 7 * 1050);
    assert_eq!(c.income[0].minor, 100_000);
    assert_eq!(report.currencies[0].as_str(), "RUB");
    let groceries = report
        .categories
        .iter()
        .find(|t| t.category == Category::Groceries)
        .unwrap();
    assert_eq!((groceries.count, groceries.amount.minor), (7, 7350));
    let manual_bank = report
        .banks
        .iter()
        .find(|b| b.bank == "Ручной ввод")
        .unwrap();
    assert_eq!((manual_bank.accounts, manual_bank.transactions), (1, 8));
    tdb.cleanup().await.unwrap();
}
