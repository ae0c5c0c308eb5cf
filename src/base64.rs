//! Base64, the standard alphabet with padding (RFC 4648 §4).
//!
//! *An optional detour of the tour (step 1)*, like [`sha1`](crate::sha1):
//! the handshake needs only "bytes written as text, 3 bytes to 4
//! characters".
//!
//! The handshake carries two base64 values: the client's random
//! `Sec-WebSocket-Key` (16 bytes → 24 characters, RFC 6455 §4.1) and the
//! server's `Sec-WebSocket-Accept` (a 20-byte SHA-1 → 28 characters,
//! RFC 6455 §4.2.2).
//!
//! What a reader learns here: base64 maps every 3 bytes (24 bits) to 4
//! characters of 6 bits each, and pads the last group with `=`. Decoding is
//! *strict*, as RFC 4648 §3.3 and §3.5 ask of a decoder that must not be
//! fooled: characters outside the alphabet, misplaced or missing padding, and
//! non-zero "unused" bits in the last character are all rejected, so every
//! byte string has exactly one accepted encoding.

/// Why decoding failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The input length is not a multiple of 4.
    InvalidLength,
    /// A byte outside the alphabet, or `=` where padding is not allowed.
    InvalidByte {
        /// Its position in the input.
        index: usize,
    },
    /// The bits that padding leaves unused in the last character are not zero
    /// (RFC 4648 §3.5), so the encoding is not the canonical one.
    NonCanonical,
    /// The output buffer is shorter than the decoded data.
    BufferTooSmall,
}

/// The length of the encoding of `n` bytes.
pub const fn encoded_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// The largest number of bytes that `encoded_len` characters can decode to.
pub const fn decoded_len_max(encoded_len: usize) -> usize {
    encoded_len / 4 * 3
}

/// Encodes `input` into `out` and returns the number of characters written,
/// or `None` when `out` is shorter than [`encoded_len`]`(input.len())`.
pub fn encode(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let len = encoded_len(input.len());
    let out = out.get_mut(..len)?;
    for (group, chars) in input.chunks(3).zip(out.chunks_exact_mut(4)) {
        // The (last) group may be short: its missing bytes count as zero.
        let mut b = [0u8; 3];
        for (dst, &src) in b.iter_mut().zip(group) {
            *dst = src;
        }
        let bits = u32::from_be_bytes([0, b[0], b[1], b[2]]);
        // One input byte fills 2 characters, two fill 3; the rest is padding.
        for (i, c) in chars.iter_mut().enumerate() {
            *c = if i <= group.len() {
                character((bits >> (18 - 6 * i)) as u8 & 63)
            } else {
                b'='
            };
        }
    }
    Some(len)
}

/// The alphabet character of a 6-bit value (RFC 4648 §4, Table 1).
fn character(v: u8) -> u8 {
    match v {
        0..=25 => b'A' + v,
        26..=51 => b'a' + (v - 26),
        52..=61 => b'0' + (v - 52),
        62 => b'+',
        // 63: the callers pass 6-bit values.
        _ => b'/',
    }
}

/// The 6-bit value of an alphabet character.
pub(crate) fn value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes `input` into `out`, strictly, and returns the number of bytes
/// written.
pub fn decode(input: &[u8], out: &mut [u8]) -> Result<usize, DecodeError> {
    if input.len() % 4 != 0 {
        return Err(DecodeError::InvalidLength);
    }
    // Padding: at most two `=`, only at the very end.
    let padding = input
        .iter()
        .rev()
        .take(2)
        .take_while(|&&c| c == b'=')
        .count();
    let decoded_len = input.len() / 4 * 3 - padding;
    let out = out
        .get_mut(..decoded_len)
        .ok_or(DecodeError::BufferTooSmall)?;

    let data_chars = input.len() - padding;
    // Each group of 4 characters fills 3 bytes of `out`; the last one,
    // with padding, fills what is left (2 characters 1 byte, 3 fill 2).
    for (g, (group, dest)) in input.chunks_exact(4).zip(out.chunks_mut(3)).enumerate() {
        let mut bits: u32 = 0;
        for (i, &c) in group.iter().enumerate() {
            let index = g * 4 + i;
            if index >= data_chars {
                break;
            }
            let v = value(c).ok_or(DecodeError::InvalidByte { index })?;
            bits |= u32::from(v) << (18 - 6 * i);
        }
        let [_, bytes @ ..] = bits.to_be_bytes();
        let (used, unused) = bytes.split_at(dest.len());
        // Bits that padding left unused must be zero (RFC 4648 §3.5).
        if unused.iter().any(|&b| b != 0) {
            return Err(DecodeError::NonCanonical);
        }
        dest.copy_from_slice(used);
    }
    Ok(out.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648 §10 test vectors.
    const VECTORS: [(&str, &str); 7] = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];

    #[test]
    fn rfc4648_vectors_encode() {
        for (plain, encoded) in VECTORS {
            let mut out = [0u8; 16];
            let n = encode(plain.as_bytes(), &mut out).unwrap();
            assert_eq!(&out[..n], encoded.as_bytes(), "{plain:?}");
        }
    }

    #[test]
    fn rfc4648_vectors_decode() {
        for (plain, encoded) in VECTORS {
            let mut out = [0u8; 16];
            let n = decode(encoded.as_bytes(), &mut out).unwrap();
            assert_eq!(&out[..n], plain.as_bytes(), "{encoded:?}");
        }
    }

    #[test]
    fn rfc6455_sample_key_is_16_bytes() {
        let mut out = [0u8; 18];
        assert_eq!(decode(b"dGhlIHNhbXBsZSBub25jZQ==", &mut out), Ok(16));
        assert_eq!(&out[..16], b"the sample nonce");
    }

    #[test]
    fn rejects_bad_input() {
        let mut out = [0u8; 16];
        assert_eq!(decode(b"Zg=", &mut out), Err(DecodeError::InvalidLength));
        assert_eq!(
            decode(b"Zg-=", &mut out),
            Err(DecodeError::InvalidByte { index: 2 })
        );
        // Padding in the middle, or three `=`.
        assert_eq!(
            decode(b"Zg==Zg==", &mut out),
            Err(DecodeError::InvalidByte { index: 2 })
        );
        assert_eq!(
            decode(b"Z===", &mut out),
            Err(DecodeError::InvalidByte { index: 1 })
        );
        assert_eq!(
            decode(b"====", &mut out),
            Err(DecodeError::InvalidByte { index: 0 })
        );
        // Whitespace is not part of the alphabet.
        assert_eq!(
            decode(b"Zm9 ", &mut out),
            Err(DecodeError::InvalidByte { index: 3 })
        );
        // "Zh==" decodes to 'f' too, but with non-zero unused bits.
        assert_eq!(decode(b"Zh==", &mut out), Err(DecodeError::NonCanonical));
        assert_eq!(decode(b"Zm9=", &mut out), Err(DecodeError::NonCanonical));
        assert_eq!(
            decode(b"Zm9vYmFy", &mut out[..5]),
            Err(DecodeError::BufferTooSmall)
        );
        assert_eq!(encode(b"foo", &mut out[..3]), None);
    }

    #[test]
    fn the_decoded_length_bound_is_three_bytes_per_four_characters() {
        // A WebSocket key: 24 characters, at most 18 bytes (16 with its
        // padding).
        assert_eq!(decoded_len_max(24), 18);
        assert_eq!(decoded_len_max(4), 3);
        // A partial group decodes to nothing more.
        assert_eq!(decoded_len_max(7), 3);
        assert_eq!(decoded_len_max(3), 0);
        for n in 0..100 {
            let max = decoded_len_max(encoded_len(n));
            assert!(max >= n && max < n + 3, "{n}");
        }
    }
}
