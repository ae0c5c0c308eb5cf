//! The quickcheck runner and the small draws the property tests share.

// Each test binary includes this file and uses part of it.
#![allow(dead_code)]

use quickcheck::{Arbitrary, Gen, QuickCheck, Testable};

/// Runs `prop` on `tests` random inputs drawn with generator size `size`
/// (giving up after ten times as many discarded ones).
pub fn check<A: Testable>(tests: u64, size: usize, prop: A) {
    QuickCheck::new()
        .tests(tests)
        .max_tests(tests * 10)
        .rng(Gen::new(size))
        .quickcheck(prop);
}

/// A uniform-enough number in `0..n` (0 when `n` is 0).
pub fn below(g: &mut Gen, n: usize) -> usize {
    if n == 0 {
        0
    } else {
        usize::arbitrary(g) % n
    }
}

/// True with probability `percent`/100.
pub fn chance(g: &mut Gen, percent: usize) -> bool {
    below(g, 100) < percent
}
