//! Transactions: reading a client's history, recording manual entries, recategorising.
//! Every write keeps the per-client totals (`client_totals`) and the analytics aggregates
//! (`crate::aggregates`) in the same database transaction, so dashboards read counters instead
//! of counting rows; the client's rating is recomputed after the write.

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, LikeExpr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Set,
};

use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::banks::MANUAL_BANK_CODE;
use crate::categorize::{fits_direction, TransactionFacts};
use crate::domain::{
    clamp_to_stored_years, decimal_to_minor, like_pattern, normalize_for_search, AccountStatus,
    Category, CategorySource, Currency, Direction, Money, Role, TransactionStatus,
};
use crate::entity::{accounts, client_totals, clients, transactions};
use crate::error::{CoreError, CoreResult};
use crate::ledger::{NewTransaction, Posting};
use crate::{Core, Page};

/// 100 billion in minor units: larger manual amounts are typos.
const MAX_MANUAL_MINOR: i64 = 10_000_000_000_000;

#[derive(Clone, Debug)]
pub struct Transaction {
    pub id: i64,
    pub client_id: i64,
    pub account_id: i64,
    pub external_id: String,
    pub booked_at: DateTime<Utc>,
    /// Always positive; `direction` gives the sign.
    pub amount: Money,
    pub direction: Direction,
    pub status: TransactionStatus,
    pub description: String,
    pub merchant: Option<String>,
    pub mcc: Option<String>,
    pub counterparty: Option<String>,
    pub card_masked: Option<String>,
    pub category: Category,
    pub category_source: CategorySource,
    /// How sure the categoriser was, 0 to 100 (`None` when a person or the transfer pairing
    /// decided, or for rows stored before confidence was kept).
    pub category_confidence: Option<u8>,
    /// The other leg of a transfer between two accounts of this client.
    pub transfer_peer_id: Option<i64>,
}

impl TryFrom<transactions::Model> for Transaction {
    type Error = CoreError;
    fn try_from(m: transactions::Model) -> CoreResult<Self> {
        Ok(Transaction {
            id: m.id,
            client_id: m.client_id,
            account_id: m.account_id,
            booked_at: m.booked_at,
            amount: Money::new(m.amount_minor, Currency::from_db(m.currency)),
            direction: Direction::parse(&m.direction)?,
            status: TransactionStatus::parse(&m.status)?,
            category: Category::parse(&m.category)?,
            category_source: CategorySource::parse(&m.category_source)?,
            category_confidence: m
                .category_confidence
                .and_then(|c| u8::try_from(c).ok())
                .filter(|c| *c <= 100),
            external_id: m.external_id,
            description: m.description,
            merchant: m.merchant,
            mcc: m.mcc,
            counterparty: m.counterparty,
            card_masked: m.card_masked,
            transfer_peer_id: m.transfer_peer_id,
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TransactionFilter {
    /// Inclusive lower bound of `booked_at`.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound of `booked_at`.
    pub to: Option<DateTime<Utc>>,
    pub category: Option<Category>,
    pub direction: Option<Direction>,
    pub account_id: Option<i64>,
    /// Matches description, merchant or counterparty, case-insensitively.
    pub search: Option<String>,
    /// Only rows of this status; without it, every row but reversed ones (a booked row the
    /// bank stopped listing is shown only when asked for).
    pub status: Option<TransactionStatus>,
}

impl TransactionFilter {
    /// No condition at all: the client's counters answer its count.
    pub fn is_empty(&self) -> bool {
        self.from.is_none()
            && self.to.is_none()
            && self.category.is_none()
            && self.direction.is_none()
            && self.account_id.is_none()
            && self.search.as_deref().is_none_or(|s| s.trim().is_empty())
            && self.status.is_none()
    }
}

/// Position in a client's history, which is ordered newest first (then by id, descending).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionCursor {
    pub booked_at: DateTime<Utc>,
    pub id: i64,
}

/// Booked money of the transactions that match a filter, for one currency and direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionTotal {
    pub direction: Direction,
    pub amount: Money,
    pub count: u64,
}

/// A transaction a manager records by hand.
#[derive(Clone, Debug)]
pub struct NewManualTransaction {
    pub client_id: i64,
    /// When absent, the client's manual account in this currency is used (made when missing).
    pub account_id: Option<i64>,
    pub booked_at: DateTime<Utc>,
    /// Positive; the direction gives the sign.
    pub amount: Decimal,
    pub currency: String,
    pub direction: Direction,
    pub description: String,
    pub merchant: Option<String>,
    pub mcc: Option<String>,
}

/// How the id of a row a person entered begins (on a bank's account or the manual one): the
/// sync never takes such a row for one the bank stopped listing.
pub(crate) const MANUAL_ID_PREFIX: &str = "manual-";

fn apply_filter(
    mut q: Select<transactions::Entity>,
    client_ids: &[i64],
    f: &TransactionFilter,
) -> Select<transactions::Entity> {
    q = match client_ids {
        [one] => q.filter(transactions::Column::ClientId.eq(*one)),
        many => q.filter(transactions::Column::ClientId.is_in(many.iter().copied())),
    };
    // A pending row replaced by its booked row is kept (with a pointer) but never shown twice.
    q = q.filter(transactions::Column::ReplacedById.is_null());
    q = match f.status {
        Some(status) => q.filter(transactions::Column::Status.eq(status.as_str())),
        None => q.filter(transactions::Column::Status.ne(TransactionStatus::Reversed.as_str())),
    };
    // Bounds beyond the stored years are out of PostgreSQL's range: clamped, they mean the same.
    if let Some(from) = f.from {
        q = q.filter(transactions::Column::BookedAt.gte(clamp_to_stored_years(from)));
    }
    if let Some(to) = f.to {
        q = q.filter(transactions::Column::BookedAt.lt(clamp_to_stored_years(to)));
    }
    if let Some(category) = f.category {
        q = q.filter(transactions::Column::Category.eq(category.as_str()));
    }
    if let Some(direction) = f.direction {
        q = q.filter(transactions::Column::Direction.eq(direction.as_str()));
    }
    if let Some(account) = f.account_id {
        q = q.filter(transactions::Column::AccountId.eq(account));
    }
    if let Some(search) = f
        .search
        .as_deref()
        .map(normalize_for_search)
        .filter(|s| !s.is_empty())
    {
        q = q.filter(
            Expr::col(transactions::Column::SearchText)
                .like(LikeExpr::new(like_pattern(&search)).escape('\\')),
        );
    }
    q
}

/// The confidence below which the review list shows a row unless asked otherwise.
pub const REVIEW_CONFIDENCE_BAR: i32 = 60;

/// The rows of `actor`'s book to review below `max_confidence` (see
/// [`Core::transactions_to_review`]).
fn to_review(actor: &Actor, max_confidence: i32) -> CoreResult<Select<transactions::Entity>> {
    if !(0..=100).contains(&max_confidence) {
        return Err(CoreError::invalid(
            "maxConfidence must be between 0 and 100",
        ));
    }
    let mut q = transactions::Entity::find()
        .filter(transactions::Column::CategoryConfidence.is_not_null())
        .filter(transactions::Column::CategoryConfidence.lt(max_confidence))
        .filter(transactions::Column::CategorySource.ne(CategorySource::Manual.as_str()))
        .filter(transactions::Column::Status.ne(TransactionStatus::Reversed.as_str()))
        .filter(transactions::Column::ReplacedById.is_null());
    if let Some(visible) = crate::access::visible_condition(actor, Utc::now()) {
        q = q.filter(
            transactions::Column::ClientId.in_subquery(
                Query::select()
                    .column(clients::Column::Id)
                    .from(clients::Entity)
                    .cond_where(visible)
                    .to_owned(),
            ),
        );
    }
    Ok(q)
}

fn clean_optional(text: Option<String>, max: usize, field: &str) -> CoreResult<Option<String>> {
    match text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
        Some(t) if t.chars().count() > max => Err(CoreError::invalid(format!(
            "{field} must be at most {max} characters"
        ))),
        other => Ok(other),
    }
}

impl Core {
    /// One page of a client's transactions, newest first.
    pub async fn list_transactions(
        &self,
        client_id: i64,
        filter: &TransactionFilter,
        first: u64,
        after: Option<&TransactionCursor>,
    ) -> CoreResult<Page<Transaction>> {
        let q = apply_filter(transactions::Entity::find(), &[client_id], filter);
        self.newest_first_page(q, first, after).await
    }

    /// One page of `q`'s rows, newest first (then by id, descending), after `after`.
    async fn newest_first_page(
        &self,
        mut q: Select<transactions::Entity>,
        first: u64,
        after: Option<&TransactionCursor>,
    ) -> CoreResult<Page<Transaction>> {
        if let Some(c) = after {
            q = q.filter(
                Condition::any()
                    .add(transactions::Column::BookedAt.lt(c.booked_at))
                    .add(
                        Condition::all()
                            .add(transactions::Column::BookedAt.eq(c.booked_at))
                            .add(transactions::Column::Id.lt(c.id)),
                    ),
            );
        }
        let rows = q
            .order_by_desc(transactions::Column::BookedAt)
            .order_by_desc(transactions::Column::Id)
            .limit(first + 1)
            .all(self.db.conn())
            .await?;
        Page::from_overfetch(rows, first, Transaction::try_from)
    }

    /// One page of the transactions of `actor`'s book whose category the categoriser was less
    /// sure of than `max_confidence` (0 to 100), newest first: the rows a person should
    /// confirm or correct. A person's choice (`MANUAL`, no confidence), a paired own transfer,
    /// a reversed row and a pending row replaced by its booked one never need it.
    pub async fn transactions_to_review(
        &self,
        actor: &Actor,
        max_confidence: i32,
        first: u64,
        after: Option<&TransactionCursor>,
    ) -> CoreResult<Page<Transaction>> {
        let q = to_review(actor, max_confidence)?;
        self.newest_first_page(q, first, after).await
    }

    /// How many rows [`Core::transactions_to_review`] lists in all.
    pub async fn count_transactions_to_review(
        &self,
        actor: &Actor,
        max_confidence: i32,
    ) -> CoreResult<u64> {
        let n: Option<i64> = to_review(actor, max_confidence)?
            .select_only()
            .column_as(Expr::col(transactions::Column::Id).count(), "n")
            .into_tuple()
            .one(self.db.conn())
            .await?;
        Ok(n.unwrap_or(0).max(0) as u64)
    }

    /// How many transactions match; without a filter it reads the client's counters.
    pub async fn count_transactions(
        &self,
        client_id: i64,
        filter: &TransactionFilter,
    ) -> CoreResult<u64> {
        let counts = self.count_transactions_of(&[client_id], filter).await?;
        Ok(counts.get(&client_id).copied().unwrap_or(0))
    }

    /// How many transactions of each client match, in one statement for any number of
    /// clients (a page of clients with their counts costs one more statement, not one per
    /// client). Without a filter it reads the clients' counters; clients without transactions
    /// are absent.
    pub async fn count_transactions_of(
        &self,
        client_ids: &[i64],
        filter: &TransactionFilter,
    ) -> CoreResult<HashMap<i64, u64>> {
        let mut counts = HashMap::with_capacity(client_ids.len());
        if client_ids.is_empty() {
            return Ok(counts);
        }
        if filter.is_empty() {
            let rows: Vec<(i64, i64)> = client_totals::Entity::find()
                .filter(client_totals::Column::ClientId.is_in(client_ids.iter().copied()))
                .select_only()
                .column(client_totals::Column::ClientId)
                .column(client_totals::Column::TxCount)
                .into_tuple()
                .all(self.db.conn())
                .await?;
            for (client, n) in rows {
                *counts.entry(client).or_insert(0) += n.max(0) as u64;
            }
            return Ok(counts);
        }
        let rows: Vec<(i64, i64)> = apply_filter(transactions::Entity::find(), client_ids, filter)
            .select_only()
            .column(transactions::Column::ClientId)
            .column_as(Expr::col(transactions::Column::Id).count(), "n")
            .group_by(transactions::Column::ClientId)
            .into_tuple()
            .all(self.db.conn())
            .await?;
        for (client, n) in rows {
            counts.insert(client, n.max(0) as u64);
        }
        Ok(counts)
    }

    /// Booked sums of the matching transactions, per currency and direction (pending rows may
    /// still change, so they are not summed). Ordered by currency, then credits before debits.
    pub async fn transaction_totals(
        &self,
        client_id: i64,
        filter: &TransactionFilter,
    ) -> CoreResult<Vec<TransactionTotal>> {
        let rows: Vec<(String, String, i64, i64)> =
            apply_filter(transactions::Entity::find(), &[client_id], filter)
                .filter(transactions::Column::Status.eq(TransactionStatus::Booked.as_str()))
                .select_only()
                .column(transactions::Column::Currency)
                .column(transactions::Column::Direction)
                .column_as(
                    Expr::expr(sea_orm::sea_query::Func::sum(Expr::col(
                        transactions::Column::AmountMinor,
                    )))
                    .cast_as(sea_orm::sea_query::Alias::new("BIGINT")),
                    "amount",
                )
                .column_as(Expr::col(transactions::Column::Id).count(), "n")
                .group_by(transactions::Column::Currency)
                .group_by(transactions::Column::Direction)
                .order_by_asc(transactions::Column::Currency)
                .order_by_asc(transactions::Column::Direction)
                .into_tuple()
                .all(self.db.conn())
                .await?;
        rows.into_iter()
            .map(|(currency, direction, minor, n)| {
                Ok(TransactionTotal {
                    direction: Direction::parse(&direction)?,
                    amount: Money::new(minor, Currency::from_db(currency)),
                    count: n.max(0) as u64,
                })
            })
            .collect()
    }

    /// Several transactions at once (for data loaders), keyed by id; missing ids are absent.
    pub async fn transactions_by_ids(
        &self,
        ids: &[i64],
    ) -> CoreResult<std::collections::HashMap<i64, Transaction>> {
        transactions::Entity::find()
            .filter(transactions::Column::Id.is_in(ids.iter().copied()))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|m| Transaction::try_from(m).map(|t| (t.id, t)))
            .collect()
    }

    pub async fn transaction(&self, id: i64) -> CoreResult<Transaction> {
        transactions::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .ok_or_else(|| CoreError::not_found("transaction", id))?
            .try_into()
    }

    /// Records a manual entry. It is categorised like an imported one.
    pub async fn create_manual_transaction(
        &self,
        actor: &Actor,
        input: NewManualTransaction,
    ) -> CoreResult<Transaction> {
        self.client_for(actor, input.client_id, crate::access::Need::Change)
            .await?;
        let currency = Currency::parse(&input.currency)?;
        if input.amount <= Decimal::ZERO {
            return Err(CoreError::invalid(
                "amount must be positive; use direction DEBIT for money going out",
            ));
        }
        let minor = decimal_to_minor(input.amount)?;
        if minor > MAX_MANUAL_MINOR {
            return Err(CoreError::invalid(
                "amount is larger than 100 billion: check the figure",
            ));
        }
        let now = Utc::now();
        let earliest = Utc
            .with_ymd_and_hms(1990, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or(now);
        if input.booked_at > now + Duration::days(1) || input.booked_at < earliest {
            return Err(CoreError::invalid(
                "bookedAt must be between 1990 and tomorrow",
            ));
        }
        let description = input.description.trim().to_owned();
        if description.is_empty() || description.chars().count() > 500 {
            return Err(CoreError::invalid(
                "description must be 1 to 500 characters",
            ));
        }
        let merchant = clean_optional(input.merchant, 200, "merchant")?;
        let mcc = clean_optional(input.mcc, 4, "mcc")?;
        if let Some(code) = &mcc {
            if code.len() != 4 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(CoreError::invalid("mcc must be four digits (ISO 18245)"));
            }
        }

        let txn = self.db.begin_write().await?;
        if clients::Entity::find_by_id(input.client_id)
            .one(&txn)
            .await?
            .is_none()
        {
            return Err(CoreError::not_found("client", input.client_id));
        }
        let account = match input.account_id {
            Some(id) => {
                let account = accounts::Entity::find_by_id(id)
                    .one(&txn)
                    .await?
                    .filter(|a| a.client_id == input.client_id)
                    .ok_or_else(|| CoreError::not_found("account", id))?;
                if account.currency != currency.as_str() {
                    return Err(CoreError::invalid(format!(
                        "account {id} is in {}, the transaction is in {currency}",
                        account.currency
                    )));
                }
                account
            }
            None => {
                self.manual_account(&txn, input.client_id, &currency)
                    .await?
            }
        };

        let rules = self.classifier.current_rules().await?;
        let decision = self.classifier.categorize_with(
            &rules,
            &TransactionFacts {
                direction: input.direction,
                description: &description,
                merchant: merchant.as_deref(),
                mcc: mcc.as_deref(),
                counterparty: None,
            },
        );
        let row = NewTransaction {
            client_id: input.client_id,
            account_id: account.id,
            external_id: format!("{MANUAL_ID_PREFIX}{}", uuid::Uuid::new_v4().simple()),
            booked_at: input.booked_at,
            value_at: None,
            amount_minor: minor,
            currency: currency.as_str().to_owned(),
            direction: input.direction,
            status: TransactionStatus::Booked,
            raw_status: None,
            description,
            merchant,
            mcc,
            bank_tx_code: None,
            counterparty: None,
            card_masked: None,
            counterparty_account: None,
            category: decision.category,
            category_source: decision.source,
            category_confidence: Some(decision.confidence),
        };
        let mut posting = Posting::new();
        let model = posting.insert_one(&*txn, &account.bank_code, &row).await?;
        posting.post(&*txn).await?;
        if account.bank_code == MANUAL_BANK_CODE {
            let signed = if input.direction == Direction::Credit {
                minor
            } else {
                -minor
            };
            accounts::Entity::update_many()
                .col_expr(
                    accounts::Column::BalanceMinor,
                    Expr::expr(Expr::col(accounts::Column::BalanceMinor).if_null(0)).add(signed),
                )
                .col_expr(accounts::Column::BalanceAt, Expr::value(now))
                .col_expr(accounts::Column::UpdatedAt, Expr::value(now))
                .filter(accounts::Column::Id.eq(account.id))
                .exec(&txn)
                .await?;
        }
        crate::audit::record_in(
            &txn,
            AuditEvent::new("transaction.create")
                .actor(actor)
                .entity("transaction", model.id)
                .detail("client", input.client_id),
        )
        .await?;
        txn.commit().await?;
        self.refresh_rating_after_write(input.client_id).await;
        model.try_into()
    }

    /// The client's manual account in a currency, created on first use.
    async fn manual_account<C: ConnectionTrait>(
        &self,
        conn: &C,
        client_id: i64,
        currency: &Currency,
    ) -> CoreResult<accounts::Model> {
        let external_id = format!("manual:{client_id}:{currency}");
        let existing = accounts::Entity::find()
            .filter(accounts::Column::BankCode.eq(MANUAL_BANK_CODE))
            .filter(accounts::Column::ExternalId.eq(external_id.as_str()))
            .one(conn)
            .await?;
        if let Some(account) = existing {
            return Ok(account);
        }
        let now = Utc::now();
        Ok(accounts::ActiveModel {
            client_id: Set(client_id),
            link_id: Set(None),
            bank_code: Set(MANUAL_BANK_CODE.to_owned()),
            external_id: Set(external_id),
            name: Set(format!("Ручной счёт {currency}")),
            account_type: Set("Manual".to_owned()),
            account_subtype: Set(None),
            currency: Set(currency.as_str().to_owned()),
            status: Set(AccountStatus::Open.as_str().to_owned()),
            kind: Set(Some(
                crate::domain::AccountKind::Current.as_str().to_owned(),
            )),
            closed_at: Set(None),
            number: Set(None),
            number_masked: Set(None),
            balance_minor: Set(Some(0)),
            balance_type: Set(Some("Computed".to_owned())),
            balance_at: Set(Some(now)),
            opened_on: Set(Some(now.date_naive())),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await?)
    }

    /// A person's choice of category; later categorisation never overrides it.
    pub async fn set_transaction_category(
        &self,
        actor: &Actor,
        id: i64,
        category: Category,
    ) -> CoreResult<Transaction> {
        actor.require(Role::Manager)?;
        // The transaction's client must be in the actor's book; outside it, the transaction
        // does not exist for them.
        let owner: Option<i64> = transactions::Entity::find_by_id(id)
            .select_only()
            .column(transactions::Column::ClientId)
            .into_tuple()
            .one(self.db.conn())
            .await?;
        let Some(client_id) = owner else {
            return Err(CoreError::not_found("transaction", id));
        };
        match self
            .client_for(actor, client_id, crate::access::Need::Change)
            .await
        {
            Err(CoreError::NotFound { .. }) => return Err(CoreError::not_found("transaction", id)),
            other => other?,
        };
        let txn = self.db.begin_write().await?;
        // Locked until commit (PostgreSQL), so the aggregates move exactly once.
        let current = transactions::Entity::find_by_id(id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or_else(|| CoreError::not_found("transaction", id))?;
        let direction = Direction::parse(&current.direction)?;
        if !fits_direction(category, direction) {
            return Err(CoreError::invalid(format!(
                "{category} is a category for {} transactions; this one is a {direction}",
                category.direction()
            )));
        }
        let previous = current.category.clone();
        let client_id = current.client_id;
        let mut posting = Posting::new();
        let model = posting
            .set_manual_category(&*txn, current, category, &*self.classifier)
            .await?;
        posting.post(&*txn).await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("transaction.categorize")
                .actor(actor)
                .entity("transaction", id)
                .detail("from", previous)
                .detail("to", category.as_str()),
        )
        .await?;
        txn.commit().await?;
        self.refresh_rating_after_write(client_id).await;
        model.try_into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_filter_detection() {
        assert!(TransactionFilter::default().is_empty());
        assert!(TransactionFilter {
            search: Some("  ".into()),
            ..Default::default()
        }
        .is_empty());
        assert!(!TransactionFilter {
            direction: Some(Direction::Debit),
            ..Default::default()
        }
        .is_empty());
    }
}
