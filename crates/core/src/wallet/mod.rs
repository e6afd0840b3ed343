//! The multi-bank picture from the home bank's side (`HOME_BANK`): the products a client holds
//! at other banks (the held-away radar, [`infer`]), the home bank's share of the client's
//! balances, income and spending ([`share`]), the same for a book, and consolidation offers
//! whose every figure comes from stored rows ([`offers`]).
//!
//! Without a home bank configured nothing is "away": the radar is empty and there is no share.

mod infer;
mod offers;
mod share;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

pub use infer::{AmountBasis, HeldAwayProduct, FLOW_MONTHS, MAX_EVIDENCE_ROWS, STALE_DAYS};
pub use offers::{ConsolidationKind, ConsolidationOffer};
pub use share::{BankAmount, BookWallet, HeldAwayTotal, ShareOfWallet, WalletShare};

use crate::domain::{Category, Currency, Direction, TransactionStatus};
use crate::entity::transactions;
use crate::error::CoreResult;
use crate::Core;
use infer::{AccountFact, AgreementFact, BankNames, ClientFacts, FlowRow};

/// Clients whose facts one batch of reads covers.
const BATCH: usize = 200;

impl Core {
    /// The home bank (`HOME_BANK`), if one is configured.
    pub fn home_bank(&self) -> Option<&str> {
        self.settings.signals.home_bank.as_deref()
    }

    fn bank_names(&self) -> BankNames {
        let all = self.banks.all();
        BankNames::new(all.iter().map(|b| (b.code.as_str(), b.name.as_str())))
    }

    /// The products `client_id` holds outside the home bank, from what the banks list and what
    /// the payments show, reconciled (see [`infer`]). Empty without a home bank.
    pub async fn held_away(
        &self,
        client_id: i64,
        now: DateTime<Utc>,
    ) -> CoreResult<Vec<HeldAwayProduct>> {
        Ok(self
            .held_away_of_clients(&[client_id], now)
            .await?
            .remove(&client_id)
            .unwrap_or_default())
    }

    /// [`Core::held_away`] of several clients, three reads per [`BATCH`] clients.
    pub async fn held_away_of_clients(
        &self,
        client_ids: &[i64],
        now: DateTime<Utc>,
    ) -> CoreResult<HashMap<i64, Vec<HeldAwayProduct>>> {
        let mut out = HashMap::new();
        let Some(home) = self.home_bank() else {
            return Ok(out);
        };
        let banks = self.bank_names();
        for chunk in client_ids.chunks(BATCH) {
            let mut accounts = self.accounts_of_clients(chunk).await?;
            let mut agreements = self.agreements_of_clients(chunk).await?;
            let mut flows = flows_of_clients(self, chunk, now).await?;
            for &client in chunk {
                let accounts: Vec<AccountFact> = accounts
                    .remove(&client)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| AccountFact {
                        open: !a.is_closed(),
                        balance_minor: a.balance.as_ref().map(|b| b.minor),
                        id: a.id,
                        bank_code: a.bank_code,
                        kind: a.kind,
                        currency: a.currency,
                        name: a.name,
                    })
                    .collect();
                let agreements: Vec<AgreementFact> = agreements
                    .remove(&client)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|g| AgreementFact {
                        id: g.id,
                        bank_code: g.bank_code,
                        kind: g.kind,
                        status: g.status,
                        account_id: g.account_id,
                        amount: g.amount,
                        rate: g.interest_rate,
                        ends_at: g.ends_at,
                        product_name: g.product_name,
                    })
                    .collect();
                let flows = flows.remove(&client).unwrap_or_default();
                let facts = ClientFacts {
                    accounts: &accounts,
                    agreements: &agreements,
                    flows: &flows,
                };
                out.insert(client, infer::infer(home, &banks, &facts, now));
            }
        }
        Ok(out)
    }
}

/// The booked debits of the last [`FLOW_MONTHS`] months that may pay for a product (loan
/// payments, own transfers, any row paired with a credit on an own account), with the account
/// of the paired credit. Two reads: the rows, then their pairs' accounts.
async fn flows_of_clients(
    core: &Core,
    client_ids: &[i64],
    now: DateTime<Utc>,
) -> CoreResult<HashMap<i64, Vec<FlowRow>>> {
    use sea_orm::Condition;
    use transactions::Column as T;
    type Row = (
        i64,
        i64,
        i64,
        DateTime<Utc>,
        i64,
        String,
        String,
        Option<String>,
        String,
        Option<i64>,
    );
    let since = infer::flow_window_start(now);
    let rows: Vec<Row> = transactions::Entity::find()
        .select_only()
        .columns([
            T::Id,
            T::ClientId,
            T::AccountId,
            T::BookedAt,
            T::AmountMinor,
            T::Currency,
            T::Category,
            T::Counterparty,
            T::Description,
            T::TransferPeerId,
        ])
        .filter(T::ClientId.is_in(client_ids.iter().copied()))
        .filter(T::BookedAt.gte(since))
        .filter(T::BookedAt.lte(now))
        .filter(T::Direction.eq(Direction::Debit.as_str()))
        .filter(T::Status.eq(TransactionStatus::Booked.as_str()))
        .filter(T::ReplacedById.is_null())
        .filter(
            Condition::any()
                .add(T::Category.is_in([
                    Category::LoanPayments.as_str(),
                    Category::OwnTransfer.as_str(),
                ]))
                .add(T::TransferPeerId.is_not_null()),
        )
        .order_by_asc(T::ClientId)
        .order_by_asc(T::BookedAt)
        .order_by_asc(T::Id)
        .into_tuple()
        .all(core.db().conn())
        .await?;
    let peers: Vec<i64> = rows.iter().filter_map(|r| r.9).collect();
    let mut peer_account: HashMap<i64, i64> = HashMap::new();
    for chunk in peers.chunks(1000) {
        let pairs: Vec<(i64, i64)> = transactions::Entity::find()
            .select_only()
            .columns([T::Id, T::AccountId])
            .filter(T::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(core.db().conn())
            .await?;
        peer_account.extend(pairs);
    }
    let mut out: HashMap<i64, Vec<FlowRow>> = HashMap::new();
    for (
        id,
        client,
        account,
        booked_at,
        amount,
        currency,
        category,
        counterparty,
        description,
        peer,
    ) in rows
    {
        out.entry(client).or_default().push(FlowRow {
            id,
            account_id: account,
            booked_at,
            amount_minor: amount,
            currency: Currency::from_db(currency),
            category: Category::parse(&category)?,
            counterparty,
            description,
            peer_account_id: peer.and_then(|p| peer_account.get(&p).copied()),
        });
    }
    Ok(out)
}
