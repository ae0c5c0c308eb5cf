//! The server as it is deployed: what a handler learns of the request that
//! opened its connection, refusing at the descriptor limit the process
//! really has, slots freed from quiet clients (keepalive) and from clients
//! that only trickle pings (idle timeout), the limit per address, a burst of
//! refusals, builder timeouts that do not depend on the order of the calls,
//! and timeouts of zero and of `Duration::MAX`.
//!
//! Everything runs over loopback (127.0.0.1 and ::1). Every socket read has
//! a timeout, every loop a count and a deadline, and threads are joined
//! through bounded waits. Times are reported as `measured:` lines; the only
//! ones asserted are the generous "within N s" bounds that say nothing
//! hangs and that a timeout was the configured one, not a default.
//!
//! The tests that hold a thousand or more descriptors or threads run alone
//! in a child process (the same test binary, one test), and one at a time,
//! so that they neither share their process nor crowd two cores together.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use wslite::{ClientBuilder, CloseCode, Config, Error, Message, Server, ServerHandle};

#[path = "common/alone.rs"]
mod child;
#[path = "common/clients.rs"]
mod clients;
use clients::{client_config, echo, ws_connect};
#[path = "common/example.rs"]
mod example;
#[path = "common/wait.rs"]
mod wait;
#[path = "common/wire.rs"]
mod wire;
use wait::{bounded, wait_until};
use wire::{frame_bytes, read_frame, read_http_head, read_until_close, upgrade_request};

/// The longest any single wait in these tests may last.
const WAIT: Duration = Duration::from_secs(10);

/// How many requests a test keeps unanswered at once: well inside the
/// accept queue of a std listener (a backlog of 128).
const WINDOW: usize = 100;

/// The masking key of the raw clients' frames.
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// The environment variable that makes a test run its body: set in the
/// child process that [`alone`] starts.
const CHILD_ENV: &str = "WSLITE_SERVER_DEPLOY_CHILD";

/// Re-runs the test `name` alone in a child process and checks that it
/// passed; returns `true` in the child, where the caller runs the body.
/// The heavy tests take turns: only one such child runs at a time.
fn alone(name: &str) -> bool {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    child::alone(CHILD_ENV, name, Duration::from_secs(60))
}

/// Reports a number. In a child process it goes to stdout, where [`alone`]
/// picks up `measured:` lines for the parent's log; elsewhere to stderr.
fn measured(text: &str) {
    if std::env::var_os(CHILD_ENV).is_some() {
        println!("measured: {text}");
    } else {
        eprintln!("measured: {text}");
    }
}

/// The upgrade request of [`upgrade_request`] for another target.
fn upgrade_request_to(addr: SocketAddr, target: &str) -> String {
    upgrade_request(addr).replacen("GET / ", &format!("GET {target} "), 1)
}

/// A masked frame, as a client sends it.
fn masked(opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame_bytes(true, 0, opcode, Some(KEY), payload)
}

/// A masked Close frame with `code`.
fn masked_close(code: u16) -> Vec<u8> {
    masked(0x8, &code.to_be_bytes())
}

/// Sends a text message on a raw upgraded connection and reads its echo.
fn raw_echo(stream: &mut TcpStream, text: &str) {
    stream.write_all(&masked(0x1, text.as_bytes())).unwrap();
    let frame = read_frame(stream, 1 << 16)
        .expect("the echo")
        .expect("the echo, not the end of the stream");
    assert_eq!(
        (frame.opcode, frame.payload.as_slice()),
        (0x1, text.as_bytes())
    );
    assert!(!frame.masked, "a server frame must not be masked");
}

/// Ends a raw upgraded connection with the closing handshake: our Close,
/// the server's, then the end of the stream.
fn raw_close(mut stream: TcpStream) {
    stream.write_all(&masked_close(1000)).unwrap();
    let frame = read_frame(&mut stream, 125)
        .expect("the server's Close")
        .expect("the server's Close, not the end of the stream");
    assert_eq!(frame.opcode, 0x8, "{frame:?}");
    assert_eq!(frame.close_code(), Some(1000));
    assert!(
        matches!(read_frame(&mut stream, 125), Ok(None)),
        "no end of stream"
    );
}

/// What a client saw of the server's answer by its deadline.
// The bytes and messages are there for the failure messages (`Debug`).
#[allow(dead_code)]
#[derive(Debug)]
enum Answer {
    /// A complete status line with this code, that long after the deadline
    /// was set.
    Status(u16),
    /// Nothing complete by the deadline: these bytes, if any.
    Hung(Vec<u8>),
    /// The server ended the stream before a complete status line.
    Closed(Vec<u8>),
    /// The connection failed before a complete status line.
    Failed(String),
}

/// Reads a status line (`HTTP/1.1 NNN …\r\n`) that must be complete by
/// `deadline`. A read that starts after the deadline (the caller was busy)
/// gets one last look with the shortest wait, so only the server's lateness
/// counts.
fn status_line_by(stream: &mut TcpStream, deadline: Instant) -> Answer {
    let mut got = Vec::new();
    let mut chunk = [0u8; 256];
    let mut last_look = false;
    for _ in 0..10_000 {
        if let Some(end) = got.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&got[..end]);
            return match line
                .strip_prefix("HTTP/1.1 ")
                .and_then(|rest| rest.get(..3))
                .and_then(|code| code.parse().ok())
            {
                Some(code) => Answer::Status(code),
                None => Answer::Failed(format!("not a status line: {line:?}")),
            };
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            if last_look {
                return Answer::Hung(got);
            }
            last_look = true;
        }
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match stream.read(&mut chunk) {
            Ok(0) => return Answer::Closed(got),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Answer::Failed(format!("{e} after {got:?}")),
        }
    }
    Answer::Hung(got)
}

/// Opens `count` raw upgraded connections, keeping at most `window`
/// requests ahead of the answers read.
fn open_upgraded(addr: SocketAddr, count: usize, window: usize) -> Vec<TcpStream> {
    let request = upgrade_request(addr);
    let mut open = Vec::with_capacity(count);
    let mut answered = 0;
    for i in 0..count + window {
        if i < count {
            let mut stream = wire::raw_connect(addr, WAIT);
            stream
                .write_all(request.as_bytes())
                .unwrap_or_else(|e| panic!("client {i}: {e}"));
            open.push(stream);
        }
        if open.len() - answered >= window || (i >= count && answered < open.len()) {
            let head = read_http_head(&mut open[answered]);
            assert!(
                head.starts_with("HTTP/1.1 101"),
                "client {answered}: {head}"
            );
            answered += 1;
        }
    }
    assert_eq!(answered, count);
    open
}

/// The kernel's count of connections dropped because a listen backlog was
/// full (`TcpExt: ListenOverflows` in `/proc/net/netstat`), for reports: it
/// counts every listener of the network namespace.
fn listen_overflows() -> Option<u64> {
    let netstat = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut lines = netstat.lines().filter(|l| l.starts_with("TcpExt:"));
    let (names, values) = (lines.next()?, lines.next()?);
    let at = names
        .split_whitespace()
        .position(|n| n == "ListenOverflows")?;
    values.split_whitespace().nth(at)?.parse().ok()
}

/// Milliseconds, for reports.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Ends a server, checking that no connection thread is left.
fn finish(handle: ServerHandle) {
    assert_eq!(
        bounded(WAIT * 2, move || handle.shutdown()),
        0,
        "threads left"
    );
}

// ---------------------------------------------------------------------------
// 1. The request, as the handler sees it
// ---------------------------------------------------------------------------

/// The handler of a server connection reads the request that opened it:
/// the path, a percent-decoded query parameter, a header (by any case), and
/// both addresses, the peer's being the client socket's own local address;
/// a client connection has no request.
#[test]
fn the_handler_reads_path_query_header_and_peer() {
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .shutdown_timeout(Duration::from_secs(3))
        .spawn(|mut ws| {
            let report = match ws.request() {
                Some(r) => [
                    format!("method={}", r.method()),
                    format!("target={}", r.target()),
                    format!("path={}", r.path()),
                    format!("query={:?}", r.query()),
                    format!("room={:?}", r.query_param("room")),
                    format!("cookie={:?}", r.header("cookie")),
                    format!("COOKIE={:?}", r.header("COOKIE")),
                    format!("missing={:?}", r.header("x-not-sent")),
                    format!("peer={:?}", r.peer_addr()),
                    format!("local={:?}", r.local_addr()),
                ]
                .join("\n"),
                None => "no request".into(),
            };
            if ws.send_text(&report).is_ok() {
                echo(ws);
            }
        })
        .unwrap();
    let addr = handle.local_addr();
    let url = format!("ws://{addr}/ws?room=blue%20sky");

    // A client over a socket of our own, so that its address is known.
    let stream = TcpStream::connect_timeout(&addr, WAIT).unwrap();
    wire::bound(&stream, WAIT);
    let client_addr = stream.local_addr().unwrap();
    let mut ws = ClientBuilder::new(&url)
        .header("Cookie", "id=42")
        .config(client_config())
        .handshake(stream)
        .unwrap();
    assert_eq!(ws.request(), None, "a client connection has no request");
    let report = match ws.read().unwrap() {
        Message::Text(text) => text,
        other => panic!("expected the handler's report, got {other:?}"),
    };
    let lines: Vec<&str> = report.lines().collect();
    let expected = [
        "method=GET".to_string(),
        "target=/ws?room=blue%20sky".into(),
        "path=/ws".into(),
        r#"query=Some("room=blue%20sky")"#.into(),
        r#"room=Some("blue sky")"#.into(),
        r#"cookie=Some("id=42")"#.into(),
        r#"COOKIE=Some("id=42")"#.into(),
        "missing=None".into(),
        format!("peer={:?}", Some(client_addr)),
        format!("local={:?}", Some(addr)),
    ];
    assert_eq!(lines, expected, "the handler's view of the request");
    ws.close(CloseCode::NORMAL, "").unwrap();

    // The same through `connect`: its socket's address is the peer's too.
    let mut ws = ClientBuilder::new(format!("ws://{addr}/other?room=a+b&room=second"))
        .header("Cookie", "id=43")
        .config(client_config())
        .connect()
        .unwrap();
    assert_eq!(ws.request(), None, "a client connection has no request");
    let client_addr = ws.get_ref().local_addr().unwrap();
    let report = ws.read().unwrap();
    let report = report.as_text().expect("a text report");
    assert!(report.contains("path=/other\n"), "{report}");
    assert!(report.contains(r#"room=Some("a b")"#), "{report}");
    assert!(report.contains(r#"cookie=Some("id=43")"#), "{report}");
    assert!(
        report.contains(&format!("peer={:?}", Some(client_addr))),
        "{report}"
    );
    ws.close(CloseCode::NORMAL, "").unwrap();
    finish(handle);
}

/// A server listening on every address (0.0.0.0) cannot name a
/// connection's local address from its listener: it asks the system, and
/// the handler sees the address the client reached (127.0.0.1 here), not
/// 0.0.0.0. (The traffic stays on loopback: the client connects to
/// 127.0.0.1.)
#[test]
fn a_server_on_every_address_reports_the_local_address_reached() {
    let handle = Server::bind("0.0.0.0:0")
        .unwrap()
        .shutdown_timeout(Duration::from_secs(3))
        .spawn(|mut ws| {
            let report = match ws.request() {
                Some(r) => format!("peer={:?} local={:?}", r.peer_addr(), r.local_addr()),
                None => "no request".into(),
            };
            if ws.send_text(&report).is_ok() {
                echo(ws);
            }
        })
        .unwrap();
    let port = handle.local_addr().port();
    let reached: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let stream = TcpStream::connect_timeout(&reached, WAIT).unwrap();
    wire::bound(&stream, WAIT);
    let client_addr = stream.local_addr().unwrap();
    let mut ws = ClientBuilder::new(format!("ws://{reached}/"))
        .config(client_config())
        .handshake(stream)
        .unwrap();
    let report = ws.read().unwrap();
    assert_eq!(
        report.as_text(),
        Some(format!("peer={:?} local={:?}", Some(client_addr), Some(reached)).as_str()),
        "the handler's view of the addresses"
    );
    ws.close(CloseCode::NORMAL, "").unwrap();
    finish(handle);
}

// ---------------------------------------------------------------------------
// 2. The real descriptor limit
// ---------------------------------------------------------------------------

/// A child process, killed and reaped when this is dropped (also when the
/// test fails).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `binary ARG` under `ulimit -n 1024`, its output piped.
fn under_1024_descriptors(binary: &Path, arg: &str) -> KillOnDrop {
    let child = Command::new("sh")
        .args(["-c", &format!("ulimit -n 1024 && exec \"$0\" {arg}")])
        .arg(binary)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running sh");
    KillOnDrop(child)
}

/// The example `echo_server`, run with a soft limit of 1,024 descriptors
/// and its default `max_connections` of 1,024, says at start that it cannot
/// keep that many and refuses at the limit it can keep: of 1,100 clients
/// that arrive together, each gets `101` or `503` within a second of its
/// request being written (none is left unanswered), and at least 900 are
/// served, so the limit is the real one, not half of it. How long the
/// connects took is reported, not judged: when the accepting thread falls
/// 128 connections behind, the listen backlog is full and the kernel drops
/// a SYN, which the client sends again a second later.
#[test]
fn at_a_soft_limit_of_1024_descriptors_every_client_gets_101_or_503() {
    if !alone("at_a_soft_limit_of_1024_descriptors_every_client_gets_101_or_503") {
        return;
    }
    const CLIENTS: usize = 1100;
    const JUDGED_AFTER: Duration = Duration::from_secs(1);
    let binary = example::example_binary("echo_server");
    assert!(binary.exists(), "no echo_server at {}", binary.display());
    let mut server = under_1024_descriptors(&binary, "127.0.0.1:0");

    // Its first line says where it listens; the rest is drained.
    let stdout = server.0.stdout.take().unwrap();
    let (line_tx, line_rx) = mpsc::channel();
    let out_thread = thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = line_tx.send(lines.next());
        lines.take(10_000).count()
    });
    let mut stderr = server.0.stderr.take().unwrap();
    let err_thread = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let first = match line_rx.recv_timeout(WAIT) {
        Ok(Some(Ok(line))) => line,
        other => panic!("echo_server printed no first line: {other:?}"),
    };
    let addr: SocketAddr = first
        .strip_prefix("echo server listening on ws://")
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"));
    assert_ne!(addr.port(), 0, "{first}");

    // Each client is judged by its own deadline on another thread, in the
    // order the requests went out: the server answers in that order, so the
    // judge is never behind by more than its own work.
    let (tx, rx) = mpsc::channel::<(TcpStream, Instant)>();
    let judged = Arc::new(AtomicUsize::new(0));
    let judge = thread::spawn({
        let judged = Arc::clone(&judged);
        move || {
            let mut answers = Vec::with_capacity(CLIENTS);
            let mut slowest = Duration::ZERO;
            let mut kept = Vec::with_capacity(CLIENTS);
            for (mut stream, written) in rx.iter().take(CLIENTS) {
                let answer = status_line_by(&mut stream, written + JUDGED_AFTER);
                judged.fetch_add(1, Ordering::Relaxed);
                if matches!(answer, Answer::Status(_)) {
                    slowest = slowest.max(written.elapsed());
                }
                answers.push(answer);
                // Open until every client is judged, so that the served ones
                // hold their slots.
                kept.push(stream);
            }
            (answers, slowest, kept)
        }
    });
    let request = upgrade_request(addr);
    let overflows_before = listen_overflows();
    let started = Instant::now();
    // Connecting is not judged (a full listen backlog delays the SYN), but
    // reported.
    let (mut slowest_connect, mut slow_connects) = (Duration::ZERO, 0);
    for i in 0..CLIENTS {
        // At most WINDOW requests unanswered: more would overflow the
        // listener's accept queue (std listens with a backlog of 128), and
        // Linux drops the SYN of an overflowing client, which then retries a
        // second later: a wait on TCP's timer, not on the server.
        let _ = wait_until(WAIT, || i - judged.load(Ordering::Relaxed) < WINDOW);
        let connecting = Instant::now();
        let mut stream = TcpStream::connect_timeout(&addr, WAIT)
            .unwrap_or_else(|e| panic!("client {i} could not connect: {e}"));
        let took = connecting.elapsed();
        slowest_connect = slowest_connect.max(took);
        slow_connects += usize::from(took > Duration::from_millis(500));
        stream.set_write_timeout(Some(WAIT)).unwrap();
        stream
            .write_all(request.as_bytes())
            .unwrap_or_else(|e| panic!("client {i} could not send its request: {e}"));
        tx.send((stream, Instant::now())).unwrap();
    }
    let connected = started.elapsed();
    let overflows = listen_overflows()
        .zip(overflows_before)
        .map(|(after, before)| after - before);
    drop(tx);
    assert!(
        wait_until(WAIT * 3, || judge.is_finished()),
        "the judging thread did not finish"
    );
    let (answers, slowest, kept) = judge.join().unwrap();
    let total = started.elapsed();
    assert!(
        server.0.try_wait().unwrap().is_none(),
        "echo_server exited during the test"
    );
    drop(server);
    drop(kept);
    assert!(wait_until(WAIT, || err_thread.is_finished()));
    let stderr = err_thread.join().unwrap();
    assert!(wait_until(WAIT, || out_thread.is_finished()));
    let _ = out_thread.join();

    let served = answers
        .iter()
        .filter(|a| matches!(a, Answer::Status(101)))
        .count();
    let busy = answers
        .iter()
        .filter(|a| matches!(a, Answer::Status(503)))
        .count();
    let hung = answers
        .iter()
        .filter(|a| matches!(a, Answer::Hung(_)))
        .count();
    let odd: Vec<(usize, &Answer)> = answers
        .iter()
        .enumerate()
        .filter(|(_, a)| !matches!(a, Answer::Status(101 | 503)))
        .collect();
    let limit = stderr
        .split("serving at most ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<usize>().ok());
    measured(&format!(
        "{CLIENTS} clients under ulimit -n 1024: {served} x 101, {busy} x 503, {hung} hung, \
         {} other; limit announced {limit:?}; requests written in {:.0} ms, all judged in \
         {:.0} ms, slowest answer {:.1} ms after its request; slowest connect {:.0} ms, \
         {slow_connects} connects over 500 ms; listen backlog overflows {overflows:?}",
        odd.len() - hung,
        ms(connected),
        ms(total),
        ms(slowest),
        ms(slowest_connect)
    ));
    assert_eq!(
        hung,
        0,
        "clients without an answer: {:?}",
        &odd[..odd.len().min(5)]
    );
    assert!(
        odd.is_empty(),
        "answers other than 101 and 503: {:?}",
        &odd[..odd.len().min(5)]
    );
    assert_eq!(served + busy, CLIENTS);
    assert!(
        served >= 900,
        "only {served} served: refusing below the real limit"
    );
    assert!(busy > 0, "no client was refused: the limit was not reached");
    assert!(
        stderr.contains(
            "wslite: max_connections is 1024 but this process may open only 1024 descriptors"
        ),
        "no warning on stderr: {stderr:?}"
    );
    assert_eq!(
        stderr.matches("wslite: max_connections").count(),
        1,
        "the warning is said once: {stderr:?}"
    );
    if let Some(limit) = limit {
        assert!(
            served <= limit,
            "{served} served past the announced {limit}"
        );
    }
}

/// The environment variable of the child server of
/// [`out_of_descriptors_a_waiting_client_still_gets_503`].
const EMFILE_CHILD_ENV: &str = "WSLITE_SERVER_DEPLOY_EMFILE_CHILD";

/// When the process runs out of descriptors anyway (here a handler opens
/// files until none is left, under a soft limit of 128, and takes back every
/// one that comes free), `accept` fails and
/// a client would wait in the backlog unanswered. The server gives up its
/// reserve descriptor to accept it and answer 503: each of 20 clients gets
/// its 503 within 2 s; once the handler lets its files go, a newcomer is
/// served. The server is a child process of this test binary (this test,
/// with [`EMFILE_CHILD_ENV`] set), so the clients have descriptors of their
/// own.
#[test]
fn out_of_descriptors_a_waiting_client_still_gets_503() {
    if std::env::var_os(EMFILE_CHILD_ENV).is_some() {
        return hogging_server();
    }
    let name = "out_of_descriptors_a_waiting_client_still_gets_503";
    let exe = std::env::current_exe().unwrap();
    let mut server = KillOnDrop(
        Command::new("sh")
            .args([
                "-c",
                "ulimit -n 128 && exec \"$0\" \"$@\"",
                exe.to_str().unwrap(),
                name,
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(EMFILE_CHILD_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("running sh"),
    );
    let stdout = server.0.stdout.take().unwrap();
    let (line_tx, line_rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().take(10_000) {
            let Ok(line) = line else { break };
            if line_tx.send(line).is_err() {
                break;
            }
        }
    });
    let addr: SocketAddr = (0..100)
        .find_map(|_| {
            let line = line_rx.recv_timeout(WAIT).ok()?;
            // The harness's "test … ..." may start the line.
            let at = line.find("hogging server on ")?;
            line[at..].strip_prefix("hogging server on ")?.parse().ok()
        })
        .expect("the child server says where it listens");

    // The hog: its handler takes every descriptor left.
    let mut hog = wire::raw_connect(addr, WAIT);
    hog.write_all(upgrade_request(addr).as_bytes()).unwrap();
    let head = read_http_head(&mut hog);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let said = (0..100)
        .find_map(|_| {
            let line = line_rx.recv_timeout(WAIT).ok()?;
            let at = line.find("hogged ")?;
            line[at..].strip_prefix("hogged ").map(String::from)
        })
        .expect("the handler says how many files it opened");

    // Every newcomer meets a process with no descriptor to spare.
    let started = Instant::now();
    let answers: Vec<Answer> = (0..20)
        .map(|_| {
            // Time for the hog to take back what the last client freed.
            thread::sleep(Duration::from_millis(30));
            let mut stream = wire::raw_connect(addr, WAIT);
            stream.write_all(upgrade_request(addr).as_bytes()).unwrap();
            status_line_by(&mut stream, Instant::now() + Duration::from_secs(2))
        })
        .collect();
    // The first may be served: a waiting `accept` holds the descriptor it
    // will return (Linux takes it before the wait), so the hog could not
    // have it. Every later one meets a process with none at all.
    let odd: Vec<&Answer> = answers
        .iter()
        .skip(1)
        .filter(|a| !matches!(a, Answer::Status(503)))
        .collect();
    assert!(
        matches!(answers[0], Answer::Status(101 | 503)),
        "the first: {:?}",
        answers[0]
    );
    measured(&format!(
        "the handler hogged {said} descriptors; 20 clients then got {} x 503 in {:.0} ms",
        answers
            .iter()
            .filter(|a| matches!(a, Answer::Status(503)))
            .count(),
        ms(started.elapsed())
    ));
    assert!(
        odd.is_empty(),
        "not a 503 while out of descriptors: {odd:?}"
    );

    // The hog leaves, its handler's files go with it: served again.
    drop(hog);
    let served = wait_until(WAIT, || {
        let mut stream = wire::raw_connect(addr, WAIT);
        stream.write_all(upgrade_request(addr).as_bytes()).unwrap();
        matches!(
            status_line_by(&mut stream, Instant::now() + Duration::from_secs(2)),
            Answer::Status(101)
        )
    });
    assert!(served, "no client served after the descriptors came back");
    drop(server.0.stdin.take());
    let deadline = Instant::now() + WAIT;
    while server.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the child server did not end");
        thread::sleep(Duration::from_millis(10));
    }
}

/// The child of [`out_of_descriptors_a_waiting_client_still_gets_503`]: a
/// server whose first connection's handler opens `/dev/null` until the
/// process has no descriptor left, and holds the files until its client
/// leaves. It runs until its stdin closes (at most a minute).
fn hogging_server() {
    let hogged = std::sync::atomic::AtomicBool::new(false);
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .config(Config::default().read_timeout(Some(Duration::from_millis(10))))
        .shutdown_timeout(Duration::from_secs(2))
        .spawn(move |mut ws| {
            if hogged.swap(true, std::sync::atomic::Ordering::SeqCst) {
                return echo(ws);
            }
            // Every descriptor, and again each 10 ms (a read timeout) any
            // that another thread let go of, until the client leaves.
            let mut files = Vec::new();
            let hog = |files: &mut Vec<std::fs::File>| {
                while let Ok(file) = std::fs::File::open("/dev/null") {
                    files.push(file);
                    assert!(files.len() < 100_000, "no descriptor limit");
                }
            };
            hog(&mut files);
            println!("hogged {}", files.len());
            loop {
                hog(&mut files);
                match ws.read() {
                    Ok(_) | Err(Error::Timeout) => {}
                    Err(_) => break,
                }
            }
            drop(files);
        })
        .unwrap();
    println!("hogging server on {}", handle.local_addr());
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        let _ = done_tx.send(());
    });
    let _ = done_rx.recv_timeout(Duration::from_secs(60));
    finish(handle);
}

// ---------------------------------------------------------------------------
// 3. Quiet connections and keepalive
// ---------------------------------------------------------------------------

/// With every slot held by a client that never reads or writes after its
/// handshake, a newcomer gets `503`; the server's keepalive pings go
/// unanswered, each quiet connection is dropped (a ping, then the end of
/// the stream), and within 5 s a newcomer is served and echoed.
#[test]
fn quiet_connections_are_dropped_by_keepalive_and_a_newcomer_is_served() {
    if !alone("quiet_connections_are_dropped_by_keepalive_and_a_newcomer_is_served") {
        return;
    }
    const SLOTS: usize = 1024;
    let keepalive = Duration::from_millis(500);
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .max_connections(SLOTS)
        .stack_size(64 << 10)
        .config(Config::default().keepalive(Some(keepalive)))
        .shutdown_timeout(Duration::from_secs(3))
        .spawn(echo)
        .unwrap();
    let addr = handle.local_addr();
    assert_eq!(handle.connection_limit(), SLOTS);

    // Up to 100 requests go out ahead of the answers read: the handshakes
    // happen close together, well inside the first keepalive, and the
    // listen backlog (128) never fills, which would stall a connect for the
    // 1 s of a SYN retransmission.
    let request = upgrade_request(addr);
    let opening = Instant::now();
    let mut quiet = open_upgraded(addr, SLOTS, 100);
    let all_open = opening.elapsed();
    let held = handle.connections();
    assert_eq!(
        held,
        SLOTS,
        "not every slot is held {:.0} ms after the first handshake",
        ms(all_open)
    );

    let mut extra = wire::raw_connect(addr, WAIT);
    extra.write_all(request.as_bytes()).unwrap();
    let answer = read_until_close(&mut extra);
    let refused_at = Instant::now();
    assert!(
        answer.starts_with(b"HTTP/1.1 503"),
        "the client past the limit got {:?} ({:.0} ms after the first handshake)",
        String::from_utf8_lossy(&answer),
        ms(refused_at - opening)
    );

    // A newcomer, retried until the keepalive has freed a slot.
    let url = format!("ws://{addr}/newcomer");
    let mut attempts = 0;
    let mut ws = loop {
        attempts += 1;
        match ws_connect(&url) {
            Ok(ws) => break ws,
            Err(Error::HandshakeRefused { status: 503, .. })
                if refused_at.elapsed() < Duration::from_secs(5) && attempts < 1000 =>
            {
                thread::sleep(Duration::from_millis(10));
            }
            other => panic!(
                "no newcomer served within 5 s ({attempts} attempts, {:.0} ms): {other:?}",
                ms(refused_at.elapsed())
            ),
        }
    };
    let served_at = Instant::now();
    ws.send_text("after the quiet ones").unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("after the quiet ones"));
    ws.close(CloseCode::NORMAL, "").unwrap();

    // What a quiet client saw: the keepalive ping, then the end.
    let first = read_frame(&mut quiet[0], 125)
        .expect("a frame from the server")
        .expect("a ping before the end of the stream");
    assert_eq!(first.opcode, 0x9, "expected the keepalive ping: {first:?}");
    let mut end = None;
    for _ in 0..10 {
        match read_frame(&mut quiet[0], 125) {
            Ok(Some(frame)) => assert_eq!(frame.opcode, 0x9, "{frame:?}"),
            other => {
                end = Some(other);
                break;
            }
        }
    }
    assert!(
        matches!(end, Some(Ok(None))),
        "the quiet connection did not end cleanly: {end:?}"
    );
    assert!(
        wait_until(WAIT, || handle.connections() == 0),
        "{} connections still held",
        handle.connections()
    );
    let all_freed = opening.elapsed();
    measured(&format!(
        "{SLOTS} quiet connections open in {:.0} ms; 1025th refused at {:.0} ms; newcomer \
         served {:.0} ms after the refusal ({:.0} ms after the first handshake, {attempts} \
         attempts); every slot free by {:.0} ms",
        ms(all_open),
        ms(refused_at - opening),
        ms(served_at - refused_at),
        ms(served_at - opening),
        ms(all_freed)
    ));
    drop(quiet);
    finish(handle);
}

// ---------------------------------------------------------------------------
// 4. The idle timeout
// ---------------------------------------------------------------------------

/// With an idle timeout of 600 ms, a client that only sends pings (and
/// reads their pongs) is told Close 1001 "idle timeout" once 600 ms pass
/// without a data message, and the server's `read` fails with
/// `Error::IdleTimeout`; a client sending a data message every 100 ms stays
/// open for 2 s and closes normally.
#[test]
fn a_client_trickling_pings_is_closed_by_the_idle_timeout() {
    let idle = Duration::from_millis(600);
    let tick = Duration::from_millis(100);
    let (report_tx, report_rx) = mpsc::channel();
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .config(Config::default().idle_timeout(Some(idle)))
        .shutdown_timeout(Duration::from_secs(3))
        .spawn(move |mut ws| {
            let path = ws.request().map(|r| r.path().to_string());
            let mut end = None;
            for _ in 0..100_000 {
                match ws.read() {
                    Ok(m) if m.is_data() => {
                        if let Err(e) = ws.send(m) {
                            end = Some(e);
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        end = Some(e);
                        break;
                    }
                }
            }
            let _ = report_tx.send((path, format!("{end:?}")));
        })
        .unwrap();
    let addr = handle.local_addr();

    // The pinger, on its own thread while the talker runs here.
    let pinger = thread::spawn(move || {
        let mut stream = wire::raw_connect(addr, WAIT);
        stream.set_nodelay(true).unwrap();
        stream
            .write_all(upgrade_request_to(addr, "/pings").as_bytes())
            .unwrap();
        let head = read_http_head(&mut stream);
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        let opened = Instant::now();
        let mut pongs = 0;
        let mut close = None;
        for i in 0..40u32 {
            let payload = format!("ping {i}");
            stream.write_all(&masked(0x9, payload.as_bytes())).unwrap();
            // Its pong, unless the Close comes first.
            let frame = read_frame(&mut stream, 125)
                .expect("a pong or the Close")
                .expect("a pong or the Close, not the end of the stream");
            match frame.opcode {
                0xA => {
                    assert_eq!(frame.payload, payload.as_bytes(), "the pong's payload");
                    pongs += 1;
                }
                0x8 => {
                    close = Some((frame, opened.elapsed()));
                    break;
                }
                other => panic!("unexpected frame {other:#x}: {frame:?}"),
            }
            let next = opened + tick * (i + 1);
            thread::sleep(next.saturating_duration_since(Instant::now()));
        }
        let (frame, after) = close.expect("no Close within 4 s of pings");
        // Answer it, then the server ends the stream.
        stream.write_all(&masked_close(1001)).unwrap();
        let mut end = None;
        for _ in 0..100 {
            match read_frame(&mut stream, 125) {
                Ok(Some(_)) => {}
                other => {
                    end = Some(other.map(|_| ()).map_err(|e| e.kind()));
                    break;
                }
            }
        }
        (frame, after, pongs, end)
    });

    // The talker: a data message every 100 ms for 1.2 s, twice the idle
    // timeout.
    let mut ws = ws_connect(&format!("ws://{addr}/data")).unwrap();
    let opened = Instant::now();
    for i in 0..12u32 {
        let text = format!("message {i}");
        ws.send_text(&text).unwrap();
        let mut echoed = false;
        for _ in 0..10 {
            match ws.read() {
                Ok(Message::Text(t)) => {
                    assert_eq!(t, text);
                    echoed = true;
                    break;
                }
                Ok(Message::Close(frame)) => panic!(
                    "the talking client was closed after {:.0} ms: {frame:?}",
                    ms(opened.elapsed())
                ),
                Ok(_) => {}
                Err(e) => panic!("the talking client failed: {e:?}"),
            }
        }
        assert!(echoed, "message {i} was not echoed");
        let next = opened + tick * (i + 1);
        thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let talked = opened.elapsed();
    ws.close(CloseCode::NORMAL, "done").unwrap();

    assert!(wait_until(WAIT, || pinger.is_finished()), "the pinger hung");
    let (frame, after, pongs, end) = pinger.join().unwrap();
    measured(&format!(
        "pinging client closed {:.0} ms after its handshake ({pongs} pongs before); talking \
         client open {:.0} ms",
        ms(after),
        ms(talked)
    ));
    assert_eq!(frame.close_code(), Some(1001), "{frame:?}");
    assert_eq!(&frame.payload[2..], b"idle timeout", "{frame:?}");
    assert!(
        after >= Duration::from_millis(500) && after <= Duration::from_secs(3),
        "closed {after:?} after the handshake; the idle timeout is {idle:?}"
    );
    assert!(
        pongs >= 3,
        "only {pongs} pongs: the pings were not answered"
    );
    assert_eq!(
        end,
        Some(Ok(())),
        "the server did not end the stream cleanly"
    );

    let mut reports: Vec<(Option<String>, String)> = (0..2)
        .map(|_| report_rx.recv_timeout(WAIT).expect("a handler's report"))
        .collect();
    reports.sort();
    assert_eq!(
        reports,
        [
            (Some("/data".into()), "Some(ConnectionClosed)".into()),
            (Some("/pings".into()), "Some(IdleTimeout)".into()),
        ]
    );
    finish(handle);
}

// ---------------------------------------------------------------------------
// 5. The limit per address
// ---------------------------------------------------------------------------

/// On a dual-stack listener (`[::]`), eight connections from 127.0.0.1 fill
/// that address's share: the ninth gets `429`, while a client from ::1 is
/// served; when one 127.0.0.1 client leaves, another is served again.
#[test]
fn one_address_cannot_take_every_slot() {
    let server = match Server::bind("[::]:0") {
        Ok(server) => server,
        Err(e) => panic!("binding [::]:0 failed: {e}"),
    };
    let handle = server
        .max_connections(64)
        .max_connections_per_ip(8)
        .shutdown_timeout(Duration::from_secs(3))
        .spawn(echo)
        .unwrap();
    let port = handle.local_addr().port();
    let v4 = SocketAddr::from(([127, 0, 0, 1], port));
    let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, port));

    let mut holders: Vec<TcpStream> = (0..8)
        .map(|_| wire::raw_upgraded_client(v4, WAIT))
        .collect();
    for (i, holder) in holders.iter_mut().enumerate() {
        raw_echo(holder, &format!("holder {i}"));
    }

    let mut ninth = wire::raw_connect(v4, WAIT);
    ninth.write_all(upgrade_request(v4).as_bytes()).unwrap();
    let answer = read_until_close(&mut ninth);
    assert!(
        answer.starts_with(b"HTTP/1.1 429"),
        "the ninth client from 127.0.0.1 got {:?}",
        String::from_utf8_lossy(&answer)
    );

    let mut from_v6 = wire::raw_upgraded_client(v6, WAIT);
    raw_echo(&mut from_v6, "from ::1");
    assert_eq!(handle.connections(), 9);

    // One 127.0.0.1 client leaves; its share frees.
    raw_close(holders.pop().unwrap());
    let left_at = Instant::now();
    let mut attempts = 0;
    let mut again = loop {
        attempts += 1;
        let mut stream = wire::raw_connect(v4, WAIT);
        stream.write_all(upgrade_request(v4).as_bytes()).unwrap();
        let head = read_http_head(&mut stream);
        if head.starts_with("HTTP/1.1 101") {
            break stream;
        }
        assert!(head.starts_with("HTTP/1.1 429"), "{head}");
        assert!(
            attempts < 500 && left_at.elapsed() < Duration::from_secs(5),
            "no 127.0.0.1 client served within 5 s of one leaving ({attempts} attempts)"
        );
        thread::sleep(Duration::from_millis(10));
    };
    measured(&format!(
        "per-address slot free {:.1} ms after its client left ({attempts} attempts)",
        ms(left_at.elapsed())
    ));
    raw_echo(&mut again, "back again");
    assert_eq!(handle.connections(), 9);

    raw_close(again);
    raw_close(from_v6);
    for holder in holders {
        raw_close(holder);
    }
    assert!(wait_until(WAIT, || handle.connections() == 0));
    finish(handle);
}

// ---------------------------------------------------------------------------
// 6. A burst of refusals
// ---------------------------------------------------------------------------

/// With all 10 slots held, 2,000 clients that connect and send their
/// request as fast as one thread can each get `503` (none waits more than
/// 2 s), and the holders are still served afterwards.
#[test]
fn a_burst_of_2000_clients_at_a_limit_of_10_gets_its_503s() {
    if !alone("a_burst_of_2000_clients_at_a_limit_of_10_gets_its_503s") {
        return;
    }
    const LIMIT: usize = 10;
    const BURST: usize = 2000;
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .max_connections(LIMIT)
        .shutdown_timeout(Duration::from_secs(3))
        .spawn(echo)
        .unwrap();
    let addr = handle.local_addr();
    let mut holders: Vec<TcpStream> = (0..LIMIT)
        .map(|_| wire::raw_upgraded_client(addr, WAIT))
        .collect();
    assert!(wait_until(WAIT, || handle.connections() == LIMIT));

    let request = upgrade_request(addr);
    let accept_cpu_before = accept_thread_cpu();
    let started = Instant::now();
    let mut burst = Vec::with_capacity(BURST);
    let mut answers: Vec<Answer> = Vec::with_capacity(BURST);
    let answer_next = |burst: &mut Vec<TcpStream>, answers: &mut Vec<Answer>| {
        if let Some(stream) = burst.get_mut(answers.len()) {
            answers.push(status_line_by(
                stream,
                Instant::now() + Duration::from_secs(2),
            ));
        }
    };
    for i in 0..BURST {
        let mut stream = TcpStream::connect_timeout(&addr, WAIT)
            .unwrap_or_else(|e| panic!("client {i} could not connect: {e}"));
        stream.set_write_timeout(Some(WAIT)).unwrap();
        stream
            .write_all(request.as_bytes())
            .unwrap_or_else(|e| panic!("client {i} could not send its request: {e}"));
        burst.push(stream);
        // At most WINDOW unanswered: within the listener's accept queue
        // (see the test above).
        if burst.len() - answers.len() >= WINDOW {
            answer_next(&mut burst, &mut answers);
        }
    }
    let sent = started.elapsed();
    while answers.len() < burst.len() {
        answer_next(&mut burst, &mut answers);
    }
    let elapsed = started.elapsed();
    let accept_cpu = accept_thread_cpu()
        .zip(accept_cpu_before)
        .map(|(a, b)| a - b);
    let refused = answers
        .iter()
        .filter(|a| matches!(a, Answer::Status(503)))
        .count();
    let odd: Vec<(usize, &Answer)> = answers
        .iter()
        .enumerate()
        .filter(|(_, a)| !matches!(a, Answer::Status(503)))
        .collect();
    measured(&format!(
        "{BURST} clients at a limit of {LIMIT}: {refused} x 503, {} other; requests sent in \
         {:.0} ms, last 503 read at {:.0} ms: {:.0} refusals per second; the accepting \
         thread spent {} on CPU per refusal",
        odd.len(),
        ms(sent),
        ms(elapsed),
        BURST as f64 / elapsed.as_secs_f64(),
        accept_cpu.map_or("(unknown)".to_owned(), |ns| format!(
            "{:.1} µs",
            ns as f64 / BURST as f64 / 1000.0
        )),
    ));
    assert!(odd.is_empty(), "not a 503: {:?}", &odd[..odd.len().min(5)]);
    drop(burst);

    assert_eq!(handle.connections(), LIMIT);
    for (i, holder) in holders.iter_mut().enumerate() {
        raw_echo(holder, &format!("holder {i} after the burst"));
    }
    for holder in holders {
        raw_close(holder);
    }
    assert!(wait_until(WAIT, || handle.connections() == 0));
    finish(handle);
}

/// The CPU time, in nanoseconds, of this process's thread named
/// `wslite-accept` (Linux: the first field of its `schedstat`).
fn accept_thread_cpu() -> Option<u64> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    tasks.filter_map(Result::ok).find_map(|task| {
        let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
        if comm.trim() != "wslite-accept" {
            return None;
        }
        let schedstat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        schedstat.split_whitespace().next()?.parse().ok()
    })
}

// ---------------------------------------------------------------------------
// 7. Builder timeouts and the order of the calls
// ---------------------------------------------------------------------------

/// A handshake timeout set on the builder wins over the configuration's,
/// whether `config` is called before or after it: a client facing a server
/// that never answers gives up in about 300 ms, not the default 10 s, and
/// a server drops a client that sends nothing in about 300 ms.
#[test]
fn builder_timeouts_do_not_depend_on_call_order() {
    let short = Duration::from_millis(300);
    let bound = Duration::from_secs(3);

    // A listener that accepts and never answers, bounded in time.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let silent = thread::spawn(move || {
        let mut held = Vec::new();
        let deadline = Instant::now() + WAIT * 3;
        while Instant::now() < deadline && done_rx.try_recv() == Err(mpsc::TryRecvError::Empty) {
            match listener.accept() {
                Ok((stream, _)) => held.push(stream),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    thread::sleep(Duration::from_millis(5))
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
        held.len()
    });
    let url = format!("ws://{silent_addr}/");
    let clients = [
        (
            "handshake_timeout then config",
            ClientBuilder::new(&url)
                .handshake_timeout(Some(short))
                .config(Config::default()),
        ),
        (
            "config then handshake_timeout",
            ClientBuilder::new(&url)
                .config(Config::default())
                .handshake_timeout(Some(short)),
        ),
    ];
    for (order, builder) in clients {
        let started = Instant::now();
        let result = bounded(WAIT + WAIT / 2, move || builder.connect().map(|_| ()));
        let took = started.elapsed();
        measured(&format!(
            "client, {order}: {result:?} after {:.0} ms",
            ms(took)
        ));
        assert!(
            result.is_err(),
            "{order}: the handshake succeeded against silence"
        );
        assert!(matches!(result, Err(Error::Timeout)), "{order}: {result:?}");
        assert!(
            took < bound,
            "{order}: gave up only after {took:?}, not ~{short:?}"
        );
    }
    done_tx.send(()).unwrap();
    assert!(wait_until(WAIT, || silent.is_finished()));
    assert_eq!(
        silent.join().unwrap(),
        2,
        "the silent listener saw both clients"
    );

    let servers = [
        (
            "handshake_timeout then config",
            Server::bind("127.0.0.1:0")
                .unwrap()
                .handshake_timeout(Some(short))
                .config(Config::default()),
        ),
        (
            "config then handshake_timeout",
            Server::bind("127.0.0.1:0")
                .unwrap()
                .config(Config::default())
                .handshake_timeout(Some(short)),
        ),
    ];
    for (order, server) in servers {
        let handle = server
            .shutdown_timeout(Duration::from_secs(3))
            .spawn(echo)
            .unwrap();
        let mut stream = wire::raw_connect(handle.local_addr(), Duration::from_secs(5));
        let started = Instant::now();
        let mut got = Vec::new();
        let mut chunk = [0u8; 1024];
        let mut end = None;
        for _ in 0..1000 {
            match stream.read(&mut chunk) {
                Ok(0) => {
                    end = Some("end of stream".to_string());
                    break;
                }
                Ok(n) => got.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    panic!("server, {order}: a silent client was not dropped within 5 s")
                }
                Err(e) => {
                    end = Some(format!("error {e}"));
                    break;
                }
            }
        }
        let took = started.elapsed();
        let status = String::from_utf8_lossy(&got);
        let status = status.lines().next().unwrap_or("");
        measured(&format!(
            "server, {order}: a silent client got {status:?} then {end:?} after {:.0} ms",
            ms(took)
        ));
        assert!(end.is_some(), "server, {order}: the connection did not end");
        assert!(
            took < bound,
            "server, {order}: dropped only after {took:?}, not ~{short:?}"
        );
        assert!(
            got.is_empty() || status.starts_with("HTTP/1.1 408"),
            "server, {order}: unexpected answer {status:?}"
        );
        assert!(wait_until(WAIT, || handle.connections() == 0));
        finish(handle);
    }
}

// ---------------------------------------------------------------------------
// 8. Zero and Duration::MAX
// ---------------------------------------------------------------------------

/// Every timeout at `Duration::MAX`.
fn max_config() -> Config {
    Config::default()
        .read_timeout(Some(Duration::MAX))
        .write_timeout(Some(Duration::MAX))
        .handshake_timeout(Some(Duration::MAX))
        .close_timeout(Duration::MAX)
        .keepalive(Some(Duration::MAX))
        .idle_timeout(Some(Duration::MAX))
}

/// What a server's handler saw: the messages (as text) and how `read`
/// ended.
type Seen = (Vec<String>, String);

/// A server with `config` whose handler echoes and reports what it saw.
fn reporting_server(config: Config) -> (ServerHandle, mpsc::Receiver<Seen>) {
    let (tx, rx) = mpsc::channel();
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .config(config)
        .shutdown_timeout(Duration::from_secs(3))
        .spawn(move |mut ws| {
            let mut seen = Vec::new();
            let mut end = String::from("no end");
            for _ in 0..1000 {
                match ws.read() {
                    Ok(m) => {
                        seen.push(format!("{m:?}"));
                        if m.is_data() {
                            if let Err(e) = ws.send(m) {
                                end = format!("send: {e:?}");
                                break;
                            }
                        }
                    }
                    Err(e) => {
                        end = format!("{e:?}");
                        break;
                    }
                }
            }
            let _ = tx.send((seen, end));
        })
        .unwrap();
    (handle, rx)
}

/// Whether an error is the kind a zero timeout handed to the socket would
/// give (`set_read_timeout(Some(ZERO))` is `InvalidInput`): an odd failure.
fn is_odd(error: &Error) -> bool {
    matches!(error, Error::Io(e) if e.kind() == ErrorKind::InvalidInput)
}

/// Timeouts of `Duration::MAX` everywhere neither overflow nor stop a
/// connection from working: it handshakes, echoes and closes cleanly
/// (`close` returns because the peer answers). A close timeout of zero
/// makes `close` return at once, and the server still sees the Close; a
/// write timeout of zero lets a small message through (or fails it with
/// `WriteTimeout`), on either side. Nothing panics.
#[test]
fn zero_and_max_timeouts_neither_panic_nor_fail_oddly() {
    // Duration::MAX on both sides.
    let (handle, seen) = reporting_server(max_config());
    let url = format!("ws://{}/", handle.local_addr());
    let client_url = url.clone();
    let started = Instant::now();
    let closed = bounded(WAIT, move || {
        let mut ws = ClientBuilder::new(client_url)
            .config(max_config())
            .connect()
            .expect("connect with Duration::MAX timeouts");
        ws.send_text("at the edge of time").unwrap();
        let echo = ws.read().unwrap();
        assert_eq!(echo, Message::text("at the edge of time"));
        ws.close(CloseCode::NORMAL, "max").map(|_| ())
    });
    let took = started.elapsed();
    assert!(
        matches!(closed, Ok(())),
        "close with Duration::MAX: {closed:?}"
    );
    let (messages, end) = seen.recv_timeout(WAIT).expect("the handler's report");
    assert_eq!(
        messages,
        [
            format!("{:?}", Message::text("at the edge of time")),
            format!(
                "{:?}",
                Message::Close(Some(wslite::CloseFrame::new(CloseCode::NORMAL, "max")))
            ),
        ]
    );
    assert_eq!(end, "ConnectionClosed");
    measured(&format!(
        "Duration::MAX everywhere: connect, echo and close in {:.1} ms",
        ms(took)
    ));

    // A close timeout of zero on the client.
    let client_url = url.clone();
    let outcome = bounded(WAIT, move || {
        let mut ws = ClientBuilder::new(client_url)
            .config(client_config().close_timeout(Duration::ZERO))
            .connect()
            .unwrap();
        ws.send_text("then close at once").unwrap();
        assert_eq!(ws.read().unwrap(), Message::text("then close at once"));
        let started = Instant::now();
        let closed = ws.close(CloseCode::NORMAL, "zero");
        (
            format!("{closed:?}"),
            started.elapsed(),
            closed.err().is_some_and(|e| is_odd(&e)),
        )
    });
    let (closed, close_took, odd) = outcome;
    measured(&format!(
        "close_timeout(ZERO): close returned {closed} in {:.2} ms",
        ms(close_took)
    ));
    assert!(!odd, "close with a zero timeout: {closed}");
    assert!(
        close_took < Duration::from_secs(1),
        "close with a zero timeout took {close_took:?}"
    );
    let (messages, end) = seen.recv_timeout(WAIT).expect("the handler's report");
    let close = format!(
        "{:?}",
        Message::Close(Some(wslite::CloseFrame::new(CloseCode::NORMAL, "zero")))
    );
    assert!(
        messages.contains(&close),
        "the server did not see the Close: {messages:?}, then {end}"
    );
    finish(handle);

    // A write timeout of zero, on the client and on the server.
    let (handle, seen) = reporting_server(Config::default().write_timeout(Some(Duration::ZERO)));
    let client_url = format!("ws://{}/", handle.local_addr());
    let outcome = bounded(WAIT, move || {
        let mut ws = ClientBuilder::new(client_url)
            .config(client_config().write_timeout(Some(Duration::ZERO)))
            .connect()
            .expect("connect with a zero write timeout");
        let sent = ws.send_text("small");
        let echo = match &sent {
            Ok(()) => format!("{:?}", ws.read()),
            Err(_) => "not sent".into(),
        };
        let closed = ws.close(CloseCode::NORMAL, "");
        (format!("{sent:?}"), echo, format!("{closed:?}"), sent.err())
    });
    let (sent, echo, closed, send_error) = outcome;
    measured(&format!(
        "write_timeout(ZERO): send {sent}, echo {echo}, close {closed}"
    ));
    match send_error {
        None => assert_eq!(
            echo,
            format!("{:?}", Ok::<_, Error>(Message::text("small")))
        ),
        Some(Error::WriteTimeout) => {}
        Some(other) => panic!("a small send with a zero write timeout failed: {other:?}"),
    }
    let (messages, end) = seen.recv_timeout(WAIT).expect("the handler's report");
    assert!(
        !end.starts_with("send:") || end == "send: WriteTimeout",
        "the server's echo with a zero write timeout: {end}"
    );
    if sent == "Ok(())" {
        assert_eq!(
            messages.first(),
            Some(&format!("{:?}", Message::text("small")))
        );
    }
    finish(handle);

    // Zero in the other fields: whatever they mean, nothing panics, every
    // call returns, and no zero reaches the socket as an invalid timeout.
    let (handle, seen) = reporting_server(Config::default());
    let zero = Some(Duration::ZERO);
    let variants = [
        ("handshake_timeout", client_config().handshake_timeout(zero)),
        ("read_timeout", client_config().read_timeout(zero)),
        ("keepalive", client_config().keepalive(zero)),
        ("idle_timeout", client_config().idle_timeout(zero)),
    ];
    let mut reports = Vec::new();
    for (field, config) in variants {
        let client_url = format!("ws://{}/", handle.local_addr());
        let outcome = bounded(WAIT, move || {
            let mut ws = match ClientBuilder::new(client_url).config(config).connect() {
                Ok(ws) => ws,
                Err(e) => return (format!("connect: {e:?}"), is_odd(&e)),
            };
            let sent = ws.send_text("zero");
            let read = ws.read();
            let closed = ws.close(CloseCode::NORMAL, "");
            let odd = [
                sent.as_ref().err(),
                read.as_ref().err(),
                closed.as_ref().err(),
            ]
            .into_iter()
            .flatten()
            .any(is_odd);
            (
                format!("send {sent:?}, read {read:?}, close {closed:?}"),
                odd,
            )
        });
        assert!(!outcome.1, "{field}(ZERO): {}", outcome.0);
        reports.push(format!("{field}(ZERO): {}", outcome.0));
    }
    measured(&reports.join("; "));
    // Every connection that reached the handler ended.
    assert!(wait_until(WAIT, || handle.connections() == 0));
    drop(seen);
    finish(handle);
}

/// A read timeout of zero means "do not wait", not "never read": a message
/// that has already arrived is returned by one of the reads that follow.
#[test]
fn a_zero_read_timeout_still_returns_a_message_already_received() {
    let handle = Server::bind("127.0.0.1:0")
        .unwrap()
        .shutdown_timeout(Duration::from_secs(3))
        .spawn(echo)
        .unwrap();
    let url = format!("ws://{}/", handle.local_addr());
    let mut ws = ClientBuilder::new(url)
        .config(client_config().read_timeout(Some(Duration::ZERO)))
        .connect()
        .unwrap();
    ws.send_text("already here").unwrap();
    // Within 2 s the echo is in; one of these reads must return it.
    let mut got = None;
    for _ in 0..100 {
        match ws.read() {
            Ok(message) => {
                got = Some(message);
                break;
            }
            Err(Error::Timeout) => thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("read with a zero timeout: {e:?}"),
        }
    }
    assert_eq!(
        got,
        Some(Message::text("already here")),
        "100 reads over 2 s, every one Err(Timeout)"
    );
    ws.close(CloseCode::NORMAL, "").unwrap();
    finish(handle);
}
