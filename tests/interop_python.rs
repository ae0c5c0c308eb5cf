//! Interoperability with Python's `websockets`, the most used WebSocket
//! implementation outside browsers: **their client against our server, our
//! client against their server**, over loopback.
//!
//! Each test starts a Python peer process (`tests/interop/peer_client.py` or
//! `tests/interop/peer_server.py`) that prints what it observes as JSON lines;
//! the test reads them in order and asserts on both sides' observations:
//! message sizes from 0 B to 16 MiB (every payload length encoding of
//! RFC 6455 §5.2), fragmented messages (§5.4, with a ping between
//! fragments, §5.5), ping and pong with the same payload (§5.5.2, §5.5.3),
//! subprotocol negotiation (§1.9, §4), close codes and reasons both ways
//! (§5.5.1, §7.4), a protocol violation from each side, answered with
//! 1002 (§7.4.1), and full duplex through `split` (§1.1: 2,000 messages of
//! 32 KiB written by one thread while another reads the echoes).
//!
//! **permessage-deflate (RFC 7692)** is on by default on both sides, so
//! most tests here run compressed; those about the wire format itself (the
//! size sweep's length encodings, fragmentation, RSV1 as a violation) run
//! uncompressed, and the sweep, the fragments and the duplex run again
//! compressed. The `*_compress_*` tests go through websockets'
//! `Client/ServerPerMessageDeflateFactory` with 9-, 12- and 15-bit windows
//! and without context takeover, in both roles, and check: the
//! `Sec-WebSocket-Extensions` answer; what each side agreed (ours:
//! `WebSocket::compression`; theirs: its extension object); every message
//! of [`DEFLATE_MESSAGES`] intact both ways (under our 1 KiB threshold,
//! 2 KiB of noise twice, 10 KiB of text, 1 MiB of JSON, 64 KiB of noise,
//! 100 KiB of binary); and that compressed frames really went both ways:
//! the Python side counts, per message, RSV1 and the bytes on the wire
//! (`common.DeflateWatch`), and our client counts the bytes on its socket.
//! Context takeover shows in the sizes: the second copy of the 2 KiB of
//! noise costs a few bytes when the window is kept and reaches back over
//! it, as much as the first otherwise.
//!
//! Both sides build payloads with the same generator (`payload` here,
//! `common.payload` in Python), so each side checks what it received without
//! shipping the bytes across.
//!
//! The tests need an interpreter with the pinned `websockets`
//! (`tests/interop/requirements.txt`) in `WSLITE_PYTHON`, so they are
//! `#[ignore]`d; `tests/interop/run.sh` makes the virtual environment and runs
//! them with `--ignored`. Run with `--ignored` without a usable
//! `WSLITE_PYTHON`, they fail rather than pass silently.
//!
//! Every wait is bounded: peer processes are killed when their guard drops
//! or a wait runs out, sockets have read and write timeouts.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use wslite::permessage_deflate::negotiation::Agreed;
use wslite::{
    Accept, ClientBuilder, CloseCode, CloseFrame, Compression, Config, DataKind, Error, Message,
    Server, ServerHandle, WebSocket,
};

/// The longest any single wait on a peer may take (a line of output, a
/// message, a process exit). Generous: it bounds a hang, it measures nothing.
const WAIT: Duration = Duration::from_secs(30);

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;
/// The sizes of the sweep: the edges of the 7-bit, 16-bit and 64-bit length
/// encodings (RFC 6455 §5.2), then bulk. Same list as `common.SIZES`.
const SIZES: [usize; 8] = [0, 1, 125, 126, 65535, 65536, MIB, 16 * MIB];

/// The sizes of a sweep: all of [`SIZES`], or compressed up to 1 MiB
/// (compressing 16 MiB takes seconds in a debug build; python's
/// `echo-compressed`).
fn sweep(compressed: bool) -> impl Iterator<Item = usize> {
    SIZES
        .into_iter()
        .filter(move |&size| !compressed || size <= MIB)
}

/// Same as the constants of `common.py`.
const PY_CLOSE_REASON: &str = "bye ✓ from python";
const PING_PAYLOAD_PY: &[u8] = b"python ping \x00\xff";
const MID_PING_PAYLOAD: &[u8] = b"between fragments";
/// Ours.
const WSLITE_CLOSE_REASON: &str = "bye ✓ from wslite";
const PING_PAYLOAD_WSLITE: &[u8] = b"wslite ping \x00\xff";

// ---------------------------------------------------------------------------
// Payloads: tests/interop/generators.rs, the same bytes as `common.payload`
// in Python and `payload` in tests/interop-node/deflate_peer.mjs.

#[path = "interop/generators.rs"]
mod generators;
use generators::{generated_kind, generated_message, is_generated, payload};
#[path = "interop/deflate_checks.rs"]
#[macro_use]
mod deflate_checks;
use deflate_checks::{agreed, check_direction, Trip, DEFLATE_MESSAGES, THRESHOLD};

fn kind_name(kind: DataKind) -> &'static str {
    match kind {
        DataKind::Text => "text",
        DataKind::Binary => "binary",
    }
}

fn message(kind: DataKind, size: usize) -> Message {
    let data = payload(kind, size);
    match kind {
        DataKind::Text => Message::Text(String::from_utf8(data).unwrap()),
        DataKind::Binary => Message::Binary(data),
    }
}

/// The three pieces our side sends a fragmented message in: cut at a third
/// and two thirds, which for text falls inside characters.
fn thirds(data: &[u8]) -> [&[u8]; 3] {
    let (a, b) = (data.len() / 3, data.len() * 2 / 3);
    [&data[..a], &data[a..b], &data[b..]]
}

/// Sends `data` with `send_stream`: one frame per non-empty third, then the
/// final empty frame of `finish`. Returns the number of frames.
fn send_fragmented<S: Read + Write>(
    ws: &mut WebSocket<S>,
    kind: DataKind,
    data: &[u8],
) -> wslite::Result<usize> {
    let mut writer = ws.send_stream(kind);
    let mut frames = 1;
    for piece in thirds(data) {
        if !piece.is_empty() {
            writer.write_all(piece).map_err(Error::Io)?;
            frames += 1;
        }
    }
    writer.finish()?;
    Ok(frames)
}

/// The `Sec-WebSocket-Extensions` answer when both sides keep their
/// defaults: permessage-deflate with 12-bit (4 KiB) windows each way, which
/// both websockets and wslite choose.
const DEFAULT_ANSWER: &str =
    "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12";

/// Limits and timeouts of every wslite connection here: every wait bounded.
fn config() -> Config {
    Config::default()
        .read_timeout(Some(WAIT))
        .write_timeout(Some(WAIT))
}

// ---------------------------------------------------------------------------
// A small JSON reader for the peers' lines (the crate has no dependencies,
// and its tests take none beyond criterion and quickcheck).

#[derive(Clone, Debug, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

static NULL: Json = Json::Null;

impl std::ops::Index<&str> for Json {
    type Output = Json;
    fn index(&self, key: &str) -> &Json {
        match self {
            Json::Obj(fields) => fields
                .iter()
                .find(|(k, _)| k == key)
                .map_or(&NULL, |(_, v)| v),
            _ => &NULL,
        }
    }
}

impl Json {
    fn parse(text: &str) -> Result<Json, String> {
        let mut parser = JsonParser {
            s: text.as_bytes(),
            i: 0,
        };
        let value = parser.value()?;
        parser.skip_ws();
        if parser.i != parser.s.len() {
            return Err(format!("trailing bytes at {}", parser.i));
        }
        Ok(value)
    }

    fn str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    fn u64(&self) -> Option<u64> {
        match self {
            Json::Num(n) if *n >= 0.0 && n.fract() == 0.0 => Some(*n as u64),
            _ => None,
        }
    }

    fn bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn strs(&self) -> Option<Vec<&str>> {
        match self {
            Json::Arr(items) => items.iter().map(Json::str).collect(),
            _ => None,
        }
    }
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && b" \t\r\n".contains(&self.s[self.i]) {
            self.i += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Result<(), String> {
        self.skip_ws();
        if self.s.get(self.i) == Some(&byte) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected `{}` at {}", byte as char, self.i))
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(value)
        } else {
            Err(format!("bad literal at {}", self.i))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.skip_ws();
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut fields = Vec::new();
                self.skip_ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Obj(fields));
                }
                loop {
                    self.skip_ws();
                    let key = self.string()?;
                    self.eat(b':')?;
                    fields.push((key, self.value()?));
                    self.skip_ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Obj(fields));
                        }
                        _ => return Err(format!("expected `,` or `}}` at {}", self.i)),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Arr(items));
                }
                loop {
                    items.push(self.value()?);
                    self.skip_ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Arr(items));
                        }
                        _ => return Err(format!("expected `,` or `]` at {}", self.i)),
                    }
                }
            }
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(_) => {
                let start = self.i;
                while self.i < self.s.len() && b"+-.eE0123456789".contains(&self.s[self.i]) {
                    self.i += 1;
                }
                std::str::from_utf8(&self.s[start..self.i])
                    .ok()
                    .and_then(|n| n.parse().ok())
                    .map(Json::Num)
                    .ok_or_else(|| format!("bad number at {start}"))
            }
            None => Err("unexpected end".into()),
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self.s.get(self.i..self.i + 4).ok_or("short \\u escape")?;
        self.i += 4;
        std::str::from_utf8(digits)
            .ok()
            .and_then(|d| u32::from_str_radix(d, 16).ok())
            .ok_or_else(|| "bad \\u escape".into())
    }

    fn string(&mut self) -> Result<String, String> {
        self.eat(b'"')?;
        let mut out = Vec::new();
        loop {
            let byte = *self.s.get(self.i).ok_or("unterminated string")?;
            self.i += 1;
            match byte {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let escape = *self.s.get(self.i).ok_or("unterminated escape")?;
                    self.i += 1;
                    let c = match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let mut code = self.hex4()?;
                            if (0xD800..0xDC00).contains(&code) {
                                // A surrogate pair: the low half follows.
                                if !self.s[self.i..].starts_with(b"\\u") {
                                    return Err("lone surrogate".into());
                                }
                                self.i += 2;
                                let low = self.hex4()?;
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                            }
                            char::from_u32(code).ok_or("bad code point")?
                        }
                        _ => return Err(format!("bad escape at {}", self.i)),
                    };
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                _ => out.push(byte),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The Python side

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// The `websockets` version `tests/interop/requirements.txt` pins.
fn pinned_version() -> String {
    let path = interop_dir().join("requirements.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    text.lines()
        .find_map(|line| line.trim().strip_prefix("websockets=="))
        .unwrap_or_else(|| panic!("{path:?} does not pin websockets==VERSION"))
        .trim()
        .to_string()
}

/// The interpreter from `WSLITE_PYTHON`, checked once to have the pinned
/// `websockets`. Panics (failing the test) otherwise: these tests run only
/// when asked for, and then must not pass without a peer.
fn python() -> &'static Path {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let checked = PYTHON.get_or_init(|| {
        let python = std::env::var_os("WSLITE_PYTHON").ok_or(
            "WSLITE_PYTHON is not set; run tests/interop/run.sh, or set it to a Python with \
             the packages of tests/interop/requirements.txt",
        )?;
        let python = PathBuf::from(python);
        let mut check = Command::new(&python);
        check.args(["-c", "import websockets; print(websockets.__version__)"]);
        let mut peer = Peer::spawn("version check", check);
        let version = peer.line().unwrap_or_default();
        let status = peer.exit_status();
        if !status.success() {
            return Err(format!(
                "WSLITE_PYTHON={python:?} cannot import websockets ({status}): {}; \
                 run tests/interop/run.sh",
                peer.stderr()
            ));
        }
        let pinned = pinned_version();
        if version.trim() != pinned {
            return Err(format!(
                "WSLITE_PYTHON={python:?} has websockets {version}, but \
                 tests/interop/requirements.txt pins {pinned}"
            ));
        }
        Ok(python)
    });
    match checked {
        Ok(python) => python,
        Err(why) => panic!("{why}"),
    }
}

/// A child process whose stdout lines arrive through a channel. Killed (and
/// reaped) when dropped, so a failing test leaves nothing running.
struct Peer {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Peer {
    fn spawn(name: &str, mut command: Command) -> Peer {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: cannot start {command:?}: {e}"));
        let (tx, lines) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let mut pipe = child.stderr.take().unwrap();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Peer {
            name: name.to_string(),
            stdin: child.stdin.take(),
            child,
            lines,
            stderr,
        }
    }

    fn python(name: &str, script: &str, args: &[&str]) -> Peer {
        let mut command = Command::new(python());
        // -B: no __pycache__ in the source tree.
        command.arg("-B").arg(interop_dir().join(script)).args(args);
        Peer::spawn(name, command)
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The next line of output, or `None` at its end.
    fn line(&mut self) -> Option<String> {
        match self.lines.recv_timeout(WAIT) {
            Ok(line) => Some(line),
            Err(RecvTimeoutError::Disconnected) => None,
            Err(RecvTimeoutError::Timeout) => panic!(
                "{}: no output within {WAIT:?}; stderr:\n{}",
                self.name,
                self.stderr()
            ),
        }
    }

    /// The next observation, which must be the event `event`.
    fn expect(&mut self, event: &str) -> Json {
        let Some(line) = self.line() else {
            thread::sleep(Duration::from_millis(100));
            panic!(
                "{}: output ended while waiting for {event:?}; stderr:\n{}",
                self.name,
                self.stderr()
            )
        };
        let json = Json::parse(&line)
            .unwrap_or_else(|e| panic!("{}: not a JSON line ({e}): {line}", self.name));
        assert_eq!(
            json["event"].str(),
            Some(event),
            "{}: expected event {event:?}, got {line}; stderr:\n{}",
            self.name,
            self.stderr()
        );
        json
    }

    /// Waits (bounded) for the process to exit; kills it if it does not.
    fn exit_status(&mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "{}: did not exit within {WAIT:?}; stderr:\n{}",
                    self.name,
                    self.stderr()
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for a successful exit, and for the end of the output.
    fn finish(mut self) {
        let status = self.exit_status();
        let rest: Vec<String> = std::iter::from_fn(|| self.lines.recv_timeout(WAIT).ok()).collect();
        assert!(
            status.success(),
            "{}: exited with {status}; output after the last expected line:\n{}\nstderr:\n{}",
            self.name,
            rest.join("\n"),
            self.stderr()
        );
        assert!(
            rest.is_empty(),
            "{}: unexpected output:\n{}",
            self.name,
            rest.join("\n")
        );
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// `peer_client.py` running `scenario` against our server at `url`.
fn python_client(url: &str, scenario: &str) -> Peer {
    Peer::python(
        &format!("peer_client.py {scenario}"),
        "peer_client.py",
        &[url, scenario],
    )
}

/// `peer_client.py` running `scenario` with the permessage-deflate offer
/// `deflate` ("off", or the JSON arguments of websockets'
/// `ClientPerMessageDeflateFactory`).
fn python_client_with(url: &str, scenario: &str, deflate: &str) -> Peer {
    Peer::python(
        &format!("peer_client.py {scenario} {deflate}"),
        "peer_client.py",
        &[url, scenario, deflate],
    )
}

/// `peer_server.py`, listening.
struct PythonServer {
    peer: Peer,
    port: u16,
}

impl PythonServer {
    fn start() -> PythonServer {
        PythonServer::start_with(None)
    }

    /// With `deflate` ("off", or the JSON arguments of websockets'
    /// `ServerPerMessageDeflateFactory`), or websockets' default
    /// compression.
    fn start_with(deflate: Option<&str>) -> PythonServer {
        let mut args = vec!["--lifetime", "120"];
        if let Some(deflate) = deflate {
            args.extend(["--deflate", deflate]);
        }
        let name = format!("peer_server.py {}", deflate.unwrap_or_default());
        let mut peer = Peer::python(&name, "peer_server.py", &args);
        let listening = peer.expect("listening");
        let port = listening["port"].u64().expect("port") as u16;
        PythonServer { peer, port }
    }

    /// Our client, connected to `path`, offering `protocols`.
    fn connect(&mut self, path: &str, protocols: &[&str]) -> WebSocket<TcpStream> {
        self.connect_and_open(path, protocols).0
    }

    /// Our client, connected, and the Python server's `open` line; both
    /// sides' defaults agree permessage-deflate with 12-bit windows.
    fn connect_and_open(&mut self, path: &str, protocols: &[&str]) -> (WebSocket<TcpStream>, Json) {
        let (ws, open) = self.connect_with(path, protocols, config());
        assert_eq!(open["extensions"].str(), Some(DEFAULT_ANSWER), "{open:?}");
        assert_eq!(agreed(&ws.compression()), Some((12, 12, false, false)));
        (ws, open)
    }

    /// Our client without compression: nothing offered, nothing agreed.
    fn connect_uncompressed(&mut self, path: &str) -> WebSocket<TcpStream> {
        let (ws, open) = self.connect_with(path, &[], config().compression(None));
        assert_eq!(open["extensions"], Json::Null, "{open:?}");
        assert_eq!(ws.compression(), None);
        ws
    }

    /// Our client with `config`, connected, and the Python server's `open`
    /// line.
    fn connect_with(
        &mut self,
        path: &str,
        protocols: &[&str],
        config: Config,
    ) -> (WebSocket<TcpStream>, Json) {
        let url = format!("ws://127.0.0.1:{}{path}", self.port);
        let mut builder = ClientBuilder::new(&url).config(config);
        for protocol in protocols {
            builder = builder.protocol(*protocol);
        }
        let ws = builder
            .connect()
            .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
        let open = self.peer.expect("open");
        assert_eq!(open["path"].str(), Some(path));
        (ws, open)
    }

    fn expect(&mut self, event: &str) -> Json {
        self.peer.expect(event)
    }

    /// The end of a connection, as the Python server saw it.
    fn closed(&mut self) -> Json {
        let closed = self.peer.expect("closed");
        assert_eq!(closed["error"], Json::Null, "Python server: {closed:?}");
        closed
    }
}

// ---------------------------------------------------------------------------
// Our side: a scripted wslite server

/// What our server saw, in order.
#[derive(Debug)]
enum Seen {
    /// The subprotocols the client offered (from the request callback).
    Offered(Vec<String>),
    /// The handshake is done; the subprotocol and the permessage-deflate
    /// parameters agreed.
    Open(Option<String>, Option<Agreed>),
    /// A data message: its kind, size, and whether it matches `payload`.
    Data {
        kind: DataKind,
        size: usize,
        intact: bool,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<CloseFrame>),
    /// What our `close` returned.
    Closed(wslite::Result<()>),
    /// What ended the read loop.
    Failed(Error),
    /// The handler returned.
    End,
}

/// How the scripted server sends its echo.
#[derive(Clone, Copy, Debug)]
enum Echo {
    /// One frame per message.
    Whole,
    /// In fragments, with `send_stream`.
    Fragmented,
}

/// A wslite `Server` that runs [`scripted_connection`] on every connection
/// and reports what it sees through a channel.
struct ScriptedServer {
    handle: Option<ServerHandle>,
    port: u16,
    seen: Receiver<Seen>,
}

impl ScriptedServer {
    fn start(echo: Echo) -> ScriptedServer {
        ScriptedServer::start_with(echo, config())
    }

    fn start_with(echo: Echo, config: Config) -> ScriptedServer {
        let (tx, seen) = mpsc::channel();
        let offered_tx = tx.clone();
        let server = Server::bind("127.0.0.1:0")
            .expect("bind")
            .config(config)
            .on_request(move |request| {
                let offered: Vec<String> = request.protocols().map(String::from).collect();
                let chosen = offered.iter().find(|p| *p == "chat.v2").cloned();
                let _ = offered_tx.send(Seen::Offered(offered));
                Ok(match chosen {
                    Some(protocol) => Accept::new().protocol(protocol),
                    None => Accept::new(),
                })
            });
        let port = server.local_addr().expect("local_addr").port();
        let handle = server
            .spawn(move |ws| scripted_connection(ws, echo, &tx))
            .expect("spawn");
        ScriptedServer {
            handle: Some(handle),
            port,
            seen,
        }
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/", self.port)
    }

    /// Everything one connection saw, up to the end of its handler.
    fn connection(&self) -> Vec<Seen> {
        let mut all = Vec::new();
        loop {
            match self.seen.recv_timeout(WAIT) {
                Ok(Seen::End) => return all,
                Ok(seen) => all.push(seen),
                Err(e) => panic!("our server: {e} waiting for a connection to end; saw {all:?}"),
            }
        }
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.shutdown();
        }
    }
}

/// Writes bytes straight onto a connection's socket, past wslite's encoder
/// (the socket is shared with the server, so only `&TcpStream` reaches it).
fn raw_write(stream: &TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    let mut stream = stream;
    stream.write_all(bytes)
}

/// One connection of the scripted server: echo data messages, report
/// everything, and obey a few text commands from the Python client.
fn scripted_connection(mut ws: WebSocket<TcpStream>, echo: Echo, seen: &Sender<Seen>) {
    let note = |s: Seen| {
        let _ = seen.send(s);
    };
    note(Seen::Open(
        ws.protocol().map(String::from),
        ws.compression(),
    ));
    loop {
        let message = match ws.read() {
            Ok(message) => message,
            Err(e) => {
                note(Seen::Failed(e));
                break;
            }
        };
        let result = match message {
            Message::Text(command) if command == "close me" => {
                note(Seen::Closed(
                    ws.close(CloseCode(4002), WSLITE_CLOSE_REASON).map(|_| ()),
                ));
                break;
            }
            // Reserved opcode 0x3, FIN, unmasked, empty: straight onto the
            // TCP stream, past wslite's encoder.
            Message::Text(command) if command == "violate opcode" => {
                raw_write(ws.get_ref(), &[0x83, 0x00]).map_err(Error::Io)
            }
            // RSV1 set (no extension was negotiated), FIN, text, empty.
            Message::Text(command) if command == "violate rsv" => {
                raw_write(ws.get_ref(), &[0xC1, 0x00]).map_err(Error::Io)
            }
            Message::Text(command) if command == "ping me" => ws.ping(PING_PAYLOAD_WSLITE),
            Message::Ping(data) => {
                note(Seen::Ping(data));
                Ok(())
            }
            Message::Pong(data) => {
                note(Seen::Pong(data));
                Ok(())
            }
            Message::Close(frame) => {
                note(Seen::Close(frame));
                Ok(())
            }
            data => {
                let kind = match data {
                    Message::Text(_) => DataKind::Text,
                    _ => DataKind::Binary,
                };
                let size = data.len();
                note(Seen::Data {
                    kind,
                    size,
                    intact: is_generated(kind, data.as_bytes()),
                });
                match echo {
                    Echo::Whole => ws.send(data),
                    Echo::Fragmented => send_fragmented(&mut ws, kind, data.as_bytes()).map(|_| ()),
                }
            }
        };
        if let Err(e) = result {
            note(Seen::Failed(e));
            break;
        }
    }
    note(Seen::End);
}

/// A close frame's code and reason.
fn code_and_reason(frame: &Option<CloseFrame>) -> Option<(u16, &str)> {
    frame.as_ref().map(|f| (f.code.0, f.reason.as_str()))
}

/// Checks a Python client's `open` line: the version pinned, and
/// permessage-deflate agreed as both sides do by default (websockets offers
/// it with `client_max_window_bits`; our server answers with 12-bit
/// windows).
fn expect_open(client: &mut Peer) -> Json {
    expect_open_with(client, Some(DEFAULT_ANSWER))
}

/// The same, with the `Sec-WebSocket-Extensions` answer expected (`None`:
/// no extension agreed).
fn expect_open_with(client: &mut Peer, answer: Option<&str>) -> Json {
    let open = client.expect("open");
    assert_eq!(open["version"].str(), Some(pinned_version().as_str()));
    assert_eq!(open["extensions"].str(), answer, "{open:?}");
    open
}

// ---------------------------------------------------------------------------
// Their client, our server

#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_server_echoes_every_size_to_python() {
    // Uncompressed, so that the sizes are those of the frames' length
    // encodings (RFC 6455 §5.2).
    our_server_echoes_every_size(false);
}

/// The same sweep compressed both ways (RFC 7692), up to 16 MiB through
/// each side's inflater.
#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_server_echoes_every_size_compressed_to_python() {
    our_server_echoes_every_size(true);
}

fn our_server_echoes_every_size(compressed: bool) {
    let server = ScriptedServer::start(Echo::Whole);
    let mut client = if compressed {
        let mut client = python_client(&server.url(), "echo-compressed");
        expect_open(&mut client);
        client
    } else {
        let mut client = python_client_with(&server.url(), "echo", "off");
        expect_open_with(&mut client, None);
        client
    };
    for kind in [DataKind::Text, DataKind::Binary] {
        for size in sweep(compressed) {
            let echo = client.expect("echo");
            let what = format!("{} of {size} bytes: {echo:?}", kind_name(kind));
            assert_eq!(echo["kind"].str(), Some(kind_name(kind)), "{what}");
            assert_eq!(echo["size"].u64(), Some(size as u64), "{what}");
            assert_eq!(echo["got_kind"].str(), Some(kind_name(kind)), "{what}");
            assert_eq!(echo["got_size"].u64(), Some(size as u64), "{what}");
            assert_eq!(echo["intact"].bool(), Some(true), "{what}");
        }
    }
    let closed = client.expect("closed");
    assert_eq!(closed["code"].u64(), Some(1000), "{closed:?}");
    client.finish();

    let seen = server.connection();
    let mut seen = seen.iter();
    assert!(matches!(seen.next(), Some(Seen::Offered(o)) if o.is_empty()));
    assert!(
        matches!(seen.next(), Some(Seen::Open(None, agreed)) if agreed.is_some() == compressed)
    );
    for kind in [DataKind::Text, DataKind::Binary] {
        for size in sweep(compressed) {
            match seen.next() {
                Some(Seen::Data {
                    kind: k,
                    size: s,
                    intact,
                }) => assert_eq!((*k, *s, *intact), (kind, size, true), "our server received"),
                other => panic!("expected {kind:?} of {size} bytes, saw {other:?}"),
            }
        }
    }
    assert!(
        matches!(seen.next(), Some(Seen::Close(f)) if code_and_reason(f) == Some((1000, ""))),
        "websockets closes with 1000"
    );
    assert!(matches!(
        seen.next(),
        Some(Seen::Failed(Error::ConnectionClosed))
    ));
    assert!(seen.next().is_none());
}

#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_server_and_python_client_exchange_fragmented_messages() {
    our_server_and_python_client_exchange_fragments(false);
}

/// The same compressed: websockets compresses each fragment of its
/// messages (RSV1 on the first), with a ping between two of them.
#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_server_and_python_client_exchange_compressed_fragmented_messages() {
    our_server_and_python_client_exchange_fragments(true);
}

fn our_server_and_python_client_exchange_fragments(compressed: bool) {
    let server = ScriptedServer::start(Echo::Fragmented);
    let mut client = if compressed {
        let mut client = python_client(&server.url(), "fragments");
        expect_open(&mut client);
        client
    } else {
        let mut client = python_client_with(&server.url(), "fragments", "off");
        expect_open_with(&mut client, None);
        client
    };
    // Our echoes, as websockets received them: uncompressed, three
    // fragments and the empty final one of `finish`; compressed, the
    // deflater's frames (RFC 7692 lets an extension change fragmentation,
    // and wslite's deflater holds a small streamed message until `finish`).
    for (kind, size) in [
        (DataKind::Text, 1000),
        (DataKind::Binary, MIB),
        (DataKind::Binary, 300),
    ] {
        let echo = client.expect("echo");
        let what = format!("{} of {size} bytes: {echo:?}", kind_name(kind));
        assert_eq!(echo["kind"].str(), Some(kind_name(kind)), "{what}");
        assert_eq!(echo["size"].u64(), Some(size as u64), "{what}");
        if !compressed {
            assert_eq!(echo["frames"].u64(), Some(4), "{what}");
        }
        assert_eq!(echo["intact"].bool(), Some(true), "{what}");
    }
    client.expect("closed");
    client.finish();

    let seen = server.connection();
    let data: Vec<_> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Data { kind, size, intact } => Some((*kind, *size, *intact)),
            _ => None,
        })
        .collect();
    assert_eq!(
        data,
        [
            (DataKind::Text, 1000, true),
            (DataKind::Binary, MIB, true),
            (DataKind::Binary, 300, true)
        ],
        "our server reassembled: {seen:?}"
    );
    // The ping sent between the two fragments of the last message came out
    // of `read` before that message.
    let ping_at = seen
        .iter()
        .position(|s| matches!(s, Seen::Ping(p) if p == MID_PING_PAYLOAD))
        .unwrap_or_else(|| panic!("no ping between fragments: {seen:?}"));
    assert!(
        matches!(seen[ping_at + 1], Seen::Data { size: 300, .. }),
        "{seen:?}"
    );
}

#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_server_and_python_client_ping_each_other() {
    let server = ScriptedServer::start(Echo::Whole);
    let mut client = python_client(&server.url(), "ping");
    expect_open(&mut client);
    // websockets resolves a ping's future only on a pong with its payload.
    let pong = client.expect("pong");
    assert_eq!(pong["payload"].str(), Some(hex(PING_PAYLOAD_PY).as_str()));
    let ping = client.expect("ping");
    assert_eq!(
        ping["payload"].str(),
        Some(hex(PING_PAYLOAD_WSLITE).as_str())
    );
    client.expect("closed");
    client.finish();

    let seen = server.connection();
    assert!(
        seen.iter()
            .any(|s| matches!(s, Seen::Ping(p) if p == PING_PAYLOAD_PY)),
        "our server saw Python's ping: {seen:?}"
    );
    assert!(
        seen.iter()
            .any(|s| matches!(s, Seen::Pong(p) if p == PING_PAYLOAD_WSLITE)),
        "our server got the pong to its ping: {seen:?}"
    );
}

#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_server_agrees_a_subprotocol_with_python() {
    let server = ScriptedServer::start(Echo::Whole);
    let mut client = python_client(&server.url(), "subprotocol");
    let open = expect_open(&mut client);
    assert_eq!(open["subprotocol"].str(), Some("chat.v2"));
    let reported = client.expect("subprotocol");
    assert_eq!(reported["subprotocol"].str(), Some("chat.v2"));
    client.expect("closed");
    client.finish();

    let seen = server.connection();
    assert!(
        matches!(&seen[..2], [Seen::Offered(o), Seen::Open(Some(p), _)]
            if o == &["chat.v1", "chat.v2"] && p == "chat.v2"),
        "our server saw the offer and agreed chat.v2: {seen:?}"
    );
}

#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_server_and_python_client_close_with_code_and_reason() {
    let server = ScriptedServer::start(Echo::Whole);

    // Python closes: our server reads its code and reason.
    let mut client = python_client(&server.url(), "close-by-python");
    expect_open(&mut client);
    let closed = client.expect("closed");
    assert_eq!(closed["sent_code"].u64(), Some(4001), "{closed:?}");
    assert_eq!(closed["sent_reason"].str(), Some(PY_CLOSE_REASON));
    // wslite answers with the same code (RFC 6455 §5.5.1).
    assert_eq!(closed["rcvd_code"].u64(), Some(4001), "{closed:?}");
    client.finish();
    let seen = server.connection();
    assert!(
        seen.iter().any(|s| matches!(s, Seen::Close(f)
            if code_and_reason(f) == Some((4001, PY_CLOSE_REASON)))),
        "our server read Python's code and reason: {seen:?}"
    );

    // Our server closes: Python reads our code and reason.
    let mut client = python_client(&server.url(), "close-by-wslite");
    expect_open(&mut client);
    let closed = client.expect("closed");
    assert_eq!(closed["code"].u64(), Some(4002), "{closed:?}");
    assert_eq!(
        closed["reason"].str(),
        Some(WSLITE_CLOSE_REASON),
        "{closed:?}"
    );
    assert_eq!(closed["rcvd_code"].u64(), Some(4002), "{closed:?}");
    client.finish();
    let seen = server.connection();
    assert!(
        matches!(seen.last(), Some(Seen::Closed(Ok(())))),
        "our close() completed the handshake: {seen:?}"
    );
}

#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn python_client_protocol_violation_gets_1002_from_our_server() {
    let server = ScriptedServer::start(Echo::Whole);
    // The client offers no compression in these (see peer_client.py):
    // with permessage-deflate agreed, RSV1 on a data frame is allowed.
    for scenario in ["violate-opcode", "violate-rsv"] {
        let mut client = python_client(&server.url(), scenario);
        expect_open_with(&mut client, None);
        let closed = client.expect("closed");
        assert_eq!(closed["code"].u64(), Some(1002), "{scenario}: {closed:?}");
        assert_eq!(
            closed["rcvd_code"].u64(),
            Some(1002),
            "{scenario}: {closed:?}"
        );
        client.finish();

        let seen = server.connection();
        let failure = match seen.last() {
            Some(Seen::Failed(e)) => e,
            other => panic!("{scenario}: our server's read should fail, saw {other:?}"),
        };
        match scenario {
            "violate-opcode" => assert!(
                matches!(failure, Error::ReservedOpcode { opcode: 3 }),
                "{failure:?}"
            ),
            _ => assert!(
                matches!(failure, Error::ReservedBitsSet { rsv: 0b100 }),
                "{failure:?}"
            ),
        }
        assert_eq!(failure.close_code(), Some(CloseCode::PROTOCOL_ERROR));
    }
}

#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_server_protocol_violation_gets_1002_from_python() {
    let server = ScriptedServer::start(Echo::Whole);
    for scenario in ["await-opcode", "await-rsv"] {
        let mut client = python_client(&server.url(), scenario);
        expect_open_with(&mut client, None);
        let closed = client.expect("closed");
        // websockets failed the connection with 1002; our answer echoed it.
        assert_eq!(
            closed["sent_code"].u64(),
            Some(1002),
            "{scenario}: {closed:?}"
        );
        client.finish();

        let seen = server.connection();
        assert!(
            seen.iter().any(
                |s| matches!(s, Seen::Close(f) if code_and_reason(f).map(|c| c.0) == Some(1002))
            ),
            "{scenario}: our server read Python's 1002: {seen:?}"
        );
        assert!(
            matches!(seen.last(), Some(Seen::Failed(Error::ConnectionClosed))),
            "{scenario}: {seen:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Our client, their server

#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_client_gets_every_size_echoed_by_python() {
    // Uncompressed, so that the sizes are those of the frames' length
    // encodings (RFC 6455 §5.2).
    our_client_gets_every_size_echoed(false);
}

/// The same sweep compressed both ways (RFC 7692).
#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_client_gets_every_size_echoed_compressed_by_python() {
    our_client_gets_every_size_echoed(true);
}

fn our_client_gets_every_size_echoed(compressed: bool) {
    let mut server = PythonServer::start();
    let mut ws = if compressed {
        server.connect("/echo", &[])
    } else {
        server.connect_uncompressed("/echo")
    };
    for kind in [DataKind::Text, DataKind::Binary] {
        for size in sweep(compressed) {
            let sent = message(kind, size);
            ws.send(sent.clone()).expect("send");
            let echo = ws.read().expect("read the echo");
            assert!(
                echo == sent,
                "{} of {size} bytes came back as {:?} of {} bytes",
                kind_name(kind),
                std::mem::discriminant(&echo),
                echo.len()
            );
        }
    }
    ws.close(CloseCode::NORMAL, "").expect("close");
    for kind in [DataKind::Text, DataKind::Binary] {
        for size in sweep(compressed) {
            let seen = server.expect("message");
            let what = format!("{} of {size} bytes: {seen:?}", kind_name(kind));
            assert_eq!(seen["kind"].str(), Some(kind_name(kind)), "{what}");
            assert_eq!(seen["size"].u64(), Some(size as u64), "{what}");
            assert_eq!(seen["intact"].bool(), Some(true), "{what}");
            if compressed {
                // Ours compressed from the threshold up, in frames of at
                // most 16 KiB of DEFLATE data.
                let received = on_the_wire(&seen["received"]);
                assert_eq!(received.rsv1, size >= THRESHOLD, "{what}");
                assert_eq!(received.inflated, Some(size as u64), "{what}");
            } else {
                assert_eq!(seen["frames"].u64(), Some(1), "{what}");
                assert_eq!(seen["received"], Json::Null, "{what}");
            }
        }
    }
    let closed = server.closed();
    assert_eq!(closed["code"].u64(), Some(1000), "{closed:?}");
}

#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_client_and_python_server_exchange_fragmented_messages() {
    let mut server = PythonServer::start();

    // Ours to theirs: `send_stream`, three writes and `finish`,
    // uncompressed, so that each write is a frame.
    let mut ws = server.connect_uncompressed("/echo");
    for (kind, size) in [(DataKind::Text, 1000), (DataKind::Binary, MIB)] {
        let data = payload(kind, size);
        let frames = send_fragmented(&mut ws, kind, &data).expect("send_stream");
        assert_eq!(frames, 4);
        let seen = server.expect("message");
        let what = format!("{} of {size} bytes: {seen:?}", kind_name(kind));
        assert_eq!(seen["kind"].str(), Some(kind_name(kind)), "{what}");
        assert_eq!(seen["size"].u64(), Some(size as u64), "{what}");
        assert_eq!(seen["frames"].u64(), Some(frames as u64), "{what}");
        assert_eq!(seen["intact"].bool(), Some(true), "{what}");
        assert_eq!(ws.read().expect("echo").as_bytes(), data);
    }
    ws.close(CloseCode::NORMAL, "").expect("close");
    server.closed();

    // Theirs to ours: text cut inside characters, 1 MiB in 64 KiB frames, a
    // ping between two fragments; compressed by websockets, each fragment
    // with a sync flush of its own (RFC 7692 §7.2.1).
    let mut ws = server.connect("/fragments", &[]);
    assert_eq!(ws.read().expect("text"), message(DataKind::Text, 1000));
    assert_eq!(ws.read().expect("binary"), message(DataKind::Binary, MIB));
    assert_eq!(
        ws.read().expect("ping between fragments"),
        Message::Ping(MID_PING_PAYLOAD.to_vec())
    );
    assert_eq!(
        ws.read().expect("binary around the ping"),
        message(DataKind::Binary, 300)
    );
    server.expect("sent");
    ws.close(CloseCode::NORMAL, "").expect("close");
    let closed = server.closed();
    assert_eq!(closed["code"].u64(), Some(1000), "{closed:?}");
}

#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_client_and_python_server_ping_each_other() {
    let mut server = PythonServer::start();
    let mut ws = server.connect("/ping", &[]);
    // Their ping comes out of `read`, already answered.
    assert_eq!(
        ws.read().expect("ping"),
        Message::Ping(PING_PAYLOAD_PY.to_vec())
    );
    let pong = server.expect("pong");
    assert_eq!(pong["payload"].str(), Some(hex(PING_PAYLOAD_PY).as_str()));
    assert_eq!(ws.read().expect("text"), Message::text("pong received"));
    // Our ping.
    ws.ping(PING_PAYLOAD_WSLITE).expect("ping");
    assert_eq!(
        ws.read().expect("pong"),
        Message::Pong(PING_PAYLOAD_WSLITE.to_vec())
    );
    let ping = server.expect("ping");
    assert_eq!(
        ping["payload"].str(),
        Some(hex(PING_PAYLOAD_WSLITE).as_str())
    );
    ws.close(CloseCode::NORMAL, "").expect("close");
    server.closed();
}

#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_client_agrees_a_subprotocol_with_python() {
    let mut server = PythonServer::start();
    let (mut ws, open) = server.connect_and_open("/echo", &["chat.v1", "chat.v2"]);
    assert_eq!(ws.protocol(), Some("chat.v2"));
    assert_eq!(open["offered"].strs(), Some(vec!["chat.v1", "chat.v2"]));
    assert_eq!(open["subprotocol"].str(), Some("chat.v2"));
    ws.close(CloseCode::NORMAL, "").expect("close");
    server.closed();
}

#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_client_and_python_server_close_with_code_and_reason() {
    let mut server = PythonServer::start();

    // We close: Python reads our code and reason.
    let mut ws = server.connect("/echo", &[]);
    ws.close(CloseCode(4003), WSLITE_CLOSE_REASON)
        .expect("close");
    let closed = server.closed();
    assert_eq!(closed["code"].u64(), Some(4003), "{closed:?}");
    assert_eq!(
        closed["reason"].str(),
        Some(WSLITE_CLOSE_REASON),
        "{closed:?}"
    );

    // Python closes: we read its code and reason.
    let mut ws = server.connect("/close", &[]);
    match ws.read().expect("close") {
        Message::Close(frame) => assert_eq!(
            code_and_reason(&frame),
            Some((4004, PY_CLOSE_REASON)),
            "{frame:?}"
        ),
        other => panic!("expected Python's close, got {other:?}"),
    }
    assert!(matches!(ws.read(), Err(Error::ConnectionClosed)));
    // Dropping the connection closes TCP, which the server waits for
    // (RFC 6455 §7.1.1). (`read` itself should have; see
    // `bug_client_keeps_tcp_open_after_answering_the_servers_close`.)
    drop(ws);
    let closed = server.closed();
    assert_eq!(closed["sent_code"].u64(), Some(4004), "{closed:?}");
    assert_eq!(
        closed["rcvd_code"].u64(),
        Some(4004),
        "our answer: {closed:?}"
    );
}

#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn python_server_protocol_violation_gets_1002_from_our_client() {
    let mut server = PythonServer::start();
    // Without compression: with permessage-deflate agreed, RSV1 on a data
    // frame is allowed.
    for path in ["/violate-opcode", "/violate-rsv"] {
        let mut ws = server.connect_uncompressed(path);
        let failure = ws.read().expect_err("a protocol error");
        match path {
            "/violate-opcode" => assert!(
                matches!(failure, Error::ReservedOpcode { opcode: 3 }),
                "{path}: {failure:?}"
            ),
            _ => assert!(
                matches!(failure, Error::ReservedBitsSet { rsv: 0b100 }),
                "{path}: {failure:?}"
            ),
        }
        drop(ws);
        let closed = server.closed();
        assert_eq!(closed["code"].u64(), Some(1002), "{path}: {closed:?}");
        assert_eq!(closed["rcvd_code"].u64(), Some(1002), "{path}: {closed:?}");
    }
}

#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_client_protocol_violation_gets_1002_from_python() {
    let mut server = PythonServer::start();
    // Client to server frames are masked (here with an all-zero key), so the
    // only fault is the one named.
    for (what, raw) in [
        ("reserved opcode", [0x83, 0x80, 0, 0, 0, 0]),
        ("RSV1", [0xC1, 0x80, 0, 0, 0, 0]),
    ] {
        let mut ws = server.connect_uncompressed("/echo");
        raw_write(ws.get_ref(), &raw).expect("raw write");
        match ws.read().expect("Python's close") {
            Message::Close(frame) => assert_eq!(
                code_and_reason(&frame).map(|c| c.0),
                Some(1002),
                "{what}: {frame:?}"
            ),
            other => panic!("{what}: expected Python's close, got {other:?}"),
        }
        assert!(matches!(ws.read(), Err(Error::ConnectionClosed)));
        // See `bug_client_keeps_tcp_open_after_answering_the_servers_close`.
        drop(ws);
        let closed = server.closed();
        assert_eq!(closed["sent_code"].u64(), Some(1002), "{what}: {closed:?}");
    }
}

/// Messages of the split duplex test, and the size of each.
const DUPLEX_COUNT: usize = 2000;
const DUPLEX_SIZE: usize = 32 * KIB;
/// The bound on the whole split duplex test, from its start: far more than
/// the exchange takes (about a second), well inside a minute.
const DUPLEX_BOUND: Duration = Duration::from_secs(40);

/// The messages of the split duplex test: message `seq` is its sequence
/// number (4 bytes, big-endian), then `DUPLEX_SIZE - 4` bytes of `payload`
/// from an offset that depends on `seq`, so that no two neighbours are
/// alike. Made before the exchange, so that the writer does nothing between
/// two sends but send.
fn duplex_messages(count: usize) -> Vec<Vec<u8>> {
    let base = payload(DataKind::Binary, DUPLEX_SIZE + 251);
    (0..count)
        .map(|seq| {
            let at = seq % 251;
            let mut data = Vec::with_capacity(DUPLEX_SIZE);
            data.extend_from_slice(&(seq as u32).to_be_bytes());
            data.extend_from_slice(&base[at..at + DUPLEX_SIZE - 4]);
            data
        })
        .collect()
}

/// Full duplex through `split` (RFC 6455 §1.1: either side may send at any
/// time): one thread writes 2,000 messages of 32 KiB back to back while
/// another reads the echoes. Python's server echoes one message at a time
/// and takes no more from the socket while an echo waits for it to drain:
/// if our reader cannot take echoes while the writer is blocked sending,
/// both sides stall. Every echo must come back whole and in order, then the
/// writer's close must complete the closing handshake with the reader.
///
/// The whole test is bounded by [`DUPLEX_BOUND`]: past it, the Python
/// server is killed (which ends our blocked reads and writes) and the test
/// fails with how far each half got. A stall usually ends sooner: Python's
/// server gives up on a connection after 20 s and resets it, which fails
/// our blocked send; the failure then quotes Python's report of it
/// (`"error": "timed out: behaviour"`).
#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_split_client_writes_and_reads_at_once_with_python() {
    // Uncompressed: the bytes on the wire are the messages', enough to
    // fill both directions' socket buffers.
    split_duplex(false, DUPLEX_COUNT);
}

/// The same compressed, with fewer messages (compressing is slow in a
/// debug build): the reader inflates on one thread while the writer
/// compresses on another (RFC 7692 keeps one context per direction).
#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_split_client_writes_and_reads_compressed_at_once_with_python() {
    split_duplex(true, DUPLEX_COUNT / 10);
}

fn split_duplex(compressed: bool, count: usize) {
    let deadline = Instant::now() + DUPLEX_BOUND;
    let mut server = PythonServer::start();
    let ws = if compressed {
        server.connect("/echo-count", &[])
    } else {
        server.connect_uncompressed("/echo-count")
    };
    let (mut reader, writer) = ws.split().expect("split");
    let messages = Arc::new(duplex_messages(count));
    let sent = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(AtomicUsize::new(0));
    let (all_read_tx, all_read) = mpsc::channel::<()>();
    let (done_tx, done) = mpsc::channel::<Result<&str, String>>();

    // The writer: every message back to back; then, once the reader has all
    // the echoes, the close.
    {
        let (messages, sent, done_tx) = (Arc::clone(&messages), Arc::clone(&sent), done_tx.clone());
        thread::spawn(move || {
            let result = (|| {
                for (seq, message) in messages.iter().enumerate() {
                    writer
                        .send_binary(message)
                        .map_err(|e| format!("writer: sending message {seq}: {e}"))?;
                    sent.fetch_add(1, Ordering::SeqCst);
                }
                all_read
                    .recv_timeout(DUPLEX_BOUND)
                    .map_err(|e| format!("writer: {e} waiting for the reader"))?;
                writer
                    .close(CloseCode::NORMAL, "duplex done")
                    .map_err(|e| format!("writer: close: {e}"))?;
                Ok("writer")
            })();
            let _ = done_tx.send(result);
        });
    }
    // The reader: every echo, in order and intact; then Python's answer to
    // our Close, and the end of the connection.
    {
        let received = Arc::clone(&received);
        thread::spawn(move || {
            let result = (|| {
                for seq in 0..count {
                    let data = match reader.read() {
                        Ok(Message::Binary(data)) => data,
                        Ok(other) => {
                            return Err(format!(
                                "reader: echo {seq} is {:?} of {} bytes",
                                std::mem::discriminant(&other),
                                other.len()
                            ))
                        }
                        Err(e) => return Err(format!("reader: reading echo {seq}: {e}")),
                    };
                    if data.len() != DUPLEX_SIZE {
                        return Err(format!("reader: echo {seq} has {} bytes", data.len()));
                    }
                    let number = u32::from_be_bytes(data[..4].try_into().unwrap()) as usize;
                    if number != seq {
                        return Err(format!("reader: echo {seq} carries number {number}"));
                    }
                    if data != messages[seq] {
                        return Err(format!("reader: echo {seq} has the wrong content"));
                    }
                    received.fetch_add(1, Ordering::SeqCst);
                }
                let _ = all_read_tx.send(());
                match reader.read() {
                    Ok(Message::Close(frame))
                        if code_and_reason(&frame) == Some((1000, "duplex done")) => {}
                    other => {
                        return Err(format!(
                            "reader: expected the answer to our Close, got {other:?}"
                        ))
                    }
                }
                match reader.read() {
                    Err(Error::ConnectionClosed) => Ok("reader"),
                    other => Err(format!(
                        "reader: expected the end of the connection, got {other:?}"
                    )),
                }
            })();
            let _ = done_tx.send(result);
        });
    }

    // The watchdog: both halves report by the deadline, or the test fails.
    for _ in 0..2 {
        let left = deadline.saturating_duration_since(Instant::now());
        let failure = match done.recv_timeout(left) {
            Ok(Ok(_)) => continue,
            Ok(Err(why)) => why,
            Err(_) => format!("stalled: not both halves done {DUPLEX_BOUND:?} into the test"),
        };
        let progress = format!(
            "{} of {count} messages sent, {} echoes read",
            sent.load(Ordering::SeqCst),
            received.load(Ordering::SeqCst)
        );
        // What Python reported of the connection, if it already has: a
        // stalled exchange shows as its own bound (20 s) running out.
        let python_saw: Vec<String> =
            std::iter::from_fn(|| server.peer.lines.recv_timeout(Duration::from_secs(1)).ok())
                .take(2)
                .collect();
        // Killing Python ends whatever is still blocked on the socket.
        let stderr = server.peer.stderr();
        drop(server);
        panic!(
            "split duplex: {failure}; {progress}; Python's server reported:\n{}\nits stderr:\n{stderr}",
            python_saw.join("\n")
        );
    }
    let echoed = server.expect("echoed");
    assert_eq!(echoed["messages"].u64(), Some(count as u64), "{echoed:?}");
    assert_eq!(
        echoed["bytes"].u64(),
        Some((count * DUPLEX_SIZE) as u64),
        "{echoed:?}"
    );
    let closed = server.closed();
    assert_eq!(closed["code"].u64(), Some(1000), "{closed:?}");
    assert_eq!(closed["reason"].str(), Some("duplex done"), "{closed:?}");
}

/// RFC 6455 §7.1.1: "After both sending and receiving a Close message, an
/// endpoint considers the WebSocket connection closed and MUST close the
/// underlying TCP connection." When the server starts the closing handshake,
/// our client answers it inside `read` and must then end its side of TCP
/// even while the program keeps the `WebSocket` (or a split writer half)
/// around: a server that waits for the client's FIN (websockets does, up to
/// its `close_timeout`) must see it promptly.
#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_client_ends_tcp_after_answering_the_servers_close() {
    let mut server = PythonServer::start();
    let mut ws = server.connect("/close", &[]);
    assert!(matches!(ws.read(), Ok(Message::Close(Some(_)))));
    assert!(matches!(ws.read(), Err(Error::ConnectionClosed)));
    // The connection is still held here, as a program might.
    let closed = server.peer.expect("closed");
    assert_eq!(
        closed["error"],
        Json::Null,
        "the Python server never saw our side of TCP close: {closed:?}"
    );
    drop(ws);
}

#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn python_peer_has_the_pinned_websockets() {
    // `python()` imports websockets and compares its version with the pin;
    // this test makes a missing or wrong interpreter one clear line in the
    // list of failures.
    python();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------
// permessage-deflate (RFC 7692), both roles

/// One compression setup, as both sides are told and as they must agree.
struct DeflateCase {
    /// The JSON arguments of websockets' extension factory, or `None` for
    /// its default (`compression="deflate"`).
    python: Option<&'static str>,
    /// Ours.
    ours: Compression,
    /// The server's `Sec-WebSocket-Extensions` answer.
    answer: &'static str,
    /// (server_max_window_bits, client_max_window_bits,
    /// server_no_context_takeover, client_no_context_takeover).
    agreed: (u8, u8, bool, bool),
}

/// A message's [RSV1, bytes on the wire, bytes inflated], as the Python
/// side's `DeflateWatch` counted them.
fn on_the_wire(json: &Json) -> Trip {
    match json {
        Json::Arr(items) => match &items[..] {
            [Json::Bool(rsv1), wire, inflated] => Trip {
                rsv1: *rsv1,
                wire: wire.u64().expect("wire bytes"),
                inflated: Some(inflated.u64().expect("inflated bytes")),
            },
            _ => panic!("not [rsv1, wire, inflated]: {json:?}"),
        },
        _ => panic!("no count of the message on the wire: {json:?}"),
    }
}

/// What Python's extension object agreed, in its terms, checked against the
/// case: for its client, `remote` is our server's compressor; for its
/// server, `remote` is our client's.
fn check_python_params(params: &Json, case: &DeflateCase, python_is_client: bool) {
    let (s_bits, c_bits, s_nct, c_nct) = case.agreed;
    let (remote, local) = if python_is_client {
        ((s_bits, s_nct), (c_bits, c_nct))
    } else {
        ((c_bits, c_nct), (s_bits, s_nct))
    };
    let what = format!("{}: Python agreed {params:?}", case.answer);
    assert_eq!(
        params["remote_max_window_bits"].u64(),
        Some(remote.0 as u64),
        "{what}"
    );
    assert_eq!(
        params["remote_no_context_takeover"].bool(),
        Some(remote.1),
        "{what}"
    );
    assert_eq!(
        params["local_max_window_bits"].u64(),
        Some(local.0 as u64),
        "{what}"
    );
    assert_eq!(
        params["local_no_context_takeover"].bool(),
        Some(local.1),
        "{what}"
    );
}

/// The checks on one direction's compressed messages, as counted by the
/// Python side: `counts[i]` is message `i` of [`DEFLATE_MESSAGES`] as it
/// went one way, compressed by `by` (`"wslite"` applies its threshold,
/// websockets compresses everything) with a window of `bits` and context
/// takeover unless `no_takeover`.
fn check_compressed(counts: &[Trip], by: &str, bits: u8, no_takeover: bool, what: &str) {
    let threshold = if by == "wslite" { THRESHOLD } else { 0 };
    check_direction(counts, by, threshold, bits, no_takeover, what);
}

/// Their client against our server, for each case: the offer, the answer,
/// what each side agreed, every message of [`DEFLATE_MESSAGES`] intact both
/// ways, and compressed frames (RSV1) counted on the Python side in both
/// directions.
fn our_server_compresses_with_python(case: &DeflateCase) {
    let server = ScriptedServer::start_with(Echo::Whole, config().compression(Some(case.ours)));
    let mut client = match case.python {
        Some(args) => python_client_with(&server.url(), "deflate", args),
        None => python_client(&server.url(), "deflate"),
    };
    let open = expect_open_with(&mut client, Some(case.answer));
    check_python_params(&open["deflate"], case, true);
    let (mut sent, mut received) = (Vec::new(), Vec::new());
    for (name, size) in DEFLATE_MESSAGES {
        let echo = client.expect("echo");
        let what = format!("{}: {name} of {size} bytes: {echo:?}", case.answer);
        assert_eq!(echo["kind"].str(), Some(name), "{what}");
        assert_eq!(echo["got_size"].u64(), Some(size as u64), "{what}");
        assert_eq!(echo["intact"].bool(), Some(true), "{what}");
        sent.push(on_the_wire(&echo["sent"]));
        received.push(on_the_wire(&echo["received"]));
    }
    let deflate = client.expect("deflate");
    check_python_params(&deflate["params"], case, true);
    client.expect("closed");
    client.finish();
    let (s_bits, c_bits, s_nct, c_nct) = case.agreed;
    check_compressed(&sent, "websockets", c_bits, c_nct, case.answer);
    check_compressed(&received, "wslite", s_bits, s_nct, case.answer);

    let seen = server.connection();
    match seen.get(1) {
        Some(Seen::Open(_, ours)) => {
            assert_eq!(agreed(ours), Some(case.agreed), "{}", case.answer)
        }
        other => panic!("expected our server's open, saw {other:?}"),
    }
    let data: Vec<_> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Data { kind, size, intact } => Some((*kind, *size, *intact)),
            _ => None,
        })
        .collect();
    let expected: Vec<_> = DEFLATE_MESSAGES
        .iter()
        .map(|(name, size)| (generated_kind(name), *size, true))
        .collect();
    assert_eq!(data, expected, "{}: our server received", case.answer);
}

/// The cases both roles run, in order: websockets' default
/// (`compression="deflate"`) against ours, 12-bit windows each way; both
/// windows at 9 bits, then at 15; then `no_takeover`, the role's own cases
/// without context takeover.
fn deflate_cases(no_takeover: [DeflateCase; 2]) -> Vec<DeflateCase> {
    let wide = Compression::default().window_bits(15);
    let mut cases = vec![
        DeflateCase {
            python: None,
            ours: Compression::default(),
            answer: DEFAULT_ANSWER,
            agreed: (12, 12, false, false),
        },
        DeflateCase {
            python: Some(r#"{"server_max_window_bits": 9, "client_max_window_bits": 9}"#),
            ours: wide,
            answer: "permessage-deflate; server_max_window_bits=9; client_max_window_bits=9",
            agreed: (9, 9, false, false),
        },
        DeflateCase {
            python: Some(r#"{"server_max_window_bits": 15, "client_max_window_bits": 15}"#),
            ours: wide,
            answer: "permessage-deflate; server_max_window_bits=15; client_max_window_bits=15",
            agreed: (15, 15, false, false),
        },
    ];
    cases.extend(no_takeover);
    cases
}

/// The cases of the tests with our server. websockets' client offers
/// `client_max_window_bits` by default; our server's windows are 12 bits
/// unless set.
fn python_client_cases() -> Vec<DeflateCase> {
    deflate_cases([
        DeflateCase {
            python: Some(
                r#"{"server_no_context_takeover": true, "client_no_context_takeover": true, "client_max_window_bits": true}"#,
            ),
            ours: Compression::default(),
            answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12",
            agreed: (12, 12, true, true),
        },
        // Python offers the bare extension; our server asks for no context
        // takeover both ways, and cannot limit the client's window (RFC 7692
        // §7.1.2.2: not offered), so it inflates with 32 KiB.
        DeflateCase {
            python: Some(r#"{"client_max_window_bits": null}"#),
            ours: Compression::default()
                .server_no_context_takeover(true)
                .client_no_context_takeover(true),
            answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12",
            agreed: (12, 15, true, true),
        },
    ])
}

/// A stream that counts the bytes it reads and writes: our side's proof
/// that the wire carried far fewer bytes than the messages.
struct Counting {
    stream: TcpStream,
    read: Arc<AtomicUsize>,
    written: Arc<AtomicUsize>,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.stream.read(buf)?;
        self.read.fetch_add(n, Ordering::SeqCst);
        Ok(n)
    }
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.stream.write(buf)?;
        self.written.fetch_add(n, Ordering::SeqCst);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.stream.flush()
    }
}

/// Our client against their server, for each case: as
/// [`our_server_compresses_with_python`], and the bytes our client read and
/// wrote for the 1 MiB of JSON, counted on our socket.
fn our_client_compresses_with_python(case: &DeflateCase) {
    let mut server = PythonServer::start_with(case.python);
    let url = format!("ws://127.0.0.1:{}/echo", server.port);
    let stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    stream.set_write_timeout(Some(WAIT)).expect("timeout");
    let (read, written) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let counting = Counting {
        stream,
        read: Arc::clone(&read),
        written: Arc::clone(&written),
    };
    let mut ws = ClientBuilder::new(&url)
        .config(config().compression(Some(case.ours)))
        .handshake(counting)
        .unwrap_or_else(|e| panic!("{}: connecting to {url}: {e}", case.answer));
    // So that our close ends TCP as on a plain socket (RFC 6455 §7.1.1).
    ws.set_socket_ops(wslite::blocking::SocketOps {
        set_read_timeout: |c: &Counting, t| c.stream.set_read_timeout(t),
        set_write_timeout: |c: &Counting, t| c.stream.set_write_timeout(t),
        shutdown: |c: &Counting, how| c.stream.shutdown(how),
    })
    .expect("socket ops");
    assert_eq!(
        agreed(&ws.compression()),
        Some(case.agreed),
        "{}",
        case.answer
    );
    let open = server.expect("open");
    assert_eq!(open["extensions"].str(), Some(case.answer), "{open:?}");
    check_python_params(&open["deflate"], case, false);

    for (name, size) in DEFLATE_MESSAGES {
        let message = generated_message(name, size);
        let before = (read.load(Ordering::SeqCst), written.load(Ordering::SeqCst));
        ws.send(message.clone()).expect("send");
        let echo = ws.read().expect("read the echo");
        assert!(
            echo == message,
            "{}: {name} of {size} bytes came back as {} bytes",
            case.answer,
            echo.len()
        );
        let wire = (
            read.load(Ordering::SeqCst) - before.0,
            written.load(Ordering::SeqCst) - before.1,
        );
        if name == "json" {
            assert!(
                wire.0 < size / 4 && wire.1 < size / 4,
                "{}: 1 MiB of JSON took {wire:?} bytes (read, written) on our socket",
                case.answer
            );
        }
    }
    ws.close(CloseCode::NORMAL, "").expect("close");

    let (mut sent, mut received) = (Vec::new(), Vec::new());
    for (name, size) in DEFLATE_MESSAGES {
        let seen = server.expect("message");
        let what = format!("{}: {name} of {size} bytes: {seen:?}", case.answer);
        assert_eq!(seen["size"].u64(), Some(size as u64), "{what}");
        assert_eq!(seen["intact"].bool(), Some(true), "{what}");
        received.push(on_the_wire(&seen["received"]));
        sent.push(on_the_wire(&seen["sent"]));
    }
    let closed = server.closed();
    assert_eq!(closed["code"].u64(), Some(1000), "{closed:?}");
    let (s_bits, c_bits, s_nct, c_nct) = case.agreed;
    check_compressed(&received, "wslite", c_bits, c_nct, case.answer);
    check_compressed(&sent, "websockets", s_bits, s_nct, case.answer);
}

/// The cases of the tests with Python's server; its default
/// (`compression="deflate"`) accepts with 12-bit windows each way.
fn python_server_cases() -> Vec<DeflateCase> {
    deflate_cases([
        DeflateCase {
            python: Some(
                r#"{"server_no_context_takeover": true, "client_no_context_takeover": true, "server_max_window_bits": 12, "client_max_window_bits": 12}"#,
            ),
            ours: Compression::default(),
            answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12",
            agreed: (12, 12, true, true),
        },
        // We ask for no context takeover both ways; Python's server agrees.
        DeflateCase {
            python: Some("{}"),
            ours: Compression::default()
                .server_no_context_takeover(true)
                .client_no_context_takeover(true),
            answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12",
            agreed: (12, 12, true, true),
        },
    ])
}

deflate_tests! {
    ignore = "needs Python websockets; .ci/run runs them with --ignored";
    our_server_compresses_with_python over python_client_cases {
        our_server_and_python_client_compress_with_default_settings: 0..1;
        our_server_and_python_client_compress_with_9_and_15_bit_windows: 1..3;
        our_server_and_python_client_compress_without_context_takeover: 3..;
    }
    our_client_compresses_with_python over python_server_cases {
        our_client_and_python_server_compress_with_default_settings: 0..1;
        our_client_and_python_server_compress_with_9_and_15_bit_windows: 1..3;
        our_client_and_python_server_compress_without_context_takeover: 3..;
    }
}

/// websockets does not do 8-bit windows (zlib refuses a raw 256-byte
/// window): offered them, its server declines the extension, and both
/// sides go on uncompressed (RFC 7692 §5: a declined offer is no error).
#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn python_server_declines_our_8_bit_windows_and_we_go_uncompressed() {
    let mut server = PythonServer::start();
    let (mut ws, open) = server.connect_with(
        "/echo",
        &[],
        config().compression(Some(Compression::default().window_bits(8))),
    );
    assert_eq!(
        open["requested"].str(),
        Some("permessage-deflate; server_max_window_bits=8; client_max_window_bits=8"),
        "{open:?}"
    );
    assert_eq!(open["extensions"], Json::Null, "{open:?}");
    assert_eq!(ws.compression(), None);
    let message = generated_message("json", 10 * KIB);
    ws.send(message.clone()).expect("send");
    assert_eq!(ws.read().expect("echo"), message);
    ws.close(CloseCode::NORMAL, "").expect("close");
    let seen = server.expect("message");
    assert_eq!(seen["intact"].bool(), Some(true), "{seen:?}");
    assert_eq!(seen["received"], Json::Null, "not compressed: {seen:?}");
    let closed = server.closed();
    assert_eq!(closed["code"].u64(), Some(1000), "{closed:?}");
}

/// A message over our limit once inflated is refused with 1009 (RFC 6455
/// §7.4.1) however small it is on the wire: 4 MiB of text from websockets,
/// about 10 KiB compressed, against a 1 MiB limit (RFC 7692 §8.1 warns of
/// such "decompression bombs").
#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_server_refuses_a_compressed_message_over_its_limit_with_1009() {
    let server = ScriptedServer::start_with(
        Echo::Whole,
        config().max_message_size(MIB).max_frame_size(MIB),
    );
    let mut client = python_client(&server.url(), "too-big");
    expect_open(&mut client);
    let sent = client.expect("sent");
    let sent = on_the_wire(&sent["sent"]);
    assert!(
        sent.rsv1 && sent.inflated == Some(4 * MIB as u64),
        "{sent:?}"
    );
    assert!(sent.wire < 64 * KIB as u64, "small on the wire: {sent:?}");
    let closed = client.expect("closed");
    assert_eq!(closed["code"].u64(), Some(1009), "{closed:?}");
    client.finish();
    let seen = server.connection();
    match seen.last() {
        Some(Seen::Failed(e)) => {
            assert_eq!(e.close_code(), Some(CloseCode::MESSAGE_TOO_BIG), "{e:?}")
        }
        other => panic!("our server's read should fail with 1009, saw {other:?}"),
    }
}

/// The same in the other role: our client refuses websockets' 4 MiB of
/// compressed text over a 1 MiB limit with 1009.
#[test]
#[ignore = "needs Python websockets; .ci/run runs them with --ignored"]
fn our_client_refuses_a_compressed_message_over_its_limit_with_1009() {
    let mut server = PythonServer::start();
    let (mut ws, open) = server.connect_with(
        "/too-big",
        &[],
        config().max_message_size(MIB).max_frame_size(MIB),
    );
    assert_eq!(open["extensions"].str(), Some(DEFAULT_ANSWER), "{open:?}");
    let failure = ws.read().expect_err("over the limit");
    assert_eq!(
        failure.close_code(),
        Some(CloseCode::MESSAGE_TOO_BIG),
        "{failure:?}"
    );
    let sent = server.expect("sent");
    let sent = on_the_wire(&sent["sent"]);
    assert!(
        sent.rsv1 && sent.wire < 64 * KIB as u64 && sent.inflated == Some(4 * MIB as u64),
        "{sent:?}"
    );
    drop(ws);
    let closed = server.closed();
    assert_eq!(closed["code"].u64(), Some(1009), "{closed:?}");
}
