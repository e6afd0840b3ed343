//! Building the application from configuration: database, migrations, core services, the
//! bootstrap administrator, the schema and the router. Tests call [`App::build`] with their own
//! configuration and serve it on port 0.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::Duration as ChronoDuration;
use crm_core::auth::{SessionSettings, ThrottlePolicy};
use crm_core::db::{Database, DbSettings};
use crm_core::{Core, CoreSettings};
use crm_graphql::SchemaOptions;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::http::{self, AppState, HttpSettings, Metrics};

pub struct App {
    pub state: AppState,
    /// The in-process sandbox banks, in demo mode; they serve as long as the app.
    pub sandbox: Option<Arc<crm_sandbox_bank::RunningSandbox>>,
    /// Set on a first start without configured credentials: print it once.
    pub generated_admin_password: Option<String>,
    /// The administrator's name (the demo's managers sign in with its password).
    pub admin_username: String,
    /// The scheduled sync's schedule (none when no bank is configured).
    pub sync_schedule: Option<cron::Schedule>,
    /// How this process runs background jobs.
    pub jobs: crm_core::jobs::RunnerSettings,
    /// The HTTP server's header timeout and connection caps.
    pub connections: http::conn::ConnectionLimits,
}

/// Opens (creating or migrating) the configured database.
pub async fn open_database(config: &Config) -> anyhow::Result<Database> {
    let db = Database::connect(&DbSettings {
        url: config.database_url.clone(),
        max_connections: config.database_max_connections,
    })
    .await
    .context("DATABASE_URL: cannot open the database")?;
    crm_core::migrate(&db)
        .await
        .context("running database migrations")?;
    Ok(db)
}

pub fn core_settings(config: &Config) -> anyhow::Result<CoreSettings> {
    let chrono = |d: Duration| ChronoDuration::from_std(d).context("duration out of range");
    Ok(CoreSettings {
        sessions: SessionSettings {
            idle_timeout: chrono(config.session_idle)?,
            absolute_timeout: chrono(config.session_absolute)?,
        },
        throttle: ThrottlePolicy {
            max_failures_per_account: config.login_max_failures,
            max_failures_per_ip: config.login_max_failures_per_address,
            window: chrono(config.login_lockout)?,
            lockout: chrono(config.login_lockout)?,
        },
        secret_key: config.secret_key.clone(),
        base_currency: config.base_currency.clone(),
        max_concurrent_hashes: config.password_hash_concurrency,
        sync: config.sync.clone(),
        assistant: config.assistant.clone(),
        ratings: config.ratings.clone(),
        audit_view_window: config.audit_view_window,
        requests_per_minute: config.requests_per_minute,
        signals: config.signals.clone(),
    })
}

impl App {
    pub async fn build(config: &Config) -> anyhow::Result<App> {
        let db = open_database(config).await?;
        let banks = crate::demo::connect(config, &db).await?;
        let core = Arc::new(Core::new(db, core_settings(config)?, banks.registry)?);
        // On PostgreSQL, replicas share sync progress, ended sessions and writes.
        core.start_events()
            .await
            .context("starting the event bus (LISTEN/NOTIFY)")?;
        let closed = core.sync().close_interrupted_runs().await?;
        if closed > 0 {
            tracing::warn!(
                runs = closed,
                "closed sync runs interrupted by a previous stop"
            );
        }
        let released = crm_core::jobs::release_abandoned(core.db()).await?;
        if released > 0 {
            tracing::warn!(
                jobs = released,
                "jobs a previous stop left running are queued again"
            );
        }
        core.classifier()
            .reload()
            .await
            .context("loading the category rules")?;
        core.resume_interrupted_recategorisations()
            .await
            .context("resuming interrupted re-categorisations")?;
        match &config.assistant.provider {
            Some(p) => {
                let host = p
                    .base_url
                    .split_once("://")
                    .map(|(_, rest)| rest.split('/').next().unwrap_or_default())
                    .unwrap_or_default();
                tracing::info!(
                    model = %p.model,
                    provider = host,
                    key = if p.api_key.is_some() { "set" } else { "none" },
                    send_pii = config.assistant.send_pii,
                    "assistant: answers come from the model"
                );
                if p.timeouts.total > config.request_timeout {
                    tracing::warn!("AI_TIMEOUT is longer than REQUEST_TIMEOUT_SECS: a long askAssistant over HTTP ends at the request timeout (the assistantStream subscription has none)");
                }
            }
            None => tracing::info!(
                "assistant: the built-in analyst answers (set AI_API_KEY or AI_API_URL for a model)"
            ),
        }
        let generated_admin_password = core
            .auth()
            .ensure_bootstrap_admin(&config.auth_username, config.auth_password.clone())
            .await
            .context("AUTH_USERNAME: cannot set up the administrator")?;
        let api = crm_graphql::build_api(
            core.clone(),
            &SchemaOptions {
                introspection: config.introspection,
                max_depth: config.graphql_max_depth,
                max_complexity: config.graphql_max_complexity,
                max_fields: config.graphql_max_fields,
                gate: config.gate,
            },
        );
        let settings = HttpSettings {
            secure_cookies: config.secure_cookies(),
            public_url: config.public_url.clone(),
            allowed_origins: config.allowed_origins.clone(),
            trust_proxy: config.trust_proxy,
            graphiql: config.graphiql,
            web_dir: config.web_dir.clone(),
            body_limit_bytes: config.body_limit_bytes,
            request_timeout: config.request_timeout,
            ws_init_timeout: config.ws_init_timeout,
            metrics: match (&config.metrics_token, config.environment) {
                (Some(token), _) => http::MetricsAccess::Token(token.clone()),
                (None, crate::config::Environment::Production) => http::MetricsAccess::Off,
                (None, crate::config::Environment::Development) => http::MetricsAccess::Open,
            },
        };
        let state = AppState {
            core,
            api,
            settings: Arc::new(settings),
            metrics: Arc::new(Metrics::default()),
            cache: Arc::new(crate::http::cache::ResponseCache::new(config.graphql_cache)),
            sockets: Arc::new(crate::http::ws::SocketCounts::new(
                config.ws_max_sockets_per_user,
            )),
        };
        let sync_schedule =
            (!state.core.banks().all().is_empty()).then(|| config.sync_cron.clone());
        Ok(App {
            state,
            sandbox: banks.sandbox,
            generated_admin_password,
            admin_username: config.auth_username.clone(),
            sync_schedule,
            jobs: crm_core::jobs::RunnerSettings::default(),
            connections: config.connections,
        })
    }

    pub fn router(&self) -> axum::Router {
        http::router(self.state.clone())
    }

    /// Serves HTTP, runs background jobs and the scheduler until `shutdown` resolves (or one
    /// of them ends, which is logged); then finishes in-flight requests and drains the jobs in
    /// hand.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let core = self.state.core.clone();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = move || {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }
        };
        // Demo mode: link the demo clients (or renew their consents) and queue their sync, in
        // the background so the server answers at once; the dashboard fills as the run goes.
        let demo = self.sandbox.clone().map(|sandbox| {
            let core = core.clone();
            let admin = self.admin_username.clone();
            tokio::spawn(async move {
                if let Err(e) = crate::demo::prepare(&core, &sandbox, &admin).await {
                    tracing::error!("demo: preparing the sandbox clients failed: {e:#}");
                    return;
                }
                let scope = crm_core::sync::SyncScope::default();
                match core
                    .sync()
                    .enqueue_sync(&scope, crm_core::sync::SyncTrigger::Startup)
                    .await
                {
                    Ok(()) => tracing::info!("demo: sandbox banks' sync queued"),
                    Err(e) => tracing::error!("demo: queueing the startup sync failed: {e}"),
                }
            })
        });
        let runner = core.job_runner(self.jobs.clone()).run(stopped());
        let quota = core.request_quota().clone();
        let quota_stop = stopped();
        let quota = tokio::spawn(async move { quota.run(quota_stop).await });
        let scheduler = crate::scheduler::run(core.clone(), self.sync_schedule.clone(), stopped());
        let http = http::conn::serve(listener, self.router(), self.connections, stopped());
        tokio::pin!(http, runner, scheduler, shutdown);
        let mut result = Ok(());
        let (mut http_done, mut runner_done, mut scheduler_done) = (false, false, false);
        tokio::select! {
            _ = &mut shutdown => {}
            r = &mut http => {
                tracing::error!("the HTTP server ended: stopping");
                result = r;
                http_done = true;
            }
            _ = &mut runner => {
                tracing::error!("the job runner ended: stopping");
                runner_done = true;
            }
            _ = &mut scheduler => {
                tracing::error!("the scheduler ended: stopping");
                scheduler_done = true;
            }
        }
        let _ = stop_tx.send(true);
        if !http_done {
            result = http.await;
        }
        if !runner_done {
            runner.await;
        }
        if !scheduler_done {
            scheduler.await;
        }
        if let Some(task) = demo {
            task.abort();
        }
        let _ = quota.await;
        drop(self.sandbox);
        result.context("serving HTTP")
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
