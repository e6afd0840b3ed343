//! Data-layer tests: the same tests run on SQLite and, when `TEST_DATABASE_URL` is set, on
//! PostgreSQL (each test gets a fresh database or schema).
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use chrono::{Duration, Utc};
use crm_core::auth::{Actor, BootstrapPassword, LoginContext};
use crm_core::clients::{ClientChanges, ClientCursor, ClientFilter, NewClient};
use crm_core::domain::{ClientStatus, Currency, Direction, Role};
use crm_core::testing::{seed_portfolio, SeedSpec, TestDatabase};
use crm_core::transactions::{NewManualTransaction, TransactionFilter};
use crm_core::{Core, CoreError, CoreSettings};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, Statement};

async fn setup() -> (Core, TestDatabase) {
    let pg = std::env::var("TEST_DATABASE_URL").ok();
    let tdb = TestDatabase::create(pg.as_deref()).await.unwrap();
    let settings = CoreSettings {
        secret_key: b"test-secret-key-of-sufficient-length".to_vec(),
        ..Default::default()
    };
    let core = Core::new(tdb.db.clone(), settings, Default::default()).unwrap();
    (core, tdb)
}

fn admin(user_id: i64) -> Actor {
    Actor {
        user_id,
        username: "admin".into(),
        role: Role::Admin,
        session_id: 0,
        password_change_required: false,
    }
}

#[tokio::test]
async fn bootstrap_admin_login_sessions_and_logout() {
    let (core, tdb) = setup().await;
    let generated = core
        .auth()
        .ensure_bootstrap_admin("Admin", BootstrapPassword::Generate)
        .await
        .unwrap();
    let password = generated.expect("a password is generated on the first start");
    assert!(core
        .auth()
        .ensure_bootstrap_admin("admin", BootstrapPassword::Generate)
        .await
        .unwrap()
        .is_none());

    let outcome = core
        .auth()
        .login("ADMIN", &password, LoginContext::default())
        .await
        .unwrap();
    let actor = core
        .auth()
        .authenticate(&outcome.token)
        .await
        .unwrap()
        .expect("valid session");
    assert_eq!(actor.role, Role::Admin);
    assert!(core
        .auth()
        .authenticate("nonsense")
        .await
        .unwrap()
        .is_none());

    // A rotated AUTH_PASSWORD applies on the next start.
    core.auth()
        .ensure_bootstrap_admin(
            "admin",
            BootstrapPassword::Plain("a brand new password".into()),
        )
        .await
        .unwrap();
    assert!(matches!(
        core.auth()
            .login("admin", &password, LoginContext::default())
            .await,
        Err(CoreError::Unauthenticated(_))
    ));
    let second = core
        .auth()
        .login("admin", "a brand new password", LoginContext::default())
        .await
        .unwrap();

    let third = core
        .auth()
        .login("admin", "a brand new password", LoginContext::default())
        .await
        .unwrap();
    assert_eq!(
        core.auth().end_all_sessions(actor.user_id).await.unwrap(),
        3
    );
    assert!(core
        .auth()
        .authenticate(&second.token)
        .await
        .unwrap()
        .is_none());
    let fourth = core
        .auth()
        .login("admin", "a brand new password", LoginContext::default())
        .await
        .unwrap();
    let fifth = core
        .auth()
        .login("admin", "a brand new password", LoginContext::default())
        .await
        .unwrap();
    assert!(core
        .auth()
        .authenticate(&third.token)
        .await
        .unwrap()
        .is_none());
    // A logout ends every session of the user, not only the one it came with.
    core.auth().logout(&fourth.token).await.unwrap();
    assert!(core
        .auth()
        .authenticate(&fourth.token)
        .await
        .unwrap()
        .is_none());
    assert!(core
        .auth()
        .authenticate(&fifth.token)
        .await
        .unwrap()
        .is_none());
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_session_checked_a_moment_ago_costs_no_statement_until_any_session_ends() {
    let (core, tdb) = setup().await;
    core.auth()
        .ensure_bootstrap_admin(
            "admin",
            BootstrapPassword::Plain("memo test password".into()),
        )
        .await
        .unwrap();
    let manager = core
        .auth()
        .create_user("maria", "maria's own password", Role::Manager)
        .await
        .unwrap();
    let login = |name: &'static str, password: &'static str| {
        let auth = core.auth();
        async move {
            auth.login(name, password, LoginContext::default())
                .await
                .unwrap()
                .token
        }
    };
    let admin_token = login("admin", "memo test password").await;
    let maria_token = login("maria", "maria's own password").await;
    let statements = || core.db().statement_count();
    let check = |token: String| {
        let auth = core.auth();
        async move { auth.authenticate(&token).await.unwrap() }
    };

    assert!(check(admin_token.clone()).await.is_some());
    let before = statements();
    let again = check(admin_token.clone()).await.expect("still signed in");
    assert_eq!(again.username, "admin");
    assert_eq!(statements() - before, 0, "answered from memory");
    assert!(check("not a token".into()).await.is_none());

    // Any session ending (here another user's) makes every remembered session be read again.
    assert!(check(maria_token.clone()).await.is_some());
    core.auth().end_all_sessions(manager.id).await.unwrap();
    assert!(check(maria_token).await.is_none(), "ended at once");
    let before = statements();
    assert!(check(admin_token.clone()).await.is_some());
    assert_eq!(statements() - before, 1, "read again after an ending");

    // A logout is seen by the very next request.
    core.auth().logout(&admin_token).await.unwrap();
    assert!(check(admin_token).await.is_none());
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn idle_sessions_expire() {
    let (core, tdb) = setup().await;
    core.auth()
        .ensure_bootstrap_admin(
            "admin",
            BootstrapPassword::Plain("password for idle test".into()),
        )
        .await
        .unwrap();
    let outcome = core
        .auth()
        .login("admin", "password for idle test", LoginContext::default())
        .await
        .unwrap();
    let idle = core.settings().sessions.idle_timeout + Duration::minutes(1);
    let stale = (Utc::now() - idle).to_rfc3339();
    let sql = match tdb.is_postgres() {
        true => format!("UPDATE sessions SET last_seen_at = '{stale}'::timestamptz"),
        false => format!(
            "UPDATE sessions SET last_seen_at = '{}'",
            (Utc::now() - idle).format("%Y-%m-%d %H:%M:%S%.f+00:00")
        ),
    };
    core.db()
        .conn()
        .execute(Statement::from_string(core.db().backend(), sql))
        .await
        .unwrap();
    assert!(
        core.auth()
            .authenticate(&outcome.token)
            .await
            .unwrap()
            .is_none(),
        "an idle session is over"
    );
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn throttling_locks_after_the_limit() {
    let (core, tdb) = setup().await;
    core.auth()
        .ensure_bootstrap_admin(
            "admin",
            BootstrapPassword::Plain("the right password!".into()),
        )
        .await
        .unwrap();
    let ctx = || LoginContext {
        ip: Some("10.1.2.3".into()),
        ..Default::default()
    };
    for _ in 0..5 {
        assert!(matches!(
            core.auth().login("admin", "wrong password", ctx()).await,
            Err(CoreError::Unauthenticated(_))
        ));
    }
    assert!(matches!(
        core.auth()
            .login("admin", "the right password!", ctx())
            .await,
        Err(CoreError::RateLimited { .. })
    ));
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn clients_paginate_by_cursor_and_filter() {
    let (core, tdb) = setup().await;
    let a = admin(1);
    for name in [
        "Ёлкин Пётр",
        "Алексеев Иван",
        "Борисова Анна",
        "Алексеев Иван",
    ] {
        core.create_client(
            &a,
            NewClient {
                display_name: name.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let all = ClientFilter::default();
    let p1 = core
        .list_clients(&crm_core::testing::admin(), &all, 3, None)
        .await
        .unwrap();
    assert!(p1.has_next);
    let last = p1.items.last().unwrap();
    let cursor = ClientCursor {
        name: last.sort_name.clone(),
        id: last.id,
    };
    let p2 = core
        .list_clients(&crm_core::testing::admin(), &all, 3, Some(&cursor))
        .await
        .unwrap();
    assert!(!p2.has_next);
    let names: Vec<String> = p1
        .items
        .iter()
        .chain(p2.items.iter())
        .map(|c| c.display_name.clone())
        .collect();
    assert_eq!(names.len(), 4);
    assert_eq!(
        &names[..2],
        ["Алексеев Иван", "Алексеев Иван"],
        "same names are both listed, once each"
    );
    assert_ne!(p1.items[0].id, p1.items[1].id);

    let search = ClientFilter {
        search: Some("елкин".into()),
        ..Default::default()
    };
    assert_eq!(
        core.count_clients(&crm_core::testing::admin(), &search)
            .await
            .unwrap(),
        1
    );
    let c = &p1.items[0];
    core.update_client(
        &a,
        c.id,
        ClientChanges {
            status: Some(ClientStatus::Inactive),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let inactive = ClientFilter {
        status: Some(ClientStatus::Inactive),
        ..Default::default()
    };
    assert_eq!(
        core.count_clients(&crm_core::testing::admin(), &inactive)
            .await
            .unwrap(),
        1
    );
    let viewer = Actor {
        role: Role::Viewer,
        ..admin(2)
    };
    assert!(matches!(
        core.create_client(
            &viewer,
            NewClient {
                display_name: "x".into(),
                ..Default::default()
            }
        )
        .await,
        Err(CoreError::Forbidden(_))
    ));
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn clients_are_found_by_phone_in_any_spelling_and_by_email_in_any_case() {
    let (core, tdb) = setup().await;
    let a = admin(1);
    let spellings = ["+7 916 123-45-67", "8 (916) 123 45 67", "89161234567"];
    let mut ids = Vec::new();
    for (n, phone) in spellings.iter().enumerate() {
        let c = core
            .create_client(
                &a,
                NewClient {
                    display_name: format!("Клиент {n}"),
                    email: Some(format!("Client{n}@Example.RU")),
                    phone: Some((*phone).into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        ids.push(c.id);
    }
    // Someone else with a number that shares digits but is not the same.
    core.create_client(
        &a,
        NewClient {
            display_name: "Другой".into(),
            phone: Some("+7 903 555-00-11".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let found = |q: &str| {
        let core = &core;
        let q = q.to_owned();
        async move {
            let mut ids: Vec<i64> = core
                .list_clients(
                    &crm_core::testing::admin(),
                    &ClientFilter {
                        search: Some(q),
                        ..Default::default()
                    },
                    50,
                    None,
                )
                .await
                .unwrap()
                .items
                .iter()
                .map(|c| c.id)
                .collect();
            ids.sort_unstable();
            ids
        }
    };
    for query in spellings
        .iter()
        .copied()
        .chain(["9161234567", "916 123", "+79161234567"])
    {
        assert_eq!(found(query).await, ids, "{query}");
    }
    assert_eq!(found("client1@example.ru").await, vec![ids[1]]);
    assert_eq!(found("CLIENT2@EXAMPLE.RU").await, vec![ids[2]]);
    assert_eq!(found("8 (903) 555").await.len(), 1);
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn the_search_text_migration_rebuilds_stored_clients() {
    use crm_migration::sea_orm_migration::MigratorTrait;
    use crm_migration::Migrator;
    let (core, tdb) = setup().await;
    let c = core
        .create_client(
            &admin(1),
            NewClient {
                display_name: "Старый клиент".into(),
                phone: Some("8 (916) 123 45 67".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // Back to before the migration, with the search text as it used to be built.
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let position = names
        .iter()
        .position(|n| n == crm_migration::CLIENT_SEARCH_TEXT)
        .unwrap();
    Migrator::down(core.db().conn(), Some((names.len() - position) as u32))
        .await
        .unwrap();
    core.db()
        .conn()
        .execute(Statement::from_string(
            core.db().backend(),
            format!(
                "UPDATE clients SET search_text = 'старый клиент 8 (916) 123 45 67 89161234567' WHERE id = {}",
                c.id
            ),
        ))
        .await
        .unwrap();
    let by = |q: &str| ClientFilter {
        search: Some(q.into()),
        ..Default::default()
    };
    // (Searching needs today's schema, which a later migration may extend: the stored text is
    // checked directly here.)
    let stored = |core: &Core| {
        let id = c.id;
        let db = core.db().clone();
        async move {
            db.conn()
                .query_one(Statement::from_string(
                    db.backend(),
                    format!("SELECT search_text FROM clients WHERE id = {id}"),
                ))
                .await
                .unwrap()
                .unwrap()
                .try_get::<String>("", "search_text")
                .unwrap()
        }
    };
    let stale = stored(&core).await;
    assert!(stale.starts_with("старый клиент 8 (916)"), "{stale}");
    crm_core::migrate(core.db()).await.unwrap();
    assert_ne!(stored(&core).await, stale, "the migration rebuilt the text");
    assert_eq!(
        core.count_clients(&crm_core::testing::admin(), &by("+7 916 123-45-67"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        core.count_clients(&crm_core::testing::admin(), &by("Старый"))
            .await
            .unwrap(),
        1
    );
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn totals_counters_match_the_rows() {
    let (core, tdb) = setup().await;
    let ids = seed_portfolio(
        core.db(),
        &SeedSpec {
            clients: 3,
            transactions_per_client: 40,
            months: 3,
        },
    )
    .await
    .unwrap();
    let a = admin(1);
    let now = Utc::now();
    for (amount, direction) in [("100.00", Direction::Debit), ("2500.55", Direction::Credit)] {
        core.create_manual_transaction(
            &a,
            NewManualTransaction {
                client_id: ids[0],
                account_id: None,
                booked_at: now - Duration::hours(1),
                amount: amount.parse::<Decimal>().unwrap(),
                currency: "RUB".into(),
                direction,
                description: "Ручная запись".into(),
                merchant: None,
                mcc: None,
            },
        )
        .await
        .unwrap();
    }
    let unfiltered = core
        .count_transactions(ids[0], &TransactionFilter::default())
        .await
        .unwrap();
    // Same count through the counters and through COUNT(*) with a filter that matches all.
    let everything = TransactionFilter {
        from: Some(now - Duration::days(3650)),
        ..Default::default()
    };
    assert_eq!(unfiltered, 42);
    assert_eq!(
        core.count_transactions(ids[0], &everything).await.unwrap(),
        42
    );

    let stats = core.stats(&crm_core::testing::admin()).await.unwrap();
    assert_eq!(stats.transaction_count, 122);
    assert_eq!(stats.clients_total, 3);
    assert_eq!(stats.banks, 1);
    // Income and expense agree with an independent sum over the rows.
    let sums = core
        .db()
        .conn()
        .query_one(Statement::from_string(
            core.db().backend(),
            "SELECT CAST(SUM(CASE WHEN direction='CREDIT' THEN amount_minor ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN direction='DEBIT' THEN amount_minor ELSE 0 END) AS BIGINT) FROM transactions WHERE currency='RUB'",
        ))
        .await
        .unwrap()
        .unwrap();
    let income: i64 = sums.try_get_by_index(0).unwrap();
    let expense: i64 = sums.try_get_by_index(1).unwrap();
    assert_eq!(stats.income.minor, income);
    assert_eq!(stats.expense.minor, expense);

    // Spending by category sums to total spending in the range; cashflow to the same months.
    let rub = Currency::rub();
    let from = now - Duration::days(400);
    let spend = core
        .spending_by_category(ids[1], from, now + Duration::days(1), &rub)
        .await
        .unwrap();
    let total: i64 = spend.iter().map(|s| s.amount.minor).sum();
    let debit_rows: i64 = spend.iter().map(|s| s.count as i64).sum();
    assert_eq!(debit_rows, 36);
    let share: f64 = spend.iter().map(|s| s.share).sum();
    assert!((share - 1.0).abs() < 1e-9);
    let flow = core.cashflow(ids[1], 6, &rub, now).await.unwrap();
    assert_eq!(flow.len(), 6);
    assert_eq!(flow.iter().map(|m| m.expense.minor).sum::<i64>(), total);
    assert!(core.cashflow(ids[1], 0, &rub, now).await.is_err());
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn audit_chain_detects_tampering() {
    let (core, tdb) = setup().await;
    let a = admin(1);
    for i in 0..3 {
        core.create_client(
            &a,
            NewClient {
                display_name: format!("Клиент {i}"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let ok = core.audit().verify_audit_chain().await.unwrap();
    assert_eq!((ok.rows, ok.first_broken), (3, None));
    core.db()
        .conn()
        .execute(Statement::from_string(
            core.db().backend(),
            "UPDATE audit_log SET action = 'client.view' WHERE id = 2",
        ))
        .await
        .unwrap();
    let broken = core.audit().verify_audit_chain().await.unwrap();
    assert_eq!(broken.first_broken, Some(2));
    tdb.cleanup().await.unwrap();
}
