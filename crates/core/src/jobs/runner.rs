//! The runner: claims due jobs and runs them, a few at a time, until told to stop.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::queue::{self, Claimed, JobStatus};
use super::Job;
use crate::error::{CoreError, CoreResult};
use crate::Core;

type JobFuture = Pin<Box<dyn Future<Output = CoreResult<()>> + Send>>;
type Handler = Arc<dyn Fn(Arc<Core>, &str) -> CoreResult<JobFuture> + Send + Sync>;

/// How the runner works.
#[derive(Clone, Debug)]
pub struct RunnerSettings {
    /// Jobs run at once by this process.
    pub concurrency: usize,
    /// How often the queue is looked at when nothing woke the runner (jobs queued by another
    /// replica are found this way).
    pub poll_interval: Duration,
    /// How long a claim holds without renewal; renewed every third of it while a job runs.
    pub lease: Duration,
    /// At shutdown, how long jobs in hand may take to finish before they are left to their
    /// leases (another worker runs them again).
    pub drain_timeout: Duration,
}

impl Default for RunnerSettings {
    fn default() -> Self {
        RunnerSettings {
            concurrency: 2,
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(30),
        }
    }
}

struct Inner {
    core: Arc<Core>,
    handlers: HashMap<&'static str, Handler>,
    settings: RunnerSettings,
    worker: String,
}

/// Runs the jobs of the kinds registered with it. Owned by the application (`serve`), or
/// stepped by tests with [`Runner::run_pending`].
#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
}

/// Aborts a spawned job when the runner gives up on it (drain timeout).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Runner {
    pub fn new(core: Arc<Core>, settings: RunnerSettings) -> Self {
        let worker = format!(
            "{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        Runner {
            inner: Arc::new(Inner {
                core,
                handlers: HashMap::new(),
                settings,
                worker,
            }),
        }
    }

    /// Adds a job type. Register every type before running.
    pub fn register<J: Job>(mut self) -> Self {
        let handler: Handler = Arc::new(|core, payload| {
            let job: J = serde_json::from_str(payload).map_err(|e| {
                CoreError::Internal(format!("job {}: unreadable payload: {e}", J::KIND))
            })?;
            Ok(Box::pin(job.run(core)))
        });
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => {
                inner.handlers.insert(J::KIND, handler);
            }
            None => tracing::error!(kind = J::KIND, "job registered after the runner started"),
        }
        self
    }

    /// Claims and runs due jobs one after another until none is due; returns how many ran.
    /// For tests and the command line, which step the queue instead of running a loop.
    pub async fn run_pending(&self) -> CoreResult<usize> {
        let mut ran = 0;
        while let Some(job) = self.claim().await? {
            Inner::execute(self.inner.clone(), job).await;
            ran += 1;
        }
        Ok(ran)
    }

    async fn claim(&self) -> CoreResult<Option<Claimed>> {
        let inner = &self.inner;
        let lease = chrono::Duration::from_std(inner.settings.lease)
            .map_err(|e| CoreError::Internal(format!("job lease: {e}")))?;
        queue::claim(inner.core.db(), &inner.worker, lease, chrono::Utc::now()).await
    }

    /// Runs jobs until `shutdown` resolves, then stops claiming and waits up to the drain
    /// timeout for the jobs in hand.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let settings = self.inner.settings.clone();
        let waker = self.inner.core.job_waker().clone();
        let wake = waker.notify();
        let mut running: JoinSet<()> = JoinSet::new();
        tracing::info!(
            worker = %self.inner.worker,
            concurrency = settings.concurrency,
            "job runner started"
        );
        loop {
            // Registered before the queue is read, so a job queued meanwhile is not missed.
            let woken = wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            while running.len() < settings.concurrency.max(1) {
                match self.claim().await {
                    Ok(Some(job)) => {
                        running.spawn(Inner::execute(self.inner.clone(), job));
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!("claiming a job failed: {e}");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = &mut shutdown => break,
                Some(done) = running.join_next(), if !running.is_empty() => {
                    if let Err(e) = done {
                        tracing::error!("a job task ended abnormally: {e}");
                    }
                }
                _ = woken => {}
                _ = tokio::time::sleep(settings.poll_interval) => {}
            }
        }
        if running.is_empty() {
            tracing::info!("job runner stopped");
            return;
        }
        tracing::info!(jobs = running.len(), "job runner draining");
        let drained = tokio::time::timeout(settings.drain_timeout, async {
            while running.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                jobs = running.len(),
                "jobs still running at the drain timeout are stopped; their leases run out and \
                 a worker runs them again"
            );
            running.abort_all();
        } else {
            tracing::info!("job runner drained");
        }
    }
}

impl Inner {
    /// Runs one claimed job to its end (renewing the lease meanwhile) and records the outcome.
    async fn execute(self: Arc<Self>, job: Claimed) {
        let started = std::time::Instant::now();
        let outcome = match self.handlers.get(job.kind.as_str()) {
            None => Err(format!("no runner for job kind {:?}", job.kind)),
            Some(handler) => match handler(self.core.clone(), &job.payload) {
                Err(e) => Err(e.to_string()),
                Ok(future) => self.run_with_lease(&job, future).await,
            },
        };
        if let Err(e) = &outcome {
            tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, "job failed: {e}");
        }
        match queue::finish(self.core.db(), &job, &self.worker, outcome).await {
            Ok(status) => tracing::debug!(
                job = job.id,
                kind = %job.kind,
                status = status.as_str(),
                ms = started.elapsed().as_millis() as u64,
                "job ended"
            ),
            Err(e) => tracing::error!(job = job.id, "recording the job's outcome failed: {e}"),
        }
    }

    async fn run_with_lease(&self, job: &Claimed, future: JobFuture) -> Result<(), String> {
        let mut task = AbortOnDrop(tokio::spawn(future));
        let every = (self.settings.lease / 3).max(Duration::from_millis(100));
        let mut beat = tokio::time::interval(every);
        beat.tick().await;
        let joined = loop {
            tokio::select! {
                joined = &mut task.0 => break joined,
                _ = beat.tick() => {
                    let until = chrono::Utc::now()
                        + chrono::Duration::from_std(self.settings.lease).unwrap_or_default();
                    match queue::renew(self.core.db(), job.id, &self.worker, until).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(job = job.id, "job lease lost: another worker may run it"),
                        Err(e) => tracing::warn!(job = job.id, "renewing the job lease failed: {e}"),
                    }
                }
            }
        };
        match joined {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) if e.is_internal() => {
                tracing::error!(job = job.id, "job error: {e}");
                Err("internal error (see the server log)".to_owned())
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) if e.is_panic() => {
                tracing::error!(job = job.id, "job panicked");
                Err("the job panicked (see the server log)".to_owned())
            }
            Err(_) => Err("the job was cancelled".to_owned()),
        }
    }
}

/// Status of a job as the queue knows it (for tests and diagnostics).
pub async fn job_status(core: &Core, id: i64) -> CoreResult<Option<JobStatus>> {
    use sea_orm::EntityTrait;
    let row = crate::entity::jobs::Entity::find_by_id(id)
        .one(core.db().conn())
        .await?;
    Ok(row.map(|r| JobStatus::parse(&r.status)))
}
