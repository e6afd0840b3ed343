//! `crm-connector`: what core knows of a bank. One trait, [`BankConnector`], the data types it
//! returns (independent of any wire format), and [`ConnectorError`], which says whether retrying
//! can help. Each bank is a crate implementing the trait (see `docs/connector-spec.md`) and
//! exporting a builder from a [`BankConfig`] ([`Registration`], [`BuildFn`]).
//!
//! Architecture invariant: this crate knows no HTTP, no database and no particular bank.

mod config;
pub mod conformance;
mod error;
mod types;

pub use config::{
    option_var, BankConfig, BuildFn, ConfigError, Credentials, HttpLimits, Registration,
};
pub use error::{ConnectorError, ConnectorResult};
pub use types::*;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A bank, as core sees it. Implementations cache their bank token themselves and renew it
/// before expiry (and once more on a 401).
#[async_trait]
pub trait BankConnector: Send + Sync {
    /// Stable lower-case code (`abank`) and display name.
    fn identity(&self) -> &BankIdentity;

    /// Asks the bank for a consent to read this client's accounts, balances and transactions.
    /// Auto-approving banks answer `Authorized` at once; others answer `AwaitingAuthorization`
    /// with the request id to check later.
    async fn request_consent(&self, client_id: &str) -> ConnectorResult<Consent>;

    /// Where a consent stands now. For a pending request whose approval the bank does not report
    /// (a new consent id is created), the connector probes a data call, as the protocol requires.
    async fn consent_status(&self, client_id: &str, consent: &Consent) -> ConnectorResult<Consent>;

    /// Revokes a consent at the bank (`DELETE /account-consents/{id}` in `openbanking-ru.md`
    /// §8). Idempotent: revoking a revoked consent succeeds again. An id the bank does not know
    /// as a consent (a pending request's id, a made-up one) is `NotFound`. After it, data calls
    /// with this consent answer `ConsentRequired`.
    async fn revoke_consent(&self, consent_id: &str) -> ConnectorResult<()>;

    /// The client's accounts.
    async fn accounts(&self, access: &Access<'_>) -> ConnectorResult<Vec<AccountData>>;

    /// The account's current balances (the connector picks the preferred one first).
    async fn balances(
        &self,
        access: &Access<'_>,
        account_id: &str,
    ) -> ConnectorResult<Vec<BalanceData>>;

    /// Every transaction of the account booked in `[from, to]`, across all pages. The bank's
    /// paging is unstable; implementations re-read until they hold as many distinct ids as the
    /// bank reports (within a bounded number of attempts) and report any shortfall.
    async fn transactions(
        &self,
        access: &Access<'_>,
        account_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> ConnectorResult<TransactionBatch>;

    /// The bank's product catalogue (deposits, cards, loans, ...).
    async fn products(&self) -> ConnectorResult<Vec<ProductData>>;

    /// The client's deposits, loans and credit lines (`openbanking-ru.md` §10), closed ones
    /// included. A bank that does not offer them answers [`ConnectorError::Unsupported`] (the
    /// default), which core skips quietly and reports.
    async fn product_agreements(
        &self,
        access: &Access<'_>,
    ) -> ConnectorResult<Vec<ProductAgreementData>> {
        let _ = access;
        Err(ConnectorError::Unsupported {
            bank: self.identity().code.clone(),
            what: "product agreements".to_owned(),
        })
    }

    /// The client's payment cards (§11), numbers masked. A consent without the card permission
    /// is [`ConnectorError::PermissionMissing`]; a revoked one `ConsentRequired`; a bank that
    /// does not offer cards [`ConnectorError::Unsupported`] (the default).
    async fn cards(&self, access: &Access<'_>) -> ConnectorResult<Vec<CardData>> {
        let _ = access;
        Err(ConnectorError::Unsupported {
            bank: self.identity().code.clone(),
            what: "cards".to_owned(),
        })
    }
}
