//! The command-line client (`examples/client.rs`) does what its `--help`
//! says, run as a user runs it: the built binary, its stdin, stdout, stderr
//! and exit status, against a wslite `Server` in the test on 127.0.0.1.
//!
//! * text lines go out as text messages and come back as lines; `--binary`
//!   lines of hex arrive as exactly those bytes, `--raw` prints them as
//!   they are;
//! * `-H`, `--protocol` and `--origin` reach the server; `--close-code`
//!   and `--close-reason` are what the server's Close carries;
//! * it says who closed: after the end of stdin `closed by us: …; peer
//!   answered …`, exit 0; a server that closes with 1000 gives `closed by
//!   peer: …` and exit 0, with 1011 exit 2; a connection lost without a
//!   Close is `error: …`, exit 1;
//! * `--show-control` shows a server's ping, and the pings and pongs of
//!   `--ping-interval`;
//! * a bad URL, a refused connection, `wss://` and a bad option are
//!   `error: …` and exit 1; `--help` of every example exits 0 with its
//!   usage; `echo_server` on a busy port names the address.
//!
//! Every run is bounded: a child still running after [`WAIT`] is killed
//! and the test fails with what it printed.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use wslite::{Accept, CloseCode, CloseFrame, Config, Error, Message, Server, ServerHandle};

#[path = "common/example.rs"]
mod example;

/// The longest any one run or wait may take.
const WAIT: Duration = Duration::from_secs(10);

/// What a finished run printed, and how it ended.
struct Run {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

/// A child process killed when dropped, so that a failing test leaves
/// nothing running.
struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Option<thread::JoinHandle<Vec<u8>>>,
    stderr: Option<thread::JoinHandle<Vec<u8>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(mut from: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut all = Vec::new();
        let _ = from.read_to_end(&mut all);
        all
    })
}

/// Starts example `name` with `args`, everything piped, and writes `input`
/// to its stdin (which stays open until [`Running::finish`] is told).
fn start(name: &str, args: &[&str], input: &[u8]) -> Running {
    let binary: PathBuf = example::example_binary(name);
    let mut child = Command::new(&binary)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
    let mut stdin = child.stdin.take();
    if let Some(stdin) = stdin.as_mut() {
        // A child that exited early (a usage error) closed its end.
        let _ = stdin.write_all(input);
        let _ = stdin.flush();
    }
    let stdout = child.stdout.take().map(collect);
    let stderr = child.stderr.take().map(collect);
    Running {
        child,
        stdin,
        stdout,
        stderr,
    }
}

impl Running {
    /// Waits (bounded) for the child to exit; `end_stdin` first closes its
    /// stdin, which is the user's Ctrl-D.
    fn finish(mut self, end_stdin: bool) -> Run {
        if end_stdin {
            drop(self.stdin.take());
        }
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break Some(status);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            thread::sleep(Duration::from_millis(10));
        };
        // The pipes end with the child (killed or not).
        let stdout = self.stdout.take().map(|t| t.join().unwrap_or_default());
        let stderr = self.stderr.take().map(|t| t.join().unwrap_or_default());
        let stderr = String::from_utf8_lossy(&stderr.unwrap_or_default()).into_owned();
        let Some(status) = status else {
            panic!("still running after {WAIT:?}, killed; stderr:\n{stderr}");
        };
        Run {
            status,
            stdout: stdout.unwrap_or_default(),
            stderr,
        }
    }
}

/// Runs the client against `url` with `input` on stdin, then Ctrl-D.
fn client(args: &[&str], input: &[u8]) -> Run {
    start("client", args, input).finish(true)
}

/// What the test's server saw of one connection.
#[derive(Debug, Default)]
struct Seen {
    headers: Vec<(String, String)>,
    protocol: Option<String>,
    messages: Vec<Message>,
    close: Option<Option<CloseFrame>>,
}

/// A server that echoes text and binary and reports what it saw when the
/// connection ends; it chooses the subprotocol `chat` when offered.
fn echo_server() -> (ServerHandle, Receiver<Seen>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let server = Server::bind("127.0.0.1:0")
        .expect("bind")
        .on_request(|request| {
            let chat = request.protocols().any(|p| p == "chat");
            Ok(if chat {
                Accept::new().protocol("chat")
            } else {
                Accept::new()
            })
        })
        .spawn(move |mut ws| {
            let mut seen = Seen::default();
            if let Some(request) = ws.request() {
                seen.headers = request
                    .headers()
                    .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v).into_owned()))
                    .collect();
                seen.protocol = request.protocol().map(String::from);
            }
            for _ in 0..1000 {
                match ws.read() {
                    Ok(message @ (Message::Text(_) | Message::Binary(_))) => {
                        seen.messages.push(message.clone());
                        if ws.send(message).is_err() {
                            break;
                        }
                    }
                    Ok(Message::Close(frame)) => seen.close = Some(frame),
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            let _ = tx.lock().map(|tx| tx.send(seen));
        })
        .expect("spawn");
    (server, rx)
}

/// A server whose every connection runs `handler`.
fn server_with(
    config: Config,
    handler: impl Fn(wslite::WebSocket<std::net::TcpStream>) + Send + Sync + 'static,
) -> ServerHandle {
    Server::bind("127.0.0.1:0")
        .expect("bind")
        .config(config)
        .spawn(handler)
        .expect("spawn")
}

fn url(server: &ServerHandle) -> String {
    format!("ws://{}/", server.local_addr())
}

#[test]
fn help_of_every_example_exits_0_with_its_usage() {
    for name in [
        "client",
        "echo_server",
        "autobahn_client",
        "idle_connections",
        "compression_memory",
        "sans_io",
        "bench_client",
    ] {
        let run = start(name, &["--help"], b"").finish(true);
        let out = run.stdout_text();
        assert_eq!(run.code(), Some(0), "{name} --help: {}", run.stderr);
        assert!(
            out.starts_with(&format!("usage: {name}")),
            "{name} --help printed:\n{out}"
        );
        assert!(
            out.contains("Example"),
            "{name} --help has no example:\n{out}"
        );
        assert!(run.stderr.is_empty(), "{name} --help: {}", run.stderr);
    }
}

#[test]
fn text_lines_come_back_as_lines_and_the_end_of_stdin_closes_with_1000() {
    let (server, seen) = echo_server();
    let run = client(&[&url(&server)], "hello\nwörld\r\n\nlast".as_bytes());
    assert_eq!(run.code(), Some(0), "{}", run.stderr);
    assert_eq!(run.stdout_text(), "hello\nwörld\n\nlast\n");
    assert!(
        run.stderr.contains(
            "closed by us: 1000 (normal closure) \"bye\"; peer answered 1000 (normal closure)"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("closed by peer"), "{}", run.stderr);
    let seen = seen.recv_timeout(WAIT).expect("the server's report");
    assert_eq!(
        seen.messages,
        ["hello", "wörld", "", "last"].map(Message::text)
    );
    assert_eq!(
        seen.close,
        Some(Some(CloseFrame::new(CloseCode::NORMAL, "bye")))
    );
    server.shutdown();
}

#[test]
fn binary_lines_of_hex_arrive_as_exactly_those_bytes_and_print_as_hex() {
    let (server, seen) = echo_server();
    let run = client(
        &["--binary", &url(&server)],
        b"00ff10\nDE AD be ef\n\nzz\nabc\n",
    );
    assert_eq!(run.code(), Some(0), "{}", run.stderr);
    assert_eq!(run.stdout_text(), "00ff10\ndeadbeef\n\n");
    assert!(run.stderr.contains("line 4 not sent"), "{}", run.stderr);
    assert!(run.stderr.contains("line 5 not sent"), "{}", run.stderr);
    let seen = seen.recv_timeout(WAIT).expect("the server's report");
    assert_eq!(
        seen.messages,
        [
            Message::binary([0x00, 0xff, 0x10]),
            Message::binary([0xde, 0xad, 0xbe, 0xef]),
            Message::binary([]),
        ]
    );
    server.shutdown();
}

#[test]
fn raw_prints_received_binary_as_its_bytes() {
    let (server, _seen) = echo_server();
    let run = client(&["-b", "--raw", &url(&server)], b"00ff0a41\n0d\n");
    assert_eq!(run.code(), Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, [0x00, 0xff, 0x0a, 0x41, 0x0d]);
    server.shutdown();
}

#[test]
fn headers_subprotocols_and_origin_reach_the_server() {
    let (server, seen) = echo_server();
    let run = client(
        &[
            "-H",
            "X-Token: abc 123",
            "--header=X-Two:2",
            "--protocol",
            "superchat",
            "--protocol=chat",
            "--origin",
            "http://example.com",
            &url(&server),
        ],
        b"",
    );
    assert_eq!(run.code(), Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("(subprotocol chat)"), "{}", run.stderr);
    let seen = seen.recv_timeout(WAIT).expect("the server's report");
    let header = |name: &str| {
        seen.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("X-Token"), Some("abc 123"));
    assert_eq!(header("X-Two"), Some("2"));
    assert_eq!(header("Origin"), Some("http://example.com"));
    assert_eq!(header("Sec-WebSocket-Protocol"), Some("superchat, chat"));
    assert_eq!(seen.protocol.as_deref(), Some("chat"));
    server.shutdown();
}

#[test]
fn close_code_and_reason_are_what_the_server_receives() {
    let (server, seen) = echo_server();
    let run = client(
        &[
            "--close-code",
            "4000",
            "--close-reason",
            "done here",
            &url(&server),
        ],
        b"one\n",
    );
    assert_eq!(run.code(), Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("closed by us: 4000 \"done here\"; peer answered 4000"),
        "{}",
        run.stderr
    );
    let seen = seen.recv_timeout(WAIT).expect("the server's report");
    assert_eq!(
        seen.close,
        Some(Some(CloseFrame::new(CloseCode(4000), "done here")))
    );
    server.shutdown();
}

/// A server that greets, then closes with `code`; stdin stays open, so the
/// client ends because the peer closed.
fn peer_closes_with(code: CloseCode, reason: &'static str) -> Run {
    let server = server_with(Config::default(), move |mut ws| {
        let _ = ws.send_text("welcome");
        let _ = ws.close(code, reason);
    });
    let running = start("client", &[&url(&server)], b"");
    let run = running.finish(false);
    server.shutdown();
    run
}

#[test]
fn a_server_closing_with_1000_ends_the_client_with_0_and_it_says_the_peer_closed() {
    let run = peer_closes_with(CloseCode::NORMAL, "done");
    assert_eq!(run.code(), Some(0), "{}", run.stderr);
    assert_eq!(run.stdout_text(), "welcome\n");
    assert!(
        run.stderr
            .contains("closed by peer: 1000 (normal closure) \"done\"; we answered 1000"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("closed by us"), "{}", run.stderr);
}

#[test]
fn a_server_closing_with_1011_ends_the_client_with_2() {
    let run = peer_closes_with(CloseCode::INTERNAL_ERROR, "oops");
    assert_eq!(run.code(), Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("closed by peer: 1011 (internal error) \"oops\"; we answered 1011"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_connection_lost_without_a_close_is_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        stream.set_read_timeout(Some(WAIT)).expect("timeout");
        let ws = wslite::accept(stream).expect("the handshake");
        // The end of TCP, with no Close before it.
        let _ = ws.get_ref().shutdown(Shutdown::Both);
        thread::sleep(Duration::from_millis(200));
    });
    let run = start("client", &[&format!("ws://{addr}/")], b"").finish(false);
    assert_eq!(run.code(), Some(1), "{}", run.stderr);
    let expected = format!("error: {}\n", Error::AbnormalClosure);
    assert!(run.stderr.ends_with(&expected), "{}", run.stderr);
    server.join().expect("the server thread");
}

#[test]
fn show_control_prints_a_server_ping_and_the_pings_of_ping_interval() {
    let (tx, saw_ping) = mpsc::channel();
    let tx = Mutex::new(tx);
    let config = Config::default().read_timeout(Some(Duration::from_millis(100)));
    let server = server_with(config, move |mut ws| {
        let _ = ws.ping(b"are you there");
        // Until the client's first ping, for at most 5 s.
        let mut ping = None;
        for _ in 0..50 {
            match ws.read() {
                Ok(Message::Ping(payload)) => {
                    ping = Some(payload);
                    break;
                }
                Ok(_) | Err(Error::Timeout) => {}
                Err(_) => break,
            }
        }
        // The pong that is owed goes out ahead of the Close.
        let _ = ws.close(CloseCode::NORMAL, "");
        let _ = tx.lock().map(|tx| tx.send(ping));
    });
    let run = start(
        "client",
        &["--show-control", "--ping-interval", "0.05", &url(&server)],
        b"",
    )
    .finish(false);
    assert_eq!(run.code(), Some(0), "{}", run.stderr);
    for line in [
        "received ping \"are you there\"",
        "sending ping \"1\"",
        "received pong \"1\"",
        "closed by peer: 1000 (normal closure); we answered 1000",
    ] {
        assert!(run.stderr.contains(line), "no {line:?} in:\n{}", run.stderr);
    }
    let ping = saw_ping.recv_timeout(WAIT).expect("the server's report");
    assert_eq!(ping.as_deref(), Some(&b"1"[..]));
    server.shutdown();
}

#[test]
fn a_bad_url_a_refused_connection_wss_and_a_bad_option_are_errors() {
    let run = client(&["htp://127.0.0.1/"], b"");
    assert_eq!(run.code(), Some(1), "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error: invalid WebSocket URL"),
        "{}",
        run.stderr
    );

    // A port nobody listens on any more.
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let refused = format!("ws://{addr}/");
    let run = client(&[&refused], b"");
    assert_eq!(run.code(), Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with(&format!("error: cannot connect to {refused}: ")),
        "{}",
        run.stderr
    );

    let run = client(&["wss://127.0.0.1/"], b"");
    assert_eq!(run.code(), Some(1), "{}", run.stderr);
    assert_eq!(run.stderr, format!("error: {}\n", Error::TlsNotSupported));

    for args in [
        &["--bogus"][..],
        &["--close-code", "1005"],
        &["--close-code", "many"],
        &["-H", "no colon"],
        &["--ping-interval", "0"],
        &["--connect-timeout", "0"],
        &["--max-message", "lots"],
        &["ws://127.0.0.1:1/", "ws://127.0.0.1:2/"],
    ] {
        let run = client(args, b"");
        assert_eq!(run.code(), Some(1), "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("error: ") && run.stderr.contains("--help"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn echo_server_on_a_busy_port_names_the_address() {
    let busy = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = busy.local_addr().expect("address").to_string();
    let run = start("echo_server", &[&addr], b"").finish(true);
    assert_eq!(run.code(), Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with(&format!("error: cannot listen on {addr}: ")),
        "{}",
        run.stderr
    );
    let io_text = std::io::Error::from(std::io::ErrorKind::AddrInUse).to_string();
    assert!(
        run.stderr.contains("os error") || run.stderr.contains(&io_text),
        "{}",
        run.stderr
    );
    drop(busy);
}

#[test]
fn the_sans_io_walkthrough_answers_a_ping_closes_in_order_and_names_a_broken_rule() {
    let run = start("sans_io", &[], b"").finish(true);
    let out = run.stdout_text();
    assert_eq!(run.code(), Some(0), "{}", run.stderr);
    for line in [
        // The closing handshake, then TCP in the order of §7.1.1.
        "server: end of TCP: Now",
        "client: end of TCP: AfterPeer",
        // Two halves: the pong the reader noted, sent by the writer.
        "writer: takes it and sends [8a, 02, 68, 69]",
        // An unmasked frame: the Close 1002 goes out before the error is
        // returned, and then TCP may end.
        "server: sends the queued answer [88, 02, 03, ea]\n\
         server: failed: received an unmasked frame from a client",
    ] {
        assert!(out.contains(line), "no {line:?} in:\n{out}");
    }
    assert!(
        out.trim_end().ends_with("server: end of TCP: Now"),
        "the failed connection's end:\n{out}"
    );
}
