//! On-target tests of permessage-deflate (RFC 7692) with a 2^9 = 512-byte
//! window, the smallest window a microcontroller would pick above RFC
//! 7692's floor of 2^8: the §7.2.3 examples, streams made by C zlib with a
//! 9-bit window (`vectors/make.py`), an Autobahn-style compressed message
//! taken apart into frames and tiny output buffers, a decompression bomb
//! refused at its limit, and a round trip through the crate's own deflater
//! with `Window512` storage.
//!
//! Built with `--features deflate` (the only binaries of this package that
//! are); run like `tests`: each test is a plain `fn() -> bool`, the runner
//! prints each test's stack peak, then `N passed, N failed`, and exits
//! through semihosting with the verdict.
#![no_std]
#![no_main]

#[path = "../rt.rs"]
#[allow(dead_code)]
mod rt;
#[path = "../checks.rs"]
#[macro_use]
mod checks;

use wslite::deflate::deflate::{Deflater, Level, Parts, Storage, Window512};
use wslite::deflate::inflate::{InflateError, Inflater, Status, STATE_BYTES};
use wslite::permessage_deflate::message::{MessageDeflater, MessageInflater};
use wslite::protocol::{Connection, DataKind, Event, Limits, Role};
use wslite::{CloseCode, Error, RandomSource};

use core::sync::atomic::{AtomicU32, Ordering};

/// Tests that did not run because the board lacks the RAM (only loads and
/// stores: thumbv6m has no atomic read-modify-write).
static SKIPPED: AtomicU32 = AtomicU32::new(0);

/// The window every test here inflates with: 2^9 bytes.
type Window = [u8; 512];

/// 4,096 bytes of JSON-like text, and C zlib's raw DEFLATE of it with a
/// 9-bit window at levels 1, 6 and 9 (ended with a final block).
static TEXT: &[u8] = include_bytes!("../../vectors/text.json");
static TEXT_W9_L1: &[u8] = include_bytes!("../../vectors/text.w9l1");
static TEXT_W9_L6: &[u8] = include_bytes!("../../vectors/text.w9l6");
static TEXT_W9_L9: &[u8] = include_bytes!("../../vectors/text.w9l9");
/// The same text as a permessage-deflate payload: zlib level 6, 9-bit
/// window, sync flush, `00 00 ff ff` removed (RFC 7692 §7.2.1).
static TEXT_W9_PMD: &[u8] = include_bytes!("../../vectors/text.w9.pmd");
/// The first 1,024 bytes of the text twice, with a 32 KiB window: the
/// second half is back-references 1,024 bytes back.
static FAR_W15: &[u8] = include_bytes!("../../vectors/far.w15l9");

/// Inflates one text message given as `frames` through `inflater`, with
/// `room` bytes of output at a time (at most 64), and compares what comes
/// out, piece by piece, with `expected`. `Ok(true)` if the message ended
/// with the last frame and gave exactly `expected`.
fn inflate_message<W: AsRef<[u8]> + AsMut<[u8]>>(
    inflater: &mut MessageInflater<W>,
    frames: &[&[u8]],
    room: usize,
    expected: &[u8],
) -> Result<bool, Error> {
    let mut buf = [0u8; 64];
    let out = &mut buf[..room];
    let mut at = 0;
    let mut calls = 0u32;
    for (n, frame) in frames.iter().enumerate() {
        let fin = n + 1 == frames.len();
        inflater.begin_frame();
        let mut input: &[u8] = frame;
        loop {
            calls += 1;
            if calls > 1_000_000 {
                return Ok(false); // no progress: a loop
            }
            let r = inflater.inflate(DataKind::Text, input, fin, out)?;
            if expected.get(at..at + r.produced) != Some(&out[..r.produced]) {
                return Ok(false);
            }
            at += r.produced;
            input = &input[r.consumed..];
            if r.done {
                return Ok(fin && input.is_empty() && at == expected.len());
            }
            if input.is_empty() && !fin {
                break;
            }
        }
    }
    Ok(false)
}

/// Inflates a whole raw DEFLATE stream (ended by a final block) with an
/// [`Inflater`] over `window`, handing it `piece` input bytes and `room`
/// output bytes (at most 64) at a time, and compares with `expected`.
fn inflate_stream<W: AsRef<[u8]> + AsMut<[u8]>>(
    window: W,
    data: &[u8],
    piece: usize,
    room: usize,
    expected: &[u8],
) -> Result<bool, InflateError> {
    let mut inflater = Inflater::new(window);
    let mut buf = [0u8; 64];
    let out = &mut buf[..room];
    let (mut at_in, mut at_out) = (0usize, 0usize);
    for _ in 0..1_000_000 {
        let end = at_in.saturating_add(piece).min(data.len());
        let p = inflater.inflate(&data[at_in..end], out)?;
        if expected.get(at_out..at_out + p.produced) != Some(&out[..p.produced]) {
            return Ok(false);
        }
        at_in += p.consumed;
        at_out += p.produced;
        match p.status {
            Status::StreamEnd => return Ok(at_in == data.len() && at_out == expected.len()),
            _ if p.consumed == 0 && p.produced == 0 && at_in == data.len() => return Ok(false),
            _ => {}
        }
    }
    Ok(false)
}

/// [`inflate_message`] with an inflater of its own, made and dropped in
/// this frame (so that a test's loop does not keep one per iteration on
/// the stack).
#[inline(never)]
fn fresh_message(frames: &[&[u8]], room: usize, expected: &[u8]) -> Result<bool, Error> {
    let mut i = pmd(false, Limits::default());
    inflate_message(&mut i, frames, room, expected)
}

fn window() -> Window {
    [0; 512]
}

fn pmd(no_context_takeover: bool, limits: Limits) -> MessageInflater<Window> {
    MessageInflater::new(window(), no_context_takeover, limits)
}

// ----- RFC 7692 §7.2.3: the examples -----

const HELLO: &[u8] = &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

fn rfc7692_7_2_3_1_one_block() -> bool {
    for room in [1, 5, 64] {
        check!(ok!(fresh_message(&[HELLO], room, b"Hello")));
        // Fragmented as in the RFC: 3 and 4 bytes.
        let frames: [&[u8]; 2] = [&HELLO[..3], &HELLO[3..]];
        check!(ok!(fresh_message(&frames, room, b"Hello")));
    }
    true
}

/// RFC 7692 §7.2.3.2's second "Hello", which refers back to the first.
const HELLO_AGAIN: &[u8] = &[0xf2, 0x00, 0x11, 0x00, 0x00];

fn rfc7692_7_2_3_2_sharing_the_window() -> bool {
    let mut i = pmd(false, Limits::default());
    check!(ok!(inflate_message(&mut i, &[HELLO], 64, b"Hello")));
    check!(ok!(inflate_message(&mut i, &[HELLO_AGAIN], 64, b"Hello")));
    true
}

fn rfc7692_7_2_3_2_no_context_takeover_forgets_the_window() -> bool {
    // Without the window (no_context_takeover), the second message refers
    // to bytes before its start: 1007.
    let mut i = pmd(true, Limits::default());
    check!(ok!(inflate_message(&mut i, &[HELLO], 64, b"Hello")));
    let e = inflate_message(&mut i, &[HELLO_AGAIN], 64, b"Hello").err();
    check!(e.and_then(|e| e.close_code()) == Some(CloseCode::INVALID_PAYLOAD));
    true
}

fn rfc7692_7_2_3_3_stored_block() -> bool {
    let stored: &[u8] = &[
        0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    for room in [1, 2, 64] {
        check!(ok!(fresh_message(&[stored], room, b"Hello")));
    }
    true
}

fn rfc7692_7_2_3_4_bfinal_set() -> bool {
    let last: &[u8] = &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    let mut i = pmd(false, Limits::default());
    check!(ok!(inflate_message(&mut i, &[last], 3, b"Hello")));
    // The stream goes on after the final block: a second message.
    check!(ok!(inflate_message(&mut i, &[HELLO], 3, b"Hello")));
    true
}

fn rfc7692_7_2_3_5_two_blocks() -> bool {
    let two: &[u8] = &[
        0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ];
    for cut in 0..=two.len() {
        let frames: [&[u8]; 2] = [&two[..cut], &two[cut..]];
        check!(ok!(fresh_message(&frames, 2, b"Hello")));
    }
    true
}

fn rfc7692_7_2_3_6_empty_fragment() -> bool {
    // A message of no data: the single byte 0x00 (an empty stored block's
    // header), then the tail the receiver appends.
    let mut i = pmd(false, Limits::default());
    check!(ok!(inflate_message(&mut i, &[&[0x00]], 8, b"")));
    // And the connection goes on.
    check!(ok!(inflate_message(&mut i, &[HELLO], 8, b"Hello")));
    true
}

// ----- Streams made by C zlib with a 9-bit window -----

fn zlib_w9_streams_inflate_in_any_pieces() -> bool {
    for data in [TEXT_W9_L1, TEXT_W9_L6, TEXT_W9_L9] {
        for (piece, room) in [(usize::MAX, 64), (1, 64), (7, 1), (64, 13), (3, 3)] {
            check!(ok!(inflate_stream(window(), data, piece, room, TEXT)));
        }
    }
    true
}

fn a_distance_past_512_is_refused_by_a_512_byte_window() -> bool {
    // 1,024 bytes back: refused with the 512-byte window, by rule...
    let refused = inflate_stream(window(), FAR_W15, usize::MAX, 64, &TEXT[..1024]);
    check!(refused == Err(InflateError::DistanceBeyondWindow));
    true
}

fn the_same_stream_inflates_with_a_1024_byte_window() -> bool {
    // ...and inflates with a 1 KiB one.
    let mut twice = [0u8; 2048];
    twice[..1024].copy_from_slice(&TEXT[..1024]);
    twice[1024..].copy_from_slice(&TEXT[..1024]);
    check!(ok!(inflate_stream([0u8; 1024], FAR_W15, 5, 17, &twice)));
    true
}

// ----- An Autobahn-style message (the 12.x cases) -----

fn autobahn_style_message_in_frames_and_tiny_buffers() -> bool {
    let p = TEXT_W9_PMD;
    // One frame, and split into frames of odd sizes, 1-byte ones included.
    let (a, rest) = p.split_at(100);
    let (b, rest) = rest.split_at(1);
    let (c, d) = rest.split_at(600);
    let mut i = pmd(false, Limits::default());
    for room in [1, 7, 64] {
        // The window is kept: each message may refer into the last.
        check!(ok!(inflate_message(&mut i, &[p], room, TEXT)));
        let frames: [&[u8]; 5] = [a, b, c, &[], d];
        check!(ok!(inflate_message(&mut i, &frames, room, TEXT)));
    }
    true
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

fn autobahn_style_message_through_a_server_connection() -> bool {
    // A client's masked frames (RSV1 on the first), read by a server
    // connection with compression enabled, inflated as they arrive.
    let client = Connection::new(Role::Client, Limits::default());
    let (mut crx, mut sender, shared) = client.into_parts();
    sender.enable_compression();
    crx.enable_compression();
    let mut wire = [0u8; 1536];
    let mut len = 0;
    let mut rng = Counter(0);
    let parts: [&[u8]; 3] = [
        &TEXT_W9_PMD[..300],
        &TEXT_W9_PMD[300..301],
        &TEXT_W9_PMD[301..],
    ];
    for (n, part) in parts.iter().enumerate() {
        let fin = n == 2;
        let header = if n == 0 {
            ok!(sender.start_compressed_message(
                &shared,
                DataKind::Text,
                fin,
                part.len() as u64,
                &mut rng
            ))
        } else {
            ok!(sender.continue_message(&shared, fin, part.len() as u64, &mut rng))
        };
        let h = header.as_bytes();
        wire[len..len + h.len()].copy_from_slice(h);
        len += h.len();
        wire[len..len + part.len()].copy_from_slice(part);
        header.mask_payload(&mut wire[len..len + part.len()], 0);
        len += part.len();
    }
    let server = Connection::new(Role::Server, Limits::default());
    let (mut srx, stx, sshared) = server.into_parts();
    srx.enable_compression();
    let mut server = Connection::from_parts(srx, stx, sshared);
    let mut i = pmd(false, Limits::default());
    let mut buf = [0u8; 16];
    let (mut at, mut out) = (0, 0);
    // Read the wire 50 bytes at a time, as a small receive buffer would.
    while at < len {
        let end = (at + 50).min(len);
        let received = ok!(server.receive(&mut wire[at..end]));
        at += received.consumed;
        if let Some(Event::Data {
            kind,
            bytes,
            fin,
            compressed,
        }) = received.event
        {
            check!(compressed && kind == DataKind::Text);
            let mut input = bytes;
            loop {
                let r = ok!(i.inflate(kind, input, fin, &mut buf));
                check!(TEXT.get(out..out + r.produced) == Some(&buf[..r.produced]));
                out += r.produced;
                input = &input[r.consumed..];
                if r.done || (input.is_empty() && !fin) {
                    break;
                }
            }
        } else {
            check!(received.consumed > 0);
        }
    }
    check!(out == TEXT.len() && !i.is_inflating());
    true
}

// ----- A bomb -----

/// Least-significant-bit-first bit packing (RFC 1951 §3.1.1) into an array.
struct Bits<const N: usize> {
    out: [u8; N],
    len: usize,
    acc: u32,
    n: u32,
}

impl<const N: usize> Bits<N> {
    fn put(&mut self, value: u32, count: u32) {
        self.acc |= value << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out[self.len] = self.acc as u8;
            self.len += 1;
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code, most significant bit first (§3.1.1).
    fn code(&mut self, code: u32, len: u32) {
        self.put(code.reverse_bits() >> (32 - len), len);
    }
}

/// A dynamic block that never ends whose codes are a 1-bit literal zero,
/// 2-bit end of block, 2-bit length 258 and a 1-bit distance 1: after one
/// zero, every 3 bits copy 258 more. About 700 KiB of zeros in `N` = 1 KiB.
fn zeros_bomb<const N: usize>() -> Bits<N> {
    let mut b = Bits {
        out: [0; N],
        len: 0,
        acc: 0,
        n: 0,
    };
    b.put(0, 1); // BFINAL = 0
    b.put(0b10, 2); // BTYPE = dynamic
    b.put(286 - 257, 5); // HLIT
    b.put(0, 5); // HDIST: 1 distance code
    b.put(18 - 4, 4); // HCLEN: 18 code-length codes
                      // Code-length code: 0, 1, 2 and 18 get 2 bits, in the RFC's order.
    for sym in [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1] {
        b.put(if matches!(sym, 0 | 1 | 2 | 18) { 2 } else { 0 }, 3);
    }
    // Canonical: 0 -> 00, 1 -> 01, 2 -> 10, 18 -> 11.
    b.code(0b01, 2); // literal 0: 1 bit
    b.code(0b11, 2); // 18: 138 zeros (1..=138)
    b.put(138 - 11, 7);
    b.code(0b11, 2); // 18: 117 zeros (139..=255)
    b.put(117 - 11, 7);
    b.code(0b10, 2); // 256: 2 bits
    b.code(0b11, 2); // 18: 28 zeros (257..=284)
    b.put(28 - 11, 7);
    b.code(0b10, 2); // 285: 2 bits
    b.code(0b01, 2); // distance 0: 1 bit
    b.code(0b0, 1); // literal 0
    while b.len + 1 < N {
        b.code(0b11, 2); // length 258
        b.code(0b0, 1); // distance 1
    }
    b
}

fn a_bomb_is_refused_at_the_limit() -> bool {
    let bomb = zeros_bomb::<1024>();
    let bomb = &bomb.out[..bomb.len];
    [1, 100, 64]
        .into_iter()
        .all(|room| bomb_with_room(bomb, room))
}

/// The bomb against a 64 KiB message limit, with `room` bytes of output.
#[inline(never)]
fn bomb_with_room(bomb: &[u8], room: usize) -> bool {
    let limit = 64 << 10;
    let limits = Limits::default()
        .max_message_size(limit)
        .max_frame_size(u64::MAX);
    {
        let mut i = pmd(false, limits);
        let mut buf = [0u8; 100];
        let out = &mut buf[..room];
        let (mut input, mut total) = (bomb, 0u64);
        let error = loop {
            match i.inflate(DataKind::Binary, input, false, out) {
                Ok(r) => {
                    check!(out[..r.produced].iter().all(|&b| b == 0));
                    total += r.produced as u64;
                    input = &input[r.consumed..];
                    check!(total <= limit && !input.is_empty());
                }
                Err(e) => break e,
            }
        };
        check!(total <= limit && total + room as u64 > limit);
        check!(matches!(error, Error::MessageTooLarge { limit: l, .. } if l == limit));
        check!(error.close_code() == Some(CloseCode::MESSAGE_TOO_BIG));
        // It read only what the limit needed: about 3 bits per 258 bytes.
        check!(bomb.len() - input.len() < 200);
    }
    true
}

// ----- The crate's own deflater, Window512 storage -----

/// The deflater's storage, in `.bss` rather than on the stack: with the
/// inflater, both on the stack would not fit the microbit's 16 KiB.
static mut STORAGE: Window512 = Window512::new();

/// A [`Storage`] that borrows [`STORAGE`].
struct Borrowed(&'static mut Window512);

impl Storage for Borrowed {
    fn parts(&mut self) -> Parts<'_> {
        self.0.parts()
    }
}

/// The stack the round trip needs, with margin: the deflater's engine
/// (3.6 KiB) and the inflater (4.7 KiB), and the deflater's code builder
/// (its working arrays take about 6.5 KiB while a block's codes are built).
const ROUND_TRIP_STACK: u32 = 20 << 10;

fn deflate_inflate_round_trip_with_window512() -> bool {
    if rt::stack_room() < ROUND_TRIP_STACK {
        rt::print("  skipped: the round trip needs about 17 KiB of stack, this board has ");
        rt::print_dec(rt::stack_room());
        rt::print(" B\n");
        SKIPPED.store(SKIPPED.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        return true;
    }
    [1, 6, 9].into_iter().all(round_trip)
}

/// A message deflater over [`STORAGE`], made in a frame of its own: the
/// temporaries of making it are gone before the inflater is made.
#[inline(never)]
fn message_deflater(level: u8) -> Option<MessageDeflater<Borrowed>> {
    // SAFETY: the only reference to STORAGE at a time: each round trip
    // drops its deflater before the next one makes another.
    let storage = Borrowed(unsafe { &mut *core::ptr::addr_of_mut!(STORAGE) });
    let deflater = Deflater::new(storage, 9, Level::new(level)).ok()?;
    Some(MessageDeflater::new(deflater, false))
}

/// Four messages of 1 KiB, the window kept between them on both sides;
/// input in 100-byte pieces, compressed 32 bytes at a time, each piece
/// inflated at once into 7 bytes of room.
#[inline(never)]
fn round_trip(level: u8) -> bool {
    {
        let Some(mut d) = message_deflater(level) else {
            check!(false);
            return false;
        };
        let mut i = pmd(false, Limits::default());
        let mut wire_total = 0;
        for message in TEXT.chunks(1024) {
            let mut compressed = [0u8; 32];
            let mut inflated = [0u8; 7];
            let mut at = 0;
            let pieces = message.chunks(100);
            let count = pieces.len();
            for (n, piece) in pieces.enumerate() {
                let fin = n + 1 == count;
                let mut input = piece;
                loop {
                    let c = ok!(d.compress(input, fin, &mut compressed));
                    input = &input[c.consumed..];
                    wire_total += c.produced;
                    let last = fin && c.done;
                    let mut wire = &compressed[..c.produced];
                    loop {
                        let r = ok!(i.inflate(DataKind::Binary, wire, last, &mut inflated));
                        check!(message.get(at..at + r.produced) == Some(&inflated[..r.produced]));
                        at += r.produced;
                        wire = &wire[r.consumed..];
                        if r.done || (wire.is_empty() && r.produced < inflated.len()) {
                            break;
                        }
                    }
                    if c.done {
                        break;
                    }
                }
            }
            check!(at == message.len() && !i.is_inflating());
        }
        // JSON-like text compresses; 4 KiB in well under 2 KiB.
        check!(wire_total < 2048);
    }
    true
}

/// Prints the sizes of the compression state on this target (for the notes).
fn sizes() -> bool {
    use core::mem::size_of;
    checks::print_sizes(&[
        ("inflate::STATE_BYTES", STATE_BYTES),
        ("Inflater<[u8; 512]>", size_of::<Inflater<Window>>()),
        (
            "MessageInflater<[u8; 512]>",
            size_of::<MessageInflater<Window>>(),
        ),
        ("Window512", size_of::<Window512>()),
        ("Deflater<Window512>", size_of::<Deflater<Window512>>()),
        (
            "deflate engine",
            size_of::<Deflater<Window512>>() - size_of::<Window512>(),
        ),
        (
            "MessageDeflater<Window512>",
            size_of::<MessageDeflater<Window512>>(),
        ),
        ("Connection", size_of::<Connection>()),
    ]);
    true
}

const TESTS: &[(&str, fn() -> bool)] = &[
    ("sizes", sizes),
    ("rfc7692_7_2_3_1_one_block", rfc7692_7_2_3_1_one_block),
    (
        "rfc7692_7_2_3_2_sharing_the_window",
        rfc7692_7_2_3_2_sharing_the_window,
    ),
    (
        "rfc7692_7_2_3_2_no_context_takeover_forgets_the_window",
        rfc7692_7_2_3_2_no_context_takeover_forgets_the_window,
    ),
    ("rfc7692_7_2_3_3_stored_block", rfc7692_7_2_3_3_stored_block),
    ("rfc7692_7_2_3_4_bfinal_set", rfc7692_7_2_3_4_bfinal_set),
    ("rfc7692_7_2_3_5_two_blocks", rfc7692_7_2_3_5_two_blocks),
    (
        "rfc7692_7_2_3_6_empty_fragment",
        rfc7692_7_2_3_6_empty_fragment,
    ),
    (
        "zlib_w9_streams_inflate_in_any_pieces",
        zlib_w9_streams_inflate_in_any_pieces,
    ),
    (
        "a_distance_past_512_is_refused_by_a_512_byte_window",
        a_distance_past_512_is_refused_by_a_512_byte_window,
    ),
    (
        "the_same_stream_inflates_with_a_1024_byte_window",
        the_same_stream_inflates_with_a_1024_byte_window,
    ),
    (
        "autobahn_style_message_in_frames_and_tiny_buffers",
        autobahn_style_message_in_frames_and_tiny_buffers,
    ),
    (
        "autobahn_style_message_through_a_server_connection",
        autobahn_style_message_through_a_server_connection,
    ),
    (
        "a_bomb_is_refused_at_the_limit",
        a_bomb_is_refused_at_the_limit,
    ),
    (
        "deflate_inflate_round_trip_with_window512",
        deflate_inflate_round_trip_with_window512,
    ),
];

#[no_mangle]
pub extern "C" fn rust_main() -> ! {
    let (mut passed, mut failed, mut deepest) = (0u32, 0u32, 0u32);
    for (name, test) in TESTS {
        rt::repaint_stack();
        let good = test();
        let peak = rt::stack_peak();
        deepest = deepest.max(peak);
        rt::print(if good { "ok   " } else { "FAIL " });
        rt::print(name);
        rt::print(" (stack ");
        rt::print_dec(peak);
        rt::print(" B)\n");
        if good {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    rt::print_dec(passed);
    rt::print(" passed, ");
    rt::print_dec(failed);
    rt::print(" failed, ");
    rt::print_dec(SKIPPED.load(Ordering::Relaxed));
    rt::print(" skipped\nstack: peak ");
    rt::print_dec(deepest.max(rt::stack_peak()));
    rt::print(" bytes of ");
    rt::print_dec(rt::stack_room());
    rt::print("\n");
    rt::exit(failed == 0 && passed == TESTS.len() as u32)
}
