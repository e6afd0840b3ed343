//! Portfolio-wide headline figures, read from counters rather than by counting rows.

use sea_orm::{ConnectionTrait, Statement};

use crate::domain::{ClientStatus, Currency, Grade, Money};
use crate::error::CoreResult;
use crate::portfolio::GradeCount;
use crate::Core;

#[derive(Clone, Debug)]
pub struct Stats {
    pub clients_total: u64,
    pub clients_active: u64,
    pub clients_inactive: u64,
    /// Every stored transaction, booked or pending, in every currency.
    pub transaction_count: u64,
    /// Booked income in the base currency.
    pub income: Money,
    /// Booked spending in the base currency.
    pub expense: Money,
    /// Banks with at least one client link.
    pub banks: u64,
    /// The clients' money per currency (base currency first): balances of open accounts that
    /// are not debts.
    pub balances: Vec<Money>,
    /// What clients owe on open loan and credit-card accounts per currency, positive.
    pub debts: Vec<Money>,
    /// Rated clients per grade with their average score (A, B, C; every grade present).
    pub grades: Vec<GradeCount>,
}

/// All headline figures in one round trip: rows of (kind, key, a, b, c). SUMs are cast so that
/// PostgreSQL (whose SUM(bigint) is numeric) and SQLite both return integers.
const STATS_SQL: &str = concat!("\
SELECT 'status' AS kind, status AS k, CAST(COUNT(*) AS BIGINT) AS a, CAST(0 AS BIGINT) AS b, CAST(0 AS BIGINT) AS c \
  FROM clients WHERE 1 = 1{book_id} GROUP BY status \
UNION ALL SELECT 'totals', currency, CAST(SUM(tx_count) AS BIGINT), CAST(SUM(income_minor) AS BIGINT), \
  CAST(SUM(expense_minor) AS BIGINT) FROM client_totals WHERE 1 = 1{book} GROUP BY currency \
UNION ALL SELECT 'balance', currency, CAST(SUM(balance_minor) AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT) \
  FROM accounts WHERE balance_minor IS NOT NULL AND ", crate::accounts::asset_sql!(), "{book} GROUP BY currency \
UNION ALL SELECT 'debt', currency, CAST(SUM(ABS(balance_minor)) AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT) \
  FROM accounts WHERE balance_minor IS NOT NULL AND ", crate::accounts::debt_sql!(), "{book} GROUP BY currency \
UNION ALL SELECT 'banks', '', CAST(COUNT(DISTINCT bank_code) AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT) \
  FROM bank_links WHERE 1 = 1{book} \
UNION ALL SELECT 'grade', grade, CAST(COUNT(*) AS BIGINT), CAST(COALESCE(ROUND(AVG(score)), 0) AS BIGINT), \
  CAST(0 AS BIGINT) \
  FROM ratings WHERE 1 = 1{book} GROUP BY grade");

impl Core {
    /// The headline figures of the clients `actor` sees (their book; every client for an
    /// administrator).
    pub async fn stats(&self, actor: &crate::auth::Actor) -> CoreResult<Stats> {
        let base = self.settings.base_currency.clone();
        let sql = self.book_of(actor).await?.apply(STATS_SQL);
        let rows = self
            .db
            .conn()
            .query_all(Statement::from_string(self.db.backend(), sql))
            .await?;
        let mut stats = Stats {
            clients_total: 0,
            clients_active: 0,
            clients_inactive: 0,
            transaction_count: 0,
            income: Money::new(0, base.clone()),
            expense: Money::new(0, base.clone()),
            banks: 0,
            balances: Vec::new(),
            debts: Vec::new(),
            grades: Grade::ALL
                .iter()
                .map(|g| GradeCount {
                    grade: Some(*g),
                    count: 0,
                    average_score: 0,
                })
                .collect(),
        };
        for row in rows {
            let kind: String = row.try_get_by_index(0)?;
            let key: String = row.try_get_by_index(1)?;
            let a: i64 = row.try_get_by_index::<Option<i64>>(2)?.unwrap_or(0);
            let b: i64 = row.try_get_by_index::<Option<i64>>(3)?.unwrap_or(0);
            let c: i64 = row.try_get_by_index::<Option<i64>>(4)?.unwrap_or(0);
            match kind.as_str() {
                "status" => {
                    stats.clients_total += a.max(0) as u64;
                    match ClientStatus::parse(&key)? {
                        ClientStatus::Active => stats.clients_active += a.max(0) as u64,
                        ClientStatus::Inactive => stats.clients_inactive += a.max(0) as u64,
                    }
                }
                "totals" => {
                    stats.transaction_count += a.max(0) as u64;
                    if key == base.as_str() {
                        stats.income.minor = b;
                        stats.expense.minor = c;
                    }
                }
                "balance" => stats.balances.push(Money::new(a, Currency::from_db(key))),
                "debt" => stats.debts.push(Money::new(a, Currency::from_db(key))),
                "grade" => {
                    let grade = Grade::parse(&key)?;
                    if let Some(g) = stats.grades.iter_mut().find(|g| g.grade == Some(grade)) {
                        g.count = a.max(0) as u64;
                        g.average_score = b.clamp(0, 100) as u32;
                    }
                }
                _ => stats.banks = a.max(0) as u64,
            }
        }
        for list in [&mut stats.balances, &mut stats.debts] {
            list.sort_by(|x, y| {
                (x.currency != base, x.currency.as_str())
                    .cmp(&(y.currency != base, y.currency.as_str()))
            });
        }
        Ok(stats)
    }
}
