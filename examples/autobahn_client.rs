//! The Autobahn|Testsuite client protocol: ask the fuzzing server how many
//! cases there are, run each one by echoing every message, then ask it to
//! write its report.
//!
//! ```sh
//! cargo run --release --example autobahn_client ws://127.0.0.1:9002
//! ```
//!
//! The URL defaults to `$AUTOBAHN_URL`, then `ws://127.0.0.1:9001`.

use wslite::{ClientBuilder, Config, Message};

const AGENT: &str = "wslite";

fn config() -> Config {
    Config::default()
        .max_message_size(64 << 20)
        .max_frame_size(16 << 20)
}

fn main() -> wslite::Result<()> {
    let base = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("AUTOBAHN_URL").ok())
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let base = base.trim_end_matches('/');

    let mut ws = ClientBuilder::new(format!("{base}/getCaseCount"))
        .config(config())
        .connect()?;
    let count: u32 = match ws.read()? {
        Message::Text(text) => text
            .trim()
            .parse()
            .map_err(|_| wslite::Error::InvalidInput("case count is not a number"))?,
        _ => {
            return Err(wslite::Error::InvalidInput(
                "expected the case count as text",
            ))
        }
    };
    let _ = ws.close(wslite::CloseCode::NORMAL, "");
    eprintln!("{count} cases");

    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={AGENT}");
        let mut ws = match ClientBuilder::new(url).config(config()).connect() {
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

    let mut ws = ClientBuilder::new(format!("{base}/updateReports?agent={AGENT}"))
        .config(config())
        .connect()?;
    while ws.read().is_ok() {}
    Ok(())
}
