use async_graphql::{Context, Object, ID};
use crm_core::domain::Category as CoreCategory;

use crate::context::{actor, core};
use crate::cursor::{decode_client_position, page_size, parse_id};
use crate::error::ApiResultExt;
use crate::types::*;

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// The signed-in user.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let who = crate::context::signed_in(ctx).api()?;
        Ok(User::from(
            &core(ctx).api()?.auth().user(who.user_id).await.api()?,
        ))
    }

    /// Your tasks (assigned to you), soonest due first: open ones unless `filter.status` says
    /// otherwise; `due` counts in your days (`User.timeZone`). Tasks about clients outside your
    /// book are left out.
    async fn my_tasks(
        &self,
        ctx: &Context<'_>,
        filter: Option<TaskFilterInput>,
    ) -> async_graphql::Result<Vec<TaskObject>> {
        let who = actor(ctx).api()?;
        let filter = filter.unwrap_or_default().into_core().api()?;
        let tasks = core(ctx).api()?.my_tasks(who, &filter).await.api()?;
        Ok(tasks.into_iter().map(TaskObject).collect())
    }

    /// Notes on the clients of your book whose text contains `text` (any case; at least two
    /// characters, 200 at most), newest first, `first` at most (200).
    async fn search_notes(
        &self,
        ctx: &Context<'_>,
        text: String,
        #[graphql(default = 50)] first: i32,
    ) -> async_graphql::Result<Vec<NoteObject>> {
        let who = actor(ctx).api()?;
        let text = crate::text_input::at_most(Some(text), "text", crate::types::SEARCH_MAX)
            .api()?
            .unwrap_or_default();
        let first = u64::try_from(first.clamp(1, 200)).unwrap_or(50);
        let notes = core(ctx)
            .api()?
            .search_notes(who, &text, first)
            .await
            .api()?;
        Ok(notes.into_iter().map(NoteObject).collect())
    }

    /// The clients of your book where something happened most recently (`lastActivityAt`),
    /// newest first, `first` at most (50).
    async fn recent_clients(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: i32,
    ) -> async_graphql::Result<Vec<ClientObject>> {
        let who = actor(ctx).api()?;
        let first = u64::try_from(first.clamp(1, 50)).unwrap_or(10);
        let clients = core(ctx).api()?.recent_clients(who, first).await.api()?;
        Ok(clients.into_iter().map(ClientObject).collect())
    }

    /// One task you can see (its client in your book, or yours).
    async fn task(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<TaskObject> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "task").api()?;
        Ok(TaskObject(core(ctx).api()?.task(who, id).await.api()?))
    }

    /// Signals of your book (the open and acknowledged ones unless `filter.states` says),
    /// newest first, `first` at a time (at most 100), with their evidence and tasks.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn signals(
        &self,
        ctx: &Context<'_>,
        filter: Option<crate::types::SignalFilterInput>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<crate::types::SignalConnection> {
        crate::types::SignalConnection::load(ctx, filter, first, after).await
    }

    /// One signal of your book.
    async fn signal(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<crate::types::SignalObject> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "signal").api()?;
        Ok(crate::types::SignalObject(
            core(ctx).api()?.signal(who, id).await.api()?,
        ))
    }

    /// A meeting brief of a client of your book.
    async fn brief(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<crate::types::BriefObject> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "brief").api()?;
        Ok(crate::types::BriefObject(
            core(ctx).api()?.brief(who, id).await.api()?,
        ))
    }

    /// The teams you may see: all for an administrator, otherwise your own and those you lead.
    async fn teams(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TeamObject>> {
        let who = actor(ctx).api()?;
        let teams = core(ctx).api()?.teams(who).await.api()?;
        Ok(teams.into_iter().map(TeamObject).collect())
    }

    /// Every user (administrators only).
    async fn users(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        let who = actor(ctx).api()?;
        let users = core(ctx).api()?.auth().users(who).await.api()?;
        Ok(users.iter().map(User::from).collect())
    }

    /// Clients, `first` at a time (at most 100), ordered by name (the default), by rating
    /// score or by balance. A cursor belongs to its order.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn clients(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
        filter: Option<ClientFilter>,
        #[graphql(default)] order_by: ClientOrder,
    ) -> async_graphql::Result<ClientConnection> {
        let first = page_size(first, 20).api()?;
        let order: crm_core::clients::ClientOrder = order_by.into();
        let cursor = after
            .as_deref()
            .map(|c| decode_client_position(order, c))
            .transpose()
            .api()?;
        let filter = filter.unwrap_or_default().into_core().api()?;
        let page = core(ctx)
            .api()?
            .list_clients_ordered(actor(ctx).api()?, &filter, order, first, cursor.as_ref())
            .await
            .api()?;
        Ok(ClientConnection::new(page, order, cursor.is_some(), filter))
    }

    /// The transactions of your book whose category the categoriser was less sure of than
    /// `maxConfidence` (0 to 100; see `Transaction.categoryConfidence`), newest first, `first`
    /// at a time (at most 100): the rows a person should confirm or correct
    /// (`setTransactionCategory`). A person's choice, a paired own transfer, a reversed row
    /// and a pending row replaced by its booked one are never listed.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn transactions_to_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
        #[graphql(default_with = "crm_core::transactions::REVIEW_CONFIDENCE_BAR")]
        max_confidence: i32,
    ) -> async_graphql::Result<TransactionReviewConnection> {
        TransactionReviewConnection::load(ctx, first, after, max_confidence).await
    }

    /// One client. Opening a client is recorded in the audit log.
    async fn client(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ClientObject> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "client").api()?;
        let core = core(ctx).api()?;
        let client = core
            .client_for(who, id, crm_core::access::Need::Read)
            .await
            .api()?;
        core.record_client_view(who, id).await.api()?;
        Ok(ClientObject(client))
    }

    /// Headline figures of your book (the whole portfolio for an administrator).
    ///
    /// Costs 10 in the query's complexity (it reads monthly aggregates).
    #[graphql(complexity = "crate::cost::LIGHT + child_complexity")]
    async fn stats(&self, ctx: &Context<'_>) -> async_graphql::Result<Stats> {
        let who = actor(ctx).api()?;
        Ok(core(ctx).api()?.stats(who).await.api()?.into())
    }

    /// The portfolio view: grades, totals per bank, spending by category.
    ///
    /// Costs 30 in the query's complexity (three reads of aggregates over the book).
    #[graphql(complexity = "3 * crate::cost::LIGHT + child_complexity")]
    async fn portfolio(&self) -> Portfolio {
        Portfolio
    }

    /// The home bank's share of wallet over your book (the sum of its clients' figures) and
    /// the products its clients hold elsewhere, per kind.
    ///
    /// Costs 50 in the query's complexity (it reads six months of payments of the book).
    #[graphql(complexity = "crate::cost::HEAVY + child_complexity")]
    async fn book_wallet(&self, ctx: &Context<'_>) -> async_graphql::Result<BookWallet> {
        let _slot = crate::cost::analysis_slot(ctx).await?;
        let who = actor(ctx).api()?;
        Ok(core(ctx)
            .api()?
            .book_wallet(who, chrono::Utc::now())
            .await
            .api()?
            .into())
    }

    /// The banks the CRM is connected to.
    async fn banks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Bank>> {
        Ok(core(ctx)
            .api()?
            .banks()
            .all()
            .iter()
            .cloned()
            .map(Bank::from)
            .collect())
    }

    /// The latest bank sync runs, newest first (at most 100).
    async fn sync_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
    ) -> async_graphql::Result<Vec<SyncRun>> {
        let first = page_size(first, 20).api()?;
        Ok(core(ctx)
            .api()?
            .sync()
            .sync_runs(first)
            .await
            .api()?
            .into_iter()
            .map(SyncRun::from)
            .collect())
    }

    /// Questions the assistant can answer that fit this client's data (or the portfolio, without
    /// a client), in Russian unless `language` says otherwise.
    async fn assistant_suggestions(
        &self,
        ctx: &Context<'_>,
        client_id: Option<ID>,
        language: Option<AssistantLanguage>,
    ) -> async_graphql::Result<Vec<String>> {
        let who = actor(ctx).api()?;
        let client_id = client_id
            .as_ref()
            .map(|id| parse_id(id, "client"))
            .transpose()
            .api()?;
        let core = core(ctx).api()?;
        core.assistant()
            .suggestions(
                core.as_ref(),
                who,
                client_id,
                language.unwrap_or_default().into(),
                chrono::Utc::now(),
            )
            .await
            .api()
    }

    /// A conversation with the assistant and its turns (your own; administrators see all).
    async fn conversation(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<ConversationObject> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "conversation").api()?;
        Ok(ConversationObject(
            core(ctx)
                .api()?
                .assistant()
                .conversation(who, id)
                .await
                .api()?,
        ))
    }

    /// The category taxonomy with Russian and English names.
    async fn categories(&self) -> Vec<CategoryInfo> {
        CoreCategory::ALL
            .iter()
            .map(|c| {
                let (ru, en) = c.names();
                CategoryInfo {
                    code: (*c).into(),
                    name: ru.to_owned(),
                    name_en: en.to_owned(),
                    direction: c.direction().into(),
                    both_directions: !c.is_flow(),
                }
            })
            .collect()
    }

    /// The user category rules, in the order they are applied (highest priority, then oldest).
    async fn category_rules(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CategoryRule>> {
        Ok(core(ctx)
            .api()?
            .category_rules()
            .await
            .api()?
            .into_iter()
            .map(CategoryRule::from)
            .collect())
    }

    /// A re-categorisation run by id, or the latest one when `id` is absent.
    async fn recategorisation(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
    ) -> async_graphql::Result<Option<Recategorisation>> {
        let id = id
            .as_ref()
            .map(|id| parse_id(id, "recategorisation"))
            .transpose()
            .api()?;
        Ok(core(ctx)
            .api()?
            .recategorisation(id)
            .await
            .api()?
            .map(Recategorisation::from))
    }
}
