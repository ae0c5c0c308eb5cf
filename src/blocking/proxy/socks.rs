//! SOCKS5: asking a SOCKS proxy for a tunnel (RFC 1928), with
//! username/password authentication (RFC 1929).
//!
//! SOCKS5 is binary; every message is a few bytes whose lengths say where
//! it ends. Three exchanges, the second only with credentials:
//!
//! **1. Choosing a method** (RFC 1928 §3). The client lists the ways it can
//! authenticate; the server picks one:
//!
//! ```text
//! client: 05 01 00          version 5, one method: 00 (none)
//!     or: 05 02 00 02       two methods: 00 (none), 02 (username/password)
//! server: 05 MM             the chosen method, or FF: "none of these"
//! ```
//!
//! **2. Username and password** (RFC 1929 §2), if the server chose 02:
//!
//! ```text
//! client: 01 ULEN UNAME… PLEN PASSWD…   sub-negotiation version 1, lengths 0-255
//! server: 01 SS                         SS = 00: accepted; anything else: refused
//! ```
//!
//! **3. The request** (RFC 1928 §4, §5). `CONNECT` (command 01) to an
//! address of one of three types, then the port, most significant byte
//! first:
//!
//! ```text
//! client: 05 01 00 01 a b c d PP PP          IPv4 address a.b.c.d
//!     or: 05 01 00 04 <16 bytes> PP PP       IPv6 address
//!     or: 05 01 00 03 LEN name… PP PP        a host name, which the proxy resolves
//! server: 05 REP 00 ATYP BND.ADDR BND.PORT   REP = 00: the tunnel is open
//! ```
//!
//! `socks5://` resolves the destination's name on the client and sends its
//! address (types 01 and 04); `socks5h://` sends the name (type 03), so the
//! proxy resolves it — what one wants when only the proxy's side knows the
//! name, or when the client should not be seen asking DNS for it. An IP
//! literal is sent as an address either way.
//!
//! The reply's `REP` (RFC 1928 §6) is 00 for success; 01 to 08 say why not
//! ("general failure", "not allowed by ruleset", "network unreachable",
//! "host unreachable", "connection refused", "TTL expired", "command not
//! supported", "address type not supported"), each turned into
//! [`Error::SocksRefused`] with the code and its meaning. The bound address
//! that ends the reply (where the proxy's outgoing connection comes from)
//! is read, so that nothing of the reply is left in the socket, and
//! dropped.

use std::net::{IpAddr, TcpStream};
use std::time::Instant;
use std::vec::Vec;

use super::{read_exact_within, write_within, Proxy};
use crate::error::{Error, Result};

/// The protocol version, first byte of every message (RFC 1928 §3).
const VERSION: u8 = 5;
/// Method 00: no authentication required.
const NO_AUTH: u8 = 0x00;
/// Method 02: username/password (RFC 1929).
const USER_PASSWORD: u8 = 0x02;
/// "No acceptable methods".
const NO_ACCEPTABLE: u8 = 0xff;
/// The RFC 1929 sub-negotiation's version.
const AUTH_VERSION: u8 = 1;
/// Command 01: `CONNECT`.
const CMD_CONNECT: u8 = 0x01;
/// Address types (RFC 1928 §5).
const ATYP_IPV4: u8 = 0x01;
const ATYP_NAME: u8 = 0x03;
const ATYP_IPV6: u8 = 0x04;

/// Where the tunnel should lead.
#[derive(Debug)]
pub(crate) enum Destination<'a> {
    /// An address (IP literals, and every `socks5://` destination).
    Ip(IpAddr),
    /// A name for the proxy to resolve (`socks5h://`).
    Name(&'a str),
}

/// Runs the three exchanges over `stream`, all before `deadline`.
pub(super) fn connect(
    stream: &mut TcpStream,
    proxy: &Proxy,
    destination: &Destination<'_>,
    port: u16,
    deadline: Option<Instant>,
) -> Result<()> {
    let name = || proxy.authority();
    let protocol = |what| Error::ProxyProtocol {
        proxy: name(),
        what,
    };
    let credentials = proxy.credentials();
    // The request is built first: a name too long for it is our error,
    // found before a byte is sent.
    let request = request(destination, port)?;

    // 1. The method.
    let greeting: &[u8] = match credentials {
        Some(_) => &[VERSION, 2, NO_AUTH, USER_PASSWORD],
        None => &[VERSION, 1, NO_AUTH],
    };
    write_within(stream, greeting, deadline)?;
    let mut choice = [0u8; 2];
    read_exact_within(stream, &mut choice, deadline)?;
    let [version, method] = choice;
    if version != VERSION {
        return Err(protocol(
            "its answer does not start with version 5 (RFC 1928 §3); is it a SOCKS5 proxy?",
        ));
    }
    match (method, credentials) {
        (NO_AUTH, _) => {}
        // 2. The credentials.
        (USER_PASSWORD, Some((user, password))) => {
            write_within(stream, &auth_request(user, password)?, deadline)?;
            let mut answer = [0u8; 2];
            read_exact_within(stream, &mut answer, deadline)?;
            let [auth_version, status] = answer;
            if auth_version != AUTH_VERSION {
                return Err(protocol(
                    "its answer to the username and password does not start with version 1 (RFC 1929 §2)",
                ));
            }
            if status != 0 {
                return Err(Error::ProxyAuth {
                    proxy: name(),
                    credentials_sent: true,
                    answer: format!("RFC 1929 status {status:#04x} (not 0x00, success)"),
                });
            }
        }
        (NO_ACCEPTABLE, _) => {
            return Err(Error::ProxyAuth {
                proxy: name(),
                credentials_sent: credentials.is_some(),
                answer: "none of the offered authentication methods is acceptable (method 0xff, RFC 1928 §3)".into(),
            })
        }
        _ => return Err(protocol("it chose an authentication method that was not offered (RFC 1928 §3)")),
    }

    // 3. The request.
    write_within(stream, &request, deadline)?;
    let mut reply = [0u8; 4];
    read_exact_within(stream, &mut reply, deadline)?;
    let [version, rep, _reserved, atyp] = reply;
    if version != VERSION {
        return Err(protocol(
            "its reply does not start with version 5 (RFC 1928 §6)",
        ));
    }
    if rep != 0 {
        return Err(Error::SocksRefused {
            proxy: name(),
            reply: rep,
        });
    }
    // The bound address and port, read to leave nothing behind.
    let address_len = match atyp {
        ATYP_IPV4 => 4,
        ATYP_IPV6 => 16,
        ATYP_NAME => {
            let mut len = [0u8; 1];
            read_exact_within(stream, &mut len, deadline)?;
            usize::from(len[0])
        }
        _ => {
            return Err(protocol(
                "its reply has an unknown address type (RFC 1928 §5)",
            ))
        }
    };
    let mut bound = vec![0u8; address_len + 2];
    read_exact_within(stream, &mut bound, deadline)?;
    Ok(())
}

/// `05 01 00 ATYP DST.ADDR DST.PORT` (RFC 1928 §4).
fn request(destination: &Destination<'_>, port: u16) -> Result<Vec<u8>> {
    let mut out = vec![VERSION, CMD_CONNECT, 0];
    match destination {
        Destination::Ip(IpAddr::V4(ip)) => {
            out.push(ATYP_IPV4);
            out.extend_from_slice(&ip.octets());
        }
        Destination::Ip(IpAddr::V6(ip)) => {
            out.push(ATYP_IPV6);
            out.extend_from_slice(&ip.octets());
        }
        Destination::Name(name) => {
            let len = u8::try_from(name.len()).map_err(|_| {
                Error::InvalidInput(
                    "a host name longer than 255 bytes cannot be sent to a SOCKS5 proxy (RFC 1928 §5)",
                )
            })?;
            out.push(ATYP_NAME);
            out.push(len);
            out.extend_from_slice(name.as_bytes());
        }
    }
    out.extend_from_slice(&port.to_be_bytes());
    Ok(out)
}

/// `01 ULEN UNAME PLEN PASSWD` (RFC 1929 §2).
fn auth_request(user: &str, password: &str) -> Result<Vec<u8>> {
    let too_long = || {
        Error::InvalidProxyUrl(
            "a SOCKS5 user name or password is longer than 255 bytes (RFC 1929 §2)",
        )
    };
    let ulen = u8::try_from(user.len()).map_err(|_| too_long())?;
    let plen = u8::try_from(password.len()).map_err(|_| too_long())?;
    let mut out = vec![AUTH_VERSION, ulen];
    out.extend_from_slice(user.as_bytes());
    out.push(plen);
    out.extend_from_slice(password.as_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_byte_by_byte() {
        let v4 = Destination::Ip("127.0.0.1".parse().unwrap());
        assert_eq!(
            request(&v4, 9001).unwrap(),
            [5, 1, 0, 1, 127, 0, 0, 1, 0x23, 0x29]
        );
        let v6 = Destination::Ip("::1".parse().unwrap());
        let mut expected = vec![5, 1, 0, 4];
        expected.extend_from_slice(&[0; 15]);
        expected.extend_from_slice(&[1, 0, 80]);
        assert_eq!(request(&v6, 80).unwrap(), expected);
        assert_eq!(
            request(&Destination::Name("ab.c"), 443).unwrap(),
            [5, 1, 0, 3, 4, b'a', b'b', b'.', b'c', 1, 0xbb]
        );
        assert!(request(&Destination::Name(&"a".repeat(256)), 1).is_err());
        assert_eq!(
            auth_request("u", "pw").unwrap(),
            [1, 1, b'u', 2, b'p', b'w']
        );
        assert!(auth_request(&"u".repeat(256), "").is_err());
    }
}
