//! The migration and the entities agree: the schema is created (and dropped and recreated) on
//! SQLite and, when `TEST_DATABASE_URL` is set, on PostgreSQL in a fresh schema; rows go in and
//! come back out through the sea-orm entities.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use chrono::{NaiveDate, TimeZone, Utc};
use crm_core::entity::{accounts, clients, transactions, users};
use crm_migration::sea_orm_migration::MigratorTrait;
use crm_migration::Migrator;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, EntityTrait,
    ModelTrait, PaginatorTrait, Statement,
};

/// Inserts one user, client, account and transaction and reads them back.
async fn insert_and_read(db: &DatabaseConnection) {
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 10, 30, 15).unwrap();

    let user = users::ActiveModel {
        id: NotSet,
        username: Set("admin".into()),
        password_hash: Set("$argon2id$...".into()),
        role: Set("admin".into()),
        disabled: Set(false),
        team_id: Set(None),
        must_change_password: Set(false),
        time_zone: Set("Europe/Moscow".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .unwrap();
    assert!(user.id > 0);
    assert_eq!(
        users::Entity::find_by_id(user.id).one(db).await.unwrap(),
        Some(user.clone())
    );

    // The user name is unique.
    let duplicate = users::ActiveModel {
        id: NotSet,
        username: Set("admin".into()),
        password_hash: Set("x".into()),
        role: Set("viewer".into()),
        disabled: Set(true),
        team_id: Set(None),
        must_change_password: Set(false),
        time_zone: Set("Europe/Moscow".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await;
    assert!(duplicate.is_err(), "duplicate user name accepted");

    let client = clients::ActiveModel {
        id: NotSet,
        display_name: Set("Ivan Petrov".into()),
        search_text: Set("ivan petrov".into()),
        sort_name: Set("ivan petrov".into()),
        email: Set(Some("ivan@example.com".into())),
        phone: Set(None),
        status: Set("active".into()),
        owner_id: Set(Some(user.id)),
        team_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        last_activity_at: Set(None),
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        clients::Entity::find_by_id(client.id)
            .one(db)
            .await
            .unwrap(),
        Some(client.clone())
    );

    let account = accounts::ActiveModel {
        id: NotSet,
        client_id: Set(client.id),
        link_id: Set(None),
        bank_code: Set("vbank".into()),
        external_id: Set("acc-1".into()),
        name: Set("Current account".into()),
        account_type: Set("checking".into()),
        account_subtype: Set(None),
        currency: Set("RUB".into()),
        status: Set("OPEN".into()),
        number: Set(Some("40817810000000000001".into())),
        number_masked: Set(Some("4081 **** 0001".into())),
        balance_minor: Set(Some(1_234_567_890_123)),
        balance_type: Set(Some("InterimAvailable".into())),
        balance_at: Set(Some(now)),
        opened_on: Set(Some(NaiveDate::from_ymd_opt(2020, 2, 29).unwrap())),
        kind: Set(Some("CURRENT".into())),
        closed_at: Set(None),
        last_booked_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        accounts::Entity::find_by_id(account.id)
            .one(db)
            .await
            .unwrap(),
        Some(account.clone())
    );

    // (bank_code, external_id) is unique.
    let mut same = accounts::ActiveModel::from(account.clone());
    same.id = NotSet;
    assert!(same.insert(db).await.is_err(), "duplicate account accepted");

    let tx = transactions::ActiveModel {
        id: NotSet,
        client_id: Set(client.id),
        account_id: Set(account.id),
        external_id: Set("tx-1".into()),
        booked_at: Set(now),
        booked_month: Set(202611),
        value_at: Set(None),
        amount_minor: Set(-12_345),
        currency: Set("RUB".into()),
        direction: Set("debit".into()),
        status: Set("booked".into()),
        raw_status: Set(Some("Booked".into())),
        description: Set("Coffee at the corner shop".into()),
        merchant: Set(Some("Corner Shop".into())),
        mcc: Set(Some("5814".into())),
        bank_tx_code: Set(None),
        counterparty: Set(None),
        card_masked: Set(Some("2200 **** 1234".into())),
        search_text: Set(String::new()),
        category: Set("restaurants".into()),
        category_source: Set("mcc".into()),
        category_confidence: Set(Some(80)),
        replaced_by_id: Set(None),
        transfer_peer_id: Set(None),
        counterparty_account: Set(Some("40817810000000000002".into())),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        transactions::Entity::find_by_id(tx.id)
            .one(db)
            .await
            .unwrap(),
        Some(tx.clone())
    );
    assert_eq!(
        client
            .find_related(transactions::Entity)
            .all(db)
            .await
            .unwrap(),
        vec![tx.clone()]
    );

    // Deleting the client cascades to its accounts and transactions.
    client.delete(db).await.unwrap();
    assert_eq!(accounts::Entity::find().count(db).await.unwrap(), 0);
    assert_eq!(transactions::Entity::find().count(db).await.unwrap(), 0);
}

/// Up, use, down (everything gone), up again, use again, down.
async fn exercise(db: &DatabaseConnection) {
    Migrator::up(db, None).await.unwrap();
    // Running it again is a no-op.
    Migrator::up(db, None).await.unwrap();
    insert_and_read(db).await;

    Migrator::down(db, None).await.unwrap();
    assert!(
        users::Entity::find().all(db).await.is_err(),
        "users survived down"
    );

    Migrator::up(db, None).await.unwrap();
    insert_and_read(db).await;
    Migrator::down(db, None).await.unwrap();
}

#[tokio::test]
async fn migrations_on_sqlite() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    Migrator::up(&db, None).await.unwrap();

    // 64-bit ids: sea-query writes BIGINT auto-increment keys as SQLite's rowid alias.
    let row = db
        .query_one(Statement::from_string(
            DatabaseBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'transactions'",
        ))
        .await
        .unwrap()
        .unwrap();
    let sql: String = row.try_get("", "sql").unwrap();
    println!("{sql}");
    assert!(
        sql.contains(r#""id" integer NOT NULL PRIMARY KEY AUTOINCREMENT"#),
        "{sql}"
    );
    Migrator::down(&db, None).await.unwrap();

    exercise(&db).await;
}

#[tokio::test]
async fn migrations_on_postgres() {
    let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL not set: skipping the PostgreSQL run");
        return;
    };
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(url.as_str()).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .unwrap();

    let separator = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{separator}options=-c%20search_path%3D{schema}");
    let db = Database::connect(scoped.as_str()).await.unwrap();
    let search_path = db
        .query_one(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT current_schema() AS s",
        ))
        .await
        .unwrap()
        .unwrap();
    let current: String = search_path.try_get("", "s").unwrap();
    assert_eq!(current, schema);

    exercise(&db).await;
    db.close().await.unwrap();

    admin
        .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .unwrap();
}
