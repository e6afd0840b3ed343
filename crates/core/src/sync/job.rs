//! Syncs as background jobs: a person's `syncNow` and the schedule's ticks are queued as
//! [`SyncJob`]s and run by whichever replica's job runner claims them.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{EntityTrait, QuerySelect};
use serde::{Deserialize, Serialize};

use super::SyncEngine;
use super::{SyncRunStatus, SyncRunSummary, SyncScope, SyncTrigger};
use crate::audit::AuditEvent;
use crate::domain::Actor;
use crate::domain::Role;
use crate::entity::sync_runs;
use crate::error::{CoreError, CoreResult};
use crate::jobs::{self, Job, Schedule};
use crate::Core;

/// One sync run over a scope. `run_id` is the run recorded when a person asked for it; a
/// scheduled tick records its run when it starts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyncJob {
    pub run_id: Option<i64>,
    pub bank: Option<String>,
    pub client_id: Option<i64>,
    pub trigger: String,
}

impl SyncJob {
    fn scope(&self) -> SyncScope {
        SyncScope {
            bank: self.bank.clone(),
            client_id: self.client_id,
        }
    }
}

impl Job for SyncJob {
    const KIND: &'static str = "sync";

    async fn run(self, core: Arc<Core>) -> CoreResult<()> {
        let run = core.sync().run_job(self).await?;
        tracing::info!(
            run = run.id,
            status = run.status.as_str(),
            added = run.added,
            "sync run done"
        );
        Ok(())
    }
}

impl SyncEngine {
    /// A person asks for a sync of the links in scope (all when both are absent): the role is
    /// checked, the scope validated, the run recorded, audited and its job queued in one
    /// database transaction. Returns the run at once; follow it with the progress events or
    /// `sync_runs`.
    pub async fn request_sync(
        &self,
        actor: &Actor,
        scope: &SyncScope,
    ) -> CoreResult<SyncRunSummary> {
        actor.require(Role::Manager)?;
        self.check_scope(scope).await?;
        let txn = self.db.begin_write().await?;
        let run = self.start_run(&txn, scope, SyncTrigger::Manual).await?;
        let mut event = AuditEvent::new("sync.request")
            .actor(actor)
            .entity("sync_run", run.id);
        if let Some(bank) = &scope.bank {
            event = event.detail("bank", bank.as_str());
        }
        if let Some(client) = scope.client_id {
            event = event.detail("client", client);
        }
        let job = SyncJob {
            run_id: Some(run.id),
            bank: scope.bank.clone(),
            client_id: scope.client_id,
            trigger: SyncTrigger::Manual.as_str().to_owned(),
        };
        jobs::enqueue_in(&txn, &job, Schedule::now()).await?;
        crate::audit::record_in(&txn, event).await?;
        txn.commit().await?;
        self.jobs.wake();
        Ok(run)
    }

    /// Queues the scheduled sync of the schedule's tick at `due`. Every replica's scheduler
    /// asks; the tick's unique key lets one job in, so one replica runs it. Returns whether
    /// this call queued it.
    pub async fn enqueue_scheduled_sync(&self, due: DateTime<Utc>) -> CoreResult<bool> {
        let job = SyncJob {
            run_id: None,
            bank: None,
            client_id: None,
            trigger: SyncTrigger::Schedule.as_str().to_owned(),
        };
        let key = format!("sync:schedule:{}", due.timestamp());
        let queued = jobs::enqueue_in(self.db.conn(), &job, Schedule::once(key)).await?;
        self.jobs.wake();
        Ok(queued.is_some())
    }

    /// Queues a sync with no person behind it (demo start, command line), run by the runner.
    pub async fn enqueue_sync(&self, scope: &SyncScope, trigger: SyncTrigger) -> CoreResult<()> {
        self.check_scope(scope).await?;
        let job = SyncJob {
            run_id: None,
            bank: scope.bank.clone(),
            client_id: scope.client_id,
            trigger: trigger.as_str().to_owned(),
        };
        jobs::enqueue_in(self.db.conn(), &job, Schedule::now()).await?;
        self.jobs.wake();
        Ok(())
    }

    /// Runs a queued sync: its recorded run when there is one still open, else a new run (a
    /// run closed as interrupted by a restart is not reopened: a new one says what happened).
    async fn run_job(&self, job: SyncJob) -> CoreResult<SyncRunSummary> {
        let scope = job.scope();
        let trigger = SyncTrigger::parse(&job.trigger);
        let recorded = match job.run_id {
            Some(id) => sync_runs::Entity::find_by_id(id)
                .one(self.db.conn())
                .await?
                .map(SyncRunSummary::try_from)
                .transpose()?
                .filter(|run| run.status == SyncRunStatus::Running),
            None => None,
        };
        let (run, links) = match recorded {
            Some(run) => {
                let links = self.links_in_scope(&scope).await?;
                (run, links)
            }
            None => self.begin_sync(&scope, trigger).await?,
        };
        self.complete_sync(run, links).await
    }
}

/// Pairs the legs of transfers between clients' own accounts over all stored history: queued
/// once after the upgrade that introduced pairing (later syncs pair what they store).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PairOwnTransfersJob {}

impl Job for PairOwnTransfersJob {
    const KIND: &'static str = "pair_own_transfers";
    const MAX_ATTEMPTS: i32 = 3;

    async fn run(self, core: Arc<Core>) -> CoreResult<()> {
        let clients: Vec<i64> = crate::entity::clients::Entity::find()
            .select_only()
            .column(crate::entity::clients::Column::Id)
            .into_tuple()
            .all(core.db().conn())
            .await?;
        let since = Utc::now() - chrono::Duration::days(3650);
        let mut pairs = 0;
        for client in clients {
            pairs += core.sync().pair_own_transfers(client, since).await?;
        }
        tracing::info!(pairs, "own transfers already stored paired");
        Ok(())
    }
}

/// Retries the pending revocations; fails (and so backs off and runs again) while any is left.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RevocationJob {}

impl Job for RevocationJob {
    const KIND: &'static str = "revoke_consents";
    /// With the queue's backoff (30 s doubling, at most an hour) about a day of tries.
    const MAX_ATTEMPTS: i32 = 30;

    async fn run(self, core: Arc<Core>) -> CoreResult<()> {
        let left = core.sync().retry_revocations().await?;
        if left > 0 {
            return Err(CoreError::bank(
                crate::error::BankFailure::Down,
                format!("{left} consent revocations are still pending"),
            ));
        }
        Ok(())
    }
}
