//! The security baseline every response carries, and cache rules per kind of path.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::header::{self, HeaderName, HeaderValue};

/// Two years, with subdomains: the HSTS preload list's minimum is one year.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Deny every powerful feature the app does not use (the app uses none).
const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), display-capture=(), fullscreen=(), geolocation=(), \
gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=(), screen-wake-lock=(), xr-spatial-tracking=()";

/// Immutable caching for Trunk's content-hashed file names.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[derive(Clone)]
pub struct SecurityHeaders {
    csp: HeaderValue,
}

impl SecurityHeaders {
    /// `script_hashes` are the base64 SHA-256 digests of the inline scripts the
    /// SPA shell needs (Trunk's loader); everything else must come from 'self'.
    pub fn new(script_hashes: &[String]) -> Self {
        let hashes: String = script_hashes.iter().map(|h| format!(" 'sha256-{h}'")).collect();
        let csp = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; img-src 'self'; \
font-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; form-action 'self'; \
frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
        );
        let csp = HeaderValue::from_str(&csp).expect("CSP is built from ASCII constants and base64");
        SecurityHeaders { csp }
    }

    pub fn csp(&self) -> &HeaderValue {
        &self.csp
    }

    pub fn apply(&self, path: &str, response: &mut Response) {
        let cache = cache_rule(path, response.status());
        let h = response.headers_mut();
        let set = |h: &mut http::HeaderMap, name: HeaderName, value: &'static str| {
            h.insert(name, HeaderValue::from_static(value));
        };
        set(h, header::STRICT_TRANSPORT_SECURITY, HSTS);
        h.insert(header::CONTENT_SECURITY_POLICY, self.csp.clone());
        set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
        set(h, header::REFERRER_POLICY, "no-referrer");
        set(h, HeaderName::from_static("permissions-policy"), PERMISSIONS_POLICY);
        set(h, HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
        set(h, HeaderName::from_static("cross-origin-resource-policy"), "same-origin");
        set(h, header::X_FRAME_OPTIONS, "DENY");
        set(h, header::CACHE_CONTROL, cache);
    }
}

/// API and health answers are never stored; hashed assets are cached for a
/// year; everything else (the SPA shell) is revalidated every time.
fn cache_rule(path: &str, status: http::StatusCode) -> &'static str {
    if path.starts_with("/api/") || path == "/healthz" || path.starts_with("/webhooks/") || path.starts_with("/exports/") {
        "no-store"
    } else if status.is_success() && is_hashed_asset(path) {
        IMMUTABLE
    } else {
        "no-cache"
    }
}

/// Trunk names assets `name-<16 hex>.ext` (or `name-<16 hex>_bg.wasm`).
pub fn is_hashed_asset(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or("");
    let stem = file.split('.').next().unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    match stem.rsplit_once('-') {
        Some((name, hash)) => !name.is_empty() && hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) && file.contains('.'),
        None => false,
    }
}

pub async fn security_headers(State(headers): State<Arc<SecurityHeaders>>, request: Request<Body>, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let mut response = next.run(request).await;
    headers.apply(&path, &mut response);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    fn router() -> Router {
        let headers = Arc::new(SecurityHeaders::new(&["abc123=".to_string()]));
        Router::new()
            .route("/api/{*rest}", get(|| async { "api" }))
            .route("/healthz", get(|| async { "ok" }))
            .route("/app-0123456789abcdef.js", get(|| async { "js" }))
            .route("/", get(|| async { "shell" }))
            .layer(axum::middleware::from_fn_with_state(headers, security_headers))
    }

    async fn get_headers(path: &str) -> http::HeaderMap {
        let response = router().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        response.headers().clone()
    }

    #[tokio::test]
    async fn every_response_carries_the_security_baseline() {
        for path in ["/", "/api/status", "/healthz", "/app-0123456789abcdef.js", "/nowhere"] {
            let h = get_headers(path).await;
            let hsts = h[header::STRICT_TRANSPORT_SECURITY].to_str().unwrap();
            let max_age: u64 = hsts.split(';').next().unwrap().trim_start_matches("max-age=").parse().unwrap();
            assert!(max_age >= 31_536_000 && hsts.contains("includeSubDomains"), "{path}: {hsts}");
            assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
            assert_eq!(h[header::REFERRER_POLICY], "no-referrer", "{path}");
            assert_eq!(h["cross-origin-opener-policy"], "same-origin", "{path}");
            assert!(h["permissions-policy"].to_str().unwrap().contains("camera=()"), "{path}");
            let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            for directive in ["frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "'wasm-unsafe-eval'", "'sha256-abc123='"] {
                assert!(csp.contains(directive), "{path}: {directive} missing from {csp}");
            }
        }
    }

    #[test]
    fn csp_allows_nothing_but_self() {
        let csp = SecurityHeaders::new(&["h".to_string()]).csp().to_str().unwrap().to_string();
        assert!(!csp.contains("'unsafe-inline'"), "{csp}");
        assert!(!csp.contains("http:") && !csp.contains("https:") && !csp.contains('*'), "no other origin: {csp}");
        for directive in csp.split(';') {
            for source in directive.split_whitespace().skip(1) {
                assert!(
                    ["'self'", "'none'", "'wasm-unsafe-eval'"].contains(&source) || source.starts_with("'sha256-"),
                    "unexpected source {source} in {directive}"
                );
            }
        }
    }

    #[tokio::test]
    async fn cache_rules_follow_the_kind_of_path() {
        assert_eq!(get_headers("/api/status").await[header::CACHE_CONTROL], "no-store");
        assert_eq!(get_headers("/healthz").await[header::CACHE_CONTROL], "no-store");
        assert_eq!(get_headers("/app-0123456789abcdef.js").await[header::CACHE_CONTROL], IMMUTABLE);
        assert_eq!(get_headers("/").await[header::CACHE_CONTROL], "no-cache");
    }

    #[test]
    fn hashed_asset_names_are_recognised() {
        assert!(is_hashed_asset("/frontend-1a2b3c4d5e6f7a8b_bg.wasm"));
        assert!(is_hashed_asset("/main-1a2b3c4d5e6f7a8b.css"));
        assert!(!is_hashed_asset("/favicon.svg"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/some-route"));
        assert!(!is_hashed_asset("/x-1a2b3c4d5e6f7a8g.js"));
    }
}
