//! A schema extension that (1) refuses every root field but `login` (and introspection, when it
//! is enabled) without a session, so no resolver can forget the check, and (2) makes sure every
//! error a resolver returns carries an `extensions.code`, masking anything unexpected.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextResolve, ResolveInfo,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult, Value, Variables};

use crate::context::RequestContext;
use crate::error::{code, ApiError};

/// Root fields anyone may call.
const PUBLIC_ROOT_FIELDS: &[&str] = &["login", "__typename", "__schema", "__type"];

/// `max_fields`: the cap on field selections per document (see `limits.rs`), checked here after
/// parsing, so the schema has one extension and each field one extra step.
pub struct SessionGuard {
    pub max_fields: usize,
}

impl ExtensionFactory for SessionGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SessionGuardExtension {
            max_fields: self.max_fields,
        })
    }
}

struct SessionGuardExtension {
    max_fields: usize,
}

fn with_code(mut err: ServerError, code: &str) -> ServerError {
    let mut ext = err.extensions.take().unwrap_or_default();
    ext.set("code", code);
    err.extensions = Some(ext);
    err
}

fn has_code(err: &ServerError) -> bool {
    err.extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some())
}

/// async-graphql's own messages for arguments and variables that do not fit their types.
fn is_input_error(message: &str) -> bool {
    [
        "Failed to parse",
        "Invalid value for argument",
        "Invalid value",
    ]
    .iter()
    .any(|p| message.starts_with(p))
}

#[async_graphql::async_trait::async_trait]
impl Extension for SessionGuardExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        match crate::limits::check(&doc, self.max_fields) {
            Some(err) => Err(err),
            None => Ok(doc),
        }
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.path_node.parent.is_none() && !PUBLIC_ROOT_FIELDS.contains(&info.name) {
            let signed_in = ctx
                .data_opt::<RequestContext>()
                .is_some_and(|r| r.actor.is_some());
            if !signed_in {
                let e = ApiError::unauthenticated();
                return Err(with_code(
                    ServerError::new(e.message, None),
                    code::UNAUTHENTICATED,
                ));
            }
        }
        match next.run(ctx, info).await {
            Ok(v) => Ok(v),
            Err(err) if has_code(&err) => Err(err),
            Err(err) if is_input_error(&err.message) => Err(with_code(err, code::BAD_USER_INPUT)),
            Err(err) => {
                let masked = ApiError::internal(&err.message);
                let mut out = ServerError::new(masked.message, None);
                out.locations = err.locations;
                out.path = err.path;
                Err(with_code(out, code::INTERNAL))
            }
        }
    }
}
