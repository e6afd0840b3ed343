//! Accounts at banks (and manual accounts for entries a manager records by hand).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::{AccountKind, AccountStatus, Currency, Money};
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
    /// What the account is; a `Loan` or `CreditCard` balance is a debt.
    pub kind: AccountKind,
    /// When the bank stopped listing the account (or said it is closed); `None` while open.
    pub closed_at: Option<DateTime<Utc>>,
}

impl Account {
    /// Whether the account is closed: its history stays, its balance counts nowhere.
    pub fn is_closed(&self) -> bool {
        self.status == AccountStatus::Closed
    }

    /// The balance as the client's money: an open account that is not a debt, in credit
    /// (zero or more). An overdrawn account is a debt (see [`Account::debt`]).
    pub fn asset(&self) -> Option<&Money> {
        self.balance
            .as_ref()
            .filter(|b| !self.is_closed() && !self.kind.is_debt() && b.minor >= 0)
    }

    /// What the client owes on an open account, as a positive amount: the balance of a loan or
    /// credit card (banks show it negative or, bank-in-a-box, positive), or the overdraft of
    /// any other account in debit. A balance sheet puts an overdraft among the liabilities,
    /// not as negative money.
    pub fn debt(&self) -> Option<Money> {
        self.balance
            .as_ref()
            .filter(|b| !self.is_closed() && (self.kind.is_debt() || b.minor < 0))
            .map(|b| Money::new(b.minor.saturating_abs(), b.currency.clone()))
    }
}

/// A stored account's status. `ENABLED`/`DISABLED` are the words of rows written before
/// `OPEN`/`CLOSED` (or by a replica still running the previous version during a deploy).
fn status_of_row(word: &str) -> CoreResult<AccountStatus> {
    match word {
        "ENABLED" => Ok(AccountStatus::Open),
        "DISABLED" => Ok(AccountStatus::Closed),
        other => AccountStatus::parse(other),
    }
}

/// A stored account's kind; a row stored before kinds were kept is read from its sub-type.
fn kind_of_row(m: &accounts::Model) -> CoreResult<AccountKind> {
    Ok(match m.kind.as_deref() {
        Some(k) => AccountKind::parse(k)?,
        None => kind_from_bank(&crm_connector::AccountKind::from_bank(
            m.account_subtype.as_deref(),
            Some(m.account_type.as_str()),
        )),
    })
}

/// Whether a stored account holds the client's own money (open, not a loan or credit card),
/// whatever the sign of its balance: ratings read overdrafts from these.
pub(crate) fn row_is_own_money(m: &accounts::Model) -> bool {
    m.closed_at.is_none()
        && status_of_row(&m.status).is_ok_and(|s| s == AccountStatus::Open)
        && kind_of_row(m).is_ok_and(|k| !k.is_debt())
}

/// The kind core keeps for the connector's kind of an account.
pub(crate) fn kind_from_bank(kind: &crm_connector::AccountKind) -> AccountKind {
    use crm_connector::AccountKind as K;
    match kind {
        K::Current => AccountKind::Current,
        K::Savings => AccountKind::Savings,
        K::Deposit => AccountKind::Deposit,
        K::Card => AccountKind::Card,
        K::CreditCard => AccountKind::CreditCard,
        K::Loan => AccountKind::Loan,
        K::Other(_) => AccountKind::Other,
    }
}

/// SQL condition on `accounts` (a literal, for `concat!`) for a balance that is the client's
/// money: an open account that is not a debt and not overdrawn (a row stored before kinds were
/// kept counts unless the migration marked it a loan). Every open account is in exactly one of
/// `asset_sql` and `debt_sql`.
macro_rules! asset_sql {
    () => {
        "accounts.closed_at IS NULL AND accounts.status NOT IN ('CLOSED', 'DISABLED') \
         AND (accounts.kind IS NULL OR accounts.kind NOT IN ('LOAN', 'CREDIT_CARD')) \
         AND (accounts.balance_minor IS NULL OR accounts.balance_minor >= 0)"
    };
}
pub(crate) use asset_sql;

/// SQL condition on `accounts` for a balance the client owes (`ABS(balance_minor)`): an open
/// loan or credit card, or any other open account in overdraft.
macro_rules! debt_sql {
    () => {
        "accounts.closed_at IS NULL AND accounts.status NOT IN ('CLOSED', 'DISABLED') \
         AND (accounts.kind IN ('LOAN', 'CREDIT_CARD') OR accounts.balance_minor < 0)"
    };
}
pub(crate) use debt_sql;

impl TryFrom<accounts::Model> for Account {
    type Error = CoreError;
    fn try_from(m: accounts::Model) -> CoreResult<Self> {
        let kind = kind_of_row(&m)?;
        let currency = Currency::from_db(m.currency);
        Ok(Account {
            kind,
            closed_at: m.closed_at,
            id: m.id,
            client_id: m.client_id,
            link_id: m.link_id,
            status: status_of_row(&m.status)?,
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

/// The client's money per currency (`totalBalance`): balances of open accounts that are not
/// debts, RUB first, then alphabetically. Closed accounts and loans count nowhere here.
pub fn total_by_currency<'a>(accounts: impl IntoIterator<Item = &'a Account>) -> Vec<Money> {
    let mut totals: Vec<Money> = Vec::new();
    for balance in accounts.into_iter().filter_map(Account::asset) {
        match totals.iter_mut().find(|m| m.currency == balance.currency) {
            Some(total) => total.minor = total.minor.saturating_add(balance.minor),
            None => totals.push(balance.clone()),
        }
    }
    totals.sort_by(|a, b| currency_order(&a.currency, &b.currency));
    totals
}

fn currency_order(a: &Currency, b: &Currency) -> std::cmp::Ordering {
    (a.as_str() != "RUB", a.as_str()).cmp(&(b.as_str() != "RUB", b.as_str()))
}

/// What a client has and owes in one currency, over open accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub currency: Currency,
    /// Balances of accounts that are not debts (`totalBalance`), in minor units.
    pub assets_minor: i64,
    /// What is owed on loan and credit-card accounts, positive.
    pub debts_minor: i64,
}

impl Position {
    pub fn assets(&self) -> Money {
        Money::new(self.assets_minor, self.currency.clone())
    }
    pub fn debts(&self) -> Money {
        Money::new(self.debts_minor, self.currency.clone())
    }
    /// Assets less debts.
    pub fn net(&self) -> Money {
        Money::new(
            self.assets_minor.saturating_sub(self.debts_minor),
            self.currency.clone(),
        )
    }
}

/// Assets and debts per currency over the open accounts with a balance, RUB first.
pub fn position_by_currency<'a>(accounts: impl IntoIterator<Item = &'a Account>) -> Vec<Position> {
    let mut out: Vec<Position> = Vec::new();
    for a in accounts {
        let (asset, debt) = match (a.asset(), a.debt()) {
            (Some(m), _) => (m.minor, 0),
            (None, Some(d)) => (0, d.minor),
            (None, None) => continue,
        };
        let i = match out.iter().position(|p| p.currency == a.currency) {
            Some(i) => i,
            None => {
                out.push(Position {
                    currency: a.currency.clone(),
                    assets_minor: 0,
                    debts_minor: 0,
                });
                out.len() - 1
            }
        };
        out[i].assets_minor = out[i].assets_minor.saturating_add(asset);
        out[i].debts_minor = out[i].debts_minor.saturating_add(debt);
    }
    out.sort_by(|a, b| currency_order(&a.currency, &b.currency));
    out
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
    #![allow(clippy::inconsistent_digit_grouping)]
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
            status: AccountStatus::Open,
            number_masked: None,
            balance_at: None,
            opened_on: None,
            kind: AccountKind::Current,
            closed_at: None,
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

    #[test]
    fn debts_and_closed_accounts_are_not_the_clients_money() {
        let mut loan = account(Some(-300_000_00), "RUB");
        loan.kind = AccountKind::Loan;
        let mut bank_in_a_box_loan = account(Some(50_000_00), "RUB");
        bank_in_a_box_loan.kind = AccountKind::Loan;
        let mut closed = account(Some(7_00), "RUB");
        closed.status = AccountStatus::Closed;
        let mut closed_loan = account(Some(-9_00), "RUB");
        closed_loan.kind = AccountKind::CreditCard;
        closed_loan.status = AccountStatus::Closed;
        let overdrawn = account(Some(-20_00), "RUB");
        let accounts = [
            account(Some(1_000_00), "RUB"),
            loan,
            bank_in_a_box_loan,
            closed,
            closed_loan,
            overdrawn,
        ];
        let totals = total_by_currency(&accounts);
        assert_eq!(totals.len(), 1);
        assert_eq!(totals[0].minor, 1_000_00);
        let position = position_by_currency(&accounts);
        assert_eq!(position.len(), 1);
        assert_eq!(position[0].assets_minor, 1_000_00);
        // The loans and the overdraft: positive, as owed.
        assert_eq!(position[0].debts_minor, 350_000_00 + 20_00);
        assert_eq!(position[0].net().minor, 1_000_00 - 350_000_00 - 20_00);
    }
}
