//! Domain types: values that are valid once they exist.

mod actor;
mod calendar;
mod enums;
pub mod format;
mod money;
mod sync_run;
mod text;

pub use actor::Actor;
pub use calendar::{check_user_time, clamp_to_stored_years, date_key, day_key, month_key};
pub use enums::{
    AccountKind, AccountStatus, AgreementKind, AgreementStatus, CardKind, CardStatus, Category,
    CategorySource, ClientStatus, Confidence, ConsentStatus, Direction, Grade, HeldAwayKind,
    HeldAwaySource, Role, SignalKind, SignalSeverity, SignalState, TaskPriority, TaskSource,
    TaskStatus, TimelineKind, TransactionStatus,
};
pub use format::{format_money, Lang, Localized};

/// Longest task title, in characters (tasks written by people and by signal rules alike).
pub const TASK_TITLE_MAX: usize = 200;
pub use money::{decimal_to_minor, minor_to_decimal, Currency, Money, MINOR_SCALE};
pub use sync_run::{
    LinkResult, SkipReason, SyncEvent, SyncRunLink, SyncRunStatus, SyncRunSummary, SyncTrigger,
};
pub use text::{
    has_hidden_controls, like_pattern, mask_number, normalize_for_search, phone_key,
    phone_search_keys,
};
