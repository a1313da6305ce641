//! Serves the built frontend: hashed assets from disk, and the SPA shell
//! (index.html) for every client-side route.

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{Html, IntoResponse};
use axum::Router;
use base64::Engine as _;
use http::StatusCode;
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// Shown when the frontend has not been built, so the API still works.
const NOT_BUILT: &str = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Chat FB Top</title></head>\
<body><h1>The frontend has not been built</h1><p>Run <code>trunk build --release</code> and restart the server.</p></body></html>";

pub struct SpaShell {
    html: Arc<str>,
    pub inline_script_hashes: Vec<String>,
}

impl SpaShell {
    pub fn load(site_dir: &Path) -> Self {
        let html: Arc<str> = match std::fs::read_to_string(site_dir.join("index.html")) {
            Ok(html) => html.into(),
            Err(e) => {
                tracing::warn!(site_dir = %site_dir.display(), error = %e, "no built frontend found; serving a notice page");
                NOT_BUILT.into()
            }
        };
        let inline_script_hashes = inline_script_hashes(&html);
        SpaShell { html, inline_script_hashes }
    }
}

/// CSP hashes (base64 SHA-256) of every inline `<script>` body in the page.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after_tag = &rest[start..];
        let Some(open_end) = after_tag.find('>') else { break };
        let open_tag = &after_tag[..open_end];
        let body_and_more = &after_tag[open_end + 1..];
        let Some(close) = body_and_more.find("</script>") else { break };
        if !open_tag.contains(" src=") {
            let digest = Sha256::digest(&body_and_more.as_bytes()[..close]);
            hashes.push(base64::engine::general_purpose::STANDARD.encode(digest));
        }
        rest = &body_and_more[close + "</script>".len()..];
    }
    hashes
}

pub fn router(site_dir: &Path, shell: &SpaShell) -> Router {
    let html = shell.html.clone();
    // The copies `precompress` wrote at build time, when the browser takes them.
    let serve_dir = ServeDir::new(site_dir).append_index_html_on_directories(false).precompressed_br().precompressed_gzip();
    Router::new().fallback(move |request: Request<Body>| {
        let html = html.clone();
        let serve_dir = serve_dir.clone();
        async move {
            let path = request.uri().path();
            if path == "/" || path == "/index.html" {
                return Html(html.to_string()).into_response();
            }
            let looks_like_file = path.rsplit('/').next().is_some_and(|last| last.contains('.'));
            match serve_dir.oneshot(request).await {
                Ok(response) if response.status() != StatusCode::NOT_FOUND => response.map(Body::new),
                // A missing file is a 404; any other path is a client-side route.
                _ if looks_like_file => (StatusCode::NOT_FOUND, "Not found").into_response(),
                _ => Html(html.to_string()).into_response(),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_hashed_and_external_ones_ignored() {
        let html = r#"<html><head><script src="/a.js"></script><script type="module">alert(1)</script></head></html>"#;
        let hashes = inline_script_hashes(html);
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"alert(1)"));
        assert_eq!(hashes, vec![expected]);
    }

    #[test]
    fn missing_frontend_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let shell = SpaShell::load(dir.path());
        assert!(shell.html.contains("has not been built"));
        assert!(shell.inline_script_hashes.is_empty());
    }
}
