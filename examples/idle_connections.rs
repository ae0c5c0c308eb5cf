//! How many idle connections one server holds, and what each costs.
//!
//! ```sh
//! cargo run --release --example idle_connections            # 15000 connections
//! cargo run --release --example idle_connections -- 1000
//! ```
//!
//! The server runs in this process with its defaults (a thread per
//! connection, 128 KiB stacks of which only the touched pages count,
//! keepalive on). The clients run in a child process (the same binary, with
//! `--clients`), so that each side has a descriptor limit of its own: a
//! connection costs the server one descriptor, and the clients one more.
//! The clients open their connections one after another, each with a full
//! handshake, and stop at 1,000 and at the end so the server's memory can be
//! read: the resident set (`VmRSS` of `/proc/self/status`) and the kernel's
//! memory for TCP (`/proc/net/sockstat`), each against the server with no
//! connection. Linux only (it reads `/proc`).

#[path = "common/cli.rs"]
mod cli;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wslite::{Config, Server};

const USAGE: &str = "\
usage: idle_connections [COUNT]

How many idle connections one server holds, and what each costs: a server
in this process (its defaults: a thread per connection, 128 KiB stacks)
takes COUNT connections, each with a full handshake, from a child process
(this program again, with --clients), and prints its resident memory,
threads, memory maps and the kernel's TCP buffers at 1,000 connections and
at COUNT. It fails (exit 1) if fewer than COUNT could be opened. Linux only:
it reads /proc. Each connection takes a descriptor on each side: raise
`ulimit -n` above COUNT first.

Arguments:
  COUNT       connections to open (default 15000)

Options:
  -h, --help  print this help
  (--clients ADDR COUNT is the child's own mode, not for use by hand)

Example:
  ulimit -n 16000 && idle_connections 15000
";

fn main() {
    let args = cli::args(USAGE);
    if args.first().map(String::as_str) == Some("--clients") {
        let (Some(addr), Some(count)) = (
            args.get(1).and_then(|a| a.parse().ok()),
            args.get(2).and_then(|c| c.parse().ok()),
        ) else {
            cli::usage_error("--clients needs ADDR COUNT");
        };
        clients(addr, count);
        return;
    }
    let count: usize = match args.as_slice() {
        [] => 15_000,
        [count] => match count.parse() {
            Ok(count) if count > 0 => count,
            _ => cli::usage_error(format!("COUNT {count:?}: not a positive number")),
        },
        [_, extra, ..] => cli::usage_error(format!("unexpected argument {extra:?}")),
    };
    cli::finish(server(count));
}

fn server(count: usize) -> Result<(), String> {
    let server = Server::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot listen on 127.0.0.1:0: {e}"))?
        .max_connections(count + 16)
        .config(Config::default());
    let addr = server.local_addr().map_err(|e| e.to_string())?;
    // An idle member: it waits in `read` until the connection ends.
    let handle = server
        .spawn(|mut ws| while ws.read().is_ok() {})
        .map_err(|e| format!("cannot start the server: {e}"))?;
    // Let the accepting thread settle before the baseline.
    std::thread::sleep(Duration::from_millis(200));
    let base = Memory::now();
    println!(
        "server on ws://{addr}: {} KiB resident, {} memory maps, no connection",
        base.rss_kib, base.maps
    );

    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args(["--clients", &addr.to_string(), &count.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("start the clients: {e}"))?;
    let mut to_child = child.stdin.take().ok_or("no stdin")?;
    let from_child = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let start = Instant::now();
    let mut reached = 0;
    for line in from_child.lines() {
        let line = line.map_err(|e| e.to_string())?;
        let Some(open) = line
            .strip_prefix("open ")
            .and_then(|n| n.parse::<usize>().ok())
        else {
            println!("clients: {line}");
            continue;
        };
        reached = open;
        // Every handshake is done on the client side; wait (bounded) until
        // the server counts them all too.
        let deadline = Instant::now() + Duration::from_secs(10);
        while handle.connections() < open && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let now = Memory::now();
        let held = handle.connections();
        println!(
            "{held} connections open after {:.1} s: {} KiB resident (+{:.1} KiB each), \
             {} threads, {} memory maps (+{:.1} each); kernel TCP buffers {} KiB in all",
            start.elapsed().as_secs_f64(),
            now.rss_kib,
            per_connection(now.rss_kib, base.rss_kib, held),
            threads(),
            now.maps,
            per_connection(now.maps, base.maps, held),
            now.tcp_kib,
        );
        writeln!(to_child, "go").map_err(|e| e.to_string())?;
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let left = handle.shutdown();
    if reached < count || !status.success() {
        return Err(format!(
            "only {reached} of {count} connections were opened (clients: {status})"
        ));
    }
    println!("all {count} held; shut down with {left} threads left");
    Ok(())
}

fn per_connection(now: u64, base: u64, connections: usize) -> f64 {
    now.saturating_sub(base) as f64 / connections.max(1) as f64
}

/// The client side: opens `count` connections with a handshake each, says
/// `open N` at 1,000 and at the end, and waits for `go` before going on
/// (and, at the end, before closing them all).
fn clients(addr: SocketAddr, count: usize) {
    let mut held = Vec::with_capacity(count);
    let mut go = BufReader::new(std::io::stdin()).lines();
    for n in 1..=count {
        match handshake(addr) {
            Ok(stream) => held.push(stream),
            Err(error) => {
                // Where the server's limit is: measure there, then stop.
                println!("connection {n} failed: {error}");
                println!("open {}", n - 1);
                let _ = go.next();
                return;
            }
        }
        if n == count || n == 1_000 {
            println!("open {n}");
            if go.next().is_none() {
                return;
            }
        }
    }
}

/// One connection and its opening handshake, by hand (the client side is
/// not what is measured).
fn handshake(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes())?;
    let mut head = Vec::new();
    let mut byte = [0u8; 256];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > 16 << 10 {
            return Err(std::io::Error::other(
                "no end of the answer's head in 16 KiB",
            ));
        }
        let n = stream.read(&mut byte)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&byte[..n]);
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        let status = String::from_utf8_lossy(head.split(|&b| b == b'\r').next().unwrap_or(&[]));
        return Err(std::io::Error::other(format!("answered {status}")));
    }
    Ok(stream)
}

/// The server's memory now.
struct Memory {
    /// This process's resident set.
    rss_kib: u64,
    /// This process's memory mappings (`vm.max_map_count` bounds them).
    maps: u64,
    /// The kernel's memory for the buffers of all TCP sockets (both sides
    /// here, and the rest of the machine).
    tcp_kib: u64,
}

impl Memory {
    fn now() -> Memory {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let rss_kib = field(&status, "VmRSS:").unwrap_or(0);
        let sockstat = std::fs::read_to_string("/proc/net/sockstat").unwrap_or_default();
        // "TCP: inuse 5 orphan 0 tw 0 alloc 7 mem 1": `mem` is in pages.
        let pages = sockstat
            .lines()
            .find(|l| l.starts_with("TCP:"))
            .and_then(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                let at = words.iter().position(|w| *w == "mem")?;
                words.get(at + 1)?.parse::<u64>().ok()
            })
            .unwrap_or(0);
        let maps = std::fs::read_to_string("/proc/self/maps").map_or(0, |m| m.lines().count());
        Memory {
            rss_kib,
            maps: maps as u64,
            tcp_kib: pages * 4,
        }
    }
}

fn field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn threads() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    field(&status, "Threads:").unwrap_or(0)
}
