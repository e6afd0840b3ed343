//! Conventions of `crm-core` turned into tests (rust-analyzer's `tidy` is the model): they read
//! the source as text, so a change that breaks a rule fails here with the file and line to fix.
//!
//! - Only the ledger (`src/ledger/`) writes transactions and the figures derived from them.
//! - The top-level modules of core import each other in one direction: no circle.
//! - The assistant reads other modules' tables through their read functions, never through
//!   their entities (only `assistant/conversations.rs`, which owns its tables, names entities).
//! - The engines (`sync/`, `auth/`, `assistant/`) are given the parts they use: none of their
//!   files names the `Core` holder, except where a job is handed it (`sync/job.rs`) and the
//!   assistant's read API is implemented for it (`assistant/data.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments, string contents and its `#[cfg(test)]` module (tests
/// may set up rows directly; the rules are about the product's code).
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            out.push('\n');
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The top-level module a file belongs to (`sync/ingest.rs` → `sync`), `None` for `lib.rs`.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).expect("file under src");
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs").to_owned();
    (name != "lib").then_some(name)
}

const DERIVED_TABLES: [&str; 4] = [
    "transactions",
    "client_totals",
    "client_month_totals",
    "client_day_totals",
];

/// What writing one of the tables looks like through sea-orm or in SQL.
fn write_patterns() -> Vec<String> {
    let mut patterns = Vec::new();
    for table in DERIVED_TABLES {
        patterns.push(format!("{table}::ActiveModel"));
        for op in ["insert", "update", "delete"] {
            patterns.push(format!("{table}::Entity::{op}"));
        }
        patterns.push(format!("INSERT INTO {table} "));
        patterns.push(format!("UPDATE {table} "));
        patterns.push(format!("DELETE FROM {table} "));
    }
    patterns
}

#[test]
fn only_the_ledger_writes_transactions_and_their_figures() {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let allowed = [src.join("ledger"), src.join("entity")];
    let patterns = write_patterns();
    let mut offences = Vec::new();
    for file in &files {
        if allowed.iter().any(|dir| file.starts_with(dir)) {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("source file");
        for (n, line) in code_of(&text).lines().enumerate() {
            if let Some(p) = patterns.iter().find(|p| line.contains(p.as_str())) {
                offences.push(format!("{}:{}: {p}", file.display(), n + 1));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "transactions and their counters/aggregates are written only through crate::ledger \
         (Posting), so every write keeps the figures in the same database transaction:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_rule_detects_a_write_outside_the_ledger() {
    let sample = "fn f() {\n    transactions::Entity::update_many();\n}\n";
    let patterns = write_patterns();
    assert!(code_of(sample)
        .lines()
        .any(|l| patterns.iter().any(|p| l.contains(p.as_str()))));
    // A comment that names the table is not a write.
    let comment = "// transactions::Entity::update_many() happens in the ledger\n";
    assert!(!code_of(comment)
        .lines()
        .any(|l| patterns.iter().any(|p| l.contains(p.as_str()))));
}

/// Whether code names `crate::entity` (directly or in a `use crate::{…}` group).
fn names_an_entity(code: &str) -> bool {
    crate_modules_named(code).contains(&"entity")
}

#[test]
fn the_assistant_reads_no_entities_of_other_modules() {
    let dir = src_dir().join("assistant");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("tools.rs")),
        "found no assistant files under {}",
        dir.display()
    );
    let owner = dir.join("conversations.rs");
    let mut offences = Vec::new();
    for file in files.iter().filter(|f| **f != owner) {
        let code = code_of(&std::fs::read_to_string(file).expect("source file"));
        if !names_an_entity(&code) {
            continue;
        }
        let lines: Vec<String> = code
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains("entity"))
            .map(|(n, l)| format!("{}:{}: {}", file.display(), n + 1, l.trim()))
            .collect();
        offences.extend(lines);
    }
    assert!(
        offences.is_empty(),
        "the assistant reads through analytics and the read functions of the modules that own \
         the tables (e.g. audit::recent_times, accounts::numbers_of_client), not through their \
         entities; only assistant/conversations.rs owns tables:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_rule_detects_an_entity_in_the_assistant() {
    assert!(names_an_entity(&code_of(
        "use crate::entity::{accounts, bank_links};\nfn f() {}\n"
    )));
    assert!(names_an_entity(&code_of(
        "use crate::{\n    entity::products,\n    error::CoreResult,\n};\n"
    )));
    assert!(names_an_entity(&code_of(
        "fn f() {\n    crate::entity::audit_log::Entity::find();\n}\n"
    )));
    // Reading through the owner's function, or a comment that names an entity, is not a read.
    assert!(!names_an_entity(&code_of(
        "use crate::audit;\n// not crate::entity::audit_log\n"
    )));
}

/// The top-level modules a piece of code names through `crate::x` or `use crate::{x, …}`.
fn crate_modules_named(code: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            out.extend(
                group[..end]
                    .split(',')
                    .map(|part| part.trim().split("::").next().unwrap_or("").trim()),
            );
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            out.push(&rest[..end]);
        }
    }
    out
}

/// Which top-level modules each module names (`crate::x`, `use crate::{x, …}`).
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| top_module(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(from) = top_module(&src, file) else {
            continue;
        };
        let code = code_of(&std::fs::read_to_string(file).expect("source file"));
        let edges = graph.entry(from.clone()).or_default();
        for name in crate_modules_named(&code) {
            if name != from && modules.contains(name) {
                edges.insert(name.to_owned());
            }
        }
    }
    graph
}

/// A circle through `start`, if there is one.
fn circle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(at).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_owned()];
    let mut seen = BTreeSet::new();
    walk(graph, start, start, &mut path, &mut seen).then_some(path)
}

#[test]
fn core_modules_import_each_other_in_one_direction() {
    let graph = module_graph();
    assert!(
        graph.get("sync").is_some_and(|e| e.contains("ledger")),
        "the graph reader found no sync → ledger edge: it reads nothing"
    );
    let circles: Vec<String> = graph
        .keys()
        .filter_map(|m| circle_from(&graph, m))
        .map(|c| c.join(" → "))
        .collect();
    assert!(
        circles.is_empty(),
        "modules of crm-core import each other in a circle (move the shared piece down, e.g. \
         into domain):\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_circle_finder_finds_circles() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    graph.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        circle_from(&graph, "a").map(|c| c.join(" → ")),
        Some("a → b → c → a".to_owned())
    );
    graph.entry("c".into()).or_default().clear();
    assert_eq!(circle_from(&graph, "a"), None);
}

/// Whether code names the `Core` type itself (not `CoreError`, `CoreResult`, `CoreSettings`).
fn names_the_holder(code: &str) -> bool {
    let bytes = code.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    code.match_indices("Core").any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + 4).copied();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

#[test]
fn the_engines_are_given_their_parts_not_the_core() {
    let src = src_dir();
    let allowed = [src.join("sync/job.rs"), src.join("assistant/data.rs")];
    let mut files = Vec::new();
    for engine in ["sync", "auth", "assistant"] {
        rust_files(&src.join(engine), &mut files);
    }
    assert!(
        files.iter().any(|f| f.ends_with("ingest.rs")),
        "found no engine files under {}",
        src.display()
    );
    let mut offences = Vec::new();
    for file in files.iter().filter(|f| !allowed.contains(f)) {
        let code = code_of(&std::fs::read_to_string(file).expect("source file"));
        for (n, line) in code.lines().enumerate() {
            if names_the_holder(line) {
                offences.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "an engine reaches other services through the parts Core::new passes it (SyncParts, \
         Auth::new, Assistant::new, ClientData), never through the Core holder:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_rule_detects_the_holder_in_an_engine() {
    assert!(names_the_holder("use crate::Core;"));
    assert!(names_the_holder("fn f(core: &Core) {}"));
    assert!(names_the_holder("async fn run(self, core: Arc<Core>)"));
    assert!(!names_the_holder(
        "use crate::error::{CoreError, CoreResult};"
    ));
    assert!(!names_the_holder("let s = CoreSettings::default();"));
    assert!(!names_the_holder(&code_of(
        "// built by Core::new\nfn f() {}\n"
    )));
}
