//! The conformance kit: one suite every connector crate runs in its own tests, against a bank
//! server it controls (the sandbox bank). A connector is done when it passes all of it. The
//! server is driven through [`BankControl`], so the kit knows no particular server.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{Duration as Span, Utc};

use crate::{Access, BankConnector, ConnectorError, ConsentStatus};

/// What the suite needs to steer the bank server under test.
#[async_trait]
pub trait BankControl: Send + Sync {
    /// A client id that exists at this bank with at least one account and transactions.
    fn client_with_data(&self) -> String;
    /// A client id the bank does not know.
    fn unknown_client(&self) -> String;
    /// How many transactions the bank holds for this account (the truth paging must reach).
    async fn transaction_count(&self, client: &str, account_id: &str) -> u64;
    /// Approves a consent request awaiting the client's approval (banks that need it).
    async fn approve(&self, request_id: &str);
    /// The next `n` data calls answer with this 5xx status.
    async fn fail_next(&self, n: u32, status: u16);
    /// The next `n` data calls answer 429 with this Retry-After.
    async fn rate_limit_next(&self, n: u32, retry_after: Duration);
    /// The next `n` data calls answer 200 with a cut-off JSON body.
    async fn truncate_next(&self, n: u32);
    /// The next `n` data calls answer 200 with JSON of the wrong shape.
    async fn malformed_next(&self, n: u32);
    /// Every token issued so far is refused from now on (as if expired).
    async fn expire_tokens(&self);
    /// Whether consents need the client's approval at this bank.
    fn needs_approval(&self) -> bool;
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what.to_owned())
    }
}

/// An authorized consent for `client`, approving it through the control when the bank needs it.
pub async fn authorize(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
    client: &str,
) -> Result<Option<String>, String> {
    let consent = bank
        .request_consent(client)
        .await
        .map_err(|e| format!("request_consent: {e}"))?;
    if consent.status == ConsentStatus::Authorized {
        check(
            consent.consent_id.is_some(),
            "an authorized consent carries its id",
        )?;
        return Ok(consent.consent_id);
    }
    check(
        consent.status == ConsentStatus::AwaitingAuthorization,
        "a new consent is authorized or awaiting",
    )?;
    check(
        control.needs_approval(),
        "only approval banks leave a consent pending",
    )?;
    let request = consent
        .request_id
        .clone()
        .ok_or("a pending consent carries its request id")?;
    let before = bank
        .consent_status(client, &consent)
        .await
        .map_err(|e| format!("consent_status: {e}"))?;
    check(
        before.status == ConsentStatus::AwaitingAuthorization,
        "still pending before approval",
    )?;
    control.approve(&request).await;
    let after = bank
        .consent_status(client, &consent)
        .await
        .map_err(|e| format!("consent_status: {e}"))?;
    check(
        after.status == ConsentStatus::Authorized,
        "authorized after the client approved",
    )?;
    Ok(after.consent_id)
}

/// Consent, accounts, balances, every transaction of every account (all pages, exactly the
/// bank's count, no duplicates), products.
pub async fn happy_path(bank: &dyn BankConnector, control: &dyn BankControl) -> Result<(), String> {
    let client = control.client_with_data();
    let consent = authorize(bank, control, &client).await?;
    let access = Access {
        client_id: &client,
        consent_id: consent.as_deref(),
    };
    let accounts = bank
        .accounts(&access)
        .await
        .map_err(|e| format!("accounts: {e}"))?;
    check(!accounts.is_empty(), "the client has accounts")?;
    for account in &accounts {
        let balances = bank
            .balances(&access, &account.id)
            .await
            .map_err(|e| format!("balances: {e}"))?;
        check(!balances.is_empty(), "every account has a balance")?;
        let from = Utc::now() - Span::days(3650);
        let batch = bank
            .transactions(&access, &account.id, from, Utc::now() + Span::days(1))
            .await
            .map_err(|e| format!("transactions: {e}"))?;
        let expected = control.transaction_count(&client, &account.id).await;
        let mut ids: Vec<&str> = batch.transactions.iter().map(|t| t.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        check(
            ids.len() == batch.transactions.len(),
            "no transaction twice",
        )?;
        check(
            ids.len() as u64 == expected,
            &format!(
                "all {expected} transactions of {} read, got {}",
                account.id,
                ids.len()
            ),
        )?;
        check(
            batch.shortfall == 0 && batch.rejected.is_empty(),
            "a clean bank reads completely",
        )?;
        check(
            batch
                .transactions
                .iter()
                .all(|t| t.amount.is_sign_positive()),
            "amounts are positive",
        )?;
    }
    let products = bank
        .products()
        .await
        .map_err(|e| format!("products: {e}"))?;
    check(!products.is_empty(), "the bank lists products")?;
    Ok(())
}

/// A consent revoked at the bank stops data calls with `ConsentRequired`.
pub async fn revoked_consent(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
) -> Result<(), String> {
    let client = control.client_with_data();
    let consent = authorize(bank, control, &client).await?;
    let Some(id) = consent else {
        // Approval banks may not tell the new id; nothing to revoke by id.
        return Ok(());
    };
    bank.revoke_consent(&id)
        .await
        .map_err(|e| format!("revoke: {e}"))?;
    let access = Access {
        client_id: &client,
        consent_id: Some(&id),
    };
    match bank.accounts(&access).await {
        Err(ConnectorError::ConsentRequired { .. }) => Ok(()),
        other => Err(format!(
            "after revocation accounts must need consent, got {other:?}"
        )),
    }
}

/// An unknown client is `NotFound`, not retried, not a crash.
pub async fn unknown_client(
    bank: &dyn BankConnector,
    control: &dyn BankControl,
) -> Result<(), String> {
    match bank.request_consent(&control.unknown_client()).await {
        Err(ConnectorError::NotFound { .. }) => Ok(()),
        other => Err(format!("an unknown client is NotFound, got {other:?}")),
    }
}

/// Transient failures (5xx bursts, 429 with Retry-After, an expired token) are absorbed;
/// cut-off and wrong-shaped bodies are the bank's fault (`Malformed`), and the next call works.
pub async fn faults(bank: &dyn BankConnector, control: &dyn BankControl) -> Result<(), String> {
    let client = control.client_with_data();
    let consent = authorize(bank, control, &client).await?;
    let access = Access {
        client_id: &client,
        consent_id: consent.as_deref(),
    };
    let baseline = bank
        .accounts(&access)
        .await
        .map_err(|e| format!("accounts: {e}"))?;

    control.fail_next(2, 503).await;
    let after_5xx = bank
        .accounts(&access)
        .await
        .map_err(|e| format!("after two 503s: {e}"))?;
    check(after_5xx == baseline, "a 5xx burst is retried")?;

    control.rate_limit_next(1, Duration::from_secs(1)).await;
    let started = std::time::Instant::now();
    bank.accounts(&access)
        .await
        .map_err(|e| format!("after a 429: {e}"))?;
    check(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After is honoured",
    )?;

    control.expire_tokens().await;
    bank.accounts(&access)
        .await
        .map_err(|e| format!("after token expiry: {e}"))?;

    control.truncate_next(1).await;
    match bank.accounts(&access).await {
        Err(ConnectorError::Malformed { .. }) => {}
        other => return Err(format!("a cut-off body is Malformed, got {other:?}")),
    }
    control.malformed_next(1).await;
    match bank.accounts(&access).await {
        Err(ConnectorError::Malformed { .. }) => {}
        other => return Err(format!("a wrong-shaped body is Malformed, got {other:?}")),
    }
    let again = bank
        .accounts(&access)
        .await
        .map_err(|e| format!("after faults: {e}"))?;
    check(again == baseline, "the connector recovers after faults")?;
    Ok(())
}

/// Runs the whole kit; returns every failure.
pub async fn run_all(bank: &dyn BankConnector, control: &dyn BankControl) -> Vec<String> {
    let mut failures = Vec::new();
    for (name, result) in [
        ("happy path", happy_path(bank, control).await),
        ("unknown client", unknown_client(bank, control).await),
        ("faults", faults(bank, control).await),
        ("revoked consent", revoked_consent(bank, control).await),
    ] {
        if let Err(e) = result {
            failures.push(format!("{}: {name}: {e}", bank.identity().code));
        }
    }
    failures
}
