//! Per-client aggregates computed in the database: spending by category and monthly cashflow.

use chrono::{DateTime, Datelike, Utc};
use sea_orm::sea_query::{Alias, Expr, Func};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::{Category, Currency, Direction, Money, TransactionStatus};
use crate::entity::transactions;
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
    pub income: Money,
    pub expense: Money,
    pub net: Money,
}

/// Longest cashflow history one request may ask for.
pub const MAX_CASHFLOW_MONTHS: u32 = 60;

fn sum_bigint(col: transactions::Column) -> sea_orm::sea_query::SimpleExpr {
    Expr::expr(Func::sum(Expr::col(col))).cast_as(Alias::new("BIGINT"))
}

/// The `n` month keys (`YYYYMM`) ending with the month of `now`, oldest first.
fn last_months(now: DateTime<Utc>, n: u32) -> Vec<i32> {
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
        let rows: Vec<(String, i64, i64)> = transactions::Entity::find()
            .select_only()
            .column(transactions::Column::Category)
            .column_as(sum_bigint(transactions::Column::AmountMinor), "amount")
            .column_as(Expr::col(transactions::Column::Id).count(), "n")
            .filter(transactions::Column::ClientId.eq(client_id))
            .filter(transactions::Column::Direction.eq(Direction::Debit.as_str()))
            .filter(transactions::Column::Status.eq(TransactionStatus::Booked.as_str()))
            .filter(transactions::Column::Currency.eq(currency.as_str()))
            .filter(transactions::Column::BookedAt.gte(from))
            .filter(transactions::Column::BookedAt.lt(to))
            .group_by(transactions::Column::Category)
            .order_by_desc(Expr::cust("2"))
            .into_tuple()
            .all(self.db.conn())
            .await?;
        let total: i64 = rows.iter().map(|r| r.1).sum();
        rows.into_iter()
            .map(|(category, minor, n)| {
                Ok(CategorySpend {
                    category: Category::parse(&category)?,
                    amount: Money::new(minor, currency.clone()),
                    count: n.max(0) as u64,
                    share: if total > 0 {
                        minor as f64 / total as f64
                    } else {
                        0.0
                    },
                })
            })
            .collect()
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
        let rows: Vec<(i32, String, i64)> = transactions::Entity::find()
            .select_only()
            .column(transactions::Column::BookedMonth)
            .column(transactions::Column::Direction)
            .column_as(sum_bigint(transactions::Column::AmountMinor), "amount")
            .filter(transactions::Column::ClientId.eq(client_id))
            .filter(transactions::Column::Status.eq(TransactionStatus::Booked.as_str()))
            .filter(transactions::Column::Currency.eq(currency.as_str()))
            .filter(transactions::Column::BookedMonth.gte(keys[0]))
            .filter(transactions::Column::BookedMonth.lte(keys[keys.len() - 1]))
            .group_by(transactions::Column::BookedMonth)
            .group_by(transactions::Column::Direction)
            .into_tuple()
            .all(self.db.conn())
            .await?;
        Ok(keys
            .into_iter()
            .map(|key| {
                let sum = |d: Direction| {
                    rows.iter()
                        .filter(|r| r.0 == key && r.1 == d.as_str())
                        .map(|r| r.2)
                        .sum::<i64>()
                };
                let income = sum(Direction::Credit);
                let expense = sum(Direction::Debit);
                MonthFlow {
                    month: format!("{:04}-{:02}", key / 100, key % 100),
                    income: Money::new(income, currency.clone()),
                    expense: Money::new(expense, currency.clone()),
                    net: Money::new(income - expense, currency.clone()),
                }
            })
            .collect())
    }
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
