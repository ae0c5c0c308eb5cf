//! A command-line client: lines typed on stdin are sent as text, messages
//! received are printed, Ctrl-D closes cleanly with 1000.
//!
//! ```sh
//! cargo run --release --example echo_server &
//! cargo run --release --example client ws://127.0.0.1:9001
//! ```
//!
//! It shows full duplex with `split`: one thread blocks in `read` while the
//! main thread reads the keyboard and sends.

use std::io::BufRead;

use wslite::{CloseCode, Message};

fn main() -> wslite::Result<()> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let ws = wslite::connect(&url)?;
    eprintln!("connected to {url}; type lines to send, Ctrl-D to close");
    let (mut reader, writer) = ws.split()?;

    let printer = std::thread::spawn(move || loop {
        match reader.read() {
            Ok(Message::Text(text)) => println!("{text}"),
            Ok(Message::Binary(data)) => println!("<{} bytes of binary>", data.len()),
            Ok(Message::Close(frame)) => {
                match frame {
                    Some(f) => eprintln!("closed by peer: {} {}", f.code, f.reason),
                    None => eprintln!("closed by peer"),
                }
                break;
            }
            Ok(_) => {}
            Err(wslite::Error::ConnectionClosed) => break,
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
    });

    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if let Err(e) = writer.send_text(&line) {
            eprintln!("error: {e}");
            break;
        }
    }
    writer.close(CloseCode::NORMAL, "bye")?;
    let _ = printer.join();
    Ok(())
}
