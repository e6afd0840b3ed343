//! Meeting briefs over stored data: every figure the text says (read back from the text, in
//! both languages) equals the database's (balances then and now, spending in the period and
//! before, the rating, counts of open tasks, signals and products at other banks); the brief is
//! stored with its timeline entry and audit row; a viewer may not write one and a manager
//! outside the book does not see the client. On SQLite and, with `TEST_DATABASE_URL`,
//! PostgreSQL. Time is fixed, so the periods are exact.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]
#![allow(clippy::inconsistent_digit_grouping)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use crm_core::auth::Actor;
use crm_core::banks::BankRegistry;
use crm_core::brief::figures;
use crm_core::clients::NewClient;
use crm_core::domain::{Category, Grade, Lang, Role, TaskPriority, TaskSource};
use crm_core::entity::{accounts, audit_log, briefs, client_events, signals, tasks, transactions};
use crm_core::notes::NoteKind;
use crm_core::tasks::NewTask;
use crm_core::testing::{
    add_agreement, add_booked, add_product, add_rub_account, add_user, set_rating, BookedRow,
    TestDatabase,
};
use crm_core::{Core, CoreError, CoreSettings};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

/// The moment the briefs of these tests are written at (fixed, so the periods are exact).
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0)
        .single()
        .unwrap()
}

fn days_ago(n: i64) -> DateTime<Utc> {
    now() - Duration::days(n)
}

async fn account(core: &Core, client: i64, bank: &str, number: &str, balance: i64) -> i64 {
    add_rub_account(core.db(), client, bank, number, balance)
        .await
        .unwrap()
}

async fn client_of(core: &Core, manager: &Actor, name: &str) -> i64 {
    let new = NewClient {
        display_name: name.into(),
        ..Default::default()
    };
    core.create_client(manager, new).await.unwrap().id
}

fn row(
    at: DateTime<Utc>,
    amount_minor: i64,
    party: &'static str,
    category: Category,
) -> BookedRow<'static> {
    BookedRow {
        at,
        amount_minor,
        party,
        category,
    }
}

async fn rating_change(core: &Core, client: i64, at: DateTime<Utc>, from: &str, to: &str) {
    client_events::ActiveModel {
        client_id: Set(client),
        kind: Set("RATING_CHANGED".into()),
        occurred_at: Set(at),
        recorded_at: Set(at),
        actor_id: Set(None),
        object_type: Set(None),
        object_id: Set(None),
        data: Set(format!(
            r#"{{"t":"rating","from":"{from}","to":"{to}","factor_ru":null,"factor_en":null}}"#
        )),
        ..Default::default()
    }
    .insert(core.db().conn())
    .await
    .unwrap();
}

struct World {
    manager: Actor,
    viewer: Actor,
    stranger: Actor,
    client: i64,
    since: DateTime<Utc>,
}

/// One client of one manager: accounts at the home bank and another, spending before and after
/// the last meeting (and a row booked after the brief's moment), a rating that moved, a loan
/// taken elsewhere in the period, tasks (one overdue), a catalogue to offer from.
async fn world(core: &Core) -> World {
    let mut people = Vec::new();
    for (name, role) in [
        ("manager-a", Role::Manager),
        ("viewer", Role::Viewer),
        ("manager-b", Role::Manager),
    ] {
        people.push(add_user(core.db(), name, role).await.unwrap());
    }
    let [manager, viewer, stranger]: [Actor; 3] = people.try_into().ok().unwrap();
    let client = client_of(core, &manager, "Иванов Иван").await;
    let a = account(core, client, "abank", "40817810000000000001", 812_345_67).await;
    let v = account(core, client, "vbank", "40817810000000000002", 120_000_00).await;
    // A closed account and a debt count nowhere in the money.
    let closed = account(core, client, "vbank", "40817810000000000003", 5_000_00).await;
    accounts::Entity::update_many()
        .col_expr(
            accounts::Column::Status,
            sea_orm::sea_query::Expr::value("CLOSED"),
        )
        .col_expr(
            accounts::Column::ClosedAt,
            sea_orm::sea_query::Expr::value(Some(days_ago(7))),
        )
        .filter(accounts::Column::Id.eq(closed))
        .exec(core.db().conn())
        .await
        .unwrap();

    // The last meeting: 20 days before the brief.
    let since = now() - Duration::days(20);
    core.add_note(
        &manager,
        client,
        NoteKind::Meeting,
        "Обсудили вклад",
        Some(since),
    )
    .await
    .unwrap();

    // Months of salary and spending; the 20 days before the meeting and the 20 after differ.
    let mut rows = Vec::new();
    for month in 1..=6 {
        rows.push(row(
            days_ago(30 * month - 3),
            150_000_00,
            "ООО Ромашка",
            Category::Salary,
        ));
        rows.push(row(
            days_ago(30 * month - 5),
            -30_000_00,
            "ИП Арендодатель",
            Category::Home,
        ));
    }
    rows.extend([
        row(
            since - Duration::days(15),
            -12_345_50,
            "Пятёрочка",
            Category::Groceries,
        ),
        row(
            since - Duration::days(3),
            -7_000_00,
            "Ресторан",
            Category::Restaurants,
        ),
        row(
            since + Duration::days(2),
            -25_999_99,
            "М.Видео",
            Category::Shopping,
        ),
        row(
            since + Duration::days(9),
            -4_100_00,
            "Пятёрочка",
            Category::Groceries,
        ),
        // Booked after the brief's moment: today's balance holds it, the brief's "now" not.
        row(
            now() + Duration::hours(1),
            -1_000_00,
            "Кофейня",
            Category::Restaurants,
        ),
    ]);
    add_booked(core.db(), client, a, "abank", &rows)
        .await
        .unwrap();
    add_booked(
        core.db(),
        client,
        v,
        "vbank",
        &[
            row(
                since + Duration::days(5),
                40_000_00,
                "Перевод",
                Category::OtherIncome,
            ),
            row(
                since + Duration::days(6),
                -3_210_00,
                "Такси",
                Category::Transport,
            ),
        ],
    )
    .await
    .unwrap();

    // Rating B before the meeting, then C, then A now.
    set_rating(core.db(), client, Grade::A, 81, &[])
        .await
        .unwrap();
    rating_change(core, client, since - Duration::days(40), "C", "B").await;
    rating_change(core, client, since + Duration::days(3), "B", "C").await;
    rating_change(core, client, since + Duration::days(10), "C", "A").await;

    // A loan taken at another bank in the period, a deposit here before it.
    for (bank, kind, opened) in [
        ("vbank", "LOAN", since + Duration::days(4)),
        ("abank", "DEPOSIT", since - Duration::days(100)),
    ] {
        add_agreement(
            core.db(),
            client,
            bank,
            kind,
            opened,
            opened + Duration::days(700),
        )
        .await
        .unwrap();
    }

    // Two open tasks (one overdue at the brief's moment) and a done one.
    for (title, due) in [
        ("Позвонить по вкладу", now() + Duration::days(2)),
        ("Отправить условия", now() + Duration::days(3)),
        ("Старое дело", now() + Duration::days(4)),
    ] {
        core.create_task(
            &manager,
            NewTask {
                client_id: Some(client),
                title: title.into(),
                details: String::new(),
                due_at: Some(due),
                assignee_id: None,
                priority: TaskPriority::Normal,
                source: TaskSource::Manual,
                source_ref: None,
            },
        )
        .await
        .unwrap();
    }
    tasks::Entity::update_many()
        .col_expr(
            tasks::Column::DueAt,
            sea_orm::sea_query::Expr::value(Some(now() - Duration::days(1))),
        )
        .filter(tasks::Column::Title.eq("Отправить условия"))
        .exec(core.db().conn())
        .await
        .unwrap();
    tasks::Entity::update_many()
        .col_expr(
            tasks::Column::Status,
            sea_orm::sea_query::Expr::value("DONE"),
        )
        .filter(tasks::Column::Title.eq("Старое дело"))
        .exec(core.db().conn())
        .await
        .unwrap();

    add_product(
        core.db(),
        "abank",
        "deposit",
        "Вклад Надёжный",
        Some("16.5"),
        Some(10_000_00),
        Some(12),
    )
    .await
    .unwrap();
    add_product(
        core.db(),
        "abank",
        "credit_card",
        "Карта 120 дней",
        Some("29.9"),
        None,
        None,
    )
    .await
    .unwrap();
    // Signals from the stored facts (the loan elsewhere, the overdue work …).
    core.compute_signals(Some(&[client]), now()).await.unwrap();

    World {
        manager,
        viewer,
        stranger,
        client,
        since,
    }
}

/// Money as the database holds it: the accounts that are the client's money (open, not a debt,
/// in credit) less the net of their rows booked at or after `t`.
async fn money_at(core: &Core, client: i64, t: DateTime<Utc>) -> i64 {
    let accounts = accounts::Entity::find()
        .filter(accounts::Column::ClientId.eq(client))
        .filter(accounts::Column::Status.ne("CLOSED"))
        .all(core.db().conn())
        .await
        .unwrap();
    let money: Vec<_> = accounts
        .iter()
        .filter(|a| a.balance_minor.unwrap_or(-1) >= 0)
        .collect();
    let held: i64 = money.iter().map(|a| a.balance_minor.unwrap()).sum();
    let ids: Vec<i64> = money.iter().map(|a| a.id).collect();
    let later: i64 = transactions::Entity::find()
        .filter(transactions::Column::AccountId.is_in(ids))
        .filter(transactions::Column::BookedAt.gte(t))
        .all(core.db().conn())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            if r.direction == "CREDIT" {
                r.amount_minor
            } else {
                -r.amount_minor
            }
        })
        .sum();
    held - later
}

/// Debits booked in `[from, to)`, own transfers left out, as the database holds them.
async fn spent(core: &Core, client: i64, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    transactions::Entity::find()
        .filter(transactions::Column::ClientId.eq(client))
        .filter(transactions::Column::Direction.eq("DEBIT"))
        .filter(transactions::Column::Status.eq("BOOKED"))
        .filter(transactions::Column::Category.ne("OWN_TRANSFER"))
        .filter(transactions::Column::BookedAt.gte(from))
        .filter(transactions::Column::BookedAt.lt(to))
        .all(core.db().conn())
        .await
        .unwrap()
        .iter()
        .map(|r| r.amount_minor)
        .sum()
}

/// The line of `text` that starts with `prefix`.
fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in\n{text}"))
}

/// The figures of a line as the text writes them, read back: money in minor units, plain
/// numbers as they are.
fn numbers(line: &str, lang: Lang) -> Vec<(String, i64)> {
    figures::extract(line, lang)
        .into_iter()
        .map(|f| {
            let value: rust_decimal::Decimal = f.value.parse().unwrap();
            let minor = if f.unit.is_empty() || f.unit == "%" {
                value
            } else {
                value * rust_decimal::Decimal::from(100)
            };
            (
                f.unit,
                rust_decimal::prelude::ToPrimitive::to_i64(&minor).unwrap(),
            )
        })
        .collect()
}

/// Money read with a parser of the test's own (not the module's): digits, group spaces and a
/// decimal comma before `₽`.
fn rubles_ru(line: &str) -> Vec<i64> {
    line.split('₽')
        .filter_map(|piece| {
            let tail: String = piece
                .trim_end_matches(['\u{a0}', ' '])
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_digit() || matches!(c, '\u{a0}' | ',' | '-' | '+'))
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if !tail.chars().any(|c| c.is_ascii_digit()) {
                return None;
            }
            let negative = tail.starts_with('-');
            let digits = tail.trim_start_matches(['-', '+']);
            let (units, cents) = digits.split_once(',').unwrap_or((digits, "0"));
            let units: i64 = units.replace('\u{a0}', "").parse().unwrap();
            let cents: i64 = format!("{cents:0<2}").parse().unwrap();
            let value = units * 100 + cents;
            Some(if negative { -value } else { value })
        })
        .collect()
}

#[tokio::test]
async fn every_figure_of_the_brief_is_the_databases() {
    let url = crm_core::testing::test_database_url();
    let t = TestDatabase::create(url.as_deref()).await.unwrap();
    // The home bank is abank: the others' products are held away.
    let mut settings = CoreSettings::default();
    settings.signals.home_bank = Some("abank".into());
    let core = Core::new(t.db.clone(), settings, BankRegistry::new(vec![])).unwrap();
    let w = world(&core).await;
    let brief = core
        .generate_brief(&w.manager, w.client, Lang::Ru, now())
        .await
        .unwrap();
    let text = &brief.text;
    assert!(!brief.polished, "no model is configured");
    assert_eq!(brief.since, w.since, "the last meeting starts the period");

    // Money then and now, from the accounts and the rows.
    let then = money_at(&core, w.client, w.since).await;
    let now_money = money_at(&core, w.client, now()).await;
    assert_eq!(
        rubles_ru(line(text, "- Деньги, RUB:")),
        vec![then, now_money, now_money - then],
        "{text}"
    );
    assert_ne!(then, now_money);

    // Spending in the 20 days since the meeting and the 20 before.
    let period = spent(&core, w.client, w.since, now()).await;
    let before = spent(&core, w.client, w.since - Duration::days(20), w.since).await;
    let spending = line(text, "- Расходы за");
    assert_eq!(
        rubles_ru(spending),
        vec![period, before, period - before],
        "{spending}"
    );
    assert_eq!(
        numbers(spending, Lang::Ru),
        vec![
            ("".into(), 20),
            ("₽".into(), period),
            ("".into(), 20),
            ("₽".into(), before),
            ("₽".into(), period - before),
            (
                "%".into(),
                (Decimal::from(period - before) * Decimal::from(100) / Decimal::from(before))
                    .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
                    .to_i64()
                    .unwrap()
            ),
        ]
    );

    // The rating: B at the meeting, A now with its stored score.
    let stored = crm_core::entity::ratings::Entity::find_by_id(w.client)
        .one(core.db().conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        line(text, "- Рейтинг:"),
        format!(
            "- Рейтинг: B → {} (сейчас {} из 100)",
            stored.grade, stored.score
        )
    );

    // Counts of open work and of products elsewhere.
    let open_tasks = tasks::Entity::find()
        .filter(tasks::Column::ClientId.eq(w.client))
        .filter(tasks::Column::Status.eq("OPEN"))
        .all(core.db().conn())
        .await
        .unwrap();
    let overdue = open_tasks
        .iter()
        .filter(|t| t.due_at.is_some_and(|d| d < now()))
        .count() as i64;
    assert_eq!(
        numbers(line(text, "## Открытые задачи:"), Lang::Ru),
        vec![("".into(), open_tasks.len() as i64), ("".into(), overdue)]
    );
    assert!(overdue >= 1);
    let open_signals = signals::Entity::find()
        .filter(signals::Column::ClientId.eq(w.client))
        .filter(signals::Column::State.is_in(["OPEN", "ACKNOWLEDGED"]))
        .count(core.db().conn())
        .await
        .unwrap() as i64;
    assert!(open_signals >= 1, "the loan elsewhere raises a signal");
    assert_eq!(
        numbers(line(text, "## Открытые сигналы:"), Lang::Ru),
        vec![("".into(), open_signals)]
    );
    // Products elsewhere are the held-away radar's (measured on its own in held_away.rs); each
    // listed one is named with its amount.
    let held = core.held_away(w.client, now()).await.unwrap();
    assert!(!held.is_empty(), "the loan at VBank is held away");
    assert_eq!(
        numbers(line(text, "## Продукты в других банках:"), Lang::Ru),
        vec![("".into(), held.len() as i64)]
    );
    // The loan taken in the period is new; the closed account closed in it.
    assert!(line(text, "- Открыто:").contains("«LOAN vbank»"), "{text}");
    assert!(line(text, "- Закрыто:").contains("Текущий"), "{text}");
    // The best two offers, and three talking points.
    let offers = core.offers(w.client, now()).await.unwrap();
    assert!(!offers.is_empty(), "the idle money has an offer");
    for o in offers.iter().take(2) {
        assert!(text.contains(&format!("«{}»", o.product.name)), "{text}");
    }
    let points = text
        .split("## О чём поговорить")
        .nth(1)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with(['1', '2', '3']))
        .count();
    assert_eq!(points, 3, "{text}");

    // English says the same figures.
    let en = core
        .generate_brief(&w.manager, w.client, Lang::En, now())
        .await
        .unwrap();
    assert_eq!(
        numbers(line(&en.text, "- Money, RUB:"), Lang::En),
        vec![
            ("₽".into(), then),
            ("₽".into(), now_money),
            ("₽".into(), now_money - then)
        ],
        "{}",
        en.text
    );

    // Stored, on the timeline, audited, listed newest first.
    let stored = briefs::Entity::find_by_id(brief.id)
        .one(core.db().conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.text, brief.text);
    let entries = client_events::Entity::find()
        .filter(client_events::Column::ClientId.eq(w.client))
        .filter(client_events::Column::Kind.eq("BRIEF_GENERATED"))
        .count(core.db().conn())
        .await
        .unwrap();
    assert_eq!(entries, 2);
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("brief.generate"))
        .count(core.db().conn())
        .await
        .unwrap();
    assert_eq!(audited, 2);
    let listed = core.briefs(&w.manager, w.client, 10).await.unwrap();
    assert_eq!(
        listed.iter().map(|b| b.id).collect::<Vec<_>>(),
        vec![en.id, brief.id]
    );
    assert_eq!(listed[0].author_name.as_deref(), Some("manager-a"));

    // A viewer may not write one (and sees none of this book); a stranger does not see it.
    assert!(matches!(
        core.generate_brief(&w.viewer, w.client, Lang::Ru, now())
            .await,
        Err(CoreError::NotFound { .. } | CoreError::Forbidden(_))
    ));
    assert!(matches!(
        core.generate_brief(&w.stranger, w.client, Lang::Ru, now())
            .await,
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        core.brief(&w.stranger, brief.id).await,
        Err(CoreError::NotFound { .. })
    ));
    t.cleanup().await.unwrap();
}

#[tokio::test]
async fn without_a_note_the_brief_covers_the_last_30_days() {
    let url = crm_core::testing::test_database_url();
    let t = TestDatabase::create(url.as_deref()).await.unwrap();
    let core = Core::new(
        t.db.clone(),
        CoreSettings::default(),
        BankRegistry::new(vec![]),
    )
    .unwrap();
    let manager = add_user(core.db(), "solo", Role::Manager).await.unwrap();
    let client = client_of(&core, &manager, "Новый клиент").await;
    let brief = core
        .generate_brief(&manager, client, Lang::En, now())
        .await
        .unwrap();
    assert_eq!(brief.since, now() - Duration::days(30));
    let text = &brief.text;
    assert!(line(text, "Period:").contains("the last 30 days"), "{text}");
    assert_eq!(
        numbers(line(text, "- Spending in"), Lang::En),
        vec![
            ("".into(), 30),
            ("₽".into(), 0),
            ("".into(), 30),
            ("₽".into(), 0),
            ("₽".into(), 0)
        ]
    );
    assert!(line(text, "- Money:").contains("no accounts"), "{text}");
    assert!(text.contains("no home bank configured"), "{text}");
    t.cleanup().await.unwrap();
}
