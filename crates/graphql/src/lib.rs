//! `crm-graphql`: the GraphQL schema of AI-CRM. It knows core's services and types, and neither
//! SQL nor HTTP: the transport (crates/server) hands each request a [`RequestContext`].

mod assistant;
pub mod context;
pub mod cost;
pub mod cursor;
pub mod error;
mod guard;
mod limits;
pub mod loaders;
mod mutation;
mod query;
mod subscription;
pub mod text_input;
pub mod types;

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::Schema;
use crm_core::Core;

pub use context::{RequestContext, SessionCookies};
pub use error::{code, ApiError};
pub use guard::{operation_kind, Api, SignedIn};
pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub use subscription::SubscriptionRoot;

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Limits that bound the work one request can ask for.
#[derive(Clone, Debug)]
pub struct SchemaOptions {
    /// Introspection and field suggestions (on in development for GraphiQL, off in production).
    pub introspection: bool,
    pub max_depth: usize,
    /// Each field costs 1, list fields multiply by their page size; aliases count in full.
    pub max_complexity: usize,
    /// Field selections one document may hold, counted before validation.
    pub max_fields: usize,
    /// Requests at once per user and for expensive requests (see [`cost`]).
    pub gate: cost::GateSettings,
}

impl Default for SchemaOptions {
    fn default() -> Self {
        SchemaOptions {
            introspection: true,
            max_depth: 16,
            max_complexity: 2_500,
            max_fields: 500,
            gate: cost::GateSettings::default(),
        }
    }
}

fn builder(
    options: &SchemaOptions,
) -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    let mut b = Schema::build(QueryRoot, MutationRoot, SubscriptionRoot)
        .limit_depth(options.max_depth)
        .limit_complexity(options.max_complexity)
        .limit_recursive_depth(32)
        .limit_directives(16);
    if !options.introspection {
        b = b.disable_introspection().disable_suggestions();
    }
    b
}

/// The schema with core's services and a shared data loader, behind the checks every request
/// gets (see [`Api`]).
pub fn build_api(core: Arc<Core>, options: &SchemaOptions) -> Api {
    let loader = DataLoader::new(loaders::CoreLoader(core.clone()), tokio::spawn);
    let quota = Some(core.request_quota().clone()).filter(|q| q.enabled());
    let slots = cost::AnalysisSlots(Arc::new(tokio::sync::Semaphore::new(
        options.gate.analyses.max(1),
    )));
    Api::new(
        builder(options)
            .data(core)
            .data(loader)
            .data(slots)
            .finish(),
        options.max_fields,
        cost::Gate::new(options.gate),
        quota,
    )
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    builder(&SchemaOptions::default()).finish().sdl()
}
