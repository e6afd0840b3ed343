//! SBank against the sandbox bank's SBank (which needs the client's approval for every consent): the whole conformance kit.

use std::time::Duration;

use crm_connector::conformance::{run_all, KitSettings};
use crm_connector_sbank::{settings, CODE};
use crm_openbanking_ru::{OpenBankingClient, RetryPolicy};
use crm_sandbox_bank::conformance::SandboxControl;
use crm_sandbox_bank::{Sandbox, SandboxConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sbank_passes_the_conformance_kit() {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox");
    let url = sandbox.url(CODE).expect("the sandbox has sbank");
    let mut s = settings(&url, sandbox.team_id(), sandbox.team_secret());
    // Short timeouts and retry delays keep the kit fast; page size 50 means many pages.
    s.request_timeout = Duration::from_millis(500);
    s.retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(3),
    };
    s.page_size = 50;
    let connector = OpenBankingClient::new(s).expect("connector");
    let control = SandboxControl::new(sandbox.control(CODE).expect("control"));
    let kit = KitSettings {
        request_timeout: Duration::from_millis(500),
        retry_after: Duration::from_secs(1),
    };
    let failures = run_all(&connector, &control, &kit).await;
    assert!(failures.is_empty(), "{failures:#?}");
    sandbox.stop().await;
}
