//! The DEFLATE encoder (RFC 1951 §3.2.3–§3.2.7), streaming, without
//! allocation, for permessage-deflate (RFC 7692 §7.2.1).
//!
//! What a reader learns here:
//!
//! * **Blocks.** The matcher ([`lz77`](super::lz77)) turns the input into
//!   symbols; when its buffer is full (or the caller flushes) they become one
//!   block, coded the cheapest of three ways, each costed to the bit:
//!   *stored* (§3.2.4: the raw bytes, at most 65,535 per block, after a
//!   byte-aligned LEN and its complement NLEN), *fixed* (§3.2.6: the codes
//!   everyone knows, nothing to send first), or *dynamic* (§3.2.7: codes
//!   built for this block, sent first as code lengths). Stored is always
//!   a candidate, so the output never grows by more than a few bytes per
//!   block, whatever the input.
//! * **The sync flush** (RFC 7692 §7.2.1). A WebSocket message must end
//!   on a byte boundary so that the receiver can decode all of it at once.
//!   After the message's last block, the deflater writes an empty stored
//!   block: three header bits, padding to the byte boundary, then
//!   `LEN = 0000`, `NLEN = ffff`. Those four bytes `00 00 ff ff` are always
//!   the same, so RFC 7692 strips them from the wire and the receiver adds
//!   them back. No block is ever final (BFINAL = 1): the stream of a
//!   connection never ends.
//! * **Streaming.** The caller hands in input and output of any size,
//!   even one byte; what does not fit waits in the deflater for the next
//!   call. Its memory is the caller's [`Storage`], sized once.
//!
//! # Memory
//!
//! The deflater is its *engine* (codes, symbol counts, the pending output
//! of [`PENDING_BYTES`](super::bit_writer::PENDING_BYTES) bytes: about
//! 3.7 KiB, whatever the sizes) plus its [`Storage`], whose parts
//! [`Sizes`] computes. In bytes, with the heap defaults of
//! [`Sizes::for_window_bits`] and for the array preset [`Window512`]:
//!
//! | storage | window buffer | hash head | chain | symbol buffer | storage total | with engine |
//! |---|---|---|---|---|---|---|
//! | [`Window512`] (9 bits) | 1,024 | 512 (256 entries) | 1,024 | 768 (256 symbols) | 3,328 | ≈ 7.0 KiB |
//! | heap, 9 bits   | 8,192  | 1,024 (512 entries)     | 1,024  | 6,144 (2,048 symbols)  | 16,384  | ≈ 19.7 KiB |
//! | heap, 12 bits  | 8,192  | 8,192 (4,096 entries)   | 8,192  | 6,144 (2,048 symbols)  | 30,720  | ≈ 33.6 KiB |
//! | heap, 15 bits  | 65,536 | 65,536 (32,768 entries) | 65,536 | 49,152 (16,384 symbols)| 245,760 | ≈ 243.7 KiB |
//!
//! The level does not change the memory, only the time spent per byte.
//! A block's bytes stay in the window buffer until the block is written
//! (so that the stored fallback is always possible), so the buffer and the
//! symbol count bound the block size: smaller blocks save memory and pay a
//! dynamic header (typically 60–100 bytes) more often. With the 12-bit
//! defaults the output is about 2% larger than zlib's at 12 bits, whose
//! blocks are larger; at 15 bits it is within 0.5% of zlib's. A smaller
//! hash head costs speed (more unrelated positions in each chain) more
//! than size.

use super::bit_writer::{BitWriter, LARGEST_PIECE};
use super::code_builder::{
    build_lengths, code_length_count, run_frequencies, run_length_code, LengthRun, MAX_RUNS,
};
use super::lz77::{
    decode_symbol, distance_symbol, length_symbol, Matcher, Params, Stop, Symbol, Tally,
    SYMBOL_BYTES,
};
use super::tables::{
    canonical_codes, fixed_litlen_lengths, reverse_bits, CODE_LENGTH_ORDER, CODE_LENGTH_SYMBOLS,
    DISTANCE_BASE, DISTANCE_EXTRA, END_OF_BLOCK, LENGTH_BASE, LENGTH_EXTRA, LITLEN_SYMBOLS,
    MAX_CODE_BITS, MAX_CODE_LENGTH_BITS,
};

/// How hard the deflater works: 0 = store only, 1 = fastest (greedy, short
/// chains), …, 6 = default (lazy), 9 = best (long chains).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level(u8);

impl Level {
    /// Stored blocks only: no compression, the least work.
    pub const STORE: Level = Level(0);
    /// Greedy matching over short chains.
    pub const FAST: Level = Level(1);
    /// Lazy matching, a good balance (zlib's default level too).
    pub const DEFAULT: Level = Level(6);
    /// The longest chains: the smallest output, the most time.
    pub const BEST: Level = Level(9);

    /// Level `n`; values above 9 are clamped to 9 ([`Level::BEST`]).
    pub const fn new(n: u8) -> Level {
        if n > 9 {
            Level(9)
        } else {
            Level(n)
        }
    }

    /// The level as a number, 0–9.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl Default for Level {
    fn default() -> Self {
        Level::DEFAULT
    }
}

/// What [`Deflater::compress`] should do once it has consumed the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flush {
    /// Keep data buffered for better compression: output comes when blocks
    /// fill up.
    None,
    /// Emit everything, then the empty stored block that ends the output on
    /// a byte boundary with `00 00 ff ff` (the end of a message, RFC 7692
    /// §7.2.1).
    Sync,
}

/// What one call of [`Deflater::compress`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Input bytes taken (the rest must be offered again).
    pub consumed: usize,
    /// Bytes written at the start of the output.
    pub produced: usize,
    /// With [`Flush::Sync`]: everything, up to and including `00 00 ff ff`,
    /// has been written.
    pub flushed: bool,
}

/// The buffers a deflater works in, lent out by its [`Storage`].
///
/// Requirements (checked by [`Deflater::new`]): `window` is a power of two
/// of 1,024–65,536 bytes and at least twice the window (2^window_bits);
/// `head` is a power of two of 256–65,536 entries; `prev` is a power of two
/// of at least the window; `symbols` holds at least 64 symbols of
/// [`SYMBOL_BYTES`] bytes.
#[derive(Debug)]
pub struct Parts<'a> {
    /// The input buffer: the history the matches reach into, and the bytes
    /// ahead of the current position.
    pub window: &'a mut [u8],
    /// The hash head: per hash of three bytes, the latest position.
    pub head: &'a mut [u16],
    /// The chain: per position (modulo its length), the previous one with
    /// the same hash.
    pub prev: &'a mut [u16],
    /// The block's symbols until it is written out.
    pub symbols: &'a mut [u8],
}

/// Where a deflater keeps its buffers. Implementations must lend out the
/// same sizes on every call (a deflater whose storage changed sizes stops
/// working: every call then returns no progress).
pub trait Storage {
    /// The buffers.
    fn parts(&mut self) -> Parts<'_>;
}

/// Storage in fixed-size arrays, for a deflater on the stack or in a
/// `static` without allocation. The parameters are sizes: the window buffer
/// in bytes, the hash head and the chain in entries, the symbol buffer in
/// bytes (3 per symbol). [`Window512`] is a small preset.
#[derive(Clone, Debug)]
pub struct ArrayStorage<
    const WINDOW_BYTES: usize,
    const HEAD: usize,
    const CHAIN: usize,
    const SYMBOL_BUF: usize,
> {
    window: [u8; WINDOW_BYTES],
    head: [u16; HEAD],
    prev: [u16; CHAIN],
    symbols: [u8; SYMBOL_BUF],
}

/// Array storage for a 512-byte window (window bits 9): 1 KiB of window
/// buffer, 256 hash heads, a 512-entry chain and 256 symbols, 3,328 bytes.
pub type Window512 = ArrayStorage<1024, 256, 512, 768>;

impl<const W: usize, const H: usize, const C: usize, const S: usize> ArrayStorage<W, H, C, S> {
    /// Zeroed arrays.
    pub const fn new() -> Self {
        ArrayStorage {
            window: [0; W],
            head: [0; H],
            prev: [0; C],
            symbols: [0; S],
        }
    }
}

impl<const W: usize, const H: usize, const C: usize, const S: usize> Default
    for ArrayStorage<W, H, C, S>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const W: usize, const H: usize, const C: usize, const S: usize> Storage
    for ArrayStorage<W, H, C, S>
{
    fn parts(&mut self) -> Parts<'_> {
        Parts {
            window: &mut self.window,
            head: &mut self.head,
            prev: &mut self.prev,
            symbols: &mut self.symbols,
        }
    }
}

/// Storage in slices the caller owns (a `static` buffer, an arena): the
/// [`Parts`] themselves, lent out again on every call.
pub type SliceStorage<'a> = Parts<'a>;

impl Storage for Parts<'_> {
    fn parts(&mut self) -> Parts<'_> {
        Parts {
            window: self.window,
            head: self.head,
            prev: self.prev,
            symbols: self.symbols,
        }
    }
}

/// Storage on the heap, sized at run time (for window bits negotiated by
/// the handshake).
#[cfg(feature = "std")]
#[derive(Clone, Debug)]
pub struct HeapStorage {
    window: Vec<u8>,
    head: Vec<u16>,
    prev: Vec<u16>,
    symbols: Vec<u8>,
}

#[cfg(feature = "std")]
impl HeapStorage {
    /// Zeroed buffers of `sizes`, once they pass [`Sizes::check`].
    pub fn new(sizes: Sizes) -> Result<HeapStorage, SizeError> {
        sizes.check()?;
        Ok(HeapStorage {
            window: vec![0; sizes.window_bytes()],
            head: vec![0; sizes.head_entries()],
            prev: vec![0; sizes.chain_entries()],
            symbols: vec![0; sizes.symbol_bytes()],
        })
    }
}

#[cfg(feature = "std")]
impl Storage for HeapStorage {
    fn parts(&mut self) -> Parts<'_> {
        Parts {
            window: &mut self.window,
            head: &mut self.head,
            prev: &mut self.prev,
            symbols: &mut self.symbols,
        }
    }
}

/// The sizes of a deflater's storage, and the bytes each part costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// The window: matches reach back at most 2^window_bits bytes (8–15).
    pub window_bits: u8,
    /// The window buffer has 2^buffer_bits bytes (10–16, and more than
    /// `window_bits`). A block's bytes must stay in the buffer until the
    /// block is written (for the stored fallback), so a larger buffer
    /// allows larger blocks.
    pub buffer_bits: u8,
    /// The hash head has 2^hash_bits entries (8–16).
    pub hash_bits: u8,
    /// Symbols per block at most (64 to 2^20): the block size knob.
    pub symbols: usize,
}

impl Sizes {
    /// The defaults for a window (bits clamped to 8–15): a hash head as
    /// large as the window, and, for blocks of a useful size even with a
    /// small window, a window buffer of at least 8 KiB and at least 2,048
    /// symbols (half as many symbols as the window has bytes, from 12 bits
    /// on).
    pub const fn for_window_bits(window_bits: u8) -> Sizes {
        let bits = if window_bits < 8 {
            8
        } else if window_bits > 15 {
            15
        } else {
            window_bits
        };
        let symbols = 1 << (bits - 1);
        Sizes {
            window_bits: bits,
            buffer_bits: if bits + 1 < 13 { 13 } else { bits + 1 },
            hash_bits: bits,
            symbols: if symbols < 2048 { 2048 } else { symbols },
        }
    }

    /// Checks the ranges given in the fields' documentation.
    pub const fn check(&self) -> Result<(), SizeError> {
        if self.window_bits < 8 || self.window_bits > 15 {
            Err(SizeError::WindowBits)
        } else if self.buffer_bits < 10
            || self.buffer_bits > 16
            || self.buffer_bits <= self.window_bits
        {
            Err(SizeError::WindowBuffer)
        } else if self.hash_bits < 8 || self.hash_bits > 16 {
            Err(SizeError::HashHead)
        } else if self.symbols < MIN_SYMBOLS || self.symbols > MAX_SYMBOLS {
            Err(SizeError::SymbolBuffer)
        } else {
            Ok(())
        }
    }

    /// Bytes of the window buffer.
    pub const fn window_bytes(&self) -> usize {
        pow2(self.buffer_bits)
    }

    /// Entries (2 bytes each) of the hash head.
    pub const fn head_entries(&self) -> usize {
        pow2(self.hash_bits)
    }

    /// Entries (2 bytes each) of the chain: one per window position.
    pub const fn chain_entries(&self) -> usize {
        pow2(self.window_bits)
    }

    /// Bytes of the symbol buffer.
    pub const fn symbol_bytes(&self) -> usize {
        self.symbols.saturating_mul(SYMBOL_BYTES)
    }

    /// Bytes of all the storage (the engine, `size_of::<Deflater<_>>()`
    /// without the storage, comes on top).
    pub const fn storage_bytes(&self) -> usize {
        self.window_bytes()
            .saturating_add(2 * self.head_entries())
            .saturating_add(2 * self.chain_entries())
            .saturating_add(self.symbol_bytes())
    }
}

/// The fewest symbols a block may be given.
const MIN_SYMBOLS: usize = 64;
/// The most symbols a block may be given.
const MAX_SYMBOLS: usize = 1 << 20;

/// 2^bits for the small exponents of [`Sizes`] (0 when out of range: the
/// sizes then fail [`Sizes::check`]).
const fn pow2(bits: u8) -> usize {
    if bits < 32 {
        1 << bits
    } else {
        0
    }
}

/// Why a storage cannot serve a deflater.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeError {
    /// Window bits outside 8–15.
    WindowBits,
    /// The window buffer is not a power of two of 1 KiB–64 KiB, or smaller
    /// than twice the window.
    WindowBuffer,
    /// The hash head is not a power of two of 256–65,536 entries.
    HashHead,
    /// The chain is not a power of two of at least the window.
    Chain,
    /// The symbol buffer holds fewer than 64 symbols.
    SymbolBuffer,
}

impl core::fmt::Display for SizeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            SizeError::WindowBits => "deflate window bits must be 8 to 15",
            SizeError::WindowBuffer => "deflate window buffer has the wrong size",
            SizeError::HashHead => "deflate hash head has the wrong size",
            SizeError::Chain => "deflate hash chain has the wrong size",
            SizeError::SymbolBuffer => "deflate symbol buffer is too small",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SizeError {}

/// The lengths of the buffers a deflater was built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Shape {
    window: usize,
    head: usize,
    prev: usize,
    symbols: usize,
}

impl Shape {
    fn of(parts: &Parts<'_>) -> Shape {
        Shape {
            window: parts.window.len(),
            head: parts.head.len(),
            prev: parts.prev.len(),
            symbols: parts.symbols.len(),
        }
    }

    fn check(self, window_bits: u8) -> Result<Shape, SizeError> {
        if !(8..=15).contains(&window_bits) {
            return Err(SizeError::WindowBits);
        }
        let window = 1usize << window_bits;
        let pow2_in =
            |n: usize, lo: usize, hi: usize| n.is_power_of_two() && (lo..=hi).contains(&n);
        if !pow2_in(self.window, 1024.max(2 * window), 65_536) {
            return Err(SizeError::WindowBuffer);
        }
        if !pow2_in(self.head, 256, 65_536) {
            return Err(SizeError::HashHead);
        }
        if !pow2_in(self.prev, window, usize::MAX) {
            return Err(SizeError::Chain);
        }
        if self.symbols < MIN_SYMBOLS * SYMBOL_BYTES {
            return Err(SizeError::SymbolBuffer);
        }
        Ok(self)
    }
}

/// A block's Huffman codes, bit-reversed for the LSB-first stream, with
/// their lengths.
#[derive(Clone, Debug)]
struct Codes {
    litlen: [u16; LITLEN_SYMBOLS],
    litlen_len: [u8; LITLEN_SYMBOLS],
    distance: [u16; 32],
    distance_len: [u8; 32],
}

impl Codes {
    const fn new() -> Self {
        Codes {
            litlen: [0; LITLEN_SYMBOLS],
            litlen_len: [0; LITLEN_SYMBOLS],
            distance: [0; 32],
            distance_len: [0; 32],
        }
    }

    /// Sets the codes of the given lengths.
    fn assign(&mut self, litlen_len: &[u8; LITLEN_SYMBOLS], distance_len: &[u8; 32]) {
        self.litlen_len = *litlen_len;
        self.distance_len = *distance_len;
        assign_reversed(&self.litlen_len, &mut self.litlen);
        assign_reversed(&self.distance_len, &mut self.distance);
    }

    #[inline]
    fn litlen(&self, symbol: usize) -> (u32, u32) {
        let code = self.litlen.get(symbol).copied().unwrap_or(0);
        let len = self.litlen_len.get(symbol).copied().unwrap_or(0);
        (u32::from(code), u32::from(len))
    }

    #[inline]
    fn distance(&self, symbol: usize) -> (u32, u32) {
        let code = self.distance.get(symbol).copied().unwrap_or(0);
        let len = self.distance_len.get(symbol).copied().unwrap_or(0);
        (u32::from(code), u32::from(len))
    }
}

/// Canonical codes (§3.2.2) for `lengths`, reversed for sending.
fn assign_reversed(lengths: &[u8], codes: &mut [u16]) {
    // The builders only produce complete codes; the shape is not needed.
    let _ = canonical_codes(lengths, codes);
    for (code, &len) in codes.iter_mut().zip(lengths) {
        *code = reverse_bits(*code, u32::from(len));
    }
}

/// What a dynamic block sends before its data (§3.2.7).
#[derive(Clone, Debug)]
struct DynamicHeader {
    /// HLIT + 257 and HDIST + 1: literal/length and distance lengths sent.
    litlen_count: usize,
    distance_count: usize,
    /// HCLEN + 4: code-length code lengths sent, in CODE_LENGTH_ORDER.
    cl_count: usize,
    cl_len: [u8; CODE_LENGTH_SYMBOLS],
    cl_code: [u16; CODE_LENGTH_SYMBOLS],
    runs: [LengthRun; MAX_RUNS],
    run_count: usize,
}

impl DynamicHeader {
    const fn new() -> Self {
        DynamicHeader {
            litlen_count: 257,
            distance_count: 1,
            cl_count: 4,
            cl_len: [0; CODE_LENGTH_SYMBOLS],
            cl_code: [0; CODE_LENGTH_SYMBOLS],
            runs: [LengthRun {
                symbol: 0,
                extra: 0,
            }; MAX_RUNS],
            run_count: 0,
        }
    }

    /// Builds the header for the given code lengths; returns its size in
    /// bits.
    fn build(&mut self, litlen_len: &[u8; LITLEN_SYMBOLS], distance_len: &[u8; 32]) -> u64 {
        self.litlen_count = 257
            + litlen_len
                .iter()
                .take(286)
                .skip(257)
                .rposition(|&l| l != 0)
                .map_or(0, |i| i + 1);
        self.distance_count = distance_len
            .iter()
            .take(30)
            .rposition(|&l| l != 0)
            .map_or(1, |i| i + 1);
        let lengths = litlen_len
            .iter()
            .take(self.litlen_count)
            .chain(distance_len.iter().take(self.distance_count))
            .copied();
        self.run_count = run_length_code(lengths, &mut self.runs);
        let runs = self.runs.get(..self.run_count).unwrap_or_default();
        let freqs = run_frequencies(runs);
        build_lengths(&freqs, MAX_CODE_LENGTH_BITS as u8, &mut self.cl_len);
        assign_reversed(&self.cl_len, &mut self.cl_code);
        self.cl_count = code_length_count(&self.cl_len);
        let run_bits: u64 = runs
            .iter()
            .map(|r| {
                let len = self.cl_len.get(usize::from(r.symbol)).copied().unwrap_or(0);
                u64::from(len) + u64::from(r.extra_bits())
            })
            .sum();
        3 + 5 + 5 + 4 + 3 * self.cl_count as u64 + run_bits
    }

    /// Writes the header, block type included (the caller checked that
    /// [`LARGEST_PIECE`] bytes fit).
    fn write(&self, w: &mut BitWriter) {
        // BFINAL = 0, BTYPE = 10.
        w.put(0b100, 3);
        w.put((self.litlen_count - 257) as u32, 5);
        w.put((self.distance_count - 1) as u32, 5);
        w.put((self.cl_count - 4) as u32, 4);
        for &symbol in CODE_LENGTH_ORDER.iter().take(self.cl_count) {
            let len = self.cl_len.get(usize::from(symbol)).copied().unwrap_or(0);
            w.put(u32::from(len), 3);
        }
        for r in self.runs.iter().take(self.run_count) {
            let s = usize::from(r.symbol);
            let code = self.cl_code.get(s).copied().unwrap_or(0);
            let len = self.cl_len.get(s).copied().unwrap_or(0);
            w.put(u32::from(code), u32::from(len));
            if r.extra_bits() > 0 {
                w.put(u32::from(r.extra), r.extra_bits());
            }
        }
    }
}

/// The piece of output being written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Emit {
    /// Nothing: the matcher may run.
    Idle,
    /// A fixed or dynamic block's header is next.
    Header { dynamic: bool, count: usize },
    /// Symbols `next..count` of the buffer, then the end-of-block code.
    Symbols { next: usize, count: usize },
    /// A stored block's header for bytes `pos..end` of the window buffer
    /// (as many as fit in one stored block).
    StoredHeader { pos: usize, end: usize },
    /// The raw bytes `pos..chunk_end`, then the rest of `..end`.
    StoredBytes {
        pos: usize,
        chunk_end: usize,
        end: usize,
    },
}

/// Where a sync flush stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SyncFlush {
    /// None in progress.
    No,
    /// The last block is going out; the empty stored block comes next.
    Queued,
    /// The empty stored block is going out.
    Writing,
}

/// The longest stored block (§3.2.4: LEN is 16 bits).
const MAX_STORED: usize = 65_535;

/// The fixed literal/length code lengths (§3.2.6).
const FIXED_LITLEN: [u8; LITLEN_SYMBOLS] = fixed_litlen_lengths();

/// Everything but the storage.
#[derive(Clone, Debug)]
struct Engine {
    shape: Shape,
    level: Level,
    matcher: Matcher,
    tally: Tally,
    writer: BitWriter,
    emit: Emit,
    sync: SyncFlush,
    /// Where the current block's bytes start in the window buffer.
    block_start: usize,
    codes: Codes,
    header: DynamicHeader,
}

/// A streaming DEFLATE compressor over caller-provided storage `S`.
#[derive(Clone, Debug)]
pub struct Deflater<S> {
    storage: S,
    engine: Engine,
}

impl<S: Storage> Deflater<S> {
    /// A deflater that keeps its state in `storage`, with matches reaching
    /// back at most 2^`window_bits` bytes (8–15; RFC 7692's
    /// `*_max_window_bits` is the same number).
    pub fn new(mut storage: S, window_bits: u8, level: Level) -> Result<Self, SizeError> {
        let parts = storage.parts();
        let shape = Shape::of(&parts).check(window_bits)?;
        let matcher = Matcher::new(
            Params::for_level(level.get()),
            window_bits,
            shape.head,
            shape.prev,
        );
        Ok(Deflater {
            storage,
            engine: Engine {
                shape,
                level,
                block_start: matcher.strstart,
                matcher,
                tally: Tally::new(),
                writer: BitWriter::new(),
                emit: Emit::Idle,
                sync: SyncFlush::No,
                codes: Codes::new(),
                header: DynamicHeader::new(),
            },
        })
    }

    /// The level.
    pub fn level(&self) -> Level {
        self.engine.level
    }

    /// Changes the level from the next byte matched on.
    pub fn set_level(&mut self, level: Level) {
        self.engine.level = level;
        self.engine
            .matcher
            .set_params(Params::for_level(level.get()));
    }

    /// Compresses `input` into `output`. Streaming: `output` may be one
    /// byte long; the deflater keeps what did not fit and hands it out on
    /// the next calls, taking no more input while it holds a block.
    ///
    /// With [`Flush::Sync`], once all of `input` is consumed, everything
    /// buffered is written, then an empty non-final stored block (the
    /// output ends on a byte boundary with `00 00 ff ff`). Call again (with
    /// empty input and `Flush::Sync`) until `flushed` is true. Each flush
    /// that completes writes its own empty block, even when no data came
    /// before it.
    ///
    /// Always makes progress when `output` is not empty and there is work
    /// to do; never writes a final block.
    pub fn compress(&mut self, input: &[u8], output: &mut [u8], flush: Flush) -> Progress {
        let Deflater { storage, engine } = self;
        let parts = storage.parts();
        let mut progress = Progress {
            consumed: 0,
            produced: 0,
            flushed: false,
        };
        if Shape::of(&parts) != engine.shape {
            return progress;
        }
        let Parts {
            window,
            head,
            prev,
            symbols,
        } = parts;
        loop {
            let out = output.get_mut(progress.produced..).unwrap_or_default();
            progress.produced += engine.write_out(window, symbols, out);
            if engine.emit != Emit::Idle {
                break; // the output is full
            }
            if engine.sync == SyncFlush::Writing {
                if engine.writer.is_empty() {
                    engine.sync = SyncFlush::No;
                    progress.flushed = true;
                }
                break; // done, or the output is full
            }
            let rest = input.get(progress.consumed..).unwrap_or_default();
            progress.consumed += engine.matcher.fill(window, rest);
            let flushing = flush == Flush::Sync && progress.consumed == input.len();
            let stop = engine
                .matcher
                .run(window, head, prev, symbols, &mut engine.tally, flushing);
            if stop == Stop::BlockFull {
                engine.end_block();
                continue;
            }
            if progress.consumed < input.len() {
                // The buffer is full and the matcher needs what comes next:
                // move the upper half down, after writing out the block
                // whose bytes are in the lower half.
                let unit = engine.shape.window / 2;
                if engine.block_start < unit && engine.tally.covered > 0 {
                    engine.end_block();
                } else {
                    engine.matcher.slide(window, head, prev, unit);
                    engine.block_start = engine.block_start.saturating_sub(unit);
                }
                continue;
            }
            if flushing && engine.sync == SyncFlush::No {
                engine.end_block();
                engine.sync = SyncFlush::Queued;
                continue;
            }
            break;
        }
        progress
    }

    /// Forgets the history: the next data is compressed as if the stream
    /// started over (RFC 7692 §7.1.1, `*_no_context_takeover`). Costs a few
    /// assignments. Meant for a message boundary, after a sync flush; data
    /// still buffered is compressed without reference to what came before it.
    pub fn reset(&mut self) {
        self.engine.matcher.forget_history();
    }

    /// The storage, for reuse after the deflater is dropped.
    pub fn into_storage(self) -> S {
        self.storage
    }
}

#[cfg(feature = "std")]
impl Deflater<HeapStorage> {
    /// A deflater on the heap for window bits chosen at run time (8–15),
    /// with the sizes of [`Sizes::for_window_bits`].
    pub fn with_window_bits(window_bits: u8, level: Level) -> Result<Self, SizeError> {
        if !(8..=15).contains(&window_bits) {
            return Err(SizeError::WindowBits);
        }
        Self::with_sizes(Sizes::for_window_bits(window_bits), level)
    }

    /// A deflater on the heap with the given sizes.
    pub fn with_sizes(sizes: Sizes, level: Level) -> Result<Self, SizeError> {
        Deflater::new(HeapStorage::new(sizes)?, sizes.window_bits, level)
    }
}

impl Engine {
    /// Closes the current block: picks its cheapest coding and starts
    /// writing it. Does nothing for an empty block.
    fn end_block(&mut self) {
        let covered = self.tally.covered;
        if covered == 0 {
            return;
        }
        let start = self.block_start;
        self.block_start += covered;
        let count = self.tally.count;
        let stored = self.stored_bits(covered);
        if self.level == Level::STORE || count == 0 {
            self.emit = Emit::StoredHeader {
                pos: start,
                end: start + covered,
            };
            self.tally.clear();
            return;
        }
        if let Some(eob) = self.tally.litlen.get_mut(usize::from(END_OF_BLOCK)) {
            *eob = 1;
        }
        // Bits the two compressed codings have in common: extra bits.
        let extra: u64 = self
            .tally
            .litlen
            .iter()
            .skip(257)
            .zip(LENGTH_EXTRA)
            .chain(self.tally.distance.iter().zip(DISTANCE_EXTRA))
            .map(|(&f, e)| u64::from(f) * u64::from(e))
            .sum();
        let fixed = 3
            + extra
            + cost(&self.tally.litlen, &FIXED_LITLEN)
            + cost(&self.tally.distance, &[5; 30]);
        let mut litlen_len = [0u8; LITLEN_SYMBOLS];
        let mut distance_len = [0u8; 32];
        build_lengths(&self.tally.litlen, MAX_CODE_BITS as u8, &mut litlen_len);
        build_lengths(&self.tally.distance, MAX_CODE_BITS as u8, &mut distance_len);
        let dynamic = self.header.build(&litlen_len, &distance_len)
            + extra
            + cost(&self.tally.litlen, &litlen_len)
            + cost(&self.tally.distance, &distance_len);
        self.tally.clear();
        if stored <= fixed.min(dynamic) {
            self.emit = Emit::StoredHeader {
                pos: start,
                end: start + covered,
            };
        } else if fixed <= dynamic {
            self.codes.assign(&FIXED_LITLEN, &[5; 32]);
            self.emit = Emit::Header {
                dynamic: false,
                count,
            };
        } else {
            self.codes.assign(&litlen_len, &distance_len);
            self.emit = Emit::Header {
                dynamic: true,
                count,
            };
        }
    }

    /// The bits of `len` bytes as stored blocks, starting where the stream
    /// is now.
    fn stored_bits(&self, len: usize) -> u64 {
        let blocks = len.div_ceil(MAX_STORED).max(1) as u64;
        // The first header's padding depends on the current bit position;
        // later ones start on a byte boundary (3 bits + 5 of padding).
        let offset = u64::from(self.writer.bit_offset());
        let first_pad = (8 - (offset + 3) % 8) % 8;
        (3 + first_pad + 32) + (blocks - 1) * (8 + 32) + 8 * len as u64
    }

    /// Writes as much of the current piece as fits, handing pending bytes
    /// to `out`; returns the bytes written to `out`.
    fn write_out(&mut self, window: &[u8], symbols: &[u8], out: &mut [u8]) -> usize {
        let mut produced = 0;
        loop {
            let rest = out.get_mut(produced..).unwrap_or_default();
            produced += self.writer.drain(rest);
            match self.emit {
                Emit::Idle => {
                    if self.sync != SyncFlush::Queued {
                        return produced;
                    }
                    // The empty stored block of the sync flush.
                    self.sync = SyncFlush::Writing;
                    self.emit = Emit::StoredHeader { pos: 0, end: 0 };
                }
                Emit::Header { dynamic, count } => {
                    if self.writer.room() < LARGEST_PIECE {
                        return produced;
                    }
                    if dynamic {
                        self.header.write(&mut self.writer);
                    } else {
                        // BFINAL = 0, BTYPE = 01.
                        self.writer.put(0b010, 3);
                    }
                    self.emit = Emit::Symbols { next: 0, count };
                }
                Emit::Symbols { next, count } => {
                    let next = self.write_symbols(symbols, next, count);
                    if next == count && self.writer.room() >= MAX_SYMBOL_BYTES {
                        let (code, len) = self.codes.litlen(usize::from(END_OF_BLOCK));
                        self.writer.put(code, len);
                        self.emit = Emit::Idle;
                        continue;
                    }
                    self.emit = Emit::Symbols { next, count };
                    // The pending buffer is full: drain it, unless the
                    // output is full too.
                    if produced == out.len() {
                        return produced;
                    }
                }
                Emit::StoredHeader { pos, end } => {
                    if self.writer.room() < 8 {
                        return produced;
                    }
                    let len = (end - pos).min(MAX_STORED);
                    // BFINAL = 0, BTYPE = 00, then LEN and NLEN on a byte
                    // boundary.
                    self.writer.put(0b000, 3);
                    self.writer.align();
                    self.writer.put(len as u32, 16);
                    self.writer.put(!(len as u32) & 0xFFFF, 16);
                    self.emit = Emit::StoredBytes {
                        pos,
                        chunk_end: pos + len,
                        end,
                    };
                }
                Emit::StoredBytes {
                    pos,
                    chunk_end,
                    end,
                } => {
                    if !self.writer.is_empty() {
                        return produced; // the output is full
                    }
                    let rest = out.get_mut(produced..).unwrap_or_default();
                    let raw = window.get(pos..chunk_end).unwrap_or_default();
                    let n = raw.len().min(rest.len());
                    if let (Some(dst), Some(src)) = (rest.get_mut(..n), raw.get(..n)) {
                        dst.copy_from_slice(src);
                    }
                    produced += n;
                    let pos = pos + n;
                    self.emit = if pos < chunk_end {
                        Emit::StoredBytes {
                            pos,
                            chunk_end,
                            end,
                        }
                    } else if pos < end {
                        Emit::StoredHeader { pos, end }
                    } else {
                        Emit::Idle
                    };
                    if pos < chunk_end {
                        return produced;
                    }
                }
            }
        }
    }

    /// Codes symbols `next..count` while the pending buffer has room;
    /// returns the next symbol not written.
    #[inline]
    fn write_symbols(&mut self, symbols: &[u8], mut next: usize, count: usize) -> usize {
        let codes = &self.codes;
        let w = &mut self.writer;
        let from = next * SYMBOL_BYTES;
        let to = count * SYMBOL_BYTES;
        let Some(todo) = symbols.get(from..to) else {
            return count;
        };
        for entry in todo.chunks_exact(SYMBOL_BYTES) {
            if w.room() < MAX_SYMBOL_BYTES {
                break;
            }
            let bytes = [
                entry.first().copied().unwrap_or(0),
                entry.get(1).copied().unwrap_or(0),
                entry.get(2).copied().unwrap_or(0),
            ];
            match decode_symbol(bytes) {
                Symbol::Literal(b) => {
                    let (code, len) = codes.litlen(usize::from(b));
                    w.put(code, len);
                }
                Symbol::Match { len, dist } => {
                    let s = length_symbol(len);
                    let (code, bits) = codes.litlen(257 + s);
                    let extra = u32::from(LENGTH_EXTRA.get(s).copied().unwrap_or(0));
                    let base = usize::from(LENGTH_BASE.get(s).copied().unwrap_or(3));
                    w.put(code | ((len - base) as u32) << bits, bits + extra);
                    let d = distance_symbol(dist);
                    let (code, bits) = codes.distance(d);
                    let extra = u32::from(DISTANCE_EXTRA.get(d).copied().unwrap_or(0));
                    let base = usize::from(DISTANCE_BASE.get(d).copied().unwrap_or(1));
                    w.put(code | ((dist - base) as u32) << bits, bits + extra);
                }
            }
            next += 1;
        }
        next
    }
}

/// The most bytes one symbol adds to the pending buffer (48 bits, plus a
/// word the accumulator may spill).
const MAX_SYMBOL_BYTES: usize = 16;

/// Σ count × code length.
fn cost(freqs: &[u32], lengths: &[u8]) -> u64 {
    freqs
        .iter()
        .zip(lengths)
        .map(|(&f, &l)| u64::from(f) * u64::from(l))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deflater() -> Deflater<Window512> {
        Deflater::new(Window512::new(), 9, Level::DEFAULT).unwrap()
    }

    fn compress_all<S: Storage>(d: &mut Deflater<S>, input: &[u8], out_chunk: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; out_chunk];
        let mut rest = input;
        loop {
            let p = d.compress(rest, &mut buf, Flush::Sync);
            assert!(p.produced <= buf.len());
            out.extend_from_slice(&buf[..p.produced]);
            rest = &rest[p.consumed..];
            if p.flushed {
                assert!(rest.is_empty());
                return out;
            }
            assert!(p.produced > 0 || p.consumed > 0, "no progress");
        }
    }

    #[test]
    fn hello_is_the_rfc_7692_fixed_block() {
        let mut d = deflater();
        // RFC 7692 §7.2.3.1, before the tail 00 00 ff ff is removed.
        assert_eq!(
            compress_all(&mut d, b"Hello", 64),
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff]
        );
        // One byte of output at a time gives the same bytes.
        let mut d = deflater();
        assert_eq!(compress_all(&mut d, b"Hello", 1).len(), 11);
    }

    #[test]
    fn an_empty_sync_flush_is_the_empty_stored_block() {
        // From a byte boundary: one byte of block header and padding (the
        // 0x00 of RFC 7692 §7.2.3.6), then LEN = 0 and NLEN. zlib writes
        // the same five bytes.
        let mut d = deflater();
        assert_eq!(compress_all(&mut d, b"", 16), [0, 0, 0, 0xff, 0xff]);
    }

    #[test]
    fn sizes_are_checked() {
        let e = Deflater::new(ArrayStorage::<1024, 256, 256, 768>::new(), 9, Level::FAST);
        assert_eq!(e.err(), Some(SizeError::Chain));
        let e = Deflater::new(ArrayStorage::<1024, 256, 512, 768>::new(), 10, Level::FAST);
        assert_eq!(e.err(), Some(SizeError::WindowBuffer));
        let e = Deflater::new(ArrayStorage::<1024, 100, 512, 768>::new(), 9, Level::FAST);
        assert_eq!(e.err(), Some(SizeError::HashHead));
        let e = Deflater::new(ArrayStorage::<1024, 256, 512, 30>::new(), 9, Level::FAST);
        assert_eq!(e.err(), Some(SizeError::SymbolBuffer));
        assert!(Deflater::with_window_bits(16, Level::FAST).is_err());
        let silly = Sizes {
            window_bits: 12,
            buffer_bits: 200,
            hash_bits: 12,
            symbols: usize::MAX,
        };
        assert_eq!(silly.check(), Err(SizeError::WindowBuffer));
        assert_eq!(silly.storage_bytes(), usize::MAX);
        let e = Deflater::with_sizes(
            Sizes {
                buffer_bits: 13,
                ..silly
            },
            Level::FAST,
        );
        assert_eq!(e.err(), Some(SizeError::SymbolBuffer));
        assert_eq!(Level::new(12), Level::BEST);
    }

    #[test]
    fn the_memory_table_adds_up() {
        assert_eq!(
            Sizes::for_window_bits(9).storage_bytes(),
            8192 + 1024 + 1024 + 6144
        );
        assert_eq!(Sizes::for_window_bits(12).storage_bytes(), 8192 * 3 + 6144);
        assert_eq!(
            Sizes::for_window_bits(15).storage_bytes(),
            65_536 * 3 + 49_152
        );
        assert!(core::mem::size_of::<Engine>() < 4096);
    }
}
