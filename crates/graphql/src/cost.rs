//! What a request costs, and who may run one now.
//!
//! **Weights.** Every field costs 1, except the fields that read much more than their own row:
//! [`HEAVY`] for the analyses computed from a client's transaction rows (recurring payments,
//! income, insights, offers, the forecast), [`LIGHT`] for those read from the monthly aggregates (spending by
//! category, top merchants, cash flow, the headline stats; the portfolio's figures 3 × that). A list
//! with `first` multiplies what it holds by its page size, so `clients(first: 20) { insights }`
//! costs 20 × 50. The schema's complexity limit (`GRAPHQL_MAX_COMPLEXITY`) refuses what costs
//! more; the resolvers' `complexity` attributes use these constants, and [`estimate`] applies
//! the same weights to a parsed document before it runs, counting what the request *reads*:
//! there a scalar (a leaf without a weight of its own) costs nothing, since it is a column of a
//! row already counted, so a page of 50 transactions weighs its 50 rows, not their 500 columns.
//!
//! **Admission** ([`Gate`]). One user runs at most `per_user` requests at once (further ones
//! wait up to [`GateSettings::wait`], then get `RATE_LIMITED` with a retry hint), and requests
//! whose estimate reaches `expensive_cost` share `expensive` places across all users: an
//! abuser's analyses queue behind each other while other users' cheap queries keep their CPU.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Value, Variables};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// An analysis computed from a client's transaction rows (up to a year of them).
pub const HEAVY: usize = 50;
/// An analysis read from the monthly or daily aggregates.
pub const LIGHT: usize = 10;
/// The page size of a list field whose `first` is not given.
pub const DEFAULT_PAGE: usize = 20;

/// The weight of a field by name ([`HEAVY`], [`LIGHT`] or 1), as the resolvers declare it.
pub fn weight(field: &str) -> usize {
    match field {
        "recurringPayments"
        | "income"
        | "insights"
        | "offers"
        | "forecast"
        | "heldAway"
        | "consolidationOffers"
        | "generateBrief"
        | "bookWallet" => HEAVY,
        "shareOfWallet" => LIGHT,
        "spendingByCategory" | "topMerchants" | "cashflow" | "stats" => LIGHT,
        // Grades, banks and categories of the book: three aggregate reads.
        "portfolio" => 3 * LIGHT,
        _ => 1,
    }
}

/// Fields whose page size multiplies what they hold.
fn multiplier(field: &async_graphql::parser::types::Field, variables: &Variables) -> usize {
    let paged = matches!(
        field.name.node.as_str(),
        "clients"
            | "transactions"
            | "transactionsToReview"
            | "timeline"
            | "conversations"
            | "notes"
            | "syncRuns"
    );
    let first = field
        .arguments
        .iter()
        .find(|(name, _)| name.node == "first")
        .map(|(_, value)| {
            value
                .node
                .clone()
                .into_const_with(|name| {
                    Ok::<_, std::convert::Infallible>(
                        variables.get(&name).cloned().unwrap_or(Value::Null),
                    )
                })
                .unwrap_or(Value::Null)
        });
    match first {
        Some(Value::Number(n)) => n.as_u64().map_or(1, |n| n.min(1_000) as usize),
        _ if paged => DEFAULT_PAGE,
        _ => 1,
    }
}

fn set_cost(
    doc: &ExecutableDocument,
    set: &SelectionSet,
    variables: &Variables,
    depth: usize,
) -> usize {
    // Fragments may spread each other; the schema's depth limit refuses deeper documents.
    if depth > 64 {
        return 0;
    }
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                let field = &f.node;
                let own = weight(field.name.node.as_str());
                if field.selection_set.node.items.is_empty() && own == 1 {
                    // A column of a row counted already.
                    return 0;
                }
                let children = set_cost(doc, &field.selection_set.node, variables, depth + 1);
                own + multiplier(field, variables).saturating_mul(children)
            }
            Selection::InlineFragment(f) => {
                set_cost(doc, &f.node.selection_set.node, variables, depth + 1)
            }
            Selection::FragmentSpread(s) => doc
                .fragments
                .get(&s.node.fragment_name.node)
                .map_or(0, |f| {
                    set_cost(doc, &f.node.selection_set.node, variables, depth + 1)
                }),
        })
        .fold(0usize, usize::saturating_add)
}

/// The weighted cost of the operation set `set` of `doc`.
pub fn estimate(doc: &ExecutableDocument, set: &SelectionSet, variables: &Variables) -> usize {
    set_cost(doc, set, variables, 0)
}

/// How many requests may run at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GateSettings {
    /// Requests of one user at once (`QUERY_CONCURRENCY_PER_USER`).
    pub per_user: usize,
    /// How long a request waits for a place before it is refused.
    pub wait: Duration,
    /// Expensive requests at once, all users together (`EXPENSIVE_QUERY_CONCURRENCY`).
    pub expensive: usize,
    /// The [`estimate`] from which a request is expensive (`EXPENSIVE_QUERY_COST`).
    pub expensive_cost: usize,
    /// Analyses (the [`HEAVY`] and [`LIGHT`] fields) computed at once, all requests together
    /// (`ANALYSIS_CONCURRENCY`, default half the database pool): the fields of one list
    /// resolve concurrently, and without this bound one request's analyses of twenty clients
    /// took every pooled connection while other users' queries queued for one.
    pub analyses: usize,
}

impl Default for GateSettings {
    fn default() -> Self {
        GateSettings {
            per_user: 4,
            wait: Duration::from_secs(2),
            expensive: std::thread::available_parallelism()
                .map_or(1, |n| n.get().div_ceil(2))
                .max(1),
            expensive_cost: 500,
            analyses: 4,
        }
    }
}

/// The places for analyses, shared by all requests (schema data).
#[derive(Clone)]
pub struct AnalysisSlots(pub Arc<Semaphore>);

/// Waits for a place to compute an analysis; hold it while the analysis reads.
pub async fn analysis_slot(
    ctx: &async_graphql::Context<'_>,
) -> async_graphql::Result<Option<OwnedSemaphorePermit>> {
    let Ok(slots) = ctx.data::<AnalysisSlots>() else {
        return Ok(None);
    };
    slots
        .0
        .clone()
        .acquire_owned()
        .await
        .map(Some)
        .map_err(|_| ApiError::internal("the analysis places were closed").into())
}

/// The places a running request holds; given back when dropped.
pub struct Admitted {
    _user: Option<OwnedSemaphorePermit>,
    _expensive: Option<OwnedSemaphorePermit>,
}

/// Admission control for requests (see the module's documentation).
pub struct Gate {
    settings: GateSettings,
    users: Mutex<HashMap<i64, Arc<Semaphore>>>,
    expensive: Arc<Semaphore>,
}

impl Gate {
    pub fn new(settings: GateSettings) -> Self {
        Gate {
            settings,
            users: Mutex::new(HashMap::new()),
            expensive: Arc::new(Semaphore::new(settings.expensive.max(1))),
        }
    }

    fn user_places(&self, user: i64) -> Arc<Semaphore> {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        // Users with nothing running give their entry back, so the table stays small.
        if users.len() > 1_000 {
            let full = self.settings.per_user;
            users.retain(|_, s| Arc::strong_count(s) > 1 || s.available_permits() < full);
        }
        users
            .entry(user)
            .or_insert_with(|| Arc::new(Semaphore::new(self.settings.per_user.max(1))))
            .clone()
    }

    /// Waits for the places a request of `user` (none: signed out) with this `cost` needs.
    pub async fn enter(&self, user: Option<i64>, cost: usize) -> Result<Admitted, ApiError> {
        let wait = self.settings.wait;
        let retry = wait.as_secs().max(1);
        let user_permit = match user {
            None => None,
            Some(id) => {
                let places = self.user_places(id);
                match tokio::time::timeout(wait, places.acquire_owned()).await {
                    Ok(Ok(p)) => Some(p),
                    _ => {
                        return Err(ApiError::rate_limited(
                            format!(
                                "{} of your requests are running already; try again in {retry} s",
                                self.settings.per_user
                            ),
                            retry,
                        ))
                    }
                }
            }
        };
        let expensive = if cost >= self.settings.expensive_cost {
            match tokio::time::timeout(wait, self.expensive.clone().acquire_owned()).await {
                Ok(Ok(p)) => Some(p),
                _ => {
                    return Err(ApiError::rate_limited(
                        format!(
                            "the server is busy with other large requests (this one costs {cost}); try again in {retry} s, or ask for fewer clients or analyses at once"
                        ),
                        retry,
                    ))
                }
            }
        } else {
            None
        };
        Ok(Admitted {
            _user: user_permit,
            _expensive: expensive,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(query: &str, vars: serde_json::Value) -> usize {
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        let set = match &doc.operations {
            async_graphql::parser::types::DocumentOperations::Single(op) => {
                op.node.selection_set.node.clone()
            }
            async_graphql::parser::types::DocumentOperations::Multiple(_) => {
                panic!("one operation")
            }
        };
        estimate(&doc, &set, &Variables::from_json(vars))
    }

    #[test]
    fn analyses_weigh_what_they_read_times_the_page_above() {
        // Scalars are columns of rows already counted.
        assert_eq!(cost("{ me { id username } }", serde_json::json!({})), 1);
        assert_eq!(
            cost(
                "{ client(id: 1) { insights { text } } }",
                serde_json::json!({})
            ),
            1 + HEAVY
        );
        let page = "query($n: Int) { clients(first: $n) { edges { node { offers { name } } } } }";
        assert_eq!(
            cost(page, serde_json::json!({ "n": 50 })),
            1 + 50 * (1 + 1 + HEAVY)
        );
        // A page of rows weighs its rows: far below the expensive bar however many columns.
        let rows = "{ client(id: 1) { transactions(first: 50) { edges { node {
            id bookedAt amount currency direction description merchant mcc category } } } } }";
        assert_eq!(cost(rows, serde_json::json!({})), 1 + 1 + 50 * (1 + 1));
        assert!(cost(rows, serde_json::json!({})) < GateSettings::default().expensive_cost);
        assert_eq!(cost("{ clients { totalCount } }", serde_json::json!({})), 1);
        assert_eq!(
            cost(
                "{ ...F } fragment F on QueryRoot { stats { banks } }",
                serde_json::json!({})
            ),
            LIGHT
        );
    }

    /// The estimate's table and the schema's declared costs (stated in the descriptions by the
    /// resolvers' attributes) name the same fields with the same weights.
    #[test]
    fn the_weights_are_the_ones_the_schema_declares() {
        use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
        let sdl = crate::sdl();
        let doc = async_graphql::parser::parse_schema(&sdl).expect("the SDL parses");
        let mut declared = Vec::new();
        for def in &doc.definitions {
            let TypeSystemDefinition::Type(t) = def else {
                continue;
            };
            let TypeKind::Object(object) = &t.node.kind else {
                continue;
            };
            for field in &object.fields {
                let field = &field.node;
                let Some(text) = field.description.as_ref().map(|d| d.node.as_str()) else {
                    continue;
                };
                if let Some(rest) = text.split("Costs ").nth(1) {
                    let cost: usize = rest
                        .split_whitespace()
                        .next()
                        .and_then(|n| n.parse().ok())
                        .expect("a number after `Costs`");
                    declared.push((field.name.node.to_string(), cost));
                }
            }
        }
        assert!(declared.len() >= 9, "{declared:?}");
        for (name, cost) in &declared {
            assert_eq!(weight(name), *cost, "{name}: the schema says {cost}");
        }
        for name in [
            "recurringPayments",
            "income",
            "insights",
            "offers",
            "spendingByCategory",
            "topMerchants",
            "cashflow",
            "stats",
            "portfolio",
        ] {
            assert!(
                declared.iter().any(|(n, _)| n == name),
                "{name} weighs {} but the schema does not say so",
                weight(name)
            );
        }
    }

    #[tokio::test]
    async fn a_user_runs_a_few_requests_and_expensive_ones_share_places() {
        let gate = Gate::new(GateSettings {
            per_user: 2,
            wait: Duration::from_millis(50),
            expensive: 1,
            expensive_cost: 100,
            analyses: 1,
        });
        let a = gate.enter(Some(1), 1).await.expect("first");
        let _b = gate.enter(Some(1), 1).await.expect("second");
        let third = gate.enter(Some(1), 1).await;
        assert_eq!(third.err().map(|e| e.code), Some("RATE_LIMITED"));
        // Another user is not held up by the first one's requests.
        let big = gate.enter(Some(2), 1_000).await.expect("another user's");
        let second_big = gate.enter(Some(3), 1_000).await;
        assert!(second_big
            .err()
            .is_some_and(|e| e.message.contains("costs 1000")));
        // Cheap requests pass beside the expensive one.
        assert!(gate.enter(Some(3), 10).await.is_ok());
        drop(big);
        assert!(gate.enter(Some(3), 1_000).await.is_ok());
        drop(a);
        assert!(gate.enter(Some(1), 1).await.is_ok());
    }
}
