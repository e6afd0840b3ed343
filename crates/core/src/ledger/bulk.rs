//! Many rows in few statements, shaped for each database: on SQLite multi-row
//! `INSERT … VALUES` of bound values (under its 32 766 bound values; shorter tails in halving
//! sizes, so a handful of statement shapes is prepared and cached); on PostgreSQL one
//! `INSERT … SELECT … FROM UNNEST(arrays)` per [`PG_ROWS`] rows (one bound array per column: one
//! prepared statement, one round trip, and the server plans no value list). New `transactions`
//! rows keep `ON CONFLICT (account_id, external_id) DO NOTHING`; the aggregates' buckets are
//! added to ([`upsert_adding`]).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::ArrayType;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value};

use super::NewTransaction;
use crate::domain::month_key;
use crate::error::CoreResult;

/// The columns an imported row is written with (the rest keep their defaults: no id, not
/// replaced, not paired).
const COLUMNS: &str = "client_id, account_id, external_id, booked_at, booked_month, value_at, \
    amount_minor, currency, direction, status, raw_status, description, merchant, mcc, \
    bank_tx_code, counterparty, card_masked, counterparty_account, search_text, category, \
    category_source, category_confidence, created_at, updated_at";

/// Values per row on SQLite (the number of [`COLUMNS`]).
const SQLITE_WIDTH: usize = 24;

/// Rows per statement on SQLite: 24 576 bound values.
const SQLITE_ROWS: usize = 1024;

/// Bound values per statement on SQLite at most (its limit is 32 766).
const SQLITE_VALUES: usize = 30_000;

/// Rows per statement on PostgreSQL.
const PG_ROWS: usize = 5000;

/// Inserts `rows`, none of which the caller found stored (a conflicting one is skipped).
pub(super) async fn insert<C: ConnectionTrait>(
    conn: &C,
    rows: &[NewTransaction],
    now: DateTime<Utc>,
) -> CoreResult<()> {
    match conn.get_database_backend() {
        DatabaseBackend::Postgres => {
            for chunk in rows.chunks(PG_ROWS) {
                conn.execute(pg_statement(chunk, now)).await?;
            }
        }
        backend => {
            for chunk in ladder(rows, SQLITE_ROWS) {
                conn.execute(values_statement(backend, chunk, now)).await?;
            }
        }
    }
    Ok(())
}

/// `rows` cut into chunks of `top` rows, the rest in the largest powers of two that fit
/// (`top` is one): few distinct statement shapes.
fn ladder<T>(mut rows: &[T], top: usize) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if rows.is_empty() {
            return None;
        }
        let size = if rows.len() >= top {
            top
        } else {
            1 << rows.len().ilog2()
        };
        let (chunk, rest) = rows.split_at(size);
        rows = rest;
        Some(chunk)
    })
}

/// A table of counters keyed by its leading columns: what [`upsert_adding`] writes.
pub(super) struct Summed {
    pub table: &'static str,
    /// Every column written, keys first then the added ones, with its PostgreSQL array type.
    pub columns: &'static [(&'static str, ArrayType, &'static str)],
    /// How many of `columns` are the key (the conflict target).
    pub keys: usize,
}

/// Adds `rows` (values in the order of `columns`, none NULL) to the table: a new key is
/// inserted, an existing one has the added columns summed. The rows are written in the order
/// given (callers sort them by key, so concurrent writers lock in one order).
pub(super) async fn upsert_adding<C: ConnectionTrait>(
    conn: &C,
    t: &Summed,
    rows: Vec<Vec<Value>>,
) -> CoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
    let sums = names[t.keys..]
        .iter()
        .map(|c| format!("{c} = {}.{c} + excluded.{c}", t.table))
        .collect::<Vec<_>>()
        .join(", ");
    let tail = format!(
        " ON CONFLICT ({}) DO UPDATE SET {sums}",
        names[..t.keys].join(", ")
    );
    let backend = conn.get_database_backend();
    if backend == DatabaseBackend::Postgres {
        let arrays = t
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("${}::{}", i + 1, c.2))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO {} ({}) SELECT * FROM UNNEST({arrays}){tail}",
            t.table,
            names.join(", ")
        );
        for chunk in rows.chunks(PG_ROWS) {
            let mut columns: Vec<Vec<Value>> = t
                .columns
                .iter()
                .map(|_| Vec::with_capacity(chunk.len()))
                .collect();
            for row in chunk {
                for (column, value) in columns.iter_mut().zip(row) {
                    column.push(value.clone());
                }
            }
            let values = t
                .columns
                .iter()
                .zip(columns)
                .map(|(c, column)| Value::Array(c.1.clone(), Some(Box::new(column))))
                .collect::<Vec<_>>();
            conn.execute(Statement::from_sql_and_values(backend, &sql, values))
                .await?;
        }
        return Ok(());
    }
    let width = t.columns.len();
    let row_sql = format!("({}?)", "?, ".repeat(width - 1));
    for chunk in ladder(&rows, (SQLITE_VALUES / width).next_power_of_two() / 2) {
        let mut sql = format!("INSERT INTO {} ({}) VALUES ", t.table, names.join(", "));
        sql.push_str(&vec![row_sql.as_str(); chunk.len()].join(", "));
        sql.push_str(&tail);
        let values: Vec<Value> = chunk.iter().flatten().cloned().collect();
        conn.execute(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    Ok(())
}

/// `INSERT … VALUES (?, …), …` with every value bound.
fn values_statement(
    backend: DatabaseBackend,
    rows: &[NewTransaction],
    now: DateTime<Utc>,
) -> Statement {
    let mut sql = String::with_capacity(80 + rows.len() * (SQLITE_WIDTH * 2 + 4));
    sql.push_str("INSERT INTO transactions (");
    sql.push_str(COLUMNS);
    sql.push_str(") VALUES ");
    let row_sql = format!("({}?)", "?, ".repeat(SQLITE_WIDTH - 1));
    let mut values: Vec<Value> = Vec::with_capacity(rows.len() * SQLITE_WIDTH);
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&row_sql);
        values.extend([
            r.client_id.into(),
            r.account_id.into(),
            r.external_id.as_str().into(),
            r.booked_at().into(),
            month_key(&r.booked_at).into(),
            r.value_at().into(),
            r.amount_minor.into(),
            r.currency.as_str().into(),
            r.direction.as_str().into(),
            r.status.as_str().into(),
            r.raw_status.as_deref().into(),
            r.description.as_str().into(),
            r.merchant.as_deref().into(),
            r.mcc.as_deref().into(),
            r.bank_tx_code.as_deref().into(),
            r.counterparty.as_deref().into(),
            r.card_masked.as_deref().into(),
            r.counterparty_account.as_deref().into(),
            r.search_text().into(),
            r.category.as_str().into(),
            r.category_source.as_str().into(),
            r.category_confidence.map(i16::from).into(),
            now.into(),
            now.into(),
        ]);
    }
    sql.push_str(" ON CONFLICT (account_id, external_id) DO NOTHING");
    Statement::from_sql_and_values(backend, sql, values)
}

/// `INSERT … SELECT … FROM UNNEST($1, …)`: a typed array per column. Arrays bound through the
/// driver cannot hold NULL, so nullable text and the confidence go as one array literal each
/// (`{"a",NULL}`, read with `CAST(… AS text[])`) and the optional value date as its times plus
/// a flag per row.
fn pg_statement(rows: &[NewTransaction], now: DateTime<Utc>) -> Statement {
    let strings = |f: fn(&NewTransaction) -> &str| -> Value {
        Value::from(
            rows.iter()
                .map(|r| f(r).to_owned())
                .collect::<Vec<String>>(),
        )
    };
    let nullable = |f: fn(&NewTransaction) -> Option<&str>| -> Value {
        Value::from(array_literal(rows.iter().map(f)))
    };
    let values: Vec<Value> = vec![
        Value::from(rows.iter().map(|r| r.client_id).collect::<Vec<i64>>()),
        Value::from(rows.iter().map(|r| r.account_id).collect::<Vec<i64>>()),
        strings(|r| &r.external_id),
        Value::from(
            rows.iter()
                .map(NewTransaction::booked_at)
                .collect::<Vec<_>>(),
        ),
        Value::from(
            rows.iter()
                .map(|r| month_key(&r.booked_at))
                .collect::<Vec<i32>>(),
        ),
        Value::from(
            rows.iter()
                .map(|r| r.value_at().unwrap_or(now))
                .collect::<Vec<_>>(),
        ),
        Value::from(
            rows.iter()
                .map(|r| r.value_at.is_some())
                .collect::<Vec<bool>>(),
        ),
        Value::from(rows.iter().map(|r| r.amount_minor).collect::<Vec<i64>>()),
        strings(|r| &r.currency),
        strings(|r| r.direction.as_str()),
        strings(|r| r.status.as_str()),
        nullable(|r| r.raw_status.as_deref()),
        strings(|r| &r.description),
        nullable(|r| r.merchant.as_deref()),
        nullable(|r| r.mcc.as_deref()),
        nullable(|r| r.bank_tx_code.as_deref()),
        nullable(|r| r.counterparty.as_deref()),
        nullable(|r| r.card_masked.as_deref()),
        nullable(|r| r.counterparty_account.as_deref()),
        Value::from(
            rows.iter()
                .map(NewTransaction::search_text)
                .collect::<Vec<_>>(),
        ),
        strings(|r| r.category.as_str()),
        strings(|r| r.category_source.as_str()),
        Value::from(array_literal(
            rows.iter()
                .map(|r| r.category_confidence.map(|c| c.to_string())),
        )),
        now.into(),
    ];
    Statement::from_sql_and_values(DatabaseBackend::Postgres, PG_SQL, values)
}

const PG_SQL: &str = "INSERT INTO transactions (client_id, account_id, external_id, booked_at, \
    booked_month, value_at, amount_minor, currency, direction, status, raw_status, \
    description, merchant, mcc, bank_tx_code, counterparty, card_masked, \
    counterparty_account, search_text, category, category_source, category_confidence, \
    created_at, updated_at) \
    SELECT client_id, account_id, external_id, booked_at, booked_month, \
    CASE WHEN has_value_at THEN value_at END, amount_minor, currency, direction, status, \
    raw_status, description, merchant, mcc, bank_tx_code, counterparty, card_masked, \
    counterparty_account, search_text, category, category_source, category_confidence, \
    $24, $24 \
    FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::timestamptz[], $5::int4[], \
    $6::timestamptz[], $7::bool[], $8::int8[], $9::text[], $10::text[], $11::text[], \
    CAST($12 AS text[]), $13::text[], CAST($14 AS text[]), CAST($15 AS text[]), \
    CAST($16 AS text[]), CAST($17 AS text[]), CAST($18 AS text[]), CAST($19 AS text[]), \
    $20::text[], $21::text[], $22::text[], CAST($23 AS int2[])) \
    AS t(client_id, account_id, external_id, booked_at, booked_month, value_at, \
    has_value_at, amount_minor, currency, direction, status, raw_status, description, \
    merchant, mcc, bank_tx_code, counterparty, card_masked, counterparty_account, \
    search_text, category, category_source, category_confidence) \
    ON CONFLICT (account_id, external_id) DO NOTHING";

/// A PostgreSQL array literal of text, `NULL` for `None`: `{"a","b \"c\"",NULL}`.
fn array_literal<S: AsRef<str>>(items: impl Iterator<Item = Option<S>>) -> String {
    let mut out = String::from("{");
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        match item {
            None => out.push_str("NULL"),
            Some(s) => {
                out.push('"');
                for ch in s.as_ref().chars() {
                    if ch == '"' || ch == '\\' {
                        out.push('\\');
                    }
                    out.push(ch);
                }
                out.push('"');
            }
        }
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::array_literal;

    #[test]
    fn array_literals_quote_escape_and_keep_nulls() {
        assert_eq!(
            array_literal([Some("a"), None, Some(r#"b "c" \d"#), Some("{x,y}")].into_iter()),
            r#"{"a",NULL,"b \"c\" \\d","{x,y}"}"#
        );
        assert_eq!(array_literal(std::iter::empty::<Option<&str>>()), "{}");
    }
}
