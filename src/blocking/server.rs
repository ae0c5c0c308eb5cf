//! The server side: the opening handshake over any stream (RFC 6455 §4.2),
//! and a thread-per-connection [`Server`] over `std::net::TcpListener`.
//!
//! [`accept`] and [`accept_with`] read a client's request from any
//! `Read + Write` stream (a `TcpStream`, a TLS stream, a Unix socket), check
//! it with [`handshake::Request::validate_upgrade`], and answer `101` or the
//! refusal the error calls for (400, 405, 426, 431, …; §4.2.1, §4.4).
//!
//! [`Server`] adds what a real service needs around that: a connection limit
//! (HTTP 503 past it, with no thread spawned), small per-connection thread
//! stacks, a handshake timeout against clients that stall (slowloris), a
//! request callback that can accept with a subprotocol and headers or refuse
//! with any status, an optional plain-HTTP handler so one port can serve a
//! page and its WebSocket, and a graceful shutdown that tells every open
//! connection 1001 (going away, §7.4.1) and waits for its thread.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::panic::{self, AssertUnwindSafe};
use std::string::String;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use std::vec::Vec;

use super::engine::{SetTimeout, SocketOps};
use super::socket::WebSocket;
use super::Config;
use crate::error::{Error, Result};
use crate::handshake::{self, head::HeadScanner, Header, Request, RequestParser};
use crate::protocol::Role;

/// The server's acceptance: optionally a subprotocol and extra headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accept {
    protocol: Option<String>,
    headers: Vec<(String, String)>,
}

impl Accept {
    /// Accept with nothing extra.
    pub fn new() -> Self {
        Accept::default()
    }

    /// Agree on this subprotocol (RFC 6455 §1.9, §4.2.2); it should be one
    /// the client offered ([`Request::protocols`]).
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocol = Some(protocol.into());
        self
    }

    /// Add a header field to the `101` answer.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A plain HTTP answer: a refusal of the handshake, or the answer of the
/// plain-HTTP handler. It always ends the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpResponse {
    /// An answer with this status (200–599) and no body.
    pub fn new(status: u16) -> Self {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Adds a header field.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Writes the answer to `stream`.
    fn write_to<W: Write>(&self, stream: &mut W) -> Result<()> {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let mut out = vec![0u8; 256 + self.body.len() + header_bytes(&self.headers)];
        let n = handshake::write_refusal(&mut out, self.status, None, &headers, &self.body)?;
        stream.write_all(&out[..n])?;
        stream.flush()?;
        Ok(())
    }
}

/// The refusal a request callback returns.
pub type Reject = HttpResponse;

fn header_bytes(headers: &[(String, String)]) -> usize {
    headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum()
}

/// Reads a handshake head from `stream` into `buf` until the scanner finds
/// its end, within `deadline`. Returns the head's length; bytes after it are
/// already in `buf`.
pub(crate) fn read_head<S: Read>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    config: &Config,
    deadline: Option<Instant>,
    set_timeout: Option<SetTimeout<S>>,
) -> Result<usize> {
    let limits = config.head_limits();
    let mut scanner = HeadScanner::new();
    loop {
        if let Some(len) = scanner.scan(buf, &limits, limits.max_headers)? {
            return Ok(len);
        }
        if let (Some(deadline), Some(set_timeout)) = (deadline, set_timeout) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout);
            }
            set_timeout(stream, Some(left))?;
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

/// What the server does with a request that is not a WebSocket upgrade.
type HttpHandler = dyn Fn(&Request<'_, '_>) -> HttpResponse + Send + Sync;
/// What decides whether a WebSocket request is accepted.
type RequestCallback =
    dyn Fn(&Request<'_, '_>) -> core::result::Result<Accept, HttpResponse> + Send + Sync;

/// The server side of the handshake, with everything optional spelled out.
/// `Ok(None)`: a plain HTTP request was answered by `http`.
fn server_handshake<S: Read + Write>(
    mut stream: S,
    config: Config,
    ops: Option<SocketOps<S>>,
    on_request: &mut dyn FnMut(&Request<'_, '_>) -> core::result::Result<Accept, HttpResponse>,
    http: Option<&HttpHandler>,
) -> Result<Option<WebSocket<S>>> {
    let deadline = config.handshake_timeout.map(|t| Instant::now() + t);
    let mut buf = Vec::new();
    let len = match read_head(
        &mut stream,
        &mut buf,
        &config,
        deadline,
        ops.map(|o| o.set_read_timeout),
    ) {
        Ok(len) => len,
        Err(error) => {
            // A head that broke a limit is answered (431, 400) before the
            // connection is dropped; a stalled or vanished peer is not.
            if error.http_status().is_some() {
                return Err(refuse(&mut stream, ops, error));
            }
            return Err(error);
        }
    };
    let mut headers = vec![Header::default(); config.max_headers];
    let mut parser = RequestParser::new(config.head_limits());
    let request = match parser.parse(&buf[..len], &mut headers) {
        Ok(handshake::Status::Complete((_, request))) => request,
        Ok(handshake::Status::Partial) => return Err(Error::MalformedHttp("incomplete head")),
        Err(error) => return Err(refuse(&mut stream, ops, error)),
    };

    if let Some(http) = http {
        if !request.is_websocket_upgrade() {
            let answered = answer_or_500(http(&request).write_to(&mut stream), &mut stream);
            close_after_answer(&mut stream, ops);
            answered?;
            return Ok(None);
        }
    }
    let key = match request.validate_upgrade() {
        Ok(key) => key,
        Err(error) => return Err(refuse(&mut stream, ops, error)),
    };
    let accept = match on_request(&request) {
        Ok(accept) => accept,
        Err(refusal) => {
            let answered = answer_or_500(refusal.write_to(&mut stream), &mut stream);
            close_after_answer(&mut stream, ops);
            answered?;
            return Err(Error::HandshakeRefused {
                status: refusal.status,
                body: refusal.body,
            });
        }
    };
    let extra: Vec<(&str, &str)> = accept
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let mut out = vec![0u8; 256 + header_bytes(&accept.headers)];
    let written =
        handshake::write_accept_response(&mut out, &key, accept.protocol.as_deref(), &extra);
    let n = match written {
        Ok(n) => n,
        Err(error) => {
            // The application's answer is unusable (a header with a line
            // break, a subprotocol that is not a token): tell the client.
            return Err(refuse(&mut stream, ops, error));
        }
    };
    stream.write_all(&out[..n])?;
    stream.flush()?;

    let leftover = &buf[len..];
    let mut ws = WebSocket::from_raw_socket(stream, Role::Server, config, leftover);
    if let Some(ops) = ops {
        ws.set_socket_ops(ops)?;
    }
    ws.protocol = accept.protocol;
    Ok(Some(ws))
}

/// Passes a written answer through; when the application's answer could not
/// be written (its own bad input), answers 500 instead and returns the error.
fn answer_or_500<W: Write>(written: Result<()>, stream: &mut W) -> Result<()> {
    match written {
        Err(error @ Error::InvalidInput(_)) => {
            let _ = write_error(stream, &error);
            Err(error)
        }
        other => other,
    }
}

/// Answers a handshake error with its HTTP status, closes the connection
/// without losing that answer, and hands the error back.
fn refuse<S: Read + Write>(stream: &mut S, ops: Option<SocketOps<S>>, error: Error) -> Error {
    let _ = write_error(stream, &error);
    close_after_answer(stream, ops);
    error
}

/// How long, at most, [`close_after_answer`] waits for the client's end.
const LINGER_TIME: Duration = Duration::from_millis(500);
/// How many unread bytes, at most, [`close_after_answer`] reads and drops.
const LINGER_BYTES: usize = 64 << 10;

/// Closes a connection that got a plain HTTP answer (a refusal, a page)
/// without losing that answer.
///
/// Closing a TCP socket that still has unread bytes, or that receives more
/// bytes after it closed, sends a reset instead of a normal end. A client
/// refused mid-way through its request (a head over the size limit, say)
/// always has bytes in flight, so it meets that reset while still writing:
/// its write fails (`ECONNRESET`, `EPIPE`), and most clients report that
/// error without ever reading the answer. Some TCP stacks also let the reset
/// erase the answer from the client's input buffers before it is read
/// (RFC 9112 §9.6 warns of this; Linux keeps the bytes). So the close goes in
/// stages, as that section prescribes: shut the writing side (the client
/// sees the answer, then the end), read and drop what the client still sends
/// until it closes its side, and only then close. Bounded in time and in bytes, so a client that keeps
/// sending holds the thread for at most [`LINGER_TIME`].
///
/// It needs [`SocketOps`] (a `TcpStream` or a wrapped socket); over a bare
/// `Read + Write` stream, closing is the caller's.
fn close_after_answer<S: Read>(stream: &mut S, ops: Option<SocketOps<S>>) {
    let Some(ops) = ops else {
        return;
    };
    if (ops.shutdown)(stream, Shutdown::Write).is_err() {
        return;
    }
    let deadline = Instant::now() + LINGER_TIME;
    let mut sink = [0u8; 512];
    let mut dropped = 0;
    while dropped < LINGER_BYTES {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || (ops.set_read_timeout)(stream, Some(left)).is_err() {
            return;
        }
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(n) => dropped += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Answers a handshake error with its HTTP status.
fn write_error<W: Write>(stream: &mut W, error: &Error) -> Result<()> {
    let mut out = [0u8; 1024];
    let n = handshake::write_error_response(&mut out, error)?;
    stream.write_all(&out[..n])?;
    stream.flush()?;
    Ok(())
}

/// Runs the server side of the handshake on `stream` with the default
/// configuration, accepting every valid WebSocket request.
///
/// It has no timeout of its own over a generic stream; set one on the stream
/// (or use [`accept_with`] with a `TcpStream`-backed [`Server`]).
pub fn accept<S: Read + Write>(stream: S) -> Result<WebSocket<S>> {
    accept_with(stream, Config::default(), |_| Ok(Accept::new()))
}

/// Runs the server side of the handshake with a configuration and a callback
/// that sees the request (method, path, query, headers, `Origin`, offered
/// subprotocols) and accepts it or refuses it with any HTTP answer.
///
/// A refused stream is dropped right after the answer is written. Over TCP,
/// a client refused before its whole request was read (a head over the size
/// limit) then meets a reset while still sending, and may never read the
/// answer; [`Server`] avoids that by closing refused connections in stages
/// (half-close, drain, close).
pub fn accept_with<S: Read + Write>(
    stream: S,
    config: Config,
    mut on_request: impl FnMut(&Request<'_, '_>) -> core::result::Result<Accept, HttpResponse>,
) -> Result<WebSocket<S>> {
    server_handshake(stream, config, None, &mut on_request, None)?
        .ok_or(Error::MalformedHttp("not a WebSocket request"))
}

/// What the server knows of its open connections.
struct Registry {
    /// A second handle on each connection's socket, to wake its thread at
    /// shutdown, by id.
    sockets: HashMap<u64, TcpStream>,
    next_id: u64,
    /// Connections being served (handshakes included): what the limit counts.
    threads: usize,
    /// Threads alive, serving or parked (see `Server::reuse_threads`).
    workers: usize,
    /// Parked threads waiting for their next connection, newest last.
    idle: Vec<(u64, SyncSender<Job>)>,
    next_worker: u64,
}

/// One connection's work, handed to a new or a parked thread. When it is
/// done, or its handler panicked, the thread releases the connection's slot
/// and, when threads are reused, parks itself, both under one lock: a new
/// connection never finds the slot free but the thread not yet waiting.
struct Job {
    /// The connection's key in `Registry::sockets`.
    id: u64,
    /// The handshake and the user's handler.
    run: Box<dyn FnOnce() + Send>,
}

/// How long a parked thread waits for another connection before it ends.
const IDLE_THREAD_TIMEOUT: Duration = Duration::from_secs(5);

struct ServerShared {
    registry: Mutex<Registry>,
    /// Signalled when a connection thread ends.
    changed: Condvar,
    stopping: AtomicBool,
    /// Set before connections are woken at shutdown: their `read` then
    /// sends 1001 instead of reporting a lost connection.
    going_away: Arc<AtomicBool>,
}

impl ServerShared {
    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A thread-per-connection WebSocket server.
///
/// ```no_run
/// use wslite::{Message, Server};
///
/// Server::bind("127.0.0.1:9001")?.run(|mut ws| {
///     while let Ok(message) = ws.read() {
///         if message.is_data() && ws.send(message).is_err() {
///             break;
///         }
///     }
/// })?;
/// # Ok::<(), wslite::Error>(())
/// ```
pub struct Server {
    listener: TcpListener,
    config: Config,
    max_connections: usize,
    stack_size: usize,
    reuse_threads: usize,
    shutdown_timeout: Duration,
    on_request: Arc<RequestCallback>,
    http: Option<Arc<HttpHandler>>,
    shared: Arc<ServerShared>,
}

/// The builder methods of [`Server`] return it; this alias names it.
pub type ServerBuilder = Server;

impl core::fmt::Debug for Server {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .field("max_connections", &self.max_connections)
            .field("stack_size", &self.stack_size)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds a listening socket. Nothing is accepted until
    /// [`run`](Self::run) or [`spawn`](Self::spawn).
    pub fn bind(addr: impl ToSocketAddrs) -> Result<Server> {
        Ok(Server::from_listener(TcpListener::bind(addr)?))
    }

    /// A server on a listener bound elsewhere.
    pub fn from_listener(listener: TcpListener) -> Server {
        Server {
            listener,
            config: Config::default(),
            max_connections: 1024,
            stack_size: 128 << 10,
            reuse_threads: 0,
            shutdown_timeout: Duration::from_secs(5),
            on_request: Arc::new(|_| Ok(Accept::new())),
            http: None,
            shared: Arc::new(ServerShared {
                registry: Mutex::new(Registry {
                    sockets: HashMap::new(),
                    next_id: 0,
                    threads: 0,
                    workers: 0,
                    idle: Vec::new(),
                    next_worker: 0,
                }),
                changed: Condvar::new(),
                stopping: AtomicBool::new(false),
                going_away: Arc::new(AtomicBool::new(false)),
            }),
        }
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// The configuration of every connection (limits, timeouts, buffers).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The most connections open at once, handshakes included (default
    /// 1024). Past it a new client gets HTTP 503 and is closed, and no thread
    /// is spawned for it.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// The stack size of each connection's thread (default 128 KiB: the
    /// library needs a few KiB; the rest is for the handler). Only the pages
    /// a thread touches take memory.
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = bytes;
        self
    }

    /// Keeps up to `max_idle` threads whose connection ended parked for a
    /// few seconds, to serve the next connections without creating a thread
    /// (default 0: every connection gets a new thread, and it ends with the
    /// connection). Creating a thread costs about fifteen system calls; a
    /// server with many short connections handshakes faster with this on.
    /// Each parked thread keeps its touched stack (about 12 KiB) until it
    /// ends; [`ServerHandle::shutdown`] ends them all.
    pub fn reuse_threads(mut self, max_idle: usize) -> Self {
        self.reuse_threads = max_idle;
        self
    }

    /// The longest the opening handshake may take (default 10 s).
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.handshake_timeout = timeout;
        self
    }

    /// How long [`ServerHandle::shutdown`] waits for connection threads to
    /// end after telling them 1001 (default 5 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Decides on each valid WebSocket request: accept (with a subprotocol
    /// and headers) or refuse with any HTTP answer.
    pub fn on_request(
        mut self,
        callback: impl Fn(&Request<'_, '_>) -> core::result::Result<Accept, HttpResponse>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        self.on_request = Arc::new(callback);
        self
    }

    /// Answers requests that are not WebSocket upgrades (a page, a health
    /// check), so one port serves both. Without it they get 400 or 426.
    pub fn http(
        mut self,
        handler: impl Fn(&Request<'_, '_>) -> HttpResponse + Send + Sync + 'static,
    ) -> Self {
        self.http = Some(Arc::new(handler));
        self
    }

    /// A handle to stop the server from another thread.
    pub fn handle(&self) -> Result<ServerHandle> {
        Ok(ServerHandle {
            shared: Arc::clone(&self.shared),
            addr: self.listener.local_addr()?,
            shutdown_timeout: self.shutdown_timeout,
            accept_thread: None,
        })
    }

    /// Accepts connections until [`ServerHandle::shutdown`], running
    /// `handler` on its own thread for each connection that completes the
    /// handshake.
    ///
    /// A handler that panics ends only its own connection: the panic is
    /// reported as any thread's panic is, the socket is dropped without a
    /// closing handshake, and the connection's slot under
    /// [`Server::max_connections`] is freed. (Built with `panic = "abort"`,
    /// a panic ends the process instead, as everywhere.)
    pub fn run<F>(self, handler: F) -> Result<()>
    where
        F: Fn(WebSocket<TcpStream>) + Send + Sync + 'static,
    {
        let handler = Arc::new(handler);
        for stream in self.listener.incoming() {
            if self.shared.stopping.load(Ordering::SeqCst) {
                break;
            }
            let stream = match stream {
                Ok(stream) => stream,
                // A client that vanished between connect and accept, or a
                // passing shortage of descriptors: keep serving the others.
                Err(_) => {
                    thread::sleep(Duration::from_millis(1));
                    continue;
                }
            };
            self.serve(stream, &handler);
        }
        Ok(())
    }

    /// Runs the server on a background thread and returns its handle.
    pub fn spawn<F>(self, handler: F) -> Result<ServerHandle>
    where
        F: Fn(WebSocket<TcpStream>) + Send + Sync + 'static,
    {
        let mut handle = self.handle()?;
        let thread = thread::Builder::new()
            .name("wslite-accept".into())
            .spawn(move || self.run(handler))?;
        handle.accept_thread = Some(thread);
        Ok(handle)
    }

    /// Starts one connection's thread, or refuses it with 503.
    fn serve<F>(&self, stream: TcpStream, handler: &Arc<F>)
    where
        F: Fn(WebSocket<TcpStream>) + Send + Sync + 'static,
    {
        let id = {
            let mut registry = self.shared.registry();
            if registry.threads >= self.max_connections {
                drop(registry);
                refuse_busy(stream);
                return;
            }
            let Ok(wake) = stream.try_clone() else {
                return;
            };
            let id = registry.next_id;
            registry.next_id += 1;
            registry.threads += 1;
            registry.sockets.insert(id, wake);
            id
        };
        let config = self.config;
        let on_request = Arc::clone(&self.on_request);
        let http = self.http.clone();
        let handler = Arc::clone(handler);
        let shared = Arc::clone(&self.shared);
        let run = Box::new(move || {
            let _ = stream.set_nodelay(config.nodelay);
            let ops = SocketOps::tcp();
            let mut decide = |r: &Request<'_, '_>| on_request(r);
            let result = server_handshake(stream, config, Some(ops), &mut decide, http.as_deref());
            if let Ok(Some(mut ws)) = result {
                ws.rx.going_away = Some(Arc::clone(&shared.going_away));
                handler(ws);
            }
        });
        let job = Job { id, run };
        // A parked thread takes it if one waits; otherwise a new thread.
        let Some(job) = self.give_to_parked(job) else {
            return;
        };
        self.shared.registry().workers += 1;
        let shared = Arc::clone(&self.shared);
        let max_idle = self.reuse_threads;
        let spawned = thread::Builder::new()
            .name("wslite-conn".into())
            .stack_size(self.stack_size)
            .spawn(move || worker(&shared, job, max_idle));
        if spawned.is_err() {
            let mut registry = self.shared.registry();
            registry.sockets.remove(&id);
            registry.threads -= 1;
            registry.workers -= 1;
        }
    }

    /// Hands a connection to a parked thread; gives it back if none waits.
    fn give_to_parked(&self, mut job: Job) -> Option<Job> {
        let mut registry = self.shared.registry();
        while let Some((_, parked)) = registry.idle.pop() {
            match parked.try_send(job) {
                Ok(()) => return None,
                // That thread has ended; try the next.
                Err(TrySendError::Full(j) | TrySendError::Disconnected(j)) => job = j,
            }
        }
        Some(job)
    }
}

/// A connection thread: serves its connection, then, when threads are
/// reused, parks for the next one (see `Server::reuse_threads`).
fn worker(shared: &ServerShared, first: Job, max_idle: usize) {
    let mut job = first;
    loop {
        // A panicking handler ends its connection, not the server: the
        // panic is reported as usual (by the panic hook), the slot freed,
        // and this thread ends rather than serve again.
        let finished = panic::catch_unwind(AssertUnwindSafe(job.run)).is_ok();
        let (me, next) = {
            let mut registry = shared.registry();
            // The connection is over: free its slot.
            registry.sockets.remove(&job.id);
            registry.threads -= 1;
            shared.changed.notify_all();
            // Park for the next one, in the same critical section.
            let reuse = finished
                && max_idle > 0
                && !shared.stopping.load(Ordering::SeqCst)
                && registry.idle.len() < max_idle;
            if !reuse {
                break;
            }
            let (parked, next) = sync_channel::<Job>(1);
            let me = registry.next_worker;
            registry.next_worker += 1;
            registry.idle.push((me, parked));
            (me, next)
        };
        job = match next.recv_timeout(IDLE_THREAD_TIMEOUT) {
            Ok(job) => job,
            Err(_) => {
                let mut registry = shared.registry();
                if let Some(at) = registry.idle.iter().position(|(id, _)| *id == me) {
                    // Nobody came: leave.
                    registry.idle.remove(at);
                    break;
                }
                drop(registry);
                // A connection was handed over just as the wait ended (or
                // shutdown dismissed the parked threads).
                match next.recv() {
                    Ok(job) => job,
                    Err(_) => break,
                }
            }
        };
    }
    let mut registry = shared.registry();
    registry.workers -= 1;
    shared.changed.notify_all();
}

/// Answers a client past the connection limit with 503, from the accepting
/// thread, without spawning one. The request is read first (briefly), so
/// closing does not reset the connection under the answer.
fn refuse_busy(mut stream: TcpStream) {
    // Short waits: this runs on the accepting thread, which must not be
    // held up by clients it refuses.
    // Reading the request first keeps the close from resetting the
    // connection under the answer; it gets 20 ms in all, however slowly the
    // client trickles it in.
    let _ = stream.set_write_timeout(Some(Duration::from_millis(10)));
    let config = Config::default();
    let mut buf = Vec::new();
    let deadline = Instant::now() + Duration::from_millis(20);
    let set_timeout: SetTimeout<TcpStream> = TcpStream::set_read_timeout;
    let _ = read_head(
        &mut stream,
        &mut buf,
        &config,
        Some(deadline),
        Some(set_timeout),
    );
    let _ = write_error(&mut stream, &Error::TooManyConnections);
    let _ = stream.shutdown(Shutdown::Write);
}

/// Stops a running [`Server`].
#[derive(Debug)]
pub struct ServerHandle {
    shared: Arc<ServerShared>,
    addr: SocketAddr,
    shutdown_timeout: Duration,
    accept_thread: Option<thread::JoinHandle<Result<()>>>,
}

impl core::fmt::Debug for ServerShared {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ServerShared")
    }
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many connection threads are running (handshakes included).
    pub fn connections(&self) -> usize {
        self.shared.registry().threads
    }

    /// Stops accepting, tells every open connection 1001 (going away), and
    /// waits for their threads to end (up to the shutdown timeout, after
    /// which their sockets are shut down outright, and as long again).
    /// Returns the number of threads still running at the end (0 when all
    /// ended).
    pub fn shutdown(mut self) -> usize {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop with a connection of our own.
        let wake_addr = match self.addr {
            SocketAddr::V4(a) if a.ip().is_unspecified() => {
                SocketAddr::from(([127, 0, 0, 1], a.port()))
            }
            SocketAddr::V6(a) if a.ip().is_unspecified() => {
                SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, a.port()))
            }
            a => a,
        };
        let _ = TcpStream::connect_timeout(&wake_addr, Duration::from_secs(1));
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }

        // Dismiss parked threads: their wait ends when their channel closes.
        self.shared.registry().idle.clear();
        // Wake every connection's read: it sees the flag and sends 1001.
        self.shared.going_away.store(true, Ordering::SeqCst);
        for socket in self.shared.registry().sockets.values() {
            let _ = socket.shutdown(Shutdown::Read);
        }
        let mut left = self.wait_for_threads(self.shutdown_timeout);
        if left > 0 {
            for socket in self.shared.registry().sockets.values() {
                let _ = socket.shutdown(Shutdown::Both);
            }
            left = self.wait_for_threads(self.shutdown_timeout);
        }
        left
    }

    fn wait_for_threads(&self, timeout: Duration) -> usize {
        let registry = self
            .shared
            .changed
            .wait_timeout_while(self.shared.registry(), timeout, |r| {
                r.threads > 0 || r.workers > 0
            })
            .unwrap_or_else(|p| p.into_inner())
            .0;
        registry.workers.max(registry.threads)
    }
}
