//! The connection: frames in, events out; messages in, frames out
//! (RFC 6455 §5.4 fragmentation, §5.5 control frames, §6 data, §7 closing).
//!
//! [`Connection`] is the whole protocol after the handshake, with no I/O of
//! its own ("sans-I/O"). The caller reads bytes from wherever it likes (a
//! `TcpStream`, smoltcp, lwIP) and hands them to [`Connection::receive`],
//! which answers with the number of bytes it used and at most one [`Event`].
//! To send, the caller asks the connection to encode a frame header (and to
//! mask the payload, for a client), then writes the bytes out itself.
//!
//! What a reader learns here, rule by rule:
//!
//! * **Masking by role** (§5.1): a server fails the connection on an
//!   unmasked frame, a client on a masked one.
//! * **Reserved bits** (§5.2): RSV1–3 set without a negotiated extension is
//!   a protocol error.
//! * **Fragmentation** (§5.4): a message is one text or binary frame
//!   followed by zero or more continuation frames, the last with FIN set. A
//!   continuation with no message started, or a new message before the last
//!   one ended, is a protocol error. Control frames may come in between.
//! * **Control frames** (§5.5): at most 125 bytes, never fragmented. A ping
//!   is answered by a pong with the same payload (§5.5.2); if several pings
//!   arrive before the answer goes out, answering the latest is enough
//!   (§5.5.3). That automatic pong is kept apart from pongs the application
//!   sends itself.
//! * **Text is UTF-8** (§8.1), checked as it streams in and failed at the
//!   first impossible byte, even across frames.
//! * **Limits** (§10.4): the frame and message limits are checked the moment
//!   a frame's length field has been read — before its masking key, and
//!   before one byte of the payload is kept.
//! * **The closing handshake** (§7, §5.5.1): one side sends Close, the other
//!   answers with Close, and then the TCP connection ends, the server's side
//!   first. The states are [`State::Open`], [`State::CloseSent`],
//!   [`State::CloseReceived`] and [`State::Closed`]; after sending Close, no
//!   more data may be sent.
//! * **Failing the connection** (§7.1.7): on any violation the connection
//!   queues a Close frame with the matching code (1002, 1007, 1009) and
//!   stops reading; the caller sends it ([`Connection::take_pending`]), then
//!   ends TCP at once.
//! * **The end of TCP** (§7.1.1): [`Connection::end_of_tcp`] says when, and
//!   how: [`EndOfTcp::Now`] for a server after the handshake and for either
//!   side after a failure, [`EndOfTcp::AfterPeer`] for a client after the
//!   handshake.
//!
//! The whole account of closing, with why the server ends TCP first, is
//! step 4 of the [crate's tour](crate#step-4-closing-rfc-6455-7); this
//! module and [`shared`] carry it out.
//!
//! Receiving is zero-copy: payload is unmasked in place in the caller's
//! buffer, and a data [`Event`] borrows it. The connection keeps only a few
//! hundred bytes of its own (a partial header, a control payload, the
//! pending pong and close).
//!
//! ## Two halves
//!
//! WebSocket is full duplex: reading and writing go on independently, and a
//! program with blocking I/O does them on two threads. So the connection is
//! made of two halves, each in a module of its own, that share only a few
//! bytes of plain state:
//!
//! ```text
//!   bytes from the peer ──► Receiver ──► events (data, ping, pong, close)
//!                              │ owes a pong / a Close,
//!                              ▼ notes the peer's Close
//!                           Shared  (closing handshake, owed frames, end of TCP)
//!                              ▲ takes what is owed,
//!                              │ notes our Close
//!   messages, our Close ──► Sender ──► frame bytes to the peer
//! ```
//!
//! * [`receiver`]: frame parsing, unmasking, UTF-8, limits, fragments, the
//!   peer's Close;
//! * [`sender`]: encoding, masking, the fragmented message being sent, our
//!   Close;
//! * [`shared`]: what one half tells the other, and when TCP may end.
//!
//! [`Connection`] is the three put together, for callers that drive both
//! directions from one place; its methods are the halves' methods.

pub mod receiver;
pub mod sender;
pub mod shared;

pub use receiver::Receiver;
pub use sender::Sender;
pub use shared::{EndOfTcp, Shared};

use crate::close::{CloseCode, CloseFrame};
use crate::error::Result;
use crate::frame::{self, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
use crate::random::RandomSource;

/// Which end of the connection this is. It decides who masks (§5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Sent the opening handshake; masks every frame it sends.
    Client,
    /// Answered the opening handshake; never masks.
    Server,
}

/// Where the closing handshake stands (§7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Messages flow both ways.
    Open,
    /// We sent Close and wait for the peer's. We may still receive data.
    CloseSent,
    /// The peer sent Close. We should answer with Close; until we do, we may
    /// still send (for instance the rest of a message).
    CloseReceived,
    /// Both Close frames have been exchanged, or the connection was failed.
    /// Only a queued Close frame may still be taken and sent.
    Closed,
}

/// The kind of a data message (§5.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataKind {
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Binary,
}

impl DataKind {
    const fn opcode(self) -> OpCode {
        match self {
            DataKind::Text => OpCode::Text,
            DataKind::Binary => OpCode::Binary,
        }
    }
}

/// Limits that protect the receiver (§10.4). Both are checked as soon as a
/// frame's length field has been read, before its masking key and payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest frame payload accepted. Default 16 MiB.
    pub max_frame_size: u64,
    /// The largest message accepted, all its frames together. Default 64 MiB.
    pub max_message_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
        }
    }
}

impl Limits {
    /// Sets the largest frame payload accepted.
    pub const fn max_frame_size(mut self, bytes: u64) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Sets the largest message accepted.
    pub const fn max_message_size(mut self, bytes: u64) -> Self {
        self.max_message_size = bytes;
        self
    }
}

/// Something the peer said.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A piece of a text or binary message, unmasked, in the caller's buffer.
    /// The piece is always the last `bytes.len()` bytes of those consumed.
    ///
    /// Pieces come in order; `fin` marks the last piece of the message. A
    /// piece of a text message may end in the middle of a character (the
    /// message as a whole is checked). An empty message yields one empty
    /// piece with `fin` set.
    Data {
        /// Text or binary, the same for every piece of a message.
        kind: DataKind,
        /// The bytes.
        bytes: &'a [u8],
        /// Whether this is the last piece of the message.
        fin: bool,
        /// Whether the message is compressed (permessage-deflate, RFC 7692
        /// §6: RSV1 on its first frame). Its pieces are then DEFLATE data,
        /// to be inflated (see [`crate::permessage_deflate`]), and a text
        /// message's UTF-8 and the size limits are checked on the inflated
        /// bytes. Always false unless compression was negotiated.
        compressed: bool,
    },
    /// A ping with its payload. A pong answer is queued automatically
    /// (see [`Connection::take_pending`]).
    Ping(&'a [u8]),
    /// A pong with its payload.
    Pong(&'a [u8]),
    /// The peer's Close frame, with its code and reason if it had one.
    /// When we had not sent Close yet, an answer is queued.
    Close(Option<CloseFrame<'a>>),
}

/// What [`Connection::receive`] did with the bytes it was given.
#[derive(Debug, PartialEq, Eq)]
pub struct Received<'a> {
    /// How many bytes from the start of the buffer were used. The caller
    /// passes the rest (and whatever it reads next) to the next call.
    pub consumed: usize,
    /// The event those bytes completed, if any.
    pub event: Option<Event<'a>>,
}

/// An encoded frame header for a data frame, plus the key its payload must be
/// masked with (client role).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataHeader {
    bytes: [u8; MAX_HEADER_LEN],
    len: u8,
    mask: Option<[u8; 4]>,
}

impl DataHeader {
    /// The header's bytes, to be written before the payload.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The masking key, when the payload must be masked (client role).
    pub fn mask(&self) -> Option<[u8; 4]> {
        self.mask
    }

    /// Masks a piece of the payload in place, if this frame is masked.
    /// `offset` is the piece's position in the payload; the return value is
    /// the offset of the next piece.
    pub fn mask_payload(&self, piece: &mut [u8], offset: usize) -> usize {
        match self.mask {
            Some(key) => frame::apply_mask(piece, key, offset),
            None => offset + piece.len(),
        }
    }
}

/// A complete control frame (close, ping or pong), header and masked payload,
/// ready to be written as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlFrame {
    bytes: [u8; 6 + MAX_CONTROL_PAYLOAD],
    len: u8,
}

impl ControlFrame {
    /// The frame's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// Which control frame this is.
    pub fn opcode(&self) -> OpCode {
        // Built by this module from one of the three control opcodes.
        match self.bytes[0] & frame::OPCODE {
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            _ => OpCode::Pong,
        }
    }
}

/// The frame whose payload is being received.
#[derive(Clone, Copy, Debug)]
struct IncomingFrame {
    opcode: OpCode,
    fin: bool,
    mask: Option<[u8; 4]>,
    /// Payload bytes still to come.
    remaining: u64,
    /// Payload bytes seen so far (for the mask position).
    seen: usize,
}

/// A small fixed buffer for a control payload (at most 125 bytes).
#[derive(Clone, Copy, Debug)]
struct ControlPayload {
    bytes: [u8; MAX_CONTROL_PAYLOAD],
    len: u8,
}

impl ControlPayload {
    const EMPTY: ControlPayload = ControlPayload {
        bytes: [0; MAX_CONTROL_PAYLOAD],
        len: 0,
    };

    fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// Appends `bytes`, which the caller has checked fit.
    fn push(&mut self, bytes: &[u8]) {
        let at = usize::from(self.len);
        if let Some(dest) = self.bytes.get_mut(at..at + bytes.len()) {
            dest.copy_from_slice(bytes);
            self.len += bytes.len() as u8;
        }
    }
}

/// One WebSocket connection after the handshake, in either role, with no
/// I/O of its own: the [`Receiver`] and the [`Sender`] put together with
/// their [`Shared`] state, for a program that drives both directions from
/// one place (a microcontroller's main loop, a fuzzer). A program that reads
/// on one thread and writes on another uses the halves on their own
/// ([`into_parts`](Self::into_parts)). See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct Connection {
    receiver: Receiver,
    sender: Sender,
    shared: Shared,
}

impl Connection {
    /// A new connection, open, just after the handshake.
    pub const fn new(role: Role, limits: Limits) -> Self {
        Connection {
            receiver: Receiver::new(role, limits),
            sender: Sender::new(role),
            shared: Shared::new(),
        }
    }

    /// The two halves and their shared state, to be used apart.
    pub fn into_parts(self) -> (Receiver, Sender, Shared) {
        (self.receiver, self.sender, self.shared)
    }

    /// The connection made of two halves and their shared state.
    pub const fn from_parts(receiver: Receiver, sender: Sender, shared: Shared) -> Self {
        Connection {
            receiver,
            sender,
            shared,
        }
    }

    /// Which end this is.
    pub const fn role(&self) -> Role {
        self.sender.role()
    }

    /// The receive limits.
    pub const fn limits(&self) -> Limits {
        self.receiver.limits()
    }

    /// Changes the receive limits. They apply from the next frame header.
    pub fn set_limits(&mut self, limits: Limits) {
        self.receiver.set_limits(limits);
    }

    /// Where the closing handshake stands.
    pub const fn state(&self) -> State {
        self.shared.state()
    }

    /// Whether the connection is over and nothing is left to send: the
    /// caller may close the TCP connection, in the order
    /// [`end_of_tcp`](Self::end_of_tcp) gives.
    pub const fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// What to do with the TCP connection now (§7.1.1): see [`EndOfTcp`].
    pub const fn end_of_tcp(&self) -> EndOfTcp {
        self.shared.end_of_tcp(self.sender.role())
    }

    /// Whether an outgoing message was started in fragments and not finished
    /// (§5.4): until it is, the next data frame must continue it.
    pub const fn is_sending_fragments(&self) -> bool {
        self.sender.is_sending_fragments()
    }

    /// Whether a control frame (automatic pong or Close) waits to be sent.
    pub const fn has_pending(&self) -> bool {
        self.shared.has_pending()
    }

    /// Feeds bytes received from the peer: see [`Receiver::receive`]. What
    /// the peer is owed in return comes out of
    /// [`take_pending`](Self::take_pending).
    pub fn receive<'a>(&'a mut self, buf: &'a mut [u8]) -> Result<Received<'a>> {
        self.receiver.receive(&mut self.shared, buf)
    }

    /// The next control frame the connection itself needs sent: see
    /// [`Sender::take_pending`]. Call until it returns `None`.
    pub fn take_pending<R: RandomSource + ?Sized>(&mut self, rng: &mut R) -> Option<ControlFrame> {
        self.sender.take_pending(&mut self.shared, rng)
    }

    /// Only the pending automatic pong, if any, leaving a pending Close in
    /// place (for a caller about to send its own Close instead of the echo).
    pub fn take_pending_pong<R: RandomSource + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Option<ControlFrame> {
        self.sender.take_pending_pong(&mut self.shared, rng)
    }

    /// Encodes the header of a data frame with a payload of `len` bytes.
    ///
    /// With `fin == false`, the message continues in later frames: call again
    /// with the same `kind` for each of them (they are sent as continuation
    /// frames, §5.4) and `fin == true` for the last; a different `kind` while
    /// a message is unfinished is refused with
    /// [`Error::MessageInProgress`](crate::Error::MessageInProgress). (The
    /// [`Sender`] says which it wants outright:
    /// [`start_message`](Sender::start_message) and
    /// [`continue_message`](Sender::continue_message).) The caller then
    /// writes the header and the payload, masked with
    /// [`DataHeader::mask_payload`] (a no-op for a server).
    pub fn encode_data<R: RandomSource + ?Sized>(
        &mut self,
        kind: DataKind,
        fin: bool,
        len: u64,
        rng: &mut R,
    ) -> Result<DataHeader> {
        match self.sender.outgoing_kind() {
            Some(k) if k == kind => self.sender.continue_message(&self.shared, fin, len, rng),
            _ => self.sender.start_message(&self.shared, kind, fin, len, rng),
        }
    }

    /// Encodes a ping (at most 125 bytes of payload).
    pub fn encode_ping<R: RandomSource + ?Sized>(
        &mut self,
        payload: &[u8],
        rng: &mut R,
    ) -> Result<ControlFrame> {
        self.sender.encode_ping(&self.shared, payload, rng)
    }

    /// Encodes a pong (at most 125 bytes of payload): an unsolicited
    /// heartbeat (§5.5.3). It does not replace the automatic answer to a
    /// ping, which [`take_pending`](Self::take_pending) still returns.
    pub fn encode_pong<R: RandomSource + ?Sized>(
        &mut self,
        payload: &[u8],
        rng: &mut R,
    ) -> Result<ControlFrame> {
        self.sender.encode_pong(&self.shared, payload, rng)
    }

    /// Encodes a Close frame with a code and reason (§5.5.1, §7.4) and moves
    /// the closing handshake on. After it, no more data may be sent.
    ///
    /// If the peer's Close arrived first, this frame is the answer (it takes
    /// the place of the queued echo) and the connection is then closed.
    pub fn encode_close<R: RandomSource + ?Sized>(
        &mut self,
        code: CloseCode,
        reason: &str,
        rng: &mut R,
    ) -> Result<ControlFrame> {
        self.sender
            .encode_close(&mut self.shared, code, reason, rng)
    }
}
