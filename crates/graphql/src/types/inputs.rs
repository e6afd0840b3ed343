use async_graphql::{InputObject, ID};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::enums::*;
use crate::cursor::parse_id;
use crate::error::ApiResult;

#[derive(InputObject, Clone, Debug, Default)]
pub struct ClientFilter {
    /// Part of the name, e-mail or phone (or of a note); any case, any script; 200 characters
    /// at most.
    pub search: Option<String>,
    pub rating: Option<Grade>,
    /// A bank code the client is linked with.
    pub bank: Option<String>,
    pub status: Option<ClientStatus>,
}

/// The longest search text (a client's, a transaction's, a note's), in characters.
pub const SEARCH_MAX: usize = 200;

impl ClientFilter {
    pub fn into_core(self) -> ApiResult<crm_core::clients::ClientFilter> {
        Ok(crm_core::clients::ClientFilter {
            search: crate::text_input::at_most(self.search, "filter.search", SEARCH_MAX)?,
            rating: self.rating.map(Into::into),
            bank: crate::text_input::at_most(self.bank, "filter.bank", 64)?,
            status: self.status.map(Into::into),
        })
    }
}

#[derive(InputObject, Clone, Debug, Default)]
pub struct TransactionFilter {
    /// Booked at or after.
    pub from: Option<DateTime<Utc>>,
    /// Booked before.
    pub to: Option<DateTime<Utc>>,
    pub category: Option<Category>,
    pub direction: Option<Direction>,
    pub account_id: Option<ID>,
    /// Part of the description, merchant or counterparty; 200 characters at most.
    pub search: Option<String>,
    /// Only rows of this status; without it every row but `REVERSED` ones.
    pub status: Option<TransactionStatus>,
}

impl TransactionFilter {
    pub fn to_core(&self) -> ApiResult<crm_core::transactions::TransactionFilter> {
        Ok(crm_core::transactions::TransactionFilter {
            from: self.from,
            to: self.to,
            category: self.category.map(Into::into),
            direction: self.direction.map(Into::into),
            account_id: self
                .account_id
                .as_ref()
                .map(|id| parse_id(id, "account"))
                .transpose()?,
            search: crate::text_input::at_most(self.search.clone(), "filter.search", SEARCH_MAX)?,
            status: self.status.map(Into::into),
        })
    }
}

#[derive(InputObject, Clone, Debug)]
pub struct CreateClientInput {
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `ACTIVE` when absent.
    pub status: Option<ClientStatus>,
}

/// Only the fields given change; an empty e-mail or phone clears it.
#[derive(InputObject, Clone, Debug)]
pub struct UpdateClientInput {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: Option<ClientStatus>,
}

#[derive(InputObject, Clone, Debug)]
pub struct CreateTransactionInput {
    pub client_id: ID,
    /// When absent, the client's manual account in `currency` is used (created on first use).
    pub account_id: Option<ID>,
    pub booked_at: DateTime<Utc>,
    /// Positive, at most two decimals; `direction` gives the sign.
    pub amount: Decimal,
    pub currency: String,
    pub direction: Direction,
    pub description: String,
    pub merchant: Option<String>,
    /// ISO 18245 code, four digits.
    pub mcc: Option<String>,
}

/// A new user (administrators only).
#[derive(InputObject, Clone, Debug)]
pub struct CreateUserInput {
    pub username: String,
    /// At least 12 characters.
    pub password: String,
    pub role: Role,
}

/// Changes to a user (administrators only). A new role or a disable signs the user out
/// everywhere.
#[derive(InputObject, Clone, Debug, Default)]
pub struct UpdateUserInput {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}
