//! The protocol client against the sandbox bank: both token styles (the HackAPI query call and
//! an RFC 6749 endpoint through the `oauth2` crate), refused credentials, a bank that ignores
//! the date filter read without needless re-reads, and no secret in any log line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{Duration as Span, Utc};
use crm_connector::conformance::{self, run_all, BankControl, KitSettings};
use crm_connector::{Access, BankConnector, ConnectorError};
use crm_openbanking_ru::{BankSettings, OpenBankingClient, RetryPolicy, TokenStyle};
use crm_sandbox_bank::conformance::SandboxControl;
use crm_sandbox_bank::{Approval, BankConfig, RunningSandbox, Sandbox, SandboxConfig};

fn kit() -> KitSettings {
    KitSettings {
        request_timeout: Duration::from_millis(500),
        retry_after: Duration::from_secs(1),
    }
}

fn settings(sandbox: &RunningSandbox, code: &str, style: TokenStyle, secret: &str) -> BankSettings {
    let url = sandbox.url(code).unwrap();
    let mut s = BankSettings::new(code, code, &url, sandbox.team_id(), secret);
    s.token_style = style;
    s.request_timeout = Duration::from_millis(500);
    s.retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(3),
    };
    s
}

/// One auto-approving bank that also serves `POST /oauth2/token`.
async fn oauth_sandbox() -> RunningSandbox {
    let mut bank = BankConfig::new("obank", "OBank", Approval::Automatic);
    bank.quirks.oauth2_token_endpoint = true;
    Sandbox::start(SandboxConfig::default().with_banks(vec![bank]))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rfc_6749_token_endpoint_passes_the_kit_with_basic_auth_and_with_body_credentials() {
    let sandbox = oauth_sandbox().await;
    let control = SandboxControl::new(sandbox.control("obank").unwrap());
    let oauth = |in_body| {
        let style = TokenStyle::OAuth2 {
            token_url: "/oauth2/token".into(),
            credentials_in_body: in_body,
        };
        OpenBankingClient::new(settings(&sandbox, "obank", style, sandbox.team_secret())).unwrap()
    };
    let failures = run_all(&oauth(false), &control, &kit(), &control.capabilities()).await;
    assert!(failures.is_empty(), "{failures:#?}");
    let in_body = oauth(true);
    control.reset().await;
    conformance::happy_path(&in_body, &control, &kit(), &control.capabilities())
        .await
        .unwrap();
    control.reset().await;
    conformance::tokens_and_request_ids(&in_body, &control, &kit(), &control.capabilities())
        .await
        .unwrap();
}

#[tokio::test]
async fn token_calls_are_retried_through_5xx_and_429_in_both_styles() {
    let sandbox = oauth_sandbox().await;
    let handle = sandbox.control("obank").unwrap();
    let styles = [
        TokenStyle::QueryParameters,
        TokenStyle::OAuth2 {
            token_url: "/oauth2/token".into(),
            credentials_in_body: false,
        },
    ];
    for style in styles {
        // A fresh connector has no token: its first call is the token call.
        let fresh = || {
            let s = settings(&sandbox, "obank", style.clone(), sandbox.team_secret());
            OpenBankingClient::new(s).unwrap()
        };
        handle.reset();
        handle.set_faults_on_token_calls(true);
        handle.inject(crm_sandbox_bank::Fault::Status { status: 503 }, 1);
        handle.inject(crm_sandbox_bank::Fault::Status { status: 502 }, 1);
        handle.inject(crm_sandbox_bank::Fault::RateLimit { seconds: 1 }, 1);
        let started = std::time::Instant::now();
        fresh()
            .products()
            .await
            .unwrap_or_else(|e| panic!("{style:?}: {e}"));
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "{style:?}: Retry-After"
        );
        assert_eq!(handle.stats().tokens_issued, 1, "{style:?}");
        handle.inject(crm_sandbox_bank::Fault::Status { status: 503 }, 10);
        match fresh().products().await {
            Err(e @ ConnectorError::Unavailable { .. }) => assert!(e.is_retryable()),
            other => {
                panic!("{style:?}: a token endpoint that stays down is Unavailable, got {other:?}")
            }
        }
        handle.clear_faults();
        handle.inject(crm_sandbox_bank::Fault::Truncate, 1);
        match fresh().products().await {
            Err(ConnectorError::Malformed { .. }) => {}
            other => panic!("{style:?}: a cut-off token answer is Malformed, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_bank_ignoring_the_date_filter_is_read_once_without_a_false_shortfall() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let handle = sandbox.control("vbank").unwrap();
    let control = SandboxControl::new(handle.clone());
    let (client, account) = control.busiest_account().await;
    let mut s = settings(
        &sandbox,
        "vbank",
        TokenStyle::QueryParameters,
        sandbox.team_secret(),
    );
    s.page_size = 100;
    let connector = OpenBankingClient::new(s).unwrap();
    let consent = connector.request_consent(&client).await.unwrap();
    let access = Access {
        client_id: &client,
        consent_id: consent.consent_id.as_deref(),
    };
    let truth = control.transactions(&account).await;
    let to = Utc::now();
    let from = to - Span::days(30);
    let before = handle.stats().transaction_page_requests;
    let batch = connector
        .transactions(&access, &account, from, to)
        .await
        .unwrap();
    let pages = handle.stats().transaction_page_requests - before;
    let inside = truth
        .iter()
        .filter(|t| t.booked_at >= from && t.booked_at <= to)
        .count();
    assert!(inside > 0 && inside < truth.len());
    assert_eq!(batch.transactions.len(), inside);
    assert_eq!(batch.shortfall, 0);
    assert_eq!(
        batch.reported_total,
        Some(truth.len() as u64),
        "the bank counted every row"
    );
    assert_eq!(
        pages,
        truth.len().div_ceil(100) as u64,
        "one full read, no re-reads"
    );
}

/// Everything the tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn no_secret_token_consent_id_or_account_number_is_ever_logged() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (secret, consent_ids, numbers) = runtime.block_on(async {
        let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
        let handle = sandbox.control("abank").unwrap();
        let control = SandboxControl::new(handle.clone());
        let s = settings(
            &sandbox,
            "abank",
            TokenStyle::QueryParameters,
            sandbox.team_secret(),
        );
        let connector = OpenBankingClient::new(s).unwrap();
        // Faults, retries, token renewals and consents: a lot to log.
        for check in [0, 1, 2] {
            control.reset().await;
            let outcome = match check {
                0 => {
                    conformance::token_expiry_mid_read(
                        &connector,
                        &control,
                        &kit(),
                        &control.capabilities(),
                    )
                    .await
                }
                1 => {
                    conformance::server_errors(
                        &connector,
                        &control,
                        &kit(),
                        &control.capabilities(),
                    )
                    .await
                }
                _ => {
                    conformance::happy_path(&connector, &control, &kit(), &control.capabilities())
                        .await
                }
            };
            outcome.unwrap();
        }
        let consents: Vec<String> = handle
            .consents()
            .into_iter()
            .map(|c| c.consent_id)
            .collect();
        let (client, _) = control.busiest_account().await;
        let accounts = connector
            .accounts(&Access {
                client_id: &client,
                consent_id: None,
            })
            .await
            .unwrap();
        let numbers: Vec<String> = accounts.into_iter().filter_map(|a| a.number).collect();
        (sandbox.team_secret().to_owned(), consents, numbers)
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying"), "the test logged something");
    assert!(!logs.contains(&secret), "the client secret was logged");
    assert!(!logs.contains("eyJhbGciOi"), "a token was logged");
    assert!(!consent_ids.is_empty() && !numbers.is_empty());
    for c in consent_ids {
        assert!(!logs.contains(&c), "a consent id was logged");
    }
    for n in numbers {
        assert!(!logs.contains(&n), "an account number was logged");
    }
}

#[tokio::test]
async fn an_answer_over_the_size_limit_is_refused_by_name_and_not_retried() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let handle = sandbox.control("abank").unwrap();
    let control = SandboxControl::new(handle.clone());
    let (client, account) = control.busiest_account().await;
    let connector = |max_body_bytes| {
        let mut s = settings(
            &sandbox,
            "abank",
            TokenStyle::QueryParameters,
            sandbox.team_secret(),
        );
        s.max_body_bytes = max_body_bytes;
        OpenBankingClient::new(s).unwrap()
    };
    let small = connector(16 * 1024);
    let consent = small.request_consent(&client).await.unwrap();
    let access = Access {
        client_id: &client,
        consent_id: consent.consent_id.as_deref(),
    };
    let (from, to) = (Utc::now() - Span::days(3650), Utc::now());
    // A page of 100 rows is larger than 16 KiB (announced in Content-Length), and a streamed
    // answer of 1 MB has no length to announce: both end the call by name, nothing retried.
    handle.inject(crm_sandbox_bank::Fault::Oversize { bytes: 1_000_000 }, 1);
    for what in ["streamed", "announced"] {
        let calls = handle.stats().calls;
        match small.transactions(&access, &account, from, to).await {
            Err(e @ ConnectorError::Malformed { .. }) => {
                assert!(e.to_string().contains("BANK_MAX_BODY_BYTES"), "{what}: {e}");
                assert!(!e.is_retryable());
            }
            other => panic!("{what}: an answer over the limit: {other:?}"),
        }
        assert_eq!(handle.stats().calls, calls + 1, "{what}: not retried");
    }
    // Within the limit the same read is exact.
    let batch = connector(16 * 1024 * 1024)
        .transactions(&access, &account, from, to)
        .await
        .unwrap();
    assert_eq!(
        batch.transactions.len(),
        control.transactions(&account).await.len()
    );
    assert_eq!((batch.shortfall, batch.rejected.len()), (0, 0));
    sandbox.stop().await;
}
