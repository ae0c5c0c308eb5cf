//! An echo server: every text and binary message comes back unchanged.
//!
//! ```sh
//! cargo run --release --example echo_server            # ws://127.0.0.1:9001
//! cargo run --release --example echo_server 0.0.0.0:9001
//! ```
//!
//! The Autobahn|Testsuite drives this server in CI, so its limits are the
//! ones the suite needs: 16 MiB messages and frames.

use wslite::{Config, Message, Server};

fn main() -> wslite::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let config = Config::default()
        .max_message_size(64 << 20)
        .max_frame_size(16 << 20);
    // Parked threads serve the next connections without creating new ones:
    // for a server with many short connections, handshakes get cheaper.
    let server = Server::bind(&addr)?.config(config).reuse_threads(64);
    println!("echo server listening on ws://{}", server.local_addr()?);
    server.run(|mut ws| loop {
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
}
