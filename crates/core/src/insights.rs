//! Plain-language observations about one client, each with the numbers behind it, in Russian
//! and English. Computed from the aggregates (spending periods), the rating's measurements
//! (income, spending, buffer, debt, cash, overdrafts) and the recurring-payment detector — a
//! bounded read of the client's last 12 months; nothing is stored.
//!
//! | kind | when | severity |
//! |---|---|---|
//! | `NO_DATA` | no base-currency data in the last 12 months | info |
//! | `SPENDING_CHANGE` | the last 30 days differ ≥ 20% from the 90 days before (per 30 days) | warning up, positive down |
//! | `TOP_CATEGORY` | the largest category of the last 90 days | info |
//! | `CATEGORY_GROWTH` | a category's last 30 days ≥ 1.5× its monthly average of the 90 days before, and ≥ 5% of spending | warning |
//! | `SAVINGS` | savings rate over the window | positive ≥ 10%, warning < 0, else info |
//! | `SALARY` / `NO_SALARY` | salary detection | positive / info |
//! | `IDLE_BALANCE` / `LOW_BUFFER` | balances > 3 / < 1 month of spending | info / warning |
//! | `RECURRING` | recurring payments found | info |
//! | `UPCOMING_PAYMENTS` | recurring payments expected in the next 7 days | info |
//! | `DEBT_LOAD` | loan payments ≥ 30% of income | warning |
//! | `CASH_HEAVY` | cash ≥ 30% of spending | warning |
//! | `OVERDRAFT` | an account below zero | warning |
//! | `RETURNED_PAYMENTS` | returned or refused payments in the window | warning |
//! | `OTHER_CURRENCIES` | data in currencies the figures leave out | info |

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use crate::aggregates::{category_totals, Scope};
use crate::analytics::recurring::RecurringPayment;
use crate::domain::format::{
    decimal_2, format_date, format_money, format_money_rounded, format_months, format_percent,
    Lang, Localized,
};
use crate::domain::{Category, Currency, Direction, Money};
use crate::error::CoreResult;
use crate::ratings::{measure_with_salary, RatingInputs};
use crate::Core;

/// One number behind a text.
#[derive(Clone, Debug, PartialEq)]
pub enum FigureValue {
    Money(Money),
    /// Percentage points: `35.2` is 35.2%.
    Percent(Decimal),
    /// A count or a quantity such as months.
    Number(Decimal),
    Date(DateTime<Utc>),
}

/// A named number: `("spending_30d", 84 000 ₽)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub name: String,
    pub value: FigureValue,
}

impl Figure {
    pub fn money(name: &str, m: Money) -> Self {
        Figure {
            name: name.to_owned(),
            value: FigureValue::Money(m),
        }
    }
    pub fn percent(name: &str, ratio: f64) -> Self {
        Figure {
            name: name.to_owned(),
            value: FigureValue::Percent(decimal_2(ratio * 100.0)),
        }
    }
    pub fn number(name: &str, x: f64) -> Self {
        Figure {
            name: name.to_owned(),
            value: FigureValue::Number(decimal_2(x)),
        }
    }
    pub fn date(name: &str, at: DateTime<Utc>) -> Self {
        Figure {
            name: name.to_owned(),
            value: FigureValue::Date(at),
        }
    }

    /// The value as people write it.
    pub fn text(&self, lang: Lang) -> String {
        match &self.value {
            FigureValue::Money(m) => format_money(m, lang),
            FigureValue::Percent(p) => crate::domain::format::format_rate(*p, lang),
            FigureValue::Number(n) => {
                crate::domain::format::format_number(crate::domain::format::to_f64(*n), 2, lang)
            }
            FigureValue::Date(d) => format_date(d.date_naive(), lang),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    Positive,
    Info,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Positive => "POSITIVE",
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
        }
    }
}

/// An observation about a client.
#[derive(Clone, Debug, PartialEq)]
pub struct Insight {
    /// Stable code, e.g. `SPENDING_CHANGE` (see the module docs).
    pub kind: &'static str,
    pub severity: Severity,
    pub text: Localized,
    pub figures: Vec<Figure>,
}

impl Insight {
    fn new(kind: &'static str, severity: Severity, ru: String, en: String) -> Self {
        Insight {
            kind,
            severity,
            text: Localized::new(ru, en),
            figures: Vec::new(),
        }
    }
    fn with(mut self, figures: Vec<Figure>) -> Self {
        self.figures = figures;
        self
    }
}

fn cat_name(c: Category, lang: Lang) -> &'static str {
    let (ru, en) = c.names();
    lang.pick(ru, en)
}

/// Spending of one client by category over `[from, to)`.
async fn spending(
    core: &Core,
    client_id: i64,
    base: &Currency,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> CoreResult<Vec<(Category, i64)>> {
    Ok(category_totals(
        core.db.conn(),
        Scope::Client(client_id),
        base,
        Some(Direction::Debit),
        from,
        to,
    )
    .await?
    .into_iter()
    .map(|c| (c.category, c.amount_minor))
    .collect())
}

/// The facts insights and offers are made of: measured once.
pub(crate) struct ClientFacts {
    pub base: Currency,
    pub inputs: RatingInputs,
    pub salary: Option<crate::analytics::income::Salary>,
    pub recurring: Vec<RecurringPayment>,
}

impl ClientFacts {
    pub fn money(&self, minor: i64) -> Money {
        Money::new(minor, self.base.clone())
    }
    pub fn savings_rate(&self) -> Option<f64> {
        let i = self.inputs.income_minor;
        (i > 0).then(|| (i - self.inputs.spending_minor) as f64 / i as f64)
    }
    /// Balances in months of spending.
    pub fn buffer_months(&self) -> Option<f64> {
        let s = self.inputs.spending_minor;
        (s > 0).then(|| self.inputs.balance_minor as f64 / s as f64)
    }
    pub fn debt_ratio(&self) -> Option<f64> {
        let i = self.inputs.income_minor;
        (i > 0).then(|| self.inputs.loan_minor as f64 / i as f64)
    }
    pub fn cash_share(&self) -> Option<f64> {
        let s = self.inputs.spending_minor;
        (s > 0).then(|| self.inputs.cash_minor as f64 / s as f64)
    }
}

impl Core {
    pub(crate) async fn client_facts(
        &self,
        client_id: i64,
        now: DateTime<Utc>,
    ) -> CoreResult<Option<ClientFacts>> {
        self.client(client_id).await?;
        let base = self.settings.base_currency.clone();
        let conn = self.db.conn();
        let Some((inputs, salary)) = measure_with_salary(conn, &base, client_id, now).await? else {
            return Ok(None);
        };
        let recurring = self.recurring_payments(client_id, now).await?;
        Ok(Some(ClientFacts {
            base,
            inputs,
            salary,
            recurring,
        }))
    }

    /// Observations about the client as of `now`, most important first (warnings, then
    /// positives, then the rest), each in Russian and English with its figures.
    pub async fn insights(&self, client_id: i64, now: DateTime<Utc>) -> CoreResult<Vec<Insight>> {
        let Some(facts) = self.client_facts(client_id, now).await? else {
            return Ok(vec![Insight::new(
                "NO_DATA",
                Severity::Info,
                "Нет операций в базовой валюте за последние 12 месяцев: выводы делать не из чего."
                    .into(),
                "No transactions in the base currency in the last 12 months: nothing to conclude from."
                    .into(),
            )]);
        };
        let mut out = Vec::new();
        let base = facts.base.clone();
        let m = |minor: i64| facts.money(minor);

        // Spending: the last 30 days against the 90 before.
        let d30 = now - Duration::days(30);
        let d120 = now - Duration::days(120);
        let recent = spending(self, client_id, &base, d30, now).await?;
        let before = spending(self, client_id, &base, d120, d30).await?;
        let recent_total: i64 = recent.iter().map(|c| c.1).sum();
        let before_avg = before.iter().map(|c| c.1).sum::<i64>() / 3;
        if before_avg > 0 {
            let change = (recent_total - before_avg) as f64 / before_avg as f64;
            if change.abs() >= 0.20 {
                let (sev, ru_word, en_word) = if change > 0.0 {
                    (Severity::Warning, "больше", "more")
                } else {
                    (Severity::Positive, "меньше", "less")
                };
                let pct = |l| format_percent(change.abs(), l);
                out.push(
                    Insight::new(
                        "SPENDING_CHANGE",
                        sev,
                        format!(
                            "Расходы за последние 30 дней — {}, на {} {ru_word}, чем в среднем за 30 дней до этого ({}).",
                            format_money_rounded(&m(recent_total), Lang::Ru),
                            pct(Lang::Ru),
                            format_money_rounded(&m(before_avg), Lang::Ru)
                        ),
                        format!(
                            "Spending in the last 30 days is {}, {} {en_word} than the 30-day average before ({}).",
                            format_money_rounded(&m(recent_total), Lang::En),
                            pct(Lang::En),
                            format_money_rounded(&m(before_avg), Lang::En)
                        ),
                    )
                    .with(vec![
                        Figure::money("spending_30d", m(recent_total)),
                        Figure::money("average_30d_before", m(before_avg)),
                        Figure::percent("change", change),
                    ]),
                );
            }
            // The category that grew most.
            let grown = recent
                .iter()
                .filter_map(|(c, amount)| {
                    let prev = before.iter().find(|b| b.0 == *c).map_or(0, |b| b.1) / 3;
                    // Grown by half at least, and 5% or more of the recent spending (compared
                    // in whole minor units).
                    let (a, p) = (i128::from(*amount), i128::from(prev));
                    (prev > 0 && a * 2 >= p * 3 && a * 20 >= i128::from(recent_total))
                        .then(|| (*c, *amount, prev, (*amount - prev) as f64 / prev as f64))
                })
                .max_by(|a, b| (a.1 - a.2).cmp(&(b.1 - b.2)));
            if let Some((c, amount, prev, growth)) = grown {
                out.push(
                    Insight::new(
                        "CATEGORY_GROWTH",
                        Severity::Warning,
                        format!(
                            "Траты на «{}» выросли на {}: {} за 30 дней против {} в среднем раньше.",
                            cat_name(c, Lang::Ru),
                            format_percent(growth, Lang::Ru),
                            format_money_rounded(&m(amount), Lang::Ru),
                            format_money_rounded(&m(prev), Lang::Ru)
                        ),
                        format!(
                            "Spending on {} grew by {}: {} in 30 days against {} on average before.",
                            cat_name(c, Lang::En),
                            format_percent(growth, Lang::En),
                            format_money_rounded(&m(amount), Lang::En),
                            format_money_rounded(&m(prev), Lang::En)
                        ),
                    )
                    .with(vec![
                        Figure::money("spending_30d", m(amount)),
                        Figure::money("average_30d_before", m(prev)),
                        Figure::percent("growth", growth),
                    ]),
                );
            }
        }

        // The largest category of 90 days.
        let quarter = spending(self, client_id, &base, now - Duration::days(90), now).await?;
        let q_total: i64 = quarter.iter().map(|c| c.1).sum();
        if let Some((c, amount)) = quarter.first().copied().filter(|_| q_total > 0) {
            let share = amount as f64 / q_total as f64;
            out.push(
                Insight::new(
                    "TOP_CATEGORY",
                    Severity::Info,
                    format!(
                        "Больше всего денег уходит на «{}»: {} за 90 дней, {} расходов.",
                        cat_name(c, Lang::Ru),
                        format_money_rounded(&m(amount), Lang::Ru),
                        format_percent(share, Lang::Ru)
                    ),
                    format!(
                        "Most money goes to {}: {} in 90 days, {} of spending.",
                        cat_name(c, Lang::En),
                        format_money_rounded(&m(amount), Lang::En),
                        format_percent(share, Lang::En)
                    ),
                )
                .with(vec![
                    Figure::money("amount_90d", m(amount)),
                    Figure::money("spending_90d", m(q_total)),
                    Figure::percent("share", share),
                ]),
            );
        }

        let i = &facts.inputs;
        let income_fig = Figure::money("monthly_income", m(i.income_minor));
        let spend_fig = Figure::money("monthly_spending", m(i.spending_minor));
        match facts.savings_rate() {
            Some(rate) => {
                let (sev, ru, en) = if rate < 0.0 {
                    (
                        Severity::Warning,
                        format!(
                            "Тратит больше, чем зарабатывает: расходы {} в месяц при доходе {}.",
                            format_money_rounded(&m(i.spending_minor), Lang::Ru),
                            format_money_rounded(&m(i.income_minor), Lang::Ru)
                        ),
                        format!(
                            "Spends more than earns: {} a month against an income of {}.",
                            format_money_rounded(&m(i.spending_minor), Lang::En),
                            format_money_rounded(&m(i.income_minor), Lang::En)
                        ),
                    )
                } else {
                    (
                        if rate >= 0.10 {
                            Severity::Positive
                        } else {
                            Severity::Info
                        },
                        format!(
                            "Откладывает {} дохода: доход {} в месяц, расходы {}.",
                            format_percent(rate, Lang::Ru),
                            format_money_rounded(&m(i.income_minor), Lang::Ru),
                            format_money_rounded(&m(i.spending_minor), Lang::Ru)
                        ),
                        format!(
                            "Saves {} of income: {} a month in, {} out.",
                            format_percent(rate, Lang::En),
                            format_money_rounded(&m(i.income_minor), Lang::En),
                            format_money_rounded(&m(i.spending_minor), Lang::En)
                        ),
                    )
                };
                out.push(Insight::new("SAVINGS", sev, ru, en).with(vec![
                    Figure::percent("savings_rate", rate),
                    income_fig.clone(),
                    spend_fig.clone(),
                ]));
            }
            None => out.push(
                Insight::new(
                    "SAVINGS",
                    Severity::Warning,
                    format!(
                        "Поступлений нет, расходы {} в месяц.",
                        format_money_rounded(&m(i.spending_minor), Lang::Ru)
                    ),
                    format!(
                        "No income, spending {} a month.",
                        format_money_rounded(&m(i.spending_minor), Lang::En)
                    ),
                )
                .with(vec![income_fig.clone(), spend_fig.clone()]),
            ),
        }

        match &facts.salary {
            Some(s) => {
                let amount = Money::new(s.typical_minor, s.currency.clone());
                let day_ru = if s.typical_day >= 31 {
                    "в последний день месяца".to_owned()
                } else {
                    format!("{}-го числа", s.typical_day)
                };
                let day_en = if s.typical_day >= 31 {
                    "on the last day of the month".to_owned()
                } else {
                    format!("on day {} of the month", s.typical_day)
                };
                out.push(
                    Insight::new(
                        "SALARY",
                        Severity::Positive,
                        format!(
                            "Зарплата от {}: около {} {day_ru}, {} из {} мес. Следующая ожидается {}.",
                            s.employer,
                            format_money_rounded(&amount, Lang::Ru),
                            s.months_paid,
                            s.months_expected,
                            format_date(s.next_expected_at.date_naive(), Lang::Ru)
                        ),
                        format!(
                            "Salary from {}: about {} {day_en}, {} of {} months. Next expected {}.",
                            s.employer,
                            format_money_rounded(&amount, Lang::En),
                            s.months_paid,
                            s.months_expected,
                            format_date(s.next_expected_at.date_naive(), Lang::En)
                        ),
                    )
                    .with(vec![
                        Figure::money("typical_amount", amount),
                        Figure::number("months_paid", f64::from(s.months_paid)),
                        Figure::percent("regularity", s.regularity()),
                        Figure::date("next_expected", s.next_expected_at),
                    ]),
                );
            }
            None => out.push(
                Insight::new(
                    "NO_SALARY",
                    Severity::Info,
                    format!(
                        "Регулярной зарплаты не видно; средний доход {} в месяц.",
                        format_money_rounded(&m(i.income_minor), Lang::Ru)
                    ),
                    format!(
                        "No regular salary seen; average income {} a month.",
                        format_money_rounded(&m(i.income_minor), Lang::En)
                    ),
                )
                .with(vec![income_fig.clone()]),
            ),
        }

        if let Some(months) = facts.buffer_months() {
            let balance = m(i.balance_minor);
            if months > 3.0 {
                let idle = i.balance_minor - 3 * i.spending_minor;
                out.push(
                    Insight::new(
                        "IDLE_BALANCE",
                        Severity::Info,
                        format!(
                            "На счетах {} — {} расходов; {} сверх трёхмесячного запаса могли бы приносить доход.",
                            format_money_rounded(&balance, Lang::Ru),
                            format_months(months, Lang::Ru),
                            format_money_rounded(&m(idle), Lang::Ru)
                        ),
                        format!(
                            "Balances of {} cover {} of spending; {} above a three-month reserve could earn interest.",
                            format_money_rounded(&balance, Lang::En),
                            format_months(months, Lang::En),
                            format_money_rounded(&m(idle), Lang::En)
                        ),
                    )
                    .with(vec![
                        Figure::money("balance", balance),
                        Figure::number("buffer_months", months),
                        Figure::money("idle", m(idle)),
                    ]),
                );
            } else if months < 1.0 {
                out.push(
                    Insight::new(
                        "LOW_BUFFER",
                        Severity::Warning,
                        format!(
                            "Запас на счетах — {} ({} расходов): меньше месяца.",
                            format_money_rounded(&balance, Lang::Ru),
                            format_months(months.max(0.0), Lang::Ru)
                        ),
                        format!(
                            "Balances of {} cover {} of spending: less than a month.",
                            format_money_rounded(&balance, Lang::En),
                            format_months(months.max(0.0), Lang::En)
                        ),
                    )
                    .with(vec![
                        Figure::money("balance", balance),
                        Figure::number("buffer_months", months),
                    ]),
                );
            }
        }

        let in_base: Vec<&RecurringPayment> = facts
            .recurring
            .iter()
            .filter(|r| r.typical_amount.currency == base)
            .collect();
        if let Some(largest) = in_base.first() {
            let monthly: i64 = in_base.iter().map(|r| r.monthly_amount.minor).sum();
            out.push(
                Insight::new(
                    "RECURRING",
                    Severity::Info,
                    format!(
                        "Регулярных платежей: {}, на {} в месяц; крупнейший — {} ({}).",
                        in_base.len(),
                        format_money_rounded(&m(monthly), Lang::Ru),
                        largest.merchant,
                        format_money(&largest.typical_amount, Lang::Ru)
                    ),
                    format!(
                        "{} recurring payments, {} a month; the largest is {} ({}).",
                        in_base.len(),
                        format_money_rounded(&m(monthly), Lang::En),
                        largest.merchant,
                        format_money(&largest.typical_amount, Lang::En)
                    ),
                )
                .with(vec![
                    Figure::number("count", in_base.len() as f64),
                    Figure::money("monthly_total", m(monthly)),
                    Figure::money("largest", largest.typical_amount.clone()),
                ]),
            );
        }
        let soon: Vec<&RecurringPayment> = in_base
            .iter()
            .copied()
            .filter(|r| r.next_expected_at >= now && r.next_expected_at <= now + Duration::days(7))
            .collect();
        if !soon.is_empty() {
            let total: i64 = soon.iter().map(|r| r.typical_amount.minor).sum();
            let list = |l: Lang| {
                soon.iter()
                    .map(|r| {
                        format!(
                            "{} ({})",
                            r.merchant,
                            format_date(r.next_expected_at.date_naive(), l)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.push(
                Insight::new(
                    "UPCOMING_PAYMENTS",
                    Severity::Info,
                    format!(
                        "В ближайшие 7 дней ожидаются платежи на {}: {}.",
                        format_money(&m(total), Lang::Ru),
                        list(Lang::Ru)
                    ),
                    format!(
                        "Payments of {} are expected in the next 7 days: {}.",
                        format_money(&m(total), Lang::En),
                        list(Lang::En)
                    ),
                )
                .with(vec![
                    Figure::money("total", m(total)),
                    Figure::number("count", soon.len() as f64),
                ]),
            );
        }

        if let Some(ratio) = facts.debt_ratio().filter(|r| *r >= 0.30) {
            out.push(
                Insight::new(
                    "DEBT_LOAD",
                    Severity::Warning,
                    format!(
                        "Платежи по кредитам — {} дохода: {} из {} в месяц.",
                        format_percent(ratio, Lang::Ru),
                        format_money_rounded(&m(i.loan_minor), Lang::Ru),
                        format_money_rounded(&m(i.income_minor), Lang::Ru)
                    ),
                    format!(
                        "Loan payments take {} of income: {} of {} a month.",
                        format_percent(ratio, Lang::En),
                        format_money_rounded(&m(i.loan_minor), Lang::En),
                        format_money_rounded(&m(i.income_minor), Lang::En)
                    ),
                )
                .with(vec![
                    Figure::percent("debt_service_ratio", ratio),
                    Figure::money("monthly_loan_payments", m(i.loan_minor)),
                    income_fig.clone(),
                ]),
            );
        }
        if let Some(share) = facts.cash_share().filter(|s| *s >= 0.30) {
            out.push(
                Insight::new(
                    "CASH_HEAVY",
                    Severity::Warning,
                    format!(
                        "{} расходов — наличные ({} в месяц): траты труднее проследить.",
                        format_percent(share, Lang::Ru),
                        format_money_rounded(&m(i.cash_minor), Lang::Ru)
                    ),
                    format!(
                        "{} of spending is cash ({} a month): harder to trace.",
                        format_percent(share, Lang::En),
                        format_money_rounded(&m(i.cash_minor), Lang::En)
                    ),
                )
                .with(vec![
                    Figure::percent("cash_share", share),
                    Figure::money("monthly_cash", m(i.cash_minor)),
                ]),
            );
        }
        if i.overdraft_accounts > 0 {
            out.push(
                Insight::new(
                    "OVERDRAFT",
                    Severity::Warning,
                    format!(
                        "Счетов с отрицательным балансом за 12 месяцев: {}.",
                        i.overdraft_accounts
                    ),
                    format!(
                        "Accounts with a negative balance in 12 months: {}.",
                        i.overdraft_accounts
                    ),
                )
                .with(vec![Figure::number(
                    "accounts",
                    f64::from(i.overdraft_accounts),
                )]),
            );
        }
        if i.returned_payments > 0 {
            out.push(
                Insight::new(
                    "RETURNED_PAYMENTS",
                    Severity::Warning,
                    format!(
                        "Возвращённых или отклонённых платежей за 12 месяцев: {}.",
                        i.returned_payments
                    ),
                    format!(
                        "Returned or refused payments in 12 months: {}.",
                        i.returned_payments
                    ),
                )
                .with(vec![Figure::number(
                    "payments",
                    f64::from(i.returned_payments),
                )]),
            );
        }
        if !i.other_currencies.is_empty() {
            let list = i.other_currencies.join(", ");
            out.push(Insight::new(
                "OTHER_CURRENCIES",
                Severity::Info,
                format!("Есть операции в {list}: цифры выше — только по {base}."),
                format!("There are transactions in {list}: the figures above are in {base} only."),
            ));
        }
        let rank = |s: Severity| match s {
            Severity::Warning => 0,
            Severity::Positive => 1,
            Severity::Info => 2,
        };
        out.sort_by_key(|x| rank(x.severity));
        Ok(out)
    }
}
