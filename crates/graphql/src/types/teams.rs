//! Teams, books and shares.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Object, ID};
use chrono::{DateTime, Utc};
use crm_core::teams::{Share, Team};

use super::objects::User;
use crate::error::ApiResultExt;
use crate::loaders::{CoreLoader, UserById};

fn loader<'a>(ctx: &'a Context<'_>) -> &'a DataLoader<CoreLoader> {
    ctx.data_unchecked::<DataLoader<CoreLoader>>()
}

/// The user `id`, if it exists.
pub(crate) async fn user_by_id(ctx: &Context<'_>, id: i64) -> async_graphql::Result<Option<User>> {
    Ok(loader(ctx)
        .load_one(UserById(id))
        .await
        .api()?
        .as_ref()
        .map(User::from))
}

/// A group of users. Its lead sees (and, as a manager, works on) every client of the team; a
/// viewer in the team reads them.
pub struct TeamObject(pub Team);

#[Object(name = "Team")]
impl TeamObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The team lead (null: none yet).
    async fn lead(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.0.lead_user_id {
            Some(id) => user_by_id(ctx, id).await,
            None => Ok(None),
        }
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The team's users, by user name (a team lead assigns clients and tasks to them).
    async fn members(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        let core = crate::context::core(ctx).api()?;
        let who = crate::context::actor(ctx).api()?;
        let users = core.team_members(who, self.0.id).await.api()?;
        Ok(users.iter().map(User::from).collect())
    }
}

/// A client shared with a user beyond its owner's book.
pub struct ShareObject(pub Share);

#[Object(name = "ClientShare")]
impl ShareObject {
    /// Who the client is shared with.
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        user_by_id(ctx, self.0.user_id).await
    }
    /// Until when (null: until withdrawn).
    async fn until(&self) -> Option<DateTime<Utc>> {
        self.0.until
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// What a note records.
#[derive(async_graphql::Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum NoteKind {
    Note,
    Call,
    Meeting,
    Email,
}

impl From<NoteKind> for crm_core::notes::NoteKind {
    fn from(k: NoteKind) -> Self {
        match k {
            NoteKind::Note => crm_core::notes::NoteKind::Note,
            NoteKind::Call => crm_core::notes::NoteKind::Call,
            NoteKind::Meeting => crm_core::notes::NoteKind::Meeting,
            NoteKind::Email => crm_core::notes::NoteKind::Email,
        }
    }
}

impl From<crm_core::notes::NoteKind> for NoteKind {
    fn from(k: crm_core::notes::NoteKind) -> Self {
        match k {
            crm_core::notes::NoteKind::Note => NoteKind::Note,
            crm_core::notes::NoteKind::Call => NoteKind::Call,
            crm_core::notes::NoteKind::Meeting => NoteKind::Meeting,
            crm_core::notes::NoteKind::Email => NoteKind::Email,
        }
    }
}

/// A manager's note on a client: plain text (the web app shows a safe Markdown subset).
pub struct NoteObject(pub crm_core::notes::Note);

#[Object(name = "Note")]
impl NoteObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn kind(&self) -> NoteKind {
        self.0.kind.into()
    }
    /// The client the note is about.
    async fn client_id(&self) -> ID {
        ID(self.0.client_id.to_string())
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// When the call, meeting or e-mail happened (or the note was taken).
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Who wrote it (null once that user is deleted).
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.0.author_id {
            Some(id) => user_by_id(ctx, id).await,
            None => Ok(None),
        }
    }
}
