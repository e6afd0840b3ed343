//! A sync run as the rest of the product sees it — its trigger, status, counts, and the progress
//! events it emits. Plain values: the sync engine records and reads them (`crate::sync`), the
//! event bus carries them between replicas (`crate::events`).

use chrono::{DateTime, Utc};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncTrigger {
    Schedule,
    Manual,
    CommandLine,
    Startup,
}

impl SyncTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncTrigger::Schedule => "SCHEDULE",
            SyncTrigger::Manual => "MANUAL",
            SyncTrigger::CommandLine => "COMMAND_LINE",
            SyncTrigger::Startup => "STARTUP",
        }
    }
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "SCHEDULE" => SyncTrigger::Schedule,
            "COMMAND_LINE" => SyncTrigger::CommandLine,
            "STARTUP" => SyncTrigger::Startup,
            _ => SyncTrigger::Manual,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncRunStatus {
    Running,
    Succeeded,
    /// Some links failed or the bank reported rows that could not be read.
    Partial,
    Failed,
}

impl SyncRunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncRunStatus::Running => "RUNNING",
            SyncRunStatus::Succeeded => "SUCCEEDED",
            SyncRunStatus::Partial => "PARTIAL",
            SyncRunStatus::Failed => "FAILED",
        }
    }
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "SUCCEEDED" => SyncRunStatus::Succeeded,
            "PARTIAL" => SyncRunStatus::Partial,
            "FAILED" => SyncRunStatus::Failed,
            _ => SyncRunStatus::Running,
        }
    }
}

#[derive(Clone, Debug)]
pub struct SyncRunSummary {
    pub id: i64,
    pub trigger: SyncTrigger,
    pub bank: Option<String>,
    pub client_id: Option<i64>,
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

/// What a running sync reports.
#[derive(Clone, Debug)]
pub enum SyncEvent {
    Started {
        run_id: i64,
        links: u32,
    },
    LinkDone {
        run_id: i64,
        bank: String,
        client_id: i64,
        added: u32,
        updated: u32,
        unchanged: u32,
        /// A failure, or why nothing was synced (consent pending).
        error: Option<String>,
    },
    Finished(SyncRunSummary),
}
