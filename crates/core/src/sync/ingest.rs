//! Storing what a bank returned: accounts, balances and transactions, upserted by bank id, with
//! per-client counters and the analytics aggregates adjusted in the same database transaction as
//! the rows.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, SubsecRound, Utc};

// PostgreSQL keeps microseconds: every stored time is cut to them, so a re-read compares equal.
use crm_connector::{
    Access, AccountData, BankConnector, BookingStatus, ConnectorError, TransactionData,
};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QuerySelect, Set,
};

use super::LinkOutcome;
use crate::aggregates::{AggregateDelta, AggregateRow};
use crate::categorize::TransactionFacts;
use crate::domain::{
    decimal_to_minor, mask_number, normalize_for_search, AccountStatus, CategorySource, Direction,
};
use crate::entity::{accounts, balances, bank_links, client_totals, transactions};
use crate::error::{CoreError, CoreResult};
use crate::links::BankLink;
use crate::transactions::month_key;
use crate::Core;

/// Per-currency changes to a client's counters, kept in currency order so that concurrent
/// transactions lock a client's counters in one order.
#[derive(Default)]
struct TotalsDelta(BTreeMap<String, (i64, i64, i64)>);

impl TotalsDelta {
    fn add(&mut self, currency: &str, count: i64, direction: Direction, booked: bool, minor: i64) {
        let e = self.0.entry(currency.to_owned()).or_default();
        e.0 += count;
        if booked {
            match direction {
                Direction::Credit => e.1 += minor,
                Direction::Debit => e.2 += minor,
            }
        }
    }
}

/// Applies counter changes (upsert, so the first row of a currency creates its counter).
async fn apply_delta<C: ConnectionTrait>(
    conn: &C,
    client_id: i64,
    delta: &TotalsDelta,
) -> CoreResult<()> {
    let col = |c: client_totals::Column| Expr::col((client_totals::Entity, c));
    for (currency, (count, income, expense)) in &delta.0 {
        if *count == 0 && *income == 0 && *expense == 0 {
            continue;
        }
        client_totals::Entity::insert(client_totals::ActiveModel {
            client_id: Set(client_id),
            currency: Set(currency.clone()),
            tx_count: Set(*count),
            income_minor: Set(*income),
            expense_minor: Set(*expense),
            last_booked_at: Set(None),
        })
        .on_conflict(
            OnConflict::columns([
                client_totals::Column::ClientId,
                client_totals::Column::Currency,
            ])
            .value(
                client_totals::Column::TxCount,
                col(client_totals::Column::TxCount).add(*count),
            )
            .value(
                client_totals::Column::IncomeMinor,
                col(client_totals::Column::IncomeMinor).add(*income),
            )
            .value(
                client_totals::Column::ExpenseMinor,
                col(client_totals::Column::ExpenseMinor).add(*expense),
            )
            .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

fn direction(d: crm_connector::Direction) -> Direction {
    match d {
        crm_connector::Direction::Credit => Direction::Credit,
        crm_connector::Direction::Debit => Direction::Debit,
    }
}

fn status_word(s: BookingStatus) -> &'static str {
    match s {
        BookingStatus::Booked => "BOOKED",
        BookingStatus::Pending => "PENDING",
    }
}

fn minor(amount: Decimal) -> CoreResult<i64> {
    decimal_to_minor(amount.round_dp(2))
}

/// The fields of a stored row that come from the bank (to tell unchanged from updated).
fn same(old: &transactions::Model, t: &TransactionData, amount: i64) -> bool {
    old.amount_minor == amount
        && old.currency == t.currency
        && old.direction == direction(t.direction).as_str()
        && old.status == status_word(t.status)
        && old.booked_at == t.booked_at.trunc_subsecs(6)
        && old.description == t.description
        && old.merchant == t.merchant.as_ref().and_then(|m| m.name.clone())
        && old.mcc == t.merchant.as_ref().and_then(|m| m.mcc.clone())
}

impl Core {
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
        let consent_id = stored.consent_id.clone();
        let access = Access {
            client_id: &link.external_client_id,
            consent_id: consent_id.as_deref(),
        };
        let mut outcome = LinkOutcome::default();
        let accounts = match connector.accounts(&access).await {
            Ok(a) => a,
            Err(e @ ConnectorError::ConsentRequired { .. }) => {
                self.consent_lost(link.id, &link.bank_code).await?;
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
        let cursors: HashMap<String, Option<DateTime<Utc>>> = accounts::Entity::find()
            .filter(accounts::Column::BankCode.eq(link.bank_code.as_str()))
            .filter(accounts::Column::ExternalId.is_in(accounts.iter().map(|a| a.id.clone())))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|a| (a.external_id, a.last_booked_at))
            .collect();
        let settings = &self.sync_settings;
        let mut latest_booked: Option<DateTime<Utc>> = link.last_booked_at;
        for account in &accounts {
            let cursor = cursors.get(&account.id).copied().flatten();
            let from = match cursor {
                Some(last) => last - Duration::days(settings.overlap_days),
                None => now - Duration::days(settings.history_days),
            };
            let balances = connector.balances(&access, &account.id).await?;
            let batch = connector
                .transactions(&access, &account.id, from, now)
                .await?;
            outcome.accounts += 1;
            outcome.shortfall += batch.shortfall + batch.rejected.len() as u64;
            let newest_booked = batch
                .transactions
                .iter()
                .filter(|t| t.status == BookingStatus::Booked)
                .map(|t| t.booked_at.trunc_subsecs(6))
                .max();
            let account_cursor = cursor.max(newest_booked);
            latest_booked = latest_booked.max(account_cursor);
            // One transaction per account (rows, balance, cursor, counters, aggregates). PostgreSQL
            // may abort it when another sync of the same client holds the client's counters; it is
            // then run again with the same rows, and counted once, when it commits.
            outcome = crate::db::retry_on_conflict("account write", || {
                let mut counted = outcome.clone();
                let (balance, rows) = (balances.first(), &batch.transactions);
                async move {
                    let txn = self.db.begin_write().await?;
                    let account_id = self
                        .store_account(&txn, link, account, balance, account_cursor)
                        .await?;
                    self.store_transactions(
                        &txn,
                        (link.client_id, &link.bank_code),
                        account_id,
                        rows,
                        (from, now),
                        &mut counted,
                    )
                    .await?;
                    txn.commit().await?;
                    Ok(counted)
                }
            })
            .await?;
        }
        if let Some(holder) = accounts.iter().find_map(|a| a.holder_name.clone()) {
            self.name_client_after_holder(link, &holder).await?;
        }
        let now = Utc::now();
        bank_links::ActiveModel {
            id: Set(link.id),
            last_synced_at: Set(Some(now)),
            last_booked_at: Set(latest_booked),
            status_message: Set(if outcome.shortfall > 0 {
                Some(format!("{} transactions reported by the bank could not be read; the next sync tries again", outcome.shortfall))
            } else if stored.renewal_request_id.is_some() {
                let expires = stored.consent_expires_at.map(|at| at.format("%Y-%m-%d").to_string()).unwrap_or_default();
                Some(super::consent::renewal_pending(&self.banks.describe(&link.bank_code).name, &expires))
            } else {
                None
            }),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(self.db.conn())
        .await?;
        Ok(outcome)
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

    async fn store_account(
        &self,
        txn: &DatabaseTransaction,
        link: &BankLink,
        a: &AccountData,
        balance: Option<&crm_connector::BalanceData>,
        cursor: Option<DateTime<Utc>>,
    ) -> CoreResult<i64> {
        let now = Utc::now();
        let existing = accounts::Entity::find()
            .filter(accounts::Column::BankCode.eq(link.bank_code.as_str()))
            .filter(accounts::Column::ExternalId.eq(a.id.as_str()))
            .one(txn)
            .await?;
        if let Some(other) = existing.as_ref().filter(|e| e.client_id != link.client_id) {
            return Err(CoreError::BankUnavailable(format!(
                "{}: account {} is already stored for client {}; refusing another client's data",
                link.bank_code, a.id, other.client_id
            )));
        }
        let balance_minor = balance.map(|b| minor(b.amount)).transpose()?;
        let status = match a.status {
            crm_connector::AccountStatus::Enabled => AccountStatus::Enabled,
            crm_connector::AccountStatus::Disabled => AccountStatus::Disabled,
        };
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
        Ok(id)
    }

    async fn store_transactions(
        &self,
        txn: &DatabaseTransaction,
        (client_id, bank_code): (i64, &str),
        account_id: i64,
        rows: &[TransactionData],
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        outcome: &mut LinkOutcome,
    ) -> CoreResult<()> {
        let now = Utc::now();
        // A bank may list a row twice (unstable paging): the first listing is stored, once.
        let mut seen: HashSet<&str> = HashSet::with_capacity(rows.len());
        let rows: Vec<&TransactionData> =
            rows.iter().filter(|t| seen.insert(t.id.as_str())).collect();
        let mut existing: HashMap<String, transactions::Model> = HashMap::new();
        for chunk in rows.chunks(500) {
            // Locked until commit (PostgreSQL): a concurrent recategorisation waits, so the
            // aggregates never move one row twice.
            let found = transactions::Entity::find()
                .filter(transactions::Column::AccountId.eq(account_id))
                .filter(transactions::Column::ExternalId.is_in(chunk.iter().map(|t| t.id.clone())))
                .lock_exclusive()
                .all(txn)
                .await?;
            existing.extend(found.into_iter().map(|m| (m.external_id.clone(), m)));
        }
        let mut delta = TotalsDelta::default();
        let mut aggregates = AggregateDelta::default();
        let mut inserts = Vec::new();
        let rules = self.current_rules().await?;
        for t in rows.iter().copied() {
            let amount = minor(t.amount)?;
            let dir = direction(t.direction);
            let booked = t.status == BookingStatus::Booked;
            let merchant = t.merchant.as_ref().and_then(|m| m.name.clone());
            let mcc = t.merchant.as_ref().and_then(|m| m.mcc.clone());
            let (category, source) = self.categorizer.categorize_with(
                &rules,
                &TransactionFacts {
                    direction: dir,
                    description: &t.description,
                    merchant: merchant.as_deref(),
                    mcc: mcc.as_deref(),
                    counterparty: t.counterparty.as_deref(),
                },
            );
            let search = normalize_for_search(
                &[
                    Some(t.description.as_str()),
                    merchant.as_deref(),
                    t.counterparty.as_deref(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
            );
            match existing.get(&t.id) {
                Some(old) if same(old, t, amount) => outcome.unchanged += 1,
                Some(old) => {
                    let old_dir = Direction::parse(&old.direction)?;
                    delta.add(
                        &old.currency,
                        -1,
                        old_dir,
                        old.status == "BOOKED",
                        -old.amount_minor,
                    );
                    delta.add(&t.currency, 1, dir, booked, amount);
                    let manual = old.category_source == CategorySource::Manual.as_str();
                    let mut m: transactions::ActiveModel = old.clone().into();
                    m.amount_minor = Set(amount);
                    m.currency = Set(t.currency.clone());
                    m.direction = Set(dir.as_str().to_owned());
                    m.status = Set(status_word(t.status).to_owned());
                    m.raw_status = Set(t.raw_status.clone());
                    m.booked_at = Set(t.booked_at.trunc_subsecs(6));
                    m.booked_month = Set(month_key(&t.booked_at));
                    m.value_at = Set(t.value_at.map(|v| v.trunc_subsecs(6)));
                    m.description = Set(t.description.clone());
                    m.merchant = Set(merchant);
                    m.mcc = Set(mcc);
                    m.search_text = Set(search);
                    if !manual || old.direction != dir.as_str() {
                        m.category = Set(category.as_str().to_owned());
                        m.category_source = Set(source.as_str().to_owned());
                    }
                    m.updated_at = Set(now);
                    let stored = m.update(txn).await?;
                    aggregates.add_model(old, bank_code, -1);
                    aggregates.add_model(&stored, bank_code, 1);
                    outcome.updated += 1;
                }
                None => {
                    delta.add(&t.currency, 1, dir, booked, amount);
                    if booked {
                        aggregates.add(
                            &AggregateRow {
                                client_id,
                                bank_code,
                                currency: &t.currency,
                                direction: dir.as_str(),
                                category: category.as_str(),
                                booked_at: t.booked_at.trunc_subsecs(6),
                                amount_minor: amount,
                            },
                            1,
                        );
                    }
                    inserts.push(transactions::ActiveModel {
                        client_id: Set(client_id),
                        account_id: Set(account_id),
                        external_id: Set(t.id.clone()),
                        booked_at: Set(t.booked_at.trunc_subsecs(6)),
                        booked_month: Set(month_key(&t.booked_at)),
                        value_at: Set(t.value_at.map(|v| v.trunc_subsecs(6))),
                        amount_minor: Set(amount),
                        currency: Set(t.currency.clone()),
                        direction: Set(dir.as_str().to_owned()),
                        status: Set(status_word(t.status).to_owned()),
                        raw_status: Set(t.raw_status.clone()),
                        description: Set(t.description.clone()),
                        merchant: Set(merchant),
                        mcc: Set(mcc),
                        bank_tx_code: Set(t.bank_transaction_code.clone()),
                        counterparty: Set(t.counterparty.clone()),
                        card_masked: Set(t.card_masked.clone()),
                        search_text: Set(search),
                        category: Set(category.as_str().to_owned()),
                        category_source: Set(source.as_str().to_owned()),
                        replaced_by_id: Set(None),
                        created_at: Set(now),
                        updated_at: Set(now),
                        ..Default::default()
                    });
                    outcome.added += 1;
                }
            }
        }
        for chunk in inserts.chunks(400) {
            transactions::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([
                        transactions::Column::AccountId,
                        transactions::Column::ExternalId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .do_nothing()
                .exec_without_returning(txn)
                .await?;
        }
        self.retire_vanished_pending(txn, account_id, &rows, (from, to), &mut delta)
            .await?;
        aggregates.apply(txn).await?;
        apply_delta(txn, client_id, &delta).await
    }

    /// A pending row the bank no longer lists was either booked under a new id (the booked row
    /// replaces it: the pending one keeps a pointer and stops counting) or cancelled (removed).
    async fn retire_vanished_pending(
        &self,
        txn: &DatabaseTransaction,
        account_id: i64,
        rows: &[&TransactionData],
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        delta: &mut TotalsDelta,
    ) -> CoreResult<()> {
        let listed: HashSet<&str> = rows.iter().map(|t| t.id.as_str()).collect();
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
        let pending = transactions::Entity::find()
            .filter(transactions::Column::AccountId.eq(account_id))
            .filter(transactions::Column::Status.eq("PENDING"))
            .filter(transactions::Column::ReplacedById.is_null())
            .filter(transactions::Column::BookedAt.gte(from))
            .filter(transactions::Column::BookedAt.lte(to))
            .all(txn)
            .await?;
        for p in pending
            .into_iter()
            .filter(|p| !listed.contains(p.external_id.as_str()))
        {
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
            delta.add(&p.currency, -1, Direction::Debit, false, 0);
            match replacement {
                Some(new_id) => {
                    let mut m: transactions::ActiveModel = p.into();
                    m.replaced_by_id = Set(Some(new_id));
                    m.updated_at = Set(Utc::now());
                    m.update(txn).await?;
                }
                None => {
                    transactions::Entity::delete_by_id(p.id).exec(txn).await?;
                }
            }
        }
        Ok(())
    }
}
