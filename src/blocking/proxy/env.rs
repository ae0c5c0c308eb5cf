//! Which proxy the environment names for a destination: `http_proxy`,
//! `https_proxy`, `all_proxy` and `no_proxy`, read the way curl reads them.
//!
//! The rules, in order:
//!
//! 1. If `no_proxy` (or `NO_PROXY`) lists the destination, no proxy.
//! 2. `ws://` takes `http_proxy`; `wss://` takes `https_proxy` (or
//!    `HTTPS_PROXY`). A WebSocket URL is an HTTP URL for this purpose, as
//!    curl and Python's `websockets` treat it.
//! 3. Failing that, `all_proxy` (or `ALL_PROXY`).
//!
//! An empty value counts as unset. Where both spellings are set, the lower
//! case one wins. **Upper-case `HTTP_PROXY` is ignored**, as curl ignores
//! it: in a CGI program the environment's `HTTP_*` names come from the
//! request's header fields, so any client could set `HTTP_PROXY` with a
//! `Proxy:` header ("httpoxy", CVE-2016-5385).
//!
//! `no_proxy` is a comma-separated list; spaces around entries are
//! ignored, and so is case. An entry is:
//!
//! * `*`: every destination;
//! * a name, matching that host and every host under it: `example.com` and
//!   `.example.com` (and `*.example.com`) both match `example.com` and
//!   `ws.example.com`, never `badexample.com`;
//! * an IP address, matching that address however the URL spelled it
//!   (`::1`, `[::1]`, `127.0.0.1`; no CIDR ranges);
//! * any of those with `:port`, matching only that port.
//!
//! There is no implicit exception: `localhost` goes through the proxy
//! unless `no_proxy` says otherwise, as with curl.

use std::net::IpAddr;
use std::string::String;

/// The proxy URL the environment names for a destination, or `None` for a
/// direct connection. `secure` is whether the URL is `wss://`; `host` is
/// its normalised host ([`Url::host`](crate::blocking::url::Url::host)).
/// `lookup` reads a variable (`|name| std::env::var(name).ok()`).
///
/// ```
/// use wslite::blocking::proxy::env::proxy_for;
/// let env = |name: &str| match name {
///     "http_proxy" => Some("http://proxy:3128".to_string()),
///     "no_proxy" => Some("localhost, .internal".to_string()),
///     _ => None,
/// };
/// assert_eq!(proxy_for(false, "example.com", 80, env).as_deref(), Some("http://proxy:3128"));
/// assert_eq!(proxy_for(false, "ws.internal", 80, env), None);
/// assert_eq!(proxy_for(true, "example.com", 443, env), None); // no https_proxy
/// ```
pub fn proxy_for(
    secure: bool,
    host: &str,
    port: u16,
    lookup: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    let get = |names: &[&str]| {
        names
            .iter()
            .filter_map(|name| lookup(name))
            .find(|value| !value.trim().is_empty())
    };
    if let Some(list) = get(&["no_proxy", "NO_PROXY"]) {
        if no_proxy_matches(&list, host, port) {
            return None;
        }
    }
    let scheme_names: &[&str] = if secure {
        &["https_proxy", "HTTPS_PROXY"]
    } else {
        &["http_proxy"]
    };
    get(scheme_names)
        .or_else(|| get(&["all_proxy", "ALL_PROXY"]))
        .map(|value| value.trim().into())
}

/// Whether a `no_proxy` list names `host` (normalised, an IPv6 address
/// without brackets) at `port`.
pub fn no_proxy_matches(list: &str, host: &str, port: u16) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host_ip: Option<IpAddr> = host.parse().ok();
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let (name, entry_port) = split_port(entry);
            if entry_port.is_some_and(|p| p != port) {
                return false;
            }
            let name = name.to_ascii_lowercase();
            match (host_ip, name.parse::<IpAddr>()) {
                (Some(host_ip), Ok(ip)) => host_ip == ip,
                // An address is matched by addresses only, never as a
                // suffix (`0.1` must not match `127.0.0.1`).
                (Some(_), Err(_)) | (None, Ok(_)) => false,
                (None, Err(_)) => {
                    let name = name
                        .trim_start_matches("*.")
                        .trim_start_matches('.')
                        .trim_end_matches('.');
                    !name.is_empty()
                        && (host == name
                            || host
                                .strip_suffix(name)
                                .is_some_and(|head| head.ends_with('.')))
                }
            }
        })
}

/// `name[:port]`, `[v6]:port`, `[v6]` or a bare IPv6 address.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((ip, tail)) => (ip, tail.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (entry, None),
        };
    }
    match entry.rsplit_once(':') {
        // More than one colon: an IPv6 address without a port.
        Some((name, _)) if name.contains(':') => (entry, None),
        Some((name, port)) => match port.parse() {
            Ok(port) => (name, Some(port)),
            Err(_) => (entry, None),
        },
        None => (entry, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).into())
        }
    }

    #[test]
    fn ws_takes_http_proxy_and_wss_takes_https_proxy_then_all_proxy() {
        let vars = [
            ("http_proxy", "http://h:1"),
            ("https_proxy", "http://s:2"),
            ("all_proxy", "socks5h://a:3"),
        ];
        assert_eq!(
            proxy_for(false, "x", 80, env(&vars)).as_deref(),
            Some("http://h:1")
        );
        assert_eq!(
            proxy_for(true, "x", 443, env(&vars)).as_deref(),
            Some("http://s:2")
        );
        let vars = [("all_proxy", "socks5h://a:3")];
        assert_eq!(
            proxy_for(false, "x", 80, env(&vars)).as_deref(),
            Some("socks5h://a:3")
        );
        assert_eq!(
            proxy_for(true, "x", 443, env(&vars)).as_deref(),
            Some("socks5h://a:3")
        );
        assert_eq!(proxy_for(false, "x", 80, env(&[])), None);
    }

    #[test]
    fn lower_case_wins_and_upper_case_http_proxy_is_ignored() {
        let vars = [
            ("https_proxy", "http://lower:1"),
            ("HTTPS_PROXY", "http://upper:1"),
        ];
        assert_eq!(
            proxy_for(true, "x", 443, env(&vars)).as_deref(),
            Some("http://lower:1")
        );
        let vars = [
            ("HTTPS_PROXY", "http://upper:1"),
            ("ALL_PROXY", "http://all:1"),
        ];
        assert_eq!(
            proxy_for(true, "x", 443, env(&vars)).as_deref(),
            Some("http://upper:1")
        );
        // httpoxy: HTTP_PROXY may come from a request's `Proxy:` header.
        let vars = [("HTTP_PROXY", "http://evil:1")];
        assert_eq!(proxy_for(false, "x", 80, env(&vars)), None);
        let vars = [
            ("HTTP_PROXY", "http://evil:1"),
            ("ALL_PROXY", "http://all:1"),
        ];
        assert_eq!(
            proxy_for(false, "x", 80, env(&vars)).as_deref(),
            Some("http://all:1")
        );
        // Empty counts as unset.
        let vars = [("http_proxy", ""), ("all_proxy", " http://all:1 ")];
        assert_eq!(
            proxy_for(false, "x", 80, env(&vars)).as_deref(),
            Some("http://all:1")
        );
    }

    #[test]
    fn no_proxy_excludes_hosts() {
        let vars = [("http_proxy", "http://p:1"), ("NO_PROXY", "Example.COM")];
        assert_eq!(proxy_for(false, "ws.example.com", 80, env(&vars)), None);
        assert!(proxy_for(false, "other.org", 80, env(&vars)).is_some());
        let vars = [("http_proxy", "http://p:1"), ("no_proxy", "*")];
        assert_eq!(proxy_for(false, "anything", 80, env(&vars)), None);
        // Lower case wins.
        let vars = [
            ("http_proxy", "http://p:1"),
            ("no_proxy", "a"),
            ("NO_PROXY", "*"),
        ];
        assert!(proxy_for(false, "b", 80, env(&vars)).is_some());
    }

    #[test]
    fn no_proxy_entries() {
        let m = no_proxy_matches;
        // Suffixes on label boundaries, with or without a leading dot.
        assert!(m("example.com", "example.com", 80));
        assert!(m("example.com", "a.b.example.com", 80));
        assert!(m(".example.com", "example.com", 80));
        assert!(m(".example.com", "ws.example.com", 80));
        assert!(m("*.example.com", "ws.example.com", 80));
        assert!(!m("example.com", "badexample.com", 80));
        assert!(!m("ample.com", "example.com", 80));
        assert!(!m("example.com", "example.com.org", 80));
        // Case, spaces, empty entries, trailing dots.
        assert!(m(" , FOO.example ,", "foo.example", 80));
        assert!(m("foo.example.", "foo.example.", 80));
        // Ports.
        assert!(m("example.com:9001", "example.com", 9001));
        assert!(!m("example.com:9001", "example.com", 80));
        assert!(m("[::1]:9001", "::1", 9001));
        assert!(!m("[::1]:9001", "::1", 80));
        assert!(m("127.0.0.1:9001,other", "127.0.0.1", 9001));
        // IP literals, compared as addresses.
        assert!(m("::1", "::1", 80));
        assert!(m("[::1]", "::1", 80));
        assert!(m("0:0::1", "::1", 80));
        assert!(m("127.0.0.1", "127.0.0.1", 80));
        assert!(!m("127.0.0.1", "127.0.0.2", 80));
        assert!(!m("0.0.1", "127.0.0.1", 80));
        assert!(!m("127.0.0.1", "localhost", 80));
        assert!(m("localhost", "localhost", 80));
        // `*` only alone.
        assert!(m("a, *", "z", 1));
        assert!(!m("*a", "z", 1));
        assert!(!m("", "z", 1));
        assert!(!m(".", "z", 1));
    }
}
