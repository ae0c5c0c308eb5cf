//! Full duplex across threads: a reader half and a writer half.
//!
//! WebSocket is full duplex (RFC 6455 §1.1): either side may send at any
//! time. With blocking I/O that needs two threads, one blocked in `read`
//! while others send. [`WebSocket::split`](crate::WebSocket::split) gives:
//!
//! * a [`WsReader`], owned by one thread, that reads messages;
//! * a [`WsWriter`] that is `Clone + Send + Sync`: any number of threads may
//!   send through it at once.
//!
//! Both halves share the one protocol [`Connection`](crate::protocol::Connection)
//! and the sending end of the socket behind one lock, so whole frames never
//! interleave, and the reader's automatic pongs and Close answers go through
//! the same lock as everybody's messages. The reader holds the lock only
//! while it processes bytes it has already read, never while it waits for the
//! network. [`WsWriter::close`] from any thread ends the reader's `read`
//! promptly: when the peer answers the Close, or at the close timeout, when
//! the socket is shut down under it.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::string::String;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::engine::{Link, Payload, Rx, Step, Tx};
use super::message::Message;
use super::socket::WebSocket;
use crate::close::CloseCode;
use crate::error::{Error, Result};
use crate::protocol::{DataKind, State};

/// A stream that can be duplicated into a second handle on the same
/// connection, so one thread can read while others write.
pub trait TryCloneStream: Sized {
    /// A second handle on the same connection.
    fn try_clone_stream(&self) -> io::Result<Self>;
}

impl TryCloneStream for TcpStream {
    fn try_clone_stream(&self) -> io::Result<Self> {
        self.try_clone()
    }
}

#[cfg(unix)]
impl TryCloneStream for std::os::unix::net::UnixStream {
    fn try_clone_stream(&self) -> io::Result<Self> {
        self.try_clone()
    }
}

/// What the halves share.
struct Shared<S> {
    tx: Mutex<Tx<S>>,
    /// Signalled when the connection reaches `Closed` or the reader stops.
    changed: Condvar,
}

impl<S> Shared<S> {
    fn lock(&self) -> MutexGuard<'_, Tx<S>> {
        // A thread that panicked while sending left at worst a half-written
        // frame, which `Tx` already tracks; the state is still usable.
        self.tx
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The reading half; see the [module documentation](self).
pub struct WsReader<S> {
    stream: S,
    rx: Rx,
    shared: Arc<Shared<S>>,
}

/// The writing half; clone it for every thread that sends.
pub struct WsWriter<S> {
    shared: Arc<Shared<S>>,
    close_timeout: core::time::Duration,
}

impl<S> Clone for WsWriter<S> {
    fn clone(&self) -> Self {
        WsWriter {
            shared: Arc::clone(&self.shared),
            close_timeout: self.close_timeout,
        }
    }
}

impl<S> core::fmt::Debug for WsWriter<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("WsWriter")
    }
}

impl<S> core::fmt::Debug for WsReader<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("WsReader")
    }
}

impl<S: Read + Write + TryCloneStream> WebSocket<S> {
    /// Splits the connection into a reader and a writer that can be used
    /// from different threads at the same time.
    pub fn split(self) -> Result<(WsReader<S>, WsWriter<S>)> {
        let stream = self.tx.stream.try_clone_stream()?;
        let shared = Arc::new(Shared {
            tx: Mutex::new(self.tx),
            changed: Condvar::new(),
        });
        let reader = WsReader {
            stream,
            rx: self.rx,
            shared: Arc::clone(&shared),
        };
        let writer = WsWriter {
            shared,
            close_timeout: self.config.close_timeout,
        };
        Ok((reader, writer))
    }
}

/// The reader's way to the shared sending side.
struct SplitLink<'a, S> {
    stream: &'a mut S,
    shared: &'a Shared<S>,
}

impl<S: Read + Write> Link for SplitLink<'_, S> {
    type Stream = S;

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.read(buf)
    }

    fn with_tx<R>(&mut self, f: impl FnOnce(&mut Tx<S>) -> R) -> R {
        let mut tx = self.shared.lock();
        let result = f(&mut tx);
        if tx.conn.state() == State::Closed {
            self.shared.changed.notify_all();
        }
        result
    }
}

impl<S: Read + Write> WsReader<S> {
    /// Reads the next message, as [`WebSocket::read`] does.
    pub fn read(&mut self) -> Result<Message> {
        let result = loop {
            let mut link = SplitLink {
                stream: &mut self.stream,
                shared: &self.shared,
            };
            match self.rx.next_step(&mut link) {
                Err(e) => break Err(e),
                Ok(Step::Control(m)) => break Ok(m),
                Ok(Step::Piece { kind, range, fin }) => {
                    // Kept in `rx`, so a timeout between fragments loses
                    // nothing.
                    self.rx.append_piece(range);
                    if fin {
                        let data = core::mem::take(&mut self.rx.message);
                        break match kind {
                            DataKind::Text => String::from_utf8(data)
                                .map(Message::Text)
                                .map_err(|_| Error::InvalidUtf8),
                            DataKind::Binary => Ok(Message::Binary(data)),
                        };
                    }
                }
            }
        };
        if matches!(&result, Err(e) if !matches!(e, Error::Timeout)) {
            // Wake a writer waiting in `close`: nothing more will be read.
            let mut tx = self.shared.lock();
            tx.reader_done = true;
            self.shared.changed.notify_all();
        }
        result
    }
}

impl<S: Write> WsWriter<S> {
    /// Sends a message; the whole frame goes out before any other thread's.
    pub fn send(&self, message: impl Into<Message>) -> Result<()> {
        self.shared.lock().send_message(message.into(), true)
    }

    /// Sends a text message.
    pub fn send_text(&self, text: &str) -> Result<()> {
        self.shared
            .lock()
            .send_whole(DataKind::Text, Payload::Borrowed(text.as_bytes()), true)
    }

    /// Sends a binary message.
    pub fn send_binary(&self, data: &[u8]) -> Result<()> {
        self.shared
            .lock()
            .send_whole(DataKind::Binary, Payload::Borrowed(data), true)
    }

    /// Sends a ping.
    pub fn ping(&self, payload: &[u8]) -> Result<()> {
        self.shared.lock().ping(payload)
    }

    /// Sends Close, waits (up to the close timeout) for the reader to see the
    /// peer's answer, then shuts the socket down, which also ends a `read`
    /// still blocked in the reader.
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<()> {
        let mut tx = self.shared.lock();
        let sent = tx.send_close(code, reason);
        if sent.is_ok() {
            tx = self
                .shared
                .changed
                .wait_timeout_while(tx, self.close_timeout, |tx| {
                    tx.conn.state() != State::Closed && !tx.reader_done
                })
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        tx.shutdown(Shutdown::Both);
        sent
    }

    /// Where the closing handshake stands.
    pub fn state(&self) -> State {
        self.shared.lock().conn.state()
    }
}
