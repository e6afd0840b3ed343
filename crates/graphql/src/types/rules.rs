//! Category rules and the re-categorisation runs their changes start.

use async_graphql::{Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};
use crm_core::categorize::RuleField as CoreField;
use crm_core::category_rules::{
    CategoryRule as CoreRule, Recategorisation as CoreRun, RecategorisationStatus as CoreStatus,
    RecategorisationTrigger as CoreTrigger,
};

use super::enums::Category;

/// The part of a transaction a rule's pattern is matched against.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum RuleField {
    Description,
    Merchant,
    Counterparty,
    /// The pattern is a code (`5812`) or an inclusive range (`5811-5814`).
    Mcc,
    /// Description, merchant or counterparty.
    Any,
}

impl From<RuleField> for CoreField {
    fn from(f: RuleField) -> Self {
        match f {
            RuleField::Description => CoreField::Description,
            RuleField::Merchant => CoreField::Merchant,
            RuleField::Counterparty => CoreField::Counterparty,
            RuleField::Mcc => CoreField::Mcc,
            RuleField::Any => CoreField::Any,
        }
    }
}

impl From<CoreField> for RuleField {
    fn from(f: CoreField) -> Self {
        match f {
            CoreField::Description => RuleField::Description,
            CoreField::Merchant => RuleField::Merchant,
            CoreField::Counterparty => RuleField::Counterparty,
            CoreField::Mcc => RuleField::Mcc,
            CoreField::Any => RuleField::Any,
        }
    }
}

/// A user rule: transactions whose `field` has a word starting with `pattern` (normalised:
/// case, ё, punctuation and Cyrillic/Latin spelling do not matter) get `category`, unless a
/// person set their category. Higher `priority` wins, then the older rule; a rule applies only
/// to transactions of its category's direction.
#[derive(SimpleObject, Clone, Debug)]
pub struct CategoryRule {
    pub id: ID,
    pub pattern: String,
    pub field: RuleField,
    pub category: Category,
    pub priority: i32,
    /// The user who created it (absent once that user is deleted).
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<CoreRule> for CategoryRule {
    fn from(r: CoreRule) -> Self {
        CategoryRule {
            id: ID(r.id.to_string()),
            pattern: r.pattern,
            field: r.field.into(),
            category: r.category.into(),
            priority: r.priority,
            created_by: r.created_by_name,
            created_at: r.created_at,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum RecategorisationStatus {
    /// Waiting for an earlier run to finish.
    Queued,
    Running,
    Finished,
    Failed,
}

impl From<CoreStatus> for RecategorisationStatus {
    fn from(s: CoreStatus) -> Self {
        match s {
            CoreStatus::Queued => RecategorisationStatus::Queued,
            CoreStatus::Running => RecategorisationStatus::Running,
            CoreStatus::Finished => RecategorisationStatus::Finished,
            CoreStatus::Failed => RecategorisationStatus::Failed,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum RecategorisationTrigger {
    RuleCreated,
    RuleDeleted,
}

impl From<CoreTrigger> for RecategorisationTrigger {
    fn from(t: CoreTrigger) -> Self {
        match t {
            CoreTrigger::RuleCreated => RecategorisationTrigger::RuleCreated,
            CoreTrigger::RuleDeleted => RecategorisationTrigger::RuleDeleted,
        }
    }
}

/// A background re-categorisation of stored transactions (all but those categorised by hand),
/// started by a rule change. Poll it until `status` is `FINISHED` or `FAILED`.
#[derive(SimpleObject, Clone, Debug)]
pub struct Recategorisation {
    pub id: ID,
    pub trigger: RecategorisationTrigger,
    pub rule_id: Option<ID>,
    pub status: RecategorisationStatus,
    /// Transactions looked at so far.
    pub rows_scanned: u64,
    /// Transactions whose category changed.
    pub rows_changed: u64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub message: Option<String>,
}

impl From<CoreRun> for Recategorisation {
    fn from(r: CoreRun) -> Self {
        Recategorisation {
            id: ID(r.id.to_string()),
            trigger: r.trigger.into(),
            rule_id: r.rule_id.map(|id| ID(id.to_string())),
            status: r.status.into(),
            rows_scanned: r.rows_scanned,
            rows_changed: r.rows_changed,
            started_at: r.started_at,
            finished_at: r.finished_at,
            message: r.message,
        }
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct CreateCategoryRulePayload {
    pub rule: CategoryRule,
    /// The re-categorisation the new rule started.
    pub recategorisation: Recategorisation,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct DeleteCategoryRulePayload {
    /// The id of the deleted rule.
    pub id: ID,
    /// The re-categorisation the deletion started.
    pub recategorisation: Recategorisation,
}
