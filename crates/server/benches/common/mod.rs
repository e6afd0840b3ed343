//! Helpers the benchmarks share: knobs from the environment and signing in.
#![allow(dead_code, clippy::unwrap_used, clippy::disallowed_methods)]

use crm_server::testkit::TestServer;
use serde_json::json;

/// A whole-number knob from the environment, or `default`.
pub fn env_num(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Signs `user` in and returns the session cookie (`crm_session=…`) to send with requests.
pub async fn session_cookie(server: &TestServer, user: &str, password: &str) -> String {
    let res = reqwest::Client::new()
        .post(server.url("/graphql"))
        .json(&json!({
            "query": "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { user { id } } }",
            "variables": { "u": user, "p": password },
        }))
        .send()
        .await
        .unwrap();
    let set = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}
