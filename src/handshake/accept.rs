//! The key and its answer: RFC 6455 §1.3, §4.1 (item 7) and §4.2.2 (item 5).
//!
//! What a reader learns here: the client sends 16 fresh random bytes, base64
//! encoded, as `Sec-WebSocket-Key`. The server appends the fixed [`GUID`],
//! hashes the result with SHA-1 and sends the base64 of the hash back as
//! `Sec-WebSocket-Accept`. Nothing secret is involved; the exchange only
//! proves the server read *this* request as a WebSocket handshake.

use super::GUID;
use crate::random::RandomSource;
use crate::{base64, sha1};

/// The length of a `Sec-WebSocket-Key`: 16 bytes in base64 (RFC 6455 §4.1).
pub const KEY_LEN: usize = 24;

/// The length of a `Sec-WebSocket-Accept`: a 20-byte SHA-1 in base64.
pub const ACCEPT_LEN: usize = 28;

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key` value:
/// `base64(SHA-1(key ++ GUID))` (RFC 6455 §4.2.2, item 5, sub-item 4).
///
/// The key is hashed exactly as received, as the RFC says: a server does not
/// decode it first.
pub fn accept_key(key: &[u8]) -> [u8; ACCEPT_LEN] {
    let mut hash = sha1::Sha1::new();
    hash.update(key);
    hash.update(GUID.as_bytes());
    let digest = hash.finish();
    let mut out = [0u8; ACCEPT_LEN];
    // 20 bytes always encode to exactly 28 characters, so this cannot fail;
    // the length check is kept anyway rather than an unwrap.
    let _ = base64::encode(&digest, &mut out);
    out
}

/// A fresh `Sec-WebSocket-Key`: 16 bytes from `rng`, base64 encoded
/// (RFC 6455 §4.1, item 7). The key must be new for every handshake, so
/// that an old answer from a cache can never match.
pub fn generate_key<R: RandomSource + ?Sized>(rng: &mut R) -> [u8; KEY_LEN] {
    let mut nonce = [0u8; 16];
    rng.fill_bytes(&mut nonce);
    let mut key = [0u8; KEY_LEN];
    // 16 bytes always encode to exactly 24 characters.
    let _ = base64::encode(&nonce, &mut key);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6455_section_1_3_sample() {
        assert_eq!(
            &accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    struct Counter(u8);
    impl RandomSource for Counter {
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for b in dest {
                *b = self.0;
                self.0 = self.0.wrapping_add(1);
            }
        }
    }

    #[test]
    fn generated_key_is_base64_of_16_bytes() {
        let key = generate_key(&mut Counter(0));
        let mut decoded = [0u8; 18];
        assert_eq!(base64::decode(&key, &mut decoded), Ok(16));
        assert_eq!(
            &decoded[..16],
            &core::array::from_fn::<u8, 16, _>(|i| i as u8)
        );
        // A second key from the same source differs.
        let mut rng = Counter(0);
        assert_ne!(generate_key(&mut rng), generate_key(&mut rng));
    }
}
