//! Messages over real loopback sockets, through the blocking layer: every
//! size class of the frame length (RFC 6455 §5.2), fragmentation and
//! streaming (§5.4), ping and pong (§5.5.2, §5.5.3), every close path (§7),
//! the size limits (§10.4), protocol violations answered with 1002 (§7.1.7),
//! split halves across threads, read timeouts and keepalive.
//!
//! Every test is bounded in time: sockets carry read and write timeouts,
//! loops have counts, and waits on other threads go through `recv_timeout`.
//! Peers are either a [`Server`], a bare `TcpListener` with
//! [`wslite::accept`], or raw TCP that speaks (or breaks) the protocol byte by
//! byte, parsed here independently of the crate.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use wslite::blocking::SocketOps;
use wslite::protocol::{Connection, Event, Limits};
use wslite::{
    accept_with, Accept, CloseCode, CloseFrame, Config, DataKind, Error, Message, RandomSource,
    Role, Server, ServerHandle, State, WebSocket, WsReader, WsWriter,
};

#[path = "common/clients.rs"]
mod clients;
use clients::client_with;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
#[path = "common/wire.rs"]
mod wire;
use wire::{frame_bytes, RawFrame};

// ---------------------------------------------------------------------------
// Memory accounting: a per-thread count of live heap bytes, so a test can show
// that streaming a message does not hold it in memory.
// ---------------------------------------------------------------------------

#[global_allocator]
static ALLOCATOR: counting_alloc::CountingAllocator =
    counting_alloc::CountingAllocator(counting_alloc::thread::track);

/// Runs `f` and returns its result with the most heap bytes this thread held
/// at once during it, above what it held before.
fn peak_heap_growth<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = counting_alloc::thread::live();
    counting_alloc::thread::reset_peak();
    let result = f();
    let peak = counting_alloc::thread::peak();
    (result, (peak - before).max(0) as usize)
}

// ---------------------------------------------------------------------------
// Helpers: configurations, peers, patterns, raw frames.
// ---------------------------------------------------------------------------

/// The longest any single wait in these tests may take.
const LONG: Duration = Duration::from_secs(10);

/// Every size class of the payload length: 7-bit (0, 1, 125), 16-bit (126,
/// 127, 65535), 64-bit (65536 and up), and two bulk sizes.
const SIZES: [usize; 9] = [0, 1, 125, 126, 127, 65535, 65536, 1 << 20, 16 << 20];

/// A configuration whose every wait is bounded. Uncompressed: the sizes
/// here are chosen for the frame header's length encodings (§5.2), which a
/// compressed message would not meet on the wire (`tests/compression.rs`
/// runs every size compressed).
fn config() -> Config {
    Config::default()
        .compression(None)
        .read_timeout(Some(LONG))
        .write_timeout(Some(LONG))
        .close_timeout(Duration::from_secs(5))
}

fn client(addr: SocketAddr) -> WebSocket<TcpStream> {
    client_with(addr, config())
}

/// Reads until the connection ends (at most `limit` messages), handing data
/// messages to `on_data`.
fn serve_messages(
    ws: &mut WebSocket<TcpStream>,
    limit: usize,
    mut on_data: impl FnMut(&mut WebSocket<TcpStream>, Message) -> bool,
) {
    for _ in 0..limit {
        match ws.read() {
            Ok(message) if message.is_data() => {
                if !on_data(ws, message) {
                    return;
                }
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

/// A `Server` that sends every data message back until the connection ends.
fn echo_server(config: Config) -> ServerHandle {
    Server::bind("127.0.0.1:0")
        .expect("bind")
        .config(config)
        .shutdown_timeout(Duration::from_secs(2))
        .spawn(|mut ws| serve_messages(&mut ws, 100_000, |ws, m| ws.send(m).is_ok()))
        .expect("spawn")
}

/// A server whose handler's result, one per connection, comes back to the
/// test through the receiver.
fn reporting_server<T: Send + 'static>(
    config: Config,
    handler: impl Fn(&mut WebSocket<TcpStream>) -> T + Send + Sync + 'static,
) -> (ServerHandle, mpsc::Receiver<T>) {
    let (report_tx, report_rx) = mpsc::channel();
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .config(config)
        .shutdown_timeout(Duration::from_secs(2))
        .spawn(move |mut ws| {
            let _ = report_tx.send(handler(&mut ws));
        })
        .unwrap();
    (server, report_rx)
}

/// Stops a server and checks that every connection thread ended.
fn stop(server: ServerHandle) {
    assert_eq!(server.shutdown(), 0, "connection threads left running");
}

/// A client and a server `WebSocket` over one loopback connection; the
/// server side is made with `accept_with` over the bare `TcpStream`.
fn pair(
    client_config: Config,
    server_config: Config,
) -> (WebSocket<TcpStream>, WebSocket<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    let client = thread::spawn(move || client_with(addr, client_config));
    let (stream, _) = listener.accept().expect("accept");
    // `accept_with` over a generic stream has no timeout of its own.
    stream.set_read_timeout(Some(LONG)).unwrap();
    stream.set_write_timeout(Some(LONG)).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut server = accept_with(stream, server_config, |_| Ok(Accept::new())).expect("accept");
    server.set_socket_ops(SocketOps::tcp()).expect("socket ops");
    (client.join().expect("client thread"), server)
}

fn bound(stream: &TcpStream) {
    wire::bound(stream, LONG);
}

/// A raw TCP client that has done the opening handshake by hand.
fn raw_client(addr: SocketAddr) -> TcpStream {
    wire::raw_upgraded_client(addr, LONG)
}

/// Accepts one connection and answers its opening handshake by hand.
fn raw_server_accept(listener: &TcpListener) -> TcpStream {
    wire::raw_server_accept(listener, LONG)
}

/// Reads one frame, parsed by hand; `None` when the stream ends cleanly
/// before its first byte.
fn read_frame(stream: &mut impl Read) -> io::Result<Option<RawFrame>> {
    wire::read_frame(stream, 1 << 20)
}

const KEY: Option<[u8; 4]> = Some([0x37, 0xfa, 0x21, 0x3d]);

/// Byte `i` of a deterministic, non-periodic pattern (the top byte of a
/// multiplicative hash of the position).
fn byte_at(i: usize, seed: u8) -> u8 {
    ((i as u32).wrapping_mul(2_654_435_761) >> 24) as u8 ^ seed
}

fn binary_of(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| byte_at(i, seed)).collect()
}

/// Exactly `n` bytes of UTF-8 mixing 1-, 2-, 3- and 4-byte characters.
fn text_of(n: usize) -> String {
    const CHARS: [char; 6] = ['a', 'é', '€', '😀', 'Ω', ' '];
    let mut text = String::with_capacity(n);
    let mut i = 0;
    // Each turn adds at least one byte.
    while text.len() < n {
        let c = CHARS[i % CHARS.len()];
        i += 1;
        text.push(if text.len() + c.len_utf8() <= n {
            c
        } else {
            'x'
        });
    }
    text
}

/// Compares payloads without printing megabytes on failure.
fn assert_same(got: &[u8], want: &[u8], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    if got != want {
        let i = got.iter().zip(want).position(|(a, b)| a != b).unwrap();
        panic!(
            "{what}: first difference at byte {i}: got {:#04x}, want {:#04x}",
            got[i], want[i]
        );
    }
}

fn expect_text(message: Message, want: &str, what: &str) {
    match message {
        Message::Text(text) => assert_same(text.as_bytes(), want.as_bytes(), what),
        other => panic!("{what}: expected text, got {}", describe(&other)),
    }
}

fn expect_binary(message: Message, want: &[u8], what: &str) {
    match message {
        Message::Binary(data) => assert_same(&data, want, what),
        other => panic!("{what}: expected binary, got {}", describe(&other)),
    }
}

/// A short description of a message (not megabytes of payload).
fn describe(message: &Message) -> String {
    match message {
        Message::Text(t) => format!("Text({} bytes)", t.len()),
        Message::Binary(b) => format!("Binary({} bytes)", b.len()),
        other => format!("{other:?}"),
    }
}

fn expect_close(message: Message, code: u16, reason: &str) {
    assert_eq!(
        message,
        Message::Close(Some(CloseFrame::new(CloseCode(code), reason))),
        "expected Close {code} {reason:?}"
    );
}

/// FNV-1a, 64 bits: a running checksum.
fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x100_0000_01b3);
    }
    hash
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// Receives what another thread reports, within the bound.
fn recv<T>(rx: &mpsc::Receiver<T>, what: &str) -> T {
    rx.recv_timeout(LONG)
        .unwrap_or_else(|e| panic!("{what}: nothing within {LONG:?} ({e})"))
}

// ---------------------------------------------------------------------------
// 1. Message sizes, both directions, byte for byte.
// ---------------------------------------------------------------------------

#[test]
fn every_size_echoes_from_client_to_server_and_back() {
    let server = echo_server(config());
    let mut ws = client(server.local_addr());
    for (round, &n) in SIZES.iter().enumerate() {
        let text = text_of(n);
        let binary = binary_of(n, round as u8);
        // Borrowed payloads: a client masks them through its write buffer.
        ws.send_text(&text).unwrap();
        expect_text(ws.read().unwrap(), &text, &format!("text {n} (borrowed)"));
        ws.send_binary(&binary).unwrap();
        expect_binary(
            ws.read().unwrap(),
            &binary,
            &format!("binary {n} (borrowed)"),
        );
        // Owned payloads: masked in place. The bulk size once is enough.
        if n <= 1 << 20 {
            ws.send(Message::Text(text.clone())).unwrap();
            expect_text(ws.read().unwrap(), &text, &format!("text {n} (owned)"));
            ws.send(Message::Binary(binary.clone())).unwrap();
            expect_binary(ws.read().unwrap(), &binary, &format!("binary {n} (owned)"));
        }
    }
    ws.close(CloseCode::NORMAL, "").unwrap();
    stop(server);
}

#[test]
fn every_size_arrives_when_the_server_sends_first() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .config(config())
        .shutdown_timeout(Duration::from_secs(2))
        .spawn(|mut ws| {
            for (round, &n) in SIZES.iter().enumerate() {
                if ws.send_text(&text_of(n)).is_err()
                    || ws.send(Message::Binary(binary_of(n, round as u8))).is_err()
                {
                    return;
                }
            }
            serve_messages(&mut ws, 10, |_, _| true);
        })
        .unwrap();
    let mut ws = client(server.local_addr());
    for (round, &n) in SIZES.iter().enumerate() {
        expect_text(ws.read().unwrap(), &text_of(n), &format!("text {n}"));
        expect_binary(
            ws.read().unwrap(),
            &binary_of(n, round as u8),
            &format!("binary {n}"),
        );
    }
    ws.close(CloseCode::NORMAL, "").unwrap();
    stop(server);
}

#[test]
fn sizes_on_the_wire_use_the_shortest_length_encoding_and_a_fresh_mask() {
    // A raw server sees exactly what the client sends (§5.2, §5.3).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sizes = [0usize, 1, 125, 126, 127, 65535, 65536];
    let peer = thread::spawn(move || {
        let mut stream = raw_server_accept(&listener);
        let mut headers = Vec::new();
        for &n in &sizes {
            // Read the header bytes by hand, then the rest with the parser.
            let mut first = [0u8; 2];
            stream.read_exact(&mut first).unwrap();
            let extended = match first[1] & 0x7F {
                126 => 2,
                127 => 8,
                _ => 0,
            };
            let mut rest = vec![0u8; extended + 4 + n];
            stream.read_exact(&mut rest).unwrap();
            let mut frame = first.to_vec();
            frame.extend_from_slice(&rest);
            let parsed = read_frame(&mut &frame[..]).unwrap().unwrap();
            assert_same(&parsed.payload, &binary_of(n, 1), "payload");
            headers.push((first, extended, frame[2 + extended..6 + extended].to_vec()));
        }
        headers
    });
    let mut ws = client(addr);
    for &n in &sizes {
        ws.send_binary(&binary_of(n, 1)).unwrap();
    }
    let headers = peer.join().unwrap();
    for ((first, extended, _), &n) in headers.iter().zip(&sizes) {
        assert_eq!(first[0], 0x82, "FIN + binary for {n}");
        assert!(first[1] & 0x80 != 0, "a client frame is masked ({n})");
        let want = match n {
            0..=125 => 0,
            126..=65535 => 2,
            _ => 8,
        };
        assert_eq!(*extended, want, "extended length bytes for {n}");
    }
    let keys: Vec<_> = headers.iter().map(|(_, _, key)| key.clone()).collect();
    let mut distinct = keys.clone();
    distinct.sort();
    distinct.dedup();
    assert!(
        distinct.len() > 1,
        "every frame had the same masking key: {keys:?}"
    );
}

#[test]
fn plain_accept_over_a_bare_stream_echoes() {
    // `wslite::accept` with the default configuration; the timeouts are set
    // on the stream itself, and a read that runs into one says so.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        bound(&stream);
        let mut ws = wslite::accept(stream).expect("accept");
        serve_messages(&mut ws, 100, |ws, m| ws.send(m).is_ok());
    });
    let mut ws = client(addr);
    for &n in &SIZES[..7] {
        let text = text_of(n);
        ws.send_text(&text).unwrap();
        expect_text(ws.read().unwrap(), &text, &format!("text {n}"));
    }
    ws.close(CloseCode::NORMAL, "").unwrap();
    server.join().unwrap();
}

// ---------------------------------------------------------------------------
// 2. Fragmented sends, streamed reads.
// ---------------------------------------------------------------------------

#[test]
fn send_stream_sends_one_frame_per_write_and_a_final_empty_one() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = thread::spawn(move || {
        let mut stream = raw_server_accept(&listener);
        let mut frames = Vec::new();
        for _ in 0..16 {
            let frame = read_frame(&mut stream).unwrap().expect("a frame");
            let last = frame.fin;
            frames.push(frame);
            if last {
                break;
            }
        }
        frames
    });
    let mut ws = client(addr);
    let text = "héllo, wörld 😀";
    let bytes = text.as_bytes();
    // The emoji is split across two writes: fragments need not end on a
    // character boundary (§5.6, §8.1: the message as a whole is checked).
    let cut = bytes.len() - 2;
    let mut writer = ws.send_stream(DataKind::Text);
    writer.write_all(&bytes[..7]).unwrap();
    writer.write_all(&bytes[7..cut]).unwrap();
    writer.write_all(&bytes[cut..]).unwrap();
    writer.finish().unwrap();
    let frames = peer.join().unwrap();
    let opcodes: Vec<u8> = frames.iter().map(|f| f.opcode).collect();
    let fins: Vec<bool> = frames.iter().map(|f| f.fin).collect();
    assert_eq!(opcodes, [0x1, 0x0, 0x0, 0x0]);
    assert_eq!(fins, [false, false, false, true]);
    assert!(frames.iter().all(|f| f.masked && f.rsv == 0));
    let payloads: Vec<&[u8]> = frames.iter().map(|f| &f.payload[..]).collect();
    assert_eq!(payloads, [&bytes[..7], &bytes[7..cut], &bytes[cut..], b""]);
}

#[test]
fn fragmented_sends_are_read_whole_in_both_directions() {
    let server = echo_server(config());
    let mut ws = client(server.local_addr());

    // Binary, with fragment sizes across every length class.
    let chunks = [1usize, 125, 126, 65535, 65536, 100_000];
    let whole = binary_of(chunks.iter().sum(), 9);
    let mut writer = ws.send_stream(DataKind::Binary);
    let mut at = 0;
    for &len in &chunks {
        writer.write_all(&whole[at..at + len]).unwrap();
        at += len;
    }
    writer.finish().unwrap();
    expect_binary(ws.read().unwrap(), &whole, "fragmented binary echo");

    // Text cut every 7 bytes, so most cuts fall inside a character.
    let text = text_of(10_000);
    let mut writer = ws.send_stream(DataKind::Text);
    for piece in text.as_bytes().chunks(7) {
        writer.write_all(piece).unwrap();
    }
    writer.finish().unwrap();
    expect_text(ws.read().unwrap(), &text, "fragmented text echo");

    // A streamed message with no data at all is one empty message.
    ws.send_stream(DataKind::Binary).finish().unwrap();
    expect_binary(ws.read().unwrap(), b"", "empty streamed message");

    // A writer dropped without `finish` still ends its message.
    {
        let mut writer = ws.send_stream(DataKind::Text);
        writer.write_all(b"dropped ").unwrap();
        writer.write_all(b"unfinished").unwrap();
    }
    expect_text(
        ws.read().unwrap(),
        "dropped unfinished",
        "writer dropped early",
    );
    ws.close(CloseCode::NORMAL, "").unwrap();
    stop(server);

    // And from the server (unmasked fragments) to the client.
    let (mut client, mut server) = pair(config(), config());
    let sender = thread::spawn(move || {
        let mut writer = server.send_stream(DataKind::Text);
        for piece in text_of(70_000).as_bytes().chunks(4099) {
            writer.write_all(piece).unwrap();
        }
        writer.finish().unwrap();
        server
    });
    expect_text(
        client.read().unwrap(),
        &text_of(70_000),
        "server's fragments",
    );
    drop(sender.join().unwrap());
}

#[test]
fn send_stream_refuses_text_that_is_not_utf8() {
    let server = echo_server(config());
    let mut ws = client(server.local_addr());
    // A write with invalid UTF-8 is refused before anything is sent; the
    // message never started, and the connection goes on.
    let mut writer = ws.send_stream(DataKind::Text);
    let err = writer.write(b"ok \xff").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert!(matches!(writer.finish(), Err(Error::InvalidInput(_))));
    ws.send_text("next").unwrap();
    expect_text(ws.read().unwrap(), "next", "after the refused write");
    ws.close(CloseCode::NORMAL, "").unwrap();
    stop(server);
}

#[test]
fn a_refused_finish_does_not_leave_the_message_open_for_the_next_send() {
    let server = echo_server(config());
    let mut ws = client(server.local_addr());
    // The first byte of "é" goes out as a fragment; `finish` then refuses a
    // message that would end inside a character.
    let mut writer = ws.send_stream(DataKind::Text);
    writer.write_all(&"é".as_bytes()[..1]).unwrap();
    assert!(matches!(writer.finish(), Err(Error::InvalidInput(_))));
    // The next message must not silently continue the refused one.
    let sent = ws.send_text("next");
    let outcome = sent.map(|()| ws.read());
    assert!(
        match &outcome {
            Err(_) => true,
            Ok(Ok(message)) => message.as_text() == Some("next"),
            Ok(Err(_)) => false,
        },
        "the next send after a refused finish: {outcome:?}"
    );
    let _ = ws.close(CloseCode::NORMAL, "");
    stop(server);
}

const STREAM_LEN: usize = 8 << 20;

#[test]
fn read_stream_reads_8_mib_in_small_chunks_with_bounded_memory() {
    let (mut client, mut server) = pair(config(), config());
    let sender = thread::spawn(move || {
        // In 64 KiB fragments, made on the fly.
        let mut writer = server.send_stream(DataKind::Binary);
        let mut piece = vec![0u8; 64 << 10];
        for start in (0..STREAM_LEN).step_by(piece.len()) {
            for (i, b) in piece.iter_mut().enumerate() {
                *b = byte_at(start + i, 3);
            }
            writer.write_all(&piece).unwrap();
        }
        writer.finish().unwrap();
        // In one 8 MiB frame.
        server.send_binary(&binary_of(STREAM_LEN, 3)).unwrap();
        // And once more, for `read` as a yardstick.
        server.send_binary(&binary_of(STREAM_LEN, 3)).unwrap();
        server
    });

    let mut want = FNV_START;
    for i in 0..STREAM_LEN {
        want = fnv1a(want, &[byte_at(i, 3)]);
    }
    for shape in ["64 KiB fragments", "one frame"] {
        let ((total, sum), peak) = peak_heap_growth(|| {
            let mut reader = client.read_stream().unwrap();
            assert_eq!(reader.kind(), DataKind::Binary);
            let mut chunk = [0u8; 1000];
            let (mut total, mut sum) = (0usize, FNV_START);
            for _ in 0..=STREAM_LEN {
                let n = reader.read(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                for (i, &b) in chunk[..n].iter().enumerate() {
                    assert_eq!(b, byte_at(total + i, 3), "{shape}: byte {}", total + i);
                }
                sum = fnv1a(sum, &chunk[..n]);
                total += n;
            }
            (total, sum)
        });
        assert_eq!(total, STREAM_LEN, "{shape}: length");
        assert_eq!(sum, want, "{shape}: checksum");
        assert!(
            peak < 512 << 10,
            "{shape}: streaming 8 MiB held {peak} heap bytes at once"
        );
    }
    // The yardstick: `read` holds the message, so the count does see it.
    let (message, peak) = peak_heap_growth(|| client.read().unwrap());
    assert_eq!(message.len(), STREAM_LEN);
    assert!(
        peak >= STREAM_LEN,
        "the allocator count missed a whole read ({peak})"
    );
    drop(sender.join().unwrap());
}

#[test]
fn read_stream_of_text_gives_its_bytes_and_kind() {
    let (mut client, mut server) = pair(config(), config());
    let text = text_of(300_000);
    server.send_text(&text).unwrap();
    let mut reader = client.read_stream().unwrap();
    assert_eq!(reader.kind(), DataKind::Text);
    let mut got = Vec::new();
    reader.read_to_end(&mut got).unwrap();
    assert_same(&got, text.as_bytes(), "streamed text");
}

#[test]
fn read_stream_keeps_the_peers_close() {
    // A Close where a data message was expected ends the stream with
    // ConnectionClosed; the Close itself is not lost.
    let (mut client, mut server) = pair(config(), config());
    let closer = thread::spawn(move || server.close(CloseCode(4005), "streamed enough"));
    assert!(matches!(client.read_stream(), Err(Error::ConnectionClosed)));
    assert_eq!(
        client.peer_close(),
        Some(&CloseFrame::new(CloseCode(4005), "streamed enough"))
    );
    // The answer went out: the server's close got its code back.
    assert_eq!(
        closer.join().unwrap().unwrap(),
        Some(CloseFrame::new(CloseCode(4005), ""))
    );
}

#[test]
fn a_message_reader_dropped_early_makes_the_next_read_skip_the_rest() {
    let (mut client, mut server) = pair(config(), config());
    // A: 1 MiB in one frame. B twice: three fragments. Then C to G.
    let a = binary_of(1 << 20, 5);
    let sender = thread::spawn(move || {
        server.send_binary(&a).unwrap();
        for _ in 0..2 {
            let mut writer = server.send_stream(DataKind::Text);
            for piece in ["first fragment, ", "second, ", "third"] {
                writer.write_all(piece.as_bytes()).unwrap();
            }
            writer.finish().unwrap();
        }
        for text in ["C", "D", "E", "F", "G"] {
            server.send_text(text).unwrap();
        }
        server
    });

    // Part of one frame read, then dropped.
    let mut reader = client.read_stream().unwrap();
    let mut head = [0u8; 10];
    reader.read_exact(&mut head).unwrap();
    assert_eq!(head[..], binary_of(10, 5)[..]);
    drop(reader);
    // The next read skips the rest of A: B arrives whole.
    expect_text(client.read().unwrap(), "first fragment, second, third", "B");

    // B again: exactly its first fragment read, then dropped between
    // fragments; the next read skips the other two.
    let mut reader = client.read_stream().unwrap();
    let mut first = vec![0u8; "first fragment, ".len()];
    reader.read_exact(&mut first).unwrap();
    assert_eq!(first, b"first fragment, ");
    drop(reader);
    expect_text(client.read().unwrap(), "C", "after B was cut short");

    // D: a reader that read nothing at all.
    drop(client.read_stream().unwrap());
    expect_text(client.read().unwrap(), "E", "after D was skipped unread");
    // A reader that read to the end leaves nothing to skip.
    let mut reader = client.read_stream().unwrap();
    let mut all = Vec::new();
    reader.read_to_end(&mut all).unwrap();
    assert_eq!(all, b"F");
    drop(reader);
    expect_text(client.read().unwrap(), "G", "after F was read whole");
    drop(sender.join().unwrap());
}

#[test]
fn a_skipped_message_lets_control_frames_between_its_fragments_through() {
    // A raw server puts a ping between the fragments of the message the
    // client stops reading (§5.4: control frames may be interleaved).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let peer = thread::spawn(move || {
        let mut stream = raw_server_accept(&listener);
        let mut bytes = frame_bytes(false, 0, 0x1, None, b"skip me ");
        bytes.extend(frame_bytes(true, 0, 0x9, None, b"between"));
        bytes.extend(frame_bytes(true, 0, 0x0, None, b"please"));
        bytes.extend(frame_bytes(true, 0, 0x2, None, b"next"));
        stream.write_all(&bytes).unwrap();
        let pong = read_frame(&mut stream).unwrap().expect("the pong");
        let _ = done_rx.recv_timeout(LONG);
        pong
    });
    let mut ws = client(addr);
    let mut reader = ws.read_stream().unwrap();
    let mut two = [0u8; 2];
    reader.read_exact(&mut two).unwrap();
    assert_eq!(&two, b"sk");
    drop(reader);
    assert_eq!(ws.read().unwrap(), Message::Ping(b"between".to_vec()));
    expect_binary(ws.read().unwrap(), b"next", "after the skipped message");
    done_tx.send(()).unwrap();
    let pong = peer.join().unwrap();
    assert_eq!((pong.opcode, pong.payload), (0xA, b"between".to_vec()));
}

// ---------------------------------------------------------------------------
// 3. Ping and pong.
// ---------------------------------------------------------------------------

#[test]
fn a_ping_is_answered_with_a_pong_carrying_its_payload() {
    let server = echo_server(config());
    let mut ws = client(server.local_addr());
    let long = [0x5Au8; 125];
    for payload in [&b"hello"[..], b"", &long[..]] {
        ws.ping(payload).unwrap();
        assert_eq!(ws.read().unwrap(), Message::Pong(payload.to_vec()));
    }
    // A ping through `send(Message::Ping)` is the same.
    ws.send(Message::Ping(b"as a message".to_vec())).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Pong(b"as a message".to_vec()));
    // §5.5: 126 bytes is too long for a control frame; nothing is sent.
    assert!(matches!(ws.ping(&[0u8; 126]), Err(Error::InvalidInput(_))));
    ws.send_text("still open").unwrap();
    expect_text(ws.read().unwrap(), "still open", "after the refused ping");
    ws.close(CloseCode::NORMAL, "").unwrap();
    stop(server);
}

#[test]
fn with_auto_pong_off_no_pong_is_sent_but_the_handler_sees_the_ping() {
    let (seen_tx, seen_rx) = mpsc::channel();
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .config(config().auto_pong(false))
        .shutdown_timeout(Duration::from_secs(2))
        .spawn(move |mut ws| {
            for _ in 0..100 {
                match ws.read() {
                    Ok(Message::Ping(payload)) => {
                        if payload.starts_with(b"answer") && ws.pong(&payload).is_err() {
                            return;
                        }
                        let _ = seen_tx.send(payload);
                    }
                    Ok(message) if message.is_data() => {
                        if ws.send(message).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        })
        .unwrap();
    let mut ws = client_with(
        server.local_addr(),
        config().read_timeout(Some(Duration::from_millis(300))),
    );
    ws.ping(b"quiet").unwrap();
    // Any pong would have been written before the echo (replies go out
    // before `read` returns), so the echo coming first proves there is none.
    ws.send_text("after").unwrap();
    expect_text(ws.read().unwrap(), "after", "the echo, not a pong");
    assert_eq!(recv(&seen_rx, "the server's ping"), b"quiet");
    // Nor does one come later.
    assert!(matches!(ws.read(), Err(Error::Timeout)));
    // The application may answer by hand.
    ws.ping(b"answer me").unwrap();
    assert_eq!(ws.read().unwrap(), Message::Pong(b"answer me".to_vec()));
    assert_eq!(recv(&seen_rx, "the second ping"), b"answer me");
    ws.close(CloseCode::NORMAL, "").unwrap();
    stop(server);
}

#[test]
fn user_pongs_do_not_replace_automatic_ones() {
    // The server's reader answers 50 pings automatically while another
    // thread sends 50 pongs of its own through the writer half at the same
    // time. The client gets every user pong, in order, and automatic pongs
    // in order ending with the answer to the last ping: a user pong never
    // stands in for an automatic one. Not necessarily all 50 automatic
    // ones: a split reader never waits for a busy writer, and while it is
    // kept from the socket a newer ping's pong replaces the one still owed,
    // as §5.5.3 allows ("a Pong frame for only the most recently processed
    // Ping frame").
    const N: usize = 50;
    let (mut client, server) = pair(config(), config());
    let (mut reader, writer) = server.split().unwrap();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let server_reader = thread::spawn(move || {
        for i in 0..N {
            match reader.read() {
                Ok(Message::Ping(p)) => assert_eq!(p, format!("auto-{i}").into_bytes()),
                other => panic!("server reader: {other:?}"),
            }
        }
        let _ = done_rx.recv_timeout(LONG);
        reader
    });
    let server_writer = thread::spawn(move || {
        for i in 0..N {
            writer
                .send(Message::Pong(format!("user-{i}").into_bytes()))
                .unwrap();
        }
        writer
    });
    for i in 0..N {
        client.ping(format!("auto-{i}").as_bytes()).unwrap();
    }
    let (mut last_auto, mut autos, mut user) = (None, 0, 0);
    // Until the last ping's answer and every user pong have come.
    for _ in 0..2 * N {
        if last_auto == Some(N - 1) && user == N {
            break;
        }
        match client.read().unwrap() {
            Message::Pong(p) if p.starts_with(b"auto-") => {
                let text = String::from_utf8(p).unwrap();
                let i: usize = text["auto-".len()..].parse().unwrap();
                assert!(
                    last_auto.map_or(true, |last| i > last),
                    "automatic pong {i} after {last_auto:?}"
                );
                last_auto = Some(i);
                autos += 1;
            }
            Message::Pong(p) => {
                assert_eq!(p, format!("user-{user}").into_bytes());
                user += 1;
            }
            other => panic!("client: {}", describe(&other)),
        }
    }
    assert_eq!(user, N, "user pongs");
    assert_eq!(last_auto, Some(N - 1), "the last ping's automatic pong");
    println!("measured: {autos} automatic pongs for {N} pings, {user} user pongs");
    done_tx.send(()).unwrap();
    drop(server_reader.join().unwrap());
    drop(server_writer.join().unwrap());
}

/// Randomness for the core; a server never masks, so it is never used.
struct NoRandom;

impl RandomSource for NoRandom {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(0x42);
    }
}

#[test]
fn core_a_user_pong_while_the_automatic_one_is_pending_leaves_it_pending() {
    let mut conn = Connection::new(Role::Server, Limits::default());
    let mut ping = frame_bytes(true, 0, 0x9, KEY, b"auto");
    let received = conn.receive(&mut ping).unwrap();
    assert_eq!(received.event, Some(Event::Ping(b"auto")));
    assert!(conn.has_pending());
    let user = conn.encode_pong(b"user", &mut NoRandom).unwrap();
    assert_eq!(user.as_bytes(), frame_bytes(true, 0, 0xA, None, b"user"));
    let pending = conn
        .take_pending(&mut NoRandom)
        .expect("the automatic pong");
    assert_eq!(pending.as_bytes(), frame_bytes(true, 0, 0xA, None, b"auto"));
    assert!(conn.take_pending(&mut NoRandom).is_none());
}

// ---------------------------------------------------------------------------
// 4. Every close path.
// ---------------------------------------------------------------------------

#[test]
fn client_closes_first() {
    let (server, report_rx) = reporting_server(config(), |ws| {
        let first = ws.read().map_err(|e| format!("{e:?}"));
        let state = ws.state();
        let second = ws.read().map_err(|e| format!("{e:?}"));
        let third = ws.read().map_err(|e| format!("{e:?}"));
        (first, state, second, third)
    });
    let mut ws = client(server.local_addr());
    assert_eq!(ws.state(), State::Open);
    ws.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(ws.state(), State::Closed);
    assert!(matches!(ws.read(), Err(Error::ConnectionClosed)));
    assert!(matches!(ws.read(), Err(Error::ConnectionClosed)));
    // Nothing can be sent after Close (§5.5.1).
    assert!(matches!(ws.send_text("late"), Err(Error::SendAfterClose)));
    // A second close is harmless.
    ws.close(CloseCode::NORMAL, "again").unwrap();

    let (first, state, second, third) = recv(&report_rx, "the server's reads");
    expect_close(first.unwrap(), 1000, "bye");
    assert_eq!(state, State::Closed, "the server answered the Close");
    assert_eq!(second, Err("ConnectionClosed".to_string()));
    assert_eq!(third, Err("ConnectionClosed".to_string()));
    stop(server);
}

#[test]
fn server_closes_first() {
    let (server, report_rx) = reporting_server(config(), |ws| {
        let closed = ws
            .close(CloseCode(4000), "server bye")
            .map_err(|e| format!("{e:?}"));
        let state = ws.state();
        let after = ws.read().map_err(|e| format!("{e:?}"));
        (closed, state, after)
    });
    let mut ws = client(server.local_addr());
    expect_close(ws.read().unwrap(), 4000, "server bye");
    // The client echoed the code (§5.5.1) before `read` returned.
    assert_eq!(ws.state(), State::Closed);
    let (closed, state, after) = recv(&report_rx, "the server's close");
    // `close` gives back the peer's answer: the echo of 4000 (§5.5.1).
    assert_eq!(closed, Ok(Some(CloseFrame::new(CloseCode(4000), ""))));
    assert_eq!(state, State::Closed);
    assert_eq!(after.unwrap_err(), "ConnectionClosed");
    assert!(matches!(ws.read(), Err(Error::ConnectionClosed)));
    // Closing after the peer's Close was answered is harmless.
    ws.close(CloseCode::NORMAL, "").unwrap();
    assert!(matches!(ws.read(), Err(Error::ConnectionClosed)));
    stop(server);
}

#[test]
fn the_echoed_close_carries_the_code_without_the_reason() {
    // Seen on the wire by a raw client: the server answers 4000 "why" with
    // a Close carrying 4000 (§5.5.1), then ends TCP (§7.1.1).
    let server = echo_server(config());
    let mut raw = raw_client(server.local_addr());
    let mut payload = 4000u16.to_be_bytes().to_vec();
    payload.extend_from_slice(b"why");
    raw.write_all(&frame_bytes(true, 0, 0x8, KEY, &payload))
        .unwrap();
    let answer = read_frame(&mut raw).unwrap().expect("the answer");
    assert!(!answer.masked);
    assert_eq!(answer.close_code(), Some(4000));
    assert_eq!(&answer.payload[2..], b"");
    assert!(
        read_frame(&mut raw).unwrap().is_none(),
        "the server ends TCP"
    );
    drop(raw);
    stop(server);
}

#[test]
fn simultaneous_close_finishes_on_both_sides() {
    let (mut client, mut server) = pair(config(), config());
    let barrier = Arc::new(Barrier::new(2));
    let b = Arc::clone(&barrier);
    let server_side = thread::spawn(move || {
        b.wait();
        let result = server.close(CloseCode(4001), "server");
        (
            result.map_err(|e| format!("{e:?}")),
            server.state(),
            server.read().map_err(|e| format!("{e:?}")),
        )
    });
    barrier.wait();
    let started = Instant::now();
    client.close(CloseCode::NORMAL, "client").unwrap();
    // Both Close frames crossed: neither side needed the close timeout.
    assert!(started.elapsed() < config().close_timeout);
    assert_eq!(client.state(), State::Closed);
    assert!(matches!(client.read(), Err(Error::ConnectionClosed)));
    let (result, state, after) = server_side.join().unwrap();
    // Each side's `close` gives back the other's Close.
    assert_eq!(
        result,
        Ok(Some(CloseFrame::new(CloseCode::NORMAL, "client")))
    );
    assert_eq!(state, State::Closed);
    assert_eq!(after.unwrap_err(), "ConnectionClosed");
}

/// Reads until an error (at most `limit` messages), reporting everything.
fn read_all(reader: &mut WsReader<TcpStream>, limit: usize) -> (Vec<Message>, String) {
    let mut messages = Vec::new();
    for _ in 0..limit {
        match reader.read() {
            Ok(message) => messages.push(message),
            Err(e) => return (messages, format!("{e:?}")),
        }
    }
    (messages, "limit reached".into())
}

#[test]
fn simultaneous_close_through_split_writers() {
    let (client, server) = pair(config(), config());
    let (mut client_reader, client_writer) = client.split().unwrap();
    let (mut server_reader, server_writer) = server.split().unwrap();
    let client_reads = thread::spawn(move || read_all(&mut client_reader, 10));
    let server_reads = thread::spawn(move || read_all(&mut server_reader, 10));
    let barrier = Arc::new(Barrier::new(2));
    let b = Arc::clone(&barrier);
    let server_close = thread::spawn(move || {
        b.wait();
        server_writer.close(CloseCode(4001), "server")
    });
    barrier.wait();
    client_writer.close(CloseCode::NORMAL, "client").unwrap();
    server_close.join().unwrap().unwrap();
    assert_eq!(client_writer.state(), State::Closed);

    // Each reader saw one Close, then the end. If one side's reader answered
    // the peer's Close before its own writer sent one, the answer echoes the
    // peer's code instead.
    let (messages, end) = client_reads.join().unwrap();
    assert_eq!(end, "ConnectionClosed");
    assert!(
        messages
            == [Message::Close(Some(CloseFrame::new(
                CloseCode(4001),
                "server"
            )))]
            || messages == [Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, "")))],
        "client reader: {messages:?}"
    );
    let (messages, end) = server_reads.join().unwrap();
    assert_eq!(end, "ConnectionClosed");
    assert!(
        messages
            == [Message::Close(Some(CloseFrame::new(
                CloseCode::NORMAL,
                "client"
            )))]
            || messages == [Message::Close(Some(CloseFrame::new(CloseCode(4001), "")))],
        "server reader: {messages:?}"
    );
}

#[test]
fn a_client_that_drops_mid_frame_is_an_abnormal_closure() {
    let (server, report_rx) = reporting_server(config(), |ws| {
        let first = ws.read().map_err(|e| format!("{e:?}"));
        let second = ws.read().map_err(|e| format!("{e:?}"));
        (first, second)
    });
    for cut in [1usize, 2, 6, 56] {
        // A masked 100-byte binary frame: header 2 + key 4 + payload 100.
        let frame = frame_bytes(true, 0, 0x2, KEY, &[7u8; 100]);
        let mut raw = raw_client(server.local_addr());
        raw.write_all(&frame[..cut]).unwrap();
        drop(raw);
        let (first, second) = recv(&report_rx, "the server's read");
        assert_eq!(
            first.unwrap_err(),
            "AbnormalClosure",
            "cut after {cut} bytes"
        );
        // Reading again does not hang either; the connection stays failed.
        assert_eq!(
            second.unwrap_err(),
            "AbnormalClosure",
            "read again after {cut}"
        );
    }
    stop(server);
}

#[test]
fn a_server_that_drops_mid_frame_is_an_abnormal_closure_for_the_client() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = thread::spawn(move || {
        let mut stream = raw_server_accept(&listener);
        let frame = frame_bytes(true, 0, 0x1, None, &[b'x'; 300]);
        stream.write_all(&frame[..150]).unwrap();
    });
    let mut ws = client(addr);
    peer.join().unwrap();
    assert!(matches!(ws.read(), Err(Error::AbnormalClosure)));
    assert!(matches!(ws.read(), Err(Error::AbnormalClosure)));
}

#[test]
fn read_after_the_server_answered_a_close_does_not_wait_for_the_peer() {
    // The closing handshake is complete once the server has answered; its
    // next read must say so at once, even if the peer keeps TCP open.
    let (server, report_rx) =
        reporting_server(config().read_timeout(Some(Duration::from_secs(2))), |ws| {
            let first = ws.read().map_err(|e| format!("{e:?}"));
            let second = ws.read().map_err(|e| format!("{e:?}"));
            (first, second)
        });
    let mut raw = raw_client(server.local_addr());
    raw.write_all(&frame_bytes(true, 0, 0x8, KEY, &1000u16.to_be_bytes()))
        .unwrap();
    let answer = read_frame(&mut raw).unwrap().expect("the answer");
    assert_eq!(answer.close_code(), Some(1000));
    // The raw client keeps its end open while the server reads again.
    let (first, second) = recv(&report_rx, "the server's reads");
    expect_close(first.unwrap(), 1000, "");
    assert_eq!(second.unwrap_err(), "ConnectionClosed");
    drop(raw);
    stop(server);
}

#[test]
fn a_client_lets_the_server_end_tcp_first() {
    // §7.1.1: after the closing handshake the server closes TCP first; the
    // client waits for that (a bounded time) instead of sending its own FIN
    // right after its answer. A raw server checks the order on the wire.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = thread::spawn(move || {
        let mut stream = raw_server_accept(&listener);
        stream
            .write_all(&frame_bytes(true, 0, 0x8, None, &4000u16.to_be_bytes()))
            .unwrap();
        let answer = read_frame(&mut stream).unwrap();
        // The client has answered; it must not end TCP before we do.
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut byte = [0u8; 1];
        let early = match stream.read(&mut byte) {
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
            other => Some(format!("{other:?}")),
        };
        // Now the server's FIN; then the client's comes.
        stream.shutdown(Shutdown::Write).unwrap();
        stream.set_read_timeout(Some(LONG)).unwrap();
        let after = stream.read(&mut byte).map_err(|e| e.kind());
        (answer, early, after)
    });
    let mut ws = client_with(addr, config().read_timeout(Some(Duration::from_secs(2))));
    expect_close(ws.read().unwrap(), 4000, "");
    // The next read waits for the server's FIN, then says the connection is
    // over.
    let second = ws.read();
    let (answer, early, after) = peer.join().unwrap();
    let answer = answer.expect("the client's answer");
    assert_eq!(answer.close_code(), Some(4000));
    assert!(answer.masked);
    assert_eq!(early, None, "the client ended TCP before the server");
    assert_eq!(after, Ok(0), "the client ends TCP after the server's FIN");
    assert!(
        matches!(second, Err(Error::ConnectionClosed)),
        "read after the closing handshake: {second:?}"
    );
}

#[test]
fn bytes_after_the_closing_handshake_are_dropped_not_treated_as_a_failure() {
    // The peer's Close comes with more bytes after it (a broken or hostile
    // peer). Once the server has answered, the handshake is complete: what
    // followed is dropped at once, not lingered over as if the connection
    // had failed, even while the peer keeps TCP open.
    let (server, report_rx) = reporting_server(config(), |ws| {
        let first = ws.read().map_err(|e| format!("{e:?}"));
        let started = Instant::now();
        let after = ws.read().map_err(|e| format!("{e:?}"));
        (first, after, started.elapsed())
    });
    let mut raw = raw_client(server.local_addr());
    let mut close = frame_bytes(true, 0, 0x8, KEY, &4000u16.to_be_bytes());
    close.extend_from_slice(&frame_bytes(true, 0, 0x1, KEY, b"after the close"));
    raw.write_all(&close).unwrap();
    let answer = read_frame(&mut raw).unwrap().expect("the answer");
    assert_eq!(answer.close_code(), Some(4000));
    let (first, after, took) = recv(&report_rx, "the server's reads");
    expect_close(first.unwrap(), 4000, "");
    assert_eq!(after.unwrap_err(), "ConnectionClosed");
    println!("measured: the read after the handshake took {took:?}");
    assert!(took < config().close_timeout / 2, "the read took {took:?}");
    drop(raw);
    stop(server);
}

#[test]
fn a_server_ends_tcp_first_after_a_close_it_started() {
    // Seen by a raw client: the server's Close, our answer, then the
    // server's FIN while our side is still open.
    let (server, report_rx) = reporting_server(config(), |ws| {
        let started = Instant::now();
        let closed = ws.close(CloseCode(4000), "server bye");
        (closed.map_err(|e| format!("{e:?}")), started.elapsed())
    });
    let mut raw = raw_client(server.local_addr());
    let close = read_frame(&mut raw).unwrap().expect("the server's Close");
    assert_eq!(close.close_code(), Some(4000));
    raw.write_all(&frame_bytes(true, 0, 0x8, KEY, &4000u16.to_be_bytes()))
        .unwrap();
    // The server's end of TCP comes while ours is open.
    assert_eq!(read_frame(&mut raw).unwrap(), None, "the server ends TCP");
    let (closed, took) = recv(&report_rx, "the server's close");
    assert_eq!(closed, Ok(Some(CloseFrame::new(CloseCode(4000), ""))));
    assert!(took < config().close_timeout, "close waited {took:?}");
    drop(raw);
    stop(server);
}

// ---------------------------------------------------------------------------
// 5. Limits.
// ---------------------------------------------------------------------------

/// A server with `max_message_size(1000)` that reports the outcome of each
/// connection's first reads, then holds the connection open until told to
/// finish (so the client reads the Close before TCP ends).
fn limited_server() -> (ServerHandle, mpsc::Receiver<Vec<String>>, mpsc::Sender<()>) {
    let (report_tx, report_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let done_rx = Mutex::new(done_rx);
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        // Compression on: used when the client offers it.
        .config(
            config()
                .max_message_size(1000)
                .compression(Some(wslite::Compression::default())),
        )
        .shutdown_timeout(Duration::from_secs(2))
        .spawn(move |mut ws| {
            let mut outcomes = Vec::new();
            for _ in 0..3 {
                match ws.read() {
                    Ok(message) => {
                        outcomes.push(describe(&message));
                        if message.is_data() && ws.send(message).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        outcomes.push(format!("{e:?}"));
                        break;
                    }
                }
            }
            let _ = report_tx.send(outcomes);
            let _ = done_rx.lock().unwrap().recv_timeout(LONG);
        })
        .unwrap();
    (server, report_rx, done_tx)
}

#[test]
fn a_message_over_the_limit_is_refused_with_1009() {
    let (server, reports, done) = limited_server();
    let mut ws = client(server.local_addr());
    ws.send_binary(&[1u8; 1000]).unwrap();
    expect_binary(ws.read().unwrap(), &[1u8; 1000], "exactly at the limit");
    ws.send_binary(&[2u8; 1001]).unwrap();
    let close = ws.read().unwrap();
    assert!(
        matches!(&close, Message::Close(Some(f)) if f.code == CloseCode::MESSAGE_TOO_BIG),
        "{close:?}"
    );
    assert!(matches!(ws.read(), Err(Error::ConnectionClosed)));
    assert_eq!(
        recv(&reports, "the server's reads"),
        [
            "Binary(1000 bytes)",
            "MessageTooLarge { length: 1001, limit: 1000 }"
        ]
    );
    done.send(()).unwrap();
    stop(server);
}

#[test]
fn fragments_that_add_up_over_the_limit_are_refused_with_1009() {
    // Uncompressed, the third frame's header says the message is too long
    // (1,200 bytes); compressed, the inflater stops at the first byte past
    // the limit (1,001), whatever the headers say.
    for (compression, refused_at) in [(None, 1200), (Some(wslite::Compression::default()), 1001)] {
        fragments_over_the_limit(compression, refused_at);
    }
}

fn fragments_over_the_limit(compression: Option<wslite::Compression>, refused_at: u64) {
    let (server, reports, done) = limited_server();
    let mut ws = client_with(server.local_addr(), config().compression(compression));
    // 400 + 400 + 200 is exactly the limit.
    let mut writer = ws.send_stream(DataKind::Binary);
    for len in [400, 400, 200] {
        writer.write_all(&vec![3u8; len]).unwrap();
    }
    writer.finish().unwrap();
    expect_binary(ws.read().unwrap(), &[3u8; 1000], "fragments at the limit");
    // 400 + 400 + 400 is not: the third header already says so.
    let mut writer = ws.send_stream(DataKind::Binary);
    for len in [400, 400, 400] {
        writer.write_all(&vec![4u8; len]).unwrap();
    }
    // The server may have failed the connection by now; the final frame
    // either goes out or finds the connection ended. Both are fine.
    let _ = writer.finish();
    let close = ws.read().unwrap();
    assert!(
        matches!(&close, Message::Close(Some(f)) if f.code == CloseCode::MESSAGE_TOO_BIG),
        "{close:?}"
    );
    // The server ended TCP after its Close; the client follows.
    assert!(matches!(ws.read(), Err(Error::ConnectionClosed)));
    assert_eq!(
        recv(&reports, "the server's reads"),
        [
            "Binary(1000 bytes)".to_string(),
            format!("MessageTooLarge {{ length: {refused_at}, limit: 1000 }}")
        ]
    );
    done.send(()).unwrap();
    stop(server);
}

// ---------------------------------------------------------------------------
// 6. Protocol violations from a raw client.
// ---------------------------------------------------------------------------

#[test]
fn protocol_violations_are_answered_with_a_close_before_tcp_ends() {
    let (server, report_rx) = reporting_server(config(), |ws| {
        format!("{:?}", ws.read().map(|m| describe(&m)))
    });
    let cases: [(&str, Vec<u8>, u16, &str); 6] = [
        (
            "unmasked frame",
            frame_bytes(true, 0, 0x1, None, b"hi"),
            1002,
            "Err(UnmaskedFrame)",
        ),
        (
            "RSV1 set",
            frame_bytes(true, 0b100, 0x1, KEY, b"hi"),
            1002,
            "Err(ReservedBitsSet { rsv: 4 })",
        ),
        (
            "RSV3 set on a ping",
            frame_bytes(true, 0b001, 0x9, KEY, b""),
            1002,
            "Err(ReservedBitsSet { rsv: 1 })",
        ),
        (
            "reserved opcode",
            frame_bytes(true, 0, 0x3, KEY, b""),
            1002,
            "Err(ReservedOpcode { opcode: 3 })",
        ),
        (
            "continuation with nothing to continue",
            frame_bytes(true, 0, 0x0, KEY, b"x"),
            1002,
            "Err(UnexpectedContinuation)",
        ),
        (
            "invalid UTF-8",
            frame_bytes(true, 0, 0x1, KEY, b"\xc3\x28"),
            1007,
            "Err(InvalidUtf8)",
        ),
    ];
    for (what, bytes, code, error) in cases {
        let mut raw = raw_client(server.local_addr());
        raw.write_all(&bytes).unwrap();
        let close = read_frame(&mut raw)
            .unwrap_or_else(|e| panic!("{what}: {e}"))
            .unwrap_or_else(|| panic!("{what}: TCP ended without a Close"));
        assert!(
            !close.masked && close.fin && close.rsv == 0,
            "{what}: {close:?}"
        );
        assert_eq!(close.close_code(), Some(code), "{what}");
        // Then the TCP connection ends, with nothing more...
        assert_eq!(read_frame(&mut raw).unwrap(), None, "{what}");
        // ...and we end ours (the server drops what we send until then).
        drop(raw);
        assert_eq!(recv(&report_rx, what), error, "{what}");
    }
    stop(server);
}

#[test]
fn a_masked_frame_from_the_server_is_answered_with_1002_by_the_client() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = thread::spawn(move || {
        let mut stream = raw_server_accept(&listener);
        stream
            .write_all(&frame_bytes(true, 0, 0x1, KEY, b"masked"))
            .unwrap();
        read_frame(&mut stream).unwrap()
    });
    let mut ws = client(addr);
    assert!(matches!(ws.read(), Err(Error::MaskedFrame)));
    let close = peer.join().unwrap().expect("the client's Close");
    assert!(close.masked);
    assert_eq!(close.close_code(), Some(1002));
    assert!(matches!(ws.read(), Err(Error::ConnectionClosed)));
}

// ---------------------------------------------------------------------------
// 7. Split halves across threads.
// ---------------------------------------------------------------------------

#[test]
fn split_halves_are_send_sync_and_the_writer_clones() {
    fn shareable<T: Clone + Send + Sync>() {}
    fn sendable<T: Send>() {}
    shareable::<WsWriter<TcpStream>>();
    sendable::<WsReader<TcpStream>>();
}

/// The message thread `tid` sends as number `seq`: its id and number first,
/// then a pattern whose length varies across the length classes.
fn split_message(tid: usize, seq: usize) -> Message {
    let mut bytes = format!("{tid}:{seq}:").into_bytes();
    let len = (seq * 37) % 300;
    bytes.extend((0..len).map(|i| b'a' + ((i + seq + tid) % 26) as u8));
    if tid % 2 == 0 {
        Message::Text(String::from_utf8(bytes).unwrap())
    } else {
        Message::Binary(bytes)
    }
}

#[test]
fn four_writer_threads_and_one_reader_share_a_connection() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 2_500;
    let server = echo_server(config());
    let ws = client(server.local_addr());
    let (mut reader, writer) = ws.split().unwrap();

    let reading = thread::spawn(move || {
        let mut next = [0usize; THREADS];
        for _ in 0..THREADS * PER_THREAD {
            let message = reader.read().expect("an echo");
            let bytes = message.as_bytes();
            let text = std::str::from_utf8(bytes).expect("ASCII");
            let mut parts = text.splitn(3, ':');
            let tid: usize = parts.next().unwrap().parse().unwrap();
            let seq: usize = parts.next().unwrap().parse().unwrap();
            assert_eq!(seq, next[tid], "thread {tid}'s messages out of order");
            assert_eq!(message, split_message(tid, seq), "message {tid}:{seq}");
            next[tid] += 1;
        }
        (reader, next)
    });
    let senders: Vec<_> = (0..THREADS)
        .map(|tid| {
            let writer = writer.clone();
            thread::spawn(move || {
                for seq in 0..PER_THREAD {
                    writer.send(split_message(tid, seq)).unwrap();
                }
            })
        })
        .collect();
    for sender in senders {
        sender.join().unwrap();
    }
    let (mut reader, next) = reading.join().unwrap();
    assert_eq!(next, [PER_THREAD; THREADS]);

    // The writer's close ends the reader's read with the peer's answer.
    let closing = thread::spawn(move || reader.read().map_err(|e| format!("{e:?}")));
    writer.close(CloseCode::NORMAL, "done").unwrap();
    // The echo server's answer repeats the code (§5.5.1), not the reason.
    expect_close(closing.join().unwrap().unwrap(), 1000, "");
    stop(server);
}

#[test]
fn a_writer_close_from_another_thread_ends_a_blocked_read() {
    let server = echo_server(config());
    let ws = client(server.local_addr());
    let (mut reader, writer) = ws.split().unwrap();
    let (tx, rx) = mpsc::channel();
    let reading = thread::spawn(move || {
        let first = reader.read().map_err(|e| format!("{e:?}"));
        let second = reader.read().map_err(|e| format!("{e:?}"));
        let _ = tx.send((first, second));
    });
    // Give the reader time to block (the outcome does not depend on it).
    thread::sleep(Duration::from_millis(100));
    let closer = writer.clone();
    thread::spawn(move || closer.close(CloseCode(4002), "from elsewhere"))
        .join()
        .unwrap()
        .unwrap();
    let (first, second) = recv(&rx, "the blocked reader");
    expect_close(first.unwrap(), 4002, "");
    assert_eq!(second.unwrap_err(), "ConnectionClosed");
    reading.join().unwrap();
    assert!(matches!(
        writer.send_text("late"),
        Err(Error::SendAfterClose)
    ));
    stop(server);
}

#[test]
fn a_writer_close_ends_a_blocked_read_even_if_the_peer_never_answers() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let peer = thread::spawn(move || {
        let mut stream = raw_server_accept(&listener);
        let close = read_frame(&mut stream).unwrap();
        // Never answers; holds TCP open.
        let _ = done_rx.recv_timeout(LONG);
        close
    });
    let ws = client_with(addr, config().close_timeout(Duration::from_millis(500)));
    let (mut reader, writer) = ws.split().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(reader.read().map_err(|e| format!("{e:?}")));
    });
    thread::sleep(Duration::from_millis(100));
    writer.close(CloseCode::NORMAL, "").unwrap();
    let ended = recv(&rx, "the reader after the close timeout");
    assert_eq!(ended.unwrap_err(), "ConnectionClosed");
    done_tx.send(()).unwrap();
    let close = peer.join().unwrap().expect("the client's Close");
    assert_eq!(close.close_code(), Some(1000));
}

// ---------------------------------------------------------------------------
// 8. Timeouts and keepalive.
// ---------------------------------------------------------------------------

#[test]
fn a_read_timeout_leaves_the_connection_usable() {
    let server = echo_server(config());
    let mut ws = client_with(
        server.local_addr(),
        config().read_timeout(Some(Duration::from_millis(200))),
    );
    for round in 0..3 {
        assert!(matches!(ws.read(), Err(Error::Timeout)), "round {round}");
        assert_eq!(ws.state(), State::Open);
        ws.send_text("still here").unwrap();
        expect_text(ws.read().unwrap(), "still here", "echo after a timeout");
    }
    ws.close(CloseCode::NORMAL, "").unwrap();
    stop(server);
}

/// A raw server that sends `first`, waits for the go-ahead, sends `second`,
/// then holds TCP open until told to stop.
fn stalling_server(
    first: Vec<u8>,
    second: Vec<u8>,
) -> (SocketAddr, mpsc::Sender<()>, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let peer = thread::spawn(move || {
        let mut stream = raw_server_accept(&listener);
        stream.write_all(&first).unwrap();
        let _ = go_rx.recv_timeout(LONG);
        stream.write_all(&second).unwrap();
        let _ = go_rx.recv_timeout(LONG);
    });
    (addr, go_tx, peer)
}

#[test]
fn a_read_timeout_in_the_middle_of_a_frame_loses_nothing() {
    let frame = frame_bytes(true, 0, 0x1, None, "half and half: ñ".as_bytes());
    let (first, second) = frame.split_at(10);
    let (addr, go, peer) = stalling_server(first.to_vec(), second.to_vec());
    let mut ws = client_with(
        addr,
        config().read_timeout(Some(Duration::from_millis(200))),
    );
    assert!(matches!(ws.read(), Err(Error::Timeout)));
    go.send(()).unwrap();
    expect_text(ws.read().unwrap(), "half and half: ñ", "after the timeout");
    go.send(()).unwrap();
    peer.join().unwrap();
}

#[test]
fn a_read_timeout_between_fragments_loses_nothing() {
    let mut first = frame_bytes(false, 0, 0x1, None, b"hello ");
    first.extend(frame_bytes(true, 0, 0x9, None, b"mid"));
    let second = frame_bytes(true, 0, 0x0, None, b"world");
    let (addr, go, peer) = stalling_server(first, second);
    let mut ws = client_with(
        addr,
        config().read_timeout(Some(Duration::from_millis(200))),
    );
    assert_eq!(ws.read().unwrap(), Message::Ping(b"mid".to_vec()));
    assert!(matches!(ws.read(), Err(Error::Timeout)));
    go.send(()).unwrap();
    expect_text(ws.read().unwrap(), "hello world", "after the timeout");
    go.send(()).unwrap();
    peer.join().unwrap();
}

#[test]
fn a_split_reader_timeout_between_fragments_loses_nothing() {
    let first = frame_bytes(false, 0, 0x1, None, b"hello ");
    let second = frame_bytes(true, 0, 0x0, None, b"world");
    let (addr, go, peer) = stalling_server(first, second);
    let ws = client_with(
        addr,
        config().read_timeout(Some(Duration::from_millis(200))),
    );
    let (mut reader, _writer) = ws.split().unwrap();
    assert!(matches!(reader.read(), Err(Error::Timeout)));
    go.send(()).unwrap();
    let message = reader.read();
    go.send(()).unwrap();
    peer.join().unwrap();
    match message {
        Ok(Message::Text(text)) => assert_eq!(text, "hello world"),
        other => panic!("after the timeout: {other:?}"),
    }
}

/// Reads through a silence of `silence`, in which only the pongs that
/// answer keepalive pings may arrive; returns how many did.
fn keepalive_pongs_during(
    silence: Duration,
    mut read: impl FnMut() -> wslite::Result<Message>,
) -> usize {
    let started = Instant::now();
    let mut pongs = 0;
    for _ in 0..20 {
        if started.elapsed() >= silence {
            break;
        }
        match read() {
            Ok(Message::Pong(p)) => {
                assert_eq!(p, b"wslite keepalive");
                pongs += 1;
            }
            other => panic!("during the silence: {other:?}"),
        }
    }
    pongs
}

/// The first message that is not a keepalive pong (at most 10 reads).
fn first_past_pongs(mut read: impl FnMut() -> wslite::Result<Message>) -> Message {
    for _ in 0..10 {
        match read().unwrap() {
            Message::Pong(_) => continue,
            other => return other,
        }
    }
    panic!("only pongs")
}

#[test]
fn keepalive_keeps_a_silent_connection_open_against_a_peer_that_answers() {
    let (pings_tx, pings_rx) = mpsc::channel();
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .config(config())
        .shutdown_timeout(Duration::from_secs(2))
        .spawn(move |mut ws| {
            for _ in 0..1000 {
                match ws.read() {
                    Ok(Message::Ping(p)) => {
                        let _ = pings_tx.send(p);
                    }
                    Ok(m) if m.is_data() => {
                        if ws.send(m).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        })
        .unwrap();
    let mut ws = client_with(
        server.local_addr(),
        Config::default()
            .keepalive(Some(Duration::from_millis(300)))
            .write_timeout(Some(LONG)),
    );
    // About a second of application silence: `read` returns only the pongs
    // that answer the keepalive pings.
    let pongs = keepalive_pongs_during(Duration::from_secs(1), || ws.read());
    assert!(pongs >= 1, "no keepalive ping was answered");
    assert_eq!(recv(&pings_rx, "a keepalive ping"), b"wslite keepalive");
    ws.send_text("alive").unwrap();
    let echo = first_past_pongs(|| ws.read());
    expect_text(echo, "alive", "after the silence");
    ws.close(CloseCode::NORMAL, "").unwrap();
    stop(server);
}

#[test]
fn keepalive_works_on_a_split_reader_while_a_writer_sends() {
    // The split reader sends its keepalive pings without waiting for the
    // writers; the pongs come back to it, and a writer thread's messages
    // still arrive.
    let server = echo_server(config());
    let ws = client_with(
        server.local_addr(),
        Config::default()
            .keepalive(Some(Duration::from_millis(200)))
            .write_timeout(Some(LONG)),
    );
    let (mut reader, writer) = ws.split().unwrap();
    let pongs = keepalive_pongs_during(Duration::from_millis(800), || reader.read());
    assert!(pongs >= 1, "no keepalive ping was answered");
    let sender = thread::spawn(move || writer.send_text("alive").map(|()| writer));
    let writer = sender.join().unwrap().unwrap();
    let echo = first_past_pongs(|| reader.read());
    expect_text(echo, "alive", "after the silence");
    let closer = thread::spawn(move || writer.close(CloseCode::NORMAL, ""));
    let mut last = reader.read();
    while let Ok(Message::Pong(_)) = last {
        last = reader.read();
    }
    assert!(matches!(last, Ok(Message::Close(_))), "{last:?}");
    assert_eq!(
        closer.join().unwrap().unwrap(),
        Some(CloseFrame::new(CloseCode::NORMAL, ""))
    );
    stop(server);
}

#[test]
fn keepalive_fails_the_connection_when_pings_go_unanswered() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let peer = thread::spawn(move || {
        let mut stream = raw_server_accept(&listener);
        let ping = read_frame(&mut stream).unwrap();
        // Never answers; holds TCP open.
        let _ = done_rx.recv_timeout(LONG);
        ping
    });
    let mut ws = client_with(
        addr,
        Config::default()
            .keepalive(Some(Duration::from_millis(300)))
            .write_timeout(Some(LONG)),
    );
    let (tx, rx) = mpsc::channel();
    let reading = thread::spawn(move || {
        let _ = tx.send(format!("{:?}", ws.read()));
    });
    assert_eq!(recv(&rx, "the keepalive verdict"), "Err(KeepaliveTimeout)");
    reading.join().unwrap();
    done_tx.send(()).unwrap();
    let ping = peer.join().unwrap().expect("a keepalive ping");
    assert_eq!((ping.opcode, ping.masked), (0x9, true));
    assert_eq!(ping.payload, b"wslite keepalive");
}

/// A split client closes against a raw server that answers after a pause;
/// returns what the reader thread saw.
fn split_close_against_a_slow_answer(time_out_first: bool) -> Result<Message, String> {
    // A raw server that answers Close after a pause.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = thread::spawn(move || {
        let mut stream = raw_server_accept(&listener);
        let close = read_frame(&mut stream)
            .unwrap()
            .expect("the client's Close");
        thread::sleep(Duration::from_millis(300));
        let _ = stream.write_all(&frame_bytes(true, 0, 0x8, None, &close.payload[..2]));
        // As a server does (§7.1.1), it ends TCP first; the client follows.
        let _ = stream.shutdown(Shutdown::Write);
        let _ = read_frame(&mut stream);
    });
    // With timeouts, the reader's waits are cut into 100 ms pieces.
    let read_timeout = if time_out_first {
        Duration::from_millis(100)
    } else {
        LONG
    };
    let ws = client_with(addr, config().read_timeout(Some(read_timeout)));
    let (mut reader, writer) = ws.split().unwrap();
    // Perhaps one timeout; then the reader goes on reading while the writer
    // closes.
    if time_out_first {
        assert!(matches!(reader.read(), Err(Error::Timeout)));
    }
    let (tx, rx) = mpsc::channel();
    let reading = thread::spawn(move || {
        let mut outcome = Err(String::from("only timeouts"));
        for _ in 0..50 {
            match reader.read() {
                Err(Error::Timeout) => continue,
                other => {
                    outcome = other.map_err(|e| format!("{e:?}"));
                    break;
                }
            }
        }
        let _ = tx.send(outcome);
    });
    writer.close(CloseCode::NORMAL, "").unwrap();
    let outcome = recv(&rx, "the reader");
    reading.join().unwrap();
    peer.join().unwrap();
    outcome
}

#[test]
fn a_split_writer_close_waits_for_a_slow_answer() {
    // The writer waited for the answer, and the reader saw it.
    let outcome = split_close_against_a_slow_answer(false);
    expect_close(outcome.expect("the peer's answer"), 1000, "");
}

#[test]
fn a_split_reader_that_timed_out_still_sees_the_answer_to_close() {
    let outcome = split_close_against_a_slow_answer(true);
    expect_close(outcome.expect("the peer's answer"), 1000, "");
}

// ---------------------------------------------------------------------------
// Large payloads read straight into the message (no copy through the read
// buffer): the core still unmasks and checks them where they lie.
// ---------------------------------------------------------------------------

/// A raw client (masking by hand) and the server `WebSocket` it reached.
fn raw_client_and_server() -> (TcpStream, WebSocket<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    let client = thread::spawn(move || raw_client(addr));
    let (stream, _) = listener.accept().expect("accept");
    stream.set_read_timeout(Some(LONG)).unwrap();
    stream.set_write_timeout(Some(LONG)).unwrap();
    let mut server = accept_with(stream, Config::default(), |_| Ok(Accept::new())).expect("accept");
    server.set_socket_ops(SocketOps::tcp()).expect("socket ops");
    (client.join().expect("client thread"), server)
}

/// Writes `bytes` in pieces of the given sizes (the rest in one), each
/// after a pause, so that the reader meets them one read at a time.
fn trickle(stream: &mut TcpStream, bytes: &[u8], pieces: &[usize]) {
    let mut at = 0;
    for &size in pieces {
        let end = (at + size).min(bytes.len());
        stream.write_all(&bytes[at..end]).unwrap();
        at = end;
        thread::sleep(Duration::from_millis(20));
    }
    stream.write_all(&bytes[at..]).unwrap();
}

/// A text of 300,003 bytes, with a 3-byte character every 1,000 bytes,
/// arrives in pieces whose edges fall inside the masking key's cycle and
/// inside characters: the first piece ends inside the header's key, the
/// next leaves 3 bytes of payload in the read buffer, then the rest is
/// read straight into the message from odd offsets. The message is whole
/// and unmasked, and a binary message after it (over the 16 KiB of the
/// direct path, then a small one) is intact too.
#[test]
fn a_large_masked_payload_trickled_at_odd_offsets_is_read_whole() {
    let (mut raw, mut server) = raw_client_and_server();
    let mut text = String::new();
    while text.len() < 300_000 {
        text.push_str(&"a".repeat(997));
        text.push('€');
    }
    text.push_str("end");
    let frame = frame_bytes(true, 0, 0x1, KEY, text.as_bytes());
    let binary: Vec<u8> = (0..70_001u32).map(|i| (i * 31 % 251) as u8).collect();
    let mut wire = frame.clone();
    wire.extend(frame_bytes(true, 0, 0x2, KEY, &binary));
    wire.extend(frame_bytes(true, 0, 0x2, KEY, b"small"));
    let writer = thread::spawn(move || {
        // 12 bytes: the 10-byte header and half the key; then 3 bytes of
        // payload; then 40,001 (an odd offset for what follows).
        trickle(&mut raw, &wire, &[12, 5, 40_001, 65_537, 7]);
        raw
    });
    assert_eq!(server.read().unwrap(), Message::Text(text));
    assert_eq!(server.read().unwrap(), Message::Binary(binary));
    assert_eq!(server.read().unwrap(), Message::binary(b"small".to_vec()));
    drop(writer.join().unwrap());
}

/// A large message in two fragments with a ping between them: both halves
/// are read straight into the message, the ping is answered at once, and
/// the message is read whole.
#[test]
fn a_ping_between_two_large_fragments_is_answered_and_the_message_is_whole() {
    let (mut raw, mut server) = raw_client_and_server();
    let first: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    let second: Vec<u8> = (0..50_000u32).map(|i| (i % 241) as u8).collect();
    let mut wire = frame_bytes(false, 0, 0x2, KEY, &first);
    wire.extend(frame_bytes(true, 0, 0x9, KEY, b"between"));
    wire.extend(frame_bytes(true, 0, 0x0, KEY, &second));
    let writer = thread::spawn(move || {
        trickle(&mut raw, &wire, &[20, 30_000, 70_000]);
        raw
    });
    let mut whole = first.clone();
    whole.extend_from_slice(&second);
    // The ping comes first (read returns control frames as they are).
    assert_eq!(server.read().unwrap(), Message::Ping(b"between".to_vec()));
    assert_eq!(server.read().unwrap(), Message::Binary(whole));
    let mut raw = writer.join().unwrap();
    let pong = read_frame(&mut raw).unwrap().expect("the pong");
    assert_eq!(
        (pong.opcode, pong.payload.as_slice()),
        (0xA, &b"between"[..])
    );
}

/// A byte that is not UTF-8, 70,000 bytes into a large text frame (in the
/// part read straight into the message), fails the connection with 1007,
/// as it does anywhere else, and the Close naming it reaches the peer.
#[test]
fn bad_utf8_deep_inside_a_large_text_is_refused_with_1007() {
    let (mut raw, mut server) = raw_client_and_server();
    let mut text = vec![b'x'; 200_000];
    text[70_000] = 0xFF;
    let wire = frame_bytes(true, 0, 0x1, KEY, &text);
    let writer = thread::spawn(move || {
        // The header and 1,000 bytes, then the rest: the bad byte is read
        // into the message directly.
        let _ = raw.write_all(&wire[..1_014]);
        thread::sleep(Duration::from_millis(20));
        let _ = raw.write_all(&wire[1_014..]);
        // Ended, so the failed server's drain of what follows ends too.
        let _ = raw.shutdown(Shutdown::Write);
        raw
    });
    let error = server.read().unwrap_err();
    assert!(matches!(error, Error::InvalidUtf8), "{error:?}");
    let mut raw = writer.join().unwrap();
    let close = read_frame(&mut raw).unwrap().expect("the Close");
    assert_eq!(close.close_code(), Some(1007));
}

/// A peer that announces a large frame and then trickles its payload a
/// byte at a time (after a first burst, and before the rest in one write)
/// still has its message read whole: the room read into shrinks back to
/// its start after each short read and grows again as the rest pours in.
#[test]
fn a_large_payload_that_trickles_a_byte_at_a_time_is_read_whole() {
    let (mut raw, mut server) = raw_client_and_server();
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let wire = frame_bytes(true, 0, 0x2, KEY, &payload);
    let writer = thread::spawn(move || {
        // The header and 20,000 bytes; 60 single bytes; then the rest.
        trickle(&mut raw, &wire, &[20_014]);
        for at in 20_014..20_074 {
            raw.write_all(&wire[at..at + 1]).unwrap();
            thread::sleep(Duration::from_millis(2));
        }
        raw.write_all(&wire[20_074..]).unwrap();
        raw
    });
    assert_eq!(server.read().unwrap(), Message::Binary(payload));
    drop(writer.join().unwrap());
}
