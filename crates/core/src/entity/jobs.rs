//! `jobs`: the background job queue (see `crate::jobs`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The job type's `KIND`.
    pub kind: String,
    /// The job's fields as JSON (ids and counters; never personal data).
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    /// Jobs that must happen once (a scheduled tick) carry a key; a second one is not queued.
    pub unique_key: Option<String>,
    /// `QUEUED`, `RUNNING`, `DONE` or `FAILED`.
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    /// Not claimed before this moment (retries back off).
    pub run_at: DateTimeUtc,
    /// The worker holding it, while `RUNNING`.
    pub locked_by: Option<String>,
    /// The lease: a `RUNNING` job whose lease ran out (its worker died) is claimed again.
    pub locked_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
