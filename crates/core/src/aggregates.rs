//! Reads of the precomputed analytics the ledger keeps (`crate::ledger`): booked money per
//! client, currency, direction and category, by month (`client_month_totals`, which also keeps
//! the bank for portfolio totals) and by day (`client_day_totals`).
//!
//! Reads of a day-granular range `[from, to)` (see [`category_totals`]) combine whole months from
//! the month table, whole days at the month edges from the day table, and the partial days at
//! the very edges from the rows, in one statement; the result equals a direct `SUM` over rows.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value};

use crate::domain::{clamp_to_stored_years, date_key, Category, Currency, Direction};
use crate::error::{CoreError, CoreResult};

fn month_of(d: NaiveDate) -> i32 {
    d.year() * 100 + d.month() as i32
}

/// The category of money moved between a client's own accounts, left out of every figure of
/// income and spending.
pub(crate) const OWN_TRANSFER: &str = "OWN_TRANSFER";

/// Whose rows a range read covers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scope<'a> {
    Client(i64),
    /// The clients of a user's book (every client for an administrator).
    Portfolio(&'a crate::access::Book),
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
    let (from, to) = (clamp_to_stored_years(from), clamp_to_stored_years(to));
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
        scope: Scope<'_>,
        currency: &Currency,
        direction: Option<Direction>,
    ) -> String {
        let mut w = match scope {
            Scope::Client(id) => format!("client_id = {}", self.param(id)),
            // Through the per-client index rather than a scan of every row.
            Scope::Portfolio(crate::access::Book::All) => {
                "client_id IN (SELECT id FROM clients)".to_owned()
            }
            Scope::Portfolio(book) => format!("1 = 1{}", book.sql("client_id")),
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

/// Booked income and spending by category (and direction) in `[from, to)` in one currency,
/// largest first, in one statement over the aggregates and the edge rows. Equal to a direct
/// `SUM` over the rows. Money moved between the client's own accounts (`OWN_TRANSFER`) is
/// neither, and is left out.
pub(crate) async fn category_totals<C: ConnectionTrait>(
    conn: &C,
    scope: Scope<'_>,
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
         FROM ({}) parts WHERE category <> '{OWN}' GROUP BY category, direction HAVING SUM(n) > 0 \
         ORDER BY amount DESC, category",
        selects.join(" UNION ALL "),
        OWN = OWN_TRANSFER,
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
}
