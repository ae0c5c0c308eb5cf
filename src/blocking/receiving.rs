//! The receiving half of a blocking connection: the core's
//! [`Receiver`](crate::protocol::Receiver) over a stream's reading side.
//!
//! It owns its read buffer and its receiver, and never waits for a writer to
//! parse what it has read: what the peer is owed in return (a pong, a Close)
//! is written down in the shared state, and the link
//! ([`ReadLink::send_owed`]) sends it without blocking behind a writer. So
//! it keeps draining the socket while writers wait for the peer, which is
//! what keeps two busy peers from blocking each other for good.
//!
//! What it adds to the core:
//!
//! * **bounded memory**: the read buffer starts small, grows only while
//!   reads fill it, up to a limit, and shrinks back when idle; a message is
//!   put together in a `Vec` that never grows past the message limit;
//! * **bounded waits**: a read waits at most `read_timeout` in all, `close`
//!   at most its deadline, however the peer trickles bytes or empty frames
//!   (the deadline is checked after every step, not only when a read times
//!   out);
//! * **liveness**: a keepalive ping after a silence, and a failure when it
//!   goes unanswered;
//! * **the end of a failed connection** (§7.1.7): after a violation, the
//!   Close that names it goes out, our side of TCP is shut, and what the
//!   peer still sends is read and dropped (bounded), so it reads the Close
//!   and not a reset.

use std::io;
use std::net::Shutdown;
use std::ops::Range;
use std::string::String;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use std::vec::Vec;

use super::message::{CloseFrame, Message};
use super::stream::{after, is_timeout, linger, TimedRead, MIN_WAIT};
use super::Config;
use crate::error::{Error, Result};
use crate::protocol::{DataKind, EndOfTcp, Event, Receiver, Shared, State};

/// How long the split reader waits before it tries again to send an owed
/// frame that the socket would not take without blocking.
const RETRY_OWED: Duration = Duration::from_millis(10);

/// The most a failed connection drops while it waits for the peer to end
/// TCP, however long the frame the peer announced (time bounds it too).
const MAX_LINGER_BYTES: usize = 1 << 30;

/// How far ahead of the bytes that arrived a message's buffer is reserved
/// from its frame's announced length. Reserved memory that is not written
/// yet costs address space, not resident memory.
const RESERVE_AHEAD: usize = 1 << 20;

/// The least payload still to come for which `read` reads it straight into
/// the message (see `read_payload_into_message`); below it the read buffer
/// gathers small frames, many to a read. Also the room such a read starts
/// with: it doubles only after a read filled it, so a peer that trickles
/// bytes makes this side zero and touch at most this much ahead of them.
const DIRECT_READ: usize = 16 << 10;

/// Makes room in a message being reassembled for `needed` bytes, and for
/// `ahead` more where the limit allows: by doubling, as `Vec` would, or at
/// once to what is asked, but never past the message limit (`max`): plain
/// doubling could take twice the limit for a message just over a power of
/// two. (The limit itself was checked from the frame header before any
/// payload arrived.)
fn grow_message(message: &mut Vec<u8>, needed: usize, ahead: usize, max: usize) {
    if needed > message.capacity() {
        let target = (message.capacity() * 2)
            .max(needed + ahead)
            .min(max.max(needed));
        message.reserve_exact(target - message.len());
    }
}

/// How the receiving half reaches the stream's reading side, the shared
/// state and the sending half.
pub(crate) trait ReadLink: TimedRead {
    /// Runs `f` on the shared state (under its lock, when split).
    fn shared<R>(&mut self, f: impl FnOnce(&mut Shared) -> R) -> R;
    /// Sends the frames the receiver noted as owed, if that can be done
    /// without waiting for a writer (a writer that holds the stream sends
    /// them after its frame).
    fn send_owed(&mut self) -> Result<()>;
    /// About to wait for the peer: frames gathered by `write` leave now
    /// (a reply is never held back while nothing else is pending). Returns
    /// whether an owed frame is still waiting for room in the socket, so the
    /// wait should be short and end in another try.
    fn before_wait(&mut self) -> Result<bool>;
    /// Sends a keepalive ping, if that can be done without waiting for a
    /// writer; whether it was sent.
    fn keepalive_ping(&mut self, payload: &[u8]) -> Result<bool>;
    /// The server is shutting down, or the connection idled too long: sends
    /// Close 1001 (going away, §7.4.1) with `reason` and ends our side of
    /// TCP.
    fn going_away(&mut self, reason: &str);
    /// Shuts down one or both directions, where the stream can.
    fn shutdown(&mut self, how: Shutdown);
    /// The receiving half saw the end of the stream, or stopped for good.
    fn reader_stopped(&mut self, _eof: bool) {}
}

/// The inflater's `begin_frame`, if there is an inflater.
#[cfg(feature = "deflate")]
fn inflating_begin_frame(inflating: &mut Option<super::compression::Inflating>) {
    if let Some(inflating) = inflating {
        inflating.begin_frame();
    }
}

/// What the receiving half found.
pub(crate) enum Step {
    /// A piece of a data message, at `range` in the read buffer (valid until
    /// the next call).
    Piece {
        kind: DataKind,
        range: Range<usize>,
        fin: bool,
        /// Whether the bytes are DEFLATE data still to be inflated (only
        /// between the wire and the inflater: [`ReadHalf::next_step`] hands
        /// out inflated bytes).
        // Read only by the inflater: unused in a build without `deflate`.
        #[cfg_attr(not(feature = "deflate"), allow(dead_code))]
        compressed: bool,
        /// Whether the piece begins a frame.
        #[cfg_attr(not(feature = "deflate"), allow(dead_code))]
        new_frame: bool,
    },
    /// A control frame.
    Control(Message),
}

/// The receiving half. See the [module documentation](self).
pub(crate) struct ReadHalf {
    pub(crate) receiver: Receiver,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    initial_size: usize,
    max_size: usize,
    /// The last read was short: shrink a grown buffer when it is empty.
    shrink: bool,
    pub(crate) eof: bool,
    /// The message being put together by `read`.
    message: Vec<u8>,
    /// The most it may grow to (`Config::max_message_size`).
    max_message: usize,
    /// How much a read straight into the message asks for (from
    /// `DIRECT_READ`, doubling while reads fill it, up to `RESERVE_AHEAD`).
    direct_room: usize,
    /// Discard data pieces until the end of the current message (a streamed
    /// message whose reader was dropped early).
    pub(crate) skip_message: bool,
    keepalive: Option<Duration>,
    idle_timeout: Option<Duration>,
    /// When the last data message from the peer ended (or the connection
    /// opened): what the idle timeout counts from.
    last_message: Instant,
    read_timeout: Option<Duration>,
    /// The socket read timeout in force between operations.
    wake: Option<Duration>,
    /// The end of the current operation: a `read` under `read_timeout`, or
    /// `close`.
    deadline: Option<Instant>,
    /// Set by a [`Server`](super::Server) that is shutting down: the end of
    /// the stream then means "tell the peer 1001", not "the peer left".
    pub(crate) going_away: Option<Arc<AtomicBool>>,
    last_heard: Instant,
    ping_sent: Option<Instant>,
    /// The peer's Close, once it came.
    pub(crate) peer_close: Option<CloseFrame>,
    /// How long, and how many bytes at least, a failed connection drains.
    linger_time: Duration,
    linger_bytes: usize,
    /// permessage-deflate, when it was agreed: the peer's compressed
    /// messages are inflated on their way out of `next_step`.
    #[cfg(feature = "deflate")]
    pub(crate) inflating: Option<super::compression::Inflating>,
    /// The last piece handed out is in the inflater's buffer, not `buf`.
    #[cfg(feature = "deflate")]
    from_inflated: bool,
}

impl ReadHalf {
    pub(crate) fn new(receiver: Receiver, config: &Config, leftover: &[u8]) -> Self {
        let initial_size = config.read_buffer_size.max(64);
        let mut buf = Vec::new();
        buf.extend_from_slice(leftover);
        ReadHalf {
            receiver,
            end: buf.len(),
            buf,
            start: 0,
            initial_size,
            max_size: config.max_read_buffer_size.max(initial_size),
            shrink: false,
            eof: false,
            message: Vec::new(),
            max_message: config.max_message_size,
            direct_room: DIRECT_READ,
            skip_message: false,
            keepalive: config.keepalive,
            idle_timeout: config.idle_timeout,
            last_message: Instant::now(),
            read_timeout: config.read_timeout,
            wake: Self::wake_interval(config),
            deadline: None,
            going_away: None,
            last_heard: Instant::now(),
            ping_sent: None,
            peer_close: None,
            linger_time: config.close_timeout,
            linger_bytes: 1 << 20,
            #[cfg(feature = "deflate")]
            inflating: None,
            #[cfg(feature = "deflate")]
            from_inflated: false,
        }
    }

    /// The socket read timeout this side needs to notice keepalive, idle
    /// and read timeouts in time (keepalive and idle within a quarter of
    /// their interval).
    pub(crate) fn wake_interval(config: &Config) -> Option<Duration> {
        let keepalive = config.keepalive.map(|k| k / 2);
        let idle = config.idle_timeout.map(|k| k / 4);
        [keepalive, idle, config.read_timeout]
            .into_iter()
            .flatten()
            .min()
            .map(|d| d.max(MIN_WAIT))
    }

    /// Starts a read operation: it may last `read_timeout` in all. A zero
    /// timeout means "do not wait" and counts as the shortest wait, so that
    /// what has already arrived is still read and returned.
    pub(crate) fn begin_read(&mut self) {
        if let Some(timeout) = self.read_timeout {
            let end = after(timeout.max(MIN_WAIT));
            self.deadline = Some(self.deadline.map_or(end, |d| d.min(end)));
        }
    }

    /// Ends a read operation.
    pub(crate) fn end_read(&mut self, close_deadline: Option<Instant>) {
        self.deadline = close_deadline;
    }

    /// Sets the deadline of `close`.
    pub(crate) fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// The bytes of a piece returned by [`next_step`](Self::next_step).
    // In bounds: ranges come from `next_step`, inside `start..end` of the buffer.
    #[allow(clippy::indexing_slicing)]
    pub(crate) fn piece(&self, range: Range<usize>) -> &[u8] {
        #[cfg(feature = "deflate")]
        if self.from_inflated {
            if let Some(inflating) = &self.inflating {
                return &inflating.out[range];
            }
        }
        &self.buf[range]
    }

    /// Reads the next whole message: data comes whole, control frames as
    /// they are. The one reassembly path of the blocking layer.
    pub(crate) fn read_message<L: ReadLink>(&mut self, link: &mut L) -> Result<Message> {
        self.begin_read();
        let result = self.read_message_inner(link);
        self.end_read(None);
        result
    }

    fn read_message_inner<L: ReadLink>(&mut self, link: &mut L) -> Result<Message> {
        loop {
            let (kind, fin) = match self.read_payload_into_message(link)? {
                Some(piece) => piece,
                None => match self.next_step(link)? {
                    Step::Control(message) => return Ok(message),
                    Step::Piece {
                        kind, range, fin, ..
                    } => {
                        if self.skip_message {
                            self.skip_message = !fin;
                            continue;
                        }
                        // Kept here until the message ends, so a timeout
                        // between fragments loses nothing.
                        self.append_piece(range);
                        (kind, fin)
                    }
                },
            };
            if fin {
                let data = core::mem::take(&mut self.message);
                return Ok(match kind {
                    // The core checked the text as it arrived (and failed
                    // the connection at the first bad byte); std's
                    // conversion checks once more, the only way to a
                    // `String` in safe code.
                    DataKind::Text => {
                        Message::Text(String::from_utf8(data).map_err(|_| Error::InvalidUtf8)?)
                    }
                    DataKind::Binary => Message::Binary(data),
                });
            }
        }
    }

    /// The operation's deadline, if it has one and it has passed.
    fn check_deadline(&self) -> Result<()> {
        match self.deadline {
            Some(deadline) if Instant::now() >= deadline => Err(Error::Timeout),
            _ => Ok(()),
        }
    }

    /// The large-payload path of `read`: when the read buffer is empty and
    /// the frame in progress still has at least `DIRECT_READ` bytes of
    /// payload to come, they are read straight into the message, instead
    /// of into the buffer and then copied: one copy fewer per byte, and
    /// reads that grow with the peer's pace (`direct_room`, up to
    /// `RESERVE_AHEAD`) instead of the buffer's size. The core then takes the bytes where they lie (it unmasks
    /// them in place and checks text as UTF-8), exactly as it would in the
    /// buffer; never more than the frame's payload is read, so no byte of
    /// the next frame lands in the message. `None`: the path does not apply
    /// (or the peer ended TCP), and the ordinary path goes on.
    // In bounds: `at + n <= message.len()` after the read, and the core's
    // piece lies inside what it was given.
    #[allow(clippy::indexing_slicing)]
    fn read_payload_into_message<L: ReadLink>(
        &mut self,
        link: &mut L,
    ) -> Result<Option<(DataKind, bool)>> {
        #[cfg(feature = "deflate")]
        if self.inflating.is_some() {
            return Ok(None);
        }
        // Control payloads are at most 125 bytes: this is a data frame.
        let remaining = usize::try_from(self.receiver.payload_remaining()).unwrap_or(usize::MAX);
        if self.start != self.end || self.skip_message || remaining < DIRECT_READ {
            return Ok(None);
        }
        self.check_deadline()?;
        let retry = self.before_read(link)?;
        let want = remaining.min(self.direct_room);
        let mut message = core::mem::take(&mut self.message);
        let at = message.len();
        grow_message(&mut message, at + want, 0, self.max_message);
        // Safe Rust reads only into initialised memory: the room is zeroed.
        message.resize(at + want, 0);
        let read = self.read_some(link, &mut message[at..], retry);
        let n = *read.as_ref().unwrap_or(&0);
        message.truncate(at + n);
        self.message = message;
        read?;
        // A read that filled the room suggests more is coming; a short one
        // that the peer sends no faster than this.
        self.direct_room = if n == self.direct_room {
            (self.direct_room * 2).min(RESERVE_AHEAD)
        } else if n < want {
            DIRECT_READ
        } else {
            self.direct_room
        };
        if n == 0 {
            return Ok(None);
        }
        let (receiver, message) = (&mut self.receiver, &mut self.message);
        let outcome = link.shared(|shared| {
            receiver
                .receive(shared, &mut message[at..])
                .map(|received| match received.event {
                    Some(Event::Data {
                        kind, bytes, fin, ..
                    }) if received.consumed == n && bytes.len() == n => Some((kind, fin)),
                    _ => None,
                })
        });
        if let Ok(Some((_, fin))) = outcome {
            if fin && self.idle_timeout.is_some() {
                self.last_message = Instant::now();
            }
            return outcome;
        }
        // Not a piece of the message (the peer's Close came first, and what
        // follows it is dropped), or a broken rule: the bytes are not kept.
        self.message.truncate(at);
        match outcome {
            Err(Error::ConnectionClosed) => Err(Error::ConnectionClosed),
            Err(error) => Err(self.fail(link, error)),
            Ok(_) => Ok(None),
        }
    }

    /// Adds a piece to the message being reassembled.
    // In bounds: ranges come from `next_step`, inside `start..end` of the buffer.
    #[allow(clippy::indexing_slicing)]
    fn append_piece(&mut self, range: Range<usize>) {
        let mut message = core::mem::take(&mut self.message);
        // The rest of the frame, as its header announced it: room for it is
        // reserved ahead, but never more than `RESERVE_AHEAD` beyond the
        // bytes that arrived, so a peer that announces much and sends
        // little makes this side hold little. (Inflated pieces have no
        // announced length.)
        #[cfg(feature = "deflate")]
        let announced = if self.from_inflated {
            0
        } else {
            self.receiver.payload_remaining()
        };
        #[cfg(not(feature = "deflate"))]
        let announced = self.receiver.payload_remaining();
        let ahead = usize::try_from(announced).map_or(RESERVE_AHEAD, |a| a.min(RESERVE_AHEAD));
        let piece = self.piece(range);
        let needed = message.len() + piece.len();
        // At once to the announced rest: that saves a 64 KiB message the
        // copies of growing through 4, 8, 16 and 32 KiB.
        grow_message(&mut message, needed, ahead, self.max_message);
        message.extend_from_slice(piece);
        self.message = message;
    }

    /// The next thing the peer said: a piece of a data message (inflated,
    /// if it was compressed) or a control frame. Owed replies are sent (or
    /// handed to the writers) before it returns.
    pub(crate) fn next_step<L: ReadLink>(&mut self, link: &mut L) -> Result<Step> {
        #[cfg(feature = "deflate")]
        if self.inflating.is_some() {
            return self.next_inflated_step(link);
        }
        self.next_wire_step(link)
    }

    /// `next_step` when permessage-deflate was agreed: a compressed piece is
    /// inflated a buffer at a time, and each buffer is handed out as a
    /// piece, until the message's last byte (RFC 7692 §6.2). A rule broken
    /// on the way (bad DEFLATE data, a limit passed by the inflated bytes,
    /// bad UTF-8) fails the connection like a violation on the wire.
    // In bounds: a piece's range lies inside `start..end` of the buffer,
    // which nothing moves while the piece is being inflated.
    #[cfg(feature = "deflate")]
    #[allow(clippy::indexing_slicing)]
    fn next_inflated_step<L: ReadLink>(&mut self, link: &mut L) -> Result<Step> {
        self.from_inflated = false;
        loop {
            let Some(inflating) = &mut self.inflating else {
                return self.next_wire_step(link);
            };
            if let Some(mut piece) = inflating.piece.take() {
                let input = &self.buf[piece.range.clone()];
                let outcome = inflating.inflate(piece.kind, input, piece.fin);
                let inflated = match outcome {
                    Ok(inflated) => inflated,
                    Err(error) => {
                        let receiver = &mut self.receiver;
                        let error = link.shared(|shared| receiver.fail_with(shared, error));
                        return Err(self.fail(link, error));
                    }
                };
                piece.range.start += inflated.consumed;
                let kind = piece.kind;
                // Kept while there is more to inflate from it (or, at the
                // end of a message, more to give out).
                if !inflated.done && (!piece.range.is_empty() || piece.fin) {
                    inflating.piece = Some(piece);
                }
                if inflated.produced > 0 || inflated.done {
                    self.from_inflated = true;
                    return Ok(Step::Piece {
                        kind,
                        range: 0..inflated.produced,
                        fin: inflated.done,
                        compressed: false,
                        new_frame: false,
                    });
                }
                continue;
            }
            match self.next_wire_step(link)? {
                Step::Piece {
                    kind,
                    range,
                    fin,
                    compressed: true,
                    new_frame,
                } => {
                    if new_frame {
                        inflating_begin_frame(&mut self.inflating);
                    }
                    if let Some(inflating) = &mut self.inflating {
                        inflating.piece =
                            Some(super::compression::CompressedPiece { kind, range, fin });
                    }
                }
                other => return Ok(other),
            }
        }
    }

    /// The next thing the peer said, as the wire has it.
    // In bounds: `start < end <= buf.len()` always holds between calls.
    #[allow(clippy::indexing_slicing)]
    fn next_wire_step<L: ReadLink>(&mut self, link: &mut L) -> Result<Step> {
        loop {
            // Checked after every step, so that a peer sending empty frames
            // (which complete no event) cannot stretch an operation.
            self.check_deadline()?;
            if self.start < self.end {
                let (start, end) = (self.start, self.end);
                let (receiver, buf) = (&mut self.receiver, &mut self.buf);
                let role = receiver.role();
                let new_frame = !receiver.is_in_frame();
                let outcome = link.shared(|shared| {
                    let received = receiver.receive(shared, &mut buf[start..end]);
                    let owed = shared.has_pending();
                    received.map(|received| {
                        let consumed = received.consumed;
                        // Only a Close can end the closing handshake.
                        let end_now = matches!(received.event, Some(Event::Close(_)))
                            && shared.end_of_tcp(role) == EndOfTcp::Now;
                        let step = received.event.map(|event| match event {
                            // A data piece is always the last bytes consumed.
                            Event::Data {
                                kind,
                                bytes,
                                fin,
                                compressed,
                            } => Step::Piece {
                                kind,
                                range: start + consumed - bytes.len()..start + consumed,
                                fin,
                                compressed,
                                new_frame,
                            },
                            Event::Ping(p) => Step::Control(Message::Ping(p.to_vec())),
                            Event::Pong(p) => Step::Control(Message::Pong(p.to_vec())),
                            Event::Close(frame) => {
                                Step::Control(Message::Close(frame.map(Into::into)))
                            }
                        });
                        (consumed, step, owed, end_now)
                    })
                });
                let (consumed, step, owed, end_now) = match outcome {
                    Ok(outcome) => outcome,
                    // Bytes after the closing handshake: nothing to fail,
                    // nothing more to read for.
                    Err(Error::ConnectionClosed) => {
                        self.start = self.end;
                        return Err(Error::ConnectionClosed);
                    }
                    Err(error) => return Err(self.fail(link, error)),
                };
                self.start += consumed;
                match &step {
                    Some(Step::Control(Message::Close(frame))) => self.peer_close = frame.clone(),
                    Some(Step::Piece { fin: true, .. }) if self.idle_timeout.is_some() => {
                        self.last_message = Instant::now();
                    }
                    _ => {}
                }
                if owed {
                    link.send_owed()?;
                } else if end_now {
                    // The peer's Close answered ours: a server ends TCP
                    // first (§7.1.1).
                    link.shutdown(Shutdown::Write);
                }
                if let Some(step) = step {
                    return Ok(step);
                }
                if consumed > 0 {
                    continue;
                }
            }
            self.fill(link)?;
        }
    }

    /// The peer broke a rule (§7.1.7): the Close that names it goes out,
    /// then our side of TCP ends (FIN), and what the peer still sends is
    /// read and dropped until it ends its side, within the close timeout
    /// and a byte budget. Only then is the connection dropped, so the peer
    /// reads the Close rather than meeting a reset while it still writes
    /// (a client sending a 16 MiB frame when it is told 1009, say).
    fn fail<L: ReadLink>(&mut self, link: &mut L, error: Error) -> Error {
        let _ = link.send_owed();
        if link.shared(|shared| shared.is_closed()) {
            link.shutdown(Shutdown::Write);
        }
        if !self.eof {
            // A frame refused at its header is still on its way: the peer
            // said how long it is, and it will send all of it before it
            // reads anything of ours, so that much is dropped (within the
            // time limit) rather than reset under it.
            let announced = match &error {
                Error::FrameTooLarge { length, .. } | Error::MessageTooLarge { length, .. } => {
                    usize::try_from(*length).unwrap_or(usize::MAX)
                }
                _ => 0,
            };
            let budget = announced.min(MAX_LINGER_BYTES).max(self.linger_bytes);
            linger(link, self.linger_time, budget);
        }
        link.shutdown(Shutdown::Both);
        self.eof = true;
        link.reader_stopped(true);
        error
    }

    /// Waits for the peer to end TCP (a client after the closing handshake,
    /// §7.1.1; a server after its FIN), dropping what still arrives, until
    /// `deadline`.
    pub(crate) fn drain_to_eof<L: ReadLink>(&mut self, link: &mut L, deadline: Instant) {
        if self.eof {
            return;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        self.start = self.end;
        if linger(link, left, self.linger_bytes) {
            self.eof = true;
            link.reader_stopped(true);
        }
    }

    fn is_going_away(&self) -> bool {
        self.going_away
            .as_ref()
            .is_some_and(|f| f.load(Ordering::SeqCst))
    }

    /// Reads more bytes from the peer into the buffer.
    // In bounds: `make_room` leaves `end < buf.len()`.
    #[allow(clippy::indexing_slicing)]
    fn fill<L: ReadLink>(&mut self, link: &mut L) -> Result<()> {
        let retry = self.before_read(link)?;
        self.make_room();
        let end = self.end;
        let mut buf = core::mem::take(&mut self.buf);
        let read = self.read_some(link, &mut buf[end..], retry);
        self.buf = buf;
        let n = read?;
        if n > 0 {
            // A read that filled all the room suggests more is coming: let
            // the buffer grow for the next one.
            let filled_all = self.end + n == self.buf.len();
            // A short read means the burst is over: give a grown buffer
            // back once it is empty.
            self.shrink = n < self.initial_size;
            self.end += n;
            if filled_all && self.buf.len() < self.max_size {
                let grown = (self.buf.len() * 2).min(self.max_size);
                self.buf.resize(grown, 0);
            }
        }
        Ok(())
    }

    /// What comes before every wait for the peer: the end of the stream
    /// reported, the idle timeout checked, owed frames sent, and no wait at
    /// all once the closing handshake is over. Returns whether an owed
    /// frame is still waiting to go out (the wait is then kept short, to
    /// try again).
    fn before_read<L: ReadLink>(&mut self, link: &mut L) -> Result<bool> {
        if self.eof {
            if self.is_going_away() {
                // The server woke this connection to shut down (§7.4.1: 1001).
                link.going_away("server shutting down");
                return Err(Error::ConnectionClosed);
            }
            let state = link.shared(|shared| shared.state());
            return Err(match state {
                State::Open | State::CloseReceived => Error::AbnormalClosure,
                State::CloseSent | State::Closed => Error::ConnectionClosed,
            });
        }
        // Checked before every wait, so that a peer trickling bytes (which
        // never lets a read time out) is caught as surely as a silent one.
        self.check_idle(link)?;
        let retry = link.before_wait()?;
        // After the closing handshake nothing more will come that anyone
        // should wait for: answer at once instead of blocking on the socket.
        // Except that a client first lets the server end TCP (§7.1.1),
        // waiting for its FIN as long as the close timeout at most.
        let role = self.receiver.role();
        match link.shared(|shared| (shared.state(), shared.end_of_tcp(role))) {
            (State::Closed, EndOfTcp::AfterPeer) => {
                self.drain_to_eof(link, after(self.linger_time));
                link.shutdown(Shutdown::Both);
                Err(Error::ConnectionClosed)
            }
            (State::Closed, _) => Err(Error::ConnectionClosed),
            _ => Ok(retry),
        }
    }

    /// One read from the peer into `dst` (the buffer's free room, or a
    /// message's), waiting within the operation's deadline, waking for
    /// keepalive and owed frames on the way (`retry`: one is still
    /// waiting, from [`before_read`](Self::before_read)). `Ok(0)`: the peer
    /// ended TCP.
    fn read_some<L: ReadLink>(
        &mut self,
        link: &mut L,
        dst: &mut [u8],
        mut retry: bool,
    ) -> Result<usize> {
        let mut shortened = false;
        let result = loop {
            // The wait ends at the operation's deadline, or soon, to try an
            // owed frame again; else at the socket's usual timeout.
            let left = self
                .deadline
                .map(|d| d.saturating_duration_since(Instant::now()));
            if left.is_some_and(|left| left.is_zero()) {
                break Err(Error::Timeout);
            }
            let wait = left.into_iter().chain(retry.then_some(RETRY_OWED)).min();
            if let Some(wait) = wait.filter(|w| self.wake.map_or(true, |usual| *w < usual)) {
                if let Some(Err(e)) = link.set_read_timeout(Some(wait.max(MIN_WAIT))) {
                    break Err(Error::Io(e));
                }
                shortened = true;
            }
            match link.read(dst) {
                Ok(0) => {
                    self.eof = true;
                    // The peer ended TCP: nothing more can come, so end ours
                    // (unless the server woke us to say 1001 first).
                    if !self.is_going_away() {
                        link.shutdown(Shutdown::Both);
                    }
                    link.reader_stopped(true);
                    break Ok(0);
                }
                Ok(n) => {
                    if self.keepalive.is_some() {
                        self.last_heard = Instant::now();
                        self.ping_sent = None;
                    }
                    break Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => {
                    if retry {
                        retry = match link.before_wait() {
                            Ok(retry) => retry,
                            Err(e) => break Err(e),
                        };
                    }
                    if let Err(e) = self.on_idle(link, shortened) {
                        break Err(e);
                    }
                }
                Err(e) => break Err(Error::Io(e)),
            }
        };
        if shortened {
            let _ = link.set_read_timeout(self.wake);
        }
        result
    }

    /// Makes room at the end of the buffer: moves unread bytes to the front,
    /// and shrinks a buffer that grew for a burst once it is empty again.
    fn make_room(&mut self) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.shrink && self.buf.len() > self.initial_size {
                self.buf = Vec::new();
            }
            // Idle between bursts: no inflate buffer either, unless a
            // message is half inflated.
            #[cfg(feature = "deflate")]
            if let Some(inflating) = &mut self.inflating {
                if self.shrink && inflating.piece.is_none() {
                    inflating.release_output();
                }
            }
        } else if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() < self.initial_size {
            self.buf.resize(self.initial_size, 0);
        }
        if self.end == self.buf.len() {
            // Full of unread bytes (the caller holds a piece): grow.
            self.buf.resize(self.buf.len() * 2, 0);
        }
    }

    /// The idle timeout passed with no data message from the peer: tell it
    /// 1001 (going away, RFC 6455 §7.4.1), wait for its answer and the end
    /// of TCP within the close timeout, and report [`Error::IdleTimeout`].
    fn check_idle<L: ReadLink>(&mut self, link: &mut L) -> Result<()> {
        let Some(idle) = self.idle_timeout else {
            return Ok(());
        };
        if self.last_message.elapsed() < idle || link.shared(|shared| shared.state()) != State::Open
        {
            return Ok(());
        }
        link.going_away("idle timeout");
        self.drain_to_eof(link, after(self.linger_time));
        link.shutdown(Shutdown::Both);
        self.eof = true;
        link.reader_stopped(true);
        Err(Error::IdleTimeout)
    }

    /// The socket's read timed out: time for a keepalive ping, or to give
    /// up. `ours` says we shortened the timeout ourselves.
    fn on_idle<L: ReadLink>(&mut self, link: &mut L, ours: bool) -> Result<()> {
        let now = Instant::now();
        if self.deadline.is_some_and(|d| now >= d) {
            return Err(Error::Timeout);
        }
        self.check_idle(link)?;
        if let Some(interval) = self.keepalive {
            match self.ping_sent {
                Some(sent) if now.duration_since(sent) >= interval => {
                    return Err(Error::KeepaliveTimeout)
                }
                None if now.duration_since(self.last_heard) >= interval
                    && link.keepalive_ping(b"wslite keepalive")? =>
                {
                    self.ping_sent = Some(now);
                }
                _ => {}
            }
            return Ok(());
        }
        if ours || self.deadline.is_some() {
            return Ok(());
        }
        // The stream has a timeout we did not set: report it.
        Err(Error::Timeout)
    }
}
