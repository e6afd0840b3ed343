//! Building the application from configuration: database, migrations, core services, the
//! bootstrap administrator, the schema and the router. Tests call [`App::build`] with their own
//! configuration and serve it on port 0.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::serve::ListenerExt;
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
}

/// Opens (creating or migrating) the configured database.
pub async fn open_database(config: &Config) -> anyhow::Result<Database> {
    let db = Database::connect(&DbSettings {
        url: config.database_url.clone(),
        max_connections: config.database_max_connections,
    })
    .await
    .context("DATABASE_URL: cannot open the database")?;
    db.migrate().await.context("running database migrations")?;
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
        let closed = core.close_interrupted_runs().await?;
        if closed > 0 {
            tracing::warn!(
                runs = closed,
                "closed sync runs interrupted by a previous stop"
            );
        }
        core.reload_category_rules()
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
        };
        Ok(App {
            state,
            sandbox: banks.sandbox,
            generated_admin_password,
        })
    }

    pub fn router(&self) -> axum::Router {
        http::router(self.state.clone())
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let core = self.state.core.clone();
        let janitor = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(600));
            loop {
                tick.tick().await;
                match core.purge_expired_sessions().await {
                    Ok(n) if n > 0 => tracing::debug!(removed = n, "expired sessions purged"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!("purging sessions failed: {e}"),
                }
            }
        });
        // Demo mode: link the demo clients (or renew their consents) and sync them, in the
        // background so the server answers at once; the dashboard fills as the run goes.
        let demo = self.sandbox.clone().map(|sandbox| {
            let core = self.state.core.clone();
            tokio::spawn(async move {
                if let Err(e) = crate::demo::prepare(&core, &sandbox).await {
                    tracing::error!("demo: preparing the sandbox clients failed: {e:#}");
                    return;
                }
                match core
                    .sync(
                        &crm_core::sync::SyncScope::default(),
                        crm_core::sync::SyncTrigger::Startup,
                    )
                    .await
                {
                    Ok(run) => tracing::info!(
                        run = run.id,
                        status = run.status.as_str(),
                        added = run.added,
                        "demo: sandbox banks synced"
                    ),
                    Err(e) => tracing::error!("demo: the startup sync failed: {e}"),
                }
            })
        });
        let app = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        // Streamed answers are many small writes: send each at once instead of waiting for the
        // previous one to be acknowledged (Nagle's algorithm).
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!("TCP_NODELAY: {e}");
            }
        });
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
        janitor.abort();
        if let Some(task) = demo {
            task.abort();
        }
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
