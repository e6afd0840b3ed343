//! ToyBank against its own test server: the kit's checks that apply to a bank of its
//! capabilities (consents at once, late postings; no tokens, faults, paging or noise).

use crm_connector::conformance::{run_all, KitSettings};
use crm_connector::BankConfig;
use crm_connector_toybank::server::ToyBank;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toybank_passes_the_checks_of_its_capabilities() {
    let bank = ToyBank::start().await.expect("toy bank");
    let config = BankConfig::new(crm_connector_toybank::CODE, bank.url(), bank.credentials());
    let connector = crm_connector_toybank::build(&config).expect("connector");
    let control = bank.control();
    let failures = run_all(
        connector.as_ref(),
        &control,
        &KitSettings::default(),
        &control.capabilities(),
    )
    .await;
    assert!(failures.is_empty(), "{failures:#?}");
}
