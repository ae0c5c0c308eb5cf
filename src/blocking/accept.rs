//! The server side of the opening handshake over any stream (RFC 6455
//! §4.2): read the client's request, check it, answer `101` or the refusal
//! the error calls for (400, 405, 426, 431, …; §4.2.1, §4.4).
//!
//! [`accept`] and [`accept_with`] work over any `Read + Write` stream (a
//! `TcpStream`, a TLS stream, a Unix socket); [`Server`](super::Server) runs
//! the same code for each connection it accepts. The whole handshake, the
//! request read and the answer written, is bounded by
//! [`Config::handshake_timeout`] when the stream has socket operations: a
//! client that trickles its request one byte at a time (slowloris) is cut
//! off at the deadline, however often it makes progress.

use std::boxed::Box;
use std::io::{Read, Write};
use std::string::String;
use std::time::Instant;
use std::vec::Vec;

use super::request::HttpRequest;
use super::socket::WebSocket;
use super::stream::{after, close_after_answer, read_head, write_head_within, SocketOps};
use super::Config;
use crate::error::{Error, Result};
use crate::handshake::{self, Header, Request, RequestParser};
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

    /// Writes the answer to `stream` before `deadline`.
    // In bounds: `n` is what `write_refusal` wrote into `out`, at most its length.
    #[allow(clippy::indexing_slicing)]
    fn write_to<W: Write>(
        &self,
        stream: &mut W,
        deadline: Option<Instant>,
        ops: Option<SocketOps<W>>,
        server: Option<&str>,
    ) -> Result<()> {
        let mut headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        add_server(&mut headers, server);
        let mut out = vec![
            0u8;
            256 + self.body.len()
                + header_bytes(&self.headers)
                + server.map_or(0, |s| s.len() + 10)
        ];
        let n = handshake::write_refusal(&mut out, self.status, None, &headers, &self.body)?;
        write_head_within(stream, &out[..n], deadline, ops)
    }
}
fn header_bytes(headers: &[(String, String)]) -> usize {
    headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum()
}

/// Adds `Server: <server>` (RFC 9110 §10.2.4) unless the application's
/// answer names a `Server` itself.
fn add_server<'a>(headers: &mut Vec<(&'a str, &'a str)>, server: Option<&'a str>) {
    if let Some(server) = server {
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("Server"))
        {
            headers.push(("Server", server));
        }
    }
}

/// What the server does with a request that is not a WebSocket upgrade.
pub(crate) type HttpHandler = dyn Fn(&Request<'_, '_>) -> HttpResponse + Send + Sync;
/// What decides whether a WebSocket request is accepted.
pub(crate) type RequestCallback =
    dyn Fn(&Request<'_, '_>) -> core::result::Result<Accept, HttpResponse> + Send + Sync;

/// A handshake that ended in `101 Switching Protocols`.
pub(crate) struct Upgraded {
    /// Bytes the client sent after its request: already frames.
    pub(crate) leftover: Vec<u8>,
    /// The request, kept for the handler (its addresses are the caller's
    /// to add).
    pub(crate) request: Box<HttpRequest>,
    /// permessage-deflate, if it was agreed.
    #[cfg(feature = "deflate")]
    pub(crate) compression: Option<crate::permessage_deflate::negotiation::Agreed>,
}

impl Upgraded {
    /// The connection this handshake opened, over `io`.
    pub(crate) fn into_websocket<S: Read + Write>(
        self,
        io: super::socket::Io<S>,
        config: Config,
    ) -> WebSocket<S> {
        let mut ws = WebSocket::from_io(io, Role::Server, config, &self.leftover);
        #[cfg(feature = "deflate")]
        if let Some(agreed) = self.compression {
            ws.set_compression(agreed);
        }
        ws.set_request(self.request);
        ws
    }
}

/// The server side of the handshake over `stream`, with everything optional
/// spelled out. `Ok(None)`: a plain HTTP request was answered by `http`.
// In bounds: `len` is the head's length that `read_head` found inside `buf`; `n` is what `write_accept_response` wrote into `out`.
#[allow(clippy::indexing_slicing)]
pub(crate) fn server_handshake<S: Read + Write>(
    stream: &mut S,
    config: &Config,
    ops: Option<SocketOps<S>>,
    on_request: &mut dyn FnMut(&Request<'_, '_>) -> core::result::Result<Accept, HttpResponse>,
    http: Option<&HttpHandler>,
    server: Option<&str>,
) -> Result<Option<Upgraded>> {
    let deadline = config.handshake_timeout.map(after);
    let mut buf = Vec::new();
    let len = match read_head(stream, ops, &mut buf, config, deadline) {
        Ok(len) => len,
        Err(error) => {
            // A head that broke a limit is answered (431, 400) before the
            // connection is dropped; a stalled or vanished peer is not.
            if error.http_status().is_some() {
                return Err(refuse(stream, ops, deadline, error, server));
            }
            return Err(error);
        }
    };
    let mut headers = vec![Header::default(); config.max_headers];
    let mut parser = RequestParser::new(config.head_limits());
    let request = match parser.parse(&buf[..len], &mut headers) {
        Ok(handshake::Status::Complete((_, request))) => request,
        Ok(handshake::Status::Partial) => return Err(Error::MalformedHttp("incomplete head")),
        Err(error) => return Err(refuse(stream, ops, deadline, error, server)),
    };

    if let Some(http) = http {
        if !request.is_websocket_upgrade() {
            let written = http(&request).write_to(stream, deadline, ops, server);
            let answered = answer_or_500(written, stream, deadline, ops, server);
            close_after_answer(stream, ops);
            answered?;
            return Ok(None);
        }
    }
    let key = match request.validate_upgrade() {
        Ok(key) => key,
        Err(error) => return Err(refuse(stream, ops, deadline, error, server)),
    };
    let accept = match on_request(&request) {
        Ok(accept) => accept,
        Err(refusal) => {
            let written = refusal.write_to(stream, deadline, ops, server);
            let answered = answer_or_500(written, stream, deadline, ops, server);
            close_after_answer(stream, ops);
            answered?;
            return Err(Error::HandshakeRefused {
                status: refusal.status,
                body: refusal.body,
            });
        }
    };
    let mut extra: Vec<(&str, &str)> = accept
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    add_server(&mut extra, server);
    // permessage-deflate (RFC 7692 §5): the first offer we can accept,
    // unless the application answers the extensions itself.
    #[cfg(feature = "deflate")]
    let compression = {
        let answered = extra
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("Sec-WebSocket-Extensions"));
        config.compression.filter(|_| !answered).and_then(|c| {
            crate::permessage_deflate::negotiation::negotiate(request.extensions(), &c.options())
        })
    };
    #[cfg(feature = "deflate")]
    let mut element = [0u8; crate::permessage_deflate::negotiation::MAX_RESPONSE_LEN];
    #[cfg(feature = "deflate")]
    if let Some(agreed) = &compression {
        let n = crate::permessage_deflate::negotiation::write_response(agreed, &mut element)?;
        let element = core::str::from_utf8(&element[..n])
            .map_err(|_| Error::InvalidInput("the extension answer is not text"))?;
        extra.push(("Sec-WebSocket-Extensions", element));
    }
    let mut out = vec![0u8; handshake::accept_response_len(accept.protocol.as_deref(), &extra)];
    let written =
        handshake::write_accept_response(&mut out, &key, accept.protocol.as_deref(), &extra);
    let n = match written {
        Ok(n) => n,
        Err(error) => {
            // The application's answer is unusable (a header with a line
            // break, a subprotocol that is not a token): tell the client.
            return Err(refuse(stream, ops, deadline, error, server));
        }
    };
    write_head_within(stream, &out[..n], deadline, ops)?;
    let request = HttpRequest::new(&request, None, None, accept.protocol);
    Ok(Some(Upgraded {
        leftover: buf[len..].to_vec(),
        request: Box::new(request),
        #[cfg(feature = "deflate")]
        compression,
    }))
}

/// Passes a written answer through; when the application's answer could not
/// be written (its own bad input), answers 500 instead and returns the error.
fn answer_or_500<W: Write>(
    written: Result<()>,
    stream: &mut W,
    deadline: Option<Instant>,
    ops: Option<SocketOps<W>>,
    server: Option<&str>,
) -> Result<()> {
    match written {
        Err(error @ Error::InvalidInput(_)) => {
            let _ = write_error(stream, &error, deadline, ops, server);
            Err(error)
        }
        other => other,
    }
}

/// Answers a handshake error with its HTTP status, closes the connection
/// without losing that answer ([`close_after_answer`]), and hands the error
/// back.
fn refuse<S: Read + Write>(
    stream: &mut S,
    ops: Option<SocketOps<S>>,
    deadline: Option<Instant>,
    error: Error,
    server: Option<&str>,
) -> Error {
    let _ = write_error(stream, &error, deadline, ops, server);
    close_after_answer(stream, ops);
    error
}

/// Answers a handshake error with its HTTP status (and `Server`, spliced
/// in after the status line, if the server sends one).
// In bounds: `n` is what `write_error_response` wrote into `out`.
#[allow(clippy::indexing_slicing)]
pub(crate) fn write_error<W: Write>(
    stream: &mut W,
    error: &Error,
    deadline: Option<Instant>,
    ops: Option<SocketOps<W>>,
    server: Option<&str>,
) -> Result<()> {
    let mut out = [0u8; 1024];
    let n = write_error_answer(&mut out, error, server)?;
    write_head_within(stream, out.get(..n).unwrap_or_default(), deadline, ops)
}

/// The refusal `error` calls for, with `Server: {server}` if given.
pub(crate) fn write_error_answer(
    out: &mut [u8],
    error: &Error,
    server: Option<&str>,
) -> Result<usize> {
    match server {
        None => handshake::write_error_response(out, error),
        Some(server) => handshake::write_error_response_with(out, error, &[("Server", server)]),
    }
}

/// Runs the server side of the handshake on `stream` with the default
/// configuration, accepting every valid WebSocket request.
///
/// It has no timeout of its own over a generic stream; set one on the stream
/// (or use [`accept_with`] with a `TcpStream`-backed [`Server`](super::Server)).
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
/// answer; [`Server`](super::Server) avoids that by closing refused
/// connections in stages (half-close, drain, close).
pub fn accept_with<S: Read + Write>(
    mut stream: S,
    config: Config,
    mut on_request: impl FnMut(&Request<'_, '_>) -> core::result::Result<Accept, HttpResponse>,
) -> Result<WebSocket<S>> {
    let upgraded = server_handshake(&mut stream, &config, None, &mut on_request, None, None)?
        .ok_or(Error::MalformedHttp("not a WebSocket request"))?;
    Ok(upgraded.into_websocket(super::socket::Io::Owned(stream), config))
}
