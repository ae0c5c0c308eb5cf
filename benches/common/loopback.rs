//! What the loopback benches share: an echo server shaped like
//! `examples/echo_server.rs` and a client for it, both with every wait
//! bounded, so a bench that deadlocks fails instead of hanging.

// Each bench includes this file and uses part of it.
#![allow(dead_code)]

use std::net::TcpStream;
use std::time::Duration;

use wslite::{Config, Message, Server, ServerHandle, WebSocket};

/// The longest either side waits on a socket.
pub const STALL: Duration = Duration::from_secs(10);

pub fn config() -> Config {
    Config::default()
        .write_timeout(Some(STALL))
        .read_timeout(Some(STALL))
}

/// The handler of `examples/echo_server.rs`: `read`, then `write` the
/// message back (queued; the next `read` sends what is queued before it
/// waits), until the connection ends.
pub fn echo(mut ws: WebSocket<TcpStream>) {
    loop {
        match ws.read() {
            Ok(message @ (Message::Binary(_) | Message::Text(_))) => {
                if ws.write(message).is_err() {
                    break;
                }
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
}

/// An echo server ([`echo`]) on an ephemeral loopback port.
pub fn spawn_echo_server() -> ServerHandle {
    Server::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .config(config())
        .spawn(echo)
        .expect("spawn the echo server")
}

/// A client of the echo server.
pub fn connect(server: &ServerHandle) -> WebSocket<TcpStream> {
    wslite::ClientBuilder::new(format!("ws://{}/", server.local_addr()))
        .config(config())
        .connect()
        .expect("connect to the echo server")
}
