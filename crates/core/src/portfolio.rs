//! The portfolio view: how the clients are graded, what each bank holds, and where the whole
//! portfolio's money goes. Read from counters and aggregates (`ratings`, `accounts`,
//! `client_month_totals`, `client_day_totals`), never from every transaction row.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement};

use crate::aggregates::{category_totals, Scope};
use crate::analytics::{shares, CategorySpend};
use crate::auth::Actor;
use crate::domain::{Currency, Direction, Grade, Money};
use crate::error::{CoreError, CoreResult};
use crate::Core;

/// Clients per grade; `grade: None` counts the clients without a rating.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GradeCount {
    pub grade: Option<Grade>,
    pub count: u64,
    /// Average score of the grade's clients (0 for the unrated).
    pub average_score: u32,
}

/// What one bank (or the manual entries, bank code `manual`) holds across the portfolio.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankTotals {
    pub bank_code: String,
    /// Clients with a link to the bank or an account at it.
    pub clients: u64,
    /// Open accounts (closed ones count nowhere).
    pub accounts: u64,
    /// The clients' money per currency, base currency first: balances of open accounts that
    /// are not debts.
    pub balances: Vec<Money>,
    /// What clients owe on open loan and credit-card accounts per currency, positive.
    pub debts: Vec<Money>,
    /// Booked transactions (every currency).
    pub transactions: u64,
    /// Booked income and spending in the base currency.
    pub income: Money,
    pub expense: Money,
}

const BANKS_SQL: &str = concat!("\
SELECT 'clients' AS kind, bank_code AS k, '' AS c, CAST(COUNT(DISTINCT client_id) AS BIGINT) AS a, CAST(0 AS BIGINT) AS b \
  FROM (SELECT bank_code, client_id FROM bank_links UNION SELECT bank_code, client_id FROM accounts) linked \
  WHERE 1 = 1{book} GROUP BY bank_code \
UNION ALL SELECT 'accounts', bank_code, currency, CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(balance_minor), 0) AS BIGINT) \
  FROM accounts WHERE ", crate::accounts::asset_sql!(), "{book} GROUP BY bank_code, currency \
UNION ALL SELECT 'debts', bank_code, currency, CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(ABS(balance_minor)), 0) AS BIGINT) \
  FROM accounts WHERE ", crate::accounts::debt_sql!(), "{book} GROUP BY bank_code, currency \
UNION ALL SELECT direction, bank_code, currency, CAST(SUM(tx_count) AS BIGINT), CAST(SUM(amount_minor) AS BIGINT) \
  FROM client_month_totals WHERE category <> 'OWN_TRANSFER'{book} GROUP BY bank_code, currency, direction");

impl Core {
    /// Clients of `actor`'s book per grade (A, B, C, then the unrated), in one statement.
    pub async fn grade_distribution(&self, actor: &Actor) -> CoreResult<Vec<GradeCount>> {
        let sql = self.book_of(actor).await?.apply(
            "SELECT grade, CAST(COUNT(*) AS BIGINT), CAST(COALESCE(ROUND(AVG(score)), 0) AS BIGINT) \
             FROM ratings WHERE 1 = 1{book} GROUP BY grade \
             UNION ALL SELECT '', CAST(COUNT(*) AS BIGINT), CAST(0 AS BIGINT) FROM clients \
             WHERE id NOT IN (SELECT client_id FROM ratings){book_id}",
        );
        let rows = self
            .db
            .conn()
            .query_all(Statement::from_string(self.db.backend(), sql))
            .await?;
        let mut out: Vec<GradeCount> = Grade::ALL
            .iter()
            .map(|g| GradeCount {
                grade: Some(*g),
                count: 0,
                average_score: 0,
            })
            .collect();
        out.push(GradeCount {
            grade: None,
            count: 0,
            average_score: 0,
        });
        for row in rows {
            let key: String = row.try_get_by_index(0)?;
            let count: i64 = row.try_get_by_index(1)?;
            let avg: i64 = row.try_get_by_index(2)?;
            let grade = if key.is_empty() {
                None
            } else {
                Some(Grade::parse(&key)?)
            };
            if let Some(g) = out.iter_mut().find(|g| g.grade == grade) {
                g.count = count.max(0) as u64;
                g.average_score = avg.clamp(0, 100) as u32;
            }
        }
        Ok(out)
    }

    /// Totals per bank over `actor`'s book, in one statement, ordered by bank code.
    pub async fn bank_totals(&self, actor: &Actor) -> CoreResult<Vec<BankTotals>> {
        let base = self.settings.base_currency.clone();
        let sql = self.book_of(actor).await?.apply(BANKS_SQL);
        let rows = self
            .db
            .conn()
            .query_all(Statement::from_string(self.db.backend(), sql))
            .await?;
        let mut banks: BTreeMap<String, BankTotals> = BTreeMap::new();
        for row in rows {
            let kind: String = row.try_get_by_index(0)?;
            let code: String = row.try_get_by_index(1)?;
            let currency: String = row.try_get_by_index(2)?;
            let a: i64 = row.try_get_by_index::<Option<i64>>(3)?.unwrap_or(0);
            let b: i64 = row.try_get_by_index::<Option<i64>>(4)?.unwrap_or(0);
            let bank = banks.entry(code.clone()).or_insert_with(|| BankTotals {
                bank_code: code,
                clients: 0,
                accounts: 0,
                balances: Vec::new(),
                debts: Vec::new(),
                transactions: 0,
                income: Money::new(0, base.clone()),
                expense: Money::new(0, base.clone()),
            });
            match kind.as_str() {
                "clients" => bank.clients = a.max(0) as u64,
                "accounts" => {
                    bank.accounts += a.max(0) as u64;
                    bank.balances
                        .push(Money::new(b, Currency::from_db(currency)));
                }
                "debts" => {
                    bank.accounts += a.max(0) as u64;
                    bank.debts.push(Money::new(b, Currency::from_db(currency)));
                }
                direction => {
                    bank.transactions += a.max(0) as u64;
                    if currency == base.as_str() {
                        match Direction::parse(direction)? {
                            Direction::Credit => bank.income.minor += b,
                            Direction::Debit => bank.expense.minor += b,
                        }
                    }
                }
            }
        }
        let mut out: Vec<BankTotals> = banks.into_values().collect();
        for bank in &mut out {
            for list in [&mut bank.balances, &mut bank.debts] {
                list.sort_by(|x, y| {
                    (x.currency != base, x.currency.as_str())
                        .cmp(&(y.currency != base, y.currency.as_str()))
                });
            }
        }
        Ok(out)
    }

    /// Booked spending of the whole portfolio in `[from, to)` by category, largest first (from
    /// the aggregates, with the partial edge days from the rows).
    pub async fn portfolio_spending_by_category(
        &self,
        actor: &Actor,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        currency: &Currency,
    ) -> CoreResult<Vec<CategorySpend>> {
        if from >= to {
            return Err(CoreError::invalid("`from` must be before `to`"));
        }
        let book = self.book_of(actor).await?;
        let rows = category_totals(
            self.db.conn(),
            Scope::Portfolio(&book),
            currency,
            Some(Direction::Debit),
            from,
            to,
        )
        .await?;
        Ok(shares(
            rows.into_iter()
                .map(|r| (r.category, r.amount_minor, r.count))
                .collect(),
            currency,
        ))
    }
}
