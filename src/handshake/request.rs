//! The client's opening request and the server's answers to it: RFC 6455
//! §4.1 (what a client sends), §4.2.1 (what a server checks), §4.2.2 (how a
//! server accepts) and §4.4 (how it refuses a version it does not speak),
//! with the HTTP/1.1 rules a request must also keep: its version (RFC 9110
//! §2.5), its target (RFC 9112 §3.2) and no body (RFC 9110 §9.3.1).
//!
//! What a reader learns here, in order:
//!
//! 1. the request a client sends, as a server parses it ([`RequestParser`],
//!    [`Request`]) and checks it ([`Request::validate_upgrade`]), rule by
//!    rule in the order of §4.2.1;
//! 2. the server's two possible answers: `101 Switching Protocols` with the
//!    accept key ([`write_accept_response`], whose length
//!    [`accept_response_len`] tells in advance), or an ordinary HTTP error
//!    ([`write_refusal`], [`write_error_response`]);
//! 3. the same request as a client writes it ([`write_request`]).
//!
//! Everything written is checked first: a name must be a token and a value
//! may not hold CR, LF or another control character, so no argument can end a
//! header line early and smuggle in headers of its own ("header injection").

use core::fmt;

use super::accept::{accept_key, ACCEPT_LEN, KEY_LEN};
use super::head::{self, HeadParser, Header, ListElements};
use super::{Limits, Status};
use crate::base64;
use crate::error::Error;

// ======================================================================
// 1. Parsing the request (server side)
// ======================================================================

/// Reads a client's opening request from a buffer that grows as bytes
/// arrive (RFC 6455 §4.2.1).
///
/// Feed it the whole buffer received so far, each time more arrives; it
/// remembers how far it has looked, so the total work is linear in the
/// length of the head however it is split into reads.
///
/// ```
/// use wslite::handshake::{Header, RequestParser, Limits, Status};
///
/// let buf = b"GET /chat HTTP/1.1\r\nHost: example.com\r\n\r\n";
/// let mut parser = RequestParser::new(Limits::default());
/// let mut headers = [Header::EMPTY; 16];
/// let Status::Complete((len, request)) = parser.parse(buf, &mut headers)? else {
///     unreachable!("the head is complete");
/// };
/// assert_eq!(len, buf.len());
/// assert_eq!(request.path(), "/chat");
/// # Ok::<(), wslite::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct RequestParser {
    head: HeadParser,
}

impl RequestParser {
    /// A parser that has seen nothing yet.
    pub const fn new(limits: Limits) -> Self {
        RequestParser {
            head: HeadParser::new(limits),
        }
    }

    /// The limits this parser enforces.
    pub fn limits(&self) -> &Limits {
        self.head.limits()
    }

    /// Forgets everything seen, to read a new request from a new buffer.
    pub fn reset(&mut self) {
        self.head.reset();
    }

    /// Looks at `buf`, everything received so far from the first byte, and
    /// parses the request once its head is complete.
    ///
    /// On `Complete((len, request))`, the head is `buf[..len]`; any bytes
    /// after it are already WebSocket frames the client sent early and stay
    /// the caller's. The header fields are stored in `headers`, whose length
    /// (together with [`Limits::max_headers`]) bounds how many are accepted.
    ///
    /// The lifetimes say where the parts live: `'b` is the received bytes
    /// (the method, target and header values are slices of them), `'h` the
    /// header array.
    pub fn parse<'b, 'h>(
        &mut self,
        buf: &'b [u8],
        headers: &'h mut [Header<'b>],
    ) -> Result<Status<(usize, Request<'h, 'b>)>, Error> {
        let Some((len, start_line, headers)) = self.head.parse(buf, headers)? else {
            return Ok(Status::Partial);
        };
        let (method, target, version) = parse_request_line(start_line)?;
        let request = Request {
            method,
            target,
            version,
            headers,
        };
        Ok(Status::Complete((len, request)))
    }
}

/// `request-line = method SP request-target SP HTTP-version` (RFC 9112 §3).
fn parse_request_line(line: &[u8]) -> Result<(&str, &str, (u8, u8)), Error> {
    const NOT_THREE_PARTS: Error =
        Error::MalformedHttp("the request line is not `method target version`");
    let (method, rest) = head::split_at_space(line).ok_or(NOT_THREE_PARTS)?;
    let (target, version) = head::split_at_space(rest).ok_or(NOT_THREE_PARTS)?;
    if !head::is_token(method) {
        return Err(Error::MalformedHttp("the method is not a token"));
    }
    // The target is a URI reference: visible ASCII only (RFC 9112 §3.2).
    // Checking here also makes it valid UTF-8.
    if target.is_empty() || !target.iter().all(|b| b.is_ascii_graphic()) {
        return Err(Error::MalformedHttp(
            "the request target is empty or holds a space, control or non-ASCII byte",
        ));
    }
    let version = head::parse_version(version)?;
    let method = core::str::from_utf8(method)
        .map_err(|_| Error::MalformedHttp("the method is not a token"))?;
    let target = core::str::from_utf8(target)
        .map_err(|_| Error::MalformedHttp("the request target is not ASCII"))?;
    Ok((method, target, version))
}

/// A parsed request head. It borrows the received bytes (`'b`) and the
/// header array (`'h`).
///
/// The target is usually a path and query, `/chat?room=1` (the
/// *origin-form*, RFC 9112 §3.2.1). A client talking to a proxy may send the
/// whole URI instead, `http://example.com/chat?room=1` (the
/// *absolute-form*, §3.2.2), which a server must accept. For the schemes
/// `http`, `https`, `ws` and `wss`, [`path`](Self::path) and
/// [`query`](Self::query) see the path and query of that URI (`/chat`,
/// `room=1`), so an application handles both forms alike; [`target`](Self::target)
/// is always the target as sent. [`Request::validate_upgrade`] also requires
/// the URI's authority to be the `Host`.
#[derive(Clone, Copy, Debug)]
pub struct Request<'h, 'b> {
    method: &'b str,
    target: &'b str,
    version: (u8, u8),
    headers: &'h [Header<'b>],
}

impl<'h, 'b> Request<'h, 'b> {
    /// The method, e.g. `GET`. Methods are case-sensitive (RFC 9110 §9.1).
    pub fn method(&self) -> &'b str {
        self.method
    }

    /// The request target as sent, e.g. `/chat?room=1` or, in absolute-form,
    /// `http://example.com/chat?room=1`.
    pub fn target(&self) -> &'b str {
        self.target
    }

    /// The path: the target up to the first `?` (the whole target if there
    /// is none). Of an absolute-form target with the scheme `http`, `https`,
    /// `ws` or `wss`, the path of its URI, `/` if that is empty (RFC 9112
    /// §3.2.1): `/chat` for `http://example.com/chat?room=1`.
    pub fn path(&self) -> &'b str {
        self.path_and_query().0
    }

    /// The query: what follows the first `?` of the path, if anything does:
    /// `room=1` for `/chat?room=1` and `http://example.com/chat?room=1`.
    pub fn query(&self) -> Option<&'b str> {
        self.path_and_query().1
    }

    /// The path and query of [`path`](Self::path) and [`query`](Self::query).
    fn path_and_query(&self) -> (&'b str, Option<&'b str>) {
        let target = self.target;
        let (absolute, rest) = match absolute_form(target.as_bytes()) {
            // The target is ASCII: every byte starts a character.
            Some((_, rest)) => (true, target.get(target.len() - rest.len()..)),
            None => (false, Some(target)),
        };
        let rest = rest.unwrap_or_default();
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        if absolute && path.is_empty() {
            ("/", query)
        } else {
            (path, query)
        }
    }

    /// The HTTP version as (major, minor), e.g. (1, 1).
    pub fn version(&self) -> (u8, u8) {
        self.version
    }

    /// All header fields, in the order received.
    pub fn headers(&self) -> &'h [Header<'b>] {
        self.headers
    }

    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        head::find(self.headers, name)
    }

    /// The `Host` value: the host (and port) the client asked for.
    pub fn host(&self) -> Option<&'b [u8]> {
        self.header("Host")
    }

    /// The `Origin` value (RFC 6454), sent by browsers: the site whose page
    /// opened the connection. A server that serves browsers should check it
    /// (RFC 6455 §10.2). [`Request::validate_upgrade`] refuses a request with
    /// two `Origin` fields, so the value seen here is the only one.
    pub fn origin(&self) -> Option<&'b [u8]> {
        self.header("Origin")
    }

    /// The subprotocols the client offers, most preferred first, from every
    /// `Sec-WebSocket-Protocol` field (RFC 6455 §4.1, item 10). Elements that
    /// are not tokens are skipped: a server could never choose them.
    pub fn protocols(&self) -> Protocols<'h, 'b> {
        Protocols(head::list(self.headers, "Sec-WebSocket-Protocol"))
    }

    /// The extensions the client offers, as raw elements such as
    /// `permessage-deflate; client_max_window_bits`, from every
    /// `Sec-WebSocket-Extensions` field (RFC 6455 §9.1).
    pub fn extensions(&self) -> ListElements<'h, 'b> {
        head::list_with_quotes(self.headers, "Sec-WebSocket-Extensions")
    }

    /// Whether the request asks to become a WebSocket at all, i.e. has an
    /// `Upgrade` field listing `websocket`. A server can hand requests that
    /// do not to an ordinary HTTP handler, and validate the others with
    /// [`Request::validate_upgrade`].
    pub fn is_websocket_upgrade(&self) -> bool {
        head::contains_token(self.headers, "Upgrade", "websocket")
    }

    /// Checks the request against RFC 6455 §4.2.1 and returns the client's
    /// key, ready for [`write_accept_response`].
    ///
    /// The checks, in order:
    ///
    /// 1. the method is `GET` ([`Error::MethodNotGet`], 405);
    /// 2. the version is HTTP/1.1 ([`Error::UnsupportedHttpVersion`], 505).
    ///    HTTP/1.0 is too old for RFC 6455 §4.1, and an HTTP/1.1 request line
    ///    cannot carry another major version (`HTTP/2.0`): 505 is the answer
    ///    for a version a server does not speak (RFC 9110 §15.6.6). RFC 9110
    ///    §2.5 lets a server read a later 1.x as 1.1; we refuse it instead,
    ///    since no HTTP/1.2 exists and a request that claims one was written
    ///    by no browser: a strict server accepts only what it can vouch for;
    /// 3. `Host` appears exactly once, with a plausible value (400);
    /// 4. the target is a path (origin-form), or an absolute `http`, `https`,
    ///    `ws` or `wss` URI (absolute-form; RFC 6455 §4.2.1 item 1 names the
    ///    first two) without userinfo, whose authority is the `Host`,
    ///    compared ASCII case-insensitively. RFC 9112 §3.2 obliges a client
    ///    to send the two identical; when they differ we refuse rather than
    ///    pick one (§3.2.2 would have a server ignore `Host`), since a proxy
    ///    in front that routed and checked by the other would then disagree
    ///    with us about which site is asked. Other schemes, the
    ///    authority-form of `CONNECT` and the asterisk-form of `OPTIONS`
    ///    are refused too ([`Error::InvalidTarget`], or
    ///    [`Error::InvalidHeader`] for a `Host` that differs; 400);
    /// 5. no body is announced ([`Error::RequestBody`], 400): no
    ///    `Transfer-Encoding`, and each `Content-Length` is a number that is
    ///    0 (only the digit `0`; a list such as `0, 0` and a value that is no
    ///    number are refused as well). The bytes after the head are frames,
    ///    so a body would be read as frames: refusing it keeps us from
    ///    seeing frames where a proxy saw a body (RFC 9110 §9.3.1, RFC 9112
    ///    §11.2);
    /// 6. `Upgrade` lists `websocket`; `Connection` lists `Upgrade` (400);
    /// 7. `Sec-WebSocket-Version` is `13` ([`Error::UnsupportedWebSocketVersion`],
    ///    426, also when it is missing, since 426 tells the client which
    ///    version to use);
    /// 8. `Origin` appears at most once (400);
    /// 9. `Sec-WebSocket-Key` appears once and decodes to 16 bytes
    ///    ([`Error::InvalidKey`], 400).
    pub fn validate_upgrade(&self) -> Result<ClientKey, Error> {
        // §4.2.1 item 1: "An HTTP/1.1 or higher GET request".
        if self.method.as_bytes() != b"GET" {
            return Err(Error::MethodNotGet);
        }
        if self.version != (1, 1) {
            return Err(Error::UnsupportedHttpVersion);
        }
        // Item 2, and RFC 9112 §3.2: exactly one Host, or 400.
        let host = head::find_once(self.headers, "Host")?.ok_or(Error::MissingHeader("Host"))?;
        if host.is_empty() || !host.iter().all(|b| b.is_ascii_graphic()) {
            return Err(Error::InvalidHeader(
                "Host is empty or holds a space or non-ASCII byte",
            ));
        }
        // RFC 9112 §3.2: a path, or a whole URI naming the same host.
        if self.target.as_bytes().first() != Some(&b'/') {
            let (authority, _) = absolute_form(self.target.as_bytes()).ok_or(Error::InvalidTarget(
                "is neither a path starting with `/` nor an absolute http, https, ws or wss URI without userinfo (`user@`, RFC 9110 §4.2.4)",
            ))?;
            if !authority.eq_ignore_ascii_case(host) {
                return Err(Error::InvalidHeader(
                    "Host differs from the authority of the absolute-form target; RFC 9112 §3.2 requires them identical",
                ));
            }
        }
        // RFC 9110 §9.3.1: no body; RFC 9112 §6.3 says how one is announced.
        for field in self.headers {
            if field.name.eq_ignore_ascii_case("Transfer-Encoding") {
                return Err(Error::RequestBody("Transfer-Encoding"));
            }
            // `Content-Length = 1*DIGIT` (RFC 9110 §8.6): any value but a
            // number that is 0 is refused — a length, a list such as `0, 0`
            // (as §8.6 allows), or no number at all. Fields that differ
            // cannot all be 0.
            if field.name.eq_ignore_ascii_case("Content-Length")
                && (field.value.is_empty() || field.value.iter().any(|&digit| digit != b'0'))
            {
                return Err(Error::RequestBody("Content-Length"));
            }
        }
        // Items 3 and 4: the words every HTTP hop understands as "switch".
        if self.header("Upgrade").is_none() {
            return Err(Error::MissingHeader("Upgrade"));
        }
        if !head::contains_token(self.headers, "Upgrade", "websocket") {
            return Err(Error::InvalidHeader(
                "Upgrade does not list the token `websocket`",
            ));
        }
        if self.header("Connection").is_none() {
            return Err(Error::MissingHeader("Connection"));
        }
        if !head::contains_token(self.headers, "Connection", "Upgrade") {
            return Err(Error::InvalidHeader(
                "Connection does not list the token `Upgrade`",
            ));
        }
        // Item 6 and §4.4: any version but 13 is answered with 426.
        match head::find_once(self.headers, "Sec-WebSocket-Version")? {
            Some(b"13") => {}
            _ => return Err(Error::UnsupportedWebSocketVersion),
        }
        // RFC 6454 §7.3: a user agent sends at most one Origin. Two would
        // leave the server's origin check looking at only one of them.
        head::find_once(self.headers, "Origin")?;
        // Item 5: a base64 nonce of exactly 16 bytes.
        let key = head::find_once(self.headers, "Sec-WebSocket-Key")?
            .ok_or(Error::MissingHeader("Sec-WebSocket-Key"))?;
        ClientKey::new(key)
    }
}

/// Splits an absolute-form target, `scheme://authority` followed by the path
/// and query (RFC 9112 §3.2.2, RFC 3986 §3), into the authority and the
/// rest, which is empty or starts with `/` or `?`; `None` if it holds
/// userinfo. Only the schemes a
/// WebSocket is reached by are recognised, in any case (RFC 3986 §3.1):
/// `http` and `https`, which RFC 6455 §4.1 (item 3) and §4.2.1 (item 1)
/// name, and `ws` and `wss`, the WebSocket URI itself (§3). Any other
/// target gives `None`.
fn absolute_form(target: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = target.iter().position(|&b| b == b':')?;
    let (scheme, rest) = target.split_at(colon);
    let [b':', b'/', b'/', rest @ ..] = rest else {
        return None;
    };
    static SCHEMES: [&[u8]; 4] = [b"ws", b"wss", b"http", b"https"];
    if !SCHEMES
        .iter()
        .any(|known| known.eq_ignore_ascii_case(scheme))
    {
        return None;
    }
    // The authority ends at the path or the query. An `@` before them ends
    // a userinfo, which an http(s) target MUST NOT hold (RFC 9110 §4.2.4).
    let end = rest
        .iter()
        .position(|&b| b == b'/' || b == b'?' || b == b'@')
        .unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(end);
    match rest {
        [b'@', ..] => None,
        _ => Some((authority, rest)),
    }
}

/// The iterator of [`Request::protocols`]: the offered subprotocol names.
#[derive(Clone, Debug)]
pub struct Protocols<'h, 'b>(ListElements<'h, 'b>);

impl<'b> Iterator for Protocols<'_, 'b> {
    type Item = &'b str;

    fn next(&mut self) -> Option<&'b str> {
        self.0.by_ref().find_map(|element| {
            if head::is_token(element) {
                core::str::from_utf8(element).ok()
            } else {
                None
            }
        })
    }
}

/// A client's `Sec-WebSocket-Key`, checked to be the base64 encoding of 16
/// bytes (RFC 6455 §4.1, item 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientKey([u8; KEY_LEN]);

impl ClientKey {
    /// Checks `key` (a `Sec-WebSocket-Key` value) and keeps it.
    pub fn new(key: &[u8]) -> Result<Self, Error> {
        let key: [u8; KEY_LEN] = key.try_into().map_err(|_| Error::InvalidKey)?;
        // 16 bytes are 128 bits: 21 characters of 6 bits, then one whose
        // last 4 bits are unused and must be zero (RFC 4648 §3.5), then
        // two `=` of padding.
        let [chars @ .., last, b'=', b'='] = key else {
            return Err(Error::InvalidKey);
        };
        let all_valid = chars.iter().all(|&c| base64::value(c).is_some());
        match base64::value(last) {
            Some(v) if all_valid && v & 0x0F == 0 => Ok(ClientKey(key)),
            _ => Err(Error::InvalidKey),
        }
    }

    /// The key as sent, 24 base64 characters.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The `Sec-WebSocket-Accept` value that answers this key.
    pub fn accept(&self) -> [u8; ACCEPT_LEN] {
        accept_key(&self.0)
    }
}

// ======================================================================
// 2. The server's answer
// ======================================================================

/// Writes the server's acceptance (RFC 6455 §4.2.2, item 5) into `out` and
/// returns its length:
///
/// ```text
/// HTTP/1.1 101 Switching Protocols
/// Upgrade: websocket
/// Connection: Upgrade
/// Sec-WebSocket-Accept: <accept key>
/// Sec-WebSocket-Protocol: <protocol, if one was chosen>
/// <extra headers>
/// ```
///
/// `protocol` must be a token, and should be one the client offered.
/// `extra_headers` may not repeat the fields written here; they may hold
/// e.g. `Sec-WebSocket-Extensions` or `Set-Cookie`. A bad argument gives
/// [`Error::InvalidInput`], a short `out` [`Error::BufferTooSmall`];
/// [`accept_response_len`] says how long `out` must be.
pub fn write_accept_response(
    out: &mut [u8],
    key: &ClientKey,
    protocol: Option<&str>,
    extra_headers: &[(&str, &str)],
) -> Result<usize, Error> {
    if let Some(protocol) = protocol {
        if !head::is_token(protocol.as_bytes()) {
            return Err(Error::InvalidInput("the subprotocol is not a token"));
        }
    }
    check_extra_headers(
        extra_headers,
        &[
            "Upgrade",
            "Connection",
            "Sec-WebSocket-Accept",
            "Sec-WebSocket-Protocol",
        ],
    )?;
    let mut w = Out::new(out);
    put_accept_response(&mut w, &key.accept(), protocol, extra_headers);
    w.finish()
}

/// The length of what [`write_accept_response`] writes with these
/// arguments, exactly: the size of the buffer to give it. (Arguments it
/// refuses are measured as if they were written.)
///
/// ```
/// use wslite::handshake::{accept_response_len, write_accept_response, ClientKey};
///
/// let key = ClientKey::new(b"dGhlIHNhbXBsZSBub25jZQ==")?;
/// let extra = [("Set-Cookie", "id=42")];
/// let mut out = vec![0u8; accept_response_len(Some("chat"), &extra)];
/// let len = write_accept_response(&mut out, &key, Some("chat"), &extra)?;
/// assert_eq!(len, out.len());
/// # Ok::<(), wslite::Error>(())
/// ```
pub fn accept_response_len(protocol: Option<&str>, extra_headers: &[(&str, &str)]) -> usize {
    // Measured by the code that writes, into a buffer that holds nothing;
    // every accept value has the same length.
    let mut counter = Out::new(&mut []);
    put_accept_response(&mut counter, &[0; ACCEPT_LEN], protocol, extra_headers);
    counter.len
}

/// The 101 answer itself, for [`write_accept_response`] (which checked the
/// arguments) and [`accept_response_len`] (which counts it).
fn put_accept_response(
    w: &mut Out<'_>,
    accept: &[u8; ACCEPT_LEN],
    protocol: Option<&str>,
    extra_headers: &[(&str, &str)],
) {
    w.put(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
    w.header("Sec-WebSocket-Accept", accept);
    if let Some(protocol) = protocol {
        w.header("Sec-WebSocket-Protocol", protocol.as_bytes());
    }
    w.extra(extra_headers);
    w.put(b"\r\n");
}

/// Writes a refusal — any final answer other than 101 — into `out`, and
/// returns its length. It closes the connection: `Connection: close` is
/// added, with `Content-Length` for `body`.
///
/// `status` must be 200–599. `reason` defaults to the standard phrase for
/// the status. `extra_headers` may not hold `Content-Length`,
/// `Transfer-Encoding` or `Connection`, which would contradict the ones
/// written here.
pub fn write_refusal(
    out: &mut [u8],
    status: u16,
    reason: Option<&str>,
    extra_headers: &[(&str, &str)],
    body: &[u8],
) -> Result<usize, Error> {
    write_final_response(
        out,
        status,
        reason,
        "close",
        &[],
        extra_headers,
        Body::Bytes(body),
    )
}

/// Writes the refusal that `error` calls for (RFC 6455 §4.2.1, §4.4): the
/// status of [`Error::http_status`] (500 for errors that have none), a
/// plain-text body with the error's description, and the fields the status
/// requires — `Sec-WebSocket-Version: 13` with 426 (§4.4) along with
/// `Upgrade: websocket` (RFC 9110 §15.5.22), and `Allow: GET` with 405
/// (RFC 9110 §15.5.6).
pub fn write_error_response(out: &mut [u8], error: &Error) -> Result<usize, Error> {
    write_error_response_with(out, error, &[])
}

/// [`write_error_response`] with `extra_headers` too (a `Server` field,
/// say); they may not hold `Content-Length`, `Transfer-Encoding` or
/// `Connection`.
pub fn write_error_response_with(
    out: &mut [u8],
    error: &Error,
    extra_headers: &[(&str, &str)],
) -> Result<usize, Error> {
    let status = error.http_status().unwrap_or(500);
    let (own, connection): (&[(&str, &str)], _) = match status {
        // Sending Upgrade obliges us to list it in Connection (RFC 9110 §7.8).
        426 => (
            &[
                ("Sec-WebSocket-Version", "13"),
                ("Upgrade", "websocket"),
                ("Content-Type", "text/plain; charset=utf-8"),
            ],
            "Upgrade, close",
        ),
        405 => (
            &[
                ("Allow", "GET"),
                ("Content-Type", "text/plain; charset=utf-8"),
            ],
            "close",
        ),
        _ => (&[("Content-Type", "text/plain; charset=utf-8")], "close"),
    };
    write_final_response(
        out,
        status,
        None,
        connection,
        own,
        extra_headers,
        Body::Text(format_args!("{error}\n")),
    )
}

/// A response body: bytes, or text formatted straight into the output.
enum Body<'a> {
    Bytes(&'a [u8]),
    Text(fmt::Arguments<'a>),
}

fn write_final_response(
    out: &mut [u8],
    status: u16,
    reason: Option<&str>,
    connection: &str,
    own_headers: &[(&str, &str)],
    extra_headers: &[(&str, &str)],
    body: Body<'_>,
) -> Result<usize, Error> {
    if !(200..=599).contains(&status) {
        return Err(Error::InvalidInput("a refusal status must be 200 to 599"));
    }
    let reason = reason.unwrap_or_else(|| reason_phrase(status));
    if !reason.bytes().all(head::is_field_value_byte) {
        return Err(Error::InvalidInput(
            "the reason phrase holds a control character",
        ));
    }
    check_extra_headers(
        extra_headers,
        &["Content-Length", "Transfer-Encoding", "Connection"],
    )?;
    // The body's length goes in the head, so formatted text is measured
    // first, by formatting it into a counter.
    let body_len = match body {
        Body::Bytes(bytes) => bytes.len(),
        Body::Text(args) => {
            let mut counter = Out::new(&mut []);
            let _ = fmt::Write::write_fmt(&mut counter, args);
            counter.len
        }
    };
    let mut w = Out::new(out);
    let _ = fmt::Write::write_fmt(&mut w, format_args!("HTTP/1.1 {status} {reason}\r\n"));
    for &(name, value) in own_headers {
        w.header(name, value.as_bytes());
    }
    w.extra(extra_headers);
    let _ = fmt::Write::write_fmt(&mut w, format_args!("Content-Length: {body_len}\r\n"));
    w.header("Connection", connection.as_bytes());
    w.put(b"\r\n");
    match body {
        Body::Bytes(bytes) => w.put(bytes),
        Body::Text(args) => {
            let _ = fmt::Write::write_fmt(&mut w, args);
        }
    }
    w.finish()
}

/// The standard reason phrase for the statuses a handshake uses (RFC 9110
/// §15), or an empty one, which RFC 9112 §4 allows.
fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

// ======================================================================
// 3. Writing the request (client side)
// ======================================================================

/// What a client puts in its opening request (RFC 6455 §4.1).
///
/// Build one with [`ClientRequest::new`] and set the optional fields
/// directly:
///
/// ```
/// use wslite::handshake::ClientRequest;
///
/// let key = *b"dGhlIHNhbXBsZSBub25jZQ==";
/// let request = ClientRequest {
///     protocols: &["chat", "superchat"],
///     origin: Some("http://example.com"),
///     ..ClientRequest::new("server.example.com", "/chat", &key)
/// };
/// let mut out = [0u8; 512];
/// let len = wslite::handshake::write_request(&mut out, &request)?;
/// assert!(out[..len].starts_with(b"GET /chat HTTP/1.1\r\n"));
/// # Ok::<(), wslite::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ClientRequest<'a> {
    /// The `Host` value: the host, with `:port` when the port is not the
    /// scheme's default (RFC 6455 §4.1, item 4). The caller decides.
    pub host: &'a str,
    /// The path and query of the WebSocket URI, starting with `/`.
    pub path_and_query: &'a str,
    /// The `Sec-WebSocket-Key`, fresh for this request
    /// ([`generate_key`](super::generate_key)).
    pub key: &'a [u8; KEY_LEN],
    /// Subprotocols to offer, most preferred first; each a token.
    pub protocols: &'a [&'a str],
    /// Extensions to offer, each an element such as
    /// `permessage-deflate; client_max_window_bits`.
    pub extensions: &'a [&'a str],
    /// The `Origin` to send, as a browser would (RFC 6455 §4.1, item 8).
    pub origin: Option<&'a str>,
    /// Further header fields, e.g. `Authorization`.
    pub extra_headers: &'a [(&'a str, &'a str)],
}

impl<'a> ClientRequest<'a> {
    /// A request with the required parts and no optional ones.
    pub const fn new(host: &'a str, path_and_query: &'a str, key: &'a [u8; KEY_LEN]) -> Self {
        ClientRequest {
            host,
            path_and_query,
            key,
            protocols: &[],
            extensions: &[],
            origin: None,
            extra_headers: &[],
        }
    }
}

/// Writes the client's opening request (RFC 6455 §4.1) into `out` and
/// returns its length.
///
/// Every part is checked first ([`Error::InvalidInput`]): the host and path
/// are visible ASCII, the path starts with `/`, the key is base64 of 16
/// bytes, subprotocols are tokens, extension names are tokens, values hold no
/// control characters, and extra headers do not repeat the fields written
/// here.
pub fn write_request(out: &mut [u8], req: &ClientRequest<'_>) -> Result<usize, Error> {
    if req.host.is_empty() || !req.host.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::InvalidInput(
            "the host is empty or holds a space, control or non-ASCII character",
        ));
    }
    if !req.path_and_query.starts_with('/')
        || !req.path_and_query.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(Error::InvalidInput(
            "the path must start with `/` and hold only visible ASCII (percent-encode the rest)",
        ));
    }
    if ClientKey::new(req.key).is_err() {
        return Err(Error::InvalidInput(
            "the key is not the base64 encoding of 16 bytes",
        ));
    }
    if !req.protocols.iter().all(|p| head::is_token(p.as_bytes())) {
        return Err(Error::InvalidInput("a subprotocol is not a token"));
    }
    for extension in req.extensions {
        let bytes = extension.as_bytes();
        if !head::is_token(head::extension_name(bytes))
            || !bytes.iter().all(|&b| head::is_field_value_byte(b))
        {
            return Err(Error::InvalidInput(
                "an extension does not start with a token or holds a control character",
            ));
        }
    }
    if let Some(origin) = req.origin {
        if !origin.bytes().all(head::is_field_value_byte) {
            return Err(Error::InvalidInput("the origin holds a control character"));
        }
    }
    check_extra_headers(
        req.extra_headers,
        &[
            "Host",
            "Upgrade",
            "Connection",
            "Sec-WebSocket-Key",
            "Sec-WebSocket-Version",
            "Sec-WebSocket-Protocol",
            "Sec-WebSocket-Extensions",
            "Origin",
        ],
    )?;

    let mut w = Out::new(out);
    w.put(b"GET ");
    w.put(req.path_and_query.as_bytes());
    w.put(b" HTTP/1.1\r\n");
    w.header("Host", req.host.as_bytes());
    w.put(b"Upgrade: websocket\r\nConnection: Upgrade\r\n");
    w.header("Sec-WebSocket-Key", req.key);
    w.put(b"Sec-WebSocket-Version: 13\r\n");
    if let Some(origin) = req.origin {
        w.header("Origin", origin.as_bytes());
    }
    w.list("Sec-WebSocket-Protocol", req.protocols);
    w.list("Sec-WebSocket-Extensions", req.extensions);
    w.extra(req.extra_headers);
    w.put(b"\r\n");
    w.finish()
}

// ======================================================================
// Writing helpers
// ======================================================================

/// Checks caller-supplied header fields: names are tokens, values hold no
/// control character but HTAB (so no CR or LF can end the line early), and
/// no name is one of `reserved`, the fields the writer emits itself.
fn check_extra_headers(headers: &[(&str, &str)], reserved: &[&str]) -> Result<(), Error> {
    for &(name, value) in headers {
        if !head::is_token(name.as_bytes()) {
            return Err(Error::InvalidInput("a header name is not a token"));
        }
        if !value.bytes().all(head::is_field_value_byte) {
            return Err(Error::InvalidInput(
                "a header value holds CR, LF or another control character",
            ));
        }
        if reserved.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            return Err(Error::InvalidInput(
                "an extra header repeats a field the handshake writes itself",
            ));
        }
    }
    Ok(())
}

/// An output cursor that never fails mid-way: bytes that do not fit are
/// counted but not written, so [`Out::finish`] can report the size needed.
pub(crate) struct Out<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Out<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Out { buf, len: 0 }
    }

    pub(crate) fn put(&mut self, bytes: &[u8]) {
        let end = self.len.saturating_add(bytes.len());
        if let Some(dest) = self.buf.get_mut(self.len..end) {
            dest.copy_from_slice(bytes);
        }
        self.len = end;
    }

    /// `name: value` CRLF. Callers have checked name and value.
    fn header(&mut self, name: &str, value: &[u8]) {
        self.put(name.as_bytes());
        self.put(b": ");
        self.put(value);
        self.put(b"\r\n");
    }

    /// One field holding a comma-separated list, or nothing if it is empty.
    fn list(&mut self, name: &str, elements: &[&str]) {
        let Some((first, rest)) = elements.split_first() else {
            return;
        };
        self.put(name.as_bytes());
        self.put(b": ");
        self.put(first.as_bytes());
        for element in rest {
            self.put(b", ");
            self.put(element.as_bytes());
        }
        self.put(b"\r\n");
    }

    fn extra(&mut self, headers: &[(&str, &str)]) {
        for &(name, value) in headers {
            self.header(name, value.as_bytes());
        }
    }

    pub(crate) fn finish(self) -> Result<usize, Error> {
        if self.len > self.buf.len() {
            Err(Error::BufferTooSmall { needed: self.len })
        } else {
            Ok(self.len)
        }
    }
}

impl fmt::Write for Out<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.put(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample request of RFC 6455 §1.3.
    const SAMPLE: &[u8] = b"GET /chat HTTP/1.1\r\n\
        Host: server.example.com\r\n\
        Upgrade: websocket\r\n\
        Connection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Origin: http://example.com\r\n\
        Sec-WebSocket-Protocol: chat, superchat\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n";

    #[test]
    fn byte_by_byte_parsing_is_partial_then_complete() {
        let mut parser = RequestParser::new(Limits::default());
        for i in 0..SAMPLE.len() {
            let mut headers = [Header::EMPTY; 16];
            assert!(parser
                .parse(&SAMPLE[..i], &mut headers)
                .unwrap()
                .is_partial());
        }
        let mut headers = [Header::EMPTY; 16];
        let (len, request) = parser
            .parse(SAMPLE, &mut headers)
            .unwrap()
            .complete()
            .unwrap();
        assert_eq!(len, SAMPLE.len());
        assert_eq!(request.headers().len(), 7);
        assert_eq!(
            request.validate_upgrade().unwrap().as_bytes(),
            b"dGhlIHNhbXBsZSBub25jZQ=="
        );
        // Every byte was looked at once while searching for the end.
        assert_eq!(parser.head.scanner.examined, SAMPLE.len());
    }

    #[test]
    fn client_key_agrees_with_strict_base64_decoding() {
        // ClientKey::new checks "base64 of exactly 16 bytes" directly; it must
        // accept exactly what the strict decoder decodes to 16 bytes. Random
        // changes of one to three characters of a valid key probe the edges.
        let pool = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=- \xff";
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as usize
        };
        let (mut accepted, mut refused) = (0, 0);
        for _ in 0..100_000 {
            let mut key = *b"dGhlIHNhbXBsZSBub25jZQ==";
            for _ in 0..1 + next() % 3 {
                key[next() % KEY_LEN] = pool[next() % pool.len()];
            }
            let mut out = [0u8; 18];
            let decodes_to_16 = base64::decode(&key, &mut out) == Ok(16);
            assert_eq!(ClientKey::new(&key).is_ok(), decodes_to_16, "{key:?}");
            if decodes_to_16 {
                accepted += 1;
            } else {
                refused += 1;
            }
        }
        assert!(accepted > 1000 && refused > 1000);
        assert!(ClientKey::new(b"dGhlIHNhbXBsZSBub25jZR==").is_err());
        assert!(ClientKey::new(b"dGhlIHNhbXBsZSBub25jZQ=").is_err());
        assert!(ClientKey::new(b"dGhlIHNhbXBsZSBub25jZQ===").is_err());
    }

    #[test]
    fn out_reports_the_size_needed() {
        let mut small = [0u8; 4];
        let mut w = Out::new(&mut small);
        w.put(b"abc");
        w.put(b"defg");
        w.put(b"h");
        assert!(matches!(
            w.finish(),
            Err(Error::BufferTooSmall { needed: 8 })
        ));
    }

    #[test]
    fn a_target_is_refused_when_empty_alone_or_when_it_holds_a_bad_byte_alone() {
        const BAD_TARGET: &str =
            "the request target is empty or holds a space, control or non-ASCII byte";
        for line in [
            &b"GET  HTTP/1.1"[..],
            b"GET /a\x7fb HTTP/1.1",
            b"GET /a\x01b HTTP/1.1",
            b"GET /\xc3\xa9 HTTP/1.1",
        ] {
            assert!(
                matches!(parse_request_line(line), Err(Error::MalformedHttp(text)) if text == BAD_TARGET),
                "{line:?}"
            );
        }
        assert!(matches!(
            parse_request_line(b"GET /~a!b HTTP/1.1"),
            Ok(("GET", "/~a!b", (1, 1)))
        ));
    }

    #[test]
    fn the_request_gives_the_version_it_was_sent_with() {
        let mut line = b"GET / HTTP/1.0\r\nHost: h\r\n\r\n".to_vec();
        let mut headers = [Header::EMPTY; 4];
        let mut parser = RequestParser::new(Limits::DEFAULT);
        let Ok(Status::Complete((_, request))) = parser.parse(&line, &mut headers) else {
            panic!("an HTTP/1.0 request parses");
        };
        assert_eq!(request.version(), (1, 0));
        line[11..14].copy_from_slice(b"2.7");
        let mut headers = [Header::EMPTY; 4];
        parser.reset();
        let Ok(Status::Complete((_, request))) = parser.parse(&line, &mut headers) else {
            panic!("an HTTP/2.7 request line parses");
        };
        assert_eq!(request.version(), (2, 7));
    }

    #[test]
    fn the_parser_keeps_its_limits_and_reset_forgets_a_partial_head() {
        let limits = Limits::DEFAULT.with_max_head_bytes(400).with_max_headers(9);
        let mut parser = RequestParser::new(limits);
        assert_eq!(*parser.limits(), limits);
        let mut headers = [Header::EMPTY; 16];
        assert!(matches!(
            parser.parse(&SAMPLE[..50], &mut headers),
            Ok(Status::Partial)
        ));
        parser.reset();
        let other = b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
        let Ok(Status::Complete((len, request))) = parser.parse(other, &mut headers) else {
            panic!("a new request parses after reset");
        };
        assert_eq!((len, request.target()), (other.len(), "/x"));
        assert_eq!(*parser.limits(), limits, "reset keeps the limits");
    }

    #[test]
    fn an_extension_is_refused_for_a_bad_name_alone_or_a_control_byte_alone() {
        const BAD_EXTENSION: &str =
            "an extension does not start with a token or holds a control character";
        let key = b"dGhlIHNhbXBsZSBub25jZQ==";
        let mut out = [0u8; 512];
        for extension in ["per message; a=1", "foo; a=\u{1}", "foo; a=\t\x7f"] {
            let extensions = [extension];
            let mut request = ClientRequest::new("h", "/", key);
            request.extensions = &extensions;
            assert!(
                matches!(write_request(&mut out, &request), Err(Error::InvalidInput(text)) if text == BAD_EXTENSION),
                "{extension:?}"
            );
        }
        let extensions = ["foo; a=\"x y\"\t"];
        let mut request = ClientRequest::new("h", "/", key);
        request.extensions = &extensions;
        assert!(write_request(&mut out, &request).is_ok());
    }

    #[test]
    fn each_status_the_crate_writes_has_the_phrase_rfc_9110_gives_it() {
        let phrases = [
            (200, "OK"),
            (204, "No Content"),
            (301, "Moved Permanently"),
            (302, "Found"),
            (307, "Temporary Redirect"),
            (308, "Permanent Redirect"),
            (400, "Bad Request"),
            (401, "Unauthorized"),
            (403, "Forbidden"),
            (404, "Not Found"),
            (405, "Method Not Allowed"),
            (408, "Request Timeout"),
            (426, "Upgrade Required"),
            (429, "Too Many Requests"),
            (431, "Request Header Fields Too Large"),
            (500, "Internal Server Error"),
            (501, "Not Implemented"),
            (503, "Service Unavailable"),
            (505, "HTTP Version Not Supported"),
        ];
        for (status, phrase) in phrases {
            assert_eq!(reason_phrase(status), phrase, "{status}");
        }
        // Others get the empty phrase RFC 9112 §4 allows.
        for status in [100, 201, 418, 502, 599] {
            assert_eq!(reason_phrase(status), "", "{status}");
        }
    }
}
