//! The wire by hand, for tests that play a raw peer: connecting with bounded
//! waits, encoding a frame without the library (RFC 6455 §5.2), and reading
//! an HTTP answer until the server closes.
//!
//! Written independently of the library on purpose: a test that encoded its
//! frames with the code under test could not catch that code's mistakes.

// Each test binary includes this file and uses part of it.
#![allow(dead_code)]

use std::io::{ErrorKind, Read};
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
