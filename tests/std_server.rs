//! Integration tests of the blocking server and client over real loopback
//! sockets: many concurrent clients, handshake refusals, the request
//! callback and subprotocols, the connection limit, graceful shutdown, the
//! plain-HTTP handler, slowloris, client-side failures, numeric hosts
//! dialled and sent as their normal form, and `TCP_NODELAY`.
//!
//! Every wait is bounded: sockets carry read/write timeouts, loops have a
//! deadline, and threads are joined through channels with a timeout. Nothing
//! asserts how long something took, only what happened.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use wslite::blocking::url::Url;
use wslite::handshake::accept_key;
use wslite::{
    client_handshake, connect, Accept, ClientBuilder, CloseCode, Config, Error, HttpResponse,
    Message, Server, ServerHandle,
};

#[path = "common/clients.rs"]
mod clients;
use clients::{client_config, echo, echo_in_place, ws_connect};
#[path = "common/alone.rs"]
mod child;
#[path = "common/wait.rs"]
mod wait;
#[path = "common/wire.rs"]
mod wire;
use wait::{bounded, wait_until};
use wire::read_until_close;

/// The longest any single wait in these tests may last.
const WAIT: Duration = Duration::from_secs(10);

// ----- helpers -----

fn url(addr: SocketAddr, path: &str) -> String {
    format!("ws://{addr}{path}")
}

/// A well-behaved client connects to `path`, gets `text` echoed, and closes
/// cleanly: the check that a server still serves after whatever came before.
fn echo_round_trip(addr: SocketAddr, path: &str, text: &str) {
    let mut ws = ws_connect(&url(addr, path)).unwrap();
    ws.send_text(text).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text(text));
    ws.close(CloseCode::NORMAL, "").unwrap();
}

/// Our client is refused with `status` and `body` (an HTTP answer that is
/// not a 101).
fn expect_refused(addr: SocketAddr, path: &str, status: u16, body: &[u8]) {
    match ws_connect(&url(addr, path)) {
        Err(Error::HandshakeRefused {
            status: got_status,
            body: got_body,
        }) => {
            assert_eq!(got_status, status);
            assert_eq!(got_body, body);
        }
        other => panic!("expected HandshakeRefused {status}, got {other:?}"),
    }
}

fn echo_server() -> ServerHandle {
    Server::bind("127.0.0.1:0")
        .unwrap()
        .shutdown_timeout(Duration::from_secs(3))
        .spawn(echo)
        .unwrap()
}

/// Opens a raw TCP connection with bounded reads and writes.
fn raw_connect(addr: SocketAddr) -> TcpStream {
    wire::raw_connect(addr, WAIT)
}

/// Reads until the end of an HTTP head (`\r\n\r\n`), for answers after which
/// the connection stays open.
fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < 64 << 10, "head too long");
        match stream.read(&mut byte) {
            Ok(0) => panic!("EOF inside the head: {:?}", String::from_utf8_lossy(&head)),
            Ok(_) => head.push(byte[0]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!("reading the head: {e}"),
        }
    }
    String::from_utf8(head).unwrap()
}

/// Sends `request` on a fresh connection and reads the whole answer.
fn raw_exchange(addr: SocketAddr, request: &[u8]) -> HttpAnswer {
    let mut stream = raw_connect(addr);
    stream.write_all(request).unwrap();
    HttpAnswer::parse(&read_until_close(&mut stream))
}

/// A parsed HTTP answer, as a raw client sees it.
#[derive(Debug)]
struct HttpAnswer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpAnswer {
    fn parse(bytes: &[u8]) -> HttpAnswer {
        let end = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no end of head in {:?}", String::from_utf8_lossy(bytes)));
        let head = std::str::from_utf8(&bytes[..end]).unwrap();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        let mut parts = status_line.splitn(3, ' ');
        assert_eq!(
            parts.next(),
            Some("HTTP/1.1"),
            "status line {status_line:?}"
        );
        let status = parts.next().unwrap().parse().unwrap();
        let headers = lines
            .map(|line| {
                let (name, value) = line.split_once(':').expect("header line");
                (name.trim().to_string(), value.trim().to_string())
            })
            .collect();
        HttpAnswer {
            status,
            headers,
            body: bytes[end + 4..].to_vec(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A valid upgrade request with `extra` header lines (each ending in CRLF).
fn upgrade_request(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// A one-connection fake server on 127.0.0.1: accepts once, reads the
/// request head, and runs `answer` with the stream and the head.
fn fake_server_seeing_head(
    answer: impl FnOnce(TcpStream, String) + Send + 'static,
) -> (SocketAddr, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let thread = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        let head = read_head(&mut stream);
        answer(stream, head);
    });
    (addr, thread)
}

/// A one-connection fake server, as [`fake_server_seeing_head`], that runs
/// `answer` with the stream and the request's `Sec-WebSocket-Key`.
fn fake_server(
    answer: impl FnOnce(TcpStream, String) + Send + 'static,
) -> (SocketAddr, thread::JoinHandle<()>) {
    fake_server_seeing_head(|stream, head| {
        let key = request_header(&head, "Sec-WebSocket-Key").expect("the client sent no key");
        answer(stream, key);
    })
}

/// The value of the first `name` header in a request head, trimmed.
fn request_header(head: &str, name: &str) -> Option<String> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (line_name, value) = line.split_once(':')?;
        line_name
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_string())
    })
}

fn accept_value(key: &str) -> String {
    String::from_utf8(accept_key(key.as_bytes()).to_vec()).unwrap()
}

/// The process's thread count, from `/proc/self/status` (Linux).
fn process_threads() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}

// ----- 1. many concurrent clients -----

#[test]
fn two_hundred_concurrent_clients_echo_and_leave() {
    const CLIENTS: usize = 200;
    const MESSAGES: usize = 100;
    let handle = echo_server();
    let addr = handle.local_addr();

    let (done_tx, done_rx) = mpsc::channel();
    for client in 0..CLIENTS {
        let done_tx = done_tx.clone();
        thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || {
                let result = (|| -> Result<(), String> {
                    let mut ws = ws_connect(&url(addr, "/")).map_err(|e| e.to_string())?;
                    for n in 0..MESSAGES {
                        let sent = if n % 2 == 0 {
                            Message::text(format!("client {client} message {n} {}", "x".repeat(n)))
                        } else {
                            let mut bytes = vec![client as u8, n as u8];
                            bytes.extend((0..n * 7).map(|i| (i ^ client ^ n) as u8));
                            Message::binary(bytes)
                        };
                        ws.send(sent.clone()).map_err(|e| e.to_string())?;
                        let got = ws.read().map_err(|e| e.to_string())?;
                        if got != sent {
                            return Err(format!("client {client} message {n}: got {got:?}"));
                        }
                    }
                    match ws.close(CloseCode::NORMAL, "bye") {
                        // The server's echo of our code (§5.5.1).
                        Ok(Some(frame)) if frame.code == CloseCode::NORMAL => Ok(()),
                        other => Err(format!("close: {other:?}")),
                    }
                })();
                let _ = done_tx.send((client, result));
            })
            .unwrap();
    }
    drop(done_tx);

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut finished = 0;
    while finished < CLIENTS {
        let left = deadline.saturating_duration_since(Instant::now());
        let (client, result) = done_rx
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("only {finished} of {CLIENTS} clients finished: {e}"));
        if let Err(e) = result {
            panic!("client {client} failed: {e}");
        }
        finished += 1;
    }

    assert!(
        wait_until(WAIT, || handle.connections() == 0),
        "connections() stayed at {}",
        handle.connections()
    );
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

// ----- 2. handshake refusals -----

#[test]
fn wrong_websocket_version_gets_426_naming_version_13() {
    let handle = echo_server();
    let request = upgrade_request("/", "").replace("Version: 13", "Version: 8");
    let answer = raw_exchange(handle.local_addr(), request.as_bytes());
    assert_eq!(answer.status, 426, "{answer:?}");
    assert_eq!(answer.header("Sec-WebSocket-Version"), Some("13"));
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

#[test]
fn missing_key_gets_400() {
    let handle = echo_server();
    let request =
        upgrade_request("/", "").replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "");
    assert!(!request.contains("Key"));
    let answer = raw_exchange(handle.local_addr(), request.as_bytes());
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

#[test]
fn post_gets_405() {
    let handle = echo_server();
    let request = upgrade_request("/", "").replacen("GET", "POST", 1);
    let answer = raw_exchange(handle.local_addr(), request.as_bytes());
    assert_eq!(answer.status, 405, "{answer:?}");
    assert_eq!(answer.header("Allow"), Some("GET"));
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

#[test]
fn callback_refusal_reaches_raw_and_library_clients() {
    const BODY: &[u8] = b"private: members only\n";
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .on_request(|req| {
            if req.path() == "/private" {
                Err(HttpResponse::new(403).body(BODY))
            } else {
                Ok(Accept::new())
            }
        })
        .spawn(echo)
        .unwrap();
    let addr = handle.local_addr();

    let answer = raw_exchange(addr, upgrade_request("/private", "").as_bytes());
    assert_eq!(answer.status, 403, "{answer:?}");
    assert_eq!(answer.body, BODY);
    assert_eq!(
        answer.header("Content-Length"),
        Some(BODY.len().to_string().as_str())
    );

    expect_refused(addr, "/private", 403, BODY);

    // Other paths are served.
    echo_round_trip(addr, "/public", "hi");
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

#[test]
fn headers_over_8_kib_get_431() {
    let handle = echo_server();
    let addr = handle.local_addr();
    // Just over the 8 KiB default, and far over it.
    for filler in [8 << 10, 60 << 10] {
        let extra = format!("X-Filler: {}\r\n", "a".repeat(filler));
        let answer = raw_exchange(addr, upgrade_request("/", &extra).as_bytes());
        assert_eq!(answer.status, 431, "filler {filler}: {answer:?}");
    }
    // Many small headers that add up to more than 8 KiB.
    let extra: String = (0..60)
        .map(|i| format!("X-Many-{i}: {}\r\n", "b".repeat(200)))
        .collect();
    let answer = raw_exchange(addr, upgrade_request("/", &extra).as_bytes());
    assert_eq!(answer.status, 431, "{answer:?}");
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

#[test]
fn a_refused_client_still_sending_gets_its_answer_and_a_clean_end() {
    // The client sends a 60 KiB head, and more a moment later, as a client
    // that has not noticed the refusal yet would; only then it reads. The
    // server refuses after 8 KiB. Closing at once, with bytes unread, would
    // reset the connection: the later write would fail and the read end in
    // an error. The server closes in stages instead (half-close, drain,
    // close): the write goes through, then the 431 and a clean end arrive.
    let handle = echo_server();
    let extra = format!("X-Filler: {}\r\n", "a".repeat(60 << 10));
    let mut stream = raw_connect(handle.local_addr());
    stream
        .write_all(upgrade_request("/", &extra).as_bytes())
        .unwrap();
    thread::sleep(Duration::from_millis(200));
    stream
        .write_all(b"X-Late: still sending\r\n")
        .expect("the server reset the connection under its answer");
    let mut answer = Vec::new();
    let end = stream.read_to_end(&mut answer);
    assert!(
        end.is_ok(),
        "the answer ended in {end:?}, not a clean close"
    );
    let answer = HttpAnswer::parse(&answer);
    assert_eq!(answer.status, 431, "{answer:?}");
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

// ----- 3. the request callback and subprotocols -----

#[derive(Debug)]
struct Seen {
    method: String,
    path: String,
    query: Option<String>,
    token: Option<String>,
    origin: Option<String>,
    protocols: Vec<String>,
}

#[test]
fn callback_sees_the_request_and_negotiates_a_subprotocol() {
    let (seen_tx, seen_rx) = mpsc::channel::<Seen>();
    let seen_tx = std::sync::Mutex::new(seen_tx);
    let (proto_tx, proto_rx) = mpsc::channel::<Option<String>>();
    let proto_tx = std::sync::Mutex::new(proto_tx);
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .on_request(move |req| {
            let text = |v: Option<&[u8]>| v.map(|v| String::from_utf8_lossy(v).into_owned());
            let protocols: Vec<String> = req.protocols().map(String::from).collect();
            let _ = seen_tx.lock().unwrap().send(Seen {
                method: req.method().to_string(),
                path: req.path().to_string(),
                query: req.query().map(String::from),
                token: text(req.header("x-token")),
                origin: text(req.origin()),
                protocols: protocols.clone(),
            });
            let mut accept = Accept::new().header("X-Served-By", "wslite-test");
            if protocols.iter().any(|p| p == "chat.v1") {
                accept = accept.protocol("chat.v1");
            }
            Ok(accept)
        })
        .spawn(move |mut ws| {
            let _ = proto_tx
                .lock()
                .unwrap()
                .send(ws.protocol().map(String::from));
            echo_in_place(&mut ws);
        })
        .unwrap();
    let addr = handle.local_addr();

    let mut ws = ClientBuilder::new(url(addr, "/chat/room?user=ann&x=1"))
        .config(client_config())
        .protocol("chat.v2")
        .protocol("chat.v1")
        .header("X-Token", "secret-42")
        .origin("https://example.com")
        .connect()
        .unwrap();
    let seen = seen_rx.recv_timeout(WAIT).unwrap();
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.path, "/chat/room");
    assert_eq!(seen.query.as_deref(), Some("user=ann&x=1"));
    assert_eq!(seen.token.as_deref(), Some("secret-42"));
    assert_eq!(seen.origin.as_deref(), Some("https://example.com"));
    assert_eq!(seen.protocols, ["chat.v2", "chat.v1"]);
    assert_eq!(ws.protocol(), Some("chat.v1"));
    assert_eq!(
        proto_rx.recv_timeout(WAIT).unwrap().as_deref(),
        Some("chat.v1")
    );
    ws.send_text("over chat.v1").unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("over chat.v1"));
    ws.close(CloseCode::NORMAL, "").unwrap();

    // A raw client sees the 101 with the chosen protocol and the extra header.
    let mut raw = raw_connect(addr);
    raw.write_all(upgrade_request("/raw", "Sec-WebSocket-Protocol: chat.v1\r\n").as_bytes())
        .unwrap();
    let head = HttpAnswer::parse(read_head(&mut raw).as_bytes());
    assert_eq!(head.status, 101, "{head:?}");
    assert_eq!(head.header("X-Served-By"), Some("wslite-test"));
    assert_eq!(head.header("Sec-WebSocket-Protocol"), Some("chat.v1"));
    // RFC 6455 §1.3's sample key and its accept value.
    assert_eq!(
        head.header("Sec-WebSocket-Accept"),
        Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    );
    let seen = seen_rx.recv_timeout(WAIT).unwrap();
    assert_eq!(
        proto_rx.recv_timeout(WAIT).unwrap().as_deref(),
        Some("chat.v1")
    );
    assert_eq!(seen.path, "/raw");
    assert_eq!(seen.query, None);
    assert_eq!(seen.origin, None);
    drop(raw);

    // Offering nothing the server picks: no protocol on either side.
    let mut ws = ClientBuilder::new(url(addr, "/"))
        .config(client_config())
        .protocol("chat.v3")
        .connect()
        .unwrap();
    assert_eq!(ws.protocol(), None);
    assert_eq!(proto_rx.recv_timeout(WAIT).unwrap(), None);
    ws.close(CloseCode::NORMAL, "").unwrap();
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

// ----- 4. the connection limit -----

#[test]
fn max_connections_refuses_with_503_without_a_thread() {
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .max_connections(2)
        .shutdown_timeout(Duration::from_secs(3))
        .spawn(echo)
        .unwrap();
    let addr = handle.local_addr();

    let mut first = ws_connect(&url(addr, "/")).unwrap();
    let mut second = ws_connect(&url(addr, "/")).unwrap();
    assert!(wait_until(WAIT, || handle.connections() == 2));

    // A raw client sees the 503 status line.
    let answer = raw_exchange(addr, upgrade_request("/", "").as_bytes());
    assert_eq!(answer.status, 503, "{answer:?}");
    assert_eq!(handle.connections(), 2);

    // The library client reports it.
    match ws_connect(&url(addr, "/")) {
        Err(Error::HandshakeRefused { status: 503, .. }) => {}
        other => panic!("expected HandshakeRefused 503, got {other:?}"),
    }
    assert_eq!(
        handle.connections(),
        2,
        "a thread was spawned past the limit"
    );

    // The two served clients still work.
    for ws in [&mut first, &mut second] {
        ws.send_text("still here").unwrap();
        assert_eq!(ws.read().unwrap(), Message::text("still here"));
    }

    // One leaves; a newcomer is served.
    first.close(CloseCode::NORMAL, "").unwrap();
    assert!(
        wait_until(WAIT, || handle.connections() == 1),
        "connections() stayed at {}",
        handle.connections()
    );
    let mut third = ws_connect(&url(addr, "/")).unwrap();
    third.send_binary(&[1, 2, 3]).unwrap();
    assert_eq!(third.read().unwrap(), Message::binary(vec![1, 2, 3]));
    assert_eq!(handle.connections(), 2);

    third.close(CloseCode::NORMAL, "").unwrap();
    second.close(CloseCode::NORMAL, "").unwrap();
    assert!(wait_until(WAIT, || handle.connections() == 0));
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

#[test]
fn a_panicking_handler_frees_its_slot_and_the_server_goes_on() {
    for reuse in [0, 2] {
        let handle = Server::bind("127.0.0.1:0")
            .unwrap()
            .max_connections(1)
            .reuse_threads(reuse)
            .shutdown_timeout(Duration::from_secs(3))
            .spawn(|mut ws| {
                if let Ok(Message::Text(text)) = ws.read() {
                    if text == "panic" {
                        panic!("a handler bug (expected by this test)");
                    }
                    let _ = ws.send(Message::Text(text));
                }
                while ws.read().is_ok() {}
            })
            .unwrap();
        let addr = handle.local_addr();
        for round in 0..3 {
            let mut ws = ws_connect(&url(addr, "/")).unwrap();
            ws.send_text("panic").unwrap();
            // The panic drops the connection without a closing handshake.
            assert!(ws.read().is_err(), "reuse {reuse}, round {round}");
            // The one slot is free again, so the next client is served, not
            // refused with 503.
            assert!(
                wait_until(WAIT, || handle.connections() == 0),
                "reuse {reuse}, round {round}: connections() stayed at {}",
                handle.connections()
            );
        }
        echo_round_trip(addr, "/", "after three panics");
        assert!(wait_until(WAIT, || handle.connections() == 0));
        assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
    }
}

// ----- 5. graceful shutdown -----

/// The environment variable that makes `graceful_shutdown_*` run its body:
/// the test re-runs itself in a child process, alone, so that the process's
/// thread count is not disturbed by the other tests running in parallel.
const CHILD_ENV: &str = "WSLITE_STD_SERVER_CHILD";

/// Runs the test named `name` alone in a child process (the same test
/// binary), and fails if it fails. Returns `true` in the child, where the
/// caller runs the body.
fn in_child_process(name: &str) -> bool {
    child::alone(CHILD_ENV, name, Duration::from_secs(30))
}

#[test]
fn graceful_shutdown_sends_1001_and_leaves_no_thread() {
    if !in_child_process("graceful_shutdown_sends_1001_and_leaves_no_thread") {
        return;
    }
    let threads_before = process_threads();

    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .shutdown_timeout(Duration::from_secs(3))
        .spawn(echo)
        .unwrap();
    let addr = handle.local_addr();
    let mut clients: Vec<_> = (0..5)
        .map(|_| ws_connect(&url(addr, "/")).unwrap())
        .collect();
    for (i, ws) in clients.iter_mut().enumerate() {
        ws.send_text(&format!("hello {i}")).unwrap();
        assert_eq!(ws.read().unwrap(), Message::text(format!("hello {i}")));
    }
    assert!(wait_until(WAIT, || handle.connections() == 5));
    if let Some(before) = threads_before {
        // Five connection threads and the accepting one.
        assert_eq!(process_threads(), Some(before + 6));
    }

    assert_eq!(
        bounded(WAIT * 2, move || handle.shutdown()),
        0,
        "threads left"
    );

    for (i, ws) in clients.iter_mut().enumerate() {
        match ws.read() {
            Ok(Message::Close(Some(frame))) => {
                assert_eq!(frame.code, CloseCode::GOING_AWAY, "client {i}: {frame:?}")
            }
            other => panic!("client {i}: expected Close(1001), got {other:?}"),
        }
        match ws.read() {
            Err(Error::ConnectionClosed) => {}
            other => panic!("client {i}: expected ConnectionClosed after Close, got {other:?}"),
        }
    }
    drop(clients);

    if let Some(before) = threads_before {
        println!("threads before the server: {before}");
        assert!(
            wait_until(WAIT, || process_threads() == Some(before)),
            "threads: {:?} after shutdown, {before} before the server started",
            process_threads()
        );
    } else {
        println!("note: /proc/self/status is unavailable; thread count not checked");
    }

    // The port no longer accepts: the connection is refused, or at least
    // ended at once.
    match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        Err(_) => {}
        Ok(mut stream) => {
            stream.set_read_timeout(Some(WAIT)).unwrap();
            let _ = stream.write_all(upgrade_request("/", "").as_bytes());
            let mut byte = [0u8; 1];
            match stream.read(&mut byte) {
                Ok(0) | Err(_) => {}
                Ok(_) => panic!("a shut-down server answered a new connection"),
            }
        }
    }
}

#[test]
fn shutdown_wakes_a_stalled_handshake() {
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .shutdown_timeout(Duration::from_secs(3))
        .spawn(echo)
        .unwrap();
    let mut raw = raw_connect(handle.local_addr());
    raw.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    assert!(wait_until(WAIT, || handle.connections() == 1));
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
    let mut buf = [0u8; 64];
    match raw.read(&mut buf) {
        Ok(0) => {}
        Err(e) if !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("expected the stalled handshake to be dropped, got {other:?}"),
    }
}

// ----- 6. plain HTTP on the same port -----

#[test]
fn plain_http_handler_shares_the_port() {
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .http(|req| match req.path() {
            "/" => HttpResponse::new(200)
                .header("Content-Type", "text/html")
                .body("<h1>hello</h1>"),
            _ => HttpResponse::new(404).body("no such page"),
        })
        .spawn(echo)
        .unwrap();
    let addr = handle.local_addr();

    let answer = raw_exchange(addr, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body, b"<h1>hello</h1>");
    assert_eq!(answer.header("Content-Type"), Some("text/html"));

    let answer = raw_exchange(addr, b"GET /missing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert_eq!(answer.status, 404, "{answer:?}");
    assert_eq!(answer.body, b"no such page");

    echo_round_trip(addr, "/", "websocket too");
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

// ----- 7. slowloris -----

fn echo_server_with_handshake_timeout(timeout: Duration) -> ServerHandle {
    Server::bind("127.0.0.1:0")
        .unwrap()
        .handshake_timeout(Some(timeout))
        .spawn(echo)
        .unwrap()
}

/// Whether a read's outcome says the server ended the connection (end of
/// stream, or a reset), rather than that it is still waiting.
fn ended_by_server(read: &std::io::Result<usize>) -> bool {
    match read {
        Ok(n) => *n == 0,
        Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
    }
}

#[test]
fn stalled_handshake_is_dropped_at_the_timeout() {
    let handle = echo_server_with_handshake_timeout(Duration::from_millis(300));
    let addr = handle.local_addr();

    // Half a handshake, then silence.
    let mut raw = raw_connect(addr);
    raw.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
        .unwrap();
    let mut buf = [0u8; 256];
    let read = raw.read(&mut buf);
    assert!(
        ended_by_server(&read),
        "expected EOF or an error from the dropped client, got {read:?}"
    );

    // A well-behaved client is still served.
    echo_round_trip(addr, "/", "fine");
    assert!(wait_until(WAIT, || handle.connections() == 0));
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

#[test]
fn trickling_handshake_is_dropped_at_the_timeout() {
    // The timeout bounds the whole handshake, not each read: a client that
    // sends one byte at a time, each within the timeout, is dropped too.
    let handle = echo_server_with_handshake_timeout(Duration::from_millis(300));
    let addr = handle.local_addr();
    let mut raw = raw_connect(addr);
    let request = upgrade_request("/", &"X-Slow: 1\r\n".repeat(100));
    let reader = raw.try_clone().unwrap();
    let dropped = bounded(WAIT * 2, move || {
        let mut reader = reader;
        // Trickle for at most ~5 s, far past the 300 ms timeout.
        for &byte in request.as_bytes().iter().take(250) {
            if raw.write_all(&[byte]).is_err() {
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        // Still writable: was the connection ended under us anyway?
        reader
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut buf = [0u8; 64];
        ended_by_server(&reader.read(&mut buf)) || ended_by_server(&reader.read(&mut buf))
    });
    assert!(dropped, "a trickling handshake was kept open");
    assert!(wait_until(WAIT, || handle.connections() == 0));
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

// ----- 8. the client side -----

#[test]
fn wss_is_refused_with_a_hint() {
    match connect("wss://127.0.0.1:1/") {
        Err(e @ Error::TlsNotSupported) => {
            assert!(e.to_string().contains("client_handshake"), "{e}")
        }
        other => panic!("expected TlsNotSupported, got {other:?}"),
    }
}

#[test]
fn bad_urls_are_invalid() {
    for bad in [
        "",
        "127.0.0.1:9001",
        "http://127.0.0.1/",
        "ws:/127.0.0.1/",
        "ws://",
        "ws://:9001/",
        "ws://127.0.0.1:0/",
        "ws://127.0.0.1:65536/",
        "ws://127.0.0.1:port/",
        "ws://127.0.0.1/#fragment",
        "ws://user@127.0.0.1/",
        "ws://127.0.0.1/a b",
        "ws://127.0.0.1/\r\nX-Injected: 1",
        "ws://::1/",
        "ws://[::1%25lo]/",
        "ws://1.2.3.4.5/",
        "ws://256.0.0.1/",
    ] {
        match connect(bad) {
            Err(Error::InvalidUrl(_)) => {}
            other => panic!("{bad:?}: expected InvalidUrl, got {other:?}"),
        }
    }
}

#[test]
fn no_listener_is_an_io_error() {
    // A port that was just free. Another process may take it before we
    // connect (or the connection may meet itself, when the kernel picks the
    // same port as our source), so any other outcome means "try another
    // port", never a pass; five ports in a row that all answered are not a
    // plausible accident, and the last outcome is reported.
    let mut last = String::new();
    for _attempt in 0..5 {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let result = bounded(WAIT * 2, move || {
            connect(&format!("ws://127.0.0.1:{port}/")).map(|_| ())
        });
        match result {
            Err(Error::Io(_)) => return,
            other => last = format!("{other:?}"),
        }
    }
    panic!("expected Io when nothing listens, got {last}");
}

#[test]
fn wrong_accept_value_is_invalid_accept() {
    let (addr, server) = fake_server(|mut stream, _key| {
        let _ = stream.write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
              Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        );
        let _ = stream.read(&mut [0u8; 16]);
    });
    match ws_connect(&url(addr, "/")) {
        Err(Error::InvalidAccept) => {}
        other => panic!("expected InvalidAccept, got {other:?}"),
    }
    bounded(WAIT * 2, move || server.join().unwrap());
}

#[test]
fn plain_200_answer_is_refused_with_its_body() {
    let (addr, server) = fake_server(|mut stream, _key| {
        stream
            .write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\
                  Content-Length: 13\r\n\r\nnot websocket",
            )
            .unwrap();
    });
    expect_refused(addr, "/", 200, b"not websocket");
    bounded(WAIT * 2, move || server.join().unwrap());
}

#[test]
fn refusal_body_without_length_is_read_to_the_end() {
    let (addr, server) = fake_server(|mut stream, _key| {
        stream
            .write_all(b"HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\n")
            .unwrap();
        thread::sleep(Duration::from_millis(20));
        stream.write_all(b"down for maintenance").unwrap();
    });
    expect_refused(addr, "/", 500, b"down for maintenance");
    bounded(WAIT * 2, move || server.join().unwrap());
}

#[test]
fn frame_in_the_same_write_as_the_101_is_read_first() {
    let (addr, server) = fake_server(|mut stream, key| {
        let mut answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            accept_value(&key)
        )
        .into_bytes();
        // An unmasked text frame "hello", then a binary frame [1, 2, 3].
        answer.extend_from_slice(&[0x81, 0x05]);
        answer.extend_from_slice(b"hello");
        answer.extend_from_slice(&[0x82, 0x03, 1, 2, 3]);
        stream.write_all(&answer).unwrap();
        // Wait for the client's Close, answer it, and end TCP.
        let mut buf = [0u8; 64];
        let _ = stream.read(&mut buf);
        let _ = stream.write_all(&[0x88, 0x02, 0x03, 0xe8]);
        let _ = stream.shutdown(Shutdown::Write);
    });
    let mut ws = ws_connect(&url(addr, "/")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("hello"));
    assert_eq!(ws.read().unwrap(), Message::binary(vec![1, 2, 3]));
    ws.close(CloseCode::NORMAL, "").unwrap();
    bounded(WAIT * 2, move || server.join().unwrap());
}

#[test]
fn client_handshake_over_a_tcp_stream_opened_by_the_caller() {
    let handle = echo_server();
    let addr = handle.local_addr();
    let stream = raw_connect(addr);
    let mut ws = client_handshake(stream, &url(addr, "/own-stream")).unwrap();
    ws.send_text("own stream").unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("own stream"));
    ws.send_binary(&[0; 70_000]).unwrap();
    assert_eq!(ws.read().unwrap(), Message::binary(vec![0; 70_000]));
    ws.close(CloseCode::NORMAL, "").unwrap();
    // Without socket operations `close` cannot shut the socket down, but the
    // server's thread ends anyway: its `read` after the closing handshake
    // returns at once (see
    // `server_read_after_close_handshake_returns_connection_closed`).
    assert!(wait_until(WAIT, || handle.connections() == 0));
    drop(ws);
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

#[test]
fn server_read_after_close_handshake_returns_connection_closed() {
    // The client sends Close 1000 and then keeps TCP open (as a client whose
    // stream has no socket operations does after `close`). The server's
    // `read` returns the Close; the next `read` should return
    // `ConnectionClosed` at once (the documented behaviour, and RFC 6455
    // §7.1.1: the server ends TCP first), not wait for the client.
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .shutdown_timeout(Duration::from_secs(1))
        .spawn(move |mut ws| {
            let first = ws.read();
            let second = ws.read();
            let _ = tx
                .lock()
                .unwrap()
                .send(format!("first: {first:?}; second: {second:?}"));
        })
        .unwrap();
    let mut raw = raw_connect(handle.local_addr());
    raw.write_all(upgrade_request("/", "").as_bytes()).unwrap();
    let head = HttpAnswer::parse(read_head(&mut raw).as_bytes());
    assert_eq!(head.status, 101);
    // A masked Close 1000 (mask key 0).
    raw.write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8])
        .unwrap();
    // The server answers Close and half-closes: Close frame, then EOF.
    let answer = read_until_close(&mut raw);
    assert_eq!(answer, [0x88, 0x02, 0x03, 0xe8]);
    let outcome = rx.recv_timeout(Duration::from_secs(3));
    drop(raw);
    let outcome = outcome.unwrap_or_else(|_| {
        panic!(
            "the handler's second read() did not return while the client kept TCP open; \
             after the client left: {:?}",
            rx.recv_timeout(WAIT)
        )
    });
    assert!(
        outcome.ends_with("second: Err(ConnectionClosed)"),
        "{outcome}"
    );
    assert_eq!(bounded(WAIT, move || handle.shutdown()), 0);
}

#[test]
fn a_hex_ipv4_host_reaches_127_0_0_1() {
    // `0x7f.1` is 127.0.0.1 by the WHATWG IPv4 parser, as in a browser.
    let handle = echo_server();
    let port = handle.local_addr().port();
    let url = format!("ws://0x7f.1:{port}/hex");
    assert_eq!(Url::parse(&url).unwrap().host(), "127.0.0.1");
    let mut ws = ws_connect(&url).unwrap();
    assert_eq!(ws.get_ref().peer_addr().unwrap(), handle.local_addr());
    ws.send_text("via 0x7f.1").unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("via 0x7f.1"));
    ws.close(CloseCode::NORMAL, "").unwrap();
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

#[test]
fn the_host_header_carries_the_normalised_host() {
    // The name a server's allow list sees is the one `Url::host` reports.
    assert_eq!(Url::parse("ws://2130706433/").unwrap().host(), "127.0.0.1");
    let (host_tx, host_rx) = mpsc::channel();
    let (addr, server) = fake_server_seeing_head(move |mut stream, head| {
        host_tx.send(request_header(&head, "Host")).unwrap();
        stream
            .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    });
    let url = format!("ws://2130706433:{}/", addr.port());
    // The listener is on 127.0.0.1, so being answered proves the dialling.
    match ws_connect(&url) {
        Err(Error::HandshakeRefused { status: 403, .. }) => {}
        other => panic!("expected the fake server's 403, got {other:?}"),
    }
    let host = host_rx.recv_timeout(WAIT).unwrap();
    assert_eq!(host, Some(format!("127.0.0.1:{}", addr.port())));
    assert_eq!(host, Some(Url::parse(&url).unwrap().host_header()));
    bounded(WAIT * 2, move || server.join().unwrap());
}

#[test]
fn ipv6_loopback() {
    let server = match Server::bind("[::1]:0") {
        Ok(server) => server,
        Err(e) => {
            println!("note: IPv6 loopback unavailable ({e}); ipv6_loopback skipped");
            return;
        }
    };
    let handle = server
        .shutdown_timeout(Duration::from_secs(3))
        .spawn(echo)
        .unwrap();
    let port = handle.local_addr().port();
    let mut ws = ws_connect(&format!("ws://[::1]:{port}/v6")).unwrap();
    assert!(ws.get_ref().peer_addr().unwrap().is_ipv6());
    ws.send_text("over IPv6").unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("over IPv6"));
    ws.close(CloseCode::NORMAL, "").unwrap();
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

// ----- 9. TCP_NODELAY -----

#[test]
fn nodelay_is_on_by_default_on_both_ends() {
    for nodelay in [true, false] {
        let (tx, rx) = mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let handle = Server::bind("127.0.0.1:0")
            .unwrap()
            .config(Config::default().nodelay(nodelay))
            .spawn(move |mut ws| {
                let _ = tx.lock().unwrap().send(ws.get_ref().nodelay().unwrap());
                echo_in_place(&mut ws);
            })
            .unwrap();
        let config = if nodelay {
            // The default, untouched.
            Config::default()
        } else {
            Config::default().nodelay(false)
        }
        .read_timeout(Some(WAIT));
        let mut ws = ClientBuilder::new(url(handle.local_addr(), "/"))
            .config(config)
            .connect()
            .unwrap();
        assert_eq!(ws.get_ref().nodelay().unwrap(), nodelay, "client side");
        assert_eq!(rx.recv_timeout(WAIT).unwrap(), nodelay, "server side");
        ws.close(CloseCode::NORMAL, "").unwrap();
        assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
    }
    assert!(Config::default().nodelay);
}

// ----- more server and client edges -----

#[test]
fn frame_in_the_same_write_as_the_request_is_served() {
    let handle = echo_server();
    let mut raw = raw_connect(handle.local_addr());
    let mut bytes = upgrade_request("/", "").into_bytes();
    // A masked text frame "Hi" (mask key 1, 2, 3, 4).
    bytes.extend_from_slice(&[0x81, 0x82, 1, 2, 3, 4, b'H' ^ 1, b'i' ^ 2]);
    raw.write_all(&bytes).unwrap();
    let head = HttpAnswer::parse(read_head(&mut raw).as_bytes());
    assert_eq!(head.status, 101, "{head:?}");
    let mut echo = [0u8; 4];
    raw.read_exact(&mut echo).unwrap();
    assert_eq!(echo, [0x81, 0x02, b'H', b'i']);
    drop(raw);
    assert!(wait_until(WAIT, || handle.connections() == 0));
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

#[test]
fn client_handshake_timeout_against_a_silent_server() {
    let (addr, server) = fake_server(|mut stream, _key| {
        // Say nothing until the client gives up.
        let _ = stream.read(&mut [0u8; 16]);
    });
    let result = bounded(WAIT * 2, move || {
        ClientBuilder::new(url(addr, "/"))
            .handshake_timeout(Some(Duration::from_millis(200)))
            .connect()
            .map(|_| ())
    });
    match result {
        Err(Error::Timeout) => {}
        other => panic!("expected Timeout, got {other:?}"),
    }
    bounded(WAIT * 2, move || server.join().unwrap());
}

#[test]
fn handshakes_in_progress_count_against_the_limit() {
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .max_connections(1)
        // Long enough that the refused connect below surely comes first.
        .handshake_timeout(Some(Duration::from_secs(1)))
        .spawn(echo)
        .unwrap();
    let addr = handle.local_addr();
    let mut stalled = raw_connect(addr);
    stalled.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    assert!(wait_until(WAIT, || handle.connections() == 1));
    match ws_connect(&url(addr, "/")) {
        Err(Error::HandshakeRefused { status: 503, .. }) => {}
        other => panic!("expected 503 while a handshake holds the slot, got {other:?}"),
    }
    // The stalled handshake times out and frees the slot.
    let mut buf = [0u8; 16];
    assert!(matches!(stalled.read(&mut buf), Ok(0) | Err(_)));
    assert!(wait_until(WAIT, || handle.connections() == 0));
    echo_round_trip(addr, "/", "slot free");
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

#[test]
fn server_choosing_an_unoffered_subprotocol_is_refused_by_the_client() {
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .on_request(|_| Ok(Accept::new().protocol("not-offered")))
        .spawn(echo)
        .unwrap();
    let addr = handle.local_addr();
    let result = ClientBuilder::new(url(addr, "/"))
        .config(client_config())
        .protocol("chat.v1")
        .connect();
    match result {
        Err(Error::UnofferedSubprotocol) => {}
        other => panic!("expected UnofferedSubprotocol, got {other:?}"),
    }
    // Offering nothing at all, any protocol in the answer is unoffered too.
    match ws_connect(&url(addr, "/")) {
        Err(Error::UnofferedSubprotocol) => {}
        other => panic!("expected UnofferedSubprotocol, got {other:?}"),
    }
    assert!(wait_until(WAIT, || handle.connections() == 0));
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

#[test]
fn header_injection_from_callbacks_never_reaches_the_wire() {
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .on_request(|_| Ok(Accept::new().header("X-A", "b\r\nX-Injected: 1")))
        .http(|_| HttpResponse::new(200).header("X-B", "c\r\nX-Injected: 2"))
        .spawn(echo)
        .unwrap();
    let addr = handle.local_addr();
    for request in [
        upgrade_request("/", ""),
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_string(),
    ] {
        let mut raw = raw_connect(addr);
        raw.write_all(request.as_bytes()).unwrap();
        let answer = read_to_end_or_empty(&mut raw);
        let text = String::from_utf8_lossy(&answer);
        assert!(!text.contains("X-Injected"), "injected: {text:?}");
        println!("answer to a callback with a bad header: {text:?}");
    }
    assert!(wait_until(WAIT, || handle.connections() == 0));
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
}

/// Like [`read_until_close`], but an immediate end or reset gives an empty answer.
fn read_to_end_or_empty(stream: &mut TcpStream) -> Vec<u8> {
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => answer,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            panic!("the server neither answered nor closed")
        }
        Err(_) => answer,
    }
}

#[test]
fn run_blocks_until_a_handle_shuts_it_down() {
    let server = Server::bind("127.0.0.1:0").unwrap();
    let handle = server.handle().unwrap();
    let addr = handle.local_addr();
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = done_tx.send(server.run(echo));
    });
    let mut ws = ws_connect(&url(addr, "/")).unwrap();
    ws.send_text("run").unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("run"));
    assert_eq!(bounded(WAIT * 2, move || handle.shutdown()), 0);
    assert!(done_rx.recv_timeout(WAIT).unwrap().is_ok());
    match ws.read() {
        Ok(Message::Close(Some(frame))) => assert_eq!(frame.code, CloseCode::GOING_AWAY),
        other => panic!("expected Close(1001), got {other:?}"),
    }
}

#[test]
fn accept_with_over_a_stream_accepted_by_hand() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        for _ in 0..2 {
            let (stream, _) = listener.accept().unwrap();
            stream.set_read_timeout(Some(WAIT)).unwrap();
            stream.set_write_timeout(Some(WAIT)).unwrap();
            let result = wslite::accept_with(stream, Config::default(), |req| {
                if req.query() == Some("token=ok") {
                    Ok(Accept::new())
                } else {
                    Err(HttpResponse::new(401).body("who are you?"))
                }
            });
            match result {
                Ok(mut ws) => echo_in_place(&mut ws),
                Err(Error::HandshakeRefused { status, .. }) => assert_eq!(status, 401),
                Err(e) => panic!("server: {e}"),
            }
        }
    });
    match ws_connect(&url(addr, "/?token=no")) {
        Err(Error::HandshakeRefused { status: 401, body }) => assert_eq!(body, b"who are you?"),
        other => panic!("expected 401, got {other:?}"),
    }
    echo_round_trip(addr, "/?token=ok", "by hand");
    bounded(WAIT * 2, move || server.join().unwrap());
}

#[test]
fn reused_threads_serve_one_connection_after_another_and_shut_down() {
    use std::collections::HashSet;
    use std::sync::mpsc;

    let (ids_tx, ids) = mpsc::channel();
    let ids_tx = std::sync::Mutex::new(ids_tx);
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .reuse_threads(2)
        .spawn(move |mut ws| {
            let _ = ids_tx.lock().unwrap().send(std::thread::current().id());
            while let Ok(message) = ws.read() {
                if message.is_data() && ws.send(message).is_err() {
                    break;
                }
            }
        })
        .unwrap();
    let url = format!("ws://{}/", handle.local_addr());
    for i in 0..20 {
        let mut ws = wslite::connect(&url).unwrap();
        ws.send_text(&format!("message {i}")).unwrap();
        assert_eq!(ws.read().unwrap(), Message::text(format!("message {i}")));
        ws.close(CloseCode::NORMAL, "").unwrap();
        // One connection at a time: wait until the server has let it go.
        let deadline = Instant::now() + Duration::from_secs(10);
        while handle.connections() > 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(handle.connections(), 0);
    }
    let threads: HashSet<_> = ids.try_iter().collect();
    // Twenty connections, one after another, on one thread: a connection's
    // slot is freed and its thread parked at the same moment, so the next
    // connection always finds the thread waiting.
    assert_eq!(
        threads.len(),
        1,
        "{} threads served 20 sequential connections",
        threads.len()
    );
    // Parked threads are dismissed at shutdown: nothing is left.
    assert_eq!(handle.shutdown(), 0);
}
