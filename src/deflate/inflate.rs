//! The DEFLATE decoder (RFC 1951 §3.2.3–§3.2.7), streaming, into a window
//! the caller provides, and safe on any input.
//!
//! What a reader learns here, in the order a stream unfolds:
//!
//! 1. **Block headers** (§3.2.3): three bits, BFINAL then BTYPE. The
//!    decoder's `Step` says where it stands between any two bits, so
//!    input can stop anywhere and the next call goes on from there.
//! 2. **Stored blocks** (§3.2.4): skip to a byte boundary, read LEN and its
//!    ones' complement NLEN, copy LEN bytes.
//! 3. **Dynamic code descriptions** (§3.2.7): HLIT, HDIST, HCLEN; the code
//!    lengths of the code-length alphabet, sent in a fixed odd order; then
//!    the literal/length and distance code lengths, themselves Huffman
//!    coded with run-lengths (symbols 16, 17, 18). Every count and every
//!    run is checked against the RFC's limits, and each code against
//!    Kraft's inequality ([`CodeShape`]).
//! 4. **Compressed data** (§3.2.5): a literal/length symbol, maybe extra
//!    bits, then for a length a distance symbol and its extra bits;
//!    `decode_item` reads one such *item* at a time, or reports that the
//!    bits held are not enough yet.
//! 5. **Back-references** (§3.2.3): "copy `length` bytes from `distance`
//!    back", where the copy may overlap what it writes (distance 1 repeats
//!    one byte). They may reach into earlier blocks, up to the window.
//!
//! ## The window
//!
//! Output is decoded into the caller's window, a ring of 2^k bytes, and
//! copied out to the caller's output buffer from there: the window always
//! holds the last 2^k bytes, which is exactly what back-references may
//! read. Nothing else is buffered: the decoder writes into the window only
//! as many bytes as the output buffer has room for, so a back-reference
//! that does not fit is carried over as `Step::Copy`. Stored blocks take
//! a shortcut: their bytes go straight from the input to the output, and
//! only the last window's worth of them into the window.
//!
//! ## Two paths, one decoder
//!
//! In the middle of a long input with room in the output, the *fast path*
//! refills its 64-bit bit buffer eight bytes at a time and decodes item
//! after item. Near either end, the *slow path* pulls one byte at a time,
//! only when the item being decoded needs more bits. Both call the same
//! `decode_item` and make the same checks, so they give identical
//! results; the fast path just never runs short of bits.
//!
//! ## Malformed streams
//!
//! Every rule of RFC 1951 a stream can break is an [`InflateError`]. After
//! one, the inflater keeps returning it until [`Inflater::reset`].

use super::bit_reader::{low_mask, BitBuffer};
use super::huffman::{CodeLengthDecoder, DistanceDecoder, LiteralLengthDecoder, Lookup};
use super::tables::{
    fixed_litlen_lengths, CodeShape, CODE_LENGTH_ORDER, CODE_LENGTH_SYMBOLS, DISTANCE_BASE,
    DISTANCE_EXTRA, END_OF_BLOCK, FIXED_DISTANCE_LENGTHS, LENGTH_BASE, LENGTH_EXTRA,
    LITLEN_SYMBOLS, MAX_DISTANCE, MAX_MATCH,
};

/// The smallest window [`Inflater::new`] accepts: 2^8 bytes, the smallest
/// RFC 7692 negotiates (`*_max_window_bits=8`, §7.1.2).
pub const MIN_WINDOW: usize = 256;

/// The largest window that matters: DEFLATE's farthest back-reference,
/// 32,768 bytes (§3.2.5).
pub const MAX_WINDOW: usize = MAX_DISTANCE;

/// The literal/length codes a dynamic block may describe: 286 (§3.2.7;
/// 286 and 287 exist only to make the fixed code complete).
const MAX_LITLEN_CODES: usize = 286;

/// The distance codes a dynamic block may describe: 30 (§3.2.7).
const MAX_DISTANCE_CODES: usize = 30;

/// The most bits one item can take: a 15-bit literal/length code, 5 extra
/// bits, a 15-bit distance code and 13 extra bits (§3.2.5).
const MAX_ITEM_BITS: u32 = 15 + 5 + 15 + 13;

/// The fixed literal/length code lengths (§3.2.6).
const FIXED_LITLEN_LENGTHS: [u8; LITLEN_SYMBOLS] = fixed_litlen_lengths();

/// How a call to [`Inflater::inflate`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// All the input was consumed and the stream is not over: call again
    /// with more input. (The output may happen to be full too.)
    NeedInput,
    /// The output buffer is full, and the stream is not over: call again
    /// with more room. Some input may be left unconsumed.
    OutputFull,
    /// A block with BFINAL set has ended: the stream is complete.
    /// `consumed` stops after the byte holding the block's last bit, so
    /// what follows in the input (if anything) is the caller's; see
    /// [`Inflater::continue_after_final_block`].
    StreamEnd,
}

/// What a call to [`Inflater::inflate`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of input used (or held in the bit buffer for the next call).
    pub consumed: usize,
    /// Bytes written to the start of the output buffer.
    pub produced: usize,
    /// Why the call returned.
    pub status: Status,
}

/// Every way a DEFLATE stream can break RFC 1951, plus one way to set up
/// an inflater wrongly. [`reason`](Self::reason) names the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InflateError {
    /// BTYPE 11 is reserved (§3.2.3).
    ReservedBlockType,
    /// A stored block's NLEN is not the ones' complement of LEN (§3.2.4).
    StoredLengthMismatch,
    /// HLIT says more than 286 literal/length codes (§3.2.7).
    TooManyLiteralLengthCodes,
    /// HDIST says more than 30 distance codes (§3.2.7).
    TooManyDistanceCodes,
    /// The code-length code's lengths describe more codes than fit
    /// (§3.2.2, §3.2.7).
    OversubscribedCodeLengthCode,
    /// The code-length code leaves bit strings unused (§3.2.7 allows
    /// incomplete codes only for distances).
    IncompleteCodeLengthCode,
    /// Repeat code 16 came first: there is no previous length (§3.2.7).
    RepeatWithoutPreviousLength,
    /// Code-length repeats run past HLIT + HDIST lengths (§3.2.7).
    RepeatPastEnd,
    /// The literal/length code has no code for end-of-block, 256
    /// (§3.2.5: every block ends with it).
    MissingEndOfBlock,
    /// The literal/length code lengths describe more codes than fit
    /// (§3.2.2).
    OversubscribedLiteralLengthCode,
    /// The literal/length code is incomplete, and not the single one-bit
    /// code (§3.2.7).
    IncompleteLiteralLengthCode,
    /// The distance code lengths describe more codes than fit (§3.2.2).
    OversubscribedDistanceCode,
    /// The distance code is incomplete, and neither empty nor a single
    /// one-bit code (§3.2.7).
    IncompleteDistanceCode,
    /// Bits that are no literal/length code of an incomplete code
    /// (§3.2.7).
    UnassignedLiteralLengthCode,
    /// A back-reference with bits that are no distance code: the block has
    /// no distance codes, or a single one (§3.2.7).
    UnassignedDistanceCode,
    /// Literal/length symbol 286 or 287, which never occur (§3.2.6).
    InvalidLengthSymbol,
    /// Distance symbol 30 or 31, which never occur (§3.2.6).
    InvalidDistanceSymbol,
    /// A back-reference reaches farther than the window (§3.2.5; the
    /// window is what RFC 7692 negotiated).
    DistanceBeyondWindow,
    /// A back-reference reaches before the first byte of the stream
    /// (§3.2.5: it refers to bytes already produced).
    DistanceBeforeStart,
    /// The inflater was given less than [`MIN_WINDOW`] bytes of window.
    WindowTooSmall,
}

impl InflateError {
    /// The rule broken, with its section.
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::ReservedBlockType => "block type 11 is reserved (RFC 1951 §3.2.3)",
            Self::StoredLengthMismatch => {
                "a stored block's NLEN is not the complement of LEN (RFC 1951 §3.2.4)"
            }
            Self::TooManyLiteralLengthCodes => {
                "HLIT gives more than 286 literal/length codes (RFC 1951 §3.2.7)"
            }
            Self::TooManyDistanceCodes => {
                "HDIST gives more than 30 distance codes (RFC 1951 §3.2.7)"
            }
            Self::OversubscribedCodeLengthCode => {
                "the code-length code is oversubscribed (RFC 1951 §3.2.2, §3.2.7)"
            }
            Self::IncompleteCodeLengthCode => {
                "the code-length code is incomplete (RFC 1951 §3.2.7)"
            }
            Self::RepeatWithoutPreviousLength => {
                "code length repeat 16 with no previous length (RFC 1951 §3.2.7)"
            }
            Self::RepeatPastEnd => "code length repeats run past HLIT + HDIST (RFC 1951 §3.2.7)",
            Self::MissingEndOfBlock => "no code for end-of-block, 256 (RFC 1951 §3.2.5)",
            Self::OversubscribedLiteralLengthCode => {
                "the literal/length code is oversubscribed (RFC 1951 §3.2.2)"
            }
            Self::IncompleteLiteralLengthCode => {
                "the literal/length code is incomplete (RFC 1951 §3.2.7)"
            }
            Self::OversubscribedDistanceCode => {
                "the distance code is oversubscribed (RFC 1951 §3.2.2)"
            }
            Self::IncompleteDistanceCode => {
                "the distance code is incomplete and not a single code (RFC 1951 §3.2.7)"
            }
            Self::UnassignedLiteralLengthCode => {
                "bits that are no literal/length code (RFC 1951 §3.2.7)"
            }
            Self::UnassignedDistanceCode => {
                "a back-reference whose bits are no distance code (RFC 1951 §3.2.7)"
            }
            Self::InvalidLengthSymbol => {
                "literal/length symbol 286 or 287, which never occur (RFC 1951 §3.2.6)"
            }
            Self::InvalidDistanceSymbol => {
                "distance symbol 30 or 31, which never occur (RFC 1951 §3.2.6)"
            }
            Self::DistanceBeyondWindow => {
                "a back-reference reaches farther than the window (RFC 1951 §3.2.5)"
            }
            Self::DistanceBeforeStart => {
                "a back-reference reaches before the start of the data (RFC 1951 §3.2.5)"
            }
            Self::WindowTooSmall => "the inflater's window is shorter than 256 bytes",
        }
    }
}

impl core::fmt::Display for InflateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.reason())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for InflateError {}

/// Where the decoder stands between two bits of input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Next: BFINAL and BTYPE (§3.2.3).
    BlockHeader,
    /// Next: LEN and NLEN of a stored block, after the byte boundary.
    StoredHeader,
    /// Copying a stored block's bytes.
    Stored { remaining: u16 },
    /// Next: HLIT, HDIST and HCLEN (§3.2.7).
    DynamicHeader,
    /// Reading the code-length code's 3-bit lengths, `read` of HCLEN done.
    CodeLengthCodeLengths { read: u8 },
    /// Reading the literal/length and distance code lengths.
    CodeLengths { read: u16 },
    /// Decoding compressed data.
    Items,
    /// The rest of a back-reference that did not fit in the output.
    Copy { length: u16, distance: u16 },
    /// The final block has ended.
    StreamEnd,
    /// The stream broke a rule.
    Failed(InflateError),
}

/// Why [`Core::run`] returned.
enum Stop {
    /// The input ran out.
    NeedInput,
    /// The part of the window it may write is full.
    WindowFull,
    /// The final block ended.
    StreamEnd,
    /// A stored block's next `remaining` bytes are the input's next ones:
    /// copied straight to the output (one copy instead of two), and only
    /// their last window's worth into the window.
    StoredBytes { remaining: u16 },
    /// The next step uses the window, which must first be given the
    /// stored bytes copied since the caller last gave it some.
    NeedHistory,
}

/// One decoded piece of compressed data (§3.2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
    Literal(u8),
    EndOfBlock,
    Match { length: u16, distance: u16 },
}

/// The decoder's state besides the window: [`STATE_BYTES`] bytes.
#[derive(Clone, Debug)]
struct Core {
    step: Step,
    bits: BitBuffer,
    /// Whether the block being decoded has BFINAL set.
    final_block: bool,
    /// Where the next byte goes in the window.
    write_pos: usize,
    /// Whether the window has been filled once since the start: until
    /// then, only `write_pos` bytes of history exist.
    wrapped: bool,
    /// Whether the tables hold the fixed codes (so a run of fixed blocks
    /// builds them once).
    tables_are_fixed: bool,
    /// HLIT, HDIST and HCLEN of the dynamic block being read.
    literal_codes: u16,
    distance_codes: u16,
    code_length_codes: u8,
    /// The code-length code's lengths, by symbol.
    code_length_lengths: [u8; CODE_LENGTH_SYMBOLS],
    /// The literal/length code lengths followed by the distance ones: one
    /// sequence, since repeats may run from one into the other (§3.2.7).
    lengths: [u8; MAX_LITLEN_CODES + MAX_DISTANCE_CODES],
    litlen: LiteralLengthDecoder,
    distance: DistanceDecoder,
    code_lengths: CodeLengthDecoder,
}

/// Bytes of state an [`Inflater`] keeps besides its window: 4,184 on a
/// 64-bit target. The decoding tables are most of it (2,728 bytes for
/// literal/lengths, 680 for distances, 396 for code lengths), then the
/// 316 code lengths of a dynamic block's header, which must survive a
/// call that ends in the middle of it.
pub const STATE_BYTES: usize = core::mem::size_of::<Core>();

// The budget the module doc promises: a few KiB besides the window.
const _: () = assert!(STATE_BYTES <= 4608);

/// A streaming DEFLATE decoder whose window lives in `W` (an array, a
/// `&mut [u8]`, a `Vec<u8>`...).
///
/// `window.len()` is the farthest back-reference accepted. Lengths that
/// are not a power of two are rounded down to one, and lengths above
/// 32,768 ([`MAX_WINDOW`]) are used as 32,768; a window of fewer than 256
/// bytes ([`MIN_WINDOW`]) makes every call fail with
/// [`InflateError::WindowTooSmall`].
///
/// ```
/// use wslite::deflate::inflate::{Inflater, Status};
///
/// // RFC 7692 §7.2.3.1: "Hello" in a fixed-code block, then the empty
/// // stored block that the receiver appends (0x00 0x00 0xff 0xff).
/// let payload = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff];
/// let mut inflater = Inflater::new([0u8; 1024]);
/// let mut out = [0u8; 64];
/// let progress = inflater.inflate(&payload, &mut out)?;
/// assert_eq!(&out[..progress.produced], b"Hello");
/// assert_eq!(progress.status, Status::NeedInput);
/// # Ok::<(), wslite::deflate::inflate::InflateError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Inflater<W: AsRef<[u8]> + AsMut<[u8]>> {
    window: W,
    /// The part of `window` in use: a power of two, or 0 if too small.
    window_len: usize,
    core: Core,
}

impl<W: AsRef<[u8]> + AsMut<[u8]>> Inflater<W> {
    /// An inflater at the start of a stream, with `window` as its window
    /// (see the type's documentation for the sizes accepted).
    pub fn new(window: W) -> Self {
        let len = window.as_ref().len().min(MAX_WINDOW);
        let window_len = if len < MIN_WINDOW {
            0
        } else {
            // The largest power of two ≤ len.
            1 << (usize::BITS - 1 - len.leading_zeros())
        };
        Inflater {
            window,
            window_len,
            core: Core::new(),
        }
    }

    /// The farthest back-reference accepted, in bytes (0 if the window
    /// given was too small).
    pub fn window_size(&self) -> usize {
        self.window_len
    }

    /// Decodes from `input` into `output`.
    ///
    /// Streaming: input and output may stop at any byte, and the next call
    /// goes on exactly where this one stopped. If `produced <
    /// output.len()`, then all input was consumed or the stream ended: a
    /// caller loops "call again while the output came back full".
    ///
    /// On a malformed stream, returns the error (the output may hold part
    /// of the data before it), and keeps returning it until
    /// [`reset`](Self::reset).
    pub fn inflate(&mut self, input: &[u8], output: &mut [u8]) -> Result<Progress, InflateError> {
        let Some(window) = self
            .window
            .as_mut()
            .get_mut(..self.window_len)
            .filter(|w| !w.is_empty())
        else {
            return Err(InflateError::WindowTooSmall);
        };
        self.core.inflate(input, output, window)
    }

    /// After [`Status::StreamEnd`]: discards the rest of the current byte
    /// and expects a new block header next, keeping the window, so that
    /// back-references may reach into the earlier data (RFC 7692 §7.2.3.4:
    /// a sender may end each message with a BFINAL block). Does nothing in
    /// any other state.
    pub fn continue_after_final_block(&mut self) {
        if self.core.step == Step::StreamEnd {
            self.core.bits.align_to_byte();
            self.core.step = Step::BlockHeader;
        }
    }

    /// Forgets the window and all state: a fresh stream (what RFC 7692's
    /// `*_no_context_takeover` asks for at each message).
    pub fn reset(&mut self) {
        self.core.reset();
    }

    /// Whether the final block has ended.
    pub fn is_stream_end(&self) -> bool {
        self.core.step == Step::StreamEnd
    }

    /// Gives the window storage back.
    pub fn into_window(self) -> W {
        self.window
    }
}

impl Core {
    const fn new() -> Self {
        Core {
            step: Step::BlockHeader,
            bits: BitBuffer::new(),
            final_block: false,
            write_pos: 0,
            wrapped: false,
            tables_are_fixed: false,
            literal_codes: 0,
            distance_codes: 0,
            code_length_codes: 0,
            code_length_lengths: [0; CODE_LENGTH_SYMBOLS],
            lengths: [0; MAX_LITLEN_CODES + MAX_DISTANCE_CODES],
            litlen: LiteralLengthDecoder::new(),
            distance: DistanceDecoder::new(),
            code_lengths: CodeLengthDecoder::new(),
        }
    }

    fn reset(&mut self) {
        // The tables are rebuilt before use; only the stream state and the
        // history count matter (old window bytes are unreachable once
        // `write_pos` and `wrapped` say there is no history).
        self.step = Step::BlockHeader;
        self.bits = BitBuffer::new();
        self.final_block = false;
        self.write_pos = 0;
        self.wrapped = false;
    }

    /// [`Inflater::inflate`] on the window in use (a power of two long).
    fn inflate(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        window: &mut [u8],
    ) -> Result<Progress, InflateError> {
        if let Step::Failed(e) = self.step {
            return Err(e);
        }
        let mut consumed = 0;
        let mut produced = 0;
        // Where the stored bytes copied straight to the output begin that
        // the window has not been given yet: it gets them once, when
        // something else needs the window or the call ends.
        let mut unremembered: Option<usize> = None;
        let status = loop {
            // Decode at most what the output can take, and without
            // wrapping around the window's end, so that the new bytes are
            // one slice of the window.
            let start = self.write_pos;
            let room = output.len().saturating_sub(produced);
            let end = start.saturating_add(room).min(window.len());
            let stop = self.run(input, &mut consumed, window, end, unremembered.is_some());
            let written = self.write_pos.saturating_sub(start);
            if let (Some(from), Some(to)) = (
                window.get(start..self.write_pos),
                output.get_mut(produced..produced + written),
            ) {
                to.copy_from_slice(from);
            }
            produced += written;
            if self.write_pos >= window.len() {
                self.write_pos = 0;
                self.wrapped = true;
            }
            match stop {
                Err(e) => {
                    self.step = Step::Failed(e);
                    return Err(e);
                }
                Ok(Stop::StoredBytes { remaining }) => {
                    let n = usize::from(remaining)
                        .min(output.len().saturating_sub(produced))
                        .min(input.len().saturating_sub(consumed));
                    let (Some(from), Some(to)) = (
                        input.get(consumed..consumed + n),
                        output.get_mut(produced..produced + n),
                    ) else {
                        break Status::NeedInput; // Not reachable: both in bounds.
                    };
                    if n == 0 {
                        break if consumed >= input.len() {
                            Status::NeedInput
                        } else {
                            Status::OutputFull
                        };
                    }
                    to.copy_from_slice(from);
                    unremembered.get_or_insert(produced);
                    consumed += n;
                    produced += n;
                    self.step = Step::Stored {
                        remaining: remaining - n as u16,
                    };
                }
                Ok(Stop::NeedHistory) => {
                    if let Some(from) = unremembered.take() {
                        self.remember(window, output.get(from..produced).unwrap_or_default());
                    }
                }
                Ok(Stop::NeedInput) => break Status::NeedInput,
                Ok(Stop::StreamEnd) => break Status::StreamEnd,
                Ok(Stop::WindowFull) if produced >= output.len() => break Status::OutputFull,
                // The window's end: go on from its start.
                Ok(Stop::WindowFull) => {}
            }
        };
        if let Some(from) = unremembered {
            self.remember(window, output.get(from..produced).unwrap_or_default());
        }
        Ok(Progress {
            consumed,
            produced,
            status,
        })
    }

    /// Runs the state machine on `input` from `*pos`, writing into
    /// `window[write_pos..end]`, until the input runs out, that part of the
    /// window is full, or the stream ends; or, if the window lacks the
    /// latest stored bytes (`history_pending`), until it needs them.
    fn run(
        &mut self,
        input: &[u8],
        pos: &mut usize,
        window: &mut [u8],
        end: usize,
        history_pending: bool,
    ) -> Result<Stop, InflateError> {
        loop {
            match self.step {
                Step::BlockHeader => {
                    let Some(header) = self.take(3, input, pos) else {
                        return Ok(Stop::NeedInput);
                    };
                    self.final_block = header & 1 == 1;
                    self.step = match header >> 1 {
                        0b00 => {
                            self.bits.align_to_byte();
                            Step::StoredHeader
                        }
                        0b01 => {
                            self.use_fixed_codes();
                            Step::Items
                        }
                        0b10 => Step::DynamicHeader,
                        _ => return Err(InflateError::ReservedBlockType),
                    };
                }
                Step::StoredHeader => {
                    let Some(lengths) = self.take(32, input, pos) else {
                        return Ok(Stop::NeedInput);
                    };
                    let len = lengths as u16;
                    let nlen = (lengths >> 16) as u16;
                    if len != !nlen {
                        return Err(InflateError::StoredLengthMismatch);
                    }
                    self.step = Step::Stored { remaining: len };
                }
                Step::Stored { remaining } => {
                    if remaining == 0 {
                        self.end_block(pos);
                        continue;
                    }
                    if self.bits.count() < 8 {
                        // Aligned and nothing buffered: the bytes come
                        // straight from the input, which the caller copies.
                        return Ok(Stop::StoredBytes { remaining });
                    }
                    // A byte the bit buffer still holds.
                    if history_pending {
                        return Ok(Stop::NeedHistory);
                    }
                    if self.write_pos >= end {
                        return Ok(Stop::WindowFull);
                    }
                    let byte = self.bits.peek(8) as u8;
                    self.bits.consume(8);
                    if let Some(slot) = window.get_mut(self.write_pos) {
                        *slot = byte;
                    }
                    self.write_pos += 1;
                    self.step = Step::Stored {
                        remaining: remaining - 1,
                    };
                }
                Step::DynamicHeader => {
                    let Some(counts) = self.take(14, input, pos) else {
                        return Ok(Stop::NeedInput);
                    };
                    self.literal_codes = (counts & 0x1F) as u16 + 257;
                    self.distance_codes = (counts >> 5 & 0x1F) as u16 + 1;
                    self.code_length_codes = (counts >> 10 & 0xF) as u8 + 4;
                    if usize::from(self.literal_codes) > MAX_LITLEN_CODES {
                        return Err(InflateError::TooManyLiteralLengthCodes);
                    }
                    if usize::from(self.distance_codes) > MAX_DISTANCE_CODES {
                        return Err(InflateError::TooManyDistanceCodes);
                    }
                    self.code_length_lengths = [0; CODE_LENGTH_SYMBOLS];
                    self.step = Step::CodeLengthCodeLengths { read: 0 };
                }
                Step::CodeLengthCodeLengths { read } => {
                    if read >= self.code_length_codes {
                        match self.code_lengths.build(&self.code_length_lengths) {
                            CodeShape::Complete => {}
                            CodeShape::Incomplete => {
                                return Err(InflateError::IncompleteCodeLengthCode)
                            }
                            CodeShape::Oversubscribed => {
                                return Err(InflateError::OversubscribedCodeLengthCode)
                            }
                        }
                        self.step = Step::CodeLengths { read: 0 };
                        continue;
                    }
                    let Some(len) = self.take(3, input, pos) else {
                        return Ok(Stop::NeedInput);
                    };
                    let symbol = CODE_LENGTH_ORDER.get(usize::from(read)).copied();
                    if let Some(slot) =
                        symbol.and_then(|s| self.code_length_lengths.get_mut(usize::from(s)))
                    {
                        *slot = len as u8;
                    }
                    self.step = Step::CodeLengthCodeLengths { read: read + 1 };
                }
                Step::CodeLengths { read } => {
                    let total = self.literal_codes + self.distance_codes;
                    if read >= total {
                        self.build_dynamic_codes()?;
                        self.step = Step::Items;
                        continue;
                    }
                    match self.read_code_length(read, total)? {
                        Some(next) => self.step = Step::CodeLengths { read: next },
                        None if self.bits.pull_byte(input, pos) => {}
                        None => return Ok(Stop::NeedInput),
                    }
                }
                Step::Items | Step::Copy { .. } if history_pending => {
                    return Ok(Stop::NeedHistory);
                }
                Step::Items => {
                    if end.saturating_sub(self.write_pos) >= MAX_MATCH {
                        self.fast_items(input, pos, window, end)?;
                        if self.step != Step::Items {
                            continue;
                        }
                    }
                    if let Some(stop) = self.slow_item(input, pos, window, end)? {
                        return Ok(stop);
                    }
                }
                Step::Copy { length, distance } => {
                    let n = usize::from(length).min(end.saturating_sub(self.write_pos));
                    if n == 0 {
                        return Ok(Stop::WindowFull);
                    }
                    copy_match(window, self.write_pos, usize::from(distance), n);
                    self.write_pos += n;
                    let length = length - n as u16;
                    self.step = if length == 0 {
                        Step::Items
                    } else {
                        Step::Copy { length, distance }
                    };
                }
                Step::StreamEnd => return Ok(Stop::StreamEnd),
                Step::Failed(e) => return Err(e),
            }
        }
    }

    /// Takes `n` bits, pulling bytes for them; `None` if the input ran out
    /// first (the bytes pulled stay in the buffer for the next call).
    fn take(&mut self, n: u32, input: &[u8], pos: &mut usize) -> Option<u32> {
        if self.bits.ensure(n, input, pos) {
            self.bits.take(n)
        } else {
            None
        }
    }

    /// After the end-of-block code or a stored block's last byte: the next
    /// block, or the end of the stream, whose unread whole bytes go back to
    /// the caller.
    fn end_block(&mut self, pos: &mut usize) {
        if self.final_block {
            self.bits.give_back(pos, 0);
            self.step = Step::StreamEnd;
        } else {
            self.step = Step::BlockHeader;
        }
    }

    /// Loads the fixed codes of §3.2.6, unless the tables hold them.
    fn use_fixed_codes(&mut self) {
        if !self.tables_are_fixed {
            // Both are complete codes (checked in the tests).
            self.litlen.build(&FIXED_LITLEN_LENGTHS);
            self.distance.build(&FIXED_DISTANCE_LENGTHS);
            self.tables_are_fixed = true;
        }
    }

    /// Keeps `bytes`, just written to the output, as the newest history:
    /// the window gets their last `window.len()` bytes at most.
    fn remember(&mut self, window: &mut [u8], bytes: &[u8]) {
        let size = window.len();
        let n = bytes.len();
        let kept = bytes.get(n.saturating_sub(size)..).unwrap_or_default();
        // The kept bytes start where the ring is after the others.
        let start = (self.write_pos + (n - kept.len())) & (size - 1);
        let (up_to_end, from_start) = kept.split_at(kept.len().min(size - start));
        if let Some(to) = window.get_mut(start..start + up_to_end.len()) {
            to.copy_from_slice(up_to_end);
        }
        if let Some(to) = window.get_mut(..from_start.len()) {
            to.copy_from_slice(from_start);
        }
        let end = self.write_pos + n;
        if end >= size {
            self.wrapped = true;
        }
        self.write_pos = end & (size - 1);
    }

    /// Reads one code-length symbol (with its repeat count) at `read` of
    /// `total` lengths. `Ok(None)` if more bits are needed; otherwise how
    /// many lengths are known now.
    fn read_code_length(&mut self, read: u16, total: u16) -> Result<Option<u16>, InflateError> {
        let bits = self.bits.bits();
        let count = self.bits.count();
        let (symbol, len) = match self.code_lengths.decode(bits, count) {
            Lookup::Symbol { symbol, len } => (symbol, len),
            Lookup::NeedBits => return Ok(None),
            // A complete code has no unassigned bits.
            Lookup::Unassigned => return Err(InflateError::IncompleteCodeLengthCode),
        };
        // §3.2.7: 0-15 are lengths; 16 repeats the previous one 3-6
        // times (2 extra bits), 17 repeats zero 3-10 times (3 bits), 18
        // repeats zero 11-138 times (7 bits).
        let (extra, base) = match symbol {
            16 => (2, 3),
            17 => (3, 3),
            18 => (7, 11),
            _ => (0, 1),
        };
        if count < len + extra {
            return Ok(None);
        }
        let times = base + (bits >> len & low_mask(extra)) as u16;
        self.bits.consume(len + extra);
        let value = match symbol {
            0..=15 => symbol as u8,
            16 => match read.checked_sub(1) {
                Some(previous) => self
                    .lengths
                    .get(usize::from(previous))
                    .copied()
                    .unwrap_or(0),
                None => return Err(InflateError::RepeatWithoutPreviousLength),
            },
            _ => 0,
        };
        let next = read + times;
        if next > total {
            return Err(InflateError::RepeatPastEnd);
        }
        let run = self
            .lengths
            .get_mut(usize::from(read)..usize::from(next))
            .unwrap_or_default();
        run.fill(value);
        Ok(Some(next))
    }

    /// Builds the literal/length and distance tables from the lengths just
    /// read, checking each code's shape (§3.2.7).
    fn build_dynamic_codes(&mut self) -> Result<(), InflateError> {
        self.tables_are_fixed = false;
        let total = usize::from(self.literal_codes + self.distance_codes);
        let lengths = self.lengths.get(..total).unwrap_or_default();
        let (litlen, distance) = lengths.split_at(usize::from(self.literal_codes).min(total));
        if !matches!(litlen.get(usize::from(END_OF_BLOCK)), Some(&l) if l != 0) {
            return Err(InflateError::MissingEndOfBlock);
        }
        // §3.2.7 allows one incomplete shape besides none at all: a single
        // code of one bit. (Zlib accepts it for literal/lengths too, where
        // it makes a block with only end-of-block.)
        let single = |used: u16, max: u32| used == 1 && max == 1;
        match self.litlen.build(litlen) {
            CodeShape::Complete => {}
            CodeShape::Incomplete
                if single(self.litlen.used_symbols(), self.litlen.max_code_len()) => {}
            CodeShape::Incomplete => return Err(InflateError::IncompleteLiteralLengthCode),
            CodeShape::Oversubscribed => return Err(InflateError::OversubscribedLiteralLengthCode),
        }
        match self.distance.build(distance) {
            CodeShape::Complete => {}
            CodeShape::Incomplete
                if self.distance.used_symbols() == 0
                    || single(self.distance.used_symbols(), self.distance.max_code_len()) => {}
            CodeShape::Incomplete => return Err(InflateError::IncompleteDistanceCode),
            CodeShape::Oversubscribed => return Err(InflateError::OversubscribedDistanceCode),
        }
        Ok(())
    }

    /// The slow path: one item, pulling input a byte at a time as it needs
    /// bits. `Some(stop)` when it cannot go on.
    fn slow_item(
        &mut self,
        input: &[u8],
        pos: &mut usize,
        window: &mut [u8],
        end: usize,
    ) -> Result<Option<Stop>, InflateError> {
        let decoded = decode_item(
            &self.litlen,
            &self.distance,
            self.bits.bits(),
            self.bits.count(),
        )?;
        let Some((item, used)) = decoded else {
            return Ok(if self.bits.pull_byte(input, pos) {
                None
            } else {
                Some(Stop::NeedInput)
            });
        };
        match item {
            Item::EndOfBlock => {
                self.bits.consume(used);
                self.end_block(pos);
            }
            _ if self.write_pos >= end => return Ok(Some(Stop::WindowFull)),
            Item::Literal(byte) => {
                self.bits.consume(used);
                if let Some(slot) = window.get_mut(self.write_pos) {
                    *slot = byte;
                }
                self.write_pos += 1;
            }
            Item::Match { length, distance } => {
                check_distance(distance, window.len(), self.wrapped, self.write_pos)?;
                self.bits.consume(used);
                self.step = Step::Copy { length, distance };
            }
        }
        Ok(None)
    }

    /// The fast path: items while at least 8 bytes of input and a longest
    /// match's room in the window remain. Leaves with the bytes it read
    /// ahead given back, so the slow path takes over seamlessly.
    fn fast_items(
        &mut self,
        input: &[u8],
        pos: &mut usize,
        window: &mut [u8],
        end: usize,
    ) -> Result<(), InflateError> {
        // The loop works on local copies (registers, not memory) and puts
        // them back when it leaves.
        let mut write_pos = self.write_pos;
        let mut bits = self.bits;
        let (litlen, distances, wrapped) = (&self.litlen, &self.distance, self.wrapped);
        // Only the bytes read here may be given back: the bits held before
        // belong to the item the slow path was decoding.
        let entry = *pos;
        let mut end_of_block = false;
        'refill: while end.saturating_sub(write_pos) >= MAX_MATCH && bits.refill(input, pos) {
            // At least 56 bits now: items until fewer than a whole item's
            // worth are left.
            while bits.count() >= MAX_ITEM_BITS && end.saturating_sub(write_pos) >= MAX_MATCH {
                // `None` cannot happen with MAX_ITEM_BITS held (the slow
                // path would sort it out).
                let decoded =
                    decode_item(litlen, distances, bits.bits(), bits.count()).and_then(|decoded| {
                        match decoded {
                            Some((Item::Match { distance, .. }, _)) => {
                                check_distance(distance, window.len(), wrapped, write_pos)
                                    .map(|()| decoded)
                            }
                            _ => Ok(decoded),
                        }
                    });
                let (item, used) = match decoded {
                    Ok(Some(decoded)) => decoded,
                    Ok(None) => break 'refill,
                    Err(e) => {
                        // What was written before the error is output.
                        self.write_pos = write_pos;
                        return Err(e);
                    }
                };
                bits.consume(used);
                match item {
                    Item::Literal(byte) => {
                        if let Some(slot) = window.get_mut(write_pos) {
                            *slot = byte;
                        }
                        write_pos += 1;
                        // Literals come in runs: a second one straight
                        // from the bits left (a literal used at most 15 of
                        // the ≥ 48 held, and the window had a longest
                        // match's room), without a refill. Anything else
                        // is left for the next turn of the loop.
                        if let Lookup::Symbol { symbol, len } =
                            litlen.decode(bits.bits(), bits.count())
                        {
                            if symbol < END_OF_BLOCK {
                                bits.consume(len);
                                if let Some(slot) = window.get_mut(write_pos) {
                                    *slot = symbol as u8;
                                }
                                write_pos += 1;
                            }
                        }
                    }
                    Item::Match { length, distance } => {
                        let length = usize::from(length);
                        copy_match(window, write_pos, usize::from(distance), length);
                        write_pos += length;
                    }
                    Item::EndOfBlock => {
                        end_of_block = true;
                        break 'refill;
                    }
                }
            }
        }
        bits.give_back(pos, entry);
        self.bits = bits;
        self.write_pos = write_pos;
        if end_of_block {
            self.end_block(pos);
        }
        Ok(())
    }
}

/// Checks a back-reference's distance against the window and the bytes
/// produced since the start (§3.2.5): `write_pos` of them, unless the
/// window has `wrapped`.
#[inline(always)]
fn check_distance(
    distance: u16,
    window_len: usize,
    wrapped: bool,
    write_pos: usize,
) -> Result<(), InflateError> {
    let distance = usize::from(distance);
    if distance > window_len {
        Err(InflateError::DistanceBeyondWindow)
    } else if !wrapped && distance > write_pos {
        Err(InflateError::DistanceBeforeStart)
    } else {
        Ok(())
    }
}

/// Decodes the item at the start of `bits` (`count` of them real): its
/// literal/length code, the length's extra bits, the distance code and
/// its extra bits (§3.2.5), and how many bits it took. `Ok(None)` if
/// `count` bits are not enough to tell.
///
/// The checks come in stream order, each needing only the bits before it,
/// so any number of bits held gives the same answer or asks for more.
#[inline(always)]
fn decode_item(
    litlen: &LiteralLengthDecoder,
    distances: &DistanceDecoder,
    bits: u64,
    count: u32,
) -> Result<Option<(Item, u32)>, InflateError> {
    let (symbol, mut used) = match litlen.decode(bits, count) {
        Lookup::Symbol { symbol, len } => (symbol, len),
        Lookup::NeedBits => return Ok(None),
        Lookup::Unassigned => return Err(InflateError::UnassignedLiteralLengthCode),
    };
    if symbol < END_OF_BLOCK {
        return Ok(Some((Item::Literal(symbol as u8), used)));
    }
    if symbol == END_OF_BLOCK {
        return Ok(Some((Item::EndOfBlock, used)));
    }
    let index = usize::from(symbol - (END_OF_BLOCK + 1));
    let (Some(&base), Some(&extra)) = (LENGTH_BASE.get(index), LENGTH_EXTRA.get(index)) else {
        return Err(InflateError::InvalidLengthSymbol);
    };
    let extra = u32::from(extra);
    if count < used + extra {
        return Ok(None);
    }
    let length = base + (bits >> used & low_mask(extra)) as u16;
    used += extra;
    let (symbol, len) = match distances.decode(bits >> used, count - used) {
        Lookup::Symbol { symbol, len } => (symbol, len),
        Lookup::NeedBits => return Ok(None),
        Lookup::Unassigned => return Err(InflateError::UnassignedDistanceCode),
    };
    used += len;
    let index = usize::from(symbol);
    let (Some(&base), Some(&extra)) = (DISTANCE_BASE.get(index), DISTANCE_EXTRA.get(index)) else {
        return Err(InflateError::InvalidDistanceSymbol);
    };
    let extra = u32::from(extra);
    if count < used + extra {
        return Ok(None);
    }
    let distance = base + (bits >> used & low_mask(extra)) as u16;
    used += extra;
    Ok(Some((Item::Match { length, distance }, used)))
}

/// Writes `n` bytes at `window[at..]`, each a copy of the byte `distance`
/// before it in the ring (§3.2.3). The caller guarantees `at + n ≤
/// window.len()`, `distance ≤ window.len()`, and a window a power of two
/// long.
///
/// The copy must give what copying one byte at a time would: when the
/// source overlaps the destination (`distance < n`), the bytes just
/// written are read again, which is how DEFLATE codes runs.
#[inline(always)]
fn copy_match(window: &mut [u8], at: usize, distance: usize, n: usize) {
    let size = window.len();
    if distance == 0 || distance > size || at + n > size {
        return; // Not reachable: the decoder never asks for it.
    }
    // Where the source starts: behind `at`, or (when `distance > at`) in
    // the ring's far end, ahead of `at`, holding the previous lap.
    let ahead = distance > at;
    let from = if ahead {
        at + size - distance
    } else {
        at - distance
    };
    if from + n <= size && (from + n <= at || at + n <= from) {
        // The common case, inline: source and destination apart, so any
        // order of copying will do.
        copy_apart(window, from, at, n);
    } else {
        copy_overlapping(window, at, distance, n);
    }
}

/// [`copy_match`]'s other cases: a source that runs across the ring's
/// end, or one that overlaps the destination.
#[inline(never)]
fn copy_overlapping(window: &mut [u8], at: usize, distance: usize, n: usize) {
    let size = window.len();
    let ahead = distance > at;
    let from = if ahead {
        at + size - distance
    } else {
        at - distance
    };
    if from + n > size {
        // The source runs across the ring's end: byte by byte (rare).
        let mask = size - 1;
        for i in at..at + n {
            let byte = window
                .get(i.wrapping_sub(distance) & mask)
                .copied()
                .unwrap_or(0);
            if let Some(slot) = window.get_mut(i) {
                *slot = byte;
            }
        }
    } else if distance == 1 {
        // A run of one byte.
        let byte = window.get(from).copied().unwrap_or(0);
        if let Some(run) = window.get_mut(at..at + n) {
            run.fill(byte);
        }
    } else if !ahead {
        // A period of `distance` bytes repeated: the bytes from `from` on
        // repeat with that period, so copying whole periods from `from`
        // (twice as many each time, as more are written) gives the same
        // bytes as copying one at a time.
        let mut done = 0;
        while done < n {
            let chunk = (n - done).min(distance + done);
            window.copy_within(from..from + chunk, at + done);
            done += chunk;
        }
    } else {
        // A source ahead that overlaps the destination (a distance within
        // `n` of the whole window): forward, one byte at a time, reads
        // each byte before it is overwritten.
        for i in 0..n {
            let byte = window.get(from + i).copied().unwrap_or(0);
            if let Some(slot) = window.get_mut(at + i) {
                *slot = byte;
            }
        }
    }
}

/// Moves `K` bytes from `window[from..]` to `window[at..]` through a
/// local array: one load and one store once compiled.
#[inline(always)]
fn move_fixed<const K: usize>(window: &mut [u8], from: usize, at: usize) {
    let bytes: Option<[u8; K]> = window
        .get(from..from + K)
        .and_then(|s| <[u8; K]>::try_from(s).ok());
    if let (Some(bytes), Some(to)) = (bytes, window.get_mut(at..at + K)) {
        to.copy_from_slice(&bytes);
    }
}

/// Copies `window[from..from + n]` to `window[at..at + n]`, two ranges
/// that do not overlap, both inside the window. Short copies (most
/// matches are a few bytes) use two fixed-size moves that may overlap
/// each other, each compiled to one load and one store, where a call to
/// memmove would cost more than the copy.
#[inline(always)]
fn copy_apart(window: &mut [u8], from: usize, at: usize, n: usize) {
    match n {
        2..=3 => {
            move_fixed::<2>(window, from, at);
            move_fixed::<2>(window, from + n - 2, at + n - 2);
        }
        0..=1 => {
            for i in 0..n {
                let byte = window.get(from + i).copied().unwrap_or(0);
                if let Some(slot) = window.get_mut(at + i) {
                    *slot = byte;
                }
            }
        }
        4..=7 => {
            move_fixed::<4>(window, from, at);
            move_fixed::<4>(window, from + n - 4, at + n - 4);
        }
        8..=15 => {
            move_fixed::<8>(window, from, at);
            move_fixed::<8>(window, from + n - 8, at + n - 8);
        }
        16..=32 => {
            move_fixed::<16>(window, from, at);
            move_fixed::<16>(window, from + n - 16, at + n - 16);
        }
        _ => window.copy_within(from..from + n, at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inflates a whole stream in one call.
    fn inflate_all(stream: &[u8]) -> Result<(Progress, [u8; 512]), InflateError> {
        let mut inflater = Inflater::new([0u8; 32768]);
        let mut out = [0u8; 512];
        let progress = inflater.inflate(stream, &mut out)?;
        Ok((progress, out))
    }

    #[test]
    fn copy_match_repeats_overlapping_periods() {
        let mut window = [0u8; 256];
        window[..3].copy_from_slice(b"abc");
        copy_match(&mut window, 3, 3, 10);
        assert_eq!(&window[..13], b"abcabcabcabca");
        copy_match(&mut window, 13, 1, 4);
        assert_eq!(&window[..17], b"abcabcabcabcaaaaa");
        // Around the ring's end: bytes 254, 255, then 0 onwards.
        window[254] = b'y';
        window[255] = b'z';
        copy_match(&mut window, 17, 19, 4);
        assert_eq!(&window[17..21], b"yzab");
    }

    #[test]
    fn copy_match_is_a_byte_by_byte_copy_around_the_ring() {
        // Every path (apart, overlapping, short periods, sources ahead in
        // the previous lap, sources across the ring's end) against the
        // definition: out[i] = out[i - distance], one byte at a time.
        let start: [u8; 256] = core::array::from_fn(|i| (i as u8).wrapping_mul(151) ^ 0x5A);
        for at in (0..256).step_by(7) {
            for distance in 1..=256 {
                for n in [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 258] {
                    let n = n.min(256 - at);
                    let mut fast = start;
                    let mut slow = start;
                    copy_match(&mut fast, at, distance, n);
                    for i in at..at + n {
                        slow[i] = slow[(i + 256 - distance) % 256];
                    }
                    assert_eq!(fast, slow, "at {at}, distance {distance}, n {n}");
                }
            }
        }
    }

    #[test]
    fn the_rfc_7692_hello_decodes() {
        let (progress, out) = inflate_all(&[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]).unwrap();
        assert_eq!(progress.status, Status::StreamEnd);
        assert_eq!(progress.consumed, 7);
        assert_eq!(&out[..progress.produced], b"Hello");
    }

    #[test]
    fn window_sizes_round_down_to_a_power_of_two() {
        assert_eq!(Inflater::new([0u8; 255]).window_size(), 0);
        assert_eq!(Inflater::new([0u8; 256]).window_size(), 256);
        assert_eq!(Inflater::new([0u8; 1000]).window_size(), 512);
        assert_eq!(Inflater::new([0u8; 40000]).window_size(), 32768);
        let mut small = Inflater::new([0u8; 100]);
        assert_eq!(
            small.inflate(&[0x03, 0x00], &mut [0u8; 8]),
            Err(InflateError::WindowTooSmall)
        );
    }

    #[test]
    fn the_fixed_codes_are_complete() {
        let mut litlen = LiteralLengthDecoder::new();
        let mut distance = DistanceDecoder::new();
        assert_eq!(litlen.build(&FIXED_LITLEN_LENGTHS), CodeShape::Complete);
        assert_eq!(distance.build(&FIXED_DISTANCE_LENGTHS), CodeShape::Complete);
    }
}
