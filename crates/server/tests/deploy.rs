//! The deployment files in `deploy/` are valid and say what README's "Production" promises:
//! the systemd unit passes `systemd-analyze verify` with every hardening directive understood
//! and keeps `systemd-analyze security`'s exposure score at 2.0 or below,
//! the nginx site passes `nginx -t` (with a self-signed certificate made here) and, run for real
//! between curl and a recording upstream, hands the replicas the client's address the way
//! `TRUST_PROXY` reads it, https, and the websocket handshake; and the production env file names
//! only real variables. The tool checks are skipped, saying why, where `systemd-analyze`, `nginx`,
//! `openssl` or `curl` are not installed (`scripts/test` installs them as root); the text checks
//! always run.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use crm_server::http::session::client_ip;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

const UNIT: &str = "deploy/ai-crm@.service";
const SITE: &str = "deploy/nginx/ai-crm.conf";
const ENV: &str = "deploy/env.example";

/// The program's path, or `None` when it is not installed.
fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ai-crm-deploy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `key=value` settings of the unit, in order (a key may repeat).
fn directives(unit: &str) -> Vec<(String, String)> {
    unit.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

#[test]
fn the_unit_is_hardened_and_runs_one_replica_per_port() {
    let unit = read(UNIT);
    let d = directives(&unit);
    let value = |key: &str| -> Vec<&str> {
        d.iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    for (key, expected) in [
        ("User", "ai-crm"),
        ("Group", "ai-crm"),
        ("EnvironmentFile", "/etc/ai-crm/env"),
        ("ExecStart", "/usr/local/bin/ai-crm serve"),
        ("StateDirectory", "ai-crm"),
        ("WorkingDirectory", "/var/lib/ai-crm"),
        ("Restart", "on-failure"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("SystemCallFilter", "@system-service"),
    ] {
        assert!(
            value(key).contains(&expected),
            "{UNIT}: expected {key}={expected}, found {:?}",
            value(key)
        );
    }
    // The instance name is the port; the address stays on loopback behind nginx. These come
    // after EnvironmentFile= in the unit, but systemd lets the file win: the file must not
    // set them.
    assert!(value("Environment").contains(&"PORT=%i"), "{UNIT}");
    assert!(value("Environment").contains(&"HOST=127.0.0.1"), "{UNIT}");
    let env = read(ENV);
    for var in ["HOST", "PORT"] {
        assert!(
            !env.lines()
                .any(|l| l.trim_start().starts_with(&format!("{var}="))),
            "{ENV} must leave {var} to the unit"
        );
    }
}

#[test]
fn systemd_analyze_verifies_the_unit() {
    let Some(analyze) = tool("systemd-analyze") else {
        eprintln!("SKIPPED: systemd-analyze is not installed (apt-get install systemd)");
        return;
    };
    // The real file with one change: ExecStart points at a binary that exists here (verify
    // refuses a missing one), so every other directive is checked as written.
    let dir = scratch("systemd");
    let unit = read(UNIT);
    let exec = "ExecStart=/usr/local/bin/ai-crm serve";
    assert!(unit.contains(exec), "{UNIT}: {exec}");
    let copy = unit.replace(
        exec,
        &format!("ExecStart={} serve", env!("CARGO_BIN_EXE_ai-crm")),
    );
    std::fs::write(dir.join("ai-crm@.service"), copy).unwrap();
    for name in ["ai-crm@.service", "ai-crm@8081.service"] {
        let (ok, out) = run(Command::new(&analyze)
            .args(["verify", "--man=no"])
            .arg(dir.join(name))
            .env("SYSTEMD_COLORS", "0"));
        // systemd-analyze exits 0 after a directive it could not parse ("…, ignoring"): any
        // word from it is a failure.
        assert!(
            ok && out.trim().is_empty(),
            "systemd-analyze verify {name}:\n{out}"
        );
    }
    // systemd's own exposure score of the sandbox (0 best, 10 worst; 1.4 when written):
    // removing hardening pushes it over 2.0.
    let (ok, out) = run(Command::new(&analyze)
        .args(["security", "--offline=yes", "--threshold=20", "--no-pager"])
        .arg(dir.join("ai-crm@8081.service"))
        .env("SYSTEMD_COLORS", "0"));
    let score = out.lines().last().unwrap_or_default();
    assert!(ok, "systemd-analyze security: exposure above 2.0\n{out}");
    eprintln!("{score}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The bodies of the `location` blocks of an nginx file, by their header (`/`, `= /graphql/ws`).
fn locations(conf: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = conf;
    while let Some(at) = rest.find("location ") {
        let after = &rest[at + "location ".len()..];
        let Some(open) = after.find('{') else { break };
        let header = after[..open].trim().to_owned();
        let body = &after[open + 1..];
        let mut depth = 1;
        let mut end = body.len();
        for (i, c) in body.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push((header, body[..end].to_owned()));
        rest = &body[end..];
    }
    out
}

#[test]
fn the_site_hands_the_server_what_trust_proxy_reads() {
    let site = read(SITE);
    let lines: Vec<String> = site
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    let has = |line: &str| lines.iter().any(|l| l == line);
    for line in [
        "server 127.0.0.1:8081 max_fails=3 fail_timeout=10s;",
        "server 127.0.0.1:8082 max_fails=3 fail_timeout=10s;",
        "listen 443 ssl http2;",
        "add_header Strict-Transport-Security \"max-age=63072000; includeSubDomains\" always;",
        "proxy_hide_header Strict-Transport-Security;",
        "return 301 https://$host$request_uri;",
    ] {
        assert!(has(line), "{SITE}: missing `{line}`");
    }
    let proxied: Vec<_> = locations(&site)
        .into_iter()
        .filter(|(_, body)| body.contains("proxy_pass"))
        .collect();
    assert!(proxied.len() >= 2, "{SITE}: / and /graphql/ws are proxied");
    for (header, body) in &proxied {
        // nginx copies proxy_set_header into a location only when it sets none itself, so
        // each proxied location must set the client's address on its own. The server reads
        // the LAST X-Forwarded-For hop: $remote_addr, never a list the client could extend.
        for needed in [
            "proxy_set_header X-Forwarded-For $remote_addr;",
            "proxy_set_header Host $host;",
            "proxy_set_header X-Forwarded-Proto $scheme;",
            "proxy_http_version 1.1;",
        ] {
            assert!(body.contains(needed), "{SITE}: location {header}: {needed}");
        }
    }
    let (_, ws) = proxied
        .iter()
        .find(|(h, _)| h == "= /graphql/ws")
        .expect("a location for the websocket");
    for needed in [
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $ai_crm_connection;",
        "proxy_read_timeout 3600s;",
    ] {
        assert!(ws.contains(needed), "{SITE}: /graphql/ws: {needed}");
    }
    let metrics = locations(&site)
        .into_iter()
        .find(|(h, _)| h == "= /metrics")
        .expect("/metrics is kept from the balancer");
    assert!(metrics.1.contains("return 404;"));
}

#[test]
fn the_env_file_names_real_variables() {
    let documented = read(".env.example");
    let config = read("crates/server/src/config.rs");
    let env = read(ENV);
    let mut names = Vec::new();
    for line in env.lines() {
        let line = line.trim().trim_start_matches('#');
        let Some((name, _)) = line.split_once('=') else {
            continue;
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            continue;
        }
        assert!(
            documented.contains(&format!("{name}=")),
            "{ENV}: {name} is not in .env.example"
        );
        assert!(
            config.contains(&format!("\"{name}\"")) || name == "RUST_LOG",
            "{ENV}: the server does not read {name}"
        );
        names.push(name.to_owned());
    }
    for needed in [
        "APP_ENV",
        "PUBLIC_URL",
        "DATABASE_URL",
        "SECRET_KEY",
        "TRUST_PROXY",
        "METRICS_TOKEN",
        "AUTH_PASSWORD_HASH",
    ] {
        assert!(names.iter().any(|n| n == needed), "{ENV}: {needed}");
    }
    assert!(env.contains("APP_ENV=production") && env.contains("TRUST_PROXY=true"));
}

/// A self-signed certificate and key for `crm.example.ru` in `dir`.
fn self_signed(openssl: &Path, dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let (ok, out) = run(Command::new(openssl)
        .args(["req", "-x509", "-nodes", "-newkey", "ec"])
        .args(["-pkeyopt", "ec_paramgen_curve:prime256v1"])
        .args(["-days", "1", "-subj", "/CN=crm.example.ru", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    assert!(ok, "openssl req:\n{out}");
    (cert, key)
}

/// Where a running copy of the site listens and proxies to.
struct Ports {
    plain: u16,
    tls: u16,
    upstream: u16,
}

/// Writes `dir/nginx.conf`, which includes the real site with its certificate paths pointed at
/// a certificate made here and, for a running copy, its listen and upstream addresses moved to
/// test ports (loopback, IPv4 only). Everything else is the file as written.
fn nginx_conf(dir: &Path, openssl: &Path, ports: Option<&Ports>) -> PathBuf {
    let (cert, key) = self_signed(openssl, dir);
    let mut changed = Vec::new();
    let mut site = String::new();
    for line in read(SITE).lines() {
        let t = line.trim();
        let directive = t.split_whitespace().next().unwrap_or_default();
        let replaced = match (directive, ports) {
            ("ssl_certificate", _) => Some(format!("ssl_certificate {};", cert.display())),
            ("ssl_certificate_key", _) => Some(format!("ssl_certificate_key {};", key.display())),
            ("listen", Some(_)) if t.starts_with("listen [::]") => Some(String::new()),
            ("listen", Some(p)) if t == "listen 80;" => {
                Some(format!("listen 127.0.0.1:{};", p.plain))
            }
            ("listen", Some(p)) if t == "listen 443 ssl http2;" => {
                Some(format!("listen 127.0.0.1:{} ssl http2;", p.tls))
            }
            ("server", Some(p)) if t.starts_with("server 127.0.0.1:808") => Some(t.replacen(
                &t["server ".len().."server 127.0.0.1:8081".len()],
                &format!("127.0.0.1:{}", p.upstream),
                1,
            )),
            _ => None,
        };
        match replaced {
            Some(new) => {
                changed.push(t.to_owned());
                site.push_str(&new);
            }
            None => site.push_str(line),
        }
        site.push('\n');
    }
    let expected = if ports.is_some() { 8 } else { 2 };
    assert_eq!(
        changed.len(),
        expected,
        "{SITE}: the lines the test adapts: {changed:#?}"
    );
    std::fs::write(dir.join("ai-crm.conf"), site).unwrap();
    let d = dir.display();
    let conf = dir.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n\
             access_log off;\nclient_body_temp_path {d}/body;\nproxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\nuwsgi_temp_path {d}/uwsgi;\nscgi_temp_path {d}/scgi;\n\
             include {d}/ai-crm.conf;\n}}\n"
        ),
    )
    .unwrap();
    conf
}

fn nginx(nginx: &Path, dir: &Path, conf: &Path) -> Command {
    let mut cmd = Command::new(nginx);
    cmd.arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(conf);
    cmd
}

#[test]
fn nginx_accepts_the_site() {
    let Some(nginx_bin) = tool("nginx") else {
        eprintln!("SKIPPED: nginx is not installed (apt-get install nginx-light)");
        return;
    };
    let Some(openssl) = tool("openssl") else {
        eprintln!("SKIPPED: openssl is not installed (apt-get install openssl)");
        return;
    };
    let dir = scratch("nginx");
    let conf = nginx_conf(&dir, &openssl, None);
    let (ok, out) = run(nginx(&nginx_bin, &dir, &conf).arg("-t"));
    assert!(ok, "nginx -t:\n{out}");
    eprintln!("{}", out.trim());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A stand-in for the replicas: records the head of every request and answers `ok` with the
/// HSTS header a replica under an https `PUBLIC_URL` sends.
fn recording_upstream() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65_536 {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&head).into_owned());
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nstrict-transport-security: max-age=31536000\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    (port, heads)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// nginx running in the foreground; stopped on drop.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The request head the upstream saw, as a header map, and its path.
fn parse_head(head: &str) -> (String, HeaderMap) {
    let mut lines = head.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_default()
        .to_owned();
    let mut headers = HeaderMap::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        if let Some((name, value)) = line.split_once(':') {
            headers.append(
                HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
                HeaderValue::from_str(value.trim()).unwrap(),
            );
        }
    }
    (path, headers)
}

/// Runs the site for real between curl (from 127.0.0.2, claiming another address in
/// `X-Forwarded-For`) and a recording upstream, and reads what a replica would be told: the
/// client address `TRUST_PROXY` takes is the client's, not the claimed one; the scheme is https;
/// the websocket handshake is passed on; plain http is redirected; `/metrics` stays outside.
#[test]
fn nginx_tells_the_replicas_who_the_client_is() {
    let (Some(nginx_bin), Some(openssl), Some(curl)) =
        (tool("nginx"), tool("openssl"), tool("curl"))
    else {
        eprintln!(
            "SKIPPED: needs nginx, openssl and curl (apt-get install nginx-light openssl curl)"
        );
        return;
    };
    let dir = scratch("nginx-live");
    let (upstream, heads) = recording_upstream();
    let ports = Ports {
        plain: free_port(),
        tls: free_port(),
        upstream,
    };
    let conf = nginx_conf(&dir, &openssl, Some(&ports));
    let _nginx = Running(
        nginx(&nginx_bin, &dir, &conf)
            .args(["-g", "daemon off; master_process off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", ports.tls)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nginx did not start: {}",
            std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let host = format!("crm.example.ru:{}", ports.tls);
    let curl = |path: &str, extra: &[&str]| -> String {
        let (ok, out) = run(Command::new(&curl)
            .args([
                "-sk",
                "--http1.1",
                "--max-time",
                "5",
                "--interface",
                "127.0.0.2",
            ])
            .args(["--resolve", &format!("{host}:127.0.0.1")])
            .args([
                "-H",
                "X-Forwarded-For: 6.6.6.6",
                "-D",
                "-",
                "-o",
                "/dev/null",
            ])
            .args(extra)
            .arg(format!("https://{host}{path}")));
        assert!(ok, "curl {path}:\n{out}");
        out.to_ascii_lowercase()
    };

    let page = curl("/graphql?query=%7B__typename%7D", &[]);
    assert!(page.starts_with("http/1.1 200"), "{page}");
    assert!(
        page.contains("strict-transport-security: max-age=63072000; includesubdomains"),
        "{page}"
    );
    assert_eq!(
        page.matches("strict-transport-security:").count(),
        1,
        "the site's HSTS only, not the replica's beside it: {page}"
    );
    let ws = curl(
        "/graphql/ws",
        &[
            "-H",
            "Connection: Upgrade",
            "-H",
            "Upgrade: websocket",
            "-H",
            "Sec-WebSocket-Version: 13",
            "-H",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        ],
    );
    assert!(ws.starts_with("http/1.1 200"), "{ws}");
    let metrics = curl("/metrics", &[]);
    assert!(metrics.starts_with("http/1.1 404"), "{metrics}");
    let (ok, redirect) = run(Command::new(tool("curl").unwrap())
        .args([
            "-s",
            "--max-time",
            "5",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
        ])
        .arg(format!("http://127.0.0.1:{}/clients?x=1", ports.plain))
        .args(["-H", "Host: crm.example.ru"]));
    assert!(ok, "{redirect}");
    assert_eq!(redirect, "301 https://crm.example.ru/clients?x=1");

    let heads = heads.lock().unwrap().clone();
    assert_eq!(
        heads.len(),
        2,
        "only / and the websocket reach a replica: {heads:#?}"
    );
    let nginx_peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    for (head, websocket) in heads.iter().zip([false, true]) {
        let (path, h) = parse_head(head);
        let forwarded: Vec<_> = h.get_all("x-forwarded-for").iter().collect();
        assert_eq!(
            forwarded,
            ["127.0.0.2"],
            "{path}: one hop, the client's own: {head}"
        );
        assert_eq!(
            client_ip(Some(nginx_peer), &h, true).as_deref(),
            Some("127.0.0.2"),
            "{path}: what TRUST_PROXY=true reads"
        );
        assert_eq!(h.get("x-forwarded-proto").unwrap(), "https", "{path}");
        assert_eq!(h.get("host").unwrap(), "crm.example.ru", "{path}");
        if websocket {
            assert_eq!(path, "/graphql/ws");
            assert_eq!(h.get("upgrade").unwrap(), "websocket", "{head}");
            assert_eq!(h.get("connection").unwrap(), "upgrade", "{head}");
        } else {
            assert!(path.starts_with("/graphql?"), "{head}");
            assert!(
                h.get("upgrade").is_none() && h.get("connection").is_none(),
                "{head}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
