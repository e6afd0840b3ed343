//! The per-client analytics aggregates: booked money per client, currency, direction and
//! category, by month (`client_month_totals`, with the bank) and by day (`client_day_totals`).
//!
//! **Invariant:** both tables equal a `SUM`/`COUNT` over the `transactions` rows that count —
//! booked (`status = 'BOOKED'`) and not replaced — grouped by their keys. Only the ledger
//! changes them, in the same database transaction as its change to the rows: a
//! [`AggregateDelta`] collects the moves in memory and [`AggregateDelta::apply`] writes them in
//! key order (so two writers of one client lock its buckets in one order); [`rebuild`]
//! recomputes them from the rows (bulk loads, the first migration to these tables).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{ArrayType, Condition};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QuerySelect,
    Statement, Value,
};

use crate::domain::{day_key, month_key, Category, TransactionStatus};
use crate::entity::{accounts, client_day_totals, client_month_totals, transactions};
use crate::error::CoreResult;

use super::bulk::Summed;

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

/// `client_month_totals`, as [`super::bulk::upsert_adding`] writes it.
const MONTHS: Summed = Summed {
    table: "client_month_totals",
    columns: &[
        ("client_id", ArrayType::BigInt, "int8[]"),
        ("currency", ArrayType::String, "text[]"),
        ("direction", ArrayType::String, "text[]"),
        ("month", ArrayType::Int, "int4[]"),
        ("category", ArrayType::String, "text[]"),
        ("bank_code", ArrayType::String, "text[]"),
        ("amount_minor", ArrayType::BigInt, "int8[]"),
        ("tx_count", ArrayType::BigInt, "int8[]"),
    ],
    keys: 6,
};

/// `client_day_totals`, as [`super::bulk::upsert_adding`] writes it.
const DAYS: Summed = Summed {
    table: "client_day_totals",
    columns: &[
        ("client_id", ArrayType::BigInt, "int8[]"),
        ("currency", ArrayType::String, "text[]"),
        ("direction", ArrayType::String, "text[]"),
        ("day", ArrayType::Int, "int4[]"),
        ("category", ArrayType::String, "text[]"),
        ("amount_minor", ArrayType::BigInt, "int8[]"),
        ("tx_count", ArrayType::BigInt, "int8[]"),
    ],
    keys: 5,
};

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
            month_key(&row.booked_at),
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

    /// Writes the changes (upserts), then removes buckets that became empty.
    pub async fn apply<C: ConnectionTrait>(&self, conn: &C) -> CoreResult<()> {
        // Rows are written in key order: two transactions that touch the same buckets (two banks
        // of one client synced at once) then lock them in the same order and never deadlock.
        let mut months: Vec<(&MonthKey, &(i64, i64))> =
            self.months.iter().filter(|(_, v)| **v != (0, 0)).collect();
        months.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let rows = months
            .into_iter()
            .map(|((client, cur, dir, month, cat, bank), v)| {
                vec![
                    (*client).into(),
                    cur.as_str().into(),
                    dir.as_str().into(),
                    (*month).into(),
                    cat.as_str().into(),
                    bank.as_str().into(),
                    v.0.into(),
                    v.1.into(),
                ]
            })
            .collect();
        super::bulk::upsert_adding(conn, &MONTHS, rows).await?;
        let mut days: Vec<(&DayKey, &(i64, i64))> =
            self.days.iter().filter(|(_, v)| **v != (0, 0)).collect();
        days.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let rows = days
            .into_iter()
            .map(|((client, cur, dir, day, cat), v)| {
                vec![
                    (*client).into(),
                    cur.as_str().into(),
                    dir.as_str().into(),
                    (*day).into(),
                    cat.as_str().into(),
                    v.0.into(),
                    v.1.into(),
                ]
            })
            .collect();
        super::bulk::upsert_adding(conn, &DAYS, rows).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use sea_orm::Set;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .expect("date")
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
