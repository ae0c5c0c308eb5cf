//! `WebSocket<S>`: a connection over any `Read + Write` stream, after the
//! handshake (RFC 6455 §5, §6, §7): the receiving half and the sending half
//! together, driven from one thread.
//!
//! This is the type most programs hold. `read` returns whole messages,
//! answering pings and Close frames on the way; `send` and its helpers write
//! frames; `close` runs the closing handshake. For messages too large to hold
//! in memory, [`read_stream`](WebSocket::read_stream) hands out one message
//! as an `io::Read`, and [`send_stream`](WebSocket::send_stream) sends one as
//! an `io::Write`, in fragments (§5.4). [`split`](WebSocket::split) parts the
//! two halves for two threads.

use std::boxed::Box;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::string::String;
use std::sync::Arc;
use std::time::Duration;

use super::message::{CloseFrame, Message};
use super::receiving::{ReadHalf, ReadLink, Step};
use super::request::HttpRequest;
use super::sending::{finish_stream, write_stream, Payload, WriteHalf, WriteLink};
use super::stream::{after, SharedStream, SocketOps, TimedRead, TimedWrite};
use super::Config;
use crate::close::CloseCode;
use crate::error::{Error, Result};
use crate::protocol::{Connection, DataKind, EndOfTcp, Role, Shared, State};
use crate::utf8::Utf8Validator;

/// How a `WebSocket` holds its stream: as its own, or shared with a
/// [`Server`](super::Server) that must be able to wake it at shutdown (by
/// shutting the socket down from another thread, on the same descriptor).
pub(crate) enum Io<S> {
    Owned(S),
    Shared {
        stream: Arc<S>,
        read: fn(&S, &mut [u8]) -> io::Result<usize>,
        write: fn(&S, &[IoSlice<'_>]) -> io::Result<usize>,
    },
}

impl<S: SharedStream> Io<S> {
    /// A stream shared with others through `&S`.
    pub(crate) fn shared(stream: Arc<S>) -> Self {
        Io::Shared {
            stream,
            read: S::read_shared,
            write: S::write_vectored_shared,
        }
    }
}

impl<S> Io<S> {
    fn get(&self) -> &S {
        match self {
            Io::Owned(s) => s,
            Io::Shared { stream, .. } => stream,
        }
    }
}

impl<S: Read + Write> Io<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Io::Owned(s) => s.read(buf),
            Io::Shared { stream, read, .. } => read(stream, buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Io::Owned(s) => s.write_vectored(bufs),
            Io::Shared { stream, write, .. } => write(stream, bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Io::Owned(s) => s.flush(),
            // A socket has nothing to flush.
            Io::Shared { .. } => Ok(()),
        }
    }
}

/// A WebSocket connection over a stream `S`.
pub struct WebSocket<S> {
    io: Io<S>,
    ops: Option<SocketOps<S>>,
    // The two halves live on the heap: a `WebSocket` is moved by value
    // (from the handshake to the handler, into `split`), and every frame
    // on a connection thread's stack that held it kept a copy of its bytes;
    // a thread's stack pages, once touched, stay resident while it lives.
    pub(crate) reading: Box<ReadHalf>,
    writing: Box<WriteHalf>,
    shared: Shared,
    config: Config,
    /// The subprotocol the server agreed to, on a client's connection (a
    /// server's is in its `request`).
    pub(crate) protocol: Option<String>,
    /// The opening request, on a connection a server accepted.
    request: Option<Box<HttpRequest>>,
    /// permessage-deflate's parameters, when it was agreed.
    #[cfg(feature = "deflate")]
    compression: Option<crate::permessage_deflate::negotiation::Agreed>,
}

impl<S> WebSocket<S> {
    /// The subprotocol agreed in the handshake, if any.
    pub fn protocol(&self) -> Option<&str> {
        match &self.request {
            Some(request) => request.protocol(),
            None => self.protocol.as_deref(),
        }
    }
}

impl<S> core::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebSocket")
            .field("role", &self.writing.sender.role())
            .field("state", &self.shared.state())
            .field("protocol", &self.protocol())
            .finish_non_exhaustive()
    }
}

/// The sending half's way to the stream, for a whole `WebSocket`.
struct Writes<'a, S> {
    io: &'a mut Io<S>,
    ops: Option<SocketOps<S>>,
    shared: &'a mut Shared,
}

impl<S: Read + Write> TimedWrite for Writes<'_, S> {
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.io.write_vectored(bufs)
    }
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> Option<io::Result<()>> {
        let stream = self.io.get();
        self.ops.map(|ops| (ops.set_write_timeout)(stream, timeout))
    }
}

impl<S: Read + Write> WriteLink for Writes<'_, S> {
    fn flush(&mut self) -> io::Result<()> {
        self.io.flush()
    }
    fn shutdown(&mut self, how: Shutdown) {
        if let Some(ops) = self.ops {
            let _ = (ops.shutdown)(self.io.get(), how);
        }
    }
    fn shared<R>(&mut self, f: impl FnOnce(&mut Shared) -> R) -> R {
        f(self.shared)
    }
}

/// The receiving half's way to the stream and the sending half, for a whole
/// `WebSocket`: one thread does both, so owed frames go out at once.
struct Reads<'a, S> {
    writes: Writes<'a, S>,
    writing: &'a mut WriteHalf,
}

impl<S: Read + Write> TimedRead for Reads<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.writes.io.read(buf)
    }
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Option<io::Result<()>> {
        let stream = self.writes.io.get();
        self.writes
            .ops
            .map(|ops| (ops.set_read_timeout)(stream, timeout))
    }
}

impl<S: Read + Write> ReadLink for Reads<'_, S> {
    fn shared<R>(&mut self, f: impl FnOnce(&mut Shared) -> R) -> R {
        f(self.writes.shared)
    }
    fn send_owed(&mut self) -> Result<()> {
        self.writing.flush_owed(&mut self.writes, None)
    }
    fn before_wait(&mut self) -> Result<bool> {
        // What is owed, and what `write` gathered, leave now.
        self.writing.flush_owed(&mut self.writes, None)?;
        Ok(false)
    }
    fn keepalive_ping(&mut self, payload: &[u8]) -> Result<bool> {
        self.writing.ping(&mut self.writes, payload).map(|()| true)
    }
    fn going_away(&mut self, reason: &str) {
        let _ = self
            .writing
            .send_close(&mut self.writes, CloseCode::GOING_AWAY, reason, None);
        self.writes.shutdown(Shutdown::Write);
    }
    fn shutdown(&mut self, how: Shutdown) {
        self.writes.shutdown(how);
    }
}

impl<S: Read + Write> WebSocket<S> {
    /// Wraps a stream on which the opening handshake has already been done.
    ///
    /// `leftover` holds bytes read past the end of the handshake (frames the
    /// peer sent right after it); they are processed first.
    pub fn from_raw_socket(stream: S, role: Role, config: Config, leftover: &[u8]) -> Self {
        Self::from_io(Io::Owned(stream), role, config, leftover)
    }

    pub(crate) fn from_io(io: Io<S>, role: Role, config: Config, leftover: &[u8]) -> Self {
        let (receiver, sender, shared) = Connection::new(role, config.limits()).into_parts();
        WebSocket {
            io,
            ops: None,
            reading: Box::new(ReadHalf::new(receiver, &config, leftover)),
            writing: Box::new(WriteHalf::new(sender, &config)),
            shared,
            config,
            protocol: None,
            request: None,
            #[cfg(feature = "deflate")]
            compression: None,
        }
    }

    /// Turns permessage-deflate on, as the opening handshake agreed
    /// (RFC 7692): RSV1 becomes legal on a message's first frame, the
    /// peer's compressed messages are inflated, and ours are compressed as
    /// [`Config::compression`] says (its level and threshold; the windows
    /// and context takeover are `agreed`'s). For a handshake done by
    /// [`accept`](super::accept()) or a [`ClientBuilder`](super::ClientBuilder)
    /// this is done already; call it after a handshake of your own that
    /// negotiated the extension with [`crate::permessage_deflate::negotiation`].
    #[cfg(feature = "deflate")]
    pub fn set_compression(&mut self, agreed: crate::permessage_deflate::negotiation::Agreed) {
        let role = self.writing.sender.role();
        let settings = self.config.compression.unwrap_or_default();
        self.reading.receiver.enable_compression();
        self.writing.sender.enable_compression();
        self.reading.inflating = Some(super::compression::Inflating::new(
            agreed.receiving(role),
            self.config.limits(),
        ));
        self.writing.deflating = Some(super::compression::Deflating::new(
            agreed.sending(role),
            &settings,
        ));
        self.compression = Some(agreed);
    }

    /// The permessage-deflate parameters agreed in the handshake, if the
    /// extension is in use.
    #[cfg(feature = "deflate")]
    pub fn compression(&self) -> Option<crate::permessage_deflate::negotiation::Agreed> {
        self.compression
    }

    /// Keeps the opening request a server accepted (and its subprotocol).
    pub(crate) fn set_request(&mut self, request: Box<HttpRequest>) {
        self.request = Some(request);
    }

    /// Gives the connection the socket operations (timeouts, shutdown) of a
    /// stream that is not a plain `TcpStream`, and applies the configured
    /// timeouts through them.
    pub fn set_socket_ops(&mut self, ops: SocketOps<S>) -> Result<()> {
        self.config.apply_to(self.io.get(), &ops)?;
        self.ops = Some(ops);
        Ok(())
    }

    fn reads(&mut self) -> (&mut ReadHalf, Reads<'_, S>) {
        (
            &mut self.reading,
            Reads {
                writes: Writes {
                    io: &mut self.io,
                    ops: self.ops,
                    shared: &mut self.shared,
                },
                writing: &mut self.writing,
            },
        )
    }

    fn writes(&mut self) -> (&mut WriteHalf, Writes<'_, S>) {
        (
            &mut self.writing,
            Writes {
                io: &mut self.io,
                ops: self.ops,
                shared: &mut self.shared,
            },
        )
    }

    /// Reads the next message.
    ///
    /// Data messages come whole. Pings are answered automatically (unless
    /// turned off) and returned, so the application sees them; so are pongs.
    /// The peer's Close is answered and returned as [`Message::Close`]; after
    /// it, `read` returns [`Error::ConnectionClosed`].
    ///
    /// With [`Config::read_timeout`], a read that gets no whole message in
    /// that time returns [`Error::Timeout`], and the connection stays usable:
    /// nothing received so far is lost.
    ///
    /// On a protocol violation the Close frame naming it (1002, 1007, 1009)
    /// has been sent when the error is returned, and the connection is over.
    pub fn read(&mut self) -> Result<Message> {
        let (reading, mut link) = self.reads();
        reading.read_message(&mut link)
    }

    /// Reads the next data message as a stream of bytes, without holding it
    /// in memory. Pings are answered and pongs dropped on the way; the peer's
    /// Close is answered and ends with [`Error::ConnectionClosed`] (the
    /// Close itself is kept: [`peer_close`](Self::peer_close)).
    ///
    /// A reader dropped before the end of its message makes the next read
    /// skip the rest of that message.
    pub fn read_stream(&mut self) -> Result<MessageReader<'_, S>> {
        loop {
            let (reading, mut link) = self.reads();
            reading.begin_read();
            let step = reading.next_step(&mut link);
            reading.end_read(None);
            match step? {
                Step::Control(Message::Close(_)) => return Err(Error::ConnectionClosed),
                Step::Control(_) => continue,
                Step::Piece {
                    kind, range, fin, ..
                } => {
                    if self.reading.skip_message {
                        self.reading.skip_message = !fin;
                        continue;
                    }
                    return Ok(MessageReader {
                        ws: self,
                        kind,
                        range,
                        fin,
                    });
                }
            }
        }
    }

    /// Sends a message now.
    pub fn send(&mut self, message: impl Into<Message>) -> Result<()> {
        let (writing, mut link) = self.writes();
        writing.send_message(&mut link, message.into(), true)
    }

    /// Queues a message to go out with the next ones: small frames are
    /// gathered and written together when the buffer
    /// ([`Config::write_buffer_size`]) fills, on [`flush`](Self::flush) or
    /// [`send`](Self::send), and at the latest when [`read`](Self::read)
    /// would wait for the peer. So a reply is never held back while nothing
    /// else is pending, and a burst of pipelined messages is answered with
    /// one system call instead of one per message. Control frames are never
    /// held back, and [`close`](Self::close) sends what is queued before its
    /// Close; dropping the `WebSocket` does not, so call `flush` first if you
    /// end a connection without `close`.
    pub fn write(&mut self, message: impl Into<Message>) -> Result<()> {
        let (writing, mut link) = self.writes();
        writing.send_message(&mut link, message.into(), false)
    }

    /// Queues a text message, as [`write`](Self::write) does, without
    /// needing an owned `String`.
    pub fn write_text(&mut self, text: &str) -> Result<()> {
        self.send_borrowed(DataKind::Text, text.as_bytes(), false)
    }

    /// Queues a binary message, as [`write`](Self::write) does, without
    /// needing an owned `Vec`.
    pub fn write_binary(&mut self, data: &[u8]) -> Result<()> {
        self.send_borrowed(DataKind::Binary, data, false)
    }

    /// Writes every queued frame.
    pub fn flush(&mut self) -> Result<()> {
        let (writing, mut link) = self.writes();
        writing.flush_out(&mut link)
    }

    /// Sends a text message.
    pub fn send_text(&mut self, text: &str) -> Result<()> {
        self.send_borrowed(DataKind::Text, text.as_bytes(), true)
    }

    /// Sends a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<()> {
        self.send_borrowed(DataKind::Binary, data, true)
    }

    /// Sends a message framed once for many connections, as
    /// [`WsWriter::send_prepared`](super::WsWriter::send_prepared) does:
    /// the prepared frame as it is on a server's connection, masked as
    /// usual on a client's. Sent now, with what [`write`](Self::write)
    /// queued before it.
    pub fn send_prepared(&mut self, message: &super::PreparedMessage) -> Result<()> {
        let (writing, mut link) = self.writes();
        writing.send_prepared(&mut link, message)
    }

    fn send_borrowed(&mut self, kind: DataKind, data: &[u8], now: bool) -> Result<()> {
        let (writing, mut link) = self.writes();
        writing.send_whole(&mut link, kind, Payload::Borrowed(data), now)
    }

    /// Sends a ping (at most 125 bytes).
    pub fn ping(&mut self, payload: &[u8]) -> Result<()> {
        let (writing, mut link) = self.writes();
        writing.ping(&mut link, payload)
    }

    /// Sends an unsolicited pong (at most 125 bytes).
    pub fn pong(&mut self, payload: &[u8]) -> Result<()> {
        let (writing, mut link) = self.writes();
        writing.pong(&mut link, payload)
    }

    /// Sends one message in fragments, as an `io::Write`: each `write` call
    /// sends one frame (§5.4); [`MessageWriter::finish`] sends the last.
    /// Wrap it in a `BufWriter` to choose the fragment size.
    pub fn send_stream(&mut self, kind: DataKind) -> MessageWriter<'_, S> {
        MessageWriter {
            ws: self,
            kind,
            started: false,
            utf8: Utf8Validator::new(),
            finished: false,
        }
    }

    /// Runs the closing handshake (§7.1.2) and ends the TCP connection in
    /// the order §7.1.1 gives, all within [`Config::close_timeout`]
    /// (plus a few milliseconds), whatever the peer does.
    ///
    /// Sends Close with `code` and `reason` (or, if the peer's Close came
    /// first, the answer), reads and discards until the peer's Close
    /// arrives, then ends TCP: a server at once (it closes first), a client
    /// after the server has (or at the deadline). Returns the peer's Close
    /// frame, when one came: `Some` with its code and reason, or `None` if
    /// it had none or never came.
    ///
    /// The wait is bounded only when the stream has socket operations (a
    /// `TcpStream`, or [`set_socket_ops`](Self::set_socket_ops)); otherwise it
    /// lasts until the peer answers, closes, or the stream times out.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<Option<CloseFrame>> {
        let deadline = after(self.config.close_timeout);
        {
            let (writing, mut link) = self.writes();
            writing.send_close(&mut link, code, reason, Some(deadline))?;
        }
        // Wait for the peer's Close...
        let mut result = Ok(());
        self.reading.set_deadline(Some(deadline));
        while self.shared.state() != State::Closed {
            let (reading, mut link) = self.reads();
            match reading.next_step(&mut link) {
                Ok(_) => continue,
                Err(Error::ConnectionClosed | Error::Timeout | Error::AbnormalClosure) => break,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        // ...then end TCP (§7.1.1). A client waits for the server's FIN
        // first. A server has shut its side already and waits for nothing:
        // after a clean handshake the client sends nothing more, so closing
        // cannot reset anything, and a failed connection has already
        // drained what the peer still sent.
        let role = self.writing.sender.role();
        if self.shared.end_of_tcp(role) == EndOfTcp::AfterPeer {
            let (reading, mut link) = self.reads();
            reading.drain_to_eof(&mut link, deadline);
        }
        self.reading.set_deadline(None);
        let (_, mut link) = self.writes();
        link.shutdown(Shutdown::Both);
        result.map(|()| self.reading.peer_close.clone())
    }

    /// The peer's Close frame, once it has come (`None` before, or if it
    /// carried no code).
    pub fn peer_close(&self) -> Option<&CloseFrame> {
        self.reading.peer_close.as_ref()
    }

    /// Where the closing handshake stands.
    pub fn state(&self) -> State {
        self.shared.state()
    }

    /// Which end of the connection this is.
    pub fn role(&self) -> Role {
        self.writing.sender.role()
    }

    /// On a connection a server accepted ([`Server`](super::Server),
    /// [`accept`](super::accept())), the request that opened it: method,
    /// path, query, headers, the peer's and the server's address, the chosen
    /// subprotocol. `None` on a client's connection.
    pub fn request(&self) -> Option<&HttpRequest> {
        self.request.as_deref()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        self.io.get()
    }

    /// The stream, mutably, when this connection holds it alone (not when a
    /// [`Server`](super::Server) shares it to wake the connection at
    /// shutdown). Writing to it directly corrupts the connection.
    pub fn get_mut(&mut self) -> Option<&mut S> {
        match &mut self.io {
            Io::Owned(s) => Some(s),
            Io::Shared { stream, .. } => Arc::get_mut(stream),
        }
    }

    /// The parts, for [`split`](Self::split).
    pub(crate) fn into_halves(self) -> (Io<S>, ReadHalf, WriteHalf, Shared, Config) {
        (
            self.io,
            *self.reading,
            *self.writing,
            self.shared,
            self.config,
        )
    }

    /// Takes the opening request out, for the reader of a split.
    pub(crate) fn take_request(&mut self) -> Option<Box<HttpRequest>> {
        self.request.take()
    }
}

impl WebSocket<TcpStream> {
    /// Wraps a TCP stream on which the handshake has been done, applying the
    /// configured timeouts and `TCP_NODELAY`.
    pub fn from_tcp(
        stream: TcpStream,
        role: Role,
        config: Config,
        leftover: &[u8],
    ) -> Result<Self> {
        stream.set_nodelay(config.nodelay)?;
        let mut ws = WebSocket::from_raw_socket(stream, role, config, leftover);
        ws.set_socket_ops(SocketOps::tcp())?;
        Ok(ws)
    }
}

/// One incoming message as an `io::Read`; see [`WebSocket::read_stream`].
pub struct MessageReader<'a, S: Read + Write> {
    ws: &'a mut WebSocket<S>,
    kind: DataKind,
    /// The unread part of the current piece, in the read buffer.
    range: core::ops::Range<usize>,
    /// Whether the current piece is the message's last.
    fin: bool,
}

impl<S: Read + Write> MessageReader<'_, S> {
    /// Text or binary. A text message's bytes are valid UTF-8 as a whole;
    /// one `read` may end inside a character.
    pub fn kind(&self) -> DataKind {
        self.kind
    }
}

impl<S: Read + Write> Read for MessageReader<'_, S> {
    // In bounds: `n` is the smaller of the two lengths.
    #[allow(clippy::indexing_slicing)]
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.range.is_empty() && !self.fin {
            let (reading, mut link) = self.ws.reads();
            reading.begin_read();
            let step = reading.next_step(&mut link);
            reading.end_read(None);
            match step {
                Ok(Step::Piece { range, fin, .. }) => {
                    self.range = range;
                    self.fin = fin;
                }
                Ok(Step::Control(Message::Close(_))) => {
                    return Err(io::Error::other(Error::ConnectionClosed))
                }
                Ok(Step::Control(_)) => {}
                Err(e) => return Err(io::Error::other(e)),
            }
        }
        let piece = self.ws.reading.piece(self.range.clone());
        let n = piece.len().min(out.len());
        out[..n].copy_from_slice(&piece[..n]);
        self.range.start += n;
        Ok(n)
    }
}

impl<S: Read + Write> Drop for MessageReader<'_, S> {
    fn drop(&mut self) {
        if !(self.fin && self.range.is_empty()) {
            self.ws.reading.skip_message = !self.fin;
        }
    }
}

/// One outgoing message as an `io::Write`; see [`WebSocket::send_stream`]
/// and [`WsWriter::send_stream`](super::WsWriter::send_stream).
pub struct MessageWriter<'a, S: Read + Write> {
    ws: &'a mut WebSocket<S>,
    kind: DataKind,
    started: bool,
    utf8: Utf8Validator,
    finished: bool,
}

impl<S: Read + Write> MessageWriter<'_, S> {
    /// Sends the final (empty) fragment, ending the message.
    pub fn finish(mut self) -> Result<()> {
        self.finish_inner()
    }

    fn finish_inner(&mut self) -> Result<()> {
        let (kind, started, utf8) = (self.kind, self.started, &self.utf8);
        finish_stream(&mut self.finished, kind, started, utf8, |piece| {
            let (writing, mut link) = self.ws.writes();
            writing.send_data(&mut link, piece, true, Payload::Borrowed(&[]), true)
        })
    }
}

impl<S: Read + Write> Write for MessageWriter<'_, S> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let (kind, started) = (self.kind, &mut self.started);
        write_stream(kind, started, &mut self.utf8, data, |piece| {
            let (writing, mut link) = self.ws.writes();
            writing.send_data(&mut link, piece, false, Payload::Borrowed(data), true)
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.ws.flush().map_err(io::Error::other)
    }
}

impl<S: Read + Write> Drop for MessageWriter<'_, S> {
    fn drop(&mut self) {
        // Best effort: a message left open would block every later send.
        let _ = self.finish_inner();
    }
}

impl<S: Read + Write + SharedStream> WebSocket<S> {
    /// Splits the connection into a reader and a writer that can be used
    /// from different threads at the same time, on the same socket (no
    /// descriptor is duplicated). See [`split`](super::split).
    pub fn split(self) -> Result<(super::WsReader<S>, super::WsWriter<S>)> {
        Ok(super::split::split(self))
    }
}
