//! Clients: people the bank serves, with their contact data and status.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Set,
};

use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::domain::{
    like_pattern, normalize_for_search, phone_key, phone_search_keys, ClientStatus, Grade, Role,
    TimelineKind,
};
use crate::entity::{bank_links, clients, ratings};
use crate::error::{CoreError, CoreResult};
use crate::timeline::{EventData, NewEvent};
use crate::{Core, Page};

#[derive(Clone, Debug)]
pub struct Client {
    pub id: i64,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: ClientStatus,
    /// The key the list is ordered by (normalised name).
    pub sort_name: String,
    /// The manager whose book the client is in (`None`: not assigned yet).
    pub owner_id: Option<i64>,
    /// The owner's team.
    pub team_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When something last happened to the client (its timeline last grew).
    pub last_activity_at: Option<DateTime<Utc>>,
}

impl TryFrom<clients::Model> for Client {
    type Error = CoreError;
    fn try_from(m: clients::Model) -> CoreResult<Self> {
        Ok(Client {
            id: m.id,
            status: ClientStatus::parse(&m.status)?,
            display_name: m.display_name,
            email: m.email,
            phone: m.phone,
            sort_name: m.sort_name,
            owner_id: m.owner_id,
            team_id: m.team_id,
            created_at: m.created_at,
            updated_at: m.updated_at,
            last_activity_at: m.last_activity_at,
        })
    }
}

/// Fields of a new client.
#[derive(Clone, Debug, Default)]
pub struct NewClient {
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: Option<ClientStatus>,
}

/// A partial update: `None` leaves a field as it is; for email and phone an empty string clears it.
#[derive(Clone, Debug, Default)]
pub struct ClientChanges {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: Option<ClientStatus>,
}

#[derive(Clone, Debug, Default)]
pub struct ClientFilter {
    /// Matches name, e-mail, phone or the text of the client's notes, case-insensitively in
    /// any script.
    pub search: Option<String>,
    pub rating: Option<Grade>,
    /// A bank code the client has a link with.
    pub bank: Option<String>,
    pub status: Option<ClientStatus>,
}

/// Position in the client list, which is ordered by normalised name (`sort_name`) then id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCursor {
    pub name: String,
    pub id: i64,
}

/// The orders the client list can be read in. Each is total (ties broken by name, then id), so
/// cursors are stable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ClientOrder {
    /// Alphabetical (case-insensitive, ё as е), then id.
    #[default]
    Name,
    /// Rating score, highest first; unrated clients last; then by name.
    ScoreDesc,
    /// Total balance in the base currency, largest first; then by name.
    BalanceDesc,
}

/// Position in a list read in a [`ClientOrder`]: the order's key (score, -1 when unrated, or
/// balance in minor units; 0 for names), then the name and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientPosition {
    pub key: i64,
    pub name: String,
    pub id: i64,
}

/// A client of an ordered list with its sort key.
#[derive(Clone, Debug)]
pub struct ListedClient {
    pub client: Client,
    pub key: i64,
}

struct KeyedClient(clients::Model, i64);

impl sea_orm::FromQueryResult for KeyedClient {
    fn from_query_result(row: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(KeyedClient(
            clients::Model::from_query_result(row, pre)?,
            row.try_get(pre, "sort_key")?,
        ))
    }
}

fn clean_name(name: &str) -> CoreResult<String> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let len = name.chars().count();
    if len == 0 || len > 200 {
        return Err(CoreError::invalid(
            "displayName must be 1 to 200 characters",
        ));
    }
    Ok(name)
}

fn clean_email(email: &str) -> CoreResult<Option<String>> {
    let email = email.trim();
    if email.is_empty() {
        return Ok(None);
    }
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !valid {
        return Err(CoreError::invalid(format!(
            "{email:?} is not an e-mail address"
        )));
    }
    Ok(Some(email.to_owned()))
}

fn clean_phone(phone: &str) -> CoreResult<Option<String>> {
    let phone = phone.trim();
    if phone.is_empty() {
        return Ok(None);
    }
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let allowed = phone
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()".contains(c));
    if !allowed || !(5..=15).contains(&digits) {
        return Err(CoreError::invalid(format!(
            "{phone:?} is not a phone number (5 to 15 digits, optionally with + - ( ) and spaces)"
        )));
    }
    Ok(Some(phone.to_owned()))
}

/// What a client is found by: the name, the e-mail (lower-cased) and the phone as written and
/// as its one digit form ([`phone_key`]), so any spelling of the number finds it.
pub(crate) fn search_text(name: &str, email: Option<&str>, phone: Option<&str>) -> String {
    let phone_digits: Option<String> = phone.and_then(phone_key);
    let parts = [Some(name), email, phone, phone_digits.as_deref()];
    normalize_for_search(&parts.into_iter().flatten().collect::<Vec<_>>().join(" "))
}

/// Recomputes every client's search text (after a change of how it is built; see
/// [`crm_migration::CLIENT_SEARCH_TEXT`]). Returns how many rows changed.
pub(crate) async fn rebuild_search_text<C: sea_orm::ConnectionTrait>(conn: &C) -> CoreResult<u64> {
    let rows = clients::Entity::find().all(conn).await?;
    let mut changed = 0;
    for row in rows {
        let text = search_text(
            &row.display_name,
            row.email.as_deref(),
            row.phone.as_deref(),
        );
        if text == row.search_text {
            continue;
        }
        clients::Entity::update_many()
            .col_expr(clients::Column::SearchText, Expr::value(text))
            .filter(clients::Column::Id.eq(row.id))
            .exec(conn)
            .await?;
        changed += 1;
    }
    Ok(changed)
}

/// `filter` on the clients `actor` may see (see [`crate::access`]).
fn apply_filter(
    actor: &Actor,
    mut q: Select<clients::Entity>,
    filter: &ClientFilter,
) -> Select<clients::Entity> {
    if let Some(visible) = crate::access::visible_condition(actor, Utc::now()) {
        q = q.filter(visible);
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(normalize_for_search)
        .filter(|s| !s.is_empty())
    {
        let like = |needle: &str| {
            Expr::col(clients::Column::SearchText)
                .like(sea_orm::sea_query::LikeExpr::new(like_pattern(needle)).escape('\\'))
        };
        // A phone number matches in any spelling; the text as typed still matches too.
        let mut any = Condition::any().add(like(&search));
        for key in phone_search_keys(&search) {
            any = any.add(like(&key));
        }
        // A manager finds a client by what their notes say ("вклад", "ипотека").
        any = any
            .add(clients::Column::Id.in_subquery(crate::notes::clients_with_notes_like(&search)));
        q = q.filter(any);
    }
    if let Some(status) = filter.status {
        q = q.filter(clients::Column::Status.eq(status.as_str()));
    }
    if let Some(grade) = filter.rating {
        q = q.filter(
            clients::Column::Id.in_subquery(
                Query::select()
                    .column(ratings::Column::ClientId)
                    .from(ratings::Entity)
                    .and_where(ratings::Column::Grade.eq(grade.as_str()))
                    .to_owned(),
            ),
        );
    }
    if let Some(bank) = filter
        .bank
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        q = q.filter(
            clients::Column::Id.in_subquery(
                Query::select()
                    .column(bank_links::Column::ClientId)
                    .from(bank_links::Entity)
                    .and_where(bank_links::Column::BankCode.eq(bank.to_lowercase()))
                    .to_owned(),
            ),
        );
    }
    q
}

impl Core {
    pub async fn client(&self, id: i64) -> CoreResult<Client> {
        clients::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .ok_or_else(|| CoreError::not_found("client", id))?
            .try_into()
    }

    /// Several clients at once (for data loaders), keyed by id; missing ids are simply absent.
    pub async fn clients_by_ids(&self, ids: &[i64]) -> CoreResult<HashMap<i64, Client>> {
        let rows = clients::Entity::find()
            .filter(clients::Column::Id.is_in(ids.iter().copied()))
            .all(self.db.conn())
            .await?;
        rows.into_iter()
            .map(|m| Client::try_from(m).map(|c| (c.id, c)))
            .collect()
    }

    /// One page of the clients `actor` sees, in alphabetical order (case-insensitive, ё as е),
    /// then by id: a stable order for cursors.
    pub async fn list_clients(
        &self,
        actor: &Actor,
        filter: &ClientFilter,
        first: u64,
        after: Option<&ClientCursor>,
    ) -> CoreResult<Page<Client>> {
        let mut q = apply_filter(actor, clients::Entity::find(), filter);
        if let Some(c) = after {
            q = q.filter(
                Condition::any()
                    .add(clients::Column::SortName.gt(c.name.as_str()))
                    .add(
                        Condition::all()
                            .add(clients::Column::SortName.eq(c.name.as_str()))
                            .add(clients::Column::Id.gt(c.id)),
                    ),
            );
        }
        // A book is read through its own indexes (owner, team, shares) and its few thousand
        // rows sorted; walking the whole portfolio's name index to find them (the plan SQLite
        // picks for a plain `ORDER BY sort_name`) cost a manager of 2 000 clients in 100 000
        // five times the page. An administrator's list (no condition) walks the index.
        let q = if crate::access::visible_condition(actor, Utc::now()).is_some() {
            q.order_by(Expr::cust("clients.sort_name || ''"), sea_orm::Order::Asc)
        } else {
            q.order_by_asc(clients::Column::SortName)
        };
        let rows = q
            .order_by_asc(clients::Column::Id)
            .limit(first + 1)
            .all(self.db.conn())
            .await?;
        Page::from_overfetch(rows, first, Client::try_from)
    }

    /// One page of clients in `order`. Score and balance orders compute their key per client
    /// (an indexed subquery each) and sort the filtered clients: fine for thousands of clients.
    pub async fn list_clients_ordered(
        &self,
        actor: &Actor,
        filter: &ClientFilter,
        order: ClientOrder,
        first: u64,
        after: Option<&ClientPosition>,
    ) -> CoreResult<Page<ListedClient>> {
        let key = match order {
            ClientOrder::Name => {
                let cursor = after.map(|p| ClientCursor {
                    name: p.name.clone(),
                    id: p.id,
                });
                let page = self
                    .list_clients(actor, filter, first, cursor.as_ref())
                    .await?;
                return Ok(Page {
                    has_next: page.has_next,
                    items: page
                        .items
                        .into_iter()
                        .map(|client| ListedClient { client, key: 0 })
                        .collect(),
                });
            }
            ClientOrder::ScoreDesc => Expr::cust(
                "COALESCE((SELECT ratings.score FROM ratings WHERE ratings.client_id = clients.id), -1)",
            ),
            // The currency is a parsed ISO code (three letters), safe as a literal; a literal
            // keeps the key expression free of placeholders, as it appears three times.
            ClientOrder::BalanceDesc => Expr::cust(format!(
                concat!(
                    "COALESCE((SELECT SUM(accounts.balance_minor) FROM accounts \
                     WHERE accounts.client_id = clients.id AND accounts.currency = '{}' AND ",
                    crate::accounts::asset_sql!(),
                    "), 0)"
                ),
                self.settings.base_currency.as_str()
            )),
        };
        let key = Expr::expr(key).cast_as(sea_orm::sea_query::Alias::new("BIGINT"));
        let mut q =
            apply_filter(actor, clients::Entity::find(), filter).column_as(key.clone(), "sort_key");
        if let Some(p) = after {
            q = q.filter(
                Condition::any().add(Expr::expr(key.clone()).lt(p.key)).add(
                    Condition::all().add(Expr::expr(key.clone()).eq(p.key)).add(
                        Condition::any()
                            .add(clients::Column::SortName.gt(p.name.as_str()))
                            .add(
                                Condition::all()
                                    .add(clients::Column::SortName.eq(p.name.as_str()))
                                    .add(clients::Column::Id.gt(p.id)),
                            ),
                    ),
                ),
            );
        }
        let rows: Vec<KeyedClient> = q
            .order_by(key, sea_orm::Order::Desc)
            .order_by_asc(clients::Column::SortName)
            .order_by_asc(clients::Column::Id)
            .limit(first + 1)
            .into_model::<KeyedClient>()
            .all(self.db.conn())
            .await?;
        Page::from_overfetch(rows, first, |KeyedClient(m, key)| {
            Ok(ListedClient {
                client: Client::try_from(m)?,
                key,
            })
        })
    }

    /// How many clients `actor` sees that match `filter`.
    pub async fn count_clients(&self, actor: &Actor, filter: &ClientFilter) -> CoreResult<u64> {
        Ok(apply_filter(actor, clients::Entity::find(), filter)
            .count(self.db.conn())
            .await?)
    }

    pub async fn create_client(&self, actor: &Actor, input: NewClient) -> CoreResult<Client> {
        actor.require(Role::Manager)?;
        let display_name = clean_name(&input.display_name)?;
        let email = input
            .email
            .as_deref()
            .map(clean_email)
            .transpose()?
            .flatten();
        let phone = input
            .phone
            .as_deref()
            .map(clean_phone)
            .transpose()?
            .flatten();
        let now = Utc::now();
        let model = clients::ActiveModel {
            search_text: Set(search_text(
                &display_name,
                email.as_deref(),
                phone.as_deref(),
            )),
            sort_name: Set(normalize_for_search(&display_name)),
            display_name: Set(display_name),
            email: Set(email),
            phone: Set(phone),
            status: Set(input
                .status
                .unwrap_or(ClientStatus::Active)
                .as_str()
                .to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        let txn = self.db.begin_write().await?;
        // New clients are in their creator's book (and team).
        let creator = crate::entity::users::Entity::find_by_id(actor.user_id)
            .one(&txn)
            .await?;
        let mut model = model;
        model.owner_id = Set(creator.as_ref().map(|u| u.id));
        model.team_id = Set(creator.and_then(|u| u.team_id));
        let model = model.insert(&txn).await?;
        crate::timeline::record(
            &txn,
            NewEvent::new(model.id, TimelineKind::ClientCreated, EventData::Plain)
                .at(now)
                .by(actor),
        )
        .await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("client.create")
                .actor(actor)
                .entity("client", model.id),
        )
        .await?;
        txn.commit().await?;
        self.announce_timeline(model.id);
        model.try_into()
    }

    /// The clients of `actor`'s book where something happened most recently (their timeline
    /// grew), newest first, `first` at most (50).
    pub async fn recent_clients(&self, actor: &Actor, first: u64) -> CoreResult<Vec<Client>> {
        let mut q = clients::Entity::find().filter(clients::Column::LastActivityAt.is_not_null());
        if let Some(cond) = crate::access::visible_condition(actor, Utc::now()) {
            q = q.filter(cond);
        }
        q.order_by_desc(clients::Column::LastActivityAt)
            .order_by_desc(clients::Column::Id)
            .limit(first.clamp(1, 50))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(Client::try_from)
            .collect()
    }

    pub async fn update_client(
        &self,
        actor: &Actor,
        id: i64,
        changes: ClientChanges,
    ) -> CoreResult<Client> {
        self.client_for(actor, id, crate::access::Need::Change)
            .await?;
        let txn = self.db.begin_write().await?;
        let current = clients::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| CoreError::not_found("client", id))?;
        let display_name = match &changes.display_name {
            Some(n) => clean_name(n)?,
            None => current.display_name.clone(),
        };
        let email = match &changes.email {
            Some(e) => clean_email(e)?,
            None => current.email.clone(),
        };
        let phone = match &changes.phone {
            Some(p) => clean_phone(p)?,
            None => current.phone.clone(),
        };
        let mut changed: Vec<&str> = Vec::new();
        if display_name != current.display_name {
            changed.push("displayName");
        }
        if email != current.email {
            changed.push("email");
        }
        if phone != current.phone {
            changed.push("phone");
        }
        let mut active: clients::ActiveModel = current.into();
        if let Some(status) = changes.status {
            active.status = Set(status.as_str().to_owned());
            changed.push("status");
        }
        active.search_text = Set(search_text(
            &display_name,
            email.as_deref(),
            phone.as_deref(),
        ));
        active.sort_name = Set(normalize_for_search(&display_name));
        active.display_name = Set(display_name);
        active.email = Set(email);
        active.phone = Set(phone);
        active.updated_at = Set(Utc::now());
        let model = active.update(&txn).await?;
        if !changed.is_empty() {
            let fields = changed
                .iter()
                .map(|f| match *f {
                    "displayName" => "name".to_owned(),
                    other => other.to_owned(),
                })
                .collect();
            crate::timeline::record(
                &txn,
                NewEvent::new(id, TimelineKind::ClientEdited, EventData::Edited { fields })
                    .by(actor),
            )
            .await?;
        }
        crate::audit::record_in(
            &txn,
            AuditEvent::new("client.update")
                .actor(actor)
                .entity("client", id)
                .detail("fields", changed.clone()),
        )
        .await?;
        txn.commit().await?;
        if !changed.is_empty() {
            self.announce_timeline(id);
        }
        model.try_into()
    }

    /// Deletes a client with its links, accounts and transactions. Every consent of the client
    /// is revoked at its bank first; a bank that cannot be reached keeps a pending revocation,
    /// which a background job finishes (the bank's status counts them).
    pub async fn delete_client(&self, actor: &Actor, id: i64) -> CoreResult<()> {
        self.client_for(actor, id, crate::access::Need::Delete)
            .await?;
        let pending = self.sync.revoke_client_consents(actor, id).await?;
        let txn = self.db.begin_write().await?;
        let removed = clients::Entity::delete_by_id(id).exec(&txn).await?;
        if removed.rows_affected == 0 {
            return Err(CoreError::not_found("client", id));
        }
        crate::audit::record_in(
            &txn,
            AuditEvent::new("client.delete")
                .actor(actor)
                .entity("client", id)
                .detail("pendingRevocations", pending),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Records that `actor` opened a client's page; repeated views by the same user within
    /// `audit_view_window` (`AUDIT_VIEW_WINDOW_SECS`, 0: every view) are one.
    pub async fn record_client_view(&self, actor: &Actor, client_id: i64) -> CoreResult<()> {
        self.audit
            .record_view(actor, "client.view", "client", client_id)
            .await
    }
}

impl Core {
    /// The client `id` if `actor` may do `need` with it: `NOT_FOUND` when it is outside their
    /// view (or does not exist), `FORBIDDEN` when they see it but may not do this. Refusals of
    /// an existing client are audited (`authz.denied`).
    pub async fn client_for(
        &self,
        actor: &Actor,
        id: i64,
        need: crate::access::Need,
    ) -> CoreResult<Client> {
        let mut q = clients::Entity::find_by_id(id);
        if let Some(cond) = crate::access::visible_condition(actor, Utc::now()) {
            q = q.filter(cond);
        }
        let Some(model) = q.one(self.db.conn()).await? else {
            if clients::Entity::find_by_id(id)
                .one(self.db.conn())
                .await?
                .is_some()
            {
                self.deny(actor, id, need, "outside the user's book")
                    .await?;
            }
            return Err(CoreError::not_found("client", id));
        };
        let allowed = match (actor.role, need) {
            (_, crate::access::Need::Read) => true,
            (Role::Admin, _) => true,
            (Role::Viewer, _) => false,
            (Role::Manager, crate::access::Need::Change) => true,
            (Role::Manager, crate::access::Need::Delete | crate::access::Need::Share) => {
                model.owner_id == Some(actor.user_id) || self.leads(actor, model.team_id).await?
            }
            (Role::Manager, crate::access::Need::Assign) => {
                self.leads(actor, model.team_id).await?
            }
        };
        if !allowed {
            self.deny(actor, id, need, "not allowed for this user")
                .await?;
            return Err(CoreError::Forbidden(format!(
                "you may not {} this client",
                need.as_str()
            )));
        }
        model.try_into()
    }

    /// Whether `actor` may see client `id` (nothing is audited: for filtering events).
    pub async fn sees_client(&self, actor: &Actor, id: i64) -> CoreResult<bool> {
        let Some(cond) = crate::access::visible_condition(actor, Utc::now()) else {
            return Ok(true);
        };
        Ok(clients::Entity::find_by_id(id)
            .filter(cond)
            .one(self.db.conn())
            .await?
            .is_some())
    }

    /// Whether `actor` leads the team `team_id`.
    async fn leads(&self, actor: &Actor, team_id: Option<i64>) -> CoreResult<bool> {
        let Some(team_id) = team_id else {
            return Ok(false);
        };
        Ok(crate::entity::teams::Entity::find_by_id(team_id)
            .one(self.db.conn())
            .await?
            .is_some_and(|t| t.lead_user_id == Some(actor.user_id)))
    }

    async fn deny(
        &self,
        actor: &Actor,
        client_id: i64,
        need: crate::access::Need,
        why: &str,
    ) -> CoreResult<()> {
        tracing::warn!(
            user = actor.user_id,
            client = client_id,
            operation = need.as_str(),
            "access refused"
        );
        self.audit
            .record(
                AuditEvent::new("authz.denied")
                    .actor(actor)
                    .entity("client", client_id)
                    .detail("operation", need.as_str())
                    .detail("reason", why),
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_contact_data() {
        assert_eq!(
            clean_name("  Иван   Петров ").ok().as_deref(),
            Some("Иван Петров")
        );
        assert!(clean_name("   ").is_err());
        assert_eq!(
            clean_email("a@b.ru").ok().flatten().as_deref(),
            Some("a@b.ru")
        );
        assert_eq!(clean_email("").ok().flatten(), None);
        assert!(clean_email("a b@c.ru").is_err());
        assert!(clean_email("abc").is_err());
        assert_eq!(
            clean_phone("+7 (999) 123-45-67").ok().flatten().as_deref(),
            Some("+7 (999) 123-45-67")
        );
        assert!(clean_phone("call me").is_err());
    }

    #[test]
    fn search_text_covers_all_fields_and_phone_digits() {
        let s = search_text("Пётр", Some("P@X.RU"), Some("8 (916) 123-45-67"));
        assert!(s.contains("петр"));
        assert!(s.contains("p@x.ru"));
        assert!(s.contains("79161234567"));
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_pattern("50%_x"), "%50\\%\\_x%");
    }
}
