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

/// What the bank says of an account in its list. A bank that closes an account may instead
/// simply stop listing it (bank-in-a-box does, `openbanking-ru.md` §9): core treats an account it
/// stored that is missing from the list as closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountStatus {
    /// Open (`Enabled`).
    Enabled,
    /// The bank says the account is disabled or closed (`Disabled`, `Closed`, `Blocked`).
    Disabled,
}

/// What kind of account this is, derived from the bank's `accountSubType` (and, failing that,
/// its `accountType`). Money in `Loan` and `CreditCard` accounts is a liability: never add
/// their balances to the client's money.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AccountKind {
    /// A current (checking) account.
    Current,
    Savings,
    /// The account of a deposit agreement (§10).
    Deposit,
    /// A card account (the card's own account, where a bank keeps one).
    Card,
    CreditCard,
    /// The account of a loan agreement.
    Loan,
    /// A sub-type we do not know, as the bank spelled it.
    Other(String),
}

impl AccountKind {
    /// The kind for the bank's `accountSubType` (preferred) or `accountType`, case- and
    /// separator-insensitive (`CreditCard`, `credit_card`, `Credit card`). Bank-in-a-box sends
    /// `Checking`, `Savings`, `Deposit`, `Loan`; `accountType` (`Personal`/`Business`) says
    /// nothing of the kind and is ignored.
    pub fn from_bank(subtype: Option<&str>, account_type: Option<&str>) -> AccountKind {
        let word = |s: &str| -> String {
            s.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect()
        };
        let known = |w: &str| match w {
            "checking" | "current" | "currentaccount" | "personal" | "business" => {
                Some(AccountKind::Current)
            }
            "savings" | "saving" | "savingsaccount" => Some(AccountKind::Savings),
            "deposit" | "termdeposit" => Some(AccountKind::Deposit),
            "card" | "cardaccount" | "debitcard" | "prepaidcard" | "chargecard" => {
                Some(AccountKind::Card)
            }
            "creditcard" => Some(AccountKind::CreditCard),
            "loan" | "mortgage" | "creditline" | "credit" => Some(AccountKind::Loan),
            _ => None,
        };
        if let Some(sub) = subtype.map(str::trim).filter(|s| !s.is_empty()) {
            return known(&word(sub)).unwrap_or_else(|| AccountKind::Other(sub.to_owned()));
        }
        match account_type.map(str::trim).filter(|s| !s.is_empty()) {
            // `Personal`/`Business` alone say nothing more than "an account".
            Some(t) => known(&word(t)).unwrap_or_else(|| AccountKind::Other(t.to_owned())),
            None => AccountKind::Current,
        }
    }

    /// Whether the balance of such an account is money the client owes.
    pub fn is_liability(&self) -> bool {
        matches!(self, AccountKind::Loan | AccountKind::CreditCard)
    }
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
    /// Derived from `account_subtype` / `account_type` ([`AccountKind::from_bank`]).
    pub kind: AccountKind,
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
            .field("kind", &self.kind)
            .field("number", &self.number.as_deref().map(last_four))
            .field("opened_on", &self.opened_on)
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

#[derive(Clone, PartialEq, Eq)]
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
    /// The bank's card id (`card-5e6f7a8b9c0d`): join with [`CardData::id`].
    pub card_id: Option<String>,
    /// The other party's name, as the bank sent it.
    pub counterparty: Option<String>,
    /// The other party's full account number, when the bank gives it: in a standard
    /// `creditorAccount`/`debtorAccount`, or (bank-in-a-box, §12) inside the payer's text
    /// `Перевод на счет <number>` / `Межбанковский перевод в <bank> на счет <number>`. Core
    /// pairs a client's own transfers with it. Never logged (not in `Debug`).
    pub counterparty_account: Option<String>,
    /// The other party's bank code (`vbank`) when the row names it (inter-bank transfers).
    pub counterparty_bank: Option<String>,
}

impl fmt::Debug for TransactionData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransactionData")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("amount", &self.amount)
            .field("currency", &self.currency)
            .field("direction", &self.direction)
            .field("status", &self.status)
            .field("booked_at", &self.booked_at)
            .field("bank_transaction_code", &self.bank_transaction_code)
            .field("card_masked", &self.card_masked)
            .field(
                "counterparty_account",
                &self.counterparty_account.as_deref().map(last_four),
            )
            .field("counterparty_bank", &self.counterparty_bank)
            .finish_non_exhaustive()
    }
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

/// The kind of a product agreement (§10).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AgreementKind {
    Deposit,
    Loan,
    CreditLine,
    Other(String),
}

impl AgreementKind {
    pub fn from_bank(word: &str) -> AgreementKind {
        match word
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "deposit" | "term_deposit" => AgreementKind::Deposit,
            "loan" | "mortgage" | "credit" => AgreementKind::Loan,
            "credit_line" | "creditline" | "overdraft" => AgreementKind::CreditLine,
            _ => AgreementKind::Other(word.trim().to_owned()),
        }
    }
}

/// Where a product agreement stands.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AgreementStatus {
    Active,
    Closed,
    /// The bank says the client is in default (`defaulted`).
    Defaulted,
    Other(String),
}

impl AgreementStatus {
    pub fn from_bank(word: &str) -> AgreementStatus {
        match word.trim().to_ascii_lowercase().as_str() {
            "active" | "open" | "opened" | "enabled" => AgreementStatus::Active,
            "closed" | "repaid" | "matured" | "terminated" => AgreementStatus::Closed,
            "defaulted" | "default" | "overdue" => AgreementStatus::Defaulted,
            _ => AgreementStatus::Other(word.trim().to_owned()),
        }
    }
}

/// A deposit, loan or credit line the client holds at the bank (§10), closed ones included.
/// Its account (when open) is also listed as an account: join by `account_id` or
/// `account_number` and count the money once.
#[derive(Clone, PartialEq, Eq)]
pub struct ProductAgreementData {
    /// The bank's agreement id (`agr-180ceb287227`), unique within the bank.
    pub id: String,
    pub kind: AgreementKind,
    /// The catalogue's product id (`ProductData::id`), when the bank says.
    pub product_id: Option<String>,
    pub product_name: String,
    /// The principal at opening (positive).
    pub amount: Decimal,
    /// ISO 4217 code (the bank's, or RUB where it states none: bank-in-a-box's are all RUB).
    pub currency: String,
    /// Percent per year, when the bank says (bank-in-a-box: the detail call, the product's
    /// current rate).
    pub interest_rate: Option<Decimal>,
    pub opened_at: Option<DateTime<Utc>>,
    /// Maturity of a deposit, end of a loan's term.
    pub ends_at: Option<DateTime<Utc>>,
    pub status: AgreementStatus,
    /// The linked account's id, when the bank gives it.
    pub account_id: Option<String>,
    /// The linked account's full number (bank-in-a-box gives only this). Never logged.
    pub account_number: Option<String>,
}

impl fmt::Debug for ProductAgreementData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProductAgreementData")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("product_id", &self.product_id)
            .field("amount", &self.amount)
            .field("currency", &self.currency)
            .field("interest_rate", &self.interest_rate)
            .field("opened_at", &self.opened_at)
            .field("ends_at", &self.ends_at)
            .field("status", &self.status)
            .field("account_id", &self.account_id)
            .field(
                "account_number",
                &self.account_number.as_deref().map(last_four),
            )
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CardKind {
    Debit,
    Credit,
    Other(String),
}

impl CardKind {
    pub fn from_bank(word: &str) -> CardKind {
        match word.trim().to_ascii_lowercase().as_str() {
            "debit" => CardKind::Debit,
            "credit" => CardKind::Credit,
            _ => CardKind::Other(word.trim().to_owned()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CardStatus {
    Active,
    Blocked,
    Expired,
    Other(String),
}

impl CardStatus {
    pub fn from_bank(word: &str) -> CardStatus {
        match word.trim().to_ascii_lowercase().as_str() {
            "active" | "enabled" => CardStatus::Active,
            "blocked" | "frozen" | "suspended" => CardStatus::Blocked,
            "expired" => CardStatus::Expired,
            _ => CardStatus::Other(word.trim().to_owned()),
        }
    }
}

/// A masked card number: `****` and at most the last four digits. The only way to make one is
/// [`MaskedPan::new`], which masks whatever the bank sent, so a full card number cannot travel
/// past the connector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MaskedPan(String);

impl MaskedPan {
    /// Masks what the bank sent (`**** **** **** 4014`, `****4014`, or a full number) to
    /// `****4014`. `None` when it holds no digit at all.
    pub fn new(number: &str) -> Option<MaskedPan> {
        let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return None;
        }
        let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
        Some(MaskedPan(format!("****{tail}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last (up to) four digits.
    pub fn last_four(&self) -> &str {
        self.0.trim_start_matches('*')
    }
}

impl fmt::Display for MaskedPan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A payment card of the client (§11). The number is masked at the connector boundary.
#[derive(Clone, PartialEq, Eq)]
pub struct CardData {
    /// The bank's card id (`card-e8dac7954992`); transactions carry it as `card_id`.
    pub id: String,
    pub kind: CardKind,
    /// `Visa Classic`.
    pub name: Option<String>,
    pub number: MaskedPan,
    pub status: CardStatus,
    /// Year and month the card expires (the bank may not mark it expired: judge by this).
    pub expires: Option<(i32, u32)>,
    pub daily_limit: Option<Decimal>,
    pub monthly_limit: Option<Decimal>,
    /// ISO 4217 code of the limits, when known.
    pub currency: Option<String>,
    /// The linked account's id, when the bank gives it.
    pub account_id: Option<String>,
    /// The linked account's full number (bank-in-a-box gives only this). Never logged.
    pub account_number: Option<String>,
    pub issued_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for CardData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardData")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("number", &self.number)
            .field("status", &self.status)
            .field("expires", &self.expires)
            .field("account_id", &self.account_id)
            .field(
                "account_number",
                &self.account_number.as_deref().map(last_four),
            )
            .finish_non_exhaustive()
    }
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
            kind: AccountKind::Current,
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

    #[test]
    fn account_kinds_come_from_the_sub_type() {
        let kind = |sub: Option<&str>, ty: Option<&str>| AccountKind::from_bank(sub, ty);
        assert_eq!(
            kind(Some("Checking"), Some("Personal")),
            AccountKind::Current
        );
        assert_eq!(
            kind(Some("Savings"), Some("Business")),
            AccountKind::Savings
        );
        assert_eq!(
            kind(Some("Deposit"), Some("Business")),
            AccountKind::Deposit
        );
        assert_eq!(kind(Some("Loan"), Some("Business")), AccountKind::Loan);
        assert_eq!(kind(Some("CreditCard"), None), AccountKind::CreditCard);
        assert_eq!(kind(Some("credit_card"), None), AccountKind::CreditCard);
        assert_eq!(kind(Some("Card"), None), AccountKind::Card);
        assert_eq!(kind(None, Some("Personal")), AccountKind::Current);
        assert_eq!(kind(None, None), AccountKind::Current);
        assert_eq!(
            kind(Some("Brokerage"), None),
            AccountKind::Other("Brokerage".into())
        );
        assert!(AccountKind::Loan.is_liability() && AccountKind::CreditCard.is_liability());
        assert!(!AccountKind::Deposit.is_liability());
    }

    #[test]
    fn card_numbers_are_masked_whatever_the_bank_sends() {
        for sent in [
            "**** **** **** 4014",
            "****4014",
            "4276380012344014",
            "4276 3800 1234 4014",
        ] {
            let pan = MaskedPan::new(sent).expect("digits");
            assert_eq!(pan.as_str(), "****4014", "{sent}");
            assert_eq!(pan.last_four(), "4014");
        }
        assert_eq!(MaskedPan::new("**** ****"), None);
        assert_eq!(
            MaskedPan::new("12").map(|p| p.to_string()).as_deref(),
            Some("****12")
        );
    }

    #[test]
    fn agreement_and_card_words() {
        assert_eq!(AgreementKind::from_bank("deposit"), AgreementKind::Deposit);
        assert_eq!(
            AgreementKind::from_bank("credit_line"),
            AgreementKind::CreditLine
        );
        assert_eq!(
            AgreementStatus::from_bank("closed"),
            AgreementStatus::Closed
        );
        assert_eq!(
            AgreementStatus::from_bank("defaulted"),
            AgreementStatus::Defaulted
        );
        assert_eq!(CardStatus::from_bank("blocked"), CardStatus::Blocked);
        assert_eq!(CardKind::from_bank("credit"), CardKind::Credit);
    }

    #[test]
    fn transaction_debug_hides_the_counterparty_number_and_text() {
        let t = TransactionData {
            id: "tx-1".into(),
            account_id: "acc-1".into(),
            amount: Decimal::new(100, 0),
            currency: "RUB".into(),
            direction: Direction::Debit,
            status: BookingStatus::Booked,
            raw_status: None,
            booked_at: DateTime::<Utc>::default(),
            value_at: None,
            description: "Межбанковский перевод в vbank на счет 40817810000000000002: ".into(),
            bank_transaction_code: None,
            merchant: None,
            card_masked: None,
            card_id: None,
            counterparty: None,
            counterparty_account: Some("40817810000000000002".into()),
            counterparty_bank: Some("vbank".into()),
        };
        let shown = format!("{t:?}");
        assert!(!shown.contains("40817810000000000002"), "{shown}");
        assert!(shown.contains("****0002"));
    }
}
