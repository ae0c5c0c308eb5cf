//! The stream under a connection: what the blocking layer needs of it
//! beyond `Read + Write`, and the waits it bounds.
//!
//! Three things live here, each used by the server, the client and the
//! connection alike:
//!
//! * **[`SocketOps`]**: timeouts and shutdown, which `Read + Write` does not
//!   offer. A `TcpStream` has them; a program that wraps a socket (in TLS,
//!   say) passes functions that reach the socket inside.
//! * **[`SharedStream`]**: a socket whose `&` handle reads and writes
//!   (`&TcpStream` is `Read + Write`). One reading thread and any number of
//!   writing threads then share *one* descriptor: nothing is duplicated.
//! * **Bounded waits**: a timeout bounds an operation, never one system
//!   call. `write_all_within` computes its deadline once and shortens the
//!   socket's timeout to what is left after every partial write, so a peer
//!   that takes one byte a second cannot stretch a send;
//!   `read_head` does the same for an HTTP head; `linger` ends a
//!   connection in stages (RFC 9112 §9.6) within a time and byte budget.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};
use std::vec::Vec;

use super::Config;
use crate::error::{Error, Result};
use crate::handshake::head::HeadScanner;

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
        Self::shared()
    }
}

impl<S: SharedStream> SocketOps<S> {
    /// The operations of a [`SharedStream`].
    pub fn shared() -> Self {
        SocketOps {
            set_read_timeout: S::set_read_timeout_shared,
            set_write_timeout: S::set_write_timeout_shared,
            shutdown: S::shutdown_shared,
        }
    }
}

/// A socket that reads and writes through a shared reference, as
/// `&TcpStream` does: one thread can read while others write, on one
/// descriptor. [`WebSocket::split`](crate::WebSocket::split) and
/// [`Server`](crate::Server) need it; it is implemented for `TcpStream` and,
/// on Unix, `UnixStream`.
pub trait SharedStream: Send + Sync + Sized {
    /// Reads, as `Read::read` on `&Self`.
    fn read_shared(&self, buf: &mut [u8]) -> io::Result<usize>;
    /// Writes, as `Write::write_vectored` on `&Self`.
    fn write_vectored_shared(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    /// Sets the read timeout.
    fn set_read_timeout_shared(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Sets the write timeout.
    fn set_write_timeout_shared(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Turns non-blocking mode on or off (for the whole socket).
    fn set_nonblocking_shared(&self, nonblocking: bool) -> io::Result<()>;
    /// Shuts down one or both directions.
    fn shutdown_shared(&self, how: Shutdown) -> io::Result<()>;
}

macro_rules! shared_stream {
    ($ty:ty) => {
        impl SharedStream for $ty {
            fn read_shared(&self, buf: &mut [u8]) -> io::Result<usize> {
                let mut me: &Self = self;
                me.read(buf)
            }
            fn write_vectored_shared(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
                let mut me: &Self = self;
                me.write_vectored(bufs)
            }
            fn set_read_timeout_shared(&self, timeout: Option<Duration>) -> io::Result<()> {
                self.set_read_timeout(timeout)
            }
            fn set_write_timeout_shared(&self, timeout: Option<Duration>) -> io::Result<()> {
                self.set_write_timeout(timeout)
            }
            fn set_nonblocking_shared(&self, nonblocking: bool) -> io::Result<()> {
                self.set_nonblocking(nonblocking)
            }
            fn shutdown_shared(&self, how: Shutdown) -> io::Result<()> {
                self.shutdown(how)
            }
        }
    };
}

shared_stream!(TcpStream);
#[cfg(unix)]
shared_stream!(std::os::unix::net::UnixStream);

/// Whether an I/O error is a timeout (std says `WouldBlock` on Unix and
/// `TimedOut` on Windows for the same event).
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A stream that writes and whose write timeout can be set: what
/// [`write_all_within`] needs.
pub(crate) trait TimedWrite {
    /// One write call.
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    /// Sets the write timeout; `None` when the stream has no socket
    /// operations to set it with.
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> Option<io::Result<()>>;
}

/// A stream that reads and whose read timeout can be set: what [`linger`]
/// needs.
pub(crate) trait TimedRead {
    /// One read call.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Sets the read timeout; `None` when the stream has no socket
    /// operations to set it with.
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Option<io::Result<()>>;
}

/// A plain stream with its optional socket operations.
pub(crate) struct WithOps<'a, S> {
    pub(crate) stream: &'a mut S,
    pub(crate) ops: Option<SocketOps<S>>,
}

impl<S: Write> TimedWrite for WithOps<'_, S> {
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.stream.write_vectored(bufs)
    }
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> Option<io::Result<()>> {
        self.ops
            .map(|ops| (ops.set_write_timeout)(self.stream, timeout))
    }
}

impl<S: Read> TimedRead for WithOps<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.read(buf)
    }
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Option<io::Result<()>> {
        self.ops
            .map(|ops| (ops.set_read_timeout)(self.stream, timeout))
    }
}

/// The deadline of one operation, computed when it first writes (a send
/// that only queues reads no clock), then held for the rest of the
/// operation, across every write call it makes.
pub(crate) struct Deadline {
    timeout: Option<Duration>,
    at: Option<Instant>,
    /// A deadline of the caller's (the close timeout's) that may come sooner.
    cap: Option<Instant>,
}

impl Deadline {
    /// `timeout` from the first write on (`None`: no limit).
    pub(crate) fn after(timeout: Option<Duration>) -> Self {
        Deadline {
            timeout,
            at: None,
            cap: None,
        }
    }

    /// A fixed instant (`None`: no limit).
    pub(crate) fn at(at: Option<Instant>) -> Self {
        Deadline {
            timeout: None,
            at: None,
            cap: at,
        }
    }

    /// Also ends at `cap`, if that comes first.
    pub(crate) fn capped(mut self, cap: Option<Instant>) -> Self {
        self.cap = match (self.cap, cap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self
    }

    /// The instant, computing it now if it was not yet.
    pub(crate) fn get(&mut self) -> Option<Instant> {
        if self.at.is_none() {
            self.at = self.timeout.map(after);
        }
        match (self.at, self.cap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Writes every byte of `parts` before `deadline`, with as few calls as the
/// stream allows.
///
/// The socket's write timeout bounds each call; after a partial write it is
/// shortened to the time left, so the calls together never outlast the
/// deadline, however little the peer takes each time. The timeout in force
/// before (`usual`) is put back at the end. A stream with no socket
/// operations is bounded only by its own timeout, if any. A timeout gives
/// [`Error::WriteTimeout`]; the stream may then hold part of a frame.
pub(crate) fn write_all_within<W: TimedWrite + ?Sized>(
    stream: &mut W,
    parts: &mut [IoSlice<'_>],
    deadline: &mut Deadline,
    usual: Option<Duration>,
) -> Result<()> {
    let mut parts = parts;
    IoSlice::advance_slices(&mut parts, 0);
    if parts.is_empty() {
        return Ok(());
    }
    // Computed once, before the first call, for the whole operation.
    let deadline = deadline.get();
    let mut shortened = false;
    let result = loop {
        if parts.is_empty() {
            break Ok(());
        }
        let wait = match stream.write_vectored(parts) {
            Ok(0) => break Err(Error::Io(io::ErrorKind::WriteZero.into())),
            Ok(n) => {
                IoSlice::advance_slices(&mut parts, n);
                if parts.is_empty() {
                    break Ok(());
                }
                // A partial write: the peer is slow. What is left of the
                // deadline bounds the next call.
                true
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => false,
            // The socket's own timeout fired: give up if the deadline has
            // passed, else wait out the rest.
            Err(e) if is_timeout(&e) && deadline.is_some() => true,
            // No deadline of ours: the stream's own timeout fired.
            Err(e) if is_timeout(&e) => break Err(Error::WriteTimeout),
            Err(e) => break Err(Error::Io(e)),
        };
        if let (true, Some(deadline)) = (wait, deadline) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break Err(Error::WriteTimeout);
            }
            if let Some(Err(e)) = stream.set_write_timeout(Some(left.max(MIN_WAIT))) {
                break Err(Error::Io(e));
            }
            shortened = true;
        }
    };
    if shortened {
        let _ = stream.set_write_timeout(usual);
    }
    result
}

/// The shortest socket timeout set: std refuses a zero duration.
pub(crate) const MIN_WAIT: Duration = Duration::from_millis(1);

/// The timeout to give a socket for `timeout`: zero is an error to a
/// socket, so the shortest wait stands in for it.
pub(crate) fn socket_timeout(timeout: Option<Duration>) -> Option<Duration> {
    timeout.map(|t| t.max(MIN_WAIT))
}

/// A span that stands for "never" where an instant is needed: a hundred
/// years. Longer timeouts (up to `Duration::MAX`) are cut to it, since
/// `Instant + Duration::MAX` overflows.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The instant `timeout` from now; a timeout too long to add (such as
/// `Duration::MAX`) ends a hundred years from now instead of panicking.
pub(crate) fn after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout.min(FOREVER))
        .or_else(|| now.checked_add(Duration::from_secs(3600)))
        .unwrap_or(now)
}

/// Writes `bytes` to a stream within `deadline`, through its socket
/// operations when it has them: a handshake's request or answer.
pub(crate) fn write_head_within<S: Write>(
    stream: &mut S,
    bytes: &[u8],
    deadline: Option<Instant>,
    ops: Option<SocketOps<S>>,
) -> Result<()> {
    if let (Some(ops), Some(deadline)) = (ops, deadline) {
        let left = deadline.saturating_duration_since(Instant::now());
        (ops.set_write_timeout)(stream, Some(left.max(MIN_WAIT)))?;
    }
    let mut parts = [IoSlice::new(bytes)];
    let mut with_ops = WithOps { stream, ops };
    write_all_within(&mut with_ops, &mut parts, &mut Deadline::at(deadline), None)?;
    with_ops.stream.flush()?;
    Ok(())
}

/// Before one read of an operation that must end by `deadline`: sets the
/// stream's read timeout to what is left. `Ok(false)` once the deadline has
/// passed. Without socket operations the stream keeps its own timeout.
pub(crate) fn time_left<R: TimedRead + ?Sized>(
    stream: &mut R,
    deadline: Option<Instant>,
) -> io::Result<bool> {
    let Some(deadline) = deadline else {
        return Ok(true);
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Ok(false);
    }
    stream.set_read_timeout(Some(left)).unwrap_or(Ok(()))?;
    Ok(true)
}

/// Reads a handshake head from `stream` into `buf` until the scanner finds
/// its end, within `deadline` (the whole head, however it trickles in).
/// Returns the head's length; bytes after it are already in `buf`.
// In bounds: `start` is the buffer's length before it grew by 1024 bytes.
#[allow(clippy::indexing_slicing)]
pub(crate) fn read_head<S: Read>(
    stream: &mut S,
    ops: Option<SocketOps<S>>,
    buf: &mut Vec<u8>,
    config: &Config,
    deadline: Option<Instant>,
) -> Result<usize> {
    let limits = config.head_limits();
    let mut scanner = HeadScanner::new();
    let mut stream = WithOps { stream, ops };
    loop {
        if let Some(len) = scanner.scan(buf, &limits, limits.max_headers)? {
            return Ok(len);
        }
        if !time_left(&mut stream, deadline)? {
            return Err(Error::Timeout);
        }
        // Read straight into the heap buffer: a connection thread's stack
        // pages stay resident for as long as the connection lives.
        let start = buf.len();
        buf.resize(start + 1024, 0);
        let read = stream.read(&mut buf[start..]);
        buf.truncate(start + *read.as_ref().unwrap_or(&0));
        match read {
            Ok(0) => return Err(Error::AbnormalClosure),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// How long, at most, a refused handshake's connection lingers.
pub(crate) const REFUSAL_LINGER_TIME: Duration = Duration::from_millis(500);
/// How many unread bytes, at most, a refused handshake's connection drops.
pub(crate) const REFUSAL_LINGER_BYTES: usize = 64 << 10;

/// Ends a connection in stages, without losing what was last sent to it.
///
/// Closing a TCP socket that still has unread bytes, or that receives more
/// bytes after it closed, sends a reset instead of a normal end. A peer told
/// "no" mid-way through what it sends (an HTTP head over the size limit, a
/// WebSocket frame over the frame limit) always has bytes in flight, so it
/// meets that reset while still writing: its write fails (`ECONNRESET`,
/// `EPIPE`), and most programs report that error without ever reading the
/// answer that explains it. Some TCP stacks also let the reset erase the
/// answer from the peer's input buffers before it is read (RFC 9112 §9.6
/// warns of this; Linux keeps the bytes). So the close goes in stages, as
/// that section prescribes: shut the writing side (the peer reads the
/// answer, then the end), read and drop what it still sends until it ends
/// its side, and only then close. Bounded in time and in bytes, so a peer
/// that keeps sending holds the thread for at most `time`.
///
/// Without socket operations to set a read timeout with, it does not
/// linger. Returns whether the peer ended its side.
pub(crate) fn linger<R: TimedRead + ?Sized>(stream: &mut R, time: Duration, bytes: usize) -> bool {
    // Unbounded in time without a read timeout: not worth the risk.
    if stream.set_read_timeout(Some(time.max(MIN_WAIT))).is_none() {
        return false;
    }
    let deadline = Some(after(time));
    let mut sink = [0u8; 4096];
    let mut dropped = 0;
    while dropped < bytes {
        if !matches!(time_left(stream, deadline), Ok(true)) {
            return false;
        }
        match stream.read(&mut sink) {
            Ok(0) => return true,
            Ok(n) => dropped += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    false
}

/// [`linger`] over a stream with socket operations, after shutting its
/// writing side: how a refused handshake ends.
pub(crate) fn close_after_answer<S: Read>(stream: &mut S, ops: Option<SocketOps<S>>) {
    let Some(ops) = ops else {
        return;
    };
    if (ops.shutdown)(stream, Shutdown::Write).is_err() {
        return;
    }
    linger(
        &mut WithOps {
            stream,
            ops: Some(ops),
        },
        REFUSAL_LINGER_TIME,
        REFUSAL_LINGER_BYTES,
    );
}
