//! Incremental, fail-fast UTF-8 validation (RFC 6455 §8.1, RFC 3629 §4).
//!
//! A text message must be valid UTF-8 as a whole, but it arrives in pieces:
//! split across frames (fragmentation, §5.4) and across network reads. A
//! code point may be cut anywhere, even between the frames of a message. The
//! RFC asks the receiver to fail the connection with 1007 when the data is not
//! valid (§8.1), and a careful receiver does so at the *first* byte that can no
//! longer be part of valid UTF-8, instead of waiting for the end of a message
//! that may be gigabytes long.
//!
//! What a reader learns here: UTF-8's structure (RFC 3629 §4). A lead byte
//! says how many continuation bytes (`10xxxxxx`) follow; a few lead bytes
//! restrict the range of the *next* byte, to forbid overlong forms, the UTF-16
//! surrogates U+D800–DFFF and values above U+10FFFF:
//!
//! | lead      | next byte  | why                          |
//! |-----------|------------|------------------------------|
//! | `E0`      | `A0`–`BF`  | shorter form exists          |
//! | `ED`      | `80`–`9F`  | would encode a surrogate     |
//! | `F0`      | `90`–`BF`  | shorter form exists          |
//! | `F4`      | `80`–`8F`  | above U+10FFFF               |
//! | `C0` `C1` `F5`–`FF` | —  | never valid                |
//!
//! The validator keeps only that: how many continuation bytes are still due
//! and the allowed range of the next one. Whole runs of complete characters
//! are checked with `core::str::from_utf8`, which is fast; only the few bytes
//! of a character cut at a chunk boundary go through the byte-wise path.

use crate::error::{Error, Result};

/// Checks a complete byte string (a close reason, a whole message).
pub fn validate(bytes: &[u8]) -> Result<&str> {
    core::str::from_utf8(bytes).map_err(|_| Error::InvalidUtf8)
}

/// The state of a validation that is fed bytes piece by piece.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Utf8Validator {
    /// Continuation bytes still due for the current character (0–3).
    pending: u8,
    /// Allowed range of the next byte while `pending > 0`.
    low: u8,
    high: u8,
}

impl Utf8Validator {
    /// A validator at the start of a text.
    pub const fn new() -> Self {
        Utf8Validator {
            pending: 0,
            low: 0x80,
            high: 0xBF,
        }
    }

    /// Whether the text so far ends between characters (so it could end here).
    pub const fn is_at_boundary(&self) -> bool {
        self.pending == 0
    }

    /// Checks the next piece of the text. Fails as soon as a byte cannot be
    /// part of valid UTF-8, whatever follows it. After an error the validator
    /// keeps failing until [`reset`](Self::reset).
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<()> {
        // Finish a character that an earlier piece cut.
        while self.pending > 0 {
            let Some((&b, rest)) = bytes.split_first() else {
                return Ok(());
            };
            self.step(b)?;
            bytes = rest;
        }
        // Whole characters, the fast way.
        match core::str::from_utf8(bytes) {
            Ok(_) => Ok(()),
            // An invalid byte somewhere: fail now.
            Err(e) if e.error_len().is_some() => self.fail(),
            // Only a character cut at the end: carry its state over.
            Err(e) => {
                let (_, cut) = bytes.split_at(e.valid_up_to());
                for &b in cut {
                    self.step(b)?;
                }
                Ok(())
            }
        }
    }

    /// Checks that the text ends between characters (RFC 6455 §8.1: a message
    /// ending inside a sequence is invalid) and resets for the next text.
    pub fn finish(&mut self) -> Result<()> {
        let complete = self.is_at_boundary();
        self.reset();
        if complete {
            Ok(())
        } else {
            Err(Error::InvalidUtf8)
        }
    }

    /// Forgets any partial character and any earlier failure.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    fn fail(&mut self) -> Result<()> {
        // An impossible range: every later byte fails too.
        self.pending = 1;
        self.low = 0xFF;
        self.high = 0x00;
        Err(Error::InvalidUtf8)
    }

    /// One byte through the state machine.
    fn step(&mut self, b: u8) -> Result<()> {
        if self.pending > 0 {
            if b < self.low || b > self.high {
                return self.fail();
            }
            self.pending -= 1;
            self.low = 0x80;
            self.high = 0xBF;
            return Ok(());
        }
        let (pending, low, high) = match b {
            0x00..=0x7F => return Ok(()),
            0xC2..=0xDF => (1, 0x80, 0xBF),
            0xE0 => (2, 0xA0, 0xBF),
            0xE1..=0xEC | 0xEE..=0xEF => (2, 0x80, 0xBF),
            0xED => (2, 0x80, 0x9F),
            0xF0 => (3, 0x90, 0xBF),
            0xF1..=0xF3 => (3, 0x80, 0xBF),
            0xF4 => (3, 0x80, 0x8F),
            // Continuation bytes with no lead, C0, C1 and F5–FF.
            _ => return self.fail(),
        };
        self.pending = pending;
        self.low = low;
        self.high = high;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn byte_by_byte(bytes: &[u8]) -> Result<()> {
        let mut v = Utf8Validator::new();
        for b in bytes {
            v.feed(core::slice::from_ref(b))?;
        }
        v.finish()
    }

    #[test]
    fn accepts_valid_text_in_any_split() {
        let text = "κόσμε ascii 😀 \u{10FFFF} \u{FFFD} \u{7FF}\u{800}\u{D7FF}\u{E000}".as_bytes();
        for split in 0..=text.len() {
            let mut v = Utf8Validator::new();
            v.feed(&text[..split]).unwrap();
            v.feed(&text[split..]).unwrap();
            v.finish().unwrap();
        }
        byte_by_byte(text).unwrap();
    }

    #[test]
    fn rejects_forbidden_sequences() {
        let bad: [&[u8]; 12] = [
            b"\x80",             // lone continuation
            b"\xC0\xAF",         // overlong '/'
            b"\xC1\xBF",         // overlong
            b"\xE0\x80\xAF",     // overlong 3-byte
            b"\xED\xA0\x80",     // surrogate U+D800
            b"\xED\xBF\xBF",     // surrogate U+DFFF
            b"\xF0\x80\x80\xAF", // overlong 4-byte
            b"\xF4\x90\x80\x80", // U+110000
            b"\xF5\x80\x80\x80", // lead byte beyond the range
            b"\xFF",             //
            b"\xE2\x82",         // ends inside a character
            b"\xCE\xBA\xE1",     // ends inside a character
        ];
        for bytes in bad {
            assert!(byte_by_byte(bytes).is_err(), "{bytes:x?}");
            let mut v = Utf8Validator::new();
            assert!(v.feed(bytes).and_then(|_| v.finish()).is_err());
        }
    }

    #[test]
    fn fails_at_the_first_impossible_byte() {
        // Autobahn 6.4.x: "κόσμε" followed by a byte that can never continue,
        // then more valid text. The error must come with the bad byte, before
        // the rest arrives.
        let mut v = Utf8Validator::new();
        v.feed("κόσμε".as_bytes()).unwrap();
        v.feed(b"\xF4").unwrap(); // still possible
        assert!(v.feed(b"\x90").is_err()); // U+110000 and beyond: impossible
        assert!(v.feed(b"edited").is_err(), "stays failed");
        v.reset();
        v.feed(b"fine").unwrap();
        v.finish().unwrap();
    }

    /// The byte-wise state machine alone, with no fast path in front of it.
    fn step_by_step(bytes: &[u8]) -> bool {
        let mut v = Utf8Validator::new();
        bytes.iter().all(|&b| v.step(b).is_ok()) && v.is_at_boundary()
    }

    #[test]
    fn the_byte_path_alone_is_a_whole_validator() {
        // `feed` sends only the bytes of a character cut at a piece's end
        // through `step`; here every byte goes through it, ASCII included,
        // and it must agree with the standard library on every one- and
        // two-byte string, and on three- and four-byte strings whose third
        // byte is each edge of the ranges the table above names.
        let mut checked = 0;
        for a in 0..=255u8 {
            assert_eq!(
                step_by_step(&[a]),
                core::str::from_utf8(&[a]).is_ok(),
                "{a:x}"
            );
            for b in 0..=255u8 {
                let two = [a, b];
                assert_eq!(
                    step_by_step(&two),
                    core::str::from_utf8(&two).is_ok(),
                    "{two:x?}"
                );
                for c in [
                    0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF,
                ] {
                    let three = [a, b, c];
                    let valid = core::str::from_utf8(&three).is_ok();
                    assert_eq!(step_by_step(&three), valid, "{three:x?}");
                    let four = [a, b, c, 0x80];
                    let valid = core::str::from_utf8(&four).is_ok();
                    assert_eq!(step_by_step(&four), valid, "{four:x?}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 256 * 256 * 11);
    }
}
