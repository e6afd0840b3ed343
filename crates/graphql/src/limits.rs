//! A cap on the field selections one document may hold, checked right after parsing, before
//! validation walks the document: a megabyte of `a0: __typename a1: __typename ...` is refused
//! for its size alone, whatever its complexity would come to. Fragments count once where they
//! are defined (their expansion is bounded by complexity and depth).

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};

use crate::error::code;

pub struct FieldLimit(pub usize);

impl ExtensionFactory for FieldLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(FieldLimitExtension(self.0))
    }
}

struct FieldLimitExtension(usize);

fn count(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => 1 + count(&f.node.selection_set.node),
            Selection::InlineFragment(f) => count(&f.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Field selections in every operation and fragment definition of the document.
pub fn field_count(doc: &ExecutableDocument) -> usize {
    let ops: usize = doc
        .operations
        .iter()
        .map(|(_, op)| count(&op.node.selection_set.node))
        .sum();
    let fragments: usize = doc
        .fragments
        .values()
        .map(|f| count(&f.node.selection_set.node))
        .sum();
    ops + fragments
}

#[async_graphql::async_trait::async_trait]
impl Extension for FieldLimitExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let fields = field_count(&doc);
        if fields > self.0 {
            let mut err = ServerError::new(
                format!(
                    "the query selects {fields} fields; at most {} are allowed in one request (GRAPHQL_MAX_FIELDS)",
                    self.0
                ),
                None,
            );
            let mut ext = async_graphql::ErrorExtensionValues::default();
            ext.set("code", code::BAD_USER_INPUT);
            err.extensions = Some(ext);
            return Err(err);
        }
        Ok(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_fields_in_operations_and_fragments() {
        let doc = async_graphql::parser::parse_query(
            "query { a { b c ... on X { d } ...F } } fragment F on Y { e f { g } }",
        )
        .expect("parses");
        assert_eq!(field_count(&doc), 4 + 3);
        let aliases: String = (0..50).map(|i| format!("a{i}: me ")).collect();
        let doc = async_graphql::parser::parse_query(format!("{{ {aliases} }}")).expect("parses");
        assert_eq!(field_count(&doc), 50);
    }
}
