//! Refusing a client from the accepting thread in microseconds: the 503 (at
//! the connection limit) or 429 (at the limit of one address) goes out at
//! once, and what remains of closing politely happens on another thread.
//!
//! Closing a socket that still holds unread bytes makes the kernel reset
//! the connection (RFC 9293 §3.6.1, RFC 1122 §4.2.2.13), and a reset can
//! reach the client before it has read the answer, which then never shows.
//! So a refused socket is closed only once the client's request has been
//! read to its end (the blank line that ends the head), or the client has
//! gone. Most clients send the request with the connection, so that is
//! already so when the answer is written, and the socket is closed on the
//! spot. A slow one is handed to a *lingering* thread that drains it, a
//! bounded number of sockets for a bounded time, without blocking on any.
//!
//! When `accept` fails for lack of descriptors, the client stays in the
//! kernel's backlog, where it would wait unanswered. The server keeps one
//! descriptor in reserve (an open `/dev/null`): it gives it up to accept
//! that client, answers 503, closes, and takes the reserve back.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use std::vec::Vec;

use crate::error::Error;
use crate::handshake::{head::HeadScanner, Limits};

/// The most refused sockets drained at once by the lingering thread; past
/// it a slow refused client is closed at once (and may see a reset).
pub(crate) const MAX_LINGERING: usize = 32;
/// How long a refused client has to finish sending its request.
const LINGER_TIME: Duration = Duration::from_secs(1);
/// How often the lingering thread looks at its sockets.
const LINGER_POLL: Duration = Duration::from_millis(2);
/// The most bytes read from a refused client before it is closed anyway.
const MAX_DRAINED: usize = 16 << 10;

/// Why a client is refused.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Refusal {
    /// The server is at its connection limit: 503.
    Busy,
    /// The client's address holds its share of connections: 429.
    PeerLimit,
}

/// The refusals of one server: their answers, written once, and the
/// lingering thread.
pub(crate) struct Refusals {
    busy: Vec<u8>,
    peer_limit: Vec<u8>,
    lingering: Arc<Lingering>,
    thread: Option<thread::JoinHandle<()>>,
    /// The descriptor kept in reserve for running out (see the module doc).
    reserve: Option<File>,
}

struct Lingering {
    queue: Mutex<Queue>,
    wake: Condvar,
}

#[derive(Default)]
struct Queue {
    sockets: Vec<Draining>,
    /// Whether the lingering thread runs: it ends after a second with
    /// nothing to do, so an idle server keeps no thread for it.
    running: bool,
    stopped: bool,
}

/// A refused socket whose request has not all arrived.
struct Draining {
    stream: TcpStream,
    since: Instant,
    /// What the client sent so far, for the core's scanner to find the end
    /// of the head in (at most [`MAX_DRAINED`] bytes, then it is closed).
    received: Vec<u8>,
    scanner: HeadScanner,
}

impl Refusals {
    /// The answers and the reserve descriptor. The lingering thread starts
    /// when a slow refused client first needs it.
    /// `server`: the `Server` header's value, if the server sends one.
    pub(crate) fn new(server: Option<&str>) -> Refusals {
        Refusals {
            busy: answer(&Error::TooManyConnections, server),
            peer_limit: answer(&Error::TooManyConnectionsFromPeer, server),
            lingering: Arc::new(Lingering {
                queue: Mutex::new(Queue::default()),
                wake: Condvar::new(),
            }),
            thread: None,
            reserve: open_reserve(),
        }
    }

    /// Refuses `stream`: writes the answer, ends our side, and closes it
    /// now or once its request has arrived. A handful of system calls on
    /// the calling thread, none of which waits.
    pub(crate) fn refuse(&mut self, stream: TcpStream, why: Refusal) {
        let Some(draining) = self.answer_and_drain(stream, why) else {
            return;
        };
        let mut queue = self.lingering.queue();
        if queue.sockets.len() >= MAX_LINGERING || queue.stopped {
            // Dropped here: too many slow refused clients at once.
            return;
        }
        if !queue.running {
            let lingering = Arc::clone(&self.lingering);
            let spawned = thread::Builder::new()
                .name("wslite-refuse".into())
                .stack_size(64 << 10)
                .spawn(move || lingering.run());
            match spawned {
                Ok(thread) => {
                    queue.running = true;
                    self.thread = Some(thread);
                }
                // No thread to be had: the socket is closed now.
                Err(_) => return,
            }
        }
        queue.sockets.push(draining);
        self.lingering.wake.notify_one();
    }

    /// `accept` failed for lack of descriptors: give up the reserve to
    /// accept one waiting client, refuse it at once, and take the reserve
    /// back. Returns whether a client was answered; when not, the caller
    /// should pause before accepting again.
    pub(crate) fn shed(&mut self, listener: &TcpListener) -> bool {
        self.reserve = None;
        let answered = match listener.accept() {
            Ok((stream, _)) => {
                // Dropped at once even if its request is still coming: the
                // descriptor is needed back.
                drop(self.answer_and_drain(stream, Refusal::Busy));
                true
            }
            Err(_) => false,
        };
        self.reserve = open_reserve();
        answered
    }

    /// Writes the answer to a fresh socket (it always has room for a few
    /// hundred bytes), ends our side, and reads what the client sent. The
    /// socket is handed back when its request is not all there yet.
    fn answer_and_drain(&self, stream: TcpStream, why: Refusal) -> Option<Draining> {
        let answer = match why {
            Refusal::Busy => &self.busy,
            Refusal::PeerLimit => &self.peer_limit,
        };
        stream.set_nonblocking(true).ok()?;
        // One call in practice; a socket with no room (never fresh) is dropped.
        (&stream).write_all(answer).ok()?;
        stream.shutdown(Shutdown::Write).ok()?;
        let mut draining = Draining {
            stream,
            since: Instant::now(),
            received: Vec::new(),
            scanner: HeadScanner::new(),
        };
        (!draining.drain()).then_some(draining)
    }

    /// Ends the lingering thread (the sockets it holds are closed).
    pub(crate) fn stop(mut self) {
        self.lingering.queue().stopped = true;
        self.lingering.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Lingering {
    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drains the refused sockets it is given until each is done or out of
    /// time, waiting on nothing but its own short sleep.
    fn run(&self) {
        loop {
            let mut sockets = {
                let mut queue = self.queue();
                if queue.sockets.is_empty() && !queue.stopped {
                    queue = self
                        .wake
                        .wait_timeout(queue, LINGER_TIME)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
                if queue.stopped || queue.sockets.is_empty() {
                    queue.running = false;
                    return;
                }
                core::mem::take(&mut queue.sockets)
            };
            sockets.retain_mut(|s| !s.drain() && s.since.elapsed() < LINGER_TIME);
            if !sockets.is_empty() {
                self.queue().sockets.append(&mut sockets);
                thread::sleep(LINGER_POLL);
            }
        }
    }
}

impl Draining {
    /// Reads what has arrived without waiting; whether the socket is done:
    /// the request's head ended (found by the same scanner as every other
    /// head, `handshake::head`), the client left, or it sent something that
    /// is no head, or too much of one.
    fn drain(&mut self) -> bool {
        let limits = Limits::new().with_max_head_bytes(MAX_DRAINED);
        loop {
            let start = self.received.len();
            self.received.resize(start + 1024, 0);
            let read = self
                .stream
                .read(self.received.get_mut(start..).unwrap_or_default());
            self.received.truncate(start + *read.as_ref().unwrap_or(&0));
            match read {
                Ok(0) => return true,
                Ok(_) => match self
                    .scanner
                    .scan(&self.received, &limits, limits.max_headers)
                {
                    Ok(None) => {}
                    Ok(Some(_)) | Err(_) => return true,
                },
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(_) => return true,
            }
        }
    }
}

/// The whole answer for a refusal, written once.
fn answer(error: &Error, server: Option<&str>) -> Vec<u8> {
    let mut out = vec![0u8; 1024];
    let len = super::accept::write_error_answer(&mut out, error, server).unwrap_or(0);
    out.truncate(len);
    out
}

fn open_reserve() -> Option<File> {
    if cfg!(unix) {
        File::open("/dev/null").ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_socket_is_done_once_its_head_has_ended_however_it_is_split() {
        let head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        for split in [1, 5, 15, head.len() - 2, head.len() - 1] {
            let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (stream, _) = listener.accept().unwrap();
            stream.set_nonblocking(true).unwrap();
            let mut draining = Draining {
                stream,
                since: Instant::now(),
                received: Vec::new(),
                scanner: HeadScanner::new(),
            };
            let (a, b) = head.split_at(split);
            client.write_all(a).unwrap();
            let seen = |d: &mut Draining, n: usize| {
                let deadline = Instant::now() + Duration::from_secs(5);
                loop {
                    let done = d.drain();
                    if done || d.received.len() >= n || Instant::now() > deadline {
                        return done;
                    }
                    thread::sleep(Duration::from_millis(1));
                }
            };
            assert!(!seen(&mut draining, split), "done early, split at {split}");
            client.write_all(b).unwrap();
            assert!(seen(&mut draining, head.len()), "split at {split}");
        }
    }

    #[test]
    fn what_is_no_head_or_too_much_of_one_ends_the_drain() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        for sent in [&b"GET / HTTP/1.1\n\n"[..], &[b'a'; MAX_DRAINED + 1][..]] {
            let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (stream, _) = listener.accept().unwrap();
            stream.set_nonblocking(true).unwrap();
            let mut draining = Draining {
                stream,
                since: Instant::now(),
                received: Vec::new(),
                scanner: HeadScanner::new(),
            };
            client.write_all(sent).unwrap();
            let deadline = Instant::now() + Duration::from_secs(5);
            while !draining.drain() {
                assert!(
                    Instant::now() < deadline,
                    "never done with {} bytes",
                    sent.len()
                );
                thread::sleep(Duration::from_millis(1));
            }
        }
    }

    #[test]
    fn the_answers_carry_their_status() {
        assert!(answer(&Error::TooManyConnections, None).starts_with(b"HTTP/1.1 503 "));
        assert!(answer(&Error::TooManyConnectionsFromPeer, None).starts_with(b"HTTP/1.1 429 "));
    }

    #[test]
    fn the_answers_carry_the_server_header_when_asked() {
        let plain = answer(&Error::TooManyConnections, None);
        let named = answer(&Error::TooManyConnections, Some("wslite/test"));
        let text = String::from_utf8(named.clone()).unwrap();
        assert!(text.starts_with("HTTP/1.1 503 "), "{text}");
        let head = text.split_once("\r\n\r\n").map(|(head, _)| head).unwrap();
        assert_eq!(head.matches("\r\nServer: wslite/test").count(), 1, "{text}");
        assert_eq!(named.len(), plain.len() + "Server: wslite/test\r\n".len());
        assert!(!String::from_utf8(plain).unwrap().contains("Server:"));
    }
}
