//! `wss://` with wslite: the recipe.
//!
//! wslite has no TLS of its own (it has no dependencies). It runs the
//! WebSocket handshake and the connection over any `Read + Write` stream,
//! so `wss://` is three steps on each side, and this file is those steps,
//! ready to copy:
//!
//! ```text
//! client                                   server
//! 1. TCP connect to the URL's host:port    1. TCP accept
//! 2. TLS handshake, SNI = the URL's host,  2. TLS handshake with the
//!    the server's certificate checked         certificate and its key
//! 3. ClientBuilder::new(url).handshake     3. wslite::accept_with(tls, …)
//! then, on both: set_socket_ops, so that timeouts, keepalive and close
//! reach the TCP socket inside the TLS stream.
//! ```
//!
//! TLS here is [rustls] with the *ring* crypto provider. The connection is a
//! `WebSocket<StreamOwned<…, TcpStream>>` ([`TlsClient`], [`TlsServer`]):
//! one owner, one thread. `split` needs a socket that reads and writes
//! through `&self` (wslite's `SharedStream`, as `&TcpStream` does) and a TLS
//! session is one state machine that both directions change, so it is not
//! available over TLS; one thread that reads with a short `read_timeout` and
//! sends between reads does both directions (see `src/bin/wss_client.rs`).
//!
//! Each step returns [`Error`], which says which layer failed: TCP, TLS or
//! WebSocket.

use std::fmt;
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::StreamOwned;
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use wslite::blocking::url::{Scheme, Url};
use wslite::blocking::SocketOps;
use wslite::{Accept, ClientBuilder, CloseFrame, Message, WebSocket};

/// A client's TLS stream: the rustls session and the TCP socket under it.
pub type TlsClient = StreamOwned<ClientConnection, TcpStream>;

/// A server's TLS stream, one per accepted connection.
pub type TlsServer = StreamOwned<ServerConnection, TcpStream>;

/// What failed, by layer.
#[derive(Debug)]
pub enum Error {
    /// The URL is not a `wss://` URL.
    Url(String),
    /// TCP, or a file: connecting, a timeout, the peer went away.
    Io(io::Error),
    /// TLS: an untrusted certificate, a name the certificate does not
    /// cover, no protocol version or cipher suite in common, an alert from
    /// the peer.
    Tls(rustls::Error),
    /// A PEM file that holds no certificate or no key, or a broken one.
    Pem(String),
    /// WebSocket: the opening handshake was refused, or the connection
    /// failed.
    WebSocket(wslite::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Url(e) => write!(f, "URL: {e}"),
            Error::Io(e) => write!(f, "TCP: {e}"),
            Error::Tls(e) => write!(f, "TLS: {e}"),
            Error::Pem(e) => write!(f, "PEM: {e}"),
            Error::WebSocket(e) => write!(f, "WebSocket: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Tls(e) => Some(e),
            Error::WebSocket(e) => Some(e),
            Error::Url(_) | Error::Pem(_) => None,
        }
    }
}

impl From<io::Error> for Error {
    /// rustls reports TLS failures on a stream as `io::Error`s that carry a
    /// `rustls::Error`: those become [`Error::Tls`].
    fn from(e: io::Error) -> Self {
        match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(tls) => Error::Tls(tls.clone()),
            None => Error::Io(e),
        }
    }
}

impl From<rustls::Error> for Error {
    fn from(e: rustls::Error) -> Self {
        Error::Tls(e)
    }
}

impl From<wslite::Error> for Error {
    fn from(e: wslite::Error) -> Self {
        Error::WebSocket(e)
    }
}

/// The crypto provider: ring. Passed explicitly rather than installed as
/// the process default, so a program that links another provider too
/// still gets this one.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// ALPN: WebSocket runs over HTTP/1.1 (RFC 6455 §4.1; over HTTP/2 it
/// would be RFC 8441). A server that also speaks HTTP/2 must not pick it
/// for this connection.
const ALPN_HTTP_1_1: &[u8] = b"http/1.1";

// ---------------------------------------------------------------- client

/// A client configuration that trusts `roots`: the certificate authorities
/// (or self-signed certificates) whose certificates it accepts.
pub fn client_config(roots: RootCertStore) -> Result<Arc<ClientConfig>, Error> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
    Ok(Arc::new(config))
}

/// The certificates of a PEM file (a CA, or a self-signed server
/// certificate) as roots to trust.
pub fn roots_from_pem(path: &Path) -> Result<RootCertStore, Error> {
    let mut roots = RootCertStore::empty();
    for cert in read_certs(path)? {
        roots.add(cert)?;
    }
    Ok(roots)
}

/// Mozilla's root certificates (the `webpki-roots` crate): what a client of
/// public `wss://` servers trusts.
pub fn public_roots() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

/// Opens a `wss://` connection: TCP, TLS, then the WebSocket handshake.
///
/// `config`'s `handshake_timeout` bounds the TCP connect, the TLS
/// handshake and the WebSocket handshake (as on the server, see
/// [`accept`]); its `read_timeout`, `write_timeout`, `keepalive` and
/// `close_timeout` apply to the connection afterwards.
pub fn connect(
    url: &str,
    tls: Arc<ClientConfig>,
    config: wslite::Config,
) -> Result<WebSocket<TlsClient>, Error> {
    let parsed = Url::parse(url).map_err(|e| Error::Url(e.to_string()))?;
    if parsed.scheme() != Scheme::Wss {
        return Err(Error::Url(format!(
            "{url} is not a wss:// URL (for ws://, use wslite::connect)"
        )));
    }
    let timeout = config.handshake_timeout;

    // Step 1: TCP to the URL's host and port (443 unless the URL says).
    let tcp = connect_tcp(&parsed, timeout)?;
    tcp.set_nodelay(config.nodelay)?;

    // Step 2: TLS. The server name does two things: it is sent as SNI, so
    // a server with many names picks the right certificate, and it is the
    // name the server's certificate must cover. It is the URL's host, as
    // a browser uses it: a DNS name, or an IP address (which needs an IP
    // entry in the certificate).
    let name = match parsed.ip() {
        Some(ip) => ServerName::IpAddress(ip.into()),
        None => ServerName::try_from(parsed.host().to_owned())
            .map_err(|e| Error::Url(format!("{}: {e}", parsed.host())))?,
    };
    let tls = tls_client_stream(tcp, name, tls, timeout)?;

    // Step 3: the WebSocket handshake, over TLS. The URL gives the `Host`
    // header and the resource (`GET /path?query`); its port is left out
    // of `Host` when it is 443.
    let mut ws = ClientBuilder::new(url).config(config).handshake(tls)?;

    // From now on wslite sets the socket's timeouts itself (read_timeout,
    // keepalive, write_timeout) and ends TCP in `close`, through these
    // functions that reach the TCP socket inside the TLS stream.
    ws.set_socket_ops(socket_ops())?;
    Ok(ws)
}

/// Step 1: TCP, to the first address of the URL's host that answers.
fn connect_tcp(url: &Url<'_>, timeout: Option<Duration>) -> Result<TcpStream, Error> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host resolved to no address");
    for addr in url.to_socket_addrs()? {
        let attempt = match timeout {
            Some(timeout) => TcpStream::connect_timeout(&addr, timeout),
            None => TcpStream::connect(addr),
        };
        match attempt {
            Ok(tcp) => return Ok(tcp),
            Err(e) => last = e,
        }
    }
    Err(Error::Io(last))
}

/// Step 2: the TLS handshake as a client, done to the end before anything
/// else is sent, so that a certificate the client does not trust fails
/// here, as [`Error::Tls`], and not later as a broken WebSocket.
///
/// The whole handshake gets `timeout` (however the server trickles its
/// bytes); the socket keeps the remainder as its read and write timeouts,
/// for the WebSocket handshake that follows.
pub fn tls_client_stream(
    mut tcp: TcpStream,
    name: ServerName<'static>,
    config: Arc<ClientConfig>,
    timeout: Option<Duration>,
) -> Result<TlsClient, Error> {
    let mut conn = ClientConnection::new(config, name)?;
    let deadline = timeout.map(|t| Instant::now() + t);
    while conn.is_handshaking() {
        set_timeouts_before(&tcp, deadline)?;
        conn.complete_io(&mut tcp).map_err(during_tls_handshake)?;
    }
    set_timeouts_before(&tcp, deadline)?;
    Ok(StreamOwned::new(conn, tcp))
}

// ---------------------------------------------------------------- server

/// A server configuration: the certificate chain (the server's own
/// certificate first) and its private key.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, Error> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
    Ok(Arc::new(config))
}

/// A server configuration from PEM files: the certificate chain and the
/// private key (PKCS #8, PKCS #1 or SEC 1).
pub fn server_config_from_pem(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, Error> {
    let chain = read_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| Error::Pem(format!("{}: {e}", key.display())))?;
    server_config(chain, key)
}

/// Runs a server's side of one `wss://` connection: the TLS handshake,
/// then the WebSocket handshake, accepting every valid request (put the
/// checks of the path, `Origin` or a token in the `accept_with` callback).
///
/// `config`'s `handshake_timeout` bounds the TLS handshake as a whole;
/// what is left of it bounds each read and write of the WebSocket
/// handshake, which wslite bounds as a whole by the same timeout (checked
/// between reads).
pub fn accept(
    tcp: TcpStream,
    tls: Arc<ServerConfig>,
    config: wslite::Config,
) -> Result<WebSocket<TlsServer>, Error> {
    // Step 1 (the TCP accept) happened in the caller's loop.
    tcp.set_nodelay(config.nodelay)?;

    // Step 2: TLS, with the server's certificate.
    let tls = tls_server_stream(tcp, tls, config.handshake_timeout)?;

    // Step 3: the WebSocket handshake, over TLS.
    let mut ws = wslite::accept_with(tls, config, |_request| Ok(Accept::new()))?;

    // As on the client: wslite's timeouts and `close` reach the socket.
    ws.set_socket_ops(socket_ops())?;
    Ok(ws)
}

/// Step 2 on the server: the TLS handshake, within `timeout` in all.
pub fn tls_server_stream(
    mut tcp: TcpStream,
    config: Arc<ServerConfig>,
    timeout: Option<Duration>,
) -> Result<TlsServer, Error> {
    let mut conn = ServerConnection::new(config)?;
    let deadline = timeout.map(|t| Instant::now() + t);
    while conn.is_handshaking() {
        set_timeouts_before(&tcp, deadline)?;
        conn.complete_io(&mut tcp).map_err(during_tls_handshake)?;
    }
    set_timeouts_before(&tcp, deadline)?;
    Ok(StreamOwned::new(conn, tcp))
}

/// Sends TLS's `close_notify` and flushes it, when the connection is over
/// and the socket is still open: the polite end of a TLS session, which
/// tells the peer that nothing was cut off. Best effort.
///
/// Call it on a server after the peer's Close was read (the socket is
/// still open then); after `close` the socket is already shut down.
pub fn send_close_notify<C, D>(ws: &mut WebSocket<StreamOwned<C, TcpStream>>)
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<D>>,
    D: rustls::SideData,
{
    if let Some(tls) = ws.get_mut() {
        tls.conn.send_close_notify();
        let _ = tls.conn.complete_io(&mut tls.sock);
    }
}

/// The echo server's loop for one connection: every text and binary
/// message goes back as it came, until the peer closes. Returns the peer's
/// Close frame (`None` if it carried no code).
///
/// wslite answers pings and the peer's Close by itself, inside `read`.
pub fn echo(ws: &mut WebSocket<TlsServer>) -> Result<Option<CloseFrame>, Error> {
    loop {
        match ws.read()? {
            Message::Text(text) => ws.send_text(&text)?,
            Message::Binary(data) => ws.send_binary(&data)?,
            Message::Close(frame) => {
                // Our Close went out in `read`; end TLS before TCP.
                send_close_notify(ws);
                return Ok(frame);
            }
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}

// ---------------------------------------------------------------- both

/// What wslite needs beyond `Read + Write`, for a TLS stream: functions
/// that set the timeouts of the TCP socket inside and shut it down.
///
/// A read that times out inside rustls keeps what it had received of a
/// TLS record, so wslite's `read_timeout` leaves the connection usable,
/// as over plain TCP.
pub fn socket_ops<C>() -> SocketOps<StreamOwned<C, TcpStream>> {
    SocketOps {
        set_read_timeout: |tls, timeout| tls.sock.set_read_timeout(timeout),
        set_write_timeout: |tls, timeout| tls.sock.set_write_timeout(timeout),
        shutdown: |tls, how| tls.sock.shutdown(how),
    }
}

/// An error of the TLS handshake, said for a person: the end of the
/// stream there usually means the peer does not speak TLS on that port.
fn during_tls_handshake(e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => Error::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the peer closed the connection during the TLS handshake (does it speak TLS on this port?)",
        )),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::Io(io::Error::new(
            io::ErrorKind::TimedOut,
            "the TLS handshake took longer than the handshake timeout",
        )),
        _ => Error::from(e),
    }
}

/// Gives the socket's reads and writes what is left until `deadline`, or
/// fails with `TimedOut` if nothing is.
fn set_timeouts_before(tcp: &TcpStream, deadline: Option<Instant>) -> Result<(), Error> {
    let left = match deadline {
        Some(deadline) => {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the TLS handshake took longer than the handshake timeout",
                )));
            }
            Some(left)
        }
        None => None,
    };
    tcp.set_read_timeout(left)?;
    tcp.set_write_timeout(left)?;
    Ok(())
}

/// Every certificate in a PEM file; at least one.
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| Error::Pem(format!("{}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(Error::Pem(format!(
            "{}: no CERTIFICATE in the file",
            path.display()
        )));
    }
    Ok(certs)
}

// ---------------------------------------------------------------- testing

/// A self-signed certificate and its key, made now: for tests and for
/// `wss_server --self-signed`. Never for production: a client trusts it
/// only when told to (`wss_client --ca cert.pem`).
pub struct SelfSigned {
    /// The certificate, DER.
    pub cert: CertificateDer<'static>,
    /// The certificate, PEM: what a client is given to trust.
    pub cert_pem: String,
    /// The private key, PKCS #8.
    pub key: PrivatePkcs8KeyDer<'static>,
}

impl SelfSigned {
    /// A certificate for these names: DNS names (`localhost`) and IP
    /// addresses (`127.0.0.1`, `::1`).
    pub fn new(names: &[&str]) -> Result<SelfSigned, Error> {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let made = rcgen::generate_simple_self_signed(names)
            .map_err(|e| Error::Pem(format!("cannot make a certificate: {e}")))?;
        Ok(SelfSigned {
            cert: made.cert.der().clone(),
            cert_pem: made.cert.pem(),
            key: PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()),
        })
    }

    /// A server configuration with this certificate.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, Error> {
        server_config(vec![self.cert.clone()], self.key.clone_key().into())
    }

    /// Roots that trust this certificate, and nothing else.
    pub fn roots(&self) -> Result<RootCertStore, Error> {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert.clone())?;
        Ok(roots)
    }
}
