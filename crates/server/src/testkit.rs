//! Starting the real application on a random port with a fresh database, for black-box tests
//! and benchmarks. The caller passes `TEST_DATABASE_URL` (PostgreSQL) or `None` (SQLite).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use crm_core::testing::TestDatabase;
use crm_core::Core;
use tokio::sync::oneshot;

pub mod fake_llm;

use crate::app::App;
use crate::config::Config;

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// The page of a book as a frontend asks for it, the shape measured against other GraphQL
/// servers over the same PostgreSQL: accounts, balances, rating and each client's transaction
/// count. Shared by the statement-count test and the dashboard benchmark.
pub const BOOK_PAGE: &str = "query Book($first: Int) { clients(first: $first) { edges { node {
  id displayName status
  accounts { id name balance { amount currency } }
  totalBalance { amount currency }
  rating { grade score }
  transactions(first: 0) { totalCount }
} } } }";

/// A running server; stop it with [`TestServer::stop`].
pub struct TestServer {
    pub addr: SocketAddr,
    pub core: Arc<Core>,
    pub app_state: crate::http::AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    database: Option<TestDatabase>,
    /// The settings it was started with (for `restart`).
    vars: HashMap<String, String>,
}

/// The repository's `web/` folder (the tests serve the copy inside the binary, as a release
/// does; this is for tests of the `WEB_DIR` override).
pub fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web")
}

impl TestServer {
    /// Starts with the given extra settings (same names as the environment variables).
    pub async fn start(
        postgres_url: Option<&str>,
        extra: &[(&str, &str)],
    ) -> anyhow::Result<TestServer> {
        let database = TestDatabase::create(postgres_url)
            .await
            .context("creating the test database")?;
        let mut vars: HashMap<String, String> = HashMap::new();
        vars.insert("DATABASE_URL".into(), database.url.clone());
        vars.insert("DATABASE_MAX_CONNECTIONS".into(), "4".into());
        vars.insert("AUTH_USERNAME".into(), ADMIN.into());
        vars.insert("AUTH_PASSWORD".into(), ADMIN_PASSWORD.into());
        // No banks unless a test asks for them (`SANDBOX=on`, or bank URLs).
        vars.insert("SANDBOX".into(), "off".into());
        for (k, v) in extra {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        Self::build(vars, database).await
    }

    async fn build(vars: HashMap<String, String>, database: TestDatabase) -> anyhow::Result<Self> {
        let config = Config::from_source(&vars).context("test configuration")?;
        let app = App::build(&config).await?;
        let mut server = Self::serve(app, Some(database)).await?;
        server.vars = vars;
        Ok(server)
    }

    /// Stops the server and starts a new one with the same settings on the same database, as
    /// an operator's restart does.
    pub async fn restart(mut self) -> anyhow::Result<TestServer> {
        let database = self
            .database
            .take()
            .context("only a server started with `start` can restart")?;
        let vars = std::mem::take(&mut self.vars);
        self.stop().await?;
        Self::build(vars, database).await
    }

    /// Starts a second replica of this server: the same settings and database, its own pool,
    /// core and port (as a second process behind a load balancer would be). Stop it before
    /// this one, which owns the database. Replicas accept each other's sessions only with one
    /// `SECRET_KEY`, as in production: start this server with one.
    pub async fn start_replica(&self) -> anyhow::Result<TestServer> {
        anyhow::ensure!(
            self.vars.contains_key("SECRET_KEY"),
            "start the first server with a SECRET_KEY for its replicas to share"
        );
        let config = Config::from_source(&self.vars).context("replica configuration")?;
        let app = App::build(&config).await?;
        let mut replica = Self::serve(app, None).await?;
        replica.vars = self.vars.clone();
        Ok(replica)
    }

    /// Serves an already built app (benchmarks build their own).
    pub async fn serve(app: App, database: Option<TestDatabase>) -> anyhow::Result<TestServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let core = app.state.core.clone();
        let app_state = app.state.clone();
        let task = tokio::spawn(app.serve(listener, async {
            let _ = rx.await;
        }));
        Ok(TestServer {
            addr,
            core,
            app_state,
            shutdown: Some(tx),
            task,
            database,
            vars: HashMap::new(),
        })
    }

    /// The database URL the server runs on (for the `ai-crm` command in tests).
    pub fn database_url(&self) -> Option<&str> {
        self.database.as_ref().map(|d| d.url.as_str())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match tokio::time::timeout(std::time::Duration::from_secs(5), &mut self.task).await {
            Ok(joined) => joined.context("server task")??,
            Err(_) => self.task.abort(),
        }
        if let Some(db) = self.database.take() {
            db.cleanup().await?;
        }
        Ok(())
    }
}
