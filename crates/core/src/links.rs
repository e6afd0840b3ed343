//! Bank links: a client's relationship with one bank (the bank's client id and the consent).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::ConsentStatus;
use crate::entity::bank_links;
use crate::error::{CoreError, CoreResult};
use crate::Core;

#[derive(Clone, Debug)]
pub struct BankLink {
    pub id: i64,
    pub client_id: i64,
    pub bank_code: String,
    pub external_client_id: String,
    pub consent_status: ConsentStatus,
    pub consent_expires_at: Option<DateTime<Utc>>,
    /// What the last sync or consent check said, in words a manager can act on.
    pub status_message: Option<String>,
    pub last_synced_at: Option<DateTime<Utc>>,
    /// The sync cursor: the newest booked transaction stored for this link.
    pub last_booked_at: Option<DateTime<Utc>>,
    /// Consecutive failed syncs (the retry budget; reset by a successful sync).
    pub failure_count: i32,
    /// No automatic sync before this time.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// What went wrong last (cleared by a complete sync).
    pub last_error: Option<LinkError>,
    /// When the pending consent request was made.
    pub consent_requested_at: Option<DateTime<Utc>>,
    /// When a manager unlinked the bank (no longer synced; the data stays).
    pub unlinked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A link's last failure: a stable code and words a person can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkError {
    /// `NETWORK`, `BANK_DOWN`, `RATE_LIMITED`, `CREDENTIALS`, `MALFORMED`, `REQUEST_REFUSED`,
    /// `FOREIGN_DATA`, `NOT_FOUND`, `CONSENT_REQUIRED`, `INTERNAL`, `SHORTFALL`, `VANISHED`, or a consent
    /// state (`CONSENT_REVOKED`, `CONSENT_REJECTED`, `CONSENT_EXPIRED`, `CONSENT_NO_ANSWER`).
    pub code: String,
    pub message: String,
    pub at: DateTime<Utc>,
}

/// Where a link stands, in one word, for the people who act on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// The consent works and the last sync read everything.
    Ok,
    /// The consent works; nothing synced yet.
    NotSyncedYet,
    /// The last sync stored what it read, but the bank reported rows it could not read.
    Incomplete,
    /// The last attempt failed (see `last_error`); automatic syncs back off.
    Failing,
    /// No consent asked for yet, or asking failed.
    ConsentMissing,
    /// Waiting for the client to approve the consent in the bank.
    ConsentWaiting,
    /// The consent request has had no answer for `CONSENT_PENDING_MAX_DAYS` (the bank never says
    /// when a request is rejected): ask again or talk to the client.
    ConsentNoAnswer,
    ConsentRevoked,
    ConsentRejected,
    ConsentExpired,
    /// A manager unlinked the bank: its consent was revoked (or is being revoked) and the link
    /// is no longer synced; the data stays. Link again to ask for a new consent.
    Unlinked,
}

impl BankLink {
    /// Whether the consent request has waited `max_days` or more without an answer.
    pub fn consent_unanswered(&self, now: DateTime<Utc>, max_days: i64) -> bool {
        self.consent_status == ConsentStatus::AwaitingAuthorization
            && self
                .consent_requested_at
                .is_some_and(|at| now - at >= chrono::Duration::days(max_days))
    }

    /// The link's state; a pending consent request counts as unanswered after `max_days`.
    pub fn state(&self, now: DateTime<Utc>, max_days: i64) -> LinkState {
        if self.unlinked_at.is_some() {
            return LinkState::Unlinked;
        }
        match self.consent_status {
            ConsentStatus::Revoked => return LinkState::ConsentRevoked,
            ConsentStatus::Rejected => return LinkState::ConsentRejected,
            ConsentStatus::Expired => return LinkState::ConsentExpired,
            ConsentStatus::None => return LinkState::ConsentMissing,
            ConsentStatus::AwaitingAuthorization if self.consent_unanswered(now, max_days) => {
                return LinkState::ConsentNoAnswer
            }
            ConsentStatus::AwaitingAuthorization => return LinkState::ConsentWaiting,
            ConsentStatus::Authorized => {}
        }
        if self.consent_expires_at.is_some_and(|at| at <= now) {
            return LinkState::ConsentExpired;
        }
        if self.failure_count > 0 {
            LinkState::Failing
        } else if self
            .last_error
            .as_ref()
            .is_some_and(|e| e.code == SHORTFALL || e.code == VANISHED)
        {
            LinkState::Incomplete
        } else if self.last_synced_at.is_none() {
            LinkState::NotSyncedYet
        } else {
            LinkState::Ok
        }
    }
}

/// The code of a sync that stored what it read but missed rows the bank reported.
pub const SHORTFALL: &str = "SHORTFALL";

/// The code of a sync that kept booked rows the bank stopped listing, because too many of a
/// range vanished at once to trust the read.
pub const VANISHED: &str = "VANISHED";

impl TryFrom<bank_links::Model> for BankLink {
    type Error = CoreError;
    fn try_from(m: bank_links::Model) -> CoreResult<Self> {
        Ok(BankLink {
            id: m.id,
            client_id: m.client_id,
            consent_status: ConsentStatus::parse(&m.consent_status)?,
            bank_code: m.bank_code,
            external_client_id: m.external_client_id,
            consent_expires_at: m.consent_expires_at,
            status_message: m.status_message,
            last_synced_at: m.last_synced_at,
            last_booked_at: m.last_booked_at,
            failure_count: m.failure_count,
            next_attempt_at: m.next_attempt_at,
            last_error: match (m.last_error_code, m.last_error_at) {
                (Some(code), Some(at)) => Some(LinkError {
                    code,
                    message: m.last_error_message.unwrap_or_default(),
                    at,
                }),
                _ => None,
            },
            consent_requested_at: m.consent_requested_at,
            unlinked_at: m.unlinked_at,
            created_at: m.created_at,
        })
    }
}

impl Core {
    /// Checks that `actor` may change the client of bank link `link_id`: `NOT_FOUND` (for the
    /// link) when the link does not exist or its client is outside the actor's book.
    pub async fn check_link_access(
        &self,
        actor: &crate::auth::Actor,
        link_id: i64,
    ) -> CoreResult<()> {
        let client: Option<i64> = bank_links::Entity::find_by_id(link_id)
            .select_only()
            .column(bank_links::Column::ClientId)
            .into_tuple()
            .one(self.db.conn())
            .await?;
        let Some(client) = client else {
            return Err(CoreError::not_found("bank link", link_id));
        };
        match self
            .client_for(actor, client, crate::access::Need::Change)
            .await
        {
            Err(CoreError::NotFound { .. }) => Err(CoreError::not_found("bank link", link_id)),
            other => other.map(|_| ()),
        }
    }

    /// The links of several clients in one query, keyed by client id.
    pub async fn links_of_clients(
        &self,
        client_ids: &[i64],
    ) -> CoreResult<HashMap<i64, Vec<BankLink>>> {
        of_clients(self.db.conn(), client_ids).await
    }
}

/// The links of several clients in one query, keyed by client id.
pub(crate) async fn of_clients<C: ConnectionTrait>(
    conn: &C,
    client_ids: &[i64],
) -> CoreResult<HashMap<i64, Vec<BankLink>>> {
    let rows = bank_links::Entity::find()
        .filter(bank_links::Column::ClientId.is_in(client_ids.iter().copied()))
        .order_by_asc(bank_links::Column::BankCode)
        .all(conn)
        .await?;
    let mut out: HashMap<i64, Vec<BankLink>> = HashMap::new();
    for row in rows {
        let link = BankLink::try_from(row)?;
        out.entry(link.client_id).or_default().push(link);
    }
    Ok(out)
}

/// The bank's client ids of a client's links: personal data the assistant's redactor removes
/// from outgoing text.
pub(crate) async fn external_ids_of_client<C: ConnectionTrait>(
    conn: &C,
    client_id: i64,
) -> CoreResult<Vec<String>> {
    Ok(bank_links::Entity::find()
        .select_only()
        .column(bank_links::Column::ExternalClientId)
        .filter(bank_links::Column::ClientId.eq(client_id))
        .into_tuple()
        .all(conn)
        .await?)
}

/// How one bank's links stand, for the banks overview.
#[derive(Clone, Debug, Default)]
pub struct BankLinkStats {
    pub links: u64,
    /// Links whose consent is authorized.
    pub authorized: u64,
    pub last_synced_at: Option<DateTime<Utc>>,
}

impl Core {
    /// Per bank code: how many links, how many authorized, and the latest sync.
    pub async fn bank_link_stats(&self) -> CoreResult<HashMap<String, BankLinkStats>> {
        let rows = bank_links::Entity::find().all(self.db.conn()).await?;
        let mut out: HashMap<String, BankLinkStats> = HashMap::new();
        for row in rows {
            let s = out.entry(row.bank_code.clone()).or_default();
            s.links += 1;
            if row.consent_status == ConsentStatus::Authorized.as_str() {
                s.authorized += 1;
            }
            s.last_synced_at = s.last_synced_at.max(row.last_synced_at);
        }
        Ok(out)
    }
}

/// When the first bank link was made, if any (a demo's sandbox generates its world up to the day
/// of the first start, so a restart serves the same transactions again). Needs no `Core`: it is
/// read before the banks are set up.
pub async fn first_link_created_at(db: &crate::db::Database) -> CoreResult<Option<DateTime<Utc>>> {
    Ok(bank_links::Entity::find()
        .order_by_asc(bank_links::Column::CreatedAt)
        .one(db.conn())
        .await?
        .map(|l| l.created_at))
}
