//! The web app and GraphiQL (`web/`), compiled into the binary so `ai-crm` serves them from any
//! working directory. Every file is answered with its content type, `Cache-Control: no-cache`
//! and a strong `ETag` (the file's SHA-256, computed at build time), so a browser revalidates
//! each time, gets `304 Not Modified` while the release is the same, and the new files as soon
//! as it changes. `WEB_DIR` serves a folder from disk instead (development: edits show without
//! a rebuild).

use std::borrow::Cow;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

/// `web/` as it was when the binary was built (`build.rs` rebuilds on any change in it).
#[derive(RustEmbed)]
#[folder = "../../web/"]
struct Assets;

/// The page `/graphiql` answers with.
pub const GRAPHIQL_PAGE: &str = "graphiql.html";

/// Whether a file belongs to GraphiQL (not served when GraphiQL is off).
fn is_graphiql(path: &str) -> bool {
    path.starts_with("graphiql.") || path.starts_with("vendor/graphiql/")
}

/// The `Content-Type` of a file by its extension. Explicit rather than guessed: with
/// `X-Content-Type-Options: nosniff` a module script is refused unless it is `text/javascript`.
pub fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    match ext.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The embedded file a request path names: `/` and folders (`…/`) mean their `index.html`.
/// `None` for anything not embedded, including `..` tricks (the lookup is by exact name).
fn lookup(path: &str, graphiql: bool) -> Option<(String, rust_embed::EmbeddedFile)> {
    let mut name = path.trim_start_matches('/').to_owned();
    if name.is_empty() || name.ends_with('/') {
        name.push_str("index.html");
    }
    if !graphiql && is_graphiql(&name) {
        return None;
    }
    let file = Assets::get(&name)?;
    Some((name, file))
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for this header).
fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

/// Answers a GET or HEAD for the embedded file `path` (404 when there is none, 405 for other
/// methods).
pub fn serve(method: &Method, path: &str, headers: &HeaderMap, graphiql: bool) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let Some((name, file)) = lookup(path, graphiql) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not found",
        )
            .into_response();
    };
    let hash = file.metadata.sha256_hash();
    let etag = format!("\"{}\"", hex(&hash[..16]));
    let mut res = if etag_matches(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let bytes = match file.data {
            Cow::Borrowed(b) => Bytes::from_static(b),
            Cow::Owned(v) => Bytes::from(v),
        };
        let len = bytes.len();
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(bytes)
        };
        let mut res = Response::new(body);
        res.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(&name)),
        );
        res
    };
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    res
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str, headers: &HeaderMap) -> Response {
        serve(&Method::GET, path, headers, true)
    }

    fn header_of(res: &Response, name: header::HeaderName) -> &str {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    #[test]
    fn every_shipped_file_has_a_known_type() {
        let mut count = 0;
        for name in Assets::iter() {
            count += 1;
            let licence = name
                .rsplit('/')
                .next()
                .is_some_and(|f| f.starts_with("LICENSE"));
            assert!(
                licence || content_type(&name) != "application/octet-stream",
                "{name}: add its extension to content_type"
            );
        }
        assert!(count > 10, "web/ is embedded ({count} files)");
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("vendor/x/Y.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type("f.woff2"), "font/woff2");
    }

    #[test]
    fn index_etag_and_not_modified() {
        let res = get("/", &HeaderMap::new());
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            header_of(&res, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert_eq!(header_of(&res, header::CACHE_CONTROL), "no-cache");
        let etag = header_of(&res, header::ETAG).to_owned();
        assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");

        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"other\", W/{etag}")).expect("header"),
        );
        let res = get("/index.html", &headers);
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(header_of(&res, header::ETAG), etag);

        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"old\""));
        assert_eq!(get("/", &headers).status(), StatusCode::OK);
    }

    #[test]
    fn unknown_paths_methods_and_graphiql_when_off() {
        let none = HeaderMap::new();
        assert_eq!(get("/nope.js", &none).status(), StatusCode::NOT_FOUND);
        assert_eq!(get("/../Cargo.toml", &none).status(), StatusCode::NOT_FOUND);
        assert_eq!(
            serve(&Method::POST, "/app.js", &none, true).status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
        let head = serve(&Method::HEAD, "/app.js", &none, true);
        assert_eq!(head.status(), StatusCode::OK);
        assert!(header_of(&head, header::CONTENT_LENGTH) != "0");
        assert_eq!(
            get(&format!("/{GRAPHIQL_PAGE}"), &none).status(),
            StatusCode::OK
        );
        for path in [
            "/graphiql.html",
            "/graphiql.js",
            "/vendor/graphiql/graphiql.min.js",
        ] {
            assert_eq!(
                serve(&Method::GET, path, &none, false).status(),
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        assert_eq!(
            serve(&Method::GET, "/app.js", &none, false).status(),
            StatusCode::OK
        );
    }
}
