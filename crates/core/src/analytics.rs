//! Per-client analytics. Spending by category and cashflow are read from the precomputed
//! aggregates (`crate::aggregates`): one indexed statement whatever the number of rows. The
//! submodules detect patterns from a bounded, indexed read of one client's last 12 months:
//! `merchants` (top merchants), `recurring` (subscriptions, rent, loans), `income` (salary).

pub(crate) mod history;
pub mod income;
pub mod merchants;
pub mod recurring;

pub use income::IncomeProfile;
pub use merchants::MerchantSpend;
pub use recurring::{Interval, RecurringPayment};

use chrono::{DateTime, Datelike, Utc};
use sea_orm::sea_query::{Alias, Expr, Func};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::aggregates::{category_totals, Scope, OWN_TRANSFER};
use crate::domain::{Category, Currency, Direction, Money};
use crate::entity::client_month_totals;
use crate::error::{CoreError, CoreResult};
use crate::Core;

#[derive(Clone, Debug)]
pub struct CategorySpend {
    pub category: Category,
    pub amount: Money,
    pub count: u64,
    /// This category's part of the total spending in the range, 0..=1.
    pub share: f64,
}

#[derive(Clone, Debug)]
pub struct MonthFlow {
    /// `YYYY-MM`.
    pub month: String,
    /// Income and expense leave out money moved between the client's own accounts, which is
    /// shown apart: `moved_out` left an account of the client for another of its accounts,
    /// `moved_in` arrived from one (the two differ while a leg is unpaired or in flight).
    pub income: Money,
    pub expense: Money,
    pub net: Money,
    pub moved_out: Money,
    pub moved_in: Money,
}

/// Longest cashflow history one request may ask for.
pub const MAX_CASHFLOW_MONTHS: u32 = 60;

/// The `n` month keys (`YYYYMM`) ending with the month of `now`, oldest first.
pub(crate) fn last_months(now: DateTime<Utc>, n: u32) -> Vec<i32> {
    let mut year = now.year();
    let mut month = now.month() as i32;
    let mut keys = Vec::with_capacity(n as usize);
    for _ in 0..n {
        keys.push(year * 100 + month);
        month -= 1;
        if month == 0 {
            month = 12;
            year -= 1;
        }
    }
    keys.reverse();
    keys
}

impl Core {
    /// Booked spending between `from` (inclusive) and `to` (exclusive) in one currency, by
    /// category, largest first. The amounts add up to the client's total spending in the range.
    pub async fn spending_by_category(
        &self,
        client_id: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        currency: &Currency,
    ) -> CoreResult<Vec<CategorySpend>> {
        if from >= to {
            return Err(CoreError::invalid("`from` must be before `to`"));
        }
        let rows = category_totals(
            self.db.conn(),
            Scope::Client(client_id),
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

    /// Booked income, spending and net per calendar month (UTC) for the last `months` months,
    /// including the current one; months without movement are present with zeros.
    pub async fn cashflow(
        &self,
        client_id: i64,
        months: u32,
        currency: &Currency,
        now: DateTime<Utc>,
    ) -> CoreResult<Vec<MonthFlow>> {
        if months == 0 || months > MAX_CASHFLOW_MONTHS {
            return Err(CoreError::invalid(format!(
                "months must be between 1 and {MAX_CASHFLOW_MONTHS}"
            )));
        }
        let keys = last_months(now, months);
        use client_month_totals::Column as M;
        let rows: Vec<(i32, String, String, i64)> = client_month_totals::Entity::find()
            .select_only()
            .column(M::Month)
            .column(M::Direction)
            .column(M::Category)
            .column_as(
                Expr::expr(Func::sum(Expr::col(M::AmountMinor))).cast_as(Alias::new("BIGINT")),
                "amount",
            )
            .filter(M::ClientId.eq(client_id))
            .filter(M::Currency.eq(currency.as_str()))
            .filter(M::Month.gte(keys[0]))
            .filter(M::Month.lte(keys[keys.len() - 1]))
            .group_by(M::Month)
            .group_by(M::Direction)
            .group_by(M::Category)
            .into_tuple()
            .all(self.db.conn())
            .await?;
        Ok(keys
            .into_iter()
            .map(|key| {
                let sum = |d: Direction, own: bool| {
                    rows.iter()
                        .filter(|r| r.0 == key && r.1 == d.as_str())
                        .filter(|r| (r.2 == OWN_TRANSFER) == own)
                        .map(|r| r.3)
                        .sum::<i64>()
                };
                let income = sum(Direction::Credit, false);
                let expense = sum(Direction::Debit, false);
                MonthFlow {
                    month: format!("{:04}-{:02}", key / 100, key % 100),
                    income: Money::new(income, currency.clone()),
                    expense: Money::new(expense, currency.clone()),
                    net: Money::new(income - expense, currency.clone()),
                    moved_out: Money::new(sum(Direction::Debit, true), currency.clone()),
                    moved_in: Money::new(sum(Direction::Credit, true), currency.clone()),
                }
            })
            .collect())
    }
}

/// Category rows with their share of the total, largest first.
pub(crate) fn shares(rows: Vec<(Category, i64, i64)>, currency: &Currency) -> Vec<CategorySpend> {
    let total: i64 = rows.iter().map(|r| r.1).sum();
    let mut out: Vec<CategorySpend> = rows
        .into_iter()
        .map(|(category, minor, n)| CategorySpend {
            category,
            amount: Money::new(minor, currency.clone()),
            count: n.max(0) as u64,
            share: if total > 0 {
                minor as f64 / total as f64
            } else {
                0.0
            },
        })
        .collect();
    out.sort_by(|a, b| {
        b.amount
            .minor
            .cmp(&a.amount.minor)
            .then(a.category.cmp(&b.category))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn month_windows_cross_years() {
        let now = Utc
            .with_ymd_and_hms(2026, 2, 10, 0, 0, 0)
            .single()
            .expect("date");
        assert_eq!(last_months(now, 4), vec![202511, 202512, 202601, 202602]);
        assert_eq!(last_months(now, 1), vec![202602]);
        assert_eq!(last_months(now, 12).len(), 12);
    }
}
