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
//! The rest of this page is a guided tour of the protocol, for a reader who
//! knows Rust and HTTP but has never seen WebSocket and has no RFC at hand:
//! five steps, each pointing at the module that implements it and the
//! section of RFC 6455 it comes from. The examples run as tests. The
//! [reading order](#reading-order-for-src) at the end follows the same
//! steps through `src/`.
//!
//! ## Words the tour uses
//!
//! * **message**: what an application sends or receives: a *text*
//!   (UTF-8) or a *binary* payload, of any length.
//! * **frame**: the unit on the wire once the handshake is over: a header
//!   of 2 to 14 bytes (what the frame is, how long it is, whether it is
//!   masked), then the payload (§5.2).
//! * **fragment**: one frame of a message sent as several. The first
//!   fragment says text or binary; the others are **continuation** frames;
//!   the last one has the header's **FIN** bit set ("final"). A message of
//!   one frame is a single frame with FIN set (§5.4).
//! * **data frame, control frame**: text, binary and continuation frames
//!   carry messages. **Control frames** (Close, Ping, Pong) manage the
//!   connection: at most 125 bytes, never fragmented, and allowed *between*
//!   the fragments of a message (§5.5). A Ping asks "are you there?"; the
//!   peer answers with a Pong carrying the same bytes.
//! * **masking**: a client XORs every frame's payload with a fresh random
//!   4-byte key that travels in the frame's header; a server never masks
//!   (§5.3; why in step 2).
//! * **extension**: an addition to the protocol that both sides agree on in
//!   the handshake (`Sec-WebSocket-Extensions`, §9). An extension may give a
//!   meaning to the header's three reserved bits, **RSV1–RSV3**; the one in
//!   use on the web is permessage-deflate (RFC 7692), which sets RSV1 on
//!   the first frame of a compressed message.
//! * **the closing handshake**: each side sends one Close frame, the second
//!   answering the first; then the TCP connection ends (§7, step 4).
//! * **fail the connection** (§7.1.7): what an endpoint does when its peer
//!   breaks a rule. It sends a Close frame whose code names the broken rule
//!   (if it still can), stops processing what the peer sends, and ends the
//!   TCP connection without waiting for the peer's Close. During the opening
//!   handshake, when there are no frames yet, the refusal is an HTTP error
//!   status instead (400, 426, …).
//! * **close codes** (§7.4.1): the two bytes that start a Close frame's
//!   payload. The tour uses **1000** normal closure, **1001** going away (a
//!   server shutting down, a browser leaving the page), **1002** protocol
//!   error (a framing rule was broken), **1007** invalid data (a text
//!   message that is not UTF-8), **1009** message too big. Three more are
//!   names for what the *local* side saw and are never sent: **1005** (the
//!   peer's Close had no code), **1006** (TCP ended without any Close),
//!   **1015** (TLS failed); [`close`] says [why they cannot be
//!   sent](close#why-1005-1006-and-1015-never-go-on-the-wire).
//! * **sans-I/O**: a protocol implementation that never touches a socket:
//!   it takes the bytes you read and gives back events, and it gives you the
//!   bytes to write. The caller does all input and output (step 5).
//!
//! # Step 1: the opening handshake is HTTP (RFC 6455 §4)
//!
//! A WebSocket connection starts as an ordinary HTTP/1.1 request, so it can
//! use the web's ports (80, 443) and pass through the proxies and load
//! balancers that already speak HTTP, and share a server with a web
//! application (§1.7). The client asks to *upgrade* the connection:
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
//! the request *as WebSocket* (and is not an HTTP server, or a cache, that
//! happens to echo headers) by hashing the key with a fixed GUID, and answers
//! `101`:
//!
//! ```text
//! HTTP/1.1 101 Switching Protocols
//! Upgrade: websocket
//! Connection: Upgrade
//! Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
//! ```
//!
//! The accept value is `base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))`;
//! [`handshake::accept`] computes this example step by step and says
//! [why the version is 13 and why a
//! GUID](handshake::accept#why-version-13-and-why-a-guid). From the byte after the `101`'s empty
//! line, the same TCP connection carries frames, in both directions.
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
//! ([`Error::http_status`], written by [`handshake::write_error_response`]):
//! 400 (also for a `GET` that announces a body, whose bytes would otherwise
//! be read as frames), 405 for a method other than GET, **426 Upgrade
//! Required with `Sec-WebSocket-Version: 13`** for another WebSocket
//! version (§4.2.2: "an appropriate HTTP error code (such as 426 Upgrade
//! Required)" and the versions the server speaks, so the client may retry
//! with one of them; [`handshake::accept`] shows the 426 for a draft's
//! version 8), 431 for heads over the limits, 505 for an HTTP version other
//! than 1.1.
//!
//! Modules: [`handshake`] (parse and write both messages, in a buffer you
//! own, in time linear in the input): [`handshake::request`] (what a client
//! sends and a server checks), [`handshake::response`] (what a server
//! answers and a client checks), [`handshake::accept`] (the key and its
//! answer). Optional detours, not needed for the protocol:
//! [`handshake::head`] (HTTP/1.1's own rules, parsed strictly so that a
//! proxy and this server cannot disagree about where a request ends:
//! request smuggling, linear-time scanning), and [`sha1`] and [`base64`]
//! (the two primitives behind the accept value).
//!
//! # Step 2: frames (RFC 6455 §5)
//!
//! After the `101` both sides may send at any time, independently:
//! WebSocket is *full duplex*. Everything they send is a frame: a header
//! of 2 to 14 bytes, then the payload. Module [`frame`] draws the header
//! bit by bit; in short:
//!
//! ```text
//!  byte 0: FIN | RSV1 RSV2 RSV3 | opcode (4 bits)
//!  byte 1: MASK | payload length (7 bits: 0-125, or 126 → 16-bit length follows, 127 → 64-bit)
//!  then:   extended length (0, 2 or 8 bytes), masking key (0 or 4 bytes), payload
//! ```
//!
//! The opcode says what the frame is: 1 text, 2 binary, 0 continuation;
//! 8 Close, 9 Ping, 10 Pong (control frames). A server's text frame of
//! 100 bytes starts `81 64`: `0x81` is FIN plus opcode 1, `0x64` is 100.
//! The same frame from a client starts `81 E4` (the MASK bit, `0x80`, is
//! added) and carries its 4-byte key before the payload. 300 bytes need
//! the 16-bit form (`81 7E 01 2C`), 70,000 the 64-bit one; [`frame`]
//! works all six headers out byte by byte in
//! ["Worked examples"](frame#worked-examples-the-header-for-100-300-and-70000-bytes).
//!
//! **Masking.** Every frame a client sends is masked with a fresh random
//! key; no frame a server sends is. Masking is not secrecy (the key is in
//! the frame): it stops a hostile script in a browser from choosing the
//! exact bytes that reach a proxy that does not understand WebSocket, which
//! could otherwise be tricked into caching a forged HTTP response for
//! everybody. [`frame`] walks through that attack step by step, and why a
//! server therefore must *not* mask ("[Why clients mask, and why servers
//! must not](frame#why-clients-mask-and-why-servers-must-not-53-103)"). A server that receives an unmasked frame, or a client a
//! masked one, fails the connection with 1002.
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
//! **Reserved bits.** RSV1–RSV3 are zero unless an extension agreed in the
//! handshake gives them a meaning; a set bit that no extension explains is
//! a 1002. permessage-deflate marks a compressed message by RSV1 on its
//! first frame (`0xC1`: FIN, RSV1, text); [`frame`] has the rules ("[RSV
//! bits and extensions](frame#rsv-bits-and-extensions-52-9)").
//!
//! # Step 3: messages: fragments, control frames, UTF-8 (RFC 6455 §5.4, §5.5, §8.1)
//!
//! A message may be sent as one text or binary frame with FIN clear, any
//! number of continuation frames, and a last one with FIN set, so a sender
//! need not know a message's length in advance (§5.4). Control frames may
//! arrive *between* the fragments of a message, so that a Ping or a Close
//! need not wait behind a long message (§5.4: "control frames MAY be
//! injected in the middle of a fragmented message"); they are never
//! fragmented themselves. A Ping is answered with a Pong carrying the same
//! payload (§5.5.2).
//!
//! Text is checked as it arrives ([`utf8`]; §8.1: invalid UTF-8 in a text
//! message fails the connection with 1007): at the first byte that can never
//! be valid UTF-8, even when a character is cut between two fragments, and
//! never later than the end of the message.
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
//! And a text cut inside a character: `é` is `C3 A9` in UTF-8. A first
//! fragment ending in `C3` is fine (the character may go on); a
//! continuation that starts with `28` instead of a byte `80`–`BF` cannot, and
//! fails the connection with 1007 there:
//!
//! ```
//! use wslite::protocol::{Connection, Limits, Role};
//! use wslite::{CloseCode, Error};
//!
//! let mut conn = Connection::new(Role::Client, Limits::default());
//! let mut first = [0x01, 0x02, b'a', 0xC3]; // text, FIN clear: "a" and half of a character
//! assert_eq!(conn.receive(&mut first)?.consumed, 4);
//! let mut second = [0x80, 0x01, 0x28]; // continuation, FIN set: "(" cannot end the character
//! let err = conn.receive(&mut second).unwrap_err();
//! assert!(matches!(err, Error::InvalidUtf8));
//! assert_eq!(err.close_code(), Some(CloseCode::INVALID_PAYLOAD));
//! # Ok::<(), wslite::Error>(())
//! ```
//!
//! # Step 4: closing (RFC 6455 §7)
//!
//! This is the account of closing the crate follows; the modules it names
//! carry it out and refer back here.
//!
//! **The Close exchange** (§5.5.1, §7.1.2–§7.1.4). Either side starts by
//! sending a Close frame: opcode 8, an optional 2-byte code and a UTF-8
//! reason of at most 123 bytes ([`close`]). After its Close, a side sends
//! no more data (§5.5.1: "the endpoint MUST NOT send any more data frames").
//! The other side answers with a Close of its own as soon as it can (this
//! crate echoes the code), and sends no more data either. (§5.5.1 lets it
//! finish a fragmented message first; this crate answers before its next
//! frame, and a message it was sending in pieces ends unfinished: the next
//! piece is refused with [`Error::SendAfterClose`].) A side that has both
//! sent and received a Close has finished the closing handshake: the
//! WebSocket is closed.
//!
//! **Then TCP** (§7.1.1). The WebSocket is closed, but the TCP connection is
//! still open, and it is ended in this order:
//!
//! 1. **the server first**: as soon as both Close frames have crossed, it
//!    half-closes (shuts its writing side: a TCP FIN follows its last
//!    frame, so the client reads the Close and then the end of the stream),
//!    and closes its socket;
//! 2. **the client after it**: it waits for the server's FIN, a bounded
//!    time (in the blocking layer, [`Config::close_timeout`]), then closes
//!    its own socket, whether the FIN came or not.
//!
//! **Why the server first.** The side that closes a TCP connection first
//! keeps its half of it in `TIME_WAIT` for two maximum segment lifetimes (a
//! minute on Linux), so that late packets of the old connection cannot be
//! taken for a new one's. §7.1.1 gives the server that duty so that the
//! client does not hold it: a client in `TIME_WAIT` could not open the same
//! connection again (same address and port pair) meanwhile, while a
//! server's `TIME_WAIT` is reopened at once by a client's new SYN. A client
//! still does not wait for ever: a server that never closes must not keep a
//! client's socket (§7.1.1 lets it close "if it has not received a TCP Close
//! from the server in a reasonable time period").
//!
//! **Failing instead of closing** (§7.1.7). A side that finds a violation
//! does not run the exchange: it sends the Close naming the rule, and ends
//! TCP at once, server or client. It half-closes first, and reads and drops
//! what the peer still sends for a bounded time, so that the peer reads the
//! Close instead of meeting a connection reset while it is still writing.
//! **Every violation this crate detects is answered with the Close frame
//! carrying the matching code** ([`Error::close_code`]) before the
//! connection is dropped: 1002, 1007, 1009.
//!
//! ```
//! use wslite::protocol::{Connection, EndOfTcp, Limits, Role};
//! use wslite::{CloseCode, Error};
//!
//! let mut server = Connection::new(Role::Server, Limits::default());
//! // An unmasked frame from a client breaks §5.1 ("a server MUST close the
//! // connection upon receiving a frame that is not masked").
//! let err = server.receive(&mut [0x81, 0x02, b'h', b'i']).unwrap_err();
//! assert!(matches!(err, Error::UnmaskedFrame));
//! assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
//! // The Close that tells the client so is queued: 0x88, length 2, code 1002.
//! # struct NoMask;
//! # impl wslite::RandomSource for NoMask { fn fill_bytes(&mut self, _: &mut [u8]) {} }
//! assert_eq!(server.end_of_tcp(), EndOfTcp::NotYet); // not before the Close is out
//! let close = server.take_pending(&mut NoMask).unwrap();
//! assert_eq!(close.as_bytes(), [0x88, 0x02, 0x03, 0xea]);
//! assert_eq!(server.end_of_tcp(), EndOfTcp::Now); // sent: end TCP at once
//! ```
//!
//! In the code: [`protocol::Shared`] records the two facts (our Close sent,
//! the peer's received) and the failure; [`protocol::EndOfTcp`] tells a
//! caller which of the three moves is due (`NotYet`, `Now`: half-close and
//! close; `AfterPeer`: wait for the peer's FIN, then close). The blocking
//! layer makes those moves itself: [`WebSocket::close`] and
//! [`WsWriter::close`] run the whole sequence within one close timeout, and
//! a `read` that receives the peer's Close answers it and ends TCP in the
//! same order. `tests/std_messages.rs` watches the order on the wire with a
//! raw peer (`a_server_ends_tcp_first_after_a_close_it_started`,
//! `a_client_lets_the_server_end_tcp_first`); `tests/hostile.rs` and
//! `tests/bounded.rs` the failures and the bounds.
//!
//! # Step 5: sans-I/O, and two halves
//!
//! [`protocol::Connection`] does no I/O: it never reads a socket, never
//! writes one, never waits and keeps no clock. You hand it the bytes you
//! read, it gives back events and the bytes to write (the owed Pong or
//! Close from [`protocol::Connection::take_pending`], the header of your
//! next frame). That is why the same code runs on a microcontroller whose
//! network stack (smoltcp, lwIP, embassy-net) calls you with a few bytes at
//! a time: the connection keeps its state between calls in 328 bytes (on a
//! 32-bit target), and a
//! message never has to fit in memory. `no_std_notes.md` has the loop for
//! such a board, tested against an in-memory peer.
//!
//! The connection is two halves that share a few bytes of plain state
//! ([`protocol`]): a [`Receiver`](protocol::Receiver) for everything about
//! incoming bytes, a [`Sender`](protocol::Sender) for everything about
//! outgoing frames, and [`Shared`](protocol::Shared) for what one tells the
//! other (the Pong or Close owed to the peer, where the closing handshake
//! stands). A program that reads on one thread and writes on another gives
//! each thread its half. The blocking layer drives those same halves; it
//! adds buffers, clocks, threads and sockets, and no protocol rule.
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
//!   message limit. A Ping or Close makes `Shared` owe the peer an answer,
//!   which goes out before `read` returns.
//! * **A send**: the writing half takes the writers' lock, sends what is
//!   owed, has the `Sender` encode the header (and the mask key, for a
//!   client), masks and writes header and payload in one vectored write,
//!   within one deadline for the whole send.
//! * **Who owns what**: [`WebSocket`] owns both halves and the stream, for
//!   one thread. [`WebSocket::split`] gives the reading half to a
//!   [`WsReader`] and puts the writing half behind the lock of the
//!   cloneable [`WsWriter`]; both reach the one socket through `&TcpStream`.
//!   **What `split` guarantees** ([`blocking::split`]): the reader never
//!   waits for a writer, so it keeps draining the socket (and answering
//!   Pings) while writers are blocked on a slow peer, and both directions
//!   can carry messages larger than the socket buffers at once without a
//!   deadlock; frames of different writers never interleave; `close` from
//!   any thread runs the closing handshake of step 4 within the close
//!   timeout and wakes a reader blocked in `read`.
//!
//! # Reading order for `src/`
//!
//! The same steps, module by module; each module opens with the RFC section
//! it implements and what it teaches, and uses only terms from the list
//! above or from modules before it.
//!
//! 1. [`error`], its first page only: how a broken rule ends a connection
//!    (an HTTP status during the handshake, a close code after it). The
//!    variants are a reference to come back to; each module names the ones
//!    it returns.
//! 2. Step 1, the handshake: [`handshake`], then [`handshake::request`],
//!    [`handshake::response`], [`handshake::accept`]. Optional detours:
//!    [`handshake::head`] (strict HTTP/1.1), [`sha1`], [`base64`].
//! 3. Step 2, frames: [`frame`] (the header, worked examples, masking and
//!    why, the reserved bits).
//! 4. Step 3, messages: [`utf8`] (incremental validation), then
//!    [`protocol`] and [`protocol::receiver`] (fragments, control frames,
//!    limits).
//! 5. Step 4, closing: [`close`] (codes and reasons), then
//!    [`protocol::shared`] (the closing handshake's state, what is owed,
//!    when TCP ends) and [`protocol::sender`] (our frames, our Close).
//! 6. [`random`]: where masking keys come from.
//! 7. Optional, the one extension: `deflate` (feature `deflate`): DEFLATE
//!    itself (RFC 1951): the shared tables and canonical Huffman codes,
//!    the bit reader and the inflater, the bit writer, the LZ77 matcher and
//!    the deflater; then `permessage_deflate`: RFC 7692 on top of it: the
//!    negotiation of `Sec-WebSocket-Extensions`, then one message at a
//!    time: RSV1, the tail, the window, the limits on inflated bytes.
//! 8. Step 5's other side, [`blocking`] (feature `std`): the same core over
//!    `std::io`: messages, limits, streams and bounded waits, the two halves
//!    over a socket, `WebSocket` and `split`, one message framed once for
//!    many connections (`PreparedMessage`), the handshake over any stream,
//!    a thread-per-connection server, a client, URLs, OS randomness, and
//!    where compression state lives.
//!
//! `examples/inspect.rs` shows all of this on a live connection.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// The tour and the modules link to the blocking layer and to
// permessage-deflate, which builds without `std` or `deflate` leave out.
#![cfg_attr(
    not(all(feature = "std", feature = "deflate")),
    allow(rustdoc::broken_intra_doc_links)
)]
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

/// The README's examples, compiled and run as doctests so they cannot rot
/// (they use the std layer, and compression).
#[cfg(all(doctest, feature = "std", feature = "deflate"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The examples of `no_std_notes.md`, compiled as doctests; the server loop
/// also runs, against a scripted in-memory peer (`tests/notes/peer.rs`).
/// One example is the std layer's `Server` with compression, hence the
/// features.
#[cfg(all(doctest, feature = "std", feature = "deflate"))]
#[doc = include_str!("../no_std_notes.md")]
pub struct NoStdNotesDoctests;
