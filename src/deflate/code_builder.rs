//! Building the Huffman codes of a dynamic block (RFC 1951 §3.2.2, §3.2.7)
//! from the symbol counts of the block.
//!
//! What a reader learns here:
//!
//! * **Huffman's construction.** Repeatedly join the two lightest subtrees;
//!   a symbol's code length is its depth in the final tree. Frequent
//!   symbols end up near the root, with short codes. With the leaves sorted
//!   by weight, the joined nodes come out in increasing weight too, so two
//!   sorted queues replace a priority queue.
//! * **Length limits.** DEFLATE caps code lengths at 15 bits (7 for the
//!   code-length alphabet, §3.2.7), and a skewed distribution can exceed
//!   that. The fix here cuts the long codes to the limit, which breaks
//!   Kraft's inequality (Σ 2^-len ≤ 1: the codes would no longer fit), then
//!   lengthens the longest codes still under the limit, rarest first, until
//!   the sum fits again; finally it shortens the most frequent codes where
//!   room is left over. The result is a valid prefix code that is optimal
//!   or very close to it.
//! * **Sending code lengths** (§3.2.7). A dynamic block describes its two
//!   codes by their lengths, run-length coded in a third alphabet of 19
//!   symbols: 0–15 are a length, 16 repeats the previous length 3–6 times,
//!   17 and 18 are runs of 3–10 and 11–138 zeros.
//!
//! Every used symbol gets a length, and a code always has at least two
//! codes: a lone used symbol is given a partner. The RFC allows a single
//! one-bit code, but a complete code is what every inflater accepts.

use super::tables::{CODE_LENGTH_ORDER, CODE_LENGTH_SYMBOLS, LITLEN_SYMBOLS};

/// The most symbols any DEFLATE alphabet has (the literal/length one).
const MAX_SYMBOLS: usize = LITLEN_SYMBOLS;

/// Fills `lengths` with Huffman code lengths of at most `limit` bits for
/// the symbol counts `freqs` (0 = unused, length 0). `lengths` must be at
/// least as long as `freqs`; entries past `freqs.len()` are set to 0.
///
/// `limit` must be large enough for the alphabet (2^limit ≥ symbols used);
/// DEFLATE's limits (15, and 7 for 19 symbols) always are.
// Indices: `node` and `leaf` counts stay below 2 × MAX_SYMBOLS, the size
// of the node arrays, because `used` ≤ MAX_SYMBOLS (the `take` below).
#[allow(clippy::indexing_slicing)]
pub fn build_lengths(freqs: &[u32], limit: u8, lengths: &mut [u8]) {
    lengths.iter_mut().for_each(|l| *l = 0);
    // The used symbols, sorted by count (ties by symbol, for determinism).
    let mut leaves = [(0u32, 0u16); MAX_SYMBOLS];
    let mut used = 0;
    for (symbol, &f) in freqs.iter().enumerate().take(MAX_SYMBOLS) {
        if f > 0 {
            leaves[used] = (f, symbol as u16);
            used += 1;
        }
    }
    // At least two codes (see the module doc): borrow unused symbols.
    let mut spare = 0u16;
    while used < 2 && usize::from(spare) < freqs.len().min(MAX_SYMBOLS) {
        if freqs.get(usize::from(spare)).copied() == Some(0) {
            leaves[used] = (0, spare);
            used += 1;
        }
        spare += 1;
    }
    if used < 2 {
        // An alphabet of one symbol (never in DEFLATE): one 1-bit code.
        if let (Some(&(_, s)), true) = (leaves.first(), used == 1) {
            if let Some(l) = lengths.get_mut(usize::from(s)) {
                *l = 1;
            }
        }
        return;
    }
    let leaves = &mut leaves[..used];
    leaves.sort_unstable();

    // Huffman's construction with two queues: the sorted leaves, and the
    // joined nodes (which come out sorted). Node i < used is leaf i;
    // node used + k is the k-th joined node.
    let mut weight = [0u32; 2 * MAX_SYMBOLS];
    let mut parent = [0u16; 2 * MAX_SYMBOLS];
    for (w, &(f, _)) in weight.iter_mut().zip(leaves.iter()) {
        *w = f;
    }
    let (mut next_leaf, mut next_joined, mut joined_end) = (0, used, used);
    for _ in 0..used - 1 {
        let a = lightest(&weight, &mut next_leaf, used, &mut next_joined, joined_end);
        let b = lightest(&weight, &mut next_leaf, used, &mut next_joined, joined_end);
        weight[joined_end] = weight[a].saturating_add(weight[b]);
        parent[a] = joined_end as u16;
        parent[b] = joined_end as u16;
        joined_end += 1;
    }
    // Depths, from the root (the last node) down: a parent always comes
    // after its children.
    let root = joined_end - 1;
    let mut depth = [0u8; 2 * MAX_SYMBOLS];
    for node in (0..root).rev() {
        depth[node] = depth[usize::from(parent[node])].saturating_add(1);
    }

    // Lengths per leaf, in the sorted order (rarest first).
    let mut sorted_len = [0u8; MAX_SYMBOLS];
    for (l, &d) in sorted_len.iter_mut().zip(depth.iter()).take(used) {
        *l = d.min(limit);
    }
    limit_lengths(&mut sorted_len[..used], limit);
    for (&(_, symbol), &l) in leaves.iter().zip(sorted_len.iter()) {
        if let Some(out) = lengths.get_mut(usize::from(symbol)) {
            *out = l;
        }
    }
}

/// Takes the lighter of the two queues' fronts: the next unused leaf
/// (`next_leaf` < `leaves_end`) or the next unused joined node
/// (`next_joined` < `joined_end`). Ties go to the leaf, which keeps the
/// tree shallow.
fn lightest(
    weight: &[u32],
    next_leaf: &mut usize,
    leaves_end: usize,
    next_joined: &mut usize,
    joined_end: usize,
) -> usize {
    let leaf = weight
        .get(*next_leaf)
        .copied()
        .filter(|_| *next_leaf < leaves_end);
    let joined = weight
        .get(*next_joined)
        .copied()
        .filter(|_| *next_joined < joined_end);
    let queue = match (leaf, joined) {
        (Some(l), Some(j)) if l <= j => next_leaf,
        (Some(_), None) => next_leaf,
        _ => next_joined,
    };
    *queue += 1;
    *queue - 1
}

/// Restores Kraft's inequality after lengths were cut to `limit`, then uses
/// any room left over. `lens` is in order of increasing frequency, so
/// lengthening from the front costs the least and shortening from the back
/// gains the most.
fn limit_lengths(lens: &mut [u8], limit: u8) {
    // Kraft's sum in units of 2^-limit: the code fits when it is ≤ 2^limit.
    let full: u32 = 1 << limit;
    let mut kraft: u32 = lens.iter().map(|&l| 1u32 << (limit - l)).sum();
    // Too many codes: lengthen the longest codes below the limit. Each step
    // frees 2^(limit - len - 1); choose among the rarest symbols first.
    while kraft > full {
        let mut best: Option<usize> = None;
        for (i, &l) in lens.iter().enumerate() {
            if l < limit && best.map_or(true, |b| lens.get(b).is_some_and(|&bl| l > bl)) {
                best = Some(i);
            }
        }
        let Some(i) = best else { break };
        if let Some(l) = lens.get_mut(i) {
            kraft -= 1 << (limit - *l - 1);
            *l += 1;
        }
    }
    // Room left over: shorten the most frequent codes that can be.
    for l in lens.iter_mut().rev() {
        while *l > 1 && kraft + (1 << (limit - *l)) <= full {
            kraft += 1 << (limit - *l);
            *l -= 1;
        }
    }
}

/// One entry of the run-length coded code lengths (§3.2.7): a symbol of the
/// code-length alphabet and the value of its extra bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LengthRun {
    /// 0–15: a code length; 16: repeat the previous length; 17, 18: zeros.
    pub symbol: u8,
    /// The extra bits' value (repeat count minus 3, or minus 11 for 18).
    pub extra: u8,
}

impl LengthRun {
    /// How many extra bits follow this symbol (§3.2.7).
    pub const fn extra_bits(self) -> u32 {
        match self.symbol {
            16 => 2,
            17 => 3,
            18 => 7,
            _ => 0,
        }
    }
}

/// The most runs a block header can need: one per code length.
pub const MAX_RUNS: usize = 286 + 30;

/// Run-length codes the sequence `lengths` (the literal/length lengths
/// followed by the distance lengths: §3.2.7 lets runs cross from one to the
/// other) into `runs`; returns how many runs were written.
pub fn run_length_code(
    lengths: impl Iterator<Item = u8>,
    runs: &mut [LengthRun; MAX_RUNS],
) -> usize {
    let mut n = 0;
    let mut push = |symbol: u8, extra: u8| {
        if let Some(r) = runs.get_mut(n) {
            *r = LengthRun { symbol, extra };
            n += 1;
        }
    };
    let mut lengths = lengths.peekable();
    let mut previous: Option<u8> = None;
    while let Some(len) = lengths.next() {
        let mut count = 1usize;
        while lengths.next_if_eq(&len).is_some() {
            count += 1;
        }
        if len == 0 {
            while count >= 11 {
                let c = count.min(138);
                push(18, (c - 11) as u8);
                count -= c;
            }
            if count >= 3 {
                push(17, (count - 3) as u8);
                count = 0;
            }
        } else {
            if previous != Some(len) {
                push(len, 0);
                count -= 1;
            }
            while count >= 3 {
                let c = count.min(6);
                push(16, (c - 3) as u8);
                count -= c;
            }
        }
        for _ in 0..count {
            push(len, 0);
        }
        previous = Some(len);
    }
    n
}

/// Counts of the code-length symbols that `runs` uses.
pub fn run_frequencies(runs: &[LengthRun]) -> [u32; CODE_LENGTH_SYMBOLS] {
    let mut freqs = [0u32; CODE_LENGTH_SYMBOLS];
    for r in runs {
        if let Some(f) = freqs.get_mut(usize::from(r.symbol)) {
            *f += 1;
        }
    }
    freqs
}

/// How many code-length code lengths the header sends (HCLEN + 4, §3.2.7):
/// the order puts rarely used lengths last, so trailing zeros are left out,
/// but at least 4 are sent.
pub fn code_length_count(cl_lengths: &[u8; CODE_LENGTH_SYMBOLS]) -> usize {
    let mut count = CODE_LENGTH_SYMBOLS;
    while count > 4 {
        let symbol = CODE_LENGTH_ORDER.get(count - 1).copied().unwrap_or(0);
        if cl_lengths.get(usize::from(symbol)).copied().unwrap_or(0) != 0 {
            break;
        }
        count -= 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kraft_ok(lengths: &[u8], limit: u8) -> bool {
        let sum: u64 = lengths
            .iter()
            .filter(|&&l| l > 0)
            .map(|&l| 1u64 << (limit - l))
            .sum();
        sum <= 1 << limit
    }

    #[test]
    fn textbook_frequencies_give_huffman_lengths() {
        let freqs = [45, 13, 12, 16, 9, 5];
        let mut lengths = [0u8; 6];
        build_lengths(&freqs, 15, &mut lengths);
        assert_eq!(lengths, [1, 3, 3, 3, 4, 4]);
    }

    #[test]
    fn one_used_symbol_still_makes_a_complete_code() {
        let mut lengths = [0u8; 30];
        let mut freqs = [0u32; 30];
        freqs[7] = 10;
        build_lengths(&freqs, 15, &mut lengths);
        assert_eq!(lengths[7], 1);
        assert_eq!(lengths.iter().filter(|&&l| l == 1).count(), 2);
        build_lengths(&[0; 30], 15, &mut lengths);
        assert_eq!(lengths.iter().filter(|&&l| l == 1).count(), 2);
    }

    #[test]
    fn fibonacci_counts_are_limited_and_still_fit() {
        // Fibonacci weights make the deepest possible Huffman tree.
        let mut freqs = [0u32; 40];
        let (mut a, mut b) = (1u32, 1u32);
        for f in freqs.iter_mut() {
            *f = a;
            (a, b) = (b, a.saturating_add(b));
        }
        let mut lengths = [0u8; 40];
        build_lengths(&freqs, 15, &mut lengths);
        assert!(lengths.iter().all(|&l| (1..=15).contains(&l)));
        assert!(kraft_ok(&lengths, 15));
        let mut small = [0u8; 19];
        build_lengths(&freqs[..19], 7, &mut small);
        assert!(small.iter().all(|&l| (1..=7).contains(&l)));
        assert!(kraft_ok(&small, 7));
    }

    #[test]
    fn runs_follow_section_3_2_7() {
        let mut runs = [LengthRun::default(); MAX_RUNS];
        let lengths = [
            8u8, 8, 8, 8, 8, 8, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5,
        ];
        let n = run_length_code(lengths.iter().copied(), &mut runs);
        let got: Vec<(u8, u8)> = runs[..n].iter().map(|r| (r.symbol, r.extra)).collect();
        // 8, then "repeat 6"; 12 zeros as one 18; then 5 5 as themselves.
        assert_eq!(got, [(8, 0), (16, 3), (18, 1), (5, 0), (5, 0)]);
        let zeros = [0u8; 150];
        let n = run_length_code(zeros.iter().copied(), &mut runs);
        let got: Vec<(u8, u8)> = runs[..n].iter().map(|r| (r.symbol, r.extra)).collect();
        assert_eq!(got, [(18, 127), (18, 1)]);
    }
}
