//! The server's answer, as the client reads and checks it: RFC 6455 §4.1
//! (the client's checks, the list after "the client MUST validate the
//! server's response") and §4.2.2 (what the server sends).
//!
//! What a reader learns here: a client does not take `101` on trust. It
//! checks that the answer really switches to WebSocket (`Upgrade`,
//! `Connection`), that it answers *its* key (`Sec-WebSocket-Accept`), and
//! that the server chose only among what was offered (subprotocol,
//! extensions). Any failure means the connection must be dropped: §4.1 says
//! the client "MUST _Fail the WebSocket Connection_".

use super::accept::{accept_key, KEY_LEN};
use super::head::{self, HeadParser, Header, ListElements};
use super::{Limits, Status};
use crate::error::Error;

/// Reads a server's answer from a buffer that grows as bytes arrive.
///
/// It works like [`RequestParser`](super::RequestParser): pass the whole
/// buffer each time, and the scanner picks up where it stopped.
#[derive(Clone, Debug, Default)]
pub struct ResponseParser {
    head: HeadParser,
}

impl ResponseParser {
    /// A parser that has seen nothing yet.
    pub const fn new(limits: Limits) -> Self {
        ResponseParser {
            head: HeadParser::new(limits),
        }
    }

    /// The limits this parser enforces.
    pub fn limits(&self) -> &Limits {
        self.head.limits()
    }

    /// Forgets everything seen, to read a new response from a new buffer.
    pub fn reset(&mut self) {
        self.head.reset();
    }

    /// Looks at `buf`, everything received so far from the first byte, and
    /// parses the response once its head is complete.
    ///
    /// On `Complete((len, response))` the head is `buf[..len]`; bytes after
    /// it are the server's first frames and stay the caller's.
    pub fn parse<'b, 'h>(
        &mut self,
        buf: &'b [u8],
        headers: &'h mut [Header<'b>],
    ) -> Result<Status<(usize, Response<'h, 'b>)>, Error> {
        let Some((len, start_line, headers)) = self.head.parse(buf, headers)? else {
            return Ok(Status::Partial);
        };
        let (version, status, reason) = parse_status_line(start_line)?;
        let response = Response {
            version,
            status,
            reason,
            headers,
        };
        Ok(Status::Complete((len, response)))
    }
}

/// The three parts of a status line: version, code, reason phrase.
type StatusLine<'b> = ((u8, u8), u16, &'b [u8]);

/// `status-line = HTTP-version SP status-code SP [ reason-phrase ]`
/// (RFC 9112 §4). A missing SP after the code is tolerated, as §4 suggests.
fn parse_status_line(line: &[u8]) -> Result<StatusLine<'_>, Error> {
    let mut parts = line.splitn(3, |&b| b == b' ');
    let version = head::parse_version(parts.next().unwrap_or(b""))?;
    let status = match parts.next().unwrap_or(b"") {
        &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_digit) => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => return Err(Error::MalformedHttp("the status code is not three digits")),
    };
    let reason = parts.next().unwrap_or(b"");
    if !reason.iter().all(|&b| head::is_field_value_byte(b)) {
        return Err(Error::MalformedHttp(
            "the reason phrase contains a control character",
        ));
    }
    Ok((version, status, reason))
}

/// A parsed response head. It borrows the received bytes (`'b`) and the
/// header array (`'h`).
#[derive(Clone, Copy, Debug)]
pub struct Response<'h, 'b> {
    version: (u8, u8),
    status: u16,
    reason: &'b [u8],
    headers: &'h [Header<'b>],
}

/// What the client learns from a valid acceptance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Accepted<'b> {
    /// The subprotocol the server chose, if any — always one that was
    /// offered.
    pub protocol: Option<&'b str>,
}

impl<'h, 'b> Response<'h, 'b> {
    /// The status code, e.g. 101.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase, e.g. `Switching Protocols`. It carries no meaning
    /// (RFC 9112 §4) and may hold obs-text bytes, so it is given as bytes.
    pub fn reason(&self) -> &'b [u8] {
        self.reason
    }

    /// The HTTP version as (major, minor).
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

    /// The extensions the server chose, as raw elements with their
    /// parameters, from every `Sec-WebSocket-Extensions` field.
    pub fn extensions(&self) -> ListElements<'h, 'b> {
        head::list_with_quotes(self.headers, "Sec-WebSocket-Extensions")
    }

    /// Checks the answer as RFC 6455 §4.1 requires of a client that sent
    /// `key` and offered `offered_protocols` and `offered_extensions`.
    ///
    /// The checks, in order: the status is 101 ([`Error::UnexpectedStatus`]
    /// otherwise — a 401 or a redirect is the caller's to handle); the
    /// version is HTTP/1.1 or later; `Upgrade` lists `websocket` and
    /// `Connection` lists `Upgrade` (both case-insensitive);
    /// `Sec-WebSocket-Accept` is the accept value of `key`
    /// ([`Error::InvalidAccept`]); `Sec-WebSocket-Protocol`, if present,
    /// appears once, names one subprotocol, and that one was offered
    /// ([`Error::UnofferedSubprotocol`]; compared exactly, since §11.3.4
    /// does not make names case-insensitive); every extension named in
    /// `Sec-WebSocket-Extensions` was offered ([`Error::UnofferedExtension`];
    /// the names before any `;` are compared, case-insensitively).
    pub fn verify(
        &self,
        key: &[u8; KEY_LEN],
        offered_protocols: &[&str],
        offered_extensions: &[&str],
    ) -> Result<Accepted<'b>, Error> {
        // Item 1: only 101 means "switching"; anything else is plain HTTP.
        if self.status != 101 {
            return Err(Error::UnexpectedStatus {
                status: self.status,
            });
        }
        if self.version < (1, 1) {
            return Err(Error::UnsupportedHttpVersion);
        }
        // Items 2 and 3.
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
        // Item 4: the proof that the server read our key.
        let accept = head::find_once(self.headers, "Sec-WebSocket-Accept")?
            .ok_or(Error::MissingHeader("Sec-WebSocket-Accept"))?;
        if accept != accept_key(key) {
            return Err(Error::InvalidAccept);
        }
        // Item 6: at most one subprotocol, and one we offered.
        let protocol = match head::find_once(self.headers, "Sec-WebSocket-Protocol")? {
            None => None,
            Some(value) if value.contains(&b',') => {
                return Err(Error::InvalidHeader(
                    "Sec-WebSocket-Protocol in a response must name one subprotocol",
                ))
            }
            Some(value) => {
                if !offered_protocols.iter().any(|p| p.as_bytes() == value) {
                    return Err(Error::UnofferedSubprotocol);
                }
                // Equal to an offered &str, hence UTF-8.
                Some(core::str::from_utf8(value).map_err(|_| Error::UnofferedSubprotocol)?)
            }
        };
        // Item 5: every extension in use was offered.
        for element in self.extensions() {
            let name = head::extension_name(element);
            let offered = offered_extensions
                .iter()
                .any(|o| head::extension_name(o.as_bytes()).eq_ignore_ascii_case(name));
            if !offered {
                return Err(Error::UnofferedExtension);
            }
        }
        Ok(Accepted { protocol })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_status_line() {
        assert_eq!(
            parse_status_line(b"HTTP/1.1 101 Switching Protocols").unwrap(),
            ((1, 1), 101, &b"Switching Protocols"[..])
        );
        assert_eq!(
            parse_status_line(b"HTTP/1.1 200").unwrap(),
            ((1, 1), 200, &b""[..])
        );
        for bad in [
            &b"HTTP/1.1 20 OK"[..],
            b"HTTP/1.1 2000 OK",
            b"HTTP/1.1  200 OK",
            b"HTTP/11 200 OK",
            b"HTTP/1.1 200 O\x00K",
            b"",
        ] {
            assert!(parse_status_line(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_digit_of_the_status_counts_with_its_place() {
        // A middle digit other than 0, so hundreds, tens and units each
        // show in the value.
        assert_eq!(
            parse_status_line(b"HTTP/1.1 426 Upgrade Required").unwrap(),
            ((1, 1), 426, &b"Upgrade Required"[..])
        );
        assert_eq!(parse_status_line(b"HTTP/1.1 987").unwrap().1, 987);
    }

    #[test]
    fn a_status_with_one_non_digit_is_refused() {
        for bad in [&b"HTTP/1.1 1a1 X"[..], b"HTTP/1.1 10! X", b"HTTP/1.1 :01 X"] {
            assert!(
                matches!(
                    parse_status_line(bad),
                    Err(Error::MalformedHttp("the status code is not three digits"))
                ),
                "{bad:?}"
            );
        }
    }

    /// The answer of RFC 6455 §1.3, without its subprotocol.
    const ACCEPT: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

    #[test]
    fn the_response_gives_its_headers_in_order() {
        let response = ACCEPT;
        let mut headers = [Header::EMPTY; 8];
        let mut parser = ResponseParser::new(Limits::DEFAULT);
        let Ok(Status::Complete((len, parsed))) = parser.parse(response, &mut headers) else {
            panic!("the sample response parses");
        };
        assert_eq!(len, response.len());
        let names: Vec<&str> = parsed.headers().iter().map(|h| h.name).collect();
        assert_eq!(names, ["Upgrade", "Connection", "Sec-WebSocket-Accept"]);
        assert_eq!(parsed.headers()[2].value, b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn the_parser_keeps_its_limits_and_reset_forgets_a_partial_head() {
        let limits = Limits::DEFAULT.with_max_head_bytes(300).with_max_headers(5);
        let mut parser = ResponseParser::new(limits);
        assert_eq!(*parser.limits(), limits);
        let mut headers = [Header::EMPTY; 8];
        // Half of one response, then a different buffer after `reset`: the
        // scanner must start again from its first byte.
        assert!(matches!(
            parser.parse(&ACCEPT[..40], &mut headers),
            Ok(Status::Partial)
        ));
        parser.reset();
        let second = b"HTTP/1.1 503 Busy\r\nRetry-After: 1\r\n\r\n";
        let Ok(Status::Complete((len, parsed))) = parser.parse(second, &mut headers) else {
            panic!("the second response parses after reset");
        };
        assert_eq!((len, parsed.status()), (second.len(), 503));
        assert_eq!(*parser.limits(), limits, "reset keeps the limits");
    }
}
