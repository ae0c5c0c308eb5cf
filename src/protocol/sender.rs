//! The sending half: messages and control frames in, frame bytes out
//! (RFC 6455 §5.1 and §5.3 masking, §5.4 fragmentation, §5.5 control frames,
//! §7.1.2 our Close).
//!
//! [`Sender`] owns everything about outgoing frames: the role (a client masks
//! every frame with a fresh key, a server never does), and the fragmented
//! message in progress, if any. A message sent in pieces is started
//! explicitly ([`start_message`](Sender::start_message)) and continued
//! explicitly ([`continue_message`](Sender::continue_message)): §5.4 says
//! the pieces of one message go out in order with no other data frame
//! between them, and the sender refuses what would break that.
//!
//! It reads and writes the [`Shared`] state: before sending, the pong or the
//! Close the [`Receiver`](super::Receiver) noted as owed
//! ([`take_pending`](Sender::take_pending)); when sending our Close, that it
//! went out, so that no data follows it (§5.5.1).

use super::{ControlFrame, DataHeader, DataKind, Role, Shared, State};
use crate::close::{self, CloseCode};
use crate::error::{Error, Result};
use crate::frame::{self, FrameHeader, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
use crate::random::RandomSource;

/// The sending half of a connection. See the [module documentation](self).
#[derive(Clone, Copy, Debug)]
pub struct Sender {
    role: Role,
    /// The kind of the message we are sending in fragments, if any.
    outgoing: Option<DataKind>,
    /// Whether permessage-deflate was negotiated (RFC 7692 §6), so that a
    /// message may start with RSV1 set.
    #[cfg(feature = "deflate")]
    compression: bool,
}

impl Sender {
    /// A sender for `role`, just after the handshake.
    pub const fn new(role: Role) -> Self {
        Sender {
            role,
            outgoing: None,
            #[cfg(feature = "deflate")]
            compression: false,
        }
    }

    /// Allows compressed messages: call it when permessage-deflate was
    /// negotiated (RFC 7692 §6).
    #[cfg(feature = "deflate")]
    pub fn enable_compression(&mut self) {
        self.compression = true;
    }

    /// Whether permessage-deflate was negotiated.
    #[cfg(feature = "deflate")]
    pub const fn compression(&self) -> bool {
        self.compression
    }

    /// Like [`start_message`](Self::start_message), for a message whose
    /// payload is DEFLATE data (RFC 7692 §6): RSV1 is set on this first
    /// frame, and only on it; its continuation frames carry none. Refused
    /// with [`Error::CompressionNotNegotiated`] unless
    /// [`enable_compression`](Self::enable_compression) was called: the peer
    /// would fail the connection with 1002 (RFC 6455 §5.2).
    #[cfg(feature = "deflate")]
    pub fn start_compressed_message<R: RandomSource + ?Sized>(
        &mut self,
        shared: &Shared,
        kind: DataKind,
        fin: bool,
        len: u64,
        rng: &mut R,
    ) -> Result<DataHeader> {
        if !self.compression {
            return Err(Error::CompressionNotNegotiated);
        }
        self.start(shared, kind, 0b100, fin, len, rng)
    }

    /// Which end this is.
    pub const fn role(&self) -> Role {
        self.role
    }

    /// Whether this sender masks its frames. A client must, with a fresh,
    /// unpredictable key for every frame (§5.3); a server must not (§5.1).
    /// So a server's frame for a given message is the same bytes on every
    /// connection, and may be encoded once for all of them; a client's
    /// never is.
    pub const fn masks(&self) -> bool {
        matches!(self.role, Role::Client)
    }

    /// Whether an outgoing message was started in fragments and not finished
    /// (§5.4): until it is, the next data frame must continue it.
    pub const fn is_sending_fragments(&self) -> bool {
        self.outgoing.is_some()
    }

    /// The kind of the fragmented message in progress, if any.
    pub const fn outgoing_kind(&self) -> Option<DataKind> {
        self.outgoing
    }

    /// The next control frame the connection itself owes the peer: the pong
    /// answering the latest ping, then a Close (the answer to the peer's, or
    /// the one that fails the connection after a violation). Send frames
    /// returned here before other frames, and call until it returns `None`.
    pub fn take_pending<R: RandomSource + ?Sized>(
        &mut self,
        shared: &mut Shared,
        rng: &mut R,
    ) -> Option<ControlFrame> {
        if let Some(frame) = self.take_pending_pong(shared, rng) {
            return Some(frame);
        }
        let code = shared.close.take()?;
        // With it, the handshake is complete (the peer's Close came first),
        // or the connection, failed, says why.
        shared.close_sent = true;
        // The payload is the code, or nothing for the echo of a Close that
        // had no code.
        let code = code.map(|code| code.0.to_be_bytes());
        let payload: &[u8] = match &code {
            Some(bytes) => bytes,
            None => &[],
        };
        Some(self.control_frame(OpCode::Close, payload, b"", rng))
    }

    /// Only the owed pong, if any, leaving an owed Close in place (for a
    /// caller about to send its own Close instead of the echo).
    pub fn take_pending_pong<R: RandomSource + ?Sized>(
        &mut self,
        shared: &mut Shared,
        rng: &mut R,
    ) -> Option<ControlFrame> {
        // Built from the stored payload where it lies, then cleared: taking
        // the payload out first would copy its 125 bytes.
        let payload = shared.pong.as_ref()?;
        let frame = self.control_frame(OpCode::Pong, payload.as_slice(), b"", rng);
        shared.pong = None;
        Some(frame)
    }

    /// Encodes the header of the first frame of a new message, with a payload
    /// of `len` bytes. With `fin`, the frame is the whole message; without,
    /// the message goes on in [`continue_message`](Self::continue_message)
    /// frames (§5.4). The caller then writes the header and the payload,
    /// masked with [`DataHeader::mask_payload`] (a no-op for a server).
    ///
    /// Refused with [`Error::MessageInProgress`] while a fragmented message
    /// is unfinished: the peer would read this frame as breaking §5.4.
    pub fn start_message<R: RandomSource + ?Sized>(
        &mut self,
        shared: &Shared,
        kind: DataKind,
        fin: bool,
        len: u64,
        rng: &mut R,
    ) -> Result<DataHeader> {
        self.start(shared, kind, 0, fin, len, rng)
    }

    /// The first frame of a message, with the RSV bits `rsv`.
    fn start<R: RandomSource + ?Sized>(
        &mut self,
        shared: &Shared,
        kind: DataKind,
        rsv: u8,
        fin: bool,
        len: u64,
        rng: &mut R,
    ) -> Result<DataHeader> {
        if self.outgoing.is_some() {
            return Err(Error::MessageInProgress);
        }
        self.data_frame(shared, kind, kind.opcode(), rsv, fin, len, rng)
    }

    /// Encodes the header of the next frame (a continuation frame, §5.4) of
    /// the message started by [`start_message`](Self::start_message); `fin`
    /// ends the message. Refused with [`Error::MessageInProgress`] when no
    /// message is in progress.
    pub fn continue_message<R: RandomSource + ?Sized>(
        &mut self,
        shared: &Shared,
        fin: bool,
        len: u64,
        rng: &mut R,
    ) -> Result<DataHeader> {
        let Some(kind) = self.outgoing else {
            return Err(Error::MessageInProgress);
        };
        self.data_frame(shared, kind, OpCode::Continuation, 0, fin, len, rng)
    }

    #[allow(clippy::too_many_arguments)]
    fn data_frame<R: RandomSource + ?Sized>(
        &mut self,
        shared: &Shared,
        kind: DataKind,
        opcode: OpCode,
        rsv: u8,
        fin: bool,
        len: u64,
        rng: &mut R,
    ) -> Result<DataHeader> {
        check_can_send(shared)?;
        let header = FrameHeader {
            fin,
            rsv,
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
        &self,
        shared: &Shared,
        payload: &[u8],
        rng: &mut R,
    ) -> Result<ControlFrame> {
        self.encode_user_control(shared, OpCode::Ping, payload, rng)
    }

    /// Encodes a pong (at most 125 bytes of payload): an unsolicited
    /// heartbeat (§5.5.3). It does not replace the automatic answer to a
    /// ping, which [`take_pending`](Self::take_pending) still returns.
    pub fn encode_pong<R: RandomSource + ?Sized>(
        &self,
        shared: &Shared,
        payload: &[u8],
        rng: &mut R,
    ) -> Result<ControlFrame> {
        self.encode_user_control(shared, OpCode::Pong, payload, rng)
    }

    /// Encodes our Close frame with a code and reason (§5.5.1, §7.4) and
    /// moves the closing handshake on. After it, no more data may be sent.
    ///
    /// If the peer's Close arrived first, this frame is the answer (it takes
    /// the place of the owed echo) and the handshake is then complete.
    pub fn encode_close<R: RandomSource + ?Sized>(
        &mut self,
        shared: &mut Shared,
        code: CloseCode,
        reason: &str,
        rng: &mut R,
    ) -> Result<ControlFrame> {
        close::check_payload(code, reason)?;
        match shared.state() {
            State::Open => {}
            // Our own code replaces the echo (§5.5.1 lets the answer carry
            // any code). While the state is CloseReceived the echo is still
            // owed: taking it marks our Close as sent, and the state moves on.
            State::CloseReceived => shared.close = None,
            _ => return Err(Error::SendAfterClose),
        }
        shared.close_sent = true;
        // The payload is the code, then the reason (§5.5.1).
        Ok(self.control_frame(OpCode::Close, &code.0.to_be_bytes(), reason.as_bytes(), rng))
    }

    fn encode_user_control<R: RandomSource + ?Sized>(
        &self,
        shared: &Shared,
        opcode: OpCode,
        payload: &[u8],
        rng: &mut R,
    ) -> Result<ControlFrame> {
        check_can_send(shared)?;
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(Error::InvalidInput(
                "control frame payload longer than 125 bytes (RFC 6455 §5.5)",
            ));
        }
        Ok(self.control_frame(opcode, payload, b"", rng))
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

/// Data and user control frames may be sent until we send Close (§5.5.1),
/// and never after the connection failed.
fn check_can_send(shared: &Shared) -> Result<()> {
    // Open or CloseReceived: our Close has not gone out, nothing failed.
    if shared.close_sent || shared.failed {
        return Err(Error::SendAfterClose);
    }
    Ok(())
}
