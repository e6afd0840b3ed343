//! Background jobs: a small typed queue in the database, after crates.io's worker. A job is a
//! serde type with a `KIND` ([`Job`]); it is queued as a `jobs` row ([`enqueue_in`], inside the
//! transaction of the change that asks for it, so a request is recorded and queued or neither)
//! and run by a [`Runner`] that the application owns. Any replica's runner claims a due row
//! with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), renews the lease while the job runs,
//! and records the outcome: done, queued again after a backoff, or failed with its error. A
//! worker that dies leaves its lease to run out, and another claims the job again. A job that
//! must happen once whoever asks (a scheduled tick) carries a unique key: the second request is
//! not queued.
//!
//! The job types of core: `sync::SyncJob` (a sync run), `category_rules::RecategoriseJob` (a
//! re-categorisation run), [`Housekeeping`] (expired sessions, old job rows), `sync::PairOwnTransfersJob` (pairing the own transfers stored
//! before pairing existed, once) and `sync::RevocationJob` (revoking consents at a bank that
//! could not be reached). Payloads
//! carry ids and settings, never personal data.

mod queue;
mod runner;

use std::future::Future;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use queue::{enqueue_in, release_abandoned, JobStatus, Schedule};
pub use runner::{job_status, Runner, RunnerSettings};

use crate::error::CoreResult;
use crate::Core;

/// A kind of background work. Its fields are the payload (stored as JSON).
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The name stored with the row; unique among job types.
    const KIND: &'static str;
    /// Runs before the job is left `FAILED` (a run that returned an error counts; a run cut off
    /// by a dead worker counts too).
    const MAX_ATTEMPTS: i32 = 1;

    fn run(self, core: Arc<Core>) -> impl Future<Output = CoreResult<()>> + Send;
}

/// Wakes this process's job runner when a job was queued here (other replicas' runners find
/// it at their next poll). Cheap to clone; every service that queues jobs holds one.
#[derive(Clone, Default)]
pub struct JobWaker(Arc<tokio::sync::Notify>);

impl JobWaker {
    pub fn wake(&self) {
        self.0.notify_one();
    }

    pub(crate) fn notify(&self) -> &tokio::sync::Notify {
        &self.0
    }
}

/// Periodic clean-up: sessions past their timeouts, and job rows finished long ago.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Housekeeping {}

/// Finished job rows are kept this long (they keep a scheduled tick from being queued twice).
const KEEP_DONE_DAYS: i64 = 7;
/// Failed job rows are kept longer, for whoever investigates.
const KEEP_FAILED_DAYS: i64 = 30;

impl Job for Housekeeping {
    const KIND: &'static str = "housekeeping";
    const MAX_ATTEMPTS: i32 = 2;

    async fn run(self, core: Arc<Core>) -> CoreResult<()> {
        let sessions = core.auth().purge_expired_sessions().await?;
        let jobs = queue::purge_finished(
            core.db(),
            chrono::Duration::days(KEEP_DONE_DAYS),
            chrono::Duration::days(KEEP_FAILED_DAYS),
        )
        .await?;
        if sessions > 0 || jobs > 0 {
            tracing::debug!(sessions, jobs, "housekeeping: expired rows removed");
        }
        Ok(())
    }
}
