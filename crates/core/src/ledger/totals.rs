//! `client_totals`: per client and currency, how many transactions are stored (pending and
//! booked, not replaced, not reversed) and the booked income and expense. The dashboard reads these counters
//! instead of counting rows.

use std::collections::BTreeMap;

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use crate::domain::Direction;
use crate::entity::client_totals;
use crate::error::CoreResult;

/// Changes to counters, kept in (client, currency) order so that concurrent transactions lock a
/// client's counters in one order.
#[derive(Debug, Default)]
pub(super) struct TotalsDelta(BTreeMap<(i64, String), Counters>);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counters {
    count: i64,
    income: i64,
    expense: i64,
}

impl TotalsDelta {
    /// Adds `count` rows (negative: removes them); booked rows also move `minor` (signed like
    /// `count`) into income or expense.
    pub(super) fn add(
        &mut self,
        client_id: i64,
        currency: &str,
        count: i64,
        money: Option<(Direction, i64)>,
    ) {
        let e = self.0.entry((client_id, currency.to_owned())).or_default();
        e.count += count;
        match money {
            Some((Direction::Credit, minor)) => e.income += minor,
            Some((Direction::Debit, minor)) => e.expense += minor,
            None => {}
        }
    }

    /// Writes the changes (upserts: the first row of a currency creates its counter).
    pub(super) async fn apply<C: ConnectionTrait>(&self, conn: &C) -> CoreResult<()> {
        let col = |c: client_totals::Column| Expr::col((client_totals::Entity, c));
        for ((client_id, currency), c) in &self.0 {
            if *c == Counters::default() {
                continue;
            }
            client_totals::Entity::insert(client_totals::ActiveModel {
                client_id: Set(*client_id),
                currency: Set(currency.clone()),
                tx_count: Set(c.count),
                income_minor: Set(c.income),
                expense_minor: Set(c.expense),
                last_booked_at: Set(None),
            })
            .on_conflict(
                OnConflict::columns([
                    client_totals::Column::ClientId,
                    client_totals::Column::Currency,
                ])
                .value(
                    client_totals::Column::TxCount,
                    col(client_totals::Column::TxCount).add(c.count),
                )
                .value(
                    client_totals::Column::IncomeMinor,
                    col(client_totals::Column::IncomeMinor).add(c.income),
                )
                .value(
                    client_totals::Column::ExpenseMinor,
                    col(client_totals::Column::ExpenseMinor).add(c.expense),
                )
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_net_out_per_client_and_currency() {
        let mut d = TotalsDelta::default();
        d.add(1, "RUB", 1, Some((Direction::Debit, 500)));
        d.add(1, "RUB", -1, Some((Direction::Debit, -500)));
        d.add(1, "RUB", 1, Some((Direction::Credit, 700)));
        d.add(2, "USD", 1, None);
        let rub = d.0.get(&(1, "RUB".to_owned())).copied().unwrap_or_default();
        assert_eq!(
            rub,
            Counters {
                count: 1,
                income: 700,
                expense: 0
            }
        );
        let usd = d.0.get(&(2, "USD".to_owned())).copied().unwrap_or_default();
        assert_eq!(usd.count, 1);
        assert_eq!((usd.income, usd.expense), (0, 0));
    }
}
