//! The sandbox world (the demo's banks, people and seed) synced into a test database: every
//! person linked at every bank that knows them, consents approved, one sync run through the
//! real connectors. Shared by the tests that measure on the sandbox's known truth.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use crm_core::connectors::{build_registry, BankConfig as Bank, Credentials};
use crm_core::sync::{SyncRunStatus, SyncScope, SyncTrigger};
use crm_core::testing::TestDatabase;
use crm_core::{Core, CoreSettings};
use crm_sandbox_bank::{Approval, RunningSandbox, Sandbox, SandboxConfig};

/// The end of the sandbox's history: fixed, so the figures are the same on every run.
pub fn anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0)
        .single()
        .unwrap()
}

pub struct Synced {
    pub tdb: TestDatabase,
    pub sandbox: RunningSandbox,
    pub core: Arc<Core>,
    /// (the person's id at the banks, the client's id), by person id.
    pub clients: Vec<(String, i64)>,
}

/// Starts the sandbox at [`anchor`], links everyone and syncs once (on `TEST_DATABASE_URL`'s
/// PostgreSQL when set, else SQLite).
pub async fn synced_sandbox(settings: CoreSettings) -> Synced {
    synced_sandbox_at(settings, None).await
}

/// [`synced_sandbox`], linking the people at `only` this bank when given (those it does not
/// know are left out).
pub async fn synced_sandbox_at(settings: CoreSettings, only: Option<&str>) -> Synced {
    let pg = std::env::var("TEST_DATABASE_URL").ok();
    let tdb = TestDatabase::create(pg.as_deref()).await.unwrap();
    let sandbox = Sandbox::start(SandboxConfig::default().with_anchor(anchor()))
        .await
        .unwrap();
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
        })
        .collect();
    let registry = build_registry(&banks).unwrap();
    let core = Arc::new(Core::new(tdb.db.clone(), settings, registry).unwrap());

    let mut people: Vec<String> = sandbox
        .banks()
        .iter()
        .filter(|b| only.is_none_or(|code| code == b.code))
        .flat_map(|b| sandbox.client_ids(&b.code))
        .collect();
    people.sort();
    people.dedup();
    let mut clients = Vec::new();
    for id in people {
        let client = core.sync().link_external_client(&id, only).await.unwrap().0;
        clients.push((id, client));
    }
    for bank in sandbox
        .banks()
        .iter()
        .filter(|b| b.approval == Approval::ByClient)
    {
        let control = sandbox.control(&bank.code).unwrap();
        for request in control.consent_requests() {
            if request.status == "pending" {
                control.approve(&request.request_id).unwrap();
            }
        }
    }
    let run = core
        .sync()
        .run(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    assert_eq!(run.status, SyncRunStatus::Succeeded, "{run:?}");
    Synced {
        tdb,
        sandbox,
        core,
        clients,
    }
}
