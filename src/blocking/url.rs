//! WebSocket URIs: `ws://host:port/path?query` (RFC 6455 §3, RFC 3986).
//!
//! A client is told where to connect with a URI. RFC 6455 §3 defines two
//! schemes on top of the generic syntax of RFC 3986:
//!
//! ```text
//! ws-URI  = "ws:"  "//" host [ ":" port ] path [ "?" query ]   ; port 80 by default
//! wss-URI = "wss:" "//" host [ ":" port ] path [ "?" query ]   ; port 443, over TLS
//! ```
//!
//! From one URI the client takes three things:
//!
//! * **where to open the TCP connection**: host and port
//!   ([`Url::host`], [`Url::port`], [`Url::socket_addr_string`], or the URL
//!   itself, which implements [`std::net::ToSocketAddrs`]);
//! * **the `Host` header** of the opening handshake (RFC 6455 §4.1, item 4):
//!   the host, in brackets if it is an IPv6 address, with `:port` only when
//!   the port is not the scheme's default ([`Url::host_header`]);
//! * **the resource name** sent in the request line `GET /chat?room=1
//!   HTTP/1.1` (RFC 6455 §3): the path, `/` if it is empty, then `?` and the
//!   query if there is one ([`Url::resource`]).
//!
//! **The host is normalised as browsers do**, by the host parser of the
//! WHATWG URL Standard (§3.5, "host parsing"), which is what a browser
//! connects to for a `ws` or `wss` URL. The reason is safety, not style: an
//! operating system's resolver still reads the old `inet_aton` forms of an
//! IPv4 address, so `ws://0x7f.1/`, `ws://2130706433/` and
//! `ws://0177.0.0.1/` all reach 127.0.0.1. A program that checks the host
//! against an allow list must check the name that is dialled, so
//! [`Url::host`] *is* that name: a host that ends in a number is read by the
//! WHATWG IPv4 parser and becomes a dotted quad (`127.0.0.1`), or is refused
//! if it is not an address (`1.2.3.4.5`, `256.0.0.1`, `example.1`); an IPv6
//! address is written in its canonical form (`[::0001]` is `[::1]`); a name
//! is lowercased. The connection, the `Host` header (RFC 6455 §3, §4.1) and
//! every accessor use this one normalised host, and an IP address is
//! connected to as parsed here, without a resolver. One rule is stricter
//! than a browser's: a name with an empty label (`a..b`, `127.0.0.1..`) is
//! refused, since no DNS name has one and resolvers differ on what they
//! make of it.
//!
//! What a reader learns here is which parts of a general URI a WebSocket
//! URI may *not* have, and why:
//!
//! * **no fragment** (`#...`): RFC 6455 §3 says fragment identifiers are
//!   meaningless for WebSocket and MUST NOT be used; a `#` must be written
//!   `%23`;
//! * **no user information** (`user:password@`): the ws grammar above has
//!   none, and a password in a URI would leak into logs;
//! * **no empty host**, and a port of 1 to 65535 written in decimal digits;
//! * **no whitespace, control or non-ASCII characters**, and in the path and
//!   query only the characters RFC 3986 §3.3 and §3.4 allow, other bytes
//!   percent-encoded (`%20`). The resource name is copied verbatim into the
//!   request line, where a space would end the request-target (RFC 9112
//!   §3.2) and a line break would end the line. Percent-encoded bytes are
//!   kept exactly as given and never decoded: the server sees what the user
//!   wrote.
//!
//! Choices this module makes where the RFCs leave room, each documented on
//! [`Url::parse`]: the scheme is case-insensitive (`WS://` is accepted,
//! RFC 3986 §3.1); `http` and `https` are refused with a hint, since a
//! WebSocket URI must say `ws` or `wss`; an IPv6 address is written in
//! brackets (`ws://[::1]:9001/`, RFC 3986 §3.2.2) and zone identifiers
//! (`[fe80::1%25eth0]`, RFC 6874) are refused, because they name an
//! interface of the local machine, not a host; host names must be plain ASCII
//! (write internationalised names in their `xn--` form) and not
//! percent-encoded.
//!
//! Parsing accepts `wss` and reports it ([`Url::scheme`]). wslite has no
//! TLS of its own (it has no dependencies); [`Url::require_plain`] is the
//! check a plain-TCP `connect` makes, answering [`UrlError::TlsNotSupported`]
//! for `wss`, whose message tells the user how to bring their own TLS
//! stream.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

/// Why a string is not a WebSocket URL this crate can connect to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlError {
    /// The string is not a valid `ws://` or `wss://` URI (RFC 6455 §3); the
    /// text says which rule it breaks.
    Invalid(&'static str),
    /// The URL is `wss://`, which needs TLS, and wslite brings no TLS
    /// implementation: run the handshake over a TLS stream of your choice.
    TlsNotSupported,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Invalid(what) => write!(f, "invalid WebSocket URL: {what}"),
            UrlError::TlsNotSupported => f.write_str(
                "wss:// URLs need TLS, which wslite does not implement (it has no dependencies); \
                 open a TLS stream with the TLS library of your choice and run \
                 `wslite::client_handshake(tls_stream, url)` over it",
            ),
        }
    }
}

impl std::error::Error for UrlError {}

/// The two WebSocket URI schemes (RFC 6455 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `ws://`: WebSocket over plain TCP, port 80 by default.
    Ws,
    /// `wss://`: WebSocket over TLS, port 443 by default.
    Wss,
}

impl Scheme {
    /// The port used when the URI names none (RFC 6455 §3): 80 for `ws`,
    /// 443 for `wss` — the ports of HTTP and HTTPS, so that WebSocket passes
    /// where the web passes.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Ws => 80,
            Scheme::Wss => 443,
        }
    }

    /// Whether the connection runs over TLS (`wss`).
    pub fn is_secure(self) -> bool {
        self == Scheme::Wss
    }

    /// The scheme's name in lower case: `"ws"` or `"wss"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed WebSocket URL. It borrows the string it was parsed from. The
/// path and query are kept exactly as written; the host is normalised (see
/// the [module documentation](self)) and borrowed too when it was already
/// written in normal form.
///
/// ```
/// # use wslite::blocking::url::{Scheme, Url};
/// let url = Url::parse("ws://[::1]:9001/chat?room=1")?;
/// assert_eq!(url.scheme(), Scheme::Ws);
/// assert_eq!(url.host(), "::1");
/// assert_eq!(url.port(), 9001);
/// assert_eq!(url.resource(), "/chat?room=1");
/// assert_eq!(url.host_header(), "[::1]:9001");
/// # Ok::<(), wslite::blocking::url::UrlError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url<'a> {
    /// The whole input.
    input: &'a str,
    scheme: Scheme,
    /// The host as it is dialled: normalised, without IPv6 brackets.
    host: Cow<'a, str>,
    /// The address, when the host is an IP address rather than a name.
    ip: Option<IpAddr>,
    /// The port as written, or the scheme's default.
    port: u16,
    /// Whether the port was written in the URL.
    explicit_port: bool,
    /// The path as written; may be empty.
    path: &'a str,
    /// The query without its `?`, if there is a `?`.
    query: Option<&'a str>,
    /// Path and query as written, contiguous in `input`.
    path_and_query: &'a str,
}

impl<'a> Url<'a> {
    /// Parses a `ws://` or `wss://` URL (RFC 6455 §3).
    ///
    /// Accepted: `ws://127.0.0.1:9001`, `ws://localhost/chat?room=1`,
    /// `WS://Example.com`, `ws://[::1]:9001/a%20b`, `wss://example.com/`,
    /// and `ws://0x7f.1/`, whose host is `127.0.0.1` (the host is normalised;
    /// see the [module documentation](self)).
    ///
    /// Refused, with a message naming the rule:
    /// * a scheme other than `ws`/`wss` (with a hint for `http`/`https`), or
    ///   no `//` after it;
    /// * any whitespace, control character or non-ASCII character;
    /// * a fragment (`#`), forbidden by RFC 6455 §3;
    /// * user information (`user@host`);
    /// * an empty host, a host with characters RFC 3986 does not allow in a
    ///   name (which covers the WHATWG forbidden host code points), or a
    ///   percent-encoded host;
    /// * a host that ends in a number (`1.2.3.4.5`, `example.1`,
    ///   `256.0.0.1`) but is not an IPv4 address by the WHATWG IPv4 parser;
    /// * a host name with an empty label (`a..b`, `.a`; stricter than
    ///   WHATWG, see the module documentation);
    /// * an IPv6 address without brackets, an invalid one in brackets, or
    ///   one with a zone identifier (`%25eth0`);
    /// * a port that is empty, not all digits, 0, or above 65535;
    /// * a path or query character that must be percent-encoded (RFC 3986
    ///   §2.1), or a `%` not followed by two hex digits.
    pub fn parse(input: &'a str) -> Result<Url<'a>, UrlError> {
        // Checked once for the whole string: nothing of a URL may be a space,
        // a control character (a CR or LF would split the request line into
        // two) or a non-ASCII byte (RFC 3986 §2: URIs are ASCII; other
        // characters are percent-encoded).
        if input.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(invalid(
                "it contains whitespace or a control character (percent-encode a space as %20)",
            ));
        }
        if !input.is_ascii() {
            return Err(invalid(
                "it contains a non-ASCII character; percent-encode it in the path (RFC 3986 §2.1) and write host names in their xn-- form",
            ));
        }
        // RFC 6455 §3: "Fragment identifiers are meaningless in the context
        // of WebSocket URIs and MUST NOT be used on these URIs."
        if input.contains('#') {
            return Err(invalid(
                "a fragment (#...) is not allowed in a WebSocket URL; write a literal # as %23",
            ));
        }

        // The scheme, up to the first ':' (RFC 3986 §3.1: case-insensitive).
        let (scheme_str, rest) = match input.split_once(':') {
            Some(split) => split,
            None => {
                return Err(invalid(
                    "it has no scheme; it must start with ws:// or wss://",
                ))
            }
        };
        let scheme = if scheme_str.eq_ignore_ascii_case("ws") {
            Scheme::Ws
        } else if scheme_str.eq_ignore_ascii_case("wss") {
            Scheme::Wss
        } else if scheme_str.eq_ignore_ascii_case("http")
            || scheme_str.eq_ignore_ascii_case("https")
        {
            return Err(invalid(
                "the scheme is http or https; a WebSocket URL starts with ws:// (or wss:// for TLS), the handshake upgrades from HTTP by itself",
            ));
        } else {
            return Err(invalid("the scheme must be ws or wss"));
        };
        let rest = match rest.strip_prefix("//") {
            Some(rest) => rest,
            None => return Err(invalid("the scheme must be followed by // and the host")),
        };

        // The authority ends at the first '/' or '?' (RFC 3986 §3.2; '#' was
        // refused above).
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(authority_end);
        let (host, ip, port) = parse_authority(authority)?;
        let (port, explicit_port) = match port {
            Some(port) => (port, true),
            None => (scheme.default_port(), false),
        };

        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        check_chars(path, "path")?;
        if let Some(query) = query {
            check_chars(query, "query")?;
        }

        Ok(Url {
            input,
            scheme,
            host,
            ip,
            port,
            explicit_port,
            path,
            query,
            path_and_query,
        })
    }

    /// The URL exactly as it was given to [`Url::parse`].
    pub fn as_str(&self) -> &'a str {
        self.input
    }

    /// `ws` or `wss`.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host that is connected to, normalised as browsers do (see the
    /// [module documentation](self)): a name in lower case (`example.com`),
    /// an IPv4 address as a dotted quad, or an IPv6 address in canonical
    /// form *without* its brackets (`::1`). This is the name to check
    /// against an allow list: it is exactly what is dialled.
    ///
    /// ```
    /// # use wslite::blocking::url::Url;
    /// assert_eq!(Url::parse("ws://Example.COM/")?.host(), "example.com");
    /// assert_eq!(Url::parse("ws://0x7f.1/")?.host(), "127.0.0.1");
    /// assert_eq!(Url::parse("ws://[::0001]/")?.host(), "::1");
    /// # Ok::<(), wslite::blocking::url::UrlError>(())
    /// ```
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The host's address, if it is an IPv4 or IPv6 address rather than a
    /// name. Such a host is connected to without asking a resolver.
    pub fn ip(&self) -> Option<IpAddr> {
        self.ip
    }

    /// Whether the host is an IPv6 address (written in brackets in the URL).
    pub fn is_ipv6(&self) -> bool {
        matches!(self.ip, Some(IpAddr::V6(_)))
    }

    /// The port to connect to: the one written in the URL, or the scheme's
    /// default (80 for `ws`, 443 for `wss`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the URL wrote a port (even one equal to the default).
    pub fn has_explicit_port(&self) -> bool {
        self.explicit_port
    }

    /// The path as written, `/` if the URL has none (`ws://host`).
    pub fn path(&self) -> &'a str {
        if self.path.is_empty() {
            "/"
        } else {
            self.path
        }
    }

    /// The query as written, without its `?`; `None` if the URL has no `?`.
    pub fn query(&self) -> Option<&'a str> {
        self.query
    }

    /// The resource name for the request line `GET <resource> HTTP/1.1`
    /// (RFC 6455 §3): the path (`/` if empty), then `?` and the query if
    /// there is one. Percent-encoded bytes are kept exactly as written.
    ///
    /// Borrows the input, except for a URL with a query and no path
    /// (`ws://host?x=1` → `/?x=1`), which needs the `/` added.
    pub fn resource(&self) -> Cow<'a, str> {
        if !self.path.is_empty() {
            Cow::Borrowed(self.path_and_query)
        } else if self.query.is_none() {
            Cow::Borrowed("/")
        } else {
            Cow::Owned(format!("/{}", self.path_and_query))
        }
    }

    /// The value of the handshake's `Host` header (RFC 6455 §4.1, item 4;
    /// RFC 9110 §7.2): the host, in brackets if it is an IPv6 address,
    /// followed by `:port` only when the port is not the scheme's default.
    /// So `ws://example.com:80/` gives `example.com` and `ws://[::1]:9001`
    /// gives `[::1]:9001`.
    pub fn host_header(&self) -> String {
        let mut header = self.bracketed_host();
        if self.port != self.scheme.default_port() {
            header.push(':');
            header.push_str(&self.port.to_string());
        }
        header
    }

    /// `host:port` (`[host]:port` for IPv6), always with the port, as
    /// [`std::net::TcpStream::connect`] accepts it.
    pub fn socket_addr_string(&self) -> String {
        format!("{}:{}", self.bracketed_host(), self.port)
    }

    /// `(host, port)`, the pair [`std::net::ToSocketAddrs`] resolves: an IP
    /// address is used as is, a name is looked up in DNS.
    pub fn host_port(&self) -> (&str, u16) {
        (&self.host, self.port)
    }

    /// Refuses a `wss` URL with [`UrlError::TlsNotSupported`]: the check a
    /// `connect` over plain TCP makes before opening a socket.
    pub fn require_plain(&self) -> Result<(), UrlError> {
        match self.scheme {
            Scheme::Ws => Ok(()),
            Scheme::Wss => Err(UrlError::TlsNotSupported),
        }
    }

    /// The host as it appears in a URI authority: IPv6 in brackets.
    fn bracketed_host(&self) -> String {
        if self.is_ipv6() {
            format!("[{}]", self.host)
        } else {
            self.host.to_string()
        }
    }
}

impl fmt::Display for Url<'_> {
    /// Writes the URL exactly as it was parsed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.input)
    }
}

/// `TcpStream::connect(&url)` resolves the URL's host and port. An IP
/// address is the one parsed from the URL, never handed to a resolver; only
/// a name is looked up.
impl ToSocketAddrs for Url<'_> {
    type Iter = std::vec::IntoIter<SocketAddr>;

    fn to_socket_addrs(&self) -> std::io::Result<Self::Iter> {
        match self.ip {
            Some(ip) => Ok(vec![SocketAddr::new(ip, self.port)].into_iter()),
            None => self.host_port().to_socket_addrs(),
        }
    }
}

fn invalid(what: &'static str) -> UrlError {
    UrlError::Invalid(what)
}

/// What [`parse_authority`] finds: the normalised host, its address if it is
/// one, and the port if one is written.
type Authority<'a> = (Cow<'a, str>, Option<IpAddr>, Option<u16>);

/// Splits `host[:port]` or `[ipv6][:port]` (RFC 3986 §3.2.2, §3.2.3) into
/// the host, normalised and without brackets, its address if it is an IP
/// address, and the port if written.
fn parse_authority(authority: &str) -> Result<Authority<'_>, UrlError> {
    // RFC 3986 §3.2.1 allows `userinfo@` before the host; RFC 6455 §3 does
    // not. An '@' can only appear here as that separator.
    if authority.contains('@') {
        return Err(invalid(
            "user information (user@ or user:password@) is not part of a WebSocket URL",
        ));
    }
    if authority.is_empty() {
        return Err(invalid("the host is empty"));
    }

    let (host, ip, port_str) = if let Some(bracketed) = authority.strip_prefix('[') {
        // An IP literal: `[` IPv6address `]` (RFC 3986 §3.2.2).
        let (inside, after) = match bracketed.split_once(']') {
            Some(split) => split,
            None => {
                return Err(invalid(
                    "an IPv6 address opened with [ is not closed with ]",
                ))
            }
        };
        if inside.contains('%') {
            return Err(invalid(
                "IPv6 zone identifiers (%25...) are not supported (RFC 6874): they name a local interface, not a host",
            ));
        }
        let address = match inside.parse::<Ipv6Addr>() {
            Ok(address) => address,
            Err(_) => return Err(invalid("the text in [brackets] is not an IPv6 address")),
        };
        let port_str = if after.is_empty() {
            None
        } else if let Some(port) = after.strip_prefix(':') {
            Some(port)
        } else {
            return Err(invalid("after an IPv6 address's ] only :port may follow"));
        };
        // RFC 5952's canonical text, as std writes it: `::0001` is `::1`.
        let host = normal_form(inside, address.to_string());
        (host, Some(IpAddr::V6(address)), port_str)
    } else {
        if authority.bytes().filter(|&b| b == b':').count() > 1 {
            return Err(invalid(
                "an IPv6 address must be written in brackets, e.g. ws://[::1]:9001/ (RFC 3986 §3.2.2)",
            ));
        }
        let (host, port_str) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        if host.is_empty() {
            return Err(invalid("the host is empty"));
        }
        check_host_name(host)?;
        let (host, ip) = normalise_name(host)?;
        (host, ip, port_str)
    };

    let port = match port_str {
        None => None,
        Some(port) => Some(parse_port(port)?),
    };
    Ok((host, ip, port))
}

/// A host that is not in brackets, normalised as the WHATWG URL Standard's
/// host parser treats the host of a `ws` or `wss` URL (§3.5, steps 7 and 8,
/// after "domain to ASCII"): if it ends in a number it must be an IPv4
/// address and is written as a dotted quad; otherwise it is a name, and is
/// lowercased (host names are case-insensitive, RFC 4343 §3).
///
/// One rule is stricter than WHATWG's: a name may not have an empty label
/// (`a..b`, `.a`, `a..`; one trailing dot, `example.com.`, is the root and
/// fine). No DNS name has one (RFC 1035 §3.1), and resolvers differ in what
/// they make of it, so a deny list could not know what `127.0.0.1..` dials.
fn normalise_name(host: &str) -> Result<(Cow<'_, str>, Option<IpAddr>), UrlError> {
    if ends_in_a_number(host) {
        let address = parse_ipv4(host)?;
        let host = normal_form(host, address.to_string());
        return Ok((host, Some(IpAddr::V4(address))));
    }
    let labels = host.strip_suffix('.').unwrap_or(host);
    if labels.split('.').any(str::is_empty) {
        return Err(invalid(
            "the host name has an empty label (two dots in a row, or a dot first); no DNS name has one (RFC 1035 §3.1)",
        ));
    }
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Ok((Cow::Owned(host.to_ascii_lowercase()), None))
    } else {
        Ok((Cow::Borrowed(host), None))
    }
}

/// WHATWG URL §3.5, "ends in a number": whether the last label of `host`
/// (after one trailing dot, if any) is all decimal digits, or `0x` or `0X`
/// followed by hex digits or by nothing. Such a host cannot be a name: it
/// is an IPv4 address or nothing. So `example.1` and `example.0x` end in a
/// number, `1.example` and `0x1g` do not.
fn ends_in_a_number(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let last = host.rsplit('.').next().unwrap_or(host);
    let decimal = !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit());
    let hex =
        strip_hex_prefix(last).is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_hexdigit()));
    decimal || hex
}

/// The WHATWG IPv4 parser (URL §3.5): one to four parts separated by dots,
/// with one trailing dot allowed. Each part is a number (see
/// [`ipv4_number`]); every part but the last is one byte, and the last fills
/// the bytes that are left. So `127.1` is 127.0.0.1 (the `1` fills three
/// bytes), `2130706433` is 127.0.0.1 too, and `1.2.3.4.5` or `256.0.0.1` are
/// not addresses. These are, nearly, the forms BSD's `inet_aton` reads and
/// resolvers still accept; that is why they are read here, not passed on.
fn parse_ipv4(host: &str) -> Result<Ipv4Addr, UrlError> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 4 {
        return Err(invalid(
            "the host ends in a number, so it must be an IPv4 address (WHATWG URL §3.5), and an IPv4 address has at most 4 parts",
        ));
    }
    let numbers: Option<Vec<u64>> = parts.into_iter().map(ipv4_number).collect();
    let Some(numbers) = numbers else {
        return Err(invalid(
            "the host ends in a number, so it must be an IPv4 address (WHATWG URL §3.5), and each part a decimal, 0x-hex or 0-octal number",
        ));
    };
    // Not reached: splitting a string gives at least one part.
    let Some((&last, bytes)) = numbers.split_last() else {
        return Err(invalid("the host is empty"));
    };
    if bytes.iter().any(|&byte| byte > 255) {
        return Err(invalid(
            "the host is an IPv4 address (WHATWG URL §3.5) with a part above 255 before its last part",
        ));
    }
    // With n parts the last fills 5 - n bytes: all 4 alone, 1 in a.b.c.d.
    let n = numbers.len() as u32;
    if last >= 256u64.pow(5 - n) {
        return Err(invalid(
            "the host is an IPv4 address (WHATWG URL §3.5) whose last part is too large for the bytes it fills (at most 255 in a.b.c.d, 65535 in a.b.c, 16777215 in a.b, 4294967295 alone)",
        ));
    }
    let mut address = last;
    for (i, &byte) in bytes.iter().enumerate() {
        address += byte * 256u64.pow(3 - i as u32);
    }
    match u32::try_from(address) {
        Ok(address) => Ok(Ipv4Addr::from(address)),
        // Not reached: each byte is at most 255 and `last` fits its room.
        Err(_) => Err(invalid("the host is an IPv4 address above 255.255.255.255")),
    }
}

/// The WHATWG IPv4 number parser (URL §3.5): `0x` or `0X` then hex digits
/// (`0x` alone is 0), or `0` then octal digits, or decimal digits; `None`
/// for anything else, such as an empty part or `08`. Values saturate at
/// 2^32: anything that large is out of range in every position, so the
/// answer is the same and nothing overflows.
fn ipv4_number(part: &str) -> Option<u64> {
    const TOO_LARGE: u64 = 1 << 32;
    let (digits, radix) = if let Some(hex) = strip_hex_prefix(part) {
        (hex, 16)
    } else if let Some(octal) = part.strip_prefix('0').filter(|rest| !rest.is_empty()) {
        (octal, 8)
    } else if !part.is_empty() {
        (part, 10)
    } else {
        return None;
    };
    let mut value = 0u64;
    for c in digits.chars() {
        let digit = c.to_digit(radix)?;
        value = (value * u64::from(radix) + u64::from(digit)).min(TOO_LARGE);
    }
    Some(value)
}

/// The hex digits after a `0x` or `0X` prefix, if `part` has one.
fn strip_hex_prefix(part: &str) -> Option<&str> {
    part.strip_prefix("0x").or_else(|| part.strip_prefix("0X"))
}

/// The host in its normal form `normal`, borrowed from the URL when it was
/// `written` that way already (the common case), so that nothing is copied.
fn normal_form(written: &str, normal: String) -> Cow<'_, str> {
    if written == normal {
        Cow::Borrowed(written)
    } else {
        Cow::Owned(normal)
    }
}

/// A host name or IPv4 address: RFC 3986 §3.2.2 `reg-name`, the unreserved
/// characters and sub-delimiters. Percent-encoding is legal there but a
/// percent-encoded name would have to be decoded before DNS sees it, and no
/// real host needs it, so it is refused.
fn check_host_name(host: &str) -> Result<(), UrlError> {
    if host.contains('%') {
        return Err(invalid("percent-encoded host names are not supported"));
    }
    if !host.bytes().all(|b| is_unreserved(b) || is_sub_delim(b)) {
        return Err(invalid(
            "the host contains a character RFC 3986 §3.2.2 does not allow in a host name",
        ));
    }
    Ok(())
}

/// RFC 3986 §3.2.3: `port = *DIGIT`, here 1 to 65535. An empty port (`host:`)
/// is legal in RFC 3986 but almost always a mistake, so it is refused.
fn parse_port(port: &str) -> Result<u16, UrlError> {
    if port.is_empty() {
        return Err(invalid("the port after ':' is empty"));
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("the port must be written in decimal digits"));
    }
    // Digits only, so the only way to fail is a value too large for u16.
    match port.parse::<u16>() {
        Ok(0) => Err(invalid("port 0 cannot be connected to; use 1 to 65535")),
        Ok(port) => Ok(port),
        Err(_) => Err(invalid("the port is larger than 65535")),
    }
}

/// Checks a path or query (RFC 3986 §3.3, §3.4): `pchar` characters plus `/`
/// and, in the query, `?`; every `%` starts a `%XX` escape. These are exactly
/// the characters that can go into an HTTP request-target (RFC 9112 §3.2)
/// untouched.
// In bounds: `i + 2 < bytes.len()` is checked before the two hex digits are read.
#[allow(clippy::indexing_slicing)]
fn check_chars(part: &str, which: &'static str) -> Result<(), UrlError> {
    let bytes = part.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let escape_ok = bytes.len() > i + 2
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit();
            if !escape_ok {
                return Err(if which == "path" {
                    invalid("in the path, % must be followed by two hex digits (RFC 3986 §2.1)")
                } else {
                    invalid("in the query, % must be followed by two hex digits (RFC 3986 §2.1)")
                });
            }
            i += 3;
            continue;
        }
        let allowed = is_unreserved(b)
            || is_sub_delim(b)
            || matches!(b, b':' | b'@' | b'/')
            || (b == b'?' && which == "query");
        if !allowed {
            return Err(if which == "path" {
                invalid(
                    "the path contains a character that must be percent-encoded (RFC 3986 §3.3)",
                )
            } else {
                invalid(
                    "the query contains a character that must be percent-encoded (RFC 3986 §3.4)",
                )
            });
        }
        i += 1;
    }
    Ok(())
}

/// RFC 3986 §2.3: `ALPHA / DIGIT / "-" / "." / "_" / "~"`.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 §2.2: `"!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="`.
fn is_sub_delim(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// Decodes `%XX` escapes (RFC 3986 §2.1), and `+` as a space when
/// `plus_is_space` (the form encoding of queries). A `%` not followed by
/// two hex digits is kept as it is; the flag returned says whether every
/// `%` began a valid escape. The bytes need not be UTF-8.
pub(crate) fn percent_decode(text: &str, plus_is_space: bool) -> (Vec<u8>, bool) {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut all_valid = true;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = match (b, bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&hi), Some(&lo)) => {
                hex_digit(hi).zip(hex_digit(lo)).map(|(h, l)| h << 4 | l)
            }
            _ => None,
        };
        match (escaped, b) {
            (Some(decoded), _) => {
                out.push(decoded);
                i += 3;
                continue;
            }
            (None, b'%') => all_valid = false,
            (None, b'+') if plus_is_space => {
                out.push(b' ');
                i += 1;
                continue;
            }
            _ => {}
        }
        out.push(b);
        i += 1;
    }
    (out, all_valid)
}

fn hex_digit(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};

    fn ok(s: &str) -> Url<'_> {
        match Url::parse(s) {
            Ok(url) => url,
            Err(e) => panic!("{s:?} should parse, got: {e}"),
        }
    }

    #[test]
    fn percent_decoding_keeps_what_is_no_escape_and_says_so() {
        assert_eq!(percent_decode("a%20b+c", false), (b"a b+c".to_vec(), true));
        assert_eq!(percent_decode("a%20b+c", true), (b"a b c".to_vec(), true));
        assert_eq!(
            percent_decode("%e2%82%AC", false),
            ("€".as_bytes().to_vec(), true)
        );
        assert_eq!(percent_decode("100%", false), (b"100%".to_vec(), false));
        assert_eq!(percent_decode("%zz%4", false), (b"%zz%4".to_vec(), false));
        assert_eq!(percent_decode("%ff", false), (vec![0xff], true));
    }

    #[test]
    fn every_refusal_cites_the_rfc_once() {
        for bad in [
            "http://x/",
            "ws://user@x/",
            "ws://x/#top",
            "ws://",
            "ws://x:99999/",
        ] {
            let text = match Url::parse(bad) {
                Err(e) => crate::Error::from(e).to_string(),
                Ok(_) => panic!("{bad:?} should be refused"),
            };
            assert_eq!(text.matches("RFC 6455 §3").count(), 1, "{bad:?}: {text}");
        }
    }

    fn err(s: &str) -> &'static str {
        match Url::parse(s) {
            Ok(url) => panic!("{s:?} should be refused, parsed as {url:?}"),
            Err(UrlError::Invalid(what)) => what,
            Err(e) => panic!("{s:?}: unexpected error {e:?}"),
        }
    }

    #[test]
    fn ipv4_with_port_and_no_path() {
        let url = ok("ws://127.0.0.1:9001");
        assert_eq!(url.scheme(), Scheme::Ws);
        assert_eq!(url.host(), "127.0.0.1");
        assert_eq!(url.port(), 9001);
        assert!(url.has_explicit_port());
        assert!(!url.is_ipv6());
        assert_eq!(url.path(), "/");
        assert_eq!(url.query(), None);
        assert_eq!(url.resource(), "/");
        assert_eq!(url.host_header(), "127.0.0.1:9001");
        assert_eq!(url.socket_addr_string(), "127.0.0.1:9001");
        assert_eq!(url.host_port(), ("127.0.0.1", 9001));
        assert_eq!(url.ip(), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert_eq!(url.as_str(), "ws://127.0.0.1:9001");
        assert_eq!(url.to_string(), "ws://127.0.0.1:9001");
        assert_eq!(url.require_plain(), Ok(()));
    }

    #[test]
    fn name_with_path_and_query() {
        let url = ok("ws://localhost/chat?room=1");
        assert_eq!(url.host(), "localhost");
        assert_eq!(url.port(), 80);
        assert!(!url.has_explicit_port());
        assert_eq!(url.path(), "/chat");
        assert_eq!(url.query(), Some("room=1"));
        assert_eq!(url.resource(), "/chat?room=1");
        assert!(matches!(url.resource(), Cow::Borrowed(_)));
        assert_eq!(url.host_header(), "localhost");
        assert_eq!(url.socket_addr_string(), "localhost:80");
    }

    #[test]
    fn ipv6_literal_percent_encoding_kept() {
        let url = ok("ws://[::1]:9001/a%20b");
        assert_eq!(url.host(), "::1");
        assert!(url.is_ipv6());
        assert_eq!(url.port(), 9001);
        assert_eq!(url.resource(), "/a%20b");
        assert_eq!(url.host_header(), "[::1]:9001");
        assert_eq!(url.socket_addr_string(), "[::1]:9001");
        assert_eq!(url.host_port(), ("::1", 9001));
    }

    #[test]
    fn ipv6_default_port() {
        let url = ok("wss://[2001:db8::42]/");
        assert_eq!(url.host(), "2001:db8::42");
        assert_eq!(url.port(), 443);
        assert_eq!(url.host_header(), "[2001:db8::42]");
        assert_eq!(url.socket_addr_string(), "[2001:db8::42]:443");
        let url = ok("ws://[::ffff:192.0.2.1]");
        assert_eq!(url.host(), "::ffff:192.0.2.1");
        assert_eq!(url.resource(), "/");
    }

    #[test]
    fn names_are_lowercased_everywhere_the_host_is_used() {
        let url = ok("ws://Sub.EXAMPLE.com:9001/Path?Q=A");
        assert_eq!(url.host(), "sub.example.com");
        assert_eq!(url.ip(), None);
        assert_eq!(url.host_header(), "sub.example.com:9001");
        assert_eq!(url.socket_addr_string(), "sub.example.com:9001");
        assert_eq!(url.host_port(), ("sub.example.com", 9001));
        // The path and query are case-sensitive and kept as written, and so
        // is the URL itself.
        assert_eq!(url.resource(), "/Path?Q=A");
        assert_eq!(url.as_str(), "ws://Sub.EXAMPLE.com:9001/Path?Q=A");
        // A name already in lower case is borrowed, not copied.
        assert!(matches!(ok("ws://example.com/").host, Cow::Borrowed(_)));
        assert!(matches!(url.host, Cow::Owned(_)));
    }

    #[test]
    fn hosts_that_end_in_a_number_are_read_as_ipv4_addresses() {
        for (input, host) in [
            // The spellings that once dialled 127.0.0.1 unnoticed.
            ("ws://0x7f.1/", "127.0.0.1"),
            ("ws://2130706433/", "127.0.0.1"),
            ("ws://0177.0.0.1/", "127.0.0.1"),
            ("ws://127.1/", "127.0.0.1"),
            ("ws://127.0.0.1./", "127.0.0.1"),
            // Three parts: the last fills two bytes.
            ("ws://127.0.1/", "127.0.0.1"),
            ("ws://1.2.65535/", "1.2.255.255"),
            // Two parts: the last fills three bytes.
            ("ws://1.16777215/", "1.255.255.255"),
            // Hex with either prefix, in either case; `0x` alone is 0.
            ("ws://0x7F000001/", "127.0.0.1"),
            ("ws://0X7f.0.0.0x1/", "127.0.0.1"),
            ("ws://0xc0.0xA8.0x.0x1/", "192.168.0.1"),
            ("ws://0x/", "0.0.0.0"),
            ("ws://0x.0x/", "0.0.0.0"),
            // Octal after a leading 0; 0 alone is decimal 0.
            ("ws://0300.0250.01.0/", "192.168.1.0"),
            ("ws://00/", "0.0.0.0"),
            ("ws://0/", "0.0.0.0"),
            // Leading zeros never overflow.
            ("ws://0x00000000000000000000007f.1/", "127.0.0.1"),
            ("ws://000000000000000000000000177.1/", "127.0.0.1"),
            // Mixed radixes and the largest values.
            ("ws://192.168.0x1.017/", "192.168.1.15"),
            ("ws://4294967295/", "255.255.255.255"),
            ("ws://0xffffffff./", "255.255.255.255"),
            ("ws://255.255.255.255/", "255.255.255.255"),
        ] {
            let url = ok(input);
            assert_eq!(url.host(), host, "{input}");
            assert_eq!(url.ip(), Some(IpAddr::V4(host.parse().unwrap())), "{input}");
            assert!(!url.is_ipv6(), "{input}");
        }
    }

    #[test]
    fn the_normalised_ipv4_address_is_used_everywhere() {
        let url = ok("ws://0x7f.1:9001/chat");
        assert_eq!(url.host(), "127.0.0.1");
        assert_eq!(url.host_header(), "127.0.0.1:9001");
        assert_eq!(url.socket_addr_string(), "127.0.0.1:9001");
        assert_eq!(url.host_port(), ("127.0.0.1", 9001));
        let addrs: Vec<SocketAddr> = url.to_socket_addrs().unwrap().collect();
        assert_eq!(addrs, vec!["127.0.0.1:9001".parse().unwrap()]);
        assert_eq!(ok("ws://2130706433/").host_header(), "127.0.0.1");
        // The URL itself is still what was written.
        assert_eq!(url.as_str(), "ws://0x7f.1:9001/chat");
        assert_eq!(url.resource(), "/chat");
        // An address written as a dotted quad is borrowed, not copied.
        assert!(matches!(ok("ws://127.0.0.1/").host, Cow::Borrowed(_)));
        assert!(matches!(url.host, Cow::Owned(_)));
    }

    #[test]
    fn hosts_that_end_in_a_number_but_are_not_addresses_are_refused() {
        for (input, why) in [
            // More than four parts.
            ("ws://1.2.3.4.5/", "at most 4 parts"),
            ("ws://1.2.3.4.5./", "at most 4 parts"),
            ("ws://a.b.c.d.1/", "at most 4 parts"),
            // A part that is not a number: a name whose last label is.
            ("ws://example.1/", "each part"),
            ("ws://example.com.42/", "each part"),
            ("ws://example.0x/", "each part"),
            ("ws://0x1g.1/", "each part"),
            // 8 and 9 are not octal digits.
            ("ws://08/", "each part"),
            ("ws://1.09/", "each part"),
            // An empty part.
            ("ws://1..1/", "each part"),
            ("ws://.1/", "each part"),
            // A part before the last above 255.
            ("ws://256.0.0.1/", "above 255"),
            ("ws://1.256.0.1/", "above 255"),
            ("ws://1.2.0x100.1/", "above 255"),
            ("ws://0400.1/", "above 255"),
            // A last part larger than the bytes it fills.
            ("ws://1.2.3.256/", "too large"),
            ("ws://1.2.65536/", "too large"),
            ("ws://1.16777216/", "too large"),
            ("ws://4294967296/", "too large"),
            ("ws://0x100000000/", "too large"),
            ("ws://040000000000/", "too large"),
            ("ws://99999999999999999999999999999/", "too large"),
        ] {
            let what = err(input);
            assert!(what.contains("IPv4"), "{input}: {what}");
            assert!(what.contains(why), "{input}: {what}");
        }
    }

    /// An IPv4 address and one of the many ways to write it that the WHATWG
    /// IPv4 parser reads: 1 to 4 parts, each in decimal, hex (`0x` or `0X`,
    /// either case of digits) or octal, hex and octal with extra leading
    /// zeros, and perhaps a trailing dot.
    #[derive(Clone, Debug)]
    struct Ipv4Spelling {
        address: u32,
        text: String,
    }

    impl Arbitrary for Ipv4Spelling {
        fn arbitrary(g: &mut Gen) -> Self {
            let address = u32::arbitrary(g);
            // With n parts the first n - 1 are the top bytes and the last
            // is the rest: 1.2.3.4, 1.2.772, 1.131844, 16909060.
            let n = 1 + usize::arbitrary(g) % 4;
            let bytes = (0..n - 1).map(|i| (address >> (24 - 8 * i)) & 0xff);
            let rest = u64::from(address) & ((1u64 << (32 - 8 * (n - 1))) - 1);
            let parts: Vec<u64> = bytes.map(u64::from).chain([rest]).collect();
            let mut text = parts
                .iter()
                .map(|&part| spell_number(g, part))
                .collect::<Vec<_>>()
                .join(".");
            if bool::arbitrary(g) {
                text.push('.');
            }
            Ipv4Spelling { address, text }
        }
    }

    /// `value` in decimal, hex or octal, as the IPv4 number parser reads it.
    fn spell_number(g: &mut Gen, value: u64) -> String {
        let zeros = "0".repeat(usize::arbitrary(g) % 3);
        match u8::arbitrary(g) % 4 {
            0 => value.to_string(),
            1 => format!("0x{zeros}{value:x}"),
            2 => format!("0X{zeros}{value:X}"),
            _ => format!("0{zeros}{value:o}"),
        }
    }

    fn prop_every_spelling_of_an_ipv4_address_is_its_dotted_quad(
        spelling: Ipv4Spelling,
    ) -> TestResult {
        let expected = Ipv4Addr::from(spelling.address);
        let input = format!("ws://{}:9001/", spelling.text);
        match Url::parse(&input) {
            Ok(url)
                if url.host() == expected.to_string()
                    && url.ip() == Some(IpAddr::V4(expected))
                    && url.host_header() == format!("{expected}:9001") =>
            {
                TestResult::passed()
            }
            other => TestResult::error(format!("{input}: expected {expected}, got {other:?}")),
        }
    }

    #[test]
    fn every_spelling_of_an_ipv4_address_is_its_dotted_quad() {
        QuickCheck::new().tests(5_000).quickcheck(
            prop_every_spelling_of_an_ipv4_address_is_its_dotted_quad
                as fn(Ipv4Spelling) -> TestResult,
        );
    }

    #[test]
    fn names_that_do_not_end_in_a_number_stay_names() {
        for (input, host) in [
            ("ws://1.example/", "1.example"),
            ("ws://127.0.0.1.example/", "127.0.0.1.example"),
            ("ws://0x1g/", "0x1g"),
            ("ws://1a/", "1a"),
            ("ws://x0/", "x0"),
            ("ws://0xZ/", "0xz"),
        ] {
            let url = ok(input);
            assert_eq!(url.host(), host, "{input}");
            assert_eq!(url.ip(), None, "{input}");
        }
    }

    #[test]
    fn names_with_an_empty_label_are_refused() {
        for input in [
            "ws://a..b/",
            "ws://.a/",
            "ws://a../",
            "ws://./",
            "ws://../",
            "ws://127.0.0.1../",
            "ws://example.com..:80/",
        ] {
            assert!(err(input).contains("empty label"), "{input}");
        }
        // One trailing dot is the DNS root, and is kept in a name.
        assert_eq!(ok("ws://example.com./").host(), "example.com.");
        assert_eq!(ok("ws://a.:9001/").host_header(), "a.:9001");
    }

    #[test]
    fn forbidden_host_code_points_never_reach_the_host() {
        // The WHATWG URL Standard's forbidden host code points and the C0
        // controls and DEL, before, inside and after a name.
        let forbidden = (0u8..0x20)
            .chain([0x7f])
            .map(char::from)
            .chain(" #%/:<>?@[\\]^|".chars());
        for c in forbidden {
            for input in [
                format!("ws://{c}a/"),
                format!("ws://a{c}b/"),
                format!("ws://a{c}/"),
            ] {
                // `/` and `?` end the host: what follows is the path or
                // query. Anything else is refused.
                if let Ok(url) = Url::parse(&input) {
                    assert!(matches!(c, '/' | '?'), "{input:?} parsed as {url:?}");
                    assert!(!url.host().contains(c), "{input:?} parsed as {url:?}");
                    assert!(!url.host().is_empty(), "{input:?} parsed as {url:?}");
                }
            }
        }
    }

    #[test]
    fn ipv6_is_written_in_canonical_form() {
        for (input, host, header) in [
            ("ws://[::0001]/", "::1", "[::1]"),
            ("ws://[0:0:0:0:0:0:0:1]:9001/", "::1", "[::1]:9001"),
            ("ws://[FE80::1]", "fe80::1", "[fe80::1]"),
            (
                "ws://[2001:DB8:0:0:1:0:0:1]",
                "2001:db8::1:0:0:1",
                "[2001:db8::1:0:0:1]",
            ),
            ("ws://[2001:0db8::0042]", "2001:db8::42", "[2001:db8::42]"),
            // IPv4-mapped addresses keep their dotted tail, as std prints it.
            (
                "ws://[::FFFF:7F00:1]",
                "::ffff:127.0.0.1",
                "[::ffff:127.0.0.1]",
            ),
            (
                "ws://[::ffff:127.0.0.1]",
                "::ffff:127.0.0.1",
                "[::ffff:127.0.0.1]",
            ),
        ] {
            let url = ok(input);
            assert_eq!(url.host(), host, "{input}");
            assert_eq!(url.host_header(), header, "{input}");
            assert_eq!(url.ip(), Some(host.parse().unwrap()), "{input}");
            assert!(url.is_ipv6(), "{input}");
        }
        assert!(matches!(ok("ws://[::1]/").host, Cow::Borrowed(_)));
    }

    #[test]
    fn default_port_written_explicitly_is_left_out_of_host_header() {
        let url = ok("ws://example.com:80/");
        assert_eq!(url.port(), 80);
        assert!(url.has_explicit_port());
        assert_eq!(url.host_header(), "example.com");
        assert_eq!(ok("wss://example.com:443").host_header(), "example.com");
        // The other scheme's default is not this scheme's default.
        assert_eq!(ok("ws://example.com:443").host_header(), "example.com:443");
        assert_eq!(ok("wss://example.com:80").host_header(), "example.com:80");
    }

    #[test]
    fn wss_parses_but_is_not_plain() {
        let url = ok("wss://x");
        assert_eq!(url.scheme(), Scheme::Wss);
        assert!(url.scheme().is_secure());
        assert_eq!(url.port(), 443);
        assert_eq!(url.require_plain(), Err(UrlError::TlsNotSupported));
        let message = UrlError::TlsNotSupported.to_string();
        assert!(message.contains("TLS"), "{message}");
        assert!(message.contains("client_handshake"), "{message}");
    }

    #[test]
    fn scheme_is_case_insensitive() {
        assert_eq!(ok("WS://example.com").scheme(), Scheme::Ws);
        assert_eq!(ok("Wss://example.com").scheme(), Scheme::Wss);
        assert_eq!(ok("wS://example.com").scheme(), Scheme::Ws);
        assert_eq!(ok("ws://Example.COM").host(), "example.com");
        assert_eq!(Scheme::Ws.to_string(), "ws");
        assert_eq!(Scheme::Wss.as_str(), "wss");
    }

    #[test]
    fn query_without_path_gets_a_slash() {
        let url = ok("ws://host?x=1");
        assert_eq!(url.path(), "/");
        assert_eq!(url.query(), Some("x=1"));
        assert_eq!(url.resource(), "/?x=1");
        let url = ok("ws://host:1234?");
        assert_eq!(url.port(), 1234);
        assert_eq!(url.query(), Some(""));
        assert_eq!(url.resource(), "/?");
    }

    #[test]
    fn resource_kept_verbatim() {
        for (input, resource) in [
            ("ws://h/", "/"),
            ("ws://h//double//", "//double//"),
            ("ws://h/a/b/../c", "/a/b/../c"),
            (
                "ws://h/%7Euser/%2F?q=%23&r=a/b?c",
                "/%7Euser/%2F?q=%23&r=a/b?c",
            ),
            ("ws://h/:@!$&'()*+,;=-._~", "/:@!$&'()*+,;=-._~"),
            ("ws://h/p?:@/?!$&'()*+,;=", "/p?:@/?!$&'()*+,;="),
            ("ws://h/user@example", "/user@example"),
            ("ws://h/%aF%00", "/%aF%00"),
        ] {
            assert_eq!(ok(input).resource(), resource, "{input}");
        }
    }

    #[test]
    fn valid_hosts_and_ports() {
        for (input, host, port) in [
            ("ws://a", "a", 80),
            ("ws://a:1", "a", 1),
            ("ws://a:65535", "a", 65535),
            ("ws://a:09001", "a", 9001),
            ("ws://sub.example.co.uk.:8080/", "sub.example.co.uk.", 8080),
            ("ws://xn--bcher-kva.example/", "xn--bcher-kva.example", 80),
            ("ws://my_host-1/", "my_host-1", 80),
            ("ws://[::]:1/", "::", 1),
            ("ws://[fe80::1]", "fe80::1", 80),
        ] {
            let url = ok(input);
            assert_eq!((url.host(), url.port()), (host, port), "{input}");
        }
    }

    #[test]
    fn wrong_schemes() {
        assert!(err("http://example.com/").contains("http"));
        assert!(err("HTTPS://example.com/").contains("http"));
        assert!(err("ftp://example.com/").contains("ws or wss"));
        assert!(err("wss2://example.com/").contains("ws or wss"));
        assert!(err("://example.com/").contains("ws or wss"));
        assert!(err("example.com").contains("scheme"));
        assert!(err("").contains("scheme"));
        // `localhost:9001` reads as scheme "localhost".
        assert!(err("localhost:9001").contains("ws or wss"));
        assert!(err("ws:example.com").contains("//"));
        assert!(err("ws:/example.com").contains("//"));
    }

    #[test]
    fn fragments_are_refused() {
        for input in ["ws://h/#", "ws://h/chat#top", "ws://h#x", "ws://h/?a=1#b"] {
            assert!(err(input).contains("fragment"), "{input}");
        }
    }

    #[test]
    fn userinfo_is_refused() {
        for input in [
            "ws://user@h/",
            "ws://user:pw@h:80/",
            "ws://@h",
            "ws://u@[::1]/",
        ] {
            assert!(err(input).contains("user"), "{input}");
        }
    }

    #[test]
    fn empty_hosts_are_refused() {
        for input in [
            "ws://",
            "ws:///",
            "ws:///path",
            "ws://:9001/",
            "ws://?q",
            "ws://[]/",
        ] {
            let what = err(input);
            assert!(
                what.contains("host") || what.contains("IPv6"),
                "{input}: {what}"
            );
        }
    }

    #[test]
    fn bad_ports_are_refused() {
        for input in [
            "ws://h:/",
            "ws://h:0",
            "ws://h:00",
            "ws://h:65536",
            "ws://h:99999999999999999999999",
            "ws://h:-1",
            "ws://h:+80",
            "ws://h:8o",
            "ws://h:0x50",
            "ws://[::1]:",
            "ws://[::1]:x",
        ] {
            assert!(err(input).contains("port"), "{input}");
        }
    }

    #[test]
    fn bad_ipv6_literals_are_refused() {
        assert!(err("ws://::1/").contains("brackets"));
        assert!(err("ws://::1:9001/").contains("brackets"));
        assert!(err("ws://[::1/").contains("]"));
        assert!(err("ws://[::1]x/").contains("]"));
        assert!(err("ws://[::1]]:80/").contains("]"));
        assert!(err("ws://[127.0.0.1]/").contains("IPv6"));
        assert!(err("ws://[example.com]/").contains("IPv6"));
        assert!(err("ws://[v1.fe]/").contains("IPv6"));
        assert!(err("ws://[fe80::1%25eth0]:80/").contains("zone"));
        assert!(err("ws://[fe80::1%eth0]/").contains("zone"));
    }

    #[test]
    fn bad_host_characters_are_refused() {
        for input in [
            "ws://h%41st/",
            "ws://a\"b/",
            "ws://a<b/",
            "ws://a{b}/",
            "ws://a\\b/",
        ] {
            assert!(err(input).contains("host"), "{input}");
        }
    }

    #[test]
    fn whitespace_and_control_characters_are_refused() {
        for input in [
            " ws://h/",
            "ws://h/ ",
            "ws://h/a b",
            "ws://h/a\tb",
            "ws://h/\r\nHost: evil",
            "ws://h\n/",
            "ws://h/\0",
            "ws://h/\x7f",
            "ws://h/?q=a b",
        ] {
            assert!(err(input).contains("whitespace"), "{input:?}");
        }
    }

    #[test]
    fn non_ascii_is_refused() {
        assert!(err("ws://h/é").contains("non-ASCII"));
        assert!(err("ws://bücher.example/").contains("non-ASCII"));
        assert!(err("ws://h/?q=\u{2028}").contains("non-ASCII"));
    }

    #[test]
    fn characters_that_must_be_encoded_are_refused() {
        for input in [
            "ws://h/a\"b",
            "ws://h/<x>",
            "ws://h/a\\b",
            "ws://h/{}",
            "ws://h/a|b",
        ] {
            assert!(err(input).contains("path"), "{input}");
        }
        for input in ["ws://h/?a^b", "ws://h/?`", "ws://h?[x]"] {
            assert!(err(input).contains("query"), "{input}");
        }
        // '[' and ']' are for IPv6 hosts only (RFC 3986 §3.2.2).
        assert!(err("ws://h/[x]").contains("path"));
    }

    #[test]
    fn broken_percent_escapes_are_refused() {
        for input in ["ws://h/%", "ws://h/%2", "ws://h/%zz", "ws://h/a%2"] {
            assert!(err(input).contains("hex"), "{input}");
        }
        assert!(err("ws://h/?x=%g0").contains("query"));
    }

    #[test]
    fn error_display() {
        assert_eq!(
            UrlError::Invalid("the host is empty").to_string(),
            "invalid WebSocket URL: the host is empty"
        );
        let e: Box<dyn std::error::Error> = Box::new(UrlError::TlsNotSupported);
        assert!(e.to_string().starts_with("wss:// URLs need TLS"));
    }

    #[test]
    fn resolves_ip_literals_without_dns() {
        let addrs: Vec<SocketAddr> = ok("ws://[::1]:9001/").to_socket_addrs().unwrap().collect();
        assert_eq!(addrs, vec!["[::1]:9001".parse().unwrap()]);
        let addrs: Vec<SocketAddr> = ok("ws://127.0.0.1").to_socket_addrs().unwrap().collect();
        assert_eq!(addrs, vec!["127.0.0.1:80".parse().unwrap()]);
        let string = ok("ws://[::1]:9001/").socket_addr_string();
        assert_eq!(
            string.to_socket_addrs().unwrap().collect::<Vec<_>>(),
            vec!["[::1]:9001".parse::<SocketAddr>().unwrap()]
        );
    }
}
