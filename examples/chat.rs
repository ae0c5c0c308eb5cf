//! A chat room in the browser: open http://127.0.0.1:8080 in two tabs and
//! type. The server serves the page at `/` and the WebSocket at `/ws` on the
//! same port, and broadcasts every message to every tab.
//!
//! ```sh
//! cargo run --release --example chat            # http://127.0.0.1:8080
//! cargo run --release --example chat 0.0.0.0:8080
//! ```
//!
//! It shows the pieces a real service uses: a plain-HTTP handler beside the
//! WebSocket, a request callback that checks the path, and `split`, so each
//! connection's writer half can be handed to the other connections for
//! broadcasting while its reader half blocks in `read`. Typing `quit` (or
//! Ctrl-D) shuts down gracefully: every tab sees close code 1001.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use std::time::Duration;

use wslite::{Accept, Config, HttpResponse, Message, Server, WsWriter};

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wslite chat</title>
<link rel="icon" href="data:,">
<style>
  body { font: 16px system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; }
  #log { border: 1px solid #ccc; height: 20rem; overflow-y: auto; padding: .5rem; }
  #log p { margin: .2rem 0; word-break: break-all; }
  #status { color: #666; }
  form { display: flex; gap: .5rem; margin-top: .5rem; }
  #text { flex: 1; }
</style>
</head>
<body>
<h1>wslite chat</h1>
<p id="status">connecting…</p>
<div id="log"></div>
<form id="form"><input id="text" autocomplete="off" autofocus><button>Send</button></form>
<script>
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const ws = new WebSocket(`ws://${location.host}/ws`);
  ws.binaryType = "arraybuffer";
  window.chat = { ws, received: [], closeCode: null };
  function show(text) {
    const p = document.createElement("p");
    p.textContent = text;
    log.appendChild(p);
    log.scrollTop = log.scrollHeight;
  }
  ws.onopen = () => { status.textContent = "connected"; };
  ws.onmessage = (event) => {
    window.chat.received.push(event.data);
    if (typeof event.data !== "string") {
      show(`(${event.data.byteLength} bytes of binary)`);
    } else {
      show(event.data.length > 200 ? `(${event.data.length} characters)` : event.data);
    }
  };
  ws.onclose = (event) => {
    window.chat.closeCode = event.code;
    status.textContent = `closed: ${event.code} ${event.reason}`;
  };
  document.getElementById("form").onsubmit = (event) => {
    event.preventDefault();
    const input = document.getElementById("text");
    if (input.value) ws.send(input.value);
    input.value = "";
  };
</script>
</body>
</html>
"#;

type Room = Arc<Mutex<HashMap<u64, WsWriter<TcpStream>>>>;

fn main() -> wslite::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let room: Room = Arc::default();
    let next_id = Arc::new(AtomicU64::new(0));

    let config = Config::default().write_timeout(Some(Duration::from_secs(5)));
    let server = Server::bind(&addr)?
        .config(config)
        .http(|request| match request.path() {
            "/" => HttpResponse::new(200)
                .header("Content-Type", "text/html; charset=utf-8")
                .body(PAGE),
            _ => HttpResponse::new(404).body("not found"),
        })
        .on_request(|request| match request.path() {
            "/ws" => Ok(Accept::new()),
            _ => Err(HttpResponse::new(404).body("the chat is at /ws")),
        });
    println!("chat on http://{}", server.local_addr()?);

    let handle = {
        let room = Arc::clone(&room);
        server.spawn(move |ws| {
            let id = next_id.fetch_add(1, Ordering::Relaxed);
            let Ok((mut reader, writer)) = ws.split() else {
                return;
            };
            room.lock().unwrap().insert(id, writer);
            while let Ok(message) = reader.read() {
                if let Message::Text(_) | Message::Binary(_) = message {
                    // Copy the writers out, so the room's lock is never held
                    // while sending. A tab that does not take its messages
                    // within the write timeout is dropped from the room,
                    // so one stalled tab cannot stall everybody.
                    let writers: Vec<_> = room
                        .lock()
                        .unwrap()
                        .iter()
                        .map(|(id, w)| (*id, w.clone()))
                        .collect();
                    for (other, writer) in writers {
                        if writer.send(message.clone()).is_err() {
                            room.lock().unwrap().remove(&other);
                        }
                    }
                }
            }
            room.lock().unwrap().remove(&id);
        })?
    };

    // Shut down gracefully when `quit` is typed, or at Ctrl-D on a terminal.
    // (Without a terminal, say under `nohup`, the server runs until killed.)
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let mut line = String::new();
    loop {
        line.clear();
        match stdin.read_line(&mut line) {
            Ok(0) | Err(_) if interactive => break,
            Ok(0) | Err(_) => loop {
                std::thread::park();
            },
            Ok(_) if line.trim() == "quit" => break,
            Ok(_) => {}
        }
    }
    println!("shutting down");
    let left = handle.shutdown();
    println!("{left} connection threads left");
    Ok(())
}
