//! Keeping a link's consent current: request one when there is none (or it expired), check a
//! pending one, and say on the link, in words a manager can act on, why nothing is synced.

use chrono::{Duration, Utc};
use crm_connector::{Consent, ConsentStatus as Wire};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use super::SyncEngine;
use crate::domain::{ConsentStatus, TimelineKind};
use crate::entity::bank_links;
use crate::error::{CoreError, CoreResult};
use crate::links::BankLink;
use crate::timeline::{EventData, NewEvent};

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

/// What the link says while a consent renewal waits for the client.
pub(crate) fn renewal_pending(bank: &str, expires: &str) -> String {
    format!("the consent at {bank} expires on {expires}: a renewal was requested and waits for the client's approval in the bank")
}

/// What to tell the manager about a consent in this state.
pub(crate) fn explain(status: ConsentStatus, bank: &str) -> Option<String> {
    match status {
        ConsentStatus::Authorized => None,
        ConsentStatus::None => Some(format!(
            "no consent at {bank} yet: the next sync asks for one"
        )),
        ConsentStatus::AwaitingAuthorization => Some(format!(
            "waiting for the client to approve the consent in {bank}"
        )),
        ConsentStatus::Rejected => Some(format!(
            "the client rejected the consent at {bank}: ask for a new consent (request it again)"
        )),
        ConsentStatus::Revoked => Some(format!(
            "the consent at {bank} was revoked: ask for a new consent (request it again)"
        )),
        ConsentStatus::Expired => Some(format!(
            "the consent at {bank} expired: the next sync asks for a new one"
        )),
    }
}

/// What the link says when a consent request has had no answer for `days` days. The bank never
/// says when a client rejects a request (`openbanking-ru.md`, §8), so no sync will pick it up.
pub(crate) fn no_answer(bank: &str, since: chrono::DateTime<Utc>, days: i64) -> String {
    format!(
        "no answer from the client to the consent request at {bank} since {} ({days} days): ask again, or talk to the client",
        since.format("%Y-%m-%d")
    )
}

/// Lifetime the protocol gives a consent approved by the client in the bank when the bank does
/// not tell us its id (and so its expiry): 90 days (`openbanking-ru.md`, §2).
const APPROVED_CONSENT_DAYS: i64 = 90;

/// What a consent check may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConsentCheck {
    /// Keep the consent current: request one when there is none or it expired, renew one that
    /// expires soon, follow a pending one. A rejected or revoked consent stays so.
    Sync,
    /// A person linked the bank again: also ask anew after a rejection or revocation.
    AskAgain,
    /// The bank forgot its consents (an in-process sandbox restarted): ask anew whatever the
    /// stored status says.
    Replace,
}

impl SyncEngine {
    /// Brings the link's consent up to date with the bank and returns the link as stored.
    pub(crate) async fn refresh_consent(
        &self,
        link: &BankLink,
        check: ConsentCheck,
    ) -> CoreResult<BankLink> {
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
        let renewal_due = model
            .consent_expires_at
            .is_some_and(|at| at - Duration::days(self.settings.consent_renewal_days) <= now);
        let client = model.external_client_id.clone();
        let bank = self.banks.describe(&link.bank_code).name;
        let pending = |request_id: Option<String>| Consent {
            status: Wire::AwaitingAuthorization,
            consent_id: None,
            request_id,
            expires_at: None,
            message: None,
        };
        // Whether a new request goes out (its waiting time starts now), or one is followed.
        let (result, asked) = match status {
            _ if check == ConsentCheck::Replace => (connector.request_consent(&client).await, true),
            ConsentStatus::Authorized if !renewal_due => return Ok(link.clone()),
            ConsentStatus::Authorized if !expired => {
                return self.renew_consent(connector.as_ref(), model, &bank).await;
            }
            // Expired while a renewal waits for the client: follow the renewal.
            ConsentStatus::Authorized if model.renewal_request_id.is_some() => (
                connector
                    .consent_status(&client, &pending(model.renewal_request_id.clone()))
                    .await,
                false,
            ),
            ConsentStatus::Rejected | ConsentStatus::Revoked if check == ConsentCheck::Sync => {
                return Ok(link.clone())
            }
            ConsentStatus::None
            | ConsentStatus::Expired
            | ConsentStatus::Authorized
            | ConsentStatus::Rejected
            | ConsentStatus::Revoked => (connector.request_consent(&client).await, true),
            ConsentStatus::AwaitingAuthorization if check != ConsentCheck::Sync => {
                (connector.request_consent(&client).await, true)
            }
            ConsentStatus::AwaitingAuthorization => {
                let waiting = Consent {
                    status: to_wire(status),
                    consent_id: model.consent_id.clone(),
                    request_id: model.consent_request_id.clone(),
                    expires_at: model.consent_expires_at,
                    message: None,
                };
                (connector.consent_status(&client, &waiting).await, false)
            }
        };
        let requested_at = match (asked, model.consent_requested_at) {
            (false, Some(at)) => at,
            _ => now,
        };
        let result = match result {
            Ok(consent) => self.with_expiry(connector.as_ref(), &client, consent).await,
            Err(e) => Err(e),
        };
        let mut active: bank_links::ActiveModel = model.into();
        active.updated_at = Set(now);
        match result {
            Ok(consent) => {
                let new_status = to_domain(consent.status);
                active.consent_status = Set(new_status.as_str().to_owned());
                // An approval learnt by probing has no id: data calls then go without one
                // (the bank uses the client's active consent), never with a stale id.
                active.consent_id = Set(consent.consent_id);
                if consent.request_id.is_some() {
                    active.consent_request_id = Set(consent.request_id);
                }
                active.renewal_request_id = Set(None);
                active.consent_expires_at = Set(consent.expires_at);
                if check != ConsentCheck::Sync {
                    // Someone acted on the link (or the bank was reset): a fresh start for the
                    // retry budget.
                    active.failure_count = Set(0);
                    active.next_attempt_at = Set(None);
                    active.last_error_code = Set(None);
                    active.last_error_message = Set(None);
                    active.last_error_at = Set(None);
                }
                let max_days = self.settings.consent_pending_max_days;
                let pending = new_status == ConsentStatus::AwaitingAuthorization;
                active.consent_requested_at = Set(pending.then_some(requested_at));
                active.status_message = Set(
                    if pending && now - requested_at >= Duration::days(max_days) {
                        Some(no_answer(
                            &bank,
                            requested_at,
                            (now - requested_at).num_days(),
                        ))
                    } else {
                        explain(new_status, &bank)
                    },
                );
                if new_status == status {
                    return active.update(self.db.conn()).await?.try_into();
                }
                // A consent that changed state is on the client's timeline, written with it.
                let txn = self.db.begin_write().await?;
                let stored: BankLink = active.update(&txn).await?.try_into()?;
                crate::timeline::record(
                    &txn,
                    NewEvent::new(
                        stored.client_id,
                        TimelineKind::ConsentChanged,
                        EventData::Consent {
                            bank: bank.clone(),
                            from: status.as_str().to_owned(),
                            to: new_status.as_str().to_owned(),
                        },
                    )
                    .at(now)
                    .object("link", stored.id),
                )
                .await?;
                txn.commit().await?;
                self.announce_timeline(stored.client_id);
                Ok(stored)
            }
            Err(e) => {
                let err = CoreError::from(e);
                let message = err.to_string();
                active.status_message = Set(Some(message.clone()));
                active.last_error_code = Set(Some(super::error_code(&err).to_owned()));
                active.last_error_message = Set(Some(message));
                active.last_error_at = Set(Some(now));
                active.update(self.db.conn()).await?;
                Err(err)
            }
        }
    }

    /// An authorized consent learns its expiry: from the bank when we know its id, else the
    /// protocol's lifetime for client-approved consents.
    async fn with_expiry(
        &self,
        connector: &dyn crm_connector::BankConnector,
        client: &str,
        consent: Consent,
    ) -> crm_connector::ConnectorResult<Consent> {
        if consent.status != Wire::Authorized || consent.expires_at.is_some() {
            return Ok(consent);
        }
        if consent.consent_id.is_none() {
            return Ok(Consent {
                expires_at: Some(Utc::now() + Duration::days(APPROVED_CONSENT_DAYS)),
                ..consent
            });
        }
        match connector.consent_status(client, &consent).await {
            Ok(checked) if checked.status == Wire::Authorized => Ok(Consent {
                expires_at: checked.expires_at,
                ..consent
            }),
            Ok(checked) => Ok(checked),
            // Not knowing the expiry is no reason to fail the link: the next check asks again.
            Err(e) if e.is_retryable() => Ok(consent),
            Err(e) => Err(e),
        }
    }

    /// The consent expires soon: ask for a new one. An auto-approving bank answers with it at
    /// once (the old one is revoked); otherwise the request waits for the client while the
    /// current consent stays in use, and the link says so.
    async fn renew_consent(
        &self,
        connector: &dyn crm_connector::BankConnector,
        model: bank_links::Model,
        bank: &str,
    ) -> CoreResult<BankLink> {
        let expires = model
            .consent_expires_at
            .map(|at| at.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        if model.renewal_request_id.is_some() {
            return model.try_into();
        }
        let client = model.external_client_id.clone();
        let old_consent = model.consent_id.clone();
        let mut active: bank_links::ActiveModel = model.into();
        active.updated_at = Set(Utc::now());
        let renewed = match connector.request_consent(&client).await {
            Ok(c) => self.with_expiry(connector, &client, c).await,
            Err(e) => Err(e),
        };
        match renewed {
            Ok(consent) if consent.status == Wire::Authorized && consent.consent_id.is_some() => {
                active.consent_id = Set(consent.consent_id);
                active.consent_request_id = Set(consent.request_id);
                active.consent_expires_at = Set(consent.expires_at);
                active.status_message = Set(None);
                let link = active.update(self.db.conn()).await?.try_into()?;
                if let Some(old) = old_consent {
                    if let Err(e) = connector.revoke_consent(&old).await {
                        tracing::info!(bank, "revoking the replaced consent failed: {e}");
                    }
                }
                tracing::info!(bank, "consent renewed before expiry");
                Ok(link)
            }
            Ok(consent) => {
                active.renewal_request_id = Set(consent.request_id);
                active.status_message = Set(Some(renewal_pending(bank, &expires)));
                active.update(self.db.conn()).await?.try_into()
            }
            // The current consent still works: report, and try again on the next sync.
            Err(e) => {
                let err = CoreError::from(e);
                active.status_message = Set(Some(format!(
                    "the consent at {bank} expires on {expires} and renewing it failed: {err}"
                )));
                active.update(self.db.conn()).await?.try_into()
            }
        }
    }

    /// The bank said the consent is not (or no longer) valid during a data call.
    /// A consent past its expiry reads as expired (banks keep calling it `Authorized`, §8),
    /// any other as revoked.
    pub(crate) async fn consent_lost(&self, link_id: i64, bank_code: &str) -> CoreResult<()> {
        let bank = self.banks.describe(bank_code).name;
        let Some(current) = bank_links::Entity::find_by_id(link_id)
            .one(self.db.conn())
            .await?
        else {
            return Ok(());
        };
        let now = Utc::now();
        let expired = current.consent_expires_at.is_some_and(|at| at <= now);
        let status = if expired {
            ConsentStatus::Expired
        } else {
            ConsentStatus::Revoked
        };
        let txn = self.db.begin_write().await?;
        bank_links::ActiveModel {
            id: Set(link_id),
            consent_status: Set(status.as_str().to_owned()),
            status_message: Set(explain(status, &bank)),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        let changed = current.consent_status != status.as_str();
        if changed {
            crate::timeline::record(
                &txn,
                NewEvent::new(
                    current.client_id,
                    TimelineKind::ConsentChanged,
                    EventData::Consent {
                        bank: bank.clone(),
                        from: current.consent_status.clone(),
                        to: status.as_str().to_owned(),
                    },
                )
                .at(now)
                .object("link", link_id),
            )
            .await?;
        }
        txn.commit().await?;
        if changed {
            self.announce_timeline(current.client_id);
        }
        Ok(())
    }
}
