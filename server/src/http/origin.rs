//! Cross-origin protection for server functions: a POST must come from the
//! app's own pages. Browsers send `Sec-Fetch-Site` (and `Origin`) on every
//! POST; a request with neither is refused too.

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode};

/// `authority` is where the request was sent: the Host header, or on HTTP/2
/// the `:authority` the URI carries.
pub fn is_same_origin(headers: &HeaderMap, authority: Option<&str>) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin";
    }
    let origin = headers.get(http::header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(http::header::HOST).and_then(|v| v.to_str().ok()).or(authority);
    match (origin, host) {
        (Some(origin), Some(host)) => {
            origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://")).is_some_and(|authority| authority.eq_ignore_ascii_case(host))
        }
        _ => false,
    }
}

pub async fn same_origin_posts(request: Request<Body>, next: Next) -> Response {
    let authority = request.uri().authority().map(|a| a.as_str());
    if request.method() != Method::GET && request.method() != Method::HEAD && !is_same_origin(request.headers(), authority) {
        tracing::warn!(path = request.uri().path(), "refused a cross-origin state-changing request");
        return (StatusCode::FORBIDDEN, "Cross-origin requests are not allowed.").into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::http::header_map as headers;

    #[test]
    fn only_the_apps_own_origin_passes() {
        assert!(is_same_origin(&headers(&[("sec-fetch-site", "same-origin")]), None));
        assert!(!is_same_origin(&headers(&[("sec-fetch-site", "cross-site")]), None));
        assert!(!is_same_origin(&headers(&[("sec-fetch-site", "same-site")]), None));
        assert!(is_same_origin(&headers(&[("origin", "https://localhost:8443"), ("host", "localhost:8443")]), None));
        assert!(is_same_origin(&headers(&[("origin", "https://localhost:8443")]), Some("localhost:8443")), "HTTP/2");
        assert!(!is_same_origin(&headers(&[("origin", "https://evil.example"), ("host", "localhost:8443")]), None));
        assert!(!is_same_origin(&headers(&[("origin", "https://evil.example")]), Some("localhost:8443")));
        assert!(!is_same_origin(&headers(&[("origin", "null"), ("host", "localhost:8443")]), None));
        assert!(!is_same_origin(&headers(&[("host", "localhost:8443")]), None), "no origin information at all");
    }
}
