//! Reaching a WebSocket server through a proxy: HTTP `CONNECT` (RFC 9110
//! §9.3.6) and SOCKS5 (RFC 1928), each with the credentials of the proxy
//! URL (RFC 7617 Basic, RFC 1929 username/password).
//!
//! Both kinds of proxy do one thing for a WebSocket client: they open a TCP
//! connection to the server on the client's behalf and then relay bytes,
//! untouched, both ways. The client opens TCP to the *proxy*, asks it for
//! a *tunnel* to `host:port`, and once the proxy says yes, speaks to the
//! server over that same socket as if it were connected directly: the
//! opening handshake, the frames, TLS too for `wss://` (the proxy only sees
//! encrypted bytes). Only the request for the tunnel differs:
//!
//! * **HTTP `CONNECT`** ([`http`]): one line of text and a few header
//!   fields, answered by an HTTP status line; any 2xx opens the tunnel.
//! * **SOCKS5** ([`socks`]): a binary exchange of a few bytes each way:
//!   which authentication, then (maybe) the credentials, then the
//!   destination as an IPv4 address, an IPv6 address or a name.
//!
//! The module's other parts:
//!
//! * [`Proxy`]: a parsed proxy URL, `http://[user:password@]host[:port]`,
//!   `socks5://…` or `socks5h://…`, with percent-decoded credentials. Its
//!   `Display` and `Debug` never show the password.
//! * [`env`](mod@env): which proxy the environment names for a URL (`http_proxy`,
//!   `https_proxy`, `all_proxy`, `no_proxy`), as curl reads them, as a pure
//!   function over a lookup so that it is tested without touching the
//!   process's environment.
//!
//! **Bounded.** The TCP connect to the proxy is bounded by the client's
//! connect timeout; the whole exchange with the proxy — every write and
//! every read, however the answer trickles in — by one deadline, the
//! handshake's, computed once when the TCP connection is up and then shared
//! with the WebSocket handshake that follows. A proxy that sends one byte
//! a second cannot stretch it.
//!
//! **Nothing lost, nothing extra.** The proxy's answer is read exactly: the
//! SOCKS5 reply has lengths that say where it ends, and the HTTP answer's
//! head is read one byte at a time (it is short), so no byte that comes
//! after it — the start of the server's answer — is ever taken from the
//! socket by mistake.

pub mod env;
pub mod http;
pub mod socks;

use std::fmt;
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::string::String;
use std::time::{Duration, Instant};

use super::stream::{time_left, write_head_within, SocketOps, WithOps};
use super::url::{Url, UrlError};
use super::Config;
use crate::error::{Error, Result};

/// The three kinds of proxy wslite speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyKind {
    /// `http://`: HTTP `CONNECT` (RFC 9110 §9.3.6). Default port 80.
    Http,
    /// `socks5://`: SOCKS5 (RFC 1928) with the destination's address
    /// resolved by the client. Default port 1080.
    Socks5,
    /// `socks5h://`: SOCKS5 with the destination's *name* sent to the proxy,
    /// which resolves it (the `h` is for "host name", as in curl). Default
    /// port 1080.
    Socks5h,
}

impl ProxyKind {
    /// The scheme, as written in a proxy URL.
    pub fn scheme(self) -> &'static str {
        match self {
            ProxyKind::Http => "http",
            ProxyKind::Socks5 => "socks5",
            ProxyKind::Socks5h => "socks5h",
        }
    }

    /// The port used when the URL names none: 80 for HTTP (its scheme's
    /// port), 1080 for SOCKS (its IANA port).
    pub fn default_port(self) -> u16 {
        match self {
            ProxyKind::Http => 80,
            ProxyKind::Socks5 | ProxyKind::Socks5h => 1080,
        }
    }
}

/// A proxy URL, parsed: `http://[user:password@]host[:port][/]`,
/// `socks5://…` or `socks5h://…`. A URL without `scheme://` is an HTTP
/// proxy, as curl reads `http_proxy=proxy:3128`.
///
/// The user name and password are percent-decoded (`%40` is `@`). The host
/// is normalised as a WebSocket URL's host is ([`Url::host`]). `Display`
/// writes the URL with the password replaced by `***`; `Debug` likewise.
///
/// ```
/// use wslite::blocking::proxy::{Proxy, ProxyKind};
/// let proxy = Proxy::parse("http://me:p%40ss@Proxy.example:3128")?;
/// assert_eq!(proxy.kind(), ProxyKind::Http);
/// assert_eq!(proxy.authority(), "proxy.example:3128");
/// assert_eq!(proxy.to_string(), "http://me:***@proxy.example:3128");
/// # Ok::<(), wslite::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    kind: ProxyKind,
    host: String,
    ip: Option<IpAddr>,
    port: u16,
    credentials: Option<(String, String)>,
}

impl Proxy {
    /// Parses a proxy URL. A scheme other than `http`, `socks5` or
    /// `socks5h`, a path, a query, or a bad host, port or percent escape
    /// gives [`Error::InvalidProxyUrl`].
    pub fn parse(input: &str) -> Result<Proxy> {
        let (kind, rest) = match input.split_once("://") {
            None => (ProxyKind::Http, input),
            Some((scheme, rest)) => {
                let kind = match scheme.to_ascii_lowercase().as_str() {
                    "http" => ProxyKind::Http,
                    "socks5" => ProxyKind::Socks5,
                    "socks5h" => ProxyKind::Socks5h,
                    "https" => return Err(invalid(
                        "https:// proxies (TLS to the proxy itself) are not supported; an http:// proxy tunnels wss:// end to end",
                    )),
                    "socks4" | "socks4a" => return Err(invalid(
                        "SOCKS4 is not supported; use socks5:// or socks5h://",
                    )),
                    _ => return Err(invalid("the scheme is not http, socks5 or socks5h")),
                };
                (kind, rest)
            }
        };
        // The authority ends at the first `/`; a lone `/` may follow it.
        let (authority, after) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
        if !after.is_empty() && after != "/" {
            return Err(invalid("a proxy URL has no path, query or fragment"));
        }
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, authority),
        };
        let credentials = match userinfo {
            None => None,
            Some(userinfo) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let user = percent_decode(user)?;
                if user.is_empty() {
                    return Err(invalid("the user name before '@' is empty"));
                }
                Some((user, percent_decode(password)?))
            }
        };
        if host_port.is_empty() {
            return Err(invalid("the host is empty"));
        }
        // The host and port follow the rules of a WebSocket URL's (RFC
        // 3986 §3.2.2, normalised as WHATWG host parsing does).
        let text = format!("ws://{host_port}/");
        let url = Url::parse(&text).map_err(|e| match e {
            UrlError::Invalid(what) => invalid(what),
            UrlError::TlsNotSupported => invalid("the host or port is invalid"),
        })?;
        Ok(Proxy {
            kind,
            host: url.host().into(),
            ip: url.ip(),
            port: if url.has_explicit_port() {
                url.port()
            } else {
                kind.default_port()
            },
            credentials,
        })
    }

    /// Which protocol the proxy speaks.
    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// The proxy's host, normalised (an IPv6 address without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port (the kind's default if the URL named none).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port` (`[v6]:port`): how errors name the proxy.
    pub fn authority(&self) -> String {
        authority(&self.host, self.ip, self.port)
    }

    /// The user name from the URL, percent-decoded, if it has one.
    pub fn user(&self) -> Option<&str> {
        self.credentials.as_ref().map(|(user, _)| user.as_str())
    }

    /// The user name and password, percent-decoded.
    fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(user, password)| (user.as_str(), password.as_str()))
    }
}

impl fmt::Display for Proxy {
    /// The URL with its password hidden: `http://me:***@proxy:3128`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.kind.scheme())?;
        if let Some(user) = self.user() {
            write!(f, "{}:***@", percent_encode(user))?;
        }
        f.write_str(&self.authority())
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Proxy({self})")
    }
}

/// `host:port`, with an IPv6 address in brackets.
fn authority(host: &str, ip: Option<IpAddr>, port: u16) -> String {
    match ip {
        Some(IpAddr::V6(_)) => format!("[{host}]:{port}"),
        _ => format!("{host}:{port}"),
    }
}

fn invalid(what: &'static str) -> Error {
    Error::InvalidProxyUrl(what)
}

/// Decodes `%XX` escapes (RFC 3986 §2.1) in a user name or password.
fn percent_decode(text: &str) -> Result<String> {
    let (bytes, all_valid) = super::url::percent_decode(text, false);
    if !all_valid {
        return Err(invalid(
            "a '%' in the user name or password is not followed by two hex digits",
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| invalid("the user name or password does not decode to UTF-8"))
}

/// Escapes what would end a user name in a URL, for `Display`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ----- Opening the tunnel -----

/// Opens TCP to the first address of `addrs` that answers, each attempt
/// bounded by `timeout` (`None`: the operating system's limit).
pub(crate) fn dial(addrs: impl ToSocketAddrs, timeout: Option<Duration>) -> io::Result<TcpStream> {
    let mut last_error = None;
    for addr in addrs.to_socket_addrs()? {
        let attempt = match timeout {
            Some(timeout) => TcpStream::connect_timeout(&addr, timeout),
            None => TcpStream::connect(addr),
        };
        match attempt {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "the host name resolved to no address",
        )
    }))
}

/// What a tunnel needs besides the proxy and the destination.
pub(crate) struct TunnelOptions<'a> {
    /// Bounds the TCP connect to the proxy.
    pub(crate) connect_timeout: Option<Duration>,
    /// Bounds the proxy's whole exchange, from just after the TCP connect.
    pub(crate) handshake_timeout: Option<Duration>,
    /// Sent in the `CONNECT` request, as in the WebSocket handshake.
    pub(crate) user_agent: Option<&'a str>,
    /// For the head limits of the HTTP answer, and `TCP_NODELAY`.
    pub(crate) config: &'a Config,
}

/// Opens TCP to `proxy` and asks it for a tunnel to `target`'s host and
/// port. Returns the socket, now a tunnel, and the deadline the exchange
/// ran under (started once TCP was up), for the handshake that follows.
pub(crate) fn open_tunnel(
    proxy: &Proxy,
    target: &Url<'_>,
    options: &TunnelOptions<'_>,
) -> Result<(TcpStream, Option<Instant>)> {
    let name = proxy.authority();
    // A `socks5://` destination is resolved here, before the proxy is
    // dialled, so that a name that does not resolve is our error, not the
    // proxy's.
    let destination = match (proxy.kind, target.ip()) {
        (_, Some(ip)) => socks::Destination::Ip(ip),
        (ProxyKind::Socks5, None) => {
            let addr = target
                .to_socket_addrs()?
                .next()
                .map(|a: SocketAddr| a.ip())
                .ok_or_else(|| {
                    Error::Io(io::Error::new(
                        io::ErrorKind::NotFound,
                        "the host name resolved to no address",
                    ))
                })?;
            socks::Destination::Ip(addr)
        }
        _ => socks::Destination::Name(target.host()),
    };
    let mut stream = dial((proxy.host.as_str(), proxy.port), options.connect_timeout)
        .map_err(|error| name_proxy(Error::Io(error), &name))?;
    let deadline = options.handshake_timeout.map(super::stream::after);
    let exchange = stream
        .set_nodelay(options.config.nodelay)
        .map_err(Error::Io)
        .and_then(|()| match proxy.kind {
            ProxyKind::Http => http::connect(
                &mut stream,
                proxy,
                &target.socket_addr_string(),
                options,
                deadline,
            ),
            ProxyKind::Socks5 | ProxyKind::Socks5h => {
                socks::connect(&mut stream, proxy, &destination, target.port(), deadline)
            }
        });
    exchange.map_err(|e| name_proxy(e, &name))?;
    Ok((stream, deadline))
}

/// Errors of the exchange, named after the proxy they came from.
fn name_proxy(error: Error, proxy: &str) -> Error {
    match error {
        Error::Timeout | Error::WriteTimeout => Error::ProxyTimeout {
            proxy: proxy.into(),
        },
        Error::Io(error) if super::stream::is_timeout(&error) => Error::ProxyTimeout {
            proxy: proxy.into(),
        },
        Error::Io(error) => Error::ProxyIo {
            proxy: proxy.into(),
            error,
        },
        Error::AbnormalClosure => Error::ProxyProtocol {
            proxy: proxy.into(),
            what: "it closed the connection before it finished answering",
        },
        Error::HeadTooLarge { .. } | Error::TooManyHeaders { .. } | Error::MalformedHttp(_) => {
            Error::ProxyProtocol {
                proxy: proxy.into(),
                what: "its answer to CONNECT is not a valid HTTP/1.1 response head (RFC 9112)",
            }
        }
        other => other,
    }
}

// ----- Bounded reads and writes of the exchange -----

/// Writes all of `bytes` before `deadline`.
fn write_within(stream: &mut TcpStream, bytes: &[u8], deadline: Option<Instant>) -> Result<()> {
    write_head_within(stream, bytes, deadline, Some(SocketOps::tcp()))
}

/// Fills `buf` before `deadline`, however the bytes trickle in: the
/// socket's read timeout is set to what is left before every read.
fn read_exact_within(
    stream: &mut TcpStream,
    buf: &mut [u8],
    deadline: Option<Instant>,
) -> Result<()> {
    let mut filled = 0;
    let mut timed = WithOps {
        stream,
        ops: Some(SocketOps::tcp()),
    };
    while let Some(rest) = buf.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        if !time_left(&mut timed, deadline)? {
            return Err(Error::Timeout);
        }
        match timed.stream.read(rest) {
            Ok(0) => return Err(Error::AbnormalClosure),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // The socket's timeout, set to what was left: look again.
            Err(e) if super::stream::is_timeout(&e) && deadline.is_some() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(input: &str) -> &'static str {
        match Proxy::parse(input) {
            Err(Error::InvalidProxyUrl(what)) => what,
            other => panic!("{input}: expected InvalidProxyUrl, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_three_schemes_with_their_default_ports() {
        for (input, kind, authority) in [
            ("http://proxy", ProxyKind::Http, "proxy:80"),
            ("HTTP://Proxy:3128/", ProxyKind::Http, "proxy:3128"),
            ("proxy.example:3128", ProxyKind::Http, "proxy.example:3128"),
            ("socks5://127.0.0.1", ProxyKind::Socks5, "127.0.0.1:1080"),
            ("socks5h://[::1]:9050", ProxyKind::Socks5h, "[::1]:9050"),
        ] {
            let proxy = Proxy::parse(input).unwrap();
            assert_eq!(proxy.kind(), kind, "{input}");
            assert_eq!(proxy.authority(), authority, "{input}");
            assert_eq!(proxy.user(), None, "{input}");
        }
    }

    #[test]
    fn credentials_are_percent_decoded_and_never_shown() {
        let proxy = Proxy::parse("socks5://us%65r:p%40ss:w@h:1").unwrap();
        assert_eq!(proxy.credentials(), Some(("user", "p@ss:w")));
        assert_eq!(proxy.to_string(), "socks5://user:***@h:1");
        assert!(!format!("{proxy:?}").contains("p@ss"));
        // The last '@' ends the userinfo; a password may be empty.
        let proxy = Proxy::parse("http://a@b@h").unwrap();
        assert_eq!(proxy.credentials(), Some(("a@b", "")));
    }

    #[test]
    fn bad_proxy_urls_are_refused_with_a_reason() {
        assert!(err("https://h").contains("https"));
        assert!(err("socks4://h").contains("SOCKS4"));
        assert!(err("ftp://h").contains("scheme"));
        assert!(err("http://h/path").contains("path"));
        assert!(err("http://h?x").contains("path"));
        assert!(err("http://").contains("host"));
        assert!(err("http://:pw@h").contains("user"));
        assert!(err("http://u:%zz@h").contains("hex"));
        assert!(err("http://h:0").contains("port"));
        assert!(err("http://h:99999").contains("port"));
        assert!(err("http://h h").contains("whitespace"));
    }
}
