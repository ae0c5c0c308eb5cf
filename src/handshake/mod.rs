//! The opening handshake: RFC 6455 §4 (with §1.3 for the idea and §11.3 for
//! the header fields it registers).
//!
//! A WebSocket connection begins life as an ordinary HTTP/1.1 request. That
//! is deliberate (§1.7): the connection can use ports 80 and 443, pass through
//! the same proxies and load balancers as the web, and share a server with an
//! HTTP application. The client sends a `GET` that asks to *upgrade* the
//! connection (RFC 9110 §7.8); the server answers `101 Switching Protocols`,
//! and from the byte after that answer both sides speak frames (§5).
//!
//! Each header in the exchange proves something:
//!
//! * `Upgrade: websocket` and `Connection: Upgrade` say "this is not a normal
//!   request, switch protocols", in the words every HTTP intermediary knows;
//! * `Host` (and, from browsers, `Origin`) say which site is being asked and
//!   on whose behalf, so a server can refuse foreign pages (§10.2);
//! * `Sec-WebSocket-Version: 13` names the protocol version (§4.4);
//! * `Sec-WebSocket-Key` is a fresh random nonce, and the server's
//!   `Sec-WebSocket-Accept` is a hash of it with a fixed [`GUID`]. Only a
//!   server that understood the request as WebSocket can compute it, so a
//!   plain HTTP server (or a cache replaying an old answer) cannot be mistaken
//!   for a WebSocket server (§1.3, §10.1);
//! * `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` carry the
//!   client's offers and the server's choice among them (§4.2.2, §9).
//!
//! The modules, in the reading order of the crate's tour (step 1):
//!
//! * [`request`]: the client's `GET`, parsed and checked by a server (rule
//!   by rule, in the order RFC 6455 §4.2.1 lists what a server must find),
//!   written by a client, and the server's two answers to it: `101` or an
//!   HTTP error;
//! * [`response`]: the server's answer, parsed and checked by a client;
//! * [`accept`]: the key and the accept value, why the version is 13 and
//!   why a GUID, with the §1.3 example worked through.
//!
//! An optional detour, not needed to follow the protocol: [`head`], HTTP/1.1
//! message heads (RFC 9112). It finds where a head ends without re-reading
//! it (so a peer that trickles bytes costs linear time) and parses the lines
//! strictly (so a proxy and this server cannot disagree about where a
//! request ends, which is how requests are smuggled). [`request`] and
//! [`response`] use it; reading them, take its result as "the head's lines,
//! checked".
//!
//! Everything here works on buffers the caller owns, with a fixed array for
//! the headers: nothing allocates, and every size has a limit ([`Limits`]).

pub mod accept;
pub mod head;
pub mod request;
pub mod response;

pub use accept::{accept_key, generate_key};
pub use head::Header;
pub use request::{
    accept_response_len, write_accept_response, write_error_response, write_error_response_with,
    write_refusal, write_request, ClientKey, ClientRequest, Request, RequestParser,
};
pub use response::{Accepted, Response, ResponseParser};

/// The fixed string a server appends to the client's key before hashing it
/// (RFC 6455 §1.3). It is a UUID chosen so that no program that does not
/// speak WebSocket would ever combine it with a key by accident.
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The outcome of feeding a parser the bytes received so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status<T> {
    /// The whole head has arrived and was parsed.
    Complete(T),
    /// The head has not ended yet: read more bytes, append them to the
    /// buffer, and call the parser again with the whole buffer.
    Partial,
}

impl<T> Status<T> {
    /// Whether the head was complete.
    pub fn is_complete(&self) -> bool {
        matches!(self, Status::Complete(_))
    }

    /// Whether more bytes are needed.
    pub fn is_partial(&self) -> bool {
        matches!(self, Status::Partial)
    }

    /// The parsed value, or `None` if more bytes are needed.
    pub fn complete(self) -> Option<T> {
        match self {
            Status::Complete(value) => Some(value),
            Status::Partial => None,
        }
    }
}

/// How much of a handshake head a parser accepts before refusing it.
///
/// A peer controls how long its head is and how many headers it sends; these
/// bounds keep a hostile peer from making us read (and keep) an unbounded
/// amount. Exceeding either is answered with HTTP 431 (RFC 6585 §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest head accepted, in bytes, counting the request or status
    /// line, every header line and the empty line that ends the head.
    /// Default 8192.
    pub max_head_bytes: usize,
    /// The most header fields accepted. The parser also never accepts more
    /// than the caller's header array holds. Default 64.
    pub max_headers: usize,
}

impl Limits {
    /// The default limits: 8192 bytes, 64 headers.
    pub const DEFAULT: Limits = Limits {
        max_head_bytes: 8192,
        max_headers: 64,
    };

    /// The default limits (the same as [`Limits::DEFAULT`]).
    pub const fn new() -> Self {
        Self::DEFAULT
    }

    /// These limits with the head length limit set to `bytes`.
    pub const fn with_max_head_bytes(mut self, bytes: usize) -> Self {
        self.max_head_bytes = bytes;
        self
    }

    /// These limits with the header count limit set to `headers`.
    pub const fn with_max_headers(mut self, headers: usize) -> Self {
        self.max_headers = headers;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
