//! VBank against the sandbox bank's VBank: the whole conformance kit.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vbank_passes_the_conformance_kit() {
    let failures = crm_sandbox_bank::conformance::run_kit(
        crm_connector_vbank::CODE,
        crm_connector_vbank::build,
    )
    .await;
    assert!(failures.is_empty(), "{failures:#?}");
}
