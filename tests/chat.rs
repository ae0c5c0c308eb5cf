//! The chat example (`examples/chat.rs`) keeps its promise that one stalled
//! tab cannot stall everybody.
//!
//! The test starts the example's binary on a port the system picks, with
//! ten clients in the room: nine wslite clients that read everything, and
//! one slow tab (a raw client) that takes 8 KiB every 4 s. One of the nine
//! sends 320 text messages of 24 to 56 KiB (12.5 MiB, far more than the
//! slow tab's socket buffers hold), one every 5 ms, each carrying its
//! sequence number and the time it was sent; the chat hands them on as
//! JSON (`{"type":"message","from":…,"text":…}`). It asserts that:
//!
//! * each of the nine receives every message, intact and in order, each
//!   within 1 s of being sent (a chat that sends to the members in turn
//!   holds everybody up behind the slow tab for its write timeout);
//! * the slow tab was dropped: its connection ended (with a Close 1008 or
//!   1013 if one got through) before it had all the messages;
//! * `quit` on stdin closes the nine with 1001, and the chat exits 0 with no
//!   connection thread left.
//!
//! The other tests check the chat's protocol: names (cleaned, unique in a
//! room), the welcome, join and leave notices with the count online, JSON
//! escaping, rooms kept apart, the log's lines; and its command line.
//!
//! `cargo test` builds the examples before it runs integration tests, so
//! the chat binary sits next to this test's own binary. Every wait is
//! bounded, every loop counted, and the chat is killed if the test fails.

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use wslite::{ClientBuilder, CloseCode, Config, Message, WebSocket};

#[path = "common/example.rs"]
mod example;

#[path = "common/wire.rs"]
mod wire;

/// The clients that read everything (the sender among them).
const FAST: usize = 9;
/// The messages the sender sends, one every [`PACE`].
const MESSAGES: usize = 320;
const PACE: Duration = Duration::from_millis(3);
/// The longest a message may take to reach each of the nine.
const MAX_LATENCY: Duration = Duration::from_secs(1);
/// The longest any other single wait may take.
const LONG: Duration = Duration::from_secs(20);
/// Each message starts with `data `, its sequence number (5 digits), a
/// space, the time it was sent (16 digits, microseconds since the test's
/// start) and a space.
const HEADER: usize = 28;

// ---------------------------------------------------------------------------
// The chat process.
// ---------------------------------------------------------------------------

/// The example program, built if need be.
fn chat_binary() -> PathBuf {
    example::example_binary("chat")
}

/// The running chat; killed when dropped, so a failing test leaves nothing
/// running.
struct Chat {
    child: Child,
    lines: Receiver<String>,
    addr: SocketAddr,
}

impl Chat {
    /// Starts the chat on a port the system picks and reads the address
    /// back from its first line ("chat on http://ADDR").
    fn start() -> Chat {
        let binary = chat_binary();
        let mut child = Command::new(&binary)
            .arg("127.0.0.1:0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut chat = Chat {
            child,
            lines,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let first = chat
            .lines
            .recv_timeout(LONG)
            .expect("the chat prints its address");
        let second = chat
            .lines
            .recv_timeout(LONG)
            .expect("the chat says how to stop it");
        assert!(second.contains("quit"), "{second}");
        chat.addr = first
            .strip_prefix("chat on http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line: {first}"));
        assert!(chat.addr.port() != 0, "{first}");
        chat
    }

    /// Types `quit` and waits (bounded) for the chat to exit; returns its
    /// status and everything else it printed.
    fn quit(mut self) -> (ExitStatus, String) {
        let mut stdin = self.child.stdin.take().expect("stdin");
        stdin.write_all(b"quit\n").expect("type quit");
        drop(stdin);
        let deadline = Instant::now() + LONG;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the chat did not exit within {LONG:?} of quit"
            );
            thread::sleep(Duration::from_millis(20));
        };
        // The printing thread ends with the process's stdout.
        let mut printed = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            printed.push(line);
        }
        (status, printed.join("\n"))
    }
}

impl Drop for Chat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// Messages: numbered, timed, checkable.
// ---------------------------------------------------------------------------

/// A deterministic pattern each message takes its body from: letters and
/// digits, which JSON carries unescaped.
fn pattern() -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..(64 << 10) + 256)
        .map(|i: u32| ALPHABET[(i.wrapping_mul(2_654_435_761) >> 24) as usize % ALPHABET.len()])
        .collect()
}

/// Message `seq`: 24 to 56 KiB, its number, the time it was sent, then the
/// pattern from an offset of its own.
fn message(pattern: &[u8], seq: usize, sent_micros: u64) -> String {
    let size = (24 << 10) + (seq * 7919) % (32 << 10);
    let mut text = format!("data {seq:05} {sent_micros:016} ");
    assert_eq!(text.len(), HEADER);
    text.push_str(std::str::from_utf8(&pattern[seq % 256..][..size - HEADER]).unwrap());
    text
}

/// The number and sending time of a message, after checking its body.
fn parse(pattern: &[u8], text: &str) -> Result<(usize, u64), String> {
    let bytes = text.as_bytes();
    if bytes.len() < HEADER {
        return Err(format!("a message of {} bytes", bytes.len()));
    }
    let number = |range: std::ops::Range<usize>| -> Result<u64, String> {
        text.get(range)
            .and_then(|digits| digits.parse().ok())
            .ok_or_else(|| format!("no number in {:?}", &text[..HEADER]))
    };
    let seq = number(5..10)? as usize;
    let sent = number(11..27)?;
    let size = (24 << 10) + (seq * 7919) % (32 << 10);
    if bytes.len() != size || bytes[HEADER..] != pattern[seq % 256..][..size - HEADER] {
        return Err(format!(
            "message {seq} is not intact ({} bytes)",
            bytes.len()
        ));
    }
    Ok((seq, sent))
}

/// The `text` of a `message` event whose text needs no escaping (as the
/// data messages here), else `None`.
fn said_text(json: &str) -> Option<&str> {
    let rest = json.strip_prefix(r#"{"type":"message","from":""#)?;
    let (_, rest) = rest.split_once(r#"","text":""#)?;
    let (text, _) = rest.rsplit_once(r#"","time":"#)?;
    Some(text)
}

/// An event without its `time` (the server's clock), which ends every one:
/// `{"type":"join","name":"ann","online":2,"time":1700000000000}` gives
/// `{"type":"join","name":"ann","online":2`.
fn untimed(json: &str) -> &str {
    let (event, time) = json
        .rsplit_once(r#","time":"#)
        .unwrap_or_else(|| panic!("no time in {json}"));
    let digits = time.strip_suffix('}').unwrap_or_else(|| panic!("{json}"));
    assert!(
        digits.len() >= 13 && digits.bytes().all(|b| b.is_ascii_digit()),
        "the time is milliseconds since 1970: {json}"
    );
    event
}

// ---------------------------------------------------------------------------
// The clients.
// ---------------------------------------------------------------------------

/// What one of the nine saw.
#[derive(Debug, Default)]
struct Seen {
    received: usize,
    worst: Duration,
    worst_seq: usize,
    problem: Option<String>,
}

/// One of the nine: reads every message, checks it is the next one and
/// intact, and times it. Reports `Seen` on `done` once it has them all (or
/// stops early), then goes on reading until the chat closes, and returns
/// the Close it got.
fn read_all(
    id: usize,
    mut read: impl FnMut() -> wslite::Result<Message>,
    start: Instant,
    ready: Sender<usize>,
    done: Sender<(usize, Seen)>,
) -> Result<Option<wslite::CloseFrame>, String> {
    let pattern = pattern();
    let mut seen = Seen::default();
    let mut ready = Some(ready);
    let mut done = Some(done);
    let mut report = |seen: &mut Seen| {
        if let Some(done) = done.take() {
            let _ = done.send((id, std::mem::take(seen)));
        }
    };
    // The messages, the warm-ups before them, and the Close after them.
    for _ in 0..MESSAGES + 1000 {
        let message = match read() {
            Ok(message) => message,
            Err(e) => {
                seen.problem.get_or_insert(format!("read: {e}"));
                report(&mut seen);
                return Err(format!("client {id}: read: {e}"));
            }
        };
        let data = match &message {
            Message::Text(json) => said_text(json).filter(|text| text.starts_with("data ")),
            _ => None,
        };
        match message {
            Message::Text(_) if data.is_none() => {
                // The welcome, a notice, a warm-up: this client is in the
                // room.
                if let Some(ready) = ready.take() {
                    let _ = ready.send(id);
                }
            }
            Message::Text(_) => {
                let now = start.elapsed();
                match parse(&pattern, data.unwrap_or_default()) {
                    Ok((seq, _)) if seq != seen.received => {
                        seen.problem =
                            Some(format!("message {seq} came as number {}", seen.received));
                    }
                    Ok((seq, sent)) => {
                        let latency = now.saturating_sub(Duration::from_micros(sent));
                        if latency > seen.worst {
                            seen.worst = latency;
                            seen.worst_seq = seq;
                        }
                        seen.received += 1;
                    }
                    Err(e) => seen.problem = Some(e),
                }
                if seen.received == MESSAGES || seen.problem.is_some() {
                    report(&mut seen);
                }
            }
            Message::Close(frame) => {
                report(&mut seen);
                return Ok(frame);
            }
            Message::Binary(_) | Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    report(&mut seen);
    Err(format!(
        "client {id}: no Close after {} reads",
        MESSAGES + 1000
    ))
}

fn connect(addr: SocketAddr) -> WebSocket<TcpStream> {
    // Uncompressed: this test is about one slow reader among fast ones, and
    // its 24–56 KiB messages of noise, compressed once per member by a
    // debug build, would measure the compressor instead.
    let config = Config::default()
        .compression(None)
        .read_timeout(Some(LONG))
        .write_timeout(Some(LONG))
        .close_timeout(Duration::from_secs(5))
        .handshake_timeout(Some(LONG));
    ClientBuilder::new(format!("ws://{addr}/ws"))
        .config(config)
        .connect()
        .expect("a client joins the chat")
}

/// What the slow tab saw.
#[derive(Debug)]
struct Slow {
    /// Bytes it took while slow.
    slow_bytes: usize,
    /// Data messages in all.
    messages: usize,
    /// How its connection ended.
    end: String,
    /// The Close it got, if one got through.
    close: Option<u16>,
}

/// The slow tab: a raw client that joins, reads until a warm-up shows it is
/// in the room, then takes 8 KiB every 4 s until `stop`. Then it reads as
/// fast as it can, parsing what it took and what is left, to see how its
/// connection ended.
fn slow_tab(addr: SocketAddr, ready: Sender<usize>, stop: Receiver<()>) -> Slow {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(LONG)).unwrap();
    stream.set_write_timeout(Some(LONG)).unwrap();
    write!(
        stream,
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < 8192, "HTTP head too long");
        stream.read_exact(&mut byte).expect("the 101");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "no 101");
    // The welcome (a text frame): in the room.
    let first = wire::read_frame(&mut stream, 1 << 20)
        .expect("a frame")
        .expect("the welcome");
    assert_eq!(first.opcode, 0x1, "the welcome first");
    ready.send(FAST).unwrap();
    // Slow: 8 KiB every 4 s (at most 30 turns: 2 minutes).
    let mut taken = Vec::new();
    let mut chunk = [0u8; 8 << 10];
    for _ in 0..30 {
        match stream.read(&mut chunk) {
            Ok(n) => taken.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
        let wait = stop.recv_timeout(Duration::from_secs(4));
        if !matches!(wait, Err(RecvTimeoutError::Timeout)) {
            break;
        }
    }
    let mut slow = Slow {
        slow_bytes: taken.len(),
        messages: 0,
        end: String::new(),
        close: None,
    };
    // Fast: parse everything, what it took first.
    let mut all = io::Cursor::new(taken).chain(BufReader::with_capacity(64 << 10, stream));
    for _ in 0..100_000 {
        match wire::read_frame(&mut all, 1 << 20) {
            Ok(Some(frame)) if frame.opcode == 0x8 => {
                slow.close = frame.close_code();
                slow.end = format!("a Close {:?}", slow.close);
                return slow;
            }
            Ok(Some(frame)) => {
                let data =
                    frame.opcode == 0x1 && frame.payload.starts_with(br#"{"type":"message""#);
                slow.messages += usize::from(data);
            }
            Ok(None) => {
                slow.end = "end of stream".into();
                return slow;
            }
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                slow.end = "end of stream inside a frame".into();
                return slow;
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                slow.end = "reset".into();
                return slow;
            }
            Err(e) => {
                slow.end = format!("not ended: {e}");
                return slow;
            }
        }
    }
    slow.end = "endless".into();
    slow
}

// ---------------------------------------------------------------------------
// The test.
// ---------------------------------------------------------------------------

#[test]
fn a_slow_tab_does_not_delay_the_nine_others_and_is_dropped() {
    let chat = Chat::start();
    let addr = chat.addr;
    let start = Instant::now();
    let (ready_tx, ready_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();

    // The nine: client 0 sends (its reader reads on a thread of its own),
    // clients 1 to 8 only read.
    let (reader, writer) = connect(addr).split().expect("split");
    let mut readers = Vec::new();
    {
        let (ready, done) = (ready_tx.clone(), done_tx.clone());
        let mut reader = reader;
        readers.push(thread::spawn(move || {
            read_all(0, move || reader.read(), start, ready, done)
        }));
    }
    for id in 1..FAST {
        let mut ws = connect(addr);
        let (ready, done) = (ready_tx.clone(), done_tx.clone());
        readers.push(thread::spawn(move || {
            read_all(id, move || ws.read(), start, ready, done)
        }));
    }
    let (stop_slow, stop_rx) = mpsc::channel();
    let slow = {
        let ready = ready_tx.clone();
        thread::spawn(move || slow_tab(addr, ready, stop_rx))
    };
    drop((ready_tx, done_tx));

    // Warm-ups until all ten are in the room (at most 50, 100 ms apart).
    let mut in_room = [false; FAST + 1];
    for turn in 0..50 {
        writer
            .send_text(&format!("warm-up {turn}"))
            .expect("warm-up");
        while let Ok(id) = ready_rx.recv_timeout(Duration::from_millis(100)) {
            in_room[id] = true;
        }
        if in_room.iter().all(|&r| r) {
            break;
        }
    }
    assert!(
        in_room.iter().all(|&r| r),
        "not all in the room: {in_room:?}"
    );

    // The messages, on a schedule: number `seq` is due at `seq * PACE`.
    let pattern = pattern();
    let sending = Instant::now();
    for seq in 0..MESSAGES {
        let due = sending + PACE * seq as u32;
        thread::sleep(due.saturating_duration_since(Instant::now()));
        let sent = start.elapsed().as_micros() as u64;
        writer
            .send_text(&message(&pattern, seq, sent))
            .expect("the sender sends");
    }
    let bytes: usize = (0..MESSAGES)
        .map(|seq| message(&pattern, seq, 0).len())
        .sum();
    println!(
        "measured: sent {MESSAGES} messages, {:.1} MiB, in {:?}",
        bytes as f64 / f64::from(1 << 20),
        sending.elapsed()
    );

    // Every one of the nine got every message in time.
    let mut seen: Vec<Option<Seen>> = (0..FAST).map(|_| None).collect();
    for _ in 0..FAST {
        let (id, report) = done_rx
            .recv_timeout(LONG)
            .unwrap_or_else(|_| panic!("not all nine reported within {LONG:?}: {seen:?}"));
        seen[id] = Some(report);
    }
    let seen: Vec<Seen> = seen.into_iter().map(Option::unwrap).collect();
    for (id, report) in seen.iter().enumerate() {
        println!(
            "measured: client {id}: {} messages, slowest {:?} (message {})",
            report.received, report.worst, report.worst_seq
        );
    }
    let mut worst = Duration::ZERO;
    for (id, report) in seen.iter().enumerate() {
        assert_eq!(report.problem, None, "client {id}");
        assert_eq!(report.received, MESSAGES, "client {id}: messages received");
        assert!(
            report.worst < MAX_LATENCY,
            "client {id}: message {} took {:?} to arrive (bound {MAX_LATENCY:?})",
            report.worst_seq,
            report.worst
        );
        worst = worst.max(report.worst);
    }
    println!("measured: the slowest delivery to any of the nine: {worst:?}");

    // The slow tab was dropped before it had everything.
    let _ = stop_slow.send(());
    let slow = slow.join().expect("the slow tab");
    println!(
        "measured: slow tab: took {} bytes while slow, {} messages in all, then {}",
        slow.slow_bytes, slow.messages, slow.end
    );
    assert!(
        !slow.end.starts_with("not ended") && slow.end != "endless",
        "the slow tab's connection did not end: {slow:?}"
    );
    assert!(
        slow.messages < MESSAGES,
        "the slow tab got every message: it never fell behind ({slow:?})"
    );
    if let Some(code) = slow.close {
        assert!(
            code == CloseCode::POLICY_VIOLATION.0 || code == CloseCode::TRY_AGAIN_LATER.0,
            "the slow tab was closed with {code}"
        );
    }

    // `quit`: the nine get 1001, and the chat exits cleanly.
    let quit_at = Instant::now();
    let (status, printed) = chat.quit();
    println!(
        "measured: the chat exited {:?} after quit",
        quit_at.elapsed()
    );
    for (id, reader) in readers.into_iter().enumerate() {
        let close = reader.join().expect("a reader thread");
        let close = close.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            close.map(|c| c.code),
            Some(CloseCode::GOING_AWAY),
            "client {id}: the close at quit"
        );
    }
    assert!(
        status.success(),
        "the chat exited with {status}:\n{printed}"
    );
    assert!(printed.contains("shutting down"), "{printed}");
    assert!(
        printed.lines().any(|l| l == "0 connection threads left"),
        "{printed}"
    );
    drop(writer);
}

/// The protocol, end to end: names cleaned and unique in a room, the
/// welcome, join and leave notices with the count online, who said what as
/// JSON with every string escaped, rooms kept apart, a query too long
/// refused, and the log's line per join and leave (name, room, address,
/// count).
#[test]
fn names_notices_and_rooms() {
    let chat = Chat::start();
    let addr = chat.addr;
    let join = |path: &str| {
        let config = Config::default()
            .read_timeout(Some(LONG))
            .handshake_timeout(Some(LONG));
        ClientBuilder::new(format!("ws://{addr}{path}"))
            .config(config)
            .connect()
    };
    let join = |path: &str| join(path).expect("a client joins the chat");
    let next = |ws: &mut WebSocket<TcpStream>| match ws.read().expect("a message") {
        Message::Text(json) => untimed(&json).to_owned(),
        other => panic!("not text: {other:?}"),
    };
    let peer = |ws: &WebSocket<TcpStream>| ws.get_ref().local_addr().unwrap().to_string();

    // Two want the name "ann" in "blue sky"; the second is ann-2.
    let mut ann = join("/ws?room=blue%20sky&name=ann");
    assert_eq!(
        next(&mut ann),
        r#"{"type":"welcome","name":"ann","room":"blue sky","online":1"#
    );
    let mut ann_2 = join("/ws?name=ann&room=blue+sky");
    assert_eq!(
        next(&mut ann_2),
        r#"{"type":"welcome","name":"ann-2","room":"blue sky","online":2"#
    );
    assert_eq!(
        next(&mut ann),
        r#"{"type":"join","name":"ann-2","online":2"#
    );
    // In the lobby: a name cleaned of markup and extra spaces, and one
    // with no name, who gets a guest's.
    let mut zoe = join("/ws?name=%20%3Cb%3EZo%C3%AB%3C%2Fb%3E%09%20x%20");
    assert_eq!(
        next(&mut zoe),
        r#"{"type":"welcome","name":"bZoëb x","room":"lobby","online":1"#
    );
    let mut guest = join("/ws?room=");
    let welcome = next(&mut guest);
    let name = welcome
        .strip_prefix(r#"{"type":"welcome","name":""#)
        .and_then(|rest| rest.strip_suffix(r#"","room":"lobby","online":2"#))
        .unwrap_or_else(|| panic!("{welcome}"));
    assert!(
        name.strip_prefix("guest-")
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())),
        "{welcome}"
    );
    assert_eq!(
        next(&mut zoe),
        format!(r#"{{"type":"join","name":"{name}","online":2"#)
    );

    // Who said what, escaped: quotes, backslash, control characters.
    ann.send_text("say \"hi\" \\ tab\there\nnew line 😀 \u{1}")
        .unwrap();
    let said = r#"{"type":"message","from":"ann","text":"say \"hi\" \\ tab\u0009here\u000anew line 😀 \u0001""#;
    assert_eq!(next(&mut ann), said);
    assert_eq!(next(&mut ann_2), said);
    zoe.send_text("hello lobby").unwrap();
    let lobby_said = r#"{"type":"message","from":"bZoëb x","text":"hello lobby""#;
    assert_eq!(next(&mut zoe), lobby_said);
    assert_eq!(next(&mut guest), lobby_said);
    // Had "hello lobby" leaked into the blue room, it would come before
    // this end marker.
    ann_2.send_text("end blue").unwrap();
    let end = r#"{"type":"message","from":"ann-2","text":"end blue""#;
    assert_eq!(next(&mut ann), end);
    assert_eq!(next(&mut ann_2), end);

    // ann-2 leaves: ann hears it, with the count.
    let ann_2_addr = peer(&ann_2);
    ann_2.close(CloseCode::NORMAL, "").unwrap();
    drop(ann_2);
    assert_eq!(
        next(&mut ann),
        r#"{"type":"leave","name":"ann-2","online":1"#
    );

    // A query past the bound is refused before the handshake.
    let long = format!("/ws?room={}", "x".repeat(500));
    let refused = ClientBuilder::new(format!("ws://{addr}{long}"))
        .config(Config::default().handshake_timeout(Some(LONG)))
        .connect();
    assert!(refused.is_err(), "a 500-byte room name was accepted");

    let (ann_addr, zoe_addr) = (peer(&ann), peer(&zoe));
    for mut ws in [ann, zoe, guest] {
        ws.close(CloseCode::NORMAL, "").unwrap();
    }
    let (status, printed) = chat.quit();
    assert!(
        status.success(),
        "the chat exited with {status}:\n{printed}"
    );
    for line in [
        format!("ann joined #blue sky from {ann_addr} (1 online)"),
        format!("ann-2 left #blue sky from {ann_2_addr} (1 online)"),
        format!("bZoëb x joined #lobby from {zoe_addr} (1 online)"),
        format!("{name} joined #lobby from "),
        format!("ann left #blue sky from {ann_addr} (0 online)"),
    ] {
        assert!(
            printed.lines().any(|l| l.starts_with(&line)),
            "no `{line}` in:\n{printed}"
        );
    }
}

/// `--help` prints the usage; a port in use and a wrong command line give
/// `error: …` on stderr and exit status 1.
#[test]
fn command_line_help_and_errors() {
    let run = |args: &[&str]| {
        let output = Command::new(chat_binary())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run the chat");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("usage: chat [ADDR]"), "{out}");
    assert!(out.contains("quit"), "{out}");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = taken.local_addr().unwrap().to_string();
    let (code, _, err) = run(&[&busy]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.starts_with(&format!("error: cannot listen on {busy}: ")),
        "{err}"
    );

    let (code, _, err) = run(&["127.0.0.1:0", "extra"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.starts_with("error: unexpected arguments"), "{err}");
    assert!(err.contains("--help"), "{err}");
}
