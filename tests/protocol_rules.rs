//! One test per rule of the connection state machine (RFC 6455 §5, §7),
//! each asserting the exact error and the close code queued for the peer.

use wslite::frame::apply_mask;
use wslite::protocol::{Connection, DataKind, Event, Limits, Role, State};
use wslite::{CloseCode, Error, RandomSource};

/// A fixed "random" source, so masked output is predictable in tests.
struct Fixed(u8);

impl RandomSource for Fixed {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            self.0 = self.0.wrapping_mul(31).wrapping_add(7);
            *b = self.0;
        }
    }
}

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Builds a frame by hand (not with the crate's encoder, so the tests do not
/// trust the code they test): `b0` is FIN|RSV|opcode, masked with KEY when
/// `masked`.
fn raw_frame(b0: u8, masked: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![b0];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(mask_bit | n as u8),
        n @ 126..=0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let start = out.len();
    if masked {
        out.extend_from_slice(&KEY);
    }
    let body = out.len();
    out.extend_from_slice(payload);
    if masked {
        for i in 0..payload.len() {
            out[body + i] ^= KEY[i % 4];
        }
    }
    let _ = start;
    out
}

/// A frame as a client sends it to our server: masked.
fn to_server(b0: u8, payload: &[u8]) -> Vec<u8> {
    raw_frame(b0, true, payload)
}

/// An owned copy of an event, so tests can collect several.
#[derive(Debug, PartialEq, Eq, Clone)]
enum Owned {
    Data(DataKind, Vec<u8>, bool),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<(u16, String)>),
}

fn own(event: Event<'_>) -> Owned {
    match event {
        Event::Data {
            kind, bytes, fin, ..
        } => Owned::Data(kind, bytes.to_vec(), fin),
        Event::Ping(p) => Owned::Ping(p.to_vec()),
        Event::Pong(p) => Owned::Pong(p.to_vec()),
        Event::Close(frame) => Owned::Close(frame.map(|f| (f.code.0, f.reason.to_string()))),
    }
}

/// Feeds `bytes` whole and collects every event, or the first error.
fn feed(conn: &mut Connection, bytes: &[u8]) -> Result<Vec<Owned>, Error> {
    let mut buf = bytes.to_vec();
    let mut pos = 0;
    let mut events = Vec::new();
    loop {
        // After the closing handshake the connection reads nothing more.
        if conn.state() == State::Closed && !events.is_empty() {
            return Ok(events);
        }
        let received = conn.receive(&mut buf[pos..])?;
        let consumed = received.consumed;
        match received.event {
            Some(event) => events.push(own(event)),
            None if consumed == 0 => return Ok(events),
            None => {}
        }
        pos += consumed;
    }
}

/// The Close frame the connection queued, as (code, masked?).
fn queued_close(conn: &mut Connection) -> Option<u16> {
    let mut rng = Fixed(1);
    let mut close = None;
    while let Some(frame) = conn.take_pending(&mut rng) {
        let mut bytes = frame.as_bytes().to_vec();
        if bytes[0] & 0x0F != 0x8 {
            continue; // a pong
        }
        let masked = bytes[1] & 0x80 != 0;
        let payload_at = if masked { 6 } else { 2 };
        if masked {
            let key = [bytes[2], bytes[3], bytes[4], bytes[5]];
            apply_mask(&mut bytes[payload_at..], key, 0);
        }
        close = Some(u16::from_be_bytes([
            bytes[payload_at],
            bytes[payload_at + 1],
        ]));
    }
    close
}

/// Feeds bytes to a fresh server and expects the given violation and code.
fn assert_server_fails(bytes: &[u8], expected: fn(&Error) -> bool, code: u16) {
    let mut conn = Connection::new(Role::Server, Limits::default());
    let err = feed(&mut conn, bytes).expect_err("violation must be an error");
    assert!(expected(&err), "unexpected error {err:?}");
    assert_eq!(err.close_code(), Some(CloseCode(code)));
    assert_eq!(queued_close(&mut conn), Some(code), "close frame queued");
    assert_eq!(conn.state(), State::Closed);
    assert!(conn.is_closed());
    assert!(matches!(
        conn.receive(&mut [0x81, 0x80, 0, 0, 0, 0]),
        Err(Error::ConnectionClosed)
    ));
}

// ---------------------------------------------------------------------------
// RFC 6455 §5.7 examples, through the connection
// ---------------------------------------------------------------------------

#[test]
fn rfc_5_7_unmasked_hello_to_client() {
    let mut client = Connection::new(Role::Client, Limits::default());
    let events = feed(&mut client, &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]).unwrap();
    assert_eq!(
        events,
        [Owned::Data(DataKind::Text, b"Hello".to_vec(), true)]
    );
}

#[test]
fn rfc_5_7_masked_hello_to_server() {
    let mut server = Connection::new(Role::Server, Limits::default());
    let bytes = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let events = feed(&mut server, &bytes).unwrap();
    assert_eq!(
        events,
        [Owned::Data(DataKind::Text, b"Hello".to_vec(), true)]
    );
}

#[test]
fn rfc_5_7_fragmented_hello() {
    let mut client = Connection::new(Role::Client, Limits::default());
    let bytes = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    let events = feed(&mut client, &bytes).unwrap();
    assert_eq!(
        events,
        [
            Owned::Data(DataKind::Text, b"Hel".to_vec(), false),
            Owned::Data(DataKind::Text, b"lo".to_vec(), true),
        ]
    );
}

#[test]
fn rfc_5_7_ping_and_masked_pong() {
    let mut client = Connection::new(Role::Client, Limits::default());
    let events = feed(&mut client, &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]).unwrap();
    assert_eq!(events, [Owned::Ping(b"Hello".to_vec())]);
    // The automatic answer is a masked pong with the same payload.
    let pong = client.take_pending(&mut Fixed(3)).unwrap();
    let mut bytes = pong.as_bytes().to_vec();
    assert_eq!(&bytes[..2], &[0x8a, 0x85]);
    let key = [bytes[2], bytes[3], bytes[4], bytes[5]];
    apply_mask(&mut bytes[6..], key, 0);
    assert_eq!(&bytes[6..], b"Hello");

    let mut server = Connection::new(Role::Server, Limits::default());
    let masked_pong = [
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let events = feed(&mut server, &masked_pong).unwrap();
    assert_eq!(events, [Owned::Pong(b"Hello".to_vec())]);
}

#[test]
fn rfc_5_7_256_bytes_and_64_kib_binary() {
    for size in [256usize, 65536] {
        let payload: Vec<u8> = (0..size).map(|i| i as u8).collect();
        let mut bytes = vec![0x82];
        if size == 256 {
            bytes.extend_from_slice(&[0x7E, 0x01, 0x00]);
        } else {
            bytes.extend_from_slice(&[0x7F, 0, 0, 0, 0, 0, 1, 0, 0]);
        }
        bytes.extend_from_slice(&payload);
        let mut client = Connection::new(Role::Client, Limits::default());
        let events = feed(&mut client, &bytes).unwrap();
        assert_eq!(events, [Owned::Data(DataKind::Binary, payload, true)]);
    }
}

#[test]
fn bytes_one_at_a_time_give_the_same_message() {
    let text = "héllo wörld, κόσμε 😀".repeat(5);
    let bytes = [
        to_server(0x01, &text.as_bytes()[..37]),
        to_server(0x89, b"ping in between"),
        to_server(0x80, &text.as_bytes()[37..]),
    ]
    .concat();
    let mut server = Connection::new(Role::Server, Limits::default());
    let mut pending: Vec<u8> = Vec::new();
    let mut message = Vec::new();
    let mut pings = 0;
    for &b in &bytes {
        pending.push(b);
        loop {
            let received = server.receive(&mut pending).unwrap();
            let consumed = received.consumed;
            match received.event {
                Some(Event::Data {
                    kind, bytes, fin, ..
                }) => {
                    assert_eq!(kind, DataKind::Text);
                    message.extend_from_slice(bytes);
                    if fin {
                        assert_eq!(std::str::from_utf8(&message).unwrap(), text);
                    }
                }
                Some(Event::Ping(p)) => {
                    assert_eq!(p, b"ping in between");
                    pings += 1;
                }
                Some(other) => panic!("unexpected {other:?}"),
                None if consumed == 0 => break,
                None => {}
            }
            pending.drain(..consumed);
        }
    }
    assert_eq!(pings, 1);
    assert_eq!(message, text.as_bytes());
}

// ---------------------------------------------------------------------------
// Masking by role (§5.1)
// ---------------------------------------------------------------------------

#[test]
fn server_rejects_unmasked_frames_with_1002() {
    assert_server_fails(
        &raw_frame(0x81, false, b"hi"),
        |e| matches!(e, Error::UnmaskedFrame),
        1002,
    );
}

#[test]
fn client_rejects_masked_frames_with_1002() {
    let mut client = Connection::new(Role::Client, Limits::default());
    let err = feed(&mut client, &raw_frame(0x81, true, b"hi")).unwrap_err();
    assert!(matches!(err, Error::MaskedFrame));
    assert_eq!(queued_close(&mut client), Some(1002));
}

// ---------------------------------------------------------------------------
// Header rules (§5.2)
// ---------------------------------------------------------------------------

#[test]
fn reserved_bits_without_extension_are_1002() {
    for rsv in [0x40u8, 0x20, 0x10, 0x70] {
        assert_server_fails(
            &to_server(0x81 | rsv, b"x"),
            |e| matches!(e, Error::ReservedBitsSet { .. }),
            1002,
        );
    }
}

#[test]
fn reserved_opcodes_are_1002() {
    for opcode in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
        assert_server_fails(
            &to_server(0x80 | opcode, b""),
            |e| matches!(e, Error::ReservedOpcode { .. }),
            1002,
        );
    }
}

#[test]
fn length_with_top_bit_set_is_1002() {
    let bytes = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
    assert_server_fails(&bytes, |e| matches!(e, Error::LengthMsbSet), 1002);
}

#[test]
fn non_minimal_length_is_1002() {
    let bytes = [0x82, 0xFE, 0x00, 0x05, 1, 2, 3, 4, 0, 0, 0, 0, 0];
    assert_server_fails(
        &bytes,
        |e| matches!(e, Error::NonMinimalLength { length: 5 }),
        1002,
    );
}

// ---------------------------------------------------------------------------
// Control frames (§5.5)
// ---------------------------------------------------------------------------

#[test]
fn oversized_control_frames_are_1002() {
    for opcode in [0x88u8, 0x89, 0x8A] {
        assert_server_fails(
            &to_server(opcode, &[b'a'; 126]),
            |e| matches!(e, Error::ControlFrameTooLong { length: 126 }),
            1002,
        );
    }
}

#[test]
fn fragmented_control_frames_are_1002() {
    for opcode in [0x08u8, 0x09, 0x0A] {
        assert_server_fails(
            &to_server(opcode, b"x"),
            |e| matches!(e, Error::FragmentedControlFrame),
            1002,
        );
    }
}

#[test]
fn control_frames_may_interleave_a_fragmented_message() {
    let bytes = [
        to_server(0x02, b"ab"),
        to_server(0x89, b"p"),
        to_server(0x8A, b"q"),
        to_server(0x80, b"cd"),
    ]
    .concat();
    let mut server = Connection::new(Role::Server, Limits::default());
    let events = feed(&mut server, &bytes).unwrap();
    assert_eq!(
        events,
        [
            Owned::Data(DataKind::Binary, b"ab".to_vec(), false),
            Owned::Ping(b"p".to_vec()),
            Owned::Pong(b"q".to_vec()),
            Owned::Data(DataKind::Binary, b"cd".to_vec(), true),
        ]
    );
}

#[test]
fn every_ping_is_answered_and_the_latest_wins() {
    let mut server = Connection::new(Role::Server, Limits::default());
    let bytes = [to_server(0x89, b"one"), to_server(0x89, b"two")].concat();
    feed(&mut server, &bytes).unwrap();
    // Two pings before the answer went out: answering the latest is enough
    // (§5.5.3).
    let pong = server.take_pending(&mut Fixed(0)).unwrap();
    assert_eq!(pong.as_bytes(), b"\x8a\x03two");
    assert!(server.take_pending(&mut Fixed(0)).is_none());
}

#[test]
fn a_user_pong_does_not_replace_the_automatic_one() {
    let mut server = Connection::new(Role::Server, Limits::default());
    feed(&mut server, &to_server(0x89, b"auto")).unwrap();
    let mine = server.encode_pong(b"mine", &mut Fixed(0)).unwrap();
    assert_eq!(mine.as_bytes(), b"\x8a\x04mine");
    let auto = server.take_pending(&mut Fixed(0)).unwrap();
    assert_eq!(auto.as_bytes(), b"\x8a\x04auto");
}

// ---------------------------------------------------------------------------
// Fragmentation (§5.4)
// ---------------------------------------------------------------------------

#[test]
fn continuation_without_a_message_is_1002() {
    assert_server_fails(
        &to_server(0x80, b"x"),
        |e| matches!(e, Error::UnexpectedContinuation),
        1002,
    );
}

#[test]
fn new_message_inside_a_message_is_1002() {
    let bytes = [to_server(0x01, b"a"), to_server(0x81, b"b")].concat();
    assert_server_fails(&bytes, |e| matches!(e, Error::ExpectedContinuation), 1002);
    let bytes = [to_server(0x02, b"a"), to_server(0x01, b"b")].concat();
    assert_server_fails(&bytes, |e| matches!(e, Error::ExpectedContinuation), 1002);
}

#[test]
fn empty_frames_and_empty_messages() {
    let bytes = [
        to_server(0x81, b""),
        to_server(0x01, b""),
        to_server(0x00, b""),
        to_server(0x80, b""),
    ]
    .concat();
    let mut server = Connection::new(Role::Server, Limits::default());
    let events = feed(&mut server, &bytes).unwrap();
    assert_eq!(
        events,
        [
            Owned::Data(DataKind::Text, vec![], true),
            Owned::Data(DataKind::Text, vec![], true),
        ]
    );
}

// ---------------------------------------------------------------------------
// UTF-8 (§8.1)
// ---------------------------------------------------------------------------

#[test]
fn invalid_utf8_in_text_is_1007() {
    assert_server_fails(
        &to_server(0x81, b"ok \xff"),
        |e| matches!(e, Error::InvalidUtf8),
        1007,
    );
}

#[test]
fn invalid_utf8_fails_fast_before_the_message_ends() {
    // The first fragment already holds an impossible byte: the error comes
    // with it, not at the end of the message.
    let mut server = Connection::new(Role::Server, Limits::default());
    let err = feed(&mut server, &to_server(0x01, b"\xce\xba\xc0")).unwrap_err();
    assert!(matches!(err, Error::InvalidUtf8));
    assert_eq!(queued_close(&mut server), Some(1007));
}

#[test]
fn utf8_split_across_fragments_is_valid() {
    let euro = "€".as_bytes(); // E2 82 AC
    let bytes = [
        to_server(0x01, &euro[..1]),
        to_server(0x00, &euro[1..2]),
        to_server(0x80, &euro[2..]),
    ]
    .concat();
    let mut server = Connection::new(Role::Server, Limits::default());
    let events = feed(&mut server, &bytes).unwrap();
    assert_eq!(events.len(), 3);
}

#[test]
fn text_ending_inside_a_character_is_1007() {
    assert_server_fails(
        &to_server(0x81, b"\xe2\x82"),
        |e| matches!(e, Error::InvalidUtf8),
        1007,
    );
}

#[test]
fn binary_is_not_checked_for_utf8() {
    let mut server = Connection::new(Role::Server, Limits::default());
    let events = feed(&mut server, &to_server(0x82, b"\xff\xfe")).unwrap();
    assert_eq!(
        events,
        [Owned::Data(DataKind::Binary, b"\xff\xfe".to_vec(), true)]
    );
}

// ---------------------------------------------------------------------------
// Limits (§10.4), checked from the header
// ---------------------------------------------------------------------------

#[test]
fn huge_frame_header_is_1009_before_any_payload() {
    // A header claiming 2^63 - 1 bytes, and nothing after it.
    let bytes = [
        0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4,
    ];
    assert_server_fails(
        &bytes,
        |e| matches!(e, Error::FrameTooLarge { length, .. } if *length == (1 << 63) - 1),
        1009,
    );
}

/// A masked binary frame's header announcing 2^40 bytes, cut off before its
/// masking key.
const HEADER_2_40_WITHOUT_KEY: [u8; 10] = [0x82, 0xFF, 0, 0, 0x01, 0, 0, 0, 0, 0];

#[test]
fn a_length_over_the_limit_is_1009_before_the_mask_key_arrives() {
    assert_server_fails(
        &HEADER_2_40_WITHOUT_KEY,
        |e| {
            matches!(e, Error::FrameTooLarge { length, limit }
                if *length == 1 << 40 && *limit == 16 << 20)
        },
        1009,
    );
    // The 16-bit and the 7-bit lengths are judged as early.
    let limits = Limits::default().max_frame_size(100);
    for header in [&[0x82, 0xFE, 0x01, 0x00][..], &[0x82, 0xE5]] {
        let mut server = Connection::new(Role::Server, limits);
        let err = server.receive(&mut header.to_vec()).unwrap_err();
        assert!(
            matches!(err, Error::FrameTooLarge { limit: 100, .. }),
            "{header:?}: {err:?}"
        );
        assert_eq!(queued_close(&mut server), Some(1009));
    }
    // So is the message limit, on a continuation's length.
    let limits = Limits::default().max_frame_size(100).max_message_size(150);
    let mut server = Connection::new(Role::Server, limits);
    feed(&mut server, &to_server(0x02, &[0; 100])).unwrap();
    let err = server.receive(&mut [0x80, 0xB3]).unwrap_err();
    assert!(matches!(
        err,
        Error::MessageTooLarge {
            length: 151,
            limit: 150
        }
    ));
    assert_eq!(queued_close(&mut server), Some(1009));
}

#[test]
fn a_length_over_the_limit_split_anywhere_is_1009_at_its_last_byte() {
    // However the header is cut into reads, every piece before the last
    // byte of the length is taken quietly, and that byte fails the frame.
    let header = HEADER_2_40_WITHOUT_KEY;
    for cut in 0..=header.len() {
        let mut server = Connection::new(Role::Server, Limits::default());
        let (first, second) = header.split_at(cut);
        let mut outcomes = Vec::new();
        for piece in [first, second] {
            for byte in piece.chunks(if cut % 2 == 0 { 1 } else { 16 }) {
                outcomes.push(server.receive(&mut byte.to_vec()).map(|r| r.consumed));
            }
        }
        let (last, quiet) = outcomes.split_last().unwrap();
        assert!(
            quiet
                .iter()
                .all(|o| matches!(o, Ok(n) if *n <= header.len())),
            "cut {cut}: {outcomes:?}"
        );
        assert!(
            matches!(last, Err(Error::FrameTooLarge { length, .. }) if *length == 1 << 40),
            "cut {cut}: {outcomes:?}"
        );
        assert_eq!(queued_close(&mut server), Some(1009), "cut {cut}");
    }
}

#[test]
fn message_limit_counts_all_fragments() {
    let limits = Limits::default().max_frame_size(100).max_message_size(250);
    let mut server = Connection::new(Role::Server, limits);
    let ok = [to_server(0x02, &[0; 100]), to_server(0x00, &[0; 100])].concat();
    feed(&mut server, &ok).unwrap();
    let err = feed(&mut server, &to_server(0x80, &[0; 51])).unwrap_err();
    assert!(matches!(
        err,
        Error::MessageTooLarge {
            length: 251,
            limit: 250
        }
    ));
    assert_eq!(queued_close(&mut server), Some(1009));
}

#[test]
fn frame_limit_applies_to_each_frame() {
    let limits = Limits::default().max_frame_size(10);
    let mut server = Connection::new(Role::Server, limits);
    let err = feed(&mut server, &to_server(0x82, &[0; 11])).unwrap_err();
    assert!(matches!(
        err,
        Error::FrameTooLarge {
            length: 11,
            limit: 10
        }
    ));
    assert_eq!(queued_close(&mut server), Some(1009));
}

#[test]
fn many_empty_fragments_do_not_count_against_the_limit() {
    let limits = Limits::default().max_message_size(10);
    let mut server = Connection::new(Role::Server, limits);
    let mut bytes = to_server(0x02, b"");
    for _ in 0..10_000 {
        bytes.extend(to_server(0x00, b""));
    }
    bytes.extend(to_server(0x80, b"0123456789"));
    let events = feed(&mut server, &bytes).unwrap();
    assert_eq!(
        events,
        [Owned::Data(DataKind::Binary, b"0123456789".to_vec(), true)]
    );
}

// ---------------------------------------------------------------------------
// Close frames (§5.5.1, §7.4) and the closing handshake (§7)
// ---------------------------------------------------------------------------

#[test]
fn close_with_one_byte_payload_is_1002() {
    assert_server_fails(
        &to_server(0x88, b"\x03"),
        |e| matches!(e, Error::InvalidClosePayload),
        1002,
    );
}

#[test]
fn close_with_forbidden_codes_is_1002() {
    for code in [
        0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000,
    ] {
        assert_server_fails(
            &to_server(0x88, &code.to_be_bytes()),
            |e| matches!(e, Error::InvalidCloseCode { .. }),
            1002,
        );
    }
}

#[test]
fn close_reason_with_invalid_utf8_is_1007() {
    assert_server_fails(
        &to_server(0x88, b"\x03\xe8\xce\xba\xff"),
        |e| matches!(e, Error::InvalidUtf8),
        1007,
    );
}

#[test]
fn peer_initiated_close_is_echoed() {
    let mut server = Connection::new(Role::Server, Limits::default());
    let events = feed(&mut server, &to_server(0x88, b"\x0f\xa0bye")).unwrap();
    assert_eq!(events, [Owned::Close(Some((4000, "bye".into())))]);
    assert_eq!(server.state(), State::CloseReceived);
    // Bytes after the peer's Close are ignored.
    assert!(feed(&mut server, &to_server(0x81, b"late"))
        .unwrap()
        .is_empty());
    let reply = server.take_pending(&mut Fixed(0)).unwrap();
    assert_eq!(reply.as_bytes(), b"\x88\x02\x0f\xa0");
    assert!(server.is_closed());
    assert!(matches!(
        server.encode_data(DataKind::Text, true, 1, &mut Fixed(0)),
        Err(Error::SendAfterClose)
    ));
}

#[test]
fn empty_close_is_answered_with_empty_close() {
    let mut server = Connection::new(Role::Server, Limits::default());
    let events = feed(&mut server, &to_server(0x88, b"")).unwrap();
    assert_eq!(events, [Owned::Close(None)]);
    let reply = server.take_pending(&mut Fixed(0)).unwrap();
    assert_eq!(reply.as_bytes(), b"\x88\x00");
}

#[test]
fn our_close_then_theirs_completes_the_handshake() {
    let mut server = Connection::new(Role::Server, Limits::default());
    let close = server
        .encode_close(CloseCode::GOING_AWAY, "restart", &mut Fixed(0))
        .unwrap();
    assert_eq!(close.as_bytes(), b"\x88\x09\x03\xe9restart");
    assert_eq!(server.state(), State::CloseSent);
    // No more data after our Close (§5.5.1)...
    assert!(matches!(
        server.encode_data(DataKind::Binary, true, 0, &mut Fixed(0)),
        Err(Error::SendAfterClose)
    ));
    // ...but the peer's data still arrives until its Close.
    let bytes = [to_server(0x81, b"last"), to_server(0x88, b"\x03\xe9")].concat();
    let events = feed(&mut server, &bytes).unwrap();
    assert_eq!(
        events,
        [
            Owned::Data(DataKind::Text, b"last".to_vec(), true),
            Owned::Close(Some((1001, String::new()))),
        ]
    );
    assert!(server.is_closed());
    assert!(server.take_pending(&mut Fixed(0)).is_none());
}

#[test]
fn answering_close_with_our_own_code_replaces_the_echo() {
    let mut server = Connection::new(Role::Server, Limits::default());
    feed(&mut server, &to_server(0x88, b"\x03\xe8")).unwrap();
    let mine = server
        .encode_close(CloseCode::NORMAL, "done", &mut Fixed(0))
        .unwrap();
    assert_eq!(mine.as_bytes(), b"\x88\x06\x03\xe8done");
    assert!(server.take_pending(&mut Fixed(0)).is_none());
    assert!(server.is_closed());
}

#[test]
fn sending_rejects_bad_close_codes_and_long_reasons() {
    let mut server = Connection::new(Role::Server, Limits::default());
    assert!(server
        .encode_close(CloseCode::NO_STATUS_RECEIVED, "", &mut Fixed(0))
        .is_err());
    assert!(server
        .encode_close(CloseCode::NORMAL, &"x".repeat(124), &mut Fixed(0))
        .is_err());
    assert_eq!(
        server.state(),
        State::Open,
        "a refused close changes nothing"
    );
}

// ---------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------

#[test]
fn client_frames_are_masked_and_server_frames_are_not() {
    let mut rng = Fixed(9);
    let mut server = Connection::new(Role::Server, Limits::default());
    let header = server
        .encode_data(DataKind::Text, true, 5, &mut rng)
        .unwrap();
    assert_eq!(header.as_bytes(), &[0x81, 0x05]);
    assert_eq!(header.mask(), None);

    let mut client = Connection::new(Role::Client, Limits::default());
    let header = client
        .encode_data(DataKind::Text, true, 5, &mut rng)
        .unwrap();
    let key = header.mask().expect("client frames are masked");
    assert_eq!(&header.as_bytes()[..2], &[0x81, 0x85]);
    assert_eq!(&header.as_bytes()[2..], &key);
    let mut payload = *b"Hello";
    header.mask_payload(&mut payload, 0);
    // The server side unmasks it back.
    let frame = [header.as_bytes(), &payload].concat();
    let events = feed(&mut server, &frame).unwrap();
    assert_eq!(
        events,
        [Owned::Data(DataKind::Text, b"Hello".to_vec(), true)]
    );
}

#[test]
fn fragmented_send_uses_continuation_frames() {
    let mut server = Connection::new(Role::Server, Limits::default());
    let mut rng = Fixed(0);
    let first = server
        .encode_data(DataKind::Binary, false, 3, &mut rng)
        .unwrap();
    assert_eq!(first.as_bytes(), &[0x02, 0x03]);
    // A different kind cannot start while this message is unfinished.
    assert!(matches!(
        server.encode_data(DataKind::Text, true, 1, &mut rng),
        Err(Error::MessageInProgress)
    ));
    let middle = server
        .encode_data(DataKind::Binary, false, 300, &mut rng)
        .unwrap();
    assert_eq!(middle.as_bytes(), &[0x00, 0x7E, 0x01, 0x2C]);
    let last = server
        .encode_data(DataKind::Binary, true, 0, &mut rng)
        .unwrap();
    assert_eq!(last.as_bytes(), &[0x80, 0x00]);
    let next = server
        .encode_data(DataKind::Text, true, 70000, &mut rng)
        .unwrap();
    assert_eq!(next.as_bytes(), &[0x81, 0x7F, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
}

#[test]
fn control_payloads_over_125_bytes_are_refused() {
    let mut server = Connection::new(Role::Server, Limits::default());
    assert!(server.encode_ping(&[0; 126], &mut Fixed(0)).is_err());
    assert!(server.encode_ping(&[0; 125], &mut Fixed(0)).is_ok());
}

#[test]
fn state_is_small() {
    // The whole per-connection state of the core: a few hundred bytes.
    let size = std::mem::size_of::<Connection>();
    assert!(size <= 512, "Connection is {size} bytes");
}

// ---------------------------------------------------------------------------
// The two halves (protocol::{Receiver, Sender, Shared}) and the end of TCP.
// ---------------------------------------------------------------------------

#[test]
fn a_ping_after_our_close_is_still_answered() {
    // §5.5.2: a ping is answered until the peer's Close arrives, also after
    // ours went out (the peer may still be sending data and pings).
    let mut server = Connection::new(Role::Server, Limits::default());
    server
        .encode_close(CloseCode::NORMAL, "", &mut Fixed(0))
        .unwrap();
    assert_eq!(server.state(), State::CloseSent);
    let events = feed(&mut server, &to_server(0x89, b"still there?")).unwrap();
    assert_eq!(events, [Owned::Ping(b"still there?".to_vec())]);
    let pong = server.take_pending(&mut Fixed(0)).expect("the pong");
    assert_eq!(pong.as_bytes(), b"\x8a\x0cstill there?");
    // Once the peer's Close came, nothing more is owed.
    feed(&mut server, &to_server(0x88, b"\x03\xe8")).unwrap();
    assert!(server.take_pending(&mut Fixed(0)).is_none());
    assert!(server.is_closed());
}

#[test]
fn the_end_of_tcp_follows_the_role_and_the_way_the_connection_ended() {
    use wslite::protocol::EndOfTcp;
    // While open, and while the echo is still owed: keep TCP.
    let mut server = Connection::new(Role::Server, Limits::default());
    assert_eq!(server.end_of_tcp(), EndOfTcp::NotYet);
    feed(&mut server, &to_server(0x88, b"\x03\xe8")).unwrap();
    assert_eq!(server.end_of_tcp(), EndOfTcp::NotYet, "the echo is owed");
    server.take_pending(&mut Fixed(0)).unwrap();
    // §7.1.1: the server closes TCP first...
    assert_eq!(server.end_of_tcp(), EndOfTcp::Now);

    // ...and the client waits for it.
    let mut client = Connection::new(Role::Client, Limits::default());
    client
        .encode_close(CloseCode::NORMAL, "", &mut Fixed(0))
        .unwrap();
    assert_eq!(client.end_of_tcp(), EndOfTcp::NotYet, "no answer yet");
    let mut answer = raw_frame(0x88, false, b"\x03\xe8");
    client.receive(&mut answer).unwrap();
    assert_eq!(client.end_of_tcp(), EndOfTcp::AfterPeer);

    // §7.1.7: whoever fails the connection closes TCP at once, after the
    // Close that names the violation.
    let mut client = Connection::new(Role::Client, Limits::default());
    let mut masked = to_server(0x81, b"x");
    assert!(client.receive(&mut masked).is_err());
    assert_eq!(client.end_of_tcp(), EndOfTcp::NotYet, "the 1002 is owed");
    let close = client.take_pending(&mut Fixed(0)).unwrap();
    assert_eq!(close.opcode(), wslite::frame::OpCode::Close);
    assert_eq!(client.end_of_tcp(), EndOfTcp::Now);
}

#[test]
fn the_halves_work_apart_through_their_shared_state() {
    use wslite::protocol::{Receiver, Sender, Shared};
    // What one thread's Receiver notes, another thread's Sender sends.
    let mut receiver = Receiver::new(Role::Server, Limits::default());
    let mut sender = Sender::new(Role::Server);
    let mut shared = Shared::new();
    let mut ping = to_server(0x89, b"p");
    let received = receiver.receive(&mut shared, &mut ping).unwrap();
    assert_eq!(received.event, Some(Event::Ping(b"p")));
    assert!(shared.has_pending());
    let pong = sender.take_pending(&mut shared, &mut Fixed(0)).unwrap();
    assert_eq!(pong.as_bytes(), b"\x8a\x01p");
    assert!(!shared.has_pending());

    // Our Close, encoded by the sender, is what the receiver's next Close
    // completes.
    sender
        .encode_close(&mut shared, CloseCode::NORMAL, "bye", &mut Fixed(0))
        .unwrap();
    assert_eq!(shared.state(), State::CloseSent);
    let mut close = to_server(0x88, b"\x03\xe8");
    receiver.receive(&mut shared, &mut close).unwrap();
    assert_eq!(shared.state(), State::Closed);
    assert!(sender.take_pending(&mut shared, &mut Fixed(0)).is_none());
}

#[test]
fn a_fragmented_message_is_started_and_continued_explicitly() {
    use wslite::protocol::{Sender, Shared};
    let mut sender = Sender::new(Role::Server);
    let shared = Shared::new();
    // No message to continue.
    assert!(matches!(
        sender.continue_message(&shared, true, 1, &mut Fixed(0)),
        Err(Error::MessageInProgress)
    ));
    let first = sender
        .start_message(&shared, DataKind::Text, false, 3, &mut Fixed(0))
        .unwrap();
    assert_eq!(first.as_bytes(), [0x01, 0x03]);
    assert!(sender.is_sending_fragments());
    // §5.4: no other data message inside this one, of either kind.
    for kind in [DataKind::Text, DataKind::Binary] {
        assert!(matches!(
            sender.start_message(&shared, kind, true, 1, &mut Fixed(0)),
            Err(Error::MessageInProgress)
        ));
    }
    let last = sender
        .continue_message(&shared, true, 2, &mut Fixed(0))
        .unwrap();
    assert_eq!(last.as_bytes(), [0x80, 0x02]);
    assert!(!sender.is_sending_fragments());
}

#[test]
fn an_aborted_connection_owes_nothing_and_sends_nothing() {
    use wslite::protocol::{Sender, Shared};
    // A write that failed half-way through a frame (the std layer's
    // business, not a rule of the peer's) ends the connection for good.
    let mut sender = Sender::new(Role::Client);
    let mut shared = Shared::new();
    let mut receiver = wslite::protocol::Receiver::new(Role::Client, Limits::default());
    let mut ping = raw_frame(0x89, false, b"p");
    receiver.receive(&mut shared, &mut ping).unwrap();
    shared.abort();
    assert!(shared.is_failed());
    assert_eq!(shared.state(), State::Closed);
    assert!(sender.take_pending(&mut shared, &mut Fixed(0)).is_none());
    assert!(matches!(
        sender.start_message(&shared, DataKind::Binary, true, 0, &mut Fixed(0)),
        Err(Error::SendAfterClose)
    ));
}

// ---------------------------------------------------------------------------
// What the connection says about itself, one getter at a time.
// ---------------------------------------------------------------------------

#[test]
fn each_control_frame_names_its_own_opcode() {
    use wslite::frame::OpCode;
    let mut server = Connection::new(Role::Server, Limits::default());
    let ping = server.encode_ping(b"p", &mut Fixed(0)).unwrap();
    assert_eq!((ping.opcode(), ping.as_bytes()[0]), (OpCode::Ping, 0x89));
    let pong = server.encode_pong(b"p", &mut Fixed(0)).unwrap();
    assert_eq!((pong.opcode(), pong.as_bytes()[0]), (OpCode::Pong, 0x8a));
    feed(&mut server, &to_server(0x89, b"q")).unwrap();
    let answer = server.take_pending(&mut Fixed(0)).unwrap();
    assert_eq!(
        (answer.opcode(), answer.as_bytes()[0]),
        (OpCode::Pong, 0x8a)
    );
    let close = server
        .encode_close(CloseCode::NORMAL, "", &mut Fixed(0))
        .unwrap();
    assert_eq!((close.opcode(), close.as_bytes()[0]), (OpCode::Close, 0x88));
}

#[test]
fn the_connection_is_closed_only_when_both_closes_have_crossed() {
    let mut server = Connection::new(Role::Server, Limits::default());
    assert!(!server.is_closed(), "a new connection is open");
    server
        .encode_close(CloseCode::NORMAL, "", &mut Fixed(0))
        .unwrap();
    assert!(!server.is_closed(), "our Close alone does not close it");
    feed(&mut server, &to_server(0x88, b"\x03\xe8")).unwrap();
    assert!(server.is_closed());

    // The other order: the peer's Close arrives; the echo is still owed.
    let mut server = Connection::new(Role::Server, Limits::default());
    feed(&mut server, &to_server(0x88, b"\x03\xe8")).unwrap();
    assert!(!server.is_closed(), "the echo has not been taken yet");
    assert!(server.take_pending(&mut Fixed(0)).is_some());
    assert!(server.is_closed());
}

#[test]
fn sending_fragments_lasts_from_the_first_fragment_to_the_last() {
    let mut server = Connection::new(Role::Server, Limits::default());
    assert!(!server.is_sending_fragments());
    server
        .encode_data(DataKind::Binary, true, 4, &mut Fixed(0))
        .unwrap();
    assert!(
        !server.is_sending_fragments(),
        "a whole message is no fragment"
    );
    server
        .encode_data(DataKind::Binary, false, 4, &mut Fixed(0))
        .unwrap();
    assert!(server.is_sending_fragments());
    server
        .encode_data(DataKind::Binary, false, 4, &mut Fixed(0))
        .unwrap();
    assert!(server.is_sending_fragments());
    server
        .encode_data(DataKind::Binary, true, 4, &mut Fixed(0))
        .unwrap();
    assert!(!server.is_sending_fragments());
}

#[test]
fn something_is_pending_from_a_ping_until_its_pong_is_taken() {
    let mut server = Connection::new(Role::Server, Limits::default());
    assert!(!server.has_pending());
    feed(&mut server, &to_server(0x89, b"hi")).unwrap();
    assert!(server.has_pending());
    // Taking only the pong empties it too.
    assert!(server.take_pending_pong(&mut Fixed(0)).is_some());
    assert!(!server.has_pending());
    // A violation queues a Close.
    assert!(feed(&mut server, &raw_frame(0x81, false, b"x")).is_err());
    assert!(server.has_pending());
    assert_eq!(queued_close(&mut server), Some(1002));
    assert!(!server.has_pending());
}

#[test]
fn new_limits_apply_from_the_next_frame() {
    let mut server = Connection::new(Role::Server, Limits::default());
    assert_eq!(server.limits(), Limits::default());
    feed(&mut server, &to_server(0x82, &[7; 100])).unwrap();
    let tight = Limits::default().max_message_size(10);
    server.set_limits(tight);
    assert_eq!(server.limits(), tight);
    let err = feed(&mut server, &to_server(0x82, &[7; 11])).unwrap_err();
    assert!(
        matches!(err, Error::MessageTooLarge { limit: 10, .. }),
        "{err:?}"
    );
    assert_eq!(queued_close(&mut server), Some(1009));
}

#[test]
fn an_unmasked_payload_is_left_alone_and_its_offset_still_advances() {
    let mut server = Connection::new(Role::Server, Limits::default());
    let header = server
        .encode_data(DataKind::Binary, true, 9, &mut Fixed(0))
        .unwrap();
    assert_eq!(header.mask(), None);
    let mut piece = *b"abcde";
    assert_eq!(header.mask_payload(&mut piece, 3), 8);
    assert_eq!(header.mask_payload(&mut piece[..0], 8), 8);
    assert_eq!(&piece, b"abcde");
    // A client's header masks, and gives the same next offset.
    let mut client = Connection::new(Role::Client, Limits::default());
    let header = client
        .encode_data(DataKind::Binary, true, 9, &mut Fixed(0))
        .unwrap();
    let key = header.mask().expect("a client masks");
    assert_eq!(header.mask_payload(&mut piece, 3), 8);
    let mut expected = *b"abcde";
    for (i, b) in expected.iter_mut().enumerate() {
        *b ^= key[(3 + i) % 4];
    }
    assert_eq!(piece, expected);
}

// ---------------------------------------------------------------------------
// The receiving half on its own: where it is in a frame, and compression.
// ---------------------------------------------------------------------------

/// Feeds `bytes` whole to a receiver and collects what `each` makes of every
/// event, or the first error.
fn receive_each<T>(
    receiver: &mut wslite::protocol::Receiver,
    shared: &mut wslite::protocol::Shared,
    bytes: &[u8],
    mut each: impl FnMut(Event<'_>) -> T,
) -> Result<Vec<T>, Error> {
    let mut buf = bytes.to_vec();
    let mut pos = 0;
    let mut events = Vec::new();
    while pos < buf.len() {
        let received = receiver.receive(shared, &mut buf[pos..])?;
        if let Some(event) = received.event {
            events.push(each(event));
        } else if received.consumed == 0 {
            break;
        }
        pos += received.consumed;
    }
    Ok(events)
}

/// Every event, owned.
fn feed_receiver(
    receiver: &mut wslite::protocol::Receiver,
    shared: &mut wslite::protocol::Shared,
    bytes: &[u8],
) -> Result<Vec<Owned>, Error> {
    receive_each(receiver, shared, bytes, own)
}

#[test]
fn the_receiver_knows_where_it_is_in_a_frame_and_a_message() {
    use wslite::protocol::{Receiver, Shared};
    let mut receiver = Receiver::new(Role::Server, Limits::default());
    let mut shared = Shared::new();
    assert!(!receiver.is_in_frame());
    assert_eq!(receiver.payload_remaining(), 0);
    assert!(!receiver.is_receiving_fragments());
    // A first fragment of 10 bytes, of which 3 have arrived.
    let frame = to_server(0x01, b"0123456789");
    let events = feed_receiver(&mut receiver, &mut shared, &frame[..9]).unwrap();
    assert_eq!(
        events,
        [Owned::Data(DataKind::Text, b"012".to_vec(), false)]
    );
    assert!(receiver.is_in_frame());
    assert_eq!(receiver.payload_remaining(), 7);
    assert!(receiver.is_receiving_fragments());
    feed_receiver(&mut receiver, &mut shared, &frame[9..]).unwrap();
    assert!(!receiver.is_in_frame(), "the frame is over");
    assert_eq!(receiver.payload_remaining(), 0);
    assert!(receiver.is_receiving_fragments(), "the message is not");
    feed_receiver(&mut receiver, &mut shared, &to_server(0x80, b"!")).unwrap();
    assert!(!receiver.is_receiving_fragments());

    // New limits apply to the next frame.
    let tight = Limits::default().max_message_size(5);
    receiver.set_limits(tight);
    assert_eq!(receiver.limits(), tight);
    let err = feed_receiver(&mut receiver, &mut shared, &to_server(0x82, b"123456")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MessageTooLarge {
                length: 6,
                limit: 5
            }
        ),
        "{err:?}"
    );
}

#[test]
fn failed_means_a_rule_was_broken_not_that_the_connection_closed() {
    use wslite::protocol::{Receiver, Sender, Shared};
    let mut receiver = Receiver::new(Role::Server, Limits::default());
    let mut sender = Sender::new(Role::Server);
    let mut shared = Shared::new();
    assert!(!shared.is_failed());
    sender
        .encode_close(&mut shared, CloseCode::NORMAL, "", &mut Fixed(0))
        .unwrap();
    feed_receiver(&mut receiver, &mut shared, &to_server(0x88, b"\x03\xe8")).unwrap();
    assert_eq!(shared.state(), State::Closed);
    assert!(!shared.is_failed(), "a closing handshake is no failure");

    let mut receiver = Receiver::new(Role::Server, Limits::default());
    let mut shared = Shared::new();
    assert!(feed_receiver(&mut receiver, &mut shared, &raw_frame(0x82, false, b"x")).is_err());
    assert!(shared.is_failed());
}

#[test]
fn only_a_client_masks() {
    use wslite::protocol::Sender;
    assert!(Sender::new(Role::Client).masks());
    assert!(!Sender::new(Role::Server).masks());
}

#[cfg(feature = "deflate")]
#[test]
fn rsv1_marks_a_compressed_message_once_negotiated_and_only_on_its_first_frame() {
    use wslite::protocol::{Receiver, Shared};
    /// Each piece of data, with its `fin` and whether it is compressed.
    fn data(
        receiver: &mut Receiver,
        shared: &mut Shared,
        bytes: &[u8],
    ) -> Result<Vec<(Vec<u8>, bool, bool)>, Error> {
        receive_each(receiver, shared, bytes, |event| match event {
            Event::Data {
                bytes,
                fin,
                compressed,
                ..
            } => (bytes.to_vec(), fin, compressed),
            other => panic!("expected data, got {other:?}"),
        })
    }
    let rsv1_text = to_server(0xC1, b"\xff\xfe");

    // Not negotiated: RSV1 is a 1002.
    let mut receiver = Receiver::new(Role::Server, Limits::default());
    let mut shared = Shared::new();
    let err = data(&mut receiver, &mut shared, &rsv1_text).unwrap_err();
    assert!(
        matches!(err, Error::ReservedBitsSet { rsv: 0b100 }),
        "{err:?}"
    );

    // Negotiated: the message is compressed, so its bytes are DEFLATE data,
    // not UTF-8, and are not checked as text here.
    let mut receiver = Receiver::new(Role::Server, Limits::default());
    receiver.enable_compression();
    let mut shared = Shared::new();
    let first = to_server(0x41, b"\xff\xfe");
    assert_eq!(
        data(&mut receiver, &mut shared, &first).unwrap(),
        [(b"\xff\xfe".to_vec(), false, true)]
    );
    // Its continuation carries no RSV1 and is compressed too.
    assert_eq!(
        data(&mut receiver, &mut shared, &to_server(0x80, b"\xff")).unwrap(),
        [(b"\xff".to_vec(), true, true)]
    );
    // The next message, without RSV1, is text again and checked.
    let err = data(&mut receiver, &mut shared, &to_server(0x81, b"\xff")).unwrap_err();
    assert!(matches!(err, Error::InvalidUtf8), "{err:?}");

    // RSV1 on a continuation or a control frame stays a 1002.
    for (first, bad) in [
        (to_server(0x01, b"a"), to_server(0xC0, b"b")),
        (Vec::new(), to_server(0xC9, b"p")),
    ] {
        let mut receiver = Receiver::new(Role::Server, Limits::default());
        receiver.enable_compression();
        let mut shared = Shared::new();
        data(&mut receiver, &mut shared, &first).unwrap();
        let err = data(&mut receiver, &mut shared, &bad).unwrap_err();
        assert!(
            matches!(err, Error::ReservedBitsSet { rsv: 0b100 }),
            "{err:?}"
        );
    }
}

#[cfg(feature = "deflate")]
#[test]
fn compressed_frames_may_exceed_the_limit_by_what_stored_blocks_add() {
    use wslite::protocol::{Receiver, Shared};
    // 8,192 bytes inflated may take 8,192 + 8,192 / 8,192 + 64 = 8,257 on
    // the wire (incompressible data in stored blocks).
    let limits = Limits::default()
        .max_frame_size(8192)
        .max_message_size(1 << 20);
    let fresh = || {
        let mut receiver = Receiver::new(Role::Server, limits);
        receiver.enable_compression();
        (receiver, Shared::new())
    };
    let (mut receiver, mut shared) = fresh();
    assert!(feed_receiver(&mut receiver, &mut shared, &to_server(0xC2, &[0; 8257])).is_ok());
    // A continuation of a compressed message has the same room.
    let (mut receiver, mut shared) = fresh();
    feed_receiver(&mut receiver, &mut shared, &to_server(0x42, &[0; 10])).unwrap();
    assert!(feed_receiver(&mut receiver, &mut shared, &to_server(0x80, &[0; 8257])).is_ok());
    // One byte more, compressed, or past the limit uncompressed, is refused.
    for frame in [to_server(0xC2, &[0; 8258]), to_server(0x82, &[0; 8193])] {
        let (mut receiver, mut shared) = fresh();
        let err = feed_receiver(&mut receiver, &mut shared, &frame).unwrap_err();
        assert!(
            matches!(err, Error::FrameTooLarge { limit: 8192, .. }),
            "{err:?}"
        );
    }
    // Nor does an uncompressed continuation get the room.
    let (mut receiver, mut shared) = fresh();
    feed_receiver(&mut receiver, &mut shared, &to_server(0x02, &[0; 10])).unwrap();
    let err = feed_receiver(&mut receiver, &mut shared, &to_server(0x80, &[0; 8193])).unwrap_err();
    assert!(
        matches!(err, Error::FrameTooLarge { limit: 8192, .. }),
        "{err:?}"
    );
}

#[cfg(feature = "deflate")]
#[test]
fn a_sender_compresses_only_once_negotiated_and_marks_only_the_first_frame() {
    use wslite::protocol::{Sender, Shared};
    let shared = Shared::new();
    let mut sender = Sender::new(Role::Server);
    assert!(!sender.compression());
    assert!(matches!(
        sender.start_compressed_message(&shared, DataKind::Binary, true, 3, &mut Fixed(0)),
        Err(Error::CompressionNotNegotiated)
    ));
    sender.enable_compression();
    assert!(sender.compression());
    let first = sender
        .start_compressed_message(&shared, DataKind::Text, false, 3, &mut Fixed(0))
        .unwrap();
    assert_eq!(first.as_bytes(), [0x41, 0x03]);
    let last = sender
        .continue_message(&shared, true, 2, &mut Fixed(0))
        .unwrap();
    assert_eq!(last.as_bytes(), [0x80, 0x02]);
}

#[test]
fn nothing_more_is_owed_once_the_peer_closed_or_our_close_went_out() {
    // A ping after the peer's Close is ignored, like anything after it
    // (§5.5.1: the Close is its last frame), and needs no pong.
    let mut server = Connection::new(Role::Server, Limits::default());
    let mut bytes = to_server(0x88, b"\x03\xe8");
    bytes.extend_from_slice(&to_server(0x89, b"late"));
    let events = feed(&mut server, &bytes).unwrap();
    assert_eq!(events, [Owned::Close(Some((1000, String::new())))]);
    let owed: Vec<u8> = std::iter::from_fn(|| server.take_pending(&mut Fixed(0)))
        .map(|frame| frame.as_bytes()[0])
        .collect();
    assert_eq!(owed, [0x88], "only the echo of the Close");

    // A violation after our own Close went out owes no second Close.
    let mut server = Connection::new(Role::Server, Limits::default());
    server
        .encode_close(CloseCode::NORMAL, "", &mut Fixed(0))
        .unwrap();
    assert!(feed(&mut server, &raw_frame(0x82, false, b"x")).is_err());
    assert!(!server.has_pending());
    assert!(server.take_pending(&mut Fixed(0)).is_none());
}
