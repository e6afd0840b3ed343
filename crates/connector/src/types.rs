//! Bank data as core consumes it, independent of any wire format. Amounts are exact decimals;
//! times are UTC. Full account numbers are carried but never printed by `Debug`.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankIdentity {
    /// Stable lower-case code stored on links and accounts, e.g. `abank`.
    pub code: String,
    pub name: String,
}

/// The lifecycle of a consent at the bank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentStatus {
    AwaitingAuthorization,
    Authorized,
    Rejected,
    Revoked,
    Expired,
}

/// A consent (or a pending request for one).
#[derive(Clone, PartialEq, Eq)]
pub struct Consent {
    pub status: ConsentStatus,
    /// Known once authorized. A secret in logs.
    pub consent_id: Option<String>,
    /// The request id of a consent awaiting the client's approval.
    pub request_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The bank's own words, when it gave any.
    pub message: Option<String>,
}

impl fmt::Debug for Consent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consent")
            .field("status", &self.status)
            .field("consent_id", &self.consent_id.as_deref().map(redact))
            .field("request_id", &self.request_id.as_deref().map(redact))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Who we read data for and under which consent (`None`: the bank picks the client's active one).
#[derive(Clone, Copy, Debug)]
pub struct Access<'a> {
    pub client_id: &'a str,
    pub consent_id: Option<&'a str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountStatus {
    Enabled,
    Disabled,
}

#[derive(Clone, PartialEq, Eq)]
pub struct AccountData {
    /// The bank's account id (`acc-1010`), unique within that bank only.
    pub id: String,
    pub status: AccountStatus,
    /// ISO 4217 code.
    pub currency: String,
    pub account_type: String,
    pub account_subtype: Option<String>,
    pub nickname: Option<String>,
    /// The full account number: store it, show it masked, never log it.
    pub number: Option<String>,
    pub holder_name: Option<String>,
    pub opened_on: Option<NaiveDate>,
}

impl fmt::Debug for AccountData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountData")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("currency", &self.currency)
            .field("account_type", &self.account_type)
            .field("number", &self.number.as_deref().map(last_four))
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BalanceKind {
    InterimAvailable,
    InterimBooked,
    Other(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BalanceData {
    pub kind: BalanceKind,
    /// Signed: a debit balance is negative.
    pub amount: Decimal,
    pub currency: String,
    pub at: Option<DateTime<Utc>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Credit,
    Debit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookingStatus {
    Booked,
    Pending,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MerchantData {
    pub id: Option<String>,
    pub name: Option<String>,
    /// ISO 18245 code as the bank sent it.
    pub mcc: Option<String>,
    /// The bank's own category word, kept as data.
    pub category: Option<String>,
    pub city: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionData {
    /// The bank's transaction id, unique within the bank.
    pub id: String,
    pub account_id: String,
    /// Always positive; `direction` gives the sign.
    pub amount: Decimal,
    pub currency: String,
    pub direction: Direction,
    pub status: BookingStatus,
    /// The bank's own status word (`completed`, `Booked`, ...).
    pub raw_status: Option<String>,
    pub booked_at: DateTime<Utc>,
    pub value_at: Option<DateTime<Utc>>,
    /// Free text from the bank: untrusted input, stored as data.
    pub description: String,
    pub bank_transaction_code: Option<String>,
    pub merchant: Option<MerchantData>,
    /// Already masked by the bank (`****4821`).
    pub card_masked: Option<String>,
    pub counterparty: Option<String>,
}

/// Every transaction of an account in a range, and how complete the read was.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransactionBatch {
    pub transactions: Vec<TransactionData>,
    /// What the bank said the total was (`meta.totalRecords`), when it said.
    pub reported_total: Option<u64>,
    /// Distinct rows the bank reported but that could not be read after all attempts.
    pub shortfall: u64,
    /// Rows refused as malformed, absurd or another account's, with the reason (no row content).
    pub rejected: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProductType {
    Deposit,
    Savings,
    Loan,
    CreditCard,
    Card,
    Other(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductData {
    pub id: String,
    pub product_type: ProductType,
    pub name: String,
    pub description: Option<String>,
    /// Percent per year.
    pub interest_rate: Option<Decimal>,
    pub min_amount: Option<Decimal>,
    pub max_amount: Option<Decimal>,
    pub term_months: Option<u32>,
}

/// Keeps the last four characters of an account number.
pub fn last_four(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("****{tail}")
}

/// Shows a prefix of an identifier that is a secret in logs (consent ids, request ids).
pub fn redact(id: &str) -> String {
    let head: String = id.chars().take(8).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_numbers_and_consent_ids() {
        let account = AccountData {
            id: "acc-1010".into(),
            status: AccountStatus::Enabled,
            currency: "RUB".into(),
            account_type: "Personal".into(),
            account_subtype: None,
            nickname: None,
            number: Some("40817810099910004312".into()),
            holder_name: Some("Иванов Иван".into()),
            opened_on: None,
        };
        let shown = format!("{account:?}");
        assert!(!shown.contains("40817810099910004312"), "{shown}");
        assert!(shown.contains("****4312"));
        assert!(!shown.contains("Иванов"));
        let consent = Consent {
            status: ConsentStatus::Authorized,
            consent_id: Some("consent-46965b4ef205".into()),
            request_id: None,
            expires_at: None,
            message: None,
        };
        assert!(!format!("{consent:?}").contains("46965b4ef205"));
    }
}
