//! HTTP/1.1 message heads, as RFC 9112 §2–§5 and RFC 9110 §5 define them —
//! just the part the WebSocket handshake (RFC 6455 §4.1, §4.2) needs.
//!
//! *An optional detour of the tour (step 1).* Nothing here is WebSocket:
//! it is HTTP/1.1's own grammar, read strictly. The protocol is followed
//! without it: [`request`](super::request) and [`response`](super::response)
//! take its result as "the head's lines, checked". Read it for how a parser
//! defends itself: linear time against a peer that trickles bytes, and one
//! reading of every head against request smuggling.
//!
//! A message head is a start line (the request line or the status line),
//! then one line per header field, then an empty line. Every line ends in
//! CRLF. A head arrives over TCP in pieces of any size, so reading one has two
//! steps:
//!
//! 1. **Find the end.** The [`HeadScanner`] looks for the empty line. It
//!    remembers how far it has looked, so a head that trickles in one byte per
//!    read costs linear time overall, not quadratic: re-searching from the
//!    start on every read is how RUSTSEC-2023-0065 let a slow client burn a
//!    server's CPU. It also enforces the [`Limits`] *while* searching, so a
//!    peer that never sends the empty line is refused as soon as it is too
//!    long, not when memory runs out.
//! 2. **Parse it, once.** [`parse_head`] splits the complete head into lines,
//!    checks each against the grammar, and fills the caller's [`Header`]
//!    array with slices of the caller's buffer: nothing is copied.
//!
//! The parse is strict. HTTP's history left lenient parsers disagreeing about
//! where a header ends, and such disagreements between a proxy and a server
//! are how requests get smuggled (RFC 9112 §11.2). So: lines end in CRLF only;
//! a header line may not start with whitespace (the obsolete "line folding",
//! RFC 9112 §5.2); no whitespace between a field name and its colon (RFC 9112
//! §5.1 says such a message MUST be rejected); names are tokens; values hold
//! no control characters but HTAB.
//!
//! Last come helpers for reading header *lists* (RFC 9110 §5.6.1): a field
//! like `Connection: keep-alive, Upgrade` holds several elements, and the same
//! list may be split over several fields with the same name.

use super::Limits;
use crate::error::Error;

/// One header field: a name and its value, both borrowed from the buffer the
/// head was parsed from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header<'b> {
    /// The field name as it was sent. Names are case-insensitive (RFC 9110
    /// §5.1); compare them with [`str::eq_ignore_ascii_case`] or use the
    /// lookup helpers of this module.
    pub name: &'b str,
    /// The field value without the optional whitespace around it. It is
    /// bytes, not text: HTTP allows "obs-text" bytes 0x80–0xFF, which need
    /// not be UTF-8.
    pub value: &'b [u8],
}

impl Header<'static> {
    /// An empty header, to fill the array handed to a parser:
    /// `[Header::EMPTY; 32]`.
    pub const EMPTY: Header<'static> = Header {
        name: "",
        value: b"",
    };
}

// ----- Byte classes (RFC 9110 §5.6.2, §5.5; RFC 5234 appendix B.1) -----

/// `tchar`: the characters of a token, such as a method or a header name.
pub fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.'
        | b'^' | b'_' | b'`' | b'|' | b'~'
        | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// Whether `s` is a non-empty token (RFC 9110 §5.6.2).
pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// A byte allowed in a field value: visible ASCII, space, horizontal tab, or
/// obs-text (0x80–0xFF). Everything else is a control character — above all
/// CR and LF, which would end the line.
pub fn is_field_value_byte(b: u8) -> bool {
    matches!(b, b'\t' | b' '..=b'~' | 0x80..=0xFF)
}

/// Optional whitespace (`OWS`): space or horizontal tab.
fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `s` without leading and trailing optional whitespace.
pub fn trim_ows(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_ows(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !is_ows(b)).map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or(b"")
}

// ----- Step 1: finding the end of the head -----

/// Finds where a message head ends, in a buffer that grows between calls.
///
/// The scanner remembers the position up to which it has looked and the
/// number of lines it has seen, so each byte is examined once however the
/// head is cut into reads.
#[derive(Clone, Debug, Default)]
pub struct HeadScanner {
    /// Bytes `..scanned` have been examined.
    scanned: usize,
    /// Where the line being scanned began.
    line_start: usize,
    /// Complete lines seen so far, the start line included.
    lines: usize,
    /// The head's length, once its end has been found.
    end: Option<usize>,
    /// Bytes examined in total, so tests can prove the work is linear.
    #[cfg(test)]
    pub(crate) examined: usize,
}

impl HeadScanner {
    /// A scanner that has seen nothing.
    pub const fn new() -> Self {
        HeadScanner {
            scanned: 0,
            line_start: 0,
            lines: 0,
            end: None,
            #[cfg(test)]
            examined: 0,
        }
    }

    /// Looks at the bytes of `buf` not seen before and returns the length of
    /// the head (up to and including the empty line) once it has ended.
    ///
    /// `buf` must hold everything received so far, from the first byte.
    /// `max_headers` is the header count limit in force (the smaller of the
    /// configured limit and the caller's array).
    pub fn scan(
        &mut self,
        buf: &[u8],
        limits: &Limits,
        max_headers: usize,
    ) -> Result<Option<usize>, Error> {
        if let Some(end) = self.end {
            return if buf.len() >= end {
                Ok(Some(end))
            } else {
                Err(Error::InvalidInput(
                    "the buffer is shorter than in an earlier call to the parser",
                ))
            };
        }
        // Never look past the limit: a head must end within it.
        let stop = buf.len().min(limits.max_head_bytes);
        if stop < self.scanned {
            return Err(Error::InvalidInput(
                "the buffer is shorter than in an earlier call to the parser",
            ));
        }
        // Each turn moves past one line end, or takes the rest and stops.
        loop {
            let unseen = buf.get(self.scanned..stop).unwrap_or(b"");
            let Some(offset) = unseen.iter().position(|&b| b == b'\n') else {
                #[cfg(test)]
                {
                    self.examined += unseen.len();
                }
                self.scanned = stop;
                break;
            };
            #[cfg(test)]
            {
                self.examined += offset + 1;
            }
            let lf = self.scanned + offset;
            // RFC 9112 §2.2 lets a recipient accept a bare LF as a line end;
            // we do not, because a proxy in front of us may not, and two
            // parsers that split lines differently can be made to see
            // different requests (RFC 9112 §11.2).
            let cr = lf.checked_sub(1).and_then(|i| buf.get(i));
            if cr != Some(&b'\r') {
                return Err(Error::MalformedHttp(
                    "a line ends in a bare LF; HTTP/1.1 lines end in CRLF",
                ));
            }
            self.scanned = lf + 1;
            if lf - 1 == self.line_start {
                // An empty line: the end of the head — unless no start line
                // came before it.
                if self.lines == 0 {
                    return Err(Error::MalformedHttp(
                        "the message begins with an empty line instead of a start line",
                    ));
                }
                self.end = Some(self.scanned);
                return Ok(self.end);
            }
            self.lines += 1;
            self.line_start = self.scanned;
            // Every line after the start line is a header field; refuse as
            // soon as there is one too many, without waiting for the end.
            if self.lines - 1 > max_headers {
                return Err(Error::TooManyHeaders { limit: max_headers });
            }
        }
        if buf.len() >= limits.max_head_bytes {
            return Err(Error::HeadTooLarge {
                limit: limits.max_head_bytes,
            });
        }
        Ok(None)
    }
}

// ----- Step 2: parsing the complete head -----

/// What parsing a request and parsing a response share: scanning for the end
/// of the head as bytes arrive (never re-reading what was scanned), then
/// splitting the complete head, once, into its start line and header fields.
#[derive(Clone, Debug, Default)]
pub struct HeadParser {
    limits: Limits,
    pub(crate) scanner: HeadScanner,
}

impl HeadParser {
    /// A parser that has seen nothing yet.
    pub const fn new(limits: Limits) -> Self {
        HeadParser {
            limits,
            scanner: HeadScanner::new(),
        }
    }

    /// The limits this parser enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Forgets everything seen, to read a new head from a new buffer.
    pub fn reset(&mut self) {
        self.scanner = HeadScanner::new();
    }

    /// Looks at `buf`, everything received so far from the first byte.
    /// `Ok(None)` while the head is incomplete; then the head's length, its
    /// start line and its header fields (stored in `headers`, whose length
    /// also bounds how many are accepted).
    #[allow(clippy::type_complexity)]
    // Inlined into each parser: a shared out-of-line copy cost a server
    // endpoint 72 bytes of flash on a Cortex-M4F (tests/embedded/run.sh).
    #[inline(always)]
    pub fn parse<'b, 'h>(
        &mut self,
        buf: &'b [u8],
        headers: &'h mut [Header<'b>],
    ) -> Result<Option<(usize, &'b [u8], &'h [Header<'b>])>, Error> {
        let max_headers = self.limits.max_headers.min(headers.len());
        let Some(len) = self.scanner.scan(buf, &self.limits, max_headers)? else {
            return Ok(None);
        };
        let head_bytes = buf.get(..len).unwrap_or(b"");
        let (start_line, count) = parse_head(head_bytes, headers)?;
        let headers: &'h [Header<'b>] = headers;
        Ok(Some((len, start_line, headers.get(..count).unwrap_or(&[]))))
    }
}

/// Splits a complete head into its start line and its header fields.
///
/// `head` is what [`HeadScanner::scan`] measured: lines ending in CRLF, the
/// last one empty. The headers fill `headers` from the front; the function
/// returns the start line (without its CRLF) and how many headers it stored.
pub fn parse_head<'b>(
    head: &'b [u8],
    headers: &mut [Header<'b>],
) -> Result<(&'b [u8], usize), Error> {
    let mut lines = Lines { rest: head };
    let start_line = lines.next().ok_or(Error::MalformedHttp("empty message"))?;
    let mut count = 0;
    for line in lines {
        if line.is_empty() {
            // The empty line that ends the head; the scanner made it the last.
            break;
        }
        let slot = headers
            .get_mut(count)
            .ok_or(Error::TooManyHeaders { limit: count })?;
        *slot = parse_header_line(line)?;
        count += 1;
    }
    Ok((start_line, count))
}

/// The lines of a head, each without its CRLF. A line whose LF has no CR
/// before it keeps what precedes the LF; the scanner has already refused
/// such heads, and a stray CR is caught later as a control character.
struct Lines<'b> {
    rest: &'b [u8],
}

impl<'b> Iterator for Lines<'b> {
    type Item = &'b [u8];

    fn next(&mut self) -> Option<&'b [u8]> {
        let lf = self.rest.iter().position(|&b| b == b'\n')?;
        let (line, rest) = self.rest.split_at(lf);
        self.rest = rest.get(1..).unwrap_or(b"");
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

/// One `field-line = field-name ":" OWS field-value OWS` (RFC 9112 §5).
fn parse_header_line(line: &[u8]) -> Result<Header<'_>, Error> {
    if line.first().is_some_and(|&b| is_ows(b)) {
        return Err(Error::MalformedHttp(
            "a header line starts with whitespace (obsolete line folding, RFC 9112 §5.2)",
        ));
    }
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(Error::MalformedHttp("a header line has no colon"))?;
    let (name, rest) = line.split_at(colon);
    if name.last().is_some_and(|&b| is_ows(b)) {
        return Err(Error::MalformedHttp(
            "whitespace between a header name and its colon (RFC 9112 §5.1)",
        ));
    }
    if !is_token(name) {
        return Err(Error::MalformedHttp("a header name is not a token"));
    }
    let name = core::str::from_utf8(name)
        .map_err(|_| Error::MalformedHttp("a header name is not a token"))?;
    let value = trim_ows(rest.get(1..).unwrap_or(b""));
    if !value.iter().all(|&b| is_field_value_byte(b)) {
        return Err(Error::MalformedHttp(
            "a header value contains a control character",
        ));
    }
    Ok(Header { name, value })
}

/// `s` split at its first space, without the space, or `None` if it has
/// none: how a start line's parts are separated (RFC 9112 §3, §4).
pub fn split_at_space(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let space = s.iter().position(|&b| b == b' ')?;
    let (before, after) = s.split_at(space);
    Some((before, after.get(1..).unwrap_or(b"")))
}

/// Parses `HTTP-version = "HTTP/" DIGIT "." DIGIT` (RFC 9112 §2.3) into
/// (major, minor).
pub fn parse_version(s: &[u8]) -> Result<(u8, u8), Error> {
    match s {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Ok((major - b'0', minor - b'0'))
        }
        _ => Err(Error::MalformedHttp("the HTTP version is not HTTP/x.y")),
    }
}

// ----- Looking headers up -----

/// The value of the first header named `name` (compared case-insensitively),
/// if any.
pub fn find<'b>(headers: &[Header<'b>], name: &str) -> Option<&'b [u8]> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

/// The value of the header named `name`, which may appear at most once:
/// `Ok(None)` if absent, [`Error::DuplicateHeader`] if present twice.
pub fn find_once<'b>(
    headers: &[Header<'b>],
    name: &'static str,
) -> Result<Option<&'b [u8]>, Error> {
    let mut matching = headers.iter().filter(|h| h.name.eq_ignore_ascii_case(name));
    let first = matching.next().map(|h| h.value);
    if matching.next().is_some() {
        return Err(Error::DuplicateHeader(name));
    }
    Ok(first)
}

/// The elements of the comma-separated list held by every header named
/// `name` (RFC 9110 §5.6.1), in order, with empty elements skipped and
/// whitespace trimmed.
pub fn list<'h, 'b>(headers: &'h [Header<'b>], name: &'h str) -> ListElements<'h, 'b> {
    ListElements {
        headers: headers.iter(),
        name,
        current: b"",
        quotes: false,
    }
}

/// Like [`list`], but a comma inside a quoted-string (RFC 9110 §5.6.4) does
/// not split an element. `Sec-WebSocket-Extensions` needs this: extension
/// parameters may be quoted strings (RFC 6455 §9.1).
pub fn list_with_quotes<'h, 'b>(headers: &'h [Header<'b>], name: &'h str) -> ListElements<'h, 'b> {
    ListElements {
        quotes: true,
        ..list(headers, name)
    }
}

/// Whether some header named `name` lists `token`, compared ASCII
/// case-insensitively — as RFC 6455 §4.2.1 asks for `Upgrade: websocket` and
/// `Connection: Upgrade`.
pub fn contains_token(headers: &[Header<'_>], name: &str, token: &str) -> bool {
    list(headers, name).any(|element| element.eq_ignore_ascii_case(token.as_bytes()))
}

/// The iterator of [`list`] and [`list_with_quotes`].
///
/// It walks each value once, so the work is linear in the size of the
/// headers whatever they contain (a value of 100 000 commas costs one pass).
#[derive(Clone, Debug)]
pub struct ListElements<'h, 'b> {
    headers: core::slice::Iter<'h, Header<'b>>,
    name: &'h str,
    /// What is left of the value being split.
    current: &'b [u8],
    /// Whether quoted-strings are recognised.
    quotes: bool,
}

impl<'b> Iterator for ListElements<'_, 'b> {
    type Item = &'b [u8];

    fn next(&mut self) -> Option<&'b [u8]> {
        loop {
            if self.current.is_empty() {
                let name = self.name;
                self.current = self
                    .headers
                    .find(|h| h.name.eq_ignore_ascii_case(name))?
                    .value;
                continue;
            }
            let comma = if self.quotes {
                comma_outside_quotes(self.current)
            } else {
                self.current.iter().position(|&b| b == b',')
            };
            let (element, rest) = match comma {
                Some(i) => (
                    self.current.get(..i).unwrap_or(b""),
                    self.current.get(i + 1..).unwrap_or(b""),
                ),
                None => (self.current, &b""[..]),
            };
            self.current = rest;
            let element = trim_ows(element);
            // RFC 9110 §5.6.1: a recipient skips empty elements ("a, , b").
            if !element.is_empty() {
                return Some(element);
            }
        }
    }
}

/// The position of the first comma not inside a quoted-string. Inside quotes
/// a backslash escapes the next byte (`quoted-pair`, RFC 9110 §5.6.4).
fn comma_outside_quotes(s: &[u8]) -> Option<usize> {
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, &b) in s.iter().enumerate() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_quotes = false;
            }
        } else if b == b'"' {
            in_quotes = true;
        } else if b == b',' {
            return Some(i);
        }
    }
    None
}

/// The name of an extension element: what comes before its first `;`
/// (RFC 6455 §9.1: `extension-token *( ";" extension-param )`).
pub fn extension_name(element: &[u8]) -> &[u8] {
    let end = element
        .iter()
        .position(|&b| b == b';')
        .unwrap_or(element.len());
    trim_ows(element.get(..end).unwrap_or(b""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(input: &[u8], limits: &Limits, max_headers: usize) -> Result<Option<usize>, Error> {
        HeadScanner::new().scan(input, limits, max_headers)
    }

    #[test]
    fn finds_the_end_of_a_head() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nextra";
        assert_eq!(scan_all(head, &Limits::DEFAULT, 64).unwrap(), Some(27));
        assert_eq!(scan_all(&head[..26], &Limits::DEFAULT, 64).unwrap(), None);
    }

    #[test]
    fn byte_by_byte_scanning_is_linear() {
        // An 8 KiB head of many short headers, fed one byte at a time.
        let mut head = [0u8; 8192];
        let start = b"GET / HTTP/1.1\r\n";
        head[..start.len()].copy_from_slice(start);
        let mut pos = start.len();
        while pos + 200 + 4 < head.len() {
            let line = b"X-Filler: ";
            head[pos..pos + line.len()].copy_from_slice(line);
            pos += line.len();
            for b in &mut head[pos..pos + 190] {
                *b = b'a';
            }
            pos += 190;
            head[pos..pos + 2].copy_from_slice(b"\r\n");
            pos += 2;
        }
        head[pos..pos + 2].copy_from_slice(b"\r\n");
        let len = pos + 2;
        let mut scanner = HeadScanner::new();
        let mut last_scanned = 0;
        for i in 1..len {
            assert_eq!(
                scanner.scan(&head[..i], &Limits::DEFAULT, 64).unwrap(),
                None
            );
            // The scanned position only moves forward.
            assert!(scanner.scanned >= last_scanned);
            last_scanned = scanner.scanned;
        }
        assert_eq!(
            scanner.scan(&head[..len], &Limits::DEFAULT, 64).unwrap(),
            Some(len)
        );
        // Every byte was examined exactly once over all the calls.
        assert_eq!(scanner.examined, len);
    }

    #[test]
    fn refuses_a_long_head_before_it_ends() {
        let limits = Limits::DEFAULT.with_max_head_bytes(16);
        let err = scan_all(b"GET / HTTP/1.1\r\nHost", &limits, 64).unwrap_err();
        assert!(matches!(err, Error::HeadTooLarge { limit: 16 }));
        // Exactly at the limit is fine.
        let limits = Limits::DEFAULT.with_max_head_bytes(18);
        assert_eq!(
            scan_all(b"GET / HTTP/1.1\r\n\r\n", &limits, 64).unwrap(),
            Some(18)
        );
    }

    #[test]
    fn refuses_too_many_headers_as_soon_as_counted() {
        let input = b"GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n";
        let err = scan_all(input, &Limits::DEFAULT, 2).unwrap_err();
        assert!(matches!(err, Error::TooManyHeaders { limit: 2 }));
    }

    #[test]
    fn refuses_bare_lf_and_leading_empty_line() {
        assert!(matches!(
            scan_all(b"GET / HTTP/1.1\nHost: a\r\n\r\n", &Limits::DEFAULT, 64),
            Err(Error::MalformedHttp(_))
        ));
        assert!(matches!(
            scan_all(b"\n", &Limits::DEFAULT, 64),
            Err(Error::MalformedHttp(_))
        ));
        assert!(matches!(
            scan_all(b"\r\nGET / HTTP/1.1\r\n\r\n", &Limits::DEFAULT, 64),
            Err(Error::MalformedHttp(_))
        ));
    }

    #[test]
    fn parses_header_lines_strictly() {
        let mut headers = [Header::EMPTY; 4];
        let (start, n) = parse_head(b"X\r\nA: \t v a \t\r\nB:\r\n\r\n", &mut headers).unwrap();
        assert_eq!(start, b"X");
        assert_eq!(n, 2);
        assert_eq!(
            headers[0],
            Header {
                name: "A",
                value: b"v a"
            }
        );
        assert_eq!(
            headers[1],
            Header {
                name: "B",
                value: b""
            }
        );
        for bad in [
            &b"X\r\n folded\r\n\r\n"[..],
            b"X\r\nA : b\r\n\r\n",
            b"X\r\nA\r\n\r\n",
            b"X\r\n: b\r\n\r\n",
            b"X\r\nA(: b\r\n\r\n",
            b"X\r\nA: b\rc\r\n\r\n",
            b"X\r\nA: b\x7f\r\n\r\n",
            b"X\r\nA: b\x00\r\n\r\n",
        ] {
            assert!(
                matches!(parse_head(bad, &mut headers), Err(Error::MalformedHttp(_))),
                "{bad:?}"
            );
        }
        // obs-text is allowed in values.
        let (_, n) = parse_head(b"X\r\nA: caf\xe9\r\n\r\n", &mut headers).unwrap();
        assert_eq!(headers[..n][0].value, b"caf\xe9");
    }

    #[test]
    fn lists_span_fields_and_skip_empty_elements() {
        let headers = [
            Header {
                name: "Connection",
                value: b"keep-alive, , Upgrade",
            },
            Header {
                name: "Other",
                value: b"x",
            },
            Header {
                name: "connection",
                value: b",close ,,",
            },
        ];
        let mut it = list(&headers, "CONNECTION");
        assert_eq!(it.next(), Some(&b"keep-alive"[..]));
        assert_eq!(it.next(), Some(&b"Upgrade"[..]));
        assert_eq!(it.next(), Some(&b"close"[..]));
        assert_eq!(it.next(), None);
        assert!(contains_token(&headers, "connection", "upgrade"));
        assert!(!contains_token(&headers, "connection", "keep"));
    }

    #[test]
    fn quoted_commas_do_not_split_extensions() {
        let headers = [Header {
            name: "Sec-WebSocket-Extensions",
            value: br#"foo; a="x, \"y, z", bar"#,
        }];
        let mut it = list_with_quotes(&headers, "sec-websocket-extensions");
        assert_eq!(it.next(), Some(&br#"foo; a="x, \"y, z""#[..]));
        assert_eq!(it.next(), Some(&b"bar"[..]));
        assert_eq!(it.next(), None);
        assert_eq!(extension_name(b" foo ; a=1"), b"foo");
    }

    #[test]
    fn header_once_refuses_duplicates() {
        let headers = [
            Header {
                name: "Host",
                value: b"a",
            },
            Header {
                name: "host",
                value: b"b",
            },
        ];
        assert!(matches!(
            find_once(&headers, "Host"),
            Err(Error::DuplicateHeader("Host"))
        ));
        assert_eq!(find_once(&headers[..1], "HOST").unwrap(), Some(&b"a"[..]));
        assert_eq!(find_once(&headers, "Origin").unwrap(), None);
        assert_eq!(find(&headers, "HOST"), Some(&b"a"[..]));
    }

    #[test]
    fn big_lists_are_cheap() {
        // 100 KB of commas and spaces: one pass, no quadratic blow-up.
        let mut value = [b','; 100_000];
        for b in value.iter_mut().step_by(2) {
            *b = b' ';
        }
        let headers = [Header {
            name: "Connection",
            value: &value,
        }];
        assert_eq!(list(&headers, "connection").count(), 0);
        assert_eq!(list_with_quotes(&headers, "connection").count(), 0);
        assert!(!contains_token(&headers, "connection", "upgrade"));
    }

    #[test]
    fn a_completed_head_keeps_its_length_until_the_buffer_shrinks() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nframe bytes";
        let mut scanner = HeadScanner::new();
        // The same incomplete buffer twice is no error: no new bytes yet.
        assert_eq!(
            scanner.scan(&head[..20], &Limits::DEFAULT, 64).unwrap(),
            None
        );
        assert_eq!(
            scanner.scan(&head[..20], &Limits::DEFAULT, 64).unwrap(),
            None
        );
        assert_eq!(
            scanner.scan(&head[..27], &Limits::DEFAULT, 64).unwrap(),
            Some(27)
        );
        // Asked again with the same buffer, or with more bytes after the
        // head, the answer is the same; nothing is scanned twice.
        assert_eq!(
            scanner.scan(&head[..27], &Limits::DEFAULT, 64).unwrap(),
            Some(27)
        );
        assert_eq!(scanner.scan(head, &Limits::DEFAULT, 64).unwrap(), Some(27));
        assert_eq!(scanner.examined, 27);
        assert!(matches!(
            scanner.scan(&head[..26], &Limits::DEFAULT, 64),
            Err(Error::InvalidInput(
                "the buffer is shorter than in an earlier call to the parser"
            ))
        ));
    }
}
