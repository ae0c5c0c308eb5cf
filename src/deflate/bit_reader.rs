//! Reading DEFLATE's bit stream (RFC 1951 §3.1.1), a byte at a time or
//! eight at a time, and stopping at any byte.
//!
//! What a reader learns here:
//!
//! * **Bits are packed starting with the least significant bit of each
//!   byte** (§3.1.1). So a *bit buffer* is simple: a byte read from the
//!   input goes in above the bits already held (`bits |= byte << count`),
//!   and the next bit of the stream is always bit 0 of the buffer.
//! * **Numbers (BTYPE, LEN, extra bits) are stored least significant bit
//!   first**, so they come out of the buffer as they are: `bits & mask`.
//!   Huffman codes are the exception: they are sent most significant bit
//!   first, which the decoding tables of [`huffman`](super::huffman)
//!   account for.
//! * **A stream can stop in the middle of anything.** A WebSocket message
//!   arrives in frames and a frame in network reads, so the bits of one
//!   Huffman code may be split between two calls. The bits read so far
//!   stay in the buffer between calls; nothing is lost and nothing is read
//!   twice.
//!
//! Two ways of filling the buffer give the same bits:
//! [`pull_byte`](BitBuffer::pull_byte) takes one byte, only when the
//! decoder needs more bits than it holds (so no more than 7 bits are ever
//! held beyond what the decoder used, and a stream's end can give its
//! unread bytes back); [`refill`](BitBuffer::refill) takes as many whole
//! bytes as fit, eight bytes read as one `u64`, for the fast path in the
//! middle of a long input. [`give_back`](BitBuffer::give_back) returns the
//! whole bytes the fast path read ahead.

/// The bits read from the input and not yet used, oldest in bit 0.
///
/// Invariant outside [`refill`](Self::refill)'s fast path: the bits above
/// `count` are zero, so a table lookup on a short buffer sees zeros, never
/// stale bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BitBuffer {
    bits: u64,
    count: u32,
}

/// The most bits the buffer can hold.
pub const CAPACITY: u32 = 64;

impl BitBuffer {
    /// An empty buffer.
    pub const fn new() -> Self {
        BitBuffer { bits: 0, count: 0 }
    }

    /// The bits held, the next one of the stream in bit 0.
    pub const fn bits(&self) -> u64 {
        self.bits
    }

    /// How many bits are held.
    pub const fn count(&self) -> u32 {
        self.count
    }

    /// The next `n` bits (`n` ≤ 32) as a number, least significant bit
    /// first (§3.1.1), without using them.
    pub const fn peek(&self, n: u32) -> u32 {
        (self.bits & low_mask(n)) as u32
    }

    /// Uses the next `n` bits (`n` ≤ [`count`](Self::count)).
    pub fn consume(&mut self, n: u32) {
        let n = n.min(self.count);
        // A shift by 64 would overflow; consuming everything is a clear.
        self.bits = self.bits.checked_shr(n).unwrap_or(0);
        self.count -= n;
    }

    /// Takes the next `n` bits (`n` ≤ 32) if the buffer holds them.
    pub fn take(&mut self, n: u32) -> Option<u32> {
        if self.count < n {
            return None;
        }
        let value = self.peek(n);
        self.consume(n);
        Some(value)
    }

    /// Moves the next byte of `input` (at `*pos`) into the buffer. False
    /// when the input is used up, or when the buffer has no room for eight
    /// more bits (a caller that asks for more than 56 bits at once).
    pub fn pull_byte(&mut self, input: &[u8], pos: &mut usize) -> bool {
        if self.count > CAPACITY - 8 {
            return false;
        }
        match input.get(*pos) {
            Some(&byte) => {
                self.bits |= u64::from(byte) << self.count;
                self.count += 8;
                *pos += 1;
                true
            }
            None => false,
        }
    }

    /// Pulls bytes until the buffer holds at least `n` bits (`n` ≤ 57).
    /// False if the input ran out first (the bytes pulled stay held).
    pub fn ensure(&mut self, n: u32, input: &[u8], pos: &mut usize) -> bool {
        while self.count < n {
            if !self.pull_byte(input, pos) {
                return false;
            }
        }
        true
    }

    /// Drops the bits up to the next byte boundary (stored blocks, §3.2.4,
    /// start on one).
    pub fn align_to_byte(&mut self) {
        self.consume(self.count % 8);
    }

    /// The fast path's refill: reads the eight bytes at `*pos` as one
    /// little-endian word and keeps as many whole bytes of it as fit, so
    /// that at least 56 bits are held. False (and nothing read) if fewer
    /// than eight bytes remain.
    ///
    /// The bits above `count` may now hold the start of bytes not yet
    /// counted as read; [`give_back`](Self::give_back) clears them.
    pub fn refill(&mut self, input: &[u8], pos: &mut usize) -> bool {
        let Some(word) = pos
            .checked_add(8)
            .and_then(|end| input.get(*pos..end))
            .and_then(|eight| <[u8; 8]>::try_from(eight).ok())
        else {
            return false;
        };
        self.bits |= u64::from_le_bytes(word)
            .checked_shl(self.count)
            .unwrap_or(0);
        let whole_bytes = (CAPACITY - 1 - self.count.min(CAPACITY - 1)) / 8;
        *pos += whole_bytes as usize;
        self.count += whole_bytes * 8;
        true
    }

    /// Returns the whole bytes held in the buffer to the input (moves `*pos`
    /// back), as long as they came from it (`*pos` never goes below
    /// `since`), and clears the bits above `count`. After this fewer than
    /// eight bits are held unless the bytes came from an earlier input.
    pub fn give_back(&mut self, pos: &mut usize, since: usize) {
        let read_here = pos.saturating_sub(since);
        let bytes = ((self.count / 8) as usize).min(read_here);
        *pos -= bytes;
        self.count -= (bytes as u32) * 8;
        self.bits &= low_mask(self.count);
    }
}

/// A mask of the low `n` bits (`n` ≤ 64).
pub const fn low_mask(n: u32) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_come_out_least_significant_first() {
        // §3.1.1: 0b1010_0110 then 0b0000_0011.
        let input = [0b1010_0110u8, 0b0000_0011];
        let mut pos = 0;
        let mut buffer = BitBuffer::new();
        assert!(buffer.ensure(3, &input, &mut pos));
        assert_eq!(pos, 1);
        assert_eq!(buffer.take(3), Some(0b110));
        assert_eq!(buffer.take(5), Some(0b10100));
        assert_eq!(buffer.take(1), None);
        assert!(buffer.ensure(2, &input, &mut pos));
        assert_eq!(buffer.take(2), Some(0b11));
        assert!(!buffer.ensure(8, &input, &mut pos));
    }

    #[test]
    fn refill_and_give_back_leave_the_same_bits_as_byte_pulls() {
        let input: [u8; 16] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        let mut fast = BitBuffer::new();
        let mut fast_pos = 0;
        assert!(fast.refill(&input, &mut fast_pos));
        assert_eq!((fast_pos, fast.count()), (7, 56));
        fast.consume(13);
        assert!(fast.refill(&input, &mut fast_pos));
        fast.consume(20);
        fast.give_back(&mut fast_pos, 0);

        let mut slow = BitBuffer::new();
        let mut slow_pos = 0;
        assert!(slow.ensure(33, &input, &mut slow_pos));
        slow.consume(33);
        assert_eq!((fast_pos, fast), (slow_pos, slow));
        assert!(fast.count() < 8);
    }

    #[test]
    fn refill_needs_eight_bytes() {
        let mut buffer = BitBuffer::new();
        let mut pos = 0;
        assert!(!buffer.refill(&[0; 7], &mut pos));
        assert_eq!((pos, buffer.count()), (0, 0));
    }
}
