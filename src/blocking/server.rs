//! A thread-per-connection WebSocket [`Server`] over `std::net::TcpListener`.
//!
//! Each connection runs the handshake of [`accept`](super::accept()) and then
//! the application's handler on a thread of its own; the handler finds the
//! request that opened the connection (path, query, headers, the peer's
//! address) in [`WebSocket::request`]. Around that the server adds what a
//! deployed service needs:
//!
//! * **Limits that hold at the machine's limits.** A connection limit (HTTP
//!   503 past it, with no thread spawned) and an optional limit per client
//!   address (HTTP 429). At start, on Linux, the server reads how many
//!   descriptors and memory maps the process may have (see `os_limits`)
//!   and, if `max_connections` would not fit, says so once and refuses at
//!   the limit it can keep: every accepted client gets an answer, 101 or
//!   503, and none is left unanswered in the kernel's queue of accepted
//!   connections. If descriptors still run out, a reserve descriptor
//!   answers the waiting client with 503.
//!
//!   One queue is the kernel's own: std's `TcpListener` asks for a listen
//!   queue of 128 connections. A burst of more clients than that at once,
//!   arriving faster than they are accepted, overflows it; the kernel drops
//!   their SYN and their TCP tries again a second later (they are answered
//!   then). A server that must take larger bursts without that second can
//!   pass [`Server::from_listener`] a listener made with a longer queue
//!   (with the `socket2` crate, say).
//! * **Refusals that cost the accepting thread microseconds**: the answer
//!   is written without waiting and the polite close finishes elsewhere
//!   (see `refusal`), so a burst of over-limit clients cannot slow the
//!   accepting of the others.
//! * **Liveness**: the connection defaults ping a silent peer (keepalive)
//!   and can close idle ones (`Config::idle_timeout`), so quiet or
//!   trickling clients cannot hold slots forever.
//! * Small per-connection thread stacks, a handshake timeout against
//!   clients that stall (slowloris), a request callback that can accept
//!   with a subprotocol and headers or refuse with any status, an optional
//!   plain-HTTP handler so one port can serve a page and its WebSocket,
//!   optional thread reuse, and a graceful shutdown that tells every open
//!   connection 1001 (going away, §7.4.1) and waits for its thread.
//!
//! **One descriptor per connection.** To wake a connection's thread at
//! shutdown, the server must reach its socket from another thread. It keeps
//! a second *reference* to the one socket (`Arc<TcpStream>`; `&TcpStream`
//! reads, writes and shuts down), never a duplicated descriptor: a server
//! with a limit of 1,024 descriptors can hold about 980 connections, not
//! half as many.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;
use std::vec::Vec;

use super::accept::{server_handshake, Accept, HttpHandler, HttpResponse, RequestCallback};
use super::os_limits::{
    is_out_of_descriptors, map_count, map_count_limit, open_files, open_files_limit,
    MAPS_PER_THREAD,
};
use super::refusal::{Refusal, Refusals, MAX_LINGERING};
use super::socket::{Io, WebSocket};
use super::stream::SocketOps;
use super::Config;
use crate::error::Result;
use crate::handshake::Request;

/// What the server knows of its open connections.
struct Registry {
    /// Each connection's socket, shared with its thread (no second
    /// descriptor), to wake that thread at shutdown, by id.
    sockets: HashMap<u64, Arc<TcpStream>>,
    next_id: u64,
    /// Connections being served (handshakes included): what the limit counts.
    threads: usize,
    /// Threads alive, serving or parked (see `Server::reuse_threads`).
    workers: usize,
    /// Parked threads waiting for their next connection, newest last.
    idle: Vec<(u64, SyncSender<Job>)>,
    next_worker: u64,
    /// Connections open from each peer address, for
    /// `Server::max_connections_per_ip`.
    per_ip: HashMap<IpAddr, usize>,
}

/// One connection's work, handed to a new or a parked thread. When it is
/// done, or its handler panicked, the thread releases the connection's slot
/// and, when threads are reused, parks itself, both under one lock: a new
/// connection never finds the slot free but the thread not yet waiting.
struct Job {
    /// The connection's key in `Registry::sockets`.
    id: u64,
    /// The peer's address, counted in `Registry::per_ip`.
    ip: IpAddr,
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
    /// The connection limit in force: `max_connections`, or less where the
    /// descriptor limit would not allow it.
    limit: AtomicUsize,
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
///     if let Some(request) = ws.request() {
///         println!("{:?} opened {}", request.peer_addr(), request.target());
///     }
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
    max_per_ip: Option<usize>,
    stack_size: usize,
    reuse_threads: usize,
    shutdown_timeout: Duration,
    /// Set by `Server::handshake_timeout`; wins over `config`'s whatever
    /// the order of the calls.
    handshake_timeout: Option<Option<Duration>>,
    on_request: Arc<RequestCallback>,
    http: Option<Arc<HttpHandler>>,
    /// The `Server` header's value, if one is sent.
    server_header: Option<Arc<str>>,
    shared: Arc<ServerShared>,
}

/// The `Server` header [`Server::server_header`] can send to name wslite:
/// `wslite/<version>`.
pub const DEFAULT_SERVER_HEADER: &str = concat!("wslite/", env!("CARGO_PKG_VERSION"));

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
            max_per_ip: None,
            stack_size: 128 << 10,
            reuse_threads: 0,
            shutdown_timeout: Duration::from_secs(5),
            handshake_timeout: None,
            on_request: Arc::new(|_| Ok(Accept::new())),
            http: None,
            server_header: None,
            shared: Arc::new(ServerShared {
                registry: Mutex::new(Registry {
                    sockets: HashMap::new(),
                    next_id: 0,
                    threads: 0,
                    workers: 0,
                    idle: Vec::new(),
                    next_worker: 0,
                    per_ip: HashMap::new(),
                }),
                changed: Condvar::new(),
                stopping: AtomicBool::new(false),
                going_away: Arc::new(AtomicBool::new(false)),
                limit: AtomicUsize::new(1024),
            }),
        }
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// The configuration of every connection (limits, timeouts, buffers).
    /// A [`handshake_timeout`](Self::handshake_timeout) set on the server
    /// wins over the one in `config`, before or after this call.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The most connections open at once, handshakes included (default
    /// 1024). Past it a new client gets HTTP 503 and is closed, and no thread
    /// is spawned for it.
    ///
    /// On Linux the server checks at start that the process may open enough
    /// descriptors (`ulimit -n`): one per connection, plus those already
    /// open and a small reserve. If it may not, it says so once on stderr
    /// and refuses at the limit it can keep
    /// ([`ServerHandle::connection_limit`]), so that every client gets an
    /// answer, 101 or 503, and none waits unanswered.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// The most connections open at once from one IP address (default: no
    /// limit of its own, only [`max_connections`](Self::max_connections)).
    /// Past it a new client from that address gets HTTP 429, so one address
    /// cannot take every slot. IPv4 clients reaching an IPv6 socket
    /// (`::ffff:a.b.c.d`) count as their IPv4 address. Clients behind one
    /// proxy or NAT share an address: set it with that in mind.
    pub fn max_connections_per_ip(mut self, max: usize) -> Self {
        self.max_per_ip = Some(max);
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

    /// The longest the opening handshake may take (default 10 s). Wins over
    /// the one in [`config`](Self::config), whichever is called first.
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.handshake_timeout = Some(timeout);
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

    /// Sends `Server: <value>` (RFC 9110 §10.2.4) in the `101` and in the
    /// answers of the handshake — its refusals (400, 426, 431, …), the
    /// [`on_request`](Self::on_request) refusals and the
    /// [`http`](Self::http) handler's answers, unless they name a `Server`
    /// themselves. Off by default: the header tells a scanner what software
    /// answers. [`DEFAULT_SERVER_HEADER`] is `wslite/<version>`:
    ///
    /// ```no_run
    /// use wslite::blocking::server::DEFAULT_SERVER_HEADER;
    /// let server = wslite::Server::bind("127.0.0.1:9001")?.server_header(DEFAULT_SERVER_HEADER);
    /// # Ok::<(), wslite::Error>(())
    /// ```
    ///
    /// A value with CR, LF or another control character makes
    /// [`run`](Self::run) and [`spawn`](Self::spawn) fail with
    /// [`Error::InvalidInput`](crate::Error::InvalidInput). The 503 and
    /// 429 answered from the accepting thread do not carry it.
    pub fn server_header(mut self, value: impl Into<String>) -> Self {
        self.server_header = Some(Arc::from(value.into()));
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
    pub fn run<F>(mut self, handler: F) -> Result<()>
    where
        F: Fn(WebSocket<TcpStream>) + Send + Sync + 'static,
    {
        if let Some(timeout) = self.handshake_timeout {
            self.config.handshake_timeout = timeout;
        }
        check_server_header(self.server_header.as_deref())?;
        let handler = Arc::new(handler);
        let mut refusals = Refusals::new(self.server_header.as_deref());
        let limit = self.connection_limit();
        self.shared.limit.store(limit, Ordering::SeqCst);
        let mut reported = false;
        // Every connection's local address is the listener's, unless it
        // listens on all addresses (0.0.0.0, ::): then the system is asked
        // per connection. The peer's comes with `accept`. Two system calls
        // fewer per connection.
        let listening = self
            .listener
            .local_addr()
            .ok()
            .filter(|addr| !addr.ip().is_unspecified());
        while !self.shared.stopping.load(Ordering::SeqCst) {
            match self.listener.accept() {
                // The wake-up connection of `ServerHandle::shutdown`.
                Ok(_) if self.shared.stopping.load(Ordering::SeqCst) => break,
                Ok((stream, peer)) => {
                    let addrs = Addrs {
                        peer,
                        local: listening,
                    };
                    self.serve(stream, addrs, &handler, &mut refusals)
                }
                // The process is out of descriptors (the handlers opened
                // files, say): answer one waiting client with the reserve
                // descriptor rather than leave it in the backlog; if even
                // that fails, pause briefly, as nginx does.
                Err(e) if is_out_of_descriptors(&e) => {
                    if !refusals.shed(&self.listener) {
                        thread::sleep(ACCEPT_PAUSE);
                    }
                }
                // A client that left before it was accepted: nothing to do.
                Err(e) if is_passing(&e) => {}
                // Anything else (no memory for socket buffers, say): keep
                // serving the others, said once, and pause so as not to spin.
                Err(e) => {
                    if !reported {
                        eprintln!("wslite: accepting a connection failed: {e}; retrying");
                        reported = true;
                    }
                    thread::sleep(ACCEPT_PAUSE);
                }
            }
        }
        refusals.stop();
        Ok(())
    }

    /// `max_connections`, or less when the process's descriptor or memory-map
    /// limit would not allow that many (said once on stderr).
    fn connection_limit(&self) -> usize {
        let mut limit = self.max_connections;
        let mut binding = None;
        if let (Some(allowed), Some(open)) = (open_files_limit(), open_files()) {
            // Kept free: the refused sockets being drained, the reserve,
            // and a few for the application's own files.
            let kept = MAX_LINGERING + 1 + FREE_DESCRIPTORS;
            let fits = allowed.saturating_sub(open + kept);
            if fits < limit {
                limit = fits;
                binding = Some(format!(
                    "this process may open only {allowed} descriptors ({open} open, \
                     {kept} kept free; raise it with `ulimit -n`)"
                ));
            }
        }
        if let (Some(allowed), Some(mapped)) = (map_count_limit(), map_count()) {
            // Kept free: mappings for the allocator's arenas, libraries and
            // the application; parked threads count as threads.
            let kept = FREE_MAPS + self.reuse_threads * MAPS_PER_THREAD;
            let fits = allowed.saturating_sub(mapped + kept) / MAPS_PER_THREAD;
            if fits < limit {
                limit = fits;
                binding = Some(format!(
                    "vm.max_map_count is {allowed} and each connection's thread takes \
                     {MAPS_PER_THREAD} memory maps ({mapped} in use; raise it with \
                     `sysctl vm.max_map_count=262144`)"
                ));
            }
        }
        if let Some(why) = binding {
            eprintln!(
                "wslite: max_connections is {} but {why}: serving at most {limit} \
                 connections at once. Raise the limit or lower max_connections to \
                 silence this.",
                self.max_connections
            );
        }
        limit
    }

    /// Runs the server on a background thread and returns its handle.
    pub fn spawn<F>(self, handler: F) -> Result<ServerHandle>
    where
        F: Fn(WebSocket<TcpStream>) + Send + Sync + 'static,
    {
        check_server_header(self.server_header.as_deref())?;
        let mut handle = self.handle()?;
        let thread = thread::Builder::new()
            .name("wslite-accept".into())
            .spawn(move || self.run(handler))?;
        handle.accept_thread = Some(thread);
        Ok(handle)
    }

    /// Starts one connection's thread, or refuses it (503, or 429 for an
    /// address at its own limit) without one.
    fn serve<F>(&self, stream: TcpStream, addrs: Addrs, handler: &Arc<F>, refusals: &mut Refusals)
    where
        F: Fn(WebSocket<TcpStream>) + Send + Sync + 'static,
    {
        let ip = canonical(addrs.peer.ip());
        let limit = self.shared.limit.load(Ordering::Relaxed);
        let stream = Arc::new(stream);
        let id = {
            let mut registry = self.shared.registry();
            let from_ip = registry.per_ip.get(&ip).copied().unwrap_or(0);
            let refusal = if registry.threads >= limit {
                Some(Refusal::Busy)
            } else if self.max_per_ip.is_some_and(|max| from_ip >= max) {
                Some(Refusal::PeerLimit)
            } else {
                None
            };
            if let Some(refusal) = refusal {
                drop(registry);
                if let Ok(stream) = Arc::try_unwrap(stream) {
                    refusals.refuse(stream, refusal);
                }
                return;
            }
            let id = registry.next_id;
            registry.next_id += 1;
            registry.threads += 1;
            // Counted only where a limit reads the count.
            if self.max_per_ip.is_some() {
                *registry.per_ip.entry(ip).or_insert(0) += 1;
            }
            registry.sockets.insert(id, Arc::clone(&stream));
            id
        };
        let config = self.config;
        let on_request = Arc::clone(&self.on_request);
        let http = self.http.clone();
        let server_header = self.server_header.clone();
        let handler = Arc::clone(handler);
        let shared = Arc::clone(&self.shared);
        let conn = Arc::clone(&stream);
        let run = Box::new(move || {
            let answer = Answer {
                on_request: &*on_request,
                http: http.as_deref(),
                server: server_header.as_deref(),
            };
            if let Some(ws) = handshake(conn, &config, &answer, addrs) {
                let mut ws = ws;
                ws.reading.going_away = Some(Arc::clone(&shared.going_away));
                handler(ws);
            }
        });
        let job = Job { id, ip, run };
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
            // No thread to be had (a process or memory-map limit): the
            // client still gets its answer.
            {
                let mut registry = self.shared.registry();
                registry.sockets.remove(&id);
                registry.threads -= 1;
                registry.workers -= 1;
                release_ip(&mut registry, ip);
            }
            if let Ok(stream) = Arc::try_unwrap(stream) {
                refusals.refuse(stream, Refusal::Busy);
            }
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

/// A connection's two addresses, for its request
/// ([`HttpRequest::peer_addr`](super::HttpRequest::peer_addr)): the peer's,
/// from `accept`; ours, when the listener's address says it.
#[derive(Clone, Copy)]
struct Addrs {
    peer: SocketAddr,
    local: Option<SocketAddr>,
}

/// What a connection's handshake answers with, besides the `101`.
struct Answer<'a> {
    on_request: &'a RequestCallback,
    http: Option<&'a HttpHandler>,
    server: Option<&'a str>,
}

/// Refuses a `Server` value that would break the head it goes in.
fn check_server_header(value: Option<&str>) -> Result<()> {
    match value {
        Some(v) if !v.bytes().all(crate::handshake::head::is_field_value_byte) => {
            Err(crate::Error::InvalidInput(
                "the Server header holds CR, LF or another control character",
            ))
        }
        _ => Ok(()),
    }
}

/// The handshake on a connection's own thread, through `&TcpStream` (the
/// registry holds the other reference). `None`: refused, answered as plain
/// HTTP, or gone.
fn handshake(
    stream: Arc<TcpStream>,
    config: &Config,
    answer: &Answer<'_>,
    addrs: Addrs,
) -> Option<WebSocket<TcpStream>> {
    let on_request = answer.on_request;
    let _ = stream.set_nodelay(config.nodelay);
    let by_ref: SocketOps<&TcpStream> = SocketOps {
        set_read_timeout: |s, t| s.set_read_timeout(t),
        set_write_timeout: |s, t| s.set_write_timeout(t),
        shutdown: |s, how| s.shutdown(how),
    };
    let mut decide = |r: &Request<'_, '_>| on_request(r);
    let mut handle: &TcpStream = &stream;
    let upgraded = server_handshake(
        &mut handle,
        config,
        Some(by_ref),
        &mut decide,
        answer.http,
        answer.server,
    )
    .ok()??;
    let mut upgraded = upgraded;
    let local = addrs.local.or_else(|| stream.local_addr().ok());
    (upgraded.request).set_addrs(Some(addrs.peer), local);
    let mut ws = upgraded.into_websocket(Io::shared(stream), *config);
    ws.set_socket_ops(SocketOps::tcp()).ok()?;
    Some(ws)
}

/// A connection thread: serves its connection, then, when threads are
/// reused, parks for the next one (see `Server::reuse_threads`).
///
/// Kept small on purpose: its frame sits under every connection the thread
/// serves, and a thread's stack pages stay resident once touched, so the
/// bookkeeping between connections is in functions of their own
/// ([`finish_and_park`], [`wait_for_next`]) whose frames are gone while a
/// connection runs.
fn worker(shared: &ServerShared, first: Job, max_idle: usize) {
    let mut job = first;
    loop {
        let (id, ip) = (job.id, job.ip);
        // A panicking handler ends its connection, not the server: the
        // panic is reported as usual (by the panic hook), the slot freed,
        // and this thread ends rather than serve again.
        let finished = panic::catch_unwind(AssertUnwindSafe(job.run)).is_ok();
        let Some(parked) = finish_and_park(shared, id, ip, finished, max_idle) else {
            break;
        };
        match wait_for_next(shared, parked) {
            Some(next) => job = next,
            None => break,
        }
    }
    let mut registry = shared.registry();
    registry.workers -= 1;
    notify_shutdown(shared);
}

/// Wakes `ServerHandle::shutdown`, which waits for the threads to end; a
/// server that is not stopping has nobody waiting, and the wake-up would
/// be a system call per connection for nothing. Called under the registry's
/// lock, after the change: `shutdown` sets `stopping` before it takes the
/// lock to wait, so either it sees the change, or this sees `stopping`.
fn notify_shutdown(shared: &ServerShared) {
    if shared.stopping.load(Ordering::SeqCst) {
        shared.changed.notify_all();
    }
}

/// A connection is over: frees its slot and, when this thread is to be
/// reused, parks it for the next connection in the same critical section.
#[inline(never)]
fn finish_and_park(
    shared: &ServerShared,
    id: u64,
    ip: IpAddr,
    finished: bool,
    max_idle: usize,
) -> Option<(u64, Receiver<Job>)> {
    let mut registry = shared.registry();
    registry.sockets.remove(&id);
    registry.threads -= 1;
    release_ip(&mut registry, ip);
    notify_shutdown(shared);
    let reuse = finished
        && max_idle > 0
        && !shared.stopping.load(Ordering::SeqCst)
        && registry.idle.len() < max_idle;
    if !reuse {
        return None;
    }
    let (parked, next) = sync_channel::<Job>(1);
    let me = registry.next_worker;
    registry.next_worker += 1;
    registry.idle.push((me, parked));
    Some((me, next))
}

/// A parked thread waits for its next connection, or leaves after
/// `IDLE_THREAD_TIMEOUT` with none.
#[inline(never)]
fn wait_for_next(shared: &ServerShared, (me, next): (u64, Receiver<Job>)) -> Option<Job> {
    match next.recv_timeout(IDLE_THREAD_TIMEOUT) {
        Ok(job) => Some(job),
        Err(_) => {
            let mut registry = shared.registry();
            if let Some(at) = registry.idle.iter().position(|(id, _)| *id == me) {
                // Nobody came: leave.
                registry.idle.remove(at);
                return None;
            }
            drop(registry);
            // A connection was handed over just as the wait ended (or
            // shutdown dismissed the parked threads).
            next.recv().ok()
        }
    }
}

/// How long the accepting thread pauses after an `accept` error that is not
/// the client's doing.
const ACCEPT_PAUSE: Duration = Duration::from_millis(10);

/// Descriptors the connection limit leaves for the application's own use
/// (files, a database socket, a log) on top of the server's reserve.
const FREE_DESCRIPTORS: usize = 8;

/// Memory maps the connection limit leaves for the allocator's arenas,
/// libraries, and the application's own threads and mappings.
const FREE_MAPS: usize = 1024;

/// Whether an `accept` error concerns only the client it would have been.
fn is_passing(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

/// An IPv4 client reaching an IPv6 socket is seen as `::ffff:a.b.c.d`; it
/// is the same client as `a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Forgets one connection of `ip` in the per-address count (if it was
/// counted).
fn release_ip(registry: &mut Registry, ip: IpAddr) {
    if let Some(count) = registry.per_ip.get_mut(&ip) {
        *count -= 1;
        if *count == 0 {
            registry.per_ip.remove(&ip);
        }
    }
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

    /// The most connections the server holds at once: its
    /// [`max_connections`](Server::max_connections), or less when the
    /// process's descriptor limit does not allow that many (known once the
    /// server runs).
    pub fn connection_limit(&self) -> usize {
        self.shared.limit.load(Ordering::SeqCst)
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
