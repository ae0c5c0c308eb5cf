//! HTTP `CONNECT`: asking an HTTP proxy for a tunnel (RFC 9110 §9.3.6),
//! with Basic credentials (RFC 7617).
//!
//! The client opens TCP to the proxy and sends a request whose target is
//! the destination's `host:port` (the *authority-form* of RFC 9112 §3.2.3),
//! with a `Host` field that repeats it:
//!
//! ```text
//! CONNECT server.example:443 HTTP/1.1\r\n
//! Host: server.example:443\r\n
//! Proxy-Authorization: Basic dXNlcjpwYXNz\r\n      (only with user:pass@)
//! User-Agent: wslite/0.1.0\r\n                     (unless turned off)
//! \r\n
//! ```
//!
//! An IPv6 destination is written in brackets (`[::1]:9001`). Basic
//! credentials (RFC 7617 §2) are `base64(user ":" password)` of the
//! percent-decoded user name and password from the proxy URL; a user name
//! cannot contain `:`, since the colon is what separates the two.
//!
//! The proxy answers with an ordinary HTTP response head. **Any 2xx status
//! means the tunnel is open** (RFC 9110 §9.3.6): from the byte after the
//! head's empty line, the socket carries the destination's bytes. A 2xx
//! answer to `CONNECT` has no body, whatever its header fields say. Any
//! other status is a refusal: `407 Proxy Authentication Required` (RFC 9110
//! §15.5.8) becomes [`Error::ProxyAuth`] (so does 401, which tinyproxy 1.11
//! sends for a wrong password, though 401 is meant for origin servers),
//! anything else
//! [`Error::ProxyRefused`] with the status line, e.g. `HTTP/1.1 403
//! Forbidden` or `HTTP/1.1 502 Bad Gateway` (the proxy could not reach the
//! destination). Many proxies answer `HTTP/1.0 200 Connection established`;
//! the version of the answer does not matter.
//!
//! The head is read with the same bounded reader as a WebSocket handshake
//! (size, header count and the deadline), one byte per read call, so that
//! nothing after the head is taken from the socket: those bytes belong to
//! the WebSocket handshake (or TLS) that follows.

use std::io::{self, Read};
use std::net::{Shutdown, TcpStream};
use std::string::String;
use std::time::{Duration, Instant};
use std::vec::Vec;

use super::{write_within, Proxy, TunnelOptions};
use crate::base64;
use crate::blocking::stream::{read_head, SocketOps};
use crate::error::{Error, Result};
use crate::handshake::{head, Header, ResponseParser, Status};

/// Sends `CONNECT authority` to the proxy on `stream` and reads its answer,
/// all before `deadline`. `Ok` once the tunnel is open.
// In bounds: `len` is the head's length that `read_head` found in `buf`.
#[allow(clippy::indexing_slicing)]
pub(super) fn connect(
    stream: &mut TcpStream,
    proxy: &Proxy,
    authority: &str,
    options: &TunnelOptions<'_>,
    deadline: Option<Instant>,
) -> Result<()> {
    let request = request(authority, proxy.credentials(), options.user_agent)?;
    write_within(stream, request.as_bytes(), deadline)?;

    let config = options.config;
    let mut buf = Vec::new();
    let mut one = OneByte(stream);
    let len = read_head(&mut one, Some(one_byte_ops()), &mut buf, config, deadline)?;
    let mut headers = vec![Header::default(); config.max_headers];
    let mut parser = ResponseParser::new(config.head_limits());
    let status = match parser.parse(&buf[..len], &mut headers)? {
        Status::Complete((_, response)) => response.status(),
        Status::Partial => return Err(Error::MalformedHttp("incomplete head")),
    };
    if (200..300).contains(&status) {
        return Ok(());
    }
    let line_end = buf.windows(2).position(|w| w == b"\r\n").unwrap_or(len);
    let status_line = String::from_utf8_lossy(&buf[..line_end]).into_owned();
    let proxy_name = proxy.authority();
    // 407 is the status for this (RFC 9110 §15.5.8); some proxies
    // (tinyproxy 1.11) answer wrong credentials with 401 instead.
    if status == 407 || status == 401 {
        Err(Error::ProxyAuth {
            proxy: proxy_name,
            credentials_sent: proxy.credentials().is_some(),
            answer: status_line,
        })
    } else {
        Err(Error::ProxyRefused {
            proxy: proxy_name,
            status,
            status_line,
        })
    }
}

/// The `CONNECT` request's head.
fn request(
    authority: &str,
    credentials: Option<(&str, &str)>,
    user_agent: Option<&str>,
) -> Result<String> {
    let mut out = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some((user, password)) = credentials {
        out.push_str("Proxy-Authorization: Basic ");
        out.push_str(&basic_credentials(user, password)?);
        out.push_str("\r\n");
    }
    if let Some(agent) = user_agent {
        if !agent.bytes().all(head::is_field_value_byte) {
            return Err(Error::InvalidInput(
                "the User-Agent holds CR, LF or another control character",
            ));
        }
        out.push_str("User-Agent: ");
        out.push_str(agent);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    Ok(out)
}

/// `base64(user ":" password)`, the token of RFC 7617 §2.
pub(crate) fn basic_credentials(user: &str, password: &str) -> Result<String> {
    if user.contains(':') {
        return Err(Error::InvalidProxyUrl(
            "the user name contains ':', which Basic authentication cannot carry (RFC 7617 §2)",
        ));
    }
    if user.chars().chain(password.chars()).any(char::is_control) {
        return Err(Error::InvalidProxyUrl(
            "the user name or password holds a control character (RFC 7617 §2)",
        ));
    }
    let plain = format!("{user}:{password}");
    let mut out = vec![0u8; base64::encoded_len(plain.len())];
    let n = base64::encode(plain.as_bytes(), &mut out).unwrap_or(0);
    out.truncate(n);
    String::from_utf8(out).map_err(|_| Error::InvalidInput("base64 is ASCII"))
}

/// A socket read one byte per call: nothing past the head is taken.
struct OneByte<'a>(&'a TcpStream);

impl Read for OneByte<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match buf.get_mut(..1) {
            Some(first) => Read::read(&mut self.0, first),
            None => Ok(0),
        }
    }
}

/// The socket operations of the one-byte reader: those of its socket.
fn one_byte_ops<'a>() -> SocketOps<OneByte<'a>> {
    fn read_timeout(s: &OneByte<'_>, t: Option<Duration>) -> io::Result<()> {
        s.0.set_read_timeout(t)
    }
    fn write_timeout(s: &OneByte<'_>, t: Option<Duration>) -> io::Result<()> {
        s.0.set_write_timeout(t)
    }
    fn shutdown(s: &OneByte<'_>, how: Shutdown) -> io::Result<()> {
        s.0.shutdown(how)
    }
    SocketOps {
        set_read_timeout: read_timeout,
        set_write_timeout: write_timeout,
        shutdown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_names_the_destination_twice_and_carries_basic_credentials() {
        let head = request(
            "[::1]:9001",
            Some(("Aladdin", "open sesame")),
            Some("wslite/1"),
        )
        .unwrap();
        assert_eq!(
            head,
            "CONNECT [::1]:9001 HTTP/1.1\r\nHost: [::1]:9001\r\n\
             Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\
             User-Agent: wslite/1\r\n\r\n"
        );
        assert_eq!(
            request("h:80", None, None).unwrap(),
            "CONNECT h:80 HTTP/1.1\r\nHost: h:80\r\n\r\n"
        );
    }

    #[test]
    fn credentials_basic_cannot_carry_are_refused() {
        assert!(basic_credentials("a:b", "c").is_err());
        assert!(basic_credentials("a", "b\r\nX: y").is_err());
        // RFC 7617 §2's example.
        assert_eq!(
            basic_credentials("Aladdin", "open sesame").unwrap(),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}
