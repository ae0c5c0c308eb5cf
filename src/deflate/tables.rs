//! The constant tables of DEFLATE (RFC 1951 §3.2.5–§3.2.7) and the
//! canonical Huffman code (§3.2.2), shared by the inflater and the deflater.
//!
//! What a reader learns here:
//!
//! * **Lengths and distances are coded as a base plus extra bits**
//!   (§3.2.5). Length symbol 265, for instance, means 11 or 12: base 11 and
//!   one extra bit. Small values get short codes; rare long ones pay with
//!   extra bits.
//! * **A Huffman code is fully given by its code lengths** (§3.2.2). Codes
//!   of the same length are consecutive numbers, in symbol order, and each
//!   length's first code follows on from the shorter ones. So a dynamic
//!   block sends only lengths, and both ends rebuild the same codes.
//! * **The fixed code** (§3.2.6) is a code-length table everyone knows:
//!   literals 0–143 take 8 bits, 144–255 take 9, 256–279 take 7, 280–287
//!   take 8; all 30 distance codes take 5 bits.

/// The longest code DEFLATE allows in the literal/length and distance
/// alphabets (§3.2.7).
pub const MAX_CODE_BITS: usize = 15;

/// The longest code of the code-length alphabet (§3.2.7: 3-bit lengths).
pub const MAX_CODE_LENGTH_BITS: usize = 7;

/// Symbols in the literal/length alphabet, including the two (286, 287)
/// that the fixed code reserves but no stream may use (§3.2.6).
pub const LITLEN_SYMBOLS: usize = 288;

/// Symbols in the distance alphabet, including the two (30, 31) that no
/// stream may use (§3.2.6).
pub const DISTANCE_SYMBOLS: usize = 32;

/// Symbols in the code-length alphabet (§3.2.7).
pub const CODE_LENGTH_SYMBOLS: usize = 19;

/// The literal/length symbol that ends a block (§3.2.5).
pub const END_OF_BLOCK: u16 = 256;

/// The shortest and the longest back-reference (§3.2.5).
pub const MIN_MATCH: usize = 3;
/// See [`MIN_MATCH`].
pub const MAX_MATCH: usize = 258;

/// The farthest a back-reference may reach (§3.2.5: 32,768 bytes).
pub const MAX_DISTANCE: usize = 32_768;

/// The base length of length symbols 257–285 (§3.2.5).
pub const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];

/// The extra bits after length symbols 257–285 (§3.2.5).
pub const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];

/// The base distance of distance symbols 0–29 (§3.2.5).
pub const DISTANCE_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];

/// The extra bits after distance symbols 0–29 (§3.2.5).
pub const DISTANCE_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// The order in which a dynamic block sends the code lengths of the
/// code-length alphabet (§3.2.7): the lengths most likely used come first,
/// so trailing zeros can be left out.
pub const CODE_LENGTH_ORDER: [u8; CODE_LENGTH_SYMBOLS] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// The code lengths of the fixed literal/length code (§3.2.6).
// `symbol` stays below LITLEN_SYMBOLS (280 < 288); a const fn cannot use
// iterators, and an out-of-bounds index would fail the build, not a run.
#[allow(clippy::indexing_slicing)]
pub const fn fixed_litlen_lengths() -> [u8; LITLEN_SYMBOLS] {
    let mut lengths = [8u8; LITLEN_SYMBOLS];
    let mut symbol = 144;
    while symbol < 256 {
        lengths[symbol] = 9;
        symbol += 1;
    }
    while symbol < 280 {
        lengths[symbol] = 7;
        symbol += 1;
    }
    lengths
}

/// The code lengths of the fixed distance code (§3.2.6): all 5 bits.
pub const FIXED_DISTANCE_LENGTHS: [u8; DISTANCE_SYMBOLS] = [5; DISTANCE_SYMBOLS];

/// Why a set of code lengths does not make a usable prefix code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeShape {
    /// Every possible bit string is some symbol's code: a complete code.
    Complete,
    /// Some bit strings are no symbol's code. DEFLATE allows this only for
    /// a code with a single symbol (§3.2.7, which lets a one-distance code
    /// have one code of one bit), or with none.
    Incomplete,
    /// More codes of some length than bit strings of that length: not a
    /// prefix code at all.
    Oversubscribed,
}

/// Assigns the canonical codes of §3.2.2 to `lengths` (0 means "symbol not
/// used"), writing each used symbol's code into `codes`, and says whether
/// the code is complete.
///
/// The codes are the RFC's: most significant bit first. DEFLATE sends
/// Huffman codes starting with their most significant bit (§3.1.1), which
/// in its LSB-first bit stream means reversed; see [`reverse_bits`].
/// Lengths above [`MAX_CODE_BITS`] are treated as oversubscribed.
// `bits` runs over 1..=MAX_CODE_BITS, inside both arrays of
// MAX_CODE_BITS + 1 entries.
#[allow(clippy::indexing_slicing)]
pub fn canonical_codes(lengths: &[u8], codes: &mut [u16]) -> CodeShape {
    // Step 1: count the codes of each length.
    let mut count = [0u16; MAX_CODE_BITS + 1];
    for &len in lengths {
        match count.get_mut(usize::from(len)) {
            Some(c) => *c += 1,
            None => return CodeShape::Oversubscribed,
        }
    }
    count[0] = 0;
    // Step 2: the first code of each length, checking on the way that the
    // lengths leave room for the codes (Kraft's inequality).
    let mut next = [0u16; MAX_CODE_BITS + 1];
    let mut code: u32 = 0;
    let mut room: i32 = 1;
    for bits in 1..=MAX_CODE_BITS {
        code = (code + u32::from(count[bits - 1])) << 1;
        next[bits] = code as u16;
        room = (room << 1) - i32::from(count[bits]);
        if room < 0 {
            return CodeShape::Oversubscribed;
        }
    }
    // Step 3: hand out consecutive codes in symbol order.
    for (&len, out) in lengths.iter().zip(codes.iter_mut()) {
        if let Some(n) = next.get_mut(usize::from(len)).filter(|_| len != 0) {
            *out = *n;
            *n = n.wrapping_add(1);
        }
    }
    if room == 0 {
        CodeShape::Complete
    } else {
        CodeShape::Incomplete
    }
}

/// The low `bits` bits of `code` in reverse order: a Huffman code as it is
/// sent in DEFLATE's least-significant-bit-first stream (§3.1.1).
pub const fn reverse_bits(code: u16, bits: u32) -> u16 {
    if bits == 0 {
        return 0;
    }
    code.reverse_bits() >> (16 - bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_example_of_canonical_codes() {
        // §3.2.2: lengths (3, 3, 3, 3, 3, 2, 4, 4) for A–H give
        // 010, 011, 100, 101, 110, 00, 1110, 1111.
        let lengths = [3, 3, 3, 3, 3, 2, 4, 4];
        let mut codes = [0u16; 8];
        assert_eq!(canonical_codes(&lengths, &mut codes), CodeShape::Complete);
        assert_eq!(
            codes,
            [0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111]
        );
    }

    #[test]
    fn the_fixed_code_is_complete_and_matches_section_3_2_6() {
        let lengths = fixed_litlen_lengths();
        let mut codes = [0u16; LITLEN_SYMBOLS];
        assert_eq!(canonical_codes(&lengths, &mut codes), CodeShape::Complete);
        assert_eq!(codes[0], 0b0011_0000);
        assert_eq!(codes[143], 0b1011_1111);
        assert_eq!(codes[144], 0b1_1001_0000);
        assert_eq!(codes[255], 0b1_1111_1111);
        assert_eq!(codes[256], 0);
        assert_eq!(codes[279], 0b001_0111);
        assert_eq!(codes[280], 0b1100_0000);
        assert_eq!(codes[287], 0b1100_0111);
    }

    #[test]
    fn shapes_other_than_complete_are_told_apart() {
        let mut codes = [0u16; 4];
        assert_eq!(
            canonical_codes(&[1, 1, 1], &mut codes),
            CodeShape::Oversubscribed
        );
        assert_eq!(
            canonical_codes(&[1, 0, 0], &mut codes),
            CodeShape::Incomplete
        );
        assert_eq!(
            canonical_codes(&[0, 0, 0], &mut codes),
            CodeShape::Incomplete
        );
        assert_eq!(
            canonical_codes(&[16, 1], &mut codes),
            CodeShape::Oversubscribed
        );
    }

    #[test]
    fn length_and_distance_tables_cover_their_ranges() {
        // The last length of each symbol meets the next symbol's base.
        for i in 0..27 {
            assert_eq!(LENGTH_BASE[i] + (1 << LENGTH_EXTRA[i]), LENGTH_BASE[i + 1]);
        }
        assert_eq!(LENGTH_BASE[27] + (1 << LENGTH_EXTRA[27]) - 1, 258);
        for i in 0..29 {
            assert_eq!(
                DISTANCE_BASE[i] + (1 << DISTANCE_EXTRA[i]),
                DISTANCE_BASE[i + 1]
            );
        }
        assert_eq!(
            usize::from(DISTANCE_BASE[29]) + (1 << DISTANCE_EXTRA[29]) - 1,
            MAX_DISTANCE
        );
        assert_eq!(reverse_bits(0b110, 3), 0b011);
    }
}
