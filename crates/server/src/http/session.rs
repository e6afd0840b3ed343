//! The session cookie and the client's address.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use crm_graphql::SessionCookies;
use tower_cookies::cookie::SameSite;
use tower_cookies::{Cookie, Cookies};

use super::AppState;

/// Cookie name: with `__Host-` the browser only accepts it over https, for this host and path `/`.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-crm_session"
    } else {
        "crm_session"
    }
}

pub fn session_token(cookies: &Cookies, secure: bool) -> Option<String> {
    cookies
        .get(cookie_name(secure))
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// Writes the session cookie through tower-cookies for the login and logout mutations.
pub struct CookieJar {
    pub cookies: Cookies,
    pub secure: bool,
}

impl SessionCookies for CookieJar {
    fn set_session(&self, token: &str, expires_at: DateTime<Utc>) {
        let max_age = (expires_at - Utc::now()).num_seconds().max(0);
        let cookie = Cookie::build((cookie_name(self.secure), token.to_owned()))
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Strict)
            .max_age(tower_cookies::cookie::time::Duration::seconds(max_age))
            .build();
        self.cookies.add(cookie);
    }

    fn clear_session(&self) {
        let cookie = Cookie::build((cookie_name(self.secure), ""))
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Strict)
            .max_age(tower_cookies::cookie::time::Duration::ZERO)
            .build();
        self.cookies.add(cookie);
    }
}

pub fn cookie_jar(state: &AppState, cookies: Cookies) -> Arc<dyn SessionCookies> {
    Arc::new(CookieJar {
        cookies,
        secure: state.settings.secure_cookies,
    })
}

/// The peer address, or the last `X-Forwarded-For` hop when the operator trusts a proxy.
/// (The last hop is the one our proxy appended; earlier ones are the client's to invent.)
pub fn client_ip(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    trust_proxy: bool,
) -> Option<String> {
    if trust_proxy {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty())
            .and_then(|v| v.parse::<std::net::IpAddr>().ok());
        if let Some(ip) = forwarded {
            return Some(ip.to_string());
        }
    }
    peer.map(|p| p.ip().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_ignored_unless_trusted() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "6.6.6.6, 10.0.0.9".parse().expect("header"),
        );
        let peer: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        assert_eq!(
            client_ip(Some(peer), &headers, false).as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(
            client_ip(Some(peer), &headers, true).as_deref(),
            Some("10.0.0.9")
        );
    }
}
