//! The wslite client bench of the side-by-side perf harness
//! (`/work/shared/perf`): pipelined echoes against an echo server, with the
//! command line, pacing rule and JSON report of the harness's other client
//! benches (`tungstenite-client-bench`, `wsload throughput`), so the rows of
//! its client table compare like with like.
//!
//! ```text
//! bench_client --port PORT | --url ws://127.0.0.1:PORT/
//!              [-n N] [-s SIZE] [-w WINDOW] [-c C] [-d SECONDS] [--warmup SECONDS]
//!              [--server-pid PID] [--text] [--label TEXT] [--json-only] [--send-each]
//! ```
//!
//! `-n` counted messages per connection (200000), `-s` payload bytes (16;
//! `1k`, `64k`, `1m` accepted), `-w` messages in flight per connection (64),
//! `-c` connections (1), `-d` the most seconds counted (10), `--warmup`
//! seconds before counting starts (0.3), `--server-pid` also reports the
//! server's CPU. The last line printed is one JSON object (`msgs_per_s`,
//! `mb_per_s` in 10^6 payload bytes per second, `client_cpu_pct`,
//! `server_cpu_pct` in % of one core over the measured window, `ok`, ...).
//!
//! ## Running it in the harness
//!
//! ```sh
//! cargo build --release --example bench_client
//! /tmp/perf/run-all.sh --no-build --only wsload,tungstenite,wslite --no-servers \
//!   --client wslite="$PWD/target/release/examples/bench_client --port {port} -n {messages} -s {size} -w {window} -c {connections} -d {duration} --warmup {warmup} --server-pid {server_pid} --json-only"
//! ```
//!
//! (The placeholders are those of the harness's `clients.conf`; `{url}`
//! works too, with `--url {url}`. Add a second `--client wslite-send-each=...`
//! with `--send-each` to see both variants side by side, and `--reps 3` or
//! more for steadier medians.) With `CARGO_TARGET_DIR` set, the binary is
//! under that directory instead of `target/`.
//!
//! ## The pacing rule (the same as the other client benches)
//!
//! All connections are opened and upgraded first; then they start together
//! (a barrier), each on its own thread. Each connection sends W messages,
//! then one more for every echo it receives, so W are in flight. Echoes that
//! arrive after the warm-up and before the deadline are counted. A
//! connection stops sending once it has sent N messages after the warm-up,
//! or at the deadline, then reads the echoes still in flight and runs the
//! closing handshake. The rate is the counted echoes over the time from the
//! end of the warm-up to the last connection's last echo.
//!
//! ## Why queueing with `write` is a fair comparison
//!
//! By default every message is handed to [`WebSocket::write`], which queues
//! its frame (masked, as a client must); the queue goes out when it reaches
//! [`Config::write_buffer_size`], and at the latest when
//! [`WebSocket::read`] is about to wait for the peer: `read` flushes before
//! it reads from the socket. So while echoes keep arriving, the replacements
//! for a batch of echoes leave in one system call instead of one each.
//! tungstenite's bench calls `send` (write + flush) per message. Both send
//! exactly the same frames, one per message, each message its own complete
//! WebSocket frame, with the same number in flight; wslite only gathers them
//! into fewer system calls, which is its documented behaviour for `write`
//! and what `examples/echo_server.rs` does too, not a trick of this bench.
//! A message is never held back while the client waits: nothing is queued
//! when `read` blocks. `write_binary` queues from the borrowed payload, so no
//! owned copy is made per message, and a message too large for the write
//! buffer leaves at once. To show the cost of one system call per message as
//! well, `--send-each` uses [`WebSocket::send_binary`] (or `send_text`),
//! which writes each message at once, like tungstenite's bench; run both and
//! both numbers are in the table.
//!
//! Arguments are parsed by hand and CPU time is read from `/proc` (Linux),
//! so the example needs nothing beyond the crate and `std`.

#[path = "common/cli.rs"]
mod cli;

use std::fmt::Write as _;
use std::net::TcpStream;
use std::sync::{Arc, Barrier, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use wslite::{ClientBuilder, CloseCode, Config, Message, WebSocket};

const USAGE: &str = "usage: bench_client (--port PORT | --url ws://127.0.0.1:PORT/) [options]

Pipelined echoes against an echo server, W messages in flight on each of C
connections; the last line printed is one JSON object (msgs_per_s, mb_per_s,
client_cpu_pct, server_cpu_pct, ok, ...). The module documentation of
examples/bench_client.rs gives the pacing rule.

Options:
      --port PORT      the echo server at ws://127.0.0.1:PORT/
      --url URL        the echo server at URL (instead of --port)
  -n, --messages N     counted messages per connection (default 200000)
  -s, --size S         payload bytes (default 16; 1k, 64k, 1m accepted)
  -w, --window W       messages in flight per connection (default 64)
  -c, --connections C  connections (default 1)
  -d, --duration T     stop counting after T seconds even if N is not reached (default 10)
      --warmup T       seconds before counting starts (default 0.3)
      --text           text messages instead of binary
      --send-each      send (one system call) per message instead of write + flush on read
      --server-pid PID also report the server's CPU use
      --label TEXT     copied into the JSON line
      --json-only      print only the JSON line
  -h, --help           print this help

Exit status: 0 when every connection ran without error, 1 otherwise.

Example:
  echo_server 127.0.0.1:9001 &
  bench_client --port 9001 -s 1k -c 4 -d 5
";

/// The command line.
struct Opts {
    url: String,
    messages: u64,
    size: usize,
    window: usize,
    connections: usize,
    duration: Duration,
    warmup: Duration,
    text: bool,
    send_each: bool,
    server_pid: Option<u32>,
    label: String,
    json_only: bool,
}

/// `16`, `1k`, `64KiB`, `1m`: a byte count.
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim().to_ascii_lowercase();
    let (num, mult) = if let Some(n) = t.strip_suffix("kib").or_else(|| t.strip_suffix('k')) {
        (n, 1 << 10)
    } else if let Some(n) = t.strip_suffix("mib").or_else(|| t.strip_suffix('m')) {
        (n, 1 << 20)
    } else {
        (t.as_str(), 1)
    };
    num.trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("bad size {s:?}"))
}

fn parse_num<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: bad value {value:?}"))
}

fn parse_secs(flag: &str, value: &str) -> Result<Duration, String> {
    let v: f64 = parse_num(flag, value)?;
    if !(0.0..=600.0).contains(&v) {
        return Err(format!("{flag} must be 0..=600 seconds"));
    }
    Ok(Duration::from_secs_f64(v))
}

impl Opts {
    fn parse(args: impl Iterator<Item = String>) -> Result<Opts, String> {
        let mut o = Opts {
            url: String::new(),
            messages: 200_000,
            size: 16,
            window: 64,
            connections: 1,
            duration: Duration::from_secs(10),
            warmup: Duration::from_millis(300),
            text: false,
            send_each: false,
            server_pid: None,
            label: String::new(),
            json_only: false,
        };
        let mut port = None;
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            // `--flag=value` and `--flag value` both work.
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            match flag.as_str() {
                "--text" => o.text = true,
                "--send-each" => o.send_each = true,
                "--json-only" => o.json_only = true,
                _ => {
                    let value = match inline {
                        Some(v) => v,
                        None => args.next().ok_or_else(|| format!("{flag} needs a value"))?,
                    };
                    match flag.as_str() {
                        "--url" => o.url = value,
                        "--port" => port = Some(parse_num::<u16>(&flag, &value)?),
                        "-n" | "--messages" => o.messages = parse_num(&flag, &value)?,
                        "-s" | "--size" => o.size = parse_size(&value)?,
                        "-w" | "--window" => o.window = parse_num(&flag, &value)?,
                        "-c" | "--connections" => o.connections = parse_num(&flag, &value)?,
                        "-d" | "--duration" => o.duration = parse_secs(&flag, &value)?,
                        "--warmup" => o.warmup = parse_secs(&flag, &value)?,
                        "--server-pid" => o.server_pid = Some(parse_num(&flag, &value)?),
                        "--label" => o.label = value,
                        _ => return Err(format!("unknown option {flag}")),
                    }
                }
            }
        }
        match (o.url.is_empty(), port) {
            (false, _) => {}
            (true, Some(p)) => o.url = format!("ws://127.0.0.1:{p}/"),
            (true, None) => return Err("give --url or --port".into()),
        }
        if o.window == 0 || o.connections == 0 || o.connections > 10_000 || o.size > 64 << 20 {
            return Err("window >= 1, connections 1..=10000, size <= 64 MiB".into());
        }
        Ok(o)
    }

    /// The payload of every message: ASCII, so it is valid text too.
    fn payload(&self) -> Vec<u8> {
        (0..self.size).map(|i| b'a' + (i * 7 % 26) as u8).collect()
    }
}

/// The end of the warm-up and the deadline, shared by all connections.
#[derive(Clone, Copy)]
struct Clock {
    warm_end: Instant,
    deadline: Instant,
}

/// Keeps W messages in flight on one connection and counts echoes.
struct Pacer {
    clock: Clock,
    window: usize,
    limit: u64,
    in_flight: usize,
    measuring: bool,
    /// Messages sent after the warm-up: sending stops at `limit`.
    sent_counted: u64,
    /// Echoes received after the warm-up and by the deadline.
    counted: u64,
    stopped: bool,
    /// When the last echo arrived after sending stopped.
    end: Option<Instant>,
}

impl Pacer {
    fn new(o: &Opts, clock: Clock) -> Pacer {
        Pacer {
            clock,
            window: o.window,
            limit: o.messages,
            in_flight: 0,
            measuring: o.warmup.is_zero(),
            sent_counted: 0,
            counted: 0,
            stopped: false,
            end: None,
        }
    }

    fn tick(&mut self) {
        let now = Instant::now();
        if !self.measuring && now >= self.clock.warm_end {
            self.measuring = true;
        }
        if now >= self.clock.deadline || (self.measuring && self.sent_counted >= self.limit) {
            self.stopped = true;
        }
    }

    fn can_send(&mut self) -> bool {
        if self.in_flight >= self.window || self.stopped {
            return false;
        }
        self.tick();
        !self.stopped
    }

    fn sent(&mut self) {
        self.in_flight += 1;
        if self.measuring {
            self.sent_counted += 1;
        }
    }

    fn received(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.tick();
        if self.measuring && Instant::now() <= self.clock.deadline {
            self.counted += 1;
        }
        if self.stopped && self.in_flight == 0 && self.end.is_none() {
            self.end = Some(Instant::now());
        }
    }

    fn done(&self) -> bool {
        self.stopped && self.in_flight == 0
    }
}

/// What one connection reports.
#[derive(Default)]
struct ConnResult {
    counted: u64,
    end: Option<Instant>,
    error: Option<String>,
}

/// Sends one message the way the chosen variant does.
fn send_one(ws: &mut WebSocket<TcpStream>, o: &Opts, payload: &[u8]) -> wslite::Result<()> {
    match (o.send_each, o.text) {
        // One frame, one system call, now.
        (true, false) => ws.send_binary(payload),
        (true, true) => ws.send_text(ascii(payload)),
        // One frame, queued from the borrowed payload: it leaves with the
        // others when `read` is about to wait (or the write buffer fills);
        // a frame too large to gather leaves at once.
        (false, false) => ws.write_binary(payload),
        (false, true) => ws.write_text(ascii(payload)),
    }
}

fn ascii(payload: &[u8]) -> &str {
    std::str::from_utf8(payload).expect("the payload is ASCII")
}

/// One connection's run: fill the window, then one message per echo, then
/// drain and close.
fn run_connection(
    ws: &mut WebSocket<TcpStream>,
    o: &Opts,
    payload: &[u8],
    p: &mut Pacer,
) -> Result<(), String> {
    let err = |e: wslite::Error| e.to_string();
    while p.can_send() {
        send_one(ws, o, payload).map_err(err)?;
        p.sent();
    }
    while !p.done() {
        // `read` first writes whatever `write` queued, then waits.
        match ws.read().map_err(err)? {
            Message::Binary(b) if !o.text && b.len() == o.size => p.received(),
            Message::Text(t) if o.text && t.len() == o.size => p.received(),
            Message::Binary(_) | Message::Text(_) => return Err("echo of the wrong length".into()),
            Message::Close(_) => return Err("the server closed the connection".into()),
            _ => continue,
        }
        while p.can_send() {
            send_one(ws, o, payload).map_err(err)?;
            p.sent();
        }
    }
    ws.close(CloseCode::NORMAL, "").map(|_| ()).map_err(err)
}

/// User + system CPU seconds of a process (all its threads) from
/// `/proc/PID/stat`, in clock ticks of 10 ms.
fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may hold spaces and parentheses: the fields start
    // after the last ')'. There, state is the first field, utime the 12th
    // and stime the 13th (fields 14 and 15 of proc(5)).
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    const TICKS_PER_SECOND: f64 = 100.0;
    Some((utime + stime) as f64 / TICKS_PER_SECOND)
}

/// CPU use of a process between its start and a reading, in % of one core.
struct CpuMeter {
    pid: Option<u32>,
    start: Option<f64>,
    since: Instant,
}

impl CpuMeter {
    fn start(pid: Option<u32>) -> CpuMeter {
        CpuMeter {
            pid,
            start: cpu_seconds(pid),
            since: Instant::now(),
        }
    }

    fn percent(&self) -> Option<f64> {
        let used = cpu_seconds(self.pid)? - self.start?;
        Some(100.0 * used / self.since.elapsed().as_secs_f64().max(1e-9))
    }
}

/// A string as a JSON string literal.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_num(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.3}"),
        _ => "null".into(),
    }
}

fn main() {
    let o = match Opts::parse(cli::args(USAGE).into_iter()) {
        Ok(o) => Arc::new(o),
        Err(e) => cli::usage_error(e),
    };
    let payload: Arc<[u8]> = o.payload().into();
    // A read that hangs for a minute is a broken run, not a slow one.
    let config = Config::default().read_timeout(Some(Duration::from_secs(60)));

    // Connect everything first, then start the clock.
    let mut sockets = Vec::with_capacity(o.connections);
    for i in 0..o.connections {
        match ClientBuilder::new(o.url.clone()).config(config).connect() {
            Ok(ws) => sockets.push(ws),
            Err(wslite::Error::Io(e)) => {
                cli::fail(format!("connection {i}: cannot connect to {}: {e}", o.url))
            }
            Err(e) => cli::fail(format!("connection {i}: {}: {e}", o.url)),
        }
    }

    let barrier = Arc::new(Barrier::new(o.connections + 1));
    let clock_slot = Arc::new(OnceLock::<Clock>::new());
    let mut threads = Vec::with_capacity(o.connections);
    for mut ws in sockets {
        let (o, payload, barrier, clock_slot) = (
            Arc::clone(&o),
            Arc::clone(&payload),
            Arc::clone(&barrier),
            Arc::clone(&clock_slot),
        );
        threads.push(thread::spawn(move || {
            barrier.wait();
            let clock = *clock_slot
                .get()
                .expect("the clock is set before the barrier");
            let mut pacer = Pacer::new(&o, clock);
            let outcome = run_connection(&mut ws, &o, &payload, &mut pacer);
            ConnResult {
                counted: pacer.counted,
                end: pacer.end,
                error: outcome.err(),
            }
        }));
    }
    let now = Instant::now();
    let clock = Clock {
        warm_end: now + o.warmup,
        deadline: now + o.warmup + o.duration,
    };
    clock_slot.set(clock).ok();
    barrier.wait();

    // The CPU meters cover the measured window only.
    thread::sleep(clock.warm_end.saturating_duration_since(Instant::now()));
    let me = CpuMeter::start(None);
    let server = o.server_pid.map(|pid| CpuMeter::start(Some(pid)));

    let results: Vec<ConnResult> = threads
        .into_iter()
        .map(|t| {
            t.join().unwrap_or_else(|_| ConnResult {
                error: Some("thread panicked".into()),
                ..ConnResult::default()
            })
        })
        .collect();
    let (client_cpu, server_cpu) = (me.percent(), server.and_then(|m| m.percent()));

    let total: u64 = results.iter().map(|r| r.counted).sum();
    let end = results
        .iter()
        .filter_map(|r| r.end)
        .max()
        .unwrap_or_else(Instant::now);
    let secs = end
        .saturating_duration_since(clock.warm_end)
        .as_secs_f64()
        .max(1e-9);
    let rate = total as f64 / secs;
    let mbps = rate * o.size as f64 / 1e6;
    let errors: Vec<&str> = results.iter().filter_map(|r| r.error.as_deref()).collect();
    let ok = errors.is_empty() && total > 0;
    let variant = if o.send_each { "send-each" } else { "write" };

    if !o.json_only {
        println!(
            "wslite client bench ({variant}) {} C={} S={} W={}: {total} msgs in {secs:.2} s = \
             {rate:.0} msgs/s, {mbps:.2} MB/s; cpu {}",
            o.url,
            o.connections,
            o.size,
            o.window,
            client_cpu.map(|v| format!("{v:.0}%")).unwrap_or_default(),
        );
        for e in errors.iter().take(5) {
            println!("  error: {e}");
        }
    }
    println!(
        "{{\"tool\":\"client-bench\",\"client\":\"wslite\",\"variant\":{},\"label\":{},\
         \"url\":{},\"connections\":{},\"size\":{},\"window\":{},\"text\":{},\
         \"messages\":{total},\"seconds\":{},\"msgs_per_s\":{},\"mb_per_s\":{},\
         \"client_cpu_pct\":{},\"server_cpu_pct\":{},\"errors\":{},\"first_error\":{},\
         \"ok\":{ok}}}",
        json_str(variant),
        json_str(&o.label),
        json_str(&o.url),
        o.connections,
        o.size,
        o.window,
        o.text,
        json_num(Some(secs)),
        json_num(Some(rate)),
        json_num(Some(mbps)),
        json_num(client_cpu),
        json_num(server_cpu),
        errors.len(),
        json_str(errors.first().copied().unwrap_or("")),
    );
    std::process::exit(if ok { 0 } else { 1 });
}
