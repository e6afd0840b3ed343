//! The products clients hold at their banks, as the sync stored them (`sync/holdings.rs`
//! writes them): deposit, loan and credit-line agreements and payment cards. Card numbers are
//! only ever the masked `****1234`. Rows the bank no longer lists are not shown.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::domain::{AgreementKind, AgreementStatus, CardKind, CardStatus, Currency, Money};
use crate::entity::{cards, product_agreements};
use crate::error::{CoreError, CoreResult};
use crate::Core;

/// A deposit, loan or credit line a client holds at a bank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductAgreement {
    pub id: i64,
    pub client_id: i64,
    pub bank_code: String,
    /// The bank's agreement id.
    pub external_id: String,
    pub kind: AgreementKind,
    /// The catalogue product's id, when the bank says.
    pub product_id: Option<String>,
    pub product_name: String,
    /// The principal at opening.
    pub amount: Money,
    /// Percent per year.
    pub interest_rate: Option<Decimal>,
    pub opened_at: Option<DateTime<Utc>>,
    /// Maturity of a deposit, end of a loan's term.
    pub ends_at: Option<DateTime<Utc>>,
    pub status: AgreementStatus,
    /// The agreement's account, when it is stored.
    pub account_id: Option<i64>,
    pub account_number_masked: Option<String>,
}

impl TryFrom<product_agreements::Model> for ProductAgreement {
    type Error = CoreError;
    fn try_from(m: product_agreements::Model) -> CoreResult<Self> {
        Ok(ProductAgreement {
            id: m.id,
            client_id: m.client_id,
            kind: AgreementKind::parse(&m.kind)?,
            status: AgreementStatus::parse(&m.status)?,
            amount: Money::new(m.amount_minor, Currency::from_db(m.currency)),
            interest_rate: m
                .interest_rate
                .as_deref()
                .and_then(|r| Decimal::from_str(r).ok()),
            bank_code: m.bank_code,
            external_id: m.external_id,
            product_id: m.product_id,
            product_name: m.product_name,
            opened_at: m.opened_at,
            ends_at: m.ends_at,
            account_id: m.account_id,
            account_number_masked: m.account_number_masked,
        })
    }
}

/// A client's payment card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Card {
    pub id: i64,
    pub client_id: i64,
    pub bank_code: String,
    /// The bank's card id.
    pub external_id: String,
    pub kind: CardKind,
    /// `Visa Classic`.
    pub name: Option<String>,
    /// `****1234`.
    pub number_masked: String,
    /// As the bank says it.
    pub status: CardStatus,
    /// Year and month.
    pub expires: Option<(i32, u32)>,
    pub daily_limit: Option<Money>,
    pub monthly_limit: Option<Money>,
    /// The card's account, when it is stored.
    pub account_id: Option<i64>,
    pub issued_at: Option<DateTime<Utc>>,
}

impl Card {
    /// Whether the card's expiry month is over on `today` (banks may not mark it expired).
    pub fn expired_on(&self, today: NaiveDate) -> bool {
        self.expires
            .is_some_and(|(y, m)| (y, m) < (today.year(), today.month()))
    }

    fn from_model(m: cards::Model, base: &Currency) -> CoreResult<Self> {
        let currency = m
            .currency
            .as_deref()
            .and_then(Currency::stored)
            .unwrap_or_else(|| base.clone());
        Ok(Card {
            id: m.id,
            client_id: m.client_id,
            kind: CardKind::parse(&m.kind)?,
            status: CardStatus::parse(&m.status)?,
            expires: match (m.expiry_year, m.expiry_month) {
                (Some(y), Some(mo)) => u32::try_from(mo).ok().map(|mo| (y, mo)),
                _ => None,
            },
            daily_limit: m.daily_limit_minor.map(|v| Money::new(v, currency.clone())),
            monthly_limit: m
                .monthly_limit_minor
                .map(|v| Money::new(v, currency.clone())),
            bank_code: m.bank_code,
            external_id: m.external_id,
            name: m.name,
            number_masked: m.number_masked,
            account_id: m.account_id,
            issued_at: m.issued_at,
        })
    }
}

impl Core {
    /// The listed agreements of several clients in one query, keyed by client id; by bank,
    /// then newest first.
    pub async fn agreements_of_clients(
        &self,
        client_ids: &[i64],
    ) -> CoreResult<HashMap<i64, Vec<ProductAgreement>>> {
        use product_agreements::{Column, Entity};
        let rows = Entity::find()
            .filter(Column::ClientId.is_in(client_ids.iter().copied()))
            .filter(Column::DelistedAt.is_null())
            .order_by_asc(Column::BankCode)
            .order_by_desc(Column::OpenedAt)
            .order_by_asc(Column::Id)
            .all(self.db.conn())
            .await?;
        let mut out: HashMap<i64, Vec<ProductAgreement>> = HashMap::new();
        for row in rows {
            let g = ProductAgreement::try_from(row)?;
            out.entry(g.client_id).or_default().push(g);
        }
        Ok(out)
    }

    /// The listed cards of several clients in one query, keyed by client id; by bank, then in
    /// the order they were first seen.
    pub async fn cards_of_clients(
        &self,
        client_ids: &[i64],
    ) -> CoreResult<HashMap<i64, Vec<Card>>> {
        use cards::{Column, Entity};
        let rows = Entity::find()
            .filter(Column::ClientId.is_in(client_ids.iter().copied()))
            .filter(Column::DelistedAt.is_null())
            .order_by_asc(Column::BankCode)
            .order_by_asc(Column::Id)
            .all(self.db.conn())
            .await?;
        let base = &self.settings.base_currency;
        let mut out: HashMap<i64, Vec<Card>> = HashMap::new();
        for row in rows {
            let c = Card::from_model(row, base)?;
            out.entry(c.client_id).or_default().push(c);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_is_expired_after_its_month() {
        let card = Card {
            id: 1,
            client_id: 1,
            bank_code: "vbank".into(),
            external_id: "card-1".into(),
            kind: CardKind::Debit,
            name: None,
            number_masked: "****4014".into(),
            status: CardStatus::Active,
            expires: Some((2027, 7)),
            daily_limit: None,
            monthly_limit: None,
            account_id: None,
            issued_at: None,
        };
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        assert!(!card.expired_on(day(2027, 7, 31)));
        assert!(card.expired_on(day(2027, 8, 1)));
        assert!(!card.expired_on(day(2026, 12, 1)));
    }
}
