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
    /// Run the sandbox banks alone (ABank, VBank, SBank on consecutive ports from
    /// SANDBOX_PORT, default 9001), for pointing a server or another tool at them.
    Sandbox,
    /// Sync bank data now. With --client, links that bank client id (the same at every bank)
    /// first, creating the CRM client when needed. Exits non-zero when anything failed.
    Sync {
        /// Only this bank (code, e.g. abank).
        #[arg(long)]
        bank: Option<String>,
        /// The bank's client id, e.g. team200-1.
        #[arg(long)]
        client: Option<String>,
    },
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
        Command::Sync { bank, client } => run(move |config| sync(config, bank, client)),
        Command::Sandbox => run(sandbox),
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
    if app.sync_schedule.is_some() {
        tracing::info!("scheduled sync: {} (UTC)", config.sync_cron_text);
    }
    match &config.web_dir {
        None => {}
        Some(dir) if dir.join("index.html").is_file() => {
            tracing::info!("web app: served from WEB_DIR={}", dir.display());
        }
        Some(dir) => tracing::warn!(
            "WEB_DIR={}: no index.html there, so / answers 404 (unset WEB_DIR to serve the app built into the binary)",
            dir.display()
        ),
    }
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
    let result = core.audit().verify_audit_chain().await?;
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

async fn sync(config: Config, bank: Option<String>, client: Option<String>) -> anyhow::Result<()> {
    let db = app::open_database(&config).await?;
    let banks = crate::demo::connect(&config, &db).await?;
    let core = crm_core::Core::new(db, app::core_settings(&config)?, banks.registry)?;
    // On PostgreSQL, running servers see this run's progress and writes.
    core.start_events()
        .await
        .context("starting the event bus (LISTEN/NOTIFY)")?;
    if core.banks().all().is_empty() {
        use crm_core::connectors::{bank_crates, option_var, TABLE};
        let urls: Vec<String> = bank_crates(TABLE)
            .map(|(code, _, _)| option_var(code, "URL"))
            .collect();
        anyhow::bail!("no bank is configured: set {}or BANKS, with CLIENT_ID and CLIENT_SECRET (or leave them unset, without SANDBOX=off, for the sandbox banks)", urls.iter().map(|u| format!("{u}, ")).collect::<String>());
    }
    core.classifier()
        .reload()
        .await
        .context("loading the category rules")?;
    if let Some(sandbox) = &banks.sandbox {
        println!("no bank URL is configured: syncing from the built-in sandbox banks");
        crate::demo::prepare(&core, sandbox, &config.auth_username).await?;
    }
    let client_id = match &client {
        Some(external) => {
            let (id, banks) = core
                .sync()
                .link_external_client(external, bank.as_deref())
                .await?;
            println!(
                "client {external}: CRM client {id}, linked to {}",
                banks.join(", ")
            );
            Some(id)
        }
        None => None,
    };
    let scope = crm_core::sync::SyncScope { bank, client_id };
    let run = core
        .sync()
        .run(&scope, crm_core::sync::SyncTrigger::CommandLine)
        .await?;
    println!(
        "sync run {}: {} — {} accounts, {} added, {} updated, {} unchanged",
        run.id,
        run.status.as_str(),
        run.accounts,
        run.added,
        run.updated,
        run.unchanged
    );
    if let Some(message) = &run.message {
        println!("{message}");
    }
    for e in &run.errors {
        eprintln!("  {e}");
    }
    // Links left alone (a consent waiting for its client, a bank backing off) are not failures
    // of this command, but they are named.
    let links = core.sync().run_links(&[run.id]).await?;
    for l in links.get(&run.id).into_iter().flatten() {
        if l.result == crm_core::sync::LinkResult::Skipped {
            println!(
                "  skipped {} / client {}: {}",
                l.bank,
                l.client_id,
                l.message
                    .as_deref()
                    .or(l.code.as_deref())
                    .unwrap_or_default()
            );
        }
    }
    if run.errors.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "the sync ended {}: see the errors above",
            run.status.as_str()
        )
    }
}

async fn sandbox(config: Config) -> anyhow::Result<()> {
    let defaults = crm_sandbox_bank::SandboxConfig::default();
    let (seed, persons, anchor) = match &config.banks {
        crate::config::BankConfig::Sandbox {
            seed,
            persons,
            anchor,
        } => (*seed, *persons, *anchor),
        _ => (defaults.seed, defaults.persons, None),
    };
    let mut sandbox_config = defaults.with_seed(seed);
    sandbox_config.persons = persons;
    if let Some(day) = anchor.and_then(|d| d.and_hms_opt(0, 0, 0)) {
        sandbox_config = sandbox_config.with_anchor(day.and_utc());
    }
    let team_id = sandbox_config.team_id.clone();
    let team_secret = sandbox_config.team_secret.clone();
    let running = crm_sandbox_bank::Sandbox::start_with(
        sandbox_config,
        crm_sandbox_bank::Bind::Consecutive {
            host: config.host,
            first_port: config.sandbox_port,
        },
    )
    .await
    .with_context(|| {
        format!(
            "SANDBOX_PORT: cannot listen on {}:{} and the next ports",
            config.host, config.sandbox_port
        )
    })?;
    println!("Sandbox banks (Open Banking RU, HackAPI flavour); Ctrl-C stops them.");
    for bank in running.banks() {
        let approval = match bank.approval {
            crm_sandbox_bank::Approval::Automatic => "consents approved at once",
            crm_sandbox_bank::Approval::ByClient => {
                "consents wait for the client: POST /sandbox/consent-requests/{id}/approve"
            }
        };
        println!(
            "  {:<6} {:<6} {}  ({} clients; {approval})",
            bank.code,
            bank.name,
            bank.url,
            running.client_ids(&bank.code).len()
        );
    }
    println!();
    println!("Point a server at them:");
    println!("  CLIENT_ID={team_id} CLIENT_SECRET={team_secret} \\");
    for bank in running.banks() {
        let var = crm_core::connectors::option_var(&bank.code, "URL");
        println!("  {var}={} \\", bank.url);
    }
    println!("  ai-crm serve");
    app::shutdown_signal().await;
    running.stop().await;
    Ok(())
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
