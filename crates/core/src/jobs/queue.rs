//! The `jobs` table: queueing, claiming with a lease, renewing, recording outcomes.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, Set, Statement,
    TryInsertResult, Value,
};

use super::Job;
use crate::db::Database;
use crate::entity::jobs;
use crate::error::{CoreError, CoreResult};

/// Where a job row stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "QUEUED",
            JobStatus::Running => "RUNNING",
            JobStatus::Done => "DONE",
            JobStatus::Failed => "FAILED",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "RUNNING" => JobStatus::Running,
            "DONE" => JobStatus::Done,
            "FAILED" => JobStatus::Failed,
            _ => JobStatus::Queued,
        }
    }
}

/// When and how often a job is queued.
#[derive(Clone, Debug, Default)]
pub struct Schedule {
    /// Not before this moment (default: now).
    pub run_at: Option<DateTime<Utc>>,
    /// At most one job with this key is ever queued (until its row is purged).
    pub unique_key: Option<String>,
}

impl Schedule {
    pub fn now() -> Self {
        Schedule::default()
    }

    pub fn once(key: impl Into<String>) -> Self {
        Schedule {
            run_at: None,
            unique_key: Some(key.into()),
        }
    }
}

/// Queues `job` in the caller's transaction. Returns its id, or `None` when a job with the same
/// unique key was queued already. The caller wakes this process's runner after committing
/// (`Core::wake_jobs`); other replicas' runners find it at their next poll.
pub async fn enqueue_in<C: ConnectionTrait, J: Job>(
    conn: &C,
    job: &J,
    schedule: Schedule,
) -> CoreResult<Option<i64>> {
    let payload = serde_json::to_string(job)
        .map_err(|e| CoreError::Internal(format!("job {}: {e}", J::KIND)))?;
    let now = Utc::now();
    let row = jobs::ActiveModel {
        kind: Set(J::KIND.to_owned()),
        payload: Set(payload),
        unique_key: Set(schedule.unique_key),
        status: Set(JobStatus::Queued.as_str().to_owned()),
        attempts: Set(0),
        max_attempts: Set(J::MAX_ATTEMPTS.max(1)),
        run_at: Set(schedule.run_at.unwrap_or(now)),
        locked_by: Set(None),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
        ..Default::default()
    };
    let result = jobs::Entity::insert(row)
        .on_conflict(
            OnConflict::column(jobs::Column::UniqueKey)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(conn)
        .await?;
    Ok(match result {
        TryInsertResult::Inserted(r) => Some(r.last_insert_id),
        TryInsertResult::Conflicted | TryInsertResult::Empty => None,
    })
}

/// A job claimed by a worker.
#[derive(Clone, Debug)]
pub(super) struct Claimed {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: i32,
    pub max_attempts: i32,
}

/// Runs cut off by dead workers are claimed again at most this many times beyond
/// `max_attempts`: a job that kills its worker every time ends `FAILED` instead of looping.
const CRASH_ALLOWANCE: i32 = 2;

/// Claims the next due job for `worker` until `now + lease`: a queued one whose time has
/// come, or a running one whose worker's lease ran out.
pub(super) async fn claim(
    db: &Database,
    worker: &str,
    lease: Duration,
    now: DateTime<Utc>,
) -> CoreResult<Option<Claimed>> {
    let backend = db.backend();
    // An idle queue is looked at with a read: a runner polling an empty queue writes nothing,
    // so it never moves the write clock (which would stop answers from being reused).
    let due = format!(
        "SELECT id FROM jobs \
         WHERE ((status = 'QUEUED' AND run_at <= $1) OR (status = 'RUNNING' AND locked_until < $1)) \
           AND attempts < max_attempts + {CRASH_ALLOWANCE} LIMIT 1"
    );
    let any = db
        .conn()
        .query_one(Statement::from_sql_and_values(backend, due, [now.into()]))
        .await?;
    if any.is_none() {
        return Ok(None);
    }
    let skip_locked = if backend == DatabaseBackend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE jobs SET status = 'RUNNING', locked_by = $1, locked_until = $2, \
         attempts = attempts + 1, updated_at = $3 \
         WHERE id = (SELECT id FROM jobs \
           WHERE ((status = 'QUEUED' AND run_at <= $3) \
              OR (status = 'RUNNING' AND locked_until < $3)) \
             AND attempts < max_attempts + {CRASH_ALLOWANCE} \
           ORDER BY run_at, id LIMIT 1{skip_locked}) \
         RETURNING id, kind, payload, attempts, max_attempts"
    );
    let values: Vec<Value> = vec![worker.into(), (now + lease).into(), now.into()];
    // The writer lock on SQLite (a no-op wrapper on PostgreSQL, where SKIP LOCKED lets
    // replicas claim side by side).
    let txn = db.begin_write().await?;
    let row = txn
        .query_one(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    txn.commit().await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(Claimed {
        id: row.try_get("", "id")?,
        kind: row.try_get("", "kind")?,
        payload: row.try_get("", "payload")?,
        attempts: row.try_get("", "attempts")?,
        max_attempts: row.try_get("", "max_attempts")?,
    }))
}

/// Extends the lease of a job this worker holds. `false` when it no longer holds it.
pub(super) async fn renew(
    db: &Database,
    id: i64,
    worker: &str,
    until: DateTime<Utc>,
) -> CoreResult<bool> {
    let res = jobs::Entity::update_many()
        .col_expr(
            jobs::Column::LockedUntil,
            sea_orm::sea_query::Expr::value(until),
        )
        .filter(jobs::Column::Id.eq(id))
        .filter(jobs::Column::LockedBy.eq(worker))
        .filter(jobs::Column::Status.eq(JobStatus::Running.as_str()))
        .exec(db.conn())
        .await?;
    Ok(res.rows_affected == 1)
}

/// The wait before attempt `n + 1` after `n` failed ones: 30 s, 1 min, 2 min … at most 1 h.
pub(super) fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 8) as u32 - 1;
    Duration::seconds((30_i64 << exp).min(3_600))
}

/// Records how a claimed job ended: done; or, after an error, queued again after a backoff
/// while attempts are left, else failed.
pub(super) async fn finish(
    db: &Database,
    job: &Claimed,
    worker: &str,
    outcome: Result<(), String>,
) -> CoreResult<JobStatus> {
    use sea_orm::sea_query::Expr;
    let now = Utc::now();
    let (status, run_at, error) = match outcome {
        Ok(()) => (JobStatus::Done, None, None),
        Err(e) if job.attempts < job.max_attempts => (
            JobStatus::Queued,
            Some(now + backoff(job.attempts)),
            Some(e),
        ),
        Err(e) => (JobStatus::Failed, None, Some(e)),
    };
    let finished = matches!(status, JobStatus::Done | JobStatus::Failed).then_some(now);
    let mut update = jobs::Entity::update_many()
        .col_expr(jobs::Column::Status, Expr::value(status.as_str()))
        .col_expr(jobs::Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(
            jobs::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
        .col_expr(jobs::Column::FinishedAt, Expr::value(finished));
    if let Some(at) = run_at {
        update = update.col_expr(jobs::Column::RunAt, Expr::value(at));
    }
    if error.is_some() {
        update = update.col_expr(jobs::Column::LastError, Expr::value(error));
    }
    update
        .filter(jobs::Column::Id.eq(job.id))
        .filter(jobs::Column::LockedBy.eq(worker))
        .exec(db.conn())
        .await?;
    Ok(status)
}

/// At start on SQLite (one process owns the file): jobs left running by a stopped process are
/// queued again at once instead of waiting for their lease. On PostgreSQL another replica may
/// be running them; their leases decide. Returns how many were released.
pub async fn release_abandoned(db: &Database) -> CoreResult<u64> {
    use sea_orm::sea_query::Expr;
    if db.backend() != DatabaseBackend::Sqlite {
        return Ok(0);
    }
    let res = jobs::Entity::update_many()
        .col_expr(
            jobs::Column::Status,
            Expr::value(JobStatus::Queued.as_str()),
        )
        .col_expr(jobs::Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(
            jobs::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(jobs::Column::Status.eq(JobStatus::Running.as_str()))
        .exec(db.conn())
        .await?;
    Ok(res.rows_affected)
}

/// Deletes finished rows older than the given ages. Returns how many went.
pub(super) async fn purge_finished(
    db: &Database,
    keep_done: Duration,
    keep_failed: Duration,
) -> CoreResult<u64> {
    let now = Utc::now();
    let mut removed = 0;
    for (status, keep) in [
        (JobStatus::Done, keep_done),
        (JobStatus::Failed, keep_failed),
    ] {
        removed += jobs::Entity::delete_many()
            .filter(jobs::Column::Status.eq(status.as_str()))
            .filter(jobs::Column::FinishedAt.lt(now - keep))
            .exec(db.conn())
            .await?
            .rows_affected;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(3), Duration::seconds(120));
        assert_eq!(backoff(8), Duration::seconds(3_600));
        assert_eq!(backoff(50), Duration::seconds(3_600));
    }
}
