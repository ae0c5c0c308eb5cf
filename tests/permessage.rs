//! The per-message layer of permessage-deflate (RFC 7692 §7.2) in the
//! no_std core: the tail removed and restored, the window kept or not
//! between messages, the limits held against the *inflated* bytes (a bomb
//! is refused at the first byte past the limit), and the whole exchange
//! over a sans-I/O connection pair with compressed messages split
//! anywhere.

use quickcheck::{Arbitrary, Gen, TestResult};
#[path = "common/qc.rs"]
mod qc;
use qc::{below, check};
use wslite::deflate::deflate::{Deflater, HeapStorage, Level};
use wslite::permessage_deflate::message::{MessageDeflater, MessageInflater, TAIL};
use wslite::protocol::{Connection, DataKind, Event, Limits, Role};
use wslite::{CloseCode, Error, RandomSource};

#[path = "common/bomb.rs"]
mod bomb;
use bomb::{stored_message, zeros_bomb};

fn deflater(bits: u8, level: u8, no_takeover: bool) -> MessageDeflater<HeapStorage> {
    let d = Deflater::with_window_bits(bits, Level::new(level)).expect("a deflater");
    MessageDeflater::new(d, no_takeover)
}

fn inflater(bits: u8, no_takeover: bool, limits: Limits) -> MessageInflater<Vec<u8>> {
    MessageInflater::new(vec![0; 1 << bits], no_takeover, limits)
}

/// Compresses one whole message with output pieces of `chunk` bytes.
fn compress(d: &mut MessageDeflater<HeapStorage>, data: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk.max(5)];
    let mut input = data;
    for _ in 0..1_000_000 {
        let c = d.compress(input, true, &mut buf).expect("room for 5 bytes");
        out.extend_from_slice(&buf[..c.produced]);
        input = &input[c.consumed..];
        if c.done {
            return out;
        }
    }
    panic!("the deflater did not finish");
}

/// Inflates one whole message given as `pieces`, with `out` bytes of room.
fn inflate(
    i: &mut MessageInflater<Vec<u8>>,
    kind: DataKind,
    pieces: &[&[u8]],
    room: usize,
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; room.max(1)];
    for (n, piece) in pieces.iter().enumerate() {
        let fin = n + 1 == pieces.len();
        let mut input: &[u8] = piece;
        for _ in 0..10_000_000 {
            let r = i.inflate(kind, input, fin, &mut buf)?;
            out.extend_from_slice(&buf[..r.produced]);
            input = &input[r.consumed..];
            if r.done {
                assert!(fin, "done before the last piece");
                return Ok(out);
            }
            if input.is_empty() && !fin {
                break;
            }
        }
    }
    panic!("the inflater did not finish");
}

#[test]
fn the_tail_is_removed_on_sending_and_restored_on_receiving() {
    // RFC 7692 §7.2.3.1: "Hello" is `f2 48 cd c9 c9 07 00` once the tail
    // is gone.
    let mut d = deflater(15, 6, false);
    let hello = compress(&mut d, b"Hello", 64);
    assert_eq!(hello, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    assert!(!hello.ends_with(&TAIL));
    // And back, from output pieces of one byte.
    let mut i = inflater(15, false, Limits::default());
    let back = inflate(&mut i, DataKind::Text, &[&hello], 1).unwrap();
    assert_eq!(back, b"Hello");
    // An empty message is one byte: the empty stored block's header.
    let empty = compress(&mut d, b"", 8);
    assert_eq!(empty, [0x00]);
    let back = inflate(&mut i, DataKind::Text, &[&empty], 8).unwrap();
    assert!(back.is_empty());
}

#[test]
fn the_window_is_kept_between_messages_unless_no_context_takeover() {
    let text = b"a line that the next message repeats exactly, a line that repeats";
    for no_takeover in [false, true] {
        let mut d = deflater(12, 6, no_takeover);
        let first = compress(&mut d, text, 256);
        let second = compress(&mut d, text, 256);
        if no_takeover {
            assert_eq!(first, second, "every message starts afresh");
        } else {
            assert!(second.len() < first.len() / 3, "the second refers back");
        }
        // An inflater that forgets its window cannot read a message that
        // refers back; one that keeps it can read both either way.
        let mut keep = inflater(12, false, Limits::default());
        assert_eq!(
            inflate(&mut keep, DataKind::Text, &[&first], 64).unwrap(),
            text
        );
        assert_eq!(
            inflate(&mut keep, DataKind::Text, &[&second], 64).unwrap(),
            text
        );
        let mut forget = inflater(12, true, Limits::default());
        assert_eq!(
            inflate(&mut forget, DataKind::Text, &[&first], 64).unwrap(),
            text
        );
        let again = inflate(&mut forget, DataKind::Text, &[&second], 64);
        if no_takeover {
            assert_eq!(again.unwrap(), text);
        } else {
            assert!(matches!(again, Err(Error::InvalidCompressedData { .. })));
        }
    }
}

#[test]
fn a_bomb_is_refused_at_the_first_byte_past_the_message_limit() {
    // 1 GiB of zeros in about 1.5 MB; the limit is 1 MiB.
    let bomb = zeros_bomb(1 << 30);
    assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
    let limit = 1u64 << 20;
    let limits = Limits::default()
        .max_message_size(limit)
        .max_frame_size(u64::MAX);
    for room in [1, 100, 16 << 10, 4 << 20] {
        let mut i = inflater(15, false, limits);
        let mut buf = vec![0u8; room];
        let mut total = 0u64;
        let mut input: &[u8] = &bomb;
        let error = loop {
            match i.inflate(DataKind::Binary, input, false, &mut buf) {
                Ok(r) => {
                    total += r.produced as u64;
                    input = &input[r.consumed..];
                    assert!(total <= limit, "handed out {total} bytes past the limit");
                    assert!(!input.is_empty() || r.produced > 0, "the bomb ran out");
                }
                Err(e) => break e,
            }
        };
        // Nothing past the limit was handed out; the call that crossed it
        // gave nothing at all.
        assert!(
            total <= limit && total + room as u64 > limit,
            "room {room}: {total}"
        );
        assert!(
            matches!(error, Error::MessageTooLarge { length, limit: l } if l == limit && length > limit),
            "{error:?}"
        );
        assert_eq!(error.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
        // And the inflater read no more than it needed: about limit/86
        // bytes (3 bits per 258 bytes) of the 1.5 MB.
        assert!(bomb.len() - input.len() < 8 << 10, "room {room}");
    }
}

#[test]
fn the_frame_limit_counts_inflated_bytes_per_frame() {
    let limits = Limits::default()
        .max_frame_size(10_000)
        .max_message_size(u64::MAX);
    let bomb = zeros_bomb(1 << 20);
    let mut i = inflater(15, false, limits);
    let mut buf = vec![0u8; 4096];
    // Three frames of a few bytes each inflate to under 10,000 bytes each
    // (3 bits make 258 bytes; the block's header takes 14 bytes).
    let (a, rest) = bomb.split_at(30);
    let mut total = 0;
    for part in [&a[..14], &a[14..22], &a[22..]] {
        i.begin_frame();
        let mut input = part;
        while !input.is_empty() {
            let r = i.inflate(DataKind::Binary, input, false, &mut buf).unwrap();
            total += r.produced;
            input = &input[r.consumed..];
        }
    }
    assert!(
        total > 10_000,
        "{total}: more than one frame's limit in all"
    );
    // One frame that inflates past 10,000 bytes is refused.
    i.begin_frame();
    let error = loop {
        match i.inflate(DataKind::Binary, rest, false, &mut buf) {
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    assert!(
        matches!(error, Error::FrameTooLarge { limit: 10_000, .. }),
        "{error:?}"
    );
}

#[test]
fn text_is_checked_as_utf8_once_inflated() {
    let mut i = inflater(15, false, Limits::default());
    let ok = stored_message("héllo".as_bytes());
    assert_eq!(
        inflate(&mut i, DataKind::Text, &[&ok], 2).unwrap(),
        "héllo".as_bytes()
    );
    let bad = stored_message(&[b'a', 0xff]);
    let error = inflate(&mut i, DataKind::Text, &[&bad], 64).unwrap_err();
    assert!(matches!(error, Error::InvalidUtf8));
    // A character cut at the end of the message.
    let mut i = inflater(15, false, Limits::default());
    let cut = stored_message(&[0xe2, 0x82]);
    assert!(matches!(
        inflate(&mut i, DataKind::Text, &[&cut], 64),
        Err(Error::InvalidUtf8)
    ));
    // Binary is not checked.
    let mut i = inflater(15, false, Limits::default());
    assert_eq!(
        inflate(&mut i, DataKind::Binary, &[&cut], 64).unwrap(),
        [0xe2, 0x82]
    );
}

#[test]
fn garbage_is_an_error_never_a_panic_or_a_loop() {
    fn prop(data: Vec<u8>, room: u8) -> TestResult {
        let mut i = inflater(9, false, Limits::default().max_message_size(1 << 20));
        let _ = inflate(&mut i, DataKind::Binary, &[&data], usize::from(room) + 1);
        TestResult::passed()
    }
    check(300, 64, prop as fn(Vec<u8>, u8) -> TestResult);
}

/// Deterministic text with repeats near and far.
fn corpus(g: &mut Gen, len: usize) -> Vec<u8> {
    let words = [
        "the ",
        "message ",
        "window ",
        "deflate ",
        "{\"id\":",
        "\"name\":",
        "42,",
        "true}",
        "\n",
    ];
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        if below(g, 10) == 0 {
            out.push(u8::arbitrary(g));
        } else {
            out.extend_from_slice(words[below(g, words.len())].as_bytes());
        }
    }
    out.truncate(len);
    out
}

#[test]
fn messages_round_trip_split_anywhere_at_every_level_and_window() {
    fn prop(_: u8) -> TestResult {
        let mut g = Gen::new(100);
        let bits = 8 + below(&mut g, 8) as u8;
        let level = below(&mut g, 10) as u8;
        let no_takeover = bool::arbitrary(&mut g);
        let mut d = deflater(bits, level, no_takeover);
        let mut i = inflater(bits, no_takeover, Limits::default());
        for _ in 0..1 + below(&mut g, 4) {
            let len = below(&mut g, 20_000);
            let data = corpus(&mut g, len);
            let chunk = 5 + below(&mut g, 3000);
            let wire = compress(&mut d, &data, chunk);
            // Split the payload into up to 5 frames at random points.
            let mut cuts: Vec<usize> = (0..below(&mut g, 5))
                .map(|_| below(&mut g, wire.len() + 1))
                .collect();
            cuts.sort_unstable();
            let mut pieces = Vec::new();
            let mut at = 0;
            for cut in cuts {
                pieces.push(&wire[at..cut]);
                at = cut;
            }
            pieces.push(&wire[at..]);
            let room = 1 + below(&mut g, 5000);
            let back = inflate(&mut i, DataKind::Binary, &pieces, room).expect("inflates");
            if back != data {
                return TestResult::failed();
            }
        }
        TestResult::passed()
    }
    check(120, 100, prop as fn(u8) -> TestResult);
}

/// Masking keys from a counter: deterministic, which is all a test needs.
struct Counter(u8);

impl RandomSource for Counter {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
    }
}

#[test]
fn a_sans_io_pair_exchanges_a_compressed_fragmented_message() {
    // The client compresses, fragments the payload in three frames (RSV1
    // on the first only), masks; the server's connection sees one
    // compressed message and the inflater gives the text back.
    let mut client = Connection::new(Role::Client, Limits::default());
    let mut server = Connection::new(Role::Server, Limits::default());
    let (mut crx, mut ctx, cshared) = client.clone().into_parts();
    ctx.enable_compression();
    crx.enable_compression();
    client = Connection::from_parts(crx, ctx, cshared);
    let (mut srx, stx, sshared) = server.clone().into_parts();
    srx.enable_compression();
    server = Connection::from_parts(srx, stx, sshared);
    let _ = &mut client;

    let text = "compressed ".repeat(300);
    let mut d = deflater(12, 6, false);
    let payload = compress(&mut d, text.as_bytes(), 4096);
    let thirds = [&payload[..5], &payload[5..20], &payload[20..]];
    let (_, mut sender, shared) = client.into_parts();
    let mut rng = Counter(0);
    let mut wire = Vec::new();
    for (n, part) in thirds.iter().enumerate() {
        let fin = n == 2;
        let header = if n == 0 {
            sender
                .start_compressed_message(&shared, DataKind::Text, fin, part.len() as u64, &mut rng)
                .unwrap()
        } else {
            sender
                .continue_message(&shared, fin, part.len() as u64, &mut rng)
                .unwrap()
        };
        assert_eq!(
            header.as_bytes()[0] & 0x40 != 0,
            n == 0,
            "RSV1 on the first frame only"
        );
        wire.extend_from_slice(header.as_bytes());
        let at = wire.len();
        wire.extend_from_slice(part);
        header.mask_payload(&mut wire[at..], 0);
    }
    let mut i = inflater(12, false, Limits::default());
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    let mut at = 0;
    let mut done = false;
    while !done {
        let received = server.receive(&mut wire[at..]).unwrap();
        at += received.consumed;
        if let Some(Event::Data {
            kind,
            bytes,
            fin,
            compressed,
        }) = received.event
        {
            assert!(compressed);
            assert_eq!(kind, DataKind::Text);
            let mut input = bytes;
            loop {
                let r = i.inflate(kind, input, fin, &mut buf).unwrap();
                out.extend_from_slice(&buf[..r.produced]);
                input = &input[r.consumed..];
                if r.done {
                    done = true;
                    break;
                }
                if input.is_empty() && !fin {
                    break;
                }
            }
        }
    }
    assert_eq!(out, text.as_bytes());
}

#[test]
fn a_sender_without_the_extension_refuses_to_compress() {
    let conn = Connection::new(Role::Server, Limits::default());
    let (_, mut sender, shared) = conn.into_parts();
    let refused =
        sender.start_compressed_message(&shared, DataKind::Text, true, 3, &mut Counter(0));
    assert!(matches!(refused, Err(Error::CompressionNotNegotiated)));
    // And a receiver without it fails RSV1 with 1002 (RFC 6455 §5.2).
    let mut server = Connection::new(Role::Server, Limits::default());
    let mut frame = [0xc1, 0x80, 0, 0, 0, 0];
    let error = server.receive(&mut frame).unwrap_err();
    assert!(matches!(error, Error::ReservedBitsSet { rsv: 0b100 }));
}
