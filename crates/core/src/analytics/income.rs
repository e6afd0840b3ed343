//! Income: how much comes in, and whether a salary does.
//!
//! A salary is detected when one payer (grouped like recurring payments: counterparty, merchant,
//! or the description without digits), in one currency, pays
//! - in at least 3 calendar months of the last 12,
//! - on about the same day: the month's largest payment from the payer falls within ± 3 days of
//!   the typical day in at least 75% of the months (an advance mid-month is allowed),
//! - a similar amount: the monthly sums are within ± 25% of their median in 75% of the months,
//! - regularly and until now: paid in at least 60% of the months from the first payment to the
//!   last one that is due (this month once its day has passed), and in one of the last two.
//!
//! Refunds and interest are never salary. Among several payers that qualify, one whose payments
//! are categorised `SALARY` wins, then the larger amount. Average monthly income is every booked
//! credit but refunds, in the base currency, over the months the client's data covers.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Utc};

use super::history::{self, HistoryRow, Window, WINDOW_MONTHS};
use super::recurring::{day_distance, days_in_month, median_i64, on_day_months_later};
use crate::aggregates::{category_totals, Scope};
use crate::domain::{Category, Currency, Direction, Money};
use crate::error::CoreResult;
use crate::Core;

/// What a client earns.
#[derive(Clone, Debug, PartialEq)]
pub struct IncomeProfile {
    pub salary_detected: bool,
    /// The payer of the salary, as the bank wrote it.
    pub employer: Option<String>,
    /// The median monthly sum from the employer.
    pub typical_amount: Option<Money>,
    /// The typical day of the month of the (main) payment; 31 means the month's last day.
    pub typical_day: Option<u32>,
    /// `months_paid / months_expected`, 0..=1.
    pub regularity: f64,
    pub months_paid: u32,
    /// Months from the first salary to the last one due.
    pub months_expected: u32,
    pub last_paid_at: Option<DateTime<Utc>>,
    pub next_expected_at: Option<DateTime<Utc>>,
    /// Booked credits except refunds in the base currency, per month of data (up to 12).
    pub monthly_average_income: Money,
    /// Months of data the average is taken over (1 to 12).
    pub months_observed: f64,
}

/// A detected salary.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Salary {
    pub employer: String,
    /// The payer's grouping key (`HistoryRow::key`): which rows are the salary.
    pub key: String,
    pub currency: Currency,
    pub typical_minor: i64,
    pub typical_day: u32,
    pub months_paid: u32,
    pub months_expected: u32,
    pub last_paid_at: DateTime<Utc>,
    pub next_expected_at: DateTime<Utc>,
    pub salary_category: bool,
}

impl Salary {
    pub fn regularity(&self) -> f64 {
        if self.months_expected == 0 {
            0.0
        } else {
            (f64::from(self.months_paid) / f64::from(self.months_expected)).min(1.0)
        }
    }
}

fn month_index(at: &DateTime<Utc>) -> i32 {
    at.year() * 12 + at.month0() as i32
}

/// Finds the salary among a client's credits (oldest first).
pub(crate) fn detect_salary(rows: &[HistoryRow], now: DateTime<Utc>) -> Option<Salary> {
    let mut groups: HashMap<(&str, &Currency), Vec<&HistoryRow>> = HashMap::new();
    for r in rows
        .iter()
        .filter(|r| !r.key.is_empty())
        .filter(|r| !matches!(r.category, Category::Refunds | Category::Interest))
    {
        groups.entry((&r.key, &r.currency)).or_default().push(r);
    }
    let mut best: Option<Salary> = None;
    for ((_, currency), rows) in groups {
        // Per month: the sum, and the largest payment (its moment decides the day).
        let mut months: BTreeMap<i32, (i64, &HistoryRow)> = BTreeMap::new();
        for r in &rows {
            let e = months.entry(month_index(&r.booked_at)).or_insert((0, r));
            e.0 += r.amount_minor;
            if r.amount_minor > e.1.amount_minor {
                e.1 = r;
            }
        }
        if months.len() < 3 {
            continue;
        }
        let mains: Vec<&HistoryRow> = months.values().map(|m| m.1).collect();
        let month_ends = mains
            .iter()
            .filter(|r| r.booked_at.day() == days_in_month(r.booked_at.year(), r.booked_at.month()))
            .count();
        let typical_day = if month_ends as f64 >= 0.75 * mains.len() as f64 {
            31
        } else {
            median_i64(
                &mains
                    .iter()
                    .map(|r| i64::from(r.booked_at.day()))
                    .collect::<Vec<_>>(),
            ) as u32
        };
        let on_day = mains
            .iter()
            .filter(|r| day_distance(&r.booked_at, typical_day) <= 3)
            .count();
        if (on_day as f64) < 0.75 * mains.len() as f64 {
            continue;
        }
        let sums: Vec<i64> = months.values().map(|m| m.0).collect();
        if !super::recurring::similar_amounts(&sums, 0.25) {
            continue;
        }
        // The last month whose payment is due: this one once its day (+3) has passed.
        let due_day = typical_day.min(days_in_month(now.year(), now.month())) + 3;
        let due_month = if now.day() > due_day {
            month_index(&now)
        } else {
            month_index(&now) - 1
        };
        let (Some(first), Some(last)) = (months.keys().next(), months.keys().next_back()) else {
            continue;
        };
        let (first, last) = (*first, *last);
        if last < due_month - 1 {
            continue; // stopped
        }
        let expected = (due_month.max(last) - first + 1).max(1) as u32;
        let paid = months.len() as u32;
        let salary_category = rows
            .iter()
            .filter(|r| r.category == Category::Salary)
            .count()
            * 2
            >= rows.len();
        let Some(last_main) = mains.last() else {
            continue;
        };
        let candidate = Salary {
            employer: last_main.payee.clone(),
            key: last_main.key.clone(),
            currency: currency.clone(),
            typical_minor: median_i64(&sums),
            typical_day,
            months_paid: paid,
            months_expected: expected,
            last_paid_at: last_main.booked_at,
            next_expected_at: on_day_months_later(last_main.booked_at, 1, typical_day),
            salary_category,
        };
        if candidate.regularity() < 0.6 {
            continue;
        }
        let better = match &best {
            None => true,
            Some(b) => {
                (candidate.salary_category, candidate.typical_minor)
                    > (b.salary_category, b.typical_minor)
            }
        };
        if better {
            best = Some(candidate);
        }
    }
    best
}

/// Booked credits except refunds in `currency` over the window, per month of data.
pub(crate) async fn monthly_income<C: sea_orm::ConnectionTrait>(
    conn: &C,
    client_id: i64,
    currency: &Currency,
    window: &Window,
) -> CoreResult<i64> {
    let total: i64 = category_totals(
        conn,
        Scope::Client(client_id),
        currency,
        Some(Direction::Credit),
        window.from,
        window.to,
    )
    .await?
    .iter()
    .filter(|c| c.category != Category::Refunds)
    .map(|c| c.amount_minor)
    .sum();
    window.per_month(total)
}

impl Core {
    /// The client's income over the last 12 months: the salary (if one is detected) and the
    /// average monthly income in the base currency. Reads the window's credits once (bounded,
    /// indexed: see `analytics::history`) and the aggregates.
    pub async fn income_profile(
        &self,
        client_id: i64,
        now: DateTime<Utc>,
    ) -> CoreResult<IncomeProfile> {
        self.client(client_id).await?;
        let base = self.settings.base_currency.clone();
        let conn = self.db.conn();
        let window = history::window(conn, client_id, &base, now).await?;
        let from = crate::aggregates::months_before(now, WINDOW_MONTHS);
        let credits = history::load(conn, client_id, Direction::Credit, from, now).await?;
        let salary = detect_salary(&credits, now);
        let average = monthly_income(conn, client_id, &base, &window).await?;
        Ok(profile(salary, Money::new(average, base), window.months()))
    }
}

pub(crate) fn profile(salary: Option<Salary>, average: Money, months: f64) -> IncomeProfile {
    match salary {
        Some(s) => IncomeProfile {
            salary_detected: true,
            regularity: s.regularity(),
            employer: Some(s.employer),
            typical_amount: Some(Money::new(s.typical_minor, s.currency)),
            typical_day: Some(s.typical_day),
            months_paid: s.months_paid,
            months_expected: s.months_expected,
            last_paid_at: Some(s.last_paid_at),
            next_expected_at: Some(s.next_expected_at),
            monthly_average_income: average,
            months_observed: months,
        },
        None => IncomeProfile {
            salary_detected: false,
            employer: None,
            typical_amount: None,
            typical_day: None,
            regularity: 0.0,
            months_paid: 0,
            months_expected: 0,
            last_paid_at: None,
            next_expected_at: None,
            monthly_average_income: average,
            months_observed: months,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 9, 0, 0)
            .single()
            .expect("date")
    }

    fn credit(at: DateTime<Utc>, minor: i64, payer: &str, category: Category) -> HistoryRow {
        HistoryRow {
            booked_at: at,
            amount_minor: minor,
            currency: Currency::rub(),
            category,
            payee: payer.to_owned(),
            key: payer.to_lowercase(),
            account_id: 1,
            id: 1,
        }
    }

    #[test]
    fn monthly_salary_with_an_advance_is_detected() {
        let mut rows = Vec::new();
        for m in 1..=10 {
            // Advance on the 20th, salary on the 5th (± a day or two).
            rows.push(credit(
                at(2026, m, 5 + m % 2),
                6_000_000,
                "ООО Ромашка",
                Category::Salary,
            ));
            rows.push(credit(
                at(2026, m, 20),
                2_000_000,
                "ООО Ромашка",
                Category::Salary,
            ));
            // Noise from a friend.
            rows.push(credit(
                at(2026, m, 1 + (m * 7) % 27),
                100_000 * i64::from(m),
                "Иван",
                Category::TransfersIn,
            ));
        }
        rows.sort_by_key(|r| r.booked_at);
        let s = detect_salary(&rows, at(2026, 10, 25)).expect("salary");
        assert_eq!(s.employer, "ООО Ромашка");
        assert_eq!(s.typical_minor, 8_000_000);
        assert!((5..=6).contains(&s.typical_day));
        assert_eq!((s.months_paid, s.months_expected), (10, 10));
        assert_eq!(s.next_expected_at.month(), 11);
    }

    #[test]
    fn irregular_or_stopped_income_is_no_salary() {
        let rows: Vec<HistoryRow> = [1, 4, 9]
            .iter()
            .map(|m| {
                credit(
                    at(2026, *m, 10),
                    5_000_000,
                    "Заказчик",
                    Category::OtherIncome,
                )
            })
            .collect();
        assert!(detect_salary(&rows, at(2026, 10, 25)).is_none());
        let rows: Vec<HistoryRow> = (1..=5)
            .map(|m| credit(at(2026, m, 10), 5_000_000, "Работа", Category::Salary))
            .collect();
        assert!(
            detect_salary(&rows, at(2026, 10, 25)).is_none(),
            "stopped in May"
        );
        assert!(detect_salary(&rows, at(2026, 6, 1)).is_some());
        let refunds: Vec<HistoryRow> = (1..=5)
            .map(|m| credit(at(2026, m, 10), 5_000_000, "Магазин", Category::Refunds))
            .collect();
        assert!(detect_salary(&refunds, at(2026, 6, 1)).is_none());
    }
}
