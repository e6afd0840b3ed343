//! Conventions as tests: crates depend on each other only in design.md's direction
//! (`server -> graphql -> core -> connector-* -> openbanking-ru -> connector`, and
//! `core -> llm`), the GraphQL layer knows no SQL, the model client knows no other crate of ours,
//! and the sandbox bank shares no code with the connectors (it may implement the conformance
//! kit's trait behind a feature; only the server embeds it, others test with it). Core reaches
//! banks only through connector crates: never a protocol crate directly (the generic protocol
//! builder comes through `crm-connector-generic`), and the toy bank only behind a non-default
//! feature.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use serde_json::Value;

/// Higher layers may depend on lower ones, never the reverse.
fn rank(package: &str) -> Option<u32> {
    Some(match package {
        "crm-migration" => 0,
        "crm-connector" => 1,
        // The model client: HTTP and the chat-completions format only.
        "crm-llm" => 1,
        "crm-openbanking-ru" => 2,
        p if p.starts_with("crm-connector-") => 3,
        "crm-core" => 4,
        "crm-graphql" => 5,
        "crm-server" => 6,
        _ => return None,
    })
}

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn workspace_dependencies_point_one_way() {
    let meta = metadata();
    let packages = meta["packages"].as_array().unwrap();
    let names: Vec<&str> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let mut violations = Vec::new();
    for p in packages {
        let name = p["name"].as_str().unwrap();
        for dep in p["dependencies"].as_array().unwrap() {
            let dep_name = dep["name"].as_str().unwrap();
            let normal = dep["kind"].is_null();
            if !normal || !names.contains(&dep_name) {
                continue;
            }
            if name == "crm-llm" {
                violations.push(format!(
                    "crm-llm -> {dep_name}: the model client knows HTTP only, no crate of ours"
                ));
            }
            if name == "crm-sandbox-bank" {
                // The sandbox shares no code with the connectors: it may know the connector
                // trait crate, and only behind its optional `conformance` feature (the kit's
                // `BankControl` implementation), never a protocol or bank crate or anything above.
                let kit_trait = dep_name == "crm-connector"
                    && dep["optional"].as_bool() == Some(true)
                    && p["features"]["conformance"]
                        .as_array()
                        .is_some_and(|f| f.iter().any(|x| x == "dep:crm-connector"));
                if !kit_trait {
                    violations.push(format!(
                        "{name} -> {dep_name}: the sandbox speaks the wire protocol only (crm-connector only as the optional `conformance` feature)"
                    ));
                }
            }
            if name == "crm-core" && rank(dep_name) == Some(2) {
                violations.push(format!(
                    "crm-core -> {dep_name}: core knows banks through `crm-connector` and connector crates only; a protocol's generic builder reaches the registry table through a connector crate (crm-connector-generic)"
                ));
            }
            if dep_name == "crm-connector-toybank" {
                let in_default = p["features"]["default"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|x| x == "toybank"));
                if dep["optional"].as_bool() != Some(true) || in_default {
                    violations.push(format!(
                        "{name} -> {dep_name}: the toy bank is for tests, only behind a non-default feature"
                    ));
                }
            }
            if dep_name == "crm-sandbox-bank" && name != "crm-server" {
                violations.push(format!(
                    "{name} -> {dep_name}: only the server embeds the sandbox; others use it as a dev-dependency"
                ));
            }
            match (rank(name), rank(dep_name)) {
                (Some(a), Some(b)) if b >= a => {
                    violations.push(format!("{name} -> {dep_name} points against the layers"))
                }
                (None, _) if name != "crm-sandbox-bank" => {
                    violations.push(format!("{name} has no layer: add it to rank()"))
                }
                _ => {}
            }
        }
        if name == "crm-graphql" {
            for dep in p["dependencies"].as_array().unwrap() {
                let d = dep["name"].as_str().unwrap();
                if dep["kind"].is_null() && ["sea-orm", "sqlx", "sea-query"].contains(&d) {
                    violations.push(format!(
                        "crm-graphql -> {d}: the GraphQL layer knows no SQL"
                    ));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    for required in [
        "crm-core",
        "crm-graphql",
        "crm-server",
        "crm-migration",
        "crm-llm",
        "crm-connector",
        "crm-openbanking-ru",
        "crm-connector-generic",
        "crm-sandbox-bank",
    ] {
        assert!(
            names.contains(&required),
            "{required} is missing from the workspace"
        );
    }
}
