//! The sending half of a blocking connection: the core's
//! [`Sender`](crate::protocol::Sender) over a stream's writing side.
//!
//! Nothing here knows a protocol rule; the core encodes every frame. This
//! module moves frames to the stream and keeps four promises:
//!
//! * **owed frames first**: before each frame, the pong or Close the
//!   receiving half noted as owed goes out;
//! * **one write per frame** where the stream allows it: header and payload
//!   leave in one vectored write; small frames queued by `write` gather in a
//!   bounded buffer and leave together;
//! * **a send is bounded as a whole**: its deadline
//!   ([`Config::write_timeout`]) is computed once, at its first write (a
//!   send that only queues reads no clock), and holds across every partial
//!   write; when it passes, the connection is
//!   failed ([`Error::WriteTimeout`]), since a frame may be half written;
//! * **TCP ends in order**: once our last frame is out and the closing
//!   handshake allows it ([`EndOfTcp::Now`]), our side of TCP is shut (FIN).

use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::time::{Duration, Instant};
use std::vec::Vec;

use super::message::Message;
use super::random::OsRandom;
use super::stream::{is_timeout, socket_timeout, write_all_within, Deadline, TimedWrite};
use super::Config;
use crate::close::CloseCode;
use crate::error::{Error, Result};
use crate::frame::OpCode;
use crate::protocol::{ControlFrame, DataHeader, DataKind, EndOfTcp, Sender, Shared, State};
use crate::utf8::Utf8Validator;

/// How the sending half reaches the stream's writing side and the state it
/// shares with the receiving half: directly (one [`WebSocket`](crate::WebSocket))
/// or through the split halves' locks.
pub(crate) trait WriteLink: TimedWrite {
    /// Flushes the stream.
    fn flush(&mut self) -> io::Result<()>;
    /// Shuts down one or both directions, where the stream can.
    fn shutdown(&mut self, how: Shutdown);
    /// Runs `f` on the shared state (under its lock, when split).
    fn shared<R>(&mut self, f: impl FnOnce(&mut Shared) -> R) -> R;
}

/// The most a client copies at once to mask a large borrowed payload: the
/// frame of a payload up to 1 MiB (with its header) leaves in one write.
const MASKING_BUFFER: usize = (1 << 20) + crate::frame::MAX_HEADER_LEN;

/// How much of a borrowed payload is copied before it is masked: small
/// enough to be masked while it is still in the CPU's first-level cache.
const MASKING_PIECE: usize = 16 << 10;

/// The OS-seeded generator, made on first use: a server never masks, so it
/// never pays for opening the OS's random source.
struct LazyRandom(Option<OsRandom>);

impl crate::RandomSource for LazyRandom {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.get_or_insert_with(OsRandom::new).fill_bytes(dest)
    }
}

/// A payload to send: one the sender may mask in place, or one it must copy.
pub(crate) enum Payload<'a> {
    Owned(&'a mut [u8]),
    Borrowed(&'a [u8]),
}

impl Payload<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Payload::Owned(p) => p,
            Payload::Borrowed(p) => p,
        }
    }
}

/// Where a data frame stands in its message (§5.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// The first frame of a message of this kind.
    Start(DataKind),
    /// A continuation frame of the message in progress.
    Continue,
    /// The first frame of a compressed message (RSV1, RFC 7692 §6).
    #[cfg(feature = "deflate")]
    StartCompressed(DataKind),
}

/// The sending half. See the [module documentation](self).
pub(crate) struct WriteHalf {
    pub(crate) sender: Sender,
    rng: LazyRandom,
    /// Frames waiting to go out together in one write: small frames are
    /// gathered here (a client masks them here too), and are written when
    /// the caller asks (`send`, `flush`), when the buffer is full, or at the
    /// latest before the connection blocks to read. After a write that did
    /// not finish without blocking (the split reader's), it starts with the
    /// rest of a frame, which must go first.
    out: Vec<u8>,
    write_buffer_size: usize,
    auto_pong: bool,
    write_timeout: Option<Duration>,
    /// A write failed part-way through a frame: nothing more can be sent.
    broken: bool,
    /// permessage-deflate, when it was agreed.
    #[cfg(feature = "deflate")]
    pub(crate) deflating: Option<super::compression::Deflating>,
}

impl WriteHalf {
    pub(crate) fn new(sender: Sender, config: &Config) -> Self {
        WriteHalf {
            sender,
            rng: LazyRandom(None),
            out: Vec::new(),
            write_buffer_size: config.write_buffer_size.max(64),
            auto_pong: config.auto_pong,
            write_timeout: socket_timeout(config.write_timeout),
            broken: false,
            #[cfg(feature = "deflate")]
            deflating: None,
        }
    }

    /// Writes the gathered frames followed by `extra` in one vectored write,
    /// within `deadline`. A failure leaves the stream mid-frame, so the
    /// connection is failed: nothing more can be sent, and after a timeout
    /// both directions are shut so the reading side ends too.
    // In bounds: `extra` has at most two parts (the callers pass header and payload at most), so `1 + extra.len() <= 3`.
    #[allow(clippy::indexing_slicing)]
    fn write_now<L: WriteLink>(
        &mut self,
        link: &mut L,
        extra: &[&[u8]],
        deadline: &mut Deadline,
    ) -> Result<()> {
        if self.broken {
            return Err(Error::ConnectionClosed);
        }
        let mut slices = [IoSlice::new(&[]); 3];
        slices[0] = IoSlice::new(&self.out);
        for (slot, part) in slices[1..].iter_mut().zip(extra) {
            *slot = IoSlice::new(part);
        }
        let parts = &mut slices[..1 + extra.len()];
        let result = write_all_within(link, parts, deadline, self.write_timeout)
            .and_then(|()| link.flush().map_err(Error::from));
        self.out.clear();
        // A burst's large buffer is not kept for an idle connection.
        if self.out.capacity() > 4096 {
            self.out = Vec::new();
        }
        result.map_err(|error| self.break_off(link, error))
    }

    /// A write failed: the connection cannot send again.
    fn break_off<L: WriteLink>(&mut self, link: &mut L, error: Error) -> Error {
        self.broken = true;
        self.out = Vec::new();
        link.shared(Shared::abort);
        if matches!(error, Error::WriteTimeout) {
            link.shutdown(Shutdown::Both);
        }
        error
    }

    /// Writes the gathered frames, if any.
    pub(crate) fn flush_out<L: WriteLink>(&mut self, link: &mut L) -> Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let mut deadline = Deadline::after(self.write_timeout);
        self.write_now(link, &[], &mut deadline)
    }

    /// Moves the control frames the receiving half noted as owed into the
    /// gathering buffer: the automatic pong (unless turned off) and the Close
    /// that answers the peer's or fails the connection. Returns whether a
    /// Close was among them.
    fn gather_owed<L: WriteLink>(&mut self, link: &mut L) -> bool {
        let (sender, rng, out, auto_pong) = (
            &mut self.sender,
            &mut self.rng,
            &mut self.out,
            self.auto_pong,
        );
        link.shared(|shared| {
            let mut close = false;
            // The common case, before every frame: nothing is owed.
            if !shared.has_pending() {
                return close;
            }
            while let Some(frame) = sender.take_pending(shared, rng) {
                match frame.opcode() {
                    OpCode::Pong if !auto_pong => continue,
                    OpCode::Close => close = true,
                    _ => {}
                }
                out.extend_from_slice(frame.as_bytes());
            }
            close
        })
    }

    /// Writes the owed control frames at once, with anything gathered
    /// before them, and ends our side of TCP when that is due.
    pub(crate) fn flush_owed<L: WriteLink>(
        &mut self,
        link: &mut L,
        cap: Option<Instant>,
    ) -> Result<()> {
        if self.broken {
            return Ok(());
        }
        let close = self.gather_owed(link);
        if close || !self.out.is_empty() {
            let mut deadline = Deadline::after(self.write_timeout).capped(cap);
            self.write_now(link, &[], &mut deadline)?;
        }
        if close {
            self.end_if_due(link);
        }
        Ok(())
    }

    /// Sends the owed frames and the gathered ones without blocking: the
    /// split reader's way, which must never wait for the peer to read (it
    /// would stop draining the socket, and two peers blocked writing to each
    /// other never recover). `set_nonblocking` switches the socket; the
    /// caller holds the writers' lock, so no writer is in a system call.
    /// What the socket does not take stays at the front of the buffer, for
    /// the next writer or the next try. Returns whether anything is left.
    pub(crate) fn flush_owed_nonblocking<L: WriteLink>(
        &mut self,
        link: &mut L,
        set_nonblocking: &mut dyn FnMut(bool) -> io::Result<()>,
    ) -> bool {
        if self.broken {
            return false;
        }
        let close = self.gather_owed(link);
        if self.out.is_empty() {
            return false;
        }
        if set_nonblocking(true).is_err() {
            return true;
        }
        let mut failed = None;
        while !self.out.is_empty() {
            match link.write_vectored(&[IoSlice::new(&self.out)]) {
                Ok(0) => {
                    failed = Some(Error::Io(io::ErrorKind::WriteZero.into()));
                    break;
                }
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => break,
                Err(e) => {
                    failed = Some(Error::Io(e));
                    break;
                }
            }
        }
        let _ = set_nonblocking(false);
        if let Some(error) = failed {
            self.break_off(link, error);
            return false;
        }
        if self.out.is_empty() && self.out.capacity() > 4096 {
            self.out = Vec::new();
        }
        if close && self.out.is_empty() {
            self.end_if_due(link);
        }
        !self.out.is_empty()
    }

    /// Once the closing handshake is done, a server ends TCP first
    /// (§7.1.1), and either side ends it after failing the connection
    /// (§7.1.7): half-closing sends FIN after our last frame, so the peer
    /// reads the Close and then the end. A client after a clean handshake
    /// waits for the server's FIN instead (the receiving half does that).
    fn end_if_due<L: WriteLink>(&mut self, link: &mut L) {
        let role = self.sender.role();
        if link.shared(|shared| shared.end_of_tcp(role)) == EndOfTcp::Now {
            link.shutdown(Shutdown::Write);
        }
    }

    /// Sends the data of one frame of the application's: a whole message,
    /// or a piece of a streamed one. With permessage-deflate agreed, a
    /// message at or above the threshold (and every streamed message) is
    /// compressed on its way, in as many frames as its compressed bytes
    /// need; otherwise the data goes out as one frame.
    pub(crate) fn send_data<L: WriteLink>(
        &mut self,
        link: &mut L,
        piece: Piece,
        fin: bool,
        payload: Payload<'_>,
        now: bool,
    ) -> Result<()> {
        if self.broken {
            return Err(Error::ConnectionClosed);
        }
        let mut deadline = Deadline::after(self.write_timeout);
        #[cfg(feature = "deflate")]
        if let Some(deflating) = &self.deflating {
            deflating.check_start(piece)?;
            if let Some(kind) = deflating.compresses(piece, fin, payload.bytes().len()) {
                return self.send_compressed(link, kind, fin, payload.bytes(), now, &mut deadline);
            }
        }
        self.send_frame(link, piece, fin, payload, now, &mut deadline)
    }

    /// Compresses `data`, a message of `kind` or a piece of one (`fin`: the
    /// end of it), and sends what the compressor gives as frames: the
    /// first with RSV1, the last with FIN (RFC 7692 §6.1). The whole send
    /// is one operation under one `deadline`, however many frames it takes.
    #[cfg(feature = "deflate")]
    fn send_compressed<L: WriteLink>(
        &mut self,
        link: &mut L,
        kind: DataKind,
        fin: bool,
        data: &[u8],
        now: bool,
        deadline: &mut Deadline,
    ) -> Result<()> {
        let mut input = data;
        loop {
            let Some(deflating) = &mut self.deflating else {
                return Err(Error::CompressionNotNegotiated);
            };
            let (consumed, done, mut frame) = deflating.compress(input, fin, kind, data.len())?;
            input = input.get(consumed..).unwrap_or_default();
            // A frame goes out when the compressed bytes fill the buffer,
            // and at the end of the message; a streamed piece that only
            // filled the compressor's window sends nothing yet.
            let last = fin && done;
            if frame.is_empty() && !last {
                if done {
                    return Ok(());
                }
                if consumed == 0 {
                    // Cannot happen: a compressor with room always moves.
                    return Err(Error::InvalidInput("the compressor made no progress"));
                }
                continue;
            }
            let piece = deflating.next_piece(kind);
            let result = self.send_frame(
                link,
                piece,
                last,
                Payload::Owned(&mut frame),
                now || !last,
                deadline,
            );
            if last {
                if let Some(deflating) = &mut self.deflating {
                    deflating.end_message();
                }
            }
            result?;
            if done {
                return Ok(());
            }
        }
    }

    /// Sends one data frame: gathered with others when it is small (written
    /// now if `now`), written at once with what was gathered when it is large.
    // In bounds: `at` is the buffer's length before the payload was appended.
    #[allow(clippy::indexing_slicing)]
    fn send_frame<L: WriteLink>(
        &mut self,
        link: &mut L,
        piece: Piece,
        fin: bool,
        payload: Payload<'_>,
        now: bool,
        deadline: &mut Deadline,
    ) -> Result<()> {
        let len = payload.bytes().len();
        let header = self.data_header(link, piece, fin, len as u64, deadline)?;
        let small = self.out.len() + header.as_bytes().len() + len <= self.write_buffer_size;
        if small {
            // Copied next to the frames before it (and masked there by a
            // client), to leave in one write with them.
            self.out.extend_from_slice(header.as_bytes());
            let at = self.out.len();
            self.out.extend_from_slice(payload.bytes());
            header.mask_payload(&mut self.out[at..], 0);
            return if now {
                self.write_now(link, &[], deadline)
            } else {
                Ok(())
            };
        }
        match payload {
            // Large, and the sender may change it: masked in place (by a
            // client), written without a copy.
            Payload::Owned(p) => {
                header.mask_payload(p, 0);
                self.write_now(link, &[header.as_bytes(), p], deadline)
            }
            // Large and borrowed: a server writes it as it is.
            Payload::Borrowed(p) if header.mask().is_none() => {
                self.write_now(link, &[header.as_bytes(), p], deadline)
            }
            // A client must mask a copy. The copy is made once, into a
            // buffer that holds the whole frame up to `MASKING_BUFFER`, so
            // that a payload of up to 1 MiB leaves in one write (each write
            // costs a system call and a round of TCP work; 16 KiB pieces
            // made a 64 KiB message four of them). It is copied and masked
            // a cache-sized piece at a time, while the piece is in cache,
            // and let go after the write like any buffer of a burst.
            Payload::Borrowed(p) => {
                let room = MASKING_BUFFER.max(self.write_buffer_size);
                let frame = header.as_bytes().len() + p.len();
                self.out
                    .reserve_exact(frame.min(room).saturating_sub(self.out.len()));
                self.out.extend_from_slice(header.as_bytes());
                let mut offset = 0;
                for piece in p.chunks(MASKING_PIECE) {
                    if self.out.len() + piece.len() > room {
                        self.write_now(link, &[], deadline)?;
                        self.out.reserve_exact((p.len() - offset).min(room));
                    }
                    let at = self.out.len();
                    self.out.extend_from_slice(piece);
                    offset = header.mask_payload(&mut self.out[at..], offset);
                }
                self.write_now(link, &[], deadline)
            }
        }
    }

    /// The core's header for the next data frame: it checks the state
    /// (§5.4, §5.5.1) and masks for a client. One look at the shared state
    /// in the common case, where nothing is owed; owed frames, when there
    /// are some, go out first.
    fn data_header<L: WriteLink>(
        &mut self,
        link: &mut L,
        piece: Piece,
        fin: bool,
        len: u64,
        deadline: &mut Deadline,
    ) -> Result<DataHeader> {
        let encode = |sender: &mut Sender, shared: &mut Shared, rng: &mut LazyRandom| match piece {
            Piece::Start(kind) => sender.start_message(shared, kind, fin, len, rng),
            Piece::Continue => sender.continue_message(shared, fin, len, rng),
            #[cfg(feature = "deflate")]
            Piece::StartCompressed(kind) => {
                sender.start_compressed_message(shared, kind, fin, len, rng)
            }
        };
        let (sender, rng) = (&mut self.sender, &mut self.rng);
        let header =
            link.shared(|shared| (!shared.has_pending()).then(|| encode(sender, shared, rng)));
        match header {
            Some(header) => header,
            None => {
                self.owed_first(link, deadline)?;
                let (sender, rng) = (&mut self.sender, &mut self.rng);
                link.shared(|shared| encode(sender, shared, rng))
            }
        }
    }

    /// Sends a whole message in one frame. Refused while a message sent in
    /// fragments is unfinished: the frame would break §5.4.
    pub(crate) fn send_whole<L: WriteLink>(
        &mut self,
        link: &mut L,
        kind: DataKind,
        payload: Payload<'_>,
        now: bool,
    ) -> Result<()> {
        self.send_data(link, Piece::Start(kind), true, payload, now)
    }

    /// Sends a whole message; data messages are only gathered unless `now`.
    pub(crate) fn send_message<L: WriteLink>(
        &mut self,
        link: &mut L,
        message: Message,
        now: bool,
    ) -> Result<()> {
        match message {
            Message::Text(text) => {
                let mut bytes = text.into_bytes();
                self.send_whole(link, DataKind::Text, Payload::Owned(&mut bytes), now)
            }
            Message::Binary(mut data) => {
                self.send_whole(link, DataKind::Binary, Payload::Owned(&mut data), now)
            }
            Message::Ping(data) => self.ping(link, &data),
            Message::Pong(data) => self.pong(link, &data),
            Message::Close(frame) => {
                let (code, reason) = match &frame {
                    Some(f) => (f.code, f.reason.as_str()),
                    None => (CloseCode::NORMAL, ""),
                };
                self.send_close(link, code, reason, None)
            }
        }
    }

    /// Sends a ping.
    pub(crate) fn ping<L: WriteLink>(&mut self, link: &mut L, payload: &[u8]) -> Result<()> {
        self.send_user_control(link, OpCode::Ping, payload)
    }

    /// Sends an unsolicited pong.
    pub(crate) fn pong<L: WriteLink>(&mut self, link: &mut L, payload: &[u8]) -> Result<()> {
        self.send_user_control(link, OpCode::Pong, payload)
    }

    /// Queues a ping to go out with the gathered frames (the keepalive ping
    /// of the split reader, sent without blocking).
    pub(crate) fn queue_ping<L: WriteLink>(&mut self, link: &mut L, payload: &[u8]) -> Result<()> {
        if self.broken {
            return Err(Error::ConnectionClosed);
        }
        let frame = self.control(link, OpCode::Ping, payload)?;
        self.out.extend_from_slice(frame.as_bytes());
        Ok(())
    }

    fn control<L: WriteLink>(
        &mut self,
        link: &mut L,
        opcode: OpCode,
        payload: &[u8],
    ) -> Result<ControlFrame> {
        let (sender, rng) = (&mut self.sender, &mut self.rng);
        link.shared(|shared| match opcode {
            OpCode::Ping => sender.encode_ping(shared, payload, rng),
            _ => sender.encode_pong(shared, payload, rng),
        })
    }

    fn send_user_control<L: WriteLink>(
        &mut self,
        link: &mut L,
        opcode: OpCode,
        payload: &[u8],
    ) -> Result<()> {
        if self.broken {
            return Err(Error::ConnectionClosed);
        }
        let mut deadline = Deadline::after(self.write_timeout);
        self.owed_first(link, &mut deadline)?;
        let frame = self.control(link, opcode, payload)?;
        self.write_now(link, &[frame.as_bytes()], &mut deadline)
    }

    /// Before a frame of the application's: gathers what the receiving half
    /// noted as owed, to go out first in the same write. An owed Close (the
    /// answer to the peer's, or a failure's) goes out at once, and then
    /// nothing may follow it (§5.5.1): [`Error::SendAfterClose`].
    fn owed_first<L: WriteLink>(&mut self, link: &mut L, deadline: &mut Deadline) -> Result<()> {
        if !self.gather_owed(link) {
            return Ok(());
        }
        self.write_now(link, &[], deadline)?;
        self.end_if_due(link);
        Err(Error::SendAfterClose)
    }

    /// Sends our Close (or the answer to the peer's), if not sent yet, and
    /// ends our side of TCP when that is due. `cap` is the caller's own
    /// deadline (the close timeout), when it comes before the write timeout.
    pub(crate) fn send_close<L: WriteLink>(
        &mut self,
        link: &mut L,
        code: CloseCode,
        reason: &str,
        cap: Option<Instant>,
    ) -> Result<()> {
        if self.broken {
            // A write failed half-way through a frame: no Close can follow.
            return Err(Error::ConnectionClosed);
        }
        // Owed pongs go first, gathered ahead of the Close; an owed echo
        // does not: our own Close takes its place (the core swaps them).
        let (sender, rng, out, auto_pong) = (
            &mut self.sender,
            &mut self.rng,
            &mut self.out,
            self.auto_pong,
        );
        let close = link.shared(|shared| {
            if let Some(pong) = sender.take_pending_pong(shared, rng) {
                if auto_pong {
                    out.extend_from_slice(pong.as_bytes());
                }
            }
            match shared.state() {
                State::Open | State::CloseReceived => {
                    sender.encode_close(shared, code, reason, rng).map(Some)
                }
                // Already sent, or the connection failed: an owed Close (the
                // failure's) still goes out below.
                State::CloseSent | State::Closed => Ok(None),
            }
        })?;
        let mut deadline = Deadline::after(self.write_timeout).capped(cap);
        match close {
            Some(close) => self.write_now(link, &[close.as_bytes()], &mut deadline)?,
            None => {
                self.gather_owed(link);
                if !self.out.is_empty() {
                    self.write_now(link, &[], &mut deadline)?;
                }
            }
        }
        self.end_if_due(link);
        Ok(())
    }
}

/// One `write` of a message sent as a stream (§5.4): the first frame starts
/// the message, the next ones continue it. `send` sends one frame.
pub(crate) fn write_stream(
    kind: DataKind,
    started: &mut bool,
    utf8: &mut Utf8Validator,
    data: &[u8],
    send: impl FnOnce(Piece) -> Result<()>,
) -> io::Result<usize> {
    if data.is_empty() {
        return Ok(0);
    }
    if kind == DataKind::Text {
        // Catch the mistake here, not as a 1007 from the peer.
        utf8.feed(data).map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidData, "streamed text is not UTF-8")
        })?;
    }
    let piece = if *started {
        Piece::Continue
    } else {
        Piece::Start(kind)
    };
    send(piece).map_err(io::Error::other)?;
    *started = true;
    Ok(data.len())
}

/// The end of a message sent as a stream: an empty final frame (or, for a
/// message that never had a byte, an empty whole message).
pub(crate) fn finish_stream(
    finished: &mut bool,
    kind: DataKind,
    started: bool,
    utf8: &Utf8Validator,
    send: impl FnOnce(Piece) -> Result<()>,
) -> Result<()> {
    if *finished {
        return Ok(());
    }
    *finished = true;
    if kind == DataKind::Text && !utf8.is_at_boundary() {
        // A message cannot be taken back once fragments are out, and ending
        // it here would send invalid text (the peer fails the connection
        // with 1007). It stays unfinished: later whole-message sends are
        // refused with `MessageInProgress`; close the connection.
        return Err(Error::InvalidInput(
            "the streamed text ends inside a UTF-8 character; the message cannot be finished",
        ));
    }
    send(if started {
        Piece::Continue
    } else {
        Piece::Start(kind)
    })
}

/// Prepared messages (see [`super::prepared`]): one frame, encoded once,
/// written to many connections as it is.
impl WriteHalf {
    /// Sends a prepared message now, with the promises of every send:
    /// owed frames first, the core's checks, one deadline, failure on a
    /// broken write. A server writes the prepared frame itself (or, with
    /// permessage-deflate and no context takeover, the compressed frame
    /// the message keeps for this connection's window and level), in one
    /// vectored write after anything gathered, never copied. A client must
    /// mask every frame with a fresh key (RFC 6455 §5.3), and a connection
    /// compressing with context takeover with its own window (RFC 7692
    /// §7.2.1): for them the message goes the ordinary way.
    pub(crate) fn send_prepared<L: WriteLink>(
        &mut self,
        link: &mut L,
        message: &super::PreparedMessage,
    ) -> Result<()> {
        if self.broken {
            return Err(Error::ConnectionClosed);
        }
        let kind = message.kind();
        let ordinary = Payload::Borrowed(message.payload());
        if self.sender.masks() {
            return self.send_whole(link, kind, ordinary, true);
        }
        #[cfg(feature = "deflate")]
        if let Some(deflating) = &self.deflating {
            deflating.check_start(Piece::Start(kind))?;
            if deflating
                .compresses(Piece::Start(kind), true, message.len())
                .is_some()
            {
                let shared = deflating
                    .shared_encoding()
                    .and_then(|(bits, level)| message.compressed(bits, level));
                return match shared {
                    Some(frame) => {
                        self.send_prepared_frame(link, Piece::StartCompressed(kind), &frame)
                    }
                    None => self.send_whole(link, kind, ordinary, true),
                };
            }
        }
        self.send_prepared_frame(link, Piece::Start(kind), message.plain())
    }

    /// Sends one prepared frame, the first and last of its message
    /// (`piece`: compressed or not). The core encodes the header as for any
    /// message, which checks the state and is the header that goes out: the
    /// prepared bytes go as they are when it matches theirs (it always does
    /// on a server), the prepared payload after the core's header when not.
    fn send_prepared_frame<L: WriteLink>(
        &mut self,
        link: &mut L,
        piece: Piece,
        frame: &super::prepared::Frame,
    ) -> Result<()> {
        let mut deadline = Deadline::after(self.write_timeout);
        let len = frame.payload().len() as u64;
        let header = self.data_header(link, piece, true, len, &mut deadline)?;
        if header.mask().is_some() {
            // Not on a server; were the core ever to mask, a copy is.
            let mut copy = frame.payload().to_vec();
            header.mask_payload(&mut copy, 0);
            return self.write_now(link, &[header.as_bytes(), &copy], &mut deadline);
        }
        if header.as_bytes() == frame.header() {
            self.write_now(link, &[frame.bytes()], &mut deadline)
        } else {
            self.write_now(link, &[header.as_bytes(), frame.payload()], &mut deadline)
        }
    }
}
