//! The balance forecast (`Client.forecast`): daily balances per currency and the expected items
//! with the detected patterns they come from.

use async_graphql::{Enum, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use crm_core::forecast as core_forecast;

use super::analytics::PaymentInterval;
use super::objects::MoneyObject;

/// Where an expected item comes from.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum ForecastItemKind {
    /// The detected salary (see `Client.income`).
    Salary,
    /// A detected recurring payment (see `Client.recurringPayments`).
    Recurring,
    /// A loan's instalment, from the repayments its stored account received.
    Agreement,
}

impl From<core_forecast::ItemKind> for ForecastItemKind {
    fn from(k: core_forecast::ItemKind) -> Self {
        match k {
            core_forecast::ItemKind::Salary => ForecastItemKind::Salary,
            core_forecast::ItemKind::Recurring => ForecastItemKind::Recurring,
            core_forecast::ItemKind::Agreement => ForecastItemKind::Agreement,
        }
    }
}

/// The balance at one moment of the forecast.
#[derive(SimpleObject, Clone, Debug)]
pub struct ForecastPoint {
    pub date: NaiveDate,
    pub at: DateTime<Utc>,
    pub balance: MoneyObject,
}

impl From<&core_forecast::Point> for ForecastPoint {
    fn from(p: &core_forecast::Point) -> Self {
        ForecastPoint {
            date: p.date,
            at: p.at,
            balance: MoneyObject::from(&p.balance),
        }
    }
}

/// One currency's projected balances.
#[derive(SimpleObject, Clone, Debug)]
pub struct CurrencyForecast {
    /// ISO 4217 code.
    pub currency: String,
    /// The client's money now (open accounts that are not debts).
    pub start: MoneyObject,
    /// The balance at the end of the horizon.
    pub end: ForecastPoint,
    /// The lowest balance of the horizon (the earliest of equal ones).
    pub lowest: ForecastPoint,
    /// What the detected patterns do not explain (everyday spending, transfers, interest): the
    /// net flow over the lookback less the patterns' monthly amounts, per day.
    pub everyday_per_day: MoneyObject,
    /// The days the everyday flow was measured over (at most 90).
    pub lookback_days: i64,
    /// Now, then every 24 hours to the end: `days + 1` points.
    pub points: Vec<ForecastPoint>,
}

/// The detected pattern an expected item comes from.
#[derive(SimpleObject, Clone, Debug)]
pub struct ForecastEvidence {
    /// The payer, payee or agreement as the bank wrote it.
    pub label: String,
    /// `RECURRING`: the payee key of `Client.recurringPayments`.
    pub payee_key: Option<String>,
    /// `AGREEMENT`: the agreement (`Client.agreements`).
    pub agreement_id: Option<ID>,
    pub interval: PaymentInterval,
    /// Monthly and quarterly patterns: the typical day of the month (31: the last day).
    pub day_of_month: Option<u32>,
    /// One occurrence, signed (income positive).
    pub typical_amount: MoneyObject,
    /// Per month, signed.
    pub monthly_amount: MoneyObject,
    /// Occurrences seen (a salary: months paid).
    pub occurrences: u32,
    pub last_seen_at: DateTime<Utc>,
    pub next_expected_at: DateTime<Utc>,
}

/// An income or payment the forecast expects.
#[derive(SimpleObject, Clone, Debug)]
pub struct ForecastItem {
    pub date: NaiveDate,
    /// When it is expected (one overdue by a few days: the next day).
    pub expected_at: DateTime<Utc>,
    /// Signed: income positive, payments negative.
    pub amount: MoneyObject,
    pub kind: ForecastItemKind,
    pub label: String,
    pub evidence: ForecastEvidence,
}

/// The projected balances of a client's money and what moves them.
#[derive(SimpleObject, Clone, Debug)]
pub struct Forecast {
    pub days: u32,
    /// The moment the forecast starts from.
    pub from: DateTime<Utc>,
    /// RUB first, then alphabetically.
    pub currencies: Vec<CurrencyForecast>,
    /// Soonest first.
    pub items: Vec<ForecastItem>,
}

impl From<core_forecast::Forecast> for Forecast {
    fn from(f: core_forecast::Forecast) -> Self {
        Forecast {
            days: f.days,
            from: f.now,
            currencies: f
                .currencies
                .iter()
                .map(|c| CurrencyForecast {
                    currency: c.currency.to_string(),
                    start: MoneyObject::from(&c.start),
                    end: ForecastPoint::from(&c.end),
                    lowest: ForecastPoint::from(&c.lowest),
                    everyday_per_day: MoneyObject::from(&c.everyday_per_day()),
                    lookback_days: c.lookback_days,
                    points: c.points.iter().map(ForecastPoint::from).collect(),
                })
                .collect(),
            items: f
                .items
                .into_iter()
                .map(|i| {
                    let e = &i.evidence;
                    ForecastItem {
                        date: i.at.date_naive(),
                        expected_at: i.at,
                        amount: MoneyObject::from(&i.amount),
                        kind: i.kind.into(),
                        evidence: ForecastEvidence {
                            label: e.label.clone(),
                            payee_key: (!e.key.is_empty()).then(|| e.key.clone()),
                            agreement_id: e.agreement_id.map(|id| ID(id.to_string())),
                            interval: e.interval.into(),
                            day_of_month: e.day_of_month,
                            typical_amount: MoneyObject::from(&e.amount),
                            monthly_amount: MoneyObject::from(&e.monthly),
                            occurrences: e.occurrences,
                            last_seen_at: e.last_at,
                            next_expected_at: e.next_expected_at,
                        },
                        label: i.label,
                    }
                })
                .collect(),
        }
    }
}
