//! The balance forecast: the client's money per currency, day by day, over the next 30, 60 or 90
//! days.
//!
//! What it starts from: the client's money at `now` — the balances of open accounts that are not
//! debts (`Account::asset`, the one definition in `accounts`), less whatever those accounts
//! booked after `now` (so a forecast "as of" a past moment starts from the money then).
//!
//! What it adds, each on its expected date:
//! - `SALARY`: the detected salary (`analytics::income`): its median monthly sum on its typical
//!   day, from its next expected date on;
//! - `RECURRING`: each detected recurring payment (`analytics::recurring`), its median amount
//!   every interval from its next expected date on;
//! - `AGREEMENT`: the instalments of an active loan agreement whose account is stored, as the
//!   repayments credited to that account show them (the same recurring detector over that
//!   account's credits); a loan at a bank we do not link has no stored schedule and no account,
//!   so its instalment is counted only if it shows as a recurring payment. A recurring payment
//!   that is the same instalment (same currency, amount within 2 %, day within 3) is dropped in
//!   favour of the agreement. Deposits add nothing (their payout date is in the agreement, the
//!   amount at maturity is not stored).
//!
//! An occurrence overdue by at most [`LATE_DAYS`] is expected the next day; older ones are
//! skipped. Everything the patterns do not explain — groceries, cash, transfers to people, card
//! repayments, interest — is the **everyday** flow: the net flow on the client's money accounts
//! over the last [`LOOKBACK_DAYS`] (less when the history is shorter), minus what the detected
//! patterns account for in that time (their monthly amounts), spread evenly over the days.
//! All amounts are integers of minor units; the spread is rounded per point.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, Func};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::accounts::Account;
use crate::analytics::history::{self, HistoryRow, WINDOW_MONTHS};
use crate::analytics::income::{detect_salary, Salary};
use crate::analytics::recurring::{self, day_distance, next_after, Interval, RecurringPayment};
use crate::domain::{
    AgreementKind, AgreementStatus, Category, Currency, Direction, Money, TransactionStatus,
};
use crate::entity::transactions;
use crate::error::{CoreError, CoreResult};
use crate::holdings::ProductAgreement;
use crate::Core;

/// The horizons a forecast may cover, in days.
pub const HORIZONS: [u32; 3] = [30, 60, 90];
/// How far back the everyday flow is measured.
pub const LOOKBACK_DAYS: i64 = 90;
/// An expected item overdue by at most this many days is still expected (the next day).
pub const LATE_DAYS: i64 = 7;

/// Where an expected item comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemKind {
    Salary,
    Recurring,
    Agreement,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Salary => "SALARY",
            ItemKind::Recurring => "RECURRING",
            ItemKind::Agreement => "AGREEMENT",
        }
    }
}

/// A detected pattern a forecast extends into the future: the evidence of its items.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    pub kind: ItemKind,
    /// The payer, payee or agreement as the bank wrote it.
    pub label: String,
    /// The detector's grouping key (`RECURRING`: the payee key); empty otherwise.
    pub key: String,
    /// The typical amount of one occurrence, signed: income positive, payments negative.
    pub amount: Money,
    /// The typical amount per month, signed.
    pub monthly: Money,
    pub interval: Interval,
    /// For monthly and quarterly patterns: the typical day of the month (31: the last day).
    pub day_of_month: Option<u32>,
    /// Occurrences seen (`SALARY`: months paid).
    pub occurrences: u32,
    pub last_at: DateTime<Utc>,
    pub next_expected_at: DateTime<Utc>,
    /// `AGREEMENT`: the stored agreement.
    pub agreement_id: Option<i64>,
    /// No occurrence after this moment (a loan's end).
    pub ends_at: Option<DateTime<Utc>>,
}

impl Pattern {
    /// A recurring payment: a debit of its typical amount.
    pub fn recurring(p: &RecurringPayment) -> Pattern {
        Pattern {
            kind: ItemKind::Recurring,
            label: p.merchant.clone(),
            key: p.key.clone(),
            amount: negated(&p.typical_amount),
            monthly: negated(&p.monthly_amount),
            interval: p.interval,
            day_of_month: p.day_of_month,
            occurrences: p.occurrences,
            last_at: p.last_at,
            next_expected_at: p.next_expected_at,
            agreement_id: None,
            ends_at: None,
        }
    }

    /// The salary: a credit of its monthly sum on its typical day.
    pub(crate) fn salary(s: &Salary) -> Pattern {
        let amount = Money::new(s.typical_minor, s.currency.clone());
        Pattern {
            kind: ItemKind::Salary,
            label: s.employer.clone(),
            key: String::new(),
            monthly: amount.clone(),
            amount,
            interval: Interval::Monthly,
            day_of_month: Some(s.typical_day),
            occurrences: s.months_paid,
            last_at: s.last_paid_at,
            next_expected_at: s.next_expected_at,
            agreement_id: None,
            ends_at: None,
        }
    }

    /// A loan's instalments, from the repayments its account received (detected as a recurring
    /// pattern of that account's credits): debits of the client's money.
    pub fn agreement(a: &ProductAgreement, repayments: &RecurringPayment) -> Pattern {
        Pattern {
            kind: ItemKind::Agreement,
            label: a.product_name.clone(),
            key: String::new(),
            agreement_id: Some(a.id),
            ends_at: a.ends_at,
            ..Pattern::recurring(repayments)
        }
    }

    /// The moments of the occurrences after `now` up to `until`: from the next expected one,
    /// every interval. One overdue by at most [`LATE_DAYS`] is expected a day after `now`.
    pub fn occurrences_between(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut at = self.next_expected_at;
        // Bounded: a weekly pattern over the longest horizon and the late days is < 20 steps.
        for _ in 0..64 {
            if at > until || self.ends_at.is_some_and(|end| at > end) {
                break;
            }
            if at > now {
                out.push(at);
            } else if now - at <= Duration::days(LATE_DAYS) {
                out.push(now + Duration::days(1));
            }
            at = next_after(at, self.interval, self.day_of_month);
        }
        out
    }

    /// Whether this recurring payment is the instalment `agreement` already counts.
    fn same_instalment(&self, agreement: &Pattern) -> bool {
        let (a, b) = (self.amount.minor.abs(), agreement.amount.minor.abs());
        self.amount.currency == agreement.amount.currency
            && a.abs_diff(b) * 50 <= b.unsigned_abs()
            && self.interval == agreement.interval
            && match agreement.day_of_month {
                Some(day) => day_distance(&self.next_expected_at, day) <= 3,
                None => {
                    (self.next_expected_at - agreement.next_expected_at)
                        .num_days()
                        .abs()
                        <= 3
                }
            }
    }
}

fn negated(m: &Money) -> Money {
    Money::new(m.minor.saturating_neg(), m.currency.clone())
}

/// An item the forecast expects.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedItem {
    pub at: DateTime<Utc>,
    /// Signed: income positive, payments negative.
    pub amount: Money,
    pub kind: ItemKind,
    pub label: String,
    /// The detected pattern it comes from.
    pub evidence: Pattern,
}

/// The net flow on the client's money accounts in one currency over the lookback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    pub currency: Currency,
    /// Credits less debits, minor units.
    pub net_minor: i64,
    /// The days the flow was measured over (1 ..= [`LOOKBACK_DAYS`]).
    pub days: i64,
}

/// The balance at one moment of the forecast.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    pub at: DateTime<Utc>,
    pub date: NaiveDate,
    pub balance: Money,
}

/// One currency's projection.
#[derive(Clone, Debug, PartialEq)]
pub struct CurrencyForecast {
    pub currency: Currency,
    /// The balance at `now` (point 0).
    pub start: Money,
    /// The everyday flow over the lookback (what the patterns do not explain), signed.
    pub everyday: Money,
    /// The days the everyday flow was measured over.
    pub lookback_days: i64,
    /// Balances at `now` and then every 24 hours: `days + 1` points.
    pub points: Vec<Point>,
    /// The balance at the end of the horizon (the last point).
    pub end: Point,
    /// The lowest balance of the horizon (the earliest of equal ones).
    pub lowest: Point,
}

impl CurrencyForecast {
    /// The first point whose balance is below `floor_minor`.
    pub fn first_below(&self, floor_minor: i64) -> Option<&Point> {
        self.points.iter().find(|p| p.balance.minor < floor_minor)
    }

    /// The everyday flow per day, rounded to a minor unit (for display).
    pub fn everyday_per_day(&self) -> Money {
        Money::new(
            spread(self.everyday.minor, 1, self.lookback_days),
            self.currency.clone(),
        )
    }
}

/// A client's forecast.
#[derive(Clone, Debug, PartialEq)]
pub struct Forecast {
    pub now: DateTime<Utc>,
    pub days: u32,
    /// RUB first, then alphabetically.
    pub currencies: Vec<CurrencyForecast>,
    /// Soonest first.
    pub items: Vec<ExpectedItem>,
}

impl Forecast {
    /// Per currency: the lowest balance of the horizon and when.
    pub fn lowest(&self) -> Vec<&Point> {
        self.currencies.iter().map(|c| &c.lowest).collect()
    }

    /// The first moment the balance in `floor`'s currency goes below `floor`.
    pub fn first_below(&self, floor: &Money) -> Option<&Point> {
        self.currencies
            .iter()
            .find(|c| c.currency == floor.currency)
            .and_then(|c| c.first_below(floor.minor))
    }
}

/// `total × k / days`, rounded half away from zero, in integers.
fn spread(total: i64, k: i64, days: i64) -> i64 {
    if days <= 0 {
        return 0;
    }
    let num = i128::from(total) * i128::from(k);
    let den = i128::from(days);
    let q = (num.abs() * 2 + den) / (2 * den);
    i64::try_from(if num < 0 { -q } else { q }).unwrap_or(if num < 0 { i64::MIN } else { i64::MAX })
}

/// What a pattern accounts for over `days` days: its monthly amount × days × 12 / 365.25.
fn pattern_share(monthly_minor: i64, days: i64) -> i64 {
    spread(monthly_minor, days * 48, 1461)
}

fn currency_key(c: &Currency) -> (bool, &str) {
    (c.as_str() != "RUB", c.as_str())
}

/// Checks a horizon: 30, 60 or 90 days.
pub fn check_days(days: i32) -> CoreResult<u32> {
    u32::try_from(days)
        .ok()
        .filter(|d| HORIZONS.contains(d))
        .ok_or_else(|| {
            CoreError::invalid(format!(
                "days must be 30, 60 or 90 (the forecast's horizons), got {days}"
            ))
        })
}

/// The forecast from the money at `now`, the detected patterns and the everyday flows.
pub fn project(
    now: DateTime<Utc>,
    days: u32,
    balances: &[Money],
    patterns: &[Pattern],
    flows: &[Flow],
) -> Forecast {
    let until = now + Duration::days(i64::from(days));
    let mut items: Vec<ExpectedItem> = patterns
        .iter()
        .flat_map(|p| {
            p.occurrences_between(now, until)
                .into_iter()
                .map(|at| ExpectedItem {
                    at,
                    amount: p.amount.clone(),
                    kind: p.kind,
                    label: p.label.clone(),
                    evidence: p.clone(),
                })
        })
        .collect();
    items.sort_by(|a, b| {
        a.at.cmp(&b.at)
            .then(a.kind.cmp(&b.kind))
            .then(a.label.cmp(&b.label))
    });

    let mut start: BTreeMap<Currency, i64> = BTreeMap::new();
    for b in balances {
        let e = start.entry(b.currency.clone()).or_default();
        *e = e.saturating_add(b.minor);
    }
    for i in &items {
        start.entry(i.amount.currency.clone()).or_default();
    }
    let mut currencies: Vec<CurrencyForecast> = start
        .into_iter()
        .map(|(currency, start)| {
            let flow = flows.iter().find(|f| f.currency == currency);
            let lookback = flow.map_or(LOOKBACK_DAYS, |f| f.days.clamp(1, LOOKBACK_DAYS));
            let explained: i64 = patterns
                .iter()
                .filter(|p| p.amount.currency == currency)
                .map(|p| pattern_share(p.monthly.minor, lookback))
                .sum();
            let everyday = flow.map_or(0, |f| f.net_minor.saturating_sub(explained));
            let points: Vec<Point> = (0..=i64::from(days))
                .map(|k| {
                    let at = now + Duration::days(k);
                    let expected: i64 = items
                        .iter()
                        .filter(|i| i.amount.currency == currency && i.at <= at)
                        .map(|i| i.amount.minor)
                        .sum();
                    let balance = start
                        .saturating_add(expected)
                        .saturating_add(spread(everyday, k, lookback));
                    Point {
                        at,
                        date: at.date_naive(),
                        balance: Money::new(balance, currency.clone()),
                    }
                })
                .collect();
            let first = Point {
                at: now,
                date: now.date_naive(),
                balance: Money::new(start, currency.clone()),
            };
            let end = points.last().cloned().unwrap_or_else(|| first.clone());
            let lowest = points
                .iter()
                .reduce(|low, p| {
                    if p.balance.minor < low.balance.minor {
                        p
                    } else {
                        low
                    }
                })
                .cloned()
                .unwrap_or(first);
            CurrencyForecast {
                end,
                lowest,
                start: Money::new(start, currency.clone()),
                everyday: Money::new(everyday, currency.clone()),
                lookback_days: lookback,
                points,
                currency,
            }
        })
        .collect();
    currencies.sort_by(|a, b| currency_key(&a.currency).cmp(&currency_key(&b.currency)));
    Forecast {
        now,
        days,
        currencies,
        items,
    }
}

/// The patterns a forecast extends: the salary, the loans' instalments, and the recurring
/// payments that are not one of those instalments.
pub(crate) fn patterns(
    recurring: &[RecurringPayment],
    salary: Option<&Salary>,
    agreements: Vec<Pattern>,
) -> Vec<Pattern> {
    let mut out: Vec<Pattern> = salary.map(Pattern::salary).into_iter().collect();
    out.extend(
        recurring
            .iter()
            .map(Pattern::recurring)
            .filter(|p| !agreements.iter().any(|a| p.same_instalment(a))),
    );
    out.extend(agreements);
    out
}

/// Signed sums per currency of rows on `accounts`, with the earliest booking of each.
async fn flows_of<C: sea_orm::ConnectionTrait>(
    conn: &C,
    accounts: &[i64],
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    statuses: &[TransactionStatus],
) -> CoreResult<HashMap<Currency, (i64, Option<DateTime<Utc>>)>> {
    use transactions::Column as T;
    let mut q = transactions::Entity::find()
        .select_only()
        .column(T::Currency)
        .column(T::Direction)
        .column_as(
            Expr::expr(Func::sum(Expr::col(T::AmountMinor))).cast_as(Alias::new("BIGINT")),
            "amount",
        )
        .column_as(Expr::expr(Func::min(Expr::col(T::BookedAt))), "first")
        .filter(T::AccountId.is_in(accounts.iter().copied()))
        .filter(T::Status.is_in(statuses.iter().map(|s| s.as_str())))
        .filter(T::ReplacedById.is_null());
    if let Some(from) = from {
        q = q.filter(T::BookedAt.gte(from));
    }
    if let Some(to) = to {
        q = q.filter(T::BookedAt.lt(to));
    }
    let rows: Vec<(String, String, i64, Option<DateTime<Utc>>)> = q
        .group_by(T::Currency)
        .group_by(T::Direction)
        .into_tuple()
        .all(conn)
        .await?;
    let mut out: HashMap<Currency, (i64, Option<DateTime<Utc>>)> = HashMap::new();
    for (currency, direction, amount, first) in rows {
        let signed = if direction == Direction::Credit.as_str() {
            amount
        } else {
            amount.saturating_neg()
        };
        let e = out.entry(Currency::from_db(currency)).or_insert((0, None));
        e.0 = e.0.saturating_add(signed);
        e.1 = match (e.1, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    Ok(out)
}

/// Per currency, the net money (credits less debits) booked or pending on `accounts` at or
/// after `at`: what takes today's balances back to the money at `at` (the meeting brief's
/// balances then and now, by the same definition as the forecast's start).
pub(crate) async fn net_flows_after<C: sea_orm::ConnectionTrait>(
    conn: &C,
    accounts: &[i64],
    at: DateTime<Utc>,
) -> CoreResult<HashMap<Currency, i64>> {
    if accounts.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(flows_of(
        conn,
        accounts,
        Some(at),
        None,
        &[TransactionStatus::Booked, TransactionStatus::Pending],
    )
    .await?
    .into_iter()
    .map(|(currency, (net, _))| (currency, net))
    .collect())
}

/// The repayments credited to a loan's account in `[from, to)`, as detector rows of one payee.
async fn repayments<C: sea_orm::ConnectionTrait>(
    conn: &C,
    agreement: &ProductAgreement,
    account_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> CoreResult<Vec<HistoryRow>> {
    use sea_orm::QueryOrder;
    use transactions::Column as T;
    let rows: Vec<(DateTime<Utc>, i64, String, i64)> = transactions::Entity::find()
        .select_only()
        .columns([T::BookedAt, T::AmountMinor, T::Currency, T::Id])
        .filter(T::AccountId.eq(account_id))
        .filter(T::Direction.eq(Direction::Credit.as_str()))
        .filter(T::Status.eq(TransactionStatus::Booked.as_str()))
        .filter(T::ReplacedById.is_null())
        .filter(T::BookedAt.gte(from))
        .filter(T::BookedAt.lt(to))
        .order_by_asc(T::BookedAt)
        .order_by_asc(T::Id)
        .limit(history::MAX_HISTORY_ROWS)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(booked_at, amount_minor, currency, id)| HistoryRow {
            booked_at,
            amount_minor,
            currency: Currency::from_db(currency),
            category: Category::LoanPayments,
            payee: agreement.product_name.clone(),
            key: format!("agreement {}", agreement.id),
            account_id,
            id,
        })
        .collect())
}

/// A client's inputs of a forecast, read by the caller for many clients at once.
pub(crate) struct Preloaded<'a> {
    /// The client's accounts (closed ones may be left out: only money counts).
    pub accounts: &'a [Account],
    /// The client's listed agreements (only active loans are used).
    pub agreements: &'a [ProductAgreement],
    /// Booked debits and credits of the last twelve months ([`history::load`]).
    pub debits: &'a [HistoryRow],
    pub credits: &'a [HistoryRow],
}

impl Core {
    /// The client's forecast over `days` (30, 60 or 90) from `now`: see the module's text.
    /// Reads the client's accounts, agreements, the flows on its money accounts, a year of its
    /// rows before `now` (bounded, as `recurring_payments` and `income_profile` read them) and
    /// its loans' repayments.
    pub async fn forecast(
        &self,
        client_id: i64,
        days: i32,
        now: DateTime<Utc>,
    ) -> CoreResult<Forecast> {
        let days = check_days(days)?;
        self.client(client_id).await?;
        self.forecast_of(client_id, days, now, None).await
    }

    /// [`Core::forecast`] of a client known to exist; with `pre`, from what the caller read
    /// already for many clients at once (the signals read a chunk's accounts, agreements and
    /// rows in a few statements), else reading them here.
    pub(crate) async fn forecast_of(
        &self,
        client_id: i64,
        days: u32,
        now: DateTime<Utc>,
        pre: Option<&Preloaded<'_>>,
    ) -> CoreResult<Forecast> {
        let conn = self.db.conn();
        let from = crate::aggregates::months_before(now, WINDOW_MONTHS);
        let (read_accounts, read_agreements, read_debits, read_credits);
        let (accounts, agreements, debits, credits): (
            &[Account],
            &[ProductAgreement],
            &[HistoryRow],
            &[HistoryRow],
        ) = match pre {
            Some(p) => (p.accounts, p.agreements, p.debits, p.credits),
            None => {
                read_accounts = self
                    .accounts_of_clients(&[client_id])
                    .await?
                    .remove(&client_id)
                    .unwrap_or_default();
                read_agreements = self
                    .agreements_of_clients(&[client_id])
                    .await?
                    .remove(&client_id)
                    .unwrap_or_default();
                read_debits = history::load(conn, client_id, Direction::Debit, from, now).await?;
                read_credits = history::load(conn, client_id, Direction::Credit, from, now).await?;
                (
                    &read_accounts[..],
                    &read_agreements[..],
                    &read_debits[..],
                    &read_credits[..],
                )
            }
        };
        let money: Vec<&Account> = accounts.iter().filter(|a| a.asset().is_some()).collect();
        let ids: Vec<i64> = money.iter().map(|a| a.id).collect();
        // The money at `now`: today's balances less what was booked (or is pending) after it.
        let later = flows_of(
            conn,
            &ids,
            Some(now),
            None,
            &[TransactionStatus::Booked, TransactionStatus::Pending],
        )
        .await?;
        let mut balances: Vec<Money> = money.iter().filter_map(|a| a.asset().cloned()).collect();
        for (currency, (net, _)) in later {
            balances.push(Money::new(net.saturating_neg(), currency));
        }
        let lookback_from = now - Duration::days(LOOKBACK_DAYS);
        let flows: Vec<Flow> = flows_of(
            conn,
            &ids,
            Some(lookback_from),
            Some(now),
            &[TransactionStatus::Booked],
        )
        .await?
        .into_iter()
        .map(|(currency, (net_minor, first))| {
            // A history that starts well after the lookback's start is measured from its start.
            let start = first
                .filter(|f| *f > lookback_from + Duration::days(7))
                .map_or(lookback_from, |f| f);
            Flow {
                currency,
                net_minor,
                days: (now - start).num_days().clamp(1, LOOKBACK_DAYS),
            }
        })
        .collect();

        let recurring = recurring::detect(debits, now);
        let salary = detect_salary(credits, now);

        let mut loans = Vec::new();
        for a in agreements
            .iter()
            .filter(|a| a.kind == AgreementKind::Loan && a.status == AgreementStatus::Active)
        {
            let Some(account_id) = a.account_id else {
                continue;
            };
            let rows = repayments(conn, a, account_id, from, now).await?;
            if let Some(r) = recurring::detect(&rows, now).first() {
                loans.push(Pattern::agreement(a, r));
            }
        }
        let patterns = patterns(&recurring, salary.as_ref(), loans);
        tracing::debug!(
            client_id,
            days,
            patterns = patterns.len(),
            "forecast computed"
        );
        Ok(project(now, days, &balances, &patterns, &flows))
    }

    /// Per currency, the lowest balance of the client's forecast over `days` and when (for
    /// signals such as a balance heading below a floor).
    pub async fn forecast_lowest(
        &self,
        client_id: i64,
        days: i32,
        now: DateTime<Utc>,
    ) -> CoreResult<Vec<Point>> {
        let forecast = self.forecast(client_id, days, now).await?;
        Ok(forecast.lowest().into_iter().cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::inconsistent_digit_grouping)]
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 10, 0, 0)
            .single()
            .expect("date")
    }

    fn rub(minor: i64) -> Money {
        Money::new(minor, Currency::rub())
    }

    fn pattern(kind: ItemKind, minor: i64, day: u32, next: DateTime<Utc>) -> Pattern {
        Pattern {
            kind,
            label: format!("{kind:?}"),
            key: String::new(),
            amount: rub(minor),
            monthly: rub(minor),
            interval: Interval::Monthly,
            day_of_month: Some(day),
            occurrences: 6,
            last_at: next - Duration::days(30),
            next_expected_at: next,
            agreement_id: None,
            ends_at: None,
        }
    }

    #[test]
    fn horizons_are_30_60_or_90_days() {
        assert_eq!(check_days(30).ok(), Some(30));
        assert_eq!(check_days(90).ok(), Some(90));
        for bad in [45, 0, -30, 31, 365] {
            let err = check_days(bad).expect_err("refused");
            assert!(err.to_string().contains("30, 60 or 90"), "{err}");
        }
    }

    #[test]
    fn salary_and_rent_step_the_balance_on_their_days() {
        let now = at(2026, 3, 1);
        let salary = pattern(ItemKind::Salary, 100_000_00, 5, at(2026, 3, 5));
        let rent = pattern(ItemKind::Recurring, -40_000_00, 10, at(2026, 3, 10));
        let f = project(now, 30, &[rub(10_000_00)], &[salary, rent], &[]);
        assert_eq!(f.currencies.len(), 1);
        let c = &f.currencies[0];
        assert_eq!(c.points.len(), 31);
        assert_eq!(c.start.minor, 10_000_00);
        // No everyday flow measured: only the items move the balance.
        assert_eq!(c.points[3].balance.minor, 10_000_00, "before the 5th");
        assert_eq!(c.points[4].balance.minor, 110_000_00, "on the 5th");
        assert_eq!(c.points[9].balance.minor, 70_000_00, "on the 10th");
        // 30 days from March 1st reach March 31st: one salary and one rent.
        assert_eq!(c.end.balance.minor, 70_000_00);
        assert_eq!(f.items.len(), 2);
        assert_eq!(f.items[0].kind, ItemKind::Salary);
        assert_eq!(f.items[0].at, at(2026, 3, 5));
        // 60 days: April's salary (the 5th) and rent (the 10th) too.
        let f = project(
            now,
            60,
            &[rub(10_000_00)],
            &f.items
                .iter()
                .map(|i| i.evidence.clone())
                .collect::<Vec<_>>(),
            &[],
        );
        let dates: Vec<DateTime<Utc>> = f.items.iter().map(|i| i.at).collect();
        assert_eq!(
            dates,
            vec![
                at(2026, 3, 5),
                at(2026, 3, 10),
                at(2026, 4, 5),
                at(2026, 4, 10)
            ]
        );
        assert_eq!(f.currencies[0].end.balance.minor, 130_000_00);
    }

    #[test]
    fn everyday_flow_is_what_the_patterns_do_not_explain_spread_over_the_days() {
        let now = at(2026, 3, 1);
        let salary = pattern(ItemKind::Salary, 100_000_00, 5, at(2026, 3, 5));
        // Over 90 days the money grew by 30 000 while the salary brought 295 687.89
        // (100 000 × 90 × 12 / 365.25): everyday spending was 265 687.89, 2 952.09 a day.
        let flows = [Flow {
            currency: Currency::rub(),
            net_minor: 30_000_00,
            days: 90,
        }];
        let f = project(now, 30, &[rub(50_000_00)], &[salary], &flows);
        let c = &f.currencies[0];
        let explained = pattern_share(100_000_00, 90);
        assert_eq!(explained, 295_687_89);
        assert_eq!(c.everyday_per_day().minor, -2_952_09);
        assert_eq!(c.everyday.minor, 30_000_00 - explained);
        assert_eq!(
            c.everyday_per_day().minor,
            spread(30_000_00 - explained, 1, 90)
        );
        let end = 50_000_00 + 100_000_00 + spread(30_000_00 - explained, 30, 90);
        assert_eq!(c.end.balance.minor, end);
        // Over a month the forecast follows the trend of the lookback: about +10 000.
        assert!((c.end.balance.minor - 50_000_00 - 10_000_00).abs() < 2_000_00);
    }

    #[test]
    fn lowest_and_first_below_find_the_dip() {
        let now = at(2026, 3, 1);
        let rent = pattern(ItemKind::Recurring, -40_000_00, 3, at(2026, 3, 3));
        let salary = pattern(ItemKind::Salary, 60_000_00, 20, at(2026, 3, 20));
        let f = project(now, 30, &[rub(30_000_00)], &[rent, salary], &[]);
        let low = f.lowest();
        assert_eq!(low.len(), 1);
        assert_eq!(low[0].balance.minor, -10_000_00);
        assert_eq!(low[0].at, at(2026, 3, 3));
        let below = f.first_below(&rub(0)).expect("below zero");
        assert_eq!(
            below.date,
            NaiveDate::from_ymd_opt(2026, 3, 3).expect("date")
        );
        assert!(f.first_below(&rub(-20_000_00)).is_none());
        assert!(f
            .first_below(&Money::new(0, Currency::parse("USD").expect("usd")))
            .is_none());
    }

    #[test]
    fn late_items_come_tomorrow_older_ones_are_skipped_and_loans_end() {
        let now = at(2026, 3, 10);
        let late = pattern(ItemKind::Salary, 1_00, 5, at(2026, 3, 5));
        assert_eq!(
            late.occurrences_between(now, now + Duration::days(30)),
            vec![now + Duration::days(1), at(2026, 4, 5)]
        );
        let lapsed = pattern(ItemKind::Salary, 1_00, 1, at(2026, 3, 1));
        assert_eq!(
            lapsed.occurrences_between(now, now + Duration::days(30)),
            vec![at(2026, 4, 1)]
        );
        let mut loan = pattern(ItemKind::Agreement, -5_00, 15, at(2026, 3, 15));
        loan.ends_at = Some(at(2026, 4, 20));
        assert_eq!(
            loan.occurrences_between(now, now + Duration::days(90)),
            vec![at(2026, 3, 15), at(2026, 4, 15)]
        );
        let mut weekly = pattern(ItemKind::Recurring, -5_00, 1, at(2026, 3, 12));
        weekly.interval = Interval::Weekly;
        weekly.day_of_month = None;
        assert_eq!(
            weekly
                .occurrences_between(now, now + Duration::days(30))
                .len(),
            5
        );
    }

    #[test]
    fn a_recurring_payment_that_is_a_loans_instalment_counts_once() {
        let now = at(2026, 3, 1);
        let loan = pattern(ItemKind::Agreement, -25_000_00, 12, at(2026, 3, 12));
        let rec = |minor: i64, day: u32| RecurringPayment {
            key: "bank".into(),
            merchant: "Bank".into(),
            category: Category::LoanPayments,
            typical_amount: rub(minor),
            monthly_amount: rub(minor),
            interval: Interval::Monthly,
            interval_days: 30.4,
            day_of_month: Some(day),
            occurrences: 5,
            first_at: at(2025, 10, day),
            last_at: at(2026, 2, day),
            next_expected_at: at(2026, 3, day),
        };
        let found = patterns(&[rec(25_100_00, 13), rec(9_99, 12)], None, vec![loan]);
        let kinds: Vec<(ItemKind, i64)> = found.iter().map(|p| (p.kind, p.amount.minor)).collect();
        assert_eq!(
            kinds,
            vec![
                (ItemKind::Recurring, -9_99),
                (ItemKind::Agreement, -25_000_00)
            ]
        );
        let f = project(now, 30, &[rub(0)], &found, &[]);
        assert_eq!(f.currencies[0].end.balance.minor, -25_009_99);
    }

    #[test]
    fn currencies_of_balances_and_items_rub_first() {
        let now = at(2026, 3, 1);
        let usd = Currency::parse("USD").expect("usd");
        let mut sub = pattern(ItemKind::Recurring, -10_00, 7, at(2026, 3, 7));
        sub.amount = Money::new(-10_00, Currency::parse("EUR").expect("eur"));
        sub.monthly = sub.amount.clone();
        let f = project(
            now,
            30,
            &[Money::new(5_00, usd), rub(1_00), rub(2_00)],
            &[sub],
            &[],
        );
        let shown: Vec<(&str, i64, i64)> = f
            .currencies
            .iter()
            .map(|c| (c.currency.as_str(), c.start.minor, c.end.balance.minor))
            .collect();
        assert_eq!(
            shown,
            vec![("RUB", 3_00, 3_00), ("EUR", 0, -10_00), ("USD", 5_00, 5_00)]
        );
    }

    #[test]
    fn spread_rounds_half_away_from_zero() {
        assert_eq!(spread(10, 1, 4), 3);
        assert_eq!(spread(-10, 1, 4), -3);
        assert_eq!(spread(-9, 1, 4), -2);
        assert_eq!(spread(7, 0, 3), 0);
        assert_eq!(spread(7, 3, 0), 0);
    }
}
