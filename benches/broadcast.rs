//! One 1 KiB message to 1,000 connections: `send_prepared` (framed, and
//! compressed, once) against `send_text` to each connection (framed, and
//! compressed, once per connection). A plain `main` that prints a table:
//! criterion's sampling does not fit an operation that needs 2,000 sockets
//! set up around it.
//!
//! ```sh
//! cargo bench --manifest-path benches/Cargo.toml --bench broadcast
//! ```
//!
//! **Setup.** 1,000 connections over loopback, in this process: the server
//! sides made by `accept_with` and split, their writers driven by one
//! sending thread (this program's main thread); the clients are raw sockets
//! (the handshake done by hand) read by one reading thread, with blocking
//! reads in the order the sender sends, so that it sleeps instead of
//! spinning while it waits. That is 2,001 descriptors; the limit here is
//! `ulimit -n` (this program checks nothing and raises nothing: a limit
//! below ~2,100 makes the setup fail).
//!
//! **What is measured, per broadcast.**
//! * *wall*: from just before the message is made (a `PreparedMessage`, or
//!   nothing for `send_text`) until the reading thread has read the whole
//!   frame on the last connection;
//! * *CPU*: the sending thread's own CPU time (user + system) over the
//!   sends, from `/proc/thread-self/schedstat` (nanoseconds; the kernel's
//!   accounting of the thread, so the reading thread's work is not in it),
//!   or from `/proc/thread-self/stat` (clock ticks) where schedstat is
//!   missing.
//!
//! The reading thread's work is the same for both ways and is part of
//! *wall*, so the wall ratio understates what the sender saves; the CPU
//! ratio is the sender's alone.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use wslite::blocking::SocketOps;
use wslite::{accept_with, Accept, Compression, Config, PreparedMessage, WsReader, WsWriter};

const CONNECTIONS: usize = 1000;
const SIZE: usize = 1024;
const WARMUP: usize = 2;
/// Measured rounds per block; the two ways alternate in blocks, so that
/// whatever else the machine does falls on both alike.
const ROUNDS: usize = 10;
const BLOCKS: usize = 4;
const STALL: Duration = Duration::from_secs(20);

/// The sending thread's CPU time so far, in nanoseconds.
///
/// The kernel adds a running thread's time to its account when it is
/// switched out or at a timer tick, so a thread that made no blocking call
/// for a while reads an account up to a tick (1 to 10 ms) old. Yielding
/// first brings it up to date (`sched_yield` settles the account).
fn thread_cpu() -> u64 {
    thread::yield_now();
    if let Ok(text) = fs::read_to_string("/proc/thread-self/schedstat") {
        if let Some(ns) = text.split_whitespace().next().and_then(|f| f.parse().ok()) {
            return ns;
        }
    }
    // utime and stime, fields 14 and 15, in ticks of (nearly always) 10 ms;
    // the name in field 2 has no spaces for this program.
    let stat = fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(13) + ticks(14)) * 10_000_000
}

/// The server halves of the connections, and the clients' raw sockets.
struct Fleet {
    writers: Vec<WsWriter<TcpStream>>,
    _readers: Vec<WsReader<TcpStream>>,
    clients: Vec<TcpStream>,
}

fn fleet(compression: Option<Compression>) -> Fleet {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    let offer = compression.map_or("", |_| {
        "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
    });
    let clients = thread::spawn(move || {
        (0..CONNECTIONS)
            .map(|_| raw_client(addr, offer))
            .collect::<Vec<_>>()
    });
    let config = Config::default()
        .write_timeout(Some(STALL))
        .read_timeout(None)
        .compression(compression);
    let mut writers = Vec::new();
    let mut readers = Vec::new();
    for _ in 0..CONNECTIONS {
        let (stream, _) = listener.accept().expect("accept");
        stream.set_nodelay(true).unwrap();
        stream.set_read_timeout(Some(STALL)).unwrap();
        let mut ws = accept_with(stream, config, |_| Ok(Accept::new())).expect("handshake");
        ws.set_socket_ops(SocketOps::tcp()).unwrap();
        assert_eq!(ws.compression().is_some(), compression.is_some());
        let (reader, writer) = ws.split().unwrap();
        readers.push(reader);
        writers.push(writer);
    }
    Fleet {
        writers,
        _readers: readers,
        clients: clients.join().expect("the clients"),
    }
}

/// A client socket after a handshake done by hand.
fn raw_client(addr: SocketAddr, extensions: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(STALL)).unwrap();
    stream.set_write_timeout(Some(STALL)).unwrap();
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         {extensions}\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("the answer");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "not upgraded");
    stream
}

/// Reads one whole server frame (unmasked) and returns it.
fn read_frame(stream: &mut TcpStream, buf: &mut Vec<u8>) {
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(total) = frame_len(buf) {
            if buf.len() >= total {
                assert_eq!(buf.len(), total, "more than one frame");
                return;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) => panic!("the connection ended"),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!("a client's read failed: {e}"),
        }
    }
}

/// The length of the frame at the start of `buf`, once its header is in.
fn frame_len(buf: &[u8]) -> Option<usize> {
    let short = usize::from(*buf.get(1)? & 0x7F);
    match short {
        126 => Some(4 + usize::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?]))),
        127 => None, // not in this bench
        n => Some(2 + n),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Way {
    Prepared,
    EachConnection,
}

struct Figures {
    wall: Vec<Duration>,
    cpu: Vec<u64>,
    frame_len: usize,
}

/// Broadcasts `text` `WARMUP + ROUNDS` times the chosen way.
fn run(fleet: &mut Fleet, text: &str, way: Way) -> Figures {
    let start = Arc::new(Barrier::new(2));
    let (done_tx, done_rx) = mpsc::channel();
    let mut clients = std::mem::take(&mut fleet.clients);
    let reading = {
        let start = Arc::clone(&start);
        thread::spawn(move || {
            let mut buf = Vec::with_capacity(2 * SIZE);
            let mut first = Vec::new();
            for _ in 0..WARMUP + ROUNDS {
                start.wait();
                for (i, client) in clients.iter_mut().enumerate() {
                    read_frame(client, &mut buf);
                    // Every connection gets the same bytes, whichever way
                    // (compressed without context takeover, too).
                    if i == 0 {
                        first.clone_from(&buf);
                    } else {
                        assert!(buf == first, "connection {i} read other bytes");
                    }
                }
                done_tx.send((Instant::now(), first.len())).unwrap();
            }
            clients
        })
    };
    let mut figures = Figures {
        wall: Vec::new(),
        cpu: Vec::new(),
        frame_len: 0,
    };
    for round in 0..WARMUP + ROUNDS {
        start.wait();
        let began = Instant::now();
        let cpu_before = thread_cpu();
        match way {
            Way::Prepared => {
                let message = PreparedMessage::text(text);
                for writer in &fleet.writers {
                    writer.send_prepared(&message).expect("send_prepared");
                }
            }
            Way::EachConnection => {
                for writer in &fleet.writers {
                    writer.send_text(text).expect("send_text");
                }
            }
        }
        let cpu = thread_cpu().saturating_sub(cpu_before);
        let (last_read, frame_len) = done_rx.recv_timeout(STALL).expect("the reader");
        if round >= WARMUP {
            figures.wall.push(last_read.duration_since(began));
            figures.cpu.push(cpu);
            figures.frame_len = frame_len;
        }
    }
    fleet.clients = reading.join().expect("the reading thread");
    figures
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn main() {
    // A JSON-like text, as a chat or dashboard sends: compressible.
    let mut text = String::new();
    let mut n = 0u32;
    while text.len() < SIZE {
        text.push_str(&format!(
            "{{\"id\":{n},\"user\":\"user-{}\",\"price\":{}.{:02},\"ok\":true}},",
            n % 17,
            1000 + n * 37 % 900,
            n * 13 % 100
        ));
        n += 1;
    }
    text.truncate(SIZE);

    println!(
        "broadcast: one {SIZE}-byte text message to {CONNECTIONS} loopback connections, \
         {} rounds each way ({BLOCKS} alternating blocks of {ROUNDS}, each after {WARMUP} \
         warm-up), one sending thread, one reading thread",
        BLOCKS * ROUNDS
    );
    println!(
        "{:<44} {:>8} {:>12} {:>14} {:>14}",
        "variant", "frame B", "wall median", "send CPU mean", "CPU/conn"
    );
    let cases: [(&str, Option<Compression>); 2] = [
        ("uncompressed", None),
        (
            "permessage-deflate, no context takeover",
            Some(Compression::default().server_no_context_takeover(true)),
        ),
    ];
    for (name, compression) in cases {
        let mut fleet = fleet(compression);
        let ways = [
            (Way::Prepared, "(a) send_prepared"),
            (Way::EachConnection, "(b) send_text to each"),
        ];
        let mut all: Vec<Figures> = ways
            .iter()
            .map(|_| Figures {
                wall: Vec::new(),
                cpu: Vec::new(),
                frame_len: 0,
            })
            .collect();
        for _ in 0..BLOCKS {
            for (figures, &(way, _)) in all.iter_mut().zip(&ways) {
                let block = run(&mut fleet, &text, way);
                figures.wall.extend(block.wall);
                figures.cpu.extend(block.cpu);
                figures.frame_len = block.frame_len;
            }
        }
        let mut rows = Vec::new();
        for (figures, &(_, label)) in all.into_iter().zip(&ways) {
            let rounds = figures.cpu.len() as u64;
            let cpu = figures.cpu.iter().sum::<u64>() / rounds.max(1);
            let wall = median(figures.wall);
            println!(
                "{:<44} {:>8} {:>9.2} ms {:>11.2} ms {:>11.2} µs",
                format!("{name}: {label}"),
                figures.frame_len,
                wall.as_secs_f64() * 1e3,
                cpu as f64 / 1e6,
                cpu as f64 / 1e3 / CONNECTIONS as f64,
            );
            rows.push((wall, cpu));
        }
        let (a, b) = (rows[0], rows[1]);
        println!(
            "{:<44} wall (a)/(b) = {:.2}, send CPU (a)/(b) = {:.2}",
            format!("{name}: ratio"),
            a.0.as_secs_f64() / b.0.as_secs_f64(),
            a.1 as f64 / b.1 as f64,
        );
    }
}
