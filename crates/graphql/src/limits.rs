//! A cap on the field selections one document may hold, checked right after parsing, before
//! validation walks the document: a megabyte of `a0: __typename a1: __typename ...` is refused
//! for its size alone, whatever its complexity would come to. Fragments count once where they
//! are defined (their expansion is bounded by complexity and depth). Checked in `guard.rs`, on the
//! document parsed once for the request.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::ServerError;

use crate::error::code;

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

/// The error for a document over the cap (`max` = `GRAPHQL_MAX_FIELDS`), or `None`.
pub(crate) fn check(doc: &ExecutableDocument, max: usize) -> Option<ServerError> {
    let fields = field_count(doc);
    if fields <= max {
        return None;
    }
    let mut err = ServerError::new(
        format!(
            "the query selects {fields} fields; at most {max} are allowed in one request (GRAPHQL_MAX_FIELDS)"
        ),
        None,
    );
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code::BAD_USER_INPUT);
    err.extensions = Some(ext);
    Some(err)
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
