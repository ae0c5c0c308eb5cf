//! `WebSocket<S>`: a connection over any `Read + Write` stream, after the
//! handshake (RFC 6455 §5, §6, §7).
//!
//! This is the type most programs hold. `read` returns whole messages,
//! answering pings and Close frames on the way; `send` and its helpers write
//! frames; `close` runs the closing handshake. For messages too large to hold
//! in memory, [`read_stream`](WebSocket::read_stream) hands out one message
//! as an `io::Read`, and [`send_stream`](WebSocket::send_stream) sends one as
//! an `io::Write`, in fragments (§5.4).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::string::String;
use std::time::Instant;

use super::engine::{Direct, Payload, Rx, SocketOps, Step, Tx};
use super::message::Message;
use super::Config;
use crate::close::CloseCode;
use crate::error::{Error, Result};
use crate::protocol::{DataKind, Role, State};
use crate::utf8::Utf8Validator;

/// A WebSocket connection over a stream `S`.
pub struct WebSocket<S> {
    pub(crate) tx: Tx<S>,
    pub(crate) rx: Rx,
    pub(crate) config: Config,
    pub(crate) protocol: Option<String>,
}

impl<S> core::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebSocket")
            .field("role", &self.tx.conn.role())
            .field("state", &self.tx.conn.state())
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl<S: Read + Write> WebSocket<S> {
    /// Wraps a stream on which the opening handshake has already been done.
    ///
    /// `leftover` holds bytes read past the end of the handshake (frames the
    /// peer sent right after it); they are processed first.
    pub fn from_raw_socket(stream: S, role: Role, config: Config, leftover: &[u8]) -> Self {
        WebSocket {
            tx: Tx::new(stream, role, &config),
            rx: Rx::new(&config, leftover),
            config,
            protocol: None,
        }
    }

    /// Gives the connection the socket operations (timeouts, shutdown) of a
    /// stream that is not a plain `TcpStream`, and applies the configured
    /// timeouts through them.
    pub fn set_socket_ops(&mut self, ops: SocketOps<S>) -> Result<()> {
        self.config.apply_to(&self.tx.stream, &ops)?;
        self.tx.ops = Some(ops);
        Ok(())
    }

    /// Reads the next message.
    ///
    /// Data messages come whole. Pings are answered automatically (unless
    /// turned off) and returned, so the application sees them; so are pongs.
    /// The peer's Close is answered and returned as [`Message::Close`]; after
    /// it, `read` returns [`Error::ConnectionClosed`].
    ///
    /// On a protocol violation the Close frame naming it (1002, 1007, 1009)
    /// has been sent when the error is returned.
    pub fn read(&mut self) -> Result<Message> {
        loop {
            match self.rx.next_step(&mut Direct(&mut self.tx))? {
                Step::Control(message) => return Ok(message),
                Step::Piece { kind, range, fin } => {
                    if self.rx.skip_message {
                        self.rx.skip_message = !fin;
                        continue;
                    }
                    self.rx.append_piece(range);
                    if fin {
                        let data = core::mem::take(&mut self.rx.message);
                        return Ok(match kind {
                            // The core validated the text as it arrived.
                            DataKind::Text => Message::Text(
                                String::from_utf8(data).map_err(|_| Error::InvalidUtf8)?,
                            ),
                            DataKind::Binary => Message::Binary(data),
                        });
                    }
                }
            }
        }
    }

    /// Reads the next data message as a stream of bytes, without holding it
    /// in memory. Pings are answered and pongs dropped on the way; the peer's
    /// Close is answered and ends with [`Error::ConnectionClosed`].
    ///
    /// A reader dropped before the end of its message makes the next read
    /// skip the rest of that message.
    pub fn read_stream(&mut self) -> Result<MessageReader<'_, S>> {
        loop {
            match self.rx.next_step(&mut Direct(&mut self.tx))? {
                Step::Control(Message::Close(_)) => return Err(Error::ConnectionClosed),
                Step::Control(_) => continue,
                Step::Piece { kind, range, fin } => {
                    if self.rx.skip_message {
                        self.rx.skip_message = !fin;
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
        self.tx.send_message(message.into(), true)
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
        self.tx.send_message(message.into(), false)
    }

    /// Queues a text message, as [`write`](Self::write) does, without
    /// needing an owned `String`.
    pub fn write_text(&mut self, text: &str) -> Result<()> {
        self.tx
            .send_whole(DataKind::Text, Payload::Borrowed(text.as_bytes()), false)
    }

    /// Queues a binary message, as [`write`](Self::write) does, without
    /// needing an owned `Vec`.
    pub fn write_binary(&mut self, data: &[u8]) -> Result<()> {
        self.tx
            .send_whole(DataKind::Binary, Payload::Borrowed(data), false)
    }

    /// Writes every queued frame.
    pub fn flush(&mut self) -> Result<()> {
        self.tx.flush_out()
    }

    /// Sends a text message.
    pub fn send_text(&mut self, text: &str) -> Result<()> {
        self.tx
            .send_whole(DataKind::Text, Payload::Borrowed(text.as_bytes()), true)
    }

    /// Sends a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<()> {
        self.tx
            .send_whole(DataKind::Binary, Payload::Borrowed(data), true)
    }

    /// Sends a ping (at most 125 bytes).
    pub fn ping(&mut self, payload: &[u8]) -> Result<()> {
        self.tx.ping(payload)
    }

    /// Sends an unsolicited pong (at most 125 bytes).
    pub fn pong(&mut self, payload: &[u8]) -> Result<()> {
        self.tx.pong(payload)
    }

    /// Sends one message in fragments, as an `io::Write`: each `write` call
    /// sends one frame (§5.4); [`MessageWriter::finish`] sends the last.
    /// Wrap it in a `BufWriter` to choose the fragment size.
    pub fn send_stream(&mut self, kind: DataKind) -> MessageWriter<'_, S> {
        MessageWriter {
            ws: self,
            kind,
            utf8: Utf8Validator::new(),
            finished: false,
        }
    }

    /// Runs the closing handshake (§7.1.2): sends Close with `code` and
    /// `reason`, reads (and discards) until the peer's Close arrives or
    /// [`Config::close_timeout`] passes, then closes the TCP connection.
    /// If the peer's Close came first, this sends the answer.
    ///
    /// The wait is bounded only when the stream has socket operations (a
    /// `TcpStream`, or [`set_socket_ops`](Self::set_socket_ops)); otherwise it
    /// lasts until the peer answers, closes, or the stream times out.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<()> {
        self.tx.send_close(code, reason)?;
        let deadline = Instant::now() + self.config.close_timeout;
        self.rx.deadline = Some(deadline);
        if let Some(ops) = self.tx.ops {
            (ops.set_read_timeout)(&self.tx.stream, Some(self.config.close_timeout / 4))?;
        }
        // Wait for the peer's Close...
        let mut result = Ok(());
        while self.tx.conn.state() != State::Closed && Instant::now() < deadline {
            match self.rx.next_step(&mut Direct(&mut self.tx)) {
                Ok(_) => continue,
                Err(Error::ConnectionClosed | Error::Timeout | Error::AbnormalClosure) => break,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        // ...then a client lets the server end TCP first (§7.1.1).
        if self.tx.conn.state() == State::Closed && self.tx.conn.role() == Role::Client {
            self.rx.drain_to_eof(&mut Direct(&mut self.tx));
        }
        self.tx.shutdown(Shutdown::Both);
        result
    }

    /// Where the closing handshake stands.
    pub fn state(&self) -> State {
        self.tx.conn.state()
    }

    /// Which end of the connection this is.
    pub fn role(&self) -> Role {
        self.tx.conn.role()
    }

    /// The subprotocol agreed in the handshake, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.tx.stream
    }

    /// The stream, mutably. Writing to it directly corrupts the connection.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.tx.stream
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
pub struct MessageReader<'a, S> {
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
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.range.is_empty() && !self.fin {
            match self.ws.rx.next_step(&mut Direct(&mut self.ws.tx)) {
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
        let piece = self.ws.rx.piece(self.range.clone());
        let n = piece.len().min(out.len());
        out[..n].copy_from_slice(&piece[..n]);
        self.range.start += n;
        Ok(n)
    }
}

impl<S> Drop for MessageReader<'_, S> {
    fn drop(&mut self) {
        if !(self.fin && self.range.is_empty()) {
            self.ws.rx.skip_message = !self.fin;
        }
    }
}

/// One outgoing message as an `io::Write`; see [`WebSocket::send_stream`].
pub struct MessageWriter<'a, S: Read + Write> {
    ws: &'a mut WebSocket<S>,
    kind: DataKind,
    utf8: Utf8Validator,
    finished: bool,
}

impl<S: Read + Write> MessageWriter<'_, S> {
    /// Sends the final (empty) fragment, ending the message.
    pub fn finish(mut self) -> Result<()> {
        self.finish_inner()
    }

    fn finish_inner(&mut self) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        if self.kind == DataKind::Text && !self.utf8.is_at_boundary() {
            // A message cannot be taken back once fragments are out, and
            // ending it here would send invalid text (the peer fails the
            // connection with 1007). It stays unfinished: later whole-message
            // sends are refused with `MessageInProgress`; close the
            // connection.
            return Err(Error::InvalidInput(
                "the streamed text ends inside a UTF-8 character; the message cannot be finished",
            ));
        }
        self.ws
            .tx
            .send_data(self.kind, true, Payload::Borrowed(&[]), true)
    }
}

impl<S: Read + Write> Write for MessageWriter<'_, S> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        if self.kind == DataKind::Text {
            // Catch the mistake here, not as a 1007 from the peer.
            self.utf8.feed(data).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, "streamed text is not UTF-8")
            })?;
        }
        self.ws
            .tx
            .send_data(self.kind, false, Payload::Borrowed(data), true)
            .map_err(io::Error::other)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.ws.tx.stream.flush()
    }
}

impl<S: Read + Write> Drop for MessageWriter<'_, S> {
    fn drop(&mut self) {
        // Best effort: a message left open would block every later send.
        let _ = self.finish_inner();
    }
}
