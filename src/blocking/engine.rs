//! The machinery shared by [`WebSocket`](crate::WebSocket) and its split
//! halves: a sending side ([`Tx`]) and a receiving side ([`Rx`]) around the
//! one protocol [`Connection`].
//!
//! Nothing here knows a protocol rule: every rule is the core's. This module
//! only moves bytes between a `std::io` stream and the core, and keeps the
//! three promises the blocking layer makes on top of it:
//!
//! * **control replies go out at once**: after every batch of input, the
//!   pong or Close the core queued is written before `read` returns, and a
//!   protocol violation's Close is written before the error is returned
//!   (RFC 6455 §7.1.7);
//! * **one write per frame** where the stream allows it: header and payload
//!   leave in one vectored write;
//! * **bounded memory**: the read buffer starts small and grows only while
//!   data streams in, up to a limit, and shrinks back when idle; a client
//!   masks a payload it may not modify through a bounded write buffer.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use std::vec::Vec;

use super::message::Message;
use super::random::OsRandom;
use super::Config;
use crate::close::CloseCode;
use crate::error::{Error, Result};
use crate::frame::OpCode;
use crate::protocol::{Connection, ControlFrame, DataKind, Event, Role, State};

/// A function that sets a socket timeout.
pub type SetTimeout<S> = fn(&S, Option<Duration>) -> io::Result<()>;

/// Socket operations that `Read + Write` does not offer: timeouts and
/// shutdown. The blocking layer fills them in for `TcpStream`; a program
/// that wraps a socket (in TLS, say) can pass functions that reach the
/// socket inside, so timeouts, keepalive and `close` work the same.
pub struct SocketOps<S> {
    /// Sets the read timeout of the socket.
    pub set_read_timeout: SetTimeout<S>,
    /// Sets the write timeout of the socket.
    pub set_write_timeout: SetTimeout<S>,
    /// Shuts down one or both directions of the socket.
    pub shutdown: fn(&S, Shutdown) -> io::Result<()>,
}

impl<S> Clone for SocketOps<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for SocketOps<S> {}

impl<S> core::fmt::Debug for SocketOps<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SocketOps")
    }
}

impl SocketOps<TcpStream> {
    /// The operations of a `TcpStream`.
    pub fn tcp() -> Self {
        SocketOps {
            set_read_timeout: TcpStream::set_read_timeout,
            set_write_timeout: TcpStream::set_write_timeout,
            shutdown: TcpStream::shutdown,
        }
    }
}

/// Writes every byte of `parts` with as few calls as the stream allows.
fn write_all_vectored<W: Write>(stream: &mut W, parts: &mut [IoSlice<'_>]) -> io::Result<()> {
    let mut parts = parts;
    IoSlice::advance_slices(&mut parts, 0);
    while !parts.is_empty() {
        match stream.write_vectored(parts) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut parts, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The OS-seeded generator, made on first use: a server never masks, so it
/// never pays for opening the OS's random source.
struct LazyRandom(Option<OsRandom>);

impl crate::RandomSource for LazyRandom {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.get_or_insert_with(OsRandom::new).fill_bytes(dest)
    }
}

/// The sending side: the stream (or the writing handle of it), the protocol
/// state and what sending needs.
pub(crate) struct Tx<S> {
    pub(crate) stream: S,
    pub(crate) conn: Connection,
    rng: LazyRandom,
    /// Frames waiting to go out together in one write: small frames are
    /// gathered here (a client masks them here too), and are written when
    /// the caller asks (`send`, `flush`), when the buffer is full, or at the
    /// latest before the connection blocks to read.
    out: Vec<u8>,
    write_buffer_size: usize,
    auto_pong: bool,
    /// A write failed part-way through a frame: nothing more can be sent.
    broken: bool,
    /// The reader half stopped (split mode): nobody will see the peer's Close.
    pub(crate) reader_done: bool,
    pub(crate) ops: Option<SocketOps<S>>,
}

/// A payload to send: one the sender may mask in place, or one it must copy.
pub(crate) enum Payload<'a> {
    Owned(&'a mut [u8]),
    Borrowed(&'a [u8]),
}

impl<S: Write> Tx<S> {
    pub(crate) fn new(stream: S, role: Role, config: &Config) -> Self {
        Tx {
            stream,
            conn: Connection::new(role, config.limits()),
            rng: LazyRandom(None),
            out: Vec::new(),
            write_buffer_size: config.write_buffer_size.max(64),
            auto_pong: config.auto_pong,
            broken: false,
            reader_done: false,
            ops: None,
        }
    }

    /// Writes the gathered frames followed by `extra` in one vectored write.
    /// A failure leaves the stream mid-frame, so the connection cannot send
    /// again.
    fn write_now(&mut self, extra: &[&[u8]]) -> Result<()> {
        if self.broken {
            return Err(Error::ConnectionClosed);
        }
        let mut slices = [IoSlice::new(&[]); 3];
        slices[0] = IoSlice::new(&self.out);
        for (slot, part) in slices[1..].iter_mut().zip(extra) {
            *slot = IoSlice::new(part);
        }
        let result = write_all_vectored(&mut self.stream, &mut slices[..1 + extra.len()])
            .and_then(|_| self.stream.flush());
        self.out.clear();
        // A burst's large buffer is not kept for an idle connection.
        if self.out.capacity() > 4096 {
            self.out = Vec::new();
        }
        result.map_err(|e| {
            self.broken = true;
            Error::from(e)
        })
    }

    /// Writes the gathered frames, if any.
    pub(crate) fn flush_out(&mut self) -> Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        self.write_now(&[])
    }

    fn write_control(&mut self, frame: &ControlFrame) -> Result<()> {
        self.write_now(&[frame.as_bytes()])
    }

    /// Writes the control frames the core queued: the automatic pong (unless
    /// turned off) and the Close that answers the peer's or fails the
    /// connection. They go out at once, with anything gathered before them.
    pub(crate) fn flush_pending(&mut self) -> Result<()> {
        let mut any = false;
        while let Some(frame) = self.conn.take_pending(&mut self.rng) {
            if frame.opcode() == OpCode::Pong && !self.auto_pong {
                continue;
            }
            self.out.extend_from_slice(frame.as_bytes());
            any = true;
        }
        if any {
            self.write_now(&[])?;
        }
        Ok(())
    }

    /// Sends one data frame: gathered with others when it is small (written
    /// now if `now`), written at once with what was gathered when it is large.
    pub(crate) fn send_data(
        &mut self,
        kind: DataKind,
        fin: bool,
        payload: Payload<'_>,
        now: bool,
    ) -> Result<()> {
        if self.broken {
            return Err(Error::ConnectionClosed);
        }
        self.flush_pending()?;
        let len = match &payload {
            Payload::Owned(p) => p.len(),
            Payload::Borrowed(p) => p.len(),
        };
        let header = self
            .conn
            .encode_data(kind, fin, len as u64, &mut self.rng)?;
        let small = self.out.len() + header.as_bytes().len() + len <= self.write_buffer_size;
        if small {
            // Copied next to the frames before it (and masked there by a
            // client), to leave in one write with them.
            let bytes: &[u8] = match &payload {
                Payload::Owned(p) => p,
                Payload::Borrowed(p) => p,
            };
            self.out.extend_from_slice(header.as_bytes());
            let at = self.out.len();
            self.out.extend_from_slice(bytes);
            header.mask_payload(&mut self.out[at..], 0);
            return if now { self.flush_out() } else { Ok(()) };
        }
        match payload {
            // Large, and the sender may change it: masked in place (by a
            // client), written without a copy.
            Payload::Owned(p) => {
                header.mask_payload(p, 0);
                self.write_now(&[header.as_bytes(), p])
            }
            // Large and borrowed: a server writes it as it is; a client
            // masks it through the bounded buffer, piece by piece.
            Payload::Borrowed(p) if header.mask().is_none() => {
                self.write_now(&[header.as_bytes(), p])
            }
            Payload::Borrowed(p) => {
                self.out.extend_from_slice(header.as_bytes());
                let mut offset = 0;
                for piece in p.chunks(self.write_buffer_size) {
                    let at = self.out.len();
                    self.out.extend_from_slice(piece);
                    offset = header.mask_payload(&mut self.out[at..], offset);
                    if self.out.len() >= self.write_buffer_size {
                        self.write_now(&[])?;
                    }
                }
                self.flush_out()
            }
        }
    }

    /// Sends a whole message in one frame. Refused while a message sent in
    /// fragments is unfinished: the frame would silently continue it.
    pub(crate) fn send_whole(
        &mut self,
        kind: DataKind,
        payload: Payload<'_>,
        now: bool,
    ) -> Result<()> {
        if self.conn.is_sending_fragments() {
            return Err(Error::MessageInProgress);
        }
        self.send_data(kind, true, payload, now)
    }

    /// Sends a whole message; data messages are only gathered unless `now`.
    pub(crate) fn send_message(&mut self, message: Message, now: bool) -> Result<()> {
        match message {
            Message::Text(text) => {
                let mut bytes = text.into_bytes();
                self.send_whole(DataKind::Text, Payload::Owned(&mut bytes), now)
            }
            Message::Binary(mut data) => {
                self.send_whole(DataKind::Binary, Payload::Owned(&mut data), now)
            }
            Message::Ping(data) => self.ping(&data),
            Message::Pong(data) => self.pong(&data),
            Message::Close(frame) => {
                let (code, reason) = match &frame {
                    Some(f) => (f.code, f.reason.as_str()),
                    None => (crate::CloseCode::NORMAL, ""),
                };
                self.send_close(code, reason)
            }
        }
    }

    /// Sends a ping.
    pub(crate) fn ping(&mut self, payload: &[u8]) -> Result<()> {
        self.flush_pending()?;
        let frame = self.conn.encode_ping(payload, &mut self.rng)?;
        self.write_control(&frame)
    }

    /// Sends an unsolicited pong.
    pub(crate) fn pong(&mut self, payload: &[u8]) -> Result<()> {
        self.flush_pending()?;
        let frame = self.conn.encode_pong(payload, &mut self.rng)?;
        self.write_control(&frame)
    }

    /// Sends our Close (or the answer to the peer's), if not sent yet.
    pub(crate) fn send_close(&mut self, code: crate::CloseCode, reason: &str) -> Result<()> {
        // Flush queued pongs first, but not a queued echo: our own Close
        // takes its place (the core swaps them).
        if let Some(frame) = self.conn.take_pending_pong(&mut self.rng) {
            if self.auto_pong {
                self.write_control(&frame)?;
            }
        }
        match self.conn.state() {
            State::Open | State::CloseReceived => {
                let frame = self.conn.encode_close(code, reason, &mut self.rng)?;
                self.write_control(&frame)
            }
            // Already sent.
            State::CloseSent | State::Closed => Ok(()),
        }
    }

    /// Shuts down one or both directions, if the stream allows.
    pub(crate) fn shutdown(&self, how: Shutdown) {
        if let Some(ops) = &self.ops {
            let _ = (ops.shutdown)(&self.stream, how);
        }
    }

    /// Once the closing handshake is done (or the connection failed), our
    /// side of TCP ends: half-closing sends FIN after our last frame, so the
    /// Close is delivered before the connection ends. RFC 6455 §7.1.1 wants
    /// the server to close first; a client MAY close at any time after
    /// sending and receiving a Close, and does so here rather than leave a
    /// half-open socket behind for as long as the program keeps the object.
    fn end_if_closed(&mut self) {
        if self.conn.is_closed() {
            self.shutdown(Shutdown::Write);
        }
    }
}

/// How the receiving code reaches the stream and the sending side: directly
/// (one `WebSocket`), or through a lock (split halves).
pub(crate) trait Link {
    type Stream: Write;
    /// Reads bytes from the peer.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Runs `f` with the sending side (under its lock, when shared).
    fn with_tx<R>(&mut self, f: impl FnOnce(&mut Tx<Self::Stream>) -> R) -> R;
}

/// A `Link` for an unsplit `WebSocket`: one stream for both directions.
pub(crate) struct Direct<'a, S>(pub(crate) &'a mut Tx<S>);

impl<S: Read + Write> Link for Direct<'_, S> {
    type Stream = S;
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.stream.read(buf)
    }
    fn with_tx<R>(&mut self, f: impl FnOnce(&mut Tx<S>) -> R) -> R {
        f(self.0)
    }
}

/// What the receiving side found.
pub(crate) enum Step {
    /// A piece of a data message, at `range` in the read buffer (valid until
    /// the next call).
    Piece {
        kind: DataKind,
        range: Range<usize>,
        fin: bool,
    },
    /// A control frame.
    Control(Message),
}

/// The receiving side: the read buffer, liveness tracking, and the pieces of
/// the message being reassembled.
pub(crate) struct Rx {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    initial_size: usize,
    max_size: usize,
    /// The last read was short: shrink a grown buffer when it is empty.
    shrink: bool,
    eof: bool,
    /// The message being put together by `read`.
    pub(crate) message: Vec<u8>,
    /// The most it may grow to (`Config::max_message_size`).
    max_message: usize,
    /// Discard data pieces until the end of the current message (a streamed
    /// message whose reader was dropped early).
    pub(crate) skip_message: bool,
    keepalive: Option<Duration>,
    read_timeout: Option<Duration>,
    /// A deadline for the current wait, set by `close`.
    pub(crate) deadline: Option<Instant>,
    /// Reading on after the closing handshake, to see the peer end TCP.
    draining: bool,
    /// Set by a [`Server`](super::Server) that is shutting down: the end of
    /// the stream then means "tell the peer 1001", not "the peer left".
    pub(crate) going_away: Option<Arc<AtomicBool>>,
    last_heard: Instant,
    ping_sent: Option<Instant>,
}

impl Rx {
    pub(crate) fn new(config: &Config, leftover: &[u8]) -> Self {
        let initial_size = config.read_buffer_size.max(64);
        let mut buf = Vec::new();
        buf.extend_from_slice(leftover);
        Rx {
            end: buf.len(),
            buf,
            start: 0,
            initial_size,
            max_size: config.max_read_buffer_size.max(initial_size),
            max_message: config.max_message_size,
            shrink: false,
            eof: false,
            message: Vec::new(),
            skip_message: false,
            keepalive: config.keepalive,
            read_timeout: config.read_timeout,
            deadline: None,
            draining: false,
            going_away: None,
            last_heard: Instant::now(),
            ping_sent: None,
        }
    }

    /// The bytes of a piece returned by [`next_step`](Self::next_step).
    pub(crate) fn piece(&self, range: Range<usize>) -> &[u8] {
        &self.buf[range]
    }

    /// Adds a piece to the message being reassembled.
    pub(crate) fn append_piece(&mut self, range: Range<usize>) {
        let piece = &self.buf[range];
        let needed = self.message.len() + piece.len();
        if needed > self.message.capacity() {
            // Grow by doubling, as `Vec` would, but never past the message
            // limit: plain doubling could take twice the limit for a message
            // just over a power of two. (The limit itself was checked from
            // the frame header before any payload arrived.)
            let target = (self.message.capacity() * 2)
                .max(needed)
                .min(self.max_message.max(needed));
            self.message.reserve_exact(target - self.message.len());
        }
        self.message.extend_from_slice(piece);
    }

    /// The socket read timeout this side needs to notice keepalive and read
    /// timeouts in time.
    pub(crate) fn wake_interval(config: &Config) -> Option<Duration> {
        let keepalive = config.keepalive.map(|k| k / 2);
        match (keepalive, config.read_timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map(|d| d.max(Duration::from_millis(1)))
    }

    /// The next thing the peer said: a piece of a data message or a control
    /// frame. Writes the core's control replies before returning.
    pub(crate) fn next_step<L: Link>(&mut self, link: &mut L) -> Result<Step> {
        loop {
            if self.start < self.end {
                let (start, end) = (self.start, self.end);
                let buf = &mut self.buf;
                let outcome = link.with_tx(|tx| -> Result<(usize, Option<Step>)> {
                    let received = match tx.conn.receive(&mut buf[start..end]) {
                        Ok(received) => received,
                        Err(error) => {
                            // Send the Close that names the violation, then
                            // drop the connection (§7.1.7).
                            let _ = tx.flush_pending();
                            tx.end_if_closed();
                            return Err(error);
                        }
                    };
                    let consumed = received.consumed;
                    let step = match received.event {
                        None => None,
                        // A data piece is always the last bytes consumed.
                        Some(Event::Data { kind, bytes, fin }) => Some(Step::Piece {
                            kind,
                            range: start + consumed - bytes.len()..start + consumed,
                            fin,
                        }),
                        Some(Event::Ping(p)) => Some(Step::Control(Message::Ping(p.to_vec()))),
                        Some(Event::Pong(p)) => Some(Step::Control(Message::Pong(p.to_vec()))),
                        Some(Event::Close(frame)) => {
                            Some(Step::Control(Message::Close(frame.map(Into::into))))
                        }
                    };
                    tx.flush_pending()?;
                    tx.end_if_closed();
                    Ok((consumed, step))
                });
                let (consumed, step) = outcome?;
                self.start += consumed;
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

    /// After the closing handshake, a client waits for the server to end
    /// TCP (§7.1.1: the server closes first), discarding anything that
    /// still arrives, until the end of the stream or the deadline.
    pub(crate) fn drain_to_eof<L: Link>(&mut self, link: &mut L) {
        self.draining = true;
        while !self.eof && self.fill(link).is_ok() {
            self.start = self.end;
        }
        self.draining = false;
    }

    fn is_going_away(&self) -> bool {
        self.going_away
            .as_ref()
            .is_some_and(|f| f.load(Ordering::SeqCst))
    }

    /// Reads more bytes from the peer into the buffer.
    fn fill<L: Link>(&mut self, link: &mut L) -> Result<()> {
        if self.eof {
            if self.is_going_away() {
                // The server woke this connection to shut down (§7.4.1: 1001).
                link.with_tx(|tx| {
                    let _ = tx.send_close(CloseCode::GOING_AWAY, "server shutting down");
                    tx.shutdown(Shutdown::Write);
                });
                return Err(Error::ConnectionClosed);
            }
            let state = link.with_tx(|tx| tx.conn.state());
            return Err(match state {
                State::Open | State::CloseReceived => Error::AbnormalClosure,
                State::CloseSent | State::Closed => Error::ConnectionClosed,
            });
        }
        // After the closing handshake nothing more will come that anyone
        // should wait for: answer at once instead of blocking on the socket.
        // Frames gathered by `write` leave now, before we wait for more input
        // (a reply is never held back while nothing else is pending).
        let state = link.with_tx(|tx| tx.flush_out().map(|_| tx.conn.state()))?;
        if !self.draining && state == State::Closed {
            return Err(Error::ConnectionClosed);
        }
        self.make_room();
        let waiting_since = Instant::now();
        loop {
            let end = self.end;
            match link.read(&mut self.buf[end..]) {
                Ok(0) => {
                    self.eof = true;
                    // The peer ended TCP: nothing more can come, so end ours
                    // (unless the server woke us to say 1001 first, below).
                    if !self.is_going_away() {
                        link.with_tx(|tx| tx.shutdown(Shutdown::Both));
                    }
                    return Ok(());
                }
                Ok(n) => {
                    // A read that filled all the room suggests more is
                    // coming: let the buffer grow for the next one.
                    let filled_all = self.end + n == self.buf.len();
                    // A short read means the burst is over: give a grown
                    // buffer back once it is empty.
                    self.shrink = n < self.initial_size;
                    self.end += n;
                    self.last_heard = Instant::now();
                    self.ping_sent = None;
                    if filled_all && self.buf.len() < self.max_size {
                        let grown = (self.buf.len() * 2).min(self.max_size);
                        self.buf.resize(grown, 0);
                    }
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    self.on_idle(link, waiting_since)?;
                }
                Err(e) => return Err(Error::Io(e)),
            }
        }
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

    /// The socket's read timed out: time for a keepalive ping, or to give up.
    fn on_idle<L: Link>(&mut self, link: &mut L, waiting_since: Instant) -> Result<()> {
        let now = Instant::now();
        if self.deadline.is_some_and(|d| now >= d) {
            return Err(Error::Timeout);
        }
        if let Some(interval) = self.keepalive {
            match self.ping_sent {
                Some(sent) if now.duration_since(sent) >= interval => {
                    return Err(Error::KeepaliveTimeout)
                }
                None if now.duration_since(self.last_heard) >= interval => {
                    link.with_tx(|tx| tx.ping(b"wslite keepalive"))?;
                    self.ping_sent = Some(now);
                }
                _ => {}
            }
        }
        match self.read_timeout {
            Some(limit) if now.duration_since(waiting_since) >= limit => Err(Error::Timeout),
            // The stream has a timeout we did not set: report it.
            None if self.keepalive.is_none() && self.deadline.is_none() => Err(Error::Timeout),
            _ => Ok(()),
        }
    }
}

impl Config {
    /// Applies the socket settings of this configuration to a socket.
    pub(crate) fn apply_to<S>(&self, stream: &S, ops: &SocketOps<S>) -> io::Result<()> {
        (ops.set_read_timeout)(stream, Rx::wake_interval(self))?;
        (ops.set_write_timeout)(stream, self.write_timeout)
    }
}
