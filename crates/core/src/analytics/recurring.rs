//! Recurring payments: subscriptions, rent, loan instalments, utilities.
//!
//! A payment recurs when the same payee (merchant, else counterparty, else the description
//! without digits; see `history::payee_key`) in the same currency is paid at least three times
//! over the last 12 months with
//! - a regular interval: the median gap between payments is about a week (7 ± 1.5 days), two
//!   weeks (14 ± 2), a month (26–35 days, and the day of the month within ± 3 days of the typical
//!   one) or a quarter (80–100 days), and at least 75% of the gaps fit it;
//! - a similar amount: at least 75% of the payments within ± 20% of the median;
//! - still going: the next payment is not more than a grace period overdue (3, 5, 10, 20 days).
//!
//! Payments on the same day to the same payee count as one. The next expected date keeps the
//! typical day of the month (a subscription paid on the 5th is next expected on the 5th of the
//! next month, or the month's last day when it is shorter).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};

use super::history::{self, HistoryRow, WINDOW_MONTHS};
use crate::domain::{Category, Currency, Direction, Money};
use crate::error::CoreResult;
use crate::Core;

/// How often a recurring payment comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Interval {
    Weekly,
    Biweekly,
    Monthly,
    Quarterly,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Weekly => "WEEKLY",
            Interval::Biweekly => "BIWEEKLY",
            Interval::Monthly => "MONTHLY",
            Interval::Quarterly => "QUARTERLY",
        }
    }

    /// The nominal gap in days.
    pub fn days(self) -> f64 {
        match self {
            Interval::Weekly => 7.0,
            Interval::Biweekly => 14.0,
            Interval::Monthly => 365.25 / 12.0,
            Interval::Quarterly => 365.25 / 4.0,
        }
    }

    /// Payments per month on average.
    pub fn per_month(self) -> f64 {
        match self {
            Interval::Weekly => 52.0 / 12.0,
            Interval::Biweekly => 26.0 / 12.0,
            Interval::Monthly => 1.0,
            Interval::Quarterly => 1.0 / 3.0,
        }
    }

    fn grace_days(self) -> i64 {
        match self {
            Interval::Weekly => 3,
            Interval::Biweekly => 5,
            Interval::Monthly => 10,
            Interval::Quarterly => 20,
        }
    }

    fn classify(median_gap: f64) -> Option<Interval> {
        match median_gap {
            g if (5.5..=8.5).contains(&g) => Some(Interval::Weekly),
            g if (12.0..=16.5).contains(&g) => Some(Interval::Biweekly),
            g if (26.0..=35.0).contains(&g) => Some(Interval::Monthly),
            g if (80.0..=100.0).contains(&g) => Some(Interval::Quarterly),
            _ => None,
        }
    }

    fn fits(self, gap: f64) -> bool {
        match self {
            Interval::Weekly => (gap - 7.0).abs() <= 1.5,
            Interval::Biweekly => (gap - 14.0).abs() <= 2.0,
            Interval::Monthly => (24.0..=38.0).contains(&gap),
            Interval::Quarterly => (80.0..=100.0).contains(&gap),
        }
    }
}

/// A payment that comes regularly.
#[derive(Clone, Debug, PartialEq)]
pub struct RecurringPayment {
    /// The normalised payee the payments were grouped by.
    pub key: String,
    /// The payee as the bank wrote it (latest payment).
    pub merchant: String,
    /// The most frequent category of the payments.
    pub category: Category,
    /// The median payment.
    pub typical_amount: Money,
    /// The typical amount per month (a weekly payment × 52 / 12).
    pub monthly_amount: Money,
    pub interval: Interval,
    /// The median gap between payments, in days.
    pub interval_days: f64,
    /// For monthly and quarterly payments: the typical day of the month.
    pub day_of_month: Option<u32>,
    pub occurrences: u32,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub next_expected_at: DateTime<Utc>,
}

fn median_f64(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

pub(crate) fn median_i64(values: &[i64]) -> i64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len();
    if n == 0 {
        0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}

pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    chrono::NaiveDate::from_ymd_opt(ny, nm, 1)
        .and_then(|d| d.pred_opt())
        .map_or(30, |d| d.day())
}

/// How far a payment's day of the month is from the typical day, across month ends (the 31st
/// and the 1st of the next month are one day apart).
pub(crate) fn day_distance(at: &DateTime<Utc>, typical: u32) -> u32 {
    let len = days_in_month(at.year(), at.month());
    let t = typical.min(len);
    let d = at.day();
    let direct = d.abs_diff(t);
    direct.min(len - direct)
}

/// The same time `months` calendar months after `at`'s month, on day `day` (or the month's
/// last day).
pub(crate) fn on_day_months_later(at: DateTime<Utc>, months: u32, day: u32) -> DateTime<Utc> {
    let total = at.year() * 12 + at.month0() as i32 + months as i32;
    let (year, month) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
    let day = day.clamp(1, days_in_month(year, month));
    Utc.with_ymd_and_hms(year, month, day, at.hour(), at.minute(), at.second())
        .single()
        .unwrap_or(at + Duration::days(30 * i64::from(months)))
}

/// One payment (same-day payments to a payee merged).
#[derive(Clone, Debug)]
struct Event {
    at: DateTime<Utc>,
    minor: i64,
}

fn events(rows: &[&HistoryRow]) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    for r in rows {
        match out.last_mut() {
            Some(e) if e.at.date_naive() == r.booked_at.date_naive() => e.minor += r.amount_minor,
            _ => out.push(Event {
                at: r.booked_at,
                minor: r.amount_minor,
            }),
        }
    }
    out
}

/// The regular pattern of payments, if they have one: (interval, median gap, typical day).
fn pattern(events: &[Event]) -> Option<(Interval, f64, Option<u32>)> {
    if events.len() < 3 {
        return None;
    }
    let gaps: Vec<f64> = events
        .windows(2)
        .map(|w| (w[1].at - w[0].at).num_seconds() as f64 / 86_400.0)
        .collect();
    let median_gap = median_f64(&mut gaps.clone());
    let interval = Interval::classify(median_gap)?;
    let fitting = gaps.iter().filter(|g| interval.fits(**g)).count();
    if (fitting as f64) < 0.75 * gaps.len() as f64 {
        return None;
    }
    let day = match interval {
        Interval::Monthly | Interval::Quarterly => {
            let days: Vec<i64> = events.iter().map(|e| i64::from(e.at.day())).collect();
            let month_ends = events
                .iter()
                .filter(|e| e.at.day() == days_in_month(e.at.year(), e.at.month()))
                .count();
            // Paid on the last day of each month: the 31st, clamped to shorter months.
            let typical = if month_ends as f64 >= 0.75 * events.len() as f64 {
                31
            } else {
                median_i64(&days) as u32
            };
            let on_day = events
                .iter()
                .filter(|e| day_distance(&e.at, typical) <= 3)
                .count();
            if (on_day as f64) < 0.75 * events.len() as f64 {
                return None;
            }
            Some(typical)
        }
        _ => None,
    };
    Some((interval, median_gap, day))
}

/// Whether the amounts are alike: 75% within ± `tolerance` of the median.
pub(crate) fn similar_amounts(amounts: &[i64], tolerance: f64) -> bool {
    let median = median_i64(amounts);
    if median <= 0 {
        return false;
    }
    let close = amounts
        .iter()
        .filter(|a| ((**a - median).abs() as f64) <= tolerance * median as f64)
        .count();
    close as f64 >= 0.75 * amounts.len() as f64
}

/// The date a payment of this pattern follows one made at `last`.
pub(crate) fn next_after(
    last: DateTime<Utc>,
    interval: Interval,
    day: Option<u32>,
) -> DateTime<Utc> {
    match (interval, day) {
        (Interval::Monthly, Some(d)) => on_day_months_later(last, 1, d),
        (Interval::Quarterly, Some(d)) => on_day_months_later(last, 3, d),
        (Interval::Weekly, _) => last + Duration::days(7),
        (Interval::Biweekly, _) => last + Duration::days(14),
        (i, None) => last + Duration::seconds((i.days() * 86_400.0) as i64),
    }
}

/// Finds the recurring payments among a client's debits (oldest first), largest per month
/// first.
pub(crate) fn detect(rows: &[HistoryRow], now: DateTime<Utc>) -> Vec<RecurringPayment> {
    let mut groups: HashMap<(&str, &Currency), Vec<&HistoryRow>> = HashMap::new();
    for r in rows.iter().filter(|r| !r.key.is_empty()) {
        groups.entry((&r.key, &r.currency)).or_default().push(r);
    }
    let mut found = Vec::new();
    for ((key, currency), rows) in groups {
        let events = events(&rows);
        let Some((interval, gap, day)) = pattern(&events) else {
            continue;
        };
        let amounts: Vec<i64> = events.iter().map(|e| e.minor).collect();
        if !similar_amounts(&amounts, 0.20) {
            continue;
        }
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            continue;
        };
        let next = next_after(last.at, interval, day);
        if now > next + Duration::days(interval.grace_days()) {
            continue; // lapsed: cancelled or moved elsewhere
        }
        let mut by_category: HashMap<Category, usize> = HashMap::new();
        for r in &rows {
            *by_category.entry(r.category).or_default() += 1;
        }
        let category = by_category
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map_or(Category::OtherExpense, |(c, _)| c);
        let typical = median_i64(&amounts);
        let monthly = (typical as f64 * interval.per_month()).round() as i64;
        found.push(RecurringPayment {
            key: key.to_owned(),
            merchant: rows.last().map(|r| r.payee.clone()).unwrap_or_default(),
            category,
            typical_amount: Money::new(typical, currency.clone()),
            monthly_amount: Money::new(monthly, currency.clone()),
            interval,
            interval_days: (gap * 10.0).round() / 10.0,
            day_of_month: day,
            occurrences: events.len() as u32,
            first_at: first.at,
            last_at: last.at,
            next_expected_at: next,
        });
    }
    found.sort_by(|a, b| {
        b.monthly_amount
            .minor
            .cmp(&a.monthly_amount.minor)
            .then(a.key.cmp(&b.key))
    });
    found
}

impl Core {
    /// The client's recurring payments (subscriptions, rent, loans, …) over the last 12 months,
    /// with the next expected date, largest per month first. Reads the client's debits of the
    /// window once (bounded, indexed: see `analytics::history`).
    pub async fn recurring_payments(
        &self,
        client_id: i64,
        now: DateTime<Utc>,
    ) -> CoreResult<Vec<RecurringPayment>> {
        self.client(client_id).await?;
        let from = crate::aggregates::months_before(now, WINDOW_MONTHS);
        let rows = history::load(self.db.conn(), client_id, Direction::Debit, from, now).await?;
        Ok(detect(&rows, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 10, 0, 0)
            .single()
            .expect("date")
    }

    fn row(at: DateTime<Utc>, minor: i64, key: &str) -> HistoryRow {
        HistoryRow {
            booked_at: at,
            amount_minor: minor,
            currency: Currency::rub(),
            category: Category::Subscriptions,
            payee: key.to_owned(),
            key: key.to_owned(),
            account_id: 1,
            id: 1,
        }
    }

    #[test]
    fn monthly_subscription_on_the_fifth() {
        let rows: Vec<HistoryRow> = (1..=6)
            .map(|m| row(at(2026, m, 5), 29_900, "плюс"))
            .collect();
        let found = detect(&rows, at(2026, 6, 20));
        assert_eq!(found.len(), 1);
        let p = &found[0];
        assert_eq!(p.interval, Interval::Monthly);
        assert_eq!(p.day_of_month, Some(5));
        assert_eq!(p.next_expected_at, at(2026, 7, 5));
        assert_eq!(p.occurrences, 6);
        assert_eq!(p.typical_amount.minor, 29_900);
        // Lapsed after the grace period.
        assert!(detect(&rows, at(2026, 7, 20)).is_empty());
    }

    #[test]
    fn month_ends_and_weekly_payments() {
        // Paid on the 31st or the last day of shorter months.
        let days = [
            at(2026, 1, 31),
            at(2026, 2, 28),
            at(2026, 3, 31),
            at(2026, 4, 30),
        ];
        let rows: Vec<HistoryRow> = days.iter().map(|d| row(*d, 10_000, "rent")).collect();
        let p = &detect(&rows, at(2026, 5, 2))[0];
        assert_eq!(p.interval, Interval::Monthly);
        assert_eq!(p.next_expected_at, at(2026, 5, 31));

        let rows: Vec<HistoryRow> = (0..8)
            .map(|w| row(at(2026, 3, 2) + Duration::days(7 * w), 50_000, "fitness"))
            .collect();
        let p = &detect(&rows, at(2026, 4, 25))[0];
        assert_eq!(p.interval, Interval::Weekly);
        assert_eq!(
            p.monthly_amount.minor,
            (50_000.0 * 52.0 / 12.0_f64).round() as i64
        );
    }

    #[test]
    fn noise_is_not_recurring() {
        // Groceries on irregular days with varying amounts.
        let gaps = [1, 3, 2, 6, 1, 4, 9, 2, 5, 3];
        let amounts = [
            45_000, 120_000, 8_900, 230_000, 67_000, 15_000, 99_000, 31_000,
        ];
        let mut d = at(2026, 1, 3);
        let mut rows = Vec::new();
        for (i, g) in gaps.iter().enumerate() {
            d += Duration::days(*g);
            rows.push(row(d, amounts[i % amounts.len()], "магазин"));
        }
        assert!(detect(&rows, d).is_empty());
        // Regular dates but wildly different amounts.
        let rows: Vec<HistoryRow> = (1..=5)
            .map(|m| row(at(2026, m, 10), 10_000 * i64::from(m * m), "x"))
            .collect();
        assert!(detect(&rows, at(2026, 5, 20)).is_empty());
        // Two payments are not a pattern.
        let rows = vec![row(at(2026, 1, 5), 100, "y"), row(at(2026, 2, 5), 100, "y")];
        assert!(detect(&rows, at(2026, 2, 10)).is_empty());
    }

    #[test]
    fn day_distance_wraps_month_ends() {
        assert_eq!(day_distance(&at(2026, 3, 1), 31), 1);
        assert_eq!(day_distance(&at(2026, 2, 28), 31), 0);
        assert_eq!(day_distance(&at(2026, 3, 8), 5), 3);
    }
}
