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
use crate::error::CoreResult;

/// A bank's health in one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BankHealth {
    /// No client is linked yet.
    Unused,
    /// The last sync of every link worked.
    Ok,
    /// Some links are failing.
    Degraded,
    /// Every link is failing, or the bank's circuit is open.
    Unavailable,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankStatus {
    pub health: BankHealth,
    pub linked_clients: u64,
    pub authorized_consents: u64,
    pub awaiting_consents: u64,
    /// Links whose latest sync failed.
    pub failing_links: u64,
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Seconds until the open circuit lets a probe through.
    pub circuit_open_secs: Option<u64>,
}

/// (bank, consent status, links, failing links, last sync) per bank and consent status.
type LinkGroup = (String, String, i64, i64, Option<DateTime<Utc>>);

impl SyncEngine {
    /// The status of each of these banks, in one query.
    pub async fn bank_statuses(&self, codes: &[String]) -> CoreResult<HashMap<String, BankStatus>> {
        let rows: Vec<LinkGroup> = bank_links::Entity::find()
            .select_only()
            .column(bank_links::Column::BankCode)
            .column(bank_links::Column::ConsentStatus)
            .column_as(Expr::col(bank_links::Column::Id).count(), "links")
            .column_as(
                Expr::cust("SUM(CASE WHEN failure_count > 0 THEN 1 ELSE 0 END)")
                    .cast_as(sea_orm::sea_query::Alias::new("BIGINT")),
                "failing",
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
                failing_links: 0,
                last_synced_at: None,
                circuit_open_secs: self.breakers.open_for(code).map(|d| d.as_secs().max(1)),
            };
            for (_, consent, links, failing, last) in mine {
                let links = (*links).max(0) as u64;
                s.linked_clients += links;
                s.failing_links += (*failing).max(0) as u64;
                match ConsentStatus::parse(consent) {
                    Ok(ConsentStatus::Authorized) => s.authorized_consents += links,
                    Ok(ConsentStatus::AwaitingAuthorization) => s.awaiting_consents += links,
                    _ => {}
                }
                s.last_synced_at = s.last_synced_at.max(*last);
            }
            s.health = if s.circuit_open_secs.is_some()
                || (s.linked_clients > 0 && s.failing_links == s.linked_clients)
            {
                BankHealth::Unavailable
            } else if s.linked_clients == 0 {
                BankHealth::Unused
            } else if s.failing_links > 0 {
                BankHealth::Degraded
            } else {
                BankHealth::Ok
            };
            out.insert(code.clone(), s);
        }
        Ok(out)
    }
}
