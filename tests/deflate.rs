//! The DEFLATE encoder (`wslite::deflate::deflate`) against published
//! vectors and, in quickcheck properties, against an inflater.
//!
//! 1. RFC 7692 §7.2.3.1–§7.2.3.2 and §7.2.3.6: "Hello" as one fixed block,
//!    "Hello" again with and without the shared window, the empty block;
//! 2. level 0 writes stored blocks only, and no block is ever final;
//! 3. round trips at every level 0–9 and window bits 8–15, in random input
//!    chunks and random output buffer sizes (down to one byte), several
//!    messages each ended by a sync flush, with the context kept or `reset`
//!    between messages (then each message must decode on its own);
//! 4. no back-reference reaches farther than the window (the decoder
//!    checks), so an 8-bit window really is 256 bytes;
//! 5. the bound: a call never writes past its output buffer, and the output
//!    is at most the input plus 5 bytes per block and per flush.
//!
//! Every output is decoded twice: by the crate's inflater
//! (`wslite::deflate::inflate`, fed in random chunks too), and by a small
//! decoder written for this file from RFC 1951 §3.2 (slow, strict, simple:
//! it also tells which block types were used). `benches/zlib_compare.py`
//! checks the bench outputs with zlib's inflater as well.

use quickcheck::{Arbitrary, Gen, TestResult};
#[path = "common/qc.rs"]
mod qc;
use qc::{below, check};
use wslite::deflate::deflate::{Deflater, Flush, HeapStorage, Level, Sizes, Storage, Window512};
use wslite::deflate::inflate::{InflateError, Inflater};

// ----------------------------------------------------------------------
// A reference inflater, from RFC 1951 §3.2
// ----------------------------------------------------------------------

/// What a decoded stream was made of.
#[derive(Debug, Default)]
struct Blocks {
    stored: usize,
    fixed: usize,
    dynamic: usize,
}

struct BitReader<'a> {
    data: &'a [u8],
    bit: usize,
}

impl BitReader<'_> {
    fn bits(&mut self, n: u32) -> Result<u32, String> {
        let mut v = 0;
        for i in 0..n {
            let byte = *self
                .data
                .get(self.bit / 8)
                .ok_or("unexpected end of data")?;
            v |= u32::from(byte >> (self.bit % 8) & 1) << i;
            self.bit += 1;
        }
        Ok(v)
    }

    fn align(&mut self) {
        self.bit = self.bit.div_ceil(8) * 8;
    }
}

/// A canonical Huffman decoder (§3.2.2): counts per length and the symbols
/// in code order.
struct Huffman {
    count: [u16; 16],
    symbols: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Result<Huffman, String> {
        let mut count = [0u16; 16];
        for &l in lengths {
            count[usize::from(l)] += 1;
        }
        count[0] = 0;
        let mut left: i32 = 1;
        for &c in &count[1..] {
            left = left * 2 - i32::from(c);
            if left < 0 {
                return Err("oversubscribed code".into());
            }
        }
        let used = lengths.iter().filter(|&&l| l > 0).count();
        // The encoder promises complete codes (it gives a lone symbol a
        // partner); an empty code is allowed for distances only.
        if left != 0 && used > 0 {
            return Err(format!("incomplete code of {used} symbols"));
        }
        let mut symbols = Vec::new();
        for len in 1..16u8 {
            for (s, &l) in lengths.iter().enumerate() {
                if l == len {
                    symbols.push(s as u16);
                }
            }
        }
        Ok(Huffman { count, symbols })
    }

    fn decode(&self, r: &mut BitReader) -> Result<u16, String> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= r.bits(1)? as i32;
            let count = i32::from(self.count[len]);
            if code - first < count {
                return Ok(self.symbols[(index + code - first) as usize]);
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err("no such code".into())
    }
}

const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
const ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// Decodes one or more whole messages (each ending on a byte boundary) and
/// appends them to `out`, whose earlier bytes are the history. Rejects a
/// final block and any distance beyond `window` or before the history.
fn inflate_into(data: &[u8], window: usize, out: &mut Vec<u8>) -> Result<Blocks, String> {
    let mut r = BitReader { data, bit: 0 };
    let mut blocks = Blocks::default();
    while r.bit < data.len() * 8 {
        if r.bits(1)? == 1 {
            return Err("a final block (BFINAL = 1)".into());
        }
        match r.bits(2)? {
            0 => {
                blocks.stored += 1;
                r.align();
                let len = r.bits(16)?;
                let nlen = r.bits(16)?;
                if len != !nlen & 0xFFFF {
                    return Err("NLEN is not the complement of LEN".into());
                }
                for _ in 0..len {
                    out.push(r.bits(8)? as u8);
                }
            }
            kind @ (1 | 2) => {
                let (lit, dist) = if kind == 1 {
                    blocks.fixed += 1;
                    let mut l = [8u8; 288];
                    l[144..256].fill(9);
                    l[256..280].fill(7);
                    (Huffman::new(&l)?, Huffman::new(&[5; 32])?)
                } else {
                    blocks.dynamic += 1;
                    let hlit = r.bits(5)? as usize + 257;
                    let hdist = r.bits(5)? as usize + 1;
                    let hclen = r.bits(4)? as usize + 4;
                    if hlit > 286 || hdist > 30 {
                        return Err("too many codes".into());
                    }
                    let mut cl = [0u8; 19];
                    for &i in &ORDER[..hclen] {
                        cl[i] = r.bits(3)? as u8;
                    }
                    let cl = Huffman::new(&cl)?;
                    let mut lengths = Vec::new();
                    while lengths.len() < hlit + hdist {
                        let (value, n) = match cl.decode(&mut r)? {
                            s @ 0..=15 => (s as u8, 1),
                            16 => (*lengths.last().ok_or("repeat first")?, 3 + r.bits(2)?),
                            17 => (0, 3 + r.bits(3)?),
                            _ => (0, 11 + r.bits(7)?),
                        };
                        lengths.extend(std::iter::repeat(value).take(n as usize));
                    }
                    if lengths.len() != hlit + hdist {
                        return Err("code lengths run past the end".into());
                    }
                    if lengths[256] == 0 {
                        return Err("no end-of-block code".into());
                    }
                    (
                        Huffman::new(&lengths[..hlit])?,
                        Huffman::new(&lengths[hlit..])?,
                    )
                };
                loop {
                    let s = usize::from(lit.decode(&mut r)?);
                    match s {
                        0..=255 => out.push(s as u8),
                        256 => break,
                        257..=285 => {
                            let i = s - 257;
                            let len = usize::from(LENGTH_BASE[i])
                                + r.bits(u32::from(LENGTH_EXTRA[i]))? as usize;
                            let d = usize::from(dist.decode(&mut r)?);
                            if d >= 30 {
                                return Err("distance symbol 30 or 31".into());
                            }
                            let distance = usize::from(DIST_BASE[d])
                                + r.bits(u32::from(DIST_EXTRA[d]))? as usize;
                            if distance > window {
                                return Err(format!("distance {distance} beyond the window"));
                            }
                            if distance > out.len() {
                                return Err("distance before the start".into());
                            }
                            for _ in 0..len {
                                out.push(out[out.len() - distance]);
                            }
                        }
                        _ => return Err("literal/length symbol 286 or 287".into()),
                    }
                }
            }
            _ => return Err("reserved block type".into()),
        }
    }
    Ok(blocks)
}

fn inflate(data: &[u8], window: usize) -> Result<(Vec<u8>, Blocks), String> {
    let mut out = Vec::new();
    let blocks = inflate_into(data, window, &mut out)?;
    Ok((out, blocks))
}

/// Decodes `data` with the crate's inflater, in input pieces of
/// `in_sizes` and output buffers of `out_sizes` (both cycled).
fn inflate_with(
    inflater: &mut Inflater<Vec<u8>>,
    data: &[u8],
    in_sizes: &[usize],
    out_sizes: &[usize],
) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut calls = 0usize;
    loop {
        let take = in_sizes[calls % in_sizes.len()].min(rest.len());
        let mut buf = vec![0u8; out_sizes[calls % out_sizes.len()].max(1)];
        let p = inflater.inflate(&rest[..take], &mut buf)?;
        out.extend_from_slice(&buf[..p.produced]);
        rest = &rest[p.consumed..];
        calls += 1;
        if rest.is_empty() && p.produced < buf.len() {
            return Ok(out);
        }
        assert!(
            calls < 10 * (data.len() + out.len()) + 100,
            "the inflater stalls"
        );
    }
}

// ----------------------------------------------------------------------
// Driving the deflater
// ----------------------------------------------------------------------

/// Compresses one message in input pieces of `in_sizes` (cycled) into
/// output buffers of `out_sizes` (cycled), ending with a sync flush;
/// checks on the way that no call writes past its buffer or stalls.
fn compress_message<S: Storage>(
    d: &mut Deflater<S>,
    message: &[u8],
    in_sizes: &[usize],
    out_sizes: &[usize],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = message;
    let mut calls = 0usize;
    let mut stalled = 0;
    loop {
        let take = in_sizes[calls % in_sizes.len()].min(rest.len());
        let mut buf = vec![0u8; out_sizes[calls % out_sizes.len()].max(1)];
        let last_piece = take == rest.len();
        let flush = if last_piece { Flush::Sync } else { Flush::None };
        let p = d.compress(&rest[..take], &mut buf, flush);
        assert!(p.consumed <= take && p.produced <= buf.len());
        out.extend_from_slice(&buf[..p.produced]);
        rest = &rest[p.consumed..];
        calls += 1;
        if p.flushed {
            assert!(last_piece && rest.is_empty(), "flushed before the end");
            return out;
        }
        // A call that took no input and wrote nothing is allowed only when
        // it was given no input (Flush::None) - never twice in a row.
        if p.consumed == 0 && p.produced == 0 {
            stalled += 1;
            assert!(stalled < 3, "no progress");
        } else {
            stalled = 0;
        }
    }
}

fn compress_all(level: Level, bits: u8, message: &[u8]) -> Vec<u8> {
    let mut d = Deflater::with_window_bits(bits, level).unwrap();
    compress_message(&mut d, message, &[usize::MAX], &[1 << 16])
}

// ----------------------------------------------------------------------
// Published vectors
// ----------------------------------------------------------------------

#[test]
fn hello_is_the_fixed_block_of_rfc_7692_section_7_2_3_1() {
    for bits in [8, 9, 12, 15] {
        assert_eq!(
            compress_all(Level::DEFAULT, bits, b"Hello"),
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff]
        );
    }
}

#[test]
fn hello_twice_shares_the_window_or_not_as_section_7_2_3_2_shows() {
    let first = [
        0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff,
    ];
    let mut d = Deflater::with_window_bits(15, Level::DEFAULT).unwrap();
    assert_eq!(compress_message(&mut d, b"Hello", &[5], &[64]), first);
    // With the context kept: one back-reference, length 5, distance 5:
    // 02 13 00, then the empty stored block. The RFC shows f2 00 11 00 00,
    // zlib's output, which sends 'H' as a literal and copies only "ello":
    // zlib never refers back to the first byte of its buffer. One byte
    // shorter, and the same meaning:
    let second = compress_message(&mut d, b"Hello", &[5], &[64]);
    assert_eq!(second, [0x02, 0x13, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff]);
    let mut history = b"Hello".to_vec();
    inflate_into(&second, 1 << 15, &mut history).unwrap();
    assert_eq!(history, b"HelloHello");
    // The RFC's bytes mean the same to the same decoder.
    let mut history = b"Hello".to_vec();
    inflate_into(
        &[0xf2, 0x00, 0x11, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff],
        1 << 15,
        &mut history,
    )
    .unwrap();
    assert_eq!(history, b"HelloHello");
    // After reset (no_context_takeover): the same bytes as the first time.
    d.reset();
    assert_eq!(compress_message(&mut d, b"Hello", &[5], &[64]), first);
}

#[test]
fn an_empty_message_is_the_empty_stored_block_of_section_7_2_3_6() {
    // 0x00 (block header and padding), then LEN = 0, NLEN = 0xffff; RFC
    // 7692 removes the last four bytes, leaving the 0x00 of §7.2.3.6.
    let mut d = Deflater::new(Window512::new(), 9, Level::DEFAULT).unwrap();
    assert_eq!(
        compress_message(&mut d, b"", &[1], &[1]),
        [0, 0, 0, 0xff, 0xff]
    );
    // Every flush writes its own empty block.
    assert_eq!(
        compress_message(&mut d, b"", &[1], &[3]),
        [0, 0, 0, 0xff, 0xff]
    );
}

#[test]
fn level_0_writes_stored_blocks_only() {
    let data: Vec<u8> = b"abcabcabc".repeat(20_000);
    let out = compress_all(Level::STORE, 15, &data);
    let (decoded, blocks) = inflate(&out, 1 << 15).unwrap();
    assert_eq!(decoded, data);
    assert_eq!((blocks.fixed, blocks.dynamic), (0, 0));
    assert!(blocks.stored >= 4, "{blocks:?}"); // 180 kB in ≤ 64 KiB blocks, and the flush
}

#[test]
fn text_gets_dynamic_blocks_and_random_bytes_stored_ones() {
    let text: Vec<u8> = (0..20_000u32)
        .flat_map(|i| format!("message {} from user{} ", i % 97, i % 13).into_bytes())
        .collect();
    let out = compress_all(Level::DEFAULT, 15, &text);
    let (decoded, blocks) = inflate(&out, 1 << 15).unwrap();
    assert_eq!(decoded, text);
    assert!(
        blocks.dynamic > 0 && out.len() < text.len() / 4,
        "{blocks:?}"
    );

    let mut x = 0x1234_5678_9abc_def0u64;
    let noise: Vec<u8> = (0..100_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    for bits in [8, 12, 15] {
        let out = compress_all(Level::BEST, bits, &noise);
        let (decoded, blocks) = inflate(&out, 1 << bits).unwrap();
        assert_eq!(decoded, noise);
        assert_eq!(blocks.stored, blocks.stored + blocks.fixed + blocks.dynamic);
        assert!(
            out.len() <= noise.len() + 5 * blocks.stored,
            "{}",
            out.len()
        );
    }
}

#[test]
fn long_inputs_slide_through_every_window() {
    // Repeats at distances just inside and just beyond each window.
    let mut data = Vec::new();
    let mut x = 7u32;
    for i in 0..60_000u32 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        data.push(if i % 700 < 350 {
            b'a' + (x >> 28) as u8
        } else {
            data[data.len() - 257]
        });
    }
    for bits in 8..=15 {
        for level in [1, 4, 6, 9] {
            let out = compress_all(Level::new(level), bits, &data);
            let (decoded, _) = inflate(&out, 1 << bits).unwrap();
            assert!(decoded == data, "bits {bits} level {level}");
        }
    }
}

// ----------------------------------------------------------------------
// Properties
// ----------------------------------------------------------------------

/// A message that compresses somewhat: random bytes, words from a small
/// vocabulary, runs, and copies of its own earlier bytes.
fn message(g: &mut Gen, max: usize) -> Vec<u8> {
    let len = below(g, max + 1);
    let mut m = Vec::with_capacity(len);
    const WORDS: [&[u8]; 8] = [
        b"the ",
        b"socket ",
        b"frame ",
        b"{\"id\":",
        b"\",",
        b"a",
        b"\n",
        b"zz",
    ];
    while m.len() < len {
        match below(g, 4) {
            0 => m.push(u8::arbitrary(g)),
            1 => m.extend_from_slice(WORDS[below(g, WORDS.len())]),
            2 => m.extend(std::iter::repeat(u8::arbitrary(g)).take(1 + below(g, 300))),
            _ if !m.is_empty() => {
                let from = below(g, m.len());
                let n = 1 + below(g, 300.min(m.len() - from));
                m.extend_from_within(from..from + n);
            }
            _ => {}
        }
    }
    m.truncate(len);
    m
}

#[derive(Clone, Debug)]
enum StorageKind {
    /// `Deflater::with_window_bits`.
    Default,
    /// The smallest heap sizes: 1 KiB buffer, 256 hash heads, 64 symbols.
    Tight,
    /// The fixed-size array preset (window bits 8 or 9).
    Array,
}

#[derive(Clone, Debug)]
struct Case {
    level: u8,
    bits: u8,
    storage: StorageKind,
    messages: Vec<Vec<u8>>,
    in_sizes: Vec<usize>,
    out_sizes: Vec<usize>,
    reset: bool,
}

impl Arbitrary for Case {
    fn arbitrary(g: &mut Gen) -> Case {
        let bits = 8 + below(g, 8) as u8;
        let storage = match below(g, 3) {
            0 => StorageKind::Default,
            1 => StorageKind::Tight,
            _ if bits <= 9 => StorageKind::Array,
            _ => StorageKind::Default,
        };
        let long = below(g, 8) == 0;
        let count = 1 + below(g, 4);
        let max = if long { 40_000 } else { 3_000 };
        Case {
            level: below(g, 10) as u8,
            bits,
            storage,
            messages: (0..count).map(|_| message(g, max)).collect(),
            in_sizes: (0..1 + below(g, 4))
                .map(|_| [1, 7, 300, 5000, usize::MAX][below(g, 5)])
                .collect(),
            out_sizes: (0..1 + below(g, 4))
                .map(|_| [1, 2, 5, 64, 700, 100_000][below(g, 6)])
                .collect(),
            reset: bool::arbitrary(g),
        }
    }
}

fn run_case<S: Storage>(mut d: Deflater<S>, c: &Case) -> TestResult {
    let window = 1usize << c.bits;
    let mut stream = Vec::new();
    let mut history = Vec::new();
    // The receiver's inflater, with the same window, fed in other chunks.
    let mut inflater = Inflater::new(vec![0u8; window]);
    let (in_sizes, out_sizes): (Vec<usize>, Vec<usize>) = (
        c.out_sizes.iter().map(|&n| n.min(4096)).collect(),
        c.in_sizes.iter().map(|&n| n.clamp(1, 4096)).collect(),
    );
    for m in &c.messages {
        let out = compress_message(&mut d, m, &c.in_sizes, &c.out_sizes);
        if !out.ends_with(&[0, 0, 0xff, 0xff]) {
            return TestResult::error("a message does not end with 00 00 ff ff");
        }
        // The bound: at most 5 bytes per block on top of the input; blocks
        // hold at least 64 symbols or fill half the buffer (≥ 250 bytes)
        // unless a flush ends them, and each flush adds one empty block.
        let blocks = m.len() / 64 + 1;
        if out.len() > m.len() + 5 * blocks + 5 {
            return TestResult::error(format!("{} bytes for {}", out.len(), m.len()));
        }
        match inflate_with(&mut inflater, &out, &in_sizes, &out_sizes) {
            Ok(decoded) if decoded == *m => {}
            Ok(_) => return TestResult::error("the inflater decodes other bytes"),
            Err(e) => return TestResult::error(format!("inflater: {e:?}")),
        }
        if c.reset {
            // No context: each message decodes on its own.
            match inflate(&out, window) {
                Ok((decoded, _)) if decoded == *m => {}
                Ok(_) => return TestResult::error("a message decodes to other bytes"),
                Err(e) => return TestResult::error(format!("alone: {e}")),
            }
            d.reset();
            inflater.reset();
        }
        stream.extend_from_slice(&out);
        history.extend_from_slice(m);
    }
    match inflate(&stream, window) {
        Ok((decoded, _)) if decoded == history => TestResult::passed(),
        Ok(_) => TestResult::error("the stream decodes to other bytes"),
        Err(e) => TestResult::error(e),
    }
}

fn prop_round_trip(c: Case) -> TestResult {
    let level = Level::new(c.level);
    match c.storage {
        StorageKind::Default => run_case(Deflater::with_window_bits(c.bits, level).unwrap(), &c),
        StorageKind::Tight => {
            let sizes = Sizes {
                window_bits: c.bits,
                buffer_bits: (c.bits + 1).max(10),
                hash_bits: 8,
                symbols: 64,
            };
            run_case(
                Deflater::<HeapStorage>::with_sizes(sizes, level).unwrap(),
                &c,
            )
        }
        StorageKind::Array => run_case(Deflater::new(Window512::new(), c.bits, level).unwrap(), &c),
    }
}

#[test]
fn round_trips_at_every_level_and_window() {
    check(300, 100, prop_round_trip as fn(Case) -> TestResult);
}
