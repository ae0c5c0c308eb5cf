//! A small chat app in the browser: open http://127.0.0.1:8080 in two tabs,
//! pick a name, and type. The server serves the page at `/` and the
//! WebSocket at `/ws` on the same port. Rooms come from the query
//! (`http://127.0.0.1:8080/?room=blue`, which connects to
//! `/ws?room=blue&name=…`); without one the room is `lobby`.
//!
//! ```sh
//! cargo run --release --example chat            # http://127.0.0.1:8080
//! cargo run --release --example chat 0.0.0.0:8080
//! ```
//!
//! **The page** (HTML, CSS and script inline below, no dependencies) asks
//! for a name and remembers it (`localStorage`; a random `guest-1234` at
//! first), shows who said what and when (server time, in the reader's local
//! time), marks the reader's own lines, shows joins, leaves and how many are
//! online, wraps long lines whole, and shows the connection's state: while
//! disconnected the input is disabled (what was typed stays) and the page
//! reconnects by itself, waiting 0.5 s, 1 s, 2 s … up to 10 s, with jitter.
//! Everything a user wrote reaches the page through `textContent` only.
//!
//! **The protocol.** The client names its room and itself in the query;
//! the server cleans the name (letters, digits, space, `-_.`; at most 24
//! characters) and makes it unique in the room (`ann`, `ann-2`, …). From
//! then on the client sends plain text, one message per line it types (at
//! most 2 MiB), and the server sends JSON objects, written by hand here
//! (see [`json_string`]):
//!
//! ```text
//! {"type":"welcome","name":"ann","room":"lobby","online":2,"time":1700000000000}
//! {"type":"message","from":"ann","text":"hello","time":1700000000000}
//! {"type":"join","name":"bob","online":2,"time":1700000000000}
//! {"type":"leave","name":"bob","online":1,"time":1700000000000}
//! ```
//!
//! `time` is milliseconds since the Unix epoch, by the server's clock.
//!
//! **The server** shows the pieces a real service uses: a plain-HTTP
//! handler beside the WebSocket, a request callback that checks the path
//! and bounds the query, the request in the handler (`ws.request()`: room
//! and name from the query, the peer's address for the log), and `split`:
//! each connection's reader half blocks in `read` on the connection's
//! thread, while its writer half belongs to a sending thread of its own,
//! fed by a small bounded queue. Broadcasting frames the message once (a
//! `PreparedMessage`: a server's frames are not masked, so the same bytes
//! serve every tab), puts that one shared frame in every queue, and never
//! waits, so one stalled tab cannot stall everybody: a tab whose queue is full has fallen
//! too far behind, and is dropped from the room and closed with 1008
//! (policy violation). Typing `quit` (or Ctrl-D) shuts down gracefully:
//! every tab sees close code 1001, and starts reconnecting.

#[path = "common/cli.rs"]
mod cli;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wslite::{
    Accept, CloseCode, Config, HttpRequest, HttpResponse, Message, PreparedMessage, Server, State,
    WsWriter,
};

const USAGE: &str = "\
usage: chat [ADDR]

A chat in the browser: serves its page at http://ADDR/ and the WebSocket
at ws://ADDR/ws. Rooms by the page's query: http://ADDR/?room=NAME.

  ADDR          where to listen (default 127.0.0.1:8080; port 0: any)
  -h, --help    this text

Type quit (or press Ctrl-D) to stop: every tab is closed with 1001.
";

const PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wslite chat</title>
<link rel="icon" href="data:,">
<style>
  * { box-sizing: border-box; }
  html, body { height: 100%; margin: 0; }
  body {
    font: 16px/1.4 system-ui, sans-serif; color: #1d1f23; background: #f3f4f7;
    display: flex; flex-direction: column; height: 100dvh; max-width: 52rem; margin: 0 auto;
  }
  header {
    display: flex; flex-wrap: wrap; align-items: center; gap: .4rem .8rem;
    padding: .6rem .8rem; background: #fff; border-bottom: 1px solid #dcdfe5;
  }
  h1 { font-size: 1.1rem; margin: 0; flex: 1 1 auto; overflow-wrap: anywhere; }
  #online { margin-left: auto; }
  #status { font-size: .85rem; padding: .15rem .6rem; border-radius: 1rem; background: #eee; }
  #status[data-state=connected] { background: #dcf3e1; color: #14652a; }
  #status[data-state=connecting] { background: #fff2cc; color: #6d5200; }
  #status[data-state=disconnected] { background: #fddcdb; color: #9b1c1c; }
  #me { flex: 1 0 100%; display: flex; align-items: center; gap: .4rem; font-size: .9rem; color: #555; }
  #name { width: 10rem; max-width: 60%; font: inherit; padding: .2rem .4rem; border: 1px solid #ccd; border-radius: .4rem; }
  #log { flex: 1; min-height: 0; overflow-y: auto; padding: .8rem; display: flex; flex-direction: column; gap: .5rem; }
  .msg {
    max-width: 85%; align-self: flex-start; background: #fff; border: 1px solid #e0e3e8;
    border-radius: .9rem .9rem .9rem .2rem; padding: .35rem .7rem;
  }
  .msg.mine { align-self: flex-end; background: #2f6fde; border-color: #2f6fde; color: #fff; border-radius: .9rem .9rem .2rem .9rem; }
  .meta { font-size: .75rem; color: #667; }
  .mine .meta { color: #dce7ff; text-align: right; }
  .who { font-weight: 600; }
  .text { white-space: pre-wrap; overflow-wrap: anywhere; }
  .notice { align-self: center; margin: 0; font-size: .8rem; color: #667; text-align: center; overflow-wrap: anywhere; }
  form { display: flex; gap: .5rem; padding: .6rem .8rem; background: #fff; border-top: 1px solid #dcdfe5; }
  #text { flex: 1; min-width: 0; font: inherit; padding: .5rem .6rem; border: 1px solid #ccd; border-radius: .5rem; }
  #send { font: inherit; padding: .5rem 1rem; border: 0; border-radius: .5rem; background: #2f6fde; color: #fff; }
  #text:disabled, #send:disabled { opacity: .5; }
</style>
</head>
<body>
<header>
  <h1 id="title">wslite chat</h1>
  <span id="status" data-state="connecting" role="status">connecting…</span>
  <div id="me"><label>your name <input id="name" maxlength="24" autocomplete="nickname"></label><span id="online"></span></div>
</header>
<main id="log" aria-live="polite"></main>
<form id="form">
  <input id="text" autocomplete="off" placeholder="Message" aria-label="Message" disabled>
  <button id="send" disabled>Send</button>
</form>
<script>
"use strict";
// Everything a user wrote reaches the page through textContent only.
const $ = (id) => document.getElementById(id);
const log = $("log"), status = $("status"), input = $("text"), send = $("send"), nameBox = $("name");
const params = new URLSearchParams(location.search);
const room = params.get("room") || "lobby";
const MAX_BYTES = 2 << 20; // the server's bound on a message
const KEY = "wslite-chat-name";
const store = {
  get() { try { return localStorage.getItem(KEY); } catch { return null; } },
  set(name) { try { localStorage.setItem(KEY, name); } catch {} },
};
const guest = () => `guest-${1000 + Math.floor(Math.random() * 9000)}`;
let wanted = params.get("name") || store.get() || guest();
store.set(wanted);
nameBox.value = wanted;
const chat = (window.chat = { ws: null, me: null, room, online: 0, state: "", received: [], closeCode: null, retries: 0 });
document.title = `${room} · wslite chat`;
$("title").textContent = `#${room}`;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
// The log follows new lines while it is scrolled to the bottom, also when
// it changes size (the header wraps, a phone's keyboard opens).
let stuck = true;
log.addEventListener("scroll", () => { stuck = log.scrollHeight - log.scrollTop - log.clientHeight < 60; });
new ResizeObserver(() => { if (stuck) log.scrollTop = log.scrollHeight; }).observe(log);
function add(node) {
  log.appendChild(node);
  if (stuck) log.scrollTop = log.scrollHeight;
}
const notice = (text, ms) => add(el("p", "notice", ms ? `${text} · ${clock(ms)}` : text));
function online(n) {
  chat.online = n;
  $("online").textContent = `${n} online`;
}
function setState(state, text) {
  chat.state = state;
  status.dataset.state = state;
  status.textContent = text;
  const off = state !== "connected";
  input.disabled = off;
  send.disabled = off;
}

function show(m) {
  switch (m.type) {
    case "welcome":
      chat.me = m.name;
      chat.retries = 0;
      nameBox.value = m.name;
      if (m.name !== wanted) notice(`you are “${m.name}” here (“${wanted}” is taken, or has characters a name cannot have)`);
      online(m.online);
      setState("connected", "connected");
      notice(`you joined #${m.room} as ${m.name}`, m.time);
      if (chat.hadFocus) input.focus();
      break;
    case "message": {
      const mine = m.from === chat.me;
      const bubble = el("div", mine ? "msg mine" : "msg");
      const meta = el("div", "meta");
      meta.append(el("span", "who", mine ? "you" : m.from), ` · ${clock(m.time)}`);
      bubble.title = m.from;
      bubble.append(meta, el("div", "text", m.text));
      add(bubble);
      break;
    }
    case "join":
    case "leave":
      online(m.online);
      notice(`${m.name} ${m.type === "join" ? "joined" : "left"}`, m.time);
      break;
  }
}

function connect() {
  clearTimeout(chat.timer);
  clearInterval(chat.tick);
  setState("connecting", "connecting…");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws?room=${encodeURIComponent(room)}&name=${encodeURIComponent(wanted)}`);
  chat.ws = ws;
  ws.onmessage = (event) => {
    if (ws !== chat.ws) return;
    let m;
    try { m = JSON.parse(event.data); } catch { return; }
    chat.received.push(m);
    show(m);
  };
  ws.onclose = (event) => {
    if (ws !== chat.ws) return;
    if (chat.renaming) {
      // Closed to come back under a new name: the old one has left.
      chat.renaming = false;
      return connect();
    }
    chat.closeCode = event.code;
    chat.me = null;
    // Who is online is unknown until the welcome of the next connection.
    $("online").textContent = "";
    chat.hadFocus = document.activeElement === input;
    if (event.code === 1008 || event.code === 1009) notice(`the server closed the connection: ${event.reason || event.code}`);
    reconnectLater();
  };
}

// Exponential backoff with jitter: 0.5 s, 1 s, 2 s … up to 10 s, each
// drawn between half and all of that, so that tabs do not come back in step.
function reconnectLater() {
  const ceiling = Math.min(10_000, 500 * 2 ** chat.retries);
  chat.retries += 1;
  const wait = ceiling / 2 + (Math.random() * ceiling) / 2;
  const at = Date.now() + wait;
  const tick = () => setState("disconnected", `disconnected · reconnecting in ${Math.max(1, Math.ceil((at - Date.now()) / 1000))} s`);
  tick();
  chat.tick = setInterval(tick, 250);
  chat.timer = setTimeout(connect, wait);
}

$("form").onsubmit = (event) => {
  event.preventDefault();
  const text = input.value;
  if (!text || chat.state !== "connected") return;
  if (new TextEncoder().encode(text).length > MAX_BYTES) {
    notice(`not sent: a message may have at most ${MAX_BYTES} bytes`);
    return;
  }
  chat.ws.send(text);
  input.value = "";
};
nameBox.onchange = () => {
  wanted = nameBox.value.trim() || guest();
  store.set(wanted);
  if (wanted === chat.me) return;
  if (chat.state === "disconnected") return connect(); // now, not after the wait
  // Leave under the old name first, then join under the new one.
  chat.renaming = true;
  chat.ws.close(1000, "new name");
};
connect();
</script>
</body>
</html>
"##;

/// One member of a room: its name there and its outgoing queue.
struct Member {
    name: String,
    queue: SyncSender<PreparedMessage>,
}

/// Every member of a room, by member id.
type Room = HashMap<usize, Member>;
/// The rooms, by name. A room is made by its first member and goes with its
/// last.
type Rooms = Arc<Mutex<HashMap<String, Room>>>;

/// The longest query accepted (room and name are the client's text:
/// bounded before anything else looks at them).
const MAX_QUERY: usize = 400;
/// The longest name and room name, in characters, after cleaning.
const MAX_NAME: usize = 24;
const MAX_ROOM: usize = 40;
/// The largest message a member may send (a 1 MiB line fits).
const MAX_MESSAGE: usize = 2 << 20;
/// How many messages may wait for a member before it counts as too slow.
/// (Memory stays bounded too: a queued message is one frame shared by
/// every member, and at most this many wait for each.)
const QUEUE: usize = 32;

fn main() {
    let args = cli::args(USAGE);
    let addr = match args.as_slice() {
        [] => "127.0.0.1:8080".to_owned(),
        [addr] if !addr.starts_with('-') => addr.clone(),
        _ => cli::usage_error(format!("unexpected arguments: {}", args.join(" "))),
    };
    cli::finish(run(&addr));
}

fn run(addr: &str) -> Result<(), String> {
    let rooms: Rooms = Arc::default();
    let next_id = Arc::new(AtomicUsize::new(0));

    // A tab that takes nothing for 5 s fails the send in progress.
    let config = Config::default()
        .write_timeout(Some(Duration::from_secs(5)))
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE);
    let server = cli::context(Server::bind(addr), format!("cannot listen on {addr}"))?
        .config(config)
        .http(|request| match request.path() {
            "/" => HttpResponse::new(200)
                .header("Content-Type", "text/html; charset=utf-8")
                .header("Cache-Control", "no-store")
                .body(PAGE),
            _ => HttpResponse::new(404).body("not found"),
        })
        .on_request(|request| match request.path() {
            "/ws" if request.query().is_some_and(|q| q.len() > MAX_QUERY) => {
                Err(HttpResponse::new(400).body("the room's or the name's name is too long"))
            }
            "/ws" => Ok(Accept::new()),
            _ => Err(HttpResponse::new(404).body("the chat is at /ws")),
        });
    let local = cli::context(server.local_addr(), "cannot read the address")?;
    println!("chat on http://{local}");
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        println!("type quit (or press Ctrl-D) to stop");
    } else {
        println!("write quit to stdin to stop (or end the process)");
    }

    let handle = server.spawn(move |ws| {
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        // What the client asked for, kept from the handshake.
        let (room, wanted, peer) = match ws.request() {
            Some(request) => (
                room_name(request),
                request.query_param("name").unwrap_or_default(),
                request.peer_addr(),
            ),
            None => ("lobby".to_owned(), String::new(), None),
        };
        let peer = peer.map_or_else(|| "?".to_owned(), |p| p.to_string());
        let Ok((mut reader, writer)) = ws.split() else {
            return;
        };
        // This member's queue, and the thread that sends what it holds.
        let (queue, outgoing) = sync_channel(QUEUE);
        let sending = thread::spawn(move || send_queued(writer, outgoing));
        let (name, online) = join(&rooms, &room, id, &wanted, queue);
        println!("{name} joined #{room} from {peer} ({online} online)");
        while let Ok(message) = reader.read() {
            // Text is a line said; anything else is not part of this chat.
            if let Message::Text(text) = message {
                if !text.is_empty() {
                    let said = event("message", &[("from", &name), ("text", &text)], None);
                    broadcast(&mut lock(&rooms), &room, &said);
                }
            }
        }
        // Leaving the room drops our queue, which ends our sending
        // thread; wait for it, so that shutdown waits for it too.
        let online = leave(&rooms, &room, id, &name);
        println!("{name} left #{room} from {peer} ({online} online)");
        let _ = sending.join();
    });
    let handle = cli::context(handle, "cannot start the server")?;

    // Shut down gracefully when `quit` is typed, or at Ctrl-D on a terminal.
    // (Without a terminal, say under `nohup`, the server runs until killed.)
    let stdin = std::io::stdin();
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

/// The rooms, locked. A thread that panicked while holding the lock left
/// the map whole (every change is one insert or remove), so a poisoned
/// lock is used as it is.
fn lock(rooms: &Rooms) -> MutexGuard<'_, HashMap<String, Room>> {
    rooms
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The room the request's query names (`room=NAME`, percent-decoded and
/// cleaned), or `lobby`.
fn room_name(request: &HttpRequest) -> String {
    let room = clean(&request.query_param("room").unwrap_or_default(), MAX_ROOM);
    if room.is_empty() {
        "lobby".to_owned()
    } else {
        room
    }
}

/// A name as the chat shows it: letters, digits, `-`, `_`, `.` and single
/// spaces, at most `max` characters. Anything else is left out.
fn clean(raw: &str, max: usize) -> String {
    let kept: String = raw
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|&c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
        .collect();
    let words: Vec<&str> = kept.split_whitespace().collect();
    let name: String = words.join(" ").chars().take(max).collect();
    name.trim_end().to_owned()
}

/// `wanted`, cleaned, and made unique in `room` with a suffix (`-2`, `-3`,
/// …); `guest-ID` when nothing of it is left.
fn unique_name(room: &Room, wanted: &str, id: usize) -> String {
    let mut name = clean(wanted, MAX_NAME);
    if name.is_empty() {
        name = format!("guest-{id}");
    }
    let taken = |candidate: &str| room.values().any(|m| m.name == candidate);
    if !taken(&name) {
        return name;
    }
    // n members hold at most n names, so one of n + 1 candidates is free.
    (2..=room.len() + 2)
        .map(|n| format!("{name}-{n}"))
        .find(|candidate| !taken(candidate))
        .unwrap_or_else(|| format!("{name}-{id}"))
}

/// Milliseconds since the Unix epoch, by the server's clock.
fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// One server-to-client message: `{"type":KIND, "key":"value", …,
/// "online":N, "time":MS}`, with every string escaped, framed once for
/// however many members it goes to.
fn event(kind: &str, strings: &[(&str, &str)], online: Option<usize>) -> PreparedMessage {
    let size: usize = strings.iter().map(|(_, v)| v.len()).sum();
    let mut json = String::with_capacity(size + 100);
    json.push_str("{\"type\":");
    json_string(&mut json, kind);
    for (key, value) in strings {
        json.push(',');
        json_string(&mut json, key);
        json.push(':');
        json_string(&mut json, value);
    }
    if let Some(online) = online {
        let _ = write!(json, ",\"online\":{online}");
    }
    let _ = write!(json, ",\"time\":{}}}", now_ms());
    PreparedMessage::text(&json)
}

/// Appends `s` as a JSON string (RFC 8259 §7): in quotes, with `"` and `\`
/// escaped by a backslash and the control characters U+0000 to U+001F as
/// `\u00XX`. Everything else, any Unicode, goes as it is (JSON text is
/// UTF-8). Runs of plain characters are copied whole; the characters
/// escaped are all ASCII, so every cut falls between characters.
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut plain = 0;
    for (at, byte) in s.bytes().enumerate() {
        let escape = matches!(byte, b'"' | b'\\') || byte < 0x20;
        if !escape {
            continue;
        }
        out.push_str(s.get(plain..at).unwrap_or_default());
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            _ => {
                let _ = write!(out, "\\u{byte:04x}");
            }
        }
        plain = at + 1;
    }
    out.push_str(s.get(plain..).unwrap_or_default());
    out.push('"');
}

/// Adds a member to a room (made if new) under a name unique there, sends
/// it the welcome and the others the join; the name and how many are in the
/// room now.
fn join(
    rooms: &Rooms,
    room: &str,
    id: usize,
    wanted: &str,
    queue: SyncSender<PreparedMessage>,
) -> (String, usize) {
    let mut rooms = lock(rooms);
    let members = rooms.entry(room.to_owned()).or_default();
    let name = unique_name(members, wanted, id);
    let online = members.len() + 1;
    let welcome = event("welcome", &[("name", &name), ("room", room)], Some(online));
    // The queue is new and empty: the welcome fits.
    let _ = queue.try_send(welcome);
    let joined = event("join", &[("name", &name)], Some(online));
    broadcast(&mut rooms, room, &joined);
    rooms.entry(room.to_owned()).or_default().insert(
        id,
        Member {
            name: name.clone(),
            queue,
        },
    );
    (name, online)
}

/// Takes a member out of its room (gone with its last member) and tells
/// the others; how many are left.
fn leave(rooms: &Rooms, room: &str, id: usize, name: &str) -> usize {
    let mut rooms = lock(rooms);
    let Some(members) = rooms.get_mut(room) else {
        return 0;
    };
    members.remove(&id);
    let online = members.len();
    if online == 0 {
        rooms.remove(room);
    } else {
        let left = event("leave", &[("name", name)], Some(online));
        broadcast(&mut rooms, room, &left);
    }
    online
}

/// Puts `message` in the queue of every member of `room`, without ever
/// waiting: each gets a clone of the one prepared frame (a reference
/// count, no copy, no encoding per member). A member whose queue is full
/// has fallen too far behind (or is stalled): it is dropped from the room,
/// which ends its sending thread. (So is a member whose sending thread has
/// ended already.)
fn broadcast(rooms: &mut HashMap<String, Room>, room: &str, message: &PreparedMessage) {
    if let Some(members) = rooms.get_mut(room) {
        members.retain(|_, member| member.queue.try_send(message.clone()).is_ok());
    }
}

/// A member's sending thread: sends what its queue brings until the room
/// drops the queue (the member left, or fell behind) or a send fails (the
/// tab is gone, or took nothing for the write timeout). The prepared
/// frame goes out as it is (with the pong or Close the connection owes
/// first, if any).
fn send_queued(writer: WsWriter<TcpStream>, queue: Receiver<PreparedMessage>) {
    for message in queue {
        if writer.send_prepared(&message).is_err() {
            return;
        }
    }
    // Dropped while the connection is still open: too slow. (What was
    // queued has gone out first.)
    if writer.state() == State::Open {
        let _ = writer.close(CloseCode::POLICY_VIOLATION, "too slow: messages piled up");
    }
}
