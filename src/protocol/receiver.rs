//! The receiving half: bytes from the peer in, events out (RFC 6455 §5.1
//! masking by role, §5.2 header rules, §5.4 fragmentation, §5.5 control
//! frames, §8.1 UTF-8, §10.4 limits).
//!
//! [`Receiver`] owns everything about incoming bytes: the frame header that
//! arrived in pieces, the frame whose payload is arriving, the message in
//! progress and its UTF-8 state, the payload of a control frame. It never
//! sends anything. What the peer is owed in return (a pong, a Close) it
//! writes down in the [`Shared`] state for the [`Sender`](super::Sender).
//! So a thread can parse what it read while another is blocked writing.

use super::{
    ControlPayload, DataKind, Event, IncomingFrame, Limits, Received, Role, Shared, State,
};
use crate::close::{self, CloseCode};
use crate::error::{Error, Result};
use crate::frame::{self, FrameHeader, OpCode, MAX_HEADER_LEN};
use crate::utf8::Utf8Validator;

/// The receiving half of a connection. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct Receiver {
    role: Role,
    limits: Limits,
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
    /// Whether permessage-deflate was negotiated (RFC 7692 §6): RSV1 may
    /// then mark the first frame of a compressed message.
    #[cfg(feature = "deflate")]
    compression: bool,
    /// Whether the message in progress is compressed (RSV1 on its first
    /// frame). Its payload is then checked after inflating, not here.
    #[cfg(feature = "deflate")]
    compressed: bool,
}

impl Receiver {
    /// A receiver for `role`, with `limits`, just after the handshake.
    pub const fn new(role: Role, limits: Limits) -> Self {
        Receiver {
            role,
            limits,
            header: [0; MAX_HEADER_LEN],
            header_len: 0,
            frame: None,
            message: None,
            message_len: 0,
            utf8: Utf8Validator::new(),
            control: ControlPayload::EMPTY,
            #[cfg(feature = "deflate")]
            compression: false,
            #[cfg(feature = "deflate")]
            compressed: false,
        }
    }

    /// Allows RSV1 on the first frame of a data message, which marks the
    /// message as compressed: call it when permessage-deflate was
    /// negotiated (RFC 7692 §6). Without it RSV1 stays a 1002 (§5.2).
    #[cfg(feature = "deflate")]
    pub fn enable_compression(&mut self) {
        self.compression = true;
    }

    /// Whether the message in progress is compressed (never, without the
    /// `deflate` feature).
    const fn compressed(&self) -> bool {
        #[cfg(feature = "deflate")]
        if self.compressed {
            return true;
        }
        false
    }

    /// Which RSV bits a first data frame may carry.
    const fn allowed_rsv(&self) -> u8 {
        #[cfg(feature = "deflate")]
        if self.compression {
            return 0b100;
        }
        0
    }

    /// Whether a frame's payload is still arriving: false right after the
    /// piece that ended a frame. A caller that counts bytes per frame (the
    /// inflated bytes of a compressed message) resets its count there.
    pub const fn is_in_frame(&self) -> bool {
        self.frame.is_some()
    }

    /// How many payload bytes of the frame in progress are still to come
    /// (0 between frames): what its header announced, less what arrived.
    /// A caller may reserve room ahead with it, within its own bound: the
    /// header is only the peer's word.
    pub const fn payload_remaining(&self) -> u64 {
        match &self.frame {
            Some(frame) => frame.remaining,
            None => 0,
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

    /// Whether a data message has started and not yet ended.
    pub const fn is_receiving_fragments(&self) -> bool {
        self.message.is_some()
    }

    /// Feeds bytes received from the peer.
    ///
    /// Processes frames from the start of `buf` until one event is complete
    /// or the bytes run out, and says how many bytes it used. Payload is
    /// unmasked in place, so `buf` is mutable and a data event borrows it.
    /// Call again with the unused rest (plus newly read bytes) until
    /// `consumed` is 0 with no event, which means "read more".
    ///
    /// A ping or a Close is answered through `shared`: the pong or the Close
    /// it owes is written down there, for the sender to take
    /// ([`Sender::take_pending`](super::Sender::take_pending)).
    ///
    /// On a protocol violation it returns the error, the connection is
    /// failed ([`State::Closed`]), and `shared` owes the peer a Close frame
    /// with the matching code (§7.1.7). After the closing handshake, or after
    /// a failure, it returns [`Error::ConnectionClosed`].
    pub fn receive<'a>(
        &'a mut self,
        shared: &mut Shared,
        buf: &'a mut [u8],
    ) -> Result<Received<'a>> {
        match shared.state() {
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
                    compressed: self.compressed(),
                }),
            }),
            Ok((consumed, Step::Control(opcode))) => {
                self.control_event(shared, opcode).map(|event| Received {
                    consumed,
                    event: Some(event),
                })
            }
            Err(error) => Err(self.fail(shared, error)),
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
                let collected = collected.unwrap_or_default();
                // Judge the frame as soon as its length is known, before
                // its masking key: a peer announcing 2^40 bytes is refused
                // at the length, not four bytes later (§10.4). Until the
                // key is complete this runs on each call; it only reads.
                let Some((start, _)) = FrameHeader::parse_until_key(collected)? else {
                    return Ok((pos, Step::Nothing));
                };
                let masked = collected.get(1).is_some_and(|&b1| b1 & frame::MASK != 0);
                self.check_frame(&start, masked)?;
                let Some((header, _)) = FrameHeader::parse(collected)? else {
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
            // Compressed text is UTF-8 only once inflated (RFC 7692 §6).
            if kind == DataKind::Text && !self.compressed() {
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
            // The first two bytes say how long the header is; until both
            // are in, it is at least those two.
            let [b0, b1, ..] = self.header;
            let need = if have < 2 {
                2
            } else {
                frame::header_len([b0, b1])
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

    /// Applies the rules that depend on the connection to a new frame
    /// header, known up to its length (`masked`: whether a key follows).
    /// It changes nothing, so it may look at the same header more than once.
    fn check_frame(&self, header: &FrameHeader, masked: bool) -> Result<()> {
        // §5.2: an RSV bit means whatever a negotiated extension says, and
        // nothing otherwise. permessage-deflate gives RSV1 a meaning on the
        // first frame of a data message only (RFC 7692 §6): not on a
        // continuation, not on a control frame.
        let allowed = match header.opcode {
            OpCode::Text | OpCode::Binary => self.allowed_rsv(),
            _ => 0,
        };
        if header.rsv & !allowed != 0 {
            return Err(Error::ReservedBitsSet { rsv: header.rsv });
        }
        // §5.1: clients mask, servers do not.
        match (self.role, masked) {
            (Role::Server, false) => return Err(Error::UnmaskedFrame),
            (Role::Client, true) => return Err(Error::MaskedFrame),
            _ => {}
        }
        let len = header.payload_len;
        // Control frames are bounded by §5.5 (125 bytes) already; the
        // configured limits are for data.
        if header.opcode.is_control() {
            return Ok(());
        }
        // A compressed message is held to the limits once inflated (the
        // inflater checks), and its wire bytes to the limits plus what
        // incompressible data costs in stored blocks.
        let compressed =
            header.rsv != 0 || (header.opcode == OpCode::Continuation && self.compressed());
        let frame_limit = wire_limit(self.limits.max_frame_size, compressed);
        if len > frame_limit {
            return Err(Error::FrameTooLarge {
                length: len,
                limit: self.limits.max_frame_size,
            });
        }
        // §5.4: a continuation continues a message, a text or binary frame
        // starts one.
        match (header.opcode, self.message) {
            (OpCode::Continuation, None) => return Err(Error::UnexpectedContinuation),
            (OpCode::Text | OpCode::Binary, Some(_)) => return Err(Error::ExpectedContinuation),
            _ => {}
        }
        // No message in progress means `message_len` is 0.
        let total = self.message_len.saturating_add(len);
        if total > wire_limit(self.limits.max_message_size, compressed) {
            return Err(Error::MessageTooLarge {
                length: total,
                limit: self.limits.max_message_size,
            });
        }
        Ok(())
    }

    /// Sets up reading the payload of a new frame whose header
    /// [`check_frame`](Self::check_frame) accepted. Empty frames complete at
    /// once.
    fn start_frame(&mut self, header: FrameHeader) -> Result<Option<Step>> {
        let len = header.payload_len;
        match header.opcode {
            OpCode::Text => self.message = Some(DataKind::Text),
            OpCode::Binary => self.message = Some(DataKind::Binary),
            _ => {}
        }
        #[cfg(feature = "deflate")]
        if matches!(header.opcode, OpCode::Text | OpCode::Binary) {
            self.compressed = header.rsv != 0;
        }
        if header.opcode.is_control() {
            self.control.len = 0;
        } else {
            self.message_len = self.message_len.saturating_add(len);
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
        // §8.1: a text message that ends inside a character is invalid. A
        // compressed text never fed the validator (its inflated bytes are
        // checked by the caller), so finishing it only resets it.
        if kind == Some(DataKind::Text) {
            self.utf8.finish()?;
        }
        Ok(())
    }

    /// Acts on a complete control frame and describes it.
    fn control_event(&mut self, shared: &mut Shared, opcode: OpCode) -> Result<Event<'_>> {
        match opcode {
            OpCode::Ping => {
                // §5.5.2, §5.5.3: answer the latest ping, also after our own
                // Close went out, until the peer's Close arrives.
                shared.owe_pong(self.control);
                Ok(Event::Ping(self.control.as_slice()))
            }
            OpCode::Pong => Ok(Event::Pong(self.control.as_slice())),
            _ => self.receive_close(shared),
        }
    }

    /// The peer's Close frame (§5.5.1, §7.1.5).
    fn receive_close(&mut self, shared: &mut Shared) -> Result<Event<'_>> {
        // Check first (a bad payload fails the connection); the event, which
        // borrows the stored payload, is read from it again at the end.
        let code = match close::parse_payload(self.control.as_slice()) {
            Ok(frame) => frame.map(|f| f.code),
            Err(error) => return Err(self.fail(shared, error)),
        };
        // Answered with the same code (§5.5.1; a Close without a code by a
        // Close without a code), unless it answers ours: then the closing
        // handshake is complete.
        shared.peer_closed(code);
        // Checked above, so this reading cannot fail.
        let frame = close::parse_payload(self.control.as_slice()).unwrap_or(None);
        Ok(Event::Close(frame))
    }

    /// Fails the connection (§7.1.7) for a rule broken in what this
    /// receiver handed out: a compressed message that does not inflate, or
    /// inflates past a limit (RFC 7692 §6, checked by the caller's
    /// [`MessageInflater`](crate::permessage_deflate::message::MessageInflater)).
    /// Queues the Close with the error's code, as a violation found here
    /// would, and returns the error.
    #[cfg(feature = "deflate")]
    pub fn fail_with(&mut self, shared: &mut Shared, error: Error) -> Error {
        self.fail(shared, error)
    }

    /// Fails the connection (§7.1.7): queues a Close frame with the error's
    /// code if we have not sent one, and stops. Returns the error.
    fn fail(&mut self, shared: &mut Shared, error: Error) -> Error {
        shared.fail(error.close_code().unwrap_or(CloseCode::PROTOCOL_ERROR));
        self.frame = None;
        error
    }
}

/// The most wire bytes a frame or message limited to `limit` bytes may take:
/// the limit itself, or for compressed data the limit plus the 5-byte
/// header of every stored block (at most 64 KiB each) and the sync flush,
/// so that incompressible data that fits the limit inflated is not refused.
const fn wire_limit(limit: u64, compressed: bool) -> u64 {
    if cfg!(feature = "deflate") && compressed {
        limit.saturating_add((limit >> 13).saturating_add(64))
    } else {
        limit
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
