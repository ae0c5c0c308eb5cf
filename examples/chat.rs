//! Chat rooms in the browser: open http://127.0.0.1:8080 in two tabs and
//! type. The server serves the page at `/` and the WebSocket at `/ws` on the
//! same port, and broadcasts every message to every tab in the same room.
//! The room is the query's `room` (`http://127.0.0.1:8080/?room=blue`, which
//! connects to `/ws?room=blue`); without one it is `lobby`.
//!
//! ```sh
//! cargo run --release --example chat            # http://127.0.0.1:8080
//! cargo run --release --example chat 0.0.0.0:8080
//! ```
//!
//! It shows the pieces a real service uses: a plain-HTTP handler beside the
//! WebSocket, a request callback that checks the path and the room's name,
//! the request in the handler (`ws.request()`: the room from the query, the
//! peer's address for the log), and `split`: each
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

use wslite::{
    Accept, CloseCode, Config, HttpRequest, HttpResponse, Message, Server, State, WsWriter,
};

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
  const room = new URLSearchParams(location.search).get("room") || "lobby";
  document.querySelector("h1").textContent = `wslite chat: ${room}`;
  const ws = new WebSocket(`ws://${location.host}/ws?room=${encodeURIComponent(room)}`);
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
type Room = HashMap<u64, SyncSender<Message>>;
/// The rooms, by name. A room is made by its first member and goes with its
/// last.
type Rooms = Arc<Mutex<HashMap<String, Room>>>;

/// The longest query accepted, and so the longest room name (a name is the
/// client's text: bounded).
const MAX_QUERY: usize = 200;

/// How many messages may wait for a member before it counts as too slow.
/// (Memory stays bounded too: at most this many per member.)
const QUEUE: usize = 32;

fn main() -> wslite::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let rooms: Rooms = Arc::default();
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
            "/ws" if request.query().is_some_and(|q| q.len() > MAX_QUERY) => {
                Err(HttpResponse::new(400).body("the room's name is too long"))
            }
            "/ws" => Ok(Accept::new()),
            _ => Err(HttpResponse::new(404).body("the chat is at /ws")),
        });
    println!("chat on http://{}", server.local_addr()?);

    let handle = server.spawn(move |ws| {
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        // What the client asked for, kept from the handshake.
        let (room, peer) = match ws.request() {
            Some(request) => (room_name(request), request.peer_addr()),
            None => ("lobby".to_owned(), None),
        };
        let peer = peer.map_or_else(|| "?".to_owned(), |p| p.to_string());
        let Ok((mut reader, writer)) = ws.split() else {
            return;
        };
        // This member's queue, and the thread that sends what it holds.
        let (queue, outgoing) = sync_channel(QUEUE);
        let sending = thread::spawn(move || send_queued(writer, outgoing));
        let members = join(&rooms, &room, id, queue);
        println!("{peer} joined #{room} ({members} there)");
        while let Ok(message) = reader.read() {
            if let Message::Text(_) | Message::Binary(_) = message {
                broadcast(&rooms, &room, message);
            }
        }
        // Leaving the room drops our queue, which ends our sending
        // thread; wait for it, so that shutdown waits for it too.
        let members = leave(&rooms, &room, id);
        println!("{peer} left #{room} ({members} there)");
        let _ = sending.join();
    })?;

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

/// The room the request's query names (`room=NAME`, percent-decoded), or
/// `lobby`.
fn room_name(request: &HttpRequest) -> String {
    match request.query_param("room") {
        Some(name) if !name.is_empty() => name,
        _ => "lobby".to_owned(),
    }
}

/// Adds a member to a room (made if new); how many are in it now.
fn join(rooms: &Rooms, room: &str, id: u64, queue: SyncSender<Message>) -> usize {
    let mut rooms = rooms.lock().unwrap();
    let members = rooms.entry(room.to_owned()).or_default();
    members.insert(id, queue);
    members.len()
}

/// Takes a member out of its room (gone with its last member); how many
/// are left.
fn leave(rooms: &Rooms, room: &str, id: u64) -> usize {
    let mut rooms = rooms.lock().unwrap();
    let Some(members) = rooms.get_mut(room) else {
        return 0;
    };
    members.remove(&id);
    let left = members.len();
    if left == 0 {
        rooms.remove(room);
    }
    left
}

/// Puts `message` in the queue of every member of `room`, without ever
/// waiting. A member whose queue is full has fallen too far behind (or is
/// stalled): it is dropped from the room, which ends its sending thread.
/// (So is a member whose sending thread has ended already.)
fn broadcast(rooms: &Rooms, room: &str, message: Message) {
    if let Some(members) = rooms.lock().unwrap().get_mut(room) {
        members.retain(|_, queue| queue.try_send(message.clone()).is_ok());
    }
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
