//! A client configuration, a connect and an echo handler whose every wait
//! is bounded, shared by the server tests.

// Each test binary includes this file and uses part of it.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use wslite::{ClientBuilder, Config, Error, WebSocket};

/// The longest a client's read, write, handshake or connect may wait.
pub const CLIENT_WAIT: Duration = Duration::from_secs(10);

/// A client configuration whose reads, writes and handshake cannot hang a
/// test.
pub fn client_config() -> Config {
    Config::default()
        .read_timeout(Some(CLIENT_WAIT))
        .write_timeout(Some(CLIENT_WAIT))
        .handshake_timeout(Some(CLIENT_WAIT))
}

/// Connects with bounded waits.
pub fn ws_connect(url: &str) -> Result<WebSocket<TcpStream>, Error> {
    ClientBuilder::new(url)
        .config(client_config())
        .connect_timeout(Some(CLIENT_WAIT))
        .connect()
}

/// A client of `ws://ADDR/` with this configuration; panics if it cannot
/// connect.
pub fn client_with(addr: SocketAddr, config: Config) -> WebSocket<TcpStream> {
    ClientBuilder::new(format!("ws://{addr}/"))
        .config(config)
        .connect()
        .expect("the client connects")
}

/// The echo handler: data messages go back; it ends with the connection
/// (or after a million messages, so that it cannot loop forever).
pub fn echo(mut ws: WebSocket<TcpStream>) {
    echo_in_place(&mut ws);
}

/// [`echo`] on a connection the caller keeps.
pub fn echo_in_place(ws: &mut WebSocket<TcpStream>) {
    for _ in 0..1_000_000 {
        match ws.read() {
            Ok(message) if message.is_data() => {
                if ws.send(message).is_err() {
                    break;
                }
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
}
