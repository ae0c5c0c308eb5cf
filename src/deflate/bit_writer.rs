//! Writing DEFLATE's bit stream (RFC 1951 §3.1.1), with a small buffer of
//! finished bytes that waits for room in the caller's output.
//!
//! What a reader learns here: DEFLATE packs its data elements into bytes
//! starting at the *least* significant bit. A value of `n` bits goes in
//! with its own least significant bit first, so it lands in the stream as
//! the number it is, shifted above the bits already written. Huffman codes
//! are the one exception (§3.1.1: "packed starting with the most
//! significant bit of the code"); the deflater stores them bit-reversed
//! ([`tables::reverse_bits`](super::tables::reverse_bits)) so that they too
//! can be written as plain numbers.
//!
//! The writer keeps up to 31 unwritten bits in a 64-bit accumulator and
//! moves them out four bytes at a time into [`PENDING_BYTES`] bytes of
//! pending output. The deflater hands those out whenever the caller gives
//! it room: output of any size, even one byte per call, works.

/// The bytes of encoded output the writer holds for the caller (the
/// "pending output" of the memory table). A dynamic block header, the
/// largest piece written in one go, takes at most
/// [`LARGEST_PIECE`] bytes, so it always fits once the buffer is drained.
pub const PENDING_BYTES: usize = 512;

/// The most bytes one uninterrupted write may add: a dynamic block header
/// (3 + 14 + 19 × 3 bits, then at most 316 code lengths of 7 + 7 bits),
/// rounded up.
pub const LARGEST_PIECE: usize = 320;

/// An LSB-first bit writer over a fixed buffer of pending bytes.
#[derive(Clone, Debug)]
pub struct BitWriter {
    /// Bits not yet in `buf`, the oldest in the low end.
    bits: u64,
    /// How many of `bits` are meaningful (0–31 between calls to `put`).
    count: u32,
    /// Finished bytes waiting for the caller: `buf[start..end]`.
    buf: [u8; PENDING_BYTES],
    start: usize,
    end: usize,
}

impl Default for BitWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl BitWriter {
    /// An empty writer at a byte boundary.
    pub const fn new() -> Self {
        BitWriter {
            bits: 0,
            count: 0,
            buf: [0; PENDING_BYTES],
            start: 0,
            end: 0,
        }
    }

    /// Bytes that can still be added to the pending buffer, counting the
    /// bits in the accumulator as already taking their room.
    pub fn room(&self) -> usize {
        PENDING_BYTES
            .saturating_sub(self.end)
            .saturating_sub(self.count.div_ceil(8) as usize)
    }

    /// True when no byte or bit waits to go out: the stream is at a byte
    /// boundary, and raw bytes (a stored block's data) may go straight out.
    pub fn is_empty(&self) -> bool {
        self.start == self.end && self.count == 0
    }

    /// Bits written since the last byte boundary (0–7).
    pub fn bit_offset(&self) -> u32 {
        self.count % 8
    }

    /// Appends the low `n` bits of `value` (n ≤ 32; higher bits of `value`
    /// must be zero). The caller checks [`room`](Self::room) first: a write
    /// adds at most `n / 8 + 4` bytes.
    #[inline]
    pub fn put(&mut self, value: u32, n: u32) {
        debug_assert!(n <= 32 && (n == 32 || value >> n == 0));
        self.bits |= u64::from(value) << self.count;
        self.count += n;
        if self.count >= 32 {
            if let Some(dst) = self.buf.get_mut(self.end..self.end + 4) {
                dst.copy_from_slice(&(self.bits as u32).to_le_bytes());
                self.end += 4;
            } else {
                debug_assert!(false, "BitWriter::put without room");
            }
            self.bits >>= 32;
            self.count -= 32;
        }
    }

    /// Pads with zero bits to the next byte boundary (stored blocks, §3.2.4:
    /// "any bits of input up to the next byte boundary are ignored") and
    /// moves every whole byte into the pending buffer.
    pub fn align(&mut self) {
        self.count = self.count.div_ceil(8) * 8;
        self.move_whole_bytes();
    }

    /// Moves the whole bytes of the accumulator into the pending buffer.
    fn move_whole_bytes(&mut self) {
        while self.count >= 8 {
            let Some(slot) = self.buf.get_mut(self.end) else {
                return;
            };
            *slot = self.bits as u8;
            self.end += 1;
            self.bits >>= 8;
            self.count -= 8;
        }
    }

    /// Copies pending bytes into `out`; returns how many. Bits short of a
    /// byte stay in the accumulator: the next data (or the next block's
    /// header) completes their byte.
    pub fn drain(&mut self, out: &mut [u8]) -> usize {
        self.move_whole_bytes();
        let waiting = self.buf.get(self.start..self.end).unwrap_or_default();
        let n = waiting.len().min(out.len());
        if let (Some(src), Some(dst)) = (waiting.get(..n), out.get_mut(..n)) {
            dst.copy_from_slice(src);
        }
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.start > 0 {
            // Keep the free room at the end, where `put` writes.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(w: &mut BitWriter) -> Vec<u8> {
        let mut out = vec![0u8; PENDING_BYTES];
        let n = w.drain(&mut out);
        out.truncate(n);
        out
    }

    #[test]
    fn values_go_in_least_significant_bit_first() {
        let mut w = BitWriter::new();
        // §3.2.3: BFINAL = 1, then BTYPE = 01 as a 2-bit number.
        w.put(1, 1);
        w.put(0b01, 2);
        w.put(0b11111, 5);
        assert_eq!(all(&mut w), [0b1111_1011]);
    }

    #[test]
    fn align_pads_with_zeros_and_long_runs_cross_words() {
        let mut w = BitWriter::new();
        w.put(0b101, 3);
        w.align();
        for _ in 0..10 {
            w.put(0xABCD, 16);
        }
        let out = all(&mut w);
        assert_eq!(out[0], 0b101);
        assert_eq!(&out[1..5], &[0xCD, 0xAB, 0xCD, 0xAB]);
        assert_eq!(out.len(), 21);
        assert!(w.is_empty());
    }

    #[test]
    fn draining_one_byte_at_a_time_keeps_the_order() {
        let mut w = BitWriter::new();
        for i in 0..100u32 {
            w.put(i & 0xFF, 8);
        }
        let mut got = Vec::new();
        let mut one = [0u8; 1];
        while w.drain(&mut one) == 1 {
            got.push(one[0]);
        }
        assert_eq!(got, (0..100u8).collect::<Vec<_>>());
    }
}
