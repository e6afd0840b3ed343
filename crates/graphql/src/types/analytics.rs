//! Analytics objects: merchants, recurring payments, income, insights, offers, the portfolio.

use async_graphql::{Context, Enum, Object, SimpleObject};
use chrono::{DateTime, Utc};
use crm_core::analytics::{Interval, MerchantSpend as CoreMerchant};
use crm_core::domain::Lang as CoreLang;
use crm_core::insights::{Figure as CoreFigure, FigureValue, Severity};
use rust_decimal::Decimal;

use super::enums::{Category, Grade};
use super::objects::{bank_of, Bank, CategorySpend, MoneyObject};
use crate::context::{actor, core};
use crate::error::ApiResultExt;

/// The language of texts.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum Lang {
    #[default]
    Ru,
    En,
}

impl From<Lang> for CoreLang {
    fn from(l: Lang) -> Self {
        match l {
            Lang::Ru => CoreLang::Ru,
            Lang::En => CoreLang::En,
        }
    }
}

/// Spending at one merchant (or transfer counterparty) in a range.
#[derive(SimpleObject, Clone, Debug)]
pub struct MerchantSpend {
    pub merchant: String,
    pub amount: MoneyObject,
    pub count: u64,
    /// Part of the client's total spending in the range, 0 to 1.
    pub share: f64,
}

impl From<CoreMerchant> for MerchantSpend {
    fn from(m: CoreMerchant) -> Self {
        MerchantSpend {
            merchant: m.merchant,
            amount: MoneyObject::from(&m.amount),
            count: m.count,
            share: (m.share * 10_000.0).round() / 10_000.0,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum PaymentInterval {
    Weekly,
    Biweekly,
    Monthly,
    Quarterly,
}

impl From<Interval> for PaymentInterval {
    fn from(i: Interval) -> Self {
        match i {
            Interval::Weekly => PaymentInterval::Weekly,
            Interval::Biweekly => PaymentInterval::Biweekly,
            Interval::Monthly => PaymentInterval::Monthly,
            Interval::Quarterly => PaymentInterval::Quarterly,
        }
    }
}

/// A payment that comes regularly: a subscription, rent, a loan instalment.
#[derive(SimpleObject, Clone, Debug)]
pub struct RecurringPayment {
    /// The payee as the bank wrote it.
    pub merchant: String,
    /// The normalised payee the payments were grouped by.
    pub key: String,
    pub category: Category,
    /// The median payment.
    pub typical_amount: MoneyObject,
    /// The typical amount per month.
    pub monthly_amount: MoneyObject,
    pub interval: PaymentInterval,
    /// The median gap between payments, in days.
    pub interval_days: f64,
    /// For monthly and quarterly payments: the typical day of the month (31 = the last day).
    pub day_of_month: Option<u32>,
    pub occurrences: u32,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub next_expected_at: DateTime<Utc>,
}

impl From<crm_core::analytics::RecurringPayment> for RecurringPayment {
    fn from(p: crm_core::analytics::RecurringPayment) -> Self {
        RecurringPayment {
            typical_amount: MoneyObject::from(&p.typical_amount),
            monthly_amount: MoneyObject::from(&p.monthly_amount),
            merchant: p.merchant,
            key: p.key,
            category: p.category.into(),
            interval: p.interval.into(),
            interval_days: p.interval_days,
            day_of_month: p.day_of_month,
            occurrences: p.occurrences,
            first_at: p.first_at,
            last_at: p.last_at,
            next_expected_at: p.next_expected_at,
        }
    }
}

/// What a client earns: the salary, if one is detected, and the average monthly income.
#[derive(SimpleObject, Clone, Debug)]
pub struct IncomeProfile {
    pub salary_detected: bool,
    pub employer: Option<String>,
    /// The median monthly sum from the employer.
    pub typical_amount: Option<MoneyObject>,
    /// The typical day of the month (31 = the last day).
    pub typical_day: Option<u32>,
    /// Months paid / months due since the first salary, 0 to 1.
    pub regularity: f64,
    pub months_paid: u32,
    pub months_expected: u32,
    pub last_paid_at: Option<DateTime<Utc>>,
    pub next_expected_at: Option<DateTime<Utc>>,
    /// Booked credits except refunds in the base currency, per month of data.
    pub monthly_average_income: MoneyObject,
    /// Months of data the average is over (1 to 12).
    pub months_observed: f64,
}

impl From<crm_core::analytics::IncomeProfile> for IncomeProfile {
    fn from(p: crm_core::analytics::IncomeProfile) -> Self {
        IncomeProfile {
            salary_detected: p.salary_detected,
            employer: p.employer,
            typical_amount: p.typical_amount.as_ref().map(MoneyObject::from),
            typical_day: p.typical_day,
            regularity: (p.regularity * 1000.0).round() / 1000.0,
            months_paid: p.months_paid,
            months_expected: p.months_expected,
            last_paid_at: p.last_paid_at,
            next_expected_at: p.next_expected_at,
            monthly_average_income: MoneyObject::from(&p.monthly_average_income),
            months_observed: (p.months_observed * 100.0).round() / 100.0,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum FigureKind {
    Money,
    /// `value` in percent: `35.2` is 35.2%.
    Percent,
    Number,
    Date,
}

/// A number behind a text, by name (`monthly_income`, `savings_rate`, …).
#[derive(SimpleObject, Clone, Debug)]
pub struct Figure {
    pub name: String,
    pub kind: FigureKind,
    /// Set for `MONEY`.
    pub money: Option<MoneyObject>,
    /// Set for `PERCENT` and `NUMBER`.
    pub value: Option<Decimal>,
    /// Set for `DATE`.
    pub date: Option<DateTime<Utc>>,
    /// The value as people write it, in the requested language.
    pub text: String,
}

impl Figure {
    pub(crate) fn new(f: &CoreFigure, lang: CoreLang) -> Self {
        let (kind, money, value, date) = match &f.value {
            FigureValue::Money(m) => (FigureKind::Money, Some(MoneyObject::from(m)), None, None),
            FigureValue::Percent(p) => (FigureKind::Percent, None, Some(*p), None),
            FigureValue::Number(n) => (FigureKind::Number, None, Some(*n), None),
            FigureValue::Date(d) => (FigureKind::Date, None, None, Some(*d)),
        };
        Figure {
            name: f.name.clone(),
            kind,
            money,
            value,
            date,
            text: f.text(lang),
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum InsightSeverity {
    Positive,
    Info,
    Warning,
}

/// A plain-language observation about a client, with the numbers behind it.
#[derive(SimpleObject, Clone, Debug)]
pub struct Insight {
    /// Stable code: `SPENDING_CHANGE`, `TOP_CATEGORY`, `SALARY`, `IDLE_BALANCE`, …
    pub kind: String,
    pub severity: InsightSeverity,
    pub text: String,
    pub figures: Vec<Figure>,
}

impl Insight {
    pub fn new(i: &crm_core::insights::Insight, lang: CoreLang) -> Self {
        Insight {
            kind: i.kind.to_owned(),
            severity: match i.severity {
                Severity::Positive => InsightSeverity::Positive,
                Severity::Info => InsightSeverity::Info,
                Severity::Warning => InsightSeverity::Warning,
            },
            text: i.text.get(lang).to_owned(),
            figures: i.figures.iter().map(|f| Figure::new(f, lang)).collect(),
        }
    }
}

/// A product of a bank's catalogue.
pub struct Product(pub crm_core::offers::Product);

#[Object(name = "Product")]
impl Product {
    async fn bank(&self, ctx: &Context<'_>) -> async_graphql::Result<Bank> {
        bank_of(ctx, &self.0.bank_code)
    }
    /// The bank's product id.
    async fn id(&self) -> &str {
        &self.0.id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// `deposit`, `savings`, `loan`, `credit_card`, `card`, or the bank's own word.
    #[graphql(name = "type")]
    async fn product_type(&self) -> &str {
        &self.0.product_type
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Percent per year.
    async fn rate(&self) -> Option<Decimal> {
        self.0.rate
    }
    async fn min_amount(&self) -> Option<MoneyObject> {
        self.0.min_amount.as_ref().map(MoneyObject::from)
    }
    async fn max_amount(&self) -> Option<MoneyObject> {
        self.0.max_amount.as_ref().map(MoneyObject::from)
    }
    async fn term_months(&self) -> Option<i32> {
        self.0.term_months
    }
}

/// A product worth offering the client, and why.
#[derive(SimpleObject)]
pub struct Offer {
    pub product: Product,
    /// Stable code of the rule: `IDLE_BALANCE`, `HIGH_DEBT_SERVICE`, `BUILD_BUFFER`,
    /// `CASH_HEAVY`, `REGULAR_INCOME_LOW_DEBT`.
    pub reason_code: String,
    pub reason: String,
    pub figures: Vec<Figure>,
}

impl Offer {
    pub fn new(o: crm_core::offers::Offer, lang: CoreLang) -> Self {
        Offer {
            reason_code: o.reason_code.to_owned(),
            reason: o.reason.get(lang).to_owned(),
            figures: o.figures.iter().map(|f| Figure::new(f, lang)).collect(),
            product: Product(o.product),
        }
    }
}

/// Clients of one grade; `grade: null` counts the clients without a rating.
#[derive(SimpleObject, Clone, Debug)]
pub struct GradeCount {
    pub grade: Option<Grade>,
    pub count: u64,
    /// Average score of the grade's clients.
    pub average_score: u32,
}

impl From<&crm_core::portfolio::GradeCount> for GradeCount {
    fn from(g: &crm_core::portfolio::GradeCount) -> Self {
        GradeCount {
            grade: g.grade.map(Into::into),
            count: g.count,
            average_score: g.average_score,
        }
    }
}

/// What one bank holds across the portfolio.
pub struct BankTotals(pub crm_core::portfolio::BankTotals);

#[Object(name = "BankTotals")]
impl BankTotals {
    async fn bank(&self, ctx: &Context<'_>) -> async_graphql::Result<Bank> {
        bank_of(ctx, &self.0.bank_code)
    }
    /// Clients with a link to the bank or an account at it.
    async fn clients(&self) -> u64 {
        self.0.clients
    }
    /// Open accounts.
    async fn accounts(&self) -> u64 {
        self.0.accounts
    }
    /// The clients' money per currency, base currency first: balances of open accounts in
    /// credit that are not debts.
    async fn balance(&self) -> Vec<MoneyObject> {
        self.0.balances.iter().map(MoneyObject::from).collect()
    }
    /// What clients owe on open loan and credit-card accounts and overdrafts per currency,
    /// positive.
    async fn debts(&self) -> Vec<MoneyObject> {
        self.0.debts.iter().map(MoneyObject::from).collect()
    }
    /// Booked transactions in every currency.
    async fn transactions(&self) -> u64 {
        self.0.transactions
    }
    /// Booked income in the base currency.
    async fn income(&self) -> MoneyObject {
        MoneyObject::from(&self.0.income)
    }
    /// Booked spending in the base currency.
    async fn expense(&self) -> MoneyObject {
        MoneyObject::from(&self.0.expense)
    }
}

/// The portfolio: grades, banks and where the money goes.
pub struct Portfolio;

#[Object]
impl Portfolio {
    /// Clients of your book per grade: A, B, C, then the unrated (`grade: null`).
    async fn grades(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<GradeCount>> {
        let who = actor(ctx).api()?;
        let grades = core(ctx).api()?.grade_distribution(who).await.api()?;
        Ok(grades.iter().map(GradeCount::from).collect())
    }

    /// Totals per bank over your book (and `manual` for hand-recorded entries).
    async fn banks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<BankTotals>> {
        let who = actor(ctx).api()?;
        let banks = core(ctx).api()?.bank_totals(who).await.api()?;
        Ok(banks.into_iter().map(BankTotals).collect())
    }

    /// Booked spending of your book's clients in `[from, to)` by category, largest first (one currency,
    /// the base currency by default).
    async fn categories(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        currency: Option<String>,
    ) -> async_graphql::Result<Vec<CategorySpend>> {
        let core = core(ctx).api()?;
        let currency = match currency {
            Some(c) => crm_core::domain::Currency::parse(&c).api()?,
            None => core.settings().base_currency.clone(),
        };
        let rows = core
            .portfolio_spending_by_category(actor(ctx).api()?, from, to, &currency)
            .await
            .api()?;
        Ok(rows.iter().map(CategorySpend::from).collect())
    }
}
