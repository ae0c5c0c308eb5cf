//! Base64 (RFC 4648 §4), strict: arbitrary input decoded, arbitrary bytes
//! encoded.
//!
//! Input: `[out size selector, bytes...]`. Checks: a decoding that succeeds
//! is the canonical one (encoding its output gives the input back); every
//! byte string survives encode then decode; lengths are what
//! `encoded_len` and `decoded_len_max` say; a short output buffer is an
//! error, never a panic or a truncated success.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wslite::base64::{decode, decoded_len_max, encode, encoded_len, DecodeError};

fuzz_target!(|data: &[u8]| {
    let [size, ref input @ ..] = *data else {
        return;
    };

    // Decode arbitrary text.
    let mut out = vec![0u8; decoded_len_max(input.len())];
    if let Ok(n) = decode(input, &mut out) {
        assert!(n <= decoded_len_max(input.len()));
        assert_eq!(encoded_len(n), input.len());
        let mut again = vec![0u8; encoded_len(n)];
        assert_eq!(encode(&out[..n], &mut again), Some(input.len()));
        assert_eq!(again, input, "decoding accepted a non-canonical encoding");

        // Into a buffer of arbitrary size: the same bytes, or "too small".
        let mut small = vec![0u8; usize::from(size)];
        match decode(input, &mut small) {
            Ok(m) => assert_eq!(&small[..m], &out[..n]),
            Err(e) => {
                assert_eq!(e, DecodeError::BufferTooSmall);
                assert!(usize::from(size) < n);
            }
        }
    } else {
        let mut small = vec![0u8; usize::from(size)];
        assert!(
            decode(input, &mut small).is_err(),
            "the buffer size changed the verdict"
        );
    }

    // Encode arbitrary bytes and decode them back.
    let mut text = vec![0u8; encoded_len(input.len())];
    assert_eq!(encode(input, &mut text), Some(text.len()));
    assert!(text
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || b"+/=".contains(c)));
    let mut back = vec![0u8; decoded_len_max(text.len())];
    let n = decode(&text, &mut back).expect("our own encoding decodes");
    assert_eq!(&back[..n], input);
    // A buffer one byte short is refused.
    if !text.is_empty() && usize::from(size) < input.len() {
        let mut short = vec![0u8; usize::from(size)];
        assert!(encode(input, &mut short).is_none());
    }
});
