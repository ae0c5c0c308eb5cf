//! # wslite — WebSocket (RFC 6455), blocking, with no dependencies
//!
//! wslite implements the WebSocket protocol once, in a `no_std`,
//! allocation-free, sans-I/O core: bytes in, events out; events in, bytes out.
//! A microcontroller with smoltcp or lwIP, a fuzzer, and (with the `std`
//! feature, on by default) a blocking server on `std::net` all drive the same
//! code. Most programs want the blocking layer: [`Server`], [`connect`],
//! [`WebSocket`] (re-exported here from [`blocking`]).
//!
//! # Start here
//!
//! An echo server (a thread per connection; pings, Close and protocol
//! errors are handled by the library):
//!
//! ```no_run
//! # #[cfg(feature = "std")]
//! wslite::Server::bind("127.0.0.1:9001")?.run(|mut ws| {
//!     while let Ok(message) = ws.read() {
//!         if message.is_data() && ws.send(message).is_err() { break; }
//!     }
//! })?;
//! # Ok::<(), wslite::Error>(())
//! ```
//!
//! A client (`ws://` only: for `wss://` see [`connect`]; proxies from the
//! environment, as curl does):
//!
//! ```no_run
//! # #[cfg(feature = "std")] {
//! let mut ws = wslite::connect("ws://127.0.0.1:9001/chat")?;
//! ws.send_text("hello")?;
//! println!("{:?}", ws.read()?);
//! ws.close(wslite::CloseCode::NORMAL, "done")?;
//! # }
//! # Ok::<(), wslite::Error>(())
//! ```
//!
//! Both sides split into a reader and a writer for two threads
//! ([`WebSocket::split`]), stream messages larger than memory, compress with
//! permessage-deflate, and bound every wait ([`Config`]). The README has the
//! rest: limits, proxies, TLS, performance; `examples/` has a chat, a
//! command-line client and a frame inspector.
//!
//! # The tour
//!
//! The rest of this page is a guided tour of the protocol, for readers who
//! have never seen it: four steps, each pointing at the module that implements it
//! and the section of RFC 6455 it comes from. The examples run as tests.
//!
//! # Step 1: the opening handshake is HTTP (RFC 6455 §4)
//!
//! A WebSocket connection starts as an ordinary HTTP/1.1 request, so it can
//! use the web's ports (80, 443) and pass through the proxies and load
//! balancers that already speak HTTP. The client asks to *upgrade* the
//! connection:
//!
//! ```text
//! GET /chat HTTP/1.1
//! Host: server.example.com
//! Upgrade: websocket
//! Connection: Upgrade
//! Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
//! Sec-WebSocket-Version: 13
//! ```
//!
//! The key is 16 random bytes in base64. The server proves that it understood
//! the request *as WebSocket* (and is not an HTTP server that happens to echo
//! headers) by hashing the key with a fixed GUID, and answers `101`:
//!
//! ```text
//! HTTP/1.1 101 Switching Protocols
//! Upgrade: websocket
//! Connection: Upgrade
//! Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
//! ```
//!
//! Modules: [`handshake`] (parse and write both messages, in a buffer you own,
//! in time linear in the input), [`sha1`] and [`base64`] (only what the accept
//! value needs: `base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))`).
//!
//! ```
//! use wslite::handshake::{self, Header, RequestParser, Status};
//!
//! let request = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\n\
//!     Upgrade: websocket\r\nConnection: Upgrade\r\n\
//!     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
//! let mut headers = [Header::EMPTY; 16];
//! let mut parser = RequestParser::new(handshake::Limits::new());
//! let Status::Complete((len, request)) = parser.parse(request, &mut headers)? else {
//!     unreachable!("the whole request is there");
//! };
//! assert_eq!(request.path(), "/chat");
//! assert_eq!(len, 161); // the whole head, up to and including the empty line
//! let key = request.validate_upgrade()?; // GET, HTTP/1.1, Upgrade, Connection, version 13, a 16-byte key
//! assert_eq!(&key.accept(), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
//!
//! let mut answer = [0u8; 256];
//! let n = handshake::write_accept_response(&mut answer, &key, None, &[])?;
//! assert!(answer[..n].starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
//! # Ok::<(), wslite::Error>(())
//! ```
//!
//! A request that breaks a rule gets the HTTP status that names the problem
//! ([`Error::http_status`]): 400 (also for a `GET` that announces a body,
//! whose bytes would otherwise be read as frames), 405 for a method other
//! than GET, 426 (with `Sec-WebSocket-Version: 13`) for another WebSocket
//! version, 431 for heads over the limits, 505 for an HTTP version other
//! than 1.1.
//!
//! # Step 2: the open channel
//!
//! After the `101`, the same TCP connection stops carrying HTTP. Both sides
//! may now send at any time, independently: WebSocket is full duplex. Bytes
//! the server sends right after its `101` are already frames. (In the
//! blocking layer, [`WebSocket::split`] gives a reader and a writer that two
//! threads use at once.)
//!
//! # Step 3: frames (RFC 6455 §5)
//!
//! Everything after the handshake is a *frame*: a header of 2 to 14 bytes,
//! then the payload. Module [`frame`] draws the header bit by bit; in short:
//!
//! ```text
//!  byte 0: FIN | RSV1 RSV2 RSV3 | opcode (4 bits)
//!  byte 1: MASK | payload length (7 bits: 0-125, or 126 → 16-bit length follows, 127 → 64-bit)
//!  then:   extended length (0, 2 or 8 bytes), masking key (0 or 4 bytes), payload
//! ```
//!
//! The opcode says what the frame is: text (UTF-8), binary, continuation;
//! or one of the *control* frames close, ping, pong.
//!
//! **Masking, and why clients mask** (§5.3, §10.3). Every frame a client sends
//! carries a fresh random 4-byte key, and its payload is XORed with it. This
//! is not secrecy (the key is in the frame): it stops a hostile script in a
//! browser from choosing the exact bytes that reach a confused proxy, which
//! could otherwise be tricked into caching forged HTTP responses. Servers
//! never mask. A server that receives an unmasked frame, or a client a masked
//! one, closes the connection with 1002.
//!
//! ```
//! use wslite::frame::{apply_mask, FrameHeader, OpCode};
//!
//! // RFC 6455 §5.7: a masked text frame carrying "Hello".
//! let mut bytes = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
//! let (header, len) = FrameHeader::parse(&bytes)?.expect("complete header");
//! assert_eq!((header.fin, header.opcode, header.payload_len), (true, OpCode::Text, 5));
//! assert_eq!(header.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
//! apply_mask(&mut bytes[len..], [0x37, 0xfa, 0x21, 0x3d], 0);
//! assert_eq!(&bytes[len..], b"Hello");
//! # Ok::<(), wslite::Error>(())
//! ```
//!
//! **Fragmentation and control frames** (§5.4, §5.5). A message may be sent
//! as one text or binary frame with FIN clear, any number of continuation
//! frames, and a last one with FIN set, so a sender need not know a message's
//! length in advance. Control frames (ping, pong, close) are at most 125
//! bytes, never fragmented, and may arrive *between* the fragments of a
//! message. A ping is answered with a pong carrying the same payload. Text is
//! checked as it arrives ([`utf8`], §8.1): the connection fails with 1007 at
//! the first byte that can never be valid UTF-8, even if a character is cut
//! between two fragments.
//!
//! Module [`protocol`] applies all of these rules. [`protocol::Connection`]
//! takes bytes as they come from the network and returns events; it unmasks
//! in place and never copies a payload:
//!
//! ```
//! use wslite::protocol::{Connection, DataKind, Event, Limits, Role};
//!
//! let mut conn = Connection::new(Role::Client, Limits::default());
//! // RFC 6455 §5.7: "Hel" (FIN clear), a ping between the fragments, "lo".
//! let mut bytes = [0x01, 0x03, b'H', b'e', b'l', 0x89, 0x00, 0x80, 0x02, b'l', b'o'];
//! let mut at = 0;
//! let mut seen = Vec::new();
//! while at < bytes.len() {
//!     let received = conn.receive(&mut bytes[at..])?;
//!     at += received.consumed;
//!     match received.event {
//!         Some(Event::Data { kind: DataKind::Text, bytes, fin, .. }) => seen.push(format!("text {:?} fin={fin}", std::str::from_utf8(bytes).unwrap())),
//!         Some(Event::Ping(payload)) => seen.push(format!("ping {payload:?}")),
//!         other => panic!("unexpected {other:?}"),
//!     }
//! }
//! assert_eq!(seen, ["text \"Hel\" fin=false", "ping []", "text \"lo\" fin=true"]);
//! // The pong that answers the ping is queued, ready to send.
//! assert!(conn.take_pending(&mut FixedKey).is_some());
//! # struct FixedKey;
//! # impl wslite::RandomSource for FixedKey { fn fill_bytes(&mut self, b: &mut [u8]) { b.fill(7) } }
//! # Ok::<(), wslite::Error>(())
//! ```
//!
//! # Step 4: the closing handshake (RFC 6455 §7)
//!
//! Either side sends a Close frame, with a status code and an optional
//! reason ([`close`], §7.4); the other answers with a Close of its own; then
//! the TCP connection ends, the server's side first (§7.1.1). A Close is also
//! how a peer that breaks a rule is told which rule: **every violation this
//! crate detects is answered with the Close frame carrying the matching
//! code** ([`Error::close_code`]) before the connection is dropped: 1002
//! (protocol error), 1007 (invalid data, e.g. bad UTF-8), 1009 (too big).
//!
//! ```
//! use wslite::protocol::{Connection, Limits, Role};
//! use wslite::{CloseCode, Error};
//!
//! let mut server = Connection::new(Role::Server, Limits::default());
//! // An unmasked frame from a client breaks §5.1.
//! let err = server.receive(&mut [0x81, 0x02, b'h', b'i']).unwrap_err();
//! assert!(matches!(err, Error::UnmaskedFrame));
//! assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
//! // The Close that tells the client so is queued: 0x88, length 2, code 1002.
//! # struct NoMask;
//! # impl wslite::RandomSource for NoMask { fn fill_bytes(&mut self, _: &mut [u8]) {} }
//! let close = server.take_pending(&mut NoMask).unwrap();
//! assert_eq!(close.as_bytes(), [0x88, 0x02, 0x03, 0xea]);
//! ```
//!
//! After the Close frames, TCP ends, and the order matters: the side that
//! closes TCP first keeps the connection's `TIME_WAIT` state, so §7.1.1 has
//! the **server close first** and the client wait for that (a bounded time).
//! A side that *fails* the connection closes at once, after its Close
//! ([`protocol::EndOfTcp`] says which applies; [`protocol::shared`] says why).
//!
//! # How the crate is built: two halves, one engine
//!
//! The core's connection is two halves that share a few bytes of plain
//! state ([`protocol`]): a [`Receiver`](protocol::Receiver) for everything
//! about incoming bytes, a [`Sender`](protocol::Sender) for everything about
//! outgoing frames, and [`Shared`](protocol::Shared) for what one tells the
//! other (the pong or Close owed to the peer, where the closing handshake
//! stands). The blocking layer drives those same halves; it adds buffers,
//! clocks, threads and sockets, and no protocol rule.
//!
//! ```text
//!                    ┌──────────── one TCP socket (one descriptor) ─────────────┐
//!   read:  bytes ──► ReadHalf: read buffer ─► Receiver ─► unmask in place,      │
//!                    │  (reader thread)          │        UTF-8, limits ─► Message
//!                    │                           ▼ notes "pong / Close owed"    │
//!                    │                        Shared  (tiny lock, never held    │
//!                    │                           ▲      across a system call)   │
//!   send:  Message ─► WriteHalf: Sender ─► header + masked payload ─► one writev
//!                    │  (writers' lock; sends what is owed first)               │
//!                    └──────────────────────────────────────────────────────────┘
//! ```
//!
//! * **A read**: the reading half reads into its buffer, hands the bytes to
//!   the `Receiver`, which unmasks in place and returns pieces that borrow
//!   the buffer; whole messages are put together in one `Vec`, up to the
//!   message limit. A ping or Close makes `Shared` owe the peer an answer,
//!   which goes out before `read` returns (or, when split, without waiting
//!   for a writer: see [`blocking::split`]).
//! * **A send**: the writing half takes the writers' lock, sends what is
//!   owed, has the `Sender` encode the header (and the mask key, for a
//!   client), masks and writes header and payload in one vectored write,
//!   within one deadline for the whole send.
//! * **Who owns what**: [`WebSocket`] owns both halves and the stream, for
//!   one thread. [`WebSocket::split`] gives the reading half to a
//!   [`WsReader`] and puts the writing half behind the lock of the
//!   cloneable [`WsWriter`]; both reach the one socket through `&TcpStream`.
//!   The reader never waits for the writers' lock, so it keeps draining the
//!   socket while writers wait for a slow peer: that is what makes full
//!   duplex hold under backpressure.
//!
//! # Reading order for `src/`
//!
//! 1. [`sha1`], [`base64`]: the two primitives of the handshake;
//! 2. [`handshake`]: `head` (HTTP/1.1 heads, linear-time scanning), `request`,
//!    `response`, `accept`;
//! 3. [`frame`]: the header layout and masking;
//! 4. [`utf8`]: incremental validation;
//! 5. [`close`]: close codes and reasons;
//! 6. [`protocol`]: the connection, where the rules of steps 3 and 4 meet:
//!    its two halves [`protocol::receiver`] and [`protocol::sender`], and
//!    [`protocol::shared`], what they tell each other;
//! 7. [`error`]: every rule that can break, with its close code or HTTP status;
//! 8. [`random`]: where masking keys come from;
//! 9. `deflate` (feature `deflate`): DEFLATE itself (RFC 1951) — the
//!    shared tables and canonical Huffman codes, the bit reader and the
//!    inflater, the bit writer, the LZ77 matcher and the deflater;
//! 10. `permessage_deflate` (feature `deflate`): RFC 7692 on top of it —
//!     the negotiation of the handshake's `Sec-WebSocket-Extensions`, then
//!     one message at a time: the tail, the window, the limits on inflated
//!     bytes;
//! 11. [`blocking`] (feature `std`): the same core over `std::io` — messages,
//!     limits, streams and bounded waits, the two halves over a socket,
//!     `WebSocket` and `split`, one message framed once for many
//!     connections (`PreparedMessage`), the handshake over any stream, a
//!     thread-per-connection server, a client, URLs, OS randomness, and
//!     where compression state lives.
//!
//! Each module opens with the RFC section it implements and what it teaches.
//! `examples/inspect.rs` shows all of this on a live connection.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// The tour above links to the blocking layer, which a no_std build leaves out.
#![cfg_attr(not(feature = "std"), allow(rustdoc::broken_intra_doc_links))]
// The crate never panics on any input (bounded, always), the core and the
// blocking layer alike: no unwrap, no expect, no panic!, and no indexing or
// slicing that could be out of bounds. Where an index is provably in bounds and a rewrite would read
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
#[cfg(feature = "deflate")]
pub mod deflate;
pub mod error;
pub mod frame;
pub mod handshake;
#[cfg(feature = "deflate")]
pub mod permessage_deflate;
pub mod protocol;
pub mod random;
pub mod sha1;
pub mod utf8;

#[cfg(feature = "std")]
pub mod blocking;

pub use close::CloseCode;
pub use error::{Error, Result};
pub use random::RandomSource;

#[cfg(all(feature = "std", feature = "deflate"))]
pub use blocking::Compression;
#[cfg(feature = "std")]
pub use blocking::{
    accept, accept_with, client_handshake, connect, Accept, ClientBuilder, CloseFrame, Config,
    HttpRequest, HttpResponse, Message, MessageReader, MessageWriter, PreparedMessage, Server,
    ServerHandle, WebSocket, WsReader, WsWriter,
};
#[cfg(feature = "std")]
pub use protocol::{DataKind, Role, State};

/// The README's examples, compiled and run as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The examples of `no_std_notes.md`, compiled as doctests; the server loop
/// also runs, against a scripted in-memory peer (`tests/notes/peer.rs`).
/// One example is the std layer's `Server` with compression, hence the
/// features.
#[cfg(all(doctest, feature = "std", feature = "deflate"))]
#[doc = include_str!("../no_std_notes.md")]
pub struct NoStdNotesDoctests;
