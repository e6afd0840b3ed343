//! Storing what a bank returned: accounts, balances and transactions, upserted by bank id, with
//! per-client counters and the analytics aggregates adjusted in the same database transaction as
//! the rows.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, SubsecRound, Utc};

// PostgreSQL keeps microseconds: every stored time is cut to them, so a re-read compares equal.
use crm_connector::{
    Access, AccountData, BankConnector, BookingStatus, ConnectorError, TransactionBatch,
    TransactionData,
};
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, Set,
};

use super::LinkOutcome;
use super::SyncEngine;
use crate::categorize::TransactionFacts;
use crate::domain::{
    decimal_to_minor, mask_number, normalize_for_search, AccountKind, AccountStatus, Direction,
    TimelineKind, TransactionStatus,
};
use crate::entity::{accounts, balances, bank_links, transactions};
use crate::error::{CoreError, CoreResult};
use crate::ledger::{NewTransaction, Posting};
use crate::links::BankLink;
use crate::timeline::{EventData, NewEvent};

fn direction(d: crm_connector::Direction) -> Direction {
    match d {
        crm_connector::Direction::Credit => Direction::Credit,
        crm_connector::Direction::Debit => Direction::Debit,
    }
}

fn status(s: BookingStatus) -> TransactionStatus {
    match s {
        BookingStatus::Booked => TransactionStatus::Booked,
        BookingStatus::Pending => TransactionStatus::Pending,
    }
}

/// The newest booked row of a read: where the account's cursor may move after a complete read.
fn newest_booked(batch: &TransactionBatch) -> Option<DateTime<Utc>> {
    batch
        .transactions
        .iter()
        .filter(|t| t.status == BookingStatus::Booked)
        .map(|t| t.booked_at.trunc_subsecs(6))
        .max()
}

/// Fewer booked rows than this vanishing from a read are reversed whatever their share of the
/// range (one row of a quiet week is a fifth of it); from this many on, more than a fifth of the
/// range vanishing at once is taken for a faulty read.
const VANISHED_MIN: usize = 3;

/// Moves an account's cursor back where it was, in the transaction that stored its rows.
async fn hold_cursor(
    txn: &DatabaseTransaction,
    account_id: i64,
    cursor: Option<DateTime<Utc>>,
) -> CoreResult<()> {
    accounts::Entity::update_many()
        .col_expr(accounts::Column::LastBookedAt, Expr::value(cursor))
        .filter(accounts::Column::Id.eq(account_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Whether a read holds every row the bank reported in its range, none refused.
fn read_whole(batch: &TransactionBatch) -> bool {
    batch.shortfall == 0 && batch.rejected.is_empty()
}

impl LinkOutcome {
    /// Counts a read's missing and refused rows and, when there are any, where the next sync
    /// reads again (the start of the range read: the cursor stays before every gap). True when
    /// the read holds every row the bank reported in the range, none refused.
    fn note_read(&mut self, batch: &TransactionBatch, from: DateTime<Utc>) -> bool {
        if read_whole(batch) {
            return true;
        }
        self.shortfall += batch.shortfall + batch.rejected.len() as u64;
        self.reread_from = Some(self.reread_from.map_or(from, |r| r.min(from)));
        false
    }
}

fn minor(amount: Decimal) -> CoreResult<i64> {
    decimal_to_minor(amount.round_dp(2))
}

impl SyncEngine {
    /// Reads the link's accounts and their transactions from the bank and stores them. Each
    /// account is read from its own cursor (its newest booked row, less the overlap window for
    /// late postings; the whole history window for an account seen for the first time), and its
    /// rows, balance and new cursor are committed in one database transaction, so an interrupted
    /// sync resumes where it stopped and a repeated one changes nothing.
    pub(crate) async fn ingest_link(
        &self,
        connector: &dyn BankConnector,
        link: &BankLink,
        now: DateTime<Utc>,
    ) -> CoreResult<LinkOutcome> {
        let stored = bank_links::Entity::find_by_id(link.id)
            .one(self.db.conn())
            .await?
            .ok_or_else(|| CoreError::not_found("bank link", link.id))?;
        // Data calls only under an authorised consent (the caller checked; this holds it).
        if stored.consent_status != crate::domain::ConsentStatus::Authorized.as_str() {
            return Err(CoreError::ConsentRequired(format!(
                "{}: no authorised consent: nothing is read",
                link.bank_code
            )));
        }
        let consent_id = stored.consent_id.clone();
        let access = Access {
            client_id: &link.external_client_id,
            consent_id: consent_id.as_deref(),
        };
        let mut outcome = LinkOutcome::default();
        let accounts = match connector.accounts(&access).await {
            Ok(a) => a,
            Err(e) => return Err(self.data_call_failed(link, e).await),
        };
        // Deposits, loans and cards first: an agreement says what its account is (a loan's account
        // is a debt whatever its sub-type says).
        let holdings = match super::holdings::read(connector, &access).await {
            Ok(h) => h,
            Err(e) => return Err(self.data_call_failed(link, e).await),
        };
        let kinds = holdings.account_kinds(&accounts);
        let cursors: HashMap<String, Option<DateTime<Utc>>> = accounts::Entity::find()
            .filter(accounts::Column::BankCode.eq(link.bank_code.as_str()))
            .filter(accounts::Column::ExternalId.is_in(accounts.iter().map(|a| a.id.clone())))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|a| (a.external_id, a.last_booked_at))
            .collect();
        let settings = &self.settings;
        let mut latest_booked: Option<DateTime<Utc>> = link.last_booked_at;
        for account in &accounts {
            let cursor = cursors.get(&account.id).copied().flatten();
            let from = match cursor {
                Some(last) => last - Duration::days(settings.overlap_days),
                None => now - Duration::days(settings.history_days),
            };
            let balances = match connector.balances(&access, &account.id).await {
                Ok(b) => b,
                Err(e) => return Err(self.data_call_failed(link, e).await),
            };
            let batch = match connector
                .transactions(&access, &account.id, from, now)
                .await
            {
                Ok(b) => b,
                Err(e) => return Err(self.data_call_failed(link, e).await),
            };
            outcome.accounts += 1;
            let complete = outcome.note_read(&batch, from);
            // A read short of the bank's total or with refused rows leaves the cursor where it
            // was: the rows it missed may be anywhere in the range (a refused row's date cannot
            // be trusted), so the next sync reads the same range again (the connector varies its
            // paging) until it is whole.
            let account_cursor = if complete {
                cursor.max(newest_booked(&batch))
            } else {
                cursor
            };
            // One transaction per account (rows, balance, cursor, counters, aggregates). PostgreSQL
            // may abort it when another sync of the same client holds the client's counters; it is
            // then run again with the same rows, and counted once, when it commits.
            let kind = kinds
                .get(&account.id)
                .copied()
                .unwrap_or_else(|| crate::accounts::kind_from_bank(&account.kind));
            let stored_cursor;
            (outcome, stored_cursor) = crate::db::retry_on_conflict("account write", || {
                let mut counted = outcome.clone();
                let (balance, rows) = (balances.first(), &batch.transactions);
                async move {
                    let txn = self.db.begin_write().await?;
                    let (account_id, fresh) = self
                        .store_account(&txn, link, (account, kind), balance, account_cursor)
                        .await?;
                    let kept = self
                        .store_transactions(
                            &txn,
                            (link.client_id, &link.bank_code),
                            (account_id, fresh),
                            rows,
                            (from, now, complete),
                            &mut counted,
                        )
                        .await?;
                    // Stored rows kept although unlisted: the next sync reads their range again.
                    let stored_cursor = if kept && account_cursor != cursor {
                        hold_cursor(&txn, account_id, cursor).await?;
                        cursor
                    } else {
                        account_cursor
                    };
                    txn.commit().await?;
                    Ok((counted, stored_cursor))
                }
            })
            .await?;
            latest_booked = latest_booked.max(stored_cursor);
        }
        // Every listed account is stored: the list was complete, so what it left out is closed.
        self.close_unlisted(connector, &access, link, &accounts, &mut outcome)
            .await?;
        self.store_holdings(link, &holdings).await?;
        if let Some(holder) = accounts.iter().find_map(|a| a.holder_name.clone()) {
            self.name_client_after_holder(link, &holder).await?;
        }
        let now = Utc::now();
        let message = if let Some(incomplete) = outcome.incomplete_message() {
            Some(incomplete)
        } else if stored.renewal_request_id.is_some() {
            let expires = stored
                .consent_expires_at
                .map(|at| at.format("%Y-%m-%d").to_string())
                .unwrap_or_default();
            Some(super::consent::renewal_pending(
                &self.banks.describe(&link.bank_code).name,
                &expires,
            ))
        } else {
            None
        };
        let message = message
            .into_iter()
            .chain(holdings.notes.iter().cloned())
            .reduce(|a, b| format!("{a}; {b}"));
        bank_links::ActiveModel {
            id: Set(link.id),
            last_synced_at: Set(Some(now)),
            last_booked_at: Set(latest_booked),
            status_message: Set(message),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(self.db.conn())
        .await?;
        Ok(outcome)
    }

    /// A data call of the link failed. A consent the bank no longer honours (on any call:
    /// accounts, balances, transactions, agreements, cards) is said on the link, its state and
    /// message, before the error fails the link.
    async fn data_call_failed(&self, link: &BankLink, e: ConnectorError) -> CoreError {
        if matches!(e, ConnectorError::ConsentRequired { .. }) {
            if let Err(db) = self.consent_lost(link.id, &link.bank_code).await {
                return db;
            }
        }
        e.into()
    }

    /// Closes the link's stored accounts that a complete, successful list left out (the bank
    /// stops listing a closed account, §9), after reading each once more by id for its closing
    /// rows (tolerated when the bank refuses). An empty list closes nothing: a bank that lists
    /// no account for a client it holds accounts of is taken as a faulty read.
    async fn close_unlisted(
        &self,
        connector: &dyn BankConnector,
        access: &Access<'_>,
        link: &BankLink,
        listed: &[AccountData],
        outcome: &mut LinkOutcome,
    ) -> CoreResult<()> {
        if listed.is_empty() {
            return Ok(());
        }
        let gone = accounts::Entity::find()
            .filter(accounts::Column::ClientId.eq(link.client_id))
            .filter(accounts::Column::BankCode.eq(link.bank_code.as_str()))
            // `ENABLED`: a row written by the previous version.
            .filter(accounts::Column::Status.is_in([AccountStatus::Open.as_str(), "ENABLED"]))
            .filter(accounts::Column::ExternalId.is_not_in(listed.iter().map(|a| a.id.clone())))
            .all(self.db.conn())
            .await?;
        for account in gone {
            let now = Utc::now();
            let from = match account.last_booked_at {
                Some(last) => last - Duration::days(self.settings.overlap_days),
                None => now - Duration::days(self.settings.history_days),
            };
            let last_read = match connector.balances(access, &account.external_id).await {
                Ok(balances) => match connector
                    .transactions(access, &account.external_id, from, now)
                    .await
                {
                    Ok(batch) => Some((balances, batch)),
                    Err(e) => {
                        tracing::info!(bank = %link.bank_code, account = account.id, "a closed account's last rows could not be read: {e}");
                        None
                    }
                },
                Err(e) => {
                    tracing::info!(bank = %link.bank_code, account = account.id, "a closed account's last balance could not be read: {e}");
                    None
                }
            };
            tracing::info!(bank = %link.bank_code, account = account.id, "account no longer listed: closed");
            *outcome = crate::db::retry_on_conflict("closing an account", || {
                let mut counted = outcome.clone();
                let (account, last_read) = (&account, &last_read);
                async move {
                    let txn = self.db.begin_write().await?;
                    let mut model: accounts::ActiveModel = account.clone().into();
                    model.status = Set(AccountStatus::Closed.as_str().to_owned());
                    model.closed_at = Set(Some(now));
                    model.updated_at = Set(now);
                    if let Some((balances, batch)) = last_read {
                        if let Some(b) = balances.first() {
                            let m = minor(b.amount)?;
                            model.balance_minor = Set(Some(m));
                            model.balance_type = Set(Some(format!("{:?}", b.kind)));
                            model.balance_at = Set(Some(b.at.unwrap_or(now)));
                            balances::ActiveModel {
                                account_id: Set(account.id),
                                balance_type: Set(format!("{:?}", b.kind)),
                                amount_minor: Set(m),
                                currency: Set(b.currency.clone()),
                                as_of: Set(b.at.unwrap_or(now)),
                                fetched_at: Set(now),
                                ..Default::default()
                            }
                            .insert(&*txn)
                            .await?;
                        }
                        // A short read or refused rows keep the cursor, as for a listed
                        // account (a closed account is not read again: nothing to count).
                        let complete = read_whole(batch);
                        if complete {
                            model.last_booked_at =
                                Set(account.last_booked_at.max(newest_booked(batch)));
                        }
                        let kept = self
                            .store_transactions(
                                &txn,
                                (link.client_id, &link.bank_code),
                                (account.id, false),
                                &batch.transactions,
                                (from, now, complete),
                                &mut counted,
                            )
                            .await?;
                        if kept {
                            model.last_booked_at = Set(account.last_booked_at);
                        }
                    }
                    model.update(&*txn).await?;
                    txn.commit().await?;
                    Ok(counted)
                }
            })
            .await?;
        }
        Ok(())
    }

    /// A client created from a bank id (named after it) takes the account holder's name.
    async fn name_client_after_holder(&self, link: &BankLink, holder: &str) -> CoreResult<()> {
        let holder = holder.split_whitespace().collect::<Vec<_>>().join(" ");
        if holder.is_empty() || holder.chars().count() > 200 {
            return Ok(());
        }
        crate::entity::clients::Entity::update_many()
            .col_expr(
                crate::entity::clients::Column::DisplayName,
                Expr::value(holder.clone()),
            )
            .col_expr(
                crate::entity::clients::Column::SortName,
                Expr::value(normalize_for_search(&holder)),
            )
            .col_expr(
                crate::entity::clients::Column::SearchText,
                Expr::value(normalize_for_search(&holder)),
            )
            .col_expr(
                crate::entity::clients::Column::UpdatedAt,
                Expr::value(Utc::now()),
            )
            .filter(crate::entity::clients::Column::Id.eq(link.client_id))
            .filter(
                crate::entity::clients::Column::DisplayName.eq(link.external_client_id.as_str()),
            )
            .exec(self.db.conn())
            .await?;
        Ok(())
    }

    /// Stores a listed account with its balance and cursor. Returns its id and whether this
    /// transaction created it (an account new here holds no transactions yet).
    async fn store_account(
        &self,
        txn: &DatabaseTransaction,
        link: &BankLink,
        (a, kind): (&AccountData, AccountKind),
        balance: Option<&crm_connector::BalanceData>,
        cursor: Option<DateTime<Utc>>,
    ) -> CoreResult<(i64, bool)> {
        let now = Utc::now();
        let existing = accounts::Entity::find()
            .filter(accounts::Column::BankCode.eq(link.bank_code.as_str()))
            .filter(accounts::Column::ExternalId.eq(a.id.as_str()))
            .one(txn)
            .await?;
        if let Some(other) = existing.as_ref().filter(|e| e.client_id != link.client_id) {
            return Err(CoreError::bank(
                crate::error::BankFailure::ForeignData,
                format!(
                    "{}: account {} is already stored for client {}; refusing another client's data",
                    link.bank_code, a.id, other.client_id
                ),
            ));
        }
        let balance_minor = balance.map(|b| minor(b.amount)).transpose()?;
        // Listed again: open again. Said to be disabled: closed since it was first seen so.
        let (status, closed_at) = match a.status {
            crm_connector::AccountStatus::Enabled => (AccountStatus::Open, None),
            crm_connector::AccountStatus::Disabled => (
                AccountStatus::Closed,
                Some(existing.as_ref().and_then(|e| e.closed_at).unwrap_or(now)),
            ),
        };
        let fresh = existing.is_none();
        let mut model = match existing {
            Some(e) => e.into(),
            None => accounts::ActiveModel {
                created_at: Set(now),
                ..Default::default()
            },
        };
        model.client_id = Set(link.client_id);
        model.link_id = Set(Some(link.id));
        model.bank_code = Set(link.bank_code.clone());
        model.external_id = Set(a.id.clone());
        model.name = Set(a
            .nickname
            .clone()
            .unwrap_or_else(|| format!("{} {}", a.account_type, a.currency)));
        model.account_type = Set(a.account_type.clone());
        model.account_subtype = Set(a.account_subtype.clone());
        model.currency = Set(a.currency.clone());
        model.status = Set(status.as_str().to_owned());
        model.closed_at = Set(closed_at);
        model.kind = Set(Some(kind.as_str().to_owned()));
        model.number = Set(a.number.clone());
        model.number_masked = Set(a.number.as_deref().map(mask_number));
        if let (Some(b), Some(m)) = (balance, balance_minor) {
            model.balance_minor = Set(Some(m));
            model.balance_type = Set(Some(format!("{:?}", b.kind)));
            model.balance_at = Set(Some(b.at.unwrap_or(now)));
        }
        model.opened_on = Set(a.opened_on);
        model.last_booked_at = Set(cursor);
        model.updated_at = Set(now);
        let saved = model.save(txn).await?;
        let id = match saved.id {
            sea_orm::ActiveValue::Set(id) | sea_orm::ActiveValue::Unchanged(id) => id,
            sea_orm::ActiveValue::NotSet => {
                return Err(CoreError::Internal("account saved without id".into()))
            }
        };
        if let (Some(b), Some(m)) = (balance, balance_minor) {
            balances::ActiveModel {
                account_id: Set(id),
                balance_type: Set(format!("{:?}", b.kind)),
                amount_minor: Set(m),
                currency: Set(b.currency.clone()),
                as_of: Set(b.at.unwrap_or(now)),
                fetched_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
        Ok((id, fresh))
    }

    async fn store_transactions(
        &self,
        txn: &DatabaseTransaction,
        (client_id, bank_code): (i64, &str),
        // The account, and whether this transaction created it (then it holds no rows yet).
        (account_id, fresh): (i64, bool),
        rows: &[TransactionData],
        // The range read, and whether the read held every row the bank reported in it.
        (from, to, complete): (DateTime<Utc>, DateTime<Utc>, bool),
        outcome: &mut LinkOutcome,
    ) -> CoreResult<bool> {
        // A bank may list a row twice (unstable paging): the first listing is stored, once.
        let mut seen: HashSet<&str> = HashSet::with_capacity(rows.len());
        let rows: Vec<&TransactionData> =
            rows.iter().filter(|t| seen.insert(t.id.as_str())).collect();
        // What the bank said of the rows already stored, read without a lock: most are
        // unchanged, and those cost nothing more.
        let stored = if fresh {
            HashMap::new()
        } else {
            stored_facts(txn, account_id, &rows).await?
        };
        let mut changed = Vec::new();
        let mut new_rows = Vec::new();
        for t in rows.iter().copied() {
            match stored.get(t.id.as_str()) {
                Some(old) if old.same(t, minor(t.amount)?) => outcome.unchanged += 1,
                Some(_) => changed.push(t),
                None => new_rows.push(t),
            }
        }
        let rules = self.classifier.current_rules().await?;
        let categorised = |t: &TransactionData| -> CoreResult<NewTransaction> {
            let merchant = t.merchant.as_ref().and_then(|m| m.name.clone());
            let mcc = t.merchant.as_ref().and_then(|m| m.mcc.clone());
            let dir = direction(t.direction);
            let decision = self.classifier.categorize_with(
                &rules,
                &TransactionFacts {
                    direction: dir,
                    description: &t.description,
                    merchant: merchant.as_deref(),
                    mcc: mcc.as_deref(),
                    counterparty: t.counterparty.as_deref(),
                },
            );
            Ok(NewTransaction {
                client_id,
                account_id,
                external_id: t.id.clone(),
                booked_at: t.booked_at,
                value_at: t.value_at,
                amount_minor: minor(t.amount)?,
                currency: t.currency.clone(),
                direction: dir,
                status: status(t.status),
                raw_status: t.raw_status.clone(),
                description: t.description.clone(),
                merchant,
                mcc,
                bank_tx_code: t.bank_transaction_code.clone(),
                counterparty: t.counterparty.clone(),
                card_masked: t.card_masked.clone(),
                counterparty_account: t.counterparty_account.clone(),
                category: decision.category,
                category_source: decision.source,
                category_confidence: Some(decision.confidence),
            })
        };
        let mut posting = Posting::new();
        // The changed rows, read again whole and locked until commit (PostgreSQL): a concurrent
        // recategorisation waits, so the aggregates never move one row twice.
        let mut locked = lock_rows(txn, account_id, &changed).await?;
        for t in changed {
            let Some(old) = locked.remove(t.id.as_str()) else {
                new_rows.push(t);
                continue;
            };
            let row = categorised(t)?;
            if StoredFacts::of(&old).same(t, row.amount_minor) {
                outcome.unchanged += 1;
                continue;
            }
            posting
                .update_imported(txn, bank_code, &old, &row, &*self.classifier)
                .await?;
            outcome.updated += 1;
            outcome.changed_at(old.booked_at.min(row.booked_at));
        }
        let mut inserts = Vec::with_capacity(new_rows.len());
        for t in new_rows {
            let row = categorised(t)?;
            outcome.changed_at(row.booked_at);
            outcome.added += 1;
            inserts.push(row);
        }
        posting.insert_imported(txn, bank_code, &inserts).await?;
        let large = self.note_added(client_id, account_id, &inserts, outcome);
        crate::timeline::record_many(txn, large).await?;
        // Only a complete read shows which rows are gone; an account new in this transaction
        // holds only the rows just listed.
        let mut kept = false;
        if complete && !fresh {
            self.retire_vanished_pending(
                txn,
                (bank_code, account_id),
                &rows,
                (from, to),
                &mut posting,
            )
            .await?;
            kept = self
                .reverse_vanished_booked(
                    txn,
                    (bank_code, account_id),
                    &rows,
                    (from, to),
                    (&mut posting, outcome),
                )
                .await?;
        }
        posting.post(txn).await?;
        Ok(kept)
    }

    /// Adds the booked money of the new `rows` to the outcome's sums and returns the timeline
    /// entries of the large ones (base currency, at least the configured amount).
    fn note_added(
        &self,
        client_id: i64,
        account_id: i64,
        rows: &[NewTransaction],
        outcome: &mut LinkOutcome,
    ) -> Vec<NewEvent> {
        let threshold = self.settings.large_transaction_minor;
        let base = self.ratings.base_currency.as_str();
        let mut large = Vec::new();
        for row in rows
            .iter()
            .filter(|r| r.status == TransactionStatus::Booked)
        {
            let sums = match row.direction {
                Direction::Debit => &mut outcome.added_out,
                Direction::Credit => &mut outcome.added_in,
            };
            let sum = sums.entry(row.currency.clone()).or_insert(0);
            *sum = sum.saturating_add(row.amount_minor.abs());
            if row.currency == base && threshold.is_some_and(|t| row.amount_minor.abs() >= t) {
                large.push(
                    NewEvent::new(
                        client_id,
                        TimelineKind::LargeTransaction,
                        EventData::LargeTransaction {
                            minor: row.amount_minor.abs(),
                            currency: row.currency.clone(),
                            credit: row.direction == Direction::Credit,
                            description: row
                                .merchant
                                .clone()
                                .or_else(|| row.counterparty.clone())
                                .unwrap_or_else(|| row.description.clone()),
                        },
                    )
                    .at(row.booked_at)
                    .object("account", account_id),
                );
            }
        }
        large
    }

    /// Booked rows the bank no longer lists in a complete read of their dates were taken back
    /// by the bank: each is marked `REVERSED` through the ledger (kept, counted nowhere). When
    /// more than a fifth of the range's booked rows (and at least [`VANISHED_MIN`]) vanish at
    /// once the read is not trusted: nothing is reversed, the rows are counted as kept (the run
    /// is partial) and true is returned, so the account's cursor stays and the next sync looks
    /// again. A person's entries on the account are never the bank's to take back.
    async fn reverse_vanished_booked(
        &self,
        txn: &DatabaseTransaction,
        (bank_code, account_id): (&str, i64),
        rows: &[&TransactionData],
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        (posting, outcome): (&mut Posting, &mut LinkOutcome),
    ) -> CoreResult<bool> {
        let listed: HashSet<&str> = rows.iter().map(|t| t.id.as_str()).collect();
        let booked = || {
            transactions::Entity::find()
                .filter(transactions::Column::AccountId.eq(account_id))
                .filter(transactions::Column::Status.eq(TransactionStatus::Booked.as_str()))
                .filter(transactions::Column::BookedAt.gte(from))
                .filter(transactions::Column::BookedAt.lte(to))
                .filter(
                    transactions::Column::ExternalId
                        .not_like(format!("{}%", crate::transactions::MANUAL_ID_PREFIX)),
                )
        };
        // Ids only: the range's rows are nearly all listed.
        let in_range: Vec<(i64, String)> = booked()
            .select_only()
            .columns([transactions::Column::Id, transactions::Column::ExternalId])
            .into_tuple()
            .all(txn)
            .await?;
        let vanished: Vec<i64> = in_range
            .iter()
            .filter(|(_, external)| !listed.contains(external.as_str()))
            .map(|(id, _)| *id)
            .collect();
        if vanished.is_empty() {
            return Ok(false);
        }
        if vanished.len() >= VANISHED_MIN && vanished.len() * 5 > in_range.len() {
            tracing::warn!(
                bank = %bank_code,
                account = account_id,
                vanished = vanished.len(),
                of = in_range.len(),
                "too many booked rows vanished from a complete read: kept, none reversed"
            );
            outcome.vanished_kept += vanished.len() as u64;
            return Ok(true);
        }
        // Read whole and locked until commit (PostgreSQL), like every row the ledger changes.
        let mut gone = Vec::with_capacity(vanished.len());
        for chunk in vanished.chunks(500) {
            gone.extend(
                booked()
                    .filter(transactions::Column::Id.is_in(chunk.iter().copied()))
                    .lock_exclusive()
                    .all(txn)
                    .await?,
            );
        }
        for row in gone {
            tracing::info!(bank = %bank_code, account = account_id, row = row.id, "a booked row the bank no longer lists: reversed");
            outcome.reversed += 1;
            outcome.changed_at(row.booked_at);
            posting
                .mark_reversed(txn, bank_code, row, &*self.classifier)
                .await?;
        }
        Ok(false)
    }

    /// A pending row the bank no longer lists was either booked under a new id (the booked row
    /// replaces it: the pending one keeps a pointer and stops counting) or cancelled (removed).
    async fn retire_vanished_pending(
        &self,
        txn: &DatabaseTransaction,
        (bank_code, account_id): (&str, i64),
        rows: &[&TransactionData],
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        posting: &mut Posting,
    ) -> CoreResult<()> {
        let listed: HashSet<&str> = rows.iter().map(|t| t.id.as_str()).collect();
        let vanished: Vec<transactions::Model> = transactions::Entity::find()
            .filter(transactions::Column::AccountId.eq(account_id))
            .filter(transactions::Column::Status.eq("PENDING"))
            .filter(transactions::Column::ReplacedById.is_null())
            .filter(transactions::Column::BookedAt.gte(from))
            .filter(transactions::Column::BookedAt.lte(to))
            .all(txn)
            .await?
            .into_iter()
            .filter(|p| !listed.contains(p.external_id.as_str()))
            .collect();
        if vanished.is_empty() {
            return Ok(());
        }
        // Booked rows that already replace a pending one: each replaces at most one.
        let mut taken: HashSet<i64> = transactions::Entity::find()
            .select_only()
            .column(transactions::Column::ReplacedById)
            .filter(transactions::Column::AccountId.eq(account_id))
            .filter(transactions::Column::ReplacedById.is_not_null())
            .into_tuple::<Option<i64>>()
            .all(txn)
            .await?
            .into_iter()
            .flatten()
            .collect();
        for p in vanished {
            let candidates = rows.iter().filter(|t| {
                t.status == BookingStatus::Booked
                    && direction(t.direction).as_str() == p.direction
                    && minor(t.amount).ok() == Some(p.amount_minor)
                    && (t.booked_at - p.booked_at).abs() <= Duration::days(7)
            });
            let mut replacement = None;
            for t in candidates {
                let id = transactions::Entity::find()
                    .select_only()
                    .column(transactions::Column::Id)
                    .filter(transactions::Column::AccountId.eq(account_id))
                    .filter(transactions::Column::ExternalId.eq(t.id.as_str()))
                    .into_tuple::<i64>()
                    .one(txn)
                    .await?;
                if let Some(id) = id.filter(|id| taken.insert(*id)) {
                    replacement = Some(id);
                    break;
                }
            }
            match replacement {
                Some(new_id) => posting.mark_replaced(txn, bank_code, p, new_id).await?,
                None => posting.remove(txn, bank_code, p).await?,
            }
        }
        Ok(())
    }
}

/// What the bank said of a stored row: to tell an unchanged row from an updated one.
#[derive(Debug, FromQueryResult)]
struct StoredFacts {
    external_id: String,
    amount_minor: i64,
    currency: String,
    direction: String,
    status: String,
    booked_at: DateTime<Utc>,
    description: String,
    merchant: Option<String>,
    mcc: Option<String>,
}

impl StoredFacts {
    fn of(m: &transactions::Model) -> Self {
        StoredFacts {
            external_id: m.external_id.clone(),
            amount_minor: m.amount_minor,
            currency: m.currency.clone(),
            direction: m.direction.clone(),
            status: m.status.clone(),
            booked_at: m.booked_at,
            description: m.description.clone(),
            merchant: m.merchant.clone(),
            mcc: m.mcc.clone(),
        }
    }

    /// Whether the bank's row says what is stored (`amount`: its amount in minor units).
    fn same(&self, t: &TransactionData, amount: i64) -> bool {
        self.amount_minor == amount
            && self.currency == t.currency
            && self.direction == direction(t.direction).as_str()
            && self.status == status(t.status).as_str()
            && self.booked_at == t.booked_at.trunc_subsecs(6)
            && self.description == t.description
            && self.merchant.as_deref() == t.merchant.as_ref().and_then(|m| m.name.as_deref())
            && self.mcc.as_deref() == t.merchant.as_ref().and_then(|m| m.mcc.as_deref())
    }
}

/// Ids per statement when stored rows are looked up by the bank's ids.
const LOOKUP_CHUNK: usize = 5000;

/// The stored facts of the account's rows among `rows`, by the bank's id.
async fn stored_facts(
    txn: &DatabaseTransaction,
    account_id: i64,
    rows: &[&TransactionData],
) -> CoreResult<HashMap<String, StoredFacts>> {
    use transactions::Column as T;
    let mut found = HashMap::new();
    for chunk in rows.chunks(LOOKUP_CHUNK) {
        let facts = transactions::Entity::find()
            .select_only()
            .columns([
                T::ExternalId,
                T::AmountMinor,
                T::Currency,
                T::Direction,
                T::Status,
                T::BookedAt,
                T::Description,
                T::Merchant,
                T::Mcc,
            ])
            .filter(T::AccountId.eq(account_id))
            .filter(T::ExternalId.is_in(chunk.iter().map(|t| t.id.as_str())))
            .into_model::<StoredFacts>()
            .all(txn)
            .await?;
        found.extend(facts.into_iter().map(|f| (f.external_id.clone(), f)));
    }
    Ok(found)
}

/// The account's rows with these bank ids, whole, locked until commit (PostgreSQL).
async fn lock_rows(
    txn: &DatabaseTransaction,
    account_id: i64,
    rows: &[&TransactionData],
) -> CoreResult<HashMap<String, transactions::Model>> {
    let mut found = HashMap::new();
    for chunk in rows.chunks(500) {
        let models = transactions::Entity::find()
            .filter(transactions::Column::AccountId.eq(account_id))
            .filter(transactions::Column::ExternalId.is_in(chunk.iter().map(|t| t.id.as_str())))
            .lock_exclusive()
            .all(txn)
            .await?;
        found.extend(models.into_iter().map(|m| (m.external_id.clone(), m)));
    }
    Ok(found)
}
