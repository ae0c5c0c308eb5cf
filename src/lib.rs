//! # wslite — WebSocket (RFC 6455), blocking, with no dependencies
//!
//! wslite implements the WebSocket protocol once, in a `no_std`,
//! allocation-free, sans-I/O core: bytes in, events out; events in, bytes out.
//! A microcontroller with smoltcp or lwIP, a fuzzer, and (with the `std`
//! feature) a blocking server on `std::net` all drive the same code.
//!
//! ## The protocol in four steps, and where each lives
//!
//! 1. **The opening handshake** (RFC 6455 §4, module [`handshake`]). The
//!    client sends an HTTP/1.1 `GET` with `Upgrade: websocket` and a random
//!    `Sec-WebSocket-Key`; the server answers `101 Switching Protocols` with
//!    `Sec-WebSocket-Accept = base64(SHA-1(key + GUID))` (modules [`sha1`],
//!    [`base64`]). It is HTTP so that WebSocket can share port 80/443 with the
//!    web and pass through the same proxies; the accept value proves the
//!    server understood the request as WebSocket and not as plain HTTP.
//! 2. **The open channel.** After the `101`, the TCP connection carries
//!    frames in both directions, independently, until one side closes.
//! 3. **Frames** (RFC 6455 §5, modules [`frame`] and [`protocol`]). Every
//!    frame has a 2–14 byte header: FIN, three reserved bits, an opcode
//!    (text, binary, continuation, close, ping, pong), a mask bit and a
//!    7/16/64-bit payload length. Clients mask every frame with a fresh
//!    random key (§5.3, §10.3: so a hostile page cannot choose the bytes a
//!    proxy sees); servers never mask. A message may be split into fragments
//!    (§5.4); control frames (ping, pong, close) are small and may appear
//!    between fragments (§5.5). Text must be UTF-8 ([`utf8`], §8.1).
//! 4. **The closing handshake** (RFC 6455 §7, modules [`close`] and
//!    [`protocol`]). One side sends Close with a status code, the other
//!    answers with Close, then the server closes TCP. A peer that breaks a
//!    rule is answered with a Close carrying the code that names the
//!    problem (1002 protocol error, 1007 invalid data, 1009 too big), and
//!    the connection is dropped ([`Error::close_code`]).
//!
//! ## Reading order
//!
//! `sha1` → `base64` → `handshake` → `frame` → `utf8` → `close` →
//! `protocol` → `error`, with `random` wherever masking needs it. Each module
//! opens with the RFC section it implements and what it teaches.
//!
//! ## The core, driven by hand
//!
//! ```
//! use wslite::protocol::{Connection, DataKind, Event, Limits, Role};
//!
//! // A server's connection, after the handshake.
//! let mut conn = Connection::new(Role::Server, Limits::default());
//! // RFC 6455 §5.7: a masked text frame carrying "Hello".
//! let mut bytes = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
//! let received = conn.receive(&mut bytes)?;
//! assert_eq!(received.consumed, 11);
//! assert_eq!(
//!     received.event,
//!     Some(Event::Data { kind: DataKind::Text, bytes: b"Hello", fin: true })
//! );
//! # Ok::<(), wslite::Error>(())
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// The core never panics on any input (DESIGN.md: bounded, always): no
// unwrap, no expect, no panic!, and no indexing or slicing that could be out
// of bounds. Where an index is provably in bounds and a rewrite would read
// worse, the smallest item carries an `allow` with the invariant that proves
// it. (Test code may panic: that is how a test fails.)
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod base64;
pub mod close;
pub mod error;
pub mod frame;
pub mod handshake;
pub mod protocol;
pub mod random;
pub mod sha1;
pub mod utf8;

// The std layer runs on hosts with unwinding and owns growable buffers; the
// no-panic rule above is for the core that microcontrollers run.
#[cfg(feature = "std")]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
pub mod blocking;

pub use close::CloseCode;
pub use error::{Error, Result};
pub use random::RandomSource;

#[cfg(feature = "std")]
pub use blocking::{
    accept, accept_with, client_handshake, connect, Accept, ClientBuilder, CloseFrame, Config,
    HttpResponse, Message, MessageReader, MessageWriter, Server, ServerHandle, WebSocket, WsReader,
    WsWriter,
};
#[cfg(feature = "std")]
pub use protocol::{DataKind, Role, State};

/// The README's examples, compiled and run as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
