//! Portfolio-wide headline figures, read from counters rather than by counting rows.

use sea_orm::sea_query::{Alias, Expr, Func, SimpleExpr};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::domain::{ClientStatus, Currency, Money};
use crate::entity::{accounts, bank_links, client_totals, clients};
use crate::error::CoreResult;
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
    /// Sum of account balances per currency (base currency first).
    pub balances: Vec<Money>,
}

fn sum_bigint<C: sea_orm::sea_query::IntoColumnRef>(col: C) -> sea_orm::sea_query::SimpleExpr {
    // PostgreSQL's SUM(bigint) is numeric; cast so both databases return an integer.
    Expr::expr(Func::coalesce([
        Func::sum(Expr::col(col)).into(),
        Expr::val(0).into(),
    ]))
    .cast_as(Alias::new("BIGINT"))
}

impl Core {
    pub async fn stats(&self) -> CoreResult<Stats> {
        let conn = self.db.conn();
        let base = self.settings.base_currency.clone();
        let by_status: Vec<(String, i64)> = clients::Entity::find()
            .select_only()
            .column(clients::Column::Status)
            .column_as(Expr::col(clients::Column::Id).count(), "n")
            .group_by(clients::Column::Status)
            .into_tuple()
            .all(conn)
            .await?;
        let count_of = |s: ClientStatus| {
            by_status
                .iter()
                .filter(|(st, _)| st == s.as_str())
                .map(|(_, n)| *n as u64)
                .sum::<u64>()
        };
        let totals: Vec<(String, i64, i64, i64)> = client_totals::Entity::find()
            .select_only()
            .column(client_totals::Column::Currency)
            .column_as(sum_bigint(client_totals::Column::TxCount), "tx")
            .column_as(sum_bigint(client_totals::Column::IncomeMinor), "income")
            .column_as(sum_bigint(client_totals::Column::ExpenseMinor), "expense")
            .group_by(client_totals::Column::Currency)
            .into_tuple()
            .all(conn)
            .await?;
        let banks: Option<i64> = bank_links::Entity::find()
            .select_only()
            .column_as(
                SimpleExpr::from(Func::count_distinct(Expr::col(
                    bank_links::Column::BankCode,
                ))),
                "n",
            )
            .into_tuple()
            .one(conn)
            .await?;
        let balance_rows: Vec<(String, i64)> = accounts::Entity::find()
            .select_only()
            .column(accounts::Column::Currency)
            .column_as(sum_bigint(accounts::Column::BalanceMinor), "total")
            .filter(accounts::Column::BalanceMinor.is_not_null())
            .group_by(accounts::Column::Currency)
            .into_tuple()
            .all(conn)
            .await?;

        let base_totals = totals.iter().find(|t| t.0 == base.as_str());
        let mut balances: Vec<Money> = balance_rows
            .into_iter()
            .map(|(cur, minor)| Money::new(minor, Currency::from_db(cur)))
            .collect();
        balances.sort_by(|a, b| {
            (a.currency != base, a.currency.as_str())
                .cmp(&(b.currency != base, b.currency.as_str()))
        });
        Ok(Stats {
            clients_total: by_status.iter().map(|(_, n)| *n as u64).sum(),
            clients_active: count_of(ClientStatus::Active),
            clients_inactive: count_of(ClientStatus::Inactive),
            transaction_count: totals.iter().map(|t| t.1.max(0) as u64).sum(),
            income: Money::new(base_totals.map_or(0, |t| t.2), base.clone()),
            expense: Money::new(base_totals.map_or(0, |t| t.3), base),
            banks: banks.unwrap_or(0).max(0) as u64,
            balances,
        })
    }
}
