//! Sync runs as recorded in `sync_runs`, and the progress events a run emits.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, QuerySelect, Set};

use super::SyncEngine;
use super::{
    LinkOutcome, LinkResult, SyncRunLink, SyncRunStatus, SyncRunSummary, SyncScope, SyncTrigger,
};
use crate::entity::{sync_run_links, sync_runs};
use crate::error::{CoreError, CoreResult};
use crate::links::BankLink;

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

impl From<sync_run_links::Model> for SyncRunLink {
    fn from(m: sync_run_links::Model) -> Self {
        SyncRunLink {
            run_id: m.run_id,
            link_id: m.link_id,
            client_id: m.client_id,
            bank: m.bank_code,
            result: LinkResult::parse(&m.outcome),
            code: m.code,
            message: m.message,
            accounts: m.accounts.max(0) as u32,
            added: m.added.max(0) as u32,
            updated: m.updated.max(0) as u32,
            unchanged: m.unchanged.max(0) as u32,
            shortfall: m.shortfall.max(0) as u64,
            finished_at: m.finished_at,
        }
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

    /// Records what each link's sync did in this run, one row per link.
    pub(crate) async fn record_run_links(
        &self,
        run_id: i64,
        outcomes: &[(BankLink, LinkOutcome)],
    ) -> CoreResult<()> {
        let now = Utc::now();
        let rows: Vec<sync_run_links::ActiveModel> = outcomes
            .iter()
            .map(|(link, o)| sync_run_links::ActiveModel {
                run_id: Set(run_id),
                link_id: Set(link.id),
                client_id: Set(link.client_id),
                bank_code: Set(link.bank_code.clone()),
                outcome: Set(o.result().as_str().to_owned()),
                code: Set(o.code()),
                message: Set(o.message()),
                accounts: Set(count(o.accounts)),
                added: Set(count(o.added)),
                updated: Set(count(o.updated)),
                unchanged: Set(count(o.unchanged)),
                shortfall: Set(i64::try_from(o.shortfall).unwrap_or(i64::MAX)),
                finished_at: Set(now),
                ..Default::default()
            })
            .collect();
        for chunk in rows.chunks(500) {
            sync_run_links::Entity::insert_many(chunk.to_vec())
                .exec(self.db.conn())
                .await?;
        }
        Ok(())
    }

    /// What each link did in these runs, keyed by run id (links in bank, then client order).
    pub async fn run_links(
        &self,
        run_ids: &[i64],
    ) -> CoreResult<std::collections::HashMap<i64, Vec<SyncRunLink>>> {
        use sea_orm::{ColumnTrait, QueryFilter};
        let rows = sync_run_links::Entity::find()
            .filter(sync_run_links::Column::RunId.is_in(run_ids.iter().copied()))
            .order_by_asc(sync_run_links::Column::BankCode)
            .order_by_asc(sync_run_links::Column::ClientId)
            .order_by_asc(sync_run_links::Column::LinkId)
            .all(self.db.conn())
            .await?;
        let mut out: std::collections::HashMap<i64, Vec<SyncRunLink>> =
            std::collections::HashMap::new();
        for row in rows {
            out.entry(row.run_id).or_default().push(row.into());
        }
        Ok(out)
    }

    /// Runs still marked running that started long enough ago can only have been cut off (the
    /// process was killed or the machine stopped): they are closed as failed, with a message,
    /// so no run claims to be running forever. Their data is consistent: every account's rows
    /// were committed with its cursor, and the next run resumes from there.
    ///
    /// Such a run has no `paired_at`: the next run pairs every client's whole history, so the
    /// own transfers among the rows it stored are paired then.
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

/// Whether a run before `run_id` never finished its own-transfer pairing step (cut off, its
/// pairing failed, or still running on another replica).
pub(crate) async fn unpaired_before<C: sea_orm::ConnectionTrait>(
    conn: &C,
    run_id: i64,
) -> CoreResult<bool> {
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    let found: Option<i64> = sync_runs::Entity::find()
        .select_only()
        .column(sync_runs::Column::Id)
        .filter(sync_runs::Column::Id.lt(run_id))
        .filter(sync_runs::Column::PairedAt.is_null())
        .into_tuple()
        .one(conn)
        .await?;
    Ok(found.is_some())
}

/// Notes that run `run_id` finished pairing; after a catch-up over everything, so did every
/// earlier run that is over (a run still marked running notes its own when it ends).
pub(crate) async fn mark_paired<C: sea_orm::ConnectionTrait>(
    conn: &C,
    run_id: i64,
    catch_up: bool,
) -> CoreResult<()> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let now = Utc::now();
    let mut cond = sea_orm::Condition::any().add(sync_runs::Column::Id.eq(run_id));
    if catch_up {
        cond = cond.add(
            sea_orm::Condition::all()
                .add(sync_runs::Column::Id.lt(run_id))
                .add(sync_runs::Column::PairedAt.is_null())
                .add(sync_runs::Column::Status.ne(SyncRunStatus::Running.as_str())),
        );
    }
    sync_runs::Entity::update_many()
        .col_expr(
            sync_runs::Column::PairedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(cond)
        .exec(conn)
        .await?;
    Ok(())
}
