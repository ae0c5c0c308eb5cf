//! One error type for the whole crate.
//!
//! Every rule of RFC 6455 that a peer can break has its own variant, so a
//! program (or a person reading a log) knows *which* rule broke. Each variant
//! knows how the connection must end because of it:
//!
//! * during the opening handshake (RFC 6455 §4), with an HTTP status —
//!   [`Error::http_status`] (400, 405, 426, 431, …);
//! * after it, with a close frame — [`Error::close_code`] (1002 protocol
//!   error, 1007 invalid payload data, 1009 message too big, RFC 6455 §7.4.1).
//!
//! The `Display` text names the rule, the RFC section, and what was received,
//! so that the message alone is enough to act on.

use core::fmt;

use crate::close::CloseCode;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Everything that can go wrong, from the first handshake byte to the last
/// close frame.
#[non_exhaustive]
pub enum Error {
    // ----- HTTP/1.1 upgrade handshake (RFC 6455 §4, RFC 9112) -----
    /// The handshake head (request or status line plus headers) is longer
    /// than the configured limit. HTTP 431.
    HeadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The handshake has more header fields than the configured limit (or than
    /// the caller's header array holds). HTTP 431.
    TooManyHeaders {
        /// The limit in header fields.
        limit: usize,
    },
    /// The request line, status line or a header line is not valid HTTP/1.1.
    /// HTTP 400. The text says what was wrong.
    MalformedHttp(&'static str),
    /// The request method is not `GET` (RFC 6455 §4.1, item 2). HTTP 405.
    MethodNotGet,
    /// The HTTP version is not 1.1: HTTP/1.0, which RFC 6455 §4.1 (item 2)
    /// rules out, or another major version such as `HTTP/2.0`, which an
    /// HTTP/1.1 request line cannot carry (RFC 9110 §2.5). HTTP 505.
    UnsupportedHttpVersion,
    /// The request target is not one a WebSocket request may have (RFC 9112
    /// §3.2): neither a path (origin-form) nor an absolute `http`, `https`,
    /// `ws` or `wss` URI (absolute-form), or such a URI with userinfo.
    /// HTTP 400. The text says which.
    InvalidTarget(&'static str),
    /// The opening request announces a body, with `Transfer-Encoding` or a
    /// `Content-Length` other than `0` — a length, a list, or a value that
    /// is no number (RFC 9112 §6.3, RFC 9110 §8.6). The handshake's `GET`
    /// has none (RFC 9110 §9.3.1), and the bytes after the head are read as
    /// frames, so such a request is refused rather than have its body taken
    /// for frames (request smuggling, RFC 9112 §11.2). HTTP 400. The text is
    /// the field that announced it.
    RequestBody(&'static str),
    /// A header the handshake requires is absent (RFC 6455 §4.2.1). HTTP 400.
    MissingHeader(&'static str),
    /// A header that may appear only once appears more than once. HTTP 400.
    DuplicateHeader(&'static str),
    /// A header is present but its value is not the one the handshake needs,
    /// e.g. `Upgrade` without the `websocket` token or `Connection` without
    /// `Upgrade` (RFC 6455 §4.2.1, §4.2.2). HTTP 400.
    InvalidHeader(&'static str),
    /// `Sec-WebSocket-Version` is not 13 (RFC 6455 §4.2.1, item 6). HTTP 426,
    /// and the answer carries `Sec-WebSocket-Version: 13`.
    UnsupportedWebSocketVersion,
    /// `Sec-WebSocket-Key` is not the base64 encoding of exactly 16 bytes
    /// (RFC 6455 §4.2.1, item 5). HTTP 400.
    InvalidKey,
    /// The server answered with a status other than 101 Switching Protocols
    /// (RFC 6455 §4.2.2). The status is kept so the caller can report it.
    UnexpectedStatus {
        /// The status code the server sent.
        status: u16,
    },
    /// The server's `Sec-WebSocket-Accept` does not match the key we sent
    /// (RFC 6455 §4.1, item 4 of the client's checks).
    InvalidAccept,
    /// The server chose a subprotocol the client did not offer (RFC 6455
    /// §4.1, item 6 of the client's checks).
    UnofferedSubprotocol,
    /// The server chose an extension the client did not offer (RFC 6455 §4.1,
    /// item 5 of the client's checks).
    UnofferedExtension,
    /// The server accepted permessage-deflate with an answer RFC 7692 §7
    /// tells the client to refuse ("the client MUST _Fail the WebSocket
    /// Connection_"): an unknown, repeated or malformed parameter, a window
    /// size that is not 8 to 15, a second permessage-deflate element, or an
    /// answer that does not honour what the client asked for. The text says
    /// which rule broke. The connection is not opened (no close code).
    #[cfg(feature = "deflate")]
    InvalidDeflateResponse(&'static str),

    // ----- Frames (RFC 6455 §5) -----
    /// RSV1, RSV2 or RSV3 is set but no extension that defines them was
    /// negotiated (RFC 6455 §5.2). Close 1002.
    ReservedBitsSet {
        /// The three RSV bits, RSV1 as the highest (0b100).
        rsv: u8,
    },
    /// The opcode is one of the reserved values 0x3–0x7 or 0xB–0xF
    /// (RFC 6455 §5.2). Close 1002.
    ReservedOpcode {
        /// The opcode received.
        opcode: u8,
    },
    /// A server received a frame without a mask (RFC 6455 §5.1). Close 1002.
    UnmaskedFrame,
    /// A client received a masked frame (RFC 6455 §5.1). Close 1002.
    MaskedFrame,
    /// The 64-bit payload length has its most significant bit set
    /// (RFC 6455 §5.2). Close 1002.
    LengthMsbSet,
    /// The payload length is not in its shortest encoding, e.g. 5 written
    /// with the 16-bit form (RFC 6455 §5.2: "the minimal number of bytes MUST
    /// be used"). Close 1002.
    NonMinimalLength {
        /// The length that was encoded.
        length: u64,
    },
    /// A control frame's payload is longer than 125 bytes (RFC 6455 §5.5).
    /// Close 1002.
    ControlFrameTooLong {
        /// The payload length received.
        length: u64,
    },
    /// A control frame has FIN clear (RFC 6455 §5.5: control frames MUST NOT
    /// be fragmented). Close 1002.
    FragmentedControlFrame,
    /// A continuation frame arrived while no fragmented message was in
    /// progress (RFC 6455 §5.4). Close 1002.
    UnexpectedContinuation,
    /// A new text or binary frame arrived while a fragmented message was
    /// still in progress (RFC 6455 §5.4). Close 1002.
    ExpectedContinuation,
    /// A frame's payload is larger than the configured frame limit
    /// (RFC 6455 §10.4). Close 1009.
    FrameTooLarge {
        /// The payload length the frame header announced.
        length: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A message would grow beyond the configured message limit
    /// (RFC 6455 §10.4). Close 1009.
    MessageTooLarge {
        /// The message length the frames so far add up to.
        length: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A text message, or a close reason, is not valid UTF-8
    /// (RFC 6455 §8.1, §5.5.1). Close 1007.
    InvalidUtf8,
    /// A close frame carries a one-byte payload; a close payload is empty or
    /// starts with a two-byte code (RFC 6455 §5.5.1). Close 1002.
    InvalidClosePayload,
    /// A close frame carries a code that may not appear on the wire
    /// (RFC 6455 §7.4.1, §7.4.2). Close 1002.
    InvalidCloseCode {
        /// The code received.
        code: u16,
    },

    // ----- The caller's use of the API -----
    /// An output buffer is too small for what had to be written into it.
    BufferTooSmall {
        /// How many bytes would have been needed.
        needed: usize,
    },
    /// A value passed to the library breaks a rule of the protocol, e.g. a
    /// close reason over 123 bytes, a subprotocol name that is not a token, or
    /// a header value with a line break.
    InvalidInput(&'static str),
    /// Sending is not allowed in the current state: a close frame was already
    /// sent (RFC 6455 §5.5.1: no data after a close), a message was already
    /// in progress, or the connection has failed.
    SendAfterClose,
    /// A data frame was started with a kind that does not match the state of
    /// the outgoing message (a new message while one is still in progress, or
    /// a continuation with no message in progress).
    MessageInProgress,
    /// The connection is closed: the closing handshake has finished, or the
    /// connection was failed after an earlier error. Nothing more will be
    /// read.
    ConnectionClosed,

    // ----- The blocking std layer -----
    /// The underlying stream failed.
    #[cfg(feature = "std")]
    Io(std::io::Error),
    /// A read, write or handshake did not complete within its timeout. One
    /// variant on every platform (std reports `WouldBlock` on Unix and
    /// `TimedOut` on Windows for the same event).
    #[cfg(feature = "std")]
    Timeout,
    /// A send did not finish within the write timeout
    /// ([`Config::write_timeout`](crate::Config::write_timeout)), counted
    /// across every partial write: the peer stopped reading, or reads too
    /// slowly. A frame may be half written, so the connection is failed and
    /// its socket shut down.
    #[cfg(feature = "std")]
    WriteTimeout,
    /// The keepalive ping was not answered by a pong in time.
    #[cfg(feature = "std")]
    KeepaliveTimeout,
    /// No data message came from the peer within the idle timeout
    /// ([`Config::idle_timeout`](crate::Config::idle_timeout)); the
    /// connection was closed with 1001 (going away).
    #[cfg(feature = "std")]
    IdleTimeout,
    /// The peer closed the TCP connection without the closing handshake
    /// (what RFC 6455 §7.1.5 reports as code 1006).
    #[cfg(feature = "std")]
    AbnormalClosure,
    /// The server refused the handshake with a non-101 status; the body is
    /// kept, since it usually says why. `Display` quotes its first 200 bytes
    /// with control characters escaped (`\n`, `\u{1b}`), so a hostile
    /// server cannot drive a terminal or forge log lines through it.
    #[cfg(feature = "std")]
    HandshakeRefused {
        /// The HTTP status.
        status: u16,
        /// The response body (up to the configured head limit).
        body: std::vec::Vec<u8>,
    },
    /// The URL is not a valid `ws://` URL (RFC 6455 §3).
    #[cfg(feature = "std")]
    InvalidUrl(&'static str),
    /// The URL asks for `wss://`, which needs TLS; wslite has no TLS of its
    /// own.
    #[cfg(feature = "std")]
    TlsNotSupported,
    /// A proxy URL (given to
    /// [`ClientBuilder::proxy`](crate::ClientBuilder::proxy) or found in
    /// `http_proxy`, `https_proxy` or `all_proxy`) is not one wslite can use:
    /// its scheme is not `http`, `socks5` or `socks5h`, or its host, port or
    /// user name is invalid. The text says which; it never quotes the URL,
    /// which may hold a password.
    #[cfg(feature = "std")]
    InvalidProxyUrl(&'static str),
    /// The proxy could not be reached, or the connection to it failed during
    /// the tunnel's set-up.
    #[cfg(feature = "std")]
    ProxyIo {
        /// The proxy, as `host:port` (never its password).
        proxy: std::string::String,
        /// What the operating system said.
        error: std::io::Error,
    },
    /// The proxy did not open the tunnel within the handshake timeout
    /// ([`Config::handshake_timeout`](crate::Config::handshake_timeout)),
    /// counted across every read and write of the exchange.
    #[cfg(feature = "std")]
    ProxyTimeout {
        /// The proxy, as `host:port`.
        proxy: std::string::String,
    },
    /// The proxy wants credentials, or refused the ones in the proxy URL:
    /// HTTP `407 Proxy Authentication Required` (RFC 9110 §15.5.8) or a 401
    /// from the proxy (tinyproxy's answer to a wrong password), a SOCKS5
    /// proxy that accepts none of the offered methods (RFC 1928 §3), or a
    /// failed RFC 1929 username/password exchange.
    #[cfg(feature = "std")]
    ProxyAuth {
        /// The proxy, as `host:port`.
        proxy: std::string::String,
        /// Whether credentials were sent (from the proxy URL's userinfo).
        credentials_sent: bool,
        /// What the proxy answered, e.g. its status line.
        answer: std::string::String,
    },
    /// An HTTP proxy answered `CONNECT` with a status other than 2xx (RFC
    /// 9110 §9.3.6) and other than 407 or 401.
    #[cfg(feature = "std")]
    ProxyRefused {
        /// The proxy, as `host:port`.
        proxy: std::string::String,
        /// The status code (403, 502, …).
        status: u16,
        /// The status line, as the proxy sent it.
        status_line: std::string::String,
    },
    /// A SOCKS5 proxy answered the `CONNECT` request with a reply code other
    /// than 0 (RFC 1928 §6): the destination refused, was unreachable, or the
    /// proxy's rules forbid it.
    #[cfg(feature = "std")]
    SocksRefused {
        /// The proxy, as `host:port`.
        proxy: std::string::String,
        /// The reply code, `REP` (1 to 255).
        reply: u8,
    },
    /// The proxy broke its own protocol: a wrong version byte, an unknown
    /// address type, a malformed HTTP answer, bytes before the tunnel was
    /// used, or an end of the connection mid-answer. The text says which.
    #[cfg(feature = "std")]
    ProxyProtocol {
        /// The proxy, as `host:port`.
        proxy: std::string::String,
        /// What was wrong.
        what: &'static str,
    },
    /// The server is at its connection limit.
    #[cfg(feature = "std")]
    TooManyConnections,
    /// The server already holds as many connections from this client's
    /// address as it allows one address.
    #[cfg(feature = "std")]
    TooManyConnectionsFromPeer,

    // ----- Compression (RFC 7692 §6, RFC 1951) -----
    /// A compressed message's payload is not valid DEFLATE data (RFC 7692
    /// §6.2); `reason` names the RFC 1951 rule it breaks. Close 1007.
    #[cfg(feature = "deflate")]
    InvalidCompressedData {
        /// The rule, e.g. "a back-reference reaches farther than the window".
        reason: &'static str,
    },
    /// A compressed message was to be sent, but permessage-deflate was not
    /// negotiated (RFC 7692 §6): the peer would fail the connection.
    #[cfg(feature = "deflate")]
    CompressionNotNegotiated,
}

impl Error {
    /// The close code to send to the peer when this error ends an open
    /// connection (RFC 6455 §7.4.1), or `None` for errors that are not the
    /// peer's fault or happen before the connection is open.
    pub fn close_code(&self) -> Option<CloseCode> {
        use Error::*;
        match self {
            ReservedBitsSet { .. }
            | ReservedOpcode { .. }
            | UnmaskedFrame
            | MaskedFrame
            | LengthMsbSet
            | NonMinimalLength { .. }
            | ControlFrameTooLong { .. }
            | FragmentedControlFrame
            | UnexpectedContinuation
            | ExpectedContinuation
            | InvalidClosePayload
            | InvalidCloseCode { .. } => Some(CloseCode::PROTOCOL_ERROR),
            InvalidUtf8 => Some(CloseCode::INVALID_PAYLOAD),
            #[cfg(feature = "deflate")]
            InvalidCompressedData { .. } => Some(CloseCode::INVALID_PAYLOAD),
            FrameTooLarge { .. } | MessageTooLarge { .. } => Some(CloseCode::MESSAGE_TOO_BIG),
            _ => None,
        }
    }

    /// The HTTP status a server answers with when this error refuses an
    /// opening handshake, or `None` for errors that do not happen there.
    pub fn http_status(&self) -> Option<u16> {
        use Error::*;
        match self {
            HeadTooLarge { .. } | TooManyHeaders { .. } => Some(431),
            MalformedHttp(_) | InvalidTarget(_) | RequestBody(_) | MissingHeader(_)
            | DuplicateHeader(_) | InvalidHeader(_) | InvalidKey => Some(400),
            MethodNotGet => Some(405),
            UnsupportedWebSocketVersion => Some(426),
            UnsupportedHttpVersion => Some(505),
            #[cfg(feature = "std")]
            TooManyConnections => Some(503),
            #[cfg(feature = "std")]
            TooManyConnectionsFromPeer => Some(429),
            _ => None,
        }
    }

    /// Whether the peer broke a rule of the protocol or exceeded a size
    /// limit (as opposed to the local program misusing the API, an I/O
    /// failure, or a server turning a client away because it is busy).
    pub fn is_protocol_violation(&self) -> bool {
        match self {
            // 503 and 429 refuse a well-formed request for lack of room.
            #[cfg(feature = "std")]
            Error::TooManyConnections | Error::TooManyConnectionsFromPeer => false,
            _ => self.close_code().is_some() || self.http_status().is_some(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Error::*;
        match self {
            HeadTooLarge { limit } => write!(
                f,
                "handshake head is longer than the limit of {limit} bytes (HTTP 431); raise the limit if such large headers are expected"
            ),
            TooManyHeaders { limit } => write!(
                f,
                "handshake has more than {limit} header fields (HTTP 431); raise the limit or the header array size if that many are expected"
            ),
            MalformedHttp(what) => write!(f, "malformed HTTP/1.1 handshake: {what} (RFC 9112)"),
            MethodNotGet => f.write_str(
                "the opening handshake must be a GET request (RFC 6455 §4.1); answered 405",
            ),
            UnsupportedHttpVersion => f.write_str(
                "the opening handshake must use HTTP/1.1 (RFC 6455 §4.1, RFC 9110 §2.5); answered 505",
            ),
            InvalidTarget(what) => write!(
                f,
                "the request target {what}; a WebSocket request names a path or an absolute ws, wss, http or https URI (RFC 9112 §3.2); answered 400"
            ),
            RequestBody(field) => write!(
                f,
                "the opening GET announces a body with `{field}` (only `Content-Length: 0` is allowed), but a handshake has none (RFC 9110 §9.3.1); refused with 400 so that the body is never read as frames"
            ),
            MissingHeader(name) => write!(
                f,
                "the handshake lacks the required header `{name}` (RFC 6455 §4.2.1)"
            ),
            DuplicateHeader(name) => write!(
                f,
                "the header `{name}` must appear only once in the handshake (RFC 6455 §4.2.1)"
            ),
            InvalidHeader(what) => write!(f, "invalid handshake header: {what} (RFC 6455 §4)"),
            UnsupportedWebSocketVersion => f.write_str(
                "Sec-WebSocket-Version is not 13, the only version RFC 6455 §4.2.1 defines; answered 426 with `Sec-WebSocket-Version: 13`",
            ),
            InvalidKey => f.write_str(
                "Sec-WebSocket-Key is not the base64 encoding of exactly 16 bytes (RFC 6455 §4.2.1, item 5)",
            ),
            UnexpectedStatus { status } => write!(
                f,
                "the server answered HTTP {status} instead of 101 Switching Protocols (RFC 6455 §4.2.2)"
            ),
            InvalidAccept => f.write_str(
                "the server's Sec-WebSocket-Accept does not match the key sent (RFC 6455 §4.1); the server is not speaking WebSocket or a proxy altered the answer",
            ),
            UnofferedSubprotocol => f.write_str(
                "the server chose a subprotocol the client did not offer (RFC 6455 §4.1)",
            ),
            UnofferedExtension => f.write_str(
                "the server chose an extension the client did not offer (RFC 6455 §4.1)",
            ),
            #[cfg(feature = "deflate")]
            InvalidDeflateResponse(why) => write!(
                f,
                "the server's permessage-deflate answer is invalid: {why}; RFC 7692 §7 requires the client to fail the connection (connect without compression, or fix the server)"
            ),
            ReservedBitsSet { rsv } => write!(
                f,
                "frame has reserved bits RSV1-3 = {rsv:03b} set without a negotiated extension (RFC 6455 §5.2); closing with 1002"
            ),
            ReservedOpcode { opcode } => write!(
                f,
                "frame has reserved opcode {opcode:#x}; RFC 6455 §5.2 defines only 0x0-0x2 and 0x8-0xA; closing with 1002"
            ),
            UnmaskedFrame => f.write_str(
                "received an unmasked frame from a client; RFC 6455 §5.1 requires clients to mask every frame; closing with 1002",
            ),
            MaskedFrame => f.write_str(
                "received a masked frame from a server; RFC 6455 §5.1 forbids servers to mask; closing with 1002",
            ),
            LengthMsbSet => f.write_str(
                "64-bit payload length has its most significant bit set, which RFC 6455 §5.2 forbids; closing with 1002",
            ),
            NonMinimalLength { length } => write!(
                f,
                "payload length {length} is not in its shortest encoding, which RFC 6455 §5.2 requires; closing with 1002"
            ),
            ControlFrameTooLong { length } => write!(
                f,
                "control frame payload is {length} bytes; RFC 6455 §5.5 allows at most 125; closing with 1002"
            ),
            FragmentedControlFrame => f.write_str(
                "control frame has FIN clear; RFC 6455 §5.5 forbids fragmenting control frames; closing with 1002",
            ),
            UnexpectedContinuation => f.write_str(
                "continuation frame with no fragmented message in progress (RFC 6455 §5.4); closing with 1002",
            ),
            ExpectedContinuation => f.write_str(
                "new data frame while a fragmented message is in progress; RFC 6455 §5.4 expects a continuation frame; closing with 1002",
            ),
            FrameTooLarge { length, limit } => write!(
                f,
                "frame payload of {length} bytes exceeds the frame limit of {limit} bytes (RFC 6455 §10.4); closing with 1009"
            ),
            MessageTooLarge { length, limit } => write!(
                f,
                "message of at least {length} bytes exceeds the message limit of {limit} bytes (RFC 6455 §10.4); closing with 1009"
            ),
            #[cfg(feature = "deflate")]
            InvalidCompressedData { reason } => write!(
                f,
                "a compressed message is not valid DEFLATE data: {reason}; closing with 1007 (RFC 7692 §6.2)"
            ),
            #[cfg(feature = "deflate")]
            CompressionNotNegotiated => f.write_str(
                "a compressed message cannot be sent: permessage-deflate was not negotiated (RFC 7692 §6)",
            ),
            InvalidUtf8 => f.write_str(
                "text message or close reason is not valid UTF-8 (RFC 6455 §8.1); closing with 1007",
            ),
            InvalidClosePayload => f.write_str(
                "close frame payload is 1 byte; RFC 6455 §5.5.1 requires either none or a 2-byte code first; closing with 1002",
            ),
            InvalidCloseCode { code } => write!(
                f,
                "close code {code} may not be sent on the wire (RFC 6455 §7.4); closing with 1002"
            ),
            BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            InvalidInput(what) => write!(f, "invalid argument: {what}"),
            SendAfterClose => f.write_str(
                "cannot send: a close frame was already sent or the connection failed (RFC 6455 §5.5.1)",
            ),
            MessageInProgress => f.write_str(
                "cannot send this frame: it does not continue the outgoing message correctly (a new message while one is unfinished, or a continuation with none started; RFC 6455 §5.4)",
            ),
            ConnectionClosed => f.write_str("the WebSocket connection is closed"),
            #[cfg(feature = "std")]
            Io(e) => write!(f, "I/O error: {e}"),
            #[cfg(feature = "std")]
            Timeout => f.write_str(
                "timed out waiting for the peer; after a read timeout the connection is still usable, after a handshake or close timeout it is not",
            ),
            #[cfg(feature = "std")]
            WriteTimeout => f.write_str(
                "the peer did not take the data within the write timeout (it stopped reading, or reads too slowly); a frame may be half written, so the connection was failed and closed",
            ),
            #[cfg(feature = "std")]
            KeepaliveTimeout => f.write_str(
                "the peer did not answer the keepalive ping in time; the connection is considered dead",
            ),
            #[cfg(feature = "std")]
            IdleTimeout => f.write_str(
                "no message came from the peer within the idle timeout; the connection was closed with 1001 (going away)",
            ),
            #[cfg(feature = "std")]
            AbnormalClosure => f.write_str(
                "the peer closed the TCP connection without a closing handshake (1006, RFC 6455 §7.1.5)",
            ),
            #[cfg(feature = "std")]
            HandshakeRefused { status, body } => {
                write!(
                    f,
                    "the server refused the WebSocket handshake with HTTP {status}: {}",
                    PeerText(body.get(..200).unwrap_or(body))
                )?;
                if body.len() > 200 {
                    write!(f, "… ({} bytes in all)", body.len())?;
                }
                Ok(())
            }
            #[cfg(feature = "std")]
            InvalidUrl(what) => write!(f, "invalid WebSocket URL: {what} (RFC 6455 §3)"),
            #[cfg(feature = "std")]
            TlsNotSupported => f.write_str(
                "wss:// needs TLS, which wslite leaves to you: open a TLS stream with the crate of your choice and run `wslite::client_handshake(tls_stream, url)` over it",
            ),
            #[cfg(feature = "std")]
            InvalidProxyUrl(what) => write!(
                f,
                "invalid proxy URL: {what}; wslite takes http://[user:password@]host[:port], socks5://… or socks5h://… (check ClientBuilder::proxy, http_proxy, https_proxy and all_proxy)"
            ),
            #[cfg(feature = "std")]
            ProxyIo { proxy, error } => write!(f, "proxy {proxy}: {error}"),
            #[cfg(feature = "std")]
            ProxyTimeout { proxy } => write!(
                f,
                "proxy {proxy} did not open the tunnel within the handshake timeout; the proxy or the path behind it is slow or stalled"
            ),
            #[cfg(feature = "std")]
            ProxyAuth {
                proxy,
                credentials_sent,
                answer,
            } => {
                if *credentials_sent {
                    write!(f, "proxy {proxy} refused the user name and password in the proxy URL (authentication failed): {}", PeerText(answer.as_bytes()))
                } else {
                    write!(f, "proxy {proxy} requires authentication: put user:password@ in the proxy URL (the proxy answered: {})", PeerText(answer.as_bytes()))
                }
            }
            #[cfg(feature = "std")]
            ProxyRefused {
                proxy,
                status_line,
                ..
            } => write!(
                f,
                "proxy {proxy} refused to open a tunnel (RFC 9110 §9.3.6): {}",
                PeerText(status_line.as_bytes())
            ),
            #[cfg(feature = "std")]
            SocksRefused { proxy, reply } => write!(
                f,
                "SOCKS5 proxy {proxy} could not connect to the destination: {} (reply {reply:#04x}, RFC 1928 §6)",
                socks_reply_text(*reply)
            ),
            #[cfg(feature = "std")]
            ProxyProtocol { proxy, what } => write!(f, "proxy {proxy} broke its protocol: {what}"),
            #[cfg(feature = "std")]
            TooManyConnections => f.write_str("the server is at its connection limit (HTTP 503)"),
            #[cfg(feature = "std")]
            TooManyConnectionsFromPeer => f.write_str(
                "the server holds as many connections from this address as it allows one address (HTTP 429); close one first",
            ),
        }
    }
}

impl fmt::Debug for Error {
    /// As `#[derive(Debug)]` would write it, except the body of
    /// [`Error::HandshakeRefused`]: text (lossy UTF-8, first 200 bytes) and
    /// its length, instead of a list of numbers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Error::*;
        match self {
            HeadTooLarge { limit } => f
                .debug_struct("HeadTooLarge")
                .field("limit", limit)
                .finish(),
            TooManyHeaders { limit } => f
                .debug_struct("TooManyHeaders")
                .field("limit", limit)
                .finish(),
            MalformedHttp(x) => f.debug_tuple("MalformedHttp").field(x).finish(),
            MethodNotGet => f.write_str("MethodNotGet"),
            UnsupportedHttpVersion => f.write_str("UnsupportedHttpVersion"),
            InvalidTarget(x) => f.debug_tuple("InvalidTarget").field(x).finish(),
            RequestBody(x) => f.debug_tuple("RequestBody").field(x).finish(),
            MissingHeader(x) => f.debug_tuple("MissingHeader").field(x).finish(),
            DuplicateHeader(x) => f.debug_tuple("DuplicateHeader").field(x).finish(),
            InvalidHeader(x) => f.debug_tuple("InvalidHeader").field(x).finish(),
            UnsupportedWebSocketVersion => f.write_str("UnsupportedWebSocketVersion"),
            InvalidKey => f.write_str("InvalidKey"),
            UnexpectedStatus { status } => f
                .debug_struct("UnexpectedStatus")
                .field("status", status)
                .finish(),
            InvalidAccept => f.write_str("InvalidAccept"),
            UnofferedSubprotocol => f.write_str("UnofferedSubprotocol"),
            UnofferedExtension => f.write_str("UnofferedExtension"),
            #[cfg(feature = "deflate")]
            InvalidDeflateResponse(x) => f.debug_tuple("InvalidDeflateResponse").field(x).finish(),
            ReservedBitsSet { rsv } => f.debug_struct("ReservedBitsSet").field("rsv", rsv).finish(),
            ReservedOpcode { opcode } => f
                .debug_struct("ReservedOpcode")
                .field("opcode", opcode)
                .finish(),
            UnmaskedFrame => f.write_str("UnmaskedFrame"),
            MaskedFrame => f.write_str("MaskedFrame"),
            LengthMsbSet => f.write_str("LengthMsbSet"),
            NonMinimalLength { length } => f
                .debug_struct("NonMinimalLength")
                .field("length", length)
                .finish(),
            ControlFrameTooLong { length } => f
                .debug_struct("ControlFrameTooLong")
                .field("length", length)
                .finish(),
            FragmentedControlFrame => f.write_str("FragmentedControlFrame"),
            UnexpectedContinuation => f.write_str("UnexpectedContinuation"),
            ExpectedContinuation => f.write_str("ExpectedContinuation"),
            FrameTooLarge { length, limit } => f
                .debug_struct("FrameTooLarge")
                .field("length", length)
                .field("limit", limit)
                .finish(),
            MessageTooLarge { length, limit } => f
                .debug_struct("MessageTooLarge")
                .field("length", length)
                .field("limit", limit)
                .finish(),
            InvalidUtf8 => f.write_str("InvalidUtf8"),
            InvalidClosePayload => f.write_str("InvalidClosePayload"),
            InvalidCloseCode { code } => f
                .debug_struct("InvalidCloseCode")
                .field("code", code)
                .finish(),
            BufferTooSmall { needed } => f
                .debug_struct("BufferTooSmall")
                .field("needed", needed)
                .finish(),
            InvalidInput(x) => f.debug_tuple("InvalidInput").field(x).finish(),
            SendAfterClose => f.write_str("SendAfterClose"),
            MessageInProgress => f.write_str("MessageInProgress"),
            ConnectionClosed => f.write_str("ConnectionClosed"),
            #[cfg(feature = "std")]
            Io(x) => f.debug_tuple("Io").field(x).finish(),
            #[cfg(feature = "std")]
            Timeout => f.write_str("Timeout"),
            #[cfg(feature = "std")]
            WriteTimeout => f.write_str("WriteTimeout"),
            #[cfg(feature = "std")]
            KeepaliveTimeout => f.write_str("KeepaliveTimeout"),
            #[cfg(feature = "std")]
            IdleTimeout => f.write_str("IdleTimeout"),
            #[cfg(feature = "std")]
            AbnormalClosure => f.write_str("AbnormalClosure"),
            #[cfg(feature = "std")]
            HandshakeRefused { status, body } => f
                .debug_struct("HandshakeRefused")
                .field("status", status)
                .field("body", &BodyDebug(body))
                .finish(),
            #[cfg(feature = "std")]
            InvalidUrl(x) => f.debug_tuple("InvalidUrl").field(x).finish(),
            #[cfg(feature = "std")]
            TlsNotSupported => f.write_str("TlsNotSupported"),
            #[cfg(feature = "std")]
            InvalidProxyUrl(x) => f.debug_tuple("InvalidProxyUrl").field(x).finish(),
            #[cfg(feature = "std")]
            ProxyIo { proxy, error } => f
                .debug_struct("ProxyIo")
                .field("proxy", proxy)
                .field("error", error)
                .finish(),
            #[cfg(feature = "std")]
            ProxyTimeout { proxy } => f
                .debug_struct("ProxyTimeout")
                .field("proxy", proxy)
                .finish(),
            #[cfg(feature = "std")]
            ProxyAuth {
                proxy,
                credentials_sent,
                answer,
            } => f
                .debug_struct("ProxyAuth")
                .field("proxy", proxy)
                .field("credentials_sent", credentials_sent)
                .field("answer", answer)
                .finish(),
            #[cfg(feature = "std")]
            ProxyRefused {
                proxy,
                status,
                status_line,
            } => f
                .debug_struct("ProxyRefused")
                .field("proxy", proxy)
                .field("status", status)
                .field("status_line", status_line)
                .finish(),
            #[cfg(feature = "std")]
            SocksRefused { proxy, reply } => f
                .debug_struct("SocksRefused")
                .field("proxy", proxy)
                .field("reply", reply)
                .finish(),
            #[cfg(feature = "std")]
            ProxyProtocol { proxy, what } => f
                .debug_struct("ProxyProtocol")
                .field("proxy", proxy)
                .field("what", what)
                .finish(),
            #[cfg(feature = "std")]
            TooManyConnections => f.write_str("TooManyConnections"),
            #[cfg(feature = "std")]
            TooManyConnectionsFromPeer => f.write_str("TooManyConnectionsFromPeer"),
            #[cfg(feature = "deflate")]
            InvalidCompressedData { reason } => f
                .debug_struct("InvalidCompressedData")
                .field("reason", reason)
                .finish(),
            #[cfg(feature = "deflate")]
            CompressionNotNegotiated => f.write_str("CompressionNotNegotiated"),
        }
    }
}

/// A refusal's body in `Debug`: its first 200 bytes as text (lossy UTF-8,
/// escaped as `Debug` escapes a string), `…` if there is more, and the
/// length in bytes.
#[cfg(feature = "std")]
struct BodyDebug<'a>(&'a [u8]);

#[cfg(feature = "std")]
impl fmt::Debug for BodyDebug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.0.get(..200).unwrap_or(self.0);
        let text = std::string::String::from_utf8_lossy(shown);
        let more = if shown.len() < self.0.len() {
            "…"
        } else {
            ""
        };
        write!(
            f,
            "\"{}{more}\" ({} bytes)",
            text.escape_debug(),
            self.0.len()
        )
    }
}

/// What a SOCKS5 reply code means (RFC 1928 §6).
#[cfg(feature = "std")]
pub(crate) fn socks_reply_text(reply: u8) -> &'static str {
    match reply {
        0x00 => "succeeded",
        0x01 => "general SOCKS server failure",
        0x02 => "connection not allowed by the proxy's ruleset",
        0x03 => "network unreachable",
        0x04 => "host unreachable",
        0x05 => "connection refused by destination host",
        0x06 => "TTL expired",
        0x07 => "command not supported by the proxy",
        0x08 => "address type not supported by the proxy",
        _ => "unassigned reply code",
    }
}

/// Bytes a peer sent, shown as text in a message: what is not UTF-8 becomes
/// U+FFFD, and every control character is escaped the way Rust writes it
/// (`\r`, `\n`, `\u{1b}`, `\u{7f}`), so that a hostile peer can neither
/// drive the reader's terminal (ESC sequences) nor forge log lines (CR,
/// LF). So are the characters that end a line or reorder text without being
/// controls (U+2028, U+2029, and the bidirectional embeddings, overrides and
/// isolates, U+202A–U+202E and U+2066–U+2069). Other text, non-ASCII
/// included, stays as it is.
#[cfg(feature = "std")]
struct PeerText<'a>(&'a [u8]);

#[cfg(feature = "std")]
impl fmt::Display for PeerText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                let unsafe_to_show = c.is_control()
                    || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
                if unsafe_to_show {
                    write!(f, "{}", c.escape_default())?;
                } else {
                    f.write_char(c)?;
                }
            }
            if !chunk.invalid().is_empty() {
                f.write_char(char::REPLACEMENT_CHARACTER)?;
            }
        }
        Ok(())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::ProxyIo { error, .. } => Some(error),
            _ => None,
        }
    }
}

#[cfg(feature = "std")]
impl From<std::io::Error> for Error {
    /// A timed-out read or write becomes [`Error::Timeout`], whatever the
    /// platform calls it; other I/O errors are kept as they are.
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Error::Timeout,
            _ => Error::Io(e),
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use std::string::ToString;

    fn refused(body: &[u8]) -> std::string::String {
        Error::HandshakeRefused {
            status: 403,
            body: body.to_vec(),
        }
        .to_string()
    }

    #[test]
    fn a_refusal_body_cannot_drive_the_terminal_or_forge_log_lines() {
        let shown = refused(b"no\r\n2024-01-01 INFO login ok\x1b[2J\x1b]0;pwned\x07\x7f\x00\t");
        assert_eq!(
            shown,
            "the server refused the WebSocket handshake with HTTP 403: \
             no\\r\\n2024-01-01 INFO login ok\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{7f}\\u{0}\\t"
        );
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        // C1 controls, line separators and bidi overrides too.
        let shown = refused("a\u{85}b\u{9b}c\u{2028}d\u{202e}e\u{2066}f".as_bytes());
        assert!(
            shown.ends_with("a\\u{85}b\\u{9b}c\\u{2028}d\\u{202e}e\\u{2066}f"),
            "{shown}"
        );
    }

    #[test]
    fn a_refusal_body_stays_readable() {
        let shown = refused("Zugriff verweigert: «Käse» 😀 \"quoted\" back\\slash".as_bytes());
        assert!(
            shown.ends_with(": Zugriff verweigert: «Käse» 😀 \"quoted\" back\\slash"),
            "{shown}"
        );
        // Bytes that are not UTF-8 show as U+FFFD.
        assert!(refused(b"a\xff\xfeb").ends_with(": a\u{fffd}\u{fffd}b"));
        // At most 200 bytes are quoted, and the rest is counted.
        let shown = refused(&[b'x'; 300]);
        assert!(
            shown.ends_with(&format!("{}… (300 bytes in all)", "x".repeat(200))),
            "{shown}"
        );
        assert!(refused(&[b'x'; 200]).ends_with(&"x".repeat(200)));
    }

    #[test]
    fn a_refusal_debugs_as_text_with_its_length() {
        let mut body = b"<!DOCTYPE html>\n<p>\"no\"</p>".to_vec();
        body.resize(3120, b'x');
        let shown = format!("{:?}", Error::HandshakeRefused { status: 200, body });
        assert!(
            shown.starts_with(
                "HandshakeRefused { status: 200, body: \"<!DOCTYPE html>\\n<p>\\\"no\\\"</p>xxx"
            ),
            "{shown}"
        );
        assert!(shown.ends_with("x…\" (3120 bytes) }"), "{shown}");
        assert!(shown.len() < 300, "{shown}");
        let shown = format!(
            "{:?}",
            Error::HandshakeRefused {
                status: 403,
                body: b"a\xffb".to_vec()
            }
        );
        assert_eq!(
            shown,
            "HandshakeRefused { status: 403, body: \"a\u{fffd}b\" (3 bytes) }"
        );
        // Other variants read as derived `Debug` would write them.
        assert_eq!(
            format!(
                "{:?}",
                Error::FrameTooLarge {
                    length: 5,
                    limit: 4
                }
            ),
            "FrameTooLarge { length: 5, limit: 4 }"
        );
        assert_eq!(
            format!("{:?}", Error::MalformedHttp("x")),
            "MalformedHttp(\"x\")"
        );
        assert_eq!(format!("{:?}", Error::Timeout), "Timeout");
    }

    #[test]
    fn proxy_errors_name_the_proxy_and_its_answer() {
        let e = Error::SocksRefused {
            proxy: "127.0.0.1:1080".into(),
            reply: 5,
        };
        assert_eq!(e.to_string(), "SOCKS5 proxy 127.0.0.1:1080 could not connect to the destination: connection refused by destination host (reply 0x05, RFC 1928 §6)");
        let e = Error::ProxyAuth {
            proxy: "p:3128".into(),
            credentials_sent: false,
            answer: "HTTP/1.1 407 Proxy Authentication Required".into(),
        };
        assert!(e.to_string().contains("requires authentication"), "{e}");
        let e = Error::ProxyAuth {
            proxy: "p:3128".into(),
            credentials_sent: true,
            answer: "HTTP/1.1 407 x\x1b[2J".into(),
        };
        assert!(e.to_string().contains("authentication failed"), "{e}");
        assert!(!e.to_string().contains('\x1b'), "{e}");
        let e = Error::ProxyRefused {
            proxy: "p:3128".into(),
            status: 403,
            status_line: "HTTP/1.1 403 Forbidden".into(),
        };
        assert!(e.to_string().ends_with(": HTTP/1.1 403 Forbidden"), "{e}");
    }

    #[test]
    fn a_violation_is_a_broken_rule_on_the_wire_or_in_the_handshake() {
        // One from each way of failing, and one of each kind that is not.
        assert!(Error::ReservedBitsSet { rsv: 0b100 }.is_protocol_violation());
        assert!(Error::InvalidUtf8.is_protocol_violation());
        assert!(Error::MessageTooLarge {
            length: 11,
            limit: 10
        }
        .is_protocol_violation());
        assert!(Error::MalformedHttp("x").is_protocol_violation());
        assert!(Error::MethodNotGet.is_protocol_violation());
        assert!(!Error::Timeout.is_protocol_violation());
        assert!(!Error::InvalidInput("x").is_protocol_violation());
        assert!(!Error::Io(std::io::Error::other("x")).is_protocol_violation());
        assert!(!Error::TooManyConnections.is_protocol_violation());
        assert!(!Error::TooManyConnectionsFromPeer.is_protocol_violation());
    }

    #[test]
    fn an_io_error_is_the_source_and_a_timed_out_one_is_a_timeout() {
        use std::error::Error as _;
        use std::io::{Error as IoError, ErrorKind};
        let io = Error::from(IoError::new(ErrorKind::ConnectionReset, "reset by peer"));
        assert!(matches!(&io, Error::Io(e) if e.kind() == ErrorKind::ConnectionReset));
        assert_eq!(
            io.source().map(|s| s.to_string()).as_deref(),
            Some("reset by peer")
        );
        let proxy = Error::ProxyIo {
            proxy: "p:1080".into(),
            error: IoError::new(ErrorKind::ConnectionRefused, "refused"),
        };
        assert_eq!(
            proxy.source().map(|s| s.to_string()).as_deref(),
            Some("refused")
        );
        assert!(Error::InvalidUtf8.source().is_none());
        // Platforms report an expired socket timeout as either kind.
        for kind in [ErrorKind::WouldBlock, ErrorKind::TimedOut] {
            assert!(
                matches!(Error::from(IoError::from(kind)), Error::Timeout),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn bad_compressed_data_is_invalid_payload_data() {
        #[cfg(feature = "deflate")]
        assert_eq!(
            Error::InvalidCompressedData { reason: "x" }.close_code(),
            Some(CloseCode::INVALID_PAYLOAD)
        );
        assert_eq!(
            Error::InvalidUtf8.close_code(),
            Some(CloseCode::INVALID_PAYLOAD)
        );
    }

    #[test]
    fn every_assigned_socks_reply_has_its_own_text() {
        // RFC 1928 §6 assigns X'00' to X'08'; the rest are unassigned.
        let texts: std::vec::Vec<&str> = (0x00..=0x08).map(socks_reply_text).collect();
        for (reply, text) in texts.iter().enumerate() {
            assert_ne!(*text, "unassigned reply code", "{reply:#04x}");
            assert_eq!(
                texts.iter().filter(|t| *t == text).count(),
                1,
                "{reply:#04x}"
            );
        }
        assert_eq!(
            socks_reply_text(0x05),
            "connection refused by destination host"
        );
        assert_eq!(socks_reply_text(0x09), "unassigned reply code");
        assert_eq!(socks_reply_text(0xFF), "unassigned reply code");
    }
}
