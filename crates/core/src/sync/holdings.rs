//! The products a client holds at a bank, read with each sync of the link: deposit, loan and
//! credit-line agreements (§10) and payment cards (§11, masked numbers only). Upserted by (bank,
//! the bank's id); what the bank stops listing in a successful read is marked `delisted_at` (kept,
//! shown no more) and comes back when listed again. A bank that offers neither is skipped
//! quietly; a consent without `ReadCards` skips cards and says so on the link.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use crm_connector::{
    Access, AccountData, AgreementKind as BankAgreementKind,
    AgreementStatus as BankAgreementStatus, BankConnector, CardData, CardKind as BankCardKind,
    CardStatus as BankCardStatus, ConnectorError, ProductAgreementData,
};
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::SyncEngine;
use crate::domain::{
    decimal_to_minor, mask_number, AccountKind, AgreementKind, AgreementStatus, CardKind,
    CardStatus,
};
use crate::entity::{accounts, cards, product_agreements};
use crate::error::CoreResult;
use crate::links::BankLink;

/// What one sync read of a link's products. `None`: not read (unsupported or failed), so
/// nothing stored is delisted.
#[derive(Debug, Default)]
pub(crate) struct Holdings {
    agreements: Option<Vec<ProductAgreementData>>,
    cards: Option<Vec<CardData>>,
    /// What the link's status message should say (cards not covered by the consent, a read
    /// that failed).
    pub(crate) notes: Vec<String>,
}

/// Reads the client's agreements and cards; fails the link only when the bank no longer honours
/// the consent (the accounts are the sync: any other failure is a note on the link).
pub(crate) async fn read(
    connector: &dyn BankConnector,
    access: &Access<'_>,
) -> Result<Holdings, ConnectorError> {
    let mut out = Holdings::default();
    match connector.product_agreements(access).await {
        Ok(list) => out.agreements = Some(list),
        Err(ConnectorError::Unsupported { .. }) => {}
        Err(e @ ConnectorError::ConsentRequired { .. }) => return Err(e),
        Err(e) => {
            tracing::warn!(bank = %connector.identity().code, "product agreements not read: {e}");
            out.notes.push(format!(
                "deposits and loans could not be read ({}); the next sync tries again",
                short(&e)
            ));
        }
    }
    match connector.cards(access).await {
        Ok(list) => out.cards = Some(list),
        Err(ConnectorError::Unsupported { .. }) => {}
        Err(ConnectorError::PermissionMissing { permission, .. }) => out.notes.push(format!(
            "cards are not shown: the client's consent does not include {permission}; a new consent is needed to see them"
        )),
        Err(e @ ConnectorError::ConsentRequired { .. }) => return Err(e),
        Err(e) => {
            tracing::warn!(bank = %connector.identity().code, "cards not read: {e}");
            out.notes.push(format!(
                "cards could not be read ({}); the next sync tries again",
                short(&e)
            ));
        }
    }
    Ok(out)
}

/// The error's words without the bank's body (at most a line).
fn short(e: &ConnectorError) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or_default();
    line.chars().take(160).collect()
}

fn agreement_kind(k: &BankAgreementKind) -> AgreementKind {
    match k {
        BankAgreementKind::Deposit => AgreementKind::Deposit,
        BankAgreementKind::Loan => AgreementKind::Loan,
        BankAgreementKind::CreditLine => AgreementKind::CreditLine,
        BankAgreementKind::Other(_) => AgreementKind::Other,
    }
}

fn agreement_status(s: &BankAgreementStatus) -> AgreementStatus {
    match s {
        BankAgreementStatus::Active => AgreementStatus::Active,
        BankAgreementStatus::Closed => AgreementStatus::Closed,
        BankAgreementStatus::Defaulted => AgreementStatus::Defaulted,
        BankAgreementStatus::Other(_) => AgreementStatus::Other,
    }
}

fn card_kind(k: &BankCardKind) -> CardKind {
    match k {
        BankCardKind::Debit => CardKind::Debit,
        BankCardKind::Credit => CardKind::Credit,
        BankCardKind::Other(_) => CardKind::Other,
    }
}

fn card_status(s: &BankCardStatus) -> CardStatus {
    match s {
        BankCardStatus::Active => CardStatus::Active,
        BankCardStatus::Blocked => CardStatus::Blocked,
        BankCardStatus::Expired => CardStatus::Expired,
        BankCardStatus::Other(_) => CardStatus::Other,
    }
}

fn minor(amount: Decimal) -> Option<i64> {
    decimal_to_minor(amount.round_dp(2)).ok()
}

/// Whether an agreement (or card) names this account, by the bank's id or by its number.
fn names(account_id: Option<&str>, number: Option<&str>, a: &AccountData) -> bool {
    account_id == Some(a.id.as_str())
        || (number.is_some() && a.number.is_some() && number == a.number.as_deref())
}

impl Holdings {
    /// The kind an agreement gives its account (a loan's or credit line's account is a loan, a
    /// deposit's a deposit), by the bank's account id.
    pub(crate) fn account_kinds(&self, accounts: &[AccountData]) -> HashMap<String, AccountKind> {
        let mut out = HashMap::new();
        for g in self.agreements.iter().flatten() {
            let kind = match g.kind {
                BankAgreementKind::Deposit => AccountKind::Deposit,
                BankAgreementKind::Loan | BankAgreementKind::CreditLine => AccountKind::Loan,
                BankAgreementKind::Other(_) => continue,
            };
            for a in accounts
                .iter()
                .filter(|a| names(g.account_id.as_deref(), g.account_number.as_deref(), a))
            {
                out.insert(a.id.clone(), kind);
            }
        }
        out
    }
}

/// The client's stored accounts at one bank: (bank id, number) → (our id, currency).
struct StoredAccounts(Vec<accounts::Model>);

impl StoredAccounts {
    fn find(&self, account_id: Option<&str>, number: Option<&str>) -> Option<&accounts::Model> {
        self.0
            .iter()
            .find(|a| account_id == Some(a.external_id.as_str()))
            .or_else(|| number.and_then(|n| self.0.iter().find(|a| a.number.as_deref() == Some(n))))
    }
}

impl SyncEngine {
    /// Stores what [`read`] brought, in one transaction.
    pub(crate) async fn store_holdings(
        &self,
        link: &BankLink,
        holdings: &Holdings,
    ) -> CoreResult<()> {
        if holdings.agreements.is_none() && holdings.cards.is_none() {
            return Ok(());
        }
        crate::db::retry_on_conflict("storing products held", || async move {
            let txn = self.db.begin_write().await?;
            let now = Utc::now().trunc_subsecs(6);
            let stored = StoredAccounts(
                accounts::Entity::find()
                    .filter(accounts::Column::ClientId.eq(link.client_id))
                    .filter(accounts::Column::BankCode.eq(link.bank_code.as_str()))
                    .all(&*txn)
                    .await?,
            );
            if let Some(list) = &holdings.agreements {
                self.store_agreements(&txn, link, &stored, list, now)
                    .await?;
            }
            if let Some(list) = &holdings.cards {
                self.store_cards(&txn, link, &stored, list, now).await?;
            }
            txn.commit().await?;
            Ok(())
        })
        .await
    }

    async fn store_agreements(
        &self,
        txn: &crate::db::WriteTxn,
        link: &BankLink,
        stored: &StoredAccounts,
        list: &[ProductAgreementData],
        now: DateTime<Utc>,
    ) -> CoreResult<()> {
        use product_agreements::{ActiveModel, Column, Entity};
        let existing: HashMap<String, product_agreements::Model> = Entity::find()
            .filter(Column::BankCode.eq(link.bank_code.as_str()))
            .filter(Column::ExternalId.is_in(list.iter().map(|g| g.id.clone())))
            .all(&**txn)
            .await?
            .into_iter()
            .map(|m| (m.external_id.clone(), m))
            .collect();
        for g in list {
            let Some(amount) = minor(g.amount) else {
                tracing::warn!(bank = %link.bank_code, agreement = %g.id, "agreement amount out of range: skipped");
                continue;
            };
            let mut model: ActiveModel = match existing.get(&g.id) {
                Some(e) if e.client_id != link.client_id => {
                    tracing::warn!(bank = %link.bank_code, agreement = %g.id, "agreement stored for another client: skipped");
                    continue;
                }
                Some(e) => e.clone().into(),
                None => ActiveModel {
                    created_at: Set(now),
                    ..Default::default()
                },
            };
            let account = stored.find(g.account_id.as_deref(), g.account_number.as_deref());
            model.client_id = Set(link.client_id);
            model.link_id = Set(Some(link.id));
            model.account_id = Set(account.map(|a| a.id));
            model.bank_code = Set(link.bank_code.clone());
            model.external_id = Set(g.id.clone());
            model.kind = Set(agreement_kind(&g.kind).as_str().to_owned());
            model.product_id = Set(g.product_id.clone());
            model.product_name = Set(g.product_name.clone());
            model.amount_minor = Set(amount);
            model.currency = Set(g.currency.clone());
            model.interest_rate = Set(g.interest_rate.map(|r| r.normalize().to_string()));
            model.opened_at = Set(g.opened_at.map(|t| t.trunc_subsecs(6)));
            model.ends_at = Set(g.ends_at.map(|t| t.trunc_subsecs(6)));
            model.status = Set(agreement_status(&g.status).as_str().to_owned());
            model.account_number_masked = Set(g
                .account_number
                .as_deref()
                .map(mask_number)
                .or_else(|| account.and_then(|a| a.number_masked.clone())));
            model.delisted_at = Set(None);
            model.updated_at = Set(now);
            model.save(&**txn).await?;
        }
        Entity::update_many()
            .col_expr(Column::DelistedAt, Expr::value(now))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::ClientId.eq(link.client_id))
            .filter(Column::BankCode.eq(link.bank_code.as_str()))
            .filter(Column::DelistedAt.is_null())
            .filter(Column::ExternalId.is_not_in(list.iter().map(|g| g.id.clone())))
            .exec(&**txn)
            .await?;
        Ok(())
    }

    async fn store_cards(
        &self,
        txn: &crate::db::WriteTxn,
        link: &BankLink,
        stored: &StoredAccounts,
        list: &[CardData],
        now: DateTime<Utc>,
    ) -> CoreResult<()> {
        use cards::{ActiveModel, Column, Entity};
        let existing: HashMap<String, cards::Model> = Entity::find()
            .filter(Column::BankCode.eq(link.bank_code.as_str()))
            .filter(Column::ExternalId.is_in(list.iter().map(|c| c.id.clone())))
            .all(&**txn)
            .await?
            .into_iter()
            .map(|m| (m.external_id.clone(), m))
            .collect();
        for c in list {
            let mut model: ActiveModel = match existing.get(&c.id) {
                Some(e) if e.client_id != link.client_id => {
                    tracing::warn!(bank = %link.bank_code, card = %c.id, "card stored for another client: skipped");
                    continue;
                }
                Some(e) => e.clone().into(),
                None => ActiveModel {
                    created_at: Set(now),
                    ..Default::default()
                },
            };
            let account = stored.find(c.account_id.as_deref(), c.account_number.as_deref());
            let currency = c
                .currency
                .clone()
                .or_else(|| account.map(|a| a.currency.clone()));
            model.client_id = Set(link.client_id);
            model.link_id = Set(Some(link.id));
            model.account_id = Set(account.map(|a| a.id));
            model.bank_code = Set(link.bank_code.clone());
            model.external_id = Set(c.id.clone());
            model.kind = Set(card_kind(&c.kind).as_str().to_owned());
            model.name = Set(c.name.clone());
            // `MaskedPan`: the connector already cut the number to its last four digits.
            model.number_masked = Set(c.number.as_str().to_owned());
            model.status = Set(card_status(&c.status).as_str().to_owned());
            model.expiry_year = Set(c.expires.map(|(y, _)| y));
            model.expiry_month = Set(c.expires.and_then(|(_, m)| i32::try_from(m).ok()));
            model.daily_limit_minor = Set(c.daily_limit.and_then(minor));
            model.monthly_limit_minor = Set(c.monthly_limit.and_then(minor));
            model.currency = Set(currency);
            model.issued_at = Set(c.issued_at.map(|t| t.trunc_subsecs(6)));
            model.delisted_at = Set(None);
            model.updated_at = Set(now);
            model.save(&**txn).await?;
        }
        Entity::update_many()
            .col_expr(Column::DelistedAt, Expr::value(now))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::ClientId.eq(link.client_id))
            .filter(Column::BankCode.eq(link.bank_code.as_str()))
            .filter(Column::DelistedAt.is_null())
            .filter(Column::ExternalId.is_not_in(list.iter().map(|c| c.id.clone())))
            .exec(&**txn)
            .await?;
        Ok(())
    }
}
