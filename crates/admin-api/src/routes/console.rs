//! The web console at `/`: the static files that `npm run build` writes to `console/dist`,
//! embedded in the binary at compile time (feature `console`).
//!
//! Every GET that no API route matched lands here. A path naming an embedded file gets
//! that file; any other path without a file extension gets `index.html`, so the
//! single-page app can route `/topics/orders` itself (SPA fallback). Paths under the API
//! prefixes (`/api`, `/metrics`, `/ws`, `/health`, ...) never fall back to HTML: a
//! client asking for `/api/v1/nope` gets the usual JSON 404, not a page.
//!
//! When the binary was built without the assets (no `console/dist` at build time, or the
//! feature off), `/` answers a page that says so and how to build them, rather than a
//! bare 404.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};

use crate::ApiError;

/// Prefixes that belong to the API surface; unknown paths under them stay JSON 404s.
const RESERVED: [&str; 8] = [
    "/api", "/metrics", "/ws", "/health", "/live", "/ready", "/schemas", "/sql",
];

#[cfg(feature = "console")]
#[derive(rust_embed::RustEmbed)]
// `allow_missing`: a binary built before `npm run build` (or from a source tree without
// Node) still compiles, and says on `/` that the console was not built. The crate's
// build script tells cargo to rebuild when `console/dist` changes.
#[folder = "../../console/dist"]
#[allow_missing = true]
struct Assets;

/// One embedded file: its bytes, MIME type and content hash.
#[derive(Debug)]
struct Asset {
    bytes: std::borrow::Cow<'static, [u8]>,
    mime: String,
    etag: String,
}

#[cfg(feature = "console")]
fn asset(path: &str) -> Option<Asset> {
    let file = Assets::get(path)?;
    let etag = file
        .metadata
        .sha256_hash()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    Some(Asset {
        mime: file.metadata.mimetype().to_owned(),
        bytes: file.data,
        etag: format!("\"{etag}\""),
    })
}

#[cfg(not(feature = "console"))]
fn asset(_path: &str) -> Option<Asset> {
    None
}

/// Whether a missing path is a static file rather than a page of the app. Topic and group
/// names may contain dots (`orders.v1`), so only the build's folder and file types the
/// build emits count as files.
fn looks_like_a_file(file: &str) -> bool {
    const STATIC: [&str; 12] = [
        "js", "mjs", "css", "map", "svg", "png", "jpg", "ico", "webp", "woff", "woff2", "txt",
    ];
    file.starts_with("assets/")
        || file
            .rsplit_once('.')
            .is_some_and(|(_, ext)| STATIC.contains(&ext.to_ascii_lowercase().as_str()))
}

fn is_reserved(path: &str) -> bool {
    RESERVED.iter().any(|prefix| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// The router's fallback: console files, the SPA's `index.html`, or a JSON 404.
pub(crate) async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if (method != Method::GET && method != Method::HEAD) || is_reserved(path) {
        return ApiError::not_found("no such route").into_response();
    }
    let file = path.trim_start_matches('/');
    if let Some(found) = (!file.is_empty()).then(|| asset(file)).flatten() {
        // Vite puts content hashes in the names under assets/, so they never change.
        let cache = if file.starts_with("assets/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return respond(found, cache, &headers);
    }
    if looks_like_a_file(file) {
        // A missing script or image must not get HTML, which the browser would misread.
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    }
    match asset("index.html") {
        Some(index) => respond(index, "no-cache", &headers),
        None => not_built(),
    }
}

fn respond(found: Asset, cache: &'static str, request: &HeaderMap) -> Response {
    let etag = HeaderValue::from_str(&found.etag).ok();
    let fresh = match (&etag, request.get(header::IF_NONE_MATCH)) {
        (Some(ours), Some(theirs)) => ours == theirs,
        _ => false,
    };
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        found.bytes.into_owned().into_response()
    };
    let headers = response.headers_mut();
    if let Ok(mime) = HeaderValue::from_str(&found.mime) {
        headers.insert(header::CONTENT_TYPE, mime);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Some(etag) = etag {
        headers.insert(header::ETAG, etag);
    }
    response
}

/// The page for a binary built without the console's files.
fn not_built() -> Response {
    let reason = if cfg!(feature = "console") {
        "This binary was built before the console's static files existed \
         (<code>console/dist</code> was missing or empty at build time)."
    } else {
        "This binary was built without the <code>console</code> feature of \
         <code>streamhouse-admin-api</code>."
    };
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>StreamHouse: console not built</title></head>\
         <body style=\"font-family:sans-serif;max-width:40rem;margin:3rem auto\">\
         <h1>The StreamHouse web console was not built</h1><p>{reason}</p>\
         <p>To build it, run <code>npm ci &amp;&amp; npm run build</code> in \
         <code>console/</code>, then rebuild the binary (<code>cargo build -p \
         streamhouse-agent</code>).</p><p>The REST API is at <a href=\"/api/v1/cluster\">\
         /api/v1</a> and its OpenAPI document at <a href=\"/api/v1/openapi.json\">\
         /api/v1/openapi.json</a>.</p></body></html>\n"
    );
    Html(page).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_prefixes_are_reserved_but_lookalikes_are_not() {
        assert!(is_reserved("/api"));
        assert!(is_reserved("/api/v1/nope"));
        assert!(is_reserved("/metrics"));
        assert!(is_reserved("/ws"));
        assert!(!is_reserved("/"));
        assert!(!is_reserved("/topics/orders"));
        assert!(!is_reserved("/apis"));
        assert!(!is_reserved("/metrics-dashboard"));
    }

    #[tokio::test]
    async fn unknown_api_path_is_json_404_and_other_paths_are_html() {
        let api = fallback(
            Method::GET,
            Uri::from_static("/api/v1/nope"),
            HeaderMap::new(),
        )
        .await;
        assert_eq!(api.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            api.headers()[header::CONTENT_TYPE],
            HeaderValue::from_static("application/json")
        );
        // Deep links, dotted names included (topic and group names may contain dots).
        for link in [
            "/topics/x",
            "/topics/orders.v1",
            "/consumer-groups/app.consumer",
        ] {
            let page = fallback(Method::GET, Uri::from_static(link), HeaderMap::new()).await;
            assert_eq!(page.status(), StatusCode::OK, "{link}");
            let mime = page.headers()[header::CONTENT_TYPE]
                .to_str()
                .expect("ASCII");
            assert!(mime.starts_with("text/html"), "{link}: {mime}");
        }
        for file in ["/assets/missing-0000.js", "/missing.css", "/logo.PNG"] {
            let missing = fallback(Method::GET, Uri::from_static(file), HeaderMap::new()).await;
            assert_eq!(missing.status(), StatusCode::NOT_FOUND, "{file}");
        }
        let post = fallback(Method::POST, Uri::from_static("/"), HeaderMap::new()).await;
        assert_eq!(post.status(), StatusCode::NOT_FOUND);
    }

    /// Without the console (feature off, or built before `npm run build`), `/` explains how
    /// to build it; with it, `/` is the app's `index.html`.
    #[tokio::test]
    async fn root_is_the_app_or_says_how_to_build_it() {
        let root = fallback(Method::GET, Uri::from_static("/"), HeaderMap::new()).await;
        assert_eq!(root.status(), StatusCode::OK);
        let body = axum::body::to_bytes(root.into_body(), 1 << 20)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&body);
        if asset("index.html").is_some() {
            assert!(text.contains("<div id=\"root\">"), "{text}");
        } else {
            assert!(text.contains("console was not built"), "{text}");
            assert!(text.contains("npm ci &amp;&amp; npm run build"), "{text}");
        }
    }
}
