use async_graphql::{Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};
use crm_core::sync::{SyncEvent, SyncRunStatus as CoreStatus, SyncRunSummary};

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

/// One run of the bank sync, with its counts and errors.
#[derive(SimpleObject, Clone, Debug)]
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
    pub errors: Vec<String>,
    pub message: Option<String>,
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
