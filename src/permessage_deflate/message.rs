//! Compressing and inflating one message at a time (RFC 7692 §7.2), with
//! the limits of RFC 6455 §10.4 applied to the inflated bytes.
//!
//! permessage-deflate turns each data message into DEFLATE data on its own
//! terms, in three rules that this module is the home of:
//!
//! * **The tail** (§7.2.1, §7.2.2). A sender compresses the message, ends it
//!   with a *sync flush* (an empty stored block, which ends byte-aligned in
//!   the four bytes `00 00 ff ff`), and removes those four bytes: every
//!   message would carry them, so they are left out. The receiver appends
//!   them again before it inflates the last byte.
//! * **The window** (§7.1.1). Unless a `no_context_takeover` parameter was
//!   agreed, the LZ77 window carries over from one message to the next, so a
//!   message may refer back into earlier ones: a chat line that repeats the
//!   last one costs a few bytes. With it, the sender starts each message
//!   afresh and the receiver may forget the window between messages.
//! * **A bomb is refused at the first byte too many.** A few kilobytes of
//!   DEFLATE data can inflate to gigabytes. The size limits
//!   ([`Limits`]) are checked against the *inflated* bytes as they come out,
//!   never after: the inflater is handed at most one byte more room than the
//!   limit allows, so the message is refused (1009) with its memory bounded
//!   by the window and the caller's buffer. Text is checked as UTF-8 after
//!   inflating, at the first bad byte (1007), like uncompressed text.
//!
//! [`MessageInflater`] is the receiving side; the sending side,
//! [`MessageDeflater`], strips the tail as the compressed bytes leave.

use crate::deflate::deflate::{Deflater, Flush, Storage};
use crate::deflate::inflate::{Inflater, Status};
use crate::error::{Error, Result};
use crate::protocol::{DataKind, Limits};
use crate::utf8::Utf8Validator;

/// The four bytes a sync flush ends with (an empty stored block's LEN and
/// NLEN, RFC 1951 §3.2.4), left out of every message (RFC 7692 §7.2.1).
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// What one call of [`MessageInflater::inflate`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inflated {
    /// Compressed bytes used from the input.
    pub consumed: usize,
    /// Inflated bytes written at the start of the output.
    pub produced: usize,
    /// Whether the message is complete: its last byte has been inflated.
    pub done: bool,
}

/// Inflates compressed messages one after another, as they arrive in
/// pieces, and holds them to the limits. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct MessageInflater<W: AsRef<[u8]> + AsMut<[u8]>> {
    inflater: Inflater<W>,
    /// Forget the window after each message (the peer's
    /// `no_context_takeover`).
    reset_after_message: bool,
    limits: Limits,
    /// The message in progress, if one started: its kind.
    message: Option<DataKind>,
    utf8: Utf8Validator,
    /// Inflated bytes of the message so far, and of its current frame.
    message_len: u64,
    frame_len: u64,
    /// How many bytes of [`TAIL`] the inflater has taken.
    tail_fed: usize,
}

impl<W: AsRef<[u8]> + AsMut<[u8]>> MessageInflater<W> {
    /// An inflater whose window is `window` (its length: 2 to the power of
    /// the peer's agreed `max_window_bits`), forgetting it after each message
    /// when `no_context_takeover`, and refusing messages past `limits`.
    pub fn new(window: W, no_context_takeover: bool, limits: Limits) -> Self {
        MessageInflater {
            inflater: Inflater::new(window),
            reset_after_message: no_context_takeover,
            limits,
            message: None,
            utf8: Utf8Validator::new(),
            message_len: 0,
            frame_len: 0,
            tail_fed: 0,
        }
    }

    /// Changes the limits; they apply from the next byte inflated.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Whether a message has started and not yet been inflated to its end.
    pub const fn is_inflating(&self) -> bool {
        self.message.is_some()
    }

    /// A new frame of the message begins: [`Limits::max_frame_size`] counts
    /// the bytes inflated from here on.
    pub fn begin_frame(&mut self) {
        self.frame_len = 0;
    }

    /// Inflates compressed bytes of a message of `kind` from `input` into
    /// `output`. `fin` says that `input` ends the message (it is the end of
    /// the last frame's payload); the tail is then appended.
    ///
    /// Call again with the rest of the input while `consumed` is short of
    /// it, and, once the input is used up, while `done` is false and the
    /// output came back full: a few bytes can inflate to many. An error
    /// means the connection must be failed with its close code: 1007 for
    /// data that does not inflate or text that is not UTF-8, 1009 for a
    /// message past a limit.
    pub fn inflate(
        &mut self,
        kind: DataKind,
        input: &[u8],
        fin: bool,
        output: &mut [u8],
    ) -> Result<Inflated> {
        if self.message.is_none() {
            self.message = Some(kind);
            self.utf8 = Utf8Validator::new();
            self.message_len = 0;
            self.frame_len = 0;
            self.tail_fed = 0;
        }
        // Room for one byte past the nearer limit, so that a message over
        // it is caught at that byte, having cost no more than the room.
        let allowed = self.room_left();
        let room = usize::try_from(allowed.saturating_add(1)).unwrap_or(usize::MAX);
        let room = room.min(output.len());
        let (consumed, produced, drained) = self.run(input, fin, output.get_mut(..room))?;
        let out = output.get(..produced).unwrap_or_default();
        if produced as u64 > allowed {
            return Err(self.too_large(produced as u64));
        }
        self.message_len += produced as u64;
        self.frame_len += produced as u64;
        if kind == DataKind::Text {
            self.utf8.feed(out)?;
        }
        let done = fin && consumed == input.len() && self.tail_fed == TAIL.len() && drained;
        if done {
            self.message = None;
            if kind == DataKind::Text {
                self.utf8.finish()?;
            }
            if self.reset_after_message {
                self.inflater.reset();
            }
        }
        Ok(Inflated {
            consumed,
            produced,
            done,
        })
    }

    /// Runs the inflater over `input` and then (with `fin`) the tail, until
    /// the output is full or the input used up. Returns the bytes consumed
    /// from `input`, the bytes produced, and whether the inflater was left
    /// with nothing more to give (its last call did not fill its room).
    fn run(
        &mut self,
        input: &[u8],
        fin: bool,
        output: Option<&mut [u8]>,
    ) -> Result<(usize, usize, bool)> {
        let output = output.unwrap_or_default();
        let (mut consumed, mut produced) = (0, 0);
        // Rounds in a row that moved nothing: at most one is expected (a
        // final block ended, the next call starts the next block).
        let mut stalled = 0;
        loop {
            let room = output.get_mut(produced..).unwrap_or_default();
            if room.is_empty() {
                return Ok((consumed, produced, false));
            }
            let from_tail = consumed == input.len();
            let source = if from_tail {
                if !fin {
                    return Ok((consumed, produced, true));
                }
                TAIL.get(self.tail_fed..).unwrap_or_default()
            } else {
                input.get(consumed..).unwrap_or_default()
            };
            let room_len = room.len();
            let progress = self
                .inflater
                .inflate(source, room)
                .map_err(|e| Error::InvalidCompressedData { reason: e.reason() })?;
            if from_tail {
                self.tail_fed += progress.consumed;
            } else {
                consumed += progress.consumed;
            }
            produced += progress.produced;
            if progress.consumed == 0 && progress.produced == 0 && !source.is_empty() {
                stalled += 1;
                if stalled > 2 {
                    return Err(Error::InvalidCompressedData {
                        reason: "the DEFLATE data stops making progress",
                    });
                }
            } else {
                stalled = 0;
            }
            match progress.status {
                // A block with BFINAL set: the next block follows it, after
                // the padding (RFC 7692 §7.2.3.4), and may still refer back.
                Status::StreamEnd => self.inflater.continue_after_final_block(),
                // All of the tail used and nothing held back: done. (All of
                // the input used: the tail comes next.)
                _ if from_tail
                    && progress.produced < room_len
                    && source.len() == progress.consumed =>
                {
                    return Ok((consumed, produced, true));
                }
                _ => {}
            }
        }
    }

    /// Inflated bytes the message may still grow by: the nearer of the two
    /// limits.
    fn room_left(&self) -> u64 {
        let message = self
            .limits
            .max_message_size
            .saturating_sub(self.message_len);
        let frame = self.limits.max_frame_size.saturating_sub(self.frame_len);
        message.min(frame)
    }

    /// The error for a message that inflated `produced` bytes past its room.
    fn too_large(&self, produced: u64) -> Error {
        let frame = self.frame_len.saturating_add(produced);
        if frame > self.limits.max_frame_size {
            Error::FrameTooLarge {
                length: frame,
                limit: self.limits.max_frame_size,
            }
        } else {
            Error::MessageTooLarge {
                length: self.message_len.saturating_add(produced),
                limit: self.limits.max_message_size,
            }
        }
    }
}

/// What one call of [`MessageDeflater::compress`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compressed {
    /// Bytes of the message used from the input.
    pub consumed: usize,
    /// Compressed bytes written at the start of the output, ready to go in
    /// a frame.
    pub produced: usize,
    /// Whether all the input was taken, and, at the end of a message
    /// (`fin`), every compressed byte of it handed out.
    pub done: bool,
}

/// Compresses messages one after another, each ending in a sync flush
/// whose tail is removed (RFC 7692 §7.2.1). See the
/// [module documentation](self).
#[derive(Clone, Debug)]
pub struct MessageDeflater<S> {
    deflater: Deflater<S>,
    /// Start every message afresh (our `no_context_takeover`).
    reset_after_message: bool,
    /// The last compressed bytes, held back until more follow them: at the
    /// end of a message, they are the tail, which is not sent.
    held: [u8; 4],
    held_len: usize,
}

impl<S: Storage> MessageDeflater<S> {
    /// A message compressor over `deflater`, which starts every message
    /// with an empty window when `no_context_takeover`.
    pub fn new(deflater: Deflater<S>, no_context_takeover: bool) -> Self {
        MessageDeflater {
            deflater,
            reset_after_message: no_context_takeover,
            held: [0; 4],
            held_len: 0,
        }
    }

    /// Compresses `input`, the next bytes of a message, into `output`;
    /// `fin` says the message ends with them.
    ///
    /// Call again with the rest of the input until `done`: each call fills
    /// `output` as far as it can, and what it produced is the next part of
    /// the message's payload. Without `fin` the compressor may keep bytes
    /// back (to find matches in what comes next); with it, everything comes
    /// out. `output` must have room for more than 4 bytes
    /// ([`Error::BufferTooSmall`] otherwise): the last 4 bytes are always
    /// held back until the compressor has produced more.
    pub fn compress(&mut self, input: &[u8], fin: bool, output: &mut [u8]) -> Result<Compressed> {
        if output.len() <= TAIL.len() {
            return Err(Error::BufferTooSmall {
                needed: TAIL.len() + 1,
            });
        }
        // The bytes held back last time come first.
        let held = self.held_len;
        if let (Some(dest), Some(src)) = (output.get_mut(..held), self.held.get(..held)) {
            dest.copy_from_slice(src);
        }
        let (mut consumed, mut written) = (0, held);
        let flushed = loop {
            let rest = input.get(consumed..).unwrap_or_default();
            let room = output.get_mut(written..).unwrap_or_default();
            if room.is_empty() {
                break false;
            }
            let flush = if fin { Flush::Sync } else { Flush::None };
            let progress = self.deflater.compress(rest, room, flush);
            consumed += progress.consumed;
            written += progress.produced;
            if consumed == input.len() && (!fin || progress.flushed) {
                break fin;
            }
            if progress.consumed == 0 && progress.produced == 0 {
                // The deflater always moves while there is room; this is
                // only a guard against looping.
                break false;
            }
        };
        // Hold back the last four bytes: the tail, if nothing follows.
        let keep = written.min(TAIL.len());
        let produced = written - keep;
        if let (Some(dest), Some(src)) = (self.held.get_mut(..keep), output.get(produced..written))
        {
            dest.copy_from_slice(src);
        }
        self.held_len = keep;
        let done = consumed == input.len() && (!fin || flushed);
        if fin && done {
            // The held bytes are the sync flush's `00 00 ff ff`: dropped.
            self.held_len = 0;
            if self.reset_after_message {
                self.deflater.reset();
            }
        }
        Ok(Compressed {
            consumed,
            produced,
            done,
        })
    }
}
