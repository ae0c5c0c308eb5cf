//! A WebSocket client for the terminal, in the spirit of `websocat`: each
//! line of stdin is one message, every message received is printed, and the
//! end of stdin (Ctrl-D) runs the closing handshake.
//!
//! ```sh
//! cargo run --release --example echo_server &
//! cargo run --release --example client                       # ws://127.0.0.1:9001
//! cargo run --release --example client -- --binary --show-control ws://127.0.0.1:9001/
//! ```
//!
//! `--help` lists the options. What it shows about the library:
//!
//! * [`ClientBuilder`] with headers, subprotocols, an `Origin`, timeouts
//!   and a [`Config`];
//! * full duplex with [`WebSocket::split`](wslite::WebSocket::split): a
//!   thread blocks in [`WsReader::read`] while the main thread reads stdin
//!   and sends through the [`WsWriter`], and a third one (with
//!   `--ping-interval`) pings through a clone of the same writer;
//! * who ended the connection. After our [`WsWriter::close`], the reader's
//!   next message is the peer's answering `Message::Close`; a
//!   `Message::Close` that comes first is the peer's own, which the library
//!   has already answered. A connection lost without either is
//!   [`Error::AbnormalClosure`].

#[path = "common/cli.rs"]
mod cli;

use std::io::{self, BufRead, IsTerminal, Write};
use std::net::TcpStream;
use std::process::exit;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use wslite::{ClientBuilder, CloseCode, CloseFrame, Config, Error, Message, WsReader, WsWriter};

const USAGE: &str = "\
usage: client [OPTIONS] [URL]

A WebSocket client for the terminal. Each line of stdin is sent as one text
message (its line end, \\n or \\r\\n, is not sent; a line that is not UTF-8 is
reported and not sent). Text messages received are printed as lines on
stdout, binary ones as one line of lowercase hex each. The end of stdin
(Ctrl-D) runs the closing handshake. Everything else (connected, who closed
and why, pings, warnings) goes to stderr.

Arguments:
  URL                       ws://host[:port][/path][?query]
                            (default ws://127.0.0.1:9001; no wss://: wslite has no TLS)

Options:
  -b, --binary              send binary messages: each line of stdin is hex
                            digits, spaces allowed (`00ff10`, `de ad be ef`),
                            one message a line, an empty line an empty message;
                            the form binary is printed in, so a line received
                            can be sent back. A line that is not hex is
                            reported and not sent (`xxd -p -c 0 FILE | client
                            -b` sends a file as one message)
      --raw                 print received binary messages as their raw bytes,
                            nothing between them (text stays one line each)
  -H, --header 'NAME: VALUE'
                            add a header field to the request (repeatable)
      --protocol NAME       offer a subprotocol (repeatable, most preferred first)
      --origin URL          send an Origin header, as a browser does (default: none)
      --ping-interval SECS  send a ping every SECS seconds, fractions allowed
                            (default: none; the library still pings after 20 s
                            of silence to see whether the peer is alive)
      --show-control        print on stderr the pings and pongs received and the
                            pings --ping-interval sends (who closed is always shown)
      --max-message BYTES   the largest message accepted from the peer, and the
                            longest line sent (default 64m; k and m suffixes)
      --close-code CODE     the close code sent at the end of stdin (default 1000)
      --close-reason TEXT   the reason sent with it (default: bye)
      --connect-timeout SECS
                            the longest the TCP connect may take, and then the
                            opening handshake (default 10)
  -h, --help                print this help

Exit status:
  0  the closing handshake completed: we closed and the peer answered, or the
     peer closed with 1000 (normal closure), 1001 (going away) or no code
  1  an error: a bad command line, cannot connect, the handshake was refused,
     the peer broke the protocol, the connection was lost without a closing
     handshake (1006), or the peer did not answer our close in time
  2  the peer closed with any other code (1011 internal error, 4000, ...)

Example:
  client -H 'Authorization: Bearer t0k3n' --protocol chat ws://127.0.0.1:9001/chat
";

/// How long the main thread waits for the reader's last word after `close`
/// returned (the socket is shut down by then, so the reader ends at once).
const READER_GRACE: Duration = Duration::from_secs(2);

/// The command line.
struct Opts {
    url: String,
    binary: bool,
    raw: bool,
    headers: Vec<(String, String)>,
    protocols: Vec<String>,
    origin: Option<String>,
    ping_interval: Option<Duration>,
    show_control: bool,
    max_message: usize,
    close_code: CloseCode,
    close_reason: String,
    connect_timeout: Duration,
}

impl Opts {
    fn parse(args: Vec<String>) -> Result<Opts, String> {
        let mut o = Opts {
            url: "ws://127.0.0.1:9001".into(),
            binary: false,
            raw: false,
            headers: Vec::new(),
            protocols: Vec::new(),
            origin: None,
            ping_interval: None,
            show_control: false,
            max_message: 64 << 20,
            close_code: CloseCode::NORMAL,
            close_reason: "bye".into(),
            connect_timeout: Duration::from_secs(10),
        };
        let mut url = None;
        let mut args = args.into_iter();
        let mut only_positional = false;
        while let Some(arg) = args.next() {
            if only_positional || !arg.starts_with('-') || arg == "-" {
                if url.replace(arg).is_some() {
                    return Err("more than one URL".into());
                }
                continue;
            }
            // `--name=value` and `--name value` both work.
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag.to_string(), Some(value)),
                _ => (arg.clone(), None),
            };
            let mut value = || -> Result<String, String> {
                match inline {
                    Some(v) => Ok(v.to_string()),
                    None => args.next().ok_or_else(|| format!("{flag} needs a value")),
                }
            };
            match flag.as_str() {
                "--" => only_positional = true,
                "-b" | "--binary" => o.binary = true,
                "--raw" => o.raw = true,
                "--show-control" => o.show_control = true,
                "-H" | "--header" => {
                    let field = value()?;
                    let (name, value) = field
                        .split_once(':')
                        .filter(|(name, _)| !name.trim().is_empty())
                        .ok_or_else(|| format!("{flag} {field:?}: expected 'Name: value'"))?;
                    o.headers
                        .push((name.trim().to_string(), value.trim().to_string()));
                }
                "--protocol" => o.protocols.push(value()?),
                "--origin" => o.origin = Some(value()?),
                "--ping-interval" => {
                    let every = cli::seconds(&flag, &value()?)?;
                    if every.is_zero() {
                        return Err(format!("{flag} must be more than 0 seconds"));
                    }
                    o.ping_interval = Some(every);
                }
                "--max-message" => o.max_message = cli::size(&flag, &value()?)?,
                "--close-code" => {
                    let text = value()?;
                    let code = text
                        .parse::<u16>()
                        .map(CloseCode)
                        .map_err(|_| format!("{flag} {text:?}: not a number"))?;
                    if !code.is_allowed_on_wire() {
                        return Err(format!(
                            "{flag} {code}: not a code one may send (1000-1003, 1007-1014, \
                             3000-4999; RFC 6455 §7.4)"
                        ));
                    }
                    o.close_code = code;
                }
                "--close-reason" => {
                    o.close_reason = value()?;
                    if o.close_reason.len() > wslite::close::MAX_REASON_LEN {
                        return Err(format!(
                            "{flag}: at most {} bytes (RFC 6455 §5.5.1)",
                            wslite::close::MAX_REASON_LEN
                        ));
                    }
                }
                "--connect-timeout" => {
                    o.connect_timeout = cli::seconds(&flag, &value()?)?;
                    if o.connect_timeout.is_zero() {
                        return Err(format!("{flag} must be more than 0 seconds"));
                    }
                }
                _ => return Err(format!("unknown option {flag}")),
            }
        }
        if let Some(url) = url {
            o.url = url;
        }
        Ok(o)
    }
}

fn main() {
    let o = match Opts::parse(cli::args(USAGE)) {
        Ok(o) => o,
        Err(e) => cli::usage_error(e),
    };
    let Connected {
        reader,
        writer,
        protocol,
    } = match connect(&o) {
        Ok(connected) => connected,
        Err(e) => cli::fail(e),
    };
    let hint = if io::stdin().is_terminal() {
        "; type lines to send, Ctrl-D to close"
    } else {
        ""
    };
    match protocol {
        Some(p) => eprintln!("connected to {} (subprotocol {p}){hint}", o.url),
        None => eprintln!("connected to {}{hint}", o.url),
    }

    let o = Arc::new(o);
    let we_closed = Arc::new(AtomicBool::new(false));
    let (last_word, reader_done) = mpsc::channel();
    {
        let (o, we_closed) = (Arc::clone(&o), Arc::clone(&we_closed));
        thread::spawn(move || receive(reader, &o, &we_closed, &last_word));
    }
    if let Some(every) = o.ping_interval {
        let (writer, show) = (writer.clone(), o.show_control);
        thread::spawn(move || ping_every(every, &writer, show));
    }

    if let Err(e) = send_stdin(&o, &writer) {
        // A send that failed means the connection ended; the reader knows
        // why (the peer's Close, a lost connection) and ends the program
        // with that. Only if it does not is this the error to tell.
        thread::sleep(Duration::from_secs(6));
        cli::fail(e);
    }

    // The end of stdin: our closing handshake.
    we_closed.store(true, Ordering::SeqCst);
    let ours = describe(&Some(CloseFrame::new(
        o.close_code,
        o.close_reason.as_str(),
    )));
    let closed = writer.close(o.close_code, &o.close_reason);
    let last = reader_done.recv_timeout(READER_GRACE);
    flush_stdout();
    match (closed, last) {
        (_, Ok(Last::Answer(frame))) => {
            eprintln!("closed by us: {ours}; peer answered {}", describe(&frame));
            exit(0);
        }
        (Err(e), _) => cli::fail(format!("closed by us: {ours}; {e}")),
        (Ok(_), Ok(Last::Error(e))) => cli::fail(format!(
            "closed by us: {ours}; the connection ended without the peer's answer: {e}"
        )),
        (Ok(_), Err(_)) => cli::fail(format!(
            "closed by us: {ours}; the peer did not answer within the close timeout"
        )),
    }
}

/// An open connection in its two halves.
struct Connected {
    reader: WsReader<TcpStream>,
    writer: WsWriter<TcpStream>,
    /// The subprotocol the server chose.
    protocol: Option<String>,
}

/// Opens the connection and parts it into its halves.
fn connect(o: &Opts) -> Result<Connected, String> {
    let config = Config::default()
        .max_message_size(o.max_message)
        .max_frame_size(o.max_message);
    let mut builder = ClientBuilder::new(o.url.as_str())
        .config(config)
        .connect_timeout(Some(o.connect_timeout))
        .handshake_timeout(Some(o.connect_timeout));
    for (name, value) in &o.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    for protocol in &o.protocols {
        builder = builder.protocol(protocol.as_str());
    }
    if let Some(origin) = &o.origin {
        builder = builder.origin(origin.as_str());
    }
    let ws = builder.connect().map_err(|e| match e {
        // "cannot connect to ws://127.0.0.1:1: Connection refused (os error 111)"
        Error::Io(io) => format!("cannot connect to {}: {io}", o.url),
        // The crate's own words: a bad URL, wss://, a refusal, a bad answer.
        other => other.to_string(),
    })?;
    let protocol = ws.protocol().map(String::from);
    let (reader, writer) = ws.split().map_err(|e| e.to_string())?;
    Ok(Connected {
        reader,
        writer,
        protocol,
    })
}

/// Sends each line of stdin as one message, until the end of stdin.
fn send_stdin(o: &Opts, writer: &WsWriter<TcpStream>) -> Result<(), Error> {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut line = Vec::new();
    for number in 1u64.. {
        line.clear();
        let read = match read_line(&mut input, o.max_message, &mut line) {
            Ok(read) => read,
            // An unreadable stdin ends the input as its end does.
            Err(e) => {
                eprintln!("warning: cannot read stdin: {e}; closing");
                return Ok(());
            }
        };
        let skip = |why: String| eprintln!("warning: line {number} not sent: {why}");
        match read {
            Line::End => return Ok(()),
            Line::TooLong => skip(format!("longer than --max-message ({})", o.max_message)),
            Line::Complete if o.binary => match parse_hex(&line) {
                Ok(bytes) => writer.send_binary(&bytes)?,
                Err(why) => skip(why),
            },
            Line::Complete => match std::str::from_utf8(&line) {
                Ok(text) => writer.send_text(text)?,
                Err(_) => skip("not UTF-8 text (--binary sends bytes, as hex)".into()),
            },
        }
    }
    Ok(())
}

/// What [`read_line`] found.
enum Line {
    /// A line, its end taken off.
    Complete,
    /// A line longer than the limit: skipped to its end.
    TooLong,
    /// The end of the input.
    End,
}

/// Reads one line of at most `max` bytes into `line`, without its `\n` or
/// `\r\n`. A longer line is read to its end and dropped, so memory stays
/// bounded whatever comes in.
fn read_line(input: &mut impl BufRead, max: usize, line: &mut Vec<u8>) -> io::Result<Line> {
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(2);
    let n = io::Read::take(&mut *input, limit).read_until(b'\n', line)?;
    if n == 0 {
        return Ok(Line::End);
    }
    let ended = line.last() == Some(&b'\n');
    if ended {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    if line.len() <= max {
        return Ok(Line::Complete);
    }
    // The rest of the long line, read and dropped piece by piece.
    if !ended {
        loop {
            let buf = input.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            match buf.iter().position(|&b| b == b'\n') {
                Some(at) => {
                    input.consume(at + 1);
                    break;
                }
                None => {
                    let all = buf.len();
                    input.consume(all);
                }
            }
        }
    }
    Ok(Line::TooLong)
}

/// `de ad be ef` or `DEADBEEF`: the bytes.
fn parse_hex(line: &[u8]) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = line
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let value = |digit: u8| match digit {
        b'0'..=b'9' => Ok(digit - b'0'),
        b'a'..=b'f' => Ok(digit - b'a' + 10),
        b'A'..=b'F' => Ok(digit - b'A' + 10),
        _ => Err(format!(
            "{:?} is not a hex digit (--binary reads hex)",
            char::from(digit)
        )),
    };
    let pairs = digits.chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return Err("an odd number of hex digits".into());
    }
    pairs
        .map(|pair| match pair {
            [high, low] => Ok(value(*high)? << 4 | value(*low)?),
            _ => Err("an odd number of hex digits".into()),
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A control payload for a person: quoted text, or hex if it is not text.
fn shown(payload: &[u8]) -> String {
    match std::str::from_utf8(payload) {
        Ok(text) => format!("{text:?}"),
        Err(_) => format!("0x{}", hex(payload)),
    }
}

/// `1000 (normal closure) "bye"`, `4000`, `no code`.
fn describe(frame: &Option<CloseFrame>) -> String {
    match frame {
        None => "no code".into(),
        Some(f) if f.reason.is_empty() => f.code.to_string(),
        // `{:?}` escapes control characters: the peer's reason cannot
        // drive the terminal.
        Some(f) => format!("{} {:?}", f.code, f.reason),
    }
}

fn flush_stdout() {
    let _ = io::stdout().flush();
}

/// The reader's last word to the main thread, once our close is under way.
enum Last {
    /// The peer's answer to our Close.
    Answer(Option<CloseFrame>),
    /// The connection ended otherwise.
    Error(Error),
}

/// The reading thread: prints every message. It ends the program itself
/// when the peer closes or the connection fails (the main thread may be
/// blocked reading stdin); after our own close it hands the end to the main
/// thread.
fn receive(
    mut reader: WsReader<TcpStream>,
    o: &Opts,
    we_closed: &AtomicBool,
    last_word: &mpsc::Sender<Last>,
) {
    loop {
        let printed = match reader.read() {
            Ok(Message::Text(text)) => writeln!(io::stdout(), "{text}"),
            Ok(Message::Binary(data)) if o.raw => {
                let mut out = io::stdout().lock();
                out.write_all(&data).and_then(|()| out.flush())
            }
            Ok(Message::Binary(data)) => writeln!(io::stdout(), "{}", hex(&data)),
            Ok(Message::Ping(payload)) => {
                if o.show_control {
                    eprintln!("received ping {}", shown(&payload));
                }
                Ok(())
            }
            Ok(Message::Pong(payload)) => {
                if o.show_control {
                    eprintln!("received pong {}", shown(&payload));
                }
                Ok(())
            }
            Ok(Message::Close(frame)) if we_closed.load(Ordering::SeqCst) => {
                let _ = last_word.send(Last::Answer(frame));
                return;
            }
            Ok(Message::Close(frame)) => peer_closed(&mut reader, &frame),
            Err(e) if we_closed.load(Ordering::SeqCst) => {
                let _ = last_word.send(Last::Error(e));
                return;
            }
            Err(e) => {
                flush_stdout();
                cli::fail(e);
            }
        };
        if let Err(e) = printed {
            // stdout is gone (`| head -1` has all it wanted): say so, end.
            cli::fail(format!("cannot write to stdout: {e}"));
        }
    }
}

/// The peer closed first; the library has answered with the same code.
fn peer_closed(reader: &mut WsReader<TcpStream>, frame: &Option<CloseFrame>) -> ! {
    let answer = match frame {
        Some(f) => f.code.0.to_string(),
        None => "with no code".into(),
    };
    flush_stdout();
    eprintln!("closed by peer: {}; we answered {answer}", describe(frame));
    // One more read lets our answer go out and the server end TCP first
    // (RFC 6455 §7.1.1); it ends with `ConnectionClosed` within the close
    // timeout.
    let _ = reader.read();
    let clean = match frame {
        None => true,
        Some(f) => f.code == CloseCode::NORMAL || f.code == CloseCode::GOING_AWAY,
    };
    exit(if clean { 0 } else { 2 });
}

/// The `--ping-interval` thread: a ping through its own clone of the
/// writer, numbered, until a send fails (the connection is closing).
fn ping_every(every: Duration, writer: &WsWriter<TcpStream>, show: bool) {
    for n in 1u64.. {
        thread::sleep(every);
        let payload = n.to_string();
        if show {
            eprintln!("sending ping {}", shown(payload.as_bytes()));
        }
        if writer.ping(payload.as_bytes()).is_err() {
            return;
        }
    }
}
