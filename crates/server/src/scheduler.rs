//! The scheduler: it only queues jobs, and a job runner (this replica's or another's) runs them.
//! At each tick of `SYNC_CRON` (UTC) it queues the scheduled sync, and every ten minutes the
//! housekeeping job; every replica's scheduler asks, and each job's unique key lets one in.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use crm_core::Core;

/// How often housekeeping (expired sessions, old job rows) is queued.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(600);

/// Queues jobs until `shutdown` resolves. `schedule` is `None` when no bank is configured (no
/// scheduled sync, housekeeping only).
pub async fn run(
    core: Arc<Core>,
    schedule: Option<cron::Schedule>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut housekeeping = tokio::time::interval(HOUSEKEEPING_EVERY);
    housekeeping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let due = schedule.as_ref().and_then(|s| s.upcoming(Utc).next());
        let wait = due
            .map(|d| (d - Utc::now()).to_std().unwrap_or_default())
            .unwrap_or(Duration::from_secs(86_400));
        tokio::select! {
            _ = &mut shutdown => return,
            _ = housekeeping.tick() => {
                if let Err(e) = core.enqueue_housekeeping(Utc::now()).await {
                    tracing::warn!("queueing housekeeping failed: {e}");
                }
            }
            _ = tokio::time::sleep(wait), if due.is_some() => {
                let Some(due) = due else { continue };
                match core.sync().enqueue_scheduled_sync(due).await {
                    Ok(true) => tracing::info!(tick = %due, "scheduled sync queued"),
                    Ok(false) => tracing::info!(tick = %due, "scheduled sync already queued by another replica"),
                    Err(e) => tracing::error!(tick = %due, "queueing the scheduled sync failed: {e}"),
                }
            }
        }
    }
}
