//! A bank of another wire format than the HackAPI protocol plugs in through the registry's
//! public path and syncs: `crm-connector-toybank` (JSON over HTTP, an API key, no token, no
//! paging) registered by its `REGISTRATION` — the line core's table holds behind the
//! non-default `toybank` feature — against its own test server. On SQLite and, with
//! `TEST_DATABASE_URL`, PostgreSQL.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use crm_connector_toybank::server::ToyBank;
use crm_core::connectors::{build_registry_from, BankConfig};
use crm_core::sync::{SyncRunStatus, SyncScope, SyncTrigger};
use crm_core::testing::TestDatabase;
use crm_core::transactions::TransactionFilter;
use crm_core::{Core, CoreSettings};

#[tokio::test]
async fn a_bank_of_another_wire_format_is_registered_and_synced_exactly() {
    let pg = std::env::var("TEST_DATABASE_URL").ok();
    let tdb = TestDatabase::create(pg.as_deref()).await.unwrap();
    let bank = ToyBank::start().await.unwrap();
    let table = [crm_connector_toybank::REGISTRATION];
    let config = BankConfig::new(crm_connector_toybank::CODE, bank.url(), bank.credentials())
        .with_name(crm_connector_toybank::NAME)
        .with_option("TIMEOUT_MS", "5000");
    let registry = build_registry_from(&table, std::slice::from_ref(&config)).unwrap();
    assert_eq!(registry.all()[0].name, "ToyBank");
    let refused = build_registry_from(&table, &[config.with_option("APPROVAL", "client")])
        .err()
        .unwrap();
    assert_eq!(
        refused.option(),
        Some("TOYBANK_APPROVAL"),
        "an option of another protocol is named: {refused}"
    );
    let core = Core::new(tdb.db.clone(), CoreSettings::default(), registry).unwrap();

    let mut clients = Vec::new();
    for id in bank.client_ids() {
        let (client, banks) = core
            .sync()
            .link_external_client(&id, Some("toybank"))
            .await
            .unwrap();
        assert_eq!(banks, vec!["toybank".to_owned()]);
        clients.push(client);
    }
    let run = core
        .sync()
        .run(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    assert_eq!(run.status, SyncRunStatus::Succeeded, "{run:?}");
    assert_eq!(run.added as usize, bank.row_count(), "{run:?}");
    let mut stored = 0;
    for client in &clients {
        stored += core
            .count_transactions(
                *client,
                &TransactionFilter {
                    from: Some(chrono::Utc::now() - chrono::Duration::days(3650)),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    assert_eq!(stored as usize, bank.row_count());

    let again = core
        .sync()
        .run(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    assert_eq!(
        (again.status, again.added, again.updated),
        (SyncRunStatus::Succeeded, 0, 0),
        "{again:?}"
    );
    drop(bank);
    tdb.cleanup().await.unwrap();
}
