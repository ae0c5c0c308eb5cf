//! How much heap permessage-deflate (RFC 7692) costs a connection, server
//! side and client side apart, measured with a counting allocator.
//!
//! ```sh
//! cargo run --release --example compression_memory            # 200 connections, 16 KiB messages
//! cargo run --release --example compression_memory -- 500 65536
//! ```
//!
//! For every window size (9, 12, 15 bits, both directions) and level (1, 6,
//! 9), a server thread accepts N connections over loopback from a client
//! thread (the main one); each side keeps its connections in a `Vec`. Every
//! allocation is counted for the thread that makes it, so the server's
//! bytes and the client's are apart. The columns, in bytes per connection
//! (the growth of the thread's live heap divided by N):
//!
//! * **(a) negotiated**: after the handshake agreed on permessage-deflate,
//!   before any message;
//! * **(b) after messages**: idle again after compressed messages each
//!   way (the client sends, the server echoes; two rounds, the second
//!   leaves what every later one leaves), with context takeover (RFC
//!   7692's default: the window is kept for the next message);
//! * **(c) no takeover**: the same with `server_no_context_takeover` and
//!   `client_no_context_takeover` agreed;
//! * **(d) active**: (b) plus the most the thread held at once, above its
//!   idle bytes, while one connection handled its second message (server:
//!   inflate the message, compress the echo; client: compress the message,
//!   or inflate the echo, whichever held more): what an active connection
//!   costs at its peak; `d-b` is that transient alone. The message itself
//!   (what `read` returns) is part of it, compressed or not.
//!
//! "Idle" is the state of a connection whose thread waits in `read`: each
//! connection's `read` is called once more and finds nothing (a 1 ms read
//! timeout), so buffers kept only for a burst are given back first.
//!
//! The first row, compression off, is the connection without the
//! extension (its (d) includes the message and the read buffer grown for
//! it); the `on − off` lines subtract it, leaving what compression adds.
//! Every message is compressed (threshold 0); the messages are JSON text
//! from the bench corpus (`benches/common/corpus.rs`).
//!
//! Thread stacks, kernel socket buffers and allocator overhead are not
//! heap bytes the program asked for, so they are not in these numbers
//! (`examples/idle_connections` measures resident memory instead).

#[path = "common/cli.rs"]
mod cli;

use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;
use wslite::blocking::SocketOps;

use wslite::{accept_with, Accept, ClientBuilder, Compression, Config, Error, Message, WebSocket};

#[path = "../tests/common/counting_alloc.rs"]
mod counting_alloc;

#[path = "../benches/common/corpus.rs"]
mod corpus;

#[global_allocator]
static ALLOCATOR: counting_alloc::CountingAllocator =
    counting_alloc::CountingAllocator(counting_alloc::thread::track);

/// This thread's live heap bytes.
fn live() -> isize {
    counting_alloc::thread::live()
}

/// Runs `f`; returns its result and the most this thread held at once
/// during it above what it held before.
fn peak_growth<T>(f: impl FnOnce() -> T) -> (T, isize) {
    let before = live();
    counting_alloc::thread::reset_peak();
    let result = f();
    (result, counting_alloc::thread::peak() - before)
}

/// One side's numbers, per connection: (a), (b), the transient of (d).
#[derive(Clone, Copy, Debug, Default)]
struct Side {
    negotiated: isize,
    after_message: isize,
    transient: isize,
}

/// Reads wait 1 ms at a time, so that an idle connection can be put in
/// the state it has while a server thread waits in `read` for the next
/// message (the read buffer given back, see [`settle`]).
///
/// The read buffer is held at its starting 1 KiB: a buffer that grew for a
/// large message is given back only after a short read (see
/// `src/blocking/receiving.rs`), which depends on how TCP happened to cut
/// the bytes, so with growth allowed the idle numbers wander by the
/// message size from run to run. Without growth they are what
/// compression costs, the same every run.
fn config(compression: Option<Compression>) -> Config {
    Config::default()
        .compression(compression)
        .read_timeout(Some(Duration::from_millis(1)))
        .max_read_buffer_size(1 << 10)
}

/// The next message, however many 1 ms waits it takes.
fn next_message(ws: &mut WebSocket<TcpStream>) -> Message {
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => return Message::Text(t),
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
            Ok(other) => panic!("unexpected {other:?}"),
            Err(Error::Timeout) => {}
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// Puts every connection in the state of one waiting in `read` with
/// nothing to read: a read that finds nothing and times out.
fn settle(conns: &mut [WebSocket<TcpStream>]) {
    for ws in conns {
        match ws.read() {
            Err(Error::Timeout) => {}
            Ok(_) => panic!("an idle connection received a message"),
            Err(e) => panic!("an idle connection failed: {e}"),
        }
    }
}

/// The server: accepts `n`, then echoes one message per connection, twice.
/// `settled` says when its connections are idle (the client then sends the
/// second message) and when it is done measuring (the client may close).
fn serve(
    listener: TcpListener,
    n: usize,
    compression: Option<Compression>,
    settled: mpsc::Sender<()>,
    client_done: mpsc::Receiver<()>,
) -> Side {
    let base = live();
    let mut conns: Vec<WebSocket<TcpStream>> = Vec::with_capacity(n);
    for _ in 0..n {
        let (stream, _) = listener.accept().expect("accept");
        let mut ws =
            accept_with(stream, config(compression), |_| Ok(Accept::new())).expect("the handshake");
        // As `Server` and `WebSocket::from_tcp` do: the read timeout and
        // the other socket settings of the configuration.
        ws.set_socket_ops(SocketOps::tcp()).expect("socket options");
        assert_eq!(ws.compression().is_some(), compression.is_some());
        conns.push(ws);
    }
    let negotiated = live() - base;
    let echo = |ws: &mut WebSocket<TcpStream>| {
        let m = next_message(ws);
        ws.send(m).expect("the echo");
    };
    conns.iter_mut().for_each(echo);
    settle(&mut conns);
    settled.send(()).expect("the client waits");
    let transient = conns
        .iter_mut()
        .map(|ws| peak_growth(|| echo(ws)).1)
        .max()
        .unwrap_or(0);
    settle(&mut conns);
    let idle_again = live() - base;
    client_done.recv().expect("the client says when");
    Side {
        negotiated: negotiated / n as isize,
        after_message: idle_again / n as isize,
        transient,
    }
}

/// The client: connects `n`, sends one message on each and reads the
/// echoes, twice.
fn measure(n: usize, message: &str, compression: Option<Compression>) -> (Side, Side) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}/", listener.local_addr().expect("address"));
    let (settled, server_settled) = mpsc::channel();
    let (done, client_done) = mpsc::channel();
    let server = thread::spawn(move || serve(listener, n, compression, settled, client_done));
    let base = live();
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        let ws = ClientBuilder::new(url.clone())
            .config(config(compression))
            .connect()
            .expect("connect");
        conns.push(ws);
    }
    let negotiated = live() - base;
    let send_message = |ws: &mut WebSocket<TcpStream>| {
        ws.send_text(message).expect("send");
    };
    let read_echo = |ws: &mut WebSocket<TcpStream>| match next_message(ws) {
        Message::Text(t) => assert_eq!(t, message),
        other => panic!("unexpected {other:?}"),
    };
    conns.iter_mut().for_each(send_message);
    conns.iter_mut().for_each(read_echo);
    settle(&mut conns);
    // The second message, one connection at a time: sending (compressing)
    // and receiving (inflating) are measured apart, the larger counts.
    let mut transient = 0;
    server_settled.recv().expect("the server settles");
    for ws in &mut conns {
        transient = transient.max(peak_growth(|| send_message(ws)).1);
    }
    for ws in &mut conns {
        transient = transient.max(peak_growth(|| read_echo(ws)).1);
    }
    settle(&mut conns);
    let idle_again = live() - base;
    let client = Side {
        negotiated: negotiated / n as isize,
        after_message: idle_again / n as isize,
        transient,
    };
    // Only now may the server close its side.
    done.send(()).expect("the server waits");
    let server = server.join().expect("the server thread");
    drop(conns);
    (server, client)
}

/// `[COUNT [MESSAGE_BYTES]]`.
fn parse_args(args: &[String]) -> Result<(usize, usize), String> {
    if let Some(option) = args.iter().find(|a| a.starts_with('-')) {
        return Err(format!("unknown option {option}"));
    }
    let n = match args.first() {
        None => 200,
        Some(count) => match count.parse() {
            Ok(n) if n > 0 => n,
            _ => return Err(format!("COUNT {count:?}: not a positive number")),
        },
    };
    let size = match args.get(1) {
        None => 16 << 10,
        Some(bytes) => cli::size("MESSAGE_BYTES", bytes)?,
    };
    if let Some(extra) = args.get(2) {
        return Err(format!("unexpected argument {extra:?}"));
    }
    Ok((n, size))
}

fn kib(bytes: isize) -> String {
    format!("{:.1}", bytes as f64 / 1024.0)
}

const USAGE: &str = "\
usage: compression_memory [COUNT [MESSAGE_BYTES]]

How much heap permessage-deflate (RFC 7692) costs a connection, server side
and client side apart, measured with a counting allocator over loopback: for
compression off and for every window size (9, 12, 15 bits) and level (1, 6,
9), COUNT connections each way. The columns, in KiB per connection: (a)
negotiated, (b) idle after messages with context takeover, (c) the same
without takeover, (d) at the peak of an active connection, d-b the transient
alone. The module documentation of examples/compression_memory.rs explains
each.

Arguments:
  COUNT          connections per measurement (default 200)
  MESSAGE_BYTES  the size of the JSON message sent each way (default 16384;
                 k and m suffixes)

Options:
  -h, --help     print this help

Example:
  compression_memory 500 64k
";

fn main() {
    let args = cli::args(USAGE);
    let (n, size) = match parse_args(&args) {
        Ok(parsed) => parsed,
        Err(e) => cli::usage_error(e),
    };
    let text = String::from_utf8(corpus::json(size + 1024)).expect("ASCII");
    let message = &text[..size];

    println!(
        "heap KiB per connection, {n} connections, one {size}-byte JSON message each way \
         (threshold 0)"
    );
    println!(
        "{:<16} | {:>6} {:>6} {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6} {:>6} {:>6}",
        "", "server", "", "", "", "", "client", "", "", "", ""
    );
    println!(
        "{:<16} | {:>6} {:>6} {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6} {:>6} {:>6}",
        "window / level", "(a)", "(b)", "(c)", "(d)", "d-b", "(a)", "(b)", "(c)", "(d)", "d-b"
    );
    let row = |label: &str, s: Side, sc: Side, c: Side, cc: Side| {
        println!(
            "{label:<16} | {:>6} {:>6} {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6} {:>6} {:>6}",
            kib(s.negotiated),
            kib(s.after_message),
            kib(sc.after_message),
            kib(s.after_message + s.transient),
            kib(s.transient),
            kib(c.negotiated),
            kib(c.after_message),
            kib(cc.after_message),
            kib(c.after_message + c.transient),
            kib(c.transient),
        );
    };
    let (off_s, off_c) = measure(n, message, None);
    row("off", off_s, off_s, off_c, off_c);
    let minus = |a: Side, b: Side| Side {
        negotiated: a.negotiated - b.negotiated,
        after_message: a.after_message - b.after_message,
        transient: a.transient - b.transient,
    };
    let mut deltas = Vec::new();
    for bits in [9u8, 12, 15] {
        for level in [1u8, 6, 9] {
            let c = Compression::default()
                .window_bits(bits)
                .level(level)
                .threshold(0);
            let (s, cl) = measure(n, message, Some(c));
            let nc = c
                .server_no_context_takeover(true)
                .client_no_context_takeover(true);
            let (sc, clc) = measure(n, message, Some(nc));
            let label = format!("{bits} bits / L{level}");
            row(&label, s, sc, cl, clc);
            deltas.push((
                label,
                minus(s, off_s),
                minus(sc, off_s),
                minus(cl, off_c),
                minus(clc, off_c),
            ));
        }
    }
    println!("on - off (what compression adds):");
    for (label, s, sc, c, cc) in deltas {
        row(&label, s, sc, c, cc);
    }
}
