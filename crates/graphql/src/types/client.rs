use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use crm_core::accounts::{position_by_currency, total_by_currency};
use crm_core::clients::{Client, ClientOrder as CoreClientOrder, ClientPosition, ListedClient};
use crm_core::domain::Currency;
use crm_core::transactions::TransactionCursor;

use super::analytics::*;
use super::enums::*;
use super::forecast::Forecast;
use super::holdings::*;
use super::objects::*;
use super::teams::{NoteObject, ShareObject, TeamObject};
use super::wallet::*;
use super::TransactionFilter;
use crate::context::{actor, core};
use crate::cursor::{decode_transaction, encode_client_position, encode_transaction, page_size};
use crate::error::ApiResultExt;
use crate::loaders::{AccountsOf, AgreementsOf, CardsOf, CoreLoader, LinksOf, RatingOf};

/// A person the bank serves, with their links to banks, accounts and history.
pub struct ClientObject(pub Client);

fn loader<'a>(ctx: &'a Context<'_>) -> &'a DataLoader<CoreLoader> {
    ctx.data_unchecked::<DataLoader<CoreLoader>>()
}

fn currency_arg(ctx: &Context<'_>, currency: Option<String>) -> async_graphql::Result<Currency> {
    match currency {
        Some(c) => Currency::parse(&c).api(),
        None => Ok(core(ctx).api()?.settings().base_currency.clone()),
    }
}

#[Object(name = "Client")]
impl ClientObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    async fn status(&self) -> ClientStatus {
        self.0.status.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// When something last happened to the client: its timeline's newest entry was written
    /// (a note, a task, a sync that brought transactions, an edit…). Null: nothing yet.
    async fn last_activity_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_activity_at
    }

    /// The manager whose book the client is in (null: not assigned yet; administrators see
    /// such clients and assign them).
    async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.0.owner_id {
            Some(id) => super::teams::user_by_id(ctx, id).await,
            None => Ok(None),
        }
    }

    /// The owner's team.
    async fn team(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<TeamObject>> {
        let Some(id) = self.0.team_id else {
            return Ok(None);
        };
        Ok(loader(ctx)
            .load_one(crate::loaders::TeamById(id))
            .await
            .api()?
            .map(TeamObject))
    }

    /// Notes on the client (calls, meetings, e-mails, notes), newest first, `first` at most
    /// (200).
    async fn notes(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
    ) -> async_graphql::Result<Vec<NoteObject>> {
        let first = u64::try_from(first.clamp(1, 200)).unwrap_or(50);
        let notes = core(ctx)
            .api()?
            .notes(actor(ctx).api()?, self.0.id, first)
            .await
            .api()?;
        Ok(notes.into_iter().map(NoteObject).collect())
    }

    /// The client's tasks: open ones first (soonest due first), then done and cancelled ones.
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        status: Option<super::TaskStatus>,
    ) -> async_graphql::Result<Vec<super::TaskObject>> {
        let tasks = core(ctx)
            .api()?
            .client_tasks(actor(ctx).api()?, self.0.id, status.map(Into::into))
            .await
            .api()?;
        Ok(tasks.into_iter().map(super::TaskObject).collect())
    }

    /// The client's meeting briefs, newest first, `first` at most (50).
    async fn briefs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: i32,
    ) -> async_graphql::Result<Vec<super::BriefObject>> {
        let first = u64::try_from(first.clamp(1, 50)).unwrap_or(10);
        let briefs = core(ctx)
            .api()?
            .briefs(actor(ctx).api()?, self.0.id, first)
            .await
            .api()?;
        Ok(briefs.into_iter().map(super::BriefObject).collect())
    }

    /// The client's signals (open and acknowledged ones unless `states` says), newest first,
    /// `first` at a time.
    async fn signals(
        &self,
        ctx: &Context<'_>,
        states: Option<Vec<super::SignalState>>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<super::SignalConnection> {
        let filter = super::SignalFilterInput {
            states,
            client_id: Some(ID(self.0.id.to_string())),
            ..Default::default()
        };
        super::SignalConnection::load(ctx, Some(filter), first, after).await
    }

    /// What happened to the client, newest first: notes, tasks, bank links and consents, syncs
    /// that brought transactions, large transactions, rating changes, edits, assignments,
    /// shares and assistant conversations. `kinds` narrows it (all when empty).
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        kinds: Option<Vec<super::TimelineKind>>,
    ) -> async_graphql::Result<super::TimelineConnection> {
        super::work::client_timeline(ctx, self.0.id, first, after, kinds).await
    }

    /// The users the client is shared with beyond its owner's book, while the share lasts.
    async fn shares(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ShareObject>> {
        let shares = loader(ctx)
            .load_one(crate::loaders::SharesOf(self.0.id))
            .await
            .api()?
            .unwrap_or_default();
        Ok(shares.iter().cloned().map(ShareObject).collect())
    }

    /// The client's links to banks, with consent status.
    async fn links(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<BankLinkObject>> {
        let links = loader(ctx)
            .load_one(LinksOf(self.0.id))
            .await
            .api()?
            .unwrap_or_default();
        Ok(links.iter().cloned().map(BankLinkObject).collect())
    }

    /// Accounts across all banks.
    async fn accounts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AccountObject>> {
        let accounts = loader(ctx)
            .load_one(AccountsOf(self.0.id))
            .await
            .api()?
            .unwrap_or_default();
        Ok(accounts
            .iter()
            .cloned()
            .map(|a| AccountObject(Arc::new(a)))
            .collect())
    }

    /// What the client has and owes per currency over open accounts: `assets` (= `totalBalance`),
    /// `debts` (loans, credit cards and overdrafts, positive) and `net` (RUB first).
    async fn position(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PositionObject>> {
        let accounts = loader(ctx)
            .load_one(AccountsOf(self.0.id))
            .await
            .api()?
            .unwrap_or_default();
        Ok(position_by_currency(accounts.iter())
            .iter()
            .map(PositionObject::from)
            .collect())
    }

    /// The deposits, loans and credit lines the client holds (as the banks list them, closed
    /// agreements included), by bank, newest first.
    async fn agreements(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ProductAgreementObject>> {
        let list = loader(ctx)
            .load_one(AgreementsOf(self.0.id))
            .await
            .api()?
            .unwrap_or_default();
        Ok(list.iter().cloned().map(ProductAgreementObject).collect())
    }

    /// The client's payment cards (masked numbers only), by bank.
    async fn cards(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CardObject>> {
        let list = loader(ctx)
            .load_one(CardsOf(self.0.id))
            .await
            .api()?
            .unwrap_or_default();
        Ok(list.iter().cloned().map(CardObject).collect())
    }

    /// The client's money summed across banks, one entry per currency (base currency first):
    /// balances of open accounts in credit that are not debts. Loans, credit cards and
    /// overdrawn accounts are in `position.debts`; closed accounts count nowhere.
    async fn total_balance(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<MoneyObject>> {
        let accounts = loader(ctx)
            .load_one(AccountsOf(self.0.id))
            .await
            .api()?
            .unwrap_or_default();
        Ok(total_by_currency(accounts.iter())
            .iter()
            .map(MoneyObject::from)
            .collect())
    }

    /// The A/B/C rating with the factors behind it, computed from the last 12 months; null
    /// only for a client without base-currency transactions in that time.
    async fn rating(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Rating>> {
        let rating = loader(ctx).load_one(RatingOf(self.0.id)).await.api()?;
        Ok(rating.as_deref().map(Rating::from))
    }

    /// The client's transactions across all accounts, newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn transactions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
        filter: Option<TransactionFilter>,
    ) -> async_graphql::Result<TransactionConnection> {
        TransactionConnection::load(ctx, self.0.id, first, after, filter.unwrap_or_default()).await
    }

    /// Booked spending in `[from, to)` by category, largest first; amounts add up to the total
    /// spending in the range. One currency at a time (the base currency by default).
    ///
    /// Costs 10 in the query's complexity (it reads monthly aggregates).
    #[graphql(complexity = "crate::cost::LIGHT + child_complexity")]
    async fn spending_by_category(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        currency: Option<String>,
    ) -> async_graphql::Result<Vec<CategorySpend>> {
        let _slot = crate::cost::analysis_slot(ctx).await?;
        let currency = currency_arg(ctx, currency)?;
        let rows = core(ctx)
            .api()?
            .spending_by_category(self.0.id, from, to, &currency)
            .await
            .api()?;
        Ok(rows.iter().map(CategorySpend::from).collect())
    }

    /// The merchants (or transfer counterparties) the client spent most with in `[from, to)`,
    /// largest first; shares are of all spending in the range.
    ///
    /// Costs 10 in the query's complexity (it reads monthly aggregates).
    #[graphql(complexity = "crate::cost::LIGHT + child_complexity")]
    async fn top_merchants(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        #[graphql(default = 10)] first: i32,
        currency: Option<String>,
    ) -> async_graphql::Result<Vec<MerchantSpend>> {
        let _slot = crate::cost::analysis_slot(ctx).await?;
        let currency = currency_arg(ctx, currency)?;
        let limit = u32::try_from(first).unwrap_or(0);
        let rows = core(ctx)
            .api()?
            .top_merchants(self.0.id, from, to, &currency, limit)
            .await
            .api()?;
        Ok(rows.into_iter().map(MerchantSpend::from).collect())
    }

    /// Subscriptions, rent, loan instalments and other payments that recur (same payee,
    /// regular interval, similar amount) over the last 12 months, with the next expected date.
    ///
    /// Costs 50 in the query's complexity (it reads up to a year of the client's rows).
    #[graphql(complexity = "crate::cost::HEAVY + child_complexity")]
    async fn recurring_payments(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<RecurringPayment>> {
        let _slot = crate::cost::analysis_slot(ctx).await?;
        let rows = core(ctx)
            .api()?
            .recurring_payments(self.0.id, Utc::now())
            .await
            .api()?;
        Ok(rows.into_iter().map(RecurringPayment::from).collect())
    }

    /// The projected daily balance of the client's money per currency over the next `days`
    /// (30, 60 or 90): from the money now, the detected salary, recurring payments and loan
    /// instalments on their expected dates (listed in `items` with their evidence), and the
    /// everyday flow the patterns do not explain.
    ///
    /// Costs 50 in the query's complexity (it reads up to a year of the client's rows).
    #[graphql(complexity = "crate::cost::HEAVY + child_complexity")]
    async fn forecast(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 30)] days: i32,
    ) -> async_graphql::Result<Forecast> {
        let _slot = crate::cost::analysis_slot(ctx).await?;
        Ok(core(ctx)
            .api()?
            .forecast(self.0.id, days, Utc::now())
            .await
            .api()?
            .into())
    }

    /// The salary (payer, typical amount and day) if one is detected, and average income.
    ///
    /// Costs 50 in the query's complexity (it reads up to a year of the client's rows).
    #[graphql(complexity = "crate::cost::HEAVY + child_complexity")]
    async fn income(&self, ctx: &Context<'_>) -> async_graphql::Result<IncomeProfile> {
        let _slot = crate::cost::analysis_slot(ctx).await?;
        Ok(core(ctx)
            .api()?
            .income_profile(self.0.id, Utc::now())
            .await
            .api()?
            .into())
    }

    /// Plain-language observations with the numbers behind them, warnings first.
    ///
    /// Costs 50 in the query's complexity (it reads up to a year of the client's rows).
    #[graphql(complexity = "crate::cost::HEAVY + child_complexity")]
    async fn insights(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] lang: Lang,
    ) -> async_graphql::Result<Vec<Insight>> {
        let _slot = crate::cost::analysis_slot(ctx).await?;
        let rows = core(ctx)
            .api()?
            .insights(self.0.id, Utc::now())
            .await
            .api()?;
        Ok(rows.iter().map(|i| Insight::new(i, lang.into())).collect())
    }

    /// Next best products from the banks' catalogues, each with its reason.
    ///
    /// Costs 50 in the query's complexity (it reads up to a year of the client's rows).
    #[graphql(complexity = "crate::cost::HEAVY + child_complexity")]
    async fn offers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] lang: Lang,
    ) -> async_graphql::Result<Vec<Offer>> {
        let _slot = crate::cost::analysis_slot(ctx).await?;
        let rows = core(ctx).api()?.offers(self.0.id, Utc::now()).await.api()?;
        Ok(rows
            .into_iter()
            .map(|o| Offer::new(o, lang.into()))
            .collect())
    }

    /// The products this client holds outside the home bank (`HOME_BANK`): what the other
    /// banks list (agreements; savings, deposit, loan and credit-card accounts) reconciled with
    /// what the payments on every linked account show (transfers into those products, monthly
    /// repayments to a lender, transfers naming a bank and a product). By kind, then bank. Empty
    /// without a home bank.
    ///
    /// Costs 50 in the query's complexity (it reads six months of the client's payments).
    #[graphql(complexity = "crate::cost::HEAVY + child_complexity")]
    async fn held_away(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<HeldAwayProduct>> {
        let _slot = crate::cost::analysis_slot(ctx).await?;
        let rows = core(ctx)
            .api()?
            .held_away(self.0.id, Utc::now())
            .await
            .api()?;
        Ok(rows.into_iter().map(HeldAwayProduct).collect())
    }

    /// The home bank's share of this client's balances, income and spending (the three whole
    /// months before this one), with the figures per bank; `null` without a home bank.
    ///
    /// Costs 10 in the query's complexity (one read of the aggregates).
    #[graphql(complexity = "crate::cost::LIGHT + child_complexity")]
    async fn share_of_wallet(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<ShareOfWallet>> {
        Ok(core(ctx)
            .api()?
            .share_of_wallet(self.0.id, Utc::now())
            .await
            .api()?
            .as_ref()
            .map(Into::into))
    }

    /// Offers to bring the money held elsewhere to the home bank (refinance a loan, move a
    /// deposit, move the salary), largest money at stake first; every figure is traceable to
    /// the rows, accounts and agreements listed.
    ///
    /// Costs 50 in the query's complexity (it reads six months of the client's payments).
    #[graphql(complexity = "crate::cost::HEAVY + child_complexity")]
    async fn consolidation_offers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] lang: Lang,
    ) -> async_graphql::Result<Vec<ConsolidationOffer>> {
        let _slot = crate::cost::analysis_slot(ctx).await?;
        let rows = core(ctx)
            .api()?
            .consolidation_offers(self.0.id, Utc::now())
            .await
            .api()?;
        Ok(rows
            .into_iter()
            .map(|o| ConsolidationOffer::new(o, lang.into()))
            .collect())
    }

    /// Conversations with the assistant about this client, most recent first: your own (an
    /// administrator sees everyone's).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
    ) -> async_graphql::Result<Vec<super::ConversationObject>> {
        let who = crate::context::actor(ctx).api()?;
        let first = page_size(first, 20).api()?;
        Ok(core(ctx)
            .api()?
            .assistant()
            .conversations_of_client(who, self.0.id, first)
            .await
            .api()?
            .into_iter()
            .map(super::ConversationObject)
            .collect())
    }

    /// Income, spending and net per month for the last `months` months (current one included).
    ///
    /// Costs 10 in the query's complexity (it reads monthly aggregates).
    #[graphql(complexity = "crate::cost::LIGHT + child_complexity")]
    async fn cashflow(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 12)] months: i32,
        currency: Option<String>,
    ) -> async_graphql::Result<Vec<MonthFlow>> {
        let _slot = crate::cost::analysis_slot(ctx).await?;
        let currency = currency_arg(ctx, currency)?;
        let months = u32::try_from(months).unwrap_or(0);
        let rows = core(ctx)
            .api()?
            .cashflow(self.0.id, months, &currency, Utc::now())
            .await
            .api()?;
        Ok(rows
            .into_iter()
            .map(|m| MonthFlow {
                month: m.month,
                income: m.income.amount(),
                expense: m.expense.amount(),
                net: m.net.amount(),
                moved_out: m.moved_out.amount(),
                moved_in: m.moved_in.amount(),
                currency: m.income.currency.to_string(),
            })
            .collect())
    }
}

#[derive(SimpleObject)]
pub struct ClientEdge {
    pub cursor: String,
    pub node: ClientObject,
}

/// A page of clients (Relay connection).
pub struct ClientConnection {
    pub edges: Vec<ClientEdge>,
    pub page_info: PageInfo,
    pub filter: crm_core::clients::ClientFilter,
}

impl ClientConnection {
    pub fn new(
        page: crm_core::Page<ListedClient>,
        order: CoreClientOrder,
        had_cursor: bool,
        filter: crm_core::clients::ClientFilter,
    ) -> Self {
        let edges: Vec<ClientEdge> = page
            .items
            .into_iter()
            .map(|c| ClientEdge {
                cursor: encode_client_position(
                    order,
                    &ClientPosition {
                        key: c.key,
                        name: c.client.sort_name.clone(),
                        id: c.client.id,
                    },
                ),
                node: ClientObject(c.client),
            })
            .collect();
        let page_info = PageInfo {
            has_next_page: page.has_next,
            has_previous_page: had_cursor,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
        ClientConnection {
            edges,
            page_info,
            filter,
        }
    }
}

#[Object]
impl ClientConnection {
    async fn edges(&self) -> &[ClientEdge] {
        &self.edges
    }
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }
    /// All clients of your book matching the filter (not just this page).
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        core(ctx)
            .api()?
            .count_clients(actor(ctx).api()?, &self.filter)
            .await
            .api()
    }
}

#[derive(SimpleObject)]
pub struct TransactionEdge {
    pub cursor: String,
    pub node: TransactionObject,
}

/// The edges and page info of a page of transactions read after a cursor or not.
fn transaction_edges(
    page: crm_core::Page<crm_core::transactions::Transaction>,
    after_cursor: bool,
) -> (Vec<TransactionEdge>, PageInfo) {
    let edges: Vec<TransactionEdge> = page
        .items
        .into_iter()
        .map(|t| TransactionEdge {
            cursor: encode_transaction(&TransactionCursor {
                booked_at: t.booked_at,
                id: t.id,
            }),
            node: TransactionObject(t),
        })
        .collect();
    let page_info = PageInfo {
        has_next_page: page.has_next,
        has_previous_page: after_cursor,
        start_cursor: edges.first().map(|e| e.cursor.clone()),
        end_cursor: edges.last().map(|e| e.cursor.clone()),
    };
    (edges, page_info)
}

/// A page of transactions, newest first (Relay connection).
pub struct TransactionConnection {
    edges: Vec<TransactionEdge>,
    page_info: PageInfo,
    client_id: i64,
    filter: Arc<crm_core::transactions::TransactionFilter>,
}

impl TransactionConnection {
    /// Reads the page only when `edges` or `pageInfo` is selected: a list that shows only
    /// `totalCount` per client costs the batched count and nothing else.
    pub async fn load(
        ctx: &Context<'_>,
        client_id: i64,
        first: Option<i32>,
        after: Option<String>,
        filter: TransactionFilter,
    ) -> async_graphql::Result<Self> {
        let first = page_size(first, 20).api()?;
        let cursor = after.as_deref().map(decode_transaction).transpose().api()?;
        let filter = filter.to_core().api()?;
        let look = ctx.look_ahead();
        let page = if look.field("edges").exists() || look.field("pageInfo").exists() {
            core(ctx)
                .api()?
                .list_transactions(client_id, &filter, first, cursor.as_ref())
                .await
                .api()?
        } else {
            crm_core::Page {
                items: Vec::new(),
                has_next: false,
            }
        };
        let (edges, page_info) = transaction_edges(page, cursor.is_some());
        Ok(TransactionConnection {
            edges,
            page_info,
            client_id,
            filter: Arc::new(filter),
        })
    }
}

#[Object]
impl TransactionConnection {
    async fn edges(&self) -> &[TransactionEdge] {
        &self.edges
    }
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }
    /// All transactions matching the filter (not just this page).
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        let count = loader(ctx)
            .load_one(crate::loaders::TransactionCountOf {
                client_id: self.client_id,
                filter: self.filter.clone(),
            })
            .await
            .api()?;
        Ok(count.unwrap_or(0))
    }
}

/// A page of the transactions of your book to review (`Query.transactionsToReview`), newest
/// first (Relay connection).
pub struct TransactionReviewConnection {
    edges: Vec<TransactionEdge>,
    page_info: PageInfo,
    max_confidence: i32,
}

impl TransactionReviewConnection {
    pub async fn load(
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        max_confidence: i32,
    ) -> async_graphql::Result<Self> {
        let first = page_size(first, 20).api()?;
        let cursor = after.as_deref().map(decode_transaction).transpose().api()?;
        let page = core(ctx)
            .api()?
            .transactions_to_review(actor(ctx).api()?, max_confidence, first, cursor.as_ref())
            .await
            .api()?;
        let (edges, page_info) = transaction_edges(page, cursor.is_some());
        Ok(TransactionReviewConnection {
            edges,
            page_info,
            max_confidence,
        })
    }
}

#[Object]
impl TransactionReviewConnection {
    async fn edges(&self) -> &[TransactionEdge] {
        &self.edges
    }
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }
    /// All the rows of your book to review below the bar (not just this page).
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        core(ctx)
            .api()?
            .count_transactions_to_review(actor(ctx).api()?, self.max_confidence)
            .await
            .api()
    }
}
