//! SBank against the sandbox bank's SBank: the whole conformance kit.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sbank_passes_the_conformance_kit() {
    let failures = crm_sandbox_bank::conformance::run_kit(
        crm_connector_sbank::CODE,
        crm_connector_sbank::build,
    )
    .await;
    assert!(failures.is_empty(), "{failures:#?}");
}
