//! Share of wallet: of a client's (or a book's) money in the base currency, how much is at the
//! home bank — balances today, income and spending over the last [`SHARE_MONTHS`] whole calendar
//! months — each with the figures per bank it is computed from. One statement over the
//! precomputed tables (`accounts`, `client_month_totals`), so the book's figure is the sum of
//! its clients' figures exactly.
//!
//! - **Balances**: open accounts that are not debts and not overdrawn (the client's money, as
//!   `totalBalance` counts it).
//! - **Income**: booked credits but own transfers and refunds (a refund gives back spending).
//! - **Spending**: booked debits but own transfers.
//!
//! Other currencies are not converted: the figures say which currency they are in.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, Statement};

use crate::access::Book;
use crate::auth::Actor;
use crate::domain::{Category, Currency, Direction, HeldAwayKind, Money};
use crate::error::{CoreError, CoreResult};
use crate::Core;

use super::HeldAwayProduct;

/// Whole calendar months the income and spending shares cover (those before the current one).
pub const SHARE_MONTHS: u32 = 3;

/// One bank's part of a figure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankAmount {
    pub bank_code: String,
    pub bank_name: String,
    pub amount: Money,
}

/// One dimension of the share: the home bank's amount, everyone's, and the parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletShare {
    pub home: Money,
    pub total: Money,
    /// `home / total` in percent, to one decimal; `None` when the total is zero.
    pub percent: Option<Decimal>,
    /// Every bank with a non-zero amount, the largest first.
    pub by_bank: Vec<BankAmount>,
}

/// The home bank's share of a client's or a book's balances, income and spending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareOfWallet {
    pub home_bank: String,
    pub home_bank_name: String,
    pub currency: Currency,
    /// The months of income and spending: `[from, to)`.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub balances: WalletShare,
    pub income: WalletShare,
    pub spending: WalletShare,
    /// Salary credits (a part of income): where the salary arrives.
    pub salary: WalletShare,
}

/// Held-away products of one kind across a book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldAwayTotal {
    pub kind: HeldAwayKind,
    pub count: u64,
    /// Clients holding at least one.
    pub clients: u64,
    /// The sum of the amounts known (in the base currency), and how many products gave one.
    pub amount: Money,
    pub with_amount: u64,
    /// The sum of the monthly payments seen (in the base currency).
    pub monthly_flow: Money,
}

/// A book's share of wallet and its held-away products.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookWallet {
    pub clients: u64,
    pub share: Option<ShareOfWallet>,
    /// Clients with at least one product held away.
    pub clients_with_held_away: u64,
    pub held_away: Vec<HeldAwayTotal>,
}

/// The first day of the month `months` before `at`'s month.
fn month_start(at: DateTime<Utc>, months: u32) -> NaiveDate {
    let first = at.date_naive().with_day(1).unwrap_or(at.date_naive());
    first
        .checked_sub_months(Months::new(months))
        .unwrap_or(first)
}

fn key(d: NaiveDate) -> i32 {
    d.year() * 100 + d.month() as i32
}

fn share_sql(currency: &str, from: i32, to: i32) -> String {
    format!(
        concat!(
            "SELECT 'BALANCE' AS kind, bank_code, '' AS category, ",
            "CAST(COALESCE(SUM(balance_minor), 0) AS BIGINT) AS amount FROM accounts WHERE ",
            crate::accounts::asset_sql!(),
            " AND currency = '{cur}'{{book}} GROUP BY bank_code ",
            "UNION ALL SELECT direction, bank_code, category, CAST(SUM(amount_minor) AS BIGINT) ",
            "FROM client_month_totals WHERE category <> 'OWN_TRANSFER' AND currency = '{cur}' ",
            "AND month >= {from} AND month < {to}{{book}} GROUP BY direction, bank_code, category"
        ),
        cur = currency,
        from = from,
        to = to,
    )
}

fn dimension(
    home: &str,
    currency: &Currency,
    parts: BTreeMap<String, i64>,
    names: &dyn Fn(&str) -> String,
) -> WalletShare {
    let total: i64 = parts.values().sum();
    let home_amount = parts.get(home).copied().unwrap_or(0);
    let mut by_bank: Vec<BankAmount> = parts
        .into_iter()
        .filter(|(_, v)| *v != 0)
        .map(|(code, v)| BankAmount {
            bank_name: names(&code),
            bank_code: code,
            amount: Money::new(v, currency.clone()),
        })
        .collect();
    by_bank.sort_by(|a, b| {
        b.amount
            .minor
            .cmp(&a.amount.minor)
            .then(a.bank_code.cmp(&b.bank_code))
    });
    WalletShare {
        home: Money::new(home_amount, currency.clone()),
        total: Money::new(total, currency.clone()),
        percent: (total != 0).then(|| {
            (Decimal::from(home_amount) * Decimal::from(100) / Decimal::from(total)).round_dp(1)
        }),
        by_bank,
    }
}

impl Core {
    /// The currency literal of the base currency, checked before it goes into SQL text.
    fn base_literal(&self) -> CoreResult<&str> {
        let code = self.settings.base_currency.as_str();
        if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(CoreError::invalid(format!("base currency {code:?}")));
        }
        Ok(code)
    }

    async fn share_over(
        &self,
        book: &Book,
        now: DateTime<Utc>,
    ) -> CoreResult<Option<ShareOfWallet>> {
        let Some(home) = self.home_bank() else {
            return Ok(None);
        };
        let currency = self.settings.base_currency.clone();
        let from = month_start(now, SHARE_MONTHS);
        let to = month_start(now, 0);
        let sql = book.apply(&share_sql(self.base_literal()?, key(from), key(to)));
        let rows = self
            .db
            .conn()
            .query_all(Statement::from_string(self.db.backend(), sql))
            .await?;
        let mut balances: BTreeMap<String, i64> = BTreeMap::new();
        let mut income: BTreeMap<String, i64> = BTreeMap::new();
        let mut spending: BTreeMap<String, i64> = BTreeMap::new();
        let mut salary: BTreeMap<String, i64> = BTreeMap::new();
        for row in rows {
            let kind: String = row.try_get_by_index(0)?;
            let bank: String = row.try_get_by_index(1)?;
            let category: String = row.try_get_by_index(2)?;
            let amount: i64 = row.try_get_by_index::<Option<i64>>(3)?.unwrap_or(0);
            let target = match kind.as_str() {
                "BALANCE" => &mut balances,
                _ if kind == Direction::Credit.as_str() => {
                    if category == Category::Refunds.as_str() {
                        continue;
                    }
                    if category == Category::Salary.as_str() {
                        *salary.entry(bank.clone()).or_default() += amount;
                    }
                    &mut income
                }
                _ => &mut spending,
            };
            *target.entry(bank).or_default() += amount;
        }
        let names = |code: &str| self.banks.describe(code).name;
        Ok(Some(ShareOfWallet {
            home_bank: home.to_owned(),
            home_bank_name: names(home),
            from,
            to,
            balances: dimension(home, &currency, balances, &names),
            income: dimension(home, &currency, income, &names),
            spending: dimension(home, &currency, spending, &names),
            salary: dimension(home, &currency, salary, &names),
            currency,
        }))
    }

    /// The home bank's share of `client_id`'s balances, income and spending; `None` without a
    /// home bank.
    pub async fn share_of_wallet(
        &self,
        client_id: i64,
        now: DateTime<Utc>,
    ) -> CoreResult<Option<ShareOfWallet>> {
        self.share_over(&Book::Only(vec![client_id]), now).await
    }

    /// The share of wallet of `actor`'s book and the products its clients hold elsewhere.
    pub async fn book_wallet(&self, actor: &Actor, now: DateTime<Utc>) -> CoreResult<BookWallet> {
        let book = self.book_of(actor).await?;
        let ids: Vec<i64> = match &book {
            Book::Only(ids) => ids.clone(),
            Book::All => self.all_client_ids().await?,
        };
        let share = self.share_over(&book, now).await?;
        let held = self.held_away_of_clients(&ids, now).await?;
        let base = self.settings.base_currency.clone();
        Ok(BookWallet {
            clients: ids.len() as u64,
            share,
            clients_with_held_away: held.values().filter(|p| !p.is_empty()).count() as u64,
            held_away: totals(held.values().map(Vec::as_slice), &base),
        })
    }

    async fn all_client_ids(&self) -> CoreResult<Vec<i64>> {
        use crate::entity::clients;
        use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
        Ok(clients::Entity::find()
            .select_only()
            .column(clients::Column::Id)
            .order_by_asc(clients::Column::Id)
            .into_tuple()
            .all(self.db.conn())
            .await?)
    }
}

/// Held-away products of many clients per kind (amounts in `base` only).
pub(crate) fn totals<'a>(
    clients: impl Iterator<Item = &'a [HeldAwayProduct]>,
    base: &Currency,
) -> Vec<HeldAwayTotal> {
    let mut out: BTreeMap<HeldAwayKind, HeldAwayTotal> = BTreeMap::new();
    for products in clients {
        let mut kinds_here: Vec<HeldAwayKind> = Vec::new();
        for p in products {
            let t = out.entry(p.kind).or_insert_with(|| HeldAwayTotal {
                kind: p.kind,
                count: 0,
                clients: 0,
                amount: Money::new(0, base.clone()),
                with_amount: 0,
                monthly_flow: Money::new(0, base.clone()),
            });
            t.count += 1;
            if !kinds_here.contains(&p.kind) {
                kinds_here.push(p.kind);
                t.clients += 1;
            }
            if let Some(a) = p.amount.as_ref().filter(|a| a.currency == *base) {
                t.amount.minor += a.minor;
                t.with_amount += 1;
            }
            if let Some(m) = p.monthly_flow.as_ref().filter(|m| m.currency == *base) {
                t.monthly_flow.minor += m.minor;
            }
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_months_are_the_whole_ones_before_now() {
        let now = Utc
            .with_ymd_and_hms(2026, 12, 7, 3, 0, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(key(month_start(now, SHARE_MONTHS)), 202609);
        assert_eq!(key(month_start(now, 0)), 202612);
        let jan = Utc
            .with_ymd_and_hms(2027, 1, 31, 3, 0, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(key(month_start(jan, SHARE_MONTHS)), 202610);
    }

    #[test]
    fn a_share_is_exact_and_names_every_bank() {
        let parts: BTreeMap<String, i64> = [
            ("abank".to_owned(), 100_000_00),
            ("vbank".to_owned(), 200_000_00),
            ("sbank".to_owned(), 0),
        ]
        .into_iter()
        .collect();
        let names = |c: &str| c.to_uppercase();
        let s = dimension("abank", &Currency::rub(), parts, &names);
        assert_eq!(s.total.minor, 300_000_00);
        assert_eq!(s.home.minor, 100_000_00);
        assert_eq!(s.percent, Some(Decimal::new(333, 1)));
        assert_eq!(s.by_bank.len(), 2, "a bank with nothing is not listed");
        assert_eq!(s.by_bank[0].bank_code, "vbank");
        let none = dimension("abank", &Currency::rub(), BTreeMap::new(), &names);
        assert_eq!(none.percent, None);
    }
}
