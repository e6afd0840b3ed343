//! Consolidation offers: bring a held-away product or the salary to the home bank. Every figure
//! is a stored amount (an account's balance, an agreement's principal or rate, a median of
//! payments whose rows are listed, a sum of the month totals) or a product of the home bank's
//! catalogue; a yearly benefit is stated only when both rates are known.
//!
//! | kind | when | money at stake | yearly benefit |
//! |---|---|---|---|
//! | `REFINANCE_LOAN` | a loan or credit line elsewhere and a home loan product | the debt (balance, else principal), else 12 monthly payments | debt × (their rate − ours), when both known and ours is lower |
//! | `MOVE_DEPOSIT` | a deposit or savings elsewhere with a known amount and a home deposit (else savings) product whose minimum it meets | the amount | amount × (our rate − theirs), when both known and ours is higher; else our rate's interest |
//! | `MOVE_SALARY` | salary credited at another bank in the share's months | the average monthly salary there | — |
//!
//! At most one offer per held-away product; largest money at stake first.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::domain::format::{
    format_money_rounded, format_rate as rate_text, quoted, Lang, Localized,
};
use crate::domain::{HeldAwayKind, Money};
use crate::error::CoreResult;
use crate::insights::{Figure, FigureValue};
use crate::offers::Product;
use crate::Core;

use super::share::SHARE_MONTHS;
use super::HeldAwayProduct;

/// What a consolidation offer proposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsolidationKind {
    RefinanceLoan,
    MoveDeposit,
    MoveSalary,
}

impl ConsolidationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsolidationKind::RefinanceLoan => "REFINANCE_LOAN",
            ConsolidationKind::MoveDeposit => "MOVE_DEPOSIT",
            ConsolidationKind::MoveSalary => "MOVE_SALARY",
        }
    }
}

/// A proposal to bring money to the home bank, with the figures it rests on.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsolidationOffer {
    pub kind: ConsolidationKind,
    /// The held-away product it is about (`HeldAwayProduct::key`); `None` for the salary.
    pub held_away_key: Option<String>,
    /// The bank the money is at now.
    pub from_bank: String,
    /// The home bank's product to offer, when its catalogue has one.
    pub product: Option<Product>,
    pub money_at_stake: Money,
    pub yearly_benefit: Option<Money>,
    pub reason: Localized,
    pub figures: Vec<Figure>,
    /// The rows, accounts and agreements the figures come from.
    pub transaction_ids: Vec<i64>,
    pub account_ids: Vec<i64>,
    pub agreement_ids: Vec<i64>,
}

fn percent(name: &str, rate: Decimal) -> Figure {
    Figure {
        name: name.to_owned(),
        value: FigureValue::Percent(rate),
    }
}

/// `amount × rate / 100`, rounded to minor units.
fn yearly(amount: &Money, rate: Decimal) -> Money {
    Money::new(
        crate::offers::yearly_interest(amount.minor, rate),
        amount.currency.clone(),
    )
}

/// The home bank's product of the first of `types` that has a rate and `fits`.
fn best<'a>(
    catalogue: &'a [Product],
    types: &[&str],
    highest: bool,
    fits: impl Fn(&Product) -> bool,
) -> Option<&'a Product> {
    crate::offers::best(catalogue, types, |p| p.rate.is_some() && fits(p), highest)
}

/// Words of a secured loan (a car loan, a mortgage): not what an unsecured debt moves to.
const SECURED: [&str; 4] = ["авто", "ипотек", "car", "mortgage"];
/// Words of a loan made to take over other banks' loans.
const REFINANCING: [&str; 3] = ["рефинанс", "refinanc", "других банков"];

fn mentions(p: &Product, words: &[&str]) -> bool {
    let text = format!(
        "{} {}",
        p.name.to_lowercase(),
        p.description.as_deref().unwrap_or_default().to_lowercase()
    );
    words.iter().any(|w| text.contains(w))
}

/// The home bank's loan for a debt: a refinancing loan if the catalogue has one that fits,
/// else the cheapest unsecured loan that fits (the amount within its limits when known).
fn loan_for<'a>(catalogue: &'a [Product], debt: Option<&Money>) -> Option<&'a Product> {
    let fits = |x: &Product| {
        !mentions(x, &SECURED)
            && debt.is_none_or(|d| {
                x.min_amount.as_ref().is_none_or(|m| m.minor <= d.minor)
                    && x.max_amount.as_ref().is_none_or(|m| m.minor >= d.minor)
            })
    };
    best(catalogue, &["loan"], false, |x| {
        fits(x) && mentions(x, &REFINANCING)
    })
    .or_else(|| best(catalogue, &["loan"], false, fits))
}

fn refinance(p: &HeldAwayProduct, catalogue: &[Product]) -> Option<ConsolidationOffer> {
    let ours = loan_for(catalogue, p.amount.as_ref())?;
    let our_rate = ours.rate?;
    if p.interest_rate.is_some_and(|theirs| theirs <= our_rate) {
        return None; // theirs is as cheap already
    }
    let mut figures = Vec::new();
    let stake = match (&p.amount, &p.monthly_flow) {
        (Some(debt), _) => {
            figures.push(Figure::money("debt", debt.clone()));
            debt.clone()
        }
        (None, Some(monthly)) => {
            figures.push(Figure::money("monthly_payment", monthly.clone()));
            Money::new(monthly.minor.saturating_mul(12), monthly.currency.clone())
        }
        (None, None) => return None,
    };
    if let Some(m) = p.monthly_flow.as_ref().filter(|_| p.amount.is_some()) {
        figures.push(Figure::money("monthly_payment", m.clone()));
    }
    figures.push(percent("our_rate", our_rate));
    let benefit = match (p.interest_rate, &p.amount) {
        (Some(theirs), Some(debt)) => {
            figures.push(percent("their_rate", theirs));
            Some(yearly(debt, theirs - our_rate))
        }
        _ => None,
    };
    if let Some(b) = &benefit {
        figures.push(Figure::money("yearly_saving", b.clone()));
    }
    let what = |lang: Lang| match (&p.amount, &p.monthly_flow) {
        (Some(debt), _) => match lang {
            Lang::Ru => format!("Долг {}", format_money_rounded(debt, lang)),
            Lang::En => format!("A debt of {}", format_money_rounded(debt, lang)),
        },
        (None, Some(m)) => match lang {
            Lang::Ru => format!(
                "Платежи {} в месяц (12 × = {} в год)",
                format_money_rounded(m, lang),
                format_money_rounded(&stake, lang)
            ),
            Lang::En => format!(
                "Payments of {} a month (12 × = {} a year)",
                format_money_rounded(m, lang),
                format_money_rounded(&stake, lang)
            ),
        },
        (None, None) => String::new(),
    };
    let tail = |lang: Lang| match (&benefit, p.interest_rate) {
        (Some(b), Some(theirs)) => match lang {
            Lang::Ru => format!(
                " под {} против нашей ставки {}: экономия около {} в год.",
                rate_text(theirs, lang),
                rate_text(our_rate, lang),
                format_money_rounded(b, lang)
            ),
            Lang::En => format!(
                " at {} against our {}: about {} a year saved.",
                rate_text(theirs, lang),
                rate_text(our_rate, lang),
                format_money_rounded(b, lang)
            ),
        },
        _ => match lang {
            Lang::Ru => format!(
                "; их ставка неизвестна, наша — {}.",
                rate_text(our_rate, lang)
            ),
            Lang::En => format!(
                "; their rate is not known, ours is {}.",
                rate_text(our_rate, lang)
            ),
        },
    };
    let reason = Localized::new(
        format!(
            "{} в {}{} Рефинансирование: {}.",
            what(Lang::Ru),
            p.bank_name,
            tail(Lang::Ru),
            quoted(&ours.name, Lang::Ru)
        ),
        format!(
            "{} at {}{} Refinance with {}.",
            what(Lang::En),
            p.bank_name,
            tail(Lang::En),
            quoted(&ours.name, Lang::En)
        ),
    );
    Some(ConsolidationOffer {
        kind: ConsolidationKind::RefinanceLoan,
        held_away_key: Some(p.key.clone()),
        from_bank: p.bank_name.clone(),
        product: Some(ours.clone()),
        money_at_stake: stake,
        yearly_benefit: benefit,
        reason,
        figures,
        transaction_ids: p.transaction_ids.clone(),
        account_ids: p.account_ids.clone(),
        agreement_ids: p.agreement_ids.clone(),
    })
}

fn move_deposit(p: &HeldAwayProduct, catalogue: &[Product]) -> Option<ConsolidationOffer> {
    let amount = p.amount.as_ref().filter(|a| a.minor > 0)?;
    let fits = |x: &Product| {
        x.min_amount
            .as_ref()
            .is_none_or(|m| m.minor <= amount.minor)
    };
    // Like for like: savings stay at call, a term deposit moves to a term deposit.
    let order = if p.kind == HeldAwayKind::Savings {
        ["savings", "deposit"]
    } else {
        ["deposit", "savings"]
    };
    let ours = best(catalogue, &order, true, fits)?;
    let our_rate = ours.rate?;
    if p.interest_rate.is_some_and(|theirs| theirs >= our_rate) {
        return None;
    }
    let mut figures = vec![
        Figure::money("amount", amount.clone()),
        percent("our_rate", our_rate),
    ];
    // The gain is stated only against a known rate: the money earns interest where it is.
    let benefit = p.interest_rate.map(|theirs| {
        figures.push(percent("their_rate", theirs));
        yearly(amount, our_rate - theirs)
    });
    if let Some(b) = &benefit {
        figures.push(Figure::money("yearly_gain", b.clone()));
    }
    let text = |lang: Lang| {
        let (kind, money) = (p.kind.title(lang), format_money_rounded(amount, lang));
        let held = match lang {
            Lang::Ru => format!("{kind} {money} в {}", p.bank_name),
            Lang::En => format!("{kind} of {money} at {}", p.bank_name),
        };
        let ours_name = quoted(&ours.name, lang);
        let our = rate_text(our_rate, lang);
        match (p.interest_rate, &benefit) {
            (Some(theirs), Some(b)) => match lang {
                Lang::Ru => format!(
                    "{held} под {}; у нас {ours_name} под {our}: на {} больше в год.",
                    rate_text(theirs, lang),
                    format_money_rounded(b, lang)
                ),
                Lang::En => format!(
                    "{held} at {}; our {ours_name} pays {our}: {} more a year.",
                    rate_text(theirs, lang),
                    format_money_rounded(b, lang)
                ),
            },
            _ => match lang {
                Lang::Ru => format!("{held}; их ставка неизвестна, у нас {ours_name} под {our}."),
                Lang::En => {
                    format!("{held}; their rate is not known, our {ours_name} pays {our}.")
                }
            },
        }
    };
    let reason = Localized::new(text(Lang::Ru), text(Lang::En));
    Some(ConsolidationOffer {
        kind: ConsolidationKind::MoveDeposit,
        held_away_key: Some(p.key.clone()),
        from_bank: p.bank_name.clone(),
        product: Some(ours.clone()),
        money_at_stake: amount.clone(),
        yearly_benefit: benefit,
        reason,
        figures,
        transaction_ids: p.transaction_ids.clone(),
        account_ids: p.account_ids.clone(),
        agreement_ids: p.agreement_ids.clone(),
    })
}

/// The offers for one client's held-away products, the salary credited elsewhere (bank, sum
/// over the share's months) and the home bank's catalogue.
pub(crate) fn choose(
    held: &[HeldAwayProduct],
    salary_elsewhere: &[(String, Money)],
    catalogue: &[Product],
) -> Vec<ConsolidationOffer> {
    let mut out: Vec<ConsolidationOffer> = held
        .iter()
        .filter_map(|p| match p.kind {
            HeldAwayKind::Loan | HeldAwayKind::CreditLine => refinance(p, catalogue),
            HeldAwayKind::Deposit | HeldAwayKind::Savings => move_deposit(p, catalogue),
            HeldAwayKind::CreditCard => None,
        })
        .collect();
    for (bank, sum) in salary_elsewhere.iter().filter(|(_, s)| s.minor > 0) {
        let monthly = Money::new(sum.minor / i64::from(SHARE_MONTHS), sum.currency.clone());
        let reason = Localized::new(
            format!(
                "Зарплата приходит в {bank}: {} за {SHARE_MONTHS} мес., в среднем {} в месяц. Перевести зарплату к нам.",
                format_money_rounded(sum, Lang::Ru),
                format_money_rounded(&monthly, Lang::Ru)
            ),
            format!(
                "The salary arrives at {bank}: {} over {SHARE_MONTHS} months, {} a month on average. Move the salary to us.",
                format_money_rounded(sum, Lang::En),
                format_money_rounded(&monthly, Lang::En)
            ),
        );
        out.push(ConsolidationOffer {
            kind: ConsolidationKind::MoveSalary,
            held_away_key: None,
            from_bank: bank.clone(),
            product: None,
            money_at_stake: monthly.clone(),
            yearly_benefit: None,
            reason,
            figures: vec![
                Figure::money("salary_in_period", sum.clone()),
                Figure::money("monthly_salary", monthly),
            ],
            transaction_ids: Vec::new(),
            account_ids: Vec::new(),
            agreement_ids: Vec::new(),
        });
    }
    out.sort_by(|a, b| {
        b.money_at_stake
            .minor
            .cmp(&a.money_at_stake.minor)
            .then(a.kind.as_str().cmp(b.kind.as_str()))
    });
    out
}

impl Core {
    /// Offers to bring `client_id`'s money held elsewhere to the home bank (see the module
    /// docs); empty without a home bank.
    pub async fn consolidation_offers(
        &self,
        client_id: i64,
        now: DateTime<Utc>,
    ) -> CoreResult<Vec<ConsolidationOffer>> {
        let Some(home) = self.home_bank().map(str::to_owned) else {
            return Ok(Vec::new());
        };
        let held = self.held_away(client_id, now).await?;
        let elsewhere: Vec<(String, Money)> = self
            .share_of_wallet(client_id, now)
            .await?
            .map(|s| s.salary.by_bank)
            .unwrap_or_default()
            .into_iter()
            .filter(|b| b.bank_code != home)
            .map(|b| (b.bank_name, b.amount))
            .collect();
        let catalogue = self
            .products_of_banks(std::slice::from_ref(&home))
            .await?
            .remove(&home)
            .unwrap_or_default();
        Ok(choose(&held, &elsewhere, &catalogue))
    }
}

#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use crate::domain::{Confidence, Currency, HeldAwaySource};

    fn product(kind: &str, rate: &str, min: Option<i64>) -> Product {
        Product {
            bank_code: "abank".into(),
            id: format!("prod-{kind}"),
            name: format!("Наш {kind}"),
            product_type: kind.into(),
            description: None,
            rate: rate.parse().ok(),
            min_amount: min.map(|m| Money::new(m, Currency::rub())),
            max_amount: None,
            term_months: None,
        }
    }

    fn held(
        kind: HeldAwayKind,
        amount: Option<i64>,
        monthly: Option<i64>,
        rate: Option<&str>,
    ) -> HeldAwayProduct {
        HeldAwayProduct {
            key: "k".into(),
            kind,
            bank_code: Some("vbank".into()),
            bank_name: "VBank".into(),
            product_name: None,
            amount: amount.map(|a| Money::new(a, Currency::rub())),
            amount_basis: None,
            monthly_flow: monthly.map(|a| Money::new(a, Currency::rub())),
            paid_in: None,
            months_seen: 3,
            interest_rate: rate.and_then(|r| r.parse().ok()),
            ends_at: None,
            source: HeldAwaySource::Both,
            confidence: Confidence::High,
            transaction_ids: vec![1, 2],
            account_ids: vec![3],
            agreement_ids: vec![],
        }
    }

    #[test]
    fn a_dearer_loan_elsewhere_is_refinanced_with_the_saving_computed_exactly() {
        let mut car = product("loan", "9.9", None);
        car.name = "Автокредит".into();
        let mut refi = product("loan", "15.5", None);
        refi.name = "Рефинансирование".into();
        let catalogue = [car, refi, product("loan", "14.9", Some(500_000_00))];
        let loans = [held(
            HeldAwayKind::Loan,
            Some(400_000_00),
            Some(20_000_00),
            Some("21.5"),
        )];
        let out = choose(&loans, &[], &catalogue);
        assert_eq!(out.len(), 1);
        let o = &out[0];
        assert_eq!(o.kind, ConsolidationKind::RefinanceLoan);
        assert_eq!(o.money_at_stake.minor, 400_000_00);
        assert_eq!(
            o.product.as_ref().map(|p| p.name.as_str()),
            Some("Рефинансирование"),
            "not the car loan, nor a loan whose minimum the debt does not reach"
        );
        // 400 000 × 6 % = 24 000.
        assert_eq!(o.yearly_benefit.as_ref().map(|m| m.minor), Some(24_000_00));
        assert!(o.reason.ru.contains("24\u{a0}000"), "{}", o.reason.ru);
        assert_eq!(o.transaction_ids, vec![1, 2]);

        // Cheaper already: no offer. Rate unknown: stake is 12 payments, no benefit claimed.
        let cheap = [held(HeldAwayKind::Loan, Some(400_000_00), None, Some("12"))];
        assert!(choose(&cheap, &[], &catalogue).is_empty());
        let unknown = [held(HeldAwayKind::Loan, None, Some(10_000_00), None)];
        let out = choose(&unknown, &[], &catalogue);
        assert_eq!(out[0].money_at_stake.minor, 120_000_00);
        assert_eq!(out[0].yearly_benefit, None);
    }

    #[test]
    fn a_deposit_elsewhere_is_moved_to_the_best_rate_it_qualifies_for() {
        let catalogue = [
            product("deposit", "17", Some(1_000_000_00)),
            product("deposit", "15", Some(10_000_00)),
        ];
        let deposits = [held(
            HeldAwayKind::Deposit,
            Some(200_000_00),
            None,
            Some("12"),
        )];
        let out = choose(&deposits, &[], &catalogue);
        assert_eq!(
            out[0].product.as_ref().and_then(|p| p.rate),
            "15".parse().ok()
        );
        // 200 000 × (15 − 12) % = 6 000.
        assert_eq!(
            out[0].yearly_benefit.as_ref().map(|m| m.minor),
            Some(6_000_00)
        );
        // Without their rate no gain is claimed: the money earns interest where it is.
        let unknown = [held(HeldAwayKind::Deposit, Some(200_000_00), None, None)];
        let out = choose(&unknown, &[], &catalogue);
        assert_eq!(out[0].yearly_benefit, None);
        assert!(
            out[0].reason.en.contains("not known"),
            "{}",
            out[0].reason.en
        );
    }

    #[test]
    fn the_salary_elsewhere_is_its_monthly_average() {
        let salary = [("VBank".to_owned(), Money::new(300_000_00, Currency::rub()))];
        let out = choose(&[], &salary, &[]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, ConsolidationKind::MoveSalary);
        assert_eq!(out[0].money_at_stake.minor, 100_000_00);
    }
}
