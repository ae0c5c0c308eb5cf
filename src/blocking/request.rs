//! The opening request, kept for the application after the handshake: what
//! a server's handler routes by (path, query), authenticates with (a cookie,
//! an `Authorization` header), checks (`Origin`, RFC 6455 §10.2) and logs
//! (the peer's address).
//!
//! The core's [`Request`] parsed and checked it (RFC 6455 §4.2.1; its target
//! by RFC 9112 §3.2, an absolute-form target already reduced to its path).
//! That `Request` borrows the bytes it was parsed from and lives only as long
//! as the handshake. [`HttpRequest`] is its owned copy, made once the
//! request is accepted; it parses nothing again. It is bounded like the head
//! it comes from: at most [`Config::max_head_bytes`] of text and
//! [`Config::max_headers`] fields. What it adds is for the application: the
//! socket's addresses, and the query read as a form (`name=value&…`,
//! percent-decoded, WHATWG URL §5), which HTTP itself leaves opaque.
//!
//! [`Config::max_head_bytes`]: super::Config::max_head_bytes
//! [`Config::max_headers`]: super::Config::max_headers

use std::borrow::Cow;
use std::boxed::Box;
use std::net::SocketAddr;
use std::string::String;
use std::vec::Vec;

use crate::handshake::Request;

/// The request that opened a connection, as the server saw it.
///
/// [`WebSocket::request`](super::WebSocket::request) hands it to the handler:
///
/// ```no_run
/// use wslite::Server;
///
/// Server::bind("127.0.0.1:9001")?.run(|mut ws| {
///     let Some(request) = ws.request() else { return };
///     let room = request.query_param("room").unwrap_or_else(|| "lobby".into());
///     println!("{:?} joins {room} from {}", request.peer_addr(), request.path());
///     # let _ = &mut ws;
/// })?;
/// # Ok::<(), wslite::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// Every part of the request, one after another, in one allocation:
    /// what an idle connection keeps of its handshake is about the size of
    /// the head, not a dozen small strings.
    bytes: Box<[u8]>,
    method: Span,
    target: Span,
    /// The path of `target` (also of an absolute-form target, RFC 9112
    /// §3.2.2).
    path: Span,
    query: Option<Span>,
    /// Each header field's name and value.
    headers: Box<[(Span, Span)]>,
    version: (u8, u8),
    peer_addr: Option<SocketAddr>,
    local_addr: Option<SocketAddr>,
    protocol: Option<String>,
}

/// Where one part lies in `HttpRequest::bytes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: usize,
    len: usize,
}

/// Gathers the parts of a request into one buffer.
struct Gather(Vec<u8>);

impl Gather {
    fn put(&mut self, part: &[u8]) -> Span {
        let start = self.0.len();
        self.0.extend_from_slice(part);
        Span {
            start,
            len: part.len(),
        }
    }
}

impl HttpRequest {
    /// The owned copy of `request`, with the addresses of the socket it came
    /// on (when it is one) and the subprotocol the server chose.
    pub(crate) fn new(
        request: &Request<'_, '_>,
        peer_addr: Option<SocketAddr>,
        local_addr: Option<SocketAddr>,
        protocol: Option<String>,
    ) -> Self {
        let (method, target, path, query) = (
            request.method(),
            request.target(),
            request.path(),
            request.query(),
        );
        let size = method.len()
            + target.len()
            + path.len()
            + query.map_or(0, str::len)
            + request
                .headers()
                .iter()
                .map(|h| h.name.len() + h.value.len())
                .sum::<usize>();
        let mut gather = Gather(Vec::with_capacity(size));
        let method = gather.put(method.as_bytes());
        let target = gather.put(target.as_bytes());
        let path = gather.put(path.as_bytes());
        let query = query.map(|q| gather.put(q.as_bytes()));
        let headers = request
            .headers()
            .iter()
            .map(|h| (gather.put(h.name.as_bytes()), gather.put(h.value)))
            .collect();
        HttpRequest {
            bytes: gather.0.into_boxed_slice(),
            method,
            target,
            path,
            query,
            headers,
            version: request.version(),
            peer_addr,
            local_addr,
            protocol,
        }
    }

    /// The bytes of one part.
    fn bytes(&self, span: Span) -> &[u8] {
        self.bytes
            .get(span.start..span.start + span.len)
            .unwrap_or_default()
    }

    /// One part that the parser checked to be ASCII (method, target, names).
    fn text(&self, span: Span) -> &str {
        core::str::from_utf8(self.bytes(span)).unwrap_or_default()
    }

    /// Adds the addresses of the socket the request came on.
    pub(crate) fn set_addrs(&mut self, peer: Option<SocketAddr>, local: Option<SocketAddr>) {
        self.peer_addr = peer;
        self.local_addr = local;
    }

    /// The method: always `GET` for an accepted upgrade.
    pub fn method(&self) -> &str {
        self.text(self.method)
    }

    /// The request target as sent, e.g. `/chat?room=3`.
    pub fn target(&self) -> &str {
        self.text(self.target)
    }

    /// The path, e.g. `/chat`, still percent-encoded as sent.
    pub fn path(&self) -> &str {
        self.text(self.path)
    }

    /// The query after `?`, e.g. `room=3`, as sent.
    pub fn query(&self) -> Option<&str> {
        self.query.map(|q| self.text(q))
    }

    /// The value of the first `name=value` pair of the query named `name`,
    /// percent-decoded, with `+` read as a space (the form encoding browsers
    /// use, WHATWG URL §5). A name present without `=` gives an empty value.
    /// Invalid percent escapes are kept as written.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.into_owned())
    }

    /// Every `name=value` pair of the query, in order, decoded as
    /// [`query_param`](Self::query_param) decodes them.
    pub fn query_pairs(&self) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
        self.query()
            .unwrap_or("")
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(name), percent_decode(value))
            })
    }

    /// The HTTP version as (major, minor): (1, 1).
    pub fn version(&self) -> (u8, u8) {
        self.version
    }

    /// Every header field as (name, value), in the order received. Values
    /// are bytes: HTTP allows bytes that are not UTF-8 (RFC 9110 §5.5).
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.headers
            .iter()
            .map(|&(name, value)| (self.text(name), self.bytes(value)))
    }

    /// The value of the first header field named `name` (case-insensitive),
    /// if it is there and is UTF-8 (use [`header_bytes`](Self::header_bytes)
    /// for any value).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_bytes(name)
            .and_then(|v| core::str::from_utf8(v).ok())
    }

    /// The bytes of the first header field named `name` (case-insensitive).
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    /// The `Origin` the browser sent: the site whose page opened the
    /// connection (RFC 6455 §10.2).
    pub fn origin(&self) -> Option<&str> {
        self.header("Origin")
    }

    /// The address of the client, when the connection is a socket.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer_addr
    }

    /// The server's own address on this connection (which of its addresses
    /// and ports the client reached), when the connection is a socket.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// The subprotocol the server chose (RFC 6455 §1.9), if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }
}

/// Decodes `%XX` escapes and `+` (form encoding). Escapes that do not make
/// two hex digits, or bytes that do not make UTF-8, are kept or replaced as
/// `String::from_utf8_lossy` does: a query is the peer's text, never trusted.
fn percent_decode(text: &str) -> Cow<'_, str> {
    if !text.contains(['%', '+']) {
        return Cow::Borrowed(text);
    }
    let (bytes, _) = super::url::percent_decode(text, true);
    Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::{Header, Limits, RequestParser, Status};

    fn parsed(head: &[u8]) -> HttpRequest {
        let mut headers = [Header::EMPTY; 16];
        let mut parser = RequestParser::new(Limits::default());
        let Ok(Status::Complete((_, request))) = parser.parse(head, &mut headers) else {
            panic!("the test head parses");
        };
        let peer = "127.0.0.1:5000".parse().ok();
        HttpRequest::new(&request, peer, None, Some("chat".into()))
    }

    #[test]
    fn keeps_what_the_handler_needs() {
        let r = parsed(b"GET /ws?room=blue&name=a%20b HTTP/1.1\r\nHost: x\r\nCookie: id=7\r\n\r\n");
        assert_eq!(r.method(), "GET");
        assert_eq!(r.target(), "/ws?room=blue&name=a%20b");
        assert_eq!(r.path(), "/ws");
        assert_eq!(r.query(), Some("room=blue&name=a%20b"));
        assert_eq!(r.query_param("room").as_deref(), Some("blue"));
        assert_eq!(r.query_param("name").as_deref(), Some("a b"));
        assert_eq!(r.query_param("nope"), None);
        assert_eq!(r.header("cookie"), Some("id=7"));
        assert_eq!(r.header_bytes("HOST"), Some(&b"x"[..]));
        assert_eq!(r.headers().count(), 2);
        assert_eq!(r.peer_addr(), "127.0.0.1:5000".parse().ok());
        assert_eq!(r.local_addr(), None);
        assert_eq!(r.protocol(), Some("chat"));
        assert_eq!(r.version(), (1, 1));
    }

    #[test]
    fn query_decoding_is_forgiving_and_exact() {
        let r = parsed(b"GET /?a=1+2&b=%zz&c&d=%C3%A9&e=%FF&a=second HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(
            r.query_param("a").as_deref(),
            Some("1 2"),
            "first pair wins"
        );
        assert_eq!(r.query_param("b").as_deref(), Some("%zz"));
        assert_eq!(r.query_param("c").as_deref(), Some(""));
        assert_eq!(r.query_param("d").as_deref(), Some("é"));
        assert_eq!(r.query_param("e").as_deref(), Some("\u{FFFD}"));
        assert_eq!(r.query_pairs().count(), 6);
        let none = parsed(b"GET /plain HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(none.query(), None);
        assert_eq!(none.query_pairs().count(), 0);
    }

    #[test]
    fn non_utf8_header_values_are_kept_as_bytes() {
        let r = parsed(b"GET / HTTP/1.1\r\nHost: x\r\nX-Raw: \xff\xfe\r\n\r\n");
        assert_eq!(r.header("x-raw"), None);
        assert_eq!(r.header_bytes("x-raw"), Some(&b"\xff\xfe"[..]));
    }
}
