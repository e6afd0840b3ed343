//! Accounts at banks (and manual accounts for entries a manager records by hand).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::{AccountStatus, Currency, Money};
use crate::entity::accounts;
use crate::error::{CoreError, CoreResult};
use crate::Core;

#[derive(Clone, Debug)]
pub struct Account {
    pub id: i64,
    pub client_id: i64,
    pub link_id: Option<i64>,
    pub bank_code: String,
    pub external_id: String,
    pub name: String,
    pub account_type: String,
    pub account_subtype: Option<String>,
    pub currency: Currency,
    pub status: AccountStatus,
    /// Only the last four digits; the full number never leaves core.
    pub number_masked: Option<String>,
    pub balance: Option<Money>,
    pub balance_at: Option<DateTime<Utc>>,
    pub opened_on: Option<NaiveDate>,
}

impl TryFrom<accounts::Model> for Account {
    type Error = CoreError;
    fn try_from(m: accounts::Model) -> CoreResult<Self> {
        let currency = Currency::from_db(m.currency);
        Ok(Account {
            id: m.id,
            client_id: m.client_id,
            link_id: m.link_id,
            status: AccountStatus::parse(&m.status)?,
            balance: m
                .balance_minor
                .map(|minor| Money::new(minor, currency.clone())),
            currency,
            bank_code: m.bank_code,
            external_id: m.external_id,
            name: m.name,
            account_type: m.account_type,
            account_subtype: m.account_subtype,
            number_masked: m.number_masked,
            balance_at: m.balance_at,
            opened_on: m.opened_on,
        })
    }
}

/// Sums balances per currency, RUB first, then alphabetically.
pub fn total_by_currency<'a>(accounts: impl IntoIterator<Item = &'a Account>) -> Vec<Money> {
    let mut totals: Vec<Money> = Vec::new();
    for balance in accounts.into_iter().filter_map(|a| a.balance.as_ref()) {
        match totals.iter_mut().find(|m| m.currency == balance.currency) {
            Some(total) => total.minor = total.minor.saturating_add(balance.minor),
            None => totals.push(balance.clone()),
        }
    }
    totals.sort_by(|a, b| {
        (a.currency.as_str() != "RUB", a.currency.as_str())
            .cmp(&(b.currency.as_str() != "RUB", b.currency.as_str()))
    });
    totals
}

/// The full numbers of a client's accounts that have one: personal data the assistant's
/// redactor removes from outgoing text (they never leave core otherwise).
pub(crate) async fn numbers_of_client<C: ConnectionTrait>(
    conn: &C,
    client_id: i64,
) -> CoreResult<Vec<String>> {
    let numbers: Vec<Option<String>> = accounts::Entity::find()
        .select_only()
        .column(accounts::Column::Number)
        .filter(accounts::Column::ClientId.eq(client_id))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(numbers.into_iter().flatten().collect())
}

impl Core {
    /// The accounts of several clients in one query, keyed by client id.
    pub async fn accounts_of_clients(
        &self,
        client_ids: &[i64],
    ) -> CoreResult<HashMap<i64, Vec<Account>>> {
        let rows = accounts::Entity::find()
            .filter(accounts::Column::ClientId.is_in(client_ids.iter().copied()))
            .order_by_asc(accounts::Column::Id)
            .all(self.db.conn())
            .await?;
        let mut out: HashMap<i64, Vec<Account>> = HashMap::new();
        for row in rows {
            let account = Account::try_from(row)?;
            out.entry(account.client_id).or_default().push(account);
        }
        Ok(out)
    }

    /// Accounts by id in one query.
    pub async fn accounts_by_ids(&self, ids: &[i64]) -> CoreResult<HashMap<i64, Account>> {
        let rows = accounts::Entity::find()
            .filter(accounts::Column::Id.is_in(ids.iter().copied()))
            .all(self.db.conn())
            .await?;
        rows.into_iter()
            .map(|m| Account::try_from(m).map(|a| (a.id, a)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(minor: Option<i64>, currency: &str) -> Account {
        let currency = Currency::parse(currency).expect("currency");
        Account {
            id: 1,
            client_id: 1,
            link_id: None,
            bank_code: "abank".into(),
            external_id: "acc-1".into(),
            name: "n".into(),
            account_type: "Personal".into(),
            account_subtype: None,
            balance: minor.map(|m| Money::new(m, currency.clone())),
            currency,
            status: AccountStatus::Enabled,
            number_masked: None,
            balance_at: None,
            opened_on: None,
        }
    }

    #[test]
    fn totals_group_by_currency_rub_first() {
        let accounts = [
            account(Some(100), "USD"),
            account(Some(250), "RUB"),
            account(None, "RUB"),
            account(Some(50), "RUB"),
            account(Some(1), "EUR"),
        ];
        let totals = total_by_currency(&accounts);
        let shown: Vec<(i64, &str)> = totals
            .iter()
            .map(|m| (m.minor, m.currency.as_str()))
            .collect();
        assert_eq!(shown, vec![(300, "RUB"), (1, "EUR"), (100, "USD")]);
    }
}
