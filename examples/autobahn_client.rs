//! The Autobahn|Testsuite client protocol: ask the fuzzing server how many
//! cases there are, run each one by echoing every message, then ask it to
//! write its report.
//!
//! ```sh
//! cargo run --release --example autobahn_client ws://127.0.0.1:9002
//! ```
//!
//! The URL defaults to `$AUTOBAHN_URL`, then `ws://127.0.0.1:9001`.

#[path = "common/cli.rs"]
mod cli;

use std::net::TcpStream;

use wslite::{ClientBuilder, Config, Error, Message, WebSocket};

const AGENT: &str = "wslite";

const USAGE: &str = "\
usage: autobahn_client [BASE_URL]

The client side of the Autobahn|Testsuite: asks the fuzzing server at
BASE_URL how many cases there are (BASE_URL/getCaseCount), runs each one by
echoing every message (BASE_URL/runCase?case=N&agent=wslite), then asks it
to write its report (BASE_URL/updateReports?agent=wslite). A case that
cannot connect is reported on stderr and the next one runs.

Arguments:
  BASE_URL    the fuzzing server (default: $AUTOBAHN_URL, else ws://127.0.0.1:9001)

Limits: messages up to 64 MiB, frames up to 16 MiB (the suite's largest).

Options:
  -h, --help  print this help

Example:
  wstest -m fuzzingserver -s fuzzingserver.json &
  autobahn_client ws://127.0.0.1:9001
";

fn config() -> Config {
    Config::default()
        .max_message_size(64 << 20)
        .max_frame_size(16 << 20)
}

fn main() {
    let args = cli::args(USAGE);
    let base = match args.as_slice() {
        [] => std::env::var("AUTOBAHN_URL").unwrap_or_else(|_| "ws://127.0.0.1:9001".into()),
        [url] if !url.starts_with('-') => url.clone(),
        [arg] => cli::usage_error(format!("unknown option {arg}")),
        [_, extra, ..] => cli::usage_error(format!("unexpected argument {extra:?}")),
    };
    cli::finish(run(base.trim_end_matches('/')));
}

fn run(base: &str) -> Result<(), String> {
    let url = format!("{base}/getCaseCount");
    let mut ws = connect(&url)?;
    let count: u32 = match ws.read() {
        Ok(Message::Text(text)) => text
            .trim()
            .parse()
            .map_err(|_| format!("{url} sent {text:?}, not a case count"))?,
        Ok(other) => return Err(format!("{url} sent {other:?}, not a case count as text")),
        Err(e) => return Err(format!("{url}: {e}")),
    };
    let _ = ws.close(wslite::CloseCode::NORMAL, "");
    eprintln!("{count} cases");

    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={AGENT}");
        let mut ws = match connect(&url) {
            Ok(ws) => ws,
            Err(e) => {
                eprintln!("case {case}: {e}");
                continue;
            }
        };
        loop {
            match ws.read() {
                Ok(message @ (Message::Text(_) | Message::Binary(_))) => {
                    if ws.send(message).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }

    let mut ws = connect(&format!("{base}/updateReports?agent={AGENT}"))?;
    while ws.read().is_ok() {}
    Ok(())
}

/// A connection with the suite's limits; an error says which URL.
fn connect(url: &str) -> Result<WebSocket<TcpStream>, String> {
    ClientBuilder::new(url)
        .config(config())
        .connect()
        .map_err(|e| match e {
            Error::Io(io) => format!("cannot connect to {url}: {io}"),
            other => format!("{url}: {other}"),
        })
}
