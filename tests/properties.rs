//! Property tests: rules that must hold for *every* input, checked on
//! thousands of random ones (quickcheck).
//!
//! Each property states one law of the protocol core:
//!
//! 1. frame headers survive emit → parse (RFC 6455 §5.2);
//! 2. parsing arbitrary bytes never panics, a broken rule is reported as
//!    soon as the bytes that break it are there (and the same way as for
//!    the whole header), and a parsed header re-emits to exactly the bytes
//!    it came from (lengths are minimal, §5.2);
//! 3. base64 round-trips, and strict decoding means one encoding per value
//!    (RFC 4648 §3.5);
//! 4. the incremental UTF-8 validator agrees with `core::str::from_utf8` in
//!    any split, and fails at the first impossible byte (§8.1);
//! 5. masking at any offset, in any split, is the byte-wise XOR of §5.3 and
//!    its own inverse;
//! 6. a stream of valid messages yields the same events whether it arrives
//!    at once or in random chunks, in both roles, with the right automatic
//!    pongs and close echo (§5.4, §5.5, §7);
//! 7. arbitrary bytes in arbitrary chunks never panic, and a failure queues
//!    exactly one Close frame with the error's code, after which the
//!    connection stays closed (§7.1.7).
//!
//! Test counts are set per property so the file runs in a few seconds in a
//! debug build.

use quickcheck::{Arbitrary, Gen, TestResult};
#[path = "common/qc.rs"]
mod qc;
use qc::{below, chance, check};
use wslite::base64;
use wslite::frame::{
    apply_mask, header_len, mask_into, FrameHeader, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN,
};
use wslite::protocol::{Connection, DataKind, Event, Limits, Role, State};
use wslite::utf8::Utf8Validator;
use wslite::{CloseCode, Error, RandomSource};

// ----------------------------------------------------------------------
// Helpers
// ----------------------------------------------------------------------

fn random_bytes(g: &mut Gen, len: usize) -> Vec<u8> {
    (0..len).map(|_| u8::arbitrary(g)).collect()
}

/// Random text of at most `max` bytes, drawn from quickcheck's character mix
/// (ASCII, BMP, astral planes).
fn random_text(g: &mut Gen, max: usize) -> String {
    let target = below(g, max + 1);
    let mut s = String::new();
    while s.len() < target {
        let c = char::arbitrary(g);
        if s.len() + c.len_utf8() > max {
            break;
        }
        s.push(c);
    }
    s
}

/// Sorted cut points in `0..=len` (duplicates allowed: empty pieces).
fn random_cuts(g: &mut Gen, len: usize, max_cuts: usize) -> Vec<usize> {
    let n = below(g, max_cuts + 1);
    let mut cuts: Vec<usize> = (0..n).map(|_| below(g, len + 1)).collect();
    cuts.sort_unstable();
    cuts
}

/// The pieces of `0..len` that `cuts` delimit, as ranges.
fn pieces(len: usize, cuts: &[usize]) -> Vec<core::ops::Range<usize>> {
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for &c in cuts {
        let c = c.min(len).max(start);
        out.push(start..c);
        start = c;
    }
    out.push(start..len);
    out
}

/// A deterministic `RandomSource` (xorshift64), so masking keys are
/// reproducible from a failing case's seed.
#[derive(Clone, Debug)]
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        XorShift(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

impl RandomSource for XorShift {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            *b = self.next() as u8;
        }
    }
}

/// The byte-wise definition of masking (§5.3): byte `i` of the payload is
/// XORed with key byte `i % 4`. Offsets wrap like `usize`, and 2^64 is a
/// multiple of 4, so the wrap does not disturb the key position.
fn naive_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= key[offset.wrapping_add(i) % 4];
    }
}

const OPCODES: [OpCode; 6] = [
    OpCode::Continuation,
    OpCode::Text,
    OpCode::Binary,
    OpCode::Close,
    OpCode::Ping,
    OpCode::Pong,
];

// ----------------------------------------------------------------------
// 1. Frame header: emit → parse round trip
// ----------------------------------------------------------------------

/// A data-frame payload length, spread over the three encodings and their
/// boundaries.
fn data_len(g: &mut Gen) -> u64 {
    const MAX: u64 = (1 << 63) - 1;
    match below(g, 5) {
        0 => below(g, 126) as u64,
        1 => *g
            .choose(&[
                0,
                1,
                124,
                125,
                126,
                127,
                0xFFFE,
                0xFFFF,
                0x1_0000,
                0x1_0001,
                u64::from(u32::MAX),
                1 << 32,
                MAX - 1,
                MAX,
            ])
            .unwrap(),
        2 => 126 + below(g, 0x1_0000 - 126) as u64,
        3 => 0x1_0000 + u64::arbitrary(g) % (MAX - 0x1_0000 + 1),
        _ => MAX - (u64::arbitrary(g) % 1000),
    }
}

#[derive(Clone, Debug)]
struct ValidHeader(FrameHeader);

impl Arbitrary for ValidHeader {
    fn arbitrary(g: &mut Gen) -> Self {
        let opcode = *g.choose(&OPCODES).unwrap();
        let (fin, payload_len) = if opcode.is_control() {
            // §5.5: control frames are never fragmented and carry ≤125 bytes.
            (true, below(g, MAX_CONTROL_PAYLOAD + 1) as u64)
        } else {
            (bool::arbitrary(g), data_len(g))
        };
        let mask = bool::arbitrary(g).then(|| u32::arbitrary(g).to_be_bytes());
        ValidHeader(FrameHeader {
            fin,
            rsv: u8::arbitrary(g) % 8,
            opcode,
            mask,
            payload_len,
        })
    }
}

fn prop_header_round_trip(h: ValidHeader) -> TestResult {
    let h = h.0;
    let mut out = [0u8; MAX_HEADER_LEN + 3];
    // Trailing bytes after the header must not change what is parsed.
    out[MAX_HEADER_LEN..].copy_from_slice(&[0xAB, 0xCD, 0xEF]);
    let n = match h.emit(&mut out) {
        Ok(n) => n,
        Err(e) => return TestResult::error(format!("emit failed: {e}")),
    };
    if n != h.encoded_len() {
        return TestResult::error(format!("emit wrote {n}, encoded_len {}", h.encoded_len()));
    }
    if n != header_len([out[0], out[1]]) {
        return TestResult::error("header_len disagrees with emit");
    }
    // A buffer one byte short is refused, not overrun.
    match h.emit(&mut [0u8; MAX_HEADER_LEN][..n - 1]) {
        Err(Error::BufferTooSmall { needed }) if needed == n => {}
        other => return TestResult::error(format!("short buffer: {other:?}")),
    }
    match FrameHeader::parse(&out[..n]) {
        Ok(Some((parsed, len))) if parsed == h && len == n => {}
        other => return TestResult::error(format!("parse exact: {other:?}")),
    }
    match FrameHeader::parse(&out) {
        Ok(Some((parsed, len))) if parsed == h && len == n => {}
        other => return TestResult::error(format!("parse with trailing bytes: {other:?}")),
    }
    // Every strict prefix asks for more.
    for cut in 0..n {
        match FrameHeader::parse(&out[..cut]) {
            Ok(None) => {}
            other => return TestResult::error(format!("prefix {cut}: {other:?}")),
        }
    }
    TestResult::passed()
}

#[test]
fn header_emit_parse_round_trip() {
    check(
        5_000,
        100,
        prop_header_round_trip as fn(ValidHeader) -> TestResult,
    );
}

// ----------------------------------------------------------------------
// 2. Frame header: parse of arbitrary bytes
// ----------------------------------------------------------------------

#[derive(Clone, Debug)]
struct HeaderBytes(Vec<u8>);

impl Arbitrary for HeaderBytes {
    fn arbitrary(g: &mut Gen) -> Self {
        let bytes = match below(g, 4) {
            // Plain noise.
            0 => {
                let len = below(g, 17);
                random_bytes(g, len)
            }
            // A valid header with one byte changed, possibly cut or extended.
            1 => {
                let h = ValidHeader::arbitrary(g).0;
                let mut out = [0u8; MAX_HEADER_LEN];
                let n = h.emit(&mut out).unwrap();
                let mut v = out[..n].to_vec();
                let i = below(g, n);
                v[i] = u8::arbitrary(g);
                let len = below(g, n + 3);
                v.resize(len, 0x5A);
                v
            }
            // An extended length with small values, to hit non-minimal
            // encodings and the top bit.
            2 => {
                let mut v = vec![
                    u8::arbitrary(g),
                    *g.choose(&[126u8, 127, 254, 255]).unwrap(),
                ];
                for _ in 0..12 {
                    v.push(*g.choose(&[0u8, 0, 0, 1, 0x7D, 0x7E, 0x80, 0xFF]).unwrap());
                }
                let len = below(g, v.len() + 1);
                v.truncate(len);
                v
            }
            // Valid first byte, random rest.
            _ => {
                let op = *g.choose(&OPCODES).unwrap() as u8;
                let mut v = vec![op | (u8::arbitrary(g) & 0xF0)];
                let len = below(g, 14);
                v.extend(random_bytes(g, len));
                v
            }
        };
        HeaderBytes(bytes)
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        Box::new(self.0.shrink().map(HeaderBytes))
    }
}

fn prop_header_parse_arbitrary(input: HeaderBytes) -> TestResult {
    let bytes = &input.0;
    let needed = match bytes.as_slice() {
        [a, b, ..] => header_len([*a, *b]),
        _ => 2,
    };
    let whole = FrameHeader::parse(bytes);
    // A rule is reported as soon as the bytes that break it are there (a
    // peer announcing 2^40 bytes is refused at its length): an error on a
    // part of the bytes is the error all of them get.
    for cut in 0..bytes.len() {
        if let Err(early) = FrameHeader::parse(&bytes[..cut]) {
            if !matches!(&whole, Err(e) if format!("{e:?}") == format!("{early:?}")) {
                return TestResult::error(format!(
                    "{early:?} after {cut} bytes, then {whole:?} for {bytes:02x?}"
                ));
            }
        }
    }
    match whole {
        Ok(None) if bytes.len() < needed => TestResult::passed(),
        Ok(None) => TestResult::error("Ok(None) although the whole header was there"),
        Err(_) => TestResult::passed(),
        Ok(Some((h, n))) => {
            if n != needed {
                return TestResult::error(format!("length {n}, header_len says {needed}"));
            }
            // Up to the key, the same header, 4 bytes shorter if masked.
            let key_len = if h.mask.is_some() { 4 } else { 0 };
            let until_key = FrameHeader::parse_until_key(bytes);
            if !matches!(until_key, Ok(Some((u, m))) if u == FrameHeader { mask: None, ..h } && m == n - key_len)
            {
                return TestResult::error(format!("parse_until_key gave {until_key:?}"));
            }
            let mut out = [0u8; MAX_HEADER_LEN];
            match h.emit(&mut out) {
                Ok(m) if out[..m] == bytes[..n] => TestResult::passed(),
                Ok(m) => TestResult::error(format!(
                    "re-emitted {:02x?}, input {:02x?}",
                    &out[..m],
                    &bytes[..n]
                )),
                Err(e) => TestResult::error(format!("re-emit failed: {e}")),
            }
        }
    }
}

#[test]
fn header_parse_arbitrary_bytes() {
    check(
        10_000,
        100,
        prop_header_parse_arbitrary as fn(HeaderBytes) -> TestResult,
    );
}

// ----------------------------------------------------------------------
// 3. base64
// ----------------------------------------------------------------------

fn b64_encode(input: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; base64::encoded_len(input.len())];
    let n = base64::encode(input, &mut out).expect("buffer of encoded_len");
    assert_eq!(n, out.len());
    out
}

fn prop_base64_round_trip(input: Vec<u8>) -> TestResult {
    let encoded = b64_encode(&input);
    let mut out = vec![0u8; base64::decoded_len_max(encoded.len())];
    match base64::decode(&encoded, &mut out) {
        Ok(n) if out[..n] == input[..] => TestResult::passed(),
        other => TestResult::error(format!("{encoded:?} decoded to {other:?}")),
    }
}

#[test]
fn base64_round_trip() {
    check(
        3_000,
        200,
        prop_base64_round_trip as fn(Vec<u8>) -> TestResult,
    );
}

#[derive(Clone, Debug)]
struct B64Input(Vec<u8>);

impl Arbitrary for B64Input {
    fn arbitrary(g: &mut Gen) -> Self {
        const CHARS: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/====-_ \n";
        let v = match below(g, 3) {
            0 => {
                let len = below(g, 40);
                random_bytes(g, len)
            }
            // Alphabet soup, usually a multiple of 4 long.
            1 => {
                let mut len = below(g, 40);
                if chance(g, 80) {
                    len -= len % 4;
                }
                (0..len).map(|_| *g.choose(CHARS).unwrap()).collect()
            }
            // A valid encoding with one character changed.
            _ => {
                let len = below(g, 30);
                let plain = random_bytes(g, len);
                let mut enc = b64_encode(&plain);
                if !enc.is_empty() {
                    let i = below(g, enc.len());
                    enc[i] = *g.choose(CHARS).unwrap();
                }
                enc
            }
        };
        B64Input(v)
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        Box::new(self.0.shrink().map(B64Input))
    }
}

fn prop_base64_strict_decode(input: B64Input) -> TestResult {
    let input = &input.0;
    let mut out = vec![0u8; input.len()];
    let full = base64::decode(input, &mut out);
    if let Ok(n) = full {
        let again = b64_encode(&out[..n]);
        if again != *input {
            return TestResult::error(format!(
                "decoded {:?}, which encodes as {again:?}",
                &out[..n]
            ));
        }
        // A buffer of exactly the decoded length is enough; one byte less
        // is refused without a panic.
        let mut exact = vec![0u8; n];
        if base64::decode(input, &mut exact) != Ok(n) || exact[..] != out[..n] {
            return TestResult::error("exact-size buffer gave another answer");
        }
        if n > 0 && base64::decode(input, &mut exact[..n - 1]).is_ok() {
            return TestResult::error("decoded into a buffer too small");
        }
    } else {
        // Any buffer size: still no panic, still an error.
        for size in [0, input.len() / 2] {
            let mut small = vec![0u8; size];
            if base64::decode(input, &mut small).is_ok() {
                return TestResult::error(format!(
                    "small buffer {size} accepted what a large one refused"
                ));
            }
        }
    }
    TestResult::passed()
}

#[test]
fn base64_strict_decode_of_arbitrary_input() {
    check(
        5_000,
        100,
        prop_base64_strict_decode as fn(B64Input) -> TestResult,
    );
}

// ----------------------------------------------------------------------
// 4. UTF-8: incremental, fail-fast
// ----------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Utf8Case {
    bytes: Vec<u8>,
    cuts: Vec<usize>,
}

impl Arbitrary for Utf8Case {
    fn arbitrary(g: &mut Gen) -> Self {
        // Bytes that sit on the edges of the UTF-8 tables.
        const EDGES: &[u8] = &[
            b'a', 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1,
            0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF,
        ];
        let bytes = match below(g, 4) {
            0 => {
                let len = below(g, 64);
                random_bytes(g, len)
            }
            1 => random_text(g, 120).into_bytes(),
            2 => {
                let mut v = random_text(g, 120).into_bytes();
                if !v.is_empty() {
                    let i = below(g, v.len());
                    v[i] = if chance(g, 50) {
                        *g.choose(EDGES).unwrap()
                    } else {
                        u8::arbitrary(g)
                    };
                }
                v
            }
            _ => {
                let len = below(g, 24);
                (0..len).map(|_| *g.choose(EDGES).unwrap()).collect()
            }
        };
        let cuts = random_cuts(g, bytes.len(), 6);
        Utf8Case { bytes, cuts }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        let cuts = self.cuts.clone();
        Box::new(self.bytes.shrink().map(move |bytes| Utf8Case {
            cuts: cuts.clone(),
            bytes,
        }))
    }
}

/// Whether `b` may start a UTF-8 sequence (RFC 3629 §4).
fn is_lead(b: u8) -> bool {
    matches!(b, 0x00..=0x7F | 0xC2..=0xF4)
}

fn prop_utf8_incremental(case: Utf8Case) -> TestResult {
    let bytes = &case.bytes;
    let ranges = pieces(bytes.len(), &case.cuts);
    let mut v = Utf8Validator::new();
    let results: Vec<bool> = ranges
        .iter()
        .map(|r| v.feed(&bytes[r.clone()]).is_ok())
        .collect();
    let finished = v.finish().is_ok();
    let first_err = results.iter().position(|ok| !ok);

    match core::str::from_utf8(bytes) {
        Ok(_) => {
            if first_err.is_some() || !finished {
                return TestResult::error(format!(
                    "valid text refused: {results:?} finish {finished}"
                ));
            }
        }
        // Only a character cut at the very end: no piece fails, finish does.
        Err(e) if e.error_len().is_none() => {
            if first_err.is_some() || finished {
                return TestResult::error(format!(
                    "truncated text: feeds {results:?}, finish ok = {finished}"
                ));
            }
        }
        Err(e) => {
            // The first byte that no valid text can have there: the bad lead
            // itself, or the byte after the longest valid prefix of a
            // sequence.
            let k = e.valid_up_to();
            let bad = if is_lead(bytes[k]) {
                k + e.error_len().unwrap()
            } else {
                k
            };
            let expected = ranges.iter().position(|r| r.contains(&bad));
            if first_err != expected {
                return TestResult::error(format!(
                    "first impossible byte {bad} is in piece {expected:?}, validator failed at {first_err:?} ({results:?})"
                ));
            }
            // It stays failed: every later non-empty piece fails too.
            let later_ok = ranges
                .iter()
                .zip(&results)
                .skip(expected.unwrap() + 1)
                .any(|(r, ok)| !r.is_empty() && *ok);
            if later_ok || finished {
                return TestResult::error("validator recovered after an error");
            }
        }
    }
    TestResult::passed()
}

#[test]
fn utf8_incremental_matches_from_utf8_and_fails_fast() {
    check(
        10_000,
        100,
        prop_utf8_incremental as fn(Utf8Case) -> TestResult,
    );
}

// ----------------------------------------------------------------------
// 5. Masking
// ----------------------------------------------------------------------

fn prop_mask(data: Vec<u8>, key: u32, offset: usize, cuts: Vec<usize>) -> TestResult {
    let key = key.to_be_bytes();
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    cuts.sort_unstable();

    let mut expected = data.clone();
    naive_mask(&mut expected, key, offset);

    // In pieces, each starting where the previous one ended.
    let mut fast = data.clone();
    let mut at = offset;
    for r in pieces(data.len(), &cuts) {
        let next = apply_mask(&mut fast[r.clone()], key, at);
        if next != at.wrapping_add(r.len()) {
            return TestResult::error(format!(
                "returned offset {next}, expected {at} + {}",
                r.len()
            ));
        }
        at = next;
    }
    if fast != expected {
        return TestResult::error("pieces differ from the byte-wise definition");
    }
    // mask_into, in one go, agrees.
    let mut copied = vec![0u8; data.len() + 3];
    mask_into(&data, &mut copied, key, offset);
    if copied[..data.len()] != expected[..] || copied[data.len()..] != [0, 0, 0] {
        return TestResult::error("mask_into differs or wrote past the source length");
    }
    // Masking is its own inverse.
    apply_mask(&mut fast, key, offset);
    TestResult::from_bool(fast == data)
}

#[test]
fn masking_matches_bytewise_definition() {
    check(
        3_000,
        300,
        prop_mask as fn(Vec<u8>, u32, usize, Vec<usize>) -> TestResult,
    );
}

// ----------------------------------------------------------------------
// 6. Streaming equals one-shot
// ----------------------------------------------------------------------

/// One frame the peer sends.
#[derive(Clone, Debug)]
enum Part {
    Data {
        kind: DataKind,
        fin: bool,
        bytes: Vec<u8>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, String),
}

/// An event, owned, with data pieces reassembled into whole messages.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ev {
    Message(DataKind, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<(u16, String)>),
}

fn random_control(g: &mut Gen) -> Part {
    let len = below(g, MAX_CONTROL_PAYLOAD + 1);
    let payload = random_bytes(g, len);
    if chance(g, 50) {
        Part::Ping(payload)
    } else {
        Part::Pong(payload)
    }
}

fn random_close_code(g: &mut Gen) -> u16 {
    if chance(g, 70) {
        *g.choose(&[
            1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
        ])
        .unwrap()
    } else {
        3000 + below(g, 2000) as u16
    }
}

/// A random conversation: messages split into fragments, control frames in
/// between, maybe a final Close. Returns the frames and the events they must
/// produce.
fn random_conversation(g: &mut Gen) -> (Vec<Part>, Vec<Ev>) {
    let mut parts = Vec::new();
    let mut expected = Vec::new();
    let control = |g: &mut Gen, parts: &mut Vec<Part>, expected: &mut Vec<Ev>| {
        if chance(g, 30) {
            let c = random_control(g);
            expected.push(match &c {
                Part::Ping(p) => Ev::Ping(p.clone()),
                Part::Pong(p) => Ev::Pong(p.clone()),
                _ => unreachable!(),
            });
            parts.push(c);
        }
    };
    for _ in 0..below(g, 7) {
        control(g, &mut parts, &mut expected);
        let (kind, payload) = if chance(g, 50) {
            (DataKind::Text, random_text(g, 300).into_bytes())
        } else {
            let len = below(g, 301);
            (DataKind::Binary, random_bytes(g, len))
        };
        // Cut anywhere, even inside a character: only the message as a
        // whole must be UTF-8.
        let cuts = random_cuts(g, payload.len(), 3);
        let ranges = pieces(payload.len(), &cuts);
        let last = ranges.len() - 1;
        for (i, r) in ranges.into_iter().enumerate() {
            parts.push(Part::Data {
                kind,
                fin: i == last,
                bytes: payload[r].to_vec(),
            });
            if i != last {
                control(g, &mut parts, &mut expected);
            }
        }
        expected.push(Ev::Message(kind, payload));
    }
    control(g, &mut parts, &mut expected);
    if chance(g, 50) {
        let code = random_close_code(g);
        let reason = random_text(g, 40);
        expected.push(Ev::Close(Some((code, reason.clone()))));
        parts.push(Part::Close(code, reason));
    }
    (parts, expected)
}

/// Encodes `parts` as the peer of a `receiver` would send them, with the
/// crate's own encoder.
fn encode_as_peer(receiver: Role, parts: &[Part], seed: u64) -> Vec<u8> {
    let peer_role = match receiver {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    };
    let mut peer = Connection::new(peer_role, Limits::default());
    let mut rng = XorShift::new(seed);
    let mut out = Vec::new();
    for part in parts {
        match part {
            Part::Data { kind, fin, bytes } => {
                let h = peer
                    .encode_data(*kind, *fin, bytes.len() as u64, &mut rng)
                    .expect("encode_data");
                assert_eq!(h.mask().is_some(), peer_role == Role::Client);
                out.extend_from_slice(h.as_bytes());
                // Mask in two pieces, as a writer with a small buffer would.
                let mut payload = bytes.clone();
                let mid = payload.len() / 2;
                let next = h.mask_payload(&mut payload[..mid], 0);
                h.mask_payload(&mut payload[mid..], next);
                out.extend_from_slice(&payload);
            }
            Part::Ping(p) => {
                out.extend_from_slice(peer.encode_ping(p, &mut rng).unwrap().as_bytes())
            }
            Part::Pong(p) => {
                out.extend_from_slice(peer.encode_pong(p, &mut rng).unwrap().as_bytes())
            }
            Part::Close(code, reason) => out.extend_from_slice(
                peer.encode_close(CloseCode(*code), reason, &mut rng)
                    .unwrap()
                    .as_bytes(),
            ),
        }
    }
    out
}

/// Reads a control frame a connection of `sender` role produced: checks its
/// masking, unmasks it, returns opcode and payload.
fn decode_control(sender: Role, frame: &[u8]) -> Result<(OpCode, Vec<u8>), String> {
    let (h, n) = match FrameHeader::parse(frame) {
        Ok(Some(x)) => x,
        other => return Err(format!("pending frame does not parse: {other:?}")),
    };
    if h.mask.is_some() != (sender == Role::Client) {
        return Err(format!("{sender:?} sent a frame with mask {:?}", h.mask));
    }
    if !h.fin || h.rsv != 0 || frame.len() != n + h.payload_len as usize {
        return Err(format!("bad control frame {h:?}, {} bytes", frame.len()));
    }
    let mut payload = frame[n..].to_vec();
    if let Some(key) = h.mask {
        apply_mask(&mut payload, key, 0);
    }
    Ok((h.opcode, payload))
}

/// Chunk sizes for feeding a stream: all at once, byte by byte, or random
/// sizes up to a maximum.
#[derive(Clone, Debug)]
enum Chunking {
    Whole,
    Random { seed: u64, max: usize },
}

impl Chunking {
    fn arbitrary(g: &mut Gen) -> Self {
        let max = *g.choose(&[1usize, 2, 3, 7, 16, 64, 200, 1000]).unwrap();
        Chunking::Random {
            seed: u64::arbitrary(g),
            max,
        }
    }

    fn sizes(&self) -> impl FnMut(usize) -> usize {
        let (mut rng, max) = match *self {
            Chunking::Whole => (XorShift::new(1), usize::MAX),
            Chunking::Random { seed, max } => (XorShift::new(seed), max),
        };
        move |left| {
            if max == usize::MAX {
                left
            } else {
                (1 + (rng.next() as usize) % max).min(left)
            }
        }
    }
}

/// Feeds `stream` to a new connection of `role`, chunk by chunk, the way a
/// reader does (keep the unconsumed rest, append the next read). Collects
/// the events and checks the automatic pongs and close echo on the way.
///
/// With `eager`, pending frames are taken after every `receive` call, so
/// each ping gets its own pong. Otherwise they are taken once per read
/// (after the bytes run out): one pending slot, so only the latest ping of
/// that read is answered (§5.5.3).
fn receive_all(
    role: Role,
    stream: &[u8],
    chunking: &Chunking,
    eager: bool,
) -> Result<Vec<Ev>, String> {
    let mut conn = Connection::new(role, Limits::default());
    let mut rng = XorShift::new(99);
    let mut next_size = chunking.sizes();
    let mut buf: Vec<u8> = Vec::new();
    let mut events = Vec::new();
    let mut message: Option<(DataKind, Vec<u8>)> = None;
    let mut fed = 0;
    let mut closed = false;
    let mut last_ping: Option<Vec<u8>> = None;
    let mut close_echo: Option<Vec<u8>> = None;

    while fed < stream.len() && !closed {
        let n = next_size(stream.len() - fed);
        buf.extend_from_slice(&stream[fed..fed + n]);
        fed += n;
        loop {
            let r = conn
                .receive(&mut buf)
                .map_err(|e| format!("receive failed after {fed} bytes: {e}"))?;
            let consumed = r.consumed;
            let ev = match r.event {
                None => None,
                Some(Event::Data {
                    kind, bytes, fin, ..
                }) => {
                    let m = message.get_or_insert_with(|| (kind, Vec::new()));
                    if m.0 != kind {
                        return Err(format!("piece of kind {kind:?} in a {:?} message", m.0));
                    }
                    m.1.extend_from_slice(bytes);
                    if fin {
                        let (kind, bytes) = message.take().unwrap();
                        Some(Ev::Message(kind, bytes))
                    } else {
                        None
                    }
                }
                Some(Event::Ping(p)) => Some(Ev::Ping(p.to_vec())),
                Some(Event::Pong(p)) => Some(Ev::Pong(p.to_vec())),
                Some(Event::Close(c)) => {
                    Some(Ev::Close(c.map(|c| (c.code.0, c.reason.to_string()))))
                }
            };
            let had_event = consumed > 0 || ev.is_some();
            buf.drain(..consumed);
            match &ev {
                Some(Ev::Ping(p)) => last_ping = Some(p.clone()),
                Some(Ev::Close(c)) => {
                    closed = true;
                    close_echo = Some(
                        c.as_ref()
                            .map_or(Vec::new(), |(code, _)| code.to_be_bytes().to_vec()),
                    );
                }
                _ => {}
            }
            if let Some(ev) = ev {
                events.push(ev);
            }
            let done = closed || !had_event;
            if eager || done {
                // What the connection wants sent now: a pong answering the
                // latest ping since the last take, then the echo of a Close.
                let mut replies = Vec::new();
                while let Some(f) = conn.take_pending(&mut rng) {
                    replies.push(decode_control(role, f.as_bytes())?);
                    if replies.len() > 2 {
                        return Err("take_pending does not run dry".into());
                    }
                }
                let pong = last_ping.take().map(|p| (OpCode::Pong, p));
                let close = close_echo.take().map(|p| (OpCode::Close, p));
                let expected: Vec<_> = pong.clone().into_iter().chain(close.clone()).collect();
                // A Close may replace a pong not yet sent: the conversation
                // is ending anyway.
                let ok = replies == expected
                    || (close.is_some() && replies == close.into_iter().collect::<Vec<_>>());
                if !ok {
                    return Err(format!(
                        "after {} events: pending {replies:?}, expected {expected:?}",
                        events.len()
                    ));
                }
            }
            if done {
                break;
            }
        }
    }

    if closed {
        // The echo was taken: the closing handshake is complete.
        if conn.state() != State::Closed || !conn.is_closed() {
            return Err(format!("after the close echo, state {:?}", conn.state()));
        }
        if !matches!(
            conn.receive(&mut [0x88, 0x00]),
            Err(Error::ConnectionClosed)
        ) {
            return Err("receive after the closing handshake did not say ConnectionClosed".into());
        }
    } else if conn.state() != State::Open {
        return Err(format!("state {:?} without a close", conn.state()));
    }
    if fed != stream.len() || !buf.is_empty() {
        return Err(format!(
            "{} bytes left unread, {} unconsumed",
            stream.len() - fed,
            buf.len()
        ));
    }
    if let Some(m) = message {
        return Err(format!("message left unfinished: {m:?}"));
    }
    Ok(events)
}

#[derive(Clone, Debug)]
struct Conversation {
    parts: Vec<Part>,
    expected: Vec<Ev>,
    seed: u64,
    chunking: Chunking,
    /// Take pending frames after every `receive` call, or once per read.
    eager: bool,
}

impl Arbitrary for Conversation {
    fn arbitrary(g: &mut Gen) -> Self {
        let (parts, expected) = random_conversation(g);
        Conversation {
            parts,
            expected,
            seed: u64::arbitrary(g),
            chunking: Chunking::arbitrary(g),
            eager: chance(g, 70),
        }
    }
}

fn streaming_equals_one_shot(role: Role, c: &Conversation) -> TestResult {
    let stream = encode_as_peer(role, &c.parts, c.seed);
    let whole = match receive_all(role, &stream, &Chunking::Whole, c.eager) {
        Ok(events) => events,
        Err(e) => return TestResult::error(format!("whole: {e}")),
    };
    let chunked = match receive_all(role, &stream, &c.chunking, c.eager) {
        Ok(events) => events,
        Err(e) => return TestResult::error(format!("chunked: {e}")),
    };
    if whole != c.expected {
        return TestResult::error(format!("whole: got {whole:?}"));
    }
    if chunked != c.expected {
        return TestResult::error(format!("chunked: got {chunked:?}"));
    }
    TestResult::passed()
}

fn prop_stream_server(c: Conversation) -> TestResult {
    streaming_equals_one_shot(Role::Server, &c)
}

fn prop_stream_client(c: Conversation) -> TestResult {
    streaming_equals_one_shot(Role::Client, &c)
}

#[test]
fn server_streaming_equals_one_shot() {
    check(
        500,
        100,
        prop_stream_server as fn(Conversation) -> TestResult,
    );
}

#[test]
fn client_streaming_equals_one_shot() {
    check(
        500,
        100,
        prop_stream_client as fn(Conversation) -> TestResult,
    );
}

// ----------------------------------------------------------------------
// 7. Hostile bytes
// ----------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Hostile {
    bytes: Vec<u8>,
    limits: Limits,
    chunking: Chunking,
    /// Whether the reader sends pending frames after each event (if not,
    /// a pong may be pending when the error comes).
    take_after_events: bool,
}

fn hostile_bytes(g: &mut Gen, receiver: Role) -> Vec<u8> {
    match below(g, 4) {
        0 => {
            let len = below(g, 200);
            random_bytes(g, len)
        }
        // A valid conversation, damaged in a few places.
        1 | 2 => {
            let (parts, _) = random_conversation(g);
            let mut v = encode_as_peer(receiver, &parts, u64::arbitrary(g));
            for _ in 0..1 + below(g, 3) {
                if v.is_empty() {
                    break;
                }
                let i = below(g, v.len());
                match below(g, 4) {
                    0 => v[i] = u8::arbitrary(g),
                    1 => v[i] ^= 1 << below(g, 8),
                    2 => v.insert(i, u8::arbitrary(g)),
                    _ => {
                        v.remove(i);
                    }
                }
            }
            v
        }
        // Frames built from arbitrary valid headers (any rsv, mask, opcode
        // order) with short random payloads.
        _ => {
            let mut v = Vec::new();
            for _ in 0..below(g, 6) {
                let mut h = ValidHeader::arbitrary(g).0;
                if chance(g, 70) {
                    h.rsv = 0;
                }
                if chance(g, 80) {
                    h.mask = (receiver == Role::Server).then(|| u32::arbitrary(g).to_be_bytes());
                }
                if h.payload_len > 300 && chance(g, 80) {
                    h.payload_len %= 300;
                }
                let mut out = [0u8; MAX_HEADER_LEN];
                let n = h.emit(&mut out).unwrap();
                v.extend_from_slice(&out[..n]);
                let len = (h.payload_len as usize).min(300);
                v.extend(random_bytes(g, len));
            }
            v
        }
    }
}

impl Hostile {
    fn arbitrary_for(g: &mut Gen, role: Role) -> Self {
        let limits = if chance(g, 60) {
            Limits::default()
        } else {
            Limits::default()
                .max_frame_size(below(g, 200) as u64)
                .max_message_size(below(g, 400) as u64)
        };
        Hostile {
            bytes: hostile_bytes(g, role),
            limits,
            chunking: if chance(g, 20) {
                Chunking::Whole
            } else {
                Chunking::arbitrary(g)
            },
            take_after_events: bool::arbitrary(g),
        }
    }
}

#[derive(Clone, Debug)]
struct HostileToServer(Hostile);
#[derive(Clone, Debug)]
struct HostileToClient(Hostile);

impl Arbitrary for HostileToServer {
    fn arbitrary(g: &mut Gen) -> Self {
        HostileToServer(Hostile::arbitrary_for(g, Role::Server))
    }
}

impl Arbitrary for HostileToClient {
    fn arbitrary(g: &mut Gen) -> Self {
        HostileToClient(Hostile::arbitrary_for(g, Role::Client))
    }
}

/// Feeds hostile bytes; on the first error checks the queued Close and
/// that the connection stays closed.
fn hostile_input(role: Role, h: &Hostile) -> TestResult {
    let mut conn = Connection::new(role, h.limits);
    let mut rng = XorShift::new(5);
    let mut next_size = h.chunking.sizes();
    let mut buf: Vec<u8> = Vec::new();
    let mut fed = 0;
    while fed < h.bytes.len() {
        let n = next_size(h.bytes.len() - fed);
        buf.extend_from_slice(&h.bytes[fed..fed + n]);
        fed += n;
        loop {
            let was_closed = conn.state() == State::Closed;
            let outcome = conn
                .receive(&mut buf)
                .map(|r| (r.consumed, r.event.is_some()));
            match outcome {
                Ok(_) if was_closed => {
                    return TestResult::error("a closed connection accepted bytes")
                }
                Ok((consumed, event)) => {
                    if consumed > buf.len() {
                        return TestResult::error("consumed more than given");
                    }
                    buf.drain(..consumed);
                    if event && h.take_after_events {
                        while let Some(f) = conn.take_pending(&mut rng) {
                            if let Err(e) = decode_control(role, f.as_bytes()) {
                                return TestResult::error(e);
                            }
                        }
                    }
                    if consumed == 0 && !event {
                        break;
                    }
                }
                Err(Error::ConnectionClosed) if was_closed => return TestResult::passed(),
                Err(e @ Error::ConnectionClosed) => {
                    return TestResult::error(format!("{e} while state was not Closed"))
                }
                Err(e) => return after_failure(role, &mut conn, &e, &mut rng),
            }
        }
    }
    TestResult::passed()
}

fn after_failure(role: Role, conn: &mut Connection, e: &Error, rng: &mut XorShift) -> TestResult {
    let Some(code) = e.close_code() else {
        return TestResult::error(format!("receive error without a close code: {e:?}"));
    };
    if conn.state() != State::Closed {
        return TestResult::error(format!("after {e:?} state is {:?}", conn.state()));
    }
    let mut frames = Vec::new();
    while let Some(f) = conn.take_pending(rng) {
        frames.push(f);
        if frames.len() > 3 {
            break;
        }
    }
    if frames.len() != 1 {
        return TestResult::error(format!("after {e:?}: {} pending frames", frames.len()));
    }
    match decode_control(role, frames[0].as_bytes()) {
        Ok((OpCode::Close, payload)) if payload == code.0.to_be_bytes() => {}
        other => {
            return TestResult::error(format!(
                "after {e:?} (close code {code}) the pending frame is {other:?}"
            ))
        }
    }
    if !conn.is_closed() {
        return TestResult::error("is_closed() false after the failure Close was taken");
    }
    for bytes in [
        &mut [][..],
        &mut [0x81, 0x80, 1, 2, 3, 4][..],
        &mut [0x81, 0x00][..],
    ] {
        if !matches!(conn.receive(bytes), Err(Error::ConnectionClosed)) {
            return TestResult::error("receive after a failure did not say ConnectionClosed");
        }
    }
    TestResult::passed()
}

fn prop_hostile_server(h: HostileToServer) -> TestResult {
    hostile_input(Role::Server, &h.0)
}

fn prop_hostile_client(h: HostileToClient) -> TestResult {
    hostile_input(Role::Client, &h.0)
}

#[test]
fn server_survives_hostile_bytes() {
    check(
        2_000,
        100,
        prop_hostile_server as fn(HostileToServer) -> TestResult,
    );
}

#[test]
fn client_survives_hostile_bytes() {
    check(
        2_000,
        100,
        prop_hostile_client as fn(HostileToClient) -> TestResult,
    );
}
