use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};
use crm_core::sync::{
    SyncEvent, SyncRunLink as CoreRunLink, SyncRunStatus as CoreStatus, SyncRunSummary,
};

use crate::error::ApiResultExt;
use crate::loaders::{CoreLoader, RunLinksOf};

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum SyncRunStatus {
    Running,
    Succeeded,
    /// Some links failed, or the bank reported rows that could not be read.
    Partial,
    Failed,
}

impl From<CoreStatus> for SyncRunStatus {
    fn from(s: CoreStatus) -> Self {
        match s {
            CoreStatus::Running => SyncRunStatus::Running,
            CoreStatus::Succeeded => SyncRunStatus::Succeeded,
            CoreStatus::Partial => SyncRunStatus::Partial,
            CoreStatus::Failed => SyncRunStatus::Failed,
        }
    }
}

/// One run of the bank sync, with its counts and errors. `SUCCEEDED` only when every link in
/// it synced completely; `links` says what each one did.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct SyncRun {
    pub id: ID,
    /// `SCHEDULE`, `MANUAL`, `COMMAND_LINE` or `STARTUP`.
    pub trigger: String,
    pub bank: Option<String>,
    pub client_id: Option<ID>,
    pub status: SyncRunStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub accounts: u32,
    pub added: u32,
    pub updated: u32,
    pub unchanged: u32,
    #[graphql(skip)]
    pub errors: Vec<String>,
    pub message: Option<String>,
}

#[ComplexObject]
impl SyncRun {
    /// The run's errors, naming banks and the banks' client ids: administrators only (others
    /// read `links`, which shows their book's links with their messages).
    async fn errors(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        let who = crate::context::actor(ctx).api()?;
        Ok(if who.role == crm_core::domain::Role::Admin {
            self.errors.clone()
        } else {
            Vec::new()
        })
    }

    /// What each link's sync did in this run (bank, then client order): the links of clients
    /// in your book.
    async fn links(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SyncRunLink>> {
        let id: i64 = self
            .id
            .parse()
            .map_err(|_| async_graphql::Error::new("bad run id"))?;
        let loader = ctx.data_unchecked::<DataLoader<CoreLoader>>();
        let links = loader.load_one(RunLinksOf(id)).await.api()?;
        let Some(links) = links else {
            return Ok(Vec::new());
        };
        let who = crate::context::actor(ctx).api()?;
        let visible = crate::context::core(ctx)
            .api()?
            .visible_client_ids(who)
            .await
            .api()?;
        Ok(links
            .iter()
            .filter(|l| {
                visible
                    .as_ref()
                    .is_none_or(|ids| ids.contains(&l.client_id))
            })
            .cloned()
            .map(SyncRunLink::from)
            .collect())
    }
}

/// What one link's sync did within a run.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crm_core::sync::LinkResult")]
pub enum SyncLinkResult {
    /// Every account read completely and stored.
    Succeeded,
    /// Stored, but the bank reported rows that could not be read (read again next time).
    Partial,
    /// Attempted and failed: `code` says how.
    Failed,
    /// Not attempted: `code` says why.
    Skipped,
}

/// One link's part in a sync run.
#[derive(SimpleObject, Clone, Debug)]
pub struct SyncRunLink {
    pub link_id: ID,
    pub client_id: ID,
    pub bank: String,
    pub result: SyncLinkResult,
    /// Why it was not a plain success. `SKIPPED`: `BACKOFF`, `SUSPENDED`, `CIRCUIT_OPEN`,
    /// `ALREADY_RUNNING`, `CONSENT_MISSING`, `CONSENT_WAITING`, `CONSENT_NO_ANSWER`,
    /// `CONSENT_REVOKED`, `CONSENT_REJECTED`, `CONSENT_EXPIRED`. `FAILED`: `NETWORK`,
    /// `BANK_DOWN`, `RATE_LIMITED`, `CREDENTIALS`, `MALFORMED`, `REQUEST_REFUSED`, `FOREIGN_DATA`,
    /// `CONSENT_REQUIRED`, `NOT_FOUND`, `INVALID`, `INTERNAL`. `PARTIAL`: `SHORTFALL`.
    pub code: Option<String>,
    /// The same in words a person can act on.
    pub message: Option<String>,
    pub accounts: u32,
    pub added: u32,
    pub updated: u32,
    pub unchanged: u32,
    /// Rows the bank reported that could not be read.
    pub shortfall: u64,
    pub finished_at: DateTime<Utc>,
}

impl From<CoreRunLink> for SyncRunLink {
    fn from(l: CoreRunLink) -> Self {
        SyncRunLink {
            link_id: ID(l.link_id.to_string()),
            client_id: ID(l.client_id.to_string()),
            bank: l.bank,
            result: l.result.into(),
            code: l.code,
            message: l.message,
            accounts: l.accounts,
            added: l.added,
            updated: l.updated,
            unchanged: l.unchanged,
            shortfall: l.shortfall,
            finished_at: l.finished_at,
        }
    }
}

impl From<SyncRunSummary> for SyncRun {
    fn from(r: SyncRunSummary) -> Self {
        SyncRun {
            id: ID(r.id.to_string()),
            trigger: r.trigger.as_str().to_owned(),
            bank: r.bank,
            client_id: r.client_id.map(|c| ID(c.to_string())),
            status: r.status.into(),
            started_at: r.started_at,
            finished_at: r.finished_at,
            accounts: r.accounts,
            added: r.added,
            updated: r.updated,
            unchanged: r.unchanged,
            errors: r.errors,
            message: r.message,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum SyncProgressKind {
    Started,
    LinkDone,
    Finished,
}

/// A step of a running sync.
#[derive(SimpleObject, Clone, Debug)]
pub struct SyncProgress {
    pub kind: SyncProgressKind,
    pub run_id: ID,
    /// For `STARTED`: links in the run.
    pub links: Option<u32>,
    pub bank: Option<String>,
    pub client_id: Option<ID>,
    pub added: Option<u32>,
    pub updated: Option<u32>,
    pub unchanged: Option<u32>,
    /// A failure, or why a link was not synced (consent pending).
    pub error: Option<String>,
    /// For `FINISHED`: the recorded run.
    pub run: Option<SyncRun>,
}

impl From<SyncEvent> for SyncProgress {
    fn from(e: SyncEvent) -> Self {
        let blank = |kind, run_id: i64| SyncProgress {
            kind,
            run_id: ID(run_id.to_string()),
            links: None,
            bank: None,
            client_id: None,
            added: None,
            updated: None,
            unchanged: None,
            error: None,
            run: None,
        };
        match e {
            SyncEvent::Started { run_id, links } => SyncProgress {
                links: Some(links),
                ..blank(SyncProgressKind::Started, run_id)
            },
            SyncEvent::LinkDone {
                run_id,
                bank,
                client_id,
                added,
                updated,
                unchanged,
                error,
            } => SyncProgress {
                bank: Some(bank),
                client_id: Some(ID(client_id.to_string())),
                added: Some(added),
                updated: Some(updated),
                unchanged: Some(unchanged),
                error,
                ..blank(SyncProgressKind::LinkDone, run_id)
            },
            SyncEvent::Finished(run) => {
                let id = run.id;
                SyncProgress {
                    run: Some(run.into()),
                    ..blank(SyncProgressKind::Finished, id)
                }
            }
        }
    }
}
