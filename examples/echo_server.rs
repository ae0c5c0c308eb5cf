//! An echo server: every text and binary message comes back unchanged.
//!
//! ```sh
//! cargo run --release --example echo_server            # ws://127.0.0.1:9001
//! cargo run --release --example echo_server 0.0.0.0:9001
//! ```
//!
//! The Autobahn|Testsuite drives this server in CI, so its limits are the
//! ones the suite needs: 64 MiB messages, 16 MiB frames.

#[path = "common/cli.rs"]
mod cli;

use wslite::{Config, Error, Message, Server};

const USAGE: &str = "\
usage: echo_server [--fresh-threads] [--max-connections N] [ADDRESS]

An echo server: every text and binary message comes back unchanged; pings
are answered and a Close is echoed. Its first line on stdout says where it
listens (`echo server listening on ws://ADDRESS`).

Arguments:
  ADDRESS     host:port to listen on (default 127.0.0.1:9001; port 0: any
              free port, printed at start)

Limits (those the Autobahn|Testsuite needs): messages up to 64 MiB, frames
up to 16 MiB, the library's default of 1,024 connections; up to 64 finished
connection threads are kept to serve the next connections.

Options:
      --fresh-threads      a new thread for every connection (the library's
                           default), instead of reusing up to 64 finished ones
      --max-connections N  connections open at once (default 1024, the
                           library's; the descriptor limit may lower it)
  -h, --help               print this help

Example:
  echo_server 0.0.0.0:9001
";

/// The command line.
struct Opts {
    addr: String,
    fresh_threads: bool,
    max_connections: Option<usize>,
}

fn main() {
    let mut opts = Opts {
        addr: "127.0.0.1:9001".to_string(),
        fresh_threads: false,
        max_connections: None,
    };
    let mut addr = None;
    let mut args = cli::args(USAGE).into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--fresh-threads" => opts.fresh_threads = true,
            "--max-connections" => {
                let value = args.next().unwrap_or_default();
                match value.parse() {
                    Ok(n) => opts.max_connections = Some(n),
                    Err(_) => cli::usage_error(format!("--max-connections: bad value {value:?}")),
                }
            }
            flag if flag.starts_with('-') => cli::usage_error(format!("unknown option {flag}")),
            _ if addr.is_some() => cli::usage_error(format!("unexpected argument {arg:?}")),
            _ => addr = Some(arg),
        }
    }
    if let Some(addr) = addr {
        opts.addr = addr;
    }
    cli::finish(serve(&opts));
}

fn serve(opts: &Opts) -> Result<(), String> {
    let addr = opts.addr.as_str();
    let config = Config::default()
        .max_message_size(64 << 20)
        .max_frame_size(16 << 20);
    // "cannot listen on 127.0.0.1:9001: Address already in use (os error 98)"
    let server = Server::bind(addr).map_err(|e| match e {
        Error::Io(io) => format!("cannot listen on {addr}: {io}"),
        other => format!("cannot listen on {addr}: {other}"),
    })?;
    // Parked threads serve the next connections without creating new ones:
    // for a server with many short connections, handshakes get cheaper.
    let mut server = server
        .config(config)
        .reuse_threads(if opts.fresh_threads { 0 } else { 64 });
    if let Some(max) = opts.max_connections {
        server = server.max_connections(max);
    }
    let local = server.local_addr().map_err(|e| e.to_string())?;
    println!("echo server listening on ws://{local}");
    server
        .run(|mut ws| loop {
            match ws.read() {
                Ok(message @ (Message::Text(_) | Message::Binary(_))) => {
                    // `write` queues the echo; the next `read` sends everything
                    // queued before it waits, so a burst of pipelined messages is
                    // answered with one system call.
                    if ws.write(message).is_err() {
                        break;
                    }
                }
                // Pings are answered and the peer's Close is echoed by the
                // library; nothing to do here.
                Ok(_) => {}
                Err(_) => break,
            }
        })
        .map_err(|e| format!("the server stopped: {e}"))
}
