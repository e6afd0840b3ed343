//! GraphQL enums mirroring core's closed sets (conversions both ways are generated).

use async_graphql::Enum;
use crm_core::domain as d;

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "d::Role")]
pub enum Role {
    Viewer,
    Manager,
    Admin,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "d::ClientStatus")]
pub enum ClientStatus {
    Active,
    Inactive,
}

/// Whether an account is open. An account the bank stops listing in a complete account list
/// (or says is closed) is `CLOSED`: its history stays, its balance counts in no total, and it
/// is `OPEN` again if the bank lists it again.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum AccountStatus {
    Open,
    Closed,
    /// Never returned any more: read `OPEN`.
    #[graphql(deprecation = "Accounts say OPEN or CLOSED now")]
    Enabled,
    /// Never returned any more: read `CLOSED`.
    #[graphql(deprecation = "Accounts say OPEN or CLOSED now")]
    Disabled,
}

impl From<d::AccountStatus> for AccountStatus {
    fn from(s: d::AccountStatus) -> Self {
        match s {
            d::AccountStatus::Open => AccountStatus::Open,
            d::AccountStatus::Closed => AccountStatus::Closed,
        }
    }
}

/// What an account is. The balance of a `LOAN` or `CREDIT_CARD` account is a debt.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "d::AccountKind")]
pub enum AccountKind {
    Current,
    Savings,
    Deposit,
    Card,
    CreditCard,
    Loan,
    Other,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "d::AgreementKind")]
pub enum AgreementKind {
    Deposit,
    Loan,
    CreditLine,
    Other,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "d::AgreementStatus")]
pub enum AgreementStatus {
    Active,
    Closed,
    Defaulted,
    Other,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "d::CardKind")]
pub enum CardKind {
    Debit,
    Credit,
    Other,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "d::CardStatus")]
pub enum CardStatus {
    Active,
    Blocked,
    Expired,
    Other,
}

/// `CREDIT` is money in, `DEBIT` money out; amounts are always positive.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "d::Direction")]
pub enum Direction {
    Credit,
    Debit,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "d::TransactionStatus")]
pub enum TransactionStatus {
    Booked,
    Pending,
    /// A booked row the bank stopped listing: kept, counted in no total.
    Reversed,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "d::Grade")]
pub enum Grade {
    A,
    B,
    C,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "d::ConsentStatus")]
pub enum ConsentStatus {
    None,
    AwaitingAuthorization,
    Authorized,
    Rejected,
    Revoked,
    Expired,
}

/// Which layer decided a category: a person, a user rule, the merchant dictionary, the MCC code,
/// a description keyword, the direction's fallback, or the pairing of the two legs of a
/// transfer between the client's own accounts (`TRANSFER_MATCH`).
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "d::CategorySource")]
pub enum CategorySource {
    Manual,
    Rule,
    Merchant,
    Mcc,
    Keyword,
    Default,
    TransferMatch,
}

/// The fixed category taxonomy (stable codes).
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "d::Category")]
pub enum Category {
    Groceries,
    Restaurants,
    FoodDelivery,
    Transport,
    Auto,
    Shopping,
    Home,
    Health,
    Beauty,
    Entertainment,
    Subscriptions,
    Telecom,
    Utilities,
    Education,
    Travel,
    Cash,
    TransfersOut,
    LoanPayments,
    TaxesFees,
    OtherExpense,
    Salary,
    Interest,
    TransfersIn,
    Refunds,
    OtherIncome,
    /// Money moved between two accounts of the same client (either direction): neither
    /// income nor spending, left out of every such figure.
    OwnTransfer,
}

/// The order of the client list.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum ClientOrder {
    /// Alphabetical (the default).
    #[default]
    Name,
    /// Rating score, highest first; unrated clients last.
    ScoreDesc,
    /// Total balance in the base currency, largest first.
    BalanceDesc,
}

impl From<ClientOrder> for crm_core::clients::ClientOrder {
    fn from(o: ClientOrder) -> Self {
        match o {
            ClientOrder::Name => crm_core::clients::ClientOrder::Name,
            ClientOrder::ScoreDesc => crm_core::clients::ClientOrder::ScoreDesc,
            ClientOrder::BalanceDesc => crm_core::clients::ClientOrder::BalanceDesc,
        }
    }
}
