//! Unpredictable bytes from the operating system, stretched with ChaCha20
//! (RFC 6455 §10.3, §4.1; RFC 8439 §2.3).
//!
//! A client needs random bytes twice: 16 for the `Sec-WebSocket-Key` of each
//! opening handshake (RFC 6455 §4.1), and a fresh 4-byte masking key for
//! every frame it sends (§5.3). The masking keys are the ones that matter:
//! §10.3 explains that masking exists so that a hostile script cannot choose
//! the bytes a proxy between client and server sees, and that only works if
//! the script cannot *predict* the next key from the ones it has seen. (It
//! sees them all: masking keys travel in clear in the frame headers. So what
//! is needed is that future outputs cannot be guessed from past ones, not
//! secrecy of past outputs.)
//!
//! Asking the OS for 4 bytes per frame would cost a system call per frame.
//! Instead [`OsRandom`] asks the OS once, for a 32-byte seed, and expands it
//! with the ChaCha20 block function of RFC 8439 §2.3, used as a
//! cryptographically secure pseudo-random generator: each call of the block
//! function turns (key = seed, block counter, nonce) into 64 bytes that
//! cannot be told apart from random, nor used to recover the key, by anyone
//! who does not know the key. The generator hands those bytes out in order
//! and computes the next block with the next counter value.
//!
//! What a reader learns here: the ChaCha20 state (4 constant words, 8 key
//! words, a counter and a nonce), the quarter round of additions, XORs and
//! rotations (RFC 8439 §2.1), the 20 rounds alternating columns and
//! diagonals, and the final addition of the input state that makes the
//! function one-way (§2.3).
//!
//! ## Where the seed comes from
//!
//! * On Unix, 32 bytes are read from `/dev/urandom`, the kernel's CSPRNG.
//! * Where that is not possible (Windows, which has no such device, or a
//!   sandbox or container without `/dev`), the seed falls back to std's
//!   [`RandomState`]: std keys its
//!   hash maps with 128 random bits it takes from the OS's generator
//!   (`getrandom`, `ProcessPrng` on Windows, `arc4random` on the BSDs and
//!   macOS), precisely so that they cannot be predicted. Four SipHash outputs
//!   keyed that way, over the time, a process-wide counter and the thread id,
//!   give the 32 seed bytes. The strength is then that of std's 128-bit key,
//!   far beyond guessing; the time and the counter only make two
//!   generators' seeds differ, they add no secrecy.
//!
//! [`OsRandom::new`] therefore never fails.
//!
//! ## What it does not do
//!
//! * It cannot notice a `fork()`: parent and child would continue the same
//!   stream. A program that forks should create a new `OsRandom` in the
//!   child. (For that reason `OsRandom` is not `Clone` either: a copy would
//!   repeat the original's bytes.)
//! * It does not reseed. 2^64 blocks of 64 bytes cannot be used up, and the
//!   outputs are public masking keys, so forward secrecy (hiding past
//!   outputs after the state leaks) buys nothing here.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::RandomSource;

/// The four constant words `"expand 32-byte k"`, read as little-endian
/// words (RFC 8439 §2.3). Arbitrary, but fixed so that no state can be all
/// zero.
const CONSTANTS: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// The ChaCha quarter round (RFC 8439 §2.1): mixes four words of the state
/// with additions, XORs and rotations ("ARX"), which are fast everywhere and
/// take the same time whatever the data.
// In bounds: the callers pass indices from the fixed ChaCha20 schedule, all below 16.
#[allow(clippy::indexing_slicing)]
fn quarter_round(state: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    state[a] = state[a].wrapping_add(state[b]);
    state[d] ^= state[a];
    state[d] = state[d].rotate_left(16);

    state[c] = state[c].wrapping_add(state[d]);
    state[b] ^= state[c];
    state[b] = state[b].rotate_left(12);

    state[a] = state[a].wrapping_add(state[b]);
    state[d] ^= state[a];
    state[d] = state[d].rotate_left(8);

    state[c] = state[c].wrapping_add(state[d]);
    state[b] ^= state[c];
    state[b] = state[b].rotate_left(7);
}

/// The ChaCha20 block function (RFC 8439 §2.3): 64 bytes of key stream for
/// a 256-bit key, a 32-bit block counter and a 96-bit nonce.
///
/// The state is a 4×4 matrix of words:
///
/// ```text
/// cccccccc  cccccccc  cccccccc  cccccccc     c = constant
/// kkkkkkkk  kkkkkkkk  kkkkkkkk  kkkkkkkk     k = key
/// kkkkkkkk  kkkkkkkk  kkkkkkkk  kkkkkkkk
/// bbbbbbbb  nnnnnnnn  nnnnnnnn  nnnnnnnn     b = block counter, n = nonce
/// ```
///
/// Twenty rounds mix it, alternately down the columns and along the
/// diagonals; then the original state is added back word by word. Without
/// that last addition every round could be run backwards from the output to
/// the key; with it, the output reveals nothing of the key.
// In bounds: every index is a constant within the fixed-size arrays (16 words, 32-byte key, 12-byte nonce).
#[allow(clippy::indexing_slicing)]
pub fn chacha20_block(key: &[u8; 32], counter: u32, nonce: &[u8; 12]) -> [u8; 64] {
    let mut input = [0u32; 16];
    input[..4].copy_from_slice(&CONSTANTS);
    for (word, bytes) in input[4..12].iter_mut().zip(key.chunks_exact(4)) {
        *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    input[12] = counter;
    for (word, bytes) in input[13..].iter_mut().zip(nonce.chunks_exact(4)) {
        *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    serialize(&block_words(&input))
}

/// The block function on words: 20 rounds (10 "double rounds" of a column
/// round and a diagonal round), then the input added back.
fn block_words(input: &[u32; 16]) -> [u32; 16] {
    let mut state = *input;
    for _ in 0..10 {
        // Column round.
        quarter_round(&mut state, 0, 4, 8, 12);
        quarter_round(&mut state, 1, 5, 9, 13);
        quarter_round(&mut state, 2, 6, 10, 14);
        quarter_round(&mut state, 3, 7, 11, 15);
        // Diagonal round.
        quarter_round(&mut state, 0, 5, 10, 15);
        quarter_round(&mut state, 1, 6, 11, 12);
        quarter_round(&mut state, 2, 7, 8, 13);
        quarter_round(&mut state, 3, 4, 9, 14);
    }
    for (word, original) in state.iter_mut().zip(input) {
        *word = word.wrapping_add(*original);
    }
    state
}

/// The 16 words as 64 bytes, each word little-endian (RFC 8439 §2.3).
fn serialize(words: &[u32; 16]) -> [u8; 64] {
    let mut bytes = [0u8; 64];
    for (chunk, word) in bytes.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    bytes
}

/// A cryptographically secure random generator for masking keys and
/// handshake keys: ChaCha20 keyed with 32 bytes from the OS.
///
/// ```
/// use wslite::blocking::random::OsRandom;
/// use wslite::RandomSource;
///
/// let mut rng = OsRandom::new();
/// let mut masking_key = [0u8; 4];
/// rng.fill_bytes(&mut masking_key);
/// ```
pub struct OsRandom {
    /// The ChaCha20 input state: constants, key (the seed), and in words
    /// 12..=15 the block counter and nonce. Words 12 and 13 together count
    /// blocks as one 64-bit number (the original ChaCha layout), so the
    /// stream never repeats.
    state: [u32; 16],
    /// The current block of output.
    block: [u8; 64],
    /// How many bytes of `block` have been handed out.
    used: usize,
}

impl OsRandom {
    /// A generator seeded from the operating system (see the module
    /// documentation for where the seed comes from). Never fails.
    pub fn new() -> OsRandom {
        OsRandom::from_seed(os_seed())
    }

    /// A generator with a chosen seed: the same seed gives the same bytes.
    /// For tests and reproducible runs only — a client whose seed an
    /// attacker can guess has predictable masking keys (RFC 6455 §10.3).
    ///
    /// The output is the ChaCha20 key stream for key = `seed`, nonce = 0,
    /// counter = 0, 1, 2, … (RFC 8439 §2.3).
    // In bounds: the indices are constants within the 32-byte seed.
    #[allow(clippy::indexing_slicing)]
    pub fn from_seed(seed: [u8; 32]) -> OsRandom {
        let mut state = [0u32; 16];
        state[..4].copy_from_slice(&CONSTANTS);
        for (word, bytes) in state[4..12].iter_mut().zip(seed.chunks_exact(4)) {
            *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        OsRandom {
            state,
            block: [0; 64],
            // Nothing left: the first request computes block 0.
            used: 64,
        }
    }

    /// Computes the block for the current counter into `block`, then
    /// advances the counter.
    fn refill(&mut self) {
        self.block = serialize(&block_words(&self.state));
        self.used = 0;
        let (counter, carry) = self.state[12].overflowing_add(1);
        self.state[12] = counter;
        if carry {
            self.state[13] = self.state[13].wrapping_add(1);
        }
    }
}

impl Default for OsRandom {
    fn default() -> Self {
        OsRandom::new()
    }
}

impl fmt::Debug for OsRandom {
    /// Shows nothing of the state: printing the key would make every
    /// future output predictable.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OsRandom").finish_non_exhaustive()
    }
}

impl RandomSource for OsRandom {
    // In bounds: `used` stays within the 64-byte block and each piece is cut to what is left of both sides.
    #[allow(clippy::indexing_slicing)]
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let mut dest = dest;
        while !dest.is_empty() {
            if self.used == self.block.len() {
                self.refill();
            }
            let n = dest.len().min(self.block.len() - self.used);
            let (now, later) = dest.split_at_mut(n);
            now.copy_from_slice(&self.block[self.used..self.used + n]);
            self.used += n;
            dest = later;
        }
    }
}

/// 32 seed bytes from the OS: `/dev/urandom` on Unix, else std's
/// OS-seeded hasher keys.
fn os_seed() -> [u8; 32] {
    #[cfg(unix)]
    {
        if let Some(seed) = urandom_seed() {
            return seed;
        }
    }
    fallback_seed()
}

/// Reads 32 bytes from `/dev/urandom`, or `None` if there is no such device
/// or it cannot be read.
#[cfg(unix)]
fn urandom_seed() -> Option<[u8; 32]> {
    use std::io::Read;
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut file| file.read_exact(&mut seed))
        .ok()?;
    Some(seed)
}

/// The fallback seed: four SipHash values keyed by std's `RandomState`,
/// whose keys std takes from the OS's random generator. The time, a counter
/// and the thread id only make each call differ.
fn fallback_seed() -> [u8; 32] {
    // `usize`, not `u64`: 32-bit PowerPC and MIPS have no 64-bit atomics,
    // and a count that wraps only has to differ between nearby calls.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or(0);
    let thread = std::thread::current().id();

    let mut seed = [0u8; 32];
    for (i, chunk) in seed.chunks_exact_mut(8).enumerate() {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_usize(i);
        hasher.write_usize(call);
        hasher.write_u128(nanos);
        std::hash::Hash::hash(&thread, &mut hasher);
        chunk.copy_from_slice(&hasher.finish().to_le_bytes());
    }
    seed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 8439 §2.1.1.
    #[test]
    fn quarter_round_vector() {
        let mut state = [0u32; 16];
        state[..4].copy_from_slice(&[0x1111_1111, 0x0102_0304, 0x9b8d_6f43, 0x0123_4567]);
        quarter_round(&mut state, 0, 1, 2, 3);
        assert_eq!(
            state[..4],
            [0xea2a_92f4, 0xcb1c_f8ce, 0x4581_472e, 0x5881_c4bb]
        );
    }

    /// RFC 8439 §2.3.2: key 00..1f, nonce 00:00:00:09:00:00:00:4a:00:00:00:00,
    /// block count 1.
    #[test]
    fn block_function_vector() {
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = i as u8;
        }
        let nonce = [0, 0, 0, 0x09, 0, 0, 0, 0x4a, 0, 0, 0, 0];
        let expected = hex("10 f1 e7 e4 d1 3b 59 15 50 0f dd 1f a3 20 71 c4
             c7 d1 f4 c7 33 c0 68 03 04 22 aa 9a c3 d4 6c 4e
             d2 82 64 46 07 9f aa 09 14 c2 d7 05 d9 8b 02 a2
             b5 12 9c d1 de 16 4e b9 cb d0 83 e8 a2 50 3c 4e");
        assert_eq!(chacha20_block(&key, 1, &nonce).to_vec(), expected);
    }

    /// RFC 8439 Appendix A.1, test vectors #1 and #2 (all-zero key and
    /// nonce, counters 0 and 1) are the first two blocks of
    /// `OsRandom::from_seed([0; 32])`.
    #[test]
    fn generator_is_the_chacha20_key_stream() {
        let expected = hex("76 b8 e0 ad a0 f1 3d 90 40 5d 6a e5 53 86 bd 28
             bd d2 19 b8 a0 8d ed 1a a8 36 ef cc 8b 77 0d c7
             da 41 59 7c 51 57 48 8d 77 24 e0 3f b8 d8 4a 37
             6a 43 b8 f4 15 18 a1 1c c3 87 b6 69 b2 ee 65 86
             9f 07 e7 be 55 51 38 7a 98 ba 97 7c 73 2d 08 0d
             cb 0f 29 a0 48 e3 65 69 12 c6 53 3e 32 ee 7a ed
             29 b7 21 76 9c e6 4e 43 d5 71 33 b0 74 d8 39 d5
             31 ed 1f 28 51 0a fb 45 ac e1 0a 1f 4b 79 4d 6f");
        assert_eq!(
            chacha20_block(&[0; 32], 0, &[0; 12]).to_vec(),
            expected[..64]
        );
        let mut rng = OsRandom::from_seed([0; 32]);
        let mut out = [0u8; 128];
        rng.fill_bytes(&mut out);
        assert_eq!(out.to_vec(), expected);
    }

    #[test]
    fn counter_carries_into_the_next_word() {
        let seed = [7u8; 32];
        let mut rng = OsRandom::from_seed(seed);
        rng.state[12] = u32::MAX;
        let mut out = [0u8; 128];
        rng.fill_bytes(&mut out);
        assert_eq!(out[..64], chacha20_block(&seed, u32::MAX, &[0; 12]));
        // Block 2^32: counter word 0, next word 1 (the first nonce word).
        assert_eq!(
            out[64..],
            chacha20_block(&seed, 0, &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        );
    }

    #[test]
    fn odd_sizes_across_block_boundaries_match_one_long_read() {
        let seed = *b"a seed of exactly thirty-two by!";
        let mut whole = vec![0u8; 1000];
        OsRandom::from_seed(seed).fill_bytes(&mut whole);

        let mut rng = OsRandom::from_seed(seed);
        let mut pieces = Vec::new();
        for size in [0, 1, 3, 4, 60, 63, 64, 65, 7, 128, 129, 2, 0, 5]
            .iter()
            .cycle()
        {
            if pieces.len() >= whole.len() {
                break;
            }
            let mut piece = vec![0u8; (*size).min(whole.len() - pieces.len())];
            rng.fill_bytes(&mut piece);
            pieces.extend_from_slice(&piece);
        }
        assert_eq!(pieces, whole);
    }

    #[test]
    fn seeds_give_different_streams() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        OsRandom::from_seed([1; 32]).fill_bytes(&mut a);
        OsRandom::from_seed([2; 32]).fill_bytes(&mut b);
        assert_ne!(a, b);
        let mut c = [0u8; 32];
        OsRandom::from_seed([1; 32]).fill_bytes(&mut c);
        assert_eq!(a, c);
    }

    #[test]
    fn two_os_generators_differ() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        OsRandom::new().fill_bytes(&mut a);
        OsRandom::default().fill_bytes(&mut b);
        assert_ne!(a, b);
        assert_ne!(a, [0; 32]);
        // Successive keys from one generator differ too.
        let mut rng = OsRandom::new();
        let mut k1 = [0u8; 16];
        let mut k2 = [0u8; 16];
        rng.fill_bytes(&mut k1);
        rng.fill_bytes(&mut k2);
        assert_ne!(k1, k2);
    }

    #[test]
    fn fallback_seeds_differ() {
        let a = fallback_seed();
        let b = fallback_seed();
        assert_ne!(a, b);
        assert_ne!(a, [0; 32]);
        let from_thread = std::thread::spawn(fallback_seed).join().unwrap();
        assert_ne!(a, from_thread);
        assert_ne!(b, from_thread);
    }

    #[cfg(unix)]
    #[test]
    fn urandom_is_read_where_it_exists() {
        if std::path::Path::new("/dev/urandom").exists() {
            let a = urandom_seed().expect("/dev/urandom exists but could not be read");
            let b = urandom_seed().unwrap();
            assert_ne!(a, b);
        }
    }

    /// A cheap sanity check, not a statistical proof: over 1 MiB, each of
    /// the 8 bit positions of a byte is set 45–55 % of the time.
    #[test]
    fn bits_look_balanced() {
        let mut rng = OsRandom::new();
        let mut buf = vec![0u8; 1 << 20];
        rng.fill_bytes(&mut buf);
        let mut ones = [0usize; 8];
        for byte in &buf {
            for (bit, count) in ones.iter_mut().enumerate() {
                *count += usize::from((byte >> bit) & 1);
            }
        }
        for (bit, count) in ones.iter().enumerate() {
            let share = *count as f64 / buf.len() as f64;
            assert!(
                (0.45..=0.55).contains(&share),
                "bit {bit} set {share:.4} of the time"
            );
        }
    }

    #[test]
    fn is_send_and_debug_hides_state() {
        fn assert_send<T: Send>() {}
        assert_send::<OsRandom>();
        assert_eq!(
            format!("{:?}", OsRandom::from_seed([9; 32])),
            "OsRandom { .. }"
        );
    }

    #[test]
    fn usable_as_a_core_random_source() {
        fn key<R: RandomSource>(mut rng: R) -> [u8; 4] {
            let mut k = [0u8; 4];
            rng.fill_bytes(&mut k);
            k
        }
        let mut rng = OsRandom::from_seed([0; 32]);
        assert_eq!(key(&mut rng), [0x76, 0xb8, 0xe0, 0xad]);
        assert_eq!(key(&mut rng), [0xa0, 0xf1, 0x3d, 0x90]);
    }
}
