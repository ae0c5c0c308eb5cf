//! Decoding Huffman codes (RFC 1951 §3.2.2, with the bit order of §3.1.1):
//! from a block's code lengths to a table that turns the next bits of the
//! stream into a symbol.
//!
//! What a reader learns here:
//!
//! * **A lookup table decodes a prefix code in one step.** Index a table
//!   of 2^R entries with the next R bits of the stream: every entry whose
//!   index *starts with* a code of length ≤ R holds that code's symbol and
//!   length. A code of length `len` fills 2^(R − len) entries, one for
//!   each value of the bits that follow it.
//! * **The bits arrive reversed.** Huffman codes are sent most significant
//!   bit first (§3.1.1) into a stream read least significant bit first, so
//!   the table is indexed by the code with its bits reversed
//!   ([`tables::reverse_bits`]).
//! * **Long codes are rare, so they may be slow.** A code of 15 bits
//!   would need a 32,768-entry table. Codes longer than R bits belong to
//!   rare symbols (that is why they are long), so they are decoded the
//!   textbook way instead: canonical codes of one length are consecutive
//!   numbers (§3.2.2), so for each length past R, "is the code read so far
//!   between the first code of this length and the first plus the count?"
//!   finds the symbol. That keeps the tables at a few KiB.
//!
//! What counts as a usable code (complete, or one of the exceptions the
//! RFC allows) is the inflater's decision, per alphabet; this module
//! reports the [`CodeShape`] and how many symbols are used.

use super::tables::{self, CodeShape, MAX_CODE_BITS};

/// What the next bits of the stream are, according to a [`Decoder`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The bits start with the code of `symbol`, `len` bits long.
    Symbol {
        /// The symbol decoded.
        symbol: u16,
        /// The length of its code in bits.
        len: u32,
    },
    /// The bits held are the start of a code (or may be): more are needed.
    NeedBits,
    /// No code starts with these bits (possible only in the incomplete
    /// codes DEFLATE allows, §3.2.7, or in an empty code).
    Unassigned,
}

/// A decoding table for an alphabet of up to `SYMBOLS` symbols, whose
/// direct-lookup part has `ROOT` entries (a power of two: `ROOT` = 2^R).
///
/// Size: `2 × ROOT + 2 × SYMBOLS + 100` bytes or so; see
/// [`LiteralLengthDecoder`] and friends for the three the inflater uses.
#[derive(Clone, Debug)]
pub struct Decoder<const ROOT: usize, const SYMBOLS: usize> {
    /// Indexed by the next R bits of the stream: `symbol << 4 | len` for a
    /// code of `len` ≤ R bits that those bits start with, 0 otherwise.
    root: [u16; ROOT],
    /// For each code length, how many symbols have it.
    count: [u16; MAX_CODE_BITS + 1],
    /// For each code length, its first canonical code (§3.2.2).
    first_code: [u16; MAX_CODE_BITS + 1],
    /// For each code length, where its symbols start in `sorted`.
    first_index: [u16; MAX_CODE_BITS + 1],
    /// The symbols in canonical order: by code length, then symbol.
    sorted: [u16; SYMBOLS],
    /// The longest code length used (0 for an empty code).
    max_len: u32,
    /// How many symbols have a code.
    used: u16,
}

/// The literal/length code's table: 2^10 direct entries (2 KiB), so
/// codes of up to 10 bits (nearly all of them in practice) decode in one
/// step. About 2.7 KiB in all.
pub type LiteralLengthDecoder = Decoder<1024, { tables::LITLEN_SYMBOLS }>;

/// The distance code's table: 2^8 direct entries. About 0.7 KiB.
pub type DistanceDecoder = Decoder<256, { tables::DISTANCE_SYMBOLS }>;

/// The code-length code's table (§3.2.7): its codes have at most 7 bits,
/// so 2^7 direct entries decode every one of them. About 0.4 KiB.
pub type CodeLengthDecoder = Decoder<128, { tables::CODE_LENGTH_SYMBOLS }>;

/// Bits of the direct-lookup index of a table with `root` entries.
const fn root_bits(root: usize) -> u32 {
    root.trailing_zeros()
}

impl<const ROOT: usize, const SYMBOLS: usize> Decoder<ROOT, SYMBOLS> {
    /// An empty code: every lookup is [`Lookup::Unassigned`].
    pub const fn new() -> Self {
        Decoder {
            root: [0; ROOT],
            count: [0; MAX_CODE_BITS + 1],
            first_code: [0; MAX_CODE_BITS + 1],
            first_index: [0; MAX_CODE_BITS + 1],
            sorted: [0; SYMBOLS],
            max_len: 0,
            used: 0,
        }
    }

    /// Builds the table for the code with these code lengths (one per
    /// symbol, 0 for "no code"; symbols past `SYMBOLS` are ignored) and
    /// says whether the code is complete. The table is usable whatever the
    /// shape: bits that are no symbol's code decode as
    /// [`Lookup::Unassigned`]. (An oversubscribed code gives an empty
    /// table; the inflater rejects such codes before use.)
    ///
    /// Cost: two passes over `lengths`, one store per code of at most R
    /// bits, and R doublings of the direct table's filled part. The
    /// direct table is filled by length, shortest first: once the codes of
    /// length `len` are in its first 2^len entries, those entries are
    /// copied once, to the next 2^len (the same low `len` bits, so the
    /// same short codes), and the codes of length `len + 1` go in. No
    /// clearing beyond entry 0, no code replicated entry by entry.
    pub fn build(&mut self, lengths: &[u8]) -> CodeShape {
        let lengths = lengths.get(..SYMBOLS).unwrap_or(lengths);
        let bits = root_bits(ROOT);
        // Count the codes of each length; a length past 15 is no code.
        let mut count = [0u16; MAX_CODE_BITS + 1];
        let mut too_long = false;
        for &len in lengths {
            match count.get_mut(usize::from(len)) {
                Some(c) => *c += 1,
                None => too_long = true,
            }
        }
        if let Some(zero) = count.first_mut() {
            *zero = 0;
        }
        // Each length's first canonical code (§3.2.2) and first place in
        // `sorted`, checking Kraft's inequality on the way (as
        // `tables::canonical_codes` does).
        let mut first_code = [0u16; MAX_CODE_BITS + 1];
        let mut first_index = [0u16; MAX_CODE_BITS + 1];
        let mut code: u32 = 0;
        let mut room: i32 = 1;
        let mut previous = 0u16;
        let mut index = 0u16;
        let mut max_len = 0u32;
        for (len, ((&c, first), start)) in count
            .iter()
            .zip(first_code.iter_mut())
            .zip(first_index.iter_mut())
            .enumerate()
        {
            *start = index;
            index += c;
            if len == 0 {
                continue;
            }
            code = (code + u32::from(previous)) << 1;
            room = (room << 1) - i32::from(c);
            previous = c;
            if c > 0 {
                *first = code as u16;
                max_len = len as u32;
            }
        }
        if too_long || room < 0 {
            self.root.fill(0);
            self.count = [0; MAX_CODE_BITS + 1];
            self.first_code = [0; MAX_CODE_BITS + 1];
            self.first_index = [0; MAX_CODE_BITS + 1];
            self.max_len = 0;
            self.used = 0;
            return CodeShape::Oversubscribed;
        }
        // The symbols in canonical order: by length, then symbol.
        let mut next_index = first_index;
        for (symbol, &len) in lengths.iter().enumerate() {
            if len == 0 {
                continue;
            }
            if let Some(slot) = next_index.get_mut(usize::from(len)) {
                if let Some(s) = self.sorted.get_mut(usize::from(*slot)) {
                    *s = symbol as u16;
                }
                *slot += 1;
            }
        }
        // The direct table, by doubling its filled part (see above).
        if let Some(e) = self.root.first_mut() {
            *e = 0;
        }
        let mut filled = 1usize;
        for len in 1..=max_len.min(bits) {
            filled = double(&mut self.root, filled);
            let l = len as usize & MAX_CODE_BITS;
            let (c, first, start) = (
                count.get(l).copied().unwrap_or(0),
                first_code.get(l).copied().unwrap_or(0),
                usize::from(first_index.get(l).copied().unwrap_or(0)),
            );
            let symbols = self
                .sorted
                .get(start..start + usize::from(c))
                .unwrap_or_default();
            for (i, &symbol) in symbols.iter().enumerate() {
                let reversed = tables::reverse_bits(first.wrapping_add(i as u16), len);
                // `reversed` < 2^len ≤ ROOT, a power of two: the mask
                // changes nothing.
                #[allow(clippy::indexing_slicing)]
                {
                    self.root[usize::from(reversed) & (ROOT - 1)] = symbol << 4 | len as u16;
                }
            }
        }
        while filled < ROOT {
            filled = double(&mut self.root, filled);
        }
        self.count = count;
        self.first_code = first_code;
        self.first_index = first_index;
        self.max_len = max_len;
        self.used = index;
        if room == 0 {
            CodeShape::Complete
        } else {
            CodeShape::Incomplete
        }
    }

    /// How many symbols have a code.
    pub const fn used_symbols(&self) -> u16 {
        self.used
    }

    /// The longest code, in bits (0 for an empty code).
    pub const fn max_code_len(&self) -> u32 {
        self.max_len
    }

    /// Decodes the code at the start of `bits`, of which `available` are
    /// real stream bits and the rest zeros. Gives the same symbol for every
    /// value of the bits past the code, so a short buffer and a full one
    /// agree (the short one may ask for more bits first).
    #[inline(always)]
    pub fn decode(&self, bits: u64, available: u32) -> Lookup {
        let bits_root = root_bits(ROOT);
        let entry = self
            .root
            .get(bits as usize & (ROOT - 1))
            .copied()
            .unwrap_or(0);
        if entry != 0 {
            let len = u32::from(entry & 0xF);
            return if len <= available {
                Lookup::Symbol {
                    symbol: entry >> 4,
                    len,
                }
            } else {
                Lookup::NeedBits
            };
        }
        self.decode_long(bits, available, bits_root)
    }

    /// The codes longer than the direct table (§3.2.2's canonical order):
    /// one length at a time, is the code so far among this length's codes?
    #[cold]
    fn decode_long(&self, bits: u64, available: u32, bits_root: u32) -> Lookup {
        // A zero entry with bits unknown may still hide a short code.
        if available < self.max_len.min(bits_root) {
            return Lookup::NeedBits;
        }
        // The next 15 stream bits as a most-significant-first code.
        let msb_first = u32::from(tables::reverse_bits(
            (bits & 0x7FFF) as u16,
            MAX_CODE_BITS as u32,
        ));
        for len in (bits_root + 1)..=self.max_len {
            if len > available {
                return Lookup::NeedBits;
            }
            let l = len as usize & MAX_CODE_BITS;
            let code = msb_first >> (MAX_CODE_BITS as u32 - len);
            let first = u32::from(self.first_code.get(l).copied().unwrap_or(0));
            let count = u32::from(self.count.get(l).copied().unwrap_or(0));
            let offset = code.wrapping_sub(first);
            if offset < count {
                let start = usize::from(self.first_index.get(l).copied().unwrap_or(0));
                if let Some(&symbol) = self.sorted.get(start + offset as usize) {
                    return Lookup::Symbol { symbol, len };
                }
            }
        }
        Lookup::Unassigned
    }
}

/// Copies the first `filled` entries of `root` to the next `filled` and
/// gives the new filled length (nothing if `root` is too short for that,
/// which the callers' `filled < ROOT`, both powers of two, rule out).
fn double(root: &mut [u16], filled: usize) -> usize {
    if let Some(part) = root.get_mut(..filled * 2) {
        part.copy_within(..filled, filled);
    }
    filled * 2
}

impl<const ROOT: usize, const SYMBOLS: usize> Default for Decoder<ROOT, SYMBOLS> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deflate::tables::{fixed_litlen_lengths, reverse_bits};

    /// Decodes every symbol's own code (reversed into stream order, then
    /// followed by junk bits) and checks that it comes back.
    fn round_trip<const R: usize, const S: usize>(lengths: &[u8]) {
        let mut decoder = Decoder::<R, S>::new();
        let mut codes = [0u16; S];
        let shape = decoder.build(lengths);
        assert_eq!(shape, tables::canonical_codes(lengths, &mut codes));
        for (symbol, (&len, &code)) in lengths.iter().zip(codes.iter()).enumerate() {
            if len == 0 {
                continue;
            }
            let len = u32::from(len);
            let stream = u64::from(reverse_bits(code, len));
            for junk in [0u64, 0x5555, 0xFFFF] {
                let bits = stream | junk << len;
                assert_eq!(
                    decoder.decode(bits, 40),
                    Lookup::Symbol {
                        symbol: symbol as u16,
                        len
                    }
                );
                // With exactly the code's bits it decodes; with fewer it
                // asks for more.
                assert_eq!(
                    decoder.decode(stream, len),
                    Lookup::Symbol {
                        symbol: symbol as u16,
                        len
                    }
                );
                assert_eq!(decoder.decode(stream, len - 1), Lookup::NeedBits);
            }
        }
    }

    #[test]
    fn the_fixed_code_decodes_every_symbol() {
        round_trip::<1024, 288>(&fixed_litlen_lengths());
        round_trip::<256, 32>(&[5; 32]);
    }

    #[test]
    fn long_codes_decode_through_the_canonical_path() {
        // Lengths 1, 2, ..., 14, 15, 15: a complete code with codes longer
        // than the 8-bit direct table.
        let mut lengths = [0u8; 16];
        for (i, l) in lengths.iter_mut().enumerate() {
            *l = (i as u8 + 1).min(15);
        }
        round_trip::<256, 32>(&lengths);
        round_trip::<1024, 288>(&lengths);
    }

    #[test]
    fn a_single_one_bit_code_leaves_the_other_bit_unassigned() {
        let mut decoder = DistanceDecoder::new();
        assert_eq!(decoder.build(&[0, 0, 1]), CodeShape::Incomplete);
        assert_eq!(decoder.used_symbols(), 1);
        assert_eq!(decoder.max_code_len(), 1);
        assert_eq!(decoder.decode(0b0, 1), Lookup::Symbol { symbol: 2, len: 1 });
        assert_eq!(decoder.decode(0b1, 1), Lookup::Unassigned);
        assert_eq!(decoder.decode(0, 0), Lookup::NeedBits);
    }

    #[test]
    fn an_empty_code_decodes_nothing() {
        let mut decoder = DistanceDecoder::new();
        assert_eq!(decoder.build(&[0; 30]), CodeShape::Incomplete);
        assert_eq!(decoder.used_symbols(), 0);
        assert_eq!(decoder.decode(0, 0), Lookup::Unassigned);
        assert_eq!(decoder.decode(0xFFFF, 16), Lookup::Unassigned);
    }

    #[test]
    fn the_tables_are_small() {
        const {
            assert!(core::mem::size_of::<LiteralLengthDecoder>() < 2800);
            assert!(core::mem::size_of::<DistanceDecoder>() < 800);
            assert!(core::mem::size_of::<CodeLengthDecoder>() < 450);
        }
    }
}
