//! A frame inspector: a proxy that sits between any WebSocket client (a
//! browser, say) and any server, and prints both handshake messages and every
//! frame in both directions, annotated.
//!
//! ```sh
//! cargo run --release --example chat 127.0.0.1:8080 &
//! cargo run --release --example inspect 127.0.0.1:9000 ws://127.0.0.1:8080
//! # now open http://127.0.0.1:9000 in a browser: the page and its WebSocket
//! # go through the inspector
//! cargo run --release --example inspect 127.0.0.1:9000 ws://127.0.0.1:8080 --hex
//! ```
//!
//! For each connection it shows the client's upgrade request, how the
//! server's `Sec-WebSocket-Accept` is computed from the key (RFC 6455 §1.3,
//! §4.2.2) and whether the answer matches, then one line per frame: direction
//! (`→` client to server, `←` server to client), FIN, the RSV bits, the opcode
//! by name, the mask bit and key, the payload length and which of the three
//! length encodings carried it (§5.2), and the payload as text or hex, cut to
//! a width; a Close frame's code by name. `--hex` adds the raw header bytes
//! with each field marked under them, for learning the wire format.
//!
//! **permessage-deflate (RFC 7692).** When the server's answer agrees the
//! extension (its `Sec-WebSocket-Extensions` field, parsed as a client
//! would, §7.1), the inspector says with which windows and whether each
//! side keeps its context between messages, and inflates what it sees, one
//! inflater per direction: a compressed message has RSV1 on its first frame
//! (§6), and with context takeover (§7.1.1) a message may refer back into
//! the ones before it, so each direction's window lives as long as the
//! connection, sized from what was agreed (2^bits bytes). For each frame of
//! a compressed message it shows the DEFLATE bytes the frame carried; at the
//! message's end, its size on the wire and inflated, and the inflated
//! payload (as text or hex, cut to the width like any payload).
//!
//! Each direction runs on a thread of its own, and each frame's lines are
//! built first and printed together with one write, so a frame's block is
//! never split by the other direction's lines.
//!
//! Bytes are forwarded unchanged, as they arrive; the inspector only watches.
//! It also runs the protocol rules over what it sees (the same core the
//! library uses) and reports the first violation in each direction.
//! Requests that are not WebSocket upgrades (the page itself) are passed
//! through with one line each.

#[path = "common/cli.rs"]
mod cli;

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use wslite::blocking::url::Url;
use wslite::frame::{apply_mask, FrameHeader, OpCode, MAX_HEADER_LEN};
use wslite::handshake::{
    self, accept_key, head::HeadScanner, Header, Limits, RequestParser, ResponseParser, Status,
};
use wslite::permessage_deflate::message::MessageInflater;
use wslite::permessage_deflate::negotiation::{check_response, Agreed, DeflateOptions};
use wslite::protocol::{Connection, DataKind, Role};
use wslite::{sha1, CloseCode};

/// What the user asked for.
#[derive(Clone)]
struct Options {
    upstream: String,
    hex: bool,
    width: usize,
}

const USAGE: &str = "\
usage: inspect LISTEN_ADDR ws://UPSTREAM[:PORT] [--hex] [--width N]

A proxy that prints the handshake and every frame between a WebSocket
client and an upstream server, both ways, and forwards bytes unchanged.

  LISTEN_ADDR   where clients connect, e.g. 127.0.0.1:9000 (port 0: any)
  UPSTREAM      the server, plain ws:// only
  --hex         also the raw header bytes, each field marked
  --width N     payload preview width in characters (default 60)
  -h, --help    this text
";

fn main() {
    let args = cli::args(USAGE);
    let mut positional = Vec::new();
    let mut hex = false;
    let mut width = 60;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--hex" => hex = true,
            "--width" => {
                width = iter
                    .next()
                    .and_then(|w| w.parse().ok())
                    .unwrap_or_else(|| cli::usage_error("--width takes a number"))
            }
            flag if flag.starts_with("--") => cli::usage_error(format!("unknown option {flag}")),
            _ => positional.push(arg.clone()),
        }
    }
    let [listen, upstream] = positional.as_slice() else {
        cli::usage_error("give LISTEN_ADDR and ws://UPSTREAM");
    };
    let url = Url::parse(upstream)
        .unwrap_or_else(|e| cli::usage_error(format!("upstream {upstream}: {e}")));
    if url.require_plain().is_err() {
        cli::usage_error("the inspector speaks plain ws:// only");
    }
    let options = Arc::new(Options {
        upstream: url.socket_addr_string(),
        hex,
        width,
    });
    let listener = TcpListener::bind(listen)
        .unwrap_or_else(|e| cli::fail(format!("cannot listen on {listen}: {e}")));
    println!(
        "inspecting: clients connect to {}, frames go to {}",
        listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default(),
        options.upstream
    );
    let ids = AtomicUsize::new(1);
    for client in listener.incoming().flatten() {
        let id = ids.fetch_add(1, Ordering::Relaxed);
        let options = Arc::clone(&options);
        thread::spawn(move || {
            if let Err(e) = proxy(client, id, &options) {
                say(id, &format!("connection ended: {e}"));
            }
        });
    }
}

/// One line of output, prefixed with the connection's number, for what is
/// said before the two directions' threads start (the handshake) or after
/// they end. The frames' lines go through [`FrameLog::say`] and
/// [`FrameLog::flush`], a whole frame at a time.
fn say(id: usize, line: &str) {
    let mut out = io::stdout().lock();
    for l in line.lines() {
        let _ = writeln!(out, "[{id}] {l}");
    }
    let _ = out.flush();
}

/// Reads an HTTP head (request or response) from `stream` into `buf`.
fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    let limits = Limits::new().with_max_head_bytes(64 << 10);
    let mut scanner = HeadScanner::new();
    let mut chunk = [0u8; 4096];
    loop {
        match scanner.scan(buf, &limits, limits.max_headers) {
            Ok(Some(len)) => return Ok(len),
            Ok(None) => {}
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Prints the header fields of a head, indented.
fn show_headers(id: usize, headers: &[Header<'_>]) {
    for h in headers {
        say(
            id,
            &format!("      {}: {}", h.name, String::from_utf8_lossy(h.value)),
        );
    }
}

fn proxy(mut client: TcpStream, id: usize, options: &Options) -> io::Result<()> {
    let _ = client.set_nodelay(true);
    // The client's request.
    let mut request_bytes = Vec::new();
    let request_len = read_head(&mut client, &mut request_bytes)?;
    let mut headers = [Header::EMPTY; 64];
    let mut parser = RequestParser::new(Limits::new().with_max_head_bytes(64 << 10));
    let (upgrade, key) = match parser.parse(&request_bytes[..request_len], &mut headers) {
        Ok(Status::Complete((_, request))) => {
            let upgrade = request.is_websocket_upgrade();
            let kind = if upgrade {
                "WebSocket upgrade"
            } else {
                "plain HTTP"
            };
            say(
                id,
                &format!(
                    "→ {} {} HTTP/{}.{}  ({kind})",
                    request.method(),
                    request.target(),
                    request.version().0,
                    request.version().1
                ),
            );
            let key = request.header("Sec-WebSocket-Key").map(<[u8]>::to_vec);
            if upgrade {
                show_headers(id, request.headers());
            }
            (upgrade, key)
        }
        Ok(Status::Partial) => return Err(io::ErrorKind::InvalidData.into()),
        Err(e) => {
            say(
                id,
                &format!("→ unreadable request ({e}); passing bytes through"),
            );
            (false, None)
        }
    };

    let mut server = TcpStream::connect(&options.upstream)?;
    let _ = server.set_nodelay(true);
    server.write_all(&request_bytes)?;
    if !upgrade {
        return pass_through(client, server);
    }
    if let Some(key) = &key {
        show_accept_computation(id, key);
    }

    // The server's answer.
    let mut response_bytes = Vec::new();
    let response_len = read_head(&mut server, &mut response_bytes)?;
    let mut headers = [Header::EMPTY; 64];
    let mut parser = ResponseParser::new(Limits::new().with_max_head_bytes(64 << 10));
    let mut deflate = None;
    let switched = match parser.parse(&response_bytes[..response_len], &mut headers) {
        Ok(Status::Complete((_, response))) => {
            say(
                id,
                &format!(
                    "← HTTP/1.1 {} {}",
                    response.status(),
                    String::from_utf8_lossy(response.reason())
                ),
            );
            show_headers(id, response.headers());
            if let (Some(key), Some(accept)) = (&key, response.header("Sec-WebSocket-Accept")) {
                let verdict = if accept == accept_key(key) {
                    "matches the key ✓"
                } else {
                    "does NOT match the key ✗"
                };
                say(id, &format!("      (Sec-WebSocket-Accept {verdict})"));
            }
            deflate = agreed_deflate(id, response.extensions());
            response.status() == 101
        }
        Ok(Status::Partial) => return Err(io::ErrorKind::InvalidData.into()),
        Err(e) => {
            say(id, &format!("← unreadable response ({e})"));
            false
        }
    };
    client.write_all(&response_bytes)?;
    if !switched {
        return pass_through(client, server);
    }
    say(id, "   the connection now carries frames (RFC 6455 §5)");

    // Frames, both ways: bytes after the heads are already frames.
    let early_from_client = request_bytes[request_len..].to_vec();
    let early_from_server = response_bytes[response_len..].to_vec();
    let (c2, s2) = (client.try_clone()?, server.try_clone()?);
    let opts = options.clone();
    let up = thread::spawn(move || {
        let mut log = FrameLog::new(id, "→", Role::Server, opts, deflate);
        log.feed(&early_from_client);
        pump(client, server, log)
    });
    let mut log = FrameLog::new(id, "←", Role::Client, options.clone(), deflate);
    log.feed(&early_from_server);
    let down = pump(s2, c2, log);
    let _ = up.join();
    down
}

/// What the server's `Sec-WebSocket-Extensions` answer agrees of
/// permessage-deflate (RFC 7692 §7.1), read as a client reads it, and said
/// in words. The offer is taken as the widest one (32 KiB windows, no
/// requests): the inspector did not make it, and a larger window than the
/// sender uses inflates just as well.
fn agreed_deflate<'a>(id: usize, elements: impl IntoIterator<Item = &'a [u8]>) -> Option<Agreed> {
    match check_response(elements, &DeflateOptions::new()) {
        Ok(Some(agreed)) => {
            let context = |reset: bool| {
                if reset {
                    "starts every message afresh (no_context_takeover)"
                } else {
                    "keeps its window between messages (context takeover)"
                }
            };
            say(
                id,
                &format!(
                    "   permessage-deflate agreed (RFC 7692): messages may be compressed, RSV1 on the first frame
                        → the client compresses with a window of 2^{} bytes and {}
                        ← the server compresses with a window of 2^{} bytes and {}",
                    agreed.client_max_window_bits,
                    context(agreed.client_no_context_takeover),
                    agreed.server_max_window_bits,
                    context(agreed.server_no_context_takeover),
                ),
            );
            Some(agreed)
        }
        Ok(None) => None,
        Err(e) => {
            say(
                id,
                &format!("   !! the permessage-deflate answer is invalid: {e} (not inflating)"),
            );
            None
        }
    }
}

/// The accept key, step by step (RFC 6455 §1.3).
fn show_accept_computation(id: usize, key: &[u8]) {
    let mut hash = sha1::Sha1::new();
    hash.update(key);
    hash.update(handshake::GUID.as_bytes());
    let digest = hash.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let accept = accept_key(key);
    say(id, &format!(
        "      accept = base64(SHA-1(key + \"{}\"))\n             SHA-1 = {hex}\n             base64 = {}",
        handshake::GUID,
        String::from_utf8_lossy(&accept)
    ));
}

/// Copies bytes one way until the end, then passes the end on.
fn pass_through(client: TcpStream, server: TcpStream) -> io::Result<()> {
    let (c2, s2) = (client.try_clone()?, server.try_clone()?);
    let up = thread::spawn(move || copy_until_end(client, server));
    let result = copy_until_end(s2, c2);
    let _ = up.join();
    result
}

fn copy_until_end(mut from: TcpStream, mut to: TcpStream) -> io::Result<()> {
    let result = io::copy(&mut from, &mut to).map(|_| ());
    let _ = to.shutdown(Shutdown::Write);
    result
}

/// Forwards bytes one way, unchanged, and shows the frames in them.
fn pump(mut from: TcpStream, mut to: TcpStream, mut log: FrameLog) -> io::Result<()> {
    let mut buf = vec![0u8; 64 << 10];
    let result = loop {
        match from.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if let Err(e) = to.write_all(&buf[..n]) {
                    break Err(e);
                }
                log.feed(&buf[..n]);
            }
            Err(e) => break Err(e),
        }
    };
    let end = format!("{} end of stream", log.arrow);
    log.say(&end);
    log.flush();
    let _ = to.shutdown(Shutdown::Write);
    result
}

/// Follows the frames of one direction and prints each.
struct FrameLog {
    id: usize,
    arrow: &'static str,
    options: Options,
    /// Bytes of a header still arriving.
    header: Vec<u8>,
    /// The frame whose payload is arriving.
    current: Option<Current>,
    /// The library's own rules, run over a copy of the bytes.
    rules: Option<Connection>,
    /// An unreadable header was seen: frames can no longer be told apart.
    lost: bool,
    /// permessage-deflate, when agreed: this direction's inflater.
    inflate: Option<Inflate>,
    /// The lines of the frame arriving (and anything said since the last
    /// frame), printed together once it is complete.
    block: String,
}

/// One direction's inflating (RFC 7692 §7.2.2): the inflater keeps its
/// window from message to message unless the sender resets its own.
struct Inflate {
    inflater: MessageInflater<Vec<u8>>,
    /// Where inflated bytes go, a piece at a time.
    out: Vec<u8>,
    /// The compressed message arriving, if one is.
    message: Option<Compressed>,
}

/// A compressed message as it arrives.
struct Compressed {
    kind: DataKind,
    /// Its DEFLATE bytes on the wire so far, and in the current frame.
    wire: u64,
    frame_wire: u64,
    /// Bytes inflated so far, and the first of them, for display.
    inflated: u64,
    shown: Vec<u8>,
}

struct Current {
    header: FrameHeader,
    remaining: u64,
    /// The first bytes of the payload, unmasked, for display.
    shown: Vec<u8>,
    seen: u64,
}

impl FrameLog {
    /// Adds a line (or several) to the block being built; nothing is
    /// printed before [`flush`](Self::flush).
    fn say(&mut self, line: &str) {
        for l in line.lines() {
            self.block.push_str(&format!("[{}] {l}\n", self.id));
        }
    }

    /// Prints the block built so far with one write, under stdout's lock,
    /// so the other direction's thread cannot print inside it.
    fn flush(&mut self) {
        if self.block.is_empty() {
            return;
        }
        let mut out = io::stdout().lock();
        let _ = out.write_all(self.block.as_bytes());
        let _ = out.flush();
        self.block.clear();
    }

    fn new(
        id: usize,
        arrow: &'static str,
        receiver: Role,
        options: Options,
        deflate: Option<Agreed>,
    ) -> Self {
        let limits = wslite::protocol::Limits::default()
            .max_frame_size(u64::MAX >> 1)
            .max_message_size(u64::MAX >> 1);
        let mut rules = Connection::new(receiver, limits);
        let inflate = deflate.map(|agreed| {
            // RSV1 on a message's first frame is now allowed (§6).
            let (mut receiving, sending, shared) = rules.clone().into_parts();
            receiving.enable_compression();
            rules = Connection::from_parts(receiving, sending, shared);
            // The sender is the peer of `receiver`: its window and reset.
            let sender = agreed.receiving(receiver);
            Inflate {
                inflater: MessageInflater::new(
                    vec![0u8; 1 << sender.window_bits],
                    sender.no_context_takeover,
                    limits,
                ),
                out: vec![0u8; 16 << 10],
                message: None,
            }
        });
        FrameLog {
            id,
            arrow,
            options,
            header: Vec::new(),
            current: None,
            rules: Some(rules),
            lost: false,
            inflate,
            block: String::new(),
        }
    }

    /// A frame header arrived: a data frame with RSV1 starts a compressed
    /// message (§6), a continuation goes on with the one in progress.
    fn begin_frame(&mut self, header: &FrameHeader) {
        let Some(inflate) = &mut self.inflate else {
            return;
        };
        let kind = match header.opcode {
            OpCode::Text => Some(DataKind::Text),
            OpCode::Binary => Some(DataKind::Binary),
            _ => None,
        };
        match kind {
            Some(kind) if header.rsv & 0b100 != 0 => {
                inflate.message = Some(Compressed {
                    kind,
                    wire: 0,
                    frame_wire: 0,
                    inflated: 0,
                    shown: Vec::new(),
                })
            }
            Some(_) => inflate.message = None,
            None => {}
        }
        if let (OpCode::Continuation | OpCode::Text | OpCode::Binary, Some(message)) =
            (header.opcode, &mut inflate.message)
        {
            message.frame_wire = 0;
            inflate.inflater.begin_frame();
        }
    }

    /// Whether the frame arriving belongs to a compressed message.
    fn compressed(&self, header: &FrameHeader) -> bool {
        !header.opcode.is_control()
            && self
                .inflate
                .as_ref()
                .is_some_and(|inflate| inflate.message.is_some())
    }

    /// Inflates a piece of a compressed message's payload, unmasked;
    /// `fin`: it ends the message. A failure is reported, and ends the
    /// inflating of this direction (the window is lost with it).
    fn inflate(&mut self, mut input: &[u8], fin: bool) {
        let Some(inflate) = &mut self.inflate else {
            return;
        };
        let Some(message) = &mut inflate.message else {
            return;
        };
        message.wire += input.len() as u64;
        message.frame_wire += input.len() as u64;
        let keep = self.options.width.max(125) * 4;
        loop {
            let step = inflate
                .inflater
                .inflate(message.kind, input, fin, &mut inflate.out);
            let step = match step {
                Ok(step) => step,
                Err(e) => {
                    self.say(&format!(
                        "{} !! does not inflate: {e} (no more inflating this way)",
                        self.arrow
                    ));
                    self.inflate = None;
                    return;
                }
            };
            let out = &inflate.out[..step.produced];
            let room = keep.saturating_sub(message.shown.len()).min(out.len());
            message.shown.extend_from_slice(&out[..room]);
            message.inflated += step.produced as u64;
            input = &input[step.consumed..];
            let more_out = step.produced == inflate.out.len();
            if step.done || (input.is_empty() && !more_out && !fin) {
                return;
            }
            if step.consumed == 0 && step.produced == 0 {
                // No progress: nothing more to get from these bytes.
                return;
            }
        }
    }

    fn feed(&mut self, mut bytes: &[u8]) {
        self.check_rules(bytes);
        while !bytes.is_empty() && !self.lost {
            match &mut self.current {
                None => {
                    // Collect the header: 2 bytes say how long it is.
                    let need = if self.header.len() < 2 {
                        2
                    } else {
                        wslite::frame::header_len([self.header[0], self.header[1]])
                    };
                    let take = (need - self.header.len()).min(bytes.len());
                    self.header.extend_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                    match FrameHeader::parse(&self.header) {
                        Ok(Some((header, len))) => {
                            self.begin_frame(&header);
                            self.print_header(&header, len);
                            self.header.clear();
                            let current = Current {
                                header,
                                remaining: header.payload_len,
                                shown: Vec::new(),
                                seen: 0,
                            };
                            if header.payload_len == 0 {
                                if self.compressed(&header) {
                                    self.inflate(&[], header.fin);
                                }
                                self.print_payload(&current);
                                self.flush();
                            } else {
                                self.current = Some(current);
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            self.say(&format!(
                                "{} !! cannot read this frame header: {e}",
                                self.arrow
                            ));
                            self.say(&format!(
                                "{} (the rest of this direction is not shown)",
                                self.arrow
                            ));
                            self.lost = true;
                            self.rules = None;
                            self.flush();
                            return;
                        }
                    }
                }
                Some(current) => {
                    let take = usize::try_from(current.remaining)
                        .map_or(bytes.len(), |r| r.min(bytes.len()));
                    let header = current.header;
                    let compressed = self.inflate.as_ref().is_some_and(|i| i.message.is_some())
                        && !header.opcode.is_control();
                    let piece = compressed.then(|| {
                        let mut piece = bytes[..take].to_vec();
                        if let Some(key) = header.mask {
                            apply_mask(&mut piece, key, current.seen as usize);
                        }
                        piece
                    });
                    let keep = self
                        .options
                        .width
                        .max(125)
                        .saturating_sub(current.shown.len())
                        .min(take);
                    if keep > 0 {
                        let at = current.shown.len();
                        current.shown.extend_from_slice(&bytes[..keep]);
                        if let Some(key) = current.header.mask {
                            apply_mask(&mut current.shown[at..], key, current.seen as usize);
                        }
                    }
                    current.seen += take as u64;
                    current.remaining -= take as u64;
                    let frame_done = current.remaining == 0;
                    bytes = &bytes[take..];
                    if let Some(piece) = piece {
                        self.inflate(&piece, frame_done && header.fin);
                    }
                    if frame_done {
                        if let Some(current) = self.current.take() {
                            self.print_payload(&current);
                        }
                        self.flush();
                    }
                }
            }
        }
        // Between frames, what was said (a violation, say) goes out now; in
        // the middle of one, it waits for the frame's end.
        if self.current.is_none() && self.header.is_empty() {
            self.flush();
        }
    }

    /// Feeds a copy of the bytes through the library's receiving rules and
    /// reports the first violation.
    fn check_rules(&mut self, bytes: &[u8]) {
        let Some(rules) = &mut self.rules else {
            return;
        };
        let mut copy = bytes.to_vec();
        let mut at = 0;
        while at < copy.len() {
            match rules.receive(&mut copy[at..]) {
                Ok(r) if r.consumed == 0 && r.event.is_none() => break,
                Ok(r) => at += r.consumed,
                Err(wslite::Error::ConnectionClosed) => break,
                Err(e) => {
                    let code = e.close_code().map(|c| c.to_string()).unwrap_or_default();
                    self.say(&format!(
                        "{} !! protocol violation: {e} [the receiver should close with {code}]",
                        self.arrow
                    ));
                    self.rules = None;
                    return;
                }
            }
        }
    }

    fn print_header(&mut self, h: &FrameHeader, len: usize) {
        let encoding = match len - if h.mask.is_some() { 4 } else { 0 } {
            2 => "7-bit length",
            4 => "16-bit length",
            _ => "64-bit length",
        };
        let mask = match h.mask {
            Some(k) => format!("MASK key={:02x}{:02x}{:02x}{:02x}", k[0], k[1], k[2], k[3]),
            None => "no mask".to_string(),
        };
        self.say(&format!(
            "{} {:<12} FIN={} RSV={:03b} {mask} len={} ({encoding})",
            self.arrow,
            h.opcode.name(),
            u8::from(h.fin),
            h.rsv,
            h.payload_len,
        ));
        if self.options.hex {
            let mut raw = [0u8; MAX_HEADER_LEN];
            let n = h.emit(&mut raw).unwrap_or(0);
            self.print_hex_fields(&raw[..n], h);
        }
    }

    /// The header bytes with each field marked under them.
    fn print_hex_fields(&mut self, raw: &[u8], h: &FrameHeader) {
        let bytes: Vec<String> = raw.iter().map(|b| format!("{b:02x}")).collect();
        let pad = "      ";
        let mut lines = vec![format!("{pad}{}", bytes.join(" "))];
        let mark = |from: usize, to: usize, what: String| -> String {
            let start = from * 3;
            let width = (to - from) * 3 - 1;
            format!("{pad}{}{} {what}", " ".repeat(start), "^".repeat(width))
        };
        lines.push(mark(
            0,
            1,
            format!(
                "FIN={} RSV1-3={:03b} opcode={:#x} ({})",
                u8::from(h.fin),
                h.rsv,
                h.opcode as u8,
                h.opcode.name()
            ),
        ));
        let len7 = raw[1] & 0x7F;
        lines.push(mark(
            1,
            2,
            format!(
                "MASK={} payload len={len7}{}",
                raw[1] >> 7,
                match len7 {
                    126 => " → a 16-bit length follows",
                    127 => " → a 64-bit length follows",
                    _ => "",
                }
            ),
        ));
        let mut at = 2;
        if len7 == 126 {
            lines.push(mark(
                2,
                4,
                format!("extended payload length = {}", h.payload_len),
            ));
            at = 4;
        } else if len7 == 127 {
            lines.push(mark(
                2,
                10,
                format!("extended payload length = {}", h.payload_len),
            ));
            at = 10;
        }
        if h.mask.is_some() {
            lines.push(mark(at, at + 4, "masking key".to_string()));
        }
        self.say(&lines.join("\n"));
    }

    fn print_payload(&mut self, current: &Current) {
        let h = &current.header;
        if self.compressed(h) {
            return self.print_compressed(h);
        }
        let shown = &current.shown;
        let text = match h.opcode {
            OpCode::Close => match shown.as_slice() {
                [] => "no code".to_string(),
                [hi, lo, reason @ ..] => {
                    let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
                    format!("code {code}, reason {:?}", String::from_utf8_lossy(reason))
                }
                [_] => "a 1-byte payload (invalid)".to_string(),
            },
            _ if h.payload_len == 0 => return,
            _ => preview(
                shown,
                h.payload_len,
                self.options.width,
                h.opcode == OpCode::Text,
            ),
        };
        self.say(&format!("{}      {text}", self.arrow));
    }
}

impl FrameLog {
    /// A frame of a compressed message: the DEFLATE bytes it carried; at
    /// the message's end, its size on the wire and inflated, and the
    /// inflated payload.
    fn print_compressed(&mut self, h: &FrameHeader) {
        let Some(message) = self.inflate.as_mut().and_then(|i| i.message.take()) else {
            return;
        };
        if !h.fin {
            self.say(
                &format!(
                    "{}      compressed (permessage-deflate): {} bytes of DEFLATE data in this frame, {} bytes inflated so far",
                    self.arrow, message.frame_wire, message.inflated
                ),
            );
            if let Some(inflate) = &mut self.inflate {
                inflate.message = Some(message);
            }
            return;
        }
        let percent = if message.inflated == 0 {
            String::new()
        } else {
            format!(
                " ({:.1}% of its size)",
                message.wire as f64 * 100.0 / message.inflated as f64
            )
        };
        self.say(&format!(
                "{}      compressed (permessage-deflate): {} bytes on the wire inflated to {} bytes{percent}",
                self.arrow, message.wire, message.inflated
            ));
        if message.inflated > 0 {
            let text = preview(
                &message.shown,
                message.inflated,
                self.options.width,
                message.kind == DataKind::Text,
            );
            self.say(&format!("{}      inflated: {text}", self.arrow));
        }
    }
}

/// The payload as text (when it is) or hex, cut to `width` characters.
fn preview(shown: &[u8], total: u64, width: usize, text: bool) -> String {
    let cut = total > shown.len().min(width) as u64;
    if text || std::str::from_utf8(shown).is_ok_and(|s| !s.chars().any(char::is_control)) {
        let s = String::from_utf8_lossy(shown);
        let s: String = s.chars().take(width).collect();
        format!(
            "{s:?}{}",
            if cut {
                format!(" … ({total} bytes)")
            } else {
                String::new()
            }
        )
    } else {
        let hex: Vec<String> = shown
            .iter()
            .take(width / 3)
            .map(|b| format!("{b:02x}"))
            .collect();
        let cut = total > hex.len() as u64;
        format!(
            "hex {}{}",
            hex.join(" "),
            if cut {
                format!(" … ({total} bytes)")
            } else {
                String::new()
            }
        )
    }
}
