//! Interoperability with Node's `ws`, the most used WebSocket library on
//! Node: **a peer that sends a frame over our limit must be told 1009**,
//! and **permessage-deflate (RFC 7692) both ways, in both roles** (the
//! second half of this file: ws's `perMessageDeflate` with its defaults,
//! 8-, 9- and 15-bit windows, no context takeover and its `threshold`).
//!
//! RFC 6455 §7.4.1: 1009 "indicates that an endpoint is terminating the
//! connection because it has received a message that is too big for it to
//! process". Our server answers a frame over `max_frame_size` with a Close
//! frame carrying 1009, then ends the connection. The peer is typically
//! still writing that frame when the Close arrives; if our side closes its
//! socket with the rest of the frame unread, the kernel answers with a TCP
//! reset, which can destroy the Close before the peer reads it, and the
//! peer reports 1006 (closed abnormally, §7.1.5) instead of 1009. Every run
//! must see 1009, so each test makes ten connections, one after the other,
//! and asserts all ten.
//!
//! The peer is `tests/interop-node/oversize_client.mjs`: it connects, sends
//! one binary message of a given size in one frame, and prints the close
//! code and reason that `ws` reports as one JSON line. It needs Node
//! (`WSLITE_NODE`, or `node` on `PATH`) and the `ws` that
//! `tests/interop-node/package-lock.json` pins, installed in
//! `tests/interop-node/node_modules`, so the tests are `#[ignore]`d;
//! `tests/interop-node/run.sh` installs `ws` with `npm ci` and runs them with
//! `--ignored`. Run with `--ignored` without Node or without the pinned
//! `ws`, they fail rather than pass silently.
//!
//! Every wait is bounded: each Node process is killed if it has not exited
//! within [`WAIT`], our sockets have read and write timeouts, and the
//! server's reports arrive through channels read with a timeout. Nothing
//! asserts how long something took.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use wslite::{CloseCode, Config, Server, ServerHandle};

/// The longest any single wait may take (a Node run, a report of our
/// server). Generous: it bounds a hang, it measures nothing.
const WAIT: Duration = Duration::from_secs(30);
/// What the Node client is told to give up after (it then reports a
/// timeout): inside [`WAIT`], so that it normally ends on its own.
const CLIENT_TIMEOUT_MS: u64 = 20_000;
/// Connections per test, one after the other.
const RUNS: usize = 10;
/// The most messages our handler reads before it gives up on an error.
const MAX_READS: usize = 100;

const MIB: usize = 1024 * 1024;

// ---------------------------------------------------------------------------
// The Node side

fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop-node")
}

/// Node from `WSLITE_NODE` or `PATH`, checked once to run and to have the
/// pinned `ws` in `tests/interop-node/node_modules`. Panics (failing the
/// test) otherwise: these tests run only when asked for, and then must not
/// pass without a peer.
fn node() -> &'static Path {
    static NODE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let checked = NODE.get_or_init(|| {
        let node = PathBuf::from(std::env::var_os("WSLITE_NODE").unwrap_or_else(|| "node".into()));
        // Installed and locked versions of `ws`, as one line: "8.x.y 8.x.y".
        let script =
            "const v = (p) => { try { return require(p).version } catch { return '-' } }; \
                      const lock = require('./package-lock.json'); \
                      console.log(v('./node_modules/ws/package.json'), \
                                  (lock.packages['node_modules/ws'] || {}).version || '-')";
        let mut check = Command::new(&node);
        check.args(["-e", script]).current_dir(node_dir());
        let out = run_bounded(check, WAIT).map_err(|e| {
            format!(
                "cannot run Node {node:?} ({e}); install Node or set WSLITE_NODE, then run \
                 tests/interop-node/run.sh"
            )
        })?;
        if !out.status.success() {
            return Err(format!(
                "Node {node:?} failed to read tests/interop-node ({}): {}",
                out.status, out.stderr
            ));
        }
        let versions: Vec<&str> = out.stdout.split_whitespace().collect();
        match versions[..] {
            [installed, locked] if installed == locked && installed != "-" => Ok(node),
            [installed, locked] => Err(format!(
                "tests/interop-node/node_modules has ws {installed}, but \
                 tests/interop-node/package-lock.json pins {locked}; run \
                 tests/interop-node/run.sh (npm ci)"
            )),
            _ => Err(format!(
                "unexpected output of the ws version check: {out:?}"
            )),
        }
    });
    match checked {
        Ok(node) => node,
        Err(why) => panic!("{why}"),
    }
}

/// What a finished process printed.
#[derive(Debug)]
struct Output {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `command` to its end, or kills it once `limit` has passed.
fn run_bounded(mut command: Command, limit: Duration) -> Result<Output, String> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|e| e.to_string())?;
    let collect = |pipe: Option<Box<dyn Read + Send>>| -> Receiver<String> {
        let (tx, rx) = mpsc::channel();
        if let Some(mut pipe) = pipe {
            thread::spawn(move || {
                let mut text = Vec::new();
                let _ = pipe.read_to_end(&mut text);
                let _ = tx.send(String::from_utf8_lossy(&text).into_owned());
            });
        }
        rx
    };
    let stdout = collect(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = collect(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = stderr.recv_timeout(WAIT).unwrap_or_default();
            return Err(format!(
                "{command:?} did not exit within {limit:?} and was killed; stderr:\n{stderr}"
            ));
        }
        thread::sleep(Duration::from_millis(10));
    };
    // The pipes end with the process (the client starts no children).
    Ok(Output {
        status,
        stdout: stdout.recv_timeout(WAIT).unwrap_or_default(),
        stderr: stderr.recv_timeout(WAIT).unwrap_or_default(),
    })
}

/// How one run of `oversize_client.mjs` ended, as the client saw it.
#[derive(Debug)]
struct Seen {
    /// The close code `ws` reported; `None` if the run produced none.
    code: Option<u64>,
    reason: String,
    /// Its JSON line, or what went wrong.
    report: String,
}

/// One run of the Node client: one message of `size` bytes to `url`.
fn node_client(url: &str, size: usize) -> Seen {
    let mut command = Command::new(node());
    command.arg(node_dir().join("oversize_client.mjs")).args([
        url,
        &size.to_string(),
        &CLIENT_TIMEOUT_MS.to_string(),
    ]);
    let out = match run_bounded(command, WAIT) {
        Ok(out) => out,
        Err(why) => {
            return Seen {
                code: None,
                reason: String::new(),
                report: why,
            }
        }
    };
    let line = out.stdout.trim();
    let fields = match (out.status.success(), flat_json(line)) {
        (true, Ok(fields)) if line.lines().count() == 1 => fields,
        _ => {
            return Seen {
                code: None,
                reason: String::new(),
                report: format!("{out:?}"),
            }
        }
    };
    let get = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let code = match get("code") {
        Some(Value::Num(n)) if *n >= 0.0 && n.fract() == 0.0 => Some(*n as u64),
        _ => None,
    };
    let reason = match get("reason") {
        Some(Value::Str(s)) => s.clone(),
        _ => String::new(),
    };
    Seen {
        code,
        reason,
        report: line.to_string(),
    }
}

// ---------------------------------------------------------------------------
// A flat JSON object reader for the client's one line (the crate has no
// dependencies, and its tests take none beyond criterion and quickcheck).

#[derive(Debug, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
}

/// The fields of a JSON object whose values are all scalars.
fn flat_json(text: &str) -> Result<Vec<(String, Value)>, String> {
    let mut chars = text.trim().chars().peekable();
    let mut fields = Vec::new();
    let skip_ws = |chars: &mut std::iter::Peekable<std::str::Chars>| {
        while chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
    };
    let string = |chars: &mut std::iter::Peekable<std::str::Chars>| -> Result<String, String> {
        if chars.next() != Some('"') {
            return Err("expected a string".into());
        }
        let mut out = String::new();
        let mut high: Option<u32> = None;
        loop {
            match chars.next().ok_or("unterminated string")? {
                '"' => return Ok(out),
                '\\' => match chars.next().ok_or("unterminated escape")? {
                    'u' => {
                        let hex: String = (0..4).filter_map(|_| chars.next()).collect();
                        let unit = u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
                        let code = match (high.take(), unit) {
                            (None, 0xD800..=0xDBFF) => {
                                high = Some(unit);
                                continue;
                            }
                            (Some(h), 0xDC00..=0xDFFF) => {
                                0x10000 + ((h - 0xD800) << 10) + (unit - 0xDC00)
                            }
                            (None, _) => unit,
                            (Some(_), _) => return Err("lone surrogate".into()),
                        };
                        out.push(char::from_u32(code).ok_or("bad code point")?);
                    }
                    c => out.push(match c {
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        '"' | '\\' | '/' => c,
                        _ => return Err(format!("bad escape \\{c}")),
                    }),
                },
                c => out.push(c),
            }
        }
    };
    if chars.next() != Some('{') {
        return Err("not an object".into());
    }
    skip_ws(&mut chars);
    if chars.next_if_eq(&'}').is_some() {
        return Ok(fields);
    }
    loop {
        skip_ws(&mut chars);
        let key = string(&mut chars)?;
        skip_ws(&mut chars);
        if chars.next() != Some(':') {
            return Err(format!("expected `:` after {key:?}"));
        }
        skip_ws(&mut chars);
        let value = match chars.peek() {
            Some('"') => Value::Str(string(&mut chars)?),
            _ => {
                let word: String =
                    std::iter::from_fn(|| chars.next_if(|c| !matches!(c, ',' | '}'))).collect();
                match word.trim() {
                    "null" => Value::Null,
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    n => Value::Num(n.parse().map_err(|_| format!("bad value {n:?}"))?),
                }
            }
        };
        fields.push((key, value));
        skip_ws(&mut chars);
        match chars.next() {
            Some(',') => {}
            Some('}') if chars.next().is_none() => return Ok(fields),
            _ => return Err("expected `,` or a final `}`".into()),
        }
    }
}

// ---------------------------------------------------------------------------
// Our side

/// A wslite server whose handler reads until `read` fails, and reports the
/// error that ended each connection (its `Display`, and its close code).
struct OversizeServer {
    handle: Option<ServerHandle>,
    url: String,
    ended: Receiver<(String, Option<CloseCode>)>,
}

impl OversizeServer {
    fn start(config: Config) -> OversizeServer {
        let (tx, ended) = mpsc::channel();
        let server = Server::bind("127.0.0.1:0")
            .expect("bind")
            .config(config.read_timeout(Some(WAIT)).write_timeout(Some(WAIT)));
        let url = format!("ws://{}/", server.local_addr().expect("local_addr"));
        let handle = server
            .spawn(move |mut ws| {
                let end = (0..MAX_READS)
                    .find_map(|_| ws.read().err())
                    .map(|e| (e.to_string(), e.close_code()))
                    .unwrap_or_else(|| (format!("{MAX_READS} reads without an error"), None));
                let _ = tx.send(end);
            })
            .expect("spawn");
        OversizeServer {
            handle: Some(handle),
            url,
            ended,
        }
    }
}

impl Drop for OversizeServer {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.shutdown();
        }
    }
}

/// [`RUNS`] connections, one after the other, each sending one frame of
/// `size` bytes to a server with `config`: every one must end with our
/// server failing the read with a 1009 error, and with `ws` reporting 1009.
fn every_run_sees_1009(config: Config, size: usize) {
    node();
    let server = OversizeServer::start(config);
    let mut runs = Vec::new();
    for run in 1..=RUNS {
        let client = node_client(&server.url, size);
        let ours = server
            .ended
            .recv_timeout(WAIT)
            .unwrap_or_else(|e| panic!("run {run}: our handler did not end ({e}); {client:?}"));
        runs.push((client, ours));
    }
    let report: Vec<String> = runs
        .iter()
        .enumerate()
        .map(|(i, (client, ours))| {
            format!(
                "run {}: ws saw {:?} {:?}; our server: {} ({:?}); client: {}",
                i + 1,
                client.code,
                client.reason,
                ours.0,
                ours.1,
                client.report
            )
        })
        .collect();
    let report = report.join("\n");
    for (client, ours) in &runs {
        assert_eq!(
            ours.1,
            Some(CloseCode::MESSAGE_TOO_BIG),
            "our server must fail every read with a 1009 error:\n{report}"
        );
        assert!(
            client.code.is_some(),
            "every Node run must report a close code:\n{report}"
        );
    }
    let saw_1009 = runs.iter().filter(|(c, _)| c.code == Some(1009)).count();
    assert_eq!(
        saw_1009, RUNS,
        "{saw_1009} of {RUNS} runs saw 1009 (the others: 1006 is a reset that lost our \
         Close):\n{report}"
    );
}

#[test]
#[ignore = "needs Node and the pinned ws; tests/interop-node/run.sh runs them with --ignored"]
fn node_ws_sending_4_mib_over_a_1_mib_limit_sees_1009() {
    every_run_sees_1009(
        Config::default().max_frame_size(MIB).max_message_size(MIB),
        4 * MIB,
    );
}

/// The limits by default (16 MiB frames): "a peer still sending a 16 MiB
/// frame when it is told 1009 must see 1009, not 1006".
#[test]
#[ignore = "needs Node and the pinned ws; tests/interop-node/run.sh runs them with --ignored"]
fn node_ws_sending_20_mib_over_the_default_limit_sees_1009() {
    every_run_sees_1009(Config::default(), 20 * MIB);
}

#[test]
#[ignore = "needs Node and the pinned ws; tests/interop-node/run.sh runs them with --ignored"]
fn node_peer_has_the_pinned_ws() {
    // `node()` runs Node and compares the installed ws with the lock; this
    // test makes a missing Node or ws one clear line in the list of failures.
    node();
}

#[test]
fn flat_json_reads_the_clients_line() {
    let fields = flat_json(
        r#"{"event":"closed","code":1009,"reason":"too big \u2713 \ud83d\ude00 \"x\"","sent":null,"error":false}"#,
    )
    .unwrap();
    assert_eq!(
        fields,
        [
            ("event".to_string(), Value::Str("closed".into())),
            ("code".to_string(), Value::Num(1009.0)),
            (
                "reason".to_string(),
                Value::Str("too big ✓ 😀 \"x\"".into())
            ),
            ("sent".to_string(), Value::Null),
            ("error".to_string(), Value::Bool(false)),
        ]
    );
    assert!(flat_json(r#"{"code":1009"#).is_err());
    assert!(flat_json(r#"{"code":1009} trailing"#).is_err());
}

// ---------------------------------------------------------------------------
// permessage-deflate (RFC 7692) with ws's `perMessageDeflate`, both roles.
//
// The peer is `tests/interop-node/deflate_peer.mjs`: as a client it sends
// every message of [`DEFLATE_MESSAGES`] to our echo server and checks each
// echo; as a server it echoes what our client sends and checks it. Either
// way it parses the bytes on its own socket, both directions, and reports
// per message whether its first frame had RSV1, its payload bytes on the
// wire and its frames: the proof that compressed frames really went each
// way. Our side checks the parameters it agreed (`WebSocket::compression`)
// against ws's, and the messages against the generators.

#[path = "interop/generators.rs"]
mod generators;
use generators::{generated_kind, generated_message, is_generated};
#[path = "interop/deflate_checks.rs"]
#[macro_use]
mod deflate_checks;
use deflate_checks::{agreed, check_direction, Trip, DEFLATE_MESSAGES, THRESHOLD};

use std::io::{BufRead, BufReader};
use std::process::Child;
use wslite::{ClientBuilder, Compression, DataKind, Message};

/// A running `deflate_peer.mjs`, its lines arriving through a channel;
/// killed when dropped.
struct NodePeer {
    child: Child,
    lines: Receiver<String>,
    stderr: Receiver<String>,
}

impl NodePeer {
    fn spawn(args: &[&str]) -> NodePeer {
        let mut child = Command::new(node())
            .arg(node_dir().join("deflate_peer.mjs"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start deflate_peer.mjs: {e}"));
        let (tx, lines) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (etx, stderr) = mpsc::channel();
        let mut pipe = child.stderr.take().expect("stderr");
        thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            let _ = etx.send(String::from_utf8_lossy(&text).into_owned());
        });
        NodePeer {
            child,
            lines,
            stderr,
        }
    }

    /// The next line, which must be the event `event`, as its fields.
    fn expect(&mut self, event: &str) -> Vec<(String, Value)> {
        let line = match self.lines.recv_timeout(WAIT) {
            Ok(line) => line,
            Err(e) => {
                let _ = self.child.kill();
                let stderr = self.stderr.recv_timeout(WAIT).unwrap_or_default();
                panic!("deflate_peer.mjs: {e} waiting for {event:?}; stderr:\n{stderr}")
            }
        };
        let fields = flat_json(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert_eq!(
            field(&fields, "event"),
            &Value::Str(event.into()),
            "expected {event:?}: {line}"
        );
        fields
    }
}

impl Drop for NodePeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static MISSING: Value = Value::Null;

fn field<'a>(fields: &'a [(String, Value)], key: &str) -> &'a Value {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map_or(&MISSING, |(_, v)| v)
}

fn num(fields: &[(String, Value)], key: &str) -> u64 {
    match field(fields, key) {
        Value::Num(n) if *n >= 0.0 && n.fract() == 0.0 => *n as u64,
        other => panic!("{key} is not a count: {other:?} in {fields:?}"),
    }
}

fn boolean(fields: &[(String, Value)], key: &str) -> bool {
    match field(fields, key) {
        Value::Bool(b) => *b,
        other => panic!("{key} is not a boolean: {other:?} in {fields:?}"),
    }
}

/// One compression setup, as both sides are told and as they must agree.
struct DeflateCase {
    /// ws's `perMessageDeflate` option, as JSON.
    node: &'static str,
    /// Ours.
    ours: Compression,
    /// ws's threshold (its default: 1 KiB). ws applies it only when its
    /// side compresses without context takeover (`Sender#send` in ws 8):
    /// otherwise it compresses every message.
    node_threshold: usize,
    /// The server's `Sec-WebSocket-Extensions` answer.
    answer: &'static str,
    /// (server_max_window_bits, client_max_window_bits,
    /// server_no_context_takeover, client_no_context_takeover).
    agreed: (u8, u8, bool, bool),
}

/// ws's `open` line: the extension, the header answered, and the window
/// sizes and takeover flags ws agreed (named in the answer only when set).
fn check_node_open(open: &[(String, Value)], case: &DeflateCase) {
    let what = format!("{}: ws opened with {open:?}", case.answer);
    assert_eq!(
        field(open, "extensions"),
        &Value::Str("permessage-deflate".into()),
        "{what}"
    );
    assert_eq!(
        field(open, "answer"),
        &Value::Str(case.answer.into()),
        "{what}"
    );
    let (s_bits, c_bits, s_nct, c_nct) = case.agreed;
    for (key, bits) in [
        ("server_max_window_bits", s_bits),
        ("client_max_window_bits", c_bits),
    ] {
        match field(open, key) {
            Value::Num(n) => assert_eq!(*n as u8, bits, "{key}: {what}"),
            // Not named: 15 (RFC 7692 §7.1.2).
            Value::Null | Value::Bool(true) => assert_eq!(bits, 15, "{key}: {what}"),
            other => panic!("{key}: {other:?}: {what}"),
        }
    }
    for (key, on) in [
        ("server_no_context_takeover", s_nct),
        ("client_no_context_takeover", c_nct),
    ] {
        let named = matches!(field(open, key), Value::Bool(true));
        assert_eq!(named, on, "{key}: {what}");
    }
}

/// What ws saw of one message's trip, from its socket: (RSV1, payload
/// bytes on the wire) as ws's `sent_*` or `received_*` (`way`).
fn trip(line: &[(String, Value)], way: &str) -> Trip {
    Trip {
        rsv1: boolean(line, &format!("{way}_rsv1")),
        wire: num(line, &format!("{way}_wire")),
        inflated: None,
    }
}

/// ws's client against our echo server.
fn node_client_compresses_with_our_server(case: &DeflateCase) {
    node();
    let (tx, seen) = mpsc::channel();
    let server = Server::bind("127.0.0.1:0").expect("bind").config(
        Config::default()
            .read_timeout(Some(WAIT))
            .write_timeout(Some(WAIT))
            .compression(Some(case.ours)),
    );
    let url = format!("ws://{}/", server.local_addr().expect("local_addr"));
    let handle = server
        .spawn(move |mut ws| {
            let _ = tx.send(Err(agreed(&ws.compression())));
            while let Ok(message) = ws.read() {
                if !message.is_data() {
                    continue;
                }
                let kind = match message {
                    Message::Text(_) => DataKind::Text,
                    _ => DataKind::Binary,
                };
                let _ = tx.send(Ok((
                    kind,
                    message.len(),
                    is_generated(kind, message.as_bytes()),
                )));
                if ws.send(message).is_err() {
                    break;
                }
            }
        })
        .expect("spawn");
    let mut client = NodePeer::spawn(&["client", &url, case.node]);
    let open = client.expect("open");
    check_node_open(&open, case);
    let (mut sent, mut received) = (Vec::new(), Vec::new());
    for (name, size) in DEFLATE_MESSAGES {
        let echo = client.expect("echo");
        let what = format!("{}: {name} of {size} bytes: {echo:?}", case.answer);
        assert_eq!(num(&echo, "size"), size as u64, "{what}");
        assert!(boolean(&echo, "intact"), "{what}");
        if name == "json" {
            // Both ways on ws's socket: far below the 2 MiB of the messages.
            let socket = num(&echo, "socket_read") + num(&echo, "socket_written");
            assert!(socket < (size / 2) as u64, "{what}");
        }
        sent.push(trip(&echo, "sent"));
        received.push(trip(&echo, "received"));
    }
    let closed = client.expect("closed");
    assert_eq!(num(&closed, "code"), 1000, "{closed:?}");
    let (s_bits, c_bits, s_nct, c_nct) = case.agreed;
    let node_threshold = if c_nct { case.node_threshold } else { 0 };
    check_direction(&sent, "ws", node_threshold, c_bits, c_nct, case.answer);
    check_direction(&received, "wslite", THRESHOLD, s_bits, s_nct, case.answer);

    let ours = seen.recv_timeout(WAIT).expect("our server's open");
    assert_eq!(ours, Err(Some(case.agreed)), "{}", case.answer);
    for (name, size) in DEFLATE_MESSAGES {
        let got = seen.recv_timeout(WAIT).expect("our server's message");
        assert_eq!(
            got,
            Ok((generated_kind(name), size, true)),
            "{}: our server received {name} of {size} bytes",
            case.answer
        );
    }
    handle.shutdown();
}

/// Our client against ws's echo server.
fn our_client_compresses_with_node_server(case: &DeflateCase) {
    node();
    let mut server = NodePeer::spawn(&["server", case.node]);
    let listening = server.expect("listening");
    let url = format!("ws://127.0.0.1:{}/", num(&listening, "port"));
    let mut ws = ClientBuilder::new(&url)
        .config(
            Config::default()
                .read_timeout(Some(WAIT))
                .write_timeout(Some(WAIT))
                .compression(Some(case.ours)),
        )
        .connect()
        .unwrap_or_else(|e| panic!("{}: connecting to {url}: {e}", case.answer));
    assert_eq!(
        agreed(&ws.compression()),
        Some(case.agreed),
        "{}",
        case.answer
    );
    let open = server.expect("open");
    check_node_open(&open, case);
    let (mut sent, mut received) = (Vec::new(), Vec::new());
    for (name, size) in DEFLATE_MESSAGES {
        let message = generated_message(name, size);
        ws.send(message.clone()).expect("send");
        let echo = ws.read().expect("read the echo");
        assert!(
            echo == message,
            "{}: {name} of {size} bytes came back as {} bytes",
            case.answer,
            echo.len()
        );
        let line = server.expect("echo");
        let what = format!("{}: {name} of {size} bytes: {line:?}", case.answer);
        assert_eq!(num(&line, "size"), size as u64, "{what}");
        assert!(boolean(&line, "intact"), "ws received {what}");
        received.push(trip(&line, "received"));
        sent.push(trip(&line, "sent"));
    }
    ws.close(CloseCode::NORMAL, "done").expect("close");
    let closed = server.expect("closed");
    assert_eq!(num(&closed, "code"), 1000, "{closed:?}");
    let (s_bits, c_bits, s_nct, c_nct) = case.agreed;
    check_direction(&received, "wslite", THRESHOLD, c_bits, c_nct, case.answer);
    let node_threshold = if s_nct { case.node_threshold } else { 0 };
    check_direction(&sent, "ws", node_threshold, s_bits, s_nct, case.answer);
}

/// The cases both roles run, in order: ws's defaults (12-bit windows, ours
/// unless set), then both windows at 9, 8 and 15 bits; `answers` is the
/// server's answer to each (the two roles name the windows in different
/// orders); then `no_takeover`, the role's own case without context
/// takeover.
fn deflate_cases(answers: [&'static str; 4], no_takeover: DeflateCase) -> Vec<DeflateCase> {
    let wide = Compression::default().window_bits(15);
    // 256-byte windows at 8 bits. zlib turns a raw window of 8 bits into
    // 9, but its matches stay 262 bytes short of the window, so never reach
    // past 250: our 256-byte inflater window holds them.
    let windows = [
        ("{}", Compression::default(), 12),
        (
            r#"{"serverMaxWindowBits": 9, "clientMaxWindowBits": 9}"#,
            wide,
            9,
        ),
        (
            r#"{"serverMaxWindowBits": 8, "clientMaxWindowBits": 8}"#,
            Compression::default().window_bits(8),
            8,
        ),
        (
            r#"{"serverMaxWindowBits": 15, "clientMaxWindowBits": 15}"#,
            wide,
            15,
        ),
    ];
    windows
        .into_iter()
        .zip(answers)
        .map(|((node, ours, bits), answer)| DeflateCase {
            node,
            ours,
            node_threshold: 1024,
            answer,
            agreed: (bits, bits, false, false),
        })
        .chain([no_takeover])
        .collect()
}

/// ws's client offers `client_max_window_bits` by default; our server's
/// windows are 12 bits unless set.
fn node_client_cases() -> Vec<DeflateCase> {
    deflate_cases(
        [
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
            "permessage-deflate; server_max_window_bits=9; client_max_window_bits=9",
            "permessage-deflate; server_max_window_bits=8; client_max_window_bits=8",
            "permessage-deflate; server_max_window_bits=15; client_max_window_bits=15",
        ],
        // ws asks for no context takeover both ways; its threshold then
        // applies (4 KiB: the 100 B and 2 KiB messages go uncompressed).
        DeflateCase {
            node: r#"{"serverNoContextTakeover": true, "clientNoContextTakeover": true, "threshold": 4096}"#,
            ours: Compression::default(),
            node_threshold: 4096,
            answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12",
            agreed: (12, 12, true, true),
        },
    )
}

/// ws's server accepts our offer (12-bit windows by default) within its
/// own limits. With 15-bit windows (ours in the 9- and 15-bit cases) our
/// offer is `client_max_window_bits` alone, and ws answers the client's
/// window first; with 8 bits our offer names both.
fn node_server_cases() -> Vec<DeflateCase> {
    deflate_cases(
        [
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
            "permessage-deflate; client_max_window_bits=9; server_max_window_bits=9",
            "permessage-deflate; server_max_window_bits=8; client_max_window_bits=8",
            "permessage-deflate; client_max_window_bits=15; server_max_window_bits=15",
        ],
        // ws's server without context takeover, and with it its threshold
        // (4 KiB: the 100 B and 2 KiB echoes go uncompressed).
        DeflateCase {
            node: r#"{"serverNoContextTakeover": true, "threshold": 4096}"#,
            ours: Compression::default(),
            node_threshold: 4096,
            answer: "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12; server_no_context_takeover",
            agreed: (12, 12, true, false),
        },
    )
}

deflate_tests! {
    ignore = "needs Node and the pinned ws; tests/interop-node/run.sh runs them with --ignored";
    node_client_compresses_with_our_server over node_client_cases {
        node_client_and_our_server_compress_with_default_settings: 0..1;
        node_client_and_our_server_compress_with_8_9_and_15_bit_windows: 1..4;
        node_client_and_our_server_compress_without_server_context_takeover: 4..5;
    }
    our_client_compresses_with_node_server over node_server_cases {
        our_client_and_node_server_compress_with_default_settings: 0..1;
        our_client_and_node_server_compress_with_8_9_and_15_bit_windows: 1..4;
        our_client_and_node_server_compress_without_server_context_takeover: 4..5;
    }
}
