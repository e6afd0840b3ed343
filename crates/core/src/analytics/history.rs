//! One client's booked rows of a recent window, for pattern detection (recurring payments,
//! salary). The read is bounded: one direction, one client, one range through the
//! `(client_id, booked_at, id)` index, only the columns the detectors need, and at most
//! [`MAX_HISTORY_ROWS`] rows (the newest; about 55 a day for a year).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::{normalize_for_search, Category, Currency, Direction, TransactionStatus};
use crate::entity::{client_day_totals, transactions};
use crate::error::CoreResult;

/// Upper bound of rows one detection reads.
pub const MAX_HISTORY_ROWS: u64 = 20_000;

/// A booked row as the detectors see it.
#[derive(Clone, Debug)]
pub(crate) struct HistoryRow {
    pub booked_at: DateTime<Utc>,
    pub amount_minor: i64,
    pub currency: Currency,
    pub category: Category,
    /// Who was paid (or paid): the merchant, else the counterparty, else the description.
    pub payee: String,
    /// `payee` normalised (case, `ё`, digits dropped from descriptions) for grouping.
    pub key: String,
    /// The account it was booked on (which bank a salary arrives at).
    pub account_id: i64,
    /// The transaction's id (evidence).
    pub id: i64,
}

/// The grouping key of a payee: merchant and counterparty names as they are (normalised),
/// descriptions without digits, so `Аренда за май 2026` and `Аренда за июнь 2026` differ only by
/// the month name and `Оплата 123` / `Оплата 456` fall together.
pub(crate) fn payee_key(
    merchant: Option<&str>,
    counterparty: Option<&str>,
    description: &str,
) -> (String, String) {
    let named = merchant
        .filter(|m| !m.trim().is_empty())
        .or_else(|| counterparty.filter(|c| !c.trim().is_empty()));
    match named {
        Some(name) => (name.trim().to_owned(), normalize_for_search(name)),
        None => {
            let stripped: String = description
                .chars()
                .filter(|c| !c.is_ascii_digit())
                .collect();
            (
                description.trim().to_owned(),
                normalize_for_search(stripped.trim_matches(|c: char| !c.is_alphanumeric())),
            )
        }
    }
}

/// Booked rows of one direction in `[from, to)`, oldest first.
pub(crate) async fn load<C: sea_orm::ConnectionTrait>(
    conn: &C,
    client_id: i64,
    direction: Direction,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> CoreResult<Vec<HistoryRow>> {
    Ok(load_many(conn, &[client_id], direction, from, to)
        .await?
        .remove(&client_id)
        .unwrap_or_default())
}

/// [`load`] for several clients in one statement per [`MANY_CLIENTS`] of them (each client's
/// rows still capped at [`MAX_HISTORY_ROWS`], the newest), keyed by client.
pub(crate) async fn load_many<C: sea_orm::ConnectionTrait>(
    conn: &C,
    client_ids: &[i64],
    direction: Direction,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> CoreResult<std::collections::HashMap<i64, Vec<HistoryRow>>> {
    use transactions::Column as T;
    type Row = (
        i64,
        DateTime<Utc>,
        i64,
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        i64,
        i64,
    );
    let mut out: std::collections::HashMap<i64, Vec<HistoryRow>> = std::collections::HashMap::new();
    for chunk in client_ids.chunks(MANY_CLIENTS) {
        let mut q = transactions::Entity::find()
            .select_only()
            .columns([
                T::ClientId,
                T::BookedAt,
                T::AmountMinor,
                T::Currency,
                T::Category,
                T::Merchant,
                T::Counterparty,
                T::Description,
                T::AccountId,
                T::Id,
            ])
            .filter(T::BookedAt.gte(from))
            .filter(T::BookedAt.lt(to))
            .filter(T::Direction.eq(direction.as_str()))
            .filter(T::Status.eq(TransactionStatus::Booked.as_str()))
            .filter(T::ReplacedById.is_null())
            // Money moved between the client's own accounts is neither paid nor earned.
            .filter(T::Category.ne(crate::aggregates::OWN_TRANSFER));
        q = match chunk {
            [one] => q.filter(T::ClientId.eq(*one)).limit(MAX_HISTORY_ROWS),
            _ => q.filter(T::ClientId.is_in(chunk.iter().copied())),
        };
        let rows: Vec<Row> = q
            .order_by_asc(T::ClientId)
            .order_by_desc(T::BookedAt)
            .order_by_desc(T::Id)
            .into_tuple()
            .all(conn)
            .await?;
        for (
            client_id,
            booked_at,
            amount_minor,
            currency,
            category,
            merchant,
            counterparty,
            description,
            account_id,
            id,
        ) in rows
        {
            let list = out.entry(client_id).or_default();
            if list.len() as u64 >= MAX_HISTORY_ROWS {
                continue;
            }
            let (payee, key) =
                payee_key(merchant.as_deref(), counterparty.as_deref(), &description);
            list.push(HistoryRow {
                booked_at,
                amount_minor,
                currency: Currency::from_db(currency),
                category: Category::parse(&category)?,
                payee,
                key,
                account_id,
                id,
            });
        }
    }
    for list in out.values_mut() {
        list.reverse();
    }
    Ok(out)
}

/// Clients whose rows one [`load_many`] statement reads (a year of a busy client is a few
/// thousand rows; fifty of them stay a few megabytes).
pub(crate) const MANY_CLIENTS: usize = 50;

/// The observation window of a client: the last 12 months up to `now`, or less when the
/// client's history in `currency` starts later.
#[derive(Clone, Debug)]
pub(crate) struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The first day with a booked row in the window (UTC midnight), if any.
    pub first_booked: Option<DateTime<Utc>>,
    /// Whole days from the first booked day to today; `None` when the data covers the whole
    /// window.
    days: Option<i64>,
}

impl Window {
    /// Months the client's data covers in the window, exactly: 12 when it starts by the
    /// window's start, else whole days × 12 / 365.25, at least 1.
    fn months_exact(&self) -> rust_decimal::Decimal {
        use rust_decimal::Decimal;
        let twelve = Decimal::from(WINDOW_MONTHS);
        match self.days {
            None => twelve,
            Some(days) => (Decimal::from(days) * Decimal::from(48) / Decimal::from(1461))
                .clamp(Decimal::ONE, twelve),
        }
    }

    /// The same months as a plain number, for the rating's history factor (a length of time,
    /// never used to divide money: that is [`Window::per_month`]).
    pub fn months(&self) -> f64 {
        use rust_decimal::prelude::ToPrimitive;
        self.months_exact()
            .to_f64()
            .unwrap_or(f64::from(WINDOW_MONTHS))
    }

    /// A total in minor units per month of the window, rounded to a minor unit and computed
    /// exactly in decimal: months are whole days × 12 / 365.25 (at least 1, at most 12), so
    /// every read on one day (the API's, the assistant's, the rating's) gets the same kopeck.
    pub fn per_month(&self, total_minor: i64) -> CoreResult<i64> {
        use rust_decimal::prelude::ToPrimitive;
        use rust_decimal::Decimal;
        let months = self.months_exact();
        (Decimal::from(total_minor) / months)
            .round()
            .to_i64()
            .ok_or_else(|| {
                crate::error::CoreError::Internal(format!(
                    "average per month of {total_minor} over {months} months"
                ))
            })
    }
}

pub(crate) const WINDOW_MONTHS: u32 = 12;

pub(crate) async fn window<C: sea_orm::ConnectionTrait>(
    conn: &C,
    client_id: i64,
    currency: &Currency,
    now: DateTime<Utc>,
) -> CoreResult<Window> {
    let from = crate::aggregates::months_before(now, WINDOW_MONTHS);
    use client_day_totals::Column as D;
    let first: Option<i32> = client_day_totals::Entity::find()
        .select_only()
        .column(D::Day)
        .filter(D::ClientId.eq(client_id))
        .filter(D::Currency.eq(currency.as_str()))
        .filter(D::Day.gte(crate::domain::day_key(&from)))
        .filter(D::Day.lte(crate::domain::day_key(&now)))
        .order_by_asc(D::Day)
        .limit(1)
        .into_tuple()
        .one(conn)
        .await?;
    let first_booked = first.and_then(|key| {
        chrono::NaiveDate::from_ymd_opt(key / 10_000, (key / 100 % 100) as u32, (key % 100) as u32)
            .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
    });
    // A history that reaches back to the window's start covers the whole window.
    let days = first_booked
        .filter(|first| *first > from)
        .map(|first| (now.date_naive() - first.date_naive()).num_days());
    Ok(Window {
        from,
        to: now,
        first_booked,
        days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(days: Option<i64>) -> Window {
        Window {
            from: Utc::now(),
            to: Utc::now(),
            first_booked: None,
            days,
        }
    }

    #[test]
    fn totals_are_spread_over_months_in_decimal() {
        assert_eq!(window(None).per_month(1_200_000).ok(), Some(100_000));
        // 100.00 over 91 days (2.99 months): 33.45, rounded to the kopeck.
        assert_eq!(window(Some(91)).per_month(10_000).ok(), Some(3_345));
        // Less than a month of data counts as a month.
        assert_eq!(window(Some(0)).per_month(10_000).ok(), Some(10_000));
        // The rating's months are the same months.
        assert!((window(Some(91)).months() - 2.9897).abs() < 1e-4);
        assert_eq!(window(None).months(), 12.0);
        // Beyond what a float holds exactly (2^53 + 1 minor units a month).
        assert_eq!(
            window(None).per_month(12 * 9_007_199_254_740_993).ok(),
            Some(9_007_199_254_740_993)
        );
    }

    #[test]
    fn payees_group_by_name_or_description_without_digits() {
        assert_eq!(payee_key(Some("Яндекс Плюс"), None, "x").1, "яндекс плюс");
        assert_eq!(payee_key(None, Some("ООО Ромашка"), "x").1, "ооо ромашка");
        assert_eq!(
            payee_key(None, None, "Оплата 123").1,
            payee_key(None, None, "Оплата 4567").1
        );
        assert_eq!(payee_key(Some("  "), None, "Аренда №5").1, "аренда");
    }
}
