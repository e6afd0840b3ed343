//! The data behind file exports: a client's transactions read in pages (so a client with 100k
//! rows is streamed, never held whole), and the portfolio report. Files are formatted by the
//! server; this module only reads.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};

use crate::accounts::total_by_currency;
use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::clients::{Client, ClientFilter};
use crate::domain::{
    Category, CategorySource, Currency, Direction, Grade, Money, TransactionStatus,
};
use crate::entity::{accounts, client_totals, transactions};
use crate::error::{CoreError, CoreResult};
use crate::Core;

/// Rows read per page while exporting.
pub const EXPORT_PAGE: u64 = 2000;

/// One transaction as an export shows it.
#[derive(Clone, Debug)]
pub struct ExportRow {
    pub id: i64,
    pub booked_at: DateTime<Utc>,
    /// Only the last digits (`•••• 4821`), or the account's name when no number is known.
    pub account: String,
    pub bank: String,
    pub direction: Direction,
    pub status: TransactionStatus,
    /// Positive; `direction` gives the sign.
    pub amount: Money,
    pub category: Category,
    pub category_source: CategorySource,
    pub merchant: Option<String>,
    pub mcc: Option<String>,
    pub description: String,
}

/// What the audit log records of an export (recorded when the export starts, so an aborted
/// download is on record too; `rows` when known).
#[derive(Clone, Copy, Debug)]
pub struct ExportRecord<'a> {
    pub what: &'a str,
    pub format: &'a str,
    pub client_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub rows: Option<u64>,
}

/// Where the previous page ended (exports run oldest first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportCursor {
    pub booked_at: DateTime<Utc>,
    pub id: i64,
}

/// Account labels and bank names of one client, read once per export.
#[derive(Clone, Debug, Default)]
pub struct ExportContext {
    accounts: HashMap<i64, (String, String)>,
}

#[derive(Clone, Debug)]
pub struct PortfolioClient {
    pub client: Client,
    pub grade: Option<Grade>,
    pub score: Option<i32>,
    /// Account balances per currency, RUB first.
    pub balances: Vec<Money>,
    /// Names of the banks the client is linked with.
    pub banks: Vec<String>,
    pub transactions: u64,
    /// Booked income and spending per currency.
    pub income: Vec<Money>,
    pub expense: Vec<Money>,
}

#[derive(Clone, Debug)]
pub struct CategoryTotal {
    pub category: Category,
    pub currency: Currency,
    pub count: u64,
    pub amount: Money,
}

#[derive(Clone, Debug)]
pub struct BankTotal {
    pub bank: String,
    pub clients: u64,
    pub accounts: u64,
    pub transactions: u64,
    pub balances: Vec<Money>,
}

#[derive(Clone, Debug)]
pub struct PortfolioReport {
    pub generated_at: DateTime<Utc>,
    pub clients: Vec<PortfolioClient>,
    /// Every currency that appears in a client's balances or totals, RUB first.
    pub currencies: Vec<Currency>,
    /// Booked amounts per category and currency, largest first.
    pub categories: Vec<CategoryTotal>,
    pub banks: Vec<BankTotal>,
}

fn sort_currencies(set: BTreeSet<String>) -> Vec<Currency> {
    let mut v: Vec<String> = set.into_iter().collect();
    v.sort_by(|a, b| (a != "RUB", a.as_str()).cmp(&(b != "RUB", b.as_str())));
    v.into_iter().map(Currency::from_db).collect()
}

/// Booked amounts per category and currency (one row per pair, both directions).
const CATEGORY_SQL: &str = "\
SELECT category, currency, CAST(COUNT(*) AS BIGINT), CAST(SUM(amount_minor) AS BIGINT) \
  FROM transactions WHERE status = 'BOOKED' AND replaced_by_id IS NULL{book} \
  GROUP BY category, currency";

/// Per bank: linked clients, accounts, transactions.
const BANK_SQL: &str = "\
SELECT 'links' AS kind, bank_code, '' AS currency, CAST(COUNT(DISTINCT client_id) AS BIGINT) \
  FROM bank_links WHERE 1 = 1{book} GROUP BY bank_code \
UNION ALL SELECT 'accounts', bank_code, '', CAST(COUNT(*) AS BIGINT) FROM accounts WHERE 1 = 1{book} \
  GROUP BY bank_code \
UNION ALL SELECT 'tx', a.bank_code, '', CAST(COUNT(t.id) AS BIGINT) \
  FROM transactions t JOIN accounts a ON a.id = t.account_id \
  WHERE t.replaced_by_id IS NULL AND t.status <> 'REVERSED'{tbook} \
  GROUP BY a.bank_code \
UNION ALL SELECT 'balance', bank_code, currency, CAST(SUM(balance_minor) AS BIGINT) \
  FROM accounts WHERE balance_minor IS NOT NULL{book} GROUP BY bank_code, currency";

impl Core {
    /// What an export of `client_id` by `actor` needs besides the rows; fails with `NOT_FOUND`
    /// for a client outside the actor's book (or unknown).
    pub async fn export_context(&self, actor: &Actor, client_id: i64) -> CoreResult<ExportContext> {
        self.client_for(actor, client_id, crate::access::Need::Read)
            .await?;
        let accounts = accounts::Entity::find()
            .filter(accounts::Column::ClientId.eq(client_id))
            .all(self.db.conn())
            .await?;
        Ok(ExportContext {
            accounts: accounts
                .into_iter()
                .map(|a| {
                    let label = a.number_masked.clone().unwrap_or_else(|| a.name.clone());
                    (a.id, (label, self.banks.describe(&a.bank_code).name))
                })
                .collect(),
        })
    }

    /// One page of a client's transactions booked in `[from, to)`, oldest first.
    pub async fn export_transactions_page(
        &self,
        ctx: &ExportContext,
        client_id: i64,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        after: Option<ExportCursor>,
        limit: u64,
    ) -> CoreResult<Vec<ExportRow>> {
        if let (Some(f), Some(t)) = (from, to) {
            if f >= t {
                return Err(CoreError::invalid("`from` must be before `to`"));
            }
        }
        let mut q = transactions::Entity::find()
            .filter(transactions::Column::ClientId.eq(client_id))
            .filter(transactions::Column::ReplacedById.is_null());
        if let Some(f) = from {
            q = q.filter(transactions::Column::BookedAt.gte(f));
        }
        if let Some(t) = to {
            q = q.filter(transactions::Column::BookedAt.lt(t));
        }
        if let Some(c) = after {
            q = q.filter(
                Condition::any()
                    .add(transactions::Column::BookedAt.gt(c.booked_at))
                    .add(
                        Condition::all()
                            .add(transactions::Column::BookedAt.eq(c.booked_at))
                            .add(transactions::Column::Id.gt(c.id)),
                    ),
            );
        }
        let rows = q
            .order_by_asc(transactions::Column::BookedAt)
            .order_by_asc(transactions::Column::Id)
            .limit(limit.clamp(1, 10_000))
            .all(self.db.conn())
            .await?;
        rows.into_iter()
            .map(|m| {
                let (account, bank) = ctx
                    .accounts
                    .get(&m.account_id)
                    .cloned()
                    .unwrap_or_else(|| (String::new(), String::new()));
                Ok(ExportRow {
                    id: m.id,
                    booked_at: m.booked_at,
                    account,
                    bank,
                    direction: Direction::parse(&m.direction)?,
                    status: TransactionStatus::parse(&m.status)?,
                    amount: Money::new(m.amount_minor, Currency::from_db(m.currency)),
                    category: Category::parse(&m.category)?,
                    category_source: CategorySource::parse(&m.category_source)?,
                    merchant: m.merchant,
                    mcc: m.mcc,
                    description: m.description,
                })
            })
            .collect()
    }

    /// Records a finished (or abandoned) export in the audit log.
    pub async fn record_export(&self, actor: &Actor, export: ExportRecord<'_>) -> CoreResult<()> {
        let mut event = AuditEvent::new("export")
            .actor(actor)
            .detail("what", export.what)
            .detail("format", export.format);
        if let Some(rows) = export.rows {
            event = event.detail("rows", rows);
        }
        if let Some(from) = export.from {
            event = event.detail("from", from.to_rfc3339());
        }
        if let Some(to) = export.to {
            event = event.detail("to", to.to_rfc3339());
        }
        if let Some(id) = export.client_id {
            event = event.entity("client", id);
        }
        self.audit.record(event).await
    }

    /// Every client of `actor`'s book with grade, balances, banks and totals, plus totals per
    /// category and bank over the book.
    pub async fn portfolio_report(&self, actor: &Actor) -> CoreResult<PortfolioReport> {
        let book = self.book_of(actor).await?;
        let mut clients = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .list_clients(actor, &ClientFilter::default(), 100, after.as_ref())
                .await?;
            after = page.items.last().map(|c| crate::clients::ClientCursor {
                name: c.sort_name.clone(),
                id: c.id,
            });
            let has_next = page.has_next;
            clients.extend(page.items);
            if !has_next {
                break;
            }
        }
        let ids: Vec<i64> = clients.iter().map(|c| c.id).collect();
        let mut ratings = HashMap::new();
        let mut accounts = HashMap::new();
        let mut links = HashMap::new();
        let mut totals: HashMap<i64, Vec<client_totals::Model>> = HashMap::new();
        for chunk in ids.chunks(500) {
            ratings.extend(self.ratings_of_clients(chunk).await?);
            accounts.extend(self.accounts_of_clients(chunk).await?);
            links.extend(self.links_of_clients(chunk).await?);
            for t in client_totals::Entity::find()
                .filter(client_totals::Column::ClientId.is_in(chunk.iter().copied()))
                .all(self.db.conn())
                .await?
            {
                totals.entry(t.client_id).or_default().push(t);
            }
        }
        let mut currencies = BTreeSet::new();
        let clients: Vec<PortfolioClient> = clients
            .into_iter()
            .map(|client| {
                let rating = ratings.get(&client.id);
                let balances = total_by_currency(accounts.get(&client.id).into_iter().flatten());
                let mut banks: Vec<String> = links
                    .get(&client.id)
                    .into_iter()
                    .flatten()
                    .map(|l| self.banks.describe(&l.bank_code).name)
                    .collect();
                banks.sort();
                banks.dedup();
                let t = totals.get(&client.id).map(Vec::as_slice).unwrap_or(&[]);
                for m in &balances {
                    currencies.insert(m.currency.as_str().to_owned());
                }
                for row in t {
                    currencies.insert(row.currency.clone());
                }
                PortfolioClient {
                    grade: rating.map(|r| r.grade),
                    score: rating.map(|r| r.score),
                    balances,
                    banks,
                    transactions: t.iter().map(|r| r.tx_count.max(0) as u64).sum(),
                    income: t
                        .iter()
                        .map(|r| Money::new(r.income_minor, Currency::from_db(r.currency.clone())))
                        .collect(),
                    expense: t
                        .iter()
                        .map(|r| Money::new(r.expense_minor, Currency::from_db(r.currency.clone())))
                        .collect(),
                    client,
                }
            })
            .collect();

        let backend = self.db.backend();
        let mut categories = Vec::new();
        for row in self
            .db
            .conn()
            .query_all(Statement::from_string(backend, book.apply(CATEGORY_SQL)))
            .await?
        {
            let category: String = row.try_get_by_index(0)?;
            let currency: String = row.try_get_by_index(1)?;
            let count: i64 = row.try_get_by_index::<Option<i64>>(2)?.unwrap_or(0);
            let minor: i64 = row.try_get_by_index::<Option<i64>>(3)?.unwrap_or(0);
            let currency = Currency::from_db(currency);
            categories.push(CategoryTotal {
                category: Category::parse(&category)?,
                amount: Money::new(minor, currency.clone()),
                currency,
                count: count.max(0) as u64,
            });
        }
        categories.sort_by(|a, b| {
            (
                a.currency.as_str() != "RUB",
                a.currency.as_str(),
                -a.amount.minor,
            )
                .cmp(&(
                    b.currency.as_str() != "RUB",
                    b.currency.as_str(),
                    -b.amount.minor,
                ))
        });

        let mut by_bank: HashMap<String, BankTotal> = HashMap::new();
        for row in self
            .db
            .conn()
            .query_all(Statement::from_string(
                backend,
                book.apply(BANK_SQL)
                    .replace("{tbook}", &book.sql("t.client_id")),
            ))
            .await?
        {
            let kind: String = row.try_get_by_index(0)?;
            let code: String = row.try_get_by_index(1)?;
            let currency: String = row.try_get_by_index(2)?;
            let n: i64 = row.try_get_by_index::<Option<i64>>(3)?.unwrap_or(0);
            let bank = by_bank.entry(code.clone()).or_insert_with(|| BankTotal {
                bank: self.banks.describe(&code).name,
                clients: 0,
                accounts: 0,
                transactions: 0,
                balances: Vec::new(),
            });
            match kind.as_str() {
                "links" => bank.clients = n.max(0) as u64,
                "accounts" => bank.accounts = n.max(0) as u64,
                "tx" => bank.transactions = n.max(0) as u64,
                _ => bank
                    .balances
                    .push(Money::new(n, Currency::from_db(currency))),
            }
        }
        let mut banks: Vec<BankTotal> = by_bank.into_values().collect();
        banks.sort_by(|a, b| a.bank.cmp(&b.bank));
        Ok(PortfolioReport {
            generated_at: Utc::now(),
            clients,
            currencies: sort_currencies(currencies),
            categories,
            banks,
        })
    }
}
