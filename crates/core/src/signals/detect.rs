//! The rules that turn a client's stored facts into signals: pure functions of the inputs
//! ([`ClientInputs`], read in batches by `compute.rs`), the settings and the moment, so every
//! threshold is tested here without a database.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use rust_decimal::Decimal;

use super::{Evidence, SignalSettings};
use crate::domain::{Grade, SignalKind, SignalSeverity};

/// A bank link as the rules see it.
#[derive(Clone, Debug)]
pub(crate) struct LinkFact {
    pub id: i64,
    pub bank_code: String,
    /// `AUTHORIZED`, `REVOKED`, `EXPIRED`, `REJECTED`, …
    pub consent_status: String,
    pub consent_expires_at: Option<DateTime<Utc>>,
}

/// A product agreement (deposit, loan, credit line) a bank lists.
#[derive(Clone, Debug)]
pub(crate) struct AgreementFact {
    pub id: i64,
    pub bank_code: String,
    /// `DEPOSIT`, `LOAN`, `CREDIT_LINE`, `OTHER`.
    pub kind: String,
    pub product_name: String,
    pub amount_minor: i64,
    pub currency: String,
    pub opened_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// When AI-CRM first stored it.
    pub first_seen_at: DateTime<Utc>,
    /// When the link it came through was made (its first import).
    pub link_created_at: Option<DateTime<Utc>>,
}

/// An open account holding the client's money (not a loan or credit card).
#[derive(Clone, Debug)]
pub(crate) struct AccountFact {
    pub id: i64,
    pub bank_code: String,
    pub balance_minor: i64,
    pub currency: String,
    pub number_masked: Option<String>,
}

/// The detected salary and the banks its monthly payments arrived at, oldest month first.
#[derive(Clone, Debug)]
pub(crate) struct SalaryFact {
    pub employer: String,
    pub currency: String,
    pub typical_minor: i64,
    pub typical_day: u32,
    pub last_paid_at: DateTime<Utc>,
    pub next_expected_at: DateTime<Utc>,
    /// Per month with a payment: (`YYYYMM`, the bank of the month's largest payment, that
    /// payment's transaction id, its amount).
    pub months: Vec<(i32, String, i64, i64)>,
}

/// A large credit of the recent days and the client's usual credit.
#[derive(Clone, Debug)]
pub(crate) struct InflowFact {
    pub transaction_id: i64,
    pub bank_code: String,
    pub booked_at: DateTime<Utc>,
    pub amount_minor: i64,
    pub currency: String,
    /// The client's usual monthly income (base currency): the median of the months before.
    pub usual_month_minor: i64,
}

/// A stored rating change (a timeline entry).
#[derive(Clone, Debug)]
pub(crate) struct RatingChangeFact {
    pub event_id: i64,
    pub at: DateTime<Utc>,
    pub from: Option<Grade>,
    pub to: Grade,
}

/// The lowest point of the client's balance forecast in one currency.
#[derive(Clone, Debug)]
pub(crate) struct LowPointFact {
    pub currency: String,
    pub today_minor: i64,
    pub lowest_minor: i64,
    pub lowest_on: DateTime<Utc>,
    /// The first day the balance is below the floor, within the horizon.
    pub below_on: Option<DateTime<Utc>>,
}

/// Everything the rules read of one client.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClientInputs {
    pub client_id: i64,
    pub links: Vec<LinkFact>,
    pub agreements: Vec<AgreementFact>,
    pub accounts: Vec<AccountFact>,
    pub salary: Option<SalaryFact>,
    /// Booked income in the base currency per month (`YYYYMM`): credits except refunds and
    /// own transfers.
    pub month_income: BTreeMap<i32, i64>,
    pub inflows: Vec<InflowFact>,
    pub rating_changes: Vec<RatingChangeFact>,
    pub low_points: Vec<LowPointFact>,
}

/// A fact the rules found: what to store, once, under `key`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Fact {
    pub client_id: i64,
    pub kind: SignalKind,
    pub severity: SignalSeverity,
    pub key: String,
    /// When the fact is due (a maturity, an expiry, an expected salary, the day a balance
    /// crosses the floor).
    pub fact_at: Option<DateTime<Utc>>,
    pub evidence: Evidence,
}

/// Whether a kind is a condition that can stop holding (the consent was renewed, the salary
/// arrived): such a signal closes itself (`NO_LONGER_APPLIES`) when the rules no longer find
/// it, and opens again if the condition returns. The other kinds are events that happened and
/// stay until a person deals with them.
pub(crate) fn is_condition(kind: SignalKind) -> bool {
    matches!(
        kind,
        SignalKind::ConsentExpiring
            | SignalKind::ConsentLost
            | SignalKind::DepositMaturing
            | SignalKind::LoanEnding
            | SignalKind::SalaryMissing
            | SignalKind::LowBalanceAhead
            | SignalKind::Overdraft
    )
}

fn days_until(at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (at.date_naive() - now.date_naive()).num_days()
}

fn grade_rank(g: Grade) -> u8 {
    match g {
        Grade::A => 0,
        Grade::B => 1,
        Grade::C => 2,
    }
}

fn month_index(month: i32) -> i32 {
    (month / 100) * 12 + (month % 100 - 1)
}

fn month_of_index(index: i32) -> i32 {
    index.div_euclid(12) * 100 + index.rem_euclid(12) + 1
}

fn median(values: &mut [i64]) -> i64 {
    values.sort_unstable();
    let n = values.len();
    if n == 0 {
        0
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        // Rounded half away from zero, in minor units.
        let sum = i128::from(values[n / 2 - 1]) + i128::from(values[n / 2]);
        ((sum + sum.signum()) / 2) as i64
    }
}

/// Every signal the rules find for one client at `now`.
pub(crate) fn detect(
    input: &ClientInputs,
    settings: &SignalSettings,
    base_currency: &str,
    now: DateTime<Utc>,
) -> Vec<Fact> {
    let mut out = Vec::new();
    let client_id = input.client_id;
    let fact = |kind: SignalKind,
                severity: SignalSeverity,
                key: String,
                fact_at: Option<DateTime<Utc>>,
                evidence: Evidence| Fact {
        client_id,
        kind,
        severity,
        key: format!("{}:{key}", kind.as_str()),
        fact_at,
        evidence,
    };

    // Consents: lost, or about to lapse (the nearest threshold it has reached).
    let max_consent_days = settings.consent_days.iter().copied().max().unwrap_or(0);
    for link in &input.links {
        match link.consent_status.as_str() {
            "REVOKED" | "EXPIRED" | "REJECTED" => {
                let severity = if link.consent_status == "REJECTED" {
                    SignalSeverity::Warning
                } else {
                    SignalSeverity::Critical
                };
                out.push(fact(
                    SignalKind::ConsentLost,
                    severity,
                    format!("link:{}", link.id),
                    None,
                    Evidence::default()
                        .code("bank", &link.bank_code)
                        .code("consent_status", &link.consent_status)
                        .refer("link", link.id),
                ));
            }
            "AUTHORIZED" => {
                let Some(expires) = link.consent_expires_at else {
                    continue;
                };
                let days = days_until(expires, now);
                if expires <= now || days > max_consent_days {
                    continue;
                }
                // The smallest threshold the consent is within: 14 → 7 → 1 days.
                let Some(threshold) = settings
                    .consent_days
                    .iter()
                    .copied()
                    .filter(|t| days <= *t)
                    .min()
                else {
                    continue;
                };
                let severity = if threshold <= 1 {
                    SignalSeverity::Critical
                } else if threshold <= 7 {
                    SignalSeverity::Warning
                } else {
                    SignalSeverity::Info
                };
                out.push(fact(
                    SignalKind::ConsentExpiring,
                    severity,
                    format!("link:{}:{}", link.id, expires.date_naive()),
                    Some(expires),
                    Evidence::default()
                        .code("bank", &link.bank_code)
                        .date("expires_at", expires)
                        .number("days_left", Decimal::from(days.max(0)))
                        .number("threshold_days", Decimal::from(threshold))
                        .refer("link", link.id),
                ));
            }
            _ => {}
        }
    }

    // Deposits maturing and loans ending within the window, at every bank.
    for a in &input.agreements {
        let kind = match a.kind.as_str() {
            "DEPOSIT" => SignalKind::DepositMaturing,
            "LOAN" | "CREDIT_LINE" => SignalKind::LoanEnding,
            _ => continue,
        };
        let Some(ends) = a.ends_at else { continue };
        let days = days_until(ends, now);
        if ends <= now || days > settings.maturity_days {
            continue;
        }
        let severity = if kind == SignalKind::DepositMaturing && days <= 7 {
            SignalSeverity::Warning
        } else {
            SignalSeverity::Info
        };
        let external = settings
            .home_bank
            .as_deref()
            .is_some_and(|home| home != a.bank_code);
        out.push(fact(
            kind,
            severity,
            format!("agreement:{}:{}", a.id, ends.date_naive()),
            Some(ends),
            Evidence::default()
                .code("bank", &a.bank_code)
                .code("product", &a.product_name)
                .code("held", if external { "ELSEWHERE" } else { "HERE" })
                .money("amount", a.amount_minor, &a.currency)
                .date("ends_at", ends)
                .number("days_left", Decimal::from(days.max(0)))
                .refer("agreement", a.id),
        ));
    }

    // A product that appeared at another bank after the link's first import (or opened
    // recently): the client took it elsewhere.
    if let Some(home) = settings.home_bank.as_deref() {
        let since = now - Duration::days(settings.new_product_days);
        for a in input.agreements.iter().filter(|a| a.bank_code != home) {
            if !matches!(a.kind.as_str(), "DEPOSIT" | "LOAN" | "CREDIT_LINE") {
                continue;
            }
            let opened_recently = a.opened_at.is_some_and(|at| at >= since && at <= now);
            let appeared_after_first_import = a.first_seen_at >= since
                && a.link_created_at
                    .is_some_and(|linked| a.first_seen_at > linked + Duration::days(1));
            if !(opened_recently || appeared_after_first_import) {
                continue;
            }
            let mut evidence = Evidence::default()
                .code("bank", &a.bank_code)
                .code("product", &a.product_name)
                .code("agreement_kind", &a.kind)
                .money("amount", a.amount_minor, &a.currency)
                .refer("agreement", a.id);
            if let Some(opened) = a.opened_at {
                evidence = evidence.date("opened_at", opened);
            }
            out.push(fact(
                SignalKind::NewExternalProduct,
                SignalSeverity::Warning,
                format!("agreement:{}", a.id),
                // Something that happened: nothing is due (the evidence says when it opened).
                None,
                evidence,
            ));
        }
    }

    // Overdraft: an account of the client's money in debit.
    for acc in input.accounts.iter().filter(|a| a.balance_minor < 0) {
        let mut evidence = Evidence::default()
            .code("bank", &acc.bank_code)
            .money("balance", acc.balance_minor, &acc.currency)
            .refer("account", acc.id);
        if let Some(masked) = &acc.number_masked {
            evidence = evidence.code("account_number", masked);
        }
        out.push(fact(
            SignalKind::Overdraft,
            SignalSeverity::Critical,
            format!("account:{}", acc.id),
            None,
            evidence,
        ));
    }

    // Salary: late, or arriving at another bank.
    if let Some(s) = &input.salary {
        let grace = Duration::days(settings.salary_grace_days);
        if now > s.next_expected_at + grace {
            out.push(fact(
                SignalKind::SalaryMissing,
                SignalSeverity::Warning,
                format!("client:{client_id}:{}", s.next_expected_at.date_naive()),
                Some(s.next_expected_at),
                Evidence::default()
                    .code("employer", &s.employer)
                    .money("typical_amount", s.typical_minor, &s.currency)
                    .number("typical_day", Decimal::from(s.typical_day))
                    .date("last_paid_at", s.last_paid_at)
                    .date("expected_at", s.next_expected_at)
                    .number(
                        "days_late",
                        Decimal::from(days_until(now, s.next_expected_at)),
                    ),
            ));
        }
        if let Some(moved) = salary_moved(s) {
            out.push(fact(
                SignalKind::SalaryMoved,
                SignalSeverity::Critical,
                format!("client:{client_id}:{}:{}", moved.to_bank, moved.first_month),
                None,
                Evidence::default()
                    .code("employer", &s.employer)
                    .code("from_bank", &moved.from_bank)
                    .code("bank", &moved.to_bank)
                    .money("amount", moved.amount_minor, &s.currency)
                    .number("months_before", Decimal::from(moved.months_before))
                    .refer("transaction", moved.transaction_id),
            ));
        }
    }

    // Income drop: the last complete month against the median of the months before it.
    if let Some(drop) = income_drop(&input.month_income, settings, now) {
        out.push(fact(
            SignalKind::IncomeDrop,
            SignalSeverity::Warning,
            format!("client:{client_id}:{}", drop.month),
            None,
            Evidence::default()
                .money("month_income", drop.income_minor, base_currency)
                .money("usual_income", drop.baseline_minor, base_currency)
                .number("drop_percent", drop.drop_percent)
                .number("month", Decimal::from(drop.month))
                .number("months_compared", Decimal::from(drop.months_compared)),
        ));
    }

    // Large inflows: a deposit opportunity.
    for i in &input.inflows {
        if i.amount_minor < settings.large_inflow_min_minor {
            continue;
        }
        let median = i.usual_month_minor.max(1);
        if Decimal::from(i.amount_minor)
            < Decimal::from(settings.large_inflow_multiple) * Decimal::from(median)
        {
            continue;
        }
        let multiple = (Decimal::from(i.amount_minor) / Decimal::from(median)).round_dp(1);
        out.push(fact(
            SignalKind::LargeInflow,
            SignalSeverity::Info,
            format!("transaction:{}", i.transaction_id),
            None,
            Evidence::default()
                .code("bank", &i.bank_code)
                .money("amount", i.amount_minor, &i.currency)
                .money("usual_monthly_income", i.usual_month_minor, &i.currency)
                .number("multiple", multiple)
                .date("booked_at", i.booked_at)
                .refer("transaction", i.transaction_id),
        ));
    }

    // Rating downgrades of the recent days.
    let since = now - Duration::days(settings.rating_lookback_days);
    for r in input.rating_changes.iter().filter(|r| r.at >= since) {
        let Some(from) = r.from else { continue };
        if grade_rank(r.to) <= grade_rank(from) {
            continue;
        }
        out.push(fact(
            SignalKind::RatingDowngrade,
            if r.to == Grade::C {
                SignalSeverity::Critical
            } else {
                SignalSeverity::Warning
            },
            format!("event:{}", r.event_id),
            None,
            Evidence::default()
                .code("from_grade", from.as_str())
                .code("to_grade", r.to.as_str())
                .date("changed_at", r.at)
                .refer("timeline", r.event_id),
        ));
    }

    // The forecast going below the floor within the window (the first such day is the fact).
    for p in &input.low_points {
        let Some(below_on) = p.below_on else { continue };
        let days = days_until(below_on, now);
        // Already at or below the floor today is not "ahead" (an overdraft says so).
        if p.lowest_minor >= settings.low_balance_floor_minor
            || p.today_minor <= settings.low_balance_floor_minor
            || days < 0
            || days > settings.low_balance_days
        {
            continue;
        }
        out.push(fact(
            SignalKind::LowBalanceAhead,
            if p.lowest_minor < 0 {
                SignalSeverity::Critical
            } else {
                SignalSeverity::Warning
            },
            format!("client:{client_id}:{}", p.currency),
            Some(below_on),
            Evidence::default()
                .money("balance_today", p.today_minor, &p.currency)
                .money("lowest_balance", p.lowest_minor, &p.currency)
                .money("floor", settings.low_balance_floor_minor, &p.currency)
                .date("below_on", below_on)
                .date("lowest_on", p.lowest_on)
                .number("days_ahead", Decimal::from(days)),
        ));
    }
    out
}

struct Moved {
    from_bank: String,
    to_bank: String,
    first_month: i32,
    months_before: u32,
    transaction_id: i64,
    amount_minor: i64,
}

/// The salary now arrives at another bank: the latest months' payments (one or more, the
/// newest included) at bank B, after at least two months in a row at bank A just before them.
fn salary_moved(s: &SalaryFact) -> Option<Moved> {
    let (_, to_bank, _, _) = s.months.last()?;
    let streak = s
        .months
        .iter()
        .rev()
        .take_while(|(_, bank, _, _)| bank == to_bank)
        .count();
    let before = &s.months[..s.months.len() - streak];
    let (_, from_bank, _, _) = before.last()?;
    let months_before = before
        .iter()
        .rev()
        .take_while(|(_, bank, _, _)| bank == from_bank)
        .count() as u32;
    if months_before < 2 {
        return None;
    }
    let (first_month, _, transaction_id, amount_minor) = &s.months[s.months.len() - streak];
    Some(Moved {
        from_bank: from_bank.clone(),
        to_bank: to_bank.clone(),
        first_month: *first_month,
        months_before,
        transaction_id: *transaction_id,
        amount_minor: *amount_minor,
    })
}

struct Drop {
    month: i32,
    income_minor: i64,
    baseline_minor: i64,
    drop_percent: Decimal,
    months_compared: u32,
}

/// The last complete month's income at least `income_drop_percent` below the median of the
/// (up to six) months before it that had income, when three or more of them did and their
/// median reaches `income_drop_min_minor`.
fn income_drop(
    months: &BTreeMap<i32, i64>,
    settings: &SignalSettings,
    now: DateTime<Utc>,
) -> Option<Drop> {
    let current = now.year() * 12 + now.month0() as i32;
    let last = current - 1;
    let income = months.get(&month_of_index(last)).copied().unwrap_or(0);
    let mut before: Vec<i64> = (last - 6..last)
        .filter_map(|m| months.get(&month_of_index(m)).copied())
        .filter(|v| *v > 0)
        .collect();
    // Months before the client's first month of income are not "no income".
    let first = months
        .iter()
        .find(|(_, v)| **v > 0)
        .map(|(m, _)| month_index(*m))?;
    if first > last - 3 || before.len() < 3 {
        return None;
    }
    let n = before.len() as u32;
    let baseline = median(&mut before);
    if baseline < settings.income_drop_min_minor || baseline <= 0 {
        return None;
    }
    let drop = Decimal::from(baseline - income) * Decimal::from(100) / Decimal::from(baseline);
    if drop < Decimal::from(settings.income_drop_percent) {
        return None;
    }
    Some(Drop {
        month: month_of_index(last),
        income_minor: income,
        baseline_minor: baseline,
        drop_percent: drop.round_dp(1),
        months_compared: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 9, 0, 0)
            .single()
            .expect("a date")
    }

    fn settings() -> SignalSettings {
        SignalSettings {
            home_bank: Some("abank".into()),
            ..SignalSettings::default()
        }
    }

    fn kinds(facts: &[Fact]) -> Vec<(SignalKind, SignalSeverity)> {
        facts.iter().map(|f| (f.kind, f.severity)).collect()
    }

    fn link(status: &str, expires: Option<DateTime<Utc>>) -> LinkFact {
        LinkFact {
            id: 7,
            bank_code: "vbank".into(),
            consent_status: status.into(),
            consent_expires_at: expires,
        }
    }

    #[test]
    fn a_consent_escalates_at_14_7_and_1_days_under_one_key() {
        let now = at(2026, 12, 7);
        let expires = at(2026, 12, 20);
        let mut input = ClientInputs {
            client_id: 1,
            links: vec![link("AUTHORIZED", Some(expires))],
            ..Default::default()
        };
        let found = detect(&input, &settings(), "RUB", now);
        assert_eq!(
            kinds(&found),
            vec![(SignalKind::ConsentExpiring, SignalSeverity::Info)]
        );
        let key = found[0].key.clone();
        let found = detect(&input, &settings(), "RUB", at(2026, 12, 14));
        assert_eq!(found[0].severity, SignalSeverity::Warning);
        assert_eq!(found[0].key, key, "one fact, escalated");
        let found = detect(&input, &settings(), "RUB", at(2026, 12, 19));
        assert_eq!(found[0].severity, SignalSeverity::Critical);
        // 15 days ahead: nothing yet; renewed to a later date: another fact.
        assert!(detect(&input, &settings(), "RUB", at(2026, 12, 4)).is_empty());
        input.links[0].consent_expires_at = Some(at(2027, 3, 20));
        assert!(detect(&input, &settings(), "RUB", now).is_empty());
    }

    #[test]
    fn a_lost_consent_is_critical_and_a_rejected_one_a_warning() {
        let input = ClientInputs {
            client_id: 1,
            links: vec![link("REVOKED", None)],
            ..Default::default()
        };
        let found = detect(&input, &settings(), "RUB", at(2026, 12, 7));
        assert_eq!(
            kinds(&found),
            vec![(SignalKind::ConsentLost, SignalSeverity::Critical)]
        );
        assert_eq!(found[0].key, "CONSENT_LOST:link:7");
        let input = ClientInputs {
            client_id: 1,
            links: vec![link("REJECTED", None)],
            ..Default::default()
        };
        assert_eq!(
            kinds(&detect(&input, &settings(), "RUB", at(2026, 12, 7))),
            vec![(SignalKind::ConsentLost, SignalSeverity::Warning)]
        );
    }

    fn agreement(kind: &str, bank: &str, ends: Option<DateTime<Utc>>) -> AgreementFact {
        AgreementFact {
            id: 3,
            bank_code: bank.into(),
            kind: kind.into(),
            product_name: "Вклад".into(),
            amount_minor: 50_000_000,
            currency: "RUB".into(),
            opened_at: Some(at(2025, 6, 1)),
            ends_at: ends,
            first_seen_at: at(2025, 7, 1),
            link_created_at: Some(at(2025, 7, 1)),
        }
    }

    #[test]
    fn deposits_maturing_and_loans_ending_within_30_days_at_any_bank() {
        let now = at(2026, 12, 7);
        let input = ClientInputs {
            client_id: 1,
            agreements: vec![
                agreement("DEPOSIT", "abank", Some(at(2026, 12, 12))),
                agreement("LOAN", "vbank", Some(at(2027, 1, 5))),
                agreement("DEPOSIT", "sbank", Some(at(2027, 2, 1))),
                agreement("DEPOSIT", "sbank", None),
            ],
            ..Default::default()
        };
        let found = detect(&input, &settings(), "RUB", now);
        assert_eq!(
            kinds(&found),
            vec![
                (SignalKind::DepositMaturing, SignalSeverity::Warning),
                (SignalKind::LoanEnding, SignalSeverity::Info),
            ]
        );
        assert_eq!(found[0].evidence.code_of("held"), Some("HERE"));
        assert_eq!(found[1].evidence.code_of("held"), Some("ELSEWHERE"));
    }

    #[test]
    fn a_product_new_at_another_bank_is_raised_and_an_old_one_is_not() {
        let now = at(2026, 12, 7);
        let mut fresh = agreement("LOAN", "vbank", Some(at(2029, 1, 1)));
        fresh.opened_at = Some(at(2026, 11, 20));
        let old = agreement("LOAN", "vbank", Some(at(2029, 1, 1)));
        let mut seen_later = agreement("DEPOSIT", "sbank", None);
        seen_later.opened_at = None;
        seen_later.first_seen_at = at(2026, 12, 1);
        let home = agreement("LOAN", "abank", Some(at(2029, 1, 1)));
        let mut home = home;
        home.opened_at = Some(at(2026, 11, 20));
        let input = ClientInputs {
            client_id: 1,
            agreements: vec![fresh, old, seen_later, home],
            ..Default::default()
        };
        let found = detect(&input, &settings(), "RUB", now);
        let external: Vec<&Fact> = found
            .iter()
            .filter(|f| f.kind == SignalKind::NewExternalProduct)
            .collect();
        assert_eq!(external.len(), 2, "{found:?}");
        // Without a home bank nothing is "elsewhere".
        let plain = SignalSettings::default();
        assert!(detect(&input, &plain, "RUB", now)
            .iter()
            .all(|f| f.kind != SignalKind::NewExternalProduct));
    }

    fn salary(months: &[(i32, &str)]) -> SalaryFact {
        SalaryFact {
            employer: "ООО Ромашка".into(),
            currency: "RUB".into(),
            typical_minor: 15_000_000,
            typical_day: 5,
            last_paid_at: at(2026, 11, 5),
            next_expected_at: at(2026, 12, 5),
            months: months
                .iter()
                .enumerate()
                .map(|(i, (m, b))| (*m, (*b).to_owned(), 100 + i as i64, 15_000_000))
                .collect(),
        }
    }

    #[test]
    fn a_salary_is_missing_after_its_grace_days() {
        let s = salary(&[(202609, "abank"), (202610, "abank"), (202611, "abank")]);
        let input = ClientInputs {
            client_id: 1,
            salary: Some(s),
            ..Default::default()
        };
        assert!(detect(&input, &settings(), "RUB", at(2026, 12, 9)).is_empty());
        let found = detect(&input, &settings(), "RUB", at(2026, 12, 11));
        assert_eq!(
            kinds(&found),
            vec![(SignalKind::SalaryMissing, SignalSeverity::Warning)]
        );
    }

    #[test]
    fn a_salary_moved_after_two_months_at_another_bank() {
        let moved = salary(&[
            (202608, "abank"),
            (202609, "abank"),
            (202610, "abank"),
            (202611, "vbank"),
        ]);
        let found = salary_moved(&moved).expect("moved");
        assert_eq!(
            (found.from_bank.as_str(), found.to_bank.as_str()),
            ("abank", "vbank")
        );
        assert_eq!((found.first_month, found.months_before), (202611, 3));
        // The next month at the new bank keeps the same fact (its first month).
        let later = salary(&[
            (202609, "abank"),
            (202610, "abank"),
            (202611, "vbank"),
            (202612, "vbank"),
        ]);
        assert_eq!(salary_moved(&later).map(|m| m.first_month), Some(202611));
        // One odd month elsewhere before is not a move; always one bank is not either.
        assert!(salary_moved(&salary(&[(202610, "vbank"), (202611, "abank")])).is_none());
        assert!(salary_moved(&salary(&[(202610, "abank"), (202611, "abank")])).is_none());
    }

    #[test]
    fn income_drops_against_the_median_of_the_months_before() {
        let now = at(2026, 12, 7);
        let mut months: BTreeMap<i32, i64> = [
            (202606, 10_000_000),
            (202607, 10_000_000),
            (202608, 12_000_000),
            (202609, 10_000_000),
            (202610, 11_000_000),
            (202611, 6_000_000),
        ]
        .into_iter()
        .collect();
        let input = ClientInputs {
            client_id: 1,
            month_income: months.clone(),
            ..Default::default()
        };
        let found = detect(&input, &settings(), "RUB", now);
        assert_eq!(
            kinds(&found),
            vec![(SignalKind::IncomeDrop, SignalSeverity::Warning)]
        );
        assert_eq!(found[0].key, "INCOME_DROP:client:1:202611");
        assert_eq!(
            found[0].evidence.number_of("drop_percent"),
            Some(Decimal::new(400, 1))
        );
        // A 20 % dip is not a drop; a client with two months of history is not judged.
        months.insert(202611, 8_000_000);
        let input = ClientInputs {
            month_income: months,
            ..input
        };
        assert!(detect(&input, &settings(), "RUB", now).is_empty());
        let young: BTreeMap<i32, i64> = [(202610, 10_000_000), (202611, 0)].into_iter().collect();
        assert!(income_drop(&young, &settings(), now).is_none());
    }

    #[test]
    fn a_large_inflow_is_above_the_floor_and_many_times_the_median() {
        let inflow = |amount: i64, median: i64| InflowFact {
            transaction_id: 9,
            bank_code: "abank".into(),
            booked_at: at(2026, 12, 5),
            amount_minor: amount,
            currency: "RUB".into(),
            usual_month_minor: median,
        };
        let input = ClientInputs {
            client_id: 1,
            inflows: vec![
                inflow(150_000_000, 2_000_000),
                inflow(150_000_000, 50_000_000),
                inflow(5_000_000, 100_000),
            ],
            ..Default::default()
        };
        let found = detect(&input, &settings(), "RUB", at(2026, 12, 7));
        assert_eq!(
            kinds(&found),
            vec![(SignalKind::LargeInflow, SignalSeverity::Info)]
        );
        assert_eq!(
            found[0].evidence.number_of("multiple"),
            Some(Decimal::from(75))
        );
    }

    #[test]
    fn overdrafts_rating_downgrades_and_low_points() {
        let now = at(2026, 12, 7);
        let input = ClientInputs {
            client_id: 1,
            accounts: vec![
                AccountFact {
                    id: 4,
                    bank_code: "abank".into(),
                    balance_minor: -1_500,
                    currency: "RUB".into(),
                    number_masked: Some("•••• 1234".into()),
                },
                AccountFact {
                    id: 5,
                    bank_code: "abank".into(),
                    balance_minor: 0,
                    currency: "RUB".into(),
                    number_masked: None,
                },
            ],
            rating_changes: vec![
                RatingChangeFact {
                    event_id: 1,
                    at: at(2026, 12, 1),
                    from: Some(Grade::A),
                    to: Grade::B,
                },
                RatingChangeFact {
                    event_id: 2,
                    at: at(2026, 12, 2),
                    from: Some(Grade::C),
                    to: Grade::B,
                },
                RatingChangeFact {
                    event_id: 3,
                    at: at(2026, 12, 3),
                    from: None,
                    to: Grade::C,
                },
                RatingChangeFact {
                    event_id: 4,
                    at: at(2026, 9, 1),
                    from: Some(Grade::A),
                    to: Grade::C,
                },
            ],
            low_points: vec![
                LowPointFact {
                    currency: "RUB".into(),
                    today_minor: 100_000,
                    lowest_minor: -50_000,
                    lowest_on: at(2026, 12, 15),
                    below_on: Some(at(2026, 12, 12)),
                },
                LowPointFact {
                    currency: "USD".into(),
                    today_minor: 100_000,
                    lowest_minor: -50_000,
                    lowest_on: at(2027, 1, 30),
                    below_on: Some(at(2027, 1, 30)),
                },
            ],
            ..Default::default()
        };
        let found = detect(&input, &settings(), "RUB", now);
        assert_eq!(
            kinds(&found),
            vec![
                (SignalKind::Overdraft, SignalSeverity::Critical),
                (SignalKind::RatingDowngrade, SignalSeverity::Warning),
                (SignalKind::LowBalanceAhead, SignalSeverity::Critical),
            ]
        );
    }

    #[test]
    fn medians_and_months() {
        assert_eq!(median(&mut [3, 1, 2]), 2);
        assert_eq!(median(&mut [1, 2]), 2);
        assert_eq!(median(&mut []), 0);
        assert_eq!(month_of_index(month_index(202601) - 1), 202512);
        assert_eq!(month_of_index(month_index(202612) + 1), 202701);
    }
}
