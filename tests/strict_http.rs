//! Strict HTTP/1.1 at the real [`Server`] on 127.0.0.1, from a raw client:
//! a handshake `GET` that announces a body is refused before anything after
//! its head is read as frames (RFC 9110 §9.3.1, RFC 9112 §6.3), a version
//! other than HTTP/1.x gets 505 (RFC 9110 §15.6.6), an absolute-form target
//! is reduced to its path and must name the `Host` (RFC 9112 §3.2), answers
//! are sized from what goes into them (a long subprotocol, long headers),
//! and a frame announcing more than the frame limit is told 1009 at its
//! length, before its mask key (RFC 6455 §10.4, §7.4.1).
//!
//! Each test asserts the exact status line (or Close frame) on the wire.
//! Every socket read and write has a timeout and every loop a count.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use wslite::{Accept, HttpResponse, Server, ServerHandle};

#[path = "common/wire.rs"]
mod wire;
use wire::{bound, frame_bytes, read_until_close};

/// The longest any single read or write of these tests may wait.
#[path = "common/clients.rs"]
mod clients;
use clients::echo;

const WAIT: Duration = Duration::from_secs(3);

/// A masked ping with an empty payload: exactly 6 bytes.
const PING: [u8; 6] = [0x89, 0x80, 0x37, 0xfa, 0x21, 0x3d];

// ----- helpers -----

/// A server that accepts every valid request, with `on_request` seeing it
/// first.
fn server(
    on_request: impl Fn(&wslite::handshake::Request<'_, '_>) -> Result<Accept, HttpResponse>
        + Send
        + Sync
        + 'static,
) -> ServerHandle {
    Server::bind("127.0.0.1:0")
        .unwrap()
        .shutdown_timeout(WAIT)
        .on_request(on_request)
        .spawn(echo)
        .unwrap()
}

fn accept_all() -> ServerHandle {
    server(|_| Ok(Accept::new()))
}

/// An upgrade request with this request line's target and version, this
/// `Host`, and `extra` header lines (each ending in CRLF).
fn request(target: &str, version: &str, host: &str, extra: &str) -> String {
    format!(
        "GET {target} {version}\r\nHost: {host}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// Connects, with bounded waits, and sends `bytes`.
fn send(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).unwrap();
    bound(&stream, WAIT);
    stream.write_all(bytes).unwrap();
    stream
}

/// Reads an HTTP head byte by byte (nothing after it), up to `max` bytes.
fn read_head(stream: &mut TcpStream, max: usize) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < max, "HTTP head longer than {max} bytes");
        stream
            .read_exact(&mut byte)
            .expect("a byte of the HTTP head");
        head.push(byte[0]);
    }
    String::from_utf8(head).expect("an ASCII head")
}

fn status_line(head: &str) -> &str {
    head.split("\r\n").next().unwrap()
}

/// Sends `bytes`, reads the whole answer until the server ends the
/// connection, and checks it is one complete HTTP answer and nothing more:
/// no WebSocket frame follows it. Returns its status line.
fn refused_with(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut stream = send(addr, bytes);
    let answer = read_until_close(&mut stream);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete HTTP head: {text:?}"));
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .unwrap_or_else(|| panic!("no Content-Length: {head}"))
        .parse()
        .unwrap();
    assert_eq!(
        body.len(),
        length,
        "bytes after the answer (a frame?): {text:?}"
    );
    assert!(head.contains("\r\nConnection: close"), "{head}");
    status_line(head).to_string()
}

/// After a 101: a masked ping is answered with an empty pong, which shows
/// the bytes after the head are read as frames.
fn ping_pong(stream: &mut TcpStream) {
    stream.write_all(&PING).unwrap();
    let frame = wire::read_frame(stream, 125)
        .unwrap()
        .expect("a frame from the server");
    assert_eq!((frame.opcode, frame.payload.len()), (0xA, 0), "{frame:?}");
}

// ----- A GET that announces a body -----

#[test]
fn a_body_holding_a_ping_is_400_and_never_answered_with_a_pong() {
    let handle = accept_all();
    let addr = handle.local_addr();
    let host = addr.to_string();
    let mut bytes = request("/", "HTTP/1.1", &host, "Content-Length: 6\r\n").into_bytes();
    bytes.extend_from_slice(&PING);
    assert_eq!(refused_with(addr, &bytes), "HTTP/1.1 400 Bad Request");
    handle.shutdown();
}

#[test]
fn transfer_encoding_is_400() {
    let handle = accept_all();
    let addr = handle.local_addr();
    let host = addr.to_string();
    let chunk = [&b"6\r\n"[..], &PING, b"\r\n0\r\n\r\n"].concat();
    let mut bytes = request("/", "HTTP/1.1", &host, "Transfer-Encoding: chunked\r\n").into_bytes();
    bytes.extend_from_slice(&chunk);
    assert_eq!(refused_with(addr, &bytes), "HTTP/1.1 400 Bad Request");
    handle.shutdown();
}

#[test]
fn content_length_0_is_upgraded() {
    let handle = accept_all();
    let addr = handle.local_addr();
    let host = addr.to_string();
    let mut stream = send(
        addr,
        request("/", "HTTP/1.1", &host, "Content-Length: 0\r\n").as_bytes(),
    );
    let head = read_head(&mut stream, 8192);
    assert_eq!(status_line(&head), "HTTP/1.1 101 Switching Protocols");
    ping_pong(&mut stream);
    handle.shutdown();
}

// ----- Versions -----

#[test]
fn http_2_0_and_http_1_0_are_505() {
    let handle = accept_all();
    let addr = handle.local_addr();
    let host = addr.to_string();
    for version in ["HTTP/2.0", "HTTP/1.0"] {
        assert_eq!(
            refused_with(addr, request("/", version, &host, "").as_bytes()),
            "HTTP/1.1 505 HTTP Version Not Supported",
            "{version}"
        );
    }
    handle.shutdown();
}

// ----- Absolute-form targets -----

#[test]
fn an_absolute_form_target_naming_the_host_is_upgraded_and_seen_as_its_path() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let handle = server(move |request| {
        let view = (
            request.target().to_string(),
            request.path().to_string(),
            request.query().map(str::to_string),
        );
        record.lock().unwrap().push(view);
        Ok(Accept::new())
    });
    let addr = handle.local_addr();
    let host = addr.to_string();
    let target = format!("http://{host}/chat?x=1");
    let mut stream = send(addr, request(&target, "HTTP/1.1", &host, "").as_bytes());
    let head = read_head(&mut stream, 8192);
    assert_eq!(status_line(&head), "HTTP/1.1 101 Switching Protocols");
    ping_pong(&mut stream);
    assert_eq!(
        *seen.lock().unwrap(),
        [(target, "/chat".to_string(), Some("x=1".to_string()))]
    );
    handle.shutdown();
}

#[test]
fn an_absolute_form_target_naming_another_host_is_400() {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let handle = server(move |request| {
        let _ = tx.lock().unwrap().send(request.path().to_string());
        Ok(Accept::new())
    });
    let addr = handle.local_addr();
    let host = addr.to_string();
    let bytes = request("http://evil.example/chat", "HTTP/1.1", &host, "");
    assert_eq!(
        refused_with(addr, bytes.as_bytes()),
        "HTTP/1.1 400 Bad Request"
    );
    // Refused before the application's callback saw it.
    assert!(rx.try_recv().is_err());
    handle.shutdown();
}

// ----- Answers sized from what goes into them -----

#[test]
fn a_300_byte_subprotocol_the_client_offered_is_accepted() {
    let handle = server(|request| {
        let offered = request.protocols().next().map(str::to_string);
        Ok(offered.map_or_else(Accept::new, |p| Accept::new().protocol(p)))
    });
    let addr = handle.local_addr();
    let host = addr.to_string();
    let protocol = "p".repeat(300);
    let offer = format!("Sec-WebSocket-Protocol: {protocol}\r\n");
    let mut stream = send(addr, request("/", "HTTP/1.1", &host, &offer).as_bytes());
    let head = read_head(&mut stream, 8192);
    assert_eq!(status_line(&head), "HTTP/1.1 101 Switching Protocols");
    assert!(
        head.contains(&format!("\r\nSec-WebSocket-Protocol: {protocol}\r\n")),
        "{head}"
    );
    ping_pong(&mut stream);
    handle.shutdown();
}

#[test]
fn four_2_kib_extra_headers_are_accepted() {
    let value = "v".repeat(2048);
    let extra = value.clone();
    let handle = server(move |_| {
        Ok(["X-A", "X-B", "X-C", "X-D"]
            .iter()
            .fold(Accept::new(), |accept, name| accept.header(*name, &extra)))
    });
    let addr = handle.local_addr();
    let host = addr.to_string();
    let mut stream = send(addr, request("/", "HTTP/1.1", &host, "").as_bytes());
    let head = read_head(&mut stream, 16384);
    assert_eq!(status_line(&head), "HTTP/1.1 101 Switching Protocols");
    for name in ["X-A", "X-B", "X-C", "X-D"] {
        assert!(head.contains(&format!("\r\n{name}: {value}\r\n")), "{name}");
    }
    ping_pong(&mut stream);
    handle.shutdown();
}

#[test]
fn a_refusal_with_long_headers_and_body_is_written_whole() {
    let body = vec![b'b'; 10_000];
    let value = "v".repeat(4096);
    let (answer_body, answer_value) = (body.clone(), value.clone());
    let handle = server(move |_| {
        Err(HttpResponse::new(403)
            .header("X-Why", answer_value.as_str())
            .body(answer_body.clone()))
    });
    let addr = handle.local_addr();
    let host = addr.to_string();
    let bytes = request("/", "HTTP/1.1", &host, "");
    let mut stream = send(addr, bytes.as_bytes());
    let answer = read_until_close(&mut stream);
    let text = String::from_utf8(answer).unwrap();
    assert!(text.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{text:.80}");
    assert!(text.contains(&format!("\r\nX-Why: {value}\r\n")));
    assert!(text.ends_with(&format!("\r\n\r\n{}", "b".repeat(body.len()))));
    handle.shutdown();
}

// ----- A frame length over the limit -----

#[test]
fn a_frame_announcing_2_40_bytes_is_told_1009_before_its_mask_key() {
    let handle = accept_all();
    let addr = handle.local_addr();
    let host = addr.to_string();
    let mut stream = send(addr, request("/", "HTTP/1.1", &host, "").as_bytes());
    let head = read_head(&mut stream, 8192);
    assert_eq!(status_line(&head), "HTTP/1.1 101 Switching Protocols");
    // A masked binary frame's header announcing 2^40 bytes, without the
    // four bytes of its mask key.
    stream
        .write_all(&[0x82, 0xFF, 0, 0, 0x01, 0, 0, 0, 0, 0])
        .unwrap();
    let mut close = [0u8; 4];
    stream
        .read_exact(&mut close)
        .expect("the server's Close frame, before any mask key was sent");
    assert_eq!(close, [0x88, 0x02, 0x03, 0xF1], "Close 1009");
    // Then the server ends the connection.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut rest = [0u8; 64];
    for _ in 0..100 {
        match stream.read(&mut rest) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                assert!(
                    !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
                    "the server kept the connection open after its Close"
                );
                break;
            }
        }
    }
    // A well-formed frame still works on a fresh connection.
    let mut stream = send(addr, request("/", "HTTP/1.1", &host, "").as_bytes());
    read_head(&mut stream, 8192);
    stream
        .write_all(&frame_bytes(true, 0, 0x1, Some([1, 2, 3, 4]), b"hi"))
        .unwrap();
    let frame = wire::read_frame(&mut stream, 125).unwrap().unwrap();
    assert_eq!((frame.opcode, frame.payload), (0x1, b"hi".to_vec()));
    handle.shutdown();
}
