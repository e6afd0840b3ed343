//! Ending a bank link from the CRM: a manager unlinks a bank (`unlink_bank`), and deleting a
//! client revokes every consent first (`revoke_client_consents`). The consent is revoked at the
//! bank (`DELETE`, protocol §8); the link is marked `REVOKED` and no longer synced, and the
//! client's data stays (a manager can link again: `relink_bank`). A bank that cannot be reached
//! leaves a row in `pending_revocations`, which a `RevocationJob` retries, backing off, until the
//! bank confirms; the bank's status counts them. Each step is audited.

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use super::SyncEngine;
use crate::audit::AuditEvent;
use crate::domain::{Actor, ConsentStatus, Role, TimelineKind};
use crate::entity::{bank_links, pending_revocations};
use crate::error::{CoreError, CoreResult};
use crate::jobs::{self, Schedule};
use crate::links::BankLink;
use crate::timeline::{EventData, NewEvent};

/// Why a consent is revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevocationReason {
    /// A manager unlinked the bank.
    Unlink,
    /// The client was deleted.
    ClientDeleted,
}

impl RevocationReason {
    fn as_str(self) -> &'static str {
        match self {
            RevocationReason::Unlink => "unlink",
            RevocationReason::ClientDeleted => "client_deleted",
        }
    }
}

/// How a revocation went at the bank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revocation {
    /// The bank confirmed (or the link had no consent to revoke).
    Done,
    /// The bank could not be reached or refused for now: a background job retries.
    Pending(String),
}

impl SyncEngine {
    /// A manager ends a link: the consent is revoked at the bank, the link is `REVOKED` and no
    /// longer synced; the client's accounts and transactions stay. Returns the link as stored.
    pub async fn unlink_bank(&self, actor: &Actor, link_id: i64) -> CoreResult<BankLink> {
        actor.require(Role::Manager)?;
        let link = self.link(link_id).await?;
        let outcome = self
            .revoke_link(&link, RevocationReason::Unlink, Some(actor))
            .await?;
        let bank = self.banks.describe(&link.bank_code).name;
        let message = match &outcome {
            Revocation::Done => format!(
                "unlinked: the consent at {bank} was revoked; the client's data stays in the CRM; link the bank again to ask for a new consent"
            ),
            Revocation::Pending(why) => format!(
                "unlinked: {bank} could not be reached to revoke the consent ({why}); it is retried in the background; the client's data stays in the CRM"
            ),
        };
        let stored = bank_links::ActiveModel {
            id: Set(link.id),
            consent_status: Set(ConsentStatus::Revoked.as_str().to_owned()),
            consent_id: Set(None),
            consent_request_id: Set(None),
            renewal_request_id: Set(None),
            unlinked_at: Set(Some(Utc::now())),
            status_message: Set(Some(message)),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        let txn = self.db.begin_write().await?;
        let stored = stored.update(&*txn).await?;
        crate::timeline::record(
            &*txn,
            NewEvent::new(
                link.client_id,
                TimelineKind::BankUnlinked,
                EventData::Bank { bank },
            )
            .by(actor)
            .object("link", link.id),
        )
        .await?;
        txn.commit().await?;
        self.announce_timeline(link.client_id);
        stored.try_into()
    }

    /// A manager links an unlinked bank again: the link is synced again and a new consent is
    /// asked for (as [`SyncEngine::request_consent_again`] does).
    pub async fn relink_bank(&self, actor: &Actor, link_id: i64) -> CoreResult<BankLink> {
        actor.require(Role::Manager)?;
        let link = self.link(link_id).await?;
        if link.unlinked_at.is_none() {
            return Err(CoreError::invalid(format!(
                "the link to {} is not unlinked; to ask for its consent again use requestConsentAgain",
                self.banks.describe(&link.bank_code).name
            )));
        }
        let txn = self.db.begin_write().await?;
        bank_links::ActiveModel {
            id: Set(link.id),
            unlinked_at: Set(None),
            updated_at: Set(Utc::now()),
            ..Default::default()
        }
        .update(&*txn)
        .await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("bank.relink")
                .actor(actor)
                .entity("client", link.client_id)
                .detail("bank", link.bank_code.as_str())
                .detail("link", link.id),
        )
        .await?;
        txn.commit().await?;
        self.request_consent_again(actor, link_id).await
    }

    /// Before a client is deleted: revokes the consent of each of its links. A bank that cannot
    /// be reached gets a pending revocation that a background job finishes. Returns how many
    /// are pending.
    pub(crate) async fn revoke_client_consents(
        &self,
        actor: &Actor,
        client_id: i64,
    ) -> CoreResult<u32> {
        let links = crate::links::of_clients(self.db.conn(), &[client_id])
            .await?
            .remove(&client_id)
            .unwrap_or_default();
        let mut pending = 0;
        for link in &links {
            if let Revocation::Pending(_) = self
                .revoke_link(link, RevocationReason::ClientDeleted, Some(actor))
                .await?
            {
                pending += 1;
            }
        }
        Ok(pending)
    }

    async fn link(&self, link_id: i64) -> CoreResult<BankLink> {
        bank_links::Entity::find_by_id(link_id)
            .one(self.db.conn())
            .await?
            .ok_or_else(|| CoreError::not_found("bank link", link_id))?
            .try_into()
    }

    /// Revokes the link's consent at its bank, or records it as pending; audits either way.
    async fn revoke_link(
        &self,
        link: &BankLink,
        reason: RevocationReason,
        actor: Option<&Actor>,
    ) -> CoreResult<Revocation> {
        let stored = bank_links::Entity::find_by_id(link.id)
            .one(self.db.conn())
            .await?
            .ok_or_else(|| CoreError::not_found("bank link", link.id))?;
        let outcome = match stored.consent_id.as_deref() {
            None => Revocation::Done,
            Some(consent) => match self.banks.connector(&link.bank_code) {
                None => Revocation::Pending(format!("bank {} is not configured", link.bank_code)),
                Some(connector) => match connector.revoke_consent(consent).await {
                    Ok(()) => Revocation::Done,
                    // Unknown to the bank: nothing left to revoke.
                    Err(crm_connector::ConnectorError::NotFound { .. }) => Revocation::Done,
                    Err(e) => Revocation::Pending(CoreError::from(e).to_string()),
                },
            },
        };
        let txn = self.db.begin_write().await?;
        if let (Revocation::Pending(why), Some(consent)) = (&outcome, stored.consent_id.as_deref())
        {
            let now = Utc::now();
            pending_revocations::Entity::insert(pending_revocations::ActiveModel {
                bank_code: Set(link.bank_code.clone()),
                consent_id: Set(consent.to_owned()),
                client_id: Set(Some(link.client_id)),
                reason: Set(reason.as_str().to_owned()),
                attempts: Set(1),
                last_error: Set(Some(why.clone())),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .on_conflict(
                OnConflict::columns([
                    pending_revocations::Column::BankCode,
                    pending_revocations::Column::ConsentId,
                ])
                .update_columns([
                    pending_revocations::Column::LastError,
                    pending_revocations::Column::UpdatedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(&*txn)
            .await?;
            jobs::enqueue_in(&*txn, &super::RevocationJob::default(), Schedule::now()).await?;
        }
        let mut event = AuditEvent::new(match reason {
            RevocationReason::Unlink => "bank.unlink",
            RevocationReason::ClientDeleted => "bank.revoke",
        })
        .entity("client", link.client_id)
        .detail("bank", link.bank_code.as_str())
        .detail("link", link.id)
        .detail(
            "revocation",
            match &outcome {
                Revocation::Done => "done",
                Revocation::Pending(_) => "pending",
            },
        );
        event = match actor {
            Some(a) => event.actor(a),
            None => event.username("system"),
        };
        crate::audit::record_in(&txn, event).await?;
        txn.commit().await?;
        if matches!(outcome, Revocation::Pending(_)) {
            self.jobs.wake();
            tracing::warn!(bank = %link.bank_code, link = link.id, "consent revocation pending");
        }
        Ok(outcome)
    }

    /// Tries every pending revocation once; returns how many are still pending.
    pub async fn retry_revocations(&self) -> CoreResult<u64> {
        let rows = pending_revocations::Entity::find()
            .all(self.db.conn())
            .await?;
        for row in rows {
            let result = match self.banks.connector(&row.bank_code) {
                None => Err(format!("bank {} is not configured", row.bank_code)),
                Some(c) => match c.revoke_consent(&row.consent_id).await {
                    Ok(()) | Err(crm_connector::ConnectorError::NotFound { .. }) => Ok(()),
                    Err(e) => Err(CoreError::from(e).to_string()),
                },
            };
            let txn = self.db.begin_write().await?;
            match result {
                Ok(()) => {
                    pending_revocations::Entity::delete_by_id(row.id)
                        .exec(&*txn)
                        .await?;
                    let mut event = AuditEvent::new("bank.revoke")
                        .username("system")
                        .detail("bank", row.bank_code.as_str())
                        .detail("revocation", "done")
                        .detail("attempts", row.attempts + 1);
                    if let Some(client) = row.client_id {
                        event = event.entity("client", client);
                    }
                    crate::audit::record_in(&txn, event).await?;
                }
                Err(why) => {
                    let attempts = row.attempts + 1;
                    let mut active: pending_revocations::ActiveModel = row.into();
                    active.attempts = Set(attempts);
                    active.last_error = Set(Some(why));
                    active.updated_at = Set(Utc::now());
                    active.update(&*txn).await?;
                }
            }
            txn.commit().await?;
        }
        Ok(pending_revocations::Entity::find()
            .count(self.db.conn())
            .await?)
    }

    /// Pending revocations per bank code (for the banks' status).
    pub async fn pending_revocations(&self) -> CoreResult<std::collections::HashMap<String, u64>> {
        let mut out = std::collections::HashMap::new();
        for row in pending_revocations::Entity::find()
            .all(self.db.conn())
            .await?
        {
            *out.entry(row.bank_code).or_insert(0) += 1;
        }
        Ok(out)
    }

    /// Pending revocations of one client (for its page).
    pub async fn pending_revocations_of_client(&self, client_id: i64) -> CoreResult<u64> {
        Ok(pending_revocations::Entity::find()
            .filter(pending_revocations::Column::ClientId.eq(client_id))
            .count(self.db.conn())
            .await?)
    }
}
