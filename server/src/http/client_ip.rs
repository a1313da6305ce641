//! The client's address and scheme. Forwarded headers are trusted only with
//! --behind-proxy, where a proxy we control sets them.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::HeaderMap;

/// The address the request came from, as far as this server can trust it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Who is calling, as a request says it: the session cookie, the client IP
/// the middleware resolved, and the user agent (cut to 512 characters).
pub fn request_info(headers: &HeaderMap, extensions: &http::Extensions) -> crate::context::RequestInfo {
    crate::context::RequestInfo {
        session_token: crate::sessions::token_from_headers(headers),
        ip: extensions.get::<ClientIp>().map(|ClientIp(ip)| *ip).unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        user_agent: headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").chars().take(512).collect(),
    }
}

pub fn client_ip(headers: &HeaderMap, peer: IpAddr, behind_proxy: bool) -> IpAddr {
    if !behind_proxy {
        return peer;
    }
    // The last entry is the one our own proxy appended; earlier ones are client-supplied.
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .next_back()
        .unwrap_or(peer)
}

pub fn forwarded_plain_http(headers: &HeaderMap, behind_proxy: bool) -> bool {
    behind_proxy && headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p.trim().eq_ignore_ascii_case("http"))
}

pub async fn resolve_client(State(behind_proxy): State<bool>, mut request: Request<Body>, next: Next) -> Response {
    if forwarded_plain_http(request.headers(), behind_proxy) {
        if let Some(target) = super::redirect::https_location(request.headers(), request.uri(), None) {
            return Redirect::permanent(&target).into_response();
        }
    }
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip()).unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let ip = client_ip(request.headers(), peer, behind_proxy);
    request.extensions_mut().insert(ClientIp(ip));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::http::header_map as headers;

    #[test]
    fn forwarded_for_is_ignored_unless_behind_proxy() {
        let peer: IpAddr = "10.0.0.7".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(client_ip(&h, peer, false), peer);
        assert_eq!(client_ip(&h, peer, true), "203.0.113.9".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn spoofed_leading_entries_do_not_win() {
        let peer: IpAddr = "10.0.0.7".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 198.51.100.4")]);
        assert_eq!(client_ip(&h, peer, true), "198.51.100.4".parse::<IpAddr>().unwrap());
        let garbage = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(client_ip(&garbage, peer, true), peer);
    }

    #[test]
    fn forwarded_proto_is_trusted_only_behind_proxy() {
        let h = headers(&[("x-forwarded-proto", "http")]);
        assert!(forwarded_plain_http(&h, true));
        assert!(!forwarded_plain_http(&h, false));
        assert!(!forwarded_plain_http(&headers(&[("x-forwarded-proto", "https")]), true));
    }
}
