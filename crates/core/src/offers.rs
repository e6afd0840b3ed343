//! Next best products for a client, from the home bank's catalogue (`HOME_BANK`; every bank's
//! without one; `products`, refreshed with each sync), each with the reason in Russian and English and the numbers behind it. Rules, in
//! order of priority (one offer per rule, the best-fitting product of the catalogue):
//!
//! | reason code | when | product |
//! |---|---|---|
//! | `IDLE_BALANCE` | balances exceed three months of spending | the deposit (else savings account) with the highest rate whose minimum fits the idle amount |
//! | `HIGH_DEBT_SERVICE` | loan payments ≥ 30% of income | the loan with the lowest rate (refinancing) |
//! | `BUILD_BUFFER` | saves ≥ 10% of income but holds < 3 months of spending | the savings account (else deposit) with the highest rate and a minimum the monthly savings reach |
//! | `CASH_HEAVY` | cash ≥ 30% of spending | a debit card |
//! | `REGULAR_INCOME_LOW_DEBT` | a salary, loan payments < 30% of income, no overdraft, no returned payment | a credit card, the lowest rate |
//!
//! Amounts are in the base currency (catalogue products carry no currency and are taken as
//! base-currency products).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::format::{
    format_money_rounded, format_months, format_percent, quoted, Lang, Localized,
};
use crate::domain::{Currency, Money};
use crate::entity::products;
use crate::error::CoreResult;
use crate::insights::{ClientFacts, Figure};
use crate::Core;

/// A product of a bank's catalogue.
#[derive(Clone, Debug, PartialEq)]
pub struct Product {
    pub bank_code: String,
    /// The bank's product id.
    pub id: String,
    pub name: String,
    /// `deposit`, `savings`, `loan`, `credit_card`, `card` or the bank's own word.
    pub product_type: String,
    pub description: Option<String>,
    /// Percent per year.
    pub rate: Option<Decimal>,
    pub min_amount: Option<Money>,
    pub max_amount: Option<Money>,
    pub term_months: Option<i32>,
}

impl Product {
    fn from_model(m: products::Model, base: &Currency) -> Self {
        let currency = m
            .currency
            .as_deref()
            .and_then(Currency::stored)
            .unwrap_or_else(|| base.clone());
        Product {
            rate: m
                .interest_rate
                .as_deref()
                .and_then(|r| Decimal::from_str(r).ok()),
            min_amount: m.min_amount_minor.map(|v| Money::new(v, currency.clone())),
            max_amount: m.max_amount_minor.map(|v| Money::new(v, currency.clone())),
            bank_code: m.bank_code,
            id: m.external_id,
            name: m.name,
            product_type: m.product_type,
            description: m.description,
            term_months: m.term_months,
        }
    }

    /// The rate to compare products by (a product without one ranks as 0 %).
    fn rate_or_zero(&self) -> Decimal {
        self.rate.unwrap_or_default()
    }

    fn fits(&self, amount_minor: i64) -> bool {
        self.min_amount
            .as_ref()
            .is_none_or(|m| m.minor <= amount_minor)
    }
}

/// A product worth offering, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Offer {
    pub product: Product,
    /// Stable code of the rule that chose it (see the module docs).
    pub reason_code: &'static str,
    pub reason: Localized,
    pub figures: Vec<Figure>,
}

/// The product of the first of `types` the catalogue has that `fits`, by rate (highest or
/// lowest first), then bank and id.
pub(crate) fn best<'a>(
    catalogue: &'a [Product],
    types: &[&str],
    fits: impl Fn(&Product) -> bool,
    highest_rate: bool,
) -> Option<&'a Product> {
    for t in types {
        let mut matching: Vec<&Product> = catalogue
            .iter()
            .filter(|p| p.product_type == *t && fits(p))
            .collect();
        matching.sort_by(|a, b| {
            let order = a.rate_or_zero().cmp(&b.rate_or_zero());
            let order = if highest_rate { order.reverse() } else { order };
            order
                .then(a.bank_code.cmp(&b.bank_code))
                .then(a.id.cmp(&b.id))
        });
        if let Some(p) = matching.first() {
            return Some(p);
        }
    }
    None
}

/// `minor × rate / 100`, rounded half away from zero to minor units (a year's interest).
pub(crate) fn yearly_interest(minor: i64, rate: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (Decimal::from(minor) * rate / Decimal::from(100))
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .unwrap_or(0)
}

/// A product's rate as the catalogue gives it, to one decimal (18.6 % never reads as 19 %).
fn rate_text(p: &Product, lang: Lang) -> String {
    p.rate.map_or_else(
        || "—".to_owned(),
        |r| crate::domain::format::format_rate(r, lang),
    )
}

/// The offers for measured facts and a catalogue.
pub(crate) fn choose(facts: &ClientFacts, catalogue: &[Product]) -> Vec<Offer> {
    let i = &facts.inputs;
    let m = |minor: i64| facts.money(minor);
    let mut out = Vec::new();

    if i.spending_minor > 0 && i.balance_minor > 3 * i.spending_minor {
        let idle = i.balance_minor - 3 * i.spending_minor;
        if let Some(p) = best(catalogue, &["deposit", "savings"], |p| p.fits(idle), true) {
            let placed = p.max_amount.as_ref().map_or(idle, |mx| idle.min(mx.minor));
            let yearly = yearly_interest(placed, p.rate_or_zero());
            out.push(Offer {
                product: p.clone(),
                reason_code: "IDLE_BALANCE",
                reason: Localized::new(
                    format!(
                        "Свободный остаток {} сверх трёх месяцев расходов (3 × {}). {} под {} принесёт около {} за год.",
                        format_money_rounded(&m(idle), Lang::Ru),
                        format_money_rounded(&m(i.spending_minor), Lang::Ru),
                        quoted(&p.name, Lang::Ru),
                        rate_text(p, Lang::Ru),
                        format_money_rounded(&m(yearly), Lang::Ru)
                    ),
                    format!(
                        "{} sits idle above three months of spending (3 × {}). {} at {} would earn about {} a year.",
                        format_money_rounded(&m(idle), Lang::En),
                        format_money_rounded(&m(i.spending_minor), Lang::En),
                        p.name,
                        rate_text(p, Lang::En),
                        format_money_rounded(&m(yearly), Lang::En)
                    ),
                ),
                figures: vec![
                    Figure::money("idle_balance", m(idle)),
                    Figure::money("monthly_spending", m(i.spending_minor)),
                    Figure::money("yearly_interest", m(yearly)),
                ],
            });
        }
    }

    if let Some(ratio) = facts
        .debt_ratio()
        .filter(|r| *r >= 0.30 && i.loan_minor > 0)
    {
        if let Some(p) = best(catalogue, &["loan"], |_| true, false) {
            out.push(Offer {
                product: p.clone(),
                reason_code: "HIGH_DEBT_SERVICE",
                reason: Localized::new(
                    format!(
                        "Платежи по кредитам — {} дохода ({} в месяц). Рефинансирование: {} под {} может снизить нагрузку.",
                        format_percent(ratio, Lang::Ru),
                        format_money_rounded(&m(i.loan_minor), Lang::Ru),
                        quoted(&p.name, Lang::Ru),
                        rate_text(p, Lang::Ru)
                    ),
                    format!(
                        "Loan payments take {} of income ({} a month). Refinancing with {} at {} could lower the burden.",
                        format_percent(ratio, Lang::En),
                        format_money_rounded(&m(i.loan_minor), Lang::En),
                        p.name,
                        rate_text(p, Lang::En)
                    ),
                ),
                figures: vec![
                    Figure::percent("debt_service_ratio", ratio),
                    Figure::money("monthly_loan_payments", m(i.loan_minor)),
                ],
            });
        }
    }

    let buffer = facts.buffer_months().unwrap_or(0.0);
    if let Some(rate) = facts.savings_rate().filter(|r| *r >= 0.10 && buffer < 3.0) {
        let monthly = i.income_minor - i.spending_minor;
        if let Some(p) = best(
            catalogue,
            &["savings", "deposit"],
            |p| p.fits(monthly),
            true,
        ) {
            out.push(Offer {
                product: p.clone(),
                reason_code: "BUILD_BUFFER",
                reason: Localized::new(
                    format!(
                        "Откладывает {} в месяц ({} дохода), а запас — {} расходов. {} под {} поможет собрать подушку.",
                        format_money_rounded(&m(monthly), Lang::Ru),
                        format_percent(rate, Lang::Ru),
                        format_months(buffer.max(0.0), Lang::Ru),
                        quoted(&p.name, Lang::Ru),
                        rate_text(p, Lang::Ru)
                    ),
                    format!(
                        "Saves {} a month ({} of income) but holds {} of spending. {} at {} builds a reserve.",
                        format_money_rounded(&m(monthly), Lang::En),
                        format_percent(rate, Lang::En),
                        format_months(buffer.max(0.0), Lang::En),
                        p.name,
                        rate_text(p, Lang::En)
                    ),
                ),
                figures: vec![
                    Figure::money("monthly_savings", m(monthly)),
                    Figure::percent("savings_rate", rate),
                    Figure::number("buffer_months", buffer),
                ],
            });
        }
    }

    if let Some(share) = facts.cash_share().filter(|s| *s >= 0.30) {
        if let Some(p) = best(catalogue, &["card"], |_| true, true) {
            out.push(Offer {
                product: p.clone(),
                reason_code: "CASH_HEAVY",
                reason: Localized::new(
                    format!(
                        "{} расходов — наличные ({} в месяц). Карта {} вернёт часть трат и сделает их видимыми.",
                        format_percent(share, Lang::Ru),
                        format_money_rounded(&m(i.cash_minor), Lang::Ru),
                        quoted(&p.name, Lang::Ru)
                    ),
                    format!(
                        "{} of spending is cash ({} a month). The {} card returns part of it and makes it traceable.",
                        format_percent(share, Lang::En),
                        format_money_rounded(&m(i.cash_minor), Lang::En),
                        p.name
                    ),
                ),
                figures: vec![
                    Figure::percent("cash_share", share),
                    Figure::money("monthly_cash", m(i.cash_minor)),
                ],
            });
        }
    }

    let low_debt = facts.debt_ratio().is_some_and(|r| r < 0.30);
    if facts.salary.is_some() && low_debt && i.overdraft_accounts == 0 && i.returned_payments == 0 {
        if let Some(p) = best(catalogue, &["credit_card"], |_| true, false) {
            out.push(Offer {
                product: p.clone(),
                reason_code: "REGULAR_INCOME_LOW_DEBT",
                reason: Localized::new(
                    format!(
                        "Стабильная зарплата и кредитная нагрузка {}: {} для ежедневных трат (~{} в месяц).",
                        format_percent(facts.debt_ratio().unwrap_or(0.0), Lang::Ru),
                        quoted(&p.name, Lang::Ru),
                        format_money_rounded(&m(i.spending_minor), Lang::Ru)
                    ),
                    format!(
                        "A steady salary and a debt service ratio of {}: the {} credit card for everyday spending (~{} a month).",
                        format_percent(facts.debt_ratio().unwrap_or(0.0), Lang::En),
                        p.name,
                        format_money_rounded(&m(i.spending_minor), Lang::En)
                    ),
                ),
                figures: vec![
                    Figure::percent("debt_service_ratio", facts.debt_ratio().unwrap_or(0.0)),
                    Figure::money("monthly_spending", m(i.spending_minor)),
                ],
            });
        }
    }
    out
}

/// The catalogue products of the given banks (of every bank when `banks` is empty), of one type
/// when `product_type` is given and not empty, by bank code and then in catalogue order; at most
/// `limit`. Products without a currency are taken as `base`-currency products.
pub(crate) async fn products_of_banks<C: ConnectionTrait>(
    conn: &C,
    base: &Currency,
    banks: &[String],
    product_type: Option<&str>,
    limit: u64,
) -> CoreResult<Vec<Product>> {
    let mut q = products::Entity::find();
    if !banks.is_empty() {
        q = q.filter(products::Column::BankCode.is_in(banks.iter().map(String::as_str)));
    }
    if let Some(t) = product_type.filter(|t| !t.is_empty()) {
        q = q.filter(products::Column::ProductType.eq(t));
    }
    Ok(q.order_by_asc(products::Column::BankCode)
        .order_by_asc(products::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| Product::from_model(m, base))
        .collect())
}

impl Core {
    /// Every product of the stored catalogues.
    pub async fn products(&self) -> CoreResult<Vec<Product>> {
        let base = &self.settings.base_currency;
        Ok(products::Entity::find()
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|m| Product::from_model(m, base))
            .collect())
    }

    /// The stored catalogues of several banks in one query, keyed by bank code, in catalogue
    /// order: what each bank offers (`Bank.products`).
    pub async fn products_of_banks(
        &self,
        codes: &[String],
    ) -> CoreResult<std::collections::HashMap<String, Vec<Product>>> {
        let base = &self.settings.base_currency;
        let rows = products::Entity::find()
            .filter(products::Column::BankCode.is_in(codes.iter().map(String::as_str)))
            .order_by_asc(products::Column::BankCode)
            .order_by_asc(products::Column::Id)
            .all(self.db.conn())
            .await?;
        let mut out: std::collections::HashMap<String, Vec<Product>> =
            std::collections::HashMap::new();
        for m in rows {
            out.entry(m.bank_code.clone())
                .or_default()
                .push(Product::from_model(m, base));
        }
        Ok(out)
    }

    /// The next best products for the client, most important reason first; empty without data
    /// or without a fitting product.
    pub async fn offers(&self, client_id: i64, now: DateTime<Utc>) -> CoreResult<Vec<Offer>> {
        let Some(facts) = self.client_facts(client_id, now).await? else {
            return Ok(Vec::new());
        };
        // A home bank's managers offer its own products; without one, every bank's.
        let catalogue = match self.home_bank().map(str::to_owned) {
            Some(home) => self
                .products_of_banks(std::slice::from_ref(&home))
                .await?
                .remove(&home)
                .unwrap_or_default(),
            None => self.products().await?,
        };
        Ok(choose(&facts, &catalogue))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_reads_as_the_catalogue_gives_it() {
        let p = |rate: &str| Product {
            bank_code: "abank".into(),
            id: "prod-dep-01".into(),
            name: "Вклад «Доходный»".into(),
            product_type: "deposit".into(),
            description: None,
            rate: rate.parse().ok(),
            min_amount: None,
            max_amount: None,
            term_months: None,
        };
        assert_eq!(rate_text(&p("18.6"), Lang::Ru), "18,6%");
        assert_eq!(rate_text(&p("18.6"), Lang::En), "18.6%");
        assert_eq!(rate_text(&p("19"), Lang::Ru), "19%");
        assert_eq!(rate_text(&p("x"), Lang::Ru), "—");
    }
}
