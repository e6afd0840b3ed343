//! Sync runs as recorded in `sync_runs`, and the progress events a run emits.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, QuerySelect, Set};

use super::SyncEngine;
use super::{SyncRunStatus, SyncRunSummary, SyncScope, SyncTrigger};
use crate::entity::sync_runs;
use crate::error::{CoreError, CoreResult};

impl TryFrom<sync_runs::Model> for SyncRunSummary {
    type Error = CoreError;
    fn try_from(m: sync_runs::Model) -> CoreResult<Self> {
        Ok(SyncRunSummary {
            id: m.id,
            trigger: SyncTrigger::parse(&m.trigger),
            bank: m.bank_code,
            client_id: m.client_id,
            status: SyncRunStatus::parse(&m.status),
            started_at: m.started_at,
            finished_at: m.finished_at,
            accounts: m.accounts.max(0) as u32,
            added: m.added.max(0) as u32,
            updated: m.updated.max(0) as u32,
            unchanged: m.unchanged.max(0) as u32,
            errors: serde_json::from_str(&m.errors).unwrap_or_default(),
            message: m.message,
        })
    }
}

fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl SyncEngine {
    /// Records a new run, in the caller's transaction or on the pool.
    pub(crate) async fn start_run<C: sea_orm::ConnectionTrait>(
        &self,
        conn: &C,
        scope: &SyncScope,
        trigger: SyncTrigger,
    ) -> CoreResult<SyncRunSummary> {
        sync_runs::ActiveModel {
            trigger: Set(trigger.as_str().to_owned()),
            bank_code: Set(scope.bank.clone()),
            client_id: Set(scope.client_id),
            status: Set(SyncRunStatus::Running.as_str().to_owned()),
            started_at: Set(Utc::now()),
            finished_at: Set(None),
            accounts: Set(0),
            added: Set(0),
            updated: Set(0),
            unchanged: Set(0),
            errors: Set("[]".to_owned()),
            message: Set(None),
            ..Default::default()
        }
        .insert(conn)
        .await?
        .try_into()
    }

    pub(crate) async fn finish_run(&self, run: SyncRunSummary) -> CoreResult<SyncRunSummary> {
        let errors =
            serde_json::to_string(&run.errors).map_err(|e| CoreError::Internal(e.to_string()))?;
        sync_runs::ActiveModel {
            id: Set(run.id),
            status: Set(run.status.as_str().to_owned()),
            finished_at: Set(Some(Utc::now())),
            accounts: Set(count(run.accounts)),
            added: Set(count(run.added)),
            updated: Set(count(run.updated)),
            unchanged: Set(count(run.unchanged)),
            errors: Set(errors),
            message: Set(run.message.clone()),
            ..Default::default()
        }
        .update(self.db.conn())
        .await?
        .try_into()
    }

    /// Runs still marked running that started long enough ago can only have been cut off (the
    /// process was killed or the machine stopped): they are closed as failed, with a message,
    /// so no run claims to be running forever. Their data is consistent: every account's rows
    /// were committed with its cursor, and the next run resumes from there.
    ///
    /// On SQLite one process owns the file, so at start every such run is over; on PostgreSQL
    /// another replica may be mid-run, so only runs older than six hours are closed.
    pub async fn close_interrupted_runs(&self) -> CoreResult<u64> {
        use sea_orm::{ColumnTrait, QueryFilter};
        let before = match self.db.backend() {
            sea_orm::DatabaseBackend::Sqlite => Utc::now(),
            _ => Utc::now() - chrono::Duration::hours(6),
        };
        let result = sync_runs::Entity::update_many()
            .col_expr(
                sync_runs::Column::Status,
                sea_orm::sea_query::Expr::value(SyncRunStatus::Failed.as_str()),
            )
            .col_expr(
                sync_runs::Column::FinishedAt,
                sea_orm::sea_query::Expr::value(Utc::now()),
            )
            .col_expr(
                sync_runs::Column::Message,
                sea_orm::sea_query::Expr::value(
                    "interrupted (the server stopped during the run); the next run resumes from each account's cursor",
                ),
            )
            .filter(sync_runs::Column::Status.eq(SyncRunStatus::Running.as_str()))
            .filter(sync_runs::Column::StartedAt.lt(before))
            .exec(self.db.conn())
            .await?;
        Ok(result.rows_affected)
    }

    /// The latest runs, newest first.
    pub async fn sync_runs(&self, first: u64) -> CoreResult<Vec<SyncRunSummary>> {
        sync_runs::Entity::find()
            .order_by_desc(sync_runs::Column::Id)
            .limit(first)
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(SyncRunSummary::try_from)
            .collect()
    }
}
