//! A `wss://` client: each line of stdin goes out as a text message, each
//! message received is printed.
//!
//! Over TLS a connection has one owner (`split` needs a socket that reads
//! and writes through `&self`, which a TLS session is not), so one thread
//! does both directions: it reads with a short `read_timeout` and, each
//! time a read times out, sends what stdin has given meanwhile. A read
//! that times out loses nothing.

#[path = "../../../common/cli.rs"]
mod cli;

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::mpsc::{self, TryRecvError};
use std::time::{Duration, Instant};

use wslite::{CloseCode, Message};
use wslite_tls_example as tls;

const USAGE: &str = "\
Usage: wss_client [--ca CERT.pem] [--wait SECONDS] wss://host[:port]/path

Sends each line of stdin as a text message and prints each message that
comes back (text as it is, binary as <N bytes of binary>). At the end of
stdin it waits until as many messages came back as it sent (at most --wait
seconds), then closes with 1000.

Options:
  --ca PATH        trust the certificates in this PEM file (a local CA, or
                   the server's self-signed certificate) and no other; by
                   default the public roots (Mozilla's, from webpki-roots)
  --wait SECONDS   the longest to wait for replies after stdin ends
                   (default 5)
  -h, --help       this text
";

/// How long one read waits before the client looks at stdin again.
const POLL: Duration = Duration::from_millis(50);

struct Options {
    url: String,
    ca: Option<PathBuf>,
    wait: Duration,
}

fn parse(args: Vec<String>) -> Options {
    let mut url = None;
    let mut ca = None;
    let mut wait = Duration::from_secs(5);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| cli::usage_error(format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--ca" => ca = Some(value().into()),
            "--wait" => {
                let s = value();
                let seconds: f64 = s
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0 && *s < 1e6)
                    .unwrap_or_else(|| {
                        cli::usage_error(format!("--wait {s}: not a number of seconds"))
                    });
                wait = Duration::from_secs_f64(seconds);
            }
            _ if arg.starts_with("--") => cli::usage_error(format!("unknown option {arg}")),
            _ if url.is_none() => url = Some(arg),
            _ => cli::usage_error(format!("one URL only ({arg})")),
        }
    }
    let url = url.unwrap_or_else(|| cli::usage_error("no URL (wss://host:port/path)"));
    Options { url, ca, wait }
}

fn main() {
    let options = parse(cli::args(USAGE));
    cli::finish(run(options));
}

fn run(options: Options) -> Result<(), String> {
    let roots = match &options.ca {
        Some(path) => tls::roots_from_pem(path).map_err(|e| e.to_string())?,
        None => tls::public_roots(),
    };
    let client_tls = tls::client_config(roots).map_err(|e| e.to_string())?;
    let config = wslite::Config::default()
        .handshake_timeout(Some(Duration::from_secs(10)))
        .read_timeout(Some(POLL));
    let mut ws = cli::context(
        tls::connect(&options.url, client_tls, config),
        format!("cannot connect to {}", options.url),
    )?;
    eprintln!("connected to {}", options.url);

    // stdin on a thread of its own: a blocked read of the keyboard must
    // not stop the connection from reading.
    let (lines, from_stdin) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });

    let (mut sent, mut received) = (0u64, 0u64);
    let mut stdin_ended: Option<Instant> = None;
    loop {
        // Send what stdin gave since the last look.
        loop {
            match from_stdin.try_recv() {
                Ok(line) => {
                    cli::context(ws.send_text(&line), "cannot send")?;
                    sent += 1;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    stdin_ended.get_or_insert_with(Instant::now);
                    break;
                }
            }
        }
        if let Some(ended) = stdin_ended {
            if received >= sent {
                break;
            }
            if ended.elapsed() >= options.wait {
                eprintln!("{received} of {sent} replies came within --wait");
                break;
            }
        }
        match ws.read() {
            Ok(Message::Text(text)) => {
                println!("{text}");
                received += 1;
            }
            Ok(Message::Binary(data)) => {
                println!("<{} bytes of binary>", data.len());
                received += 1;
            }
            Ok(Message::Close(frame)) => {
                match frame {
                    Some(f) => eprintln!("closed by the server: {} {}", f.code, f.reason),
                    None => eprintln!("closed by the server"),
                }
                return Ok(());
            }
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
            Err(wslite::Error::Timeout) => {}
            Err(e) => return Err(format!("connection failed: {e}")),
        }
    }
    match cli::context(ws.close(CloseCode::NORMAL, ""), "close")? {
        Some(frame) => eprintln!("closed: {}", frame.code),
        None => eprintln!("closed (the server's Close had no code)"),
    }
    Ok(())
}
