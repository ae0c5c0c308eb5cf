//! The client side: `connect("ws://…")` and the client's opening handshake
//! over any stream (RFC 6455 §4.1).
//!
//! The client parses the URL ([`super::url`]), opens TCP, sends a `GET` with
//! a fresh random `Sec-WebSocket-Key`, and checks the server's answer: status
//! 101, `Upgrade`, `Connection`, the `Sec-WebSocket-Accept` computed from the
//! key, and that any subprotocol the server chose was offered. Any other
//! answer is an error that carries the status and the body.
//!
//! wslite has no TLS of its own (it has no dependencies). For `wss://`, open
//! a TLS stream with the library of your choice and run
//! [`client_handshake`] over it; everything else works the same.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::string::String;
use std::time::{Duration, Instant};
use std::vec::Vec;

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
}

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

    /// The configuration the connection runs with: `config` with the
    /// builder's own settings applied.
    fn effective_config(&self) -> Config {
        let mut config = self.config;
        if let Some(timeout) = self.handshake_timeout {
            config.handshake_timeout = timeout;
        }
        config
    }

    /// Opens TCP to the URL's host and runs the handshake.
    /// `wss://` URLs give [`Error::TlsNotSupported`].
    pub fn connect(self) -> Result<WebSocket<TcpStream>> {
        let url = Url::parse(&self.url)?;
        url.require_plain()?;
        let mut last_error = None;
        let mut stream = None;
        for addr in std::net::ToSocketAddrs::to_socket_addrs(&url)? {
            let attempt = match self.connect_timeout {
                Some(timeout) => TcpStream::connect_timeout(&addr, timeout),
                None => TcpStream::connect(addr),
            };
            match attempt {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        let stream = match (stream, last_error) {
            (Some(stream), _) => stream,
            (None, Some(e)) => return Err(e.into()),
            (None, None) => {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::NotFound,
                    "the host name resolved to no address",
                )))
            }
        };
        stream.set_nodelay(self.config.nodelay)?;
        self.handshake_with_ops(stream, Some(SocketOps::tcp()))
    }

    /// Runs the client handshake over a stream the caller opened (a TLS
    /// stream for `wss://`, say). Timeouts apply only through the stream's
    /// own settings.
    pub fn handshake<S: Read + Write>(self, stream: S) -> Result<WebSocket<S>> {
        self.handshake_with_ops(stream, None)
    }

    // In bounds: `n` is what `write_request` wrote into `out`; `len` is the head's length that `read_head` found inside `buf`.
    #[allow(clippy::indexing_slicing)]
    fn handshake_with_ops<S: Read + Write>(
        mut self,
        mut stream: S,
        ops: Option<SocketOps<S>>,
    ) -> Result<WebSocket<S>> {
        self.config = self.effective_config();
        let url = Url::parse(&self.url)?;
        let deadline = self.config.handshake_timeout.map(after);
        let key = handshake::generate_key(&mut OsRandom::new());

        // The request.
        let host = url.host_header();
        let resource = url.resource();
        let protocols: Vec<&str> = self.protocols.iter().map(String::as_str).collect();
        let extra: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
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

/// Connects to a `ws://` URL with the default options.
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
