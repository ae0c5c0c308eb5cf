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
//! * **Limits** (§10.4): the frame and message limits are checked from the
//!   frame header, before one byte of the payload is kept.
//! * **The closing handshake** (§7, §5.5.1): one side sends Close, the other
//!   answers with Close, and then the TCP connection ends. The states are
//!   [`State::Open`], [`State::CloseSent`], [`State::CloseReceived`] and
//!   [`State::Closed`]; after sending Close, no more data may be sent.
//! * **Failing the connection** (§7.1.7): on any violation the connection
//!   queues a Close frame with the matching code (1002, 1007, 1009) and
//!   stops; the caller sends it (see [`Connection::take_pending`]) and drops
//!   the TCP connection.
//!
//! Receiving is zero-copy: payload is unmasked in place in the caller's
//! buffer, and a data [`Event`] borrows it. The connection keeps only a few
//! hundred bytes of its own (a partial header, a control payload, the
//! pending pong and close).

use crate::close::{self, CloseCode, CloseFrame};
use crate::error::{Error, Result};
use crate::frame::{self, FrameHeader, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
use crate::random::RandomSource;
use crate::utf8::Utf8Validator;

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

/// Limits that protect the receiver (§10.4). Both are checked from each
/// frame's header, before its payload is read.
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
        match self.bytes[0] & 0x0F {
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
/// I/O of its own. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct Connection {
    role: Role,
    limits: Limits,
    state: State,

    // --- receiving ---
    /// Bytes of a frame header that arrived split across calls.
    header: [u8; MAX_HEADER_LEN],
    header_len: u8,
    /// The frame whose payload is arriving, if its header has been read.
    frame: Option<IncomingFrame>,
    /// The kind of the data message in progress, if one has started.
    message: Option<DataKind>,
    /// The sum of the payload lengths of that message's frames so far.
    message_len: u64,
    utf8: Utf8Validator,
    /// The payload of the control frame being received.
    control: ControlPayload,

    // --- sending ---
    /// The kind of the message we are sending in fragments, if any.
    outgoing: Option<DataKind>,
    /// The payload of the pong that answers the latest ping, if not sent yet.
    pong: Option<ControlPayload>,
    /// A Close frame we must send, if not sent yet, by its code (`None`:
    /// a Close without a code). Only the code is kept: the Close frames the
    /// connection queues itself (an echo, §5.5.1, or a failure, §7.1.7)
    /// never carry a reason.
    close: Option<Option<CloseCode>>,
}

impl Connection {
    /// A new connection, open, just after the handshake.
    pub const fn new(role: Role, limits: Limits) -> Self {
        Connection {
            role,
            limits,
            state: State::Open,
            header: [0; MAX_HEADER_LEN],
            header_len: 0,
            frame: None,
            message: None,
            message_len: 0,
            utf8: Utf8Validator::new(),
            control: ControlPayload::EMPTY,
            outgoing: None,
            pong: None,
            close: None,
        }
    }

    /// Which end this is.
    pub const fn role(&self) -> Role {
        self.role
    }

    /// The receive limits.
    pub const fn limits(&self) -> Limits {
        self.limits
    }

    /// Changes the receive limits. They apply from the next frame header.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Where the closing handshake stands.
    pub const fn state(&self) -> State {
        self.state
    }

    /// Whether the connection is over and nothing is left to send: the
    /// caller may close the TCP connection (§7.1.1: the server closes it
    /// first; a client waits a while for the server to do so).
    pub const fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed) && self.close.is_none() && self.pong.is_none()
    }

    /// Whether an outgoing message was started in fragments and not finished
    /// (§5.4): until it is, the next data frame must continue it.
    pub const fn is_sending_fragments(&self) -> bool {
        self.outgoing.is_some()
    }

    /// Whether a control frame (automatic pong or Close) waits to be sent.
    pub const fn has_pending(&self) -> bool {
        self.close.is_some() || self.pong.is_some()
    }

    // ------------------------------------------------------------------
    // Receiving
    // ------------------------------------------------------------------

    /// Feeds bytes received from the peer.
    ///
    /// Processes frames from the start of `buf` until one event is complete
    /// or the bytes run out, and says how many bytes it used. Payload is
    /// unmasked in place, so `buf` is mutable and a data event borrows it.
    /// Call again with the unused rest (plus newly read bytes) until
    /// `consumed` is 0 with no event, which means "read more".
    ///
    /// On a protocol violation it returns the error, queues a Close frame with
    /// the matching code (take it with [`take_pending`](Self::take_pending)
    /// and send it), and the connection is [`State::Closed`]. After the
    /// closing handshake, or after a failure, it returns
    /// [`Error::ConnectionClosed`].
    pub fn receive<'a>(&'a mut self, buf: &'a mut [u8]) -> Result<Received<'a>> {
        match self.state {
            State::Closed => return Err(Error::ConnectionClosed),
            // The peer's Close was its last frame (§5.5.1); anything after
            // it is ignored.
            State::CloseReceived => {
                return Ok(Received {
                    consumed: buf.len(),
                    event: None,
                })
            }
            State::Open | State::CloseSent => {}
        }
        match self.receive_inner(buf) {
            Ok((consumed, Step::Nothing)) => Ok(Received {
                consumed,
                event: None,
            }),
            Ok((consumed, Step::Data { kind, start, fin })) => Ok(Received {
                consumed,
                event: Some(Event::Data {
                    kind,
                    bytes: buf.get(start..consumed).unwrap_or_default(),
                    fin,
                }),
            }),
            Ok((consumed, Step::Control(opcode))) => {
                self.control_event(opcode).map(|event| Received {
                    consumed,
                    event: Some(event),
                })
            }
            Err(error) => Err(self.fail(error)),
        }
    }

    /// The work of `receive`, which says *where* the event is rather than
    /// borrowing it, so the borrows stay simple.
    fn receive_inner(&mut self, buf: &mut [u8]) -> Result<(usize, Step)> {
        let mut pos = 0;
        loop {
            let Some(frame) = &mut self.frame else {
                // Collect the header, which may arrive in pieces.
                pos += self.collect_header(buf.get(pos..).unwrap_or_default());
                let collected = self.header.get(..usize::from(self.header_len));
                let parsed = FrameHeader::parse(collected.unwrap_or_default())?;
                let Some((header, _)) = parsed else {
                    return Ok((pos, Step::Nothing));
                };
                self.header_len = 0;
                if let Some(step) = self.start_frame(header)? {
                    // An empty data frame's (empty) piece sits at `pos`.
                    let step = match step {
                        Step::Data { kind, fin, .. } => Step::Data {
                            kind,
                            start: pos,
                            fin,
                        },
                        other => other,
                    };
                    return Ok((pos, step));
                }
                continue;
            };

            let unread = buf.get_mut(pos..).unwrap_or_default();
            if unread.is_empty() {
                return Ok((pos, Step::Nothing));
            }
            // `remaining` fits in usize whenever it is below the length.
            let n = usize::try_from(frame.remaining).map_or(unread.len(), |r| r.min(unread.len()));
            let start = pos;
            let (piece, _) = unread.split_at_mut(n);
            if let Some(key) = frame.mask {
                frame.seen = frame::apply_mask(piece, key, frame.seen);
            }
            pos += n;
            frame.remaining -= n as u64;
            let (opcode, frame_done) = (frame.opcode, frame.remaining == 0);
            let fin = frame_done && frame.fin;
            if frame_done {
                self.frame = None;
            }

            if opcode.is_control() {
                // A control payload is at most 125 bytes (checked in the
                // header), so it fits.
                self.control.push(piece);
                if frame_done {
                    return Ok((pos, Step::Control(opcode)));
                }
                continue;
            }

            let kind = self.message.unwrap_or(DataKind::Binary);
            if kind == DataKind::Text {
                self.utf8.feed(piece)?;
            }
            if fin {
                self.end_message()?;
            }
            return Ok((pos, Step::Data { kind, start, fin }));
        }
    }

    /// Copies header bytes from `input` into the header buffer until the
    /// header is complete or the input ends, returning how many were taken.
    /// The first two bytes say how long the whole header is (§5.2).
    fn collect_header(&mut self, input: &[u8]) -> usize {
        let mut taken = 0;
        for &byte in input {
            let have = usize::from(self.header_len);
            let need = match self.header {
                [b0, b1, ..] if have >= 2 => frame::header_len([b0, b1]),
                _ => 2,
            };
            if have >= need {
                break;
            }
            // `need` is at most 14, the buffer's length.
            if let Some(slot) = self.header.get_mut(have) {
                *slot = byte;
            }
            self.header_len += 1;
            taken += 1;
        }
        taken
    }

    /// Applies the rules that depend on the connection to a new frame header,
    /// and sets up reading its payload. Empty frames complete at once.
    fn start_frame(&mut self, header: FrameHeader) -> Result<Option<Step>> {
        // §5.2: no extension is negotiated, so no RSV bit may be set.
        if header.rsv != 0 {
            return Err(Error::ReservedBitsSet { rsv: header.rsv });
        }
        // §5.1: clients mask, servers do not.
        match (self.role, header.mask.is_some()) {
            (Role::Server, false) => return Err(Error::UnmaskedFrame),
            (Role::Client, true) => return Err(Error::MaskedFrame),
            _ => {}
        }
        let len = header.payload_len;
        // Control frames are bounded by §5.5 (125 bytes) already; the
        // configured limits are for data.
        if !header.opcode.is_control() && len > self.limits.max_frame_size {
            return Err(Error::FrameTooLarge {
                length: len,
                limit: self.limits.max_frame_size,
            });
        }
        match header.opcode {
            OpCode::Continuation if self.message.is_none() => {
                return Err(Error::UnexpectedContinuation)
            }
            OpCode::Text | OpCode::Binary if self.message.is_some() => {
                return Err(Error::ExpectedContinuation)
            }
            OpCode::Text => self.message = Some(DataKind::Text),
            OpCode::Binary => self.message = Some(DataKind::Binary),
            _ => {}
        }
        if !header.opcode.is_control() {
            let total = self.message_len.saturating_add(len);
            if total > self.limits.max_message_size {
                return Err(Error::MessageTooLarge {
                    length: total,
                    limit: self.limits.max_message_size,
                });
            }
            self.message_len = total;
        } else {
            self.control.len = 0;
        }

        let frame = IncomingFrame {
            opcode: header.opcode,
            fin: header.fin,
            mask: header.mask,
            remaining: len,
            seen: 0,
        };
        if len > 0 {
            self.frame = Some(frame);
            return Ok(None);
        }
        // An empty frame is complete as soon as its header is.
        if header.opcode.is_control() {
            return Ok(Some(Step::Control(header.opcode)));
        }
        if header.fin {
            let kind = self.message.unwrap_or(DataKind::Binary);
            self.end_message()?;
            // An empty final piece, so the caller learns the message ended.
            return Ok(Some(Step::Data {
                kind,
                start: 0,
                fin: true,
            }));
        }
        Ok(None)
    }

    /// The last byte of a data message has arrived.
    fn end_message(&mut self) -> Result<()> {
        let kind = self.message.take();
        self.message_len = 0;
        if kind == Some(DataKind::Text) {
            // §8.1: a message that ends inside a character is invalid.
            self.utf8.finish()?;
        }
        Ok(())
    }

    /// Acts on a complete control frame and describes it.
    fn control_event(&mut self, opcode: OpCode) -> Result<Event<'_>> {
        match opcode {
            OpCode::Ping => {
                // §5.5.2, §5.5.3: answer the latest ping, unless we have
                // already started closing.
                if self.state == State::Open {
                    self.pong = Some(self.control);
                }
                Ok(Event::Ping(self.control.as_slice()))
            }
            OpCode::Pong => Ok(Event::Pong(self.control.as_slice())),
            _ => self.receive_close(),
        }
    }

    /// The peer's Close frame (§5.5.1, §7.1.5).
    fn receive_close(&mut self) -> Result<Event<'_>> {
        // Check first (a bad payload fails the connection); the event, which
        // borrows the stored payload, is read from it again at the end.
        let code = match close::parse_payload(self.control.as_slice()) {
            Ok(frame) => frame.map(|f| f.code),
            Err(error) => return Err(self.fail(error)),
        };
        match self.state {
            State::Open => {
                // Answer, echoing the code (§5.5.1). A Close without a code
                // is answered by a Close without a code.
                self.close = Some(code);
                self.pong = None;
                self.state = State::CloseReceived;
            }
            // Our Close was answered: the closing handshake is complete.
            _ => self.state = State::Closed,
        }
        // Checked above, so this reading cannot fail.
        let frame = close::parse_payload(self.control.as_slice()).unwrap_or(None);
        Ok(Event::Close(frame))
    }

    /// Fails the connection (§7.1.7): queues a Close frame with the error's
    /// code if we have not sent one, and stops. Returns the error.
    fn fail(&mut self, error: Error) -> Error {
        if matches!(self.state, State::Open | State::CloseReceived) {
            let code = error.close_code().unwrap_or(CloseCode::PROTOCOL_ERROR);
            self.close = Some(Some(code));
        }
        self.pong = None;
        self.frame = None;
        self.state = State::Closed;
        error
    }

    // ------------------------------------------------------------------
    // Sending
    // ------------------------------------------------------------------

    /// The next control frame the connection itself needs sent: the pong
    /// answering the latest ping, then a Close (the answer to the peer's, or
    /// the one that fails the connection after a violation). Send frames
    /// returned here before other frames, and call until it returns `None`.
    pub fn take_pending<R: RandomSource + ?Sized>(&mut self, rng: &mut R) -> Option<ControlFrame> {
        if let Some(frame) = self.take_pending_pong(rng) {
            return Some(frame);
        }
        let code = self.close.take()?;
        // After our Close, the handshake is complete (the peer's came first)
        // or the connection was failed.
        self.state = State::Closed;
        // The payload is the code, or nothing for the echo of a Close that
        // had no code.
        let code = code.map(|code| code.0.to_be_bytes());
        let payload: &[u8] = match &code {
            Some(bytes) => bytes,
            None => &[],
        };
        Some(self.control_frame(OpCode::Close, payload, b"", rng))
    }

    /// Only the pending automatic pong, if any, leaving a pending Close in
    /// place (for a caller about to send its own Close instead of the echo).
    pub fn take_pending_pong<R: RandomSource + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Option<ControlFrame> {
        // Built from the stored payload where it lies, then cleared: taking
        // the payload out first would copy it.
        let payload = self.pong.as_ref()?;
        let frame = self.control_frame(OpCode::Pong, payload.as_slice(), b"", rng);
        self.pong = None;
        Some(frame)
    }

    /// Encodes the header of a data frame with a payload of `len` bytes.
    ///
    /// With `fin == false`, the message continues in later frames: call again
    /// with the same `kind` for each of them (they are sent as continuation
    /// frames, §5.4) and `fin == true` for the last. The caller then writes
    /// the header and the payload, masked with [`DataHeader::mask_payload`]
    /// (a no-op for a server).
    pub fn encode_data<R: RandomSource + ?Sized>(
        &mut self,
        kind: DataKind,
        fin: bool,
        len: u64,
        rng: &mut R,
    ) -> Result<DataHeader> {
        self.check_can_send()?;
        let opcode = match self.outgoing {
            None => kind.opcode(),
            Some(k) if k == kind => OpCode::Continuation,
            Some(_) => return Err(Error::MessageInProgress),
        };
        let header = FrameHeader {
            fin,
            rsv: 0,
            opcode,
            mask: self.new_mask(rng),
            payload_len: len,
        };
        let mut bytes = [0u8; MAX_HEADER_LEN];
        let n = header.emit(&mut bytes)?;
        self.outgoing = if fin { None } else { Some(kind) };
        Ok(DataHeader {
            bytes,
            len: n as u8,
            mask: header.mask,
        })
    }

    /// Encodes a ping (at most 125 bytes of payload).
    pub fn encode_ping<R: RandomSource + ?Sized>(
        &mut self,
        payload: &[u8],
        rng: &mut R,
    ) -> Result<ControlFrame> {
        self.encode_user_control(OpCode::Ping, payload, rng)
    }

    /// Encodes a pong (at most 125 bytes of payload): an unsolicited
    /// heartbeat (§5.5.3). It does not replace the automatic answer to a
    /// ping, which [`take_pending`](Self::take_pending) still returns.
    pub fn encode_pong<R: RandomSource + ?Sized>(
        &mut self,
        payload: &[u8],
        rng: &mut R,
    ) -> Result<ControlFrame> {
        self.encode_user_control(OpCode::Pong, payload, rng)
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
        close::check_payload(code, reason)?;
        match self.state {
            State::Open => self.state = State::CloseSent,
            State::CloseReceived if self.close.is_some() => {
                self.close = None;
                self.state = State::Closed;
            }
            _ => return Err(Error::SendAfterClose),
        }
        self.pong = None;
        // The payload is the code, then the reason (§5.5.1).
        Ok(self.control_frame(OpCode::Close, &code.0.to_be_bytes(), reason.as_bytes(), rng))
    }

    fn encode_user_control<R: RandomSource + ?Sized>(
        &mut self,
        opcode: OpCode,
        payload: &[u8],
        rng: &mut R,
    ) -> Result<ControlFrame> {
        self.check_can_send()?;
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(Error::InvalidInput(
                "control frame payload longer than 125 bytes (RFC 6455 §5.5)",
            ));
        }
        Ok(self.control_frame(opcode, payload, b"", rng))
    }

    /// Data and user control frames may be sent until we send Close.
    fn check_can_send(&self) -> Result<()> {
        match self.state {
            State::Open | State::CloseReceived => Ok(()),
            State::CloseSent | State::Closed => Err(Error::SendAfterClose),
        }
    }

    /// A fresh masking key for the client role (§5.3: unpredictable, new for
    /// every frame), none for the server.
    fn new_mask<R: RandomSource + ?Sized>(&self, rng: &mut R) -> Option<[u8; 4]> {
        match self.role {
            Role::Server => None,
            Role::Client => {
                let mut key = [0u8; 4];
                rng.fill_bytes(&mut key);
                Some(key)
            }
        }
    }

    /// A whole control frame: header and (masked) payload, the payload being
    /// `first` then `rest`, at most 125 bytes together (checked by every
    /// caller). Two parts, so that a Close's code and reason need not be
    /// put together in a buffer of their own first.
    fn control_frame<R: RandomSource + ?Sized>(
        &self,
        opcode: OpCode,
        first: &[u8],
        rest: &[u8],
        rng: &mut R,
    ) -> ControlFrame {
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode,
            mask: self.new_mask(rng),
            payload_len: (first.len() + rest.len()) as u64,
        };
        // Header and payload are written straight into the frame's own
        // buffer, with no intermediate arrays.
        let mut frame = ControlFrame {
            bytes: [0; 6 + MAX_CONTROL_PAYLOAD],
            len: 0,
        };
        // A control header is at most 6 bytes and the payload at most 125,
        // so both fit.
        let n = header.emit(&mut frame.bytes).unwrap_or(0);
        let end = n + first.len() + rest.len();
        if let Some(payload) = frame.bytes.get_mut(n..end) {
            let (head, tail) = payload.split_at_mut(first.len());
            head.copy_from_slice(first);
            tail.copy_from_slice(rest);
            if let Some(key) = header.mask {
                frame::apply_mask(payload, key, 0);
            }
            frame.len = end as u8;
        }
        frame
    }
}

/// What `receive_inner` found, described by position instead of by borrow.
enum Step {
    Nothing,
    Data {
        kind: DataKind,
        start: usize,
        fin: bool,
    },
    Control(OpCode),
}
