//! Full duplex across threads: the receiving half and the sending half of a
//! connection, each on its own thread, on one socket.
//!
//! WebSocket is full duplex (RFC 6455 §1.1): either side may send at any
//! time. With blocking I/O that needs two threads, one blocked in `read`
//! while others send. [`WebSocket::split`](crate::WebSocket::split) gives:
//!
//! * a [`WsReader`], owned by one thread, that reads messages;
//! * a [`WsWriter`] that is `Clone + Send + Sync`: any number of threads may
//!   send through it at once.
//!
//! Who owns what:
//!
//! ```text
//!   WsReader ── ReadHalf (core Receiver, read buffer)  ──► reads  ┐
//!       │                                                        ├─ one socket, shared
//!       ├── Mailbox lock: core Shared (owed frames, closing)      │  through `&TcpStream`
//!       │                                                        │
//!   WsWriter ── writers' lock: WriteHalf (core Sender, buffer) ─► writes ┘
//! ```
//!
//! **The reader never waits for a writer.** It parses what it read with
//! only the mailbox lock, which nobody holds across a system call. When the
//! peer is owed a pong or a Close, the reader writes that down in the
//! mailbox and tries the writers' lock without waiting: if it is free, it
//! sends the frame with the socket switched to non-blocking for that one
//! write (a full socket keeps the rest for later; the reader never blocks on
//! a write); if a writer holds it, that writer sends the owed frame right
//! after its own. So the reader goes on draining the socket while writers
//! are blocked on a peer that has stopped reading, which is exactly when the
//! peer needs us to read so that it can go on. (A reader that waited for the
//! writers' lock would deadlock both peers as soon as both directions
//! carried more than the socket buffers hold.)
//!
//! Whole frames never interleave: every frame is written under the writers'
//! lock. [`WsWriter::close`] from any thread runs the closing handshake: it
//! sends Close, waits for the reader to see the peer's answer (bounded by the
//! close timeout), and shuts the socket down, which also ends a `read` still
//! blocked in the reader.

use std::boxed::Box;
use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use super::message::{CloseFrame, Message};
use super::receiving::{ReadHalf, ReadLink};
use super::request::HttpRequest;
use super::sending::{finish_stream, write_stream, Payload, WriteHalf, WriteLink};
use super::socket::{Io, WebSocket};
use super::stream::{after, linger, SharedStream, TimedRead, TimedWrite};
use crate::close::CloseCode;
use crate::error::{Error, Result};
use crate::protocol::{DataKind, EndOfTcp, Role, Shared, State};
use crate::utf8::Utf8Validator;

/// What the reader and the writers tell each other, under a lock that is
/// never held across a system call.
struct Mailbox {
    /// The core's shared state: owed frames, where closing stands.
    shared: Shared,
    /// The peer's Close, once the reader has handed it out (`Some(None)`:
    /// a Close without a code).
    peer_close: Option<Option<CloseFrame>>,
    /// The reader saw the end of the stream.
    eof: bool,
    /// The reader stopped for good (an error, the end, or it was dropped).
    reader_stopped: bool,
}

/// What both halves hold.
struct Common<S> {
    stream: Arc<S>,
    mailbox: Mutex<Mailbox>,
    /// Signalled when the closing handshake completes or the reader stops.
    changed: Condvar,
    /// The sending half, and with it the right to write to the stream.
    writer: Mutex<WriteHalf>,
    /// `close` waits for the writers' lock: other writers step aside.
    closing: AtomicBool,
    /// The reader's last non-blocking write left bytes in the writers'
    /// buffer (the socket was full): it tries again before each wait.
    stuck: AtomicBool,
    role: Role,
    close_timeout: Duration,
}

/// Locks a mutex if nobody holds it (taking the data of a poisoned one, as
/// [`lock`] does).
fn try_lock<T>(mutex: &Mutex<T>) -> Option<MutexGuard<'_, T>> {
    match mutex.try_lock() {
        Ok(guard) => Some(guard),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// Locks a mutex before `deadline`, or gives up: the writers' lock may be
/// held by a writer blocked on a peer that does not read, and `close` must
/// not wait for that writer's own (longer) timeout. Other writers step aside
/// while `close` waits (see `Common::closing`), so only the one in the middle
/// of a frame is waited for.
fn lock_within<T>(mutex: &Mutex<T>, deadline: Instant) -> Option<MutexGuard<'_, T>> {
    let mut pause = Duration::from_micros(100);
    loop {
        if let Some(guard) = try_lock(mutex) {
            return Some(guard);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        std::thread::sleep(pause.min(left));
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// Locks a mutex, taking the data of a poisoned one (a thread that panicked
/// while holding it left it consistent: every change is one assignment).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<S: SharedStream> Common<S> {
    fn mailbox(&self) -> MutexGuard<'_, Mailbox> {
        lock(&self.mailbox)
    }

    /// Runs `f` on the shared state; wakes a waiting `close` when the
    /// closing handshake is over.
    fn with_shared<R>(&self, f: impl FnOnce(&mut Shared) -> R) -> R {
        let mut mailbox = self.mailbox();
        let result = f(&mut mailbox.shared);
        if mailbox.shared.state() == State::Closed {
            self.changed.notify_all();
        }
        result
    }

    /// The reader's way to send what is owed: only if no writer holds the
    /// stream, and without blocking. Returns whether something owed is
    /// still waiting for room in the socket.
    fn send_owed_without_waiting(&self) -> bool {
        // The common case, before every read: nothing owed, nothing stuck.
        if !self.stuck.load(Ordering::SeqCst) && !self.mailbox().shared.has_pending() {
            return false;
        }
        // The writer that holds the stream sends it after its frame.
        let Some(mut writer) = try_lock(&self.writer) else {
            return false;
        };
        let stuck = writer.flush_owed_nonblocking(&mut Writes { common: self }, &mut |on| {
            self.stream.set_nonblocking_shared(on)
        });
        // Only the reader notes frames as owed, so none was added while it
        // held the lock: there is nothing for `after_release` to do here
        // (and it would write blocking, which the reader must never do).
        self.stuck.store(stuck, Ordering::SeqCst);
        stuck
    }

    /// After a writer let go of the stream: if a frame was noted as owed
    /// while it wrote, and nobody else holds the stream now, send it.
    /// Whoever holds the lock next does so otherwise, so no owed frame is
    /// left behind.
    fn after_release(&self) {
        // Two rounds cover a frame owed during the first; a failed write
        // clears what is owed, so this always ends.
        for _ in 0..2 {
            if !self.mailbox().shared.has_pending() {
                return;
            }
            let Some(mut writer) = try_lock(&self.writer) else {
                return;
            };
            let _ = writer.flush_owed(&mut Writes { common: self }, None);
        }
    }

    fn shutdown(&self, how: Shutdown) {
        let _ = self.stream.shutdown_shared(how);
    }
}

/// The sending half's way to the stream and the mailbox.
struct Writes<'a, S> {
    common: &'a Common<S>,
}

impl<S: SharedStream> TimedWrite for Writes<'_, S> {
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.common.stream.write_vectored_shared(bufs)
    }
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> Option<io::Result<()>> {
        Some(self.common.stream.set_write_timeout_shared(timeout))
    }
}

impl<S: SharedStream> WriteLink for Writes<'_, S> {
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn shutdown(&mut self, how: Shutdown) {
        self.common.shutdown(how);
    }
    fn shared<R>(&mut self, f: impl FnOnce(&mut Shared) -> R) -> R {
        self.common.with_shared(f)
    }
}

/// The receiving half's way to the stream, the mailbox and the writers.
struct Reads<'a, S> {
    common: &'a Common<S>,
}

impl<S: SharedStream> TimedRead for Reads<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.common.stream.read_shared(buf)
    }
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Option<io::Result<()>> {
        Some(self.common.stream.set_read_timeout_shared(timeout))
    }
}

impl<S: SharedStream> ReadLink for Reads<'_, S> {
    fn shared<R>(&mut self, f: impl FnOnce(&mut Shared) -> R) -> R {
        self.common.with_shared(f)
    }
    fn send_owed(&mut self) -> Result<()> {
        self.common.send_owed_without_waiting();
        Ok(())
    }
    fn before_wait(&mut self) -> Result<bool> {
        Ok(self.common.send_owed_without_waiting())
    }
    fn keepalive_ping(&mut self, payload: &[u8]) -> Result<bool> {
        let common = self.common;
        // A writer is busy: try again at the next wake-up.
        let Some(mut writer) = try_lock(&common.writer) else {
            return Ok(false);
        };
        writer.queue_ping(&mut Writes { common }, payload)?;
        let stuck = writer.flush_owed_nonblocking(&mut Writes { common }, &mut |on| {
            common.stream.set_nonblocking_shared(on)
        });
        common.stuck.store(stuck, Ordering::SeqCst);
        Ok(true)
    }
    fn going_away(&mut self, reason: &str) {
        let common = self.common;
        let deadline = after(common.close_timeout);
        let Some(mut writer) = lock_within(&common.writer, deadline) else {
            common.shutdown(Shutdown::Both);
            return;
        };
        let _ = writer.send_close(
            &mut Writes { common },
            CloseCode::GOING_AWAY,
            reason,
            Some(deadline),
        );
        common.shutdown(Shutdown::Write);
    }
    fn shutdown(&mut self, how: Shutdown) {
        self.common.shutdown(how);
    }
    fn reader_stopped(&mut self, eof: bool) {
        let mut mailbox = self.common.mailbox();
        mailbox.eof |= eof;
        mailbox.reader_stopped = true;
        self.common.changed.notify_all();
    }
}

/// The reading half; see the [module documentation](self).
pub struct WsReader<S: SharedStream> {
    common: Arc<Common<S>>,
    reading: ReadHalf,
    request: Option<Box<HttpRequest>>,
}

/// The writing half; clone it for every thread that sends.
pub struct WsWriter<S: SharedStream> {
    common: Arc<Common<S>>,
}

impl<S: SharedStream> Clone for WsWriter<S> {
    fn clone(&self) -> Self {
        WsWriter {
            common: Arc::clone(&self.common),
        }
    }
}

impl<S: SharedStream> core::fmt::Debug for WsWriter<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WsWriter")
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl<S: SharedStream> core::fmt::Debug for WsReader<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WsReader")
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// Parts a connection into its halves (see [`WebSocket::split`]).
pub(crate) fn split<S: Read + Write + SharedStream>(
    mut ws: WebSocket<S>,
) -> (WsReader<S>, WsWriter<S>) {
    let role = ws.role();
    let request = ws.take_request();
    let (io, reading, writing, shared, config) = ws.into_halves();
    let stream = match io {
        Io::Owned(stream) => Arc::new(stream),
        Io::Shared { stream, .. } => stream,
    };
    // Split after the peer's Close was read: it is already handed out.
    let close_read =
        matches!(shared.state(), State::CloseReceived | State::Closed) && !shared.is_failed();
    let common = Arc::new(Common {
        stream,
        mailbox: Mutex::new(Mailbox {
            shared,
            peer_close: close_read.then(|| reading.peer_close.clone()),
            eof: reading.eof,
            reader_stopped: false,
        }),
        changed: Condvar::new(),
        writer: Mutex::new(writing),
        closing: AtomicBool::new(false),
        stuck: AtomicBool::new(false),
        role,
        close_timeout: config.close_timeout,
    });
    let reader = WsReader {
        common: Arc::clone(&common),
        reading,
        request,
    };
    (reader, WsWriter { common })
}

impl<S: SharedStream> WsReader<S> {
    /// The request that opened a connection a server accepted, as
    /// [`WebSocket::request`] gives it (kept by the reader after a split).
    pub fn request(&self) -> Option<&HttpRequest> {
        self.request.as_deref()
    }

    /// Reads the next message, as [`WebSocket::read`] does. It never waits
    /// for a writer: see the [module documentation](self).
    pub fn read(&mut self) -> Result<Message> {
        let common = &*self.common;
        let result = self.reading.read_message(&mut Reads { common });
        match &result {
            Ok(Message::Close(frame)) => {
                let mut mailbox = common.mailbox();
                mailbox.peer_close = Some(frame.clone());
                common.changed.notify_all();
            }
            // Nothing received is lost: the connection goes on.
            Ok(_) | Err(Error::Timeout) => {}
            Err(_) => Reads { common }.reader_stopped(false),
        }
        result
    }

    /// The peer's Close frame, once it has come.
    pub fn peer_close(&self) -> Option<CloseFrame> {
        self.common.mailbox().peer_close.clone().flatten()
    }

    /// Where the closing handshake stands.
    pub fn state(&self) -> State {
        self.common.mailbox().shared.state()
    }
}

impl<S: SharedStream> Drop for WsReader<S> {
    fn drop(&mut self) {
        // Nobody will see the peer's Close now: a waiting `close` need not.
        Reads {
            common: &self.common,
        }
        .reader_stopped(false);
    }
}

impl<S: SharedStream> WsWriter<S> {
    /// Runs `f` on the sending half, holding the writers' lock; then sends
    /// what the reader noted as owed meanwhile, if nobody else will.
    fn with_writer<R>(
        &self,
        f: impl FnOnce(&mut WriteHalf, &mut Writes<'_, S>) -> Result<R>,
    ) -> Result<R> {
        let common = &*self.common;
        if common.closing.load(Ordering::SeqCst) {
            return Err(Error::SendAfterClose);
        }
        let result = {
            let mut writer = lock(&common.writer);
            f(&mut writer, &mut Writes { common })
        };
        common.after_release();
        result
    }

    /// Sends a message; the whole frame goes out before any other thread's.
    pub fn send(&self, message: impl Into<Message>) -> Result<()> {
        let message = message.into();
        self.with_writer(|w, link| w.send_message(link, message, true))
    }

    /// Queues a message to go out with the next ones, as
    /// [`WebSocket::write`] does; [`flush`](Self::flush) writes them. (No
    /// reader flushes for the writers: a queued message waits for the next
    /// `send`, `flush` or a full buffer.)
    pub fn write(&self, message: impl Into<Message>) -> Result<()> {
        let message = message.into();
        self.with_writer(|w, link| w.send_message(link, message, false))
    }

    /// Queues a text message without needing an owned `String`.
    pub fn write_text(&self, text: &str) -> Result<()> {
        self.send_borrowed(DataKind::Text, text.as_bytes(), false)
    }

    /// Queues a binary message without needing an owned `Vec`.
    pub fn write_binary(&self, data: &[u8]) -> Result<()> {
        self.send_borrowed(DataKind::Binary, data, false)
    }

    /// Writes every queued frame.
    pub fn flush(&self) -> Result<()> {
        self.with_writer(|w, link| w.flush_out(link))
    }

    /// Sends a text message.
    pub fn send_text(&self, text: &str) -> Result<()> {
        self.send_borrowed(DataKind::Text, text.as_bytes(), true)
    }

    /// Sends a binary message.
    pub fn send_binary(&self, data: &[u8]) -> Result<()> {
        self.send_borrowed(DataKind::Binary, data, true)
    }

    /// Sends a message framed once for many connections (a broadcast):
    /// on a server's connection the prepared frame goes out as it is, with
    /// no copy and no encoding of its own; on a client's, the message is
    /// masked as usual (RFC 6455 §5.3). It is sent now, never queued, and
    /// refused exactly as [`send_binary`](Self::send_binary) would refuse
    /// it. See [`PreparedMessage`](super::PreparedMessage).
    pub fn send_prepared(&self, message: &super::PreparedMessage) -> Result<()> {
        self.with_writer(|w, link| w.send_prepared(link, message))
    }

    fn send_borrowed(&self, kind: DataKind, data: &[u8], now: bool) -> Result<()> {
        self.with_writer(|w, link| w.send_whole(link, kind, Payload::Borrowed(data), now))
    }

    /// Sends a ping (at most 125 bytes).
    pub fn ping(&self, payload: &[u8]) -> Result<()> {
        self.with_writer(|w, link| w.ping(link, payload))
    }

    /// Sends an unsolicited pong (at most 125 bytes).
    pub fn pong(&self, payload: &[u8]) -> Result<()> {
        self.with_writer(|w, link| w.pong(link, payload))
    }

    /// Sends one message in fragments, as an `io::Write`, as
    /// [`WebSocket::send_stream`] does. It holds the writers' lock until it
    /// is finished or dropped: other threads' messages wait (§5.4 allows no
    /// other data frame inside a fragmented message), while owed pongs still
    /// go out between its fragments.
    pub fn send_stream(&self, kind: DataKind) -> WsMessageWriter<'_, S> {
        WsMessageWriter {
            writer: Some(lock(&self.common.writer)),
            common: &self.common,
            kind,
            started: false,
            utf8: Utf8Validator::new(),
            finished: false,
        }
    }

    /// Runs the closing handshake from any thread: sends Close (waiting for
    /// a writer in the middle of a frame to finish it; later sends are
    /// refused), waits for the reader to see the peer's answer and, for a
    /// client, the server's end of TCP (§7.1.1), then shuts the socket
    /// down, which also ends a `read` still blocked in the reader. All of it
    /// within the close timeout. Returns the peer's Close frame, when one
    /// came. If another thread's send is stuck in the middle of a frame for
    /// the whole close timeout (the peer stopped reading), no Close can go
    /// out: the connection is failed and shut down, and `close` returns
    /// [`Error::WriteTimeout`].
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<Option<CloseFrame>> {
        let common = &*self.common;
        let deadline = after(common.close_timeout);
        common.closing.store(true, Ordering::SeqCst);
        let sent = match lock_within(&common.writer, deadline) {
            Some(mut writer) => {
                writer.send_close(&mut Writes { common }, code, reason, Some(deadline))
            }
            // A writer is stuck in the middle of a frame, on a peer that
            // does not read: no Close can go out after it. The connection is
            // failed; shutting the socket down also ends that writer's wait.
            None => {
                common.with_shared(Shared::abort);
                common.shutdown(Shutdown::Both);
                return Err(Error::WriteTimeout);
            }
        };
        common.after_release();
        let mut mailbox = common.mailbox();
        if sent.is_ok() {
            // The reader sees the peer's Close (or stops)...
            let left = deadline.saturating_duration_since(Instant::now());
            mailbox = common
                .changed
                .wait_timeout_while(mailbox, left, |m| {
                    // Closed, and the reader has recorded the peer's Close
                    // (it changes the state a moment before it returns the
                    // frame), or it stopped, or the connection failed.
                    let answered = m.shared.state() == State::Closed && m.peer_close.is_some();
                    !(answered || m.reader_stopped || m.shared.is_failed())
                })
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        let peer_close = mailbox.peer_close.clone().flatten();
        let wait_for_fin =
            !mailbox.eof && mailbox.shared.end_of_tcp(common.role) == EndOfTcp::AfterPeer;
        drop(mailbox);
        if wait_for_fin {
            // ...then a client lets the server end TCP first (§7.1.1). The
            // reader may have stopped reading after the Close, so this
            // thread waits for the FIN itself: nothing but the end can
            // arrive after the closing handshake, whoever reads it.
            let left = deadline.saturating_duration_since(Instant::now());
            if linger(&mut Reads { common }, left, 1 << 20) {
                common.mailbox().eof = true;
            }
        }
        common.shutdown(Shutdown::Both);
        sent.map(|()| peer_close)
    }

    /// Where the closing handshake stands.
    pub fn state(&self) -> State {
        self.common.mailbox().shared.state()
    }
}

/// One outgoing message as an `io::Write` through a [`WsWriter`]; see
/// [`WsWriter::send_stream`].
pub struct WsMessageWriter<'a, S: SharedStream> {
    writer: Option<MutexGuard<'a, WriteHalf>>,
    common: &'a Common<S>,
    kind: DataKind,
    started: bool,
    utf8: Utf8Validator,
    finished: bool,
}

impl<S: SharedStream> WsMessageWriter<'_, S> {
    /// Sends the final (empty) fragment, ending the message.
    pub fn finish(mut self) -> Result<()> {
        self.finish_inner()
    }

    fn finish_inner(&mut self) -> Result<()> {
        let (kind, started, utf8, common) = (self.kind, self.started, &self.utf8, self.common);
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        finish_stream(&mut self.finished, kind, started, utf8, |piece| {
            writer.send_data(
                &mut Writes { common },
                piece,
                true,
                Payload::Borrowed(&[]),
                true,
            )
        })
    }
}

impl<S: SharedStream> Write for WsMessageWriter<'_, S> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let (kind, common) = (self.kind, self.common);
        let Some(writer) = self.writer.as_mut() else {
            return Err(io::Error::other(Error::ConnectionClosed));
        };
        write_stream(kind, &mut self.started, &mut self.utf8, data, |piece| {
            writer.send_data(
                &mut Writes { common },
                piece,
                false,
                Payload::Borrowed(data),
                true,
            )
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<S: SharedStream> Drop for WsMessageWriter<'_, S> {
    fn drop(&mut self) {
        // Best effort: a message left open would block every later send.
        let _ = self.finish_inner();
        drop(self.writer.take());
        self.common.after_release();
    }
}
