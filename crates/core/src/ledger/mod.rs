//! The ledger: the one module that writes `transactions` rows, and with them the figures
//! derived from the rows — the per-client counters (`client_totals`, [`totals`]) and the
//! analytics aggregates (`client_month_totals`, `client_day_totals`, [`aggregates`]).
//!
//! Writers (sync ingest, manual entries, a person's category, rule re-categorisation) open a
//! [`Posting`] in their own database transaction, change rows through it, and [`Posting::post`]
//! it before they commit: every row written moves its counters and aggregate buckets in the same
//! database transaction, so the dashboards read exact figures without counting rows.
//!
//! **Invariants** (guarded by `crates/core/tests/analytics.rs`, which compares the counters and
//! aggregates with a recomputation from the rows after each kind of write, and by
//! `crates/core/tests/tidy.rs`, which fails when code outside this module writes these tables):
//! - only this module inserts, updates or deletes `transactions`, `client_totals`,
//!   `client_month_totals` and `client_day_totals` rows (client deletion cascades);
//! - a category a person chose (`MANUAL`) is never replaced by rules or by a re-import, unless
//!   the bank changed the row's direction, which the manual category then no longer fits;
//! - counters and buckets are written in key order, so two writers of one client lock them in
//!   one order;
//! - the two legs of a transfer between the client's own accounts point at each other
//!   (`transfer_peer_id`) and are `OWN_TRANSFER` (source `TRANSFER_MATCH`), which counts as
//!   neither income nor expense in `client_totals` (the aggregates keep its buckets, which the
//!   readers leave out); a leg that changes or gets a person's category releases its peer,
//!   which is categorised again ([`transfers`]).

mod aggregates;
mod bulk;
mod totals;
mod transfers;

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

pub(crate) use aggregates::{bank_codes, rebuild};
use aggregates::{AggregateDelta, AggregateRow};
use totals::TotalsDelta;

use crate::categorize::Decision;
use crate::domain::{
    month_key, normalize_for_search, Category, CategorySource, Direction, TransactionStatus,
};
use crate::entity::transactions;
use crate::error::{CoreError, CoreResult};

pub use transfers::TransferWindow;

/// What categorises a stored row again when the ledger releases it from a pairing (the
/// categoriser with the user rules; passed in, so the ledger depends on no categoriser).
pub(crate) trait Categorise: Send + Sync {
    fn categorise(&self, row: &transactions::Model) -> Decision;
}

/// Writes a categoriser's decision (category, layer, confidence) onto a row.
fn set_decision(m: &mut transactions::ActiveModel, decision: &Decision) {
    m.category = Set(decision.category.as_str().to_owned());
    m.category_source = Set(decision.source.as_str().to_owned());
    m.category_confidence = Set(Some(i16::from(decision.confidence)));
}

/// A transaction to store, as a bank or a person gave it, with the category it was given.
#[derive(Clone, Debug)]
pub(crate) struct NewTransaction {
    pub client_id: i64,
    pub account_id: i64,
    /// The bank's id of the row, unique per account.
    pub external_id: String,
    pub booked_at: DateTime<Utc>,
    pub value_at: Option<DateTime<Utc>>,
    /// Positive minor units; `direction` gives the sign.
    pub amount_minor: i64,
    pub currency: String,
    pub direction: Direction,
    pub status: TransactionStatus,
    pub raw_status: Option<String>,
    pub description: String,
    pub merchant: Option<String>,
    pub mcc: Option<String>,
    pub bank_tx_code: Option<String>,
    pub counterparty: Option<String>,
    pub card_masked: Option<String>,
    /// The account the money went to or came from, as the bank gave it.
    pub counterparty_account: Option<String>,
    pub category: Category,
    pub category_source: CategorySource,
    /// How sure the categoriser was (0 to 100); `None` when it did not decide.
    pub category_confidence: Option<u8>,
}

impl NewTransaction {
    /// PostgreSQL keeps microseconds: stored times are cut to them, so a re-read compares equal.
    fn booked_at(&self) -> DateTime<Utc> {
        self.booked_at.trunc_subsecs(6)
    }

    fn value_at(&self) -> Option<DateTime<Utc>> {
        self.value_at.map(|v| v.trunc_subsecs(6))
    }

    fn search_text(&self) -> String {
        search_text(
            &self.description,
            self.merchant.as_deref(),
            self.counterparty.as_deref(),
        )
    }

    /// The booked money it moves into income or expense (none for a transfer between the
    /// client's own accounts).
    fn money(&self) -> Option<(Direction, i64)> {
        (self.status == TransactionStatus::Booked && self.category.is_flow())
            .then_some((self.direction, self.amount_minor))
    }

    fn to_active(&self, now: DateTime<Utc>) -> transactions::ActiveModel {
        transactions::ActiveModel {
            client_id: Set(self.client_id),
            account_id: Set(self.account_id),
            external_id: Set(self.external_id.clone()),
            booked_at: Set(self.booked_at()),
            booked_month: Set(month_key(&self.booked_at)),
            value_at: Set(self.value_at()),
            amount_minor: Set(self.amount_minor),
            currency: Set(self.currency.clone()),
            direction: Set(self.direction.as_str().to_owned()),
            status: Set(self.status.as_str().to_owned()),
            raw_status: Set(self.raw_status.clone()),
            description: Set(self.description.clone()),
            merchant: Set(self.merchant.clone()),
            mcc: Set(self.mcc.clone()),
            bank_tx_code: Set(self.bank_tx_code.clone()),
            counterparty: Set(self.counterparty.clone()),
            card_masked: Set(self.card_masked.clone()),
            counterparty_account: Set(self.counterparty_account.clone()),
            transfer_peer_id: Set(None),
            search_text: Set(self.search_text()),
            category: Set(self.category.as_str().to_owned()),
            category_source: Set(self.category_source.as_str().to_owned()),
            category_confidence: Set(self.category_confidence.map(i16::from)),
            replaced_by_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
    }
}

/// What a transaction is found by in search: description, merchant and counterparty, folded.
pub(crate) fn search_text(
    description: &str,
    merchant: Option<&str>,
    counterparty: Option<&str>,
) -> String {
    let parts = [Some(description), merchant, counterparty];
    normalize_for_search(&parts.into_iter().flatten().collect::<Vec<_>>().join(" "))
}

/// A stored row's booked money, whatever its category.
fn booked_money(m: &transactions::Model) -> CoreResult<Option<(Direction, i64)>> {
    if m.status != TransactionStatus::Booked.as_str() {
        return Ok(None);
    }
    Ok(Some((Direction::parse(&m.direction)?, m.amount_minor)))
}

/// A booked row the bank stopped listing: kept, counted nowhere.
fn is_reversed(m: &transactions::Model) -> bool {
    m.status == TransactionStatus::Reversed.as_str()
}

/// Whether a stored row's category is income or spending (not an own transfer).
fn is_flow(category: &str) -> bool {
    category != Category::OwnTransfer.as_str()
}

/// A stored row's booked money, as the counters see it (own transfers move none).
fn stored_money(m: &transactions::Model) -> CoreResult<Option<(Direction, i64)>> {
    if !is_flow(&m.category) {
        return Ok(None);
    }
    booked_money(m)
}

fn negate(money: Option<(Direction, i64)>) -> Option<(Direction, i64)> {
    money.map(|(d, minor)| (d, -minor))
}

/// The changes of one database transaction to stored transactions. Each method writes rows and
/// records what they change; [`Posting::post`] then writes the counters and aggregates, in the
/// same database transaction, before the caller commits.
#[must_use = "a posting's counters and aggregates are written only by `post`"]
#[derive(Debug, Default)]
pub(crate) struct Posting {
    totals: TotalsDelta,
    aggregates: AggregateDelta,
}

impl Posting {
    pub(crate) fn new() -> Self {
        Posting::default()
    }

    fn count_new(&mut self, row: &NewTransaction, bank_code: &str) {
        self.totals
            .add(row.client_id, &row.currency, 1, row.money());
        if row.status == TransactionStatus::Booked {
            self.aggregates.add(
                &AggregateRow {
                    client_id: row.client_id,
                    bank_code,
                    currency: &row.currency,
                    direction: row.direction.as_str(),
                    category: row.category.as_str(),
                    booked_at: row.booked_at(),
                    amount_minor: row.amount_minor,
                },
                1,
            );
        }
    }

    /// Takes a stored row out of the counters and aggregates (before it changes or goes). A
    /// reversed row is counted nowhere: nothing to take out.
    fn count_out(&mut self, m: &transactions::Model, bank_code: &str) -> CoreResult<()> {
        if is_reversed(m) {
            return Ok(());
        }
        self.totals
            .add(m.client_id, &m.currency, -1, negate(stored_money(m)?));
        self.aggregates.add_model(m, bank_code, -1);
        Ok(())
    }

    /// Counts a stored row in (after it was written as it is now); a reversed row counts nowhere.
    fn count_in(&mut self, m: &transactions::Model, bank_code: &str) -> CoreResult<()> {
        if is_reversed(m) {
            return Ok(());
        }
        self.totals
            .add(m.client_id, &m.currency, 1, stored_money(m)?);
        self.aggregates.add_model(m, bank_code, 1);
        Ok(())
    }

    /// Moves a stored row's money from its category to `to`: between aggregate buckets, and in
    /// or out of income and expense when it becomes or stops being an own transfer.
    fn change_category(
        &mut self,
        m: &transactions::Model,
        bank_code: &str,
        to: Category,
    ) -> CoreResult<()> {
        self.aggregates.move_category(m, bank_code, to);
        match (is_flow(&m.category), to.is_flow()) {
            (true, false) => self
                .totals
                .add(m.client_id, &m.currency, 0, negate(booked_money(m)?)),
            (false, true) => self
                .totals
                .add(m.client_id, &m.currency, 0, booked_money(m)?),
            _ => {}
        }
        Ok(())
    }

    /// Inserts one row (a manual entry) and returns it as stored.
    pub(crate) async fn insert_one<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        bank_code: &str,
        row: &NewTransaction,
    ) -> CoreResult<transactions::Model> {
        let model = row.to_active(Utc::now()).insert(conn).await?;
        self.count_new(row, bank_code);
        Ok(model)
    }

    /// Inserts rows a bank listed for the first time. The caller has read the account's stored
    /// ids under lock in this transaction, so none of these is stored yet.
    pub(crate) async fn insert_imported<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        bank_code: &str,
        rows: &[NewTransaction],
    ) -> CoreResult<()> {
        bulk::insert(conn, rows, Utc::now()).await?;
        for row in rows {
            self.count_new(row, bank_code);
        }
        Ok(())
    }

    /// Updates a stored row with what the bank says of it now. A category a person chose is
    /// kept unless the row's direction changed (the manual category no longer fits it). A leg of
    /// an own transfer stays paired while its money is the same; otherwise it is released, and
    /// its peer is categorised again.
    pub(crate) async fn update_imported<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        bank_code: &str,
        old: &transactions::Model,
        new: &NewTransaction,
        categorise: &dyn Categorise,
    ) -> CoreResult<transactions::Model> {
        self.count_out(old, bank_code)?;
        let manual = old.category_source == CategorySource::Manual.as_str();
        let same_money = old.amount_minor == new.amount_minor
            && old.currency == new.currency
            && old.direction == new.direction.as_str()
            && old.status == new.status.as_str();
        let keep_pair = old.transfer_peer_id.is_some() && same_money;
        let mut m: transactions::ActiveModel = old.clone().into();
        m.amount_minor = Set(new.amount_minor);
        m.currency = Set(new.currency.clone());
        m.direction = Set(new.direction.as_str().to_owned());
        m.status = Set(new.status.as_str().to_owned());
        m.raw_status = Set(new.raw_status.clone());
        m.booked_at = Set(new.booked_at());
        m.booked_month = Set(month_key(&new.booked_at));
        m.value_at = Set(new.value_at.map(|v| v.trunc_subsecs(6)));
        m.description = Set(new.description.clone());
        m.merchant = Set(new.merchant.clone());
        m.mcc = Set(new.mcc.clone());
        m.counterparty_account = Set(new.counterparty_account.clone());
        m.search_text = Set(new.search_text());
        if !keep_pair {
            m.transfer_peer_id = Set(None);
            if !manual || old.direction != new.direction.as_str() {
                m.category = Set(new.category.as_str().to_owned());
                m.category_source = Set(new.category_source.as_str().to_owned());
                m.category_confidence = Set(new.category_confidence.map(i16::from));
            }
        }
        m.updated_at = Set(Utc::now());
        let stored = m.update(conn).await?;
        self.count_in(&stored, bank_code)?;
        if let (Some(peer), false) = (old.transfer_peer_id, keep_pair) {
            self.release(conn, peer, categorise).await?;
        }
        Ok(stored)
    }

    /// A pending row whose booked row arrived under another id: kept, pointing at `by`, and no
    /// longer counted.
    pub(crate) async fn mark_replaced<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        bank_code: &str,
        row: transactions::Model,
        by: i64,
    ) -> CoreResult<()> {
        self.count_out(&row, bank_code)?;
        let mut m: transactions::ActiveModel = row.into();
        m.replaced_by_id = Set(Some(by));
        m.updated_at = Set(Utc::now());
        m.update(conn).await?;
        Ok(())
    }

    /// A booked row the bank no longer lists in a complete read of its dates: kept as
    /// `REVERSED`, out of the counters and aggregates. A leg of an own transfer is released
    /// (its peer is categorised again) and categorised itself as if unpaired, so the row reads
    /// right if the bank lists it again ([`Posting::update_imported`] books it again).
    pub(crate) async fn mark_reversed<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        bank_code: &str,
        row: transactions::Model,
        categorise: &dyn Categorise,
    ) -> CoreResult<()> {
        self.count_out(&row, bank_code)?;
        let peer = row.transfer_peer_id;
        let mut m: transactions::ActiveModel = row.clone().into();
        m.status = Set(TransactionStatus::Reversed.as_str().to_owned());
        if peer.is_some() {
            m.transfer_peer_id = Set(None);
            if row.category_source == CategorySource::TransferMatch.as_str() {
                set_decision(&mut m, &categorise.categorise(&row));
            }
        }
        m.updated_at = Set(Utc::now());
        m.update(conn).await?;
        if let Some(peer) = peer {
            self.release(conn, peer, categorise).await?;
        }
        Ok(())
    }

    /// A row the bank no longer lists and that nothing replaced (a cancelled pending payment).
    pub(crate) async fn remove<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        bank_code: &str,
        row: transactions::Model,
    ) -> CoreResult<()> {
        self.count_out(&row, bank_code)?;
        transactions::Entity::delete_by_id(row.id)
            .exec(conn)
            .await?;
        Ok(())
    }

    /// A person's category for one row, read `FOR UPDATE` by the caller in this transaction.
    /// A leg of an own transfer given another category is released from its pair, and its
    /// peer is categorised again; given `OWN_TRANSFER`, it stays paired.
    pub(crate) async fn set_manual_category<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        row: transactions::Model,
        category: Category,
        categorise: &dyn Categorise,
    ) -> CoreResult<transactions::Model> {
        let banks = bank_codes(conn, [row.account_id]).await?;
        let bank = bank_of(&banks, &row)?;
        self.change_category(&row, bank, category)?;
        let release = row
            .transfer_peer_id
            .filter(|_| category != Category::OwnTransfer);
        let mut active: transactions::ActiveModel = row.into();
        active.category = Set(category.as_str().to_owned());
        active.category_source = Set(CategorySource::Manual.as_str().to_owned());
        active.category_confidence = Set(None);
        if release.is_some() {
            active.transfer_peer_id = Set(None);
        }
        active.updated_at = Set(Utc::now());
        let stored = active.update(conn).await?;
        if let Some(peer) = release {
            self.release(conn, peer, categorise).await?;
        }
        Ok(stored)
    }

    /// Gives rows (read `FOR UPDATE` by the caller in this transaction) the categories a
    /// re-categorisation decided, with their confidence. Rows categorised by a person are left as
    /// they are, and so are rows whose category and layer stay the same. Returns how many rows
    /// changed and the clients whose money moved between categories.
    pub(crate) async fn recategorise<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        decisions: &[(&transactions::Model, Decision)],
    ) -> CoreResult<(u64, Vec<i64>)> {
        let manual = CategorySource::Manual.as_str();
        let matched = CategorySource::TransferMatch.as_str();
        let decisions: Vec<_> = decisions
            .iter()
            .filter(|(row, d)| {
                row.category_source != manual
                    && row.category_source != matched
                    && (row.category != d.category.as_str()
                        || row.category_source != d.source.as_str())
            })
            .collect();
        let banks = bank_codes(conn, decisions.iter().map(|(row, _)| row.account_id)).await?;
        let mut moves: HashMap<(Category, CategorySource, u8), Vec<i64>> = HashMap::new();
        let mut clients = Vec::new();
        for (row, d) in decisions {
            moves
                .entry((d.category, d.source, d.confidence))
                .or_default()
                .push(row.id);
            if row.category != d.category.as_str() {
                self.change_category(row, bank_of(&banks, row)?, d.category)?;
                clients.push(row.client_id);
            }
        }
        let now = Utc::now();
        let mut changed = 0;
        for ((category, source, confidence), ids) in &moves {
            let res = transactions::Entity::update_many()
                .col_expr(
                    transactions::Column::Category,
                    Expr::value(category.as_str()),
                )
                .col_expr(
                    transactions::Column::CategorySource,
                    Expr::value(source.as_str()),
                )
                .col_expr(
                    transactions::Column::CategoryConfidence,
                    Expr::value(i16::from(*confidence)),
                )
                .col_expr(transactions::Column::UpdatedAt, Expr::value(now))
                .filter(transactions::Column::Id.is_in(ids.iter().copied()))
                .filter(transactions::Column::CategorySource.ne(manual))
                .filter(transactions::Column::CategorySource.ne(matched))
                .exec(conn)
                .await?;
            changed += res.rows_affected;
        }
        clients.sort_unstable();
        clients.dedup();
        Ok((changed, clients))
    }

    /// Writes the counters and aggregates of everything posted, in the caller's transaction.
    pub(crate) async fn post<C: ConnectionTrait>(self, conn: &C) -> CoreResult<()> {
        self.aggregates.apply(conn).await?;
        self.totals.apply(conn).await
    }
}

fn bank_of<'a>(banks: &'a HashMap<i64, String>, row: &transactions::Model) -> CoreResult<&'a str> {
    banks
        .get(&row.account_id)
        .map(String::as_str)
        .ok_or_else(|| {
            CoreError::Internal(format!(
                "account {} of transaction {} is missing",
                row.account_id, row.id
            ))
        })
}
