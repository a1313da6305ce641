//! The plain-HTTP listener: it serves nothing but a redirect to HTTPS.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, Uri};

/// `https://host[:port]/path?query` for this request, or None when the Host
/// header is missing or not a plain host name (no open redirects).
pub fn https_location(headers: &HeaderMap, uri: &Uri, https_port: Option<u16>) -> Option<String> {
    let host_header = headers.get(http::header::HOST)?.to_str().ok()?;
    let authority: http::uri::Authority = host_header.parse().ok()?;
    let host = authority.host();
    let valid = !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)) && !authority.as_str().contains('@');
    if !valid {
        return None;
    }
    let port = match https_port {
        Some(443) | None => String::new(),
        Some(p) => format!(":{p}"),
    };
    let path = uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
    Some(format!("https://{host}{port}{path}"))
}

pub async fn to_https(State(https_port): State<u16>, request: Request<Body>) -> Response {
    match https_location(request.headers(), request.uri(), Some(https_port)) {
        Some(target) => Redirect::permanent(&target).into_response(),
        None => (StatusCode::BAD_REQUEST, "This server only answers over HTTPS.").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(h: &'static str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(http::header::HOST, h.parse().unwrap());
        m
    }

    #[test]
    fn keeps_host_path_and_query_and_swaps_the_port() {
        let uri: Uri = "/leads?page=2".parse().unwrap();
        assert_eq!(https_location(&host("localhost:8080"), &uri, Some(8443)).unwrap(), "https://localhost:8443/leads?page=2");
        assert_eq!(https_location(&host("example.org"), &uri, Some(443)).unwrap(), "https://example.org/leads?page=2");
        assert_eq!(https_location(&host("[::1]:8080"), &"/".parse().unwrap(), Some(8443)).unwrap(), "https://[::1]:8443/");
    }

    #[test]
    fn refuses_hosts_that_could_redirect_elsewhere() {
        let uri: Uri = "/".parse().unwrap();
        assert!(https_location(&HeaderMap::new(), &uri, Some(8443)).is_none());
        assert!(https_location(&host("evil.example/@x"), &uri, Some(8443)).is_none());
        assert!(https_location(&host("user@evil.example"), &uri, Some(8443)).is_none());
    }
}
