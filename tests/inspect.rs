//! The frame inspector (`examples/inspect.rs`) between a real client and a
//! real server on loopback: everything passes through unchanged, and its
//! output shows the handshake, the accept computation and every frame.
//!
//! `cargo test` builds the examples before it runs integration tests, so the
//! inspector binary sits next to this test's own binary.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use wslite::{CloseCode, Config, Message, Server, ServerHandle};

#[path = "common/clients.rs"]
mod clients;
#[path = "common/example.rs"]
mod example;

/// The example program, built if need be.
fn inspector_binary() -> PathBuf {
    example::example_binary("inspect")
}

/// Kills the child when dropped, so a failing test leaves nothing running.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The inspector, started on a port the system picks, and the lines it
/// prints. Asking for port 0 and reading the address back from its first line
/// leaves no gap in which another process could take the port (a port found
/// free beforehand can be taken before the inspector binds it).
struct Inspector {
    _child: Running,
    lines: mpsc::Receiver<String>,
    /// Where clients connect, as the inspector reports it.
    listen: String,
}

impl Inspector {
    fn start(upstream: &str, extra_args: &[&str]) -> Inspector {
        let binary = inspector_binary();
        assert!(binary.exists(), "{} is missing", binary.display());
        let mut child = Running(
            Command::new(&binary)
                .arg("127.0.0.1:0")
                .arg(upstream)
                .args(extra_args)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start the inspector"),
        );
        let stdout = child.0.stdout.take().unwrap();
        let (lines_tx, lines) = mpsc::channel::<String>();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        // It prints one line once it listens:
        // "inspecting: clients connect to ADDR, frames go to UPSTREAM".
        let first = lines
            .recv_timeout(Duration::from_secs(10))
            .expect("inspector started");
        let listen = first
            .strip_prefix("inspecting: clients connect to ")
            .and_then(|rest| rest.split(',').next())
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .to_string();
        assert!(
            listen.starts_with("127.0.0.1:") && !listen.ends_with(":0"),
            "{first}"
        );
        Inspector {
            _child: child,
            lines,
            listen,
        }
    }
}

/// A real wslite echo server upstream, and its `ws://` URL.
fn echo_upstream() -> (ServerHandle, String) {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .spawn(clients::echo)
        .unwrap();
    let upstream = format!("ws://{}", server.local_addr());
    (server, upstream)
}

#[test]
fn inspector_shows_handshake_and_every_frame_between_client_and_server() {
    let (server, upstream) = echo_upstream();

    // The inspector in between, with --hex.
    // Keep the whole value: dropping it stops the inspector.
    let inspector = Inspector::start(&upstream, &["--hex"]);
    let (lines, listen) = (&inspector.lines, &inspector.listen);

    // A real wslite client through it.
    let config = Config::default().read_timeout(Some(Duration::from_secs(10)));
    let mut ws = wslite::ClientBuilder::new(format!("ws://{listen}/chat"))
        .config(config)
        .connect()
        .expect("connect through the inspector");
    ws.send_text("Hello").unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("Hello"));
    ws.send_binary(&[7u8; 300]).unwrap();
    assert_eq!(ws.read().unwrap(), Message::binary(vec![7u8; 300]));
    ws.ping(b"are you there").unwrap();
    assert_eq!(ws.read().unwrap(), Message::Pong(b"are you there".to_vec()));
    ws.close(CloseCode::NORMAL, "done").unwrap();

    // Collect what it printed, until both directions ended (bounded).
    let text = collect_until_both_ends(lines);
    let has = |needle: &str| {
        assert!(
            text.contains(needle),
            "inspector output lacks {needle:?}:\n{text}"
        )
    };
    has("→ GET /chat HTTP/1.1  (WebSocket upgrade)");
    has("accept = base64(SHA-1(key + \"258EAFA5-E914-47DA-95CA-C5AB0DC85B11\"))");
    has("← HTTP/1.1 101 Switching Protocols");
    has("(Sec-WebSocket-Accept matches the key ✓)");
    // The text frame both ways: masked from the client, not from the server.
    has("→ text         FIN=1 RSV=000 MASK key=");
    has("← text         FIN=1 RSV=000 no mask len=5 (7-bit length)");
    has("\"Hello\"");
    // 300 bytes need the 16-bit length; --hex marks each field.
    has("len=300 (16-bit length)");
    has("payload len=126 → a 16-bit length follows");
    has("extended payload length = 300");
    has("masking key");
    has("→ ping ");
    has("← pong ");
    has("\"are you there\"");
    // The closing handshake with the code by name.
    has("code 1000 (normal closure), reason \"done\"");
    has("← close ");
    assert!(!text.contains("!!"), "no violation expected:\n{text}");
    server.shutdown();
}

#[test]
fn inspector_reports_a_protocol_violation_and_still_forwards() {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .spawn(|mut ws| while ws.read().is_ok() {})
        .unwrap();
    let upstream = format!("ws://{}", server.local_addr());
    let inspector = Inspector::start(&upstream, &[]);
    let (lines, listen) = (&inspector.lines, &inspector.listen);

    // A raw client that sends an unmasked frame, which servers must refuse.
    let mut raw = TcpStream::connect(listen).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    raw.write_all(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        raw.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    raw.write_all(&[0x81, 0x02, b'h', b'i']).unwrap();
    // The server's Close 1002 comes back through the inspector.
    let mut close = [0u8; 4];
    raw.read_exact(&mut close).unwrap();
    assert_eq!(close, [0x88, 0x02, 0x03, 0xEA]);

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut output = Vec::new();
    while Instant::now() < deadline {
        match lines.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => output.push(line),
            Err(_) if output.iter().any(|l| l.contains("code 1002")) => break,
            Err(_) => {}
        }
    }
    let text = output.join("\n");
    assert!(
        text.contains("!! protocol violation: received an unmasked frame from a client"),
        "{text}"
    );
    assert!(
        text.contains("[the receiver should close with 1002 (protocol error)]"),
        "{text}"
    );
    assert!(text.contains("code 1002 (protocol error)"), "{text}");
    server.shutdown();
}

/// Collects the inspector's lines until both directions ended (bounded).
fn collect_until_both_ends(lines: &mpsc::Receiver<String>) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut output = Vec::new();
    let mut ends = 0;
    while ends < 2 && Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
            if line.ends_with("end of stream") {
                ends += 1;
            }
            output.push(line);
        }
    }
    assert_eq!(ends, 2, "both directions ended:\n{}", output.join("\n"));
    output.join("\n")
}

/// permessage-deflate (RFC 7692) through the inspector: it reads the
/// agreement from the server's answer and inflates both directions with
/// one inflater each, keeping the window from message to message (context
/// takeover), so a repeated message, a few bytes on the wire, still shows
/// its text; a message too large for one frame shows frame by frame.
#[test]
fn inspector_inflates_compressed_frames_both_ways() {
    let (server, upstream) = echo_upstream();
    let inspector = Inspector::start(&upstream, &[]);
    let (lines, listen) = (&inspector.lines, &inspector.listen);

    // Both sides with their defaults: compression on, 12-bit windows, a
    // 1 KiB threshold.
    let config = Config::default().read_timeout(Some(Duration::from_secs(10)));
    let mut ws = wslite::ClientBuilder::new(format!("ws://{listen}/"))
        .config(config)
        .connect()
        .expect("connect through the inspector");
    assert!(ws.compression().is_some(), "permessage-deflate agreed");
    let text = "inflate me, inspector! ".repeat(445); // 10,235 bytes
                                                      // 100 KiB of noise: it does not compress, so it takes several frames of
                                                      // at most 16 KiB of DEFLATE data each.
    let mut x = 2463534242u32;
    let noise: Vec<u8> = (0..100 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    for message in [
        Message::text("short, so not compressed"),
        Message::text(text.clone()),
        Message::text(text.clone()),
        Message::binary(noise.clone()),
    ] {
        ws.send(message.clone()).unwrap();
        assert_eq!(ws.read().unwrap(), message);
    }
    ws.close(CloseCode::NORMAL, "done").unwrap();

    let out = collect_until_both_ends(lines);
    let has = |needle: &str| {
        assert!(
            out.contains(needle),
            "inspector output lacks {needle:?}:\n{out}"
        )
    };
    let count = |needle: &str| out.matches(needle).count();
    has("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; client_max_window_bits=12");
    has("permessage-deflate agreed (RFC 7692)");
    has("→ the client compresses with a window of 2^12 bytes and keeps its window between messages (context takeover)");
    has("← the server compresses with a window of 2^12 bytes and keeps its window between messages (context takeover)");
    // Below the threshold: plain frames, shown as before.
    has("→ text         FIN=1 RSV=000 MASK key=");
    has("\"short, so not compressed\"");
    // Compressed, RSV1 set, both ways.
    has("→ text         FIN=1 RSV=100 MASK key=");
    has("← text         FIN=1 RSV=100 no mask len=");
    // The 10 KiB text twice each way, inflated to its text (the second one
    // through the window kept from the first).
    assert_eq!(
        count("inflated to 10235 bytes"),
        4,
        "the 10 KiB text, twice each way:\n{out}"
    );
    assert_eq!(
        count("inflated: \"inflate me, inspector! inflate me, inspector! inflate me, in\" … (10235 bytes)"),
        4,
        "{out}"
    );
    // With context takeover the repeat costs a few bytes: the smallest
    // compressed size shown is far below the first.
    // The two directions' lines may interleave either way, so each
    // direction is read on its own.
    let sizes = |arrow: &str| -> Vec<u64> {
        out.lines()
            .filter(|l| l.contains("inflated to 10235 bytes") && l.contains(arrow))
            .filter_map(|l| {
                l.split("compressed (permessage-deflate): ")
                    .nth(1)?
                    .split(' ')
                    .next()?
                    .parse()
                    .ok()
            })
            .collect()
    };
    for arrow in ["→", "←"] {
        let sizes = sizes(arrow);
        assert_eq!(sizes.len(), 2, "{arrow}: {out}");
        assert!(
            sizes[1] < sizes[0],
            "the repeat is smaller on the wire, {arrow}: {sizes:?}\n{out}"
        );
    }
    // The noise: several frames, continuations without RSV1, then its
    // inflated size, both ways.
    has("→ binary       FIN=0 RSV=100 MASK key=");
    has("→ continuation FIN=0 RSV=000 MASK key=");
    has("bytes of DEFLATE data in this frame, ");
    assert_eq!(
        count("inflated to 102400 bytes"),
        2,
        "the noise, each way:\n{out}"
    );
    has("inflated: hex 63 7a a0 7e e1 ea f2 3d ");
    has("code 1000 (normal closure), reason \"done\"");
    assert!(!out.contains("!!"), "no violation expected:\n{out}");
    server.shutdown();
}

/// Large frames both ways at once: the inspector's two directions run on
/// two threads, and each frame's lines (its header, the `--hex` fields under
/// it, its payload) must come out as one block, never with the other
/// direction's lines among them. A frame of 100 KiB or more arrives in
/// several reads, so a header printed at once and a payload printed later
/// would leave room for the other direction in between.
#[test]
fn inspector_prints_each_frame_as_one_block_with_traffic_both_ways() {
    const MESSAGES: usize = 24;
    let (server, upstream) = echo_upstream();
    let inspector = Inspector::start(&upstream, &["--hex"]);
    let (lines, listen) = (&inspector.lines, &inspector.listen);

    // Uncompressed, so every message is one plain frame each way.
    let config = Config::default()
        .compression(None)
        .read_timeout(Some(Duration::from_secs(10)))
        .write_timeout(Some(Duration::from_secs(10)));
    let ws = wslite::ClientBuilder::new(format!("ws://{listen}/"))
        .config(config)
        .connect()
        .expect("connect through the inspector");
    let (mut reader, writer) = ws.split().expect("split");
    let size = |i: usize| (100 << 10) + i * 4099;
    // The client sends all of them without waiting, while the echoes come
    // back: frames are in flight both ways at once.
    let sending = thread::spawn(move || {
        for i in 0..MESSAGES {
            let text = format!("{i:04} ").repeat(size(i) / 5);
            writer.send_text(&text).expect("send");
        }
        writer
    });
    for i in 0..MESSAGES {
        match reader.read().expect("an echo") {
            Message::Text(text) => assert_eq!(text.len(), size(i) / 5 * 5, "echo {i}"),
            other => panic!("echo {i}: {other:?}"),
        }
    }
    // The closing handshake with the reader reading the answer, as
    // `WsWriter::close` expects of a split connection.
    let writer = sending.join().expect("the sending thread");
    let closing = thread::spawn(move || writer.close(CloseCode::NORMAL, "done"));
    assert!(
        matches!(reader.read(), Ok(Message::Close(_))),
        "the answer to close"
    );
    closing.join().expect("the closing thread").expect("close");
    drop(reader);

    let out = collect_until_both_ends(lines);
    let out: Vec<&str> = out.lines().collect();
    // Each header line: the hex lines under it (5 for a masked frame with a
    // 64-bit length, 4 unmasked), then its own payload line, with nothing
    // else in between.
    let mut frames = [0usize; 2];
    for (at, line) in out.iter().enumerate() {
        let Some(rest) = line.strip_prefix("[1] ") else {
            continue;
        };
        let (arrow, way) = if rest.starts_with("→ text ") {
            ("→", 0)
        } else if rest.starts_with("← text ") {
            ("←", 1)
        } else {
            continue;
        };
        let hex = if way == 0 { 5 } else { 4 };
        let block = out.get(at..=at + hex + 1).unwrap_or_default();
        let context = out.get(at.saturating_sub(3)..(at + hex + 5).min(out.len()));
        assert_eq!(block.len(), hex + 2, "a frame cut short: {context:?}");
        for (i, hex_line) in block.iter().enumerate().skip(1).take(hex) {
            assert!(
                hex_line.starts_with("[1]       "),
                "line {i} of the frame at line {at} is not its hex field: {context:?}"
            );
        }
        let payload = block.get(hex + 1).copied().unwrap_or_default();
        assert!(
            payload.starts_with(&format!("[1] {arrow}      \"")),
            "the frame at line {at} does not end with its own payload: {context:?}"
        );
        frames[way] += 1;
    }
    assert_eq!(frames, [MESSAGES, MESSAGES], "frames seen each way");
    server.shutdown();
}
