//! Incremental UTF-8 validation (RFC 3629 §4, RFC 6455 §8.1): arbitrary
//! bytes fed to `Utf8Validator` in arbitrary pieces.
//!
//! Input: `[chunk seed, bytes...]`. Checks: the verdict is
//! `core::str::from_utf8`'s, whatever the split; the validator fails on the
//! piece that holds the first byte no valid UTF-8 can continue with (not
//! earlier, not later), keeps failing after that, and `finish` rejects text
//! that ends inside a character.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use wslite::utf8::{validate, Utf8Validator};

/// Whether `bytes` can still be extended to valid UTF-8.
fn is_valid_prefix(bytes: &[u8]) -> bool {
    match core::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

/// The index of the first byte after which no continuation is valid UTF-8.
fn first_impossible(bytes: &[u8]) -> Option<usize> {
    let e = core::str::from_utf8(bytes).err()?;
    e.error_len()?;
    // It lies within the (at most 4-byte) sequence that starts at
    // valid_up_to.
    let from = e.valid_up_to();
    let at = (from..bytes.len())
        .find(|&i| !is_valid_prefix(&bytes[..=i]))
        .expect("an invalid sequence has an impossible byte");
    assert!(at < from + 4);
    Some(at)
}

fuzz_target!(|data: &[u8]| {
    let [seed, ref bytes @ ..] = *data else {
        return;
    };
    let whole_ok = core::str::from_utf8(bytes).is_ok();
    assert_eq!(validate(bytes).is_ok(), whole_ok);
    let impossible = first_impossible(bytes);

    let mut validator = Utf8Validator::new();
    let mut start = 0;
    let mut failed_at = None;
    for end in common::Chunks::new(&[seed], 16).ends(bytes.len()) {
        let result = validator.feed(&bytes[start..end]);
        match (failed_at, result) {
            (None, Ok(())) => {
                assert!(
                    impossible.is_none_or(|i| i >= end),
                    "accepted {start}..{end} holding the impossible byte {impossible:?}"
                );
                assert_eq!(
                    validator.is_at_boundary(),
                    core::str::from_utf8(&bytes[..end]).is_ok()
                );
            }
            (None, Err(_)) => {
                let i = impossible.expect("failed on a valid prefix");
                assert!(
                    start <= i && i < end,
                    "failed on {start}..{end}, impossible at {i}"
                );
                failed_at = Some(end);
            }
            // Once failed, always failed.
            (Some(_), result) => assert!(result.is_err(), "recovered after an error"),
        }
        start = end;
    }
    if failed_at.is_none() {
        assert!(impossible.is_none());
        assert_eq!(validator.finish().is_ok(), whole_ok);
        // finish() resets: a fresh text is fine.
        assert!(validator.feed("é".as_bytes()).is_ok());
        assert!(validator.finish().is_ok());
    } else {
        assert!(!whole_ok);
        // Empty input after a failure: feed has nothing to check, but the
        // text as a whole was invalid, so finish must not say otherwise.
        assert!(
            validator.finish().is_err(),
            "finish after a failure accepted the text"
        );
        validator.reset();
        assert!(validator.feed(b"ok").is_ok() && validator.finish().is_ok());
    }
});
