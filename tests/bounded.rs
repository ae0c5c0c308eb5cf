//! Every wait of the blocking layer is bounded as an *operation*, never per
//! system call: a peer that always makes a little progress cannot stretch a
//! send, a close, a handshake or a read past its timeout.
//!
//! Each test plays a raw peer on 127.0.0.1 that does make progress all the
//! time (it reads 16 KiB every 250 ms, trickles one byte at a time, or
//! streams empty unfinished frames), so a timer restarted by every system
//! call would never fire. It times the operation with `Instant`, prints a
//! `measured:` line, and asserts the bound the configuration promises:
//!
//! | operation | timeout | the peer | bound |
//! |---|---|---|---|
//! | `send` of 32 MiB (client, split writer, server handler) | write 1 s | reads 64 KiB/s (and 256 KiB/s) | `WriteTimeout`, 1 s ≤ t < 3 s, connection shut down |
//! | client `close` | close 1 s | echoes the Close, then trickles a byte every 100 ms and never ends TCP | 0.9 s ≤ t < 2.5 s, the echo returned |
//! | server `close` | close 1 s | never answers, sends an empty unfinished frame every 2 ms | 1 s ≤ t < 2.5 s |
//! | `close` (client, server, split writer) | close 1 s | answers nothing | 1 s ≤ t < 1.5 s |
//! | server handshake | handshake 500 ms | trickles its request, a byte every 50 ms | dropped, 0.5 s ≤ t < 1.5 s, handler never runs |
//! | client handshake | handshake 500 ms | trickles its 101, a byte every 50 ms | `Timeout`, 0.5 s ≤ t < 1.5 s |
//! | `read` | read 500 ms | trickles a frame a byte every 20 ms; or sends empty fragments every 2 ms | `Timeout`, 0.5 s ≤ t < 1.5 s, then the message intact |
//!
//! Everything else waits at most [`LONG`]: sockets carry timeouts, loops
//! have counts, and results from other threads come through `recv_timeout`.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use wslite::{
    ClientBuilder, CloseCode, CloseFrame, Config, Error, Message, Server, ServerHandle, WebSocket,
};

#[path = "common/clients.rs"]
mod clients;
use clients::client_with;
#[path = "common/wire.rs"]
mod wire;
use wire::{answer_101, frame_bytes, read_frame, read_http_head};

// ---------------------------------------------------------------------------
// Helpers: configurations, raw peers, timing.
// ---------------------------------------------------------------------------

/// The longest any wait that is not under test may take.
const LONG: Duration = Duration::from_secs(10);

/// The size of the message a slow peer cannot take in time.
const BIG: usize = 32 << 20;

/// What a slow peer reads every 250 ms: 64 KiB/s.
const SLOW: usize = 16 << 10;

const SECOND: Duration = Duration::from_secs(1);

const KEY: Option<[u8; 4]> = Some([0x37, 0xfa, 0x21, 0x3d]);

/// A configuration whose every wait is bounded; each test shortens the one
/// it measures.
fn config() -> Config {
    Config::default()
        .read_timeout(Some(LONG))
        .write_timeout(Some(LONG))
        .close_timeout(Duration::from_secs(5))
        .handshake_timeout(Some(LONG))
}

fn server(
    config: Config,
    handler: impl Fn(WebSocket<TcpStream>) + Send + Sync + 'static,
) -> ServerHandle {
    Server::bind("127.0.0.1:0")
        .expect("bind")
        .config(config)
        .shutdown_timeout(Duration::from_secs(2))
        .spawn(handler)
        .expect("spawn")
}

/// Stops a server and checks that every connection thread ended.
fn stop(server: ServerHandle) {
    assert_eq!(server.shutdown(), 0, "connection threads left running");
}

fn listen() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

fn bound(stream: &TcpStream) {
    wire::bound(stream, LONG);
}

fn request(addr: SocketAddr) -> String {
    wire::upgrade_request(addr)
}

/// A raw TCP client that has done the opening handshake by hand.
fn raw_client(addr: SocketAddr) -> TcpStream {
    wire::raw_upgraded_client(addr, LONG)
}

/// Accepts one connection and answers its opening handshake by hand.
fn raw_server_accept(listener: &TcpListener) -> TcpStream {
    wire::raw_server_accept(listener, LONG)
}

/// Runs a peer on its own thread; its result comes back through [`recv`].
fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> mpsc::Receiver<T> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx
}

/// Receives what another thread reports, within [`LONG`].
fn recv<T>(rx: &mpsc::Receiver<T>, what: &str) -> T {
    rx.recv_timeout(LONG)
        .unwrap_or_else(|e| panic!("{what}: nothing within {LONG:?} ({e})"))
}

/// Waits `every`, or less if told to stop; whether to go on.
fn tick(stop: &mpsc::Receiver<()>, every: Duration) -> bool {
    matches!(stop.recv_timeout(every), Err(RecvTimeoutError::Timeout))
}

/// Prints the measurement and asserts `at_least <= elapsed < under`.
fn check_elapsed(what: &str, elapsed: Duration, at_least: Duration, under: Duration) {
    println!("measured: {what}: {elapsed:?} (bound: at least {at_least:?}, under {under:?})");
    assert!(
        elapsed >= at_least,
        "{what}: {elapsed:?}, sooner than its timeout of {at_least:?}"
    );
    assert!(elapsed < under, "{what}: {elapsed:?}, not under {under:?}");
}

/// What a slow reading peer saw.
#[derive(Debug)]
struct SlowReport {
    /// Reads while it was slow, and the bytes they took.
    slow_reads: usize,
    slow_bytes: usize,
    /// Bytes read fast, after it was told to stop being slow.
    drained: usize,
    /// The other side ended the stream (FIN or reset).
    ended: bool,
}

/// A peer on a slow link that never stalls: takes at most `chunk` bytes
/// every 250 ms until `stop` says so, then reads as fast as it can to see
/// whether the other side ended the stream.
fn read_slowly_then_drain(
    stream: &mut TcpStream,
    chunk: usize,
    stop: &mpsc::Receiver<()>,
) -> SlowReport {
    let mut report = SlowReport {
        slow_reads: 0,
        slow_bytes: 0,
        drained: 0,
        ended: false,
    };
    let mut chunk = vec![0u8; chunk];
    // At most 120 turns (30 s), far past every bound here.
    for _ in 0..120 {
        if !tick(stop, Duration::from_millis(250)) {
            break;
        }
        match stream.read(&mut chunk) {
            Ok(0) => {
                report.ended = true;
                return report;
            }
            Ok(n) => {
                report.slow_reads += 1;
                report.slow_bytes += n;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                report.ended = e.kind() == ErrorKind::ConnectionReset;
                return report;
            }
        }
    }
    let mut big = vec![0u8; 64 << 10];
    // What the socket buffers hold is a few MiB; 10,000 reads of 64 KiB
    // are 640 MiB.
    for _ in 0..10_000 {
        match stream.read(&mut big) {
            Ok(0) => {
                report.ended = true;
                break;
            }
            Ok(n) => report.drained += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // A timeout here means the stream did not end.
            Err(e) => {
                report.ended = e.kind() == ErrorKind::ConnectionReset;
                break;
            }
        }
    }
    report
}

/// Writes `bytes` one at a time, `every` apart, until `stop` says so or a
/// write fails; returns how many it wrote.
fn trickle(
    stream: &mut TcpStream,
    bytes: &[u8],
    every: Duration,
    stop: &mpsc::Receiver<()>,
) -> usize {
    for (i, byte) in bytes.iter().enumerate() {
        if !tick(stop, every) || stream.write_all(std::slice::from_ref(byte)).is_err() {
            return i;
        }
    }
    bytes.len()
}

/// Byte `i` of a deterministic, non-periodic pattern.
fn byte_at(i: usize) -> u8 {
    ((i as u32).wrapping_mul(2_654_435_761) >> 24) as u8
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(byte_at).collect()
}

// ---------------------------------------------------------------------------
// 1. A send is bounded by `write_timeout` as a whole.
// ---------------------------------------------------------------------------

/// Checks a send that a 64 KiB/s peer could not take in time, and what that
/// peer saw: it read all along, and the stream ended after the failure.
fn check_slow_send(what: &str, result: &wslite::Result<()>, elapsed: Duration, peer: &SlowReport) {
    println!("measured: {what}: peer {peer:?}");
    assert!(
        matches!(result, Err(Error::WriteTimeout)),
        "{what}: expected WriteTimeout, got {result:?}"
    );
    check_elapsed(what, elapsed, SECOND, Duration::from_secs(3));
    // The peer took bytes all along: several slow reads, none of them empty.
    assert!(
        peer.slow_reads >= 2,
        "{what}: the peer read only {} times while slow",
        peer.slow_reads
    );
    // The connection was failed and shut down: the peer saw the end of the
    // stream, long before the whole message.
    assert!(
        peer.ended,
        "{what}: the stream did not end after the timeout"
    );
    assert!(
        peer.slow_bytes + peer.drained < BIG,
        "{what}: the whole message went through"
    );
}

#[test]
fn a_client_send_of_32_mib_to_a_peer_reading_64_kib_a_second_fails_within_the_write_timeout() {
    let (listener, addr) = listen();
    let (stop_tx, stop_rx) = mpsc::channel();
    let peer = on_thread(move || {
        let mut stream = raw_server_accept(&listener);
        read_slowly_then_drain(&mut stream, SLOW, &stop_rx)
    });
    let mut ws = client_with(addr, config().write_timeout(Some(SECOND)));
    let payload = vec![0xa5; BIG];
    let start = Instant::now();
    let result = ws.send_binary(&payload);
    let elapsed = start.elapsed();
    let _ = stop_tx.send(());
    let report = recv(&peer, "the slow peer");
    check_slow_send("client send_binary 32 MiB", &result, elapsed, &report);
    // The connection is failed: nothing more can be sent.
    assert!(ws.send_binary(b"after").is_err());
}

/// At 256 KiB/s every write call the send makes gets some bytes out within
/// 1 s (a plain socket with a 1 s write timeout goes on for as long as one
/// cares to wait): only a deadline for the whole send can end it in time.
#[test]
fn a_client_send_to_a_peer_reading_256_kib_a_second_fails_within_the_write_timeout_too() {
    let (listener, addr) = listen();
    let (stop_tx, stop_rx) = mpsc::channel();
    let peer = on_thread(move || {
        let mut stream = raw_server_accept(&listener);
        read_slowly_then_drain(&mut stream, 4 * SLOW, &stop_rx)
    });
    let mut ws = client_with(addr, config().write_timeout(Some(SECOND)));
    let payload = vec![0xa5; BIG];
    let start = Instant::now();
    let result = ws.send_binary(&payload);
    let elapsed = start.elapsed();
    let _ = stop_tx.send(());
    let report = recv(&peer, "the slow peer");
    check_slow_send(
        "client send_binary 32 MiB at 256 KiB/s",
        &result,
        elapsed,
        &report,
    );
}

#[test]
fn a_split_writer_send_of_32_mib_to_a_slow_peer_fails_within_the_write_timeout() {
    let (listener, addr) = listen();
    let (stop_tx, stop_rx) = mpsc::channel();
    let peer = on_thread(move || {
        let mut stream = raw_server_accept(&listener);
        read_slowly_then_drain(&mut stream, SLOW, &stop_rx)
    });
    let ws = client_with(addr, config().write_timeout(Some(SECOND)));
    let (mut reader, writer) = ws.split().expect("split");
    // A reader blocked meanwhile: the send must not wait for it, and the
    // failure ends its read too.
    let read = on_thread(move || reader.read().map(|m| format!("{m:?}")));
    let payload = vec![0xa5; BIG];
    let start = Instant::now();
    let result = writer.send_binary(&payload);
    let elapsed = start.elapsed();
    let _ = stop_tx.send(());
    let report = recv(&peer, "the slow peer");
    check_slow_send(
        "split WsWriter::send_binary 32 MiB",
        &result,
        elapsed,
        &report,
    );
    let read = recv(&read, "the blocked read");
    assert!(read.is_err(), "the read ended with {read:?}");
    assert!(writer.send_text("after").is_err());
}

#[test]
fn a_server_send_of_32_mib_to_a_client_reading_64_kib_a_second_fails_within_the_write_timeout() {
    let (tx, rx) = mpsc::channel();
    let server = server(config().write_timeout(Some(SECOND)), move |mut ws| {
        let payload = vec![0xa5; BIG];
        let start = Instant::now();
        let result = ws.send_binary(&payload);
        let _ = tx.send((result, start.elapsed()));
    });
    let addr = server.local_addr();
    let (stop_tx, stop_rx) = mpsc::channel();
    let peer = on_thread(move || {
        let mut stream = raw_client(addr);
        read_slowly_then_drain(&mut stream, SLOW, &stop_rx)
    });
    let (result, elapsed) = recv(&rx, "the handler's send");
    let _ = stop_tx.send(());
    let report = recv(&peer, "the slow client");
    check_slow_send(
        "server handler send_binary 32 MiB",
        &result,
        elapsed,
        &report,
    );
    stop(server);
}

// ---------------------------------------------------------------------------
// 2-4. `close` returns within `close_timeout`, whatever the peer does.
// ---------------------------------------------------------------------------

#[test]
fn a_client_close_returns_in_time_when_the_server_echoes_then_trickles_without_ending_tcp() {
    let (listener, addr) = listen();
    let (stop_tx, stop_rx) = mpsc::channel();
    let peer = on_thread(move || {
        let mut stream = raw_server_accept(&listener);
        // Echo the client's Close, code and reason...
        let close = (0..100)
            .find_map(|_| {
                let frame = read_frame(&mut stream, 1 << 20)
                    .expect("a frame")
                    .expect("a Close before the end");
                (frame.opcode == 0x8).then_some(frame)
            })
            .expect("a Close within 100 frames");
        stream
            .write_all(&frame_bytes(true, 0, 0x8, None, &close.payload))
            .unwrap();
        // ...then never end TCP: a byte every 100 ms (a data frame's, which
        // nobody should wait for).
        let rest = frame_bytes(true, 0, 0x2, None, &pattern(1000));
        let trickled = trickle(&mut stream, &rest, Duration::from_millis(100), &stop_rx);
        (close, trickled)
    });
    let mut ws = client_with(addr, config().close_timeout(SECOND));
    let start = Instant::now();
    let result = ws.close(CloseCode::NORMAL, "bye");
    let elapsed = start.elapsed();
    let _ = stop_tx.send(());
    let (close, trickled) = recv(&peer, "the trickling server");
    println!("measured: the server trickled {trickled} bytes after its Close");
    assert_eq!(close.close_code(), Some(1000));
    assert_eq!(
        result.expect("close"),
        Some(CloseFrame::new(CloseCode::NORMAL, "bye")),
        "close returns the echoed Close"
    );
    // A client waits for the server to end TCP first (§7.1.1), at most until
    // the close timeout: the trickle went on all that time.
    check_elapsed(
        "client close, server echoes then trickles",
        elapsed,
        Duration::from_millis(900),
        Duration::from_millis(2500),
    );
    assert!(trickled >= 5, "only {trickled} bytes trickled during close");
}

#[test]
fn a_server_close_returns_in_time_while_the_client_streams_empty_unfinished_frames() {
    let (tx, rx) = mpsc::channel();
    let server = server(config().close_timeout(SECOND), move |mut ws| {
        let start = Instant::now();
        let result = ws.close(CloseCode::NORMAL, "bye");
        let _ = tx.send((format!("{result:?}"), start.elapsed()));
    });
    let mut stream = raw_client(server.local_addr());
    // A reader that sees the server's Close; nobody answers it.
    let mut reading = stream.try_clone().unwrap();
    let closes = on_thread(move || loop {
        match read_frame(&mut reading, 1 << 20) {
            Ok(Some(frame)) if frame.opcode == 0x8 => break frame.close_code(),
            Ok(Some(_)) => {}
            _ => break None,
        }
    });
    let (stop_tx, stop_rx) = mpsc::channel();
    let writer = on_thread(move || {
        // A binary message that never ends: empty fragments, FIN clear,
        // masked, one every 2 ms (each completes no message).
        let mut sent = 0;
        let mut frame = frame_bytes(false, 0, 0x2, KEY, &[]);
        // At most 5,000 frames (10 s).
        for _ in 0..5000 {
            if stream.write_all(&frame).is_err() {
                break;
            }
            sent += 1;
            frame = frame_bytes(false, 0, 0x0, KEY, &[]);
            if !tick(&stop_rx, Duration::from_millis(2)) {
                break;
            }
        }
        sent
    });
    let (result, elapsed) = recv(&rx, "the handler's close");
    let _ = stop_tx.send(());
    let sent = recv(&writer, "the fragment writer");
    println!("measured: server close returned {result}; the client sent {sent} empty fragments");
    // No Close ever comes: it waits out its timeout, and no longer.
    check_elapsed(
        "server close, client streams empty non-FIN frames",
        elapsed,
        SECOND,
        Duration::from_millis(2500),
    );
    // The fragments kept coming during the close (about one every 2 ms).
    assert!(sent >= 100, "only {sent} fragments were sent");
    assert_eq!(
        recv(&closes, "the server's Close"),
        Some(1000),
        "the server sent its Close"
    );
    stop(server);
}

/// The margin a `close` may take past its timeout.
const CLOSE_MARGIN: Duration = Duration::from_millis(500);

#[test]
fn a_server_close_against_a_client_that_answers_nothing_returns_within_the_close_timeout() {
    let (tx, rx) = mpsc::channel();
    let server = server(config().close_timeout(SECOND), move |mut ws| {
        let start = Instant::now();
        let result = ws.close(CloseCode::NORMAL, "bye");
        let _ = tx.send((format!("{result:?}"), start.elapsed()));
    });
    // Does the handshake, then neither reads nor writes, and keeps TCP open
    // until the test has its measurement.
    let stream = raw_client(server.local_addr());
    let (result, elapsed) = recv(&rx, "the handler's close");
    println!("measured: server close returned {result}");
    check_elapsed(
        "server close, silent client",
        elapsed,
        SECOND,
        SECOND + CLOSE_MARGIN,
    );
    drop(stream);
    stop(server);
}

/// A raw server that does the handshake and then answers nothing, keeping
/// TCP open until told to stop.
fn silent_server(listener: TcpListener) -> (mpsc::Sender<()>, mpsc::Receiver<()>) {
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let done = on_thread(move || {
        let _stream = raw_server_accept(&listener);
        let _ = stop_rx.recv_timeout(LONG);
    });
    (stop_tx, done)
}

#[test]
fn a_client_close_against_a_server_that_answers_nothing_returns_within_the_close_timeout() {
    let (listener, addr) = listen();
    let (stop_tx, done) = silent_server(listener);
    let mut ws = client_with(addr, config().close_timeout(SECOND));
    let start = Instant::now();
    let result = ws.close(CloseCode::NORMAL, "bye");
    let elapsed = start.elapsed();
    let _ = stop_tx.send(());
    recv(&done, "the silent server");
    println!("measured: client close returned {result:?}");
    // No Close came back.
    assert!(matches!(result, Ok(None) | Err(_)), "{result:?}");
    check_elapsed(
        "client close, silent server",
        elapsed,
        SECOND,
        SECOND + CLOSE_MARGIN,
    );
}

#[test]
fn a_split_writer_close_against_a_server_that_answers_nothing_returns_and_ends_the_read() {
    let (listener, addr) = listen();
    let (stop_tx, done) = silent_server(listener);
    let ws = client_with(addr, config().close_timeout(SECOND));
    let (mut reader, writer) = ws.split().expect("split");
    let read = on_thread(move || reader.read().map(|m| format!("{m:?}")));
    let start = Instant::now();
    let result = writer.close(CloseCode::NORMAL, "bye");
    let elapsed = start.elapsed();
    // The blocked read ends with the close, not at its own timeout.
    let read = read.recv_timeout(Duration::from_secs(2));
    let _ = stop_tx.send(());
    recv(&done, "the silent server");
    println!("measured: split close returned {result:?}; the read: {read:?}");
    check_elapsed(
        "split WsWriter::close, silent server",
        elapsed,
        SECOND,
        SECOND + CLOSE_MARGIN,
    );
    let read = read.expect("the blocked read ended within 2 s of the close");
    assert!(read.is_err(), "the read returned {read:?}");
}

#[test]
fn a_split_writer_close_behind_a_send_stuck_on_a_peer_that_never_reads_returns_in_time() {
    // Another thread's send holds the writers' lock, blocked on a peer that
    // reads nothing, with a write timeout far longer than the close timeout:
    // `close` must not wait for that send's own timeout.
    let (listener, addr) = listen();
    let (stop_tx, done) = silent_server(listener);
    let ws = client_with(
        addr,
        config()
            .close_timeout(SECOND)
            .write_timeout(Some(Duration::from_secs(20))),
    );
    let (_reader, writer) = ws.split().expect("split");
    let sender = writer.clone();
    let payload = pattern(32 << 20);
    let (starting_tx, starting) = mpsc::channel();
    let sent = on_thread(move || {
        let _ = starting_tx.send(());
        sender.send_binary(&payload)
    });
    // Let the send take the lock, fill the socket buffers and block.
    recv(&starting, "the send starting");
    thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let result = writer.close(CloseCode::NORMAL, "bye");
    let elapsed = start.elapsed();
    println!("measured: close behind a stuck send returned {result:?} after {elapsed:?}");
    // No Close could go out behind the half-written frame: the connection
    // is failed, and the stuck send ends with it.
    assert!(matches!(result, Err(Error::WriteTimeout)), "{result:?}");
    check_elapsed(
        "split close behind a stuck send",
        elapsed,
        SECOND - Duration::from_millis(50),
        SECOND + CLOSE_MARGIN,
    );
    let sent = sent
        .recv_timeout(Duration::from_secs(2))
        .expect("the stuck send ended within 2 s of the close");
    assert!(sent.is_err(), "{sent:?}");
    let _ = stop_tx.send(());
    recv(&done, "the silent server");
}

// ---------------------------------------------------------------------------
// 5. The handshake timeout bounds the whole handshake.
// ---------------------------------------------------------------------------

const HANDSHAKE: Duration = Duration::from_millis(500);

#[test]
fn a_server_drops_a_client_trickling_its_request_at_the_handshake_timeout() {
    let ran = Arc::new(AtomicBool::new(false));
    let server = {
        let ran = Arc::clone(&ran);
        server(config().handshake_timeout(Some(HANDSHAKE)), move |_| {
            ran.store(true, Ordering::SeqCst)
        })
    };
    let addr = server.local_addr();
    let start = Instant::now();
    let mut stream = TcpStream::connect(addr).expect("connect");
    bound(&stream);
    let mut writing = stream.try_clone().unwrap();
    let (stop_tx, stop_rx) = mpsc::channel();
    // About 170 bytes at 50 ms each: 8 s to send it all; every read the
    // server makes finds a new byte.
    let trickler = on_thread(move || {
        let request = request(addr);
        let sent = trickle(
            &mut writing,
            request.as_bytes(),
            Duration::from_millis(50),
            &stop_rx,
        );
        (sent, request.len())
    });
    // Read until the server drops the connection (FIN or reset).
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    let ended = loop {
        match stream.read(&mut chunk) {
            Ok(0) => break "FIN",
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break "reset",
            Err(e) => panic!("the server did not drop the trickling client: {e}"),
        }
        assert!(answer.len() < 8192, "an endless answer");
    };
    let elapsed = start.elapsed();
    let _ = stop_tx.send(());
    let (sent, total) = recv(&trickler, "the trickler");
    println!(
        "measured: dropped ({ended}) after {sent} of {total} bytes, answer {:?}",
        String::from_utf8_lossy(&answer)
    );
    check_elapsed(
        "server handshake, request trickled a byte every 50 ms",
        elapsed,
        HANDSHAKE,
        Duration::from_millis(1500),
    );
    assert!(sent >= 5, "only {sent} bytes trickled before the drop");
    assert!(sent < total, "the whole request went through");
    assert!(!ran.load(Ordering::SeqCst), "the handler ran");
    stop(server);
}

#[test]
fn a_client_handshake_fails_at_the_timeout_when_the_server_trickles_its_answer() {
    let (listener, addr) = listen();
    let (stop_tx, stop_rx) = mpsc::channel();
    let peer = on_thread(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        bound(&stream);
        let head = read_http_head(&mut stream);
        let answer = answer_101(&head);
        let sent = trickle(
            &mut stream,
            answer.as_bytes(),
            Duration::from_millis(50),
            &stop_rx,
        );
        (sent, answer.len())
    });
    let start = Instant::now();
    let result = ClientBuilder::new(format!("ws://{addr}/"))
        .config(config().handshake_timeout(Some(HANDSHAKE)))
        .connect();
    let elapsed = start.elapsed();
    let _ = stop_tx.send(());
    let (sent, total) = recv(&peer, "the trickling server");
    let result = result.map(|_| "connected");
    println!("measured: connect returned {result:?} after {sent} of {total} answer bytes");
    assert!(matches!(result, Err(Error::Timeout)), "{result:?}");
    check_elapsed(
        "client handshake, 101 trickled a byte every 50 ms",
        elapsed,
        HANDSHAKE,
        Duration::from_millis(1500),
    );
    assert!(sent >= 5, "only {sent} bytes trickled before the timeout");
    assert!(sent < total, "the whole answer went through");
}

// ---------------------------------------------------------------------------
// 6. `read_timeout` bounds a whole `read`.
// ---------------------------------------------------------------------------

const READ: Duration = Duration::from_millis(500);

/// A raw server that sends the pieces of `first` one every `every` until
/// told to go on, then what is left of them and `rest` at once, and
/// reports how many pieces it had trickled. Then it keeps the connection
/// open until told again.
fn two_speed_server(
    listener: TcpListener,
    first: Vec<Vec<u8>>,
    every: Duration,
    rest: Vec<u8>,
) -> (mpsc::Sender<()>, mpsc::Receiver<usize>) {
    let (go_tx, go_rx) = mpsc::channel();
    let (sent_tx, sent_rx) = mpsc::channel();
    thread::spawn(move || {
        let mut stream = raw_server_accept(&listener);
        let mut sent = 0;
        let mut told = false;
        for piece in &first {
            if !tick(&go_rx, every) {
                told = true;
                break;
            }
            stream.write_all(piece).unwrap();
            sent += 1;
        }
        // The rest, at once, once the test says so: what was not trickled
        // yet, then `rest`.
        if !told {
            let _ = go_rx.recv_timeout(LONG);
        }
        let mut all: Vec<u8> = first[sent..].concat();
        all.extend_from_slice(&rest);
        stream.write_all(&all).unwrap();
        let _ = sent_tx.send(sent);
        // Keep the connection until the test is done with it.
        let _ = go_rx.recv_timeout(LONG);
    });
    (go_tx, sent_rx)
}

/// A read under `READ` against a peer that sends `pieces` one every `every`
/// (each makes progress, none completes the message): it times out in
/// time, having seen at least `at_least` pieces; then the peer sends the
/// rest at once and the next read returns `want` whole.
fn a_trickled_read_times_out_then_completes(
    what: &str,
    pieces: Vec<Vec<u8>>,
    every: Duration,
    rest: Vec<u8>,
    at_least: usize,
    want: Vec<u8>,
) {
    let (listener, addr) = listen();
    let (go, sent) = two_speed_server(listener, pieces, every, rest);
    let mut ws = client_with(addr, config().read_timeout(Some(READ)));
    let start = Instant::now();
    let result = ws.read();
    let elapsed = start.elapsed();
    go.send(()).unwrap();
    let trickled = recv(&sent, "the rest of the message");
    println!("measured: {what}: the read ended with {result:?} after {trickled} pieces");
    assert!(matches!(result, Err(Error::Timeout)), "{result:?}");
    check_elapsed(what, elapsed, READ, Duration::from_millis(1500));
    assert!(trickled >= at_least, "only {trickled} pieces were sent");
    // Nothing was lost: the next read has the whole message.
    let start = Instant::now();
    let next = ws.read().expect("the next read");
    println!("measured: the next read took {:?}", start.elapsed());
    assert_eq!(next, Message::Binary(want), "the message intact");
    let _ = go.send(());
}

#[test]
fn a_read_of_a_frame_trickled_a_byte_every_20_ms_times_out_then_gets_the_whole_message() {
    let message = pattern(100_000);
    let frame = frame_bytes(true, 0, 0x2, None, &message);
    // 500 bytes at 20 ms each would take 10 s.
    let (head, rest) = frame.split_at(500);
    a_trickled_read_times_out_then_completes(
        "read, frame trickled a byte every 20 ms",
        head.iter().map(|&b| vec![b]).collect(),
        Duration::from_millis(20),
        rest.to_vec(),
        10,
        message,
    );
}

#[test]
fn a_read_against_empty_fragments_every_2_ms_times_out_then_gets_the_whole_message() {
    // A first fragment with data, then empty continuations, FIN clear: each
    // makes progress, none completes the message. 5,000 at 2 ms: 10 s.
    let mut fragments = vec![frame_bytes(false, 0, 0x2, None, b"start;")];
    fragments.extend((0..5000).map(|_| frame_bytes(false, 0, 0x0, None, &[])));
    a_trickled_read_times_out_then_completes(
        "read, empty non-FIN fragments every 2 ms",
        fragments,
        Duration::from_millis(2),
        frame_bytes(true, 0, 0x0, None, b"end"),
        50,
        b"start;end".to_vec(),
    );
}
