//! Fresh databases for tests: an SQLite file in a temporary folder, or (when a PostgreSQL URL is
//! given) a new schema of its own in that database, dropped afterwards. Tests of every crate use
//! this so the same test runs on both databases.

use sea_orm::{ConnectionTrait, Statement};

use crate::db::{Database, DbSettings};
use crate::error::{CoreError, CoreResult};

/// A migrated database that cleans up after itself (call `cleanup` at the end of the test; a
/// test that panics leaves a temp folder or schema behind, which is harmless).
pub struct TestDatabase {
    pub db: Database,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Folder(std::path::PathBuf),
    Schema { admin_url: String, schema: String },
}

/// `TEST_DATABASE_URL`, for tests that run on PostgreSQL when it is set (only tests read it: the
/// product's configuration is read by crates/server alone).
#[allow(clippy::disallowed_methods)]
pub fn test_database_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

impl TestDatabase {
    /// `postgres_url`: the value of `TEST_DATABASE_URL`, read by the caller.
    pub async fn create(postgres_url: Option<&str>) -> CoreResult<Self> {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        match postgres_url.filter(|u| !u.trim().is_empty()) {
            None => {
                let dir = std::env::temp_dir().join(format!("ai-crm-test-{tag}"));
                let url = format!("sqlite://{}/test.db", dir.display());
                let db = Database::connect(&DbSettings {
                    url: url.clone(),
                    max_connections: 4,
                })
                .await?;
                crate::migrate(&db).await?;
                Ok(TestDatabase {
                    db,
                    url,
                    cleanup: Cleanup::Folder(dir),
                })
            }
            Some(admin_url) => {
                let schema = format!("t_{}", &tag[..16]);
                let admin = Database::connect(&DbSettings {
                    url: admin_url.to_owned(),
                    max_connections: 1,
                })
                .await?;
                admin
                    .conn()
                    .execute(Statement::from_string(
                        admin.backend(),
                        format!("CREATE SCHEMA {schema}"),
                    ))
                    .await?;
                admin.close().await?;
                let sep = if admin_url.contains('?') { '&' } else { '?' };
                let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");
                let db = Database::connect(&DbSettings {
                    url: url.clone(),
                    max_connections: 4,
                })
                .await?;
                crate::migrate(&db).await?;
                Ok(TestDatabase {
                    db,
                    url,
                    cleanup: Cleanup::Schema {
                        admin_url: admin_url.to_owned(),
                        schema,
                    },
                })
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.cleanup, Cleanup::Schema { .. })
    }

    pub async fn cleanup(self) -> CoreResult<()> {
        self.db.close().await?;
        match self.cleanup {
            Cleanup::Folder(dir) => std::fs::remove_dir_all(&dir)
                .map_err(|e| CoreError::Internal(format!("remove {}: {e}", dir.display()))),
            Cleanup::Schema { admin_url, schema } => {
                let admin = Database::connect(&DbSettings {
                    url: admin_url,
                    max_connections: 1,
                })
                .await?;
                admin
                    .conn()
                    .execute(Statement::from_string(
                        admin.backend(),
                        format!("DROP SCHEMA {schema} CASCADE"),
                    ))
                    .await?;
                admin.close().await
            }
        }
    }
}

/// What [`seed_portfolio`] makes.
#[derive(Clone, Debug)]
pub struct SeedSpec {
    pub clients: usize,
    /// Spread over each client's two accounts, over the last `months` months.
    pub transactions_per_client: usize,
    pub months: u32,
}

/// Fills the database with a deterministic portfolio straight through the entities (for tests
/// and benchmarks): clients with a bank link, two RUB accounts with balances and transactions
/// (every tenth a salary credit, the rest spending in 20 categories; by `index % 3` clients
/// spend 1×, 2× or 2.6× as much and hold 300 000, 60 000 or -10 000 ₽), in bulk through the
/// ledger (so `client_totals` and the analytics aggregates are exact) and rating every client with the
/// real model. Returns the client ids.
pub async fn seed_portfolio(db: &Database, spec: &SeedSpec) -> CoreResult<Vec<i64>> {
    use chrono::{Duration, Utc};
    use sea_orm::{ActiveModelTrait, Set, TransactionTrait};

    use crate::domain::{Category, CategorySource, ConsentStatus, Direction, TransactionStatus};
    use crate::entity::{accounts, bank_links, clients};
    use crate::ledger::{NewTransaction, Posting};

    let now = Utc::now();
    let conn = db.conn();
    let mut ids = Vec::with_capacity(spec.clients);
    for i in 0..spec.clients {
        let txn = conn.begin().await?;
        let name = format!("Клиент {i:04}");
        let client = clients::ActiveModel {
            display_name: Set(name.clone()),
            email: Set(Some(format!("client{i}@example.ru"))),
            phone: Set(None),
            status: Set("ACTIVE".into()),
            search_text: Set(name.to_lowercase()),
            sort_name: Set(name.to_lowercase()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let link = bank_links::ActiveModel {
            client_id: Set(client.id),
            bank_code: Set("abank".into()),
            external_client_id: Set(format!("team200-{}", i + 1)),
            consent_id: Set(None),
            consent_request_id: Set(None),
            consent_status: Set(ConsentStatus::Authorized.as_str().into()),
            consent_expires_at: Set(Some(now + Duration::days(365))),
            status_message: Set(None),
            last_synced_at: Set(Some(now)),
            last_booked_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut account_ids = Vec::new();
        for a in 0..2 {
            let account = accounts::ActiveModel {
                client_id: Set(client.id),
                link_id: Set(Some(link.id)),
                bank_code: Set("abank".into()),
                external_id: Set(format!("acc-{i}-{a}")),
                name: Set(format!("Счёт {a}")),
                account_type: Set("Personal".into()),
                account_subtype: Set(Some("Checking".into())),
                currency: Set("RUB".into()),
                status: Set("OPEN".into()),
                number: Set(None),
                number_masked: Set(Some(format!("•••• {:04}", (i * 10 + a) % 10_000))),
                // Savers hold months of spending; big spenders run an account into the red.
                balance_minor: Set(Some(
                    [15_000_000, 3_000_000, [-1_500_000, 500_000][a]][i % 3]
                        + (i as i64) * 1_000
                        + a as i64,
                )),
                balance_type: Set(Some("InterimAvailable".into())),
                balance_at: Set(Some(now)),
                opened_on: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            account_ids.push(account.id);
        }

        let span_secs = i64::from(spec.months.max(1)) * 30 * 86_400;
        let mut rows = Vec::with_capacity(spec.transactions_per_client);
        for t in 0..spec.transactions_per_client {
            let credit = t % 10 == 0;
            let amount_minor = if credit {
                5_000_000
            } else {
                (10_000 + (t as i64 * 7_919) % 500_000) * [10, 20, 26][i % 3] / 10
            };
            let booked_at = now
                - Duration::seconds(
                    span_secs * t as i64 / spec.transactions_per_client.max(1) as i64 + 60,
                );
            rows.push(NewTransaction {
                client_id: client.id,
                account_id: account_ids[t % 2],
                external_id: format!("tx-{i}-{t}"),
                booked_at,
                value_at: None,
                amount_minor,
                currency: "RUB".into(),
                direction: if credit {
                    Direction::Credit
                } else {
                    Direction::Debit
                },
                status: TransactionStatus::Booked,
                raw_status: None,
                description: if credit {
                    "Заработная плата".into()
                } else {
                    format!("Оплата {t}")
                },
                merchant: None,
                mcc: None,
                bank_tx_code: None,
                counterparty: credit.then(|| "ООО Ромашка".to_owned()),
                card_masked: None,
                counterparty_account: None,
                category: if credit {
                    Category::Salary
                } else {
                    Category::ALL[t % 20]
                },
                category_source: CategorySource::Mcc,
                category_confidence: Some(crate::categorize::confidence::MCC),
            });
        }
        let mut posting = Posting::new();
        posting.insert_imported(&txn, "abank", &rows).await?;
        posting.post(&txn).await?;
        crate::ratings::compute_and_store(
            &txn,
            &crate::ratings::RatingSettings::default(),
            &crate::domain::Currency::rub(),
            client.id,
            now,
        )
        .await?;
        txn.commit().await?;
        ids.push(client.id);
    }
    Ok(ids)
}

/// Stores a client's rating as the rating engine would (for tests and demos of the assistant).
pub async fn set_rating(
    db: &Database,
    client_id: i64,
    grade: crate::domain::Grade,
    score: i32,
    factors: &[crate::ratings::RatingFactor],
) -> CoreResult<()> {
    use sea_orm::sea_query::OnConflict;
    use sea_orm::{EntityTrait, Set};

    use crate::entity::ratings;
    let factors = serde_json::to_string(factors)
        .map_err(|e| CoreError::Internal(format!("rating factors: {e}")))?;
    ratings::Entity::insert(ratings::ActiveModel {
        client_id: Set(client_id),
        grade: Set(grade.as_str().to_owned()),
        score: Set(score),
        factors: Set(factors),
        computed_at: Set(chrono::Utc::now()),
    })
    .on_conflict(
        OnConflict::column(ratings::Column::ClientId)
            .update_columns([
                ratings::Column::Grade,
                ratings::Column::Score,
                ratings::Column::Factors,
                ratings::Column::ComputedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db.conn())
    .await?;
    Ok(())
}

/// A bank account as a sync stores it: a link to the bank under the bank's client id, and the
/// account with its full number. Returns the account id.
#[derive(Clone, Debug)]
pub struct BankAccountSpec<'a> {
    pub client_id: i64,
    pub bank_code: &'a str,
    pub external_client_id: &'a str,
    pub number: &'a str,
    pub name: &'a str,
    pub balance_minor: i64,
    pub currency: &'a str,
}

pub async fn add_bank_account(db: &Database, spec: &BankAccountSpec<'_>) -> CoreResult<i64> {
    use chrono::Utc;
    use sea_orm::{ActiveModelTrait, Set};

    use crate::domain::{mask_number, ConsentStatus};
    use crate::entity::{accounts, bank_links};
    let now = Utc::now();
    let link = bank_links::ActiveModel {
        client_id: Set(spec.client_id),
        bank_code: Set(spec.bank_code.to_owned()),
        external_client_id: Set(spec.external_client_id.to_owned()),
        consent_id: Set(None),
        consent_request_id: Set(None),
        consent_status: Set(ConsentStatus::Authorized.as_str().into()),
        consent_expires_at: Set(None),
        status_message: Set(None),
        last_synced_at: Set(Some(now)),
        last_booked_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db.conn())
    .await?;
    let account = accounts::ActiveModel {
        client_id: Set(spec.client_id),
        link_id: Set(Some(link.id)),
        bank_code: Set(spec.bank_code.to_owned()),
        external_id: Set(format!("acc-{}", uuid::Uuid::new_v4().simple())),
        name: Set(spec.name.to_owned()),
        account_type: Set("Personal".into()),
        account_subtype: Set(Some("CurrentAccount".into())),
        currency: Set(spec.currency.to_owned()),
        status: Set("OPEN".into()),
        number: Set(Some(spec.number.to_owned())),
        number_masked: Set(Some(mask_number(spec.number))),
        balance_minor: Set(Some(spec.balance_minor)),
        balance_type: Set(Some("InterimAvailable".into())),
        balance_at: Set(Some(now)),
        opened_on: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db.conn())
    .await?;
    Ok(account.id)
}

/// A product in a bank's catalogue, as the sync stores it.
pub async fn add_product(
    db: &Database,
    bank_code: &str,
    product_type: &str,
    name: &str,
    interest_rate: Option<&str>,
    min_amount_minor: Option<i64>,
    term_months: Option<i32>,
) -> CoreResult<()> {
    use sea_orm::{ActiveModelTrait, Set};

    use crate::entity::products;
    products::ActiveModel {
        bank_code: Set(bank_code.to_owned()),
        external_id: Set(format!("prod-{}", uuid::Uuid::new_v4().simple())),
        product_type: Set(product_type.to_owned()),
        name: Set(name.to_owned()),
        description: Set(None),
        interest_rate: Set(interest_rate.map(str::to_owned)),
        min_amount_minor: Set(min_amount_minor),
        max_amount_minor: Set(None),
        term_months: Set(term_months),
        currency: Set(None),
        updated_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(db.conn())
    .await?;
    Ok(())
}

/// Recomputes the analytics aggregates from the rows, of one client or of all (the ledger's own
/// recomputation): for tests that store rows by hand, and for tests that compare the
/// incrementally kept aggregates with a recomputation.
pub async fn rebuild_aggregates<C: sea_orm::ConnectionTrait>(
    conn: &C,
    client_id: Option<i64>,
) -> CoreResult<()> {
    crate::ledger::rebuild(conn, client_id).await
}

/// Every row of the two aggregate tables, sorted: for comparing the incrementally kept
/// aggregates with a recomputation ([`rebuild_aggregates`]).
pub async fn aggregate_snapshot<C: sea_orm::ConnectionTrait>(
    conn: &C,
) -> CoreResult<(Vec<String>, Vec<String>)> {
    use crate::entity::{client_day_totals as d, client_month_totals as m};
    use sea_orm::EntityTrait;
    let mut months: Vec<String> = m::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|r| format!("{r:?}"))
        .collect();
    months.sort();
    let mut days: Vec<String> = d::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|r| format!("{r:?}"))
        .collect();
    days.sort();
    Ok((months, days))
}

/// Runs `core`'s background jobs until the test's runtime ends, as the server does: tests whose
/// work is queued (a rule change's re-categorisation, `request_sync`) need a runner.
pub fn spawn_job_runner(core: &std::sync::Arc<crate::Core>) {
    let settings = crate::jobs::RunnerSettings {
        poll_interval: std::time::Duration::from_millis(50),
        ..Default::default()
    };
    tokio::spawn(core.job_runner(settings).run(std::future::pending()));
}

/// A job's row as stored (for tests of the queue).
pub async fn job_row(core: &crate::Core, id: i64) -> CoreResult<crate::entity::jobs::Model> {
    use sea_orm::EntityTrait;
    crate::entity::jobs::Entity::find_by_id(id)
        .one(core.db().conn())
        .await?
        .ok_or_else(|| CoreError::not_found("job", id))
}

/// Marks a job as claimed by `worker` until `until`, as a worker that died mid-job leaves it.
pub async fn set_job_lease(
    core: &crate::Core,
    id: i64,
    worker: &str,
    until: chrono::DateTime<chrono::Utc>,
) -> CoreResult<()> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    use crate::entity::jobs;
    jobs::Entity::update_many()
        .col_expr(jobs::Column::Status, Expr::value("RUNNING"))
        .col_expr(jobs::Column::LockedBy, Expr::value(worker))
        .col_expr(jobs::Column::LockedUntil, Expr::value(until))
        .col_expr(jobs::Column::Attempts, Expr::value(1))
        .filter(jobs::Column::Id.eq(id))
        .exec(core.db().conn())
        .await?;
    Ok(())
}

/// A booked row to store with [`add_booked`]: when, signed amount (credits positive), the
/// payer or payee, the category.
#[derive(Clone, Debug)]
pub struct BookedRow<'a> {
    pub at: chrono::DateTime<chrono::Utc>,
    pub amount_minor: i64,
    pub party: &'a str,
    pub category: crate::domain::Category,
}

/// Stores booked RUB rows on an account through the ledger (counters and aggregates kept), as
/// a sync of `bank_code` would.
pub async fn add_booked(
    db: &Database,
    client_id: i64,
    account_id: i64,
    bank_code: &str,
    rows: &[BookedRow<'_>],
) -> CoreResult<()> {
    use crate::domain::{CategorySource, Direction, TransactionStatus};
    use crate::ledger::{NewTransaction, Posting};
    let new: Vec<NewTransaction> = rows
        .iter()
        .map(|r| NewTransaction {
            client_id,
            account_id,
            external_id: format!("tx-{}", uuid::Uuid::new_v4().simple()),
            booked_at: r.at,
            value_at: None,
            amount_minor: r.amount_minor.abs(),
            currency: "RUB".into(),
            direction: if r.amount_minor >= 0 {
                Direction::Credit
            } else {
                Direction::Debit
            },
            status: TransactionStatus::Booked,
            raw_status: None,
            description: r.party.to_owned(),
            merchant: None,
            mcc: None,
            bank_tx_code: None,
            counterparty: Some(r.party.to_owned()),
            card_masked: None,
            counterparty_account: None,
            category: r.category,
            category_source: CategorySource::Keyword,
            category_confidence: Some(90),
        })
        .collect();
    let txn = db.begin_write().await?;
    let mut posting = Posting::new();
    posting.insert_imported(&*txn, bank_code, &new).await?;
    posting.post(&*txn).await?;
    txn.commit().await?;
    Ok(())
}

/// A user with `role` (whose password never matches), as the actor of a test.
pub async fn add_user(
    db: &Database,
    name: &str,
    role: crate::domain::Role,
) -> CoreResult<crate::auth::Actor> {
    use sea_orm::{ActiveModelTrait, Set};

    use crate::entity::users;
    let now = chrono::Utc::now();
    let row = users::ActiveModel {
        username: Set(name.to_owned()),
        password_hash: Set("x".into()),
        role: Set(role.as_str().to_owned()),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db.conn())
    .await?;
    Ok(crate::auth::Actor {
        user_id: row.id,
        username: name.to_owned(),
        role,
        session_id: 0,
        password_change_required: false,
    })
}

/// A RUB account at `bank_code` with a link of its own (the bank's client id
/// `<bank>-<client>-<number>`).
pub async fn add_rub_account(
    db: &Database,
    client_id: i64,
    bank_code: &str,
    number: &str,
    balance_minor: i64,
) -> CoreResult<i64> {
    add_bank_account(
        db,
        &BankAccountSpec {
            client_id,
            bank_code,
            external_client_id: &format!("{bank_code}-{client_id}-{number}"),
            number,
            name: "Текущий",
            balance_minor,
            currency: "RUB",
        },
    )
    .await
}

/// An active RUB agreement of 500 000 ₽ at 12.5% named `<kind> <bank>` (a sync's row).
pub async fn add_agreement(
    db: &Database,
    client_id: i64,
    bank_code: &str,
    kind: &str,
    opened: chrono::DateTime<chrono::Utc>,
    ends: chrono::DateTime<chrono::Utc>,
) -> CoreResult<i64> {
    use sea_orm::{ActiveModelTrait, Set};

    use crate::entity::product_agreements;
    let row = product_agreements::ActiveModel {
        client_id: Set(client_id),
        link_id: Set(None),
        account_id: Set(None),
        bank_code: Set(bank_code.to_owned()),
        external_id: Set(format!("agr-{}", uuid::Uuid::new_v4().simple())),
        kind: Set(kind.to_owned()),
        product_id: Set(None),
        product_name: Set(format!("{kind} {bank_code}")),
        amount_minor: Set(50_000_000),
        currency: Set("RUB".into()),
        interest_rate: Set(Some("12.5".into())),
        opened_at: Set(Some(opened)),
        ends_at: Set(Some(ends)),
        status: Set("ACTIVE".into()),
        account_number_masked: Set(None),
        delisted_at: Set(None),
        created_at: Set(opened),
        updated_at: Set(opened),
        ..Default::default()
    }
    .insert(db.conn())
    .await?;
    Ok(row.id)
}

/// An administrator acting in a test (sees every client; no user row needed).
pub fn admin() -> crate::auth::Actor {
    crate::auth::Actor {
        user_id: 0,
        username: "test-admin".into(),
        role: crate::domain::Role::Admin,
        session_id: 0,
        password_change_required: false,
    }
}
