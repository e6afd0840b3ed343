//! Keeping a link's consent current: request one when there is none (or it expired), check a
//! pending one, and say on the link, in words a manager can act on, why nothing is synced.

use chrono::Utc;
use crm_connector::{Consent, ConsentStatus as Wire};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use crate::domain::ConsentStatus;
use crate::entity::bank_links;
use crate::error::{CoreError, CoreResult};
use crate::links::BankLink;
use crate::Core;

fn to_domain(s: Wire) -> ConsentStatus {
    match s {
        Wire::AwaitingAuthorization => ConsentStatus::AwaitingAuthorization,
        Wire::Authorized => ConsentStatus::Authorized,
        Wire::Rejected => ConsentStatus::Rejected,
        Wire::Revoked => ConsentStatus::Revoked,
        Wire::Expired => ConsentStatus::Expired,
    }
}

fn to_wire(s: ConsentStatus) -> Wire {
    match s {
        ConsentStatus::Authorized => Wire::Authorized,
        ConsentStatus::Rejected => Wire::Rejected,
        ConsentStatus::Revoked => Wire::Revoked,
        ConsentStatus::Expired => Wire::Expired,
        ConsentStatus::None | ConsentStatus::AwaitingAuthorization => Wire::AwaitingAuthorization,
    }
}

/// What to tell the manager about a consent in this state.
pub(crate) fn explain(status: ConsentStatus, bank: &str) -> Option<String> {
    match status {
        ConsentStatus::Authorized => None,
        ConsentStatus::None => Some(format!(
            "no consent at {bank} yet: the next sync asks for one"
        )),
        ConsentStatus::AwaitingAuthorization => Some(format!(
            "waiting for the client to approve the consent in {bank}; the next sync picks it up"
        )),
        ConsentStatus::Rejected => Some(format!(
            "the client rejected the consent at {bank}: link the bank again to ask anew"
        )),
        ConsentStatus::Revoked => Some(format!(
            "the consent at {bank} was revoked: link the bank again to ask for a new one"
        )),
        ConsentStatus::Expired => Some(format!(
            "the consent at {bank} expired: the next sync asks for a new one"
        )),
    }
}

impl Core {
    /// Brings the link's consent up to date with the bank and returns the link as stored.
    pub(crate) async fn refresh_consent(&self, link: &BankLink) -> CoreResult<BankLink> {
        let connector = self.banks.connector(&link.bank_code).ok_or_else(|| {
            CoreError::invalid(format!("bank {} is not configured", link.bank_code))
        })?;
        let model = bank_links::Entity::find_by_id(link.id)
            .one(self.db.conn())
            .await?
            .ok_or_else(|| CoreError::not_found("bank link", link.id))?;
        let status = ConsentStatus::parse(&model.consent_status)?;
        let now = Utc::now();
        let expired = model.consent_expires_at.is_some_and(|at| at <= now);
        let client = model.external_client_id.clone();
        let result = match status {
            ConsentStatus::Authorized if !expired => return Ok(link.clone()),
            ConsentStatus::Rejected | ConsentStatus::Revoked => return Ok(link.clone()),
            ConsentStatus::None | ConsentStatus::Expired | ConsentStatus::Authorized => {
                connector.request_consent(&client).await
            }
            ConsentStatus::AwaitingAuthorization => {
                let pending = Consent {
                    status: to_wire(status),
                    consent_id: model.consent_id.clone(),
                    request_id: model.consent_request_id.clone(),
                    expires_at: model.consent_expires_at,
                    message: None,
                };
                connector.consent_status(&client, &pending).await
            }
        };
        let bank = self.banks.describe(&link.bank_code).name;
        let mut active: bank_links::ActiveModel = model.into();
        active.updated_at = Set(now);
        match result {
            Ok(consent) => {
                let new_status = to_domain(consent.status);
                active.consent_status = Set(new_status.as_str().to_owned());
                if consent.consent_id.is_some() || new_status != ConsentStatus::Authorized {
                    active.consent_id = Set(consent.consent_id);
                }
                if consent.request_id.is_some() {
                    active.consent_request_id = Set(consent.request_id);
                }
                active.consent_expires_at = Set(consent.expires_at);
                active.status_message = Set(explain(new_status, &bank));
                active.update(self.db.conn()).await?.try_into()
            }
            Err(e) => {
                let err = CoreError::from(e);
                active.status_message = Set(Some(err.to_string()));
                active.update(self.db.conn()).await?;
                Err(err)
            }
        }
    }

    /// The bank said the consent is not (or no longer) valid during a data call.
    pub(crate) async fn consent_lost(&self, link_id: i64, bank_code: &str) -> CoreResult<()> {
        let bank = self.banks.describe(bank_code).name;
        bank_links::ActiveModel {
            id: Set(link_id),
            consent_status: Set(ConsentStatus::Revoked.as_str().to_owned()),
            status_message: Set(explain(ConsentStatus::Revoked, &bank)),
            updated_at: Set(Utc::now()),
            ..Default::default()
        }
        .update(self.db.conn())
        .await?;
        Ok(())
    }
}
