//! The `ai-crm` command line.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::app::{self, App};
use crate::config::Config;

#[derive(Parser)]
#[command(
    name = "ai-crm",
    version,
    about = "AI-CRM: multi-bank client picture for relationship managers"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Read a password from standard input and print its argon2id hash for AUTH_PASSWORD_HASH.
    HashPassword,
    /// Print the GraphQL schema (SDL); `schema.graphql` is this output.
    Schema,
    /// Check the audit log's hash chain; exits non-zero when a row was altered or removed.
    AuditVerify,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = load_dotenv() {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
    }
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Schema => {
            print!("{}", crm_graphql::sdl());
            Ok(())
        }
        Command::HashPassword => hash_password(),
        Command::Serve => run(serve),
        Command::Migrate => run(migrate),
        Command::AuditVerify => run(audit_verify),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `.env` is optional; a malformed one is an error, not silently ignored.
fn load_dotenv() -> anyhow::Result<()> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(e) if e.not_found() => Ok(()),
        Err(e) => Err(e).context(".env"),
    }
}

fn run<F, Fut>(f: F) -> anyhow::Result<()>
where
    F: FnOnce(Config) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let config = Config::from_env()?;
    crate::telemetry::init(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(f(config))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    if config.secret_key_generated {
        tracing::warn!(
            "SECRET_KEY is not set: using a random key, so sessions end when the server restarts"
        );
    }
    let app = App::build(&config).await?;
    if let Some(password) = &app.generated_admin_password {
        eprintln!();
        eprintln!("  First start: created the administrator.");
        eprintln!("    username: {}", config.auth_username);
        eprintln!("    password: {password}");
        eprintln!("  This password is shown only now. Set AUTH_PASSWORD_HASH to choose your own.");
        eprintln!();
    }
    let addr = std::net::SocketAddr::new(config.host, config.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("HOST/PORT: cannot listen on {addr}"))?;
    let shown = listener.local_addr().unwrap_or(addr);
    tracing::info!(
        "AI-CRM listening on http://{shown} (GraphiQL: {})",
        if config.graphiql { "/graphiql" } else { "off" }
    );
    app.serve(listener, app::shutdown_signal()).await
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let db = app::open_database(&config).await?;
    db.close().await?;
    println!("database is up to date");
    Ok(())
}

async fn audit_verify(config: Config) -> anyhow::Result<()> {
    let db = app::open_database(&config).await?;
    let core = crm_core::Core::new(db, app::core_settings(&config)?, Default::default())?;
    let result = core.verify_audit_chain().await?;
    match result.first_broken {
        None => {
            println!("audit log intact: {} rows", result.rows);
            Ok(())
        }
        Some(id) => anyhow::bail!(
            "audit log broken at row {id} (checked {} rows)",
            result.rows
        ),
    }
}

fn hash_password() -> anyhow::Result<()> {
    eprintln!("password (one line on standard input):");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password")?;
    let password = line.trim_end_matches(['\r', '\n']);
    let hash = crm_core::auth::hash_password(password)?;
    println!("{hash}");
    Ok(())
}
