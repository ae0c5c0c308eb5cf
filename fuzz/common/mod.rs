//! Helpers shared by the fuzz targets: chunk sizes derived from the input,
//! and the whole-versus-chunked check of the two handshake parsers.
#![allow(dead_code)]

/// A tiny deterministic generator (xorshift64*), seeded from input bytes, so
/// that the same input always splits the same way.
pub struct Chunks {
    state: u64,
    max: usize,
}

impl Chunks {
    /// Chunk sizes from 1 to `max` (at least 1), driven by `seed`.
    pub fn new(seed: &[u8], max: usize) -> Self {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for &b in seed {
            state = (state ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
        }
        Chunks {
            state: state | 1,
            max: max.max(1),
        }
    }

    /// The next chunk size.
    pub fn next_size(&mut self) -> usize {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        // Mostly tiny pieces (1-3 bytes: every boundary gets hit), sometimes
        // larger ones.
        if r & 3 == 0 {
            1 + (r >> 8) as usize % self.max
        } else {
            1 + (r >> 8) as usize % 3.min(self.max)
        }
    }

    /// Split points of a `len`-byte input: the ends of successive chunks,
    /// the last one equal to `len`.
    pub fn ends(mut self, len: usize) -> Vec<usize> {
        let mut ends = Vec::new();
        let mut at = 0;
        while at < len {
            at = (at + self.next_size()).min(len);
            ends.push(at);
        }
        ends
    }
}

/// A fixed "random" source, so both runs of a target mask identically.
pub struct FixedRng(pub u8);

impl wslite::RandomSource for FixedRng {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            self.0 = self.0.wrapping_mul(73).wrapping_add(41);
            *b = self.0;
        }
    }
}

/// Handshake limits and a header-slot count from two input bytes: small
/// limits often, and sometimes fewer slots than the limit (the caller's
/// array bounds the count too).
pub fn head_limits(max_headers: u8, head_units: u8) -> (wslite::handshake::Limits, usize) {
    let limits = wslite::handshake::Limits::new()
        .with_max_headers(usize::from(max_headers % 48))
        .with_max_head_bytes(16 + usize::from(head_units) * 32);
    let slots = if max_headers & 0x80 != 0 { 8 } else { 40 };
    (limits, slots)
}

/// Feeds growing prefixes of `input` (cut where `seed` says) to `parse`,
/// which answers with its outcome and whether it was partial, as a real
/// caller whose buffer grows would; returns the last outcome.
pub fn chunked_outcome(
    input: &[u8],
    seed: u8,
    mut parse: impl FnMut(&[u8]) -> (String, bool),
) -> String {
    let mut outcome = "partial".to_string();
    for end in Chunks::new(&[seed], 64).ends(input.len()) {
        let (this, partial) = parse(&input[..end]);
        outcome = this;
        if !partial {
            break;
        }
    }
    outcome
}
