//! The client side: `connect("ws://…")` and the client's opening handshake
//! over any stream (RFC 6455 §4.1).
//!
//! The client parses the URL ([`super::url`]), opens TCP — directly, or
//! through a proxy ([`super::proxy`]) — sends a `GET` with a fresh random
//! `Sec-WebSocket-Key` and a `User-Agent: wslite/<version>`, and checks the
//! server's answer: status 101, `Upgrade`, `Connection`, the
//! `Sec-WebSocket-Accept` computed from the key, and that any subprotocol
//! the server chose was offered. Any other answer is an error that carries
//! the status and the body.
//!
//! In short, what [`ClientBuilder::connect`] does (its doc has the detail):
//!
//! * **Timeouts**: the TCP connect is bounded by the connect timeout
//!   (10 s); everything after it until the connection is open — a proxy's
//!   exchange, the request, the answer — by one handshake deadline (10 s),
//!   however slowly bytes come. Then [`Config`]'s timeouts apply.
//! * **Proxies**: [`ClientBuilder::proxy`] (`http://`, `socks5://`,
//!   `socks5h://`), [`ClientBuilder::no_proxy`], or by default the
//!   environment as curl reads it: `http_proxy` for `ws://`, `https_proxy`
//!   for `wss://`, `all_proxy` for both, `no_proxy` to exclude hosts.
//! * **Errors**: the URL's ([`Error::InvalidUrl`]), the network's
//!   ([`Error::Io`], [`Error::Timeout`]), the server's refusal
//!   ([`Error::HandshakeRefused`]) or broken answer ([`Error::InvalidAccept`]
//!   and the other handshake variants), and the proxy's
//!   ([`Error::ProxyAuth`], [`Error::ProxyRefused`],
//!   [`Error::SocksRefused`], …), which name the proxy.
//! * **`wss://`**: wslite has no TLS of its own (it has no dependencies), so
//!   `connect` gives [`Error::TlsNotSupported`]. Open the TCP stream with
//!   [`ClientBuilder::open_stream`] (proxies included), wrap it in a TLS
//!   stream with the library of your choice, and run
//!   [`ClientBuilder::handshake`] (or [`client_handshake`]) over it;
//!   everything else works the same.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::string::String;
use std::time::{Duration, Instant};
use std::vec::Vec;

use super::proxy::{self, Proxy, TunnelOptions};
use super::random::OsRandom;
use super::socket::WebSocket;
use super::stream::{
    after, read_head, time_left, write_head_within, SocketOps, TimedRead, WithOps,
};
use super::url::Url;
use super::Config;
use crate::error::{Error, Result};
use crate::handshake::{self, ClientRequest, Header, ResponseParser};
use crate::protocol::Role;

/// The most bytes of a refusal's body kept for [`Error::HandshakeRefused`].
const MAX_REFUSAL_BODY: usize = 64 << 10;

/// Options for a client connection; [`connect`] uses the defaults.
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    url: String,
    config: Config,
    protocols: Vec<String>,
    headers: Vec<(String, String)>,
    origin: Option<String>,
    connect_timeout: Option<Duration>,
    /// Set by `handshake_timeout`; wins over `config`'s whatever the order.
    handshake_timeout: Option<Option<Duration>>,
    proxy: ProxyChoice,
    /// `wslite/<version>` unless replaced or removed.
    user_agent: Option<String>,
}

/// Where the proxy comes from.
#[derive(Clone)]
enum ProxyChoice {
    /// The environment's `*_proxy` variables (the default).
    Environment,
    /// The builder's.
    Url(String),
    /// None.
    Direct,
}

impl core::fmt::Debug for ProxyChoice {
    /// Never shows the proxy's password.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ProxyChoice::Environment => f.write_str("Environment"),
            ProxyChoice::Direct => f.write_str("Direct"),
            ProxyChoice::Url(url) => match Proxy::parse(url) {
                Ok(proxy) => write!(f, "Url({proxy})"),
                Err(_) => f.write_str("Url(<invalid>)"),
            },
        }
    }
}

/// The `User-Agent` a client sends unless told otherwise.
pub const DEFAULT_USER_AGENT: &str = concat!("wslite/", env!("CARGO_PKG_VERSION"));

impl ClientBuilder {
    /// A client for `url` (`ws://host[:port]/path?query`).
    pub fn new(url: impl Into<String>) -> Self {
        ClientBuilder {
            url: url.into(),
            config: Config::default(),
            protocols: Vec::new(),
            headers: Vec::new(),
            origin: None,
            connect_timeout: Some(Duration::from_secs(10)),
            handshake_timeout: None,
            proxy: ProxyChoice::Environment,
            user_agent: Some(DEFAULT_USER_AGENT.into()),
        }
    }

    /// The connection's configuration (limits, buffers, timeouts). A
    /// [`handshake_timeout`](Self::handshake_timeout) set on the builder wins
    /// over the one in `config`, before or after this call.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Offers a subprotocol; call once per protocol, most preferred first.
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocols.push(protocol.into());
        self
    }

    /// Adds a header field to the request (e.g. `Authorization`).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sends an `Origin`, as a browser would.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// The longest the TCP connect may take (default 10 s; `None`: the
    /// operating system's own limit).
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest the opening handshake may take (default 10 s). Wins over
    /// the one in [`config`](Self::config), whichever is called first.
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.handshake_timeout = Some(timeout);
        self
    }

    /// Sends requests through the proxy at `url` instead of the one the
    /// environment names: `http://[user:password@]host[:port]` (HTTP
    /// `CONNECT`, default port 80), `socks5://…` (SOCKS5, the destination
    /// resolved here) or `socks5h://…` (SOCKS5, the destination's name
    /// resolved by the proxy), default port 1080. The user name and password
    /// are percent-decoded. A URL wslite cannot use gives
    /// [`Error::InvalidProxyUrl`] when connecting. The environment is then
    /// not read at all (its `no_proxy` does not apply). See
    /// [`super::proxy`].
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = ProxyChoice::Url(url.into());
        self
    }

    /// Connects directly: no proxy, whatever the environment says.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxyChoice::Direct;
        self
    }

    /// Sends `agent` as the `User-Agent` (RFC 9110 §10.1.5) instead of
    /// `wslite/<version>`. A `User-Agent` added with
    /// [`header`](Self::header) wins over both; only one is sent.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    /// Sends no `User-Agent` (unless one is added with
    /// [`header`](Self::header)).
    pub fn no_user_agent(mut self) -> Self {
        self.user_agent = None;
        self
    }

    /// The configuration the connection runs with: `config` with the
    /// builder's own settings applied.
    fn effective_config(&self) -> Config {
        let mut config = self.config;
        if let Some(timeout) = self.handshake_timeout {
            config.handshake_timeout = timeout;
        }
        config
    }

    /// The proxy for `url`: the builder's, or the environment's, or none.
    fn proxy_for(&self, url: &Url<'_>) -> Result<Option<Proxy>> {
        let text = match &self.proxy {
            ProxyChoice::Direct => return Ok(None),
            ProxyChoice::Url(text) => Some(text.clone()),
            ProxyChoice::Environment => {
                proxy::env::proxy_for(url.scheme().is_secure(), url.host(), url.port(), |name| {
                    std::env::var(name).ok()
                })
            }
        };
        text.map(|text| Proxy::parse(&text)).transpose()
    }

    /// Opens TCP to the URL's host, through the proxy if there is one.
    /// Returns the socket and the handshake's deadline, started when TCP
    /// came up, which a proxy's exchange has already used part of.
    fn open(&self, url: &Url<'_>, config: &Config) -> Result<(TcpStream, Option<Instant>)> {
        match self.proxy_for(url)? {
            Some(proxy) => proxy::open_tunnel(
                &proxy,
                url,
                &TunnelOptions {
                    connect_timeout: self.connect_timeout,
                    handshake_timeout: config.handshake_timeout,
                    user_agent: self.user_agent.as_deref(),
                    config,
                },
            ),
            None => {
                let stream = proxy::dial(url, self.connect_timeout)?;
                stream.set_nodelay(config.nodelay)?;
                Ok((stream, config.handshake_timeout.map(after)))
            }
        }
    }

    /// Opens TCP to the URL's host and runs the handshake, through a proxy
    /// if one is set or the environment names one.
    ///
    /// # Timeouts
    ///
    /// * The TCP connect: [`connect_timeout`](Self::connect_timeout)
    ///   (default 10 s), for each address the host resolves to, or for the
    ///   proxy's.
    /// * Everything after it until the connection is open — the proxy's
    ///   exchange, if any, the request and the server's answer — shares
    ///   **one** deadline, [`handshake_timeout`](Self::handshake_timeout)
    ///   (default 10 s), counted across every read and write, so a peer
    ///   that trickles bytes cannot stretch it.
    /// * Once open, the connection runs with [`Config`]'s timeouts (read,
    ///   write, idle, keepalive, close).
    ///
    /// # Proxies
    ///
    /// [`proxy`](Self::proxy) names one; [`no_proxy`](Self::no_proxy)
    /// turns proxies off. Otherwise the environment decides, as for curl:
    /// `no_proxy`/`NO_PROXY` (comma-separated names and suffixes, IP
    /// addresses, `:port`, `*`) excludes hosts; then `ws://` uses
    /// `http_proxy` (upper-case `HTTP_PROXY` is ignored, as curl ignores
    /// it), `wss://` `https_proxy`/`HTTPS_PROXY`, both falling back to
    /// `all_proxy`/`ALL_PROXY`; the lower-case spelling wins. Loopback
    /// hosts are not exempt unless listed. See [`super::proxy::env`].
    ///
    /// # `wss://`
    ///
    /// Gives [`Error::TlsNotSupported`]: wslite has no TLS. Open the
    /// stream with [`open_stream`](Self::open_stream) (which honours the
    /// proxy settings), wrap it in the TLS crate of your choice, and run
    /// [`handshake`](Self::handshake) over the TLS stream.
    ///
    /// # Errors
    ///
    /// * [`Error::InvalidUrl`]: the URL is not a valid `ws://` URL;
    ///   [`Error::TlsNotSupported`]: it is `wss://`.
    /// * [`Error::Io`]: the host does not resolve, or refuses TCP;
    ///   [`Error::Timeout`]: the connect or the handshake ran out of time.
    /// * [`Error::HandshakeRefused`]: the server answered with a status
    ///   other than 101 (its status and body are kept).
    /// * [`Error::InvalidAccept`], [`Error::InvalidHeader`],
    ///   [`Error::MissingHeader`], [`Error::UnofferedSubprotocol`],
    ///   [`Error::UnofferedExtension`], [`Error::MalformedHttp`],
    ///   [`Error::HeadTooLarge`]: a 101 that breaks RFC 6455 §4.1;
    ///   [`Error::AbnormalClosure`]: the server closed before answering.
    /// * Through a proxy: [`Error::InvalidProxyUrl`],
    ///   [`Error::ProxyIo`] (the proxy is unreachable),
    ///   [`Error::ProxyTimeout`], [`Error::ProxyAuth`] (407, or SOCKS5
    ///   credentials refused), [`Error::ProxyRefused`] (another non-2xx
    ///   answer to `CONNECT`), [`Error::SocksRefused`] (a SOCKS5 reply
    ///   code), [`Error::ProxyProtocol`]. Each names the proxy as
    ///   `host:port`, never with its password.
    /// * [`Error::InvalidInput`]: a header, origin, protocol or user agent
    ///   given to the builder cannot be sent.
    pub fn connect(self) -> Result<WebSocket<TcpStream>> {
        let url = Url::parse(&self.url)?;
        url.require_plain()?;
        let config = self.effective_config();
        let (stream, deadline) = self.open(&url, &config)?;
        self.handshake_with_ops(stream, Some(SocketOps::tcp()), deadline)
    }

    /// Opens the TCP stream [`connect`](Self::connect) would run the
    /// handshake over — to the URL's host, or a tunnel to it through the
    /// proxy that [`proxy`](Self::proxy) or the environment names — and
    /// stops there: the way to `wss://` (or any stream of your own) with
    /// the same proxy logic. Wrap it in TLS, then call
    /// [`handshake`](Self::handshake):
    ///
    /// ```no_run
    /// # fn tls_wrap(s: std::net::TcpStream) -> std::net::TcpStream { s }
    /// let builder = wslite::ClientBuilder::new("wss://example.com/chat");
    /// let tcp = builder.open_stream()?;  // direct, or through the proxy
    /// let tls = tls_wrap(tcp);           // your TLS crate, for "example.com"
    /// let mut ws = builder.handshake(tls)?;
    /// # Ok::<(), wslite::Error>(())
    /// ```
    ///
    /// The connect is bounded by [`connect_timeout`](Self::connect_timeout)
    /// and a proxy's exchange by
    /// [`handshake_timeout`](Self::handshake_timeout); the stream comes
    /// back with no read or write timeout set. Accepts `ws://` and
    /// `wss://` URLs; the errors are those of [`connect`](Self::connect)
    /// before the handshake.
    pub fn open_stream(&self) -> Result<TcpStream> {
        let url = Url::parse(&self.url)?;
        let (stream, _) = self.open(&url, &self.effective_config())?;
        stream.set_read_timeout(None)?;
        stream.set_write_timeout(None)?;
        Ok(stream)
    }

    /// Runs the client handshake over a stream the caller opened (a TLS
    /// stream for `wss://`, say). Timeouts apply only through the stream's
    /// own settings.
    pub fn handshake<S: Read + Write>(self, stream: S) -> Result<WebSocket<S>> {
        let deadline = self.effective_config().handshake_timeout.map(after);
        self.handshake_with_ops(stream, None, deadline)
    }

    // In bounds: `n` is what `write_request` wrote into `out`; `len` is the head's length that `read_head` found inside `buf`.
    #[allow(clippy::indexing_slicing)]
    fn handshake_with_ops<S: Read + Write>(
        mut self,
        mut stream: S,
        ops: Option<SocketOps<S>>,
        deadline: Option<Instant>,
    ) -> Result<WebSocket<S>> {
        self.config = self.effective_config();
        let url = Url::parse(&self.url)?;
        let key = handshake::generate_key(&mut OsRandom::new());

        // The request.
        let host = url.host_header();
        let resource = url.resource();
        let protocols: Vec<&str> = self.protocols.iter().map(String::as_str).collect();
        let mut extra: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        // One `User-Agent`: the application's own, else the builder's.
        if let Some(agent) = &self.user_agent {
            if !extra
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("User-Agent"))
            {
                extra.push(("User-Agent", agent));
            }
        }
        // permessage-deflate is offered unless the application offers
        // extensions itself (RFC 7692 §5).
        #[cfg(feature = "deflate")]
        let compression = self.config.compression.filter(|_| {
            !extra
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("Sec-WebSocket-Extensions"))
        });
        #[cfg(feature = "deflate")]
        let mut offer_buf = [0u8; crate::permessage_deflate::negotiation::MAX_OFFER_LEN];
        #[cfg(feature = "deflate")]
        let offer = match &compression {
            Some(c) => {
                let n = crate::permessage_deflate::negotiation::write_offer(
                    &c.options(),
                    &mut offer_buf,
                )?;
                Some(
                    core::str::from_utf8(&offer_buf[..n])
                        .map_err(|_| Error::InvalidInput("the extension offer is not text"))?,
                )
            }
            None => None,
        };
        #[cfg(not(feature = "deflate"))]
        let offer: Option<&str> = None;
        let offered: Vec<&str> = offer.into_iter().collect();
        let request = ClientRequest {
            protocols: &protocols,
            origin: self.origin.as_deref(),
            extra_headers: &extra,
            extensions: &offered,
            ..ClientRequest::new(&host, &resource, &key)
        };
        let size = 512
            + host.len()
            + resource.len()
            + protocols.iter().map(|p| p.len() + 2).sum::<usize>()
            + offered.iter().map(|e| e.len() + 40).sum::<usize>()
            + self.origin.as_ref().map_or(0, |o| o.len() + 10)
            + extra
                .iter()
                .map(|(n, v)| n.len() + v.len() + 4)
                .sum::<usize>();
        let mut out = vec![0u8; size];
        let n = handshake::write_request(&mut out, &request)?;
        // The whole handshake, request and answer, within its timeout.
        write_head_within(&mut stream, &out[..n], deadline, ops)?;

        // The answer.
        let mut buf = Vec::new();
        let len = read_head(&mut stream, ops, &mut buf, &self.config, deadline)?;
        let mut headers = vec![Header::default(); self.config.max_headers];
        let mut parser = ResponseParser::new(self.config.head_limits());
        let response = match parser.parse(&buf[..len], &mut headers)? {
            handshake::Status::Complete((_, response)) => response,
            handshake::Status::Partial => return Err(Error::MalformedHttp("incomplete head")),
        };
        if response.status() != 101 {
            let status = response.status();
            let content_length = response
                .header("Content-Length")
                .and_then(|v| core::str::from_utf8(v).ok())
                .and_then(|v| v.trim().parse::<usize>().ok());
            let body = read_body(
                &mut WithOps {
                    stream: &mut stream,
                    ops,
                },
                &buf[len..],
                content_length,
                deadline,
            );
            return Err(Error::HandshakeRefused { status, body });
        }
        let accepted = response.verify(&key, &protocols, &offered)?;
        let protocol = accepted.protocol.map(String::from);
        #[cfg(feature = "deflate")]
        let agreed = match &compression {
            Some(c) => crate::permessage_deflate::negotiation::check_response(
                response.extensions(),
                &c.options(),
            )?,
            None => None,
        };

        let mut ws = WebSocket::from_raw_socket(stream, Role::Client, self.config, &buf[len..]);
        #[cfg(feature = "deflate")]
        if let Some(agreed) = agreed {
            ws.set_compression(agreed);
        }
        if let Some(ops) = ops {
            ws.set_socket_ops(ops)?;
        }
        ws.protocol = protocol;
        Ok(ws)
    }
}

/// Reads a refusal's body (best effort, bounded in size and time).
// In bounds: both cuts are clamped to the slice's length (`min`), and `body.len() < want` in the loop.
#[allow(clippy::indexing_slicing)]
fn read_body<R: TimedRead>(
    stream: &mut R,
    already: &[u8],
    content_length: Option<usize>,
    deadline: Option<Instant>,
) -> Vec<u8> {
    let want = content_length
        .unwrap_or(MAX_REFUSAL_BODY)
        .min(MAX_REFUSAL_BODY);
    let mut body = already[..already.len().min(want)].to_vec();
    let mut chunk = [0u8; 1024];
    while body.len() < want {
        if !matches!(time_left(stream, deadline), Ok(true)) {
            break;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n.min(want - body.len())]),
        }
    }
    body
}

/// Connects to a `ws://` URL with the default options: the environment's
/// proxy if it names one (`http_proxy`, `all_proxy`, minus `no_proxy`), a
/// 10 s connect timeout, then a 10 s deadline for the rest of the opening
/// handshake. The same as `ClientBuilder::new(url).connect()`: see
/// [`ClientBuilder::connect`] for the errors, the timeouts and the proxy
/// rules in full. A `wss://` URL gives [`Error::TlsNotSupported`]: use
/// [`ClientBuilder::open_stream`], a TLS crate and [`client_handshake`].
///
/// ```no_run
/// let mut ws = wslite::connect("ws://127.0.0.1:9001/")?;
/// ws.send_text("hello")?;
/// let echo = ws.read()?;
/// ws.close(wslite::CloseCode::NORMAL, "")?;
/// # Ok::<(), wslite::Error>(())
/// ```
pub fn connect(url: &str) -> Result<WebSocket<TcpStream>> {
    ClientBuilder::new(url).connect()
}

/// Runs the client handshake for `url` over a stream the caller opened: the
/// way to use `wss://` with a TLS library of your choice.
pub fn client_handshake<S: Read + Write>(stream: S, url: &str) -> Result<WebSocket<S>> {
    ClientBuilder::new(url).handshake(stream)
}
