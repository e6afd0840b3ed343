//! How each bank is doing, as a manager or an operator sees it: how many clients are linked,
//! how many consents work, how many links are failing, when it last synced, and whether its
//! circuit is open.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::SyncEngine;
use crate::domain::ConsentStatus;
use crate::entity::bank_links;
use crate::error::{BankFailure, CoreResult};

/// A bank's health in one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BankHealth {
    /// No client is linked yet.
    Unused,
    /// The last sync of every link worked.
    Ok,
    /// Some links are failing, or consents are revoked, rejected or expired.
    Degraded,
    /// Every link is failing, the bank refuses our credentials, or its circuit is open.
    Unavailable,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankStatus {
    pub health: BankHealth,
    pub linked_clients: u64,
    pub authorized_consents: u64,
    /// Consent requests waiting for the client (within `CONSENT_PENDING_MAX_DAYS`).
    pub awaiting_consents: u64,
    /// Consent requests with no answer for longer (see [`crate::links::LinkState`]).
    pub unanswered_consents: u64,
    pub revoked_consents: u64,
    pub rejected_consents: u64,
    pub expired_consents: u64,
    /// Links whose latest sync failed.
    pub failing_links: u64,
    /// The bank refused our team credentials at the latest attempt of some link: nothing of it
    /// is read until they are fixed.
    pub credentials_refused: bool,
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Seconds until the open circuit lets a probe through.
    pub circuit_open_secs: Option<u64>,
}

/// (bank, consent status, links, failing links, unanswered requests, expired consents, links
/// refused our credentials, last sync) per bank and consent status.
type LinkGroup = (
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<DateTime<Utc>>,
);

impl SyncEngine {
    /// The status of each of these banks, in one query.
    pub async fn bank_statuses(&self, codes: &[String]) -> CoreResult<HashMap<String, BankStatus>> {
        let now = Utc::now();
        let unanswered_before =
            now - chrono::Duration::days(self.settings.consent_pending_max_days);
        let bigint = || sea_orm::sea_query::Alias::new("BIGINT");
        let rows: Vec<LinkGroup> = bank_links::Entity::find()
            .select_only()
            .column(bank_links::Column::BankCode)
            .column(bank_links::Column::ConsentStatus)
            .column_as(Expr::col(bank_links::Column::Id).count(), "links")
            .column_as(
                // The latest sync failed, or the bank failed the latest consent call (as when
                // linking: no sync has counted it yet).
                Expr::cust(
                    "SUM(CASE WHEN failure_count > 0 OR last_error_code IN \
                     ('NETWORK', 'BANK_DOWN', 'RATE_LIMITED', 'CREDENTIALS', 'MALFORMED', 'REQUEST_REFUSED') \
                     THEN 1 ELSE 0 END)",
                )
                .cast_as(bigint()),
                "failing",
            )
            .column_as(
                count_where(bank_links::Column::ConsentRequestedAt.lte(unanswered_before)),
                "unanswered",
            )
            .column_as(
                count_where(bank_links::Column::ConsentExpiresAt.lte(now)),
                "expired",
            )
            .column_as(
                count_where(bank_links::Column::LastErrorCode.eq(BankFailure::Credentials.code())),
                "refused",
            )
            .column_as(Expr::col(bank_links::Column::LastSyncedAt).max(), "last")
            .filter(bank_links::Column::BankCode.is_in(codes.iter().cloned()))
            .group_by(bank_links::Column::BankCode)
            .group_by(bank_links::Column::ConsentStatus)
            .into_tuple()
            .all(self.db.conn())
            .await?;
        let mut out = HashMap::new();
        for code in codes {
            let mine = rows.iter().filter(|r| &r.0 == code);
            let mut s = BankStatus {
                health: BankHealth::Unused,
                linked_clients: 0,
                authorized_consents: 0,
                awaiting_consents: 0,
                unanswered_consents: 0,
                revoked_consents: 0,
                rejected_consents: 0,
                expired_consents: 0,
                failing_links: 0,
                credentials_refused: false,
                last_synced_at: None,
                circuit_open_secs: self.breakers.open_for(code).map(|d| d.as_secs().max(1)),
            };
            for (_, consent, links, failing, unanswered, expired, refused, last) in mine {
                let n = |v: &i64| (*v).max(0) as u64;
                let links = n(links);
                s.linked_clients += links;
                s.failing_links += n(failing);
                s.credentials_refused |= *refused > 0;
                match ConsentStatus::parse(consent) {
                    // Banks keep calling an expired consent authorised (§8).
                    Ok(ConsentStatus::Authorized) => {
                        s.authorized_consents += links - n(expired).min(links);
                        s.expired_consents += n(expired).min(links);
                    }
                    Ok(ConsentStatus::AwaitingAuthorization) => {
                        let unanswered = n(unanswered).min(links);
                        s.awaiting_consents += links - unanswered;
                        s.unanswered_consents += unanswered;
                    }
                    Ok(ConsentStatus::Revoked) => s.revoked_consents += links,
                    Ok(ConsentStatus::Rejected) => s.rejected_consents += links,
                    Ok(ConsentStatus::Expired) => s.expired_consents += links,
                    Ok(ConsentStatus::None) | Err(_) => {}
                }
                s.last_synced_at = s.last_synced_at.max(*last);
            }
            s.health = health(&s);
            out.insert(code.clone(), s);
        }
        Ok(out)
    }
}

/// A bank is unavailable while its circuit is open, it refuses our credentials, or every link's
/// latest attempt failed;
/// degraded while some fail or consents are revoked, rejected or expired (those links read
/// nothing, so the bank's picture of those clients is not whole); ok otherwise.
fn health(s: &BankStatus) -> BankHealth {
    let lost = s.revoked_consents + s.rejected_consents + s.expired_consents;
    if s.circuit_open_secs.is_some()
        || s.credentials_refused
        || (s.linked_clients > 0 && s.failing_links == s.linked_clients)
    {
        BankHealth::Unavailable
    } else if s.linked_clients == 0 {
        BankHealth::Unused
    } else if s.failing_links > 0 || lost > 0 {
        BankHealth::Degraded
    } else {
        BankHealth::Ok
    }
}

/// `SUM(CASE WHEN condition THEN 1 ELSE 0 END)` as a BIGINT, with its values bound (placeholders
/// written for each backend by the query builder).
fn count_where(condition: sea_orm::sea_query::SimpleExpr) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Alias, Func};
    Expr::expr(Func::sum(Expr::case(condition, 1).finally(0))).cast_as(Alias::new("BIGINT"))
}
