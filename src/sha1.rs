//! SHA-1, as FIPS 180-4 §6.1 defines it — only because the handshake needs it.
//!
//! *An optional detour of the tour (step 1).* To follow the protocol you
//! need only what [`handshake::accept`](crate::handshake::accept) shows: a
//! hash of 20 bytes computed from the key. Read on for how the hash works.
//!
//! RFC 6455 §1.3 and §4.2.2 build the server's `Sec-WebSocket-Accept` answer
//! as `base64(SHA-1(key + GUID))`. SHA-1 is broken as a collision-resistant
//! hash, but here it is not used for security: the accept key only proves that
//! the server read the client's handshake and understood it as WebSocket
//! (RFC 6455 §10.1 explains this). So a small, clear SHA-1 is all we need.
//!
//! What a reader learns here: how a Merkle–Damgård hash pads its input
//! (§5.1.1), splits it into 512-bit blocks, and mixes each block into five
//! 32-bit words of state with 80 rounds (§6.1.2).

/// The five words of state before any input (FIPS 180-4 §5.3.1).
const INITIAL_STATE: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

/// An incremental SHA-1 computation: `update` with any number of slices, then
/// `finalize`.
#[derive(Clone, Debug)]
pub struct Sha1 {
    state: [u32; 5],
    /// The block being filled, as the sixteen 32-bit words the rounds read
    /// (FIPS 180-4 §5.2.1: each word is four message bytes, big-endian).
    block: [u32; 16],
    /// Bytes in `block` so far, 0–63.
    block_len: usize,
    /// Total message length in bytes, needed for the padding, kept as the
    /// big-endian bytes of a `u64`. (Not a `u64` field: that would make the
    /// struct 8-byte aligned, and on 32-bit microcontrollers clearing and
    /// moving such a struct links extra memset/memcpy variants for 8-byte
    /// alignment, about 330 bytes of flash for nothing.)
    total_len: [u8; 8],
}

impl Default for Sha1 {
    fn default() -> Self {
        Self::new()
    }
}

impl Sha1 {
    /// A hash of the empty message, ready for input.
    pub const fn new() -> Self {
        Sha1 {
            state: INITIAL_STATE,
            block: [0; 16],
            block_len: 0,
            total_len: [0; 8],
        }
    }

    /// Appends `data` to the message.
    pub fn update(&mut self, data: &[u8]) {
        let total_len = u64::from_be_bytes(self.total_len).wrapping_add(data.len() as u64);
        self.total_len = total_len.to_be_bytes();
        // A byte at a time: the handshake hashes about 60 bytes, so
        // simplicity wins over speed here.
        for &byte in data {
            self.push(byte);
        }
    }

    /// Pads the message (FIPS 180-4 §5.1.1) and returns the 20-byte digest.
    pub fn finalize(mut self) -> [u8; 20] {
        self.finish()
    }

    /// What [`finalize`](Self::finalize) does, in place. The crate's own
    /// callers use this: passing the 96-byte hasher by value makes the
    /// compiler copy it into the call, which on a microcontroller costs a
    /// memcpy variant for 4-byte-aligned data (156 bytes of flash) and
    /// stack for the copy. Afterwards the hasher holds a padded message and
    /// must not be updated again.
    pub(crate) fn finish(&mut self) -> [u8; 20] {
        self.pad();
        let mut out = [0u8; 20];
        for (chunk, word) in out.chunks_exact_mut(4).zip(&self.state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// A single 1 bit, then zeros until 8 bytes remain in a block, then the
    /// message length in bits as a big-endian u64 (FIPS 180-4 §5.1.1).
    fn pad(&mut self) {
        let bit_len = u64::from_be_bytes(self.total_len).wrapping_mul(8);
        self.push(0x80);
        while self.block_len != 56 {
            self.push(0);
        }
        for &byte in &bit_len.to_be_bytes() {
            self.push(byte);
        }
    }

    /// Adds one byte to the block, and mixes the block into the state when it
    /// is full.
    fn push(&mut self, byte: u8) {
        // Shifting the byte in from the right builds each word big-endian:
        // after four bytes the first one is the most significant, and
        // whatever the word held before has been shifted out.
        if let Some(word) = self.block.get_mut(self.block_len / 4) {
            *word = (*word << 8) | u32::from(byte);
        }
        self.block_len += 1;
        if self.block_len == 64 {
            compress(&mut self.state, &self.block);
            self.block_len = 0;
        }
    }
}

/// SHA-1 of one byte string.
pub fn digest(data: &[u8]) -> [u8; 20] {
    let mut h = Sha1::new();
    h.update(data);
    h.finish()
}

/// Where W[t - back] lies in the 16-word ring of the message schedule
/// (`back` is at most 16, and `t` at least 16, when it is called).
const fn slot(t: usize, back: usize) -> usize {
    (t + 16 - back) % 16
}

/// Mixes one 64-byte block into the state (FIPS 180-4 §6.1.2).
// Every index below is taken modulo 16 into a 16-word array.
#[allow(clippy::indexing_slicing)]
fn compress(state: &mut [u32; 5], block: &[u32; 16]) {
    // The message schedule: the 16 words of the block, 64 more derived from
    // them. A 16-word ring is enough, since W[t] only looks back 16 words.
    let mut w = *block;
    let [mut a, mut b, mut c, mut d, mut e] = *state;
    for t in 0..80 {
        if t >= 16 {
            // W[t] = (W[t-3] ^ W[t-8] ^ W[t-14] ^ W[t-16]) rotated left by 1.
            let x = w[slot(t, 3)] ^ w[slot(t, 8)] ^ w[slot(t, 14)] ^ w[slot(t, 16)];
            w[t % 16] = x.rotate_left(1);
        }
        // The round function and constant change every 20 rounds (§4.1.1, §4.2.1).
        let (f, k) = match t {
            0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
            20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
            40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
            _ => (b ^ c ^ d, 0xCA62_C1D6),
        };
        let temp = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(w[t % 16]);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = temp;
    }
    for (s, &v) in state.iter_mut().zip(&[a, b, c, d, e]) {
        *s = s.wrapping_add(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(d: [u8; 20]) -> [u8; 40] {
        let digits = b"0123456789abcdef";
        let mut out = [0u8; 40];
        for (i, byte) in d.iter().enumerate() {
            out[2 * i] = digits[(byte >> 4) as usize];
            out[2 * i + 1] = digits[(byte & 15) as usize];
        }
        out
    }

    // FIPS 180-2 Appendix A and the NIST example values for SHA-1.
    #[test]
    fn fips_abc() {
        assert_eq!(
            &hex(digest(b"abc")),
            b"a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn fips_two_blocks() {
        assert_eq!(
            &hex(digest(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            b"84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    #[test]
    fn fips_million_a() {
        let mut h = Sha1::new();
        let chunk = [b'a'; 1000];
        for _ in 0..1000 {
            h.update(&chunk);
        }
        assert_eq!(
            &hex(h.finalize()),
            b"34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
    }

    #[test]
    fn empty_message() {
        assert_eq!(
            &hex(digest(b"")),
            b"da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
    }

    #[test]
    fn padding_boundaries_agree_with_incremental_updates() {
        // Lengths around the 55/56/64-byte padding boundaries, hashed in one
        // go and one byte at a time, must agree.
        let data = [0x5au8; 130];
        for len in 0..data.len() {
            let mut h = Sha1::new();
            for byte in &data[..len] {
                h.update(core::slice::from_ref(byte));
            }
            assert_eq!(h.finalize(), digest(&data[..len]), "length {len}");
        }
    }

    #[test]
    fn fips_896_bit_message() {
        assert_eq!(
            &hex(digest(b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")),
            b"a49b2446a02c645bf419f995b67091253a04a259"
        );
    }
}
