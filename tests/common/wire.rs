//! The wire by hand, for tests that play a raw peer: connecting with bounded
//! waits, the opening handshake done by hand in either role (RFC 6455 §4),
//! encoding a frame without the library (RFC 6455 §5.2), and reading an HTTP
//! answer until the server closes.
//!
//! Written independently of the library on purpose: a test that encoded its
//! frames with the code under test could not catch that code's mistakes.

// Each test binary includes this file and uses part of it.
#![allow(dead_code)]

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// Opens a TCP connection whose connect, reads and writes each wait at most
/// `wait`.
pub fn raw_connect(addr: SocketAddr, wait: Duration) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, wait).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    stream.set_write_timeout(Some(wait)).unwrap();
    stream
}

/// Encodes one frame: FIN, the RSV bits, the opcode, the minimal length
/// encoding, and the payload, masked with `mask` if one is given.
pub fn frame_bytes(
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | (rsv << 4) | opcode];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A frame as seen on the wire, unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: u8,
    pub masked: bool,
    pub payload: Vec<u8>,
}

impl RawFrame {
    /// The status code of a Close frame.
    pub fn close_code(&self) -> Option<u16> {
        assert_eq!(self.opcode, 0x8, "not a Close frame: {self:?}");
        (self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

/// Reads one frame (RFC 6455 §5.2), unmasking its payload; `None` when the
/// stream ends cleanly before its first byte. A frame announcing more than
/// `max_len` bytes fails the test before anything is allocated for it.
pub fn read_frame(stream: &mut impl Read, max_len: u64) -> io::Result<Option<RawFrame>> {
    let mut head = [0u8; 2];
    if stream.read(&mut head[..1])? == 0 {
        return Ok(None);
    }
    stream.read_exact(&mut head[1..])?;
    let len = match head[1] & 0x7F {
        126 => {
            let mut b = [0u8; 2];
            stream.read_exact(&mut b)?;
            u64::from(u16::from_be_bytes(b))
        }
        127 => {
            let mut b = [0u8; 8];
            stream.read_exact(&mut b)?;
            u64::from_be_bytes(b)
        }
        n => u64::from(n),
    };
    let mask = if head[1] & 0x80 != 0 {
        let mut key = [0u8; 4];
        stream.read_exact(&mut key)?;
        Some(key)
    } else {
        None
    };
    assert!(
        len <= max_len,
        "unexpectedly large frame in a raw test: {len}"
    );
    let mut payload = vec![0u8; len as usize];
    stream.read_exact(&mut payload)?;
    if let Some(key) = mask {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }
    Ok(Some(RawFrame {
        fin: head[0] & 0x80 != 0,
        rsv: (head[0] >> 4) & 0x7,
        opcode: head[0] & 0x0F,
        masked: mask.is_some(),
        payload,
    }))
}

/// Reads until the server ends the stream. A reset after some bytes arrived
/// ends the answer too (the caller's assertions on the bytes judge it); a
/// reset before any byte, or a timeout, fails the test.
pub fn read_until_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    for _ in 0..100_000 {
        match stream.read(&mut chunk) {
            Ok(0) => return answer,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!(
                    "the server neither finished its answer nor closed: {:?}",
                    String::from_utf8_lossy(&answer)
                )
            }
            Err(e) => {
                assert!(
                    !answer.is_empty(),
                    "the connection failed before any answer: {e}"
                );
                return answer;
            }
        }
    }
    panic!("an endless answer");
}

/// Gives a raw peer's socket read and write timeouts of `wait`, and
/// `TCP_NODELAY`.
pub fn bound(stream: &TcpStream, wait: Duration) {
    stream.set_read_timeout(Some(wait)).unwrap();
    stream.set_write_timeout(Some(wait)).unwrap();
    stream.set_nodelay(true).unwrap();
}

/// Reads an HTTP head byte by byte, so that nothing after it is consumed.
pub fn read_http_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < 8192, "HTTP head too long");
        stream
            .read_exact(&mut byte)
            .expect("a byte of the HTTP head");
        head.push(byte[0]);
    }
    String::from_utf8(head).expect("an ASCII head")
}

/// The opening request of a raw client (the key of the RFC 6455 §1.3
/// sample, whose answer is `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`).
pub fn upgrade_request(addr: SocketAddr) -> String {
    format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// A raw TCP client that has done the opening handshake by hand, its waits
/// bounded by `wait`.
pub fn raw_upgraded_client(addr: SocketAddr, wait: Duration) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    bound(&stream, wait);
    stream.write_all(upgrade_request(addr).as_bytes()).unwrap();
    let head = read_http_head(&mut stream);
    assert!(head.starts_with("HTTP/1.1 101"), "no 101: {head}");
    assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
    stream
}

/// The `101` answer to a request head, computed by hand from its key.
pub fn answer_101(head: &str) -> String {
    let key = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value.trim().to_string())
        })
        .expect("a Sec-WebSocket-Key");
    let accept = wslite::handshake::accept_key(key.as_bytes());
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        std::str::from_utf8(&accept).unwrap()
    )
}

/// Accepts one connection and answers its opening handshake by hand, its
/// waits bounded by `wait`.
pub fn raw_server_accept(listener: &TcpListener, wait: Duration) -> TcpStream {
    let (mut stream, _) = listener.accept().expect("accept");
    bound(&stream, wait);
    let head = read_http_head(&mut stream);
    stream.write_all(answer_101(&head).as_bytes()).unwrap();
    stream
}
