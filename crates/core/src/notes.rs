//! Notes on a client: calls, meetings, e-mails and plain notes, with their author and when
//! they happened. Anyone who may change a client adds notes; the author edits and deletes
//! their own (administrators any). Plain text, 20 000 characters at most (the web app shows a
//! safe Markdown subset).

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::access::Need;
use crate::audit::AuditEvent;
use crate::auth::Actor;
use crate::domain::{like_pattern, normalize_for_search};
use crate::domain::{Role, TimelineKind};
use crate::entity::{clients, notes};
use crate::error::{CoreError, CoreResult};
use crate::timeline::{EventData, NewEvent};
use crate::Core;

/// Longest note, in characters.
pub const BODY_MAX: usize = 20_000;
/// Most notes one read returns.
pub const PAGE_MAX: u64 = 200;

/// What a note records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteKind {
    Note,
    Call,
    Meeting,
    Email,
}

impl NoteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoteKind::Note => "NOTE",
            NoteKind::Call => "CALL",
            NoteKind::Meeting => "MEETING",
            NoteKind::Email => "EMAIL",
        }
    }

    pub fn parse(s: &str) -> CoreResult<Self> {
        Ok(match s {
            "NOTE" => NoteKind::Note,
            "CALL" => NoteKind::Call,
            "MEETING" => NoteKind::Meeting,
            "EMAIL" => NoteKind::Email,
            other => {
                return Err(CoreError::Internal(format!(
                    "stored note kind {other:?} is unknown"
                )))
            }
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub id: i64,
    pub client_id: i64,
    /// `None` once the author's user is deleted.
    pub author_id: Option<i64>,
    pub kind: NoteKind,
    pub body: String,
    pub occurred_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<notes::Model> for Note {
    type Error = CoreError;
    fn try_from(m: notes::Model) -> CoreResult<Self> {
        Ok(Note {
            id: m.id,
            client_id: m.client_id,
            author_id: m.author_id,
            kind: NoteKind::parse(&m.kind)?,
            body: m.body,
            occurred_at: m.occurred_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// The body as stored: trimmed, not empty, at most [`BODY_MAX`] characters, line breaks and
/// tabs the only control characters, no bidirectional overrides.
fn clean_body(body: &str) -> CoreResult<String> {
    let body = body.trim();
    if body.is_empty() {
        return Err(CoreError::invalid("a note needs some text"));
    }
    let chars = body.chars().count();
    if chars > BODY_MAX {
        return Err(CoreError::invalid(format!(
            "a note has at most {BODY_MAX} characters; this one has {chars}"
        )));
    }
    if crate::domain::has_hidden_controls(body) {
        return Err(CoreError::invalid(
            "a note cannot hold control or text-direction characters",
        ));
    }
    Ok(body.replace("\r\n", "\n"))
}

/// When the note's event happened: not in the future (a minute of clock skew allowed), nor
/// before 1900.
fn clean_occurred_at(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> CoreResult<DateTime<Utc>> {
    let at = crate::domain::check_user_time(at.unwrap_or(now), "occurredAt")?;
    if at > now + Duration::minutes(1) {
        return Err(CoreError::invalid(
            "`occurredAt` is in the future: a note records what happened",
        ));
    }
    Ok(at)
}

/// Fills the search text of notes stored without one (before the column existed). Returns how
/// many changed.
pub(crate) async fn fill_search_text<C: sea_orm::ConnectionTrait>(conn: &C) -> CoreResult<u64> {
    let rows = notes::Entity::find()
        .filter(notes::Column::SearchText.eq(""))
        .all(conn)
        .await?;
    let mut changed = 0;
    for row in rows {
        let text = normalize_for_search(&row.body);
        let mut active = row.into_active_model();
        active.search_text = Set(text);
        active.update(conn).await?;
        changed += 1;
    }
    Ok(changed)
}

/// Clients (`client_id` of `notes`) with a note matching `needle` (already normalised): for the
/// client search.
pub(crate) fn clients_with_notes_like(needle: &str) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Expr, LikeExpr, Query};
    Query::select()
        .column(notes::Column::ClientId)
        .from(notes::Entity)
        .and_where(
            Expr::col(notes::Column::SearchText)
                .like(LikeExpr::new(like_pattern(needle)).escape('\\')),
        )
        .to_owned()
}

impl Core {
    /// Notes of clients in `actor`'s book whose text contains `query` (any case, `ё` as `е`),
    /// newest first, `first` at most ([`PAGE_MAX`]).
    pub async fn search_notes(
        &self,
        actor: &Actor,
        query: &str,
        first: u64,
    ) -> CoreResult<Vec<Note>> {
        let needle = normalize_for_search(query);
        if needle.chars().count() < 2 {
            return Err(CoreError::invalid("search for at least two characters"));
        }
        let mut q = notes::Entity::find().filter(
            sea_orm::sea_query::Expr::col(notes::Column::SearchText)
                .like(sea_orm::sea_query::LikeExpr::new(like_pattern(&needle)).escape('\\')),
        );
        if let Some(cond) = crate::access::visible_condition(actor, Utc::now()) {
            let visible = sea_orm::sea_query::Query::select()
                .column(clients::Column::Id)
                .from(clients::Entity)
                .cond_where(cond)
                .to_owned();
            q = q.filter(notes::Column::ClientId.in_subquery(visible));
        }
        q.order_by_desc(notes::Column::OccurredAt)
            .order_by_desc(notes::Column::Id)
            .limit(first.clamp(1, PAGE_MAX))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(Note::try_from)
            .collect()
    }

    /// A client's notes, newest first (by when they happened), `first` at most
    /// ([`PAGE_MAX`]); the client must be in `actor`'s book.
    pub async fn notes(&self, actor: &Actor, client_id: i64, first: u64) -> CoreResult<Vec<Note>> {
        self.client_for(actor, client_id, Need::Read).await?;
        notes::Entity::find()
            .filter(notes::Column::ClientId.eq(client_id))
            .order_by_desc(notes::Column::OccurredAt)
            .order_by_desc(notes::Column::Id)
            .limit(first.clamp(1, PAGE_MAX))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(Note::try_from)
            .collect()
    }

    /// The client's latest notes and open tasks, without an access check: for the assistant,
    /// whose question was already checked against the book.
    pub(crate) async fn manager_record(
        &self,
        client_id: i64,
        limit: u64,
    ) -> CoreResult<(Vec<Note>, Vec<crate::tasks::Task>)> {
        let notes = notes::Entity::find()
            .filter(notes::Column::ClientId.eq(client_id))
            .order_by_desc(notes::Column::OccurredAt)
            .order_by_desc(notes::Column::Id)
            .limit(limit.clamp(1, PAGE_MAX))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(Note::try_from)
            .collect::<CoreResult<Vec<_>>>()?;
        let tasks = crate::entity::tasks::Entity::find()
            .filter(crate::entity::tasks::Column::ClientId.eq(client_id))
            .filter(crate::entity::tasks::Column::Status.eq("OPEN"))
            .order_by_asc(crate::entity::tasks::Column::DueAt)
            .limit(50)
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(crate::tasks::Task::try_from)
            .collect::<CoreResult<Vec<_>>>()?;
        Ok((notes, tasks))
    }

    /// Adds a note to a client in `actor`'s book (viewers may not). Audited without its text.
    pub async fn add_note(
        &self,
        actor: &Actor,
        client_id: i64,
        kind: NoteKind,
        body: &str,
        occurred_at: Option<DateTime<Utc>>,
    ) -> CoreResult<Note> {
        self.client_for(actor, client_id, Need::Change).await?;
        let now = Utc::now();
        let body = clean_body(body)?;
        let occurred_at = clean_occurred_at(occurred_at, now)?;
        let txn = self.db.begin_write().await?;
        let note = notes::ActiveModel {
            client_id: Set(client_id),
            author_id: Set(Some(actor.user_id).filter(|id| *id > 0)),
            kind: Set(kind.as_str().to_owned()),
            search_text: Set(normalize_for_search(&body)),
            body: Set(body),
            occurred_at: Set(occurred_at),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        crate::timeline::record(
            &txn,
            NewEvent::new(
                client_id,
                TimelineKind::Note,
                EventData::Note {
                    note_kind: kind.as_str().to_owned(),
                },
            )
            .at(occurred_at)
            .by(actor)
            .object("note", note.id),
        )
        .await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("note.add")
                .actor(actor)
                .entity("client", client_id)
                .detail("note", note.id)
                .detail("kind", kind.as_str()),
        )
        .await?;
        txn.commit().await?;
        self.announce_timeline(client_id);
        note.try_into()
    }

    /// Changes a note: its author (who must still be able to change the client) or an
    /// administrator. `None` leaves a field as it is.
    pub async fn edit_note(
        &self,
        actor: &Actor,
        id: i64,
        kind: Option<NoteKind>,
        body: Option<&str>,
        occurred_at: Option<DateTime<Utc>>,
    ) -> CoreResult<Note> {
        let current = self.note_for_change(actor, id).await?;
        let now = Utc::now();
        let body = body.map(clean_body).transpose()?;
        let occurred_at = occurred_at
            .map(|at| clean_occurred_at(Some(at), now))
            .transpose()?;
        let txn = self.db.begin_write().await?;
        let client_id = current.client_id;
        let mut active = current.into_active_model();
        if let Some(kind) = kind {
            active.kind = Set(kind.as_str().to_owned());
        }
        if let Some(body) = body {
            active.search_text = Set(normalize_for_search(&body));
            active.body = Set(body);
        }
        if let Some(at) = occurred_at {
            active.occurred_at = Set(at);
        }
        active.updated_at = Set(now);
        let note = active.update(&txn).await?;
        crate::timeline::follow_note(&txn, &note).await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("note.edit")
                .actor(actor)
                .entity("client", client_id)
                .detail("note", id),
        )
        .await?;
        txn.commit().await?;
        self.announce_timeline(client_id);
        note.try_into()
    }

    /// Deletes a note: its author or an administrator.
    pub async fn delete_note(&self, actor: &Actor, id: i64) -> CoreResult<()> {
        let current = self.note_for_change(actor, id).await?;
        let txn = self.db.begin_write().await?;
        notes::Entity::delete_by_id(id).exec(&txn).await?;
        crate::timeline::forget_object(&txn, "note", id).await?;
        crate::audit::record_in(
            &txn,
            AuditEvent::new("note.delete")
                .actor(actor)
                .entity("client", current.client_id)
                .detail("note", id),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The note `id` if `actor` may change it: `NOT_FOUND` when it does not exist or its
    /// client is outside their book, `FORBIDDEN` when it is someone else's note.
    async fn note_for_change(&self, actor: &Actor, id: i64) -> CoreResult<notes::Model> {
        let note = notes::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .ok_or_else(|| CoreError::not_found("note", id))?;
        match self.client_for(actor, note.client_id, Need::Change).await {
            Err(CoreError::NotFound { .. }) => return Err(CoreError::not_found("note", id)),
            other => other?,
        };
        if actor.role != Role::Admin && note.author_id != Some(actor.user_id) {
            return Err(CoreError::Forbidden(
                "only its author or an administrator may change a note".into(),
            ));
        }
        Ok(note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(
            clean_body("  позвонил\r\nдоговорились  ").expect("valid"),
            "позвонил\nдоговорились"
        );
        assert!(clean_body("   ").is_err());
        assert!(clean_body(&"я".repeat(BODY_MAX + 1)).is_err());
        assert!(clean_body(&"я".repeat(BODY_MAX)).is_ok());
        assert!(clean_body("a\u{0}b").is_err());
        assert!(clean_body("abc\u{202E}cba").is_err());
        assert!(clean_body("колонка\tзначение").is_ok());
    }

    #[test]
    fn a_note_records_the_past() {
        let now = Utc::now();
        assert_eq!(clean_occurred_at(None, now).expect("valid"), now);
        assert!(clean_occurred_at(Some(now + Duration::hours(1)), now).is_err());
        assert!(clean_occurred_at(Some(now - Duration::days(3)), now).is_ok());
    }
}
