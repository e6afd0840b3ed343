use async_graphql::{Context, Object, ID};
use crm_core::auth::{LoginContext, LoginOutcome, UserChanges};
use crm_core::clients::{ClientChanges, NewClient};
use crm_core::transactions::NewManualTransaction;

use crate::assistant::ask;
use crate::context::{actor, core, request, RequestContext};
use crate::cursor::parse_id;
use crate::error::ApiResultExt;
use crate::types::*;

pub struct MutationRoot;

/// What a manager does to one bank link.
#[derive(Clone, Copy)]
enum LinkAction {
    Unlink,
    Relink,
    AskAgain,
}

/// Runs a link action for the caller and answers with the link as stored.
async fn on_link(
    ctx: &Context<'_>,
    link_id: &ID,
    action: LinkAction,
) -> async_graphql::Result<BankLinkObject> {
    let who = actor(ctx).api()?;
    let id = parse_id(link_id, "bank link").api()?;
    let core = core(ctx).api()?;
    core.check_link_access(who, id).await.api()?;
    let sync = core.sync();
    let link = match action {
        LinkAction::Unlink => sync.unlink_bank(who, id).await,
        LinkAction::Relink => sync.relink_bank(who, id).await,
        LinkAction::AskAgain => sync.request_consent_again(who, id).await,
    }
    .api()?;
    Ok(BankLinkObject(link))
}

/// What a login or a password change needs to know of the request.
fn login_context(req: &RequestContext, previous_token: Option<String>) -> LoginContext {
    LoginContext {
        ip: req.client_ip.clone(),
        user_agent: req.user_agent.clone(),
        previous_token,
    }
}

/// Sets the new session's cookie and answers with its user and expiry.
fn start_session(req: &RequestContext, outcome: LoginOutcome) -> LoginPayload {
    if let Some(cookies) = &req.cookies {
        cookies.set_session(&outcome.token, outcome.expires_at);
    }
    LoginPayload {
        user: User::from(&outcome.user),
        expires_at: outcome.expires_at,
    }
}

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Signs in and sets the session cookie. Failed attempts are throttled per account and per
    /// address; a successful one always starts a new session.
    async fn login(
        &self,
        ctx: &Context<'_>,
        username: String,
        password: String,
    ) -> async_graphql::Result<LoginPayload> {
        let req = request(ctx);
        let login_ctx = login_context(&req, req.session_token.clone());
        let outcome = core(ctx)
            .api()?
            .auth()
            .login(&username, &password, login_ctx)
            .await
            .api()?;
        Ok(start_session(&req, outcome))
    }

    /// Changes the caller's password (the new one: at least 12 characters). Every session of
    /// the user ends, open websockets included, and this browser gets a new one.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> async_graphql::Result<LoginPayload> {
        let who = crate::context::signed_in(ctx).api()?;
        let req = request(ctx);
        let outcome = core(ctx)
            .api()?
            .auth()
            .change_password(
                who,
                &current_password,
                &new_password,
                login_context(&req, None),
            )
            .await
            .api()?;
        Ok(start_session(&req, outcome))
    }

    /// Adds a user (administrators only).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> async_graphql::Result<User> {
        let who = actor(ctx).api()?;
        let user = core(ctx)
            .api()?
            .auth()
            .add_user(who, &input.username, &input.password, input.role.into())
            .await
            .api()?;
        Ok(User::from(&user))
    }

    /// Changes a user's role or disables them (administrators only, not themselves). Either
    /// signs the user out everywhere, open websockets included.
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateUserInput,
    ) -> async_graphql::Result<User> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "user").api()?;
        let changes = UserChanges {
            role: input.role.map(Into::into),
            disabled: input.disabled,
        };
        let user = core(ctx)
            .api()?
            .auth()
            .update_user(who, id, changes)
            .await
            .api()?;
        Ok(User::from(&user))
    }

    /// Gives a user a one-time temporary password (administrators; not themselves), shown
    /// once in the answer. Every session of the user ends; at the next login they can only
    /// choose a new password (`changePassword`); anything else answers
    /// `PASSWORD_CHANGE_REQUIRED`. Audited.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
    ) -> async_graphql::Result<TemporaryPassword> {
        let who = actor(ctx).api()?;
        let id = parse_id(&user_id, "user").api()?;
        let (user, password) = core(ctx)
            .api()?
            .auth()
            .reset_password(who, id)
            .await
            .api()?;
        Ok(TemporaryPassword {
            user: User::from(&user),
            password,
        })
    }

    /// Signs out everywhere: ends every session of the signed-in user (all browsers, open
    /// websockets) and clears this browser's cookie.
    async fn logout(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let req = request(ctx);
        if let Some(token) = &req.session_token {
            core(ctx).api()?.auth().logout(token).await.api()?;
        }
        if let Some(cookies) = &req.cookies {
            cookies.clear_session();
        }
        Ok(true)
    }

    async fn create_client(
        &self,
        ctx: &Context<'_>,
        input: CreateClientInput,
    ) -> async_graphql::Result<ClientObject> {
        let who = actor(ctx).api()?;
        let new = NewClient {
            display_name: input.display_name,
            email: input.email,
            phone: input.phone,
            status: input.status.map(Into::into),
        };
        Ok(ClientObject(
            core(ctx).api()?.create_client(who, new).await.api()?,
        ))
    }

    async fn update_client(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateClientInput,
    ) -> async_graphql::Result<ClientObject> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "client").api()?;
        let changes = ClientChanges {
            display_name: input.display_name,
            email: input.email,
            phone: input.phone,
            status: input.status.map(Into::into),
        };
        Ok(ClientObject(
            core(ctx)
                .api()?
                .update_client(who, id, changes)
                .await
                .api()?,
        ))
    }

    /// Deletes the client with all their links, accounts and transactions (managers). Every
    /// consent of the client is revoked at its bank first; one that cannot be revoked now is
    /// retried in the background.
    async fn delete_client(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "client").api()?;
        core(ctx).api()?.delete_client(who, id).await.api()?;
        Ok(true)
    }

    /// Creates a team (administrators); its lead, if given, joins it.
    async fn create_team(
        &self,
        ctx: &Context<'_>,
        name: String,
        lead_id: Option<ID>,
    ) -> async_graphql::Result<TeamObject> {
        let who = actor(ctx).api()?;
        let lead = lead_id
            .as_ref()
            .map(|id| parse_id(id, "user"))
            .transpose()
            .api()?;
        let team = core(ctx).api()?.create_team(who, &name, lead).await.api()?;
        Ok(TeamObject(team))
    }

    /// Renames a team or gives it a new lead (administrators; the lead, an active manager or
    /// administrator, joins the team and stops leading any other); `clearLead: true` leaves
    /// the team without a lead.
    async fn update_team(
        &self,
        ctx: &Context<'_>,
        id: ID,
        name: Option<String>,
        lead_id: Option<ID>,
        #[graphql(default)] clear_lead: bool,
    ) -> async_graphql::Result<TeamObject> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "team").api()?;
        let lead = lead_id
            .as_ref()
            .map(|id| parse_id(id, "user"))
            .transpose()
            .api()?;
        let lead = match (lead, clear_lead) {
            (Some(_), true) => {
                return Err(crate::error::ApiError::bad_input(
                    "give either `leadId` or `clearLead`, not both",
                )
                .into())
            }
            (Some(l), false) => Some(Some(l)),
            (None, true) => Some(None),
            (None, false) => None,
        };
        let team = core(ctx)
            .api()?
            .update_team(who, id, name.as_deref(), lead)
            .await
            .api()?;
        Ok(TeamObject(team))
    }

    /// Puts a user in a team, or in none with `teamId: null` (administrators). The clients
    /// the user owns move with them.
    async fn set_user_team(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        team_id: Option<ID>,
    ) -> async_graphql::Result<User> {
        let who = actor(ctx).api()?;
        let user_id = parse_id(&user_id, "user").api()?;
        let team_id = team_id
            .as_ref()
            .map(|id| parse_id(id, "team"))
            .transpose()
            .api()?;
        let user = core(ctx)
            .api()?
            .set_user_team(who, user_id, team_id)
            .await
            .api()?;
        Ok(User::from(&user))
    }

    /// Gives a client to another manager's book: administrators, or the lead of the client's
    /// team within the team. Audited.
    async fn assign_client(
        &self,
        ctx: &Context<'_>,
        client_id: ID,
        owner_id: ID,
    ) -> async_graphql::Result<ClientObject> {
        let who = actor(ctx).api()?;
        let client_id = parse_id(&client_id, "client").api()?;
        let owner_id = parse_id(&owner_id, "user").api()?;
        let client = core(ctx)
            .api()?
            .assign_client(who, client_id, owner_id)
            .await
            .api()?;
        Ok(ClientObject(client))
    }

    /// Shares a client with one more user until `until` (null: until withdrawn): its owner,
    /// its team's lead or an administrator may. Sharing again sets a new end. Audited.
    async fn share_client(
        &self,
        ctx: &Context<'_>,
        client_id: ID,
        user_id: ID,
        until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> async_graphql::Result<ShareObject> {
        let who = actor(ctx).api()?;
        let client_id = parse_id(&client_id, "client").api()?;
        let user_id = parse_id(&user_id, "user").api()?;
        let share = core(ctx)
            .api()?
            .share_client(who, client_id, user_id, until)
            .await
            .api()?;
        Ok(ShareObject(share))
    }

    /// Withdraws a share; true if there was one.
    async fn unshare_client(
        &self,
        ctx: &Context<'_>,
        client_id: ID,
        user_id: ID,
    ) -> async_graphql::Result<bool> {
        let who = actor(ctx).api()?;
        let client_id = parse_id(&client_id, "client").api()?;
        let user_id = parse_id(&user_id, "user").api()?;
        core(ctx)
            .api()?
            .unshare_client(who, client_id, user_id)
            .await
            .api()
    }

    /// Adds a note to a client of your book (`occurredAt`: when it happened, now by default;
    /// never in the future). Plain text, 20 000 characters at most. Audited (without its text).
    async fn add_note(
        &self,
        ctx: &Context<'_>,
        client_id: ID,
        kind: NoteKind,
        body: String,
        occurred_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> async_graphql::Result<NoteObject> {
        let who = actor(ctx).api()?;
        let client_id = parse_id(&client_id, "client").api()?;
        let note = core(ctx)
            .api()?
            .add_note(who, client_id, kind.into(), &body, occurred_at)
            .await
            .api()?;
        Ok(NoteObject(note))
    }

    /// Changes your note (administrators: any); absent fields stay as they are.
    async fn edit_note(
        &self,
        ctx: &Context<'_>,
        id: ID,
        kind: Option<NoteKind>,
        body: Option<String>,
        occurred_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> async_graphql::Result<NoteObject> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "note").api()?;
        let note = core(ctx)
            .api()?
            .edit_note(who, id, kind.map(Into::into), body.as_deref(), occurred_at)
            .await
            .api()?;
        Ok(NoteObject(note))
    }

    /// Deletes your note (administrators: any).
    async fn delete_note(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "note").api()?;
        core(ctx).api()?.delete_note(who, id).await.api()?;
        Ok(true)
    }

    /// Creates a task (not as a viewer): about a client of your book or not, for you or for a
    /// manager who can see the client. Audited; on the client's timeline.
    async fn create_task(
        &self,
        ctx: &Context<'_>,
        input: CreateTaskInput,
    ) -> async_graphql::Result<TaskObject> {
        let who = actor(ctx).api()?;
        let new = input.into_core().api()?;
        Ok(TaskObject(
            core(ctx).api()?.create_task(who, new).await.api()?,
        ))
    }

    /// Changes a task's title, details, due time, assignee or priority (its assignee, its
    /// creator, whoever may change its client, an administrator).
    async fn update_task(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateTaskInput,
    ) -> async_graphql::Result<TaskObject> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "task").api()?;
        let patch = input.into_core().api()?;
        Ok(TaskObject(
            core(ctx).api()?.update_task(who, id, patch).await.api()?,
        ))
    }

    /// Completes an open task.
    async fn complete_task(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<TaskObject> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "task").api()?;
        Ok(TaskObject(
            core(ctx).api()?.complete_task(who, id).await.api()?,
        ))
    }

    /// Marks an open signal as seen (it stays listed until done or dismissed).
    async fn acknowledge_signal(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<crate::types::SignalObject> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "signal").api()?;
        Ok(crate::types::SignalObject(
            core(ctx).api()?.acknowledge_signal(who, id).await.api()?,
        ))
    }

    /// Dismisses an open or acknowledged signal; `reason` (plain text, at most 1 000
    /// characters) is required and kept. Its open task is cancelled, and the fact is not
    /// raised again.
    async fn dismiss_signal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> async_graphql::Result<crate::types::SignalObject> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "signal").api()?;
        Ok(crate::types::SignalObject(
            core(ctx)
                .api()?
                .dismiss_signal(who, id, &reason)
                .await
                .api()?,
        ))
    }

    /// Writes a meeting brief of a client of your book (viewers may not) from its data now:
    /// what changed since the last contact, open tasks and signals, products at other banks,
    /// the best two offers and three talking points, in `lang`. Stored, on the timeline and
    /// audited; with a model configured, its rewording is kept only when every figure is.
    /// Costs 50 in the query's complexity (it reads up to a year of the client's rows).
    #[graphql(complexity = "crate::cost::HEAVY + child_complexity")]
    async fn generate_brief(
        &self,
        ctx: &Context<'_>,
        client_id: ID,
        #[graphql(default)] lang: crate::types::Lang,
    ) -> async_graphql::Result<crate::types::BriefObject> {
        let who = actor(ctx).api()?;
        let client_id = parse_id(&client_id, "client").api()?;
        Ok(crate::types::BriefObject(
            core(ctx)
                .api()?
                .generate_brief(who, client_id, lang.into(), chrono::Utc::now())
                .await
                .api()?,
        ))
    }

    /// Computes a client's signals now (they are computed after each sync and daily anyway)
    /// and returns its open ones. Needs the right to change the client.
    async fn refresh_signals(
        &self,
        ctx: &Context<'_>,
        client_id: ID,
    ) -> async_graphql::Result<Vec<crate::types::SignalObject>> {
        let who = actor(ctx).api()?;
        let client_id = parse_id(&client_id, "client").api()?;
        let core = core(ctx).api()?;
        core.client_for(who, client_id, crm_core::access::Need::Change)
            .await
            .api()?;
        core.compute_signals(Some(&[client_id]), chrono::Utc::now())
            .await
            .api()?;
        let filter = crm_core::signals::SignalFilter {
            client_id: Some(client_id),
            ..Default::default()
        };
        let page = core
            .signals(who, &filter, crm_core::signals::PAGE_MAX, None)
            .await
            .api()?;
        Ok(page
            .items
            .into_iter()
            .map(crate::types::SignalObject)
            .collect())
    }

    /// Cancels an open task.
    async fn cancel_task(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<TaskObject> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "task").api()?;
        Ok(TaskObject(
            core(ctx).api()?.cancel_task(who, id).await.api()?,
        ))
    }

    /// Opens a completed or cancelled task again.
    async fn reopen_task(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<TaskObject> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "task").api()?;
        Ok(TaskObject(
            core(ctx).api()?.reopen_task(who, id).await.api()?,
        ))
    }

    /// Sets your time zone (an IANA name such as `Europe/Moscow` or `Asia/Vladivostok`): the
    /// day "due today" means.
    async fn set_my_time_zone(
        &self,
        ctx: &Context<'_>,
        time_zone: String,
    ) -> async_graphql::Result<User> {
        let who = actor(ctx).api()?;
        let core = core(ctx).api()?;
        core.set_time_zone(who, &time_zone).await.api()?;
        Ok(User::from(&core.auth().user(who.user_id).await.api()?))
    }

    /// Records a transaction by hand; it is categorised like an imported one.
    async fn create_transaction(
        &self,
        ctx: &Context<'_>,
        input: CreateTransactionInput,
    ) -> async_graphql::Result<TransactionObject> {
        let who = actor(ctx).api()?;
        let new = NewManualTransaction {
            client_id: parse_id(&input.client_id, "client").api()?,
            account_id: input
                .account_id
                .as_ref()
                .map(|id| parse_id(id, "account"))
                .transpose()
                .api()?,
            booked_at: input.booked_at,
            amount: input.amount,
            currency: input.currency,
            direction: input.direction.into(),
            description: input.description,
            merchant: input.merchant,
            mcc: input.mcc,
        };
        Ok(TransactionObject(
            core(ctx)
                .api()?
                .create_manual_transaction(who, new)
                .await
                .api()?,
        ))
    }

    /// Links a client to a bank under the bank's client id (e.g. `team200-1`) and asks the bank
    /// for a consent. Banks that need the client's approval show `AWAITING_AUTHORIZATION` until
    /// the client approves (a sync then finds the consent); a request with no answer for
    /// `CONSENT_PENDING_MAX_DAYS` shows as `CONSENT_NO_ANSWER` (banks never say "rejected").
    async fn link_bank(
        &self,
        ctx: &Context<'_>,
        client_id: ID,
        bank: String,
        external_client_id: String,
    ) -> async_graphql::Result<BankLinkObject> {
        let who = actor(ctx).api()?;
        let client_id = parse_id(&client_id, "client").api()?;
        let core = core(ctx).api()?;
        core.client_for(who, client_id, crm_core::access::Need::Change)
            .await
            .api()?;
        let link = core
            .sync()
            .link_bank(who, client_id, &bank, &external_client_id)
            .await
            .api()?;
        Ok(BankLinkObject(link))
    }

    /// Ends a bank link (managers): the consent is revoked at the bank (`DELETE`), the link is
    /// `UNLINKED` and no longer synced; the client's accounts and transactions stay. A bank that
    /// cannot be reached is retried in the background (the bank's `pendingRevocations`).
    async fn unlink_bank(
        &self,
        ctx: &Context<'_>,
        link_id: ID,
    ) -> async_graphql::Result<BankLinkObject> {
        on_link(ctx, &link_id, LinkAction::Unlink).await
    }

    /// Links an unlinked bank again (managers): it is synced again and a new consent is asked
    /// for. Refused (`BAD_USER_INPUT`) for a link that is not unlinked (`requestConsentAgain`).
    async fn relink_bank(
        &self,
        ctx: &Context<'_>,
        link_id: ID,
    ) -> async_graphql::Result<BankLinkObject> {
        on_link(ctx, &link_id, LinkAction::Relink).await
    }

    /// Asks the bank again for the client's consent on a link whose consent does not work: no
    /// answer from the client (`CONSENT_NO_ANSWER`), rejected, revoked, expired or missing.
    /// Manager role; audited. Refused (`BAD_USER_INPUT`) when the consent is authorised.
    async fn request_consent_again(
        &self,
        ctx: &Context<'_>,
        link_id: ID,
    ) -> async_graphql::Result<BankLinkObject> {
        on_link(ctx, &link_id, LinkAction::AskAgain).await
    }

    /// Queues a sync of the links in scope and returns the run at once; a job runner does the
    /// work. One client must be in your book; every client (both absent) or a whole bank is an
    /// administrator's run. Follow it with the `syncProgress` subscription or `syncRuns`.
    async fn sync_now(
        &self,
        ctx: &Context<'_>,
        bank: Option<String>,
        client_id: Option<ID>,
    ) -> async_graphql::Result<SyncRun> {
        let who = actor(ctx).api()?;
        let scope = crm_core::sync::SyncScope {
            bank,
            client_id: client_id
                .as_ref()
                .map(|id| parse_id(id, "client"))
                .transpose()
                .api()?,
        };
        let core = core(ctx).api()?;
        match scope.client_id {
            // One client: it must be in the caller's book (the foreign-key error of an unknown
            // id never reaches the database).
            Some(id) => {
                core.client_for(who, id, crm_core::access::Need::Change)
                    .await
                    .api()?;
            }
            // Every client (or every client of a bank): an administrator's run.
            None => who.require(crm_core::domain::Role::Admin).api()?,
        }
        let run = core.sync().request_sync(who, &scope).await.api()?;
        Ok(run.into())
    }

    /// Recomputes a client's rating now (it is also recomputed after each sync, manual entry
    /// and recategorisation). Null when the client has no data to rate.
    async fn recompute_rating(
        &self,
        ctx: &Context<'_>,
        client_id: ID,
    ) -> async_graphql::Result<Option<Rating>> {
        let who = actor(ctx).api()?;
        let id = parse_id(&client_id, "client").api()?;
        let rating = core(ctx).api()?.recompute_rating(who, id).await.api()?;
        Ok(rating.as_ref().map(Rating::from))
    }

    /// Sets a transaction's category by hand (`categorySource: MANUAL`); automatic
    /// categorisation never overrides it.
    async fn set_transaction_category(
        &self,
        ctx: &Context<'_>,
        id: ID,
        category: Category,
    ) -> async_graphql::Result<TransactionObject> {
        let who = actor(ctx).api()?;
        let id = parse_id(&id, "transaction").api()?;
        Ok(TransactionObject(
            core(ctx)
                .api()?
                .set_transaction_category(who, id, category.into())
                .await
                .api()?,
        ))
    }

    /// Adds a category rule (MANAGER or higher) and re-categorises stored transactions in the
    /// background (not those categorised by hand); follow it with `recategorisation(id)`.
    /// `priority` defaults to 0 (-1000..1000, higher wins).
    async fn create_category_rule(
        &self,
        ctx: &Context<'_>,
        pattern: String,
        field: RuleField,
        category: Category,
        priority: Option<i32>,
    ) -> async_graphql::Result<CreateCategoryRulePayload> {
        let who = actor(ctx).api()?;
        let (rule, run) = core(ctx)
            .api()?
            .create_category_rule(
                who,
                crm_core::category_rules::NewCategoryRule {
                    pattern,
                    field: field.into(),
                    category: category.into(),
                    priority,
                },
            )
            .await
            .api()?;
        Ok(CreateCategoryRulePayload {
            rule: rule.into(),
            recategorisation: run.into(),
        })
    }

    /// Deletes a category rule (MANAGER or higher) and re-categorises stored transactions in
    /// the background.
    async fn delete_category_rule(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<DeleteCategoryRulePayload> {
        let who = actor(ctx).api()?;
        let rule_id = parse_id(&id, "category rule").api()?;
        let run = core(ctx)
            .api()?
            .delete_category_rule(who, rule_id)
            .await
            .api()?;
        Ok(DeleteCategoryRulePayload {
            id,
            recategorisation: run.into(),
        })
    }

    /// Asks the assistant and returns the whole answer (the `assistantStream` subscription gives
    /// the same answer as it is written). Without `conversationId` a new conversation starts;
    /// with it, the question is a follow-up that sees the earlier turns. Errors:
    /// `BAD_USER_INPUT` (empty or longer than 2000 characters), `NOT_FOUND`, `FORBIDDEN`
    /// (someone else's conversation), `RATE_LIMITED`, `AI_UNAVAILABLE`.
    async fn ask_assistant(
        &self,
        ctx: &Context<'_>,
        question: String,
        client_id: Option<ID>,
        conversation_id: Option<ID>,
    ) -> async_graphql::Result<AssistantAnswer> {
        use futures_util::StreamExt;
        let mut stream = ask(ctx, question, client_id, conversation_id).await?;
        let mut answer = String::new();
        while let Some(event) = stream.next().await {
            match event.api()? {
                crm_core::assistant::AnswerEvent::Delta { text, .. } => answer.push_str(&text),
                crm_core::assistant::AnswerEvent::Done(summary) => {
                    return Ok(AssistantAnswer::new(answer, summary))
                }
            }
        }
        Err(
            crate::error::ApiError::internal("an assistant answer ended without its last event")
                .into(),
        )
    }
}
