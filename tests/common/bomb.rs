//! Hand-made DEFLATE data for tests that play a hostile peer, written
//! without the library (RFC 1951 §3.2.7), so that the inflater under test
//! does not judge data made by its own deflater.

// Each test binary includes this file and uses part of it.
#![allow(dead_code)]

/// Least-significant-bit-first bit packing (RFC 1951 §3.1.1).
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn new() -> Self {
        Bits {
            out: Vec::new(),
            acc: 0,
            n: 0,
        }
    }

    /// Appends the low `count` bits of `value`, least significant first.
    fn put(&mut self, value: u64, count: u32) {
        self.acc |= value << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// Appends a Huffman code (sent most significant bit first).
    fn code(&mut self, code: u64, len: u32) {
        let reversed = code.reverse_bits() >> (64 - len);
        self.put(reversed, len);
    }
}

/// A decompression bomb: `zeros` bytes of zeros (rounded up to a multiple
/// of 258, plus one) in one dynamic-Huffman block that never ends, about
/// 3 bits per 258 bytes: a GiB of zeros takes about 1.5 MB.
///
/// The block's literal/length code has three symbols: 0 (the literal zero,
/// 1 bit), 256 (end of block, 2 bits) and 285 (length 258, 2 bits); the
/// distance code has one, distance 1 (1 bit). After one literal zero, every
/// `285, distance 1` pair copies 258 more zeros.
pub fn zeros_bomb(zeros: u64) -> Vec<u8> {
    let mut b = Bits::new();
    b.put(0, 1); // BFINAL = 0: the stream goes on
    b.put(0b10, 2); // BTYPE = 10: dynamic Huffman codes
    b.put(286 - 257, 5); // HLIT: 286 literal/length codes
    b.put(0, 5); // HDIST: 1 distance code
    b.put(18 - 4, 4); // HCLEN: 18 code-length codes, in the RFC's order
                      // Code-length code: symbols 1, 2 and 18 (a run of zeros) used, all 2
                      // bits long (with 0 unused, a 3-symbol code is not complete, so
                      // symbol 0 gets 2 bits too: four 2-bit codes).
                      // Order: 16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2 14 1 15
    let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1];
    for sym in order {
        let len = if matches!(sym, 0 | 1 | 2 | 18) { 2 } else { 0 };
        b.put(len, 3);
    }
    // Canonical codes of the code-length code: 0 -> 00, 1 -> 01, 2 -> 10,
    // 18 -> 11.
    let cl = |b: &mut Bits, sym: u32| {
        let code = match sym {
            0 => 0b00,
            1 => 0b01,
            2 => 0b10,
            _ => 0b11,
        };
        b.code(code, 2);
    };
    // Literal/length lengths: 0 -> 1, 1..=255 -> 0, 256 -> 2, 257..=284 -> 0,
    // 285 -> 2.
    cl(&mut b, 1);
    // 255 zeros: 18 takes 7 extra bits for 11..138 zeros.
    cl(&mut b, 18);
    b.put(138 - 11, 7);
    cl(&mut b, 18);
    b.put(117 - 11, 7);
    cl(&mut b, 2); // 256
    cl(&mut b, 18); // 257..=284: 28 zeros
    b.put(28 - 11, 7);
    cl(&mut b, 2); // 285
                   // Distance lengths: distance code 0 -> 1 bit.
    cl(&mut b, 1);
    // Literal/length code: 0 -> "0", 256 -> "10", 285 -> "11".
    // Distance code: 0 -> "0".
    b.code(0b0, 1); // literal 0
    let pairs = zeros.div_ceil(258);
    for _ in 0..pairs {
        b.code(0b11, 2); // length 258
        b.code(0b0, 1); // distance 1
    }
    if b.n > 0 {
        b.put(0, 8 - b.n);
    }
    b.out
}

/// A stored block holding `data`, followed by the header byte of the empty
/// stored block whose `00 00 ff ff` the receiver appends (RFC 7692
/// §7.2.1): the payload of a compressed message that is not compressed at
/// all. `data` is at most 65,535 bytes.
pub fn stored_message(data: &[u8]) -> Vec<u8> {
    assert!(data.len() <= 0xFFFF);
    let len = data.len() as u16;
    let mut out = vec![0x00];
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.push(0x00);
    out
}
