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

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "d::AccountStatus")]
pub enum AccountStatus {
    Enabled,
    Disabled,
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
