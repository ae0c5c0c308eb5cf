//! The wire by hand, for tests that play a raw peer: connecting with bounded
//! waits, encoding a frame without the library (RFC 6455 §5.2), and reading
//! an HTTP answer until the server closes.
//!
//! Written independently of the library on purpose: a test that encoded its
//! frames with the code under test could not catch that code's mistakes.

// Each test binary includes this file and uses part of it.
#![allow(dead_code)]

use std::io::{self, ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
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
