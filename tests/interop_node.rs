//! Interoperability with Node's `ws`, the most used WebSocket library on
//! Node: **a peer that sends a frame over our limit must be told 1009**.
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
