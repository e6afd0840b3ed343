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

/// What one link's sync did within a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkResult {
    /// Every account read completely and stored.
    Succeeded,
    /// Stored, but the bank reported rows that could not be read (they are read again next time).
    Partial,
    /// Attempted and failed; `code` says how.
    Failed,
    /// Not attempted; `code` says why.
    Skipped,
}

impl LinkResult {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkResult::Succeeded => "SUCCEEDED",
            LinkResult::Partial => "PARTIAL",
            LinkResult::Failed => "FAILED",
            LinkResult::Skipped => "SKIPPED",
        }
    }
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "SUCCEEDED" => LinkResult::Succeeded,
            "PARTIAL" => LinkResult::Partial,
            "SKIPPED" => LinkResult::Skipped,
            _ => LinkResult::Failed,
        }
    }
}

/// Why a link was not synced in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Failed recently: the next automatic attempt waits (exponential backoff).
    Backoff,
    /// Failed too many times in a row: only a manual sync tries it.
    Suspended,
    /// The bank's circuit is open after repeated bank-side failures.
    CircuitOpen,
    /// The bank refused our credentials earlier in this run: its other links are not called.
    CredentialsRefused,
    /// Another sync of the same link was running.
    AlreadyRunning,
    /// No consent has been asked for yet (or asking failed).
    ConsentMissing,
    /// The client has not answered the consent request yet.
    ConsentWaiting,
    /// The consent request has waited longer than `CONSENT_PENDING_MAX_DAYS`.
    ConsentNoAnswer,
    ConsentRevoked,
    ConsentRejected,
    ConsentExpired,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Backoff => "BACKOFF",
            SkipReason::Suspended => "SUSPENDED",
            SkipReason::CircuitOpen => "CIRCUIT_OPEN",
            SkipReason::CredentialsRefused => "CREDENTIALS_REFUSED",
            SkipReason::AlreadyRunning => "ALREADY_RUNNING",
            SkipReason::ConsentMissing => "CONSENT_MISSING",
            SkipReason::ConsentWaiting => "CONSENT_WAITING",
            SkipReason::ConsentNoAnswer => "CONSENT_NO_ANSWER",
            SkipReason::ConsentRevoked => "CONSENT_REVOKED",
            SkipReason::ConsentRejected => "CONSENT_REJECTED",
            SkipReason::ConsentExpired => "CONSENT_EXPIRED",
        }
    }

    /// Whether the reason is the consent's (the client's to fix), not the bank's or ours.
    pub fn is_consent(self) -> bool {
        matches!(
            self,
            SkipReason::ConsentMissing
                | SkipReason::ConsentWaiting
                | SkipReason::ConsentNoAnswer
                | SkipReason::ConsentRevoked
                | SkipReason::ConsentRejected
                | SkipReason::ConsentExpired
        )
    }
}

/// One link's part in a run, as recorded in `sync_run_links`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncRunLink {
    pub run_id: i64,
    pub link_id: i64,
    pub client_id: i64,
    pub bank: String,
    pub result: LinkResult,
    /// Why it was not a plain success: a [`SkipReason`] for `Skipped`, the error's code for
    /// `Failed` (`NETWORK`, `BANK_DOWN`, `CONSENT_REQUIRED`, …), `SHORTFALL` for `Partial`.
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
