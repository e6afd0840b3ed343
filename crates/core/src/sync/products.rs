//! The banks' product catalogues (deposits, cards, loans), refreshed with each sync: upserted by
//! (bank, product id); products the bank no longer lists are removed.

use chrono::Utc;
use crm_connector::{BankConnector, ProductType};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use super::SyncEngine;
use crate::domain::decimal_to_minor;
use crate::entity::products;
use crate::error::CoreResult;

fn type_word(t: &ProductType) -> String {
    match t {
        ProductType::Deposit => "deposit".into(),
        ProductType::Savings => "savings".into(),
        ProductType::Loan => "loan".into(),
        ProductType::CreditCard => "credit_card".into(),
        ProductType::Card => "card".into(),
        ProductType::Other(o) => o.clone(),
    }
}

impl SyncEngine {
    /// Replaces the stored catalogue of one bank with what it lists now. Returns the count.
    pub(crate) async fn refresh_products(&self, bank: &dyn BankConnector) -> CoreResult<usize> {
        let code = bank.identity().code.clone();
        let listed = bank.products().await?;
        let now = Utc::now();
        let txn = self.db.begin_write().await?;
        let ids: Vec<String> = listed.iter().map(|p| p.id.clone()).collect();
        products::Entity::delete_many()
            .filter(products::Column::BankCode.eq(code.as_str()))
            .filter(products::Column::ExternalId.is_not_in(ids))
            .exec(&txn)
            .await?;
        for p in &listed {
            let model = products::ActiveModel {
                bank_code: Set(code.clone()),
                external_id: Set(p.id.clone()),
                product_type: Set(type_word(&p.product_type)),
                name: Set(p.name.clone()),
                description: Set(p.description.clone()),
                interest_rate: Set(p.interest_rate.map(|r| r.normalize().to_string())),
                min_amount_minor: Set(p
                    .min_amount
                    .and_then(|a| decimal_to_minor(a.round_dp(2)).ok())),
                max_amount_minor: Set(p
                    .max_amount
                    .and_then(|a| decimal_to_minor(a.round_dp(2)).ok())),
                term_months: Set(p.term_months.and_then(|m| i32::try_from(m).ok())),
                currency: Set(None),
                updated_at: Set(now),
                ..Default::default()
            };
            products::Entity::insert(model)
                .on_conflict(
                    OnConflict::columns([products::Column::BankCode, products::Column::ExternalId])
                        .update_columns([
                            products::Column::ProductType,
                            products::Column::Name,
                            products::Column::Description,
                            products::Column::InterestRate,
                            products::Column::MinAmountMinor,
                            products::Column::MaxAmountMinor,
                            products::Column::TermMonths,
                            products::Column::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(listed.len())
    }
}
