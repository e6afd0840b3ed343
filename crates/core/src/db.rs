//! Opening the database (SQLite file by default, PostgreSQL when the URL says so), running the
//! migrations, and counting statements (for `/metrics` and the query-count tests).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crm_migration::sea_orm_migration::MigratorTrait;
use crm_migration::Migrator;
use sea_orm::sqlx::ConnectOptions as _;
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, ExecResult,
    QueryResult, Statement, TransactionTrait,
};

use crate::error::{CoreError, CoreResult};

/// How to reach the database.
#[derive(Clone, Debug)]
pub struct DbSettings {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub url: String,
    pub max_connections: u32,
}

/// A connection pool plus counters of the statements it has run and of the writes among them
/// (so caches of derived data know when the data may have changed).
#[derive(Clone)]
pub struct Database {
    conn: DatabaseConnection,
    statements: Arc<AtomicU64>,
    /// SQLite has one writer at a time, and a deferred transaction that read before it writes
    /// fails with `SQLITE_BUSY` (no busy timeout helps) when another writer committed meanwhile.
    /// Write transactions therefore take this lock first on SQLite; PostgreSQL needs none.
    writer: Option<Arc<tokio::sync::Mutex<()>>>,
    writes: Arc<WriteClock>,
    /// On PostgreSQL with the event bus started: what each write transaction announces to the
    /// other replicas as its last statement (see [`crate::events`]).
    announce: Arc<OnceLock<Arc<Announce>>>,
}

/// The `NOTIFY` a write transaction sends before it commits, so other replicas learn of the
/// write exactly when it becomes visible (PostgreSQL delivers a notification at commit, and not
/// at all on rollback).
#[derive(Debug)]
pub(crate) struct Announce {
    pub(crate) channel: String,
    pub(crate) payload: String,
}

/// The statement of the event bus; it is not counted as one of the application's.
pub(crate) const NOTIFY_SQL: &str = "SELECT pg_notify($1, $2)";

/// Starts the statements of the service's own bookkeeping (the request counters of
/// [`crate::quota`]): they change no client data, so they neither count as a request's
/// statements nor move the write clock (which would end answer reuse on every replica once a
/// second).
pub(crate) const BOOKKEEPING: &str = "/* bookkeeping */ ";

/// A database transaction that will write. On SQLite it holds the writer lock until it ends.
/// Dropping it without `commit` rolls it back.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _writer: Option<tokio::sync::OwnedMutexGuard<()>>,
    announce: Option<Arc<Announce>>,
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DatabaseBackend {
        self.txn.get_database_backend()
    }
    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute(stmt).await
    }
    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }
    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one(stmt).await
    }
    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all(stmt).await
    }
    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

impl WriteTxn {
    pub async fn commit(self) -> CoreResult<()> {
        if let Some(a) = &self.announce {
            self.txn
                .execute(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    NOTIFY_SQL,
                    [a.channel.as_str().into(), a.payload.as_str().into()],
                ))
                .await?;
        }
        self.txn.commit().await?;
        Ok(())
    }
}

/// Counts statements that may change data (anything but a `SELECT`) and remembers when the
/// last one ran. Writes by other replicas are added by the event bus ([`WriteClock::record_remote`]).
#[derive(Debug)]
pub struct WriteClock {
    count: AtomicU64,
    /// Microseconds since `epoch` at the last write.
    last_us: AtomicU64,
    epoch: std::time::Instant,
    /// Woken by writes of this process (not by remote ones, which must not be announced again).
    local: tokio::sync::Notify,
}

impl Default for WriteClock {
    fn default() -> Self {
        Self::new()
    }
}

impl WriteClock {
    pub fn new() -> Self {
        WriteClock {
            count: AtomicU64::new(0),
            last_us: AtomicU64::new(0),
            epoch: std::time::Instant::now(),
            local: tokio::sync::Notify::new(),
        }
    }

    /// Notes a statement that ran.
    pub fn record(&self, sql: &str) {
        let head = sql.trim_start();
        let read = head
            .get(..6)
            .is_some_and(|w| w.eq_ignore_ascii_case("select"));
        if !read {
            self.tick();
            self.local.notify_one();
        }
    }

    /// Notes that another replica wrote (or may have: the event bus lost its connection).
    pub fn record_remote(&self) {
        self.tick();
    }

    fn tick(&self) {
        let now = self.epoch.elapsed().as_micros() as u64;
        self.last_us.store(now, Ordering::Release);
        self.count.fetch_add(1, Ordering::AcqRel);
    }

    /// Resolves after the next write of this process (at once if one happened since the last
    /// call returned).
    pub(crate) async fn local_write(&self) {
        self.local.notified().await;
    }

    /// Writes so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Acquire)
    }

    /// Time since the last write (since the pool opened, when there was none).
    pub fn since_last(&self) -> Duration {
        let last = Duration::from_micros(self.last_us.load(Ordering::Acquire));
        self.epoch.elapsed().saturating_sub(last)
    }
}

impl Database {
    /// Opens the pool. For SQLite the file and its folder are created when missing, and the
    /// database runs in WAL mode with `synchronous=NORMAL` (durable across crashes of the process).
    pub async fn connect(settings: &DbSettings) -> CoreResult<Self> {
        let url = settings.url.trim();
        let is_sqlite = url.starts_with("sqlite:");
        if !is_sqlite && !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            return Err(CoreError::invalid(
                "DATABASE_URL must start with sqlite:// or postgres://",
            ));
        }
        let url = if is_sqlite {
            prepare_sqlite_url(url)?
        } else {
            url.to_owned()
        };
        let mut conn = if is_sqlite {
            use sea_orm::sqlx::sqlite::{
                SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous,
            };
            let options = url
                .parse::<SqliteConnectOptions>()
                .map_err(|e| CoreError::invalid(format!("DATABASE_URL: {e}")))?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .statement_cache_capacity(STATEMENT_CACHE)
                .disable_statement_logging();
            let pool = pool_options(settings)
                .connect_with(options)
                .await
                .map_err(|e| CoreError::Db(DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))))?;
            sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
        } else {
            use sea_orm::sqlx::postgres::PgConnectOptions;
            let options = url
                .parse::<PgConnectOptions>()
                .map_err(|e| CoreError::invalid(format!("DATABASE_URL: {e}")))?
                .statement_cache_capacity(STATEMENT_CACHE)
                .disable_statement_logging();
            let pool = pool_options::<sea_orm::sqlx::Postgres>(settings)
                .connect_with(options)
                .await
                .map_err(|e| CoreError::Db(DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))))?;
            sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(pool)
        };
        let statements = Arc::new(AtomicU64::new(0));
        let writes = Arc::new(WriteClock::new());
        let (counter, clock) = (statements.clone(), writes.clone());
        conn.set_metric_callback(move |info| {
            if info.statement.sql == NOTIFY_SQL || info.statement.sql.starts_with(BOOKKEEPING) {
                return;
            }
            counter.fetch_add(1, Ordering::Relaxed);
            clock.record(&info.statement.sql);
        });
        let writer = is_sqlite.then(|| Arc::new(tokio::sync::Mutex::new(())));
        Ok(Database {
            conn,
            statements,
            writes,
            writer,
            announce: Arc::default(),
        })
    }

    /// Begins a transaction that will write (see [`WriteTxn`]).
    pub async fn begin_write(&self) -> CoreResult<WriteTxn> {
        let writer = match &self.writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let txn = self.conn.begin().await?;
        if writer.is_some() {
            // Take SQLite's write lock now, before any read: a deferred transaction that reads
            // first fails with SQLITE_BUSY_SNAPSHOT when a statement outside this lock (an
            // autocommit update) wrote in between. A write statement takes the lock at its start
            // even when it changes no row.
            txn.execute_unprepared("UPDATE sync_runs SET id = id WHERE 0")
                .await?;
        }
        Ok(WriteTxn {
            txn,
            _writer: writer,
            announce: self.announce.get().cloned(),
        })
    }

    /// Brings the schema up to date. Safe to run on every start and from several replicas.
    /// Returns the names of the migrations it applied (steps after a migration, such as filling
    /// new derived tables, belong to their owners: see `crate::migrate`).
    pub async fn apply_migrations(&self) -> CoreResult<Vec<String>> {
        let pending: Vec<String> = Migrator::get_pending_migrations(&self.conn)
            .await?
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        Migrator::up(&self.conn, None).await?;
        Ok(pending)
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    /// Statements run since the pool was opened.
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Writes through this pool: a count that changes whenever data may have changed, and the
    /// time since the last one. Writes by other replicas are counted when the event bus runs
    /// over PostgreSQL (`Core::start_events`); without it they are not seen.
    pub fn writes(&self) -> &WriteClock {
        &self.writes
    }

    pub(crate) fn write_clock(&self) -> Arc<WriteClock> {
        self.writes.clone()
    }

    /// Makes every later write transaction announce itself (once; the event bus calls it).
    pub(crate) fn announce_writes(&self, announce: Announce) {
        let _ = self.announce.set(Arc::new(announce));
    }

    /// A cheap round trip, for `/readyz`.
    pub async fn ping(&self) -> CoreResult<()> {
        self.conn.ping().await?;
        Ok(())
    }

    pub async fn close(self) -> CoreResult<()> {
        self.conn.close().await?;
        Ok(())
    }
}

/// Prepared statements kept per connection (sqlx's default is 100). Lists of ids are written
/// inline, so each list length is a statement of its own; 500 keeps a busy dashboard's
/// statements prepared instead of parsing them again.
const STATEMENT_CACHE: usize = 500;

/// A connection that sat idle this long is checked with a ping before it is handed out; others
/// are used at once (a ping before every checkout was a round trip per statement).
const IDLE_CHECK_AFTER: Duration = Duration::from_secs(30);

/// The pool, as a service needs it: no ping on every checkout (only after [`IDLE_CHECK_AFTER`]
/// idle; a connection that fails the ping is closed and another is taken), one connection kept
/// open, idle ones closed after 10 minutes and every connection renewed after 30.
fn pool_options<DB: sea_orm::sqlx::Database>(
    settings: &DbSettings,
) -> sea_orm::sqlx::pool::PoolOptions<DB> {
    use sea_orm::sqlx::Connection;
    sea_orm::sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(settings.max_connections.max(1))
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .idle_timeout(Duration::from_secs(600))
        .max_lifetime(Duration::from_secs(1800))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= IDLE_CHECK_AFTER {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
}

/// Makes sure the SQLite file's folder exists and that the URL asks for the file to be created.
fn prepare_sqlite_url(url: &str) -> CoreResult<String> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(url.to_owned());
    }
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() {
        return Err(CoreError::invalid("DATABASE_URL names no SQLite file"));
    }
    if let Some(parent) = Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| {
                CoreError::invalid(format!(
                    "cannot create the database folder {}: {e}",
                    parent.display()
                ))
            })?;
        }
    }
    if url.contains("mode=") {
        Ok(url.to_owned())
    } else if url.contains('?') {
        Ok(format!("{url}&mode=rwc"))
    } else {
        Ok(format!("{url}?mode=rwc"))
    }
}

/// Advisory locks belong to the whole PostgreSQL database, not to a schema: the key is mixed with
/// the schema's name so that deployments (or parallel tests) in separate schemas of one database
/// do not take each other's locks — a `try` lock held by another schema would skip this one's
/// scheduled sync.
const SCHEMA_KEY: &str = "($1::bigint # hashtextextended(coalesce(current_schema(), ''), 0))";

/// Waits for a PostgreSQL advisory lock (of this schema) held until `conn`'s transaction ends
/// (nothing on other backends, where one process owns the database).
pub async fn advisory_xact_lock<C: ConnectionTrait>(conn: &C, key: i64) -> CoreResult<()> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        conn.execute(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            format!("SELECT pg_advisory_xact_lock{SCHEMA_KEY}"),
            [key.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Takes a PostgreSQL advisory lock (of this schema) held until `conn`'s transaction ends, if
/// it is free; always `true` on other backends.
pub async fn try_advisory_xact_lock<C: ConnectionTrait>(conn: &C, key: i64) -> CoreResult<bool> {
    if conn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(true);
    }
    let row = conn
        .query_one(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            format!("SELECT pg_try_advisory_xact_lock{SCHEMA_KEY} AS locked"),
            [key.into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<bool>("", "locked"))
        .transpose()?
        .unwrap_or(false))
}

/// Runs a whole database transaction (`attempt` begins, writes and commits it) again when
/// PostgreSQL aborted it only because of a concurrent one (a deadlock or serialization failure,
/// see [`CoreError::is_transient_conflict`]): it rolled back whole, so running it again with the
/// same input is safe. Any other error, or a fourth conflict in a row, is returned.
pub async fn retry_on_conflict<T, F, Fut>(what: &str, mut attempt: F) -> CoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = CoreResult<T>>,
{
    const ATTEMPTS: u64 = 4;
    let mut n = 0u64;
    loop {
        n += 1;
        match attempt().await {
            Err(e) if e.is_transient_conflict() && n < ATTEMPTS => {
                tracing::warn!(attempt = n, "{what}: run again after a conflict: {e}");
                tokio::time::sleep(Duration::from_millis(25 * n)).await;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_clock_counts_all_but_selects() {
        let clock = WriteClock::new();
        clock.record("SELECT 1");
        clock.record("  select * from x");
        assert_eq!(clock.count(), 0);
        clock.record("INSERT INTO x VALUES (1)");
        clock.record("UPDATE x SET a = 1");
        clock.record("WITH t AS (SELECT 1) DELETE FROM x");
        assert_eq!(clock.count(), 3);
        assert!(clock.since_last() < Duration::from_secs(5));
    }

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = std::env::temp_dir().join(format!("crm-db-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}/x.db", dir.display());
        let prepared = prepare_sqlite_url(&url).expect("prepared");
        assert!(prepared.ends_with("x.db?mode=rwc"));
        assert!(dir.exists());
        let _ = std::fs::remove_dir_all(dir);
        assert_eq!(
            prepare_sqlite_url("sqlite::memory:").ok().as_deref(),
            Some("sqlite::memory:")
        );
    }

    /// One schema's advisory lock is taken once, and does not block another schema's of the
    /// same key. PostgreSQL only.
    #[tokio::test]
    async fn advisory_locks_belong_to_their_schema() {
        let Some(pg) = crate::testing::test_database_url() else {
            return;
        };
        let x = crate::testing::TestDatabase::create(Some(&pg))
            .await
            .expect("x");
        let y = crate::testing::TestDatabase::create(Some(&pg))
            .await
            .expect("y");
        let held = x.db.conn().begin().await.expect("held");
        assert!(try_advisory_xact_lock(&held, 42).await.expect("lock"));
        let again = x.db.conn().begin().await.expect("again");
        assert!(!try_advisory_xact_lock(&again, 42).await.expect("lock"));
        let other = y.db.conn().begin().await.expect("other");
        assert!(try_advisory_xact_lock(&other, 42).await.expect("lock"));
        for txn in [held, again, other] {
            txn.rollback().await.expect("rollback");
        }
        x.cleanup().await.expect("cleanup");
        y.cleanup().await.expect("cleanup");
    }

    /// A real deadlock (two transactions taking two rows in opposite orders) is recognised as a
    /// conflict worth running again; other database errors are not. PostgreSQL only: SQLite's
    /// writers take turns and cannot deadlock.
    #[tokio::test]
    async fn deadlocks_are_told_apart_from_other_database_errors() {
        let Some(pg) = crate::testing::test_database_url() else {
            return;
        };
        let tdb = crate::testing::TestDatabase::create(Some(&pg))
            .await
            .expect("test database");
        let db = tdb.db.clone();
        db.conn()
            .execute_unprepared(
                "CREATE TABLE lock_order (id INT PRIMARY KEY, v INT NOT NULL); \
                 INSERT INTO lock_order VALUES (1, 0), (2, 0)",
            )
            .await
            .expect("table");
        let bad = db
            .conn()
            .execute_unprepared("SELECT no_such_column FROM lock_order")
            .await
            .map_err(CoreError::from)
            .expect_err("a bad column");
        assert!(!bad.is_transient_conflict());

        let a = db.conn().begin().await.expect("a");
        let b = db.conn().begin().await.expect("b");
        a.execute_unprepared("UPDATE lock_order SET v = 1 WHERE id = 1")
            .await
            .expect("a locks 1");
        b.execute_unprepared("UPDATE lock_order SET v = 1 WHERE id = 2")
            .await
            .expect("b locks 2");
        // The victim keeps its locks until it rolls back, so each side ends its transaction.
        let finish = |txn: DatabaseTransaction, sql: &'static str| async move {
            match txn.execute_unprepared(sql).await {
                Ok(_) => txn.commit().await,
                Err(e) => {
                    let _ = txn.rollback().await;
                    Err(e)
                }
            }
        };
        let (ra, rb) = tokio::join!(
            finish(a, "UPDATE lock_order SET v = 2 WHERE id = 2"),
            finish(b, "UPDATE lock_order SET v = 2 WHERE id = 1"),
        );
        let failed: Vec<CoreError> = [ra.err(), rb.err()]
            .into_iter()
            .flatten()
            .map(CoreError::from)
            .collect();
        assert_eq!(failed.len(), 1, "PostgreSQL aborts exactly one: {failed:?}");
        assert!(failed[0].is_transient_conflict(), "{:?}", failed[0]);
        tdb.cleanup().await.expect("cleanup");
    }
}
