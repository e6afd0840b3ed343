//! Every string a request gives (argument literals in the document and variable values) is
//! checked before anything runs: at most [`MAX_CHARS`] characters, and no C0 control character
//! (tab, line feed and carriage return aside), DEL, or bidirectional control character (which
//! makes a name or a note read differently than it is stored: "Trojan Source"). Fields with
//! tighter limits (a search: 200 characters; a name: 200) check those themselves; this is the
//! floor that keeps any text input from reaching the database as an error of its own.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, Value, Variables};

use crate::error::code;

/// The longest text any argument takes (a note's body: 20 000 characters).
pub const MAX_CHARS: usize = 20_000;

/// What is wrong with `text`, if anything.
pub fn problem(text: &str) -> Option<String> {
    let n = text.chars().count();
    if n > MAX_CHARS {
        return Some(format!("is too long ({n} characters; at most {MAX_CHARS})"));
    }
    text.chars()
        .find(|c| forbidden(*c))
        .map(|c| format!("contains the control character U+{:04X}", u32::from(c)))
}

fn forbidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'
        | '\u{200e}' | '\u{200f}' | '\u{61c}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn refused(what: String, problem: String) -> ServerError {
    let mut err = ServerError::new(format!("{what} {problem}"), None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code::BAD_USER_INPUT);
    err.extensions = Some(ext);
    err
}

/// `value` when it has at most `max` characters; otherwise `BAD_USER_INPUT` naming `name`.
pub fn at_most(
    value: Option<String>,
    name: &str,
    max: usize,
) -> Result<Option<String>, crate::error::ApiError> {
    match &value {
        Some(v) if v.chars().count() > max => Err(crate::error::ApiError::bad_input(format!(
            "`{name}` is too long ({} characters; at most {max})",
            v.chars().count()
        ))),
        _ => Ok(value),
    }
}

/// The first string in `value` that breaks the rules; `label` names its place from `path`.
fn walk(value: &Value, path: &str, label: fn(&str) -> String) -> Option<ServerError> {
    match value {
        Value::String(s) => problem(s).map(|p| refused(label(path), p)),
        Value::List(items) => items.iter().find_map(|v| walk(v, path, label)),
        Value::Object(fields) => fields
            .iter()
            .find_map(|(k, v)| walk(v, &format!("{path}.{k}"), label)),
        _ => None,
    }
}

fn in_set(set: &SelectionSet) -> Option<ServerError> {
    set.items.iter().find_map(|item| match &item.node {
        Selection::Field(f) => {
            let field = f.node.name.node.as_str();
            f.node
                .arguments
                .iter()
                .find_map(|(name, value)| {
                    // Variables inside a literal are checked with the variables.
                    let value = value
                        .node
                        .clone()
                        .into_const_with(|_| Ok::<_, std::convert::Infallible>(Value::Null))
                        .unwrap_or(Value::Null);
                    walk(&value, &format!("{field}({})", name.node), |p| {
                        format!("argument `{p}`")
                    })
                })
                .or_else(|| in_set(&f.node.selection_set.node))
        }
        Selection::InlineFragment(f) => in_set(&f.node.selection_set.node),
        Selection::FragmentSpread(_) => None,
    })
}

/// The first argument literal of the document that breaks the rules, as a `BAD_USER_INPUT`
/// error naming it.
pub(crate) fn check_document(doc: &ExecutableDocument) -> Option<ServerError> {
    doc.operations
        .iter()
        .find_map(|(_, op)| in_set(&op.node.selection_set.node))
        .or_else(|| {
            doc.fragments
                .values()
                .find_map(|f| in_set(&f.node.selection_set.node))
        })
}

/// The first variable value that breaks the rules, as a `BAD_USER_INPUT` error naming it.
pub(crate) fn check_variables(variables: &Variables) -> Option<ServerError> {
    variables
        .iter()
        .find_map(|(name, value)| walk(value, name.as_str(), |p| format!("variable `${p}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_query(query: &str, vars: serde_json::Value) -> Option<String> {
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        check_document(&doc)
            .or_else(|| check_variables(&Variables::from_json(vars)))
            .map(|e| e.message)
    }

    #[test]
    fn text_is_capped_and_free_of_control_characters() {
        assert_eq!(problem("Иванов И.И.\nзвонок\tв 10:00\r\n"), None);
        assert!(problem(&"я".repeat(MAX_CHARS)).is_none());
        assert!(problem(&"я".repeat(MAX_CHARS + 1))
            .expect("too long")
            .contains("20001 characters"));
        for bad in [
            "a\u{0}b",
            "\u{1b}[31m",
            "x\u{7f}",
            "admin\u{202e}nimda",
            "\u{2066}1\u{2069}",
        ] {
            assert!(
                problem(bad).is_some_and(|p| p.contains("control character U+")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn literals_and_variables_are_named_when_refused() {
        assert_eq!(
            check_query(
                "mutation { addNote(clientId: 1, body: \"a\\u0000b\") { id } }",
                serde_json::json!({})
            )
            .as_deref(),
            Some("argument `addNote(body)` contains the control character U+0000")
        );
        assert_eq!(
            check_query(
                "query($f: ClientFilter) { clients(filter: $f) { totalCount } }",
                serde_json::json!({ "f": { "search": "\u{202e}x" } })
            )
            .as_deref(),
            Some("variable `$f.search` contains the control character U+202E")
        );
        assert_eq!(
            check_query(
                "{ ...F } fragment F on QueryRoot { clients(filter: { search: [\"ok\", \"\\u001b\"] }) { totalCount } }",
                serde_json::json!({})
            )
            .as_deref(),
            Some("argument `clients(filter).search` contains the control character U+001B")
        );
        assert_eq!(
            check_query(
                "query($q: String!) { clients(filter: { search: $q }) { totalCount } }",
                serde_json::json!({ "q": "Иванов" })
            ),
            None
        );
    }
}
