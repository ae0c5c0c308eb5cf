//! Frames: the header layout (RFC 6455 §5.2) and masking (§5.3).
//!
//! After the handshake, everything on the wire is a frame. A frame is a header
//! of 2 to 14 bytes followed by its payload:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! | Masking-key (continued)       |          Payload Data         |
//! +-------------------------------- - - - - - - - - - - - - - - - +
//! ```
//!
//! * **FIN**: this is the last frame of a message (§5.4 fragmentation).
//! * **RSV1–3**: reserved for extensions; zero unless one was negotiated
//!   (see [RSV bits and extensions](#rsv-bits-and-extensions-52-9) below).
//! * **opcode**: 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong;
//!   3–7 and 11–15 are reserved. Opcodes 8 and up are *control* frames.
//! * **MASK** and the **masking key**: every frame from client to server is
//!   masked, none from server to client (§5.1; the reason is in
//!   [Why clients mask](#why-clients-mask-and-why-servers-must-not-53-103)
//!   below).
//! * **Payload len**: 0–125 is the length itself; 126 means "a 16-bit length
//!   follows", 127 "a 64-bit length follows" (most significant bit zero).
//!
//! ## What this module decides about non-minimal lengths
//!
//! §5.2 says "the minimal number of bytes MUST be used to encode the length":
//! a 5-byte payload must not be announced with the 16-bit form. That is a
//! duty of the sender. This receiver treats a breach as what it is, a
//! protocol violation, and fails the connection with 1002
//! ([`Error::NonMinimalLength`]): a sender that gets lengths wrong is broken
//! or hostile, and accepting two encodings of one header helps neither.
//!
//! ## Worked examples: the header for 100, 300 and 70,000 bytes
//!
//! Here is the header of one whole text message (FIN set, opcode 1) of 100,
//! 300 and 70,000 bytes. First as a server sends it (no mask), then as a
//! client sends it with the masking key `37 fa 21 3d` (the key of the
//! RFC's own examples in §5.7). The last two rows are the binary frames of
//! §5.7, 256 and 65,536 bytes, unmasked.
//!
//! | payload | sender | header bytes (hex)                              | size |
//! |--------:|--------|-------------------------------------------------|-----:|
//! |     100 | server | `81 64`                                         |  2   |
//! |     300 | server | `81 7E 01 2C`                                   |  4   |
//! |  70,000 | server | `81 7F 00 00 00 00 00 01 11 70`                 | 10   |
//! |     100 | client | `81 E4 37 FA 21 3D`                             |  6   |
//! |     300 | client | `81 FE 01 2C 37 FA 21 3D`                       |  8   |
//! |  70,000 | client | `81 FF 00 00 00 00 00 01 11 70 37 FA 21 3D`     | 14   |
//! |     256 | server | `82 7E 01 00` (binary, §5.7)                    |  4   |
//! |  65,536 | server | `82 7F 00 00 00 00 00 01 00 00` (binary, §5.7)  | 10   |
//!
//! Byte by byte:
//!
//! * **`81`** is `1000 0001`: FIN (`0x80`), no RSV bit, opcode 1 (text). A
//!   binary frame has `82` (opcode 2); a text frame that is not the last of
//!   its message has `01`.
//! * **`64`** is 100: lengths 0 to 125 fit in the second byte itself, so the
//!   header is just two bytes.
//! * **`7E`** is 126, which is not a length but a marker: "the length is in
//!   the next 2 bytes". They are `01 2C`, big-endian (§5.2: "network byte
//!   order"): 0x012C = 1 × 256 + 44 = 300. (§5.7's 256 is `01 00`.)
//! * **`7F`** is 127, the other marker: "the length is in the next 8
//!   bytes", whose top bit must be 0. `00 00 00 00 00 01 11 70` is 0x011170 =
//!   65,536 + 4,464 = 70,000. (§5.7's 65,536 is `00 00 00 00 00 01 00 00`.)
//! * **`E4`, `FE`, `FF`**: a client's second byte is the same length field
//!   with the MASK bit (`0x80`) set: `0x80 | 0x64`, `0x80 | 0x7E`,
//!   `0x80 | 0x7F`. The 4 bytes of the key, `37 FA 21 3D`, follow the length,
//!   so a masked header is 4 bytes longer: 2/4/10 bytes become 6/8/14.
//!
//! The edges of the three forms come from the field widths. Seven bits hold
//! 0 to 127, but 126 and 127 are taken as markers, so **125** is the largest
//! length written in the second byte and **126** the first that needs the
//! 16-bit form. Sixteen bits hold up to 65,535, so **65,536** is the first
//! length that needs the 64-bit form. A sender must use the shortest form
//! that fits (see
//! [non-minimal lengths](#what-this-module-decides-about-non-minimal-lengths)
//! above), so each length has exactly one header.
//!
//! The encoder writes exactly these bytes, and the parser reads them back.
//! A connection encodes a data frame's header with
//! [`Connection::encode_data`]; in the client role it draws the key from
//! the [`RandomSource`] it is given, and the one below always gives
//! `37 fa 21 3d`:
//!
//! [`Connection::encode_data`]: crate::protocol::Connection::encode_data
//! [`RandomSource`]: crate::RandomSource
//!
//! ```
//! use wslite::frame::{header_len, FrameHeader, OpCode};
//! use wslite::protocol::{Connection, DataKind, Limits, Role};
//!
//! struct RfcKey; // always the key of RFC 6455 §5.7
//! impl wslite::RandomSource for RfcKey {
//!     fn fill_bytes(&mut self, dest: &mut [u8]) {
//!         dest.copy_from_slice(&[0x37, 0xfa, 0x21, 0x3d]);
//!     }
//! }
//! const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
//!
//! let cases: [(u64, Option<[u8; 4]>, &[u8]); 6] = [
//!     (100, None, &[0x81, 0x64]),
//!     (300, None, &[0x81, 0x7E, 0x01, 0x2C]),
//!     (70_000, None, &[0x81, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70]),
//!     (100, Some(KEY), &[0x81, 0xE4, 0x37, 0xFA, 0x21, 0x3D]),
//!     (300, Some(KEY), &[0x81, 0xFE, 0x01, 0x2C, 0x37, 0xFA, 0x21, 0x3D]),
//!     (70_000, Some(KEY), &[0x81, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70, 0x37, 0xFA, 0x21, 0x3D]),
//! ];
//! for (len, mask, bytes) in cases {
//!     let header = FrameHeader { fin: true, rsv: 0, opcode: OpCode::Text, mask, payload_len: len };
//!     // The encoder writes exactly these bytes...
//!     let mut out = [0u8; 14];
//!     let n = header.emit(&mut out)?;
//!     assert_eq!(&out[..n], bytes, "{len} bytes, mask {mask:?}");
//!     // ...which is what a connection in that role encodes...
//!     let role = if mask.is_some() { Role::Client } else { Role::Server };
//!     let mut conn = Connection::new(role, Limits::default());
//!     let data = conn.encode_data(DataKind::Text, true, len, &mut RfcKey)?;
//!     assert_eq!(data.as_bytes(), bytes);
//!     // ...the first two bytes say how long the header is (2/4/10, 6/8/14)...
//!     assert_eq!(header_len([bytes[0], bytes[1]]), bytes.len());
//!     // ...and the parser reads the same header back.
//!     assert_eq!(FrameHeader::parse(bytes)?, Some((header, bytes.len())));
//! }
//!
//! // The edges: 125 is the last 7-bit length, 126 the first 16-bit one,
//! // 65,535 the last 16-bit one, 65,536 the first 64-bit one (§5.7's
//! // binary example, 82 7F 00 00 00 00 00 01 00 00).
//! let size = |len| FrameHeader { fin: true, rsv: 0, opcode: OpCode::Binary, mask: None, payload_len: len }.encoded_len();
//! assert_eq!([size(125), size(126), size(65_535), size(65_536)], [2, 4, 4, 10]);
//! # Ok::<(), wslite::Error>(())
//! ```
//!
//! ## The length comes before the key
//!
//! The masking key follows the length, so a receiver knows how long a frame
//! claims to be four bytes before its header ends.
//! [`FrameHeader::parse_until_key`] stops there, so that a frame announcing,
//! say, 2^40 bytes is refused by the limits (§10.4) at its length;
//! [`FrameHeader::parse`] goes on to read the key.
//!
//! ## Why clients mask, and why servers must not (§5.3, §10.3)
//!
//! Masking XORs payload byte `i` with key byte `i % 4` (§5.3:
//! "transformed-octet-i = original-octet-i XOR masking-key-octet-j", with
//! j = i MOD 4). The key is in the frame header, so anyone on the path can
//! undo it: masking hides nothing. It protects *proxies* from a hostile
//! script. §10.3 tells the attack, which an experiment showed against
//! caching proxies deployed in the wild (Huang, Chen, Barth, Rescorla and
//! Jackson, "Talking to Yourself for Fun and Profit", W2SP 2011; the RFC's
//! reference \[TALKING\]). Step by step, as it would go without masking:
//!
//! 1. A user opens a page of `attacker.example`. Its script opens a
//!    WebSocket to `attacker.example`, which is allowed: a browser lets a page
//!    connect to any server, and the attacker's server accepts.
//! 2. The user's traffic passes a *transparent* proxy, one that intercepts
//!    port 80 without the browser knowing, and that does not understand
//!    WebSocket. It forwards the handshake and the `101` like any HTTP
//!    exchange, then goes on reading the connection as HTTP: to it, the next
//!    bytes from the browser are the next request.
//! 3. The script sends a message whose payload is
//!    `GET /script.js HTTP/1.1\r\nHost: victim.example\r\n\r\n`. Unmasked,
//!    those bytes go on the wire as they are, after a 2-byte frame header
//!    that a lax proxy skips (§10.3: one cannot "exhaustively discover and
//!    test that each nonconformant intermediary does not skip such non-HTTP
//!    framing").
//! 4. The proxy reads a request for `http://victim.example/script.js`. It
//!    believes the `Host` header but sends the request down the connection
//!    it already has, to the attacker's server, which answers with a forged
//!    `HTTP/1.1 200 OK`, a long cache lifetime and a script of its own.
//! 5. The proxy caches that answer as `victim.example`'s script. Every user
//!    behind the proxy who loads a page of `victim.example` that uses it now
//!    runs the attacker's code, with `victim.example`'s rights (§10.3: "run
//!    malicious script on other origins, compromising the web security
//!    model").
//!
//! Masking breaks step 3. The client, not the script, picks a fresh key for
//! every frame, after the script has handed over the payload, and the key
//! is unpredictable (§5.3: it "MUST be derived from a strong source of
//! entropy"). On the wire are payload XOR key, bytes the script cannot
//! choose: to make them read `GET ` it would have to guess 32 random bits,
//! anew for every frame. That is also why the key must be unpredictable and
//! not merely different each time (§10.3: with a predictable key the script
//! masks its bytes in advance, and the client's masking unmasks them), and
//! where [`crate::random`] comes in.
//!
//! **Why a server must not mask.** §5.1: "A server MUST NOT mask any frames
//! that it sends to the client", and "A client MUST close a connection if it
//! detects a masked frame". The attack needs bytes that a hostile script
//! chose, going from client to server, where a proxy expects requests. A
//! script in a browser chooses none of the bytes a server sends: those come
//! from the server, which could write any bytes it likes into its answers
//! whether frames were masked or not, and a forged response only poisons a
//! cache after a forged request (§10.3: "to accomplish this request, the
//! client must also be able to forge a request"). Masking that direction
//! would cost work and protect nothing. (Unmasked, a server's frame for a
//! message is the same bytes on every connection, so it can be encoded once
//! for all of them.) And one fixed rule per direction lets each side detect a
//! confused peer: a server that receives an unmasked frame is not talking to
//! a WebSocket client, and a client that receives a masked frame is not
//! talking to a WebSocket server (it may be reading its own frames, echoed
//! back by something in between).
//!
//! What this crate does (in [`protocol::receiver`](crate::protocol::receiver),
//! at the MASK bit, before reading the key or any payload): a server that
//! receives an unmasked frame fails the connection with
//! [`Error::UnmaskedFrame`], and a client that receives a masked one with
//! [`Error::MaskedFrame`]; both queue a Close with code 1002 (protocol
//! error), which §5.1 allows ("a server MAY send a Close frame with a status
//! code of 1002").
//!
//! ```
//! use wslite::protocol::{Connection, Limits, Role};
//! use wslite::{CloseCode, Error};
//! # struct Zeros;
//! # impl wslite::RandomSource for Zeros { fn fill_bytes(&mut self, b: &mut [u8]) { b.fill(0) } }
//!
//! // A server gets "Hi" unmasked: not from a WebSocket client.
//! let mut server = Connection::new(Role::Server, Limits::default());
//! let err = server.receive(&mut [0x81, 0x02, b'H', b'i']).unwrap_err();
//! assert!(matches!(err, Error::UnmaskedFrame));
//! assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
//! // Its Close: opcode 8, 2 bytes, code 1002 = 0x03EA, unmasked.
//! assert_eq!(server.take_pending(&mut Zeros).unwrap().as_bytes(), [0x88, 0x02, 0x03, 0xEA]);
//!
//! // A client gets "Hello" masked with §5.7's key: not from a WebSocket server.
//! let mut client = Connection::new(Role::Client, Limits::default());
//! let mut frame = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
//! let err = client.receive(&mut frame).unwrap_err();
//! assert!(matches!(err, Error::MaskedFrame));
//! assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
//! // Its Close is masked, being a client's (this key is all zeros).
//! assert_eq!(client.take_pending(&mut Zeros).unwrap().as_bytes(), [0x88, 0x82, 0, 0, 0, 0, 0x03, 0xEA]);
//! ```
//!
//! **How it is computed.** Here masking runs a machine word at a time in safe
//! code: the 4-byte key is rotated to the current offset and repeated to fill
//! a `u64`, and whole 8-byte chunks are XORed at once; the compiler
//! vectorises that loop. XOR twice with the same key gives the original
//! back, so [`apply_mask`] both masks and unmasks.
//!
//! ## RSV bits and extensions (§5.2, §9)
//!
//! The three bits after FIN are left for extensions (§5.2: RSV1, RSV2, RSV3
//! "MUST be 0 unless an extension is negotiated that defines meanings for
//! non-zero values"). An extension is agreed on in the opening handshake:
//! the client offers it in `Sec-WebSocket-Extensions`, and the server names
//! in its answer the ones it accepts (§9.1). An extension may give a bit a
//! meaning. Without one that does, a set bit means nothing the two sides
//! agreed on, and §5.2 says the receiver "MUST _Fail the WebSocket
//! Connection_". This crate then answers [`Error::ReservedBitsSet`], with a
//! Close of code 1002 (protocol error). No extension it knows uses RSV2 or
//! RSV3, so those are always refused.
//!
//! permessage-deflate (RFC 7692) takes RSV1 and calls it the "Per-Message
//! Compressed" bit (RFC 7692 §6: a message with it "set on the first
//! fragment of the message is called a 'compressed message'"). It marks a
//! message, not a frame: it is set on the *first* frame of a compressed
//! message only, and the continuation frames belong to the same message.
//! Control frames are never compressed (§6: "An endpoint MUST NOT set the
//! 'Per-Message Compressed' bit of control frames and non-first fragments of
//! a data message", and one that receives such a frame fails the
//! connection). The crate's `permessage_deflate` module (feature `deflate`)
//! implements the extension; see [`crate::permessage_deflate`].
//!
//! What the receiver enforces
//! ([`Receiver`](crate::protocol::Receiver)): until
//! `Receiver::enable_compression` is called (the blocking layer calls it
//! when the handshake agreed on permessage-deflate), any RSV bit is
//! [`Error::ReservedBitsSet`]. After it, RSV1 is allowed on a text or binary
//! frame, which always starts a message, and marks that message compressed;
//! RSV1 on a continuation or a control frame, and RSV2 or RSV3 on any frame,
//! is still [`Error::ReservedBitsSet`], close 1002. The sender sets RSV1
//! only on a message's first frame, and only once compression was
//! negotiated (`Sender::start_compressed_message`).
//!
//! Worked example: RFC 7692 §7.2.3.1 sends "Hello" compressed, unfragmented,
//! as `c1 07 f2 48 cd c9 c9 07 00`. The first byte **`C1`** is `1100 0001`:
//! FIN (`0x80`), RSV1 (`0x40`) and opcode 1 (text). `07` is the length, 7
//! bytes of DEFLATE data (not UTF-8: the text check applies to what
//! inflating gives back).
//!
//! ```
//! use wslite::frame::{FrameHeader, OpCode};
//! use wslite::protocol::{Receiver, Limits, Role, Shared};
//! use wslite::{CloseCode, Error};
//!
//! let hello = [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
//! let (header, _) = FrameHeader::parse(&hello)?.unwrap();
//! assert_eq!((header.fin, header.rsv, header.opcode), (true, 0b100, OpCode::Text));
//!
//! // A client that did not negotiate permessage-deflate: RSV1 breaks §5.2.
//! let (mut receiver, mut shared) = (Receiver::new(Role::Client, Limits::default()), Shared::new());
//! let mut bytes = hello;
//! let err = receiver.receive(&mut shared, &mut bytes).unwrap_err();
//! assert!(matches!(err, Error::ReservedBitsSet { rsv: 0b100 }));
//! assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
//!
//! # #[cfg(feature = "deflate")] {
//! use wslite::protocol::Event;
//! let negotiated = || {
//!     let mut receiver = Receiver::new(Role::Client, Limits::default());
//!     receiver.enable_compression();
//!     (receiver, Shared::new())
//! };
//! // One that did: the message is compressed, its bytes DEFLATE data.
//! let (mut receiver, mut shared) = negotiated();
//! let mut bytes = hello;
//! let event = receiver.receive(&mut shared, &mut bytes)?.event;
//! assert!(matches!(event, Some(Event::Data { compressed: true, fin: true, .. })));
//!
//! // RSV1 on a continuation (here C0: FIN + RSV1 + opcode 0) is refused...
//! let (mut receiver, mut shared) = negotiated();
//! let mut first = [0x41, 0x03, 0xf2, 0x48, 0xcd]; // RSV1 + text, FIN clear
//! receiver.receive(&mut shared, &mut first)?;
//! let err = receiver.receive(&mut shared, &mut [0xc0, 0x04, 0xc9, 0xc9, 0x07, 0x00]).unwrap_err();
//! assert!(matches!(err, Error::ReservedBitsSet { rsv: 0b100 }));
//!
//! // ...and so is RSV1 on a control frame (C9: FIN + RSV1 + ping).
//! let (mut receiver, mut shared) = negotiated();
//! let err = receiver.receive(&mut shared, &mut [0xc9, 0x00]).unwrap_err();
//! assert!(matches!(err, Error::ReservedBitsSet { rsv: 0b100 }));
//! assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
//! # }
//! # Ok::<(), wslite::Error>(())
//! ```

use crate::error::{Error, Result};

// The bit fields of the first two bytes, as the diagram above draws them.

/// Byte 0, bit 7: the last frame of its message (§5.4).
pub const FIN: u8 = 0b1000_0000;
/// Byte 0, bit 6: reserved for an extension (permessage-deflate uses it).
pub const RSV1: u8 = 0b0100_0000;
/// Byte 0, bit 5: reserved for an extension.
pub const RSV2: u8 = 0b0010_0000;
/// Byte 0, bit 4: reserved for an extension.
pub const RSV3: u8 = 0b0001_0000;
/// Byte 0, bits 6–4: the three reserved bits together.
pub const RSV: u8 = 0b0111_0000;
/// Byte 0, bits 3–0: the opcode.
pub const OPCODE: u8 = 0b0000_1111;
/// Byte 1, bit 7: a masking key follows the length (§5.3).
pub const MASK: u8 = 0b1000_0000;
/// Byte 1, bits 6–0: the payload length, or one of the two markers below.
pub const LEN7: u8 = 0b0111_1111;
/// A 7-bit length of 126: a 16-bit length follows.
pub const LEN7_16BIT: u8 = 126;
/// A 7-bit length of 127: a 64-bit length follows.
pub const LEN7_64BIT: u8 = 127;

/// The longest frame header: 2 bytes, 8 of extended length, 4 of mask key.
pub const MAX_HEADER_LEN: usize = 14;

/// The largest payload a control frame may carry (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// What a frame is (§5.2, §11.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OpCode {
    /// 0x0: continues a fragmented message.
    Continuation = 0x0,
    /// 0x1: text, UTF-8.
    Text = 0x1,
    /// 0x2: binary.
    Binary = 0x2,
    /// 0x8: starts or answers the closing handshake.
    Close = 0x8,
    /// 0x9: asks for a pong.
    Ping = 0x9,
    /// 0xA: answers a ping, or a one-way heartbeat.
    Pong = 0xA,
}

impl OpCode {
    /// The opcode for a 4-bit value, or [`Error::ReservedOpcode`].
    pub fn from_bits(bits: u8) -> Result<OpCode> {
        Ok(match bits {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            opcode => return Err(Error::ReservedOpcode { opcode }),
        })
    }

    /// Control frames (close, ping, pong) have the high bit of the opcode set
    /// (§5.5).
    pub const fn is_control(self) -> bool {
        self as u8 & 0x8 != 0
    }

    /// The opcode's name, for people reading logs.
    pub const fn name(self) -> &'static str {
        match self {
            OpCode::Continuation => "continuation",
            OpCode::Text => "text",
            OpCode::Binary => "binary",
            OpCode::Close => "close",
            OpCode::Ping => "ping",
            OpCode::Pong => "pong",
        }
    }
}

/// A frame header, parsed or to be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Last frame of its message.
    pub fin: bool,
    /// RSV1, RSV2, RSV3 as the three low bits (RSV1 = 0b100).
    pub rsv: u8,
    /// The kind of frame.
    pub opcode: OpCode,
    /// The masking key, present on every client-to-server frame.
    pub mask: Option<[u8; 4]>,
    /// Length of the payload that follows the header.
    pub payload_len: u64,
}

/// The length of a header from its first two bytes.
pub const fn header_len(first_two: [u8; 2]) -> usize {
    let len_bytes = match first_two[1] & LEN7 {
        LEN7_16BIT => 2,
        LEN7_64BIT => 8,
        _ => 0,
    };
    let mask_bytes = if first_two[1] & MASK != 0 { 4 } else { 0 };
    2 + len_bytes + mask_bytes
}

impl FrameHeader {
    /// Parses a header from the start of `bytes`.
    ///
    /// Returns `Ok(None)` when `bytes` does not yet hold the whole header
    /// (after 2 bytes, [`header_len`] says how many it needs), and the header
    /// with its length otherwise. Rejects what no frame may carry, whatever
    /// the connection's state: reserved opcodes, a 64-bit length with its top
    /// bit set, a non-minimal length, control frames over 125 bytes or with
    /// FIN clear. Those rules are judged by [`parse_until_key`](Self::parse_until_key),
    /// so a broken one is reported as soon as the bytes that break it are
    /// there, before the header is whole, with the error the whole header
    /// would get.
    pub fn parse(bytes: &[u8]) -> Result<Option<(FrameHeader, usize)>> {
        let Some((mut header, len)) = Self::parse_until_key(bytes)? else {
            return Ok(None);
        };
        if bytes.get(1).is_some_and(|&b1| b1 & MASK != 0) {
            let Some(&[a, b, c, d]) = bytes.get(len..len + 4) else {
                return Ok(None);
            };
            header.mask = Some([a, b, c, d]);
            return Ok(Some((header, len + 4)));
        }
        Ok(Some((header, len)))
    }

    /// Parses a header up to the end of its length field, without the
    /// masking key, and returns it with the number of bytes read (2, 4 or
    /// 10), or `Ok(None)` while the length is incomplete.
    ///
    /// The header's `mask` is `None` here even when a key follows (the MASK
    /// bit, `bytes[1] & MASK`, says whether one does). It exists so that a
    /// receiver can judge a frame — above all its length against its limits
    /// (§10.4) — the moment the length is known, without waiting for four
    /// more bytes from a peer that announced, say, 2^40 bytes of payload.
    /// It applies the same rules as [`parse`](Self::parse).
    pub fn parse_until_key(bytes: &[u8]) -> Result<Option<(FrameHeader, usize)>> {
        let [b0, b1, ..] = *bytes else {
            return Ok(None);
        };
        let fin = b0 & FIN != 0;
        // RSV1..RSV3 as the three low bits.
        let rsv = (b0 & RSV) >> 4;
        let opcode = OpCode::from_bits(b0 & OPCODE)?;

        // After the first two bytes: the extended length, if any.
        let extended_len = match b1 & LEN7 {
            LEN7_16BIT => 2,
            LEN7_64BIT => 8,
            _ => 0,
        };
        let len = 2 + extended_len;
        let Some(extended) = bytes.get(2..len) else {
            return Ok(None);
        };
        let payload_len = match b1 & LEN7 {
            LEN7_16BIT => {
                let n = big_endian(extended);
                if n < 126 {
                    return Err(Error::NonMinimalLength { length: n });
                }
                n
            }
            LEN7_64BIT => {
                let n = big_endian(extended);
                if n >> 63 != 0 {
                    return Err(Error::LengthMsbSet);
                }
                if n <= 0xFFFF {
                    return Err(Error::NonMinimalLength { length: n });
                }
                n
            }
            n => u64::from(n),
        };

        if opcode.is_control() {
            if payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(Error::ControlFrameTooLong {
                    length: payload_len,
                });
            }
            if !fin {
                return Err(Error::FragmentedControlFrame);
            }
        }
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask: None,
            payload_len,
        };
        Ok(Some((header, len)))
    }

    /// How many bytes [`emit`](Self::emit) writes.
    pub const fn encoded_len(&self) -> usize {
        let len_bytes = match self.payload_len {
            0..=125 => 0,
            126..=0xFFFF => 2,
            _ => 8,
        };
        2 + len_bytes + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Writes the header, with the shortest length encoding, at the start of
    /// `out` and returns its length.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        let len = self.encoded_len();
        let out = out
            .get_mut(..len)
            .ok_or(Error::BufferTooSmall { needed: len })?;
        if self.payload_len >> 63 != 0 {
            return Err(Error::InvalidInput(
                "payload length must be below 2^63 (RFC 6455 §5.2)",
            ));
        }
        // The 7-bit length, and how many bytes of extended length follow.
        let (len7, extended_len) = match self.payload_len {
            n @ 0..=125 => (n as u8, 0),
            126..=0xFFFF => (LEN7_16BIT, 2),
            _ => (LEN7_64BIT, 8),
        };
        let fin = if self.fin { FIN } else { 0 };
        let rsv = (self.rsv << 4) & RSV;
        let mask = if self.mask.is_some() { MASK } else { 0 };
        let (first_two, rest) = out.split_at_mut(2);
        first_two.copy_from_slice(&[fin | rsv | self.opcode as u8, mask | len7]);
        // The extended length is the low bytes of the length, big-endian.
        let (extended, key) = rest.split_at_mut(extended_len);
        let be = self.payload_len.to_be_bytes();
        extended.copy_from_slice(be.get(8 - extended_len..).unwrap_or(&[]));
        if let Some(mask) = self.mask {
            key.copy_from_slice(&mask);
        }
        Ok(len)
    }
}

/// The value of a big-endian number of at most 8 bytes.
fn big_endian(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |n, &b| (n << 8) | u64::from(b))
}

/// The key rotated so that its first byte applies at payload position
/// `offset`, repeated to fill a machine word.
fn key_word(key: [u8; 4], offset: usize) -> u64 {
    let k = u32::from_ne_bytes(key);
    // Byte i of the rotated key must be key[(offset + i) % 4]. In memory
    // order that is a rotation towards lower addresses, which is a right
    // rotation of the value on little-endian machines and a left one on
    // big-endian machines.
    let shift = (offset % 4) as u32 * 8;
    let rotated = if cfg!(target_endian = "little") {
        k.rotate_right(shift)
    } else {
        k.rotate_left(shift)
    };
    let half = rotated.to_ne_bytes();
    u64::from_ne_bytes([
        half[0], half[1], half[2], half[3], half[0], half[1], half[2], half[3],
    ])
}

/// Masks or unmasks `data` in place (the operation is its own inverse),
/// where `data` starts at byte `offset` of the payload. Returns the offset
/// just after `data`, for the next piece of the same payload.
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) -> usize {
    let word = key_word(key, offset);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let masked = u64::from_ne_bytes(bytes) ^ word;
        chunk.copy_from_slice(&masked.to_ne_bytes());
    }
    let tail = chunks.into_remainder();
    let word_bytes = word.to_ne_bytes();
    for (byte, k) in tail.iter_mut().zip(word_bytes) {
        *byte ^= k;
    }
    offset.wrapping_add(data.len())
}

/// Copies `src` into the start of `dst`, masked, where `src` starts at byte
/// `offset` of the payload. Returns the offset just after `src`. This is how
/// a client masks a payload it may not modify (for instance a `&str`).
///
/// `dst` should be at least as long as `src`; a shorter one receives only
/// the bytes that fit, and the offset returned is just after those.
pub fn mask_into(src: &[u8], dst: &mut [u8], key: [u8; 4], offset: usize) -> usize {
    let n = src.len().min(dst.len());
    let (dst, _) = dst.split_at_mut(n);
    let (src, _) = src.split_at(n);
    dst.copy_from_slice(src);
    apply_mask(dst, key, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in data.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn rfc_5_7_single_frame_unmasked_text() {
        let bytes = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        let (h, len) = FrameHeader::parse(&bytes).unwrap().unwrap();
        assert_eq!(len, 2);
        assert!(h.fin);
        assert_eq!(h.opcode, OpCode::Text);
        assert_eq!(h.mask, None);
        assert_eq!(h.payload_len, 5);
        assert_eq!(&bytes[len..], b"Hello");
    }

    #[test]
    fn rfc_5_7_single_frame_masked_text() {
        let mut bytes = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let (h, len) = FrameHeader::parse(&bytes).unwrap().unwrap();
        assert_eq!(len, 6);
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        apply_mask(&mut bytes[len..], h.mask.unwrap(), 0);
        assert_eq!(&bytes[len..], b"Hello");
    }

    #[test]
    fn rfc_5_7_headers_round_trip() {
        let cases: [(&[u8], bool, OpCode, u64); 6] = [
            (&[0x01, 0x03], false, OpCode::Text, 3),        // "Hel"
            (&[0x80, 0x02], true, OpCode::Continuation, 2), // "lo"
            (&[0x89, 0x05], true, OpCode::Ping, 5),         // ping "Hello"
            (&[0x82, 0x7E, 0x01, 0x00], true, OpCode::Binary, 256),
            (
                &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0],
                true,
                OpCode::Binary,
                65536,
            ),
            (&[0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d], true, OpCode::Pong, 5),
        ];
        for (bytes, fin, opcode, payload_len) in cases {
            let (h, len) = FrameHeader::parse(bytes).unwrap().unwrap();
            assert_eq!((h.fin, h.opcode, h.payload_len), (fin, opcode, payload_len));
            assert_eq!(len, bytes.len());
            let mut out = [0u8; MAX_HEADER_LEN];
            assert_eq!(h.emit(&mut out).unwrap(), len);
            assert_eq!(&out[..len], bytes);
        }
    }

    #[test]
    fn partial_headers_ask_for_more() {
        let bytes = [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4];
        for cut in 0..bytes.len() {
            assert_eq!(FrameHeader::parse(&bytes[..cut]).unwrap(), None, "{cut}");
        }
        assert!(FrameHeader::parse(&bytes).unwrap().is_some());
    }

    #[test]
    fn the_length_is_known_before_the_key() {
        // A masked header announcing 2^40 bytes: its start is complete at
        // 10 bytes, the header only with the 4 bytes of key.
        let bytes = [0x82, 0xFF, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4];
        for cut in 0..10 {
            assert_eq!(FrameHeader::parse_until_key(&bytes[..cut]).unwrap(), None);
        }
        for cut in 10..bytes.len() {
            let (h, len) = FrameHeader::parse_until_key(&bytes[..cut])
                .unwrap()
                .unwrap();
            assert_eq!((h.payload_len, h.mask, len), (1 << 40, None, 10));
            assert_eq!(FrameHeader::parse(&bytes[..cut]).unwrap(), None);
        }
        let (h, len) = FrameHeader::parse(&bytes).unwrap().unwrap();
        assert_eq!(
            (h.payload_len, h.mask, len),
            (1 << 40, Some([1, 2, 3, 4]), 14)
        );
        // The rules on the length are judged as early.
        assert!(matches!(
            FrameHeader::parse_until_key(&[0x89, 0xFE, 0, 126]),
            Err(Error::ControlFrameTooLong { length: 126 })
        ));
    }

    #[test]
    fn header_rules() {
        assert!(matches!(
            FrameHeader::parse(&[0x83, 0]),
            Err(Error::ReservedOpcode { opcode: 3 })
        ));
        assert!(matches!(
            FrameHeader::parse(&[0x8B, 0]),
            Err(Error::ReservedOpcode { opcode: 0xB })
        ));
        assert!(matches!(
            FrameHeader::parse(&[0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            Err(Error::LengthMsbSet)
        ));
        assert!(matches!(
            FrameHeader::parse(&[0x82, 126, 0, 125]),
            Err(Error::NonMinimalLength { length: 125 })
        ));
        assert!(matches!(
            FrameHeader::parse(&[0x82, 127, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]),
            Err(Error::NonMinimalLength { length: 0xFFFF })
        ));
        assert!(matches!(
            FrameHeader::parse(&[0x89, 126, 0, 126]),
            Err(Error::ControlFrameTooLong { length: 126 })
        ));
        assert!(matches!(
            FrameHeader::parse(&[0x09, 0]),
            Err(Error::FragmentedControlFrame)
        ));
        // RSV bits are reported, not judged: extensions may define them.
        let (h, _) = FrameHeader::parse(&[0xF1, 0]).unwrap().unwrap();
        assert_eq!(h.rsv, 0b111);
    }

    #[test]
    fn mask_matches_bytewise_at_every_offset_and_length() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let data: [u8; 67] = core::array::from_fn(|i| (i * 7 + 3) as u8);
        for offset in 0..8 {
            for len in 0..data.len() {
                let mut fast = data;
                let mut slow = data;
                let next = apply_mask(&mut fast[..len], key, offset);
                naive_mask(&mut slow[..len], key, offset);
                assert_eq!(fast, slow, "offset {offset} len {len}");
                assert_eq!(next, offset + len);
            }
        }
    }

    /// On every CPU, the key word holds the key from `offset` on, in memory
    /// order: that is what lets eight payload bytes be masked with one XOR.
    #[test]
    fn the_key_word_is_the_rotated_key_in_memory_order() {
        let key = [0x11, 0x22, 0x33, 0x44];
        for offset in 0..8 {
            let want: [u8; 8] = core::array::from_fn(|i| key[(offset + i) % 4]);
            assert_eq!(key_word(key, offset).to_ne_bytes(), want, "offset {offset}");
        }
    }

    /// Little-endian (x86, most ARM): memory order is the value's low byte
    /// first, so moving the key towards lower addresses is a right rotation.
    #[cfg(target_endian = "little")]
    #[test]
    fn on_little_endian_the_key_word_rotates_right() {
        let key = [0x11, 0x22, 0x33, 0x44];
        assert_eq!(key_word(key, 0), 0x4433_2211_4433_2211);
        assert_eq!(key_word(key, 1), 0x1144_3322_1144_3322);
        assert_eq!(key_word(key, 3), 0x3322_1144_3322_1144);
    }

    /// Big-endian (PowerPC, MIPS routers, s390x): memory order is the value's
    /// high byte first, so the same move is a left rotation. Only a
    /// big-endian CPU runs this branch of `key_word`: the cross tests run it
    /// on 32-bit PowerPC under qemu-user (`tests/cross/run.sh`).
    #[cfg(target_endian = "big")]
    #[test]
    fn on_big_endian_the_key_word_rotates_left() {
        let key = [0x11, 0x22, 0x33, 0x44];
        assert_eq!(key_word(key, 0), 0x1122_3344_1122_3344);
        assert_eq!(key_word(key, 1), 0x2233_4411_2233_4411);
        assert_eq!(key_word(key, 3), 0x4411_2233_4411_2233);
        // And the RFC's example (§5.7) masks to the same bytes as anywhere.
        let mut hello = *b"Hello";
        apply_mask(&mut hello, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(hello, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }

    #[test]
    fn mask_in_pieces_equals_mask_at_once() {
        let key = [1, 2, 3, 250];
        let data: [u8; 100] = core::array::from_fn(|i| i as u8);
        let mut once = data;
        apply_mask(&mut once, key, 0);
        for cut in 0..data.len() {
            let mut pieces = data;
            let (a, b) = pieces.split_at_mut(cut);
            let next = apply_mask(a, key, 0);
            apply_mask(b, key, next);
            assert_eq!(pieces, once);
        }
        let mut copied = [0u8; 100];
        mask_into(&data, &mut copied, key, 0);
        assert_eq!(copied, once);
    }

    #[test]
    fn every_opcode_has_its_value_name_and_kind() {
        let defined = [
            (0x0, "continuation", false),
            (0x1, "text", false),
            (0x2, "binary", false),
            (0x8, "close", true),
            (0x9, "ping", true),
            (0xA, "pong", true),
        ];
        for (bits, name, control) in defined {
            let Ok(opcode) = OpCode::from_bits(bits) else {
                panic!("{bits:#x} is defined");
            };
            assert_eq!(
                (opcode as u8, opcode.name(), opcode.is_control()),
                (bits, name, control)
            );
        }
        for bits in [0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            assert!(
                matches!(OpCode::from_bits(bits), Err(Error::ReservedOpcode { opcode }) if opcode == bits),
                "{bits:#x}"
            );
        }
    }

    #[test]
    fn the_first_byte_is_fin_three_reserved_bits_and_the_opcode() {
        assert_eq!(RSV, RSV1 | RSV2 | RSV3);
        assert_eq!(FIN | RSV | OPCODE, 0xFF);
        assert_eq!((FIN & RSV) | (RSV & OPCODE) | (FIN & OPCODE), 0);
    }
}
