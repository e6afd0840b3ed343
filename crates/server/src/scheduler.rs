//! The scheduled sync: sleeps until the next tick of `SYNC_CRON` (UTC) and runs the sync. With
//! several replicas on PostgreSQL only one runs each tick (see `Core::scheduled_sync`).

use std::sync::Arc;

use chrono::Utc;
use crm_core::Core;

pub fn spawn(core: Arc<Core>, schedule: cron::Schedule) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Some(due) = schedule.upcoming(Utc).next() else {
                tracing::warn!("SYNC_CRON has no future ticks: the scheduled sync is off");
                return;
            };
            let wait = (due - Utc::now()).to_std().unwrap_or_default();
            tracing::info!(next = %due, "next scheduled sync");
            tokio::time::sleep(wait).await;
            match core.scheduled_sync(due).await {
                Ok(Some(run)) => tracing::info!(
                    run = run.id,
                    status = run.status.as_str(),
                    added = run.added,
                    "scheduled sync done"
                ),
                Ok(None) => tracing::info!("scheduled sync skipped: another replica runs it"),
                Err(e) => tracing::error!("scheduled sync failed: {e}"),
            }
        }
    })
}
