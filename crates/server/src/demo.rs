//! The banks the server talks to, and the embedded demo: with no bank URL configured the sandbox
//! banks (`crm-sandbox-bank`) run in-process on loopback, the CRM connects to them like to any
//! bank (over HTTP, through the same connector crates), links the demo clients and syncs them,
//! so a first start shows a full dashboard with no setup.
//!
//! The sandbox's world is generated from a seed up to an anchor day. The anchor is the day of the
//! first start (the first bank link) unless `SANDBOX_ANCHOR` names one, so a restart serves the same transactions again and a sync
//! after it adds nothing. The sandbox keeps its consents in memory: after a restart the CRM asks
//! every link for a new consent, and the demo plays the clients' part at the bank that needs
//! their approval (SBank) — approving all but two requests, so the waiting state can be seen too.

use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Timelike, Utc};
use crm_core::banks::BankRegistry;
use crm_core::connectors::{BankConfig as Bank, Credentials};
use crm_core::db::Database;
use crm_core::Core;
use crm_sandbox_bank::{Approval, RunningSandbox, Sandbox, SandboxConfig};

use crate::config::{BankConfig, Config};

/// How many demo clients keep a consent waiting for their approval.
const LEFT_WAITING: usize = 2;
/// Demo clients who decline the consent a bank asks them for (their link shows the consent lost).
const DECLINING: usize = 1;

/// The connected banks, and the in-process sandbox when it serves them.
pub struct Banks {
    pub registry: BankRegistry,
    pub sandbox: Option<Arc<RunningSandbox>>,
}

/// The sandbox's configuration for this database: the configured seed and size, with the world
/// ending on the configured anchor day, else on the day of the first start.
pub async fn sandbox_config(
    seed: u64,
    persons: u32,
    anchor: Option<chrono::NaiveDate>,
    db: &Database,
) -> anyhow::Result<SandboxConfig> {
    let first = match anchor {
        Some(day) => day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
        None => crm_core::links::first_link_created_at(db)
            .await
            .context("reading the demo's first start")?,
    };
    // The demo shows every kind of moment a manager acts on (`SandboxConfig::scenarios`).
    let mut config = SandboxConfig::default()
        .with_seed(seed)
        .with_scenarios(true);
    config.persons = persons;
    if let Some(anchor) = first.map(start_of_day) {
        config = config.with_anchor(anchor);
    }
    Ok(config)
}

fn start_of_day(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_hour(0)
        .and_then(|t| t.with_minute(0))
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(at)
}

/// Connects the configured banks; in demo mode starts the sandbox first.
pub async fn connect(config: &Config, db: &Database) -> anyhow::Result<Banks> {
    match &config.banks {
        BankConfig::Remote { banks } => Ok(Banks {
            registry: crm_core::connectors::build_registry(banks)
                .context("connecting the configured banks")?,
            sandbox: None,
        }),
        BankConfig::NoBanks => Ok(Banks {
            registry: BankRegistry::default(),
            sandbox: None,
        }),
        BankConfig::Sandbox {
            seed,
            persons,
            anchor,
        } => {
            let sandbox_config = sandbox_config(*seed, *persons, *anchor, db).await?;
            let sandbox = Sandbox::start(sandbox_config)
                .await
                .context("SANDBOX: starting the built-in sandbox banks")?;
            // Each sandbox bank as configured by hand: its crate when one is compiled in, else
            // the protocol builder; the sandbox says how it treats consents.
            let credentials = Credentials::new(sandbox.team_id(), sandbox.team_secret());
            let banks: Vec<Bank> = sandbox
                .banks()
                .into_iter()
                .map(|b| {
                    let approval = match b.approval {
                        Approval::ByClient => "client",
                        Approval::Automatic => "automatic",
                    };
                    Bank::new(&b.code, &b.url, credentials.clone())
                        .with_name(&b.name)
                        .with_option("APPROVAL", approval)
                        .with_limits(config.bank_limits)
                })
                .collect();
            let registry = crm_core::connectors::build_registry(&banks)
                .context("connecting to the sandbox banks")?;
            tracing::info!(
                banks = banks.len(),
                "no bank URL is configured: the built-in sandbox banks run in-process (SANDBOX=off to run without banks)"
            );
            Ok(Banks {
                registry,
                sandbox: Some(Arc::new(sandbox)),
            })
        }
    }
}

/// Links every demo client at every sandbox bank that knows them (first start), or asks the
/// banks for the consents they forgot (later starts), then approves the consents that wait for
/// the client, but for the last few. After this a sync brings everything in.
pub async fn prepare(
    core: &Core,
    sandbox: &RunningSandbox,
    admin_username: &str,
) -> anyhow::Result<()> {
    let has_links = crm_core::links::first_link_created_at(core.db())
        .await?
        .is_some();
    let banks = sandbox.banks();
    if has_links {
        for bank in &banks {
            let n = core.sync().request_consents_again(&bank.code).await?;
            tracing::debug!(bank = %bank.code, links = n, "demo: consents asked for again");
        }
    } else {
        let mut people: Vec<String> = banks
            .iter()
            .flat_map(|b| sandbox.client_ids(&b.code))
            .collect();
        people.sort_by_key(|id| person_number(id));
        people.dedup();
        let mut clients = Vec::new();
        for id in &people {
            match core.sync().link_external_client(id, None).await {
                Ok((client, _)) => clients.push(client),
                Err(e) => tracing::warn!(client = %id, "demo: linking failed: {e}"),
            }
        }
        if let Err(e) = books(core, admin_username, &clients).await {
            tracing::warn!("demo: setting up the teams and books failed: {e:#}");
        }
        tracing::info!(
            clients = people.len(),
            "demo: clients linked at the sandbox banks"
        );
    }
    for bank in banks.iter().filter(|b| b.approval == Approval::ByClient) {
        let Some(control) = sandbox.control(&bank.code) else {
            continue;
        };
        let mut pending: Vec<_> = control
            .consent_requests()
            .into_iter()
            .filter(|r| r.status == "pending")
            .collect();
        pending.sort_by_key(|r| person_number(&r.client_id));
        let keep = pending.len().saturating_sub(LEFT_WAITING);
        // The last of those not left waiting declines (a lost consent to act on); the others
        // approve.
        let approve = keep.saturating_sub(DECLINING);
        for (i, request) in pending.iter().take(keep).enumerate() {
            let answer = if i < approve {
                control.approve(&request.request_id).map(drop)
            } else {
                control.reject(&request.request_id)
            };
            if let Err(e) = answer {
                tracing::warn!(bank = %bank.code, "demo: answering a consent request failed: {e}");
            }
        }
    }
    Ok(())
}

/// The demo's teams, each with its lead first, then a manager.
const DEMO_TEAMS: [(&str, [&str; 2]); 2] = [
    ("Центр", ["ivanova", "petrov"]),
    ("Северо-Запад", ["smirnova", "kozlov"]),
];

/// Two teams of two managers (the first of each leads it), created on the first start; the
/// demo clients are dealt to the four managers in turn. The managers sign in with the
/// administrator's password.
async fn books(core: &Core, admin_username: &str, clients: &[i64]) -> anyhow::Result<()> {
    let Some(admin) = core.auth().user_named(admin_username).await? else {
        anyhow::bail!("no administrator {admin_username} to set the books up as");
    };
    let actor = crm_core::auth::Actor {
        user_id: admin.id,
        username: admin.username.clone(),
        role: crm_core::domain::Role::Admin,
        session_id: 0,
        password_change_required: false,
    };
    let mut managers = Vec::new();
    for (team, members) in DEMO_TEAMS {
        let mut ids = Vec::new();
        for name in members {
            let user = match core.auth().user_named(name).await? {
                Some(u) => u,
                None => {
                    core.auth()
                        .create_user_like(name, crm_core::domain::Role::Manager, admin_username)
                        .await?
                }
            };
            ids.push(user.id);
        }
        let team = core.create_team(&actor, team, ids.first().copied()).await?;
        for id in &ids {
            core.set_user_team(&actor, *id, Some(team.id)).await?;
        }
        managers.extend(ids);
    }
    for (i, client) in clients.iter().enumerate() {
        core.assign_client(&actor, *client, managers[i % managers.len()])
            .await?;
    }
    work(core, &actor, clients, &managers).await?;
    tracing::info!(
        managers = managers.len(),
        clients = clients.len(),
        "demo: clients dealt to two teams of managers (they sign in with the administrator's password)"
    );
    Ok(())
}

/// Each manager's first clients get a note of a call and three tasks (one overdue, one due
/// today, one later this week), so "My day" and the timeline show a manager's work at once.
async fn work(
    core: &Core,
    admin: &crm_core::auth::Actor,
    clients: &[i64],
    managers: &[i64],
) -> anyhow::Result<()> {
    use crm_core::domain::{TaskPriority, TaskSource};
    let now = Utc::now();
    // The managers' default zone, Europe/Moscow, is UTC+3 all year.
    let Some(moscow) = chrono::FixedOffset::east_opt(3 * 3600) else {
        anyhow::bail!("UTC+3 is not an offset");
    };
    let today = now.with_timezone(&moscow).date_naive();
    let at = |days: i64, hour: u32| {
        (today + chrono::Duration::days(days))
            .and_hms_opt(hour, 0, 0)
            .and_then(|t| t.and_local_timezone(moscow).single())
            .map(|t| t.with_timezone(&Utc))
    };
    let tasks: [(&str, i64, u32, TaskPriority); 3] = [
        (
            "Отправить клиенту условия по вкладу",
            -1,
            18,
            TaskPriority::High,
        ),
        (
            "Перезвонить по рефинансированию кредита",
            0,
            17,
            TaskPriority::Normal,
        ),
        (
            "Подготовить обзор расходов к встрече",
            4,
            11,
            TaskPriority::Low,
        ),
    ];
    for (i, client) in clients.iter().enumerate().take(managers.len() * 2) {
        let manager = managers[i % managers.len()];
        core.add_note(
            admin,
            *client,
            crm_core::notes::NoteKind::Call,
            "Клиент интересуется вкладом с ежемесячными процентами и хочет сравнить условия банков. Договорились прислать предложения до конца недели.",
            Some(now - chrono::Duration::days(2)),
        )
        .await?;
        if i >= managers.len() {
            continue;
        }
        for (title, days, hour, priority) in &tasks {
            core.create_task(
                admin,
                crm_core::tasks::NewTask {
                    client_id: Some(*client),
                    title: (*title).to_owned(),
                    details: String::new(),
                    due_at: at(*days, *hour),
                    assignee_id: Some(manager),
                    priority: *priority,
                    source: TaskSource::Manual,
                    source_ref: None,
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// `team200-12` → 12, so people sort as people expect.
fn person_number(id: &str) -> u64 {
    id.rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn people_sort_by_number_and_days_start_at_midnight() {
        let mut ids = vec!["team200-10", "team200-2", "team200-1"];
        ids.sort_by_key(|id| person_number(id));
        assert_eq!(ids, ["team200-1", "team200-2", "team200-10"]);
        let at = Utc.with_ymd_and_hms(2026, 12, 2, 17, 45, 3).unwrap();
        assert_eq!(
            start_of_day(at),
            Utc.with_ymd_and_hms(2026, 12, 2, 0, 0, 0).unwrap()
        );
    }
}
