//! The scoring model: measured inputs in, factors, score and grade out. Pure (no database), so
//! every number of the model is tested directly.
//!
//! `score = clamp(round(50 + Σ impacts), 0, 100)`; each impact is a piecewise-linear function of
//! the measured value (flat beyond the first and last points), rounded to 0.1 point:
//!
//! | factor | measured | points (value → impact) |
//! |---|---|---|
//! | `income_level` | average monthly income | 0 → −10, `income_low` → 0, `income_high` → +15 |
//! | `income_regularity` | salary detected (payer, month paid / due) | salary: +10 × regularity; none, income in ≥ 75% of months: 0; otherwise −5 |
//! | `savings_rate` | (income − spending) / income | −50% → −12, 0% → −2, 10% → +2, 30% → +10; no income: −12 |
//! | `liquidity_buffer` | balances / average monthly spending | 0 → −8, 1 → 0, 3 → +6, 6 months → +10; no spending: +10 with money, else 0 |
//! | `debt_service` | loan payments / income | 0% → +5, 30% → 0, 50% → −10, 70% → −15; no income: +5 without loans, else −15 |
//! | `overdrafts` | accounts with a negative balance (now or in a snapshot of the window) | −5 each, at most −10 |
//! | `returned_payments` | returned / refused payments in the window | −4 each, at most −12 |
//! | `cash_share` | cash withdrawals / spending | 20% → 0, 60% → −8 |
//! | `history` (shown when short) | months of data | −2 per month below 6 |
//! | `other_currencies` (shown when any) | currencies not rated | 0 (informational) |
//!
//! The positive maxima add up to 50, so a client strong on every factor scores 100.

use crate::domain::format::{format_money_rounded, format_months, format_percent, Lang};
use crate::domain::{Currency, Grade, Money};

use super::RatingFactor;

/// Grade thresholds and the income scale, from the server's configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct RatingSettings {
    /// Lowest score graded A (`RATING_A_MIN`).
    pub a_min: i32,
    /// Lowest score graded B (`RATING_B_MIN`); below it is C.
    pub b_min: i32,
    /// Monthly income (minor units of the base currency) that earns no points, neither plus nor
    /// minus (`RATING_INCOME_LOW`).
    pub income_low_minor: i64,
    /// Monthly income that earns the full +15 (`RATING_INCOME_HIGH`).
    pub income_high_minor: i64,
}

impl Default for RatingSettings {
    fn default() -> Self {
        RatingSettings {
            a_min: 70,
            b_min: 45,
            income_low_minor: 3_000_000,
            income_high_minor: 15_000_000,
        }
    }
}

impl RatingSettings {
    pub fn grade(&self, score: i32) -> Grade {
        if score >= self.a_min {
            Grade::A
        } else if score >= self.b_min {
            Grade::B
        } else {
            Grade::C
        }
    }
}

/// The score every client starts from.
pub const BASE_SCORE: f64 = 50.0;

/// A detected salary, as the model sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct SalaryFacts {
    pub employer: String,
    pub months_paid: u32,
    pub months_expected: u32,
}

/// What the model measures, over the window, in the base currency. Monthly figures are window
/// totals divided by `months`.
#[derive(Clone, Debug, PartialEq)]
pub struct RatingInputs {
    pub currency: Currency,
    /// Months of data in the window (1 to 12).
    pub months: f64,
    /// Booked credits except refunds, per month.
    pub income_minor: i64,
    /// Booked debits less refunds, per month.
    pub spending_minor: i64,
    /// `LOAN_PAYMENTS` per month.
    pub loan_minor: i64,
    /// `CASH` per month.
    pub cash_minor: i64,
    /// Current balances of the client's accounts in the base currency.
    pub balance_minor: i64,
    pub salary: Option<SalaryFacts>,
    /// Complete months of the window with any income, and how many there were.
    pub income_months: (u32, u32),
    pub overdraft_accounts: u32,
    pub returned_payments: u32,
    /// Currencies with data that the rating does not include.
    pub other_currencies: Vec<String>,
}

/// Linear between points, flat beyond the ends. `points` are sorted by x.
pub(crate) fn curve(x: f64, points: &[(f64, f64)]) -> f64 {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return 0.0;
    };
    if x <= first.0 {
        return first.1;
    }
    if x >= last.0 {
        return last.1;
    }
    for w in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if x <= x1 {
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
        }
    }
    last.1
}

fn points(impact: f64) -> f64 {
    // `+ 0.0` turns -0.0 into 0.0.
    (impact * 10.0).round() / 10.0 + 0.0
}

/// Russian plural: 1 счёт, 2 счёта, 5 счетов.
fn ru_plural(n: u32, one: &str, few: &str, many: &str) -> String {
    let (m10, m100) = (n % 10, n % 100);
    let word = if m10 == 1 && m100 != 11 {
        one
    } else if (2..=4).contains(&m10) && !(12..=14).contains(&m100) {
        few
    } else {
        many
    };
    format!("{n} {word}")
}

fn en_plural(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

struct Factor {
    code: &'static str,
    names: (&'static str, &'static str),
    values: (String, String),
    impact: f64,
}

impl Factor {
    fn into_rating_factor(self) -> RatingFactor {
        RatingFactor {
            code: self.code.to_owned(),
            name: self.names.0.to_owned(),
            name_en: self.names.1.to_owned(),
            value: self.values.0,
            value_en: self.values.1,
            impact: points(self.impact),
        }
    }
}

fn both(f: impl Fn(Lang) -> String) -> (String, String) {
    (f(Lang::Ru), f(Lang::En))
}

/// Scores the inputs: the factors (in a fixed order), the score and the grade.
pub fn score(inputs: &RatingInputs, settings: &RatingSettings) -> (i32, Grade, Vec<RatingFactor>) {
    let money = |minor: i64| Money::new(minor, inputs.currency.clone());
    let income = inputs.income_minor.max(0);
    let spending = inputs.spending_minor.max(0);
    let mut factors = Vec::new();

    let low = settings.income_low_minor.max(1) as f64;
    let high = (settings.income_high_minor as f64).max(low + 1.0);
    factors.push(Factor {
        code: "income_level",
        names: ("Уровень дохода", "Income level"),
        values: both(|l| {
            let m = format_money_rounded(&money(income), l);
            match l {
                Lang::Ru => format!("{m}/мес"),
                Lang::En => format!("{m}/month"),
            }
        }),
        impact: curve(income as f64, &[(0.0, -10.0), (low, 0.0), (high, 15.0)]),
    });

    let (with_income, counted) = inputs.income_months;
    let income_months_share = if counted == 0 {
        0.0
    } else {
        f64::from(with_income) / f64::from(counted)
    };
    factors.push(match &inputs.salary {
        Some(s) => {
            let regularity = if s.months_expected == 0 {
                0.0
            } else {
                (f64::from(s.months_paid) / f64::from(s.months_expected)).min(1.0)
            };
            Factor {
                code: "income_regularity",
                names: ("Регулярность дохода", "Income regularity"),
                values: (
                    format!(
                        "зарплата: {}, {} из {} мес.",
                        s.employer, s.months_paid, s.months_expected
                    ),
                    format!(
                        "salary: {}, {} of {} months",
                        s.employer, s.months_paid, s.months_expected
                    ),
                ),
                impact: 10.0 * regularity,
            }
        }
        None => Factor {
            code: "income_regularity",
            names: ("Регулярность дохода", "Income regularity"),
            values: (
                format!("зарплата не найдена; доход в {with_income} из {counted} мес."),
                format!("no salary found; income in {with_income} of {counted} months"),
            ),
            impact: if counted > 0 && income_months_share >= 0.75 {
                0.0
            } else {
                -5.0
            },
        },
    });

    factors.push(if income == 0 {
        Factor {
            code: "savings_rate",
            names: ("Норма сбережений", "Savings rate"),
            values: ("нет дохода".into(), "no income".into()),
            impact: -12.0,
        }
    } else {
        let rate = (income - spending) as f64 / income as f64;
        Factor {
            code: "savings_rate",
            names: ("Норма сбережений", "Savings rate"),
            values: both(|l| format_percent(rate, l)),
            impact: curve(rate, &[(-0.5, -12.0), (0.0, -2.0), (0.1, 2.0), (0.3, 10.0)]),
        }
    });

    factors.push(if spending == 0 {
        Factor {
            code: "liquidity_buffer",
            names: ("Финансовая подушка", "Liquidity buffer"),
            values: ("нет расходов".into(), "no spending".into()),
            impact: if inputs.balance_minor > 0 { 10.0 } else { 0.0 },
        }
    } else {
        let months = inputs.balance_minor as f64 / spending as f64;
        Factor {
            code: "liquidity_buffer",
            names: ("Финансовая подушка", "Liquidity buffer"),
            values: both(|l| format_months(months, l)),
            impact: curve(months, &[(0.0, -8.0), (1.0, 0.0), (3.0, 6.0), (6.0, 10.0)]),
        }
    });

    let loans = inputs.loan_minor.max(0);
    factors.push(if income == 0 {
        Factor {
            code: "debt_service",
            names: ("Кредитная нагрузка", "Debt service ratio"),
            values: if loans > 0 {
                both(|l| {
                    let m = format_money_rounded(&money(loans), l);
                    match l {
                        Lang::Ru => format!("{m}/мес без дохода"),
                        Lang::En => format!("{m}/month without income"),
                    }
                })
            } else {
                ("нет кредитов".into(), "no loans".into())
            },
            impact: if loans > 0 { -15.0 } else { 5.0 },
        }
    } else {
        let ratio = loans as f64 / income as f64;
        Factor {
            code: "debt_service",
            names: ("Кредитная нагрузка", "Debt service ratio"),
            values: both(|l| format_percent(ratio, l)),
            impact: curve(ratio, &[(0.0, 5.0), (0.3, 0.0), (0.5, -10.0), (0.7, -15.0)]),
        }
    });

    let n = inputs.overdraft_accounts;
    factors.push(Factor {
        code: "overdrafts",
        names: ("Отрицательный баланс", "Overdrafts"),
        values: if n == 0 {
            ("нет".into(), "none".into())
        } else {
            (
                ru_plural(n, "счёт", "счёта", "счетов"),
                en_plural(n, "account", "accounts"),
            )
        },
        impact: (-5.0 * f64::from(n)).max(-10.0),
    });

    let n = inputs.returned_payments;
    factors.push(Factor {
        code: "returned_payments",
        names: ("Возвраты и отказы платежей", "Returned payments"),
        values: if n == 0 {
            ("нет".into(), "none".into())
        } else {
            (
                ru_plural(n, "платёж", "платежа", "платежей"),
                en_plural(n, "payment", "payments"),
            )
        },
        impact: (-4.0 * f64::from(n)).max(-12.0),
    });

    let cash_share = if spending == 0 {
        0.0
    } else {
        inputs.cash_minor.max(0) as f64 / spending as f64
    };
    factors.push(Factor {
        code: "cash_share",
        names: ("Доля наличных", "Cash share"),
        values: both(|l| format_percent(cash_share, l)),
        impact: curve(cash_share, &[(0.2, 0.0), (0.6, -8.0)]),
    });

    if inputs.months < 6.0 {
        factors.push(Factor {
            code: "history",
            names: ("Длина истории", "History length"),
            values: both(|l| format_months(inputs.months, l)),
            impact: -2.0 * (6.0 - inputs.months),
        });
    }

    if !inputs.other_currencies.is_empty() {
        let list = inputs.other_currencies.join(", ");
        factors.push(Factor {
            code: "other_currencies",
            names: ("Другие валюты", "Other currencies"),
            values: (
                format!("{list} не учтены: рейтинг по {}", inputs.currency),
                format!("{list} not rated: rated on {}", inputs.currency),
            ),
            impact: 0.0,
        });
    }

    let factors: Vec<RatingFactor> = factors
        .into_iter()
        .map(Factor::into_rating_factor)
        .collect();
    let total = BASE_SCORE + factors.iter().map(|f| f.impact).sum::<f64>();
    let score = (total.round() as i32).clamp(0, 100);
    (score, settings.grade(score), factors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_interpolate_and_clamp() {
        let pts = [(0.0, -8.0), (1.0, 0.0), (3.0, 6.0), (6.0, 10.0)];
        assert_eq!(curve(-1.0, &pts), -8.0);
        assert_eq!(curve(0.5, &pts), -4.0);
        assert_eq!(curve(2.0, &pts), 3.0);
        assert_eq!(curve(9.0, &pts), 10.0);
    }

    #[test]
    fn plurals() {
        assert_eq!(ru_plural(1, "счёт", "счёта", "счетов"), "1 счёт");
        assert_eq!(ru_plural(3, "счёт", "счёта", "счетов"), "3 счёта");
        assert_eq!(ru_plural(11, "счёт", "счёта", "счетов"), "11 счетов");
        assert_eq!(ru_plural(21, "счёт", "счёта", "счетов"), "21 счёт");
    }

    #[test]
    fn a_perfect_client_scores_100_and_thresholds_grade() {
        let inputs = RatingInputs {
            currency: Currency::rub(),
            months: 12.0,
            income_minor: 20_000_000,
            spending_minor: 10_000_000,
            loan_minor: 0,
            cash_minor: 0,
            balance_minor: 100_000_000,
            salary: Some(SalaryFacts {
                employer: "ООО Ромашка".into(),
                months_paid: 12,
                months_expected: 12,
            }),
            income_months: (12, 12),
            overdraft_accounts: 0,
            returned_payments: 0,
            other_currencies: vec![],
        };
        let settings = RatingSettings::default();
        let (score, grade, factors) = score(&inputs, &settings);
        assert_eq!((score, grade), (100, Grade::A));
        assert_eq!(factors.len(), 8);
        assert_eq!(factors[0].value, "200\u{a0}000\u{a0}₽/мес");
        assert_eq!(factors[0].value_en, "₽200,000/month");
        assert_eq!(settings.grade(69), Grade::B);
        assert_eq!(settings.grade(44), Grade::C);
    }
}
