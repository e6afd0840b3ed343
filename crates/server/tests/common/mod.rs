//! Helpers for black-box tests: a running server and an HTTP client that keeps cookies.
#![allow(dead_code, clippy::disallowed_methods, clippy::unwrap_used)]

use crm_server::testkit::{TestServer, ADMIN, ADMIN_PASSWORD};
use serde_json::{json, Value};

/// `TEST_DATABASE_URL` selects PostgreSQL; unset, the tests run on SQLite.
pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

pub async fn start() -> TestServer {
    start_with(&[]).await
}

pub async fn start_with(extra: &[(&str, &str)]) -> TestServer {
    TestServer::start(postgres_url().as_deref(), extra)
        .await
        .expect("server starts")
}

/// Creates a user as `admin` and returns its id.
pub async fn create_user(admin: &Client, name: &str, role: &str, password: &str) -> String {
    admin
        .ok(
            "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
            json!({ "input": { "username": name, "password": password, "role": role } }),
        )
        .await["createUser"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Creates a client named `name` as `c` and returns its id.
pub async fn create_client(c: &Client, name: &str) -> String {
    c.ok(
        "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
        json!({ "input": { "displayName": name } }),
    )
    .await["createClient"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A client signed in as `name`.
pub async fn signed_in_as(server: &TestServer, name: &str, password: &str) -> Client {
    let c = Client::new(server);
    let body = c.login(name, password).await;
    assert!(body.get("errors").is_none(), "{name} signs in: {body}");
    c
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

impl Client {
    pub fn new(server: &TestServer) -> Client {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        Client {
            http,
            base: server.url(""),
        }
    }

    pub async fn post_raw(&self, body: Value) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&body)
            .send()
            .await
            .expect("send");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Runs an operation and returns the whole response body.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self
            .post_raw(json!({ "query": query, "variables": variables }))
            .await;
        assert_eq!(status, 200, "GraphQL over HTTP answers 200: {body}");
        body
    }

    /// Runs an operation that must succeed and returns `data`.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    pub async fn login(&self, username: &str, password: &str) -> Value {
        self.gql(
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { user { id username role } } }",
            json!({ "u": username, "p": password }),
        )
        .await
    }

    pub async fn login_admin(&self) {
        let body = self.login(ADMIN, ADMIN_PASSWORD).await;
        assert!(body.get("errors").is_none(), "admin login: {body}");
    }
}

/// `(status, content type, content disposition, body)` of a GET with this client's cookies.
pub async fn download(c: &Client, path: &str) -> (u16, String, String, Vec<u8>) {
    let res = c
        .http
        .get(format!("{}{}", c.base, path))
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    let status = res.status().as_u16();
    (status, ct, cd, res.bytes().await.unwrap().to_vec())
}

/// Waits for the newest STARTUP sync run (demo mode) with an id above `newer_than` to end and
/// returns it.
pub async fn startup_run(c: &Client, newer_than: i64) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let runs = c
            .ok(
                "{ syncRuns(first: 5) { id trigger status added updated unchanged errors message
                     links { bank clientId result code message } } }",
                json!({}),
            )
            .await;
        let run = runs["syncRuns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| {
                r["trigger"] == "STARTUP"
                    && r["id"].as_str().unwrap().parse::<i64>().unwrap() > newer_than
            })
            .cloned();
        if let Some(run) = run.filter(|r| r["status"] != "RUNNING") {
            return run;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the startup sync did not finish: {runs}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A demo run: every link synced but those waiting for a client's approval at SBank (which
/// make the run `PARTIAL`, never `SUCCEEDED`). Returns how many links wait.
pub fn assert_only_consent_waits(run: &Value) -> usize {
    assert_eq!(run["status"], "PARTIAL", "{run}");
    let links = run["links"].as_array().unwrap();
    // The demo's client who declined SBank's consent is skipped as such.
    let declined: Vec<&Value> = links
        .iter()
        .filter(|l| l["code"] == "CONSENT_REJECTED")
        .collect();
    assert!(declined.len() <= 1, "{run}");
    for l in &declined {
        assert_eq!(
            (l["bank"].as_str(), l["result"].as_str()),
            (Some("sbank"), Some("SKIPPED")),
            "{l}"
        );
    }
    let waiting: Vec<&Value> = links
        .iter()
        .filter(|l| l["result"] != "SUCCEEDED" && l["code"] != "CONSENT_REJECTED")
        .collect();
    for l in &waiting {
        assert_eq!(
            (l["bank"].as_str(), l["result"].as_str(), l["code"].as_str()),
            (Some("sbank"), Some("SKIPPED"), Some("CONSENT_WAITING")),
            "{l}"
        );
        assert!(l["message"].as_str().unwrap().contains("approve"), "{l}");
    }
    assert!(!waiting.is_empty() && waiting.len() < links.len(), "{run}");
    waiting.len()
}

/// The `extensions.code` of the first error.
pub fn code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_owned()
}

/// Every error code in the response.
pub fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .map(|e| {
                    e["extensions"]["code"]
                        .as_str()
                        .unwrap_or("<none>")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Logs in as the test administrator without a cookie store and returns the session token.
pub async fn admin_token(server: &TestServer, previous: Option<&str>) -> String {
    login_token(server, ADMIN, ADMIN_PASSWORD, previous).await
}

/// Logs in as `user` without a cookie store (sending `previous` as the session cookie, when
/// given) and returns the new session token.
pub async fn login_token(
    server: &TestServer,
    user: &str,
    password: &str,
    previous: Option<&str>,
) -> String {
    let mut req = reqwest::Client::new().post(server.url("/graphql")).json(&json!({
        "query": "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { user { id } } }",
        "variables": { "u": user, "p": password },
    }));
    if let Some(token) = previous {
        req = req.header("cookie", format!("crm_session={token}"));
    }
    let res = req.send().await.unwrap();
    let set = res
        .headers()
        .get("set-cookie")
        .unwrap_or_else(|| panic!("{user} signs in"))
        .to_str()
        .unwrap()
        .to_owned();
    set.split(';')
        .next()
        .unwrap()
        .trim_start_matches("crm_session=")
        .to_owned()
}

/// Runs an operation with an explicit session token (no cookie store).
pub async fn gql_with_token(server: &TestServer, token: &str, query: &str) -> Value {
    reqwest::Client::new()
        .post(server.url("/graphql"))
        .header("cookie", format!("crm_session={token}"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A websocket client connection.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// `crm_session=…` of a successful login of the test administrator.
pub async fn admin_cookie(server: &TestServer) -> String {
    format!("crm_session={}", admin_token(server, None).await)
}

/// A graphql-transport-ws connection with the given cookie, before `connection_init`.
pub async fn connect_ws(server: &TestServer, cookie: &str) -> Ws {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{}/graphql/ws", server.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws
}

/// An initialised graphql-transport-ws connection with the given cookie.
pub async fn open_ws(server: &TestServer, cookie: &str) -> Ws {
    let mut ws = connect_ws(server, cookie).await;
    ws_send(&mut ws, json!({ "type": "connection_init" })).await;
    let ack = ws_next(&mut ws).await.expect("an ack");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws
}

pub async fn ws_send(ws: &mut Ws, msg: Value) {
    use futures_util::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        msg.to_string().into(),
    ))
    .await
    .unwrap();
}

/// The next JSON message (pings and other frames skipped); `None` once the socket closed.
pub async fn ws_next(ws: &mut Ws) -> Option<Value> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match ws.next().await? {
            Ok(Message::Text(t)) => return Some(serde_json::from_str(&t).unwrap()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// Reads until the server closes the socket; returns the close code.
pub async fn ws_close_code(ws: &mut Ws) -> Option<u16> {
    ws_close_frame(ws).await.map(|(code, _)| code)
}

/// Reads (for 10 s at most) until the server closes the socket; returns the close frame's code
/// and reason. `None`: the connection ended without a close frame (or with an invalid one).
pub async fn ws_close_frame(ws: &mut Ws) -> Option<(u16, String)> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let read = async {
        loop {
            match ws.next().await? {
                Ok(Message::Close(frame)) => {
                    return frame.map(|f| (u16::from(f.code), f.reason.as_str().to_owned()))
                }
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), read)
        .await
        .expect("the socket closes within 10 s")
}
