//! The job queue on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL: jobs run once, a unique
//! key queues once, failures are retried then left failed, a dead worker's job is taken over,
//! and two runners side by side never run one job twice.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use crm_core::auth::Actor;
use crm_core::domain::Role;
use crm_core::jobs::{enqueue_in, job_status, Job, JobStatus, Runner, RunnerSettings, Schedule};
use crm_core::sync::SyncScope;
use crm_core::testing::TestDatabase;
use crm_core::{Core, CoreError, CoreResult, CoreSettings};
use sea_orm::{ConnectionTrait, Statement};
use serde::{Deserialize, Serialize};

/// Runs per test job tag, across every runner of the process (tests run in parallel: each uses
/// its own tags).
fn runs() -> &'static Mutex<HashMap<String, u32>> {
    static RUNS: std::sync::OnceLock<Mutex<HashMap<String, u32>>> = std::sync::OnceLock::new();
    RUNS.get_or_init(Default::default)
}

fn runs_of(tag: &str) -> u32 {
    runs().lock().unwrap().get(tag).copied().unwrap_or(0)
}

/// Counts its runs; fails while `fail` is above the number of runs so far.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Counted {
    tag: String,
    fail_first: u32,
}

impl Job for Counted {
    const KIND: &'static str = "test.counted";
    const MAX_ATTEMPTS: i32 = 3;

    async fn run(self, _core: Arc<Core>) -> CoreResult<()> {
        let n = {
            let mut runs = runs().lock().unwrap();
            let n = runs.entry(self.tag.clone()).or_default();
            *n += 1;
            *n
        };
        // Long enough for a second runner to try the same row meanwhile.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        if n <= self.fail_first {
            return Err(CoreError::invalid(format!("failing on purpose ({n})")));
        }
        Ok(())
    }
}

async fn setup() -> (Arc<Core>, TestDatabase) {
    let pg = std::env::var("TEST_DATABASE_URL").ok();
    let tdb = TestDatabase::create(pg.as_deref()).await.unwrap();
    let core =
        Arc::new(Core::new(tdb.db.clone(), CoreSettings::default(), Default::default()).unwrap());
    (core, tdb)
}

fn runner(core: &Arc<Core>) -> Runner {
    Runner::new(core.clone(), RunnerSettings::default()).register::<Counted>()
}

async fn queue(core: &Core, job: &Counted, schedule: Schedule) -> Option<i64> {
    enqueue_in(core.db().conn(), job, schedule).await.unwrap()
}

/// Moves a queued job's retry time to now (instead of waiting for its backoff).
async fn due_now(core: &Core, id: i64) {
    let db = core.db();
    let sql = match db.backend() {
        sea_orm::DatabaseBackend::Postgres => "UPDATE jobs SET run_at = $1 WHERE id = $2",
        _ => "UPDATE jobs SET run_at = ? WHERE id = ?",
    };
    db.conn()
        .execute(Statement::from_sql_and_values(
            db.backend(),
            sql,
            [(Utc::now() - Duration::seconds(1)).into(), id.into()],
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_job_runs_once_and_a_unique_key_queues_once() {
    let (core, tdb) = setup().await;
    let job = Counted {
        tag: "once".into(),
        fail_first: 0,
    };
    let id = queue(&core, &job, Schedule::once("tick-1")).await.unwrap();
    assert_eq!(queue(&core, &job, Schedule::once("tick-1")).await, None);
    let r = runner(&core);
    assert_eq!(r.run_pending().await.unwrap(), 1);
    assert_eq!(
        r.run_pending().await.unwrap(),
        0,
        "a done job is not run again"
    );
    assert_eq!(runs_of("once"), 1);
    assert_eq!(job_status(&core, id).await.unwrap(), Some(JobStatus::Done));
    // The key stays taken while the finished row is kept.
    assert_eq!(queue(&core, &job, Schedule::once("tick-1")).await, None);
    // A job due later waits.
    let later = Counted {
        tag: "later".into(),
        fail_first: 0,
    };
    let schedule = Schedule {
        run_at: Some(Utc::now() + Duration::hours(1)),
        unique_key: None,
    };
    queue(&core, &later, schedule).await.unwrap();
    assert_eq!(r.run_pending().await.unwrap(), 0);
    assert_eq!(runs_of("later"), 0);
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_runner_polling_an_empty_queue_writes_nothing() {
    let (core, tdb) = setup().await;
    let r = runner(&core);
    let before = core.db().writes().count();
    for _ in 0..5 {
        assert_eq!(r.run_pending().await.unwrap(), 0);
    }
    // A job due later is not due: still nothing written.
    let later = Counted {
        tag: "idle-later".into(),
        fail_first: 0,
    };
    let schedule = Schedule {
        run_at: Some(Utc::now() + Duration::hours(1)),
        unique_key: None,
    };
    queue(&core, &later, schedule).await.unwrap();
    let queued = core.db().writes().count();
    assert!(queued > before, "queueing is a write");
    for _ in 0..5 {
        assert_eq!(r.run_pending().await.unwrap(), 0);
    }
    assert_eq!(
        core.db().writes().count(),
        queued,
        "polling must not move the write clock: answers could never be reused"
    );
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_failing_job_is_retried_after_a_backoff_then_left_failed() {
    let (core, tdb) = setup().await;
    let r = runner(&core);
    // Fails twice, succeeds on the third of three attempts.
    let recovering = Counted {
        tag: "recovers".into(),
        fail_first: 2,
    };
    let id = queue(&core, &recovering, Schedule::now()).await.unwrap();
    assert_eq!(r.run_pending().await.unwrap(), 1);
    assert_eq!(
        job_status(&core, id).await.unwrap(),
        Some(JobStatus::Queued)
    );
    assert_eq!(
        r.run_pending().await.unwrap(),
        0,
        "the retry waits for its backoff"
    );
    for _ in 0..2 {
        due_now(&core, id).await;
        assert_eq!(r.run_pending().await.unwrap(), 1);
    }
    assert_eq!(job_status(&core, id).await.unwrap(), Some(JobStatus::Done));
    assert_eq!(runs_of("recovers"), 3);

    // Fails every time: three attempts, then FAILED with the error kept.
    let hopeless = Counted {
        tag: "hopeless".into(),
        fail_first: 99,
    };
    let id = queue(&core, &hopeless, Schedule::now()).await.unwrap();
    for _ in 0..3 {
        due_now(&core, id).await;
        r.run_pending().await.unwrap();
    }
    due_now(&core, id).await;
    assert_eq!(r.run_pending().await.unwrap(), 0);
    assert_eq!(runs_of("hopeless"), 3);
    assert_eq!(
        job_status(&core, id).await.unwrap(),
        Some(JobStatus::Failed)
    );
    let row = crm_core::testing::job_row(&core, id).await.unwrap();
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("failing on purpose (3)"),
        "{row:?}"
    );
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_job_whose_worker_died_is_taken_over_when_its_lease_runs_out() {
    let (core, tdb) = setup().await;
    let job = Counted {
        tag: "orphan".into(),
        fail_first: 0,
    };
    let id = queue(&core, &job, Schedule::now()).await.unwrap();
    // A worker claimed it and died: RUNNING, its lease still valid.
    crm_core::testing::set_job_lease(&core, id, "dead-worker", Utc::now() + Duration::minutes(1))
        .await
        .unwrap();
    let r = runner(&core);
    assert_eq!(
        r.run_pending().await.unwrap(),
        0,
        "a live lease is respected"
    );
    // The lease runs out.
    crm_core::testing::set_job_lease(&core, id, "dead-worker", Utc::now() - Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(r.run_pending().await.unwrap(), 1);
    assert_eq!(job_status(&core, id).await.unwrap(), Some(JobStatus::Done));
    assert_eq!(runs_of("orphan"), 1);
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn two_runners_side_by_side_run_each_job_once() {
    let (core, tdb) = setup().await;
    // A second process over the same database: its own Core and runner.
    let other =
        Arc::new(Core::new(tdb.db.clone(), CoreSettings::default(), Default::default()).unwrap());
    const JOBS: usize = 24;
    for i in 0..JOBS {
        let job = Counted {
            tag: format!("pair-{i}"),
            fail_first: 0,
        };
        queue(&core, &job, Schedule::now()).await.unwrap();
    }
    let (a, b) = (runner(&core), runner(&other));
    let (ran_a, ran_b) = tokio::join!(a.run_pending(), b.run_pending());
    let (ran_a, ran_b) = (ran_a.unwrap(), ran_b.unwrap());
    assert_eq!(ran_a + ran_b, JOBS, "every job claimed once");
    for i in 0..JOBS {
        assert_eq!(runs_of(&format!("pair-{i}")), 1, "job {i}");
    }
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_scheduled_tick_is_queued_once_whoever_asks() {
    let (core, tdb) = setup().await;
    let other =
        Arc::new(Core::new(tdb.db.clone(), CoreSettings::default(), Default::default()).unwrap());
    let due = Utc::now();
    let (a, b) = tokio::join!(
        core.sync().enqueue_scheduled_sync(due),
        other.sync().enqueue_scheduled_sync(due)
    );
    assert_eq!(
        [a.unwrap(), b.unwrap()].iter().filter(|q| **q).count(),
        1,
        "one replica's request queues the tick"
    );
    // The job runs with no bank configured: a run over no links, recorded once.
    let (ra, rb) = (
        core.job_runner(RunnerSettings::default()),
        other.job_runner(RunnerSettings::default()),
    );
    let (x, y) = tokio::join!(ra.run_pending(), rb.run_pending());
    assert_eq!(x.unwrap() + y.unwrap(), 1);
    let runs = core.sync().sync_runs(10).await.unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].trigger, crm_core::sync::SyncTrigger::Schedule);
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_sync_request_checks_the_role_and_the_scope_then_records_and_queues() {
    let (core, tdb) = setup().await;
    let viewer = Actor {
        user_id: 1,
        username: "viewer".into(),
        role: Role::Viewer,
        session_id: 0,
        password_change_required: false,
    };
    let manager = Actor {
        role: Role::Manager,
        username: "manager".into(),
        ..viewer.clone()
    };
    let scope = SyncScope::default();
    assert!(matches!(
        core.sync().request_sync(&viewer, &scope).await,
        Err(CoreError::Forbidden(_))
    ));
    let missing = SyncScope {
        bank: None,
        client_id: Some(987_654),
    };
    assert!(matches!(
        core.sync().request_sync(&manager, &missing).await,
        Err(CoreError::NotFound { .. })
    ));
    let unknown_bank = SyncScope {
        bank: Some("nobank".into()),
        client_id: None,
    };
    assert!(matches!(
        core.sync().request_sync(&manager, &unknown_bank).await,
        Err(CoreError::InvalidInput(_))
    ));
    assert!(
        core.sync().sync_runs(10).await.unwrap().is_empty(),
        "refusals record nothing"
    );

    let run = core.sync().request_sync(&manager, &scope).await.unwrap();
    assert_eq!(run.status, crm_core::sync::SyncRunStatus::Running);
    let runner = core.job_runner(RunnerSettings::default());
    assert_eq!(runner.run_pending().await.unwrap(), 1);
    let runs = core.sync().sync_runs(10).await.unwrap();
    assert_eq!(runs.len(), 1, "the job completes the run it was queued for");
    assert_eq!(runs[0].id, run.id);
    assert_eq!(runs[0].status, crm_core::sync::SyncRunStatus::Succeeded);
    tdb.cleanup().await.unwrap();
}
