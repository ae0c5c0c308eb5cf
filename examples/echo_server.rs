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
usage: echo_server [--fresh-threads] [ADDRESS]

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
      --fresh-threads  a new thread for every connection (the library's
                       default), instead of reusing up to 64 finished ones
  -h, --help           print this help

Example:
  echo_server 0.0.0.0:9001
";

fn main() {
    let args = cli::args(USAGE);
    let fresh_threads = args.iter().any(|a| a == "--fresh-threads");
    let rest: Vec<&String> = args.iter().filter(|a| *a != "--fresh-threads").collect();
    let addr = match rest.as_slice() {
        [] => "127.0.0.1:9001".to_string(),
        [addr] if !addr.starts_with('-') => addr.to_string(),
        [arg] => cli::usage_error(format!("unknown option {arg}")),
        [_, extra, ..] => cli::usage_error(format!("unexpected argument {extra:?}")),
    };
    cli::finish(serve(&addr, fresh_threads));
}

fn serve(addr: &str, fresh_threads: bool) -> Result<(), String> {
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
    let server = server
        .config(config)
        .reuse_threads(if fresh_threads { 0 } else { 64 });
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
