//! The latency the server adds when streaming an answer from a model: a local fake provider
//! writes N chunks spaced by a delay; a websocket subscriber (graphql-transport-ws, the real
//! router) records when each arrives. Reported against the fake's own timing:
//!   - request: from `subscribe` to the provider receiving the request (session, checks, audit,
//!     rate limit, the client summary from the database);
//!   - first chunk / per chunk: from the fake handing a chunk to its HTTP layer to the
//!     subscriber reading it (SSE parsing, the answer stream, GraphQL, the websocket, loopback);
//!   - the same per-chunk figure read by the model client alone (no CRM in between), so the
//!     difference is what the CRM adds.
//!
//! cargo bench -p crm-server --bench assistant
//! Knobs: BENCH_RUNS (default 30), BENCH_CHUNKS (100), BENCH_CHUNK_GAP_MS (2).
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use common::env_num;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use crm_core::assistant::llm::{
    ChatEvent, ChatMessage, ChatRequest, LlmClient, LlmSettings, Timeouts,
};
use crm_core::testing::{seed_portfolio, SeedSpec, TestDatabase};
use crm_server::app::App;
use crm_server::config::Config;
use crm_server::testkit::fake_llm::{FakeLlm, Reply, Step};
use crm_server::testkit::{TestServer, ADMIN, ADMIN_PASSWORD};
use futures_util::{SinkExt, StreamExt};
use mimalloc::MiMalloc;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

const STREAM: &str = "subscription($q: String!, $c: ID) { assistantStream(question: $q, clientId: $c) { delta done } }";

fn script(chunks: usize, gap: Duration) -> Reply {
    let mut steps = Vec::new();
    for i in 0..chunks {
        if i > 0 {
            steps.push(Step::Sleep(gap));
        }
        steps.push(Step::Text(format!("c{i} ")));
    }
    steps.extend(Reply::ending("stop"));
    Reply::Stream(steps)
}

/// Arrival time of each `cN` token in the texts received.
fn arrivals(received: &[(String, Instant)], chunks: usize) -> Vec<Instant> {
    let mut out = vec![None; chunks];
    for (text, at) in received {
        for token in text.split_whitespace() {
            if let Some(i) = token
                .strip_prefix('c')
                .and_then(|n| n.parse::<usize>().ok())
            {
                if i < chunks && out[i].is_none() {
                    out[i] = Some(*at);
                }
            }
        }
    }
    out.into_iter()
        .map(|a| a.expect("every chunk arrived"))
        .collect()
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

struct Stats {
    samples: Vec<f64>,
}

impl Stats {
    fn new(mut samples: Vec<f64>) -> Self {
        samples.sort_by(|a, b| a.total_cmp(b));
        Stats { samples }
    }
    fn pct(&self, p: f64) -> f64 {
        let n = self.samples.len();
        self.samples[((n as f64 * p) as usize).min(n - 1)]
    }
    fn mean(&self) -> f64 {
        self.samples.iter().sum::<f64>() / self.samples.len() as f64
    }
    fn line(&self) -> String {
        format!(
            "mean {:>7.1} µs   p50 {:>7.1} µs   p95 {:>7.1} µs   p99 {:>7.1} µs   max {:>8.1} µs   (n={})",
            self.mean(),
            self.pct(0.50),
            self.pct(0.95),
            self.pct(0.99),
            self.samples.last().copied().unwrap_or_default(),
            self.samples.len()
        )
    }
}

#[tokio::main]
async fn main() {
    let runs = env_num("BENCH_RUNS", 30) as usize;
    let chunks = env_num("BENCH_CHUNKS", 100) as usize;
    let gap = Duration::from_millis(env_num("BENCH_CHUNK_GAP_MS", 2));
    let fake = FakeLlm::start().await.unwrap();
    let tdb = TestDatabase::create(None).await.unwrap();
    let ids = seed_portfolio(
        &tdb.db,
        &SeedSpec {
            clients: 1,
            transactions_per_client: 5000,
            months: 6,
        },
    )
    .await
    .unwrap();
    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert("DATABASE_URL".into(), tdb.url.clone());
    vars.insert("AUTH_USERNAME".into(), ADMIN.into());
    vars.insert("AUTH_PASSWORD".into(), ADMIN_PASSWORD.into());
    vars.insert("AI_API_URL".into(), fake.url());
    vars.insert("AI_API_KEY".into(), "sk-bench".into());
    vars.insert("AI_RATE_LIMIT_PER_MINUTE".into(), "100000".into());
    vars.insert("QUERY_RATE_PER_MINUTE".into(), "0".into());
    vars.insert("QUERY_CONCURRENCY_PER_USER".into(), "1000".into());
    let config = Config::from_source(&vars).unwrap();
    let app = App::build(&config).await.unwrap();
    let server = TestServer::serve(app, None).await.unwrap();

    let login = reqwest::Client::new()
        .post(server.url("/graphql"))
        .json(&json!({ "query": format!("mutation {{ login(username: \"{ADMIN}\", password: \"{ADMIN_PASSWORD}\") {{ user {{ id }} }} }}") }))
        .send()
        .await
        .unwrap();
    let cookie = login
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let mut req = format!("ws://{}/graphql/ws", server.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws.send(Message::Text(
        json!({ "type": "connection_init" }).to_string().into(),
    ))
    .await
    .unwrap();
    ws.next().await.unwrap().unwrap();

    println!(
        "{runs} answers of {chunks} chunks, {} ms apart, from a local fake provider; 1 client with 5 000 transactions (SQLite); mimalloc",
        gap.as_millis()
    );
    let (mut request, mut first, mut per_chunk, mut added_first) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        fake.push(script(chunks, gap));
        fake.clear_sent();
        let id = format!("r{run}");
        let subscribed = Instant::now();
        ws.send(Message::Text(
            json!({ "type": "subscribe", "id": id, "payload": { "query": STREAM,
                "variables": { "q": "Проанализируй расходы клиента", "c": ids[0].to_string() } } })
            .to_string()
            .into(),
        ))
        .await
        .unwrap();
        let mut received: Vec<(String, Instant)> = Vec::new();
        while let Some(Ok(msg)) = ws.next().await {
            let at = Instant::now();
            let Message::Text(t) = msg else { continue };
            let v: Value = serde_json::from_str(&t).unwrap();
            match v["type"].as_str() {
                Some("next") => {
                    let chunk = &v["payload"]["data"]["assistantStream"];
                    assert!(v["payload"]["errors"].is_null(), "{v}");
                    if let Some(d) = chunk["delta"].as_str() {
                        received.push((d.to_owned(), at));
                    }
                }
                Some("complete") => break,
                _ => {}
            }
        }
        let sent = fake.sent();
        let got = arrivals(&received, chunks);
        let asked = fake.requests().last().unwrap().at;
        if run == 0 {
            continue; // warm-up
        }
        request.push(micros(asked - subscribed));
        first.push(micros(got[0] - sent[0].at));
        added_first.push(micros(
            (got[0] - subscribed).saturating_sub(sent[0].at - asked),
        ));
        for i in 1..chunks {
            per_chunk.push(micros(got[i].saturating_duration_since(sent[i].at)));
        }
    }

    // The model client alone against the same fake: what HTTP and SSE cost without the CRM.
    let direct = LlmClient::new(LlmSettings {
        base_url: fake.url(),
        api_key: None,
        model: "m".into(),
        max_tokens: 100,
        temperature: 0.0,
        timeouts: Timeouts::default(),
    })
    .unwrap();
    let mut direct_chunk = Vec::new();
    for run in 0..runs.min(10) {
        fake.push(script(chunks, gap));
        fake.clear_sent();
        let mut stream = direct
            .stream_chat(&ChatRequest {
                messages: vec![ChatMessage::User("q".into())],
                ..Default::default()
            })
            .await
            .unwrap();
        let mut received = Vec::new();
        while let Some(ev) = stream.next().await {
            if let ChatEvent::Delta(t) = ev.unwrap() {
                received.push((t, Instant::now()));
            }
        }
        let sent = fake.sent();
        let got = arrivals(&received, chunks);
        if run > 0 {
            for i in 1..chunks {
                direct_chunk.push(micros(got[i].saturating_duration_since(sent[i].at)));
            }
        }
    }

    let (request, first, per_chunk, added_first, direct_chunk) = (
        Stats::new(request),
        Stats::new(first),
        Stats::new(per_chunk),
        Stats::new(added_first),
        Stats::new(direct_chunk),
    );
    println!(
        "  request reaches the provider after subscribe    {}",
        request.line()
    );
    println!(
        "  first chunk, provider -> subscriber              {}",
        first.line()
    );
    println!(
        "  added to time-to-first-chunk (total)             {}",
        added_first.line()
    );
    println!(
        "  each further chunk, provider -> subscriber       {}",
        per_chunk.line()
    );
    println!(
        "  each chunk, provider -> model client alone       {}",
        direct_chunk.line()
    );
    println!(
        "  => the CRM adds ~{:.0} µs per chunk (p50) over reading the provider directly",
        per_chunk.pct(0.5) - direct_chunk.pct(0.5)
    );
    let _ = ws.close(None).await;
    server.stop().await.unwrap();
    tdb.cleanup().await.unwrap();
}
