//! Precomputed analytics: booked money per client, currency, direction and category, by month
//! (`client_month_totals`, which also keeps the bank for portfolio totals) and by day
//! (`client_day_totals`).
//!
//! **Invariant:** both tables equal a `SUM`/`COUNT` over the `transactions` rows that count —
//! booked (`status = 'BOOKED'`) and not replaced — grouped by their keys. Every writer keeps it in
//! the *same database transaction* as its change to the rows:
//!
//! - sync ingest (`sync/ingest.rs`): inserts add, updates (pending → booked, amount, date,
//!   currency, direction or category changes) subtract the old row and add the new one;
//! - manual entries and `set_transaction_category` (`transactions.rs`);
//! - client deletion: the tables cascade with the client;
//! - bulk loads (`testing::seed_portfolio`) and the first migration to these tables call
//!   [`rebuild`], which recomputes them from the rows with one `INSERT … SELECT … GROUP BY`.
//!
//! A writer that changes categories (for instance user rules re-categorising rows in bulk) calls
//! [`move_category_aggregate`] for one row, or, for many rows, collects the moves in one
//! [`AggregateDelta`] ([`AggregateDelta::move_category`], with bank codes from [`bank_codes`])
//! and [`AggregateDelta::apply`]s it once — in the same transaction as its `UPDATE`, with the
//! rows read `FOR UPDATE` (a no-op on SQLite, which has one writer at a time) so that a
//! concurrent writer cannot move the same row twice.
//!
//! Reads of a day-granular range `[from, to)` (see [`category_totals`]) combine whole months from
//! the month table, whole days at the month edges from the day table, and the partial days at
//! the very edges from the rows, in one statement; the result equals a direct `SUM` over rows.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use sea_orm::sea_query::{Condition, Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QuerySelect, Set,
    Statement, Value,
};

use crate::domain::{Category, Currency, Direction, TransactionStatus};
use crate::entity::{accounts, client_day_totals, client_month_totals, transactions};
use crate::error::{CoreError, CoreResult};

/// `YYYYMMDD` of a moment (UTC), the day bucket.
pub fn day_key(at: &DateTime<Utc>) -> i32 {
    date_key(at.date_naive())
}

fn date_key(d: NaiveDate) -> i32 {
    d.year() * 10_000 + d.month() as i32 * 100 + d.day() as i32
}

fn month_of(d: NaiveDate) -> i32 {
    d.year() * 100 + d.month() as i32
}

/// Whether a stored row counts in totals and aggregates.
pub(crate) fn counts(status: &str, replaced_by_id: Option<i64>) -> bool {
    status == TransactionStatus::Booked.as_str() && replaced_by_id.is_none()
}

type MonthKey = (i64, String, String, i32, String, String);
type DayKey = (i64, String, String, i32, String);

/// The facts of a row that place it in the aggregates.
#[derive(Clone, Debug)]
pub(crate) struct AggregateRow<'a> {
    pub client_id: i64,
    pub bank_code: &'a str,
    pub currency: &'a str,
    pub direction: &'a str,
    pub category: &'a str,
    pub booked_at: DateTime<Utc>,
    pub amount_minor: i64,
}

impl<'a> AggregateRow<'a> {
    /// The row as stored, or `None` when it does not count (pending or replaced).
    pub fn of_model(m: &'a transactions::Model, bank_code: &'a str) -> Option<Self> {
        counts(&m.status, m.replaced_by_id).then_some(AggregateRow {
            client_id: m.client_id,
            bank_code,
            currency: &m.currency,
            direction: &m.direction,
            category: &m.category,
            booked_at: m.booked_at,
            amount_minor: m.amount_minor,
        })
    }
}

/// Changes to the aggregates, collected in memory and written with a few statements.
#[derive(Debug, Default)]
pub struct AggregateDelta {
    months: HashMap<MonthKey, (i64, i64)>,
    days: HashMap<DayKey, (i64, i64)>,
}

impl AggregateDelta {
    /// Adds (`sign` = 1) or removes (`sign` = -1) one counted row.
    pub(crate) fn add(&mut self, row: &AggregateRow<'_>, sign: i64) {
        let month = (
            row.client_id,
            row.currency.to_owned(),
            row.direction.to_owned(),
            crate::transactions::month_key(&row.booked_at),
            row.category.to_owned(),
            row.bank_code.to_owned(),
        );
        let e = self.months.entry(month).or_default();
        e.0 += sign * row.amount_minor;
        e.1 += sign;
        let day = (
            row.client_id,
            row.currency.to_owned(),
            row.direction.to_owned(),
            day_key(&row.booked_at),
            row.category.to_owned(),
        );
        let e = self.days.entry(day).or_default();
        e.0 += sign * row.amount_minor;
        e.1 += sign;
    }

    /// Adds (`sign` = 1) or removes (`sign` = -1) a stored row; rows that do not count are
    /// ignored.
    pub fn add_model(&mut self, m: &transactions::Model, bank_code: &str, sign: i64) {
        if let Some(row) = AggregateRow::of_model(m, bank_code) {
            self.add(&row, sign);
        }
    }

    /// Moves a stored row (as it is before the change) from its category to `to`.
    pub fn move_category(&mut self, m: &transactions::Model, bank_code: &str, to: Category) {
        if m.category == to.as_str() {
            return;
        }
        if let Some(row) = AggregateRow::of_model(m, bank_code) {
            self.add(&row, -1);
            self.add(
                &AggregateRow {
                    category: to.as_str(),
                    ..row
                },
                1,
            );
        }
    }

    pub fn is_empty(&self) -> bool {
        self.months.values().all(|v| *v == (0, 0)) && self.days.values().all(|v| *v == (0, 0))
    }

    /// Writes the changes (upserts), then removes buckets that became empty.
    pub async fn apply<C: ConnectionTrait>(&self, conn: &C) -> CoreResult<()> {
        // Rows are written in key order: two transactions that touch the same buckets (two banks
        // of one client synced at once) then lock them in the same order and never deadlock.
        let mut months: Vec<(&MonthKey, &(i64, i64))> =
            self.months.iter().filter(|(_, v)| **v != (0, 0)).collect();
        months.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for chunk in months.chunks(500) {
            let models = chunk
                .iter()
                .map(|((client, cur, dir, month, cat, bank), v)| {
                    client_month_totals::ActiveModel {
                        client_id: Set(*client),
                        currency: Set(cur.clone()),
                        direction: Set(dir.clone()),
                        month: Set(*month),
                        category: Set(cat.clone()),
                        bank_code: Set(bank.clone()),
                        amount_minor: Set(v.0),
                        tx_count: Set(v.1),
                    }
                });
            use client_month_totals::Column as M;
            client_month_totals::Entity::insert_many(models)
                .on_conflict(
                    OnConflict::columns([
                        M::ClientId,
                        M::Currency,
                        M::Direction,
                        M::Month,
                        M::Category,
                        M::BankCode,
                    ])
                    .value(
                        M::AmountMinor,
                        Expr::col((client_month_totals::Entity, M::AmountMinor))
                            .add(Expr::cust("excluded.amount_minor")),
                    )
                    .value(
                        M::TxCount,
                        Expr::col((client_month_totals::Entity, M::TxCount))
                            .add(Expr::cust("excluded.tx_count")),
                    )
                    .to_owned(),
                )
                .exec_without_returning(conn)
                .await?;
        }
        let mut days: Vec<(&DayKey, &(i64, i64))> =
            self.days.iter().filter(|(_, v)| **v != (0, 0)).collect();
        days.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for chunk in days.chunks(500) {
            let models = chunk.iter().map(|((client, cur, dir, day, cat), v)| {
                client_day_totals::ActiveModel {
                    client_id: Set(*client),
                    currency: Set(cur.clone()),
                    direction: Set(dir.clone()),
                    day: Set(*day),
                    category: Set(cat.clone()),
                    amount_minor: Set(v.0),
                    tx_count: Set(v.1),
                }
            });
            use client_day_totals::Column as D;
            client_day_totals::Entity::insert_many(models)
                .on_conflict(
                    OnConflict::columns([
                        D::ClientId,
                        D::Currency,
                        D::Direction,
                        D::Day,
                        D::Category,
                    ])
                    .value(
                        D::AmountMinor,
                        Expr::col((client_day_totals::Entity, D::AmountMinor))
                            .add(Expr::cust("excluded.amount_minor")),
                    )
                    .value(
                        D::TxCount,
                        Expr::col((client_day_totals::Entity, D::TxCount))
                            .add(Expr::cust("excluded.tx_count")),
                    )
                    .to_owned(),
                )
                .exec_without_returning(conn)
                .await?;
        }
        self.remove_emptied(conn).await
    }

    /// Buckets that lost rows may be empty now: they are deleted, so a category with nothing in
    /// it never shows up.
    async fn remove_emptied<C: ConnectionTrait>(&self, conn: &C) -> CoreResult<()> {
        let mut months: Vec<&MonthKey> = self
            .months
            .iter()
            .filter(|(_, v)| v.1 < 0)
            .map(|(k, _)| k)
            .collect();
        months.sort_unstable();
        for chunk in months.chunks(100) {
            use client_month_totals::Column as M;
            let mut any = Condition::any();
            for (client, cur, dir, month, cat, bank) in chunk {
                any = any.add(
                    Condition::all()
                        .add(M::ClientId.eq(*client))
                        .add(M::Currency.eq(cur.as_str()))
                        .add(M::Direction.eq(dir.as_str()))
                        .add(M::Month.eq(*month))
                        .add(M::Category.eq(cat.as_str()))
                        .add(M::BankCode.eq(bank.as_str())),
                );
            }
            client_month_totals::Entity::delete_many()
                .filter(M::TxCount.lte(0))
                .filter(any)
                .exec(conn)
                .await?;
        }
        let mut days: Vec<&DayKey> = self
            .days
            .iter()
            .filter(|(_, v)| v.1 < 0)
            .map(|(k, _)| k)
            .collect();
        days.sort_unstable();
        for chunk in days.chunks(100) {
            use client_day_totals::Column as D;
            let mut any = Condition::any();
            for (client, cur, dir, day, cat) in chunk {
                any = any.add(
                    Condition::all()
                        .add(D::ClientId.eq(*client))
                        .add(D::Currency.eq(cur.as_str()))
                        .add(D::Direction.eq(dir.as_str()))
                        .add(D::Day.eq(*day))
                        .add(D::Category.eq(cat.as_str())),
                );
            }
            client_day_totals::Entity::delete_many()
                .filter(D::TxCount.lte(0))
                .filter(any)
                .exec(conn)
                .await?;
        }
        Ok(())
    }
}

/// The bank codes of accounts, for placing their rows in the month aggregate.
pub async fn bank_codes<C: ConnectionTrait>(
    conn: &C,
    account_ids: impl IntoIterator<Item = i64>,
) -> CoreResult<HashMap<i64, String>> {
    let mut ids: Vec<i64> = account_ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<(i64, String)> = accounts::Entity::find()
            .select_only()
            .columns([accounts::Column::Id, accounts::Column::BankCode])
            .filter(accounts::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Moves one stored row's contribution from its current category to `to`. Call it in the same
/// database transaction as the `UPDATE` that changes the row's category, with `row` as it was
/// before the change (read `FOR UPDATE`). Pending and replaced rows count nowhere: nothing moves.
pub async fn move_category_aggregate<C: ConnectionTrait>(
    conn: &C,
    row: &transactions::Model,
    to: Category,
) -> CoreResult<()> {
    if row.category == to.as_str() || !counts(&row.status, row.replaced_by_id) {
        return Ok(());
    }
    let banks = bank_codes(conn, [row.account_id]).await?;
    let bank = banks.get(&row.account_id).ok_or_else(|| {
        CoreError::Internal(format!(
            "account {} of transaction {} is missing",
            row.account_id, row.id
        ))
    })?;
    let mut delta = AggregateDelta::default();
    delta.move_category(row, bank, to);
    delta.apply(conn).await
}

/// The SQL expression of a row's day key.
fn day_expr(backend: DatabaseBackend) -> &'static str {
    match backend {
        DatabaseBackend::Postgres => {
            "CAST(to_char(t.booked_at AT TIME ZONE 'UTC', 'YYYYMMDD') AS INTEGER)"
        }
        _ => "CAST(strftime('%Y%m%d', t.booked_at) AS INTEGER)",
    }
}

/// Recomputes the aggregates from the rows: of one client, or of every client (`None`). For bulk
/// loads and the first migration; runs in the caller's transaction.
pub async fn rebuild<C: ConnectionTrait>(conn: &C, client_id: Option<i64>) -> CoreResult<()> {
    let backend = conn.get_database_backend();
    let mut values: Vec<Value> = Vec::new();
    let (scope, t_scope) = match client_id {
        Some(id) => {
            values.push(id.into());
            let p = if backend == DatabaseBackend::Postgres {
                "$1"
            } else {
                "?"
            };
            (
                format!("WHERE client_id = {p}"),
                format!("AND t.client_id = {p}"),
            )
        }
        None => (String::new(), String::new()),
    };
    let counted = "t.status = 'BOOKED' AND t.replaced_by_id IS NULL";
    let statements = [
        format!("DELETE FROM client_month_totals {scope}"),
        format!("DELETE FROM client_day_totals {scope}"),
        format!(
            "INSERT INTO client_month_totals \
             (client_id, currency, direction, month, category, bank_code, amount_minor, tx_count) \
             SELECT t.client_id, t.currency, t.direction, t.booked_month, t.category, a.bank_code, \
             CAST(SUM(t.amount_minor) AS BIGINT), COUNT(*) \
             FROM transactions t JOIN accounts a ON a.id = t.account_id \
             WHERE {counted} {t_scope} \
             GROUP BY t.client_id, t.currency, t.direction, t.booked_month, t.category, a.bank_code"
        ),
        format!(
            "INSERT INTO client_day_totals \
             (client_id, currency, direction, day, category, amount_minor, tx_count) \
             SELECT t.client_id, t.currency, t.direction, {day} AS d, t.category, \
             CAST(SUM(t.amount_minor) AS BIGINT), COUNT(*) \
             FROM transactions t WHERE {counted} {t_scope} \
             GROUP BY t.client_id, t.currency, t.direction, {day}, t.category",
            day = day_expr(backend)
        ),
    ];
    for sql in statements {
        conn.execute(Statement::from_sql_and_values(backend, sql, values.clone()))
            .await?;
    }
    Ok(())
}

/// Whose rows a range read covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    Client(i64),
    Portfolio,
}

/// Booked money of one category and direction in a range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CategoryTotal {
    pub category: Category,
    pub direction: Direction,
    pub amount_minor: i64,
    pub count: i64,
}

/// A range `[from, to)` cut into what each source answers: partial days from the rows, whole
/// days from the day table, whole months from the month table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct RangeParts {
    rows: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Half-open `YYYYMMDD` ranges.
    days: Vec<(i32, i32)>,
    /// Half-open `YYYYMM` range.
    months: Option<(i32, i32)>,
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN))
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn next_month(d: NaiveDate) -> Option<NaiveDate> {
    first_of_month(d).checked_add_months(chrono::Months::new(1))
}

fn split_range(from: DateTime<Utc>, to: DateTime<Utc>) -> CoreResult<RangeParts> {
    let out_of_range = || CoreError::invalid("the date range is out of bounds");
    let mut parts = RangeParts::default();
    if from >= to {
        return Ok(parts);
    }
    // First whole day inside, and the day `to` falls in.
    let d0 = if midnight(from.date_naive()) == from {
        from.date_naive()
    } else {
        from.date_naive().succ_opt().ok_or_else(out_of_range)?
    };
    let d1 = to.date_naive();
    if d0 >= d1 {
        parts.rows.push((from, to));
        return Ok(parts);
    }
    let (d0_at, d1_at) = (midnight(d0), midnight(d1));
    if from < d0_at {
        parts.rows.push((from, d0_at));
    }
    if d1_at < to {
        parts.rows.push((d1_at, to));
    }
    // Whole days [d0, d1): whole months in the middle, days at the edges.
    let m0 = if d0.day() == 1 {
        d0
    } else {
        next_month(d0).ok_or_else(out_of_range)?
    };
    let m1 = first_of_month(d1);
    if m0 < m1 {
        if d0 < m0 {
            parts.days.push((date_key(d0), date_key(m0)));
        }
        parts.months = Some((month_of(m0), month_of(m1)));
        if m1 < d1 {
            parts.days.push((date_key(m1), date_key(d1)));
        }
    } else {
        parts.days.push((date_key(d0), date_key(d1)));
    }
    Ok(parts)
}

/// A statement with placeholders in the backend's syntax.
pub(crate) struct Sql {
    backend: DatabaseBackend,
    pub(crate) text: String,
    values: Vec<Value>,
}

impl Sql {
    pub(crate) fn new(backend: DatabaseBackend) -> Self {
        Sql {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    pub(crate) fn param(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        match self.backend {
            DatabaseBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }

    fn filters(
        &mut self,
        scope: Scope,
        currency: &Currency,
        direction: Option<Direction>,
    ) -> String {
        let mut w = match scope {
            Scope::Client(id) => format!("client_id = {}", self.param(id)),
            // Through the per-client index rather than a scan of every row.
            Scope::Portfolio => "client_id IN (SELECT id FROM clients)".to_owned(),
        };
        w.push_str(&format!(
            " AND currency = {}",
            self.param(currency.as_str())
        ));
        if let Some(d) = direction {
            w.push_str(&format!(" AND direction = {}", self.param(d.as_str())));
        }
        w
    }

    pub(crate) fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// Booked money by category (and direction) in `[from, to)` in one currency, largest first, in
/// one statement over the aggregates and the edge rows. Equal to a direct `SUM` over the rows.
pub(crate) async fn category_totals<C: ConnectionTrait>(
    conn: &C,
    scope: Scope,
    currency: &Currency,
    direction: Option<Direction>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> CoreResult<Vec<CategoryTotal>> {
    let parts = split_range(from, to)?;
    let mut sql = Sql::new(conn.get_database_backend());
    let mut selects: Vec<String> = Vec::new();
    for (a, b) in &parts.rows {
        let w = sql.filters(scope, currency, direction);
        let (pa, pb) = (sql.param(*a), sql.param(*b));
        selects.push(format!(
            "SELECT category, direction, amount_minor AS a, 1 AS n FROM transactions \
             WHERE {w} AND status = 'BOOKED' AND replaced_by_id IS NULL \
             AND booked_at >= {pa} AND booked_at < {pb}"
        ));
    }
    for (a, b) in &parts.days {
        let w = sql.filters(scope, currency, direction);
        let (pa, pb) = (sql.param(*a), sql.param(*b));
        selects.push(format!(
            "SELECT category, direction, amount_minor AS a, tx_count AS n FROM client_day_totals \
             WHERE {w} AND day >= {pa} AND day < {pb}"
        ));
    }
    if let Some((a, b)) = parts.months {
        let w = sql.filters(scope, currency, direction);
        let (pa, pb) = (sql.param(a), sql.param(b));
        selects.push(format!(
            "SELECT category, direction, amount_minor AS a, tx_count AS n FROM client_month_totals \
             WHERE {w} AND month >= {pa} AND month < {pb}"
        ));
    }
    if selects.is_empty() {
        return Ok(Vec::new());
    }
    sql.text = format!(
        "SELECT category, direction, CAST(SUM(a) AS BIGINT) AS amount, CAST(SUM(n) AS BIGINT) AS cnt \
         FROM ({}) parts GROUP BY category, direction HAVING SUM(n) > 0 \
         ORDER BY amount DESC, category",
        selects.join(" UNION ALL ")
    );
    let rows = conn.query_all(sql.statement()).await?;
    rows.into_iter()
        .map(|r| {
            let category: String = r.try_get_by_index(0)?;
            let direction: String = r.try_get_by_index(1)?;
            Ok(CategoryTotal {
                category: Category::parse(&category)?,
                direction: Direction::parse(&direction)?,
                amount_minor: r.try_get_by_index(2)?,
                count: r.try_get_by_index(3)?,
            })
        })
        .collect()
}

/// The whole days between two moments, at least a fraction of one (for monthly averages).
pub(crate) fn days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    ((to - from).num_seconds() as f64 / 86_400.0).max(0.0)
}

/// The same moment `n` calendar months earlier (the last day of the month when it is shorter).
pub(crate) fn months_before(at: DateTime<Utc>, n: u32) -> DateTime<Utc> {
    at.checked_sub_months(chrono::Months::new(n))
        .unwrap_or(at - Duration::days(i64::from(n) * 30))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .expect("date")
    }

    #[test]
    fn day_keys() {
        assert_eq!(day_key(&at(2026, 3, 9, 23)), 20260309);
    }

    #[test]
    fn ranges_split_into_rows_days_and_months() {
        // Within one day: rows only.
        let p = split_range(at(2026, 3, 9, 1), at(2026, 3, 9, 5)).expect("range");
        assert_eq!(p.rows.len(), 1);
        assert!(p.days.is_empty() && p.months.is_none());

        // 10 Jan 13:00 .. 20 Apr 08:00: two partial days, day edges, Feb and Mar whole.
        let p = split_range(at(2026, 1, 10, 13), at(2026, 4, 20, 8)).expect("range");
        assert_eq!(
            p.rows,
            vec![
                (at(2026, 1, 10, 13), at(2026, 1, 11, 0)),
                (at(2026, 4, 20, 0), at(2026, 4, 20, 8))
            ]
        );
        assert_eq!(p.days, vec![(20260111, 20260201), (20260401, 20260420)]);
        assert_eq!(p.months, Some((202602, 202604)));

        // Midnight to midnight, whole months: months only.
        let p = split_range(at(2025, 12, 1, 0), at(2026, 2, 1, 0)).expect("range");
        assert!(p.rows.is_empty() && p.days.is_empty());
        assert_eq!(p.months, Some((202512, 202602)));

        // Days inside one month.
        let p = split_range(at(2026, 2, 3, 0), at(2026, 2, 27, 0)).expect("range");
        assert_eq!(p.days, vec![(20260203, 20260227)]);
        assert!(p.months.is_none() && p.rows.is_empty());

        // Empty and reversed ranges have no parts.
        assert_eq!(
            split_range(at(2026, 2, 3, 0), at(2026, 2, 3, 0)).expect("range"),
            RangeParts::default()
        );
    }

    /// Two transactions writing the same client's buckets at once (two banks of one client
    /// synced in parallel) both commit and both count. On PostgreSQL, rows written in a
    /// different order by each would deadlock and one would be aborted; on SQLite writers take
    /// turns, and the test checks the counts.
    #[tokio::test]
    async fn concurrent_writers_of_one_clients_buckets_both_commit() {
        use crate::entity::clients;
        use sea_orm::{ActiveModelTrait, ConnectionTrait, Statement};

        let pg = crate::testing::test_database_url();
        let tdb = crate::testing::TestDatabase::create(pg.as_deref())
            .await
            .expect("test database");
        let now = Utc::now();
        let client = clients::ActiveModel {
            display_name: Set("Deadlock Test".into()),
            status: Set("ACTIVE".into()),
            search_text: Set("deadlock test".into()),
            sort_name: Set("deadlock test".into()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(tdb.db.conn())
        .await
        .expect("client");
        let delta = |bank: &'static str| {
            let mut d = AggregateDelta::default();
            for day in 0..400 {
                d.add(
                    &AggregateRow {
                        client_id: client.id,
                        bank_code: bank,
                        currency: "RUB",
                        direction: "DEBIT",
                        category: "GROCERIES",
                        booked_at: at(2025, 1, 1, 12) + Duration::days(day),
                        amount_minor: 100,
                    },
                    1,
                );
            }
            d
        };
        let write = |bank: &'static str| {
            let db = tdb.db.clone();
            let d = delta(bank);
            async move {
                let txn = db.begin_write().await?;
                d.apply(&*txn).await?;
                txn.commit().await
            }
        };
        const ROUNDS: i64 = 8;
        for _ in 0..ROUNDS {
            let (a, b) = tokio::join!(write("abank"), write("vbank"));
            a.expect("first writer");
            b.expect("second writer");
        }
        let row = tdb
            .db
            .conn()
            .query_one(Statement::from_string(
                tdb.db.backend(),
                "SELECT CAST(COUNT(*) AS BIGINT), CAST(MIN(tx_count) AS BIGINT), \
                 CAST(MAX(tx_count) AS BIGINT) FROM client_day_totals"
                    .to_owned(),
            ))
            .await
            .expect("query")
            .expect("a row");
        let read = |i| row.try_get_by_index::<i64>(i).expect("number");
        assert_eq!((read(0), read(1), read(2)), (400, 2 * ROUNDS, 2 * ROUNDS));
        tdb.cleanup().await.expect("cleanup");
    }
}
