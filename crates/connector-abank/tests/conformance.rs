//! ABank against the sandbox bank's ABank: the whole conformance kit.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abank_passes_the_conformance_kit() {
    let failures = crm_sandbox_bank::conformance::run_kit(
        crm_connector_abank::CODE,
        crm_connector_abank::build,
    )
    .await;
    assert!(failures.is_empty(), "{failures:#?}");
}
