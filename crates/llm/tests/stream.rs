//! The client against a raw local HTTP server that writes exactly the bytes each test scripts:
//! streamed text, tool calls, error statuses, broken and malformed streams, stalls.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crm_llm::{
    ApiKey, ChatEvent, ChatMessage, ChatRequest, FinishReason, LlmClient, LlmError, LlmSettings,
    TimeoutPhase, Timeouts,
};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One scripted step of the server's answer.
#[derive(Clone)]
enum Step {
    /// Raw bytes of the body, written as one HTTP chunk.
    Body(String),
    Sleep(Duration),
    /// Stop writing without ending the chunked body.
    Cut,
}

struct Server {
    url: String,
    /// The request the server received (head and body).
    request: Arc<tokio::sync::Mutex<String>>,
    /// Set when the client closed the connection before the script ended.
    client_left: Arc<AtomicBool>,
}

async fn serve(status_line: &'static str, headers: &'static str, steps: Vec<Step>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let request = Arc::new(tokio::sync::Mutex::new(String::new()));
    let client_left = Arc::new(AtomicBool::new(false));
    let (req, left) = (request.clone(), client_left.clone());
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let mut got = Vec::new();
        // Read the head and the body (Content-Length).
        loop {
            let n = sock.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).to_string();
            if let Some(head_end) = text.find("\r\n\r\n") {
                let len: usize = text
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if got.len() >= head_end + 4 + len {
                    *req.lock().await = text;
                    break;
                }
            }
        }
        let chunked = headers.contains("chunked");
        let head = format!("{status_line}\r\n{headers}\r\n");
        if sock.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for step in steps {
            match step {
                Step::Body(text) => {
                    let bytes = if chunked {
                        format!("{:x}\r\n{text}\r\n", text.len())
                    } else {
                        text
                    };
                    if sock.write_all(bytes.as_bytes()).await.is_err() {
                        left.store(true, Ordering::SeqCst);
                        return;
                    }
                }
                Step::Sleep(d) => tokio::time::sleep(d).await,
                Step::Cut => {
                    let _ = sock.shutdown().await;
                    return;
                }
            }
        }
        if chunked {
            let _ = sock.write_all(b"0\r\n\r\n").await;
        }
        // Keep the socket until the client goes away.
        let mut rest = [0u8; 16];
        let _ = sock.read(&mut rest).await;
    });
    Server {
        url,
        request,
        client_left,
    }
}

const SSE: &str = "Content-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n";

fn client(url: &str, timeouts: Timeouts) -> LlmClient {
    LlmClient::new(LlmSettings {
        base_url: url.to_owned(),
        api_key: Some(ApiKey::new("sk-test-secret")),
        model: "test/model".into(),
        max_tokens: 256,
        temperature: 0.1,
        timeouts,
    })
    .unwrap()
}

fn quick() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(2),
        first_byte: Duration::from_millis(400),
        idle: Duration::from_millis(400),
        total: Duration::from_secs(5),
    }
}

fn request() -> ChatRequest {
    ChatRequest {
        messages: vec![
            ChatMessage::System("rules".into()),
            ChatMessage::User("hello".into()),
        ],
        ..Default::default()
    }
}

fn data(json: &str) -> Step {
    Step::Body(format!("data: {json}\n\n"))
}

async fn collect(client: &LlmClient) -> Result<Vec<ChatEvent>, LlmError> {
    let mut stream = client.stream_chat(&request()).await?;
    let mut out = Vec::new();
    while let Some(ev) = stream.next().await {
        out.push(ev?);
    }
    Ok(out)
}

#[tokio::test]
async fn text_streams_in_order_with_usage_and_model() {
    let server = serve(
        "HTTP/1.1 200 OK",
        SSE,
        vec![
            Step::Body(": OPENROUTER PROCESSING\n\n".into()),
            data(r#"{"model":"prov/m","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#),
            data(r#"{"choices":[{"index":0,"delta":{"content":"При"}}]}"#),
            data(r#"{"choices":[{"index":0,"delta":{"content":"вет"},"finish_reason":"stop"}]}"#),
            data(r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#),
            data("[DONE]"),
        ],
    )
    .await;
    let c = client(&server.url, quick());
    let events = collect(&c).await.unwrap();
    assert_eq!(
        events,
        vec![
            ChatEvent::Delta("При".into()),
            ChatEvent::Delta("вет".into()),
            ChatEvent::Finished {
                reason: FinishReason::Stop,
                model: Some("prov/m".into()),
                usage: Some(crm_llm::Usage {
                    prompt_tokens: 12,
                    completion_tokens: 3
                }),
            }
        ]
    );
    let req = server.request.lock().await.clone();
    assert!(req.starts_with("POST /v1/chat/completions "), "{req}");
    assert!(req
        .to_ascii_lowercase()
        .contains("authorization: bearer sk-test-secret"));
    assert!(req.contains("\"stream\":true"));
    assert!(req.contains("\"model\":\"test/model\""));
}

#[tokio::test]
async fn the_first_delta_arrives_before_the_stream_ends() {
    let server = serve(
        "HTTP/1.1 200 OK",
        SSE,
        vec![
            data(r#"{"choices":[{"index":0,"delta":{"content":"first"}}]}"#),
            Step::Sleep(Duration::from_millis(300)),
            data(
                r#"{"choices":[{"index":0,"delta":{"content":" second"},"finish_reason":"stop"}]}"#,
            ),
            data("[DONE]"),
        ],
    )
    .await;
    let c = client(&server.url, quick());
    let started = std::time::Instant::now();
    let mut stream = c.stream_chat(&request()).await.unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first, ChatEvent::Delta("first".into()));
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "the first delta waited for the rest: {:?}",
        started.elapsed()
    );
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        ChatEvent::Delta(" second".into())
    );
}

#[tokio::test]
async fn streamed_tool_calls_are_assembled() {
    let server = serve(
        "HTTP/1.1 200 OK",
        SSE,
        vec![
            data(r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"spending_by_category","arguments":""}}]}}]}"#),
            data(r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"from\":\"2025-03-01\","}}]}}]}"#),
            data(r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"to\":\"2025-03-31\"}"}}]}}]}"#),
            data(r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#),
            data("[DONE]"),
        ],
    )
    .await;
    let events = collect(&client(&server.url, quick())).await.unwrap();
    match &events[..] {
        [ChatEvent::ToolCalls(calls), ChatEvent::Finished { reason, .. }] => {
            assert_eq!(*reason, FinishReason::ToolCalls);
            assert_eq!(calls.len(), 1);
            assert_eq!(calls[0].id, "call_a");
            assert_eq!(calls[0].name, "spending_by_category");
            let args: serde_json::Value = serde_json::from_str(&calls[0].arguments).unwrap();
            assert_eq!(args["to"], "2025-03-31");
        }
        other => panic!("unexpected events {other:?}"),
    }
}

#[tokio::test]
async fn statuses_map_to_typed_errors() {
    let limited = serve(
        "HTTP/1.1 429 Too Many Requests",
        "Content-Type: application/json\r\nRetry-After: 7\r\nContent-Length: 45\r\n",
        vec![Step::Body(
            r#"{"error":{"message":"slow down","code":429}}"#.to_owned() + " ",
        )],
    )
    .await;
    let e = collect(&client(&limited.url, quick())).await.unwrap_err();
    assert!(matches!(e, LlmError::RateLimited { .. }), "{e:?}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert!(e.is_retryable());

    let failing = serve(
        "HTTP/1.1 502 Bad Gateway",
        "Content-Type: text/plain\r\nContent-Length: 11\r\n",
        vec![Step::Body("Bad Gateway".into())],
    )
    .await;
    let e = collect(&client(&failing.url, quick())).await.unwrap_err();
    assert!(matches!(e, LlmError::Upstream { status: 502, .. }), "{e:?}");
    assert!(e.to_string().contains("Bad Gateway"));

    let refused = serve("HTTP/1.1 401 Unauthorized", "Content-Length: 0\r\n", vec![]).await;
    let e = collect(&client(&refused.url, quick())).await.unwrap_err();
    assert!(matches!(e, LlmError::Unauthorized { status: 401 }), "{e:?}");
    assert!(!e.is_retryable());
    assert!(!e.to_string().contains("sk-test-secret"));
}

#[tokio::test]
async fn a_cut_stream_is_truncated_and_a_bad_event_malformed() {
    let cut = serve(
        "HTTP/1.1 200 OK",
        SSE,
        vec![
            data(r#"{"choices":[{"index":0,"delta":{"content":"half"}}]}"#),
            Step::Cut,
        ],
    )
    .await;
    let mut stream = client(&cut.url, quick())
        .stream_chat(&request())
        .await
        .unwrap();
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        ChatEvent::Delta("half".into())
    );
    let e = stream.next().await.unwrap().unwrap_err();
    assert!(
        matches!(e, LlmError::Truncated | LlmError::Broken(_)),
        "{e:?}"
    );
    assert!(stream.next().await.is_none(), "nothing after an error");

    let bad = serve("HTTP/1.1 200 OK", SSE, vec![data("{not json")]).await;
    let e = collect(&client(&bad.url, quick())).await.unwrap_err();
    assert!(matches!(e, LlmError::Malformed(_)), "{e:?}");

    let provider = serve(
        "HTTP/1.1 200 OK",
        SSE,
        vec![data(
            r#"{"error":{"message":"upstream overloaded","code":502}}"#,
        )],
    )
    .await;
    let e = collect(&client(&provider.url, quick())).await.unwrap_err();
    assert!(matches!(e, LlmError::Provider(_)), "{e:?}");
}

#[tokio::test]
async fn stalls_time_out_by_phase() {
    let silent = serve(
        "HTTP/1.1 200 OK",
        SSE,
        vec![Step::Sleep(Duration::from_secs(5))],
    )
    .await;
    let e = collect(&client(&silent.url, quick())).await.unwrap_err();
    assert!(
        matches!(
            e,
            LlmError::Timeout {
                phase: TimeoutPhase::FirstByte,
                ..
            }
        ),
        "{e:?}"
    );

    let stalled = serve(
        "HTTP/1.1 200 OK",
        SSE,
        vec![
            data(r#"{"choices":[{"index":0,"delta":{"content":"a"}}]}"#),
            Step::Sleep(Duration::from_secs(5)),
        ],
    )
    .await;
    let e = collect(&client(&stalled.url, quick())).await.unwrap_err();
    assert!(
        matches!(
            e,
            LlmError::Timeout {
                phase: TimeoutPhase::Idle,
                ..
            }
        ),
        "{e:?}"
    );

    // A trickle that never stalls long enough for the idle timeout still ends at the total.
    let mut trickle = Vec::new();
    for _ in 0..40 {
        trickle.push(data(r#"{"choices":[{"index":0,"delta":{"content":"."}}]}"#));
        trickle.push(Step::Sleep(Duration::from_millis(100)));
    }
    let slow = serve("HTTP/1.1 200 OK", SSE, trickle).await;
    let timeouts = Timeouts {
        total: Duration::from_secs(1),
        ..quick()
    };
    let started = std::time::Instant::now();
    let e = collect(&client(&slow.url, timeouts)).await.unwrap_err();
    assert!(
        matches!(
            e,
            LlmError::Timeout {
                phase: TimeoutPhase::Total,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let mut steps = Vec::new();
    for _ in 0..100 {
        steps.push(data(r#"{"choices":[{"index":0,"delta":{"content":"x"}}]}"#));
        steps.push(Step::Sleep(Duration::from_millis(20)));
    }
    let server = serve("HTTP/1.1 200 OK", SSE, steps).await;
    let c = client(&server.url, quick());
    let mut stream = c.stream_chat(&request()).await.unwrap();
    stream.next().await.unwrap().unwrap();
    drop(stream);
    for _ in 0..100 {
        if server.client_left.load(Ordering::SeqCst) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the server kept writing to a client that had dropped the stream");
}

#[tokio::test]
async fn a_whole_json_answer_is_accepted() {
    let body = r#"{"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Готово"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1}}"#;
    let headers: &'static str = Box::leak(
        format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        )
        .into_boxed_str(),
    );
    let server = serve("HTTP/1.1 200 OK", headers, vec![Step::Body(body.into())]).await;
    let events = collect(&client(&server.url, quick())).await.unwrap();
    assert_eq!(events[0], ChatEvent::Delta("Готово".into()));
    assert!(matches!(
        events[1],
        ChatEvent::Finished {
            reason: FinishReason::Stop,
            ..
        }
    ));
}

#[tokio::test]
async fn an_unreachable_provider_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    drop(listener);
    let e = collect(&client(&url, quick())).await.unwrap_err();
    assert!(matches!(e, LlmError::Connect(_)), "{e:?}");
    assert!(e.is_retryable());
}
