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
//! WebSocket, a request callback that checks the path, and `split`: each
//! connection's reader half blocks in `read` on the connection's thread,
//! while its writer half belongs to a sending thread of its own, fed by a
//! small bounded queue. Broadcasting only puts the message in every queue
//! and never waits, so one stalled tab cannot stall everybody: a tab whose
//! queue is full has fallen too far behind, and is dropped from the room and
//! closed with 1008 (policy violation). Typing `quit` (or Ctrl-D) shuts down
//! gracefully: every tab sees close code 1001.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use wslite::{Accept, CloseCode, Config, HttpResponse, Message, Server, State, WsWriter};

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

/// Every member's outgoing queue, by member id.
type Room = Arc<Mutex<HashMap<u64, SyncSender<Message>>>>;

/// How many messages may wait for a member before it counts as too slow.
/// (Memory stays bounded too: at most this many per member.)
const QUEUE: usize = 32;

fn main() -> wslite::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let room: Room = Arc::default();
    let next_id = Arc::new(AtomicU64::new(0));

    // A tab that takes nothing for 5 s fails the send in progress.
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
            // This member's queue, and the thread that sends what it holds.
            let (queue, outgoing) = sync_channel(QUEUE);
            let sending = thread::spawn(move || send_queued(writer, outgoing));
            room.lock().unwrap().insert(id, queue);
            while let Ok(message) = reader.read() {
                if let Message::Text(_) | Message::Binary(_) = message {
                    broadcast(&room, message);
                }
            }
            // Leaving the room drops our queue, which ends our sending
            // thread; wait for it, so that shutdown waits for it too.
            room.lock().unwrap().remove(&id);
            let _ = sending.join();
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

/// Puts `message` in every member's queue, without ever waiting. A member
/// whose queue is full has fallen too far behind (or is stalled): it is
/// dropped from the room, which ends its sending thread. (So is a member
/// whose sending thread has ended already.)
fn broadcast(room: &Room, message: Message) {
    room.lock()
        .unwrap()
        .retain(|_, queue| queue.try_send(message.clone()).is_ok());
}

/// A member's sending thread: sends what its queue brings until the room
/// drops the queue (the member left, or fell behind) or a send fails (the
/// tab is gone, or took nothing for the write timeout).
fn send_queued(writer: WsWriter<TcpStream>, queue: Receiver<Message>) {
    for message in queue {
        if writer.send(message).is_err() {
            return;
        }
    }
    // Dropped while the connection is still open: too slow. (What was
    // queued has gone out first.)
    if writer.state() == State::Open {
        let _ = writer.close(CloseCode::POLICY_VIOLATION, "too slow: messages piled up");
    }
}
