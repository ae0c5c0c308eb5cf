//! Finding repeated strings: the LZ77 half of DEFLATE (RFC 1951 §1, §3.2.5,
//! and the hash-chain method that §4 suggests).
//!
//! What a reader learns here:
//!
//! * **Back-references.** Where the next bytes already occurred in the last
//!   `window` bytes, the deflater sends "copy `length` (3–258) bytes from
//!   `distance` (1–32,768) bytes back" instead of the bytes themselves. The
//!   copy may overlap itself: distance 1, length 100 repeats one byte 100
//!   times.
//! * **Hash chains** (§4). Every position is filed under a hash of its next
//!   three bytes: `head[hash]` is the latest position with that hash and
//!   `prev[position]` the one before it, so each chain lists, newest first,
//!   the earlier places where a match may start. Chains are walked only so
//!   far (`chain` candidates, fewer once a good match is in hand), which
//!   trades compression for speed; that is what the levels choose.
//! * **Lazy matching** (§4: "lazy evaluation of matches"). Having found a
//!   match at position `p`, look at `p + 1` before taking it: when the match
//!   there is longer, send the byte at `p` as a literal and take the later
//!   match. Fast levels skip this (greedy matching).
//!
//! The input lives in a buffer of twice the slide unit `D` (the window, at
//! least): new bytes are appended until the buffer is full, then the upper
//! half moves down by `D` and every stored position drops by `D`. Position
//! 0 in the chains means "none", so after a slide the positions that fell
//! below the buffer simply vanish from them.
//!
//! The matcher's output is a buffer of *symbols* (three bytes each: a
//! literal, or a length and a distance), tallied per alphabet symbol so the
//! block writer can build Huffman codes for exactly this block.

use super::tables::{
    DISTANCE_BASE, DISTANCE_EXTRA, LENGTH_BASE, LENGTH_EXTRA, MAX_MATCH, MIN_MATCH,
};

/// The bytes that must be ahead of the current position before it is
/// matched (unless the input is being flushed): a longest match plus the
/// next three bytes the hash needs, so no match is cut short by the end of
/// what has arrived so far.
pub const MIN_LOOKAHEAD: usize = MAX_MATCH + MIN_MATCH + 1;

/// A match of 3 bytes this far back or farther costs more bits (a long
/// distance code plus extra bits) than three literals do; it is dropped.
const TOO_FAR: usize = 4096;

/// Bytes per entry of the symbol buffer.
pub const SYMBOL_BYTES: usize = 3;

/// How hard the matcher works: the knobs a compression level sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// How matches are chosen.
    pub strategy: Strategy,
    /// Once the previous match is this long, search only a quarter of the
    /// chain (lazy matching).
    pub good: usize,
    /// Lazy: a previous match this long is taken without looking further.
    /// Greedy: the longest match whose positions all go into the chains.
    pub lazy: usize,
    /// Stop searching at a match this long.
    pub nice: usize,
    /// The most chain entries examined per search.
    pub chain: usize,
}

/// How the matcher chooses between literals and matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// No matching: every byte goes into stored blocks.
    Store,
    /// Take the first match found at each position.
    Greedy,
    /// Look one position ahead before taking a match.
    Lazy,
}

impl Params {
    /// The knobs of levels 0–9 (levels above 9 are 9). Fast levels search
    /// few chain entries greedily; from 4 on, matching is lazy and the
    /// chains are searched further.
    pub const fn for_level(level: u8) -> Params {
        let (strategy, good, lazy, nice, chain) = match level {
            0 => (Strategy::Store, 0, 0, 0, 0),
            1 => (Strategy::Greedy, 4, 4, 8, 4),
            2 => (Strategy::Greedy, 4, 5, 16, 8),
            3 => (Strategy::Greedy, 4, 6, 32, 32),
            4 => (Strategy::Lazy, 4, 4, 16, 16),
            5 => (Strategy::Lazy, 8, 16, 32, 32),
            6 => (Strategy::Lazy, 8, 16, 128, 128),
            7 => (Strategy::Lazy, 8, 32, 128, 256),
            8 => (Strategy::Lazy, 32, 128, 258, 1024),
            _ => (Strategy::Lazy, 32, 258, 258, 4096),
        };
        Params {
            strategy,
            good,
            lazy,
            nice,
            chain,
        }
    }
}

/// Why [`Matcher::run`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The symbol buffer is full: the block must be written out.
    BlockFull,
    /// Every byte that can be matched now has been: more input, or a flush.
    NeedInput,
}

/// The symbols of the current block and their counts per alphabet symbol.
#[derive(Clone, Debug)]
pub struct Tally {
    /// Counts of literal/length symbols 0–285 (256, the end of block, is
    /// counted when the block is closed).
    pub litlen: [u32; 286],
    /// Counts of distance symbols 0–29.
    pub distance: [u32; 30],
    /// Symbols in the buffer.
    pub count: usize,
    /// Input bytes the symbols stand for.
    pub covered: usize,
}

impl Default for Tally {
    fn default() -> Self {
        Self::new()
    }
}

impl Tally {
    /// An empty block.
    pub const fn new() -> Self {
        Tally {
            litlen: [0; 286],
            distance: [0; 30],
            count: 0,
            covered: 0,
        }
    }

    /// Forgets the block's symbols.
    pub fn clear(&mut self) {
        *self = Tally::new();
    }

    /// Appends a literal; true when the buffer is now full.
    #[inline]
    fn literal(&mut self, symbols: &mut [u8], byte: u8) -> bool {
        let at = self.count * SYMBOL_BYTES;
        if let Some(slot) = symbols.get_mut(at..at + SYMBOL_BYTES) {
            slot.copy_from_slice(&[byte, 0, 0]);
            self.count += 1;
            self.covered += 1;
            if let Some(f) = self.litlen.get_mut(usize::from(byte)) {
                *f += 1;
            }
        }
        (self.count + 1) * SYMBOL_BYTES > symbols.len()
    }

    /// Appends a match (3 ≤ `len` ≤ 258, 1 ≤ `dist` ≤ 32,768); true when the
    /// buffer is now full.
    #[inline]
    fn matched(&mut self, symbols: &mut [u8], len: usize, dist: usize) -> bool {
        let at = self.count * SYMBOL_BYTES;
        if let Some(slot) = symbols.get_mut(at..at + SYMBOL_BYTES) {
            let d = (dist as u16).to_le_bytes();
            slot.copy_from_slice(&[(len - MIN_MATCH) as u8, d[0], d[1]]);
            self.count += 1;
            self.covered += len;
            if let Some(f) = self.litlen.get_mut(257 + length_symbol(len)) {
                *f += 1;
            }
            if let Some(f) = self.distance.get_mut(distance_symbol(dist)) {
                *f += 1;
            }
        }
        (self.count + 1) * SYMBOL_BYTES > symbols.len()
    }
}

/// One entry of the symbol buffer, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Symbol {
    /// A byte sent as itself.
    Literal(u8),
    /// A back-reference: length 3–258, distance 1–32,768.
    Match {
        /// Bytes to copy.
        len: usize,
        /// How far back they start.
        dist: usize,
    },
}

/// Reads entry `bytes` of the symbol buffer (see [`Tally`]).
#[inline]
pub fn decode_symbol(bytes: [u8; SYMBOL_BYTES]) -> Symbol {
    let [a, d0, d1] = bytes;
    let dist = usize::from(u16::from_le_bytes([d0, d1]));
    if dist == 0 {
        Symbol::Literal(a)
    } else {
        Symbol::Match {
            len: usize::from(a) + MIN_MATCH,
            dist,
        }
    }
}

/// `LENGTH_SYMBOL[len - 3]`: the index (0–28) of the length symbol 257–285
/// that codes `len` (§3.2.5). 258 has its own symbol (285), although 284's
/// extra bits could reach it: the RFC reserves 284 for 227–257.
// `s` < 29 and `base + k` < 256 keep every index in bounds; a const fn
// cannot use iterators, and a bad index would fail the build.
#[allow(clippy::indexing_slicing)]
const LENGTH_SYMBOL: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut s = 0;
    while s < 29 {
        let base = LENGTH_BASE[s] as usize - MIN_MATCH;
        let mut k = 0;
        while k < 1 << LENGTH_EXTRA[s] && base + k < 256 {
            table[base + k] = s as u8;
            k += 1;
        }
        s += 1;
    }
    table
};

/// The distance symbol of `dist - 1` for distances up to 256, then of
/// `(dist - 1) >> 7` from entry 256 on: above 256 every symbol covers a
/// multiple of 128 distances, so 512 entries cover all 32,768.
// Every index is below 512: `d` < 32,768, so `d >> 7` < 256.
#[allow(clippy::indexing_slicing)]
const DISTANCE_SYMBOL: [u8; 512] = {
    let mut table = [0u8; 512];
    let mut s = 0;
    while s < 30 {
        let base = DISTANCE_BASE[s] as usize - 1;
        let mut k = 0;
        while k < 1 << DISTANCE_EXTRA[s] {
            let d = base + k;
            if d < 256 {
                table[d] = s as u8;
            } else {
                table[256 + (d >> 7)] = s as u8;
            }
            k += 1;
        }
        s += 1;
    }
    table
};

/// The index (0–28) of the length symbol for `len` (3–258).
#[inline]
pub fn length_symbol(len: usize) -> usize {
    usize::from(
        LENGTH_SYMBOL
            .get(len.wrapping_sub(MIN_MATCH))
            .copied()
            .unwrap_or(28),
    )
}

/// The distance symbol (0–29) for `dist` (1–32,768).
#[inline]
pub fn distance_symbol(dist: usize) -> usize {
    let d = dist.wrapping_sub(1);
    let index = if d < 256 { d } else { 256 + (d >> 7) };
    usize::from(DISTANCE_SYMBOL.get(index).copied().unwrap_or(29))
}

/// The two bytes at `at` as one number, or a value no two bytes make when
/// they are not both there.
#[inline]
fn pair(bytes: &[u8], at: usize) -> u32 {
    match bytes.get(at..at + 2) {
        Some(&[a, b]) => u32::from(u16::from_le_bytes([a, b])),
        _ => u32::MAX,
    }
}

/// The length of the common prefix of `a` and `b`, eight bytes at a time.
#[inline]
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let mut n = 0;
    let mut a8 = a.chunks_exact(8);
    let mut b8 = b.chunks_exact(8);
    for (x, y) in (&mut a8).zip(&mut b8) {
        let x = u64::from_le_bytes(x.try_into().unwrap_or([0; 8]));
        let y = u64::from_le_bytes(y.try_into().unwrap_or([0; 8]));
        let diff = x ^ y;
        if diff != 0 {
            return n + (diff.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .take_while(|(x, y)| x == y)
        .count()
}

/// The matcher's position in the buffer and what it carries from one step
/// (and one call) to the next.
#[derive(Clone, Debug)]
pub struct Matcher {
    params: Params,
    /// The farthest a match may reach back: the window, 2^window_bits.
    max_distance: usize,
    /// `prev.len() - 1`; the chain array is indexed by position modulo its
    /// length, which is a power of two at least the window.
    prev_mask: usize,
    /// `32 - log2(head.len())`: the hash keeps the top bits of a product.
    hash_shift: u32,
    /// The next position to match.
    pub strstart: usize,
    /// Bytes that arrived after `strstart`.
    pub lookahead: usize,
    /// No match may start before this position (set by `reset`: the
    /// history before it is forgotten).
    floor: usize,
    /// Lazy: the byte before `strstart` is not yet sent (a literal or the
    /// start of `prev_length`).
    match_available: bool,
    /// Lazy: the best match found at `strstart - 1` (< 3: none).
    prev_length: usize,
    prev_dist: usize,
    /// The first of the positions before `strstart` that could not be
    /// filed in the chains for want of three bytes (at a flush); they are
    /// filed once more bytes arrive, so the next message can refer to them.
    unfiled: Option<usize>,
}

impl Matcher {
    /// A matcher at the start of a stream. `head_len` and `prev_len` are the
    /// sizes of the chain arrays (powers of two; `prev_len` ≥ the window).
    pub fn new(params: Params, window_bits: u8, head_len: usize, prev_len: usize) -> Self {
        Matcher {
            params,
            max_distance: 1 << window_bits,
            prev_mask: prev_len.saturating_sub(1),
            hash_shift: 32 - head_len.max(1).trailing_zeros(),
            // Position 0 means "none" in the chains, so the data starts at
            // 1: the first bytes of a stream can be matched too.
            strstart: 1,
            lookahead: 0,
            floor: 0,
            match_available: false,
            prev_length: MIN_MATCH - 1,
            prev_dist: 0,
            unfiled: None,
        }
    }

    /// Changes the level; takes effect at the next position.
    pub fn set_params(&mut self, params: Params) {
        self.params = params;
    }

    /// Forgets the history: no later match reaches before the current
    /// position. The chains keep their old entries, but a walk stops at the
    /// first one below the floor, so this costs nothing.
    pub fn forget_history(&mut self) {
        self.floor = self.strstart;
        // A byte still waiting (lazy) goes out as a literal, not as the
        // start of a match into the forgotten past.
        self.prev_length = MIN_MATCH - 1;
        self.unfiled = None;
    }

    /// Bytes that are in the buffer but not yet symbols: the lookahead plus
    /// the lazy byte.
    pub fn unsent(&self) -> usize {
        self.lookahead + usize::from(self.match_available)
    }

    /// Copies as much of `input` as fits after the lookahead; returns how
    /// much.
    pub fn fill(&mut self, window: &mut [u8], input: &[u8]) -> usize {
        let end = self.strstart + self.lookahead;
        let Some(free) = window.get_mut(end..) else {
            return 0;
        };
        let n = free.len().min(input.len());
        if let (Some(dst), Some(src)) = (free.get_mut(..n), input.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.lookahead += n;
        n
    }

    /// Whether the buffer is full up to its end.
    pub fn buffer_full(&self, window: &[u8]) -> bool {
        self.strstart + self.lookahead >= window.len()
    }

    /// Moves the upper half of the buffer (`unit` bytes) down, and every
    /// position with it. The caller has written out the block whose bytes
    /// were in the lower half.
    pub fn slide(&mut self, window: &mut [u8], head: &mut [u16], prev: &mut [u16], unit: usize) {
        let (low, high) = window.split_at_mut(unit.min(window.len()));
        if let Some(high) = high.get(..low.len()) {
            low.copy_from_slice(high);
        }
        self.strstart = self.strstart.saturating_sub(unit);
        self.floor = self.floor.saturating_sub(unit);
        self.unfiled = self.unfiled.map(|p| p.saturating_sub(unit));
        let unit = u16::try_from(unit).unwrap_or(u16::MAX);
        for p in head.iter_mut().chain(prev.iter_mut()) {
            *p = p.saturating_sub(unit);
        }
    }

    /// The hash of the three bytes at `pos`.
    #[inline]
    fn hash(&self, window: &[u8], pos: usize) -> usize {
        match window.get(pos..pos + 3) {
            Some(&[a, b, c]) => {
                let v = u32::from(a) | u32::from(b) << 8 | u32::from(c) << 16;
                (v.wrapping_mul(0x9E37_79B1) >> self.hash_shift) as usize
            }
            _ => 0,
        }
    }

    /// Files `pos` under its hash; returns the previous position with that
    /// hash (0: none).
    #[inline]
    fn insert(&self, window: &[u8], head: &mut [u16], prev: &mut [u16], pos: usize) -> usize {
        let h = self.hash(window, pos);
        let Some(slot) = head.get_mut(h) else {
            return 0;
        };
        let older = *slot;
        *slot = pos as u16;
        if let Some(link) = prev.get_mut(pos & self.prev_mask) {
            *link = older;
        }
        usize::from(older)
    }

    /// Files the positions `from..to` that have three bytes before `end`.
    #[inline]
    fn insert_range(
        &mut self,
        window: &[u8],
        head: &mut [u16],
        prev: &mut [u16],
        from: usize,
        to: usize,
        end: usize,
    ) {
        let last = end.saturating_sub(MIN_MATCH - 1);
        for p in from..to.min(last) {
            self.insert(window, head, prev, p);
        }
        if to > last && from < to {
            self.unfiled.get_or_insert(from.max(last));
        }
    }

    /// Files the positions a flush left unfiled, as far as the bytes now
    /// allow.
    fn file_leftovers(&mut self, window: &[u8], head: &mut [u16], prev: &mut [u16]) {
        if let Some(from) = self.unfiled.take() {
            let from = from.max(self.floor);
            let end = self.strstart + self.lookahead;
            self.insert_range(window, head, prev, from, self.strstart, end);
        }
    }

    /// [`longest_match`](Self::longest_match), less a 3-byte match more
    /// than [`TOO_FAR`] back: its distance code costs more bits than the
    /// three literals it would replace. A length of 0 means none.
    #[inline]
    fn usable_match(
        &self,
        window: &[u8],
        prev: &[u16],
        pos: usize,
        candidate: usize,
        end: usize,
        threshold: usize,
    ) -> (usize, usize) {
        match self.longest_match(window, prev, pos, candidate, end, threshold) {
            (MIN_MATCH, dist) if dist > TOO_FAR => (0, dist),
            found => found,
        }
    }

    /// The longest match at `pos` longer than `threshold`, walking the chain
    /// from `candidate`; (0, 0) when there is none.
    #[inline]
    fn longest_match(
        &self,
        window: &[u8],
        prev: &[u16],
        pos: usize,
        mut candidate: usize,
        end: usize,
        threshold: usize,
    ) -> (usize, usize) {
        let max_len = end.saturating_sub(pos).min(MAX_MATCH);
        if max_len <= threshold || max_len < MIN_MATCH {
            return (0, 0);
        }
        let Some(here) = window.get(pos..pos + max_len) else {
            return (0, 0);
        };
        // Candidates must be inside the window, after the floor, and not 0
        // (which means "none").
        let lowest = pos.saturating_sub(self.max_distance).max(self.floor).max(1);
        let mut chain = if threshold >= self.params.good {
            self.params.chain / 4
        } else {
            self.params.chain
        }
        .max(1);
        let nice = self.params.nice.min(max_len);
        let (mut best, mut best_dist) = (threshold, 0);
        // Invariant: best < max_len inside the loop (a match of max_len is
        // at least `nice` and ends the search), so `best` indexes `here`.
        // A candidate can only beat `best` if it agrees on the two bytes
        // ending at `best` and on the first two: check those before
        // comparing whole strings.
        let first = pair(here, 0);
        let mut ends = pair(here, best - 1);
        while candidate >= lowest && candidate < pos {
            if pair(window, candidate + best - 1) == ends && pair(window, candidate) == first {
                let there = window
                    .get(candidate..candidate + max_len)
                    .unwrap_or_default();
                let len = common_prefix(there, here);
                if len > best {
                    best = len;
                    best_dist = pos - candidate;
                    if len >= nice {
                        break;
                    }
                    ends = pair(here, best - 1);
                }
            }
            chain -= 1;
            if chain == 0 {
                break;
            }
            let next = usize::from(prev.get(candidate & self.prev_mask).copied().unwrap_or(0));
            if next >= candidate {
                // An entry for a newer position that reused the slot: the
                // chain beyond the window ends here.
                break;
            }
            candidate = next;
        }
        if best > threshold {
            (best, best_dist)
        } else {
            (0, 0)
        }
    }

    /// Turns buffered bytes into symbols until the symbol buffer is full or
    /// fewer than [`MIN_LOOKAHEAD`] bytes are left (with `flushing`: until
    /// every byte is a symbol).
    pub fn run(
        &mut self,
        window: &[u8],
        head: &mut [u16],
        prev: &mut [u16],
        symbols: &mut [u8],
        tally: &mut Tally,
        flushing: bool,
    ) -> Stop {
        match self.params.strategy {
            Strategy::Store => {
                // Stored blocks take the bytes straight from the buffer.
                tally.covered += self.lookahead;
                self.strstart += self.lookahead;
                self.lookahead = 0;
                Stop::NeedInput
            }
            Strategy::Greedy => {
                self.file_leftovers(window, head, prev);
                self.run_greedy(window, head, prev, symbols, tally, flushing)
            }
            Strategy::Lazy => {
                self.file_leftovers(window, head, prev);
                self.run_lazy(window, head, prev, symbols, tally, flushing)
            }
        }
    }

    /// Whether the matcher may look at `strstart` now.
    #[inline]
    /// Files `pos` in the hash chains and returns the previous position
    /// with the same hash (0: none), or, with fewer than [`MIN_MATCH`]
    /// bytes ahead (no hash yet), notes it as unfiled and returns 0.
    fn file(&mut self, window: &[u8], head: &mut [u16], prev: &mut [u16], pos: usize) -> usize {
        if self.lookahead >= MIN_MATCH {
            self.insert(window, head, prev, pos)
        } else {
            self.unfiled.get_or_insert(pos);
            0
        }
    }

    fn may_step(&self, flushing: bool) -> bool {
        self.lookahead >= MIN_LOOKAHEAD || (flushing && self.lookahead > 0)
    }

    fn run_greedy(
        &mut self,
        window: &[u8],
        head: &mut [u16],
        prev: &mut [u16],
        symbols: &mut [u8],
        tally: &mut Tally,
        flushing: bool,
    ) -> Stop {
        while self.may_step(flushing) {
            let pos = self.strstart;
            let end = pos + self.lookahead;
            let candidate = self.file(window, head, prev, pos);
            let (mut len, mut dist) = (0, 0);
            if candidate != 0 {
                (len, dist) = self.usable_match(window, prev, pos, candidate, end, MIN_MATCH - 1);
            }
            let full = if len >= MIN_MATCH {
                if len <= self.params.lazy {
                    self.insert_range(window, head, prev, pos + 1, pos + len, end);
                }
                self.strstart += len;
                self.lookahead -= len;
                tally.matched(symbols, len, dist)
            } else {
                self.strstart += 1;
                self.lookahead -= 1;
                tally.literal(symbols, window.get(pos).copied().unwrap_or(0))
            };
            if full {
                return Stop::BlockFull;
            }
        }
        Stop::NeedInput
    }

    fn run_lazy(
        &mut self,
        window: &[u8],
        head: &mut [u16],
        prev: &mut [u16],
        symbols: &mut [u8],
        tally: &mut Tally,
        flushing: bool,
    ) -> Stop {
        while self.may_step(flushing) {
            let pos = self.strstart;
            let end = pos + self.lookahead;
            let candidate = self.file(window, head, prev, pos);
            let (mut len, mut dist) = (0, 0);
            if candidate != 0 && self.prev_length < self.params.lazy {
                let threshold = self.prev_length.max(MIN_MATCH - 1);
                (len, dist) = self.usable_match(window, prev, pos, candidate, end, threshold);
            }
            if self.prev_length >= MIN_MATCH && len <= self.prev_length {
                // The match at pos - 1 is at least as long: take it. Its
                // first byte is pos - 1 (already filed) and pos is filed.
                let stop = pos - 1 + self.prev_length;
                self.insert_range(window, head, prev, pos + 1, stop, end);
                let full = tally.matched(symbols, self.prev_length, self.prev_dist);
                self.lookahead -= stop - pos;
                self.strstart = stop;
                self.match_available = false;
                self.prev_length = MIN_MATCH - 1;
                if full {
                    return Stop::BlockFull;
                }
            } else {
                let waiting = self.match_available;
                self.match_available = true;
                self.prev_length = len;
                self.prev_dist = dist;
                self.strstart += 1;
                self.lookahead -= 1;
                // The byte at pos - 1 was not the start of a better match.
                if waiting && tally.literal(symbols, window.get(pos - 1).copied().unwrap_or(0)) {
                    return Stop::BlockFull;
                }
            }
        }
        if flushing && self.lookahead == 0 && self.match_available {
            self.match_available = false;
            self.prev_length = MIN_MATCH - 1;
            let byte = window
                .get(self.strstart.wrapping_sub(1))
                .copied()
                .unwrap_or(0);
            if tally.literal(symbols, byte) {
                return Stop::BlockFull;
            }
        }
        Stop::NeedInput
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_distance_symbols_match_section_3_2_5() {
        assert_eq!(length_symbol(3), 0);
        assert_eq!(length_symbol(10), 7);
        assert_eq!(length_symbol(11), 8);
        assert_eq!(length_symbol(12), 8);
        assert_eq!(length_symbol(257), 27);
        assert_eq!(length_symbol(258), 28);
        for len in 3..=258 {
            let s = length_symbol(len);
            let base = usize::from(LENGTH_BASE[s]);
            assert!(len >= base && len - base < 1 << LENGTH_EXTRA[s], "{len}");
        }
        for dist in 1..=32_768 {
            let s = distance_symbol(dist);
            let base = usize::from(DISTANCE_BASE[s]);
            assert!(
                dist >= base && dist - base < 1 << DISTANCE_EXTRA[s],
                "{dist}"
            );
        }
    }

    #[test]
    fn common_prefix_finds_the_first_difference() {
        let a = [7u8; 40];
        let mut b = a;
        assert_eq!(common_prefix(&a, &b), 40);
        b[19] = 0;
        assert_eq!(common_prefix(&a, &b), 19);
        b[3] = 0;
        assert_eq!(common_prefix(&a[..5], &b[..5]), 3);
    }

    #[test]
    fn a_repeated_phrase_becomes_a_back_reference() {
        let text = b"abcdefgh-abcdefgh-abcdefgh!";
        let mut window = [0u8; 1024];
        let (mut head, mut prev) = ([0u16; 256], [0u16; 512]);
        let mut symbols = [0u8; 300];
        let mut tally = Tally::new();
        for level in [1, 6] {
            let mut m = Matcher::new(Params::for_level(level), 9, head.len(), prev.len());
            // Start at 1: position 0 cannot be a match target.
            m.strstart = 1;
            tally.clear();
            m.fill(&mut window, text);
            let stop = m.run(
                &window,
                &mut head,
                &mut prev,
                &mut symbols,
                &mut tally,
                true,
            );
            assert_eq!(stop, Stop::NeedInput);
            assert_eq!(tally.covered, text.len());
            let got: Vec<Symbol> = symbols[..tally.count * 3]
                .chunks_exact(3)
                .map(|c| decode_symbol([c[0], c[1], c[2]]))
                .collect();
            assert_eq!(got.len(), 9 + 1 + 1, "level {level}: {got:?}");
            assert_eq!(got[9], Symbol::Match { len: 17, dist: 9 });
        }
    }
}
