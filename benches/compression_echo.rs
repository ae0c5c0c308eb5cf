//! The echo server's messages per second with permessage-deflate on and
//! off (RFC 7692), JSON messages of 16 B, 1 KiB and 64 KiB.
//!
//! ```sh
//! cargo bench --manifest-path benches/Cargo.toml --bench compression_echo                # ~1 minute
//! cargo bench --manifest-path benches/Cargo.toml --bench compression_echo -- --reps 5    # steadier
//! ```
//!
//! The perf harness's load generator (`wsload`, `/work/shared/perf`) offers
//! no extension, so no server compresses for it. This bench is its own load
//! generator: a wslite client ([`ClientBuilder`]) that offers
//! permessage-deflate or not, keeps W messages in flight per connection
//! (each echo is replaced at once; queued with `write`, which `read` flushes
//! before it waits, as `examples/echo_server.rs` answers) and verifies every
//! echo byte for byte. The same binary is the server (the loop of
//! `examples/echo_server.rs`, with the compression settings on its command
//! line), so both sides of a comparison are this file.
//!
//! Subcommands, for running pieces by hand:
//!
//! ```text
//! compression_echo server --port P [--compression off|on] [--threshold N]
//! compression_echo client --port P -s SIZE [-w W] [-c C] [-d SECS] [--warmup SECS]
//!                         [--compression off|on] [--threshold N] [--server-pid PID]
//! ```
//!
//! (the binary is `target/release/deps/compression_echo-*`). The client
//! prints one JSON line: messages counted, seconds, and the CPU seconds of
//! the client and (with `--server-pid`) of the server over the measured
//! window.
//!
//! ## The matrix (no subcommand)
//!
//! Servers run as child processes pinned to CPU 0 and the client to CPU 1
//! (`taskset`, when installed), as in the perf harness: one core each, so
//! the server's CPU per message is the cost of its work even where the
//! client set the pace. Every server of a workload is started once; the
//! client visits them in slices (0.25 s warm-up on fresh connections, then
//! 0.5 s measured), the order rotated every round, `--reps` rounds (3).
//! Cells are medians over rounds; ratios are the median of the per-round
//! ratio to wslite without compression.
//!
//! Servers: `wslite` (this file's server, compression on with the defaults:
//! level 6, 12-bit windows, messages of 1 KiB and up compressed), for 16 B
//! also `wslite t0` (threshold 0: every message compressed), and, when the
//! harness is built at `$WSLITE_PERF` (default `target/perf`, a copy of
//! `/work/shared/perf` with its `target/release` and venv), its
//! `tungstenite-echo-server` (no permessage-deflate) and its
//! python-websockets server (accepts permessage-deflate when offered; its
//! defaults: 12-bit windows, memLevel 5, every message compressed). The
//! client columns: `off` (no offer) and `on` (offered, the same settings as
//! the server's: defaults, or threshold 0 for `t0`).
//!
//! Payload: text cut from the JSON corpus of `common/corpus.rs`, a pool of
//! distinct consecutive pieces sent in turn, so that context takeover sees
//! what a stream of API responses gives it, not the same message again.

use std::io::Write as _;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use wslite::{ClientBuilder, CloseCode, Compression, Config, Message, Server, WebSocket};

#[path = "common/corpus.rs"]
mod corpus;
#[path = "common/loopback.rs"]
mod loopback;

/// `--flag value` from the arguments.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn parse_size(s: &str) -> usize {
    let t = s.to_ascii_lowercase();
    if let Some(k) = t.strip_suffix('k') {
        k.parse::<usize>().expect("size") << 10
    } else {
        t.parse().expect("size")
    }
}

/// The compression settings of `--compression` and `--threshold`.
fn compression(args: &[String]) -> Option<Compression> {
    match flag(args, "--compression").unwrap_or("on") {
        "off" => None,
        "on" => {
            let c = Compression::default();
            Some(match flag(args, "--threshold") {
                Some(t) => c.threshold(t.parse().expect("threshold")),
                None => c,
            })
        }
        other => panic!("--compression on|off, not {other}"),
    }
}

/// The echo server of `examples/echo_server.rs`, compressing as told.
fn server(args: &[String]) {
    let port = flag(args, "--port").expect("--port");
    let config = Config::default()
        .max_message_size(64 << 20)
        .max_frame_size(16 << 20)
        .compression(compression(args));
    let server = Server::bind(format!("127.0.0.1:{port}"))
        .expect("bind")
        .config(config)
        .reuse_threads(64);
    server.run(loopback::echo).expect("the server runs");
}

/// User + system CPU seconds of a process from `/proc/PID/stat` (10 ms
/// ticks).
fn cpu_seconds(pid: Option<u32>) -> f64 {
    let path = pid.map_or("/proc/self/stat".into(), |p| format!("/proc/{p}/stat"));
    let Ok(stat) = std::fs::read_to_string(path) else {
        return f64::NAN;
    };
    let after = &stat[stat.rfind(')').map_or(0, |i| i + 1)..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .map(|&i| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum();
    ticks as f64 / 100.0
}

/// `count` distinct pieces of `size` bytes of JSON text, consecutive in
/// the corpus.
fn payloads(size: usize) -> Vec<String> {
    let count = (4 << 20) / size.max(1);
    let count = count.clamp(4, 64);
    let text = corpus::json(count * size + 1024);
    let text = String::from_utf8(text).expect("the corpus is ASCII");
    (0..count)
        .map(|i| text[i * size..(i + 1) * size].to_string())
        .collect()
}

/// One connection's run: W in flight, counting echoes between `warm_end`
/// and `deadline`; returns (counted, error).
fn run_connection(
    ws: &mut WebSocket<TcpStream>,
    pool: &[String],
    window: usize,
    warm_end: Instant,
    deadline: Instant,
) -> Result<u64, String> {
    let err = |e: wslite::Error| e.to_string();
    let (mut sent, mut received, mut counted) = (0usize, 0usize, 0u64);
    let mut stopped = false;
    loop {
        while !stopped && sent - received < window {
            ws.write_text(&pool[sent % pool.len()]).map_err(err)?;
            sent += 1;
        }
        if sent == received {
            break;
        }
        match ws.read().map_err(err)? {
            Message::Text(t) => {
                if t != pool[received % pool.len()] {
                    return Err(format!("echo {received} differs from what was sent"));
                }
                received += 1;
                let now = Instant::now();
                if now >= warm_end && now <= deadline {
                    counted += 1;
                }
                stopped = now >= deadline;
            }
            Message::Close(_) => return Err("the server closed".into()),
            _ => {}
        }
    }
    ws.close(CloseCode::NORMAL, "").map_err(err)?;
    Ok(counted)
}

/// The load: C connections, W in flight each, one JSON line out.
fn client(args: &[String]) {
    let port = flag(args, "--port").expect("--port");
    let size = parse_size(flag(args, "-s").unwrap_or("16"));
    let window: usize = flag(args, "-w").unwrap_or("64").parse().expect("-w");
    let connections: usize = flag(args, "-c").unwrap_or("1").parse().expect("-c");
    let secs = |f, d| Duration::from_secs_f64(flag(args, f).unwrap_or(d).parse().expect(f));
    let (duration, warmup) = (secs("-d", "1"), secs("--warmup", "0.25"));
    let server_pid: Option<u32> = flag(args, "--server-pid").map(|p| p.parse().expect("pid"));
    let config = Config::default()
        .read_timeout(Some(Duration::from_secs(60)))
        .compression(compression(args));
    let pool = Arc::new(payloads(size));
    let mut sockets = Vec::new();
    for _ in 0..connections {
        let ws = ClientBuilder::new(format!("ws://127.0.0.1:{port}/"))
            .config(config)
            .connect()
            .expect("connect");
        sockets.push(ws);
    }
    let agreed = sockets[0].compression().is_some();
    let barrier = Arc::new(Barrier::new(connections + 1));
    let start = Instant::now() + Duration::from_millis(20);
    let (warm_end, deadline) = (start + warmup, start + warmup + duration);
    let threads: Vec<_> = sockets
        .into_iter()
        .map(|mut ws| {
            let (pool, barrier) = (Arc::clone(&pool), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                run_connection(&mut ws, &pool, window, warm_end, deadline)
            })
        })
        .collect();
    barrier.wait();
    thread::sleep(warm_end.saturating_duration_since(Instant::now()));
    let (me0, server0) = (cpu_seconds(None), server_pid.map(|p| cpu_seconds(Some(p))));
    let mut counted = 0;
    let mut errors = Vec::new();
    for t in threads {
        match t.join().expect("a connection thread panicked") {
            Ok(n) => counted += n,
            Err(e) => errors.push(e),
        }
    }
    let measured = deadline.min(Instant::now()).duration_since(warm_end);
    let me = cpu_seconds(None) - me0;
    let server = server0.map_or(f64::NAN, |s0| cpu_seconds(server_pid) - s0);
    println!(
        "{{\"messages\":{counted},\"seconds\":{:.4},\"client_cpu_s\":{me:.3},\
         \"server_cpu_s\":{server:.3},\"compression\":{agreed},\"ok\":{},\"error\":\"{}\"}}",
        measured.as_secs_f64(),
        errors.is_empty() && counted > 0,
        errors.first().map_or("", |e| e.as_str()).replace('"', "'")
    );
}

/// A server of the matrix.
struct Target {
    name: &'static str,
    command: Vec<String>,
    /// Whether the `on` client column applies (the server compresses).
    compresses: bool,
    /// The client's extra arguments for the `on` column.
    on_args: &'static [&'static str],
}

/// The first line of a JSON object's number field, by hand (no serde).
fn json_field(line: &str, name: &str) -> f64 {
    let key = format!("\"{name}\":");
    line.find(&key)
        .map(|i| &line[i + key.len()..])
        .and_then(|rest| {
            let end = rest.find([',', '}']).unwrap_or(rest.len());
            rest[..end].parse().ok()
        })
        .unwrap_or(f64::NAN)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn have_taskset() -> bool {
    Command::new("taskset")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `command`, pinned to `cpu` when taskset exists.
fn pinned(cpu: u32, command: &[String]) -> Command {
    let mut c = if have_taskset() {
        let mut c = Command::new("taskset");
        c.args(["-c", &cpu.to_string()]).args(command);
        c
    } else {
        let mut c = Command::new(&command[0]);
        c.args(&command[1..]);
        c
    };
    c.stdin(Stdio::null());
    c
}

fn start_server(command: &[String], port: u16) -> Child {
    let command: Vec<String> = command
        .iter()
        .map(|a| a.replace("{port}", &port.to_string()))
        .collect();
    let child = pinned(0, &command)
        .stdout(Stdio::null())
        .spawn()
        .expect("start a server");
    let until = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "{command:?} did not listen");
        thread::sleep(Duration::from_millis(20));
    }
    child
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn human(rate: f64) -> String {
    if rate >= 1e6 {
        format!("{:.2}M", rate / 1e6)
    } else if rate >= 1e3 {
        format!("{:.1}k", rate / 1e3)
    } else {
        format!("{rate:.0}")
    }
}

fn matrix(args: &[String]) {
    let reps: usize = flag(args, "--reps").unwrap_or("3").parse().expect("--reps");
    let me = std::env::current_exe().expect("the bench's path");
    let me = me.to_string_lossy().to_string();
    let perf = std::env::var("WSLITE_PERF").unwrap_or_else(|_| "target/perf".into());
    let ours = |extra: &[&str]| {
        let mut c = vec![
            me.clone(),
            "server".into(),
            "--port".into(),
            "{port}".into(),
        ];
        c.extend(extra.iter().map(|s| s.to_string()));
        c
    };
    let mut targets = vec![Target {
        name: "wslite",
        command: ours(&[]),
        compresses: true,
        on_args: &[],
    }];
    let tungstenite = format!("{perf}/target/release/tungstenite-echo-server");
    let python = format!("{perf}/refs-python/.venv/bin/python");
    let have_refs = std::path::Path::new(&tungstenite).exists();
    if have_refs {
        targets.push(Target {
            name: "tungstenite",
            command: vec![tungstenite, "--port".into(), "{port}".into()],
            compresses: false,
            on_args: &[],
        });
        targets.push(Target {
            name: "python-websockets",
            command: vec![
                python,
                format!("{perf}/refs-python/echo_server.py"),
                "--port".into(),
                "{port}".into(),
            ],
            compresses: true,
            // websockets compresses every message: so does our client.
            on_args: &["--threshold", "0"],
        });
    } else {
        eprintln!("no perf harness at {perf}: wslite only (set WSLITE_PERF)");
    }
    let t0 = Target {
        name: "wslite t0",
        command: ours(&["--threshold", "0"]),
        compresses: true,
        on_args: &["--threshold", "0"],
    };
    // (label, size, window, connections, with the threshold-0 server)
    let workloads = [
        ("C=1 W=64 S=16", "16", "64", "1", true),
        ("C=1 W=64 S=1KiB", "1k", "64", "1", false),
        ("C=1 W=64 S=64KiB", "64k", "64", "1", false),
        ("C=4 W=16 S=1KiB", "1k", "16", "4", false),
    ];
    println!(
        "compression_echo: {reps} rounds x 0.5 s measured per cell; server on CPU 0, client on \
         CPU 1{}",
        if have_taskset() {
            ""
        } else {
            " (no taskset: not pinned)"
        }
    );
    println!(
        "{:<18} {:<18} {:>4} {:>10} {:>8} {:>12} {:>10} {:>10} {:>8}",
        "workload",
        "server",
        "ext",
        "msg/s",
        "(x off)",
        "srv cpu-us",
        "cli cpu-us",
        "srv/cli %",
        "MB/s"
    );
    for (label, size, window, conns, with_t0) in workloads {
        let mut servers: Vec<&Target> = targets.iter().collect();
        if with_t0 {
            servers.insert(1, &t0);
        }
        let running: Vec<(Child, u16)> = servers
            .iter()
            .map(|t| {
                let port = free_port();
                (start_server(&t.command, port), port)
            })
            .collect();
        // The cells: (server index, compression on?).
        let mut cells = Vec::new();
        for (i, t) in servers.iter().enumerate() {
            cells.push((i, false));
            if t.compresses {
                cells.push((i, true));
            }
        }
        // Per cell and round: (msg/s, server cpu-us/msg, client cpu-us/msg,
        // server %, client %, negotiated).
        let mut results = vec![Vec::new(); cells.len()];
        for round in 0..reps {
            for k in 0..cells.len() {
                let c = (k + round) % cells.len();
                let (i, on) = cells[c];
                let (child, port) = &running[i];
                let mut cmd = vec![
                    me.clone(),
                    "client".into(),
                    "--port".into(),
                    port.to_string(),
                    "-s".into(),
                    size.into(),
                    "-w".into(),
                    window.into(),
                    "-c".into(),
                    conns.into(),
                    "-d".into(),
                    "0.5".into(),
                    "--warmup".into(),
                    "0.25".into(),
                    "--server-pid".into(),
                    child.id().to_string(),
                    "--compression".into(),
                    if on { "on" } else { "off" }.into(),
                ];
                if on {
                    cmd.extend(servers[i].on_args.iter().map(|s| s.to_string()));
                }
                let out = pinned(1, &cmd).output().expect("run the client");
                let line = String::from_utf8_lossy(&out.stdout);
                let line = line.lines().last().unwrap_or("");
                if !line.contains("\"ok\":true") {
                    eprintln!("{label} {} {on}: {line}", servers[i].name);
                }
                let (n, secs) = (json_field(line, "messages"), json_field(line, "seconds"));
                let (srv, cli) = (
                    json_field(line, "server_cpu_s"),
                    json_field(line, "client_cpu_s"),
                );
                let negotiated = line.contains("\"compression\":true");
                results[c].push((
                    n / secs,
                    srv / n * 1e6,
                    cli / n * 1e6,
                    100.0 * srv / secs,
                    100.0 * cli / secs,
                    negotiated,
                ));
            }
        }
        for (mut child, _) in running {
            child.kill().ok();
            child.wait().ok();
        }
        let baseline = &results[0];
        for (c, &(i, on)) in cells.iter().enumerate() {
            let r = &results[c];
            let rate = median(r.iter().map(|x| x.0).collect());
            let ratio = median(r.iter().zip(baseline).map(|(x, b)| x.0 / b.0).collect());
            let negotiated = r.iter().all(|x| x.5);
            let ext = match (on, negotiated) {
                (false, _) => "off",
                (true, true) => "on",
                (true, false) => "on?",
            };
            let bytes = parse_size(size) as f64;
            println!(
                "{:<18} {:<18} {:>4} {:>10} {:>8} {:>12.2} {:>10.2} {:>10} {:>8.1}",
                label,
                servers[i].name,
                ext,
                human(rate),
                format!("({ratio:.2})"),
                median(r.iter().map(|x| x.1).collect()),
                median(r.iter().map(|x| x.2).collect()),
                format!(
                    "{:.0}/{:.0}",
                    median(r.iter().map(|x| x.3).collect()),
                    median(r.iter().map(|x| x.4).collect())
                ),
                rate * bytes / 1e6,
            );
        }
        std::io::stdout().flush().ok();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("server") => server(&args),
        Some("client") => client(&args),
        // `cargo bench` passes `--bench`; anything else runs the matrix.
        _ => matrix(&args),
    }
}
