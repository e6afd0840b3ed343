//! The binary carries its web app: `ai-crm serve` started from an empty directory, with no
//! `WEB_DIR`, serves `/`, `/graphiql` and their assets with the right content types, caching
//! headers and the same security headers as the API. `WEB_DIR` still serves a folder from disk.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The real binary, running in its own empty directory; killed and cleaned up on drop.
struct Binary {
    child: Child,
    dir: PathBuf,
    base: String,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts `ai-crm serve` on a free port from an empty temporary directory and waits for the
/// line that says where it listens.
fn start_binary() -> Binary {
    let dir = std::env::temp_dir().join(format!("ai-crm-standalone-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ai-crm"))
        .arg("serve")
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("crm.db").display()),
        )
        .env("SANDBOX", "off")
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Logs go to stdout; read them on a thread (and keep draining, so the pipe never fills).
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || for _ in BufReader::new(stderr).lines() {});
    let mut seen = Vec::new();
    let base = loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => {
                if let Some((_, rest)) = line.split_once("listening on ") {
                    let url = rest.split_whitespace().next().unwrap_or_default();
                    break url.trim_end_matches('/').to_owned();
                }
                seen.push(line);
            }
            Err(_) => panic!(
                "ai-crm never said where it listens ({:?}); its log:\n{}",
                child.try_wait(),
                seen.join("\n")
            ),
        }
    };
    Binary { child, dir, base }
}

async fn get(
    http: &reqwest::Client,
    url: &str,
    etag: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = http.get(url);
    if let Some(etag) = etag {
        req = req.header("if-none-match", etag);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.text().await.unwrap())
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_binary_serves_the_web_app_from_an_empty_directory() {
    let bin = start_binary();
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", bin.base);

    for (path, content_type, contains) in [
        ("/", "text/html; charset=utf-8", "src=\"/app.js\""),
        ("/graphiql", "text/html; charset=utf-8", "graphiql.min.js"),
        ("/app.js", "text/javascript; charset=utf-8", "import"),
        (
            "/vendor/graphiql/graphiql.min.js",
            "text/javascript; charset=utf-8",
            "",
        ),
        ("/style.css", "text/css; charset=utf-8", ""),
        ("/favicon.svg", "image/svg+xml", "<svg"),
    ] {
        let (status, headers, body) = get(&http, &url(path), None).await;
        assert_eq!(status, 200, "{path}: {body:.200}");
        assert_eq!(header(&headers, "content-type"), content_type, "{path}");
        assert!(body.contains(contains), "{path}: {body:.200}");
        assert_eq!(header(&headers, "cache-control"), "no-cache", "{path}");
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
        let csp = header(&headers, "content-security-policy");
        assert!(
            csp.contains("script-src 'self';") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );

        // The same release again: 304 with no body; another release: the file.
        let etag = header(&headers, "etag").to_owned();
        assert!(etag.starts_with('"'), "{path}: {etag:?}");
        let (status, again, body) = get(&http, &url(path), Some(&etag)).await;
        assert_eq!((status, body.as_str()), (304, ""), "{path}");
        assert_eq!(header(&again, "etag"), etag);
        assert!(header(&again, "content-security-policy").contains("default-src 'self'"));
        let (status, _, _) = get(&http, &url(path), Some("\"an-older-release\"")).await;
        assert_eq!(status, 200, "{path}");
    }

    let (status, _, _) = get(&http, &url("/no-such-file.js"), None).await;
    assert_eq!(status, 404);
    let (status, _, body) = get(&http, &url("/healthz"), None).await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    let entries: Vec<_> = std::fs::read_dir(&bin.dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        entries.iter().all(|e| e.starts_with("crm.db")),
        "the binary wrote only its database into its directory: {entries:?}"
    );
}

#[tokio::test]
async fn web_dir_serves_a_folder_from_disk_instead() {
    let dir = std::env::temp_dir().join(format!("ai-crm-web-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><html>from disk</html>",
    )
    .unwrap();
    std::fs::write(dir.join("graphiql.html"), "<html>graphiql from disk</html>").unwrap();
    let server = common::start_with(&[("WEB_DIR", dir.to_str().unwrap())]).await;
    let http = reqwest::Client::new();
    for (path, text) in [("/", "from disk"), ("/graphiql", "graphiql from disk")] {
        let (status, headers, body) = get(&http, &server.url(path), None).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains(text), "{path}: {body}");
        assert!(header(&headers, "content-security-policy").contains("default-src 'self'"));
    }
    let (status, _, _) = get(&http, &server.url("/app.js"), None).await;
    assert_eq!(
        status, 404,
        "only the folder is served, not the built-in copy"
    );
    server.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
