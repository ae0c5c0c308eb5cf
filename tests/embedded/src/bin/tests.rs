//! The on-target test runner: the core's published vectors and whole
//! exchanges, run on the microcontroller (under QEMU).
//!
//! `#[test]` and libtest need std, so the tests are plain `fn() -> bool` in
//! [`TESTS`]. Each failed check prints its line; at the end the runner prints
//! `N passed, N failed` and the stack peak, and exits through semihosting
//! with success only if every test passed — QEMU's exit status is the
//! verdict.
#![no_std]
#![no_main]

#[path = "../inputs.rs"]
#[allow(dead_code)]
mod inputs;
#[path = "../rt.rs"]
#[allow(dead_code)]
mod rt;
#[path = "../checks.rs"]
#[macro_use]
mod checks;

use wslite::frame::{FrameHeader, OpCode};
use wslite::handshake::{
    self, accept_key, generate_key, write_accept_response, write_error_response, write_request,
    ClientRequest, Header, RequestParser, ResponseParser, Status,
};
use wslite::protocol::{Connection, DataKind, Event, Limits, Role, State};
use wslite::{base64, sha1, CloseCode, Error, RandomSource};

/// A xorshift32 generator: a test's stand-in for a hardware RNG.
struct XorShift(u32);

impl RandomSource for XorShift {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            *b = self.0 as u8;
        }
    }
}

/// Lowercase hex of a 20-byte digest, to compare with published vectors.
fn hex20(d: &[u8; 20]) -> [u8; 40] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 40];
    for (i, b) in d.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 15)];
    }
    out
}

// ----- SHA-1: FIPS 180-2 appendix A (the published test vectors) -----

fn sha1_abc() -> bool {
    check!(&hex20(&sha1::digest(b"abc")) == b"a9993e364706816aba3e25717850c26c9cd0d89d");
    true
}

fn sha1_448_bits() -> bool {
    let msg = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check!(&hex20(&sha1::digest(msg)) == b"84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    true
}

fn sha1_empty() -> bool {
    check!(&hex20(&sha1::digest(b"")) == b"da39a3ee5e6b4b0d3255bfef95601890afd80709");
    true
}

fn sha1_million_a() -> bool {
    // Fed in uneven pieces (37 bytes) so partial blocks are exercised too.
    let piece = [b'a'; 37];
    let mut hash = sha1::Sha1::new();
    let mut left = 1_000_000usize;
    while left > 0 {
        let n = left.min(piece.len());
        hash.update(&piece[..n]);
        left -= n;
    }
    check!(&hex20(&hash.finalize()) == b"34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    true
}

// ----- base64: RFC 4648 §10 -----

const BASE64_VECTORS: [(&[u8], &[u8]); 7] = [
    (b"", b""),
    (b"f", b"Zg=="),
    (b"fo", b"Zm8="),
    (b"foo", b"Zm9v"),
    (b"foob", b"Zm9vYg=="),
    (b"fooba", b"Zm9vYmE="),
    (b"foobar", b"Zm9vYmFy"),
];

fn base64_rfc4648_encode() -> bool {
    for (plain, encoded) in BASE64_VECTORS {
        let mut out = [0u8; 8];
        let n = base64::encode(plain, &mut out);
        check!(n == Some(encoded.len()));
        check!(&out[..encoded.len()] == encoded);
    }
    true
}

fn base64_rfc4648_decode() -> bool {
    for (plain, encoded) in BASE64_VECTORS {
        let mut out = [0u8; 6];
        let n = ok!(base64::decode(encoded, &mut out));
        check!(&out[..n] == plain);
    }
    true
}

fn base64_rejects_non_canonical() -> bool {
    let mut out = [0u8; 6];
    check!(base64::decode(b"Zg=", &mut out).is_err()); // length
    check!(base64::decode(b"Zh==", &mut out).is_err()); // unused bits set
    check!(base64::decode(b"Z===", &mut out).is_err()); // too much padding
    check!(base64::decode(b"Zm9v!A==", &mut out).is_err()); // alphabet
    true
}

// ----- The opening handshake: RFC 6455 §1.3, §4 -----

/// RFC 6455 §1.3, the client's handshake: the request the size binaries
/// receive too.
const RFC_REQUEST: &[u8] = inputs::REQUEST;

/// RFC 6455 §1.3, the server's handshake (with the subprotocol chosen).
const RFC_RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
Sec-WebSocket-Protocol: chat\r\n\r\n";

fn accept_key_rfc6455_1_3() -> bool {
    check!(&accept_key(b"dGhlIHNhbXBsZSBub25jZQ==") == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    true
}

fn generated_key_is_base64_of_16_bytes() -> bool {
    let mut rng = XorShift(0x1234_5678);
    let key = generate_key(&mut rng);
    let mut nonce = [0u8; 18];
    check!(base64::decode(&key, &mut nonce) == Ok(16));
    check!(generate_key(&mut rng) != key);
    true
}

fn server_handshake_rfc6455_1_3() -> bool {
    let mut parser = RequestParser::new(handshake::Limits::default());
    let mut headers = [Header::EMPTY; 16];
    let Status::Complete((len, request)) = ok!(parser.parse(RFC_REQUEST, &mut headers)) else {
        check!(false);
        return false;
    };
    check!(len == RFC_REQUEST.len());
    check!(request.method() == "GET");
    check!(request.path() == "/chat");
    check!(request.headers().len() == 7);
    check!(request.host() == Some(&b"server.example.com"[..]));
    check!(request.origin() == Some(&b"http://example.com"[..]));
    let mut protocols = request.protocols();
    check!(protocols.next() == Some("chat"));
    check!(protocols.next() == Some("superchat"));
    check!(protocols.next().is_none());
    let key = ok!(request.validate_upgrade());
    check!(key.as_bytes() == b"dGhlIHNhbXBsZSBub25jZQ==");
    let mut out = [0u8; 256];
    let n = ok!(write_accept_response(&mut out, &key, Some("chat"), &[]));
    check!(&out[..n] == RFC_RESPONSE);
    // Too small an output buffer says how much is needed.
    check!(matches!(
        write_accept_response(&mut out[..20], &key, Some("chat"), &[]),
        Err(Error::BufferTooSmall { needed }) if needed == RFC_RESPONSE.len()
    ));
    true
}

fn request_parsed_byte_by_byte() -> bool {
    let mut parser = RequestParser::new(handshake::Limits::default());
    for end in 0..RFC_REQUEST.len() {
        let mut headers = [Header::EMPTY; 16];
        check!(ok!(parser.parse(&RFC_REQUEST[..end], &mut headers)).is_partial());
    }
    let mut headers = [Header::EMPTY; 16];
    check!(ok!(parser.parse(RFC_REQUEST, &mut headers)).is_complete());
    true
}

fn handshake_refusals() -> bool {
    // A version other than 13 is refused with 426 and the version we speak.
    let request = b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 8\r\n\r\n";
    let mut parser = RequestParser::new(handshake::Limits::default());
    let mut headers = [Header::EMPTY; 8];
    let Status::Complete((_, req)) = ok!(parser.parse(request, &mut headers)) else {
        check!(false);
        return false;
    };
    let error = match req.validate_upgrade() {
        Err(e) => e,
        Ok(_) => {
            check!(false);
            return false;
        }
    };
    check!(matches!(error, Error::UnsupportedWebSocketVersion));
    let mut out = [0u8; 512];
    let n = ok!(write_error_response(&mut out, &error));
    check!(out[..n].starts_with(b"HTTP/1.1 426 Upgrade Required\r\n"));
    check!(out[..n]
        .windows(27)
        .any(|w| w == b"Sec-WebSocket-Version: 13\r\n"));
    // Too many headers for the caller's array: 431, never a panic.
    let mut small = [Header::EMPTY; 2];
    let mut parser = RequestParser::new(handshake::Limits::default());
    let error = parser.parse(RFC_REQUEST, &mut small).err();
    check!(matches!(error, Some(Error::TooManyHeaders { .. })));
    check!(error.and_then(|e| e.http_status()) == Some(431));
    // A bare LF is refused.
    let mut parser = RequestParser::new(handshake::Limits::default());
    let mut headers = [Header::EMPTY; 8];
    check!(parser
        .parse(b"GET / HTTP/1.1\nHost: h\n\n", &mut headers)
        .is_err());
    true
}

fn client_exchange() -> bool {
    let mut rng = XorShift(0xC0FF_EE11);
    // The client writes its request with a fresh key ...
    let key = generate_key(&mut rng);
    let mut request = [0u8; 256];
    let req = ClientRequest {
        protocols: &["chat"],
        ..ClientRequest::new("server.example.com", "/chat", &key)
    };
    let n = ok!(write_request(&mut request, &req));
    // ... the server parses it and answers ...
    let mut parser = RequestParser::new(handshake::Limits::default());
    let mut headers = [Header::EMPTY; 16];
    let Status::Complete((len, parsed)) = ok!(parser.parse(&request[..n], &mut headers)) else {
        check!(false);
        return false;
    };
    check!(len == n);
    let client_key = ok!(parsed.validate_upgrade());
    check!(client_key.as_bytes() == &key);
    let mut response = [0u8; 256];
    let m = ok!(write_accept_response(
        &mut response,
        &client_key,
        Some("chat"),
        &[]
    ));
    // ... and the client checks the 101 against its key.
    let mut parser = ResponseParser::new(handshake::Limits::default());
    let mut headers = [Header::EMPTY; 16];
    let Status::Complete((len, resp)) = ok!(parser.parse(&response[..m], &mut headers)) else {
        check!(false);
        return false;
    };
    check!(len == m);
    check!(resp.status() == 101);
    let accepted = ok!(resp.verify(&key, &["chat"], &[]));
    check!(accepted.protocol == Some("chat"));
    // Another key, or an unoffered subprotocol, is refused.
    let other = generate_key(&mut rng);
    check!(matches!(
        resp.verify(&other, &["chat"], &[]),
        Err(Error::InvalidAccept)
    ));
    check!(matches!(
        resp.verify(&key, &[], &[]),
        Err(Error::UnofferedSubprotocol)
    ));

    // Then the client sends a masked text frame that the server unmasks.
    let mut client = Connection::new(Role::Client, Limits::default());
    let mut server = Connection::new(Role::Server, Limits::default());
    let text = b"Hello, embedded world";
    let header = ok!(client.encode_data(DataKind::Text, true, text.len() as u64, &mut rng));
    check!(header.mask().is_some());
    let mut wire = [0u8; 64];
    let h = header.as_bytes().len();
    check!(h == 6);
    check!(header.as_bytes()[0] == 0x81 && header.as_bytes()[1] == 0x80 | text.len() as u8);
    wire[..h].copy_from_slice(header.as_bytes());
    wire[h..h + text.len()].copy_from_slice(text);
    // Masked in two pieces, as a streaming sender would.
    let next = header.mask_payload(&mut wire[h..h + 5], 0);
    header.mask_payload(&mut wire[h + 5..h + text.len()], next);
    check!(&wire[h..h + text.len()] != text);
    let received = ok!(server.receive(&mut wire[..h + text.len()]));
    check!(received.consumed == h + text.len());
    check!(
        received.event
            == Some(Event::Data {
                kind: DataKind::Text,
                bytes: text,
                fin: true,
                compressed: false,
            })
    );
    // The client closes; its Close is masked and the server echoes it.
    let close = ok!(client.encode_close(CloseCode::NORMAL, "bye", &mut rng));
    let mut wire = [0u8; 16];
    let c = close.as_bytes().len();
    check!(c == 2 + 4 + 5);
    wire[..c].copy_from_slice(close.as_bytes());
    let received = ok!(server.receive(&mut wire[..c]));
    let Some(Event::Close(Some(frame))) = received.event else {
        check!(false);
        return false;
    };
    check!(frame.code == CloseCode::NORMAL && frame.reason == "bye");
    let echo = server.take_pending(&mut rng);
    check!(echo.map(|f| f.as_bytes() == [0x88, 0x02, 0x03, 0xe8]) == Some(true));
    check!(server.is_closed());
    let mut wire = [0x88, 0x02, 0x03, 0xe8];
    check!(ok!(client.receive(&mut wire)).consumed == 4);
    check!(client.state() == State::Closed);
    true
}

// ----- Frames: the examples of RFC 6455 §5.7 -----

/// Feeds `bytes` to `conn` in one buffer and returns the single event as
/// (kind, payload, fin), checking all bytes were used.
fn one_data_event(conn: &mut Connection, bytes: &mut [u8], expect: &[u8], fin: bool) -> bool {
    let len = bytes.len();
    let received = ok!(conn.receive(bytes));
    check!(received.consumed == len);
    check!(
        received.event
            == Some(Event::Data {
                kind: DataKind::Text,
                bytes: expect,
                fin,
                compressed: false,
            })
    );
    true
}

fn rfc_5_7_unmasked_text() -> bool {
    let mut conn = Connection::new(Role::Client, Limits::default());
    let mut frame = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    one_data_event(&mut conn, &mut frame, b"Hello", true)
}

fn rfc_5_7_masked_text() -> bool {
    let mut conn = Connection::new(Role::Server, Limits::default());
    let mut frame = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    one_data_event(&mut conn, &mut frame, b"Hello", true)
}

fn rfc_5_7_masked_text_byte_by_byte() -> bool {
    // The same frame arriving one byte per read: the header is collected
    // across calls and each payload byte comes out as its own piece.
    let mut conn = Connection::new(Role::Server, Limits::default());
    let frame = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let mut text = [0u8; 5];
    let mut got = 0;
    let mut fin_seen = false;
    for &byte in &frame {
        let mut one = [byte];
        let received = ok!(conn.receive(&mut one));
        check!(received.consumed == 1);
        if let Some(Event::Data {
            kind, bytes, fin, ..
        }) = received.event
        {
            check!(kind == DataKind::Text && bytes.len() == 1 && !fin_seen);
            text[got] = bytes[0];
            got += 1;
            fin_seen = fin;
        }
    }
    check!(got == 5 && &text == b"Hello" && fin_seen);
    true
}

fn rfc_5_7_fragmented_text() -> bool {
    let mut conn = Connection::new(Role::Client, Limits::default());
    let mut first = [0x01, 0x03, 0x48, 0x65, 0x6c];
    let mut second = [0x80, 0x02, 0x6c, 0x6f];
    check!(one_data_event(&mut conn, &mut first, b"Hel", false));
    check!(one_data_event(&mut conn, &mut second, b"lo", true));
    true
}

fn rfc_5_7_ping_and_pong() -> bool {
    let mut rng = XorShift(7);
    // An unmasked ping (server to client) ...
    let mut client = Connection::new(Role::Client, Limits::default());
    let mut ping = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    let received = ok!(client.receive(&mut ping));
    check!(received.consumed == 7);
    check!(received.event == Some(Event::Ping(b"Hello")));
    // ... is answered by the client with a masked pong carrying "Hello" ...
    let pong = client.take_pending(&mut rng);
    check!(pong.is_some());
    let pong = pong.unwrap();
    let bytes = pong.as_bytes();
    check!(bytes.len() == 11 && bytes[0] == 0x8a && bytes[1] == 0x85);
    check!(pong.opcode() == OpCode::Pong);
    check!(client.take_pending(&mut rng).is_none());
    // ... which the server reads back as the §5.7 masked pong would be.
    let mut server = Connection::new(Role::Server, Limits::default());
    let mut wire = [0u8; 11];
    wire.copy_from_slice(bytes);
    check!(ok!(server.receive(&mut wire)).event == Some(Event::Pong(b"Hello")));
    // The RFC's own masked pong.
    let mut frame = [
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let received = ok!(server.receive(&mut frame));
    check!(received.consumed == 11);
    check!(received.event == Some(Event::Pong(b"Hello")));
    check!(!server.has_pending());
    true
}

/// Streams one unmasked binary frame of `len` bytes (payload byte i is
/// `i as u8 ^ 0x5a`) with `header` through a small buffer into a client
/// connection, as a microcontroller reading from its socket would, and
/// checks every byte of every piece.
fn stream_binary(header: &[u8], len: usize) -> bool {
    let mut conn = Connection::new(Role::Client, Limits::default());
    let mut buf = [0u8; 96];
    let mut sent = 0; // bytes of the frame "read from the network"
    let total = header.len() + len;
    let mut filled = 0;
    let mut got = 0; // payload bytes received
    let mut fin_seen = false;
    let mut reads = 0;
    while sent < total || filled > 0 {
        // "Read": top the buffer up, in reads of uneven size.
        let room = (buf.len() - filled).min(23 + reads % 41);
        reads += 1;
        for slot in &mut buf[filled..filled + room.min(total - sent)] {
            *slot = if sent < header.len() {
                header[sent]
            } else {
                (sent - header.len()) as u8 ^ 0x5a
            };
            sent += 1;
            filled += 1;
        }
        let mut start = 0;
        loop {
            let received = ok!(conn.receive(&mut buf[start..filled]));
            let used = received.consumed;
            match received.event {
                Some(Event::Data {
                    kind, bytes, fin, ..
                }) => {
                    check!(kind == DataKind::Binary && !fin_seen);
                    for &b in bytes {
                        check!(b == got as u8 ^ 0x5a);
                        got += 1;
                    }
                    fin_seen = fin;
                }
                Some(_) => check!(false),
                None if used == 0 => break,
                None => {}
            }
            start += used;
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
        check!(reads < 100_000);
    }
    check!(got == len && fin_seen);
    true
}

fn rfc_5_7_binary_256_bytes() -> bool {
    // §5.7: "256 bytes binary message in a single unmasked frame".
    check!(stream_binary(&[0x82, 0x7E, 0x01, 0x00], 256));
    // And the header a server writes for it.
    let mut server = Connection::new(Role::Server, Limits::default());
    let header = ok!(server.encode_data(DataKind::Binary, true, 256, &mut XorShift(1)));
    check!(header.as_bytes() == [0x82, 0x7E, 0x01, 0x00]);
    true
}

fn rfc_5_7_binary_64_kib() -> bool {
    // §5.7: "64KiB binary message in a single unmasked frame".
    let header = [0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00];
    check!(stream_binary(&header, 65536));
    let mut server = Connection::new(Role::Server, Limits::default());
    let encoded = ok!(server.encode_data(DataKind::Binary, true, 65536, &mut XorShift(1)));
    check!(encoded.as_bytes() == header);
    true
}

fn frame_header_round_trip() -> bool {
    for (len, mask) in [
        (0u64, None),
        (125, Some([1, 2, 3, 4])),
        (126, None),
        (65535, None),
        (65536, Some([9, 9, 9, 9])),
    ] {
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: OpCode::Binary,
            mask,
            payload_len: len,
        };
        let mut out = [0u8; 14];
        let n = ok!(header.emit(&mut out));
        check!(n == header.encoded_len());
        let parsed = ok!(FrameHeader::parse(&out[..n]));
        check!(parsed == Some((header, n)));
        check!(ok!(FrameHeader::parse(&out[..n - 1])).is_none());
    }
    true
}

// ----- Failing the connection: the close code names the rule (§7.4.1) -----

fn invalid_utf8_closes_with_1007() -> bool {
    // A masked text frame whose payload is "κόσμε" followed by ED A0 80, a
    // UTF-16 surrogate, which UTF-8 forbids (RFC 3629 §3).
    let payload = [
        0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65,
    ];
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut frame = [0u8; 6 + 15];
    frame[0] = 0x81;
    frame[1] = 0x80 | payload.len() as u8;
    frame[2..6].copy_from_slice(&key);
    for (i, b) in payload.iter().enumerate() {
        frame[6 + i] = b ^ key[i % 4];
    }
    let mut conn = Connection::new(Role::Server, Limits::default());
    let error = conn.receive(&mut frame).err();
    check!(matches!(error, Some(Error::InvalidUtf8)));
    check!(error.and_then(|e| e.close_code()) == Some(CloseCode::INVALID_PAYLOAD));
    // The queued Close: unmasked (server), code 1007 = 0x03EF.
    let close = conn.take_pending(&mut XorShift(1));
    check!(close.map(|f| f.as_bytes() == [0x88, 0x02, 0x03, 0xef]) == Some(true));
    check!(conn.is_closed());
    check!(matches!(
        conn.receive(&mut [0x81, 0x80]),
        Err(Error::ConnectionClosed)
    ));
    true
}

fn invalid_utf8_fails_fast_across_fragments() -> bool {
    // "Hel" then a continuation starting with a lone continuation byte: the
    // first fragment passes, the second fails before the message ends.
    let mut conn = Connection::new(Role::Client, Limits::default());
    let mut first = [0x01, 0x03, 0x48, 0x65, 0x6c];
    check!(one_data_event(&mut conn, &mut first, b"Hel", false));
    let mut second = [0x00, 0x03, 0x80, 0x6c, 0x6f];
    check!(matches!(conn.receive(&mut second), Err(Error::InvalidUtf8)));
    let close = conn.take_pending(&mut XorShift(1));
    // A client masks its Close: 0x88, 0x82, key, masked 03 EF.
    check!(
        close.map(|f| f.as_bytes().len() == 8 && f.as_bytes()[..2] == [0x88, 0x82]) == Some(true)
    );
    true
}

fn protocol_violations_close_with_1002_or_1009() -> bool {
    let cases: [(&[u8], u16); 6] = [
        (&[0x81, 0x05, b'H', b'e', b'l', b'l', b'o'], 1002), // unmasked from a client
        (&[0x83, 0x80, 0, 0, 0, 0], 1002),                   // reserved opcode
        (&[0xC1, 0x80, 0, 0, 0, 0], 1002),                   // RSV1 without extension
        (&[0x09, 0x80, 0, 0, 0, 0], 1002),                   // fragmented ping
        (&[0x82, 0xFE, 0x10, 0x00, 0, 0, 0, 0], 1009),       // 4096 > frame limit
        // 2^40 bytes, above usize::MAX on these 32-bit targets, refused at
        // its length, before the mask key.
        (&[0x82, 0xFF, 0, 0, 1, 0, 0, 0, 0, 0], 1009),
    ];
    for (bytes, code) in cases {
        let mut conn = Connection::new(Role::Server, Limits::default().max_frame_size(1024));
        let mut buf = [0u8; 16];
        buf[..bytes.len()].copy_from_slice(bytes);
        let error = conn.receive(&mut buf[..bytes.len()]).err();
        check!(error.and_then(|e| e.close_code()) == Some(CloseCode(code)));
        let close = conn.take_pending(&mut XorShift(1));
        let be = code.to_be_bytes();
        check!(close.map(|f| f.as_bytes() == [0x88, 0x02, be[0], be[1]]) == Some(true));
    }
    true
}

fn server_closing_handshake() -> bool {
    let mut rng = XorShift(3);
    let mut conn = Connection::new(Role::Server, Limits::default());
    let close = ok!(conn.encode_close(CloseCode::NORMAL, "", &mut rng));
    check!(close.as_bytes() == [0x88, 0x02, 0x03, 0xe8]);
    check!(conn.state() == State::CloseSent);
    check!(conn.encode_data(DataKind::Text, true, 1, &mut rng).is_err());
    // The client's masked answer completes the handshake.
    let mut answer = [0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2];
    let received = ok!(conn.receive(&mut answer));
    check!(received.consumed == 8);
    check!(conn.state() == State::Closed && conn.is_closed());
    true
}

/// Prints the sizes of the core's state on this target (for the notes).
fn sizes() -> bool {
    use core::mem::size_of;
    checks::print_sizes(&[
        ("Connection", size_of::<Connection>()),
        ("RequestParser", size_of::<RequestParser>()),
        ("ResponseParser", size_of::<ResponseParser>()),
        ("Header", size_of::<Header>()),
        ("Sha1", size_of::<sha1::Sha1>()),
        ("DataHeader", size_of::<wslite::protocol::DataHeader>()),
        ("ControlFrame", size_of::<wslite::protocol::ControlFrame>()),
    ]);
    true
}

const TESTS: &[(&str, fn() -> bool)] = &[
    ("sha1_abc", sha1_abc),
    ("sha1_448_bits", sha1_448_bits),
    ("sha1_empty", sha1_empty),
    ("sha1_million_a", sha1_million_a),
    ("base64_rfc4648_encode", base64_rfc4648_encode),
    ("base64_rfc4648_decode", base64_rfc4648_decode),
    ("base64_rejects_non_canonical", base64_rejects_non_canonical),
    ("accept_key_rfc6455_1_3", accept_key_rfc6455_1_3),
    (
        "generated_key_is_base64_of_16_bytes",
        generated_key_is_base64_of_16_bytes,
    ),
    ("server_handshake_rfc6455_1_3", server_handshake_rfc6455_1_3),
    ("request_parsed_byte_by_byte", request_parsed_byte_by_byte),
    ("handshake_refusals", handshake_refusals),
    ("client_exchange", client_exchange),
    ("rfc_5_7_unmasked_text", rfc_5_7_unmasked_text),
    ("rfc_5_7_masked_text", rfc_5_7_masked_text),
    (
        "rfc_5_7_masked_text_byte_by_byte",
        rfc_5_7_masked_text_byte_by_byte,
    ),
    ("rfc_5_7_fragmented_text", rfc_5_7_fragmented_text),
    ("rfc_5_7_ping_and_pong", rfc_5_7_ping_and_pong),
    ("rfc_5_7_binary_256_bytes", rfc_5_7_binary_256_bytes),
    ("rfc_5_7_binary_64_kib", rfc_5_7_binary_64_kib),
    ("frame_header_round_trip", frame_header_round_trip),
    (
        "invalid_utf8_closes_with_1007",
        invalid_utf8_closes_with_1007,
    ),
    (
        "invalid_utf8_fails_fast_across_fragments",
        invalid_utf8_fails_fast_across_fragments,
    ),
    (
        "protocol_violations_close_with_1002_or_1009",
        protocol_violations_close_with_1002_or_1009,
    ),
    ("server_closing_handshake", server_closing_handshake),
    ("sizes", sizes),
];

#[no_mangle]
pub extern "C" fn rust_main() -> ! {
    let (mut passed, mut failed) = (0u32, 0u32);
    for (name, test) in TESTS {
        if test() {
            passed += 1;
        } else {
            rt::print("FAIL ");
            rt::print(name);
            rt::print("\n");
            failed += 1;
        }
    }
    let peak = rt::stack_peak();
    rt::print_dec(passed);
    rt::print(" passed, ");
    rt::print_dec(failed);
    rt::print(" failed\nstack: peak ");
    rt::print_dec(peak);
    rt::print(" bytes of ");
    rt::print_dec(rt::stack_room());
    rt::print("\n");
    rt::exit(failed == 0 && passed == TESTS.len() as u32)
}
