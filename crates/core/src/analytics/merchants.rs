//! Where a client's money goes: merchants (or, for transfers, counterparties) by amount.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use crate::aggregates::{category_totals, Scope, Sql};
use crate::domain::{Currency, Direction, Money};
use crate::error::{CoreError, CoreResult};
use crate::Core;

/// Spending at one merchant in a range.
#[derive(Clone, Debug, PartialEq)]
pub struct MerchantSpend {
    /// The merchant's name, or the counterparty of a transfer, as the bank wrote it.
    pub merchant: String,
    pub amount: Money,
    pub count: u64,
    /// Part of the client's total spending in the range (all rows, named or not), 0..=1.
    pub share: f64,
}

/// The largest `limit` one request may ask for.
pub const MAX_TOP_MERCHANTS: u32 = 100;

impl Core {
    /// The merchants (or transfer counterparties) the client spent most with in `[from, to)`,
    /// in one currency, largest first. Rows without a merchant or counterparty are part of the
    /// total the shares are taken of, but are not listed; nor is the client itself (money the
    /// client sent to an account of its own that no link shows). Computed in the database: one grouped
    /// read of the range's debit rows through the `(client_id, booked_at)` index.
    pub async fn top_merchants(
        &self,
        client_id: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        currency: &Currency,
        limit: u32,
    ) -> CoreResult<Vec<MerchantSpend>> {
        self.merchant_ranking(client_id, (from, to), currency, limit, true)
            .await
    }

    /// Like [`Core::top_merchants`], but only rows with a merchant are named: a transfer's
    /// counterparty (often a person) is never listed. What the assistant sends to an external
    /// model unless it may send personal data. Shares are of the same total.
    pub async fn top_merchants_without_counterparties(
        &self,
        client_id: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        currency: &Currency,
        limit: u32,
    ) -> CoreResult<Vec<MerchantSpend>> {
        self.merchant_ranking(client_id, (from, to), currency, limit, false)
            .await
    }

    async fn merchant_ranking(
        &self,
        client_id: i64,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        currency: &Currency,
        limit: u32,
        counterparties: bool,
    ) -> CoreResult<Vec<MerchantSpend>> {
        if from >= to {
            return Err(CoreError::invalid("`from` must be before `to`"));
        }
        let (from, to) = (
            crate::domain::clamp_to_stored_years(from),
            crate::domain::clamp_to_stored_years(to),
        );
        if limit == 0 || limit > MAX_TOP_MERCHANTS {
            return Err(CoreError::invalid(format!(
                "the number of merchants must be between 1 and {MAX_TOP_MERCHANTS}"
            )));
        }
        let conn = self.db.conn();
        let total: i64 = category_totals(
            conn,
            Scope::Client(client_id),
            currency,
            Some(Direction::Debit),
            from,
            to,
        )
        .await?
        .iter()
        .map(|c| c.amount_minor)
        .sum();
        let mut sql = Sql::new(conn.get_database_backend());
        // Parameters in the order they appear (SQLite binds `?` by position).
        let (c, cur, a, b, me, n) = (
            sql.param(client_id),
            sql.param(currency.as_str()),
            sql.param(from),
            sql.param(to),
            sql.param(client_id),
            sql.param(i64::from(limit)),
        );
        let name = if counterparties {
            "COALESCE(NULLIF(TRIM(merchant), ''), NULLIF(TRIM(counterparty), ''))"
        } else {
            "NULLIF(TRIM(merchant), '')"
        };
        sql.text = format!(
            "SELECT name, CAST(SUM(amount_minor) AS BIGINT) AS amount, COUNT(*) AS n FROM ( \
               SELECT {name} AS name, \
                      amount_minor FROM transactions \
               WHERE client_id = {c} AND currency = {cur} AND direction = 'DEBIT' \
                 AND status = 'BOOKED' AND replaced_by_id IS NULL AND category <> 'OWN_TRANSFER' \
                 AND booked_at >= {a} AND booked_at < {b}) named \
             WHERE name IS NOT NULL \
               AND name <> COALESCE((SELECT display_name FROM clients WHERE id = {me}), '') \
             GROUP BY name ORDER BY amount DESC, name LIMIT {n}"
        );
        let rows = conn.query_all(sql.statement()).await?;
        rows.into_iter()
            .map(|r| {
                let merchant: String = r.try_get_by_index(0)?;
                let minor: i64 = r.try_get_by_index(1)?;
                let count: i64 = r.try_get_by_index(2)?;
                Ok(MerchantSpend {
                    merchant,
                    amount: Money::new(minor, currency.clone()),
                    count: count.max(0) as u64,
                    share: if total > 0 {
                        minor as f64 / total as f64
                    } else {
                        0.0
                    },
                })
            })
            .collect()
    }
}
