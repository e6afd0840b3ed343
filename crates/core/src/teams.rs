//! Teams and books: who leads which team, which manager owns which client, and with whom a
//! client is shared. What each of these lets a user see is [`crate::access`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};

use crate::access::Need;
use crate::audit::AuditEvent;
use crate::auth::{Actor, User};
use crate::clients::Client;
use crate::domain::{Role, TimelineKind};
use crate::entity::{client_shares, clients, teams, users};
use crate::error::{CoreError, CoreResult};
use crate::timeline::{EventData, NewEvent};
use crate::Core;

/// Longest team name.
const NAME_MAX: usize = 100;

/// A team's lead: an active manager or administrator.
async fn check_lead<C: sea_orm::ConnectionTrait>(conn: &C, lead: i64) -> CoreResult<()> {
    let user = users::Entity::find_by_id(lead)
        .one(conn)
        .await?
        .ok_or_else(|| CoreError::not_found("user", lead))?;
    if user.disabled || Role::parse(&user.role)? == Role::Viewer {
        return Err(CoreError::invalid(format!(
            "{} cannot lead a team: a lead is an active manager or administrator",
            user.username
        )));
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub lead_user_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl From<teams::Model> for Team {
    fn from(m: teams::Model) -> Self {
        Team {
            id: m.id,
            name: m.name,
            lead_user_id: m.lead_user_id,
            created_at: m.created_at,
        }
    }
}

/// A client shared with a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share {
    pub client_id: i64,
    pub user_id: i64,
    /// `None`: until the share is withdrawn.
    pub until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<client_shares::Model> for Share {
    fn from(m: client_shares::Model) -> Self {
        Share {
            client_id: m.client_id,
            user_id: m.user_id,
            until: m.until,
            created_at: m.created_at,
        }
    }
}

/// `BAD_USER_INPUT` when a team other than `except` has this name (the unique constraint
/// would otherwise fail the write as a database error).
async fn check_name_free<C: sea_orm::ConnectionTrait>(
    conn: &C,
    name: &str,
    except: Option<i64>,
) -> CoreResult<()> {
    let taken = teams::Entity::find()
        .filter(teams::Column::Name.eq(name))
        .one(conn)
        .await?
        .is_some_and(|t| Some(t.id) != except);
    if taken {
        return Err(CoreError::invalid(format!("team {name} already exists")));
    }
    Ok(())
}

fn clean_team_name(name: &str) -> CoreResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CoreError::invalid("a team needs a name"));
    }
    if name.chars().count() > NAME_MAX {
        return Err(CoreError::invalid(format!(
            "a team name has at most {NAME_MAX} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "a team name cannot hold control characters",
        ));
    }
    Ok(name.to_owned())
}

impl Core {
    /// The teams `actor` may see: every team for an administrator, otherwise their own and
    /// the ones they lead, by name.
    pub async fn teams(&self, actor: &Actor) -> CoreResult<Vec<Team>> {
        let mut q = teams::Entity::find().order_by_asc(teams::Column::Name);
        if actor.role != Role::Admin {
            let own: Option<i64> = users::Entity::find_by_id(actor.user_id)
                .one(self.db.conn())
                .await?
                .and_then(|u| u.team_id);
            let mut cond =
                sea_orm::Condition::any().add(teams::Column::LeadUserId.eq(actor.user_id));
            if let Some(own) = own {
                cond = cond.add(teams::Column::Id.eq(own));
            }
            q = q.filter(cond);
        }
        Ok(q.all(self.db.conn())
            .await?
            .into_iter()
            .map(Team::from)
            .collect())
    }

    /// The members of a team `actor` may see (see [`Core::teams`]), by user name: what a team
    /// lead assigns clients and tasks to. Disabled members are included (marked so).
    pub async fn team_members(&self, actor: &Actor, team_id: i64) -> CoreResult<Vec<User>> {
        if !self.teams(actor).await?.iter().any(|t| t.id == team_id) {
            return Err(CoreError::not_found("team", team_id));
        }
        users::Entity::find()
            .filter(users::Column::TeamId.eq(team_id))
            .order_by_asc(users::Column::Username)
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(User::try_from)
            .collect()
    }

    /// Teams by id (for loaders); missing ids are absent.
    pub async fn teams_by_ids(&self, ids: &[i64]) -> CoreResult<HashMap<i64, Team>> {
        Ok(teams::Entity::find()
            .filter(teams::Column::Id.is_in(ids.iter().copied()))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|m| (m.id, Team::from(m)))
            .collect())
    }

    /// Users by id (for loaders); missing ids are absent.
    pub async fn users_by_ids(&self, ids: &[i64]) -> CoreResult<HashMap<i64, User>> {
        users::Entity::find()
            .filter(users::Column::Id.is_in(ids.iter().copied()))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|m| User::try_from(m).map(|u| (u.id, u)))
            .collect()
    }

    /// Creates a team (administrators), optionally with its lead, who joins it.
    pub async fn create_team(
        &self,
        actor: &Actor,
        name: &str,
        lead_user_id: Option<i64>,
    ) -> CoreResult<Team> {
        actor.require(Role::Admin)?;
        let name = clean_team_name(name)?;
        let txn = self.db.begin_write().await?;
        check_name_free(&txn, &name, None).await?;
        if let Some(lead) = lead_user_id {
            check_lead(&txn, lead).await?;
        }
        let now = Utc::now();
        let team = teams::ActiveModel {
            name: Set(name),
            lead_user_id: Set(lead_user_id),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        if let Some(lead) = lead_user_id {
            move_user_to_team(&txn, lead, Some(team.id)).await?;
        }
        crate::audit::record_in(
            &txn,
            AuditEvent::new("team.create")
                .actor(actor)
                .entity("team", team.id)
                .detail("name", team.name.clone())
                .detail("lead", lead_user_id),
        )
        .await?;
        txn.commit().await?;
        Ok(team.into())
    }

    /// Renames a team or changes its lead (administrators); a new lead joins the team.
    pub async fn update_team(
        &self,
        actor: &Actor,
        id: i64,
        name: Option<&str>,
        lead_user_id: Option<Option<i64>>,
    ) -> CoreResult<Team> {
        actor.require(Role::Admin)?;
        let name = name.map(clean_team_name).transpose()?;
        let txn = self.db.begin_write().await?;
        let current = teams::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| CoreError::not_found("team", id))?;
        if let Some(name) = &name {
            check_name_free(&txn, name, Some(id)).await?;
        }
        let mut active = current.into_active_model();
        if let Some(name) = &name {
            active.name = Set(name.clone());
        }
        if let Some(lead) = lead_user_id {
            if let Some(lead) = lead {
                check_lead(&txn, lead).await?;
                move_user_to_team(&txn, lead, Some(id)).await?;
            }
            active.lead_user_id = Set(lead);
        }
        active.updated_at = Set(Utc::now());
        let team = active.update(&txn).await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("team.update")
                .actor(actor)
                .entity("team", id)
                .detail("name", name)
                .detail("lead", lead_user_id.flatten()),
        )
        .await?;
        txn.commit().await?;
        Ok(team.into())
    }

    /// Puts a user in a team, or in none (administrators). The clients they own move with
    /// them, so the team's lead and viewers see them there.
    pub async fn set_user_team(
        &self,
        actor: &Actor,
        user_id: i64,
        team_id: Option<i64>,
    ) -> CoreResult<User> {
        actor.require(Role::Admin)?;
        let txn = self.db.begin_write().await?;
        if let Some(team) = team_id {
            teams::Entity::find_by_id(team)
                .one(&txn)
                .await?
                .ok_or_else(|| CoreError::not_found("team", team))?;
        }
        let user = move_user_to_team(&txn, user_id, team_id).await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("user.team")
                .actor(actor)
                .entity("user", user_id)
                .detail("team", team_id),
        )
        .await?;
        txn.commit().await?;
        user.try_into()
    }

    /// Gives a client to another manager's book (an administrator, or the lead of the
    /// client's team giving it to a member of that team). The client joins the new owner's
    /// team.
    pub async fn assign_client(
        &self,
        actor: &Actor,
        client_id: i64,
        owner_id: i64,
    ) -> CoreResult<Client> {
        let client = self.client_for(actor, client_id, Need::Assign).await?;
        let owner = users::Entity::find_by_id(owner_id)
            .one(self.db.conn())
            .await?
            .ok_or_else(|| CoreError::not_found("user", owner_id))?;
        if owner.disabled || Role::parse(&owner.role)? == Role::Viewer {
            return Err(CoreError::invalid(format!(
                "{} cannot own clients: only an active manager or administrator can",
                owner.username
            )));
        }
        if actor.role != Role::Admin && owner.team_id != client.team_id {
            return Err(CoreError::Forbidden(
                "a team lead assigns clients within the team only".into(),
            ));
        }
        let txn = self.db.begin_write().await?;
        let current = clients::Entity::find_by_id(client_id)
            .one(&txn)
            .await?
            .ok_or_else(|| CoreError::not_found("client", client_id))?;
        let previous = current.owner_id;
        let mut active = current.into_active_model();
        active.owner_id = Set(Some(owner.id));
        active.team_id = Set(owner.team_id);
        active.updated_at = Set(Utc::now());
        let model = active.update(&txn).await?;
        // The open tasks signals made for the client's owner go to the new owner with it (a
        // task someone handed to a colleague stays with them).
        let moved: Vec<i64> = {
            use crate::entity::tasks;
            use sea_orm::QuerySelect;
            let mut q = tasks::Entity::find()
                .select_only()
                .column(tasks::Column::Id)
                .filter(tasks::Column::ClientId.eq(client_id))
                .filter(tasks::Column::Source.eq(crate::domain::TaskSource::Signal.as_str()))
                .filter(tasks::Column::Status.eq(crate::domain::TaskStatus::Open.as_str()));
            q = match previous {
                Some(p) => q.filter(tasks::Column::AssigneeId.eq(p)),
                None => q.filter(tasks::Column::AssigneeId.is_null()),
            };
            let ids: Vec<i64> = q.into_tuple().all(&txn).await?;
            if !ids.is_empty() && previous != Some(owner.id) {
                tasks::Entity::update_many()
                    .col_expr(tasks::Column::AssigneeId, Expr::value(owner.id))
                    .col_expr(tasks::Column::UpdatedAt, Expr::value(Utc::now()))
                    .filter(tasks::Column::Id.is_in(ids.iter().copied()))
                    .exec(&txn)
                    .await?;
            }
            ids
        };
        crate::timeline::record(
            &txn,
            NewEvent::new(
                client_id,
                TimelineKind::ClientAssigned,
                EventData::Assigned { to: Some(owner.id) },
            )
            .by(actor),
        )
        .await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("client.assign")
                .actor(actor)
                .entity("client", client_id)
                .detail("from", previous)
                .detail("to", owner.id),
        )
        .await?;
        txn.commit().await?;
        if previous != Some(owner.id) {
            for task_id in moved {
                self.events().publish(crate::events::Event::TaskChanged {
                    task_id,
                    assignee_id: Some(owner.id),
                    previous_assignee_id: previous,
                });
            }
        }
        self.announce_timeline(client_id);
        model.try_into()
    }

    /// Shares a client with one more user until `until` (or until withdrawn): its owner, the
    /// lead of its team or an administrator may. Sharing again changes the end.
    pub async fn share_client(
        &self,
        actor: &Actor,
        client_id: i64,
        user_id: i64,
        until: Option<DateTime<Utc>>,
    ) -> CoreResult<Share> {
        self.client_for(actor, client_id, Need::Share).await?;
        let now = Utc::now();
        if until.is_some_and(|u| u <= now) {
            return Err(CoreError::invalid("`until` must be in the future"));
        }
        let user = users::Entity::find_by_id(user_id)
            .one(self.db.conn())
            .await?
            .ok_or_else(|| CoreError::not_found("user", user_id))?;
        if user.disabled {
            return Err(CoreError::invalid(format!("{} is disabled", user.username)));
        }
        let txn = self.db.begin_write().await?;
        client_shares::Entity::insert(client_shares::ActiveModel {
            client_id: Set(client_id),
            user_id: Set(user_id),
            until: Set(until),
            created_by: Set(Some(actor.user_id)),
            created_at: Set(now),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([
                client_shares::Column::ClientId,
                client_shares::Column::UserId,
            ])
            .update_columns([
                client_shares::Column::Until,
                client_shares::Column::CreatedBy,
            ])
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        crate::timeline::record(
            &txn,
            NewEvent::new(
                client_id,
                TimelineKind::ClientShared,
                EventData::Shared {
                    user: user_id,
                    until,
                },
            )
            .at(now)
            .by(actor),
        )
        .await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("client.share")
                .actor(actor)
                .entity("client", client_id)
                .detail("user", user_id)
                .detail("until", until.map(|u| u.to_rfc3339())),
        )
        .await?;
        txn.commit().await?;
        self.announce_timeline(client_id);
        Ok(Share {
            client_id,
            user_id,
            until,
            created_at: now,
        })
    }

    /// Withdraws a share (its owner, the lead of its team or an administrator). Returns
    /// whether there was one.
    pub async fn unshare_client(
        &self,
        actor: &Actor,
        client_id: i64,
        user_id: i64,
    ) -> CoreResult<bool> {
        self.client_for(actor, client_id, Need::Share).await?;
        let txn = self.db.begin_write().await?;
        let removed = client_shares::Entity::delete_many()
            .filter(client_shares::Column::ClientId.eq(client_id))
            .filter(client_shares::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?
            .rows_affected;
        if removed > 0 {
            crate::timeline::record(
                &txn,
                NewEvent::new(
                    client_id,
                    TimelineKind::ClientUnshared,
                    EventData::Shared {
                        user: user_id,
                        until: None,
                    },
                )
                .by(actor),
            )
            .await?;
            crate::audit::record_in(
                &txn,
                AuditEvent::new("client.unshare")
                    .actor(actor)
                    .entity("client", client_id)
                    .detail("user", user_id),
            )
            .await?;
        }
        txn.commit().await?;
        if removed > 0 {
            self.announce_timeline(client_id);
        }
        Ok(removed > 0)
    }

    /// The shares still in force of several clients in one query (for loaders), keyed by
    /// client, oldest first; for those who may see the clients.
    pub async fn shares_of_clients(&self, ids: &[i64]) -> CoreResult<HashMap<i64, Vec<Share>>> {
        let mut out: HashMap<i64, Vec<Share>> = HashMap::new();
        for share in client_shares::Entity::find()
            .filter(client_shares::Column::ClientId.is_in(ids.iter().copied()))
            .filter(
                sea_orm::Condition::any()
                    .add(client_shares::Column::Until.is_null())
                    .add(client_shares::Column::Until.gt(Utc::now())),
            )
            .order_by_asc(client_shares::Column::CreatedAt)
            .all(self.db.conn())
            .await?
        {
            out.entry(share.client_id)
                .or_default()
                .push(Share::from(share));
        }
        Ok(out)
    }
}

/// Sets a user's team; the clients they own follow. Returns the updated user row.
async fn move_user_to_team<C: sea_orm::ConnectionTrait>(
    conn: &C,
    user_id: i64,
    team_id: Option<i64>,
) -> CoreResult<users::Model> {
    let user = users::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .ok_or_else(|| CoreError::not_found("user", user_id))?;
    // A lead who leaves a team stops leading it (lead rights over a team's clients go with
    // membership, never past it).
    teams::Entity::update_many()
        .col_expr(
            teams::Column::LeadUserId,
            sea_orm::sea_query::Expr::value(Option::<i64>::None),
        )
        .filter(teams::Column::LeadUserId.eq(user_id))
        .filter(match team_id {
            Some(t) => teams::Column::Id.ne(t),
            None => teams::Column::Id.is_not_null(),
        })
        .exec(conn)
        .await?;
    let mut active = user.into_active_model();
    active.team_id = Set(team_id);
    active.updated_at = Set(Utc::now());
    let user = active.update(conn).await?;
    clients::Entity::update_many()
        .col_expr(
            clients::Column::TeamId,
            sea_orm::sea_query::Expr::value(team_id),
        )
        .filter(clients::Column::OwnerId.eq(user_id))
        .exec(conn)
        .await?;
    Ok(user)
}
