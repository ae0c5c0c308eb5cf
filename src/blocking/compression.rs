//! permessage-deflate over a blocking connection (RFC 7692): the core's
//! per-message inflater and deflater, with their state on the heap only
//! while it is needed.
//!
//! The core ([`crate::permessage_deflate::message`]) does the protocol: the
//! tail, the window, the limits on inflated bytes. This module decides
//! where the state lives:
//!
//! * **nothing until the first compressed message**: a connection that
//!   negotiated compression and never uses it holds no window;
//! * **nothing between messages without context takeover**: when the
//!   window is forgotten after each message anyway, its memory is given
//!   back too, so an idle connection holds none;
//! * **the window alone between messages with context takeover**, sized by
//!   what was agreed (2^bits bytes), never more.

use std::boxed::Box;
use std::ops::Range;
use std::vec;
use std::vec::Vec;

use super::sending::Piece;
use crate::deflate::deflate::{Deflater, HeapStorage, Level};
use crate::error::{Error, Result};
use crate::permessage_deflate::message::{Inflated, MessageDeflater, MessageInflater};
use crate::permessage_deflate::negotiation::Direction;
use crate::protocol::{DataKind, Limits};

/// How many inflated bytes one step hands out at most: the buffer they are
/// inflated into, allocated while a compressed message is arriving.
const INFLATE_CHUNK: usize = 16 << 10;

/// A compressed piece that has arrived and is not yet all inflated.
#[derive(Clone, Debug)]
pub(crate) struct CompressedPiece {
    pub(crate) kind: DataKind,
    /// Where its unused bytes are, in the read buffer.
    pub(crate) range: Range<usize>,
    /// Whether it ends the message.
    pub(crate) fin: bool,
}

/// The receiving side: inflates the peer's compressed messages.
pub(crate) struct Inflating {
    peer: Direction,
    limits: Limits,
    state: Option<Box<MessageInflater<Box<[u8]>>>>,
    /// The piece being inflated, if any.
    pub(crate) piece: Option<CompressedPiece>,
    /// Where inflated bytes go; handed out as a piece.
    pub(crate) out: Vec<u8>,
}

impl Inflating {
    /// The receiving side of a connection whose peer compresses as `peer`
    /// says, with the connection's limits.
    pub(crate) fn new(peer: Direction, limits: Limits) -> Self {
        Inflating {
            peer,
            limits,
            state: None,
            piece: None,
            out: Vec::new(),
        }
    }

    /// A new frame of a compressed message begins.
    pub(crate) fn begin_frame(&mut self) {
        if let Some(state) = &mut self.state {
            state.begin_frame();
        }
    }

    /// Inflates from `input` (the piece's unused bytes) into `out`, making
    /// the state on first use.
    pub(crate) fn inflate(&mut self, kind: DataKind, input: &[u8], fin: bool) -> Result<Inflated> {
        let (peer, limits) = (self.peer, self.limits);
        let state = self.state.get_or_insert_with(|| {
            let window = vec![0u8; 1 << peer.window_bits.clamp(8, 15)].into_boxed_slice();
            Box::new(MessageInflater::new(
                window,
                peer.no_context_takeover,
                limits,
            ))
        });
        if self.out.len() < INFLATE_CHUNK {
            self.out.resize(INFLATE_CHUNK, 0);
        }
        let inflated = state.inflate(kind, input, fin, &mut self.out)?;
        if inflated.done && self.peer.no_context_takeover {
            // The window is forgotten after every message: give it back.
            self.state = None;
        }
        Ok(inflated)
    }

    /// The message is over and its bytes were handed on: an idle
    /// connection keeps no inflate buffer.
    pub(crate) fn release_output(&mut self) {
        self.out = Vec::new();
    }
}

/// The most compressed bytes one frame carries; a larger compressed
/// message goes out in fragments of this size (RFC 7692 §6.1).
const FRAME_CHUNK: usize = 16 << 10;

/// The sending side: compresses our messages.
pub(crate) struct Deflating {
    ours: Direction,
    level: Level,
    threshold: usize,
    state: Option<Box<MessageDeflater<HeapStorage>>>,
    /// The compressed message in progress: its kind, and whether its first
    /// frame went out.
    message: Option<(DataKind, bool)>,
}

impl Deflating {
    /// The sending side of a connection where we compress as `ours` says,
    /// at `settings`' level, leaving messages below its threshold alone.
    pub(crate) fn new(ours: Direction, settings: &super::Compression) -> Self {
        Deflating {
            ours,
            level: Level::new(settings.level.min(9)),
            threshold: settings.threshold,
            state: None,
            message: None,
        }
    }

    /// Whether this frame of the application's is compressed, and then the
    /// kind of its message: a whole message at or above the threshold, a
    /// streamed one always (its length is not known), and every later
    /// piece of a compressed message.
    pub(crate) fn compresses(&self, piece: Piece, fin: bool, len: usize) -> Option<DataKind> {
        match piece {
            Piece::Start(kind) if !fin || len >= self.threshold => Some(kind),
            Piece::Start(_) => None,
            Piece::Continue | Piece::StartCompressed(_) => self.message.map(|(kind, _)| kind),
        }
    }

    /// Refuses to start a message while a compressed one is unfinished,
    /// with the error the core gives once a frame of it went out
    /// ([`Error::MessageInProgress`], RFC 6455 §5.4): before its first
    /// frame, the unfinished message's first bytes may still wait in the
    /// compressor, and would go out at the head of the new message. (A
    /// streamed text that ends inside a character is left unfinished so.)
    pub(crate) fn check_start(&self, piece: Piece) -> Result<()> {
        match piece {
            Piece::Start(_) if self.message.is_some() => Err(Error::MessageInProgress),
            _ => Ok(()),
        }
    }

    /// What our compressed messages depend on besides their data, when
    /// nothing else: the window size and the level. Without context
    /// takeover every message starts from an empty window (RFC 7692
    /// §7.1.1), so a message compresses to the same bytes on every
    /// connection with these two, and one compression can serve them all
    /// (a [`PreparedMessage`](super::PreparedMessage)). `None` with
    /// context takeover: the window carries this connection's earlier
    /// messages.
    pub(crate) fn shared_encoding(&self) -> Option<(u8, Level)> {
        self.ours
            .no_context_takeover
            .then(|| (self.ours.window_bits.clamp(8, 15), self.level))
    }

    /// Compresses `input` (with `fin`: the end of the message) into a new
    /// frame's payload, sized for `expected` bytes of data (the whole
    /// piece the application gave). Returns the bytes used, whether all
    /// were used (and, with `fin`, the message is complete), and the
    /// payload.
    pub(crate) fn compress(
        &mut self,
        input: &[u8],
        fin: bool,
        kind: DataKind,
        expected: usize,
    ) -> Result<(usize, bool, Vec<u8>)> {
        let state = match &mut self.state {
            Some(state) => state,
            empty => {
                let bits = self.ours.window_bits.clamp(8, 15);
                let deflater = Deflater::with_window_bits(bits, self.level)
                    .map_err(|_| Error::InvalidInput("no deflater for this window size"))?;
                empty.insert(Box::new(MessageDeflater::new(
                    deflater,
                    self.ours.no_context_takeover,
                )))
            }
        };
        self.message.get_or_insert((kind, false));
        // Room for the data and what compression can add to it (stored
        // blocks' headers), within one frame's worth: sized by the whole
        // piece, since the compressor may hold most of it when the input
        // is used up.
        let size = expected.saturating_add(64).clamp(256, FRAME_CHUNK);
        let mut frame = vec![0u8; size];
        let compressed = state.compress(input, fin, &mut frame)?;
        frame.truncate(compressed.produced);
        Ok((compressed.consumed, compressed.done, frame))
    }

    /// The frame a compressed payload goes in: the first of its message
    /// (RSV1), or a continuation.
    pub(crate) fn next_piece(&mut self, kind: DataKind) -> Piece {
        match &mut self.message {
            Some((_, sent)) if *sent => Piece::Continue,
            Some((_, sent)) => {
                *sent = true;
                Piece::StartCompressed(kind)
            }
            None => {
                self.message = Some((kind, true));
                Piece::StartCompressed(kind)
            }
        }
    }

    /// The compressed message's last frame went out. Without context
    /// takeover, the compressor's memory is given back until the next one.
    pub(crate) fn end_message(&mut self) {
        self.message = None;
        if self.ours.no_context_takeover {
            self.state = None;
        }
    }
}
