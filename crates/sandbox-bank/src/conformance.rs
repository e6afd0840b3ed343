//! The conformance kit's `BankControl` for a bank of the sandbox, so every connector crate's
//! tests drive the same bank the same way, and [`run_kit`], which is such a test in one call:
//!
//! ```no_run
//! # async fn demo(build: crm_connector::BuildFn) {
//! let failures = crm_sandbox_bank::conformance::run_kit("abank", build).await;
//! assert!(failures.is_empty(), "{failures:#?}");
//! # }
//! ```
//! This module adds the trait implementation and that helper only; the bank itself shares no
//! code with the connectors.

use std::time::Duration;

use async_trait::async_trait;
use crm_connector::conformance::{
    run_all, BankControl, Capabilities, KitSettings, TrueAccount, TrueAgreement, TrueCard,
    TrueTransaction,
};
use crm_connector::{
    AccountKind, AgreementKind, AgreementStatus, BankConfig, BuildFn, CardStatus, Credentials,
    Direction,
};

use crate::control::{BankHandle, Direction as Dir, NewTransaction};
use crate::state::{Fault, Paging};

/// A sandbox bank steered for the conformance kit.
#[derive(Clone)]
pub struct SandboxControl {
    bank: BankHandle,
}

impl SandboxControl {
    pub fn new(bank: BankHandle) -> Self {
        SandboxControl { bank }
    }

    pub fn handle(&self) -> &BankHandle {
        &self.bank
    }

    /// The sandbox can do everything the kit asks; its banks differ in consent approval.
    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            consent_approval: self.bank.approval() == crate::Approval::ByClient,
            ..Capabilities::ALL
        }
    }
}

/// The whole kit against the sandbox's bank `code` (one of `SandboxConfig::default()`'s), for
/// a connector made by `build` from a configuration pointing at it (the kit's options:
/// `KitSettings::options`). Returns every failure; a connector crate's conformance test is
/// this call and an assertion that nothing failed.
pub async fn run_kit(code: &str, build: BuildFn) -> Vec<String> {
    let sandbox = match crate::Sandbox::start(crate::SandboxConfig::default()).await {
        Ok(sandbox) => sandbox,
        Err(e) => return vec![format!("{code}: the sandbox did not start: {e}")],
    };
    let (Some(url), Some(handle)) = (sandbox.url(code), sandbox.control(code)) else {
        sandbox.stop().await;
        return vec![format!("{code}: the sandbox has no such bank")];
    };
    let kit = KitSettings {
        request_timeout: Duration::from_millis(500),
        retry_after: Duration::from_secs(1),
    };
    let mut config = BankConfig::new(
        code,
        &url,
        Credentials::new(sandbox.team_id(), sandbox.team_secret()),
    );
    for (key, value) in kit.options() {
        config = config.with_option(key, value);
    }
    let failures = match build(&config) {
        Ok(connector) => {
            let control = SandboxControl::new(handle);
            run_all(connector.as_ref(), &control, &kit, &control.capabilities()).await
        }
        Err(e) => vec![format!(
            "{code}: the builder refused the kit's configuration: {e}"
        )],
    };
    sandbox.stop().await;
    failures
}

#[async_trait]
impl BankControl for SandboxControl {
    fn unknown_client(&self) -> String {
        "team200-99999".to_owned()
    }

    async fn reset(&self) {
        self.bank.reset();
    }

    async fn clients(&self) -> Vec<String> {
        self.bank.client_ids()
    }

    async fn busiest_account(&self) -> (String, String) {
        self.bank.busiest_account().unwrap_or_default()
    }

    async fn empty_client(&self) -> String {
        self.bank.empty_client().unwrap_or_default()
    }

    async fn accounts(&self, client: &str) -> Vec<TrueAccount> {
        self.bank
            .accounts(client)
            .unwrap_or_default()
            .into_iter()
            .filter(|a| !a.closed)
            .map(|a| TrueAccount {
                id: a.id,
                currency: a.currency,
                balance: Some(a.balance),
                kind: Some(match a.kind {
                    crate::AccountKind::Checking | crate::AccountKind::Currency => {
                        AccountKind::Current
                    }
                    crate::AccountKind::Savings => AccountKind::Savings,
                    crate::AccountKind::CreditCard => AccountKind::CreditCard,
                    crate::AccountKind::Loan => AccountKind::Loan,
                    crate::AccountKind::Deposit => AccountKind::Deposit,
                }),
            })
            .collect()
    }

    async fn transactions(&self, account_id: &str) -> Vec<TrueTransaction> {
        self.bank
            .transactions(account_id)
            .unwrap_or_default()
            .into_iter()
            .map(|t| TrueTransaction {
                id: t.id,
                booked_at: t.booked_at,
                amount: t.amount,
                direction: match t.direction {
                    Dir::Credit => Direction::Credit,
                    Dir::Debit => Direction::Debit,
                },
                pending: t.pending,
            })
            .collect()
    }

    async fn products(&self) -> Vec<String> {
        self.bank.product_ids()
    }

    async fn approve(&self, request_id: &str) -> Result<(), String> {
        self.bank
            .approve(request_id)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    async fn reject(&self, request_id: &str) -> Result<(), String> {
        self.bank.reject(request_id).map_err(|e| e.to_string())
    }

    async fn revoke_all(&self, client: &str) {
        let _ = self.bank.revoke_consents(client);
    }

    async fn fail_next(&self, n: u32, status: u16) {
        self.bank.inject(Fault::Status { status }, n);
    }

    async fn oversize_next(&self, n: u32, bytes: u64) {
        self.bank.inject(Fault::Oversize { bytes }, n);
    }

    async fn rate_limit_reset_next(&self, n: u32, reset: Duration) {
        self.bank.inject(
            Fault::RateLimitReset {
                seconds: reset.as_secs().max(1),
            },
            n,
        );
    }

    async fn rate_limit_next(&self, n: u32, retry_after: Duration) {
        self.bank.inject(
            Fault::RateLimit {
                seconds: retry_after.as_secs().max(1),
            },
            n,
        );
    }

    async fn delay_next(&self, n: u32, delay: Duration) {
        self.bank.inject(
            Fault::Delay {
                millis: delay.as_millis() as u64,
            },
            n,
        );
    }

    async fn truncate_next(&self, n: u32) {
        self.bank.inject(Fault::Truncate, n);
    }

    async fn malformed_next(&self, n: u32) {
        self.bank.inject(Fault::WrongShape, n);
    }

    async fn html_next(&self, n: u32) {
        self.bank.inject(Fault::Html, n);
    }

    async fn pass_next(&self, n: u32) {
        self.bank.pass(n);
    }

    async fn expire_tokens(&self) {
        self.bank.expire_tokens();
    }

    async fn expire_tokens_after(&self, n: u32) {
        self.bank.pass(n);
        self.bank.inject(Fault::ExpireTokens, 1);
    }

    async fn unstable_paging(&self, shuffle_ties: bool, insert_after: Option<u32>) {
        self.bank.set_paging(Paging {
            shuffle_ties,
            insert_after,
            ..Paging::default()
        });
    }

    async fn garble_next_read(&self, n: u32) {
        self.bank.set_paging(Paging {
            garble_rows: Some(n),
            ..Paging::default()
        });
    }

    async fn revoke_during_page(&self, n: u32) {
        self.bank.set_paging(Paging {
            revoke_after: Some(n),
            ..Paging::default()
        });
    }

    async fn withdraw(&self, transaction_id: &str) {
        if let Err(e) = self.bank.withdraw(transaction_id) {
            tracing::warn!("withdraw {transaction_id}: {e}");
        }
    }

    async fn refuse_credentials(&self) {
        self.bank.set_faults_on_token_calls(true);
        self.bank.inject(Fault::Status { status: 401 }, 1000);
    }

    async fn shrink_total_after(&self, n: u32) {
        self.bank.set_paging(Paging {
            shrink_after: Some(n),
            ..Paging::default()
        });
    }

    async fn honour_date_filter(&self, honour: bool) {
        self.bank.set_date_filter(Some(honour));
    }

    async fn noise(&self, on: bool) {
        self.bank.set_noise(on);
    }

    async fn add_transaction(&self, account_id: &str, pending: bool) -> String {
        let tx = NewTransaction::card_payment(
            rust_decimal::Decimal::new(54_990, 2),
            "Перекрёсток",
            "5411",
            pending,
        );
        self.bank
            .add_transaction(account_id, tx)
            .unwrap_or_default()
    }

    async fn book(&self, transaction_id: &str) {
        let _ = self.bank.book(transaction_id);
    }

    async fn tokens_issued(&self) -> u64 {
        self.bank.stats().tokens_issued
    }

    async fn calls_without_request_id(&self) -> u64 {
        self.bank.stats().calls_without_request_id
    }

    async fn agreements(&self, client: &str) -> Vec<TrueAgreement> {
        self.bank
            .agreements(client)
            .unwrap_or_default()
            .into_iter()
            .map(|a| TrueAgreement {
                id: a.id,
                kind: AgreementKind::from_bank(&a.kind),
                amount: a.amount,
                status: AgreementStatus::from_bank(&a.status),
                ends_at: a.ends_at,
            })
            .collect()
    }

    async fn cards(&self, client: &str) -> Vec<TrueCard> {
        self.bank
            .cards(client)
            .unwrap_or_default()
            .into_iter()
            .map(|c| TrueCard {
                id: c.id,
                last_four: c.last_four,
                status: CardStatus::from_bank(&c.status),
            })
            .collect()
    }

    async fn full_card_numbers(&self, on: bool) {
        self.bank.set_full_card_numbers(on);
    }

    async fn close_account(&self, account_id: &str) -> Result<(), String> {
        self.bank
            .close_account(account_id)
            .map_err(|e| e.to_string())
    }

    async fn grant_consent(&self, client: &str, permissions: &[&str]) -> Result<String, String> {
        self.bank
            .grant_consent(client, permissions)
            .map_err(|e| e.to_string())
    }
}
